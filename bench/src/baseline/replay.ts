/**
 * FROZEN BASELINE, NOT LIBRARY CODE: lib/replay/index.ts as it was before issue 7 (git 8198fb1,
 * a switch per event instead of handler tables over the event and command kinds), kept only so
 * that bench/src/measures/replay-machine.ts can time today's replay machine against it in the
 * same run. Only its import paths were changed. Do not fix or improve it.
 */
/**
 * The replay engine (host side, pure): history events in, activations out, and every command the
 * workflow emits matched against the events that recorded it. No I/O, no clock: the caller hands
 * it events and something that runs activations (an isolate, or a plain in-process runner).
 *
 * Invariants:
 * - One workflow task is one activation, taken at its workflowTaskStarted event; its time is that
 *   event's time. A started task that failed or timed out is skipped: its jobs go to the next one.
 * - Jobs are the results that arrived since the previous task: signals, timer fires, activity
 *   results. The start comes first, then signals, then the rest in event order (Temporal's order).
 * - Each command kind has its own sequence; events map back to sequences by activity scheduled
 *   event id and by timer id, learnt when the command events are matched.
 * - Commands emitted by a completed task must appear, in order, as the command events after its
 *   workflowTaskCompleted; anything else is a DeterminismViolationError naming the event.
 */
import type { Activation, ActivationCompletion, ActivationJob, Command, InitMessage, WireFailure } from '../../../runtime/protocol';
import { PROTOCOL_VERSION } from '../../../runtime/protocol';
import type { HistoryEvent, WorkflowExecutionStartedEvent } from '../../../lib/history/events';
import { DeterminismViolationError, InvalidHistoryError, WorkflowTaskFailedError } from '../../../lib/errors';

/** Runs one activation. The sandbox's executions implement it; so can an in-process runner. */
export interface ActivationRunner {
  activate(activation: Activation): ActivationCompletion;
}

export interface LiveTask {
  /** The workflowTaskStarted event the activation was taken at. */
  startedEventId: number;
  completion: ActivationCompletion;
}

/** The live task's activation, built but not run (see `ReplayMachine.advanceToLive`). */
export interface PendingLiveTask {
  startedEventId: number;
  activation: Activation;
}

const COMMAND_EVENTS = new Set<HistoryEvent['type']>([
  'activityTaskScheduled',
  'timerStarted',
  'timerCanceled',
  'workflowExecutionCompleted',
  'workflowExecutionFailed',
]);

function jobPriority(job: ActivationJob): number {
  return job.type === 'startWorkflow' ? 0 : job.type === 'signalWorkflow' ? 1 : 2;
}

function describeCommand(c: Command | undefined): string {
  if (c === undefined) return 'nothing';
  switch (c.type) {
    case 'scheduleActivity':
      return `scheduleActivity ${c.activityType} (activityId ${c.activityId})`;
    case 'startTimer':
      return `startTimer ${c.seq} (${c.startToFireTimeoutMs} ms)`;
    case 'cancelTimer':
      return `cancelTimer ${c.seq}`;
    default:
      return c.type;
  }
}

function describeEvent(e: HistoryEvent): string {
  switch (e.type) {
    case 'activityTaskScheduled':
      return `activityTaskScheduled ${e.activityType} (activityId ${e.activityId})`;
    case 'timerStarted':
      return `timerStarted ${e.timerId} (${e.startToFireTimeoutMs} ms)`;
    case 'timerCanceled':
      return `timerCanceled ${e.timerId}`;
    default:
      return e.type;
  }
}

/** The InitMessage of an execution, from its start event. */
export function initFromStart(start: WorkflowExecutionStartedEvent): InitMessage {
  return {
    protocolVersion: PROTOCOL_VERSION,
    randomnessSeed: start.randomnessSeed,
    info: {
      workflowId: start.workflowId,
      runId: start.runId,
      workflowType: start.workflowType,
      taskQueue: start.taskQueue,
      firstExecutionRunId: start.firstExecutionRunId,
      attempt: start.attempt,
      startTime: Date.parse(start.eventTime),
      historyLength: 1,
    },
  };
}

/** Wraps an activity's own failure the way workflow code sees it: an ActivityFailure with a cause. */
function activityFailure(scheduled: { activityType: string; activityId: string }, cause: WireFailure, retryState: WireFailure['retryState']): WireFailure {
  return {
    kind: 'activity',
    message: 'Activity task failed',
    activityType: scheduled.activityType,
    activityId: scheduled.activityId,
    retryState: retryState ?? 'unspecified',
    cause,
  };
}

/**
 * Replays one execution incrementally. Feed it consecutive chunks of history with `advance`; it
 * runs an activation for every workflow task it meets. The last task of a chunk with no recorded
 * completion is the live one: its completion is returned for the caller to send.
 */
export class ReplayMachine {
  private lastEventId = 0;
  private jobs: ActivationJob[] = [];
  /** Commands emitted by the latest activation that have not been matched to events yet. */
  private pending: Command[] = [];
  /** Whether `pending` came from a task history says completed (so its events must follow). */
  private pendingFromCompletedTask = false;
  private readonly activities = new Map<number, { seq: number; activityType: string; activityId: string }>();
  private readonly timers = new Map<string, number>();
  private closed = false;
  private awaitingLive = false;

  /** `runner` runs the recorded tasks' activations (and the live one's, through `advance`). */
  constructor(private readonly runner: ActivationRunner) {}

  get lastSeenEventId(): number {
    return this.lastEventId;
  }

  /** True once the workflow's closing event has been seen. */
  get isClosed(): boolean {
    return this.closed;
  }

  advance(events: readonly HistoryEvent[]): LiveTask | undefined {
    const pending = this.advanceToLive(events);
    return pending && this.completeLive(pending, this.runner.activate(pending.activation));
  }

  /**
   * Like `advance`, but the live task's activation is returned instead of run, so the caller can
   * run it another way (the worker runs it on the isolate's own thread) and hand the completion to
   * `completeLive`. Recorded tasks are replayed here, synchronously. Until `completeLive` is called
   * the machine must not be advanced further.
   */
  advanceToLive(events: readonly HistoryEvent[]): PendingLiveTask | undefined {
    if (this.awaitingLive) throw new InvalidHistoryError('the live task has not been completed yet (call completeLive first)');
    let live: PendingLiveTask | undefined;
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      if (e.eventId !== this.lastEventId + 1) {
        throw new InvalidHistoryError(`expected event ${this.lastEventId + 1}, got event ${e.eventId}: events must be consecutive`, e.eventId, 'eventId');
      }
      this.lastEventId = e.eventId;
      if (e.type === 'workflowExecutionFailed' && e.workflowTaskCompletedEventId === undefined) {
        // The service closed the run itself (a history limit): no command of the workflow's.
        this.closed = true;
        continue;
      }
      if (COMMAND_EVENTS.has(e.type)) {
        this.matchCommand(e);
        continue;
      }
      switch (e.type) {
        case 'workflowExecutionStarted':
          this.jobs.push({ type: 'startWorkflow', workflowType: e.workflowType, args: e.input });
          break;
        case 'workflowExecutionSignaled':
          this.jobs.push({ type: 'signalWorkflow', signalName: e.signalName, args: e.input });
          break;
        case 'timerFired': {
          const seq = this.timers.get(e.timerId);
          if (seq === undefined) throw new InvalidHistoryError(`timerFired for timer ${e.timerId}, which was never started`, e.eventId, 'timerId');
          this.timers.delete(e.timerId);
          this.jobs.push({ type: 'fireTimer', seq });
          break;
        }
        case 'activityTaskCompleted':
        case 'activityTaskFailed':
        case 'activityTaskTimedOut': {
          const scheduled = this.activities.get(e.scheduledEventId);
          if (scheduled === undefined) {
            throw new InvalidHistoryError(`${e.type} for scheduled event ${e.scheduledEventId}, which is not an open activity`, e.eventId, 'scheduledEventId');
          }
          this.activities.delete(e.scheduledEventId);
          this.jobs.push({
            type: 'resolveActivity',
            seq: scheduled.seq,
            result:
              e.type === 'activityTaskCompleted'
                ? e.result === undefined
                  ? { status: 'completed' }
                  : { status: 'completed', result: e.result }
                : { status: 'failed', failure: activityFailure(scheduled, e.failure, e.retryState) },
          });
          break;
        }
        case 'workflowTaskStarted': {
          const outcome = this.outcomeOf(events, i);
          if (outcome === 'failed') break; // a failed attempt: its jobs wait for the next task
          if (outcome === 'completed') this.runTask(e);
          else live = { startedEventId: e.eventId, activation: this.takeActivation(e, false) };
          break;
        }
        default:
          // workflowTaskScheduled/Completed/Failed/TimedOut and activityTaskStarted carry no job.
          break;
      }
    }
    if (live) this.awaitingLive = true;
    return live;
  }

  /** Records the completion of the activation that `advanceToLive` returned. */
  completeLive(pending: PendingLiveTask, completion: ActivationCompletion): LiveTask {
    this.awaitingLive = false;
    if (completion.ok) {
      this.pending = completion.commands.slice();
      this.pendingFromCompletedTask = false;
    }
    return { startedEventId: pending.startedEventId, completion };
  }

  /** For a complete history: every command the last completed task emitted must be recorded. */
  finish(): void {
    if (this.pendingFromCompletedTask && this.pending.length > 0) {
      const c = this.pending[0];
      throw new DeterminismViolationError(
        `nondeterminism after event ${this.lastEventId}: the workflow emitted ${describeCommand(c)}, which history does not record`,
        undefined,
        undefined,
        c,
      );
    }
  }

  /** How the task started at events[i] ended: 'completed', 'failed', or 'live' (not in this chunk). */
  private outcomeOf(events: readonly HistoryEvent[], i: number): 'completed' | 'failed' | 'live' {
    const startedId = events[i].eventId;
    for (let j = i + 1; j < events.length; j++) {
      const e = events[j];
      if (e.type === 'workflowTaskCompleted' && e.startedEventId === startedId) return 'completed';
      if ((e.type === 'workflowTaskFailed' || e.type === 'workflowTaskTimedOut') && e.startedEventId === startedId) return 'failed';
    }
    return 'live';
  }

  /** The jobs gathered since the previous task, as the activation of the task started here. */
  private takeActivation(started: HistoryEvent, completed: boolean): Activation {
    if (this.pendingFromCompletedTask && this.pending.length > 0) {
      const c = this.pending[0];
      throw new DeterminismViolationError(
        `nondeterminism before event ${started.eventId}: the workflow emitted ${describeCommand(c)}, which history does not record`,
        started.eventId,
        undefined,
        c,
      );
    }
    const jobs = this.jobs.sort((a, b) => jobPriority(a) - jobPriority(b)); // stable sort
    this.jobs = [];
    return { timestamp: Date.parse(started.eventTime), isReplaying: completed, historyLength: started.eventId, jobs };
  }

  /** Replays a task that history says completed: its commands must follow as events. */
  private runTask(started: HistoryEvent): void {
    const completion = this.runner.activate(this.takeActivation(started, true));
    if (!completion.ok) {
      const f = completion.failure;
      throw new WorkflowTaskFailedError(
        `replaying the workflow task at event ${started.eventId} failed, though it succeeded when recorded: ${f.type ? f.type + ': ' : ''}${f.message}`,
        f,
        f.type === 'DeterminismViolationError' ? 'nondeterminism' : 'workflowError',
      );
    }
    this.pending = completion.commands.slice();
    this.pendingFromCompletedTask = true;
  }

  private matchCommand(e: HistoryEvent): void {
    const c = this.pending.shift();
    const mismatch = () =>
      new DeterminismViolationError(
        `nondeterminism at event ${e.eventId}: history recorded ${describeEvent(e)} but the workflow emitted ${describeCommand(c)}`,
        e.eventId,
        e,
        c,
      );
    if (c === undefined) throw mismatch();
    switch (e.type) {
      case 'activityTaskScheduled':
        if (c.type !== 'scheduleActivity' || c.activityType !== e.activityType || c.activityId !== e.activityId) throw mismatch();
        this.activities.set(e.eventId, { seq: c.seq, activityType: c.activityType, activityId: c.activityId });
        break;
      case 'timerStarted':
        if (c.type !== 'startTimer' || String(c.seq) !== e.timerId) throw mismatch();
        this.timers.set(e.timerId, c.seq);
        break;
      case 'timerCanceled':
        if (c.type !== 'cancelTimer' || String(c.seq) !== e.timerId) throw mismatch();
        this.timers.delete(e.timerId);
        break;
      case 'workflowExecutionCompleted':
        if (c.type !== 'completeWorkflow') throw mismatch();
        this.closed = true;
        break;
      case 'workflowExecutionFailed':
        if (c.type !== 'failWorkflow') throw mismatch();
        this.closed = true;
        break;
      default:
        throw mismatch();
    }
  }
}
