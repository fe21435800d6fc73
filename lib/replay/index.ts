/**
 * The replay engine (host side, pure): history events in, activations out, and every command the
 * workflow emits matched against the events that recorded it. No I/O, no clock: the caller hands
 * it events and something that runs activations (an isolate, or a plain in-process runner).
 *
 * Invariants:
 * - One workflow task is one activation, taken at its workflowTaskStarted event; its time is that
 *   event's time. A started task that failed or timed out is skipped: its jobs go to the next one.
 * - Jobs are the results that arrived since the previous task: signals, timer fires, activity
 *   results, the task's updates, and a re-seed from a failed task that carries one (a reset). The
 *   re-seed comes first, then the start, then signals, then updates, then the rest in event order. A live task's updates come with it (`advanceToLive`'s `updates`, in
 *   arrival order, validators run); a recorded task's are the workflowExecutionUpdateAccepted
 *   events among its command events, in order (validators not run: a rejected update left no
 *   trace). Both orders are the order the workflow answered them in, so replay builds the same
 *   jobs. A chunk must hold a completed task's command events with its workflowTaskCompleted.
 * - Each command kind has its own sequence; events map back to sequences by activity scheduled
 *   event id, by timer id, and by the initiated event id of a child, an external signal or an
 *   external cancel request, learnt when the command events are matched.
 * - Commands emitted by a completed task must appear, in order, as the command events after its
 *   workflowTaskCompleted; anything else is a DeterminismViolationError naming the event.
 */
import type { Activation, ActivationCompletion, ActivationJob, ActivityResolution, Command, CommandType, InitMessage, RetryState, SdkFlags, WireFailure } from '../../runtime/protocol';
import { dropsDeprecatedPatch, localActivityJobFromMarker, skipsDeprecatedMarker } from './markers';
import { FlagHistory } from './flags';
import type { SdkMetadata } from '../history/schema';
import { PROTOCOL_VERSION } from '../../runtime/protocol';
import type { EventOf, EventType, HistoryEvent, WorkflowExecutionStartedEvent } from '../history/events';
import { DeterminismViolationError, InvalidHistoryError, WorkflowTaskFailedError, assertNever } from '../errors';

/** Runs one activation. The sandbox's executions implement it; so can an in-process runner. */
export interface ActivationRunner {
  activate(activation: Activation): ActivationCompletion;
  /**
   * Optional, for replay in bulk: runs the activations of recorded tasks in order, their jobs
   * keyed from history (see RecordedActivations in runtime/protocol.ts), as `activate` would one
   * by one; stops after a failed completion, or before an activation whose keys it cannot resolve.
   * Returns the completions, and the error the next activation threw instead of throwing it. A
   * machine given a runner with it replays the recorded tasks of a fresh execution in bulk.
   */
  activateRecorded?(activations: readonly Activation[]): { completions: ActivationCompletion[]; error?: unknown };
  /** Optional: each completion of `activateRecorded`, when the machine takes it (in task order). */
  tookRecorded?(completion: ActivationCompletion): void;
}

/** How many recorded activations one `activateRecorded` call carries. */
export const RECORDED_WINDOW = 256;

/** Thrown inside a predicting machine where history alone cannot key the next task's jobs. */
const STOP_PREDICTING = Symbol('stop predicting');

/** A run of recorded tasks delivered in bulk, and how far the machine has taken their completions. */
interface RecordedTasks {
  activations: Activation[];
  completions: ActivationCompletion[];
  /** The next completion the machine takes. */
  next: number;
  /** The runner ran fewer than it was given: it stopped, or `error`. */
  ended: boolean;
  error?: unknown;
}

export interface LiveTask {
  /** The workflowTaskStarted event the activation was taken at. */
  startedEventId: number;
  completion: ActivationCompletion;
  /** The SDK flags the task used that the run had not recorded: for its workflowTaskCompleted. */
  sdkMetadata?: SdkMetadata;
}

/** The live task's activation, built but not run (see `ReplayMachine.advanceToLive`). */
export interface PendingLiveTask {
  startedEventId: number;
  activation: Activation;
}

// ── the tables: every event type and every command kind is classified here ─────────────────────

/**
 * The events that record a command, each with the command kind it records. Every command kind
 * must be recorded by one (checked below), and every other event type must have a handler in
 * `EventHandlers`: a new event type or command kind does not compile until it is classified.
 */
const COMMAND_RECORDED_BY = {
  activityTaskScheduled: 'scheduleActivity',
  activityTaskCancelRequested: 'requestCancelActivity',
  timerStarted: 'startTimer',
  timerCanceled: 'cancelTimer',
  startChildWorkflowExecutionInitiated: 'startChildWorkflow',
  signalExternalWorkflowExecutionInitiated: 'signalExternalWorkflow',
  requestCancelExternalWorkflowExecutionInitiated: 'requestCancelExternalWorkflow',
  workflowExecutionCompleted: 'completeWorkflow',
  workflowExecutionFailed: 'failWorkflow',
  workflowExecutionCanceled: 'cancelWorkflow',
  workflowExecutionContinuedAsNew: 'continueAsNew',
  patchMarkerRecorded: 'setPatchMarker',
  localActivityMarkerRecorded: 'scheduleLocalActivity',
  upsertWorkflowSearchAttributes: 'upsertSearchAttributes',
  workflowPropertiesModified: 'modifyWorkflowProperties',
  workflowExecutionUpdateAccepted: 'acceptUpdate',
  workflowExecutionUpdateCompleted: 'completeUpdate',
} as const satisfies { readonly [K in EventType]?: CommandType };

/**
 * The command kinds no event records: an update rejected by its validator leaves no trace in
 * history (Temporal's rule), so replay drops these from what it matches.
 */
export const UNRECORDED_COMMANDS = { rejectUpdate: true } as const satisfies { readonly [K in CommandType]?: true };
export type UnrecordedCommand = keyof typeof UNRECORDED_COMMANDS;

/** Command event type → the command kind it records. */
export type CommandRecords = typeof COMMAND_RECORDED_BY;

/** The event types that record a command. */
export type CommandEventType = keyof CommandRecords;

/**
 * `true` when every command kind in `C` is recorded by an event in `R`; otherwise the kinds that
 * are not, so the error names them.
 */
export type EveryCommandRecorded<C extends { type: string }, R extends Record<string, string>> = [Exclude<C['type'], R[keyof R]>] extends [never]
  ? true
  : { missing: Exclude<C['type'], R[keyof R]> };
const everyCommandRecorded: EveryCommandRecorded<Exclude<Command, { type: UnrecordedCommand }>, CommandRecords> = true;
void everyCommandRecorded;

/**
 * What the machine does with an event that records no command: a function that takes it (a job
 * for the next activation, or the activation itself), or `'nothing'` for an event that carries
 * nothing for the workflow. Keyed by every event type of `E` that `R` does not list as a command
 * event.
 */
export type EventHandlers<E extends { type: string } = HistoryEvent, R extends Record<string, string> = CommandRecords, M = unknown> = {
  [K in Exclude<E['type'], keyof R>]: 'nothing' | ((this: M, event: Extract<E, { type: K }>, index: number) => void);
};

/**
 * For each command event: whether it matches the command the workflow emitted, which is already
 * known to be of the kind the event records. A match also learns what later events refer to (the
 * activity's seq by its scheduled event id, the timer's seq by its timer id).
 */
export type CommandMatchers<E extends { type: string } = HistoryEvent, C extends { type: string } = Command, R extends Record<string, string> = CommandRecords, M = unknown> = {
  [K in keyof R & E['type']]: (this: M, event: Extract<E, { type: K }>, command: Extract<C, { type: R[K] }>) => boolean;
};

/** Event type → the command kind it records; derived from the table above. */
const COMMAND_EVENTS: ReadonlyMap<string, CommandType> = new Map(Object.entries(COMMAND_RECORDED_BY));

function jobPriority(job: ActivationJob): number {
  // updateRandomSeed before anything that may draw from the PRNG; then notifyHasPatch (Temporal's
  // order): `patched` may be called by the start itself.
  return job.type === 'updateRandomSeed' ? -2 : job.type === 'notifyHasPatch' ? -1 : job.type === 'startWorkflow' ? 0 : job.type === 'signalWorkflow' ? 1 : job.type === 'doUpdate' ? 2 : 3;
}

const byJobPriority = (a: ActivationJob, b: ActivationJob): number => jobPriority(a) - jobPriority(b);

/** What `completionOf` answers for a task that failed (or timed out), and for one with no outcome yet. */
const FAILED_TASK = -1;
const LIVE_TASK = -2;

/** An update a live workflow task delivers (WorkflowTask.updates): a doUpdate job that runs its validator. */
export interface LiveUpdate {
  updateId: string;
  name: string;
  args: unknown[];
}

/**
 * A command for a message. Exhaustive at compile time; at run time a command comes from the
 * isolate and may be of any type, so an unknown one is named rather than thrown on.
 */
function describeCommand(c: Command | undefined): string {
  if (c === undefined) return 'nothing';
  switch (c.type) {
    case 'scheduleActivity':
      return `scheduleActivity ${c.activityType} (activityId ${c.activityId})`;
    case 'startTimer':
      return `startTimer ${c.seq} (${c.startToFireTimeoutMs} ms)`;
    case 'cancelTimer':
      return `cancelTimer ${c.seq}`;
    case 'requestCancelActivity':
      return `requestCancelActivity ${c.seq}`;
    case 'startChildWorkflow':
      return `startChildWorkflow ${c.workflowType} (workflowId ${c.workflowId})`;
    case 'signalExternalWorkflow':
      return `signalExternalWorkflow ${c.signalName} to workflowId ${c.workflowId}`;
    case 'requestCancelExternalWorkflow':
      return `requestCancelExternalWorkflow of workflowId ${c.workflowId}`;
    case 'completeWorkflow':
    case 'failWorkflow':
    case 'cancelWorkflow':
      return c.type;
    case 'continueAsNew':
      return `continueAsNew ${c.workflowType}`;
    case 'scheduleLocalActivity':
      return `scheduleLocalActivity ${c.activityType} (activityId ${c.activityId})`;
    case 'setPatchMarker':
      return `${c.deprecated ? 'deprecatePatch' : 'patched'}(${JSON.stringify(c.patchId)}) marker`;
    case 'upsertSearchAttributes':
      return `upsertSearchAttributes ${Object.keys(c.searchAttributes).join(', ')}`;
    case 'modifyWorkflowProperties':
      return `upsertMemo ${Object.keys(c.memo).join(', ')}`;
    case 'acceptUpdate':
      return `acceptUpdate ${c.updateId}`;
    case 'rejectUpdate':
      return `rejectUpdate ${c.updateId}`;
    case 'completeUpdate':
      return `completeUpdate ${c.updateId}`;
    default: {
      const unknown: never = c;
      return `an unknown command ${JSON.stringify(String((unknown as { type: unknown }).type))}`;
    }
  }
}

function describeEvent(e: EventOf<CommandEventType>): string {
  switch (e.type) {
    case 'activityTaskScheduled':
      return `activityTaskScheduled ${e.activityType} (activityId ${e.activityId})`;
    case 'timerStarted':
      return `timerStarted ${e.timerId} (${e.startToFireTimeoutMs} ms)`;
    case 'timerCanceled':
      return `timerCanceled ${e.timerId}`;
    case 'activityTaskCancelRequested':
      return `activityTaskCancelRequested (scheduled event ${e.scheduledEventId})`;
    case 'startChildWorkflowExecutionInitiated':
      return `startChildWorkflowExecutionInitiated ${e.workflowType} (workflowId ${e.workflowId})`;
    case 'signalExternalWorkflowExecutionInitiated':
      return `signalExternalWorkflowExecutionInitiated ${e.signalName} to workflowId ${e.workflowId}`;
    case 'requestCancelExternalWorkflowExecutionInitiated':
      return `requestCancelExternalWorkflowExecutionInitiated of workflowId ${e.workflowId}`;
    case 'workflowExecutionCompleted':
    case 'workflowExecutionFailed':
    case 'workflowExecutionCanceled':
      return e.type;
    case 'workflowExecutionContinuedAsNew':
      return `workflowExecutionContinuedAsNew ${e.workflowType}`;
    case 'patchMarkerRecorded':
      return `patchMarkerRecorded ${JSON.stringify(e.patchId)}${e.deprecated ? ' (deprecated)' : ''}`;
    case 'localActivityMarkerRecorded':
      return `localActivityMarkerRecorded ${e.activityType} (activityId ${e.activityId})`;
    case 'upsertWorkflowSearchAttributes':
      return `upsertWorkflowSearchAttributes ${Object.keys(e.searchAttributes).join(', ')}`;
    case 'workflowPropertiesModified':
      return `workflowPropertiesModified ${Object.keys(e.upsertedMemo).join(', ')}`;
    case 'workflowExecutionUpdateAccepted':
      return `workflowExecutionUpdateAccepted ${e.name} (updateId ${e.updateId})`;
    case 'workflowExecutionUpdateCompleted':
      return `workflowExecutionUpdateCompleted (updateId ${e.updateId})`;
    default:
      return assertNever(e, 'command event');
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
      historySize: 0,
      continueAsNewSuggested: false,
      searchAttributes: start.searchAttributes ?? {},
      taskTimeoutMs: start.workflowTaskTimeoutMs,
      ...(start.parent === undefined ? {} : { parent: { workflowId: start.parent.workflowId, runId: start.parent.runId, namespace: 'default' } }),
      ...(start.continuedFromExecutionRunId === undefined ? {} : { continuedFromExecutionRunId: start.continuedFromExecutionRunId }),
      ...(start.cronSchedule === undefined ? {} : { cronSchedule: start.cronSchedule }),
      ...(start.memo === undefined ? {} : { memo: start.memo }),
      ...(start.workflowExecutionTimeoutMs === undefined ? {} : { executionTimeoutMs: start.workflowExecutionTimeoutMs }),
      ...(start.workflowExecutionExpirationTime === undefined ? {} : { executionExpirationTime: Date.parse(start.workflowExecutionExpirationTime) }),
      ...(start.workflowRunTimeoutMs === undefined ? {} : { runTimeoutMs: start.workflowRunTimeoutMs }),
      ...(start.retryPolicy === undefined ? {} : { retryPolicy: start.retryPolicy }),
      ...(start.lastCompletionResult === undefined ? {} : { lastResult: start.lastCompletionResult }),
      ...(start.continuedFailure === undefined ? {} : { lastFailure: start.continuedFailure }),
    },
  };
}

/**
 * The failures the replay builds for the new resolutions. The engine's service builds the same
 * shapes for a live task, so what workflow code sees does not depend on which side made them.
 */
export const replayFailures = {
  /** An activity that confirmed its cancellation: the cause of its ActivityFailure. */
  activityCancelled(details: unknown[] | undefined): WireFailure {
    return details === undefined || details.length === 0
      ? { kind: 'cancelled', message: 'Activity cancelled' }
      : { kind: 'cancelled', message: 'Activity cancelled', details };
  },
  /** startChildWorkflowExecutionFailed: the child's workflow id is taken. */
  childAlreadyStarted(workflowId: string, workflowType: string): WireFailure {
    return { kind: 'server', type: 'WorkflowExecutionAlreadyStartedError', message: `Workflow execution already started: workflow id ${workflowId} (${workflowType}) is taken` };
  },
  /** A closed child: a ChildWorkflowFailure wrapping `cause`. */
  child(e: { workflowId: string; runId: string; workflowType: string }, retryState: RetryState, cause: WireFailure): WireFailure {
    return { kind: 'childWorkflow', message: 'Child Workflow execution failed', workflowId: e.workflowId, runId: e.runId, workflowType: e.workflowType, retryState, cause };
  },
  childCancelled(details: unknown[] | undefined): WireFailure {
    return details === undefined || details.length === 0
      ? { kind: 'cancelled', message: 'Child Workflow execution cancelled' }
      : { kind: 'cancelled', message: 'Child Workflow execution cancelled', details };
  },
  childTerminated(reason: string | undefined): WireFailure {
    return { kind: 'terminated', message: reason ?? 'Child Workflow execution terminated' };
  },
  childTimedOut(): WireFailure {
    return { kind: 'timeout', message: 'Child Workflow execution timed out' };
  },
  /** An external signal or cancel request whose target does not exist (or is closed). */
  externalNotFound(what: 'signal' | 'cancel', workflowId: string, runId: string | undefined): WireFailure {
    const target = runId === undefined ? `workflow id ${workflowId}` : `workflow id ${workflowId} (run ${runId})`;
    return {
      kind: 'application',
      type: 'ExternalWorkflowExecutionNotFound',
      nonRetryable: true,
      message: `Unable to ${what} external workflow because it was not found: ${target}`,
    };
  },
};

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
  /** Children by the eventId of their startChildWorkflowExecutionInitiated. */
  private readonly children = new Map<number, { seq: number; workflowType: string }>();
  /** External signals and cancel requests by the eventId of their initiated event. */
  private readonly signalsOut = new Map<number, number>();
  private readonly cancelsOut = new Map<number, number>();
  private closed = false;
  private awaitingLive = false;
  /** The chunk `advanceToLive` is going through (a task's outcome is looked up in it), and the live task it met. */
  private chunk: readonly HistoryEvent[] = [];
  private live: PendingLiveTask | undefined;
  /** The updates the live task of the chunk `advanceToLive` is going through delivers. */
  private liveUpdates: readonly LiveUpdate[] | undefined;
  /**
   * Local activity outcomes read from markers of the task being replayed, for its follow-up
   * activation (see `settleTask`); and that task's activation, whose time the follow-up reuses.
   */
  private localResolutions: ActivationJob[] = [];
  private replayedActivation: Activation | undefined;
  /** The SDK flags the run recorded (flags.ts). */
  private readonly flags = new FlagHistory();

  /** The recorded tasks delivered in bulk whose completions the machine has not all taken. */
  private recorded: RecordedTasks | undefined;
  /** A predicting machine (see `predictRecorded`) runs nothing: it builds the activations history keys. */
  private predictions: Activation[] | undefined;
  /** A predicting machine's open activity ids: the isolate finds an activity by its id, so an id must be open once. */
  private openActivityIds: Set<string> | undefined;

  /** `runner` runs the recorded tasks' activations (and the live one's, through `advance`). */
  constructor(private readonly runner: ActivationRunner) {}

  /**
   * Replay in bulk: for a fresh machine whose runner can, the activations of the recorded tasks in
   * `events` (a whole history up to now), built from history alone, to be run together when the
   * machine meets them. They stop before the first task whose jobs need what only a matched command
   * gives (a child's or an external request's seq, a local activity's follow-up) and at the live
   * task; from there the machine goes on one task at a time. `advanceToLive` does this itself for
   * the chunk it is first given; a caller that feeds the history in slices calls it first.
   */
  prepareRecorded(events: readonly HistoryEvent[]): void {
    if (this.lastEventId !== 0 || this.recorded !== undefined || this.predictions !== undefined || this.runner.activateRecorded === undefined) return;
    const predictor = new ReplayMachine(this.runner);
    predictor.predictions = [];
    predictor.openActivityIds = new Set();
    try {
      predictor.advanceToLive(events);
    } catch {
      // STOP_PREDICTING, or a history the real pass will refuse with its own error.
    }
    const activations = predictor.predictions;
    if (activations.length > 1) this.recorded = { activations, completions: [], next: 0, ended: false };
  }

  /**
   * The completion of the recorded task whose activation the machine has just built, when the task
   * was delivered in bulk; undefined when it goes one task at a time.
   */
  private recordedCompletion(activation: Activation): ActivationCompletion | undefined {
    const r = this.recorded;
    if (r === undefined) return undefined;
    if (r.next >= r.activations.length) {
      this.recorded = undefined;
      return undefined;
    }
    const predicted = r.activations[r.next];
    if (predicted.historyLength !== activation.historyLength || predicted.jobs.length !== activation.jobs.length) {
      // Both come from the same events; a difference is a bug in deja, not in the workflow.
      throw new Error(`deja bug: the bulk replay is out of step at event ${activation.historyLength}`);
    }
    if (r.next === r.completions.length && !r.ended) {
      const window = r.activations.slice(r.next, r.next + RECORDED_WINDOW);
      const run = this.runner.activateRecorded!(window);
      for (const c of run.completions) r.completions.push(c);
      if (run.completions.length < window.length || run.error !== undefined) {
        r.ended = true;
        r.error = run.error;
      }
    }
    if (r.next < r.completions.length) {
      const completion = r.completions[r.next++];
      this.runner.tookRecorded?.(completion);
      return completion;
    }
    // The runner stopped before this task: with an error, what `activate` would have thrown for it.
    this.recorded = undefined;
    if (r.error !== undefined) throw r.error;
    return undefined;
  }

  /** A predicting machine, at a command event: what it tells the later jobs, from history alone. */
  private predictFrom(e: EventOf<CommandEventType>): void {
    switch (e.type) {
      case 'activityTaskScheduled':
        if (this.openActivityIds!.has(e.activityId)) throw STOP_PREDICTING;
        this.openActivityIds!.add(e.activityId);
        this.activities.set(e.eventId, { seq: 0, activityType: e.activityType, activityId: e.activityId });
        return;
      case 'timerStarted': {
        // A matched startTimer's seq is its timerId (see the matcher).
        const seq = Number(e.timerId);
        if (!Number.isSafeInteger(seq) || String(seq) !== e.timerId) throw STOP_PREDICTING;
        this.timers.set(e.timerId, seq);
        return;
      }
      case 'timerCanceled':
        this.timers.delete(e.timerId);
        return;
      case 'workflowExecutionCompleted':
      case 'workflowExecutionFailed':
      case 'workflowExecutionCanceled':
      case 'workflowExecutionContinuedAsNew':
        this.closed = true;
        return;
      case 'activityTaskCancelRequested':
      case 'patchMarkerRecorded':
      case 'upsertWorkflowSearchAttributes':
      case 'workflowPropertiesModified':
      case 'workflowExecutionUpdateAccepted':
      case 'workflowExecutionUpdateCompleted':
        return;
      default:
        // A child's, an external request's or a local activity's: keyed by a seq only a matched command gives.
        throw STOP_PREDICTING;
    }
  }

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
  advanceToLive(events: readonly HistoryEvent[], updates?: readonly LiveUpdate[]): PendingLiveTask | undefined {
    if (this.awaitingLive) throw new InvalidHistoryError('the live task has not been completed yet (call completeLive first)');
    this.prepareRecorded(events);
    this.live = undefined;
    this.chunk = events;
    this.liveUpdates = updates;
    try {
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
          if (this.predictions === undefined) this.matchCommand(e as EventOf<CommandEventType>);
          else this.predictFrom(e as EventOf<CommandEventType>);
          continue;
        }
        // A fast path for the events that carry something: direct calls V8 can inline. Every
        // other type goes through the table, which stays the one place that classifies events.
        const H = ReplayMachine.handlers;
        switch (e.type) {
          case 'workflowTaskStarted':
            H.workflowTaskStarted.call(this, e, i);
            continue;
          case 'activityTaskCompleted':
            H.activityTaskCompleted.call(this, e);
            continue;
          case 'timerFired':
            H.timerFired.call(this, e);
            continue;
          case 'workflowExecutionSignaled':
            H.workflowExecutionSignaled.call(this, e);
            continue;
          case 'workflowTaskScheduled':
          case 'workflowTaskCompleted':
          case 'activityTaskStarted':
            continue;
        }
        const handler = HANDLER_BY_TYPE.get(e.type);
        if (handler === undefined) {
          // Skipping it would replay a different history from the one recorded: refuse it.
          throw new InvalidHistoryError(
            `event ${e.eventId} has type ${JSON.stringify(String((e as { type: unknown }).type))}, which this version of deja does not know (a history written by a newer deja?)`,
            e.eventId,
            'type',
          );
        }
        if (handler !== 'nothing') handler.call(this, e, i);
      }
    } finally {
      this.chunk = [];
      this.liveUpdates = undefined;
    }
    const live = this.live;
    this.live = undefined;
    if (live) this.awaitingLive = true;
    return live;
  }

  /**
   * Every event that records no command: what it gives the workflow. One table for every machine
   * (the handlers take the machine as `this`), so a new machine allocates none of it.
   */
  static readonly handlers = {
    workflowExecutionStarted(e) {
      this.jobs.push({ type: 'startWorkflow', workflowType: e.workflowType, args: e.input });
    },
    workflowExecutionSignaled(e) {
      this.jobs.push({ type: 'signalWorkflow', signalName: e.signalName, args: e.input });
    },
    workflowExecutionCancelRequested(e) {
      this.jobs.push(e.cause === undefined ? { type: 'cancelWorkflow' } : { type: 'cancelWorkflow', reason: e.cause });
    },
    activityTaskCanceled(e) {
      const scheduled = this.takeActivity(e);
      const failure = activityFailure(scheduled, replayFailures.activityCancelled(e.details), 'cancelRequested');
      this.resolveActivity(scheduled, { status: 'cancelled', failure });
    },
    childWorkflowExecutionStarted(e) {
      const child = this.childOf(e, false);
      this.jobs.push({ type: 'resolveChildWorkflowStart', seq: child.seq, result: { status: 'started', runId: e.runId } });
    },
    startChildWorkflowExecutionFailed(e) {
      const child = this.childOf(e, true);
      this.jobs.push({
        type: 'resolveChildWorkflowStart',
        seq: child.seq,
        result: { status: 'failed', failure: replayFailures.childAlreadyStarted(e.workflowId, e.workflowType) },
      });
    },
    childWorkflowExecutionCompleted(e) {
      const child = this.childOf(e, true);
      this.jobs.push({ type: 'resolveChildWorkflow', seq: child.seq, result: e.result === undefined ? { status: 'completed' } : { status: 'completed', result: e.result } });
    },
    childWorkflowExecutionFailed(e) {
      this.childFailed(e, e.retryState, e.failure);
    },
    childWorkflowExecutionCanceled(e) {
      this.childFailed(e, 'cancelRequested', replayFailures.childCancelled(e.details));
    },
    childWorkflowExecutionTerminated(e) {
      this.childFailed(e, 'unspecified', replayFailures.childTerminated(e.reason));
    },
    childWorkflowExecutionTimedOut(e) {
      this.childFailed(e, e.retryState, replayFailures.childTimedOut());
    },
    externalWorkflowExecutionSignaled(e) {
      this.jobs.push({ type: 'resolveSignalExternalWorkflow', seq: this.externalOf(this.signalsOut, e) });
    },
    signalExternalWorkflowExecutionFailed(e) {
      const seq = this.externalOf(this.signalsOut, e);
      this.jobs.push({ type: 'resolveSignalExternalWorkflow', seq, failure: replayFailures.externalNotFound('signal', e.workflowId, e.runId) });
    },
    externalWorkflowExecutionCancelRequested(e) {
      this.jobs.push({ type: 'resolveRequestCancelExternalWorkflow', seq: this.externalOf(this.cancelsOut, e) });
    },
    requestCancelExternalWorkflowExecutionFailed(e) {
      const seq = this.externalOf(this.cancelsOut, e);
      this.jobs.push({ type: 'resolveRequestCancelExternalWorkflow', seq, failure: replayFailures.externalNotFound('cancel', e.workflowId, e.runId) });
    },
    workflowExecutionTerminated() {
      // Closed by the service (a client's terminate): no command of the workflow's, no job.
      this.closed = true;
    },
    workflowExecutionTimedOut() {
      // Closed by the service (a run or execution timeout): no command of the workflow's, no job.
      this.closed = true;
    },
    timerFired(e) {
      const seq = this.timers.get(e.timerId);
      if (seq === undefined) throw new InvalidHistoryError(`timerFired for timer ${e.timerId}, which was never started`, e.eventId, 'timerId');
      this.timers.delete(e.timerId);
      this.jobs.push({ type: 'fireTimer', seq });
    },
    activityTaskCompleted(e) {
      const scheduled = this.takeActivity(e);
      this.resolveActivity(scheduled, e.result === undefined ? { status: 'completed' } : { status: 'completed', result: e.result });
    },
    activityTaskFailed(e) {
      const scheduled = this.takeActivity(e);
      this.resolveActivity(scheduled, { status: 'failed', failure: activityFailure(scheduled, e.failure, e.retryState) });
    },
    activityTaskTimedOut(e) {
      const scheduled = this.takeActivity(e);
      this.resolveActivity(scheduled, { status: 'failed', failure: activityFailure(scheduled, e.failure, e.retryState) });
    },
    workflowTaskStarted(e, i) {
      const completed = this.completionOf(this.chunk, i);
      if (completed === FAILED_TASK) return; // a failed attempt: its jobs wait for the next task
      if (completed !== LIVE_TASK) {
        this.runTask(e, completed);
      } else {
        if (this.predictions !== undefined) throw STOP_PREDICTING;
        for (const u of this.liveUpdates ?? []) this.jobs.push({ type: 'doUpdate', updateId: u.updateId, name: u.name, args: u.args, runValidator: true });
        this.liveUpdates = undefined;
        this.live = { startedEventId: e.eventId, activation: this.takeActivation(e, false) };
      }
    },
    // The task's bookkeeping (a failed task's, unless it re-seeds), and an activity's start
    // (written when it closes): nothing for the workflow.
    workflowTaskScheduled: 'nothing',
    workflowTaskCompleted: 'nothing',
    workflowTaskFailed(e) {
      // A reset re-seeds the PRNG from the next task on (Temporal's UpdateRandomSeed).
      if (e.newRandomnessSeed !== undefined) this.jobs.push({ type: 'updateRandomSeed', randomnessSeed: e.newRandomnessSeed });
    },
    workflowTaskTimedOut: 'nothing',
    activityTaskStarted: 'nothing',
  } as const satisfies EventHandlers<HistoryEvent, CommandRecords, ReplayMachine>;

  /** Every command event: whether it records the command emitted (of the kind it records). */
  static readonly matchers: CommandMatchers<HistoryEvent, Command, CommandRecords, ReplayMachine> = {
    activityTaskScheduled(e, c) {
      if (c.activityType !== e.activityType || c.activityId !== e.activityId) return false;
      this.activities.set(e.eventId, { seq: c.seq, activityType: c.activityType, activityId: c.activityId });
      return true;
    },
    timerStarted(e, c) {
      if (String(c.seq) !== e.timerId) return false;
      this.timers.set(e.timerId, c.seq);
      return true;
    },
    timerCanceled(e, c) {
      if (String(c.seq) !== e.timerId) return false;
      this.timers.delete(e.timerId);
      return true;
    },
    activityTaskCancelRequested(e, c) {
      // The activity it cancels must be the one history scheduled at that event.
      return this.activities.get(e.scheduledEventId)?.seq === c.seq;
    },
    startChildWorkflowExecutionInitiated(e, c) {
      if (c.workflowId !== e.workflowId || c.workflowType !== e.workflowType) return false;
      this.children.set(e.eventId, { seq: c.seq, workflowType: c.workflowType });
      return true;
    },
    signalExternalWorkflowExecutionInitiated(e, c) {
      if (c.workflowId !== e.workflowId || c.signalName !== e.signalName) return false;
      this.signalsOut.set(e.eventId, c.seq);
      return true;
    },
    requestCancelExternalWorkflowExecutionInitiated(e, c) {
      if (c.workflowId !== e.workflowId) return false;
      this.cancelsOut.set(e.eventId, c.seq);
      return true;
    },
    workflowExecutionCompleted() {
      return this.close();
    },
    workflowExecutionFailed() {
      return this.close();
    },
    workflowExecutionCanceled() {
      return this.close();
    },
    workflowExecutionContinuedAsNew(e, c) {
      if (c.workflowType !== e.workflowType) return false;
      return this.close();
    },
    patchMarkerRecorded(e, c) {
      return c.patchId === e.patchId;
    },
    localActivityMarkerRecorded(e, c) {
      if (c.seq !== e.seq || c.activityType !== e.activityType || c.activityId !== e.activityId) return false;
      // A replayed task's local activity: its outcome comes from the marker. A live task's was
      // delivered already, by the worker's follow-up activation.
      if (this.pendingFromCompletedTask) this.localResolutions.push(localActivityJobFromMarker(e));
      return true;
    },
    upsertWorkflowSearchAttributes() {
      return true;
    },
    workflowPropertiesModified() {
      return true;
    },
    workflowExecutionUpdateAccepted(e, c) {
      return c.updateId === e.updateId;
    },
    workflowExecutionUpdateCompleted(e, c) {
      return c.updateId === e.updateId;
    },
  };

  private close(): true {
    this.closed = true;
    return true;
  }

  /** The child an event refers to by its initiated event id; `close` forgets it. */
  private childOf(e: { eventId: number; type: string; initiatedEventId: number }, close: boolean): { seq: number; workflowType: string } {
    const child = this.children.get(e.initiatedEventId);
    if (child === undefined) {
      throw new InvalidHistoryError(`${e.type} for initiated event ${e.initiatedEventId}, which is not a child workflow of this run`, e.eventId, 'initiatedEventId');
    }
    if (close) this.children.delete(e.initiatedEventId);
    return child;
  }

  /** A child closed other than by completing: a resolveChildWorkflow with a ChildWorkflowFailure. */
  private childFailed(
    e: { eventId: number; type: string; initiatedEventId: number; workflowId: string; runId: string; workflowType: string },
    retryState: RetryState,
    cause: WireFailure,
  ): void {
    const child = this.childOf(e, true);
    this.jobs.push({ type: 'resolveChildWorkflow', seq: child.seq, result: { status: 'failed', failure: replayFailures.child(e, retryState, cause) } });
  }

  /** The seq of the external signal or cancel request an event resolves (forgotten after). */
  private externalOf(map: Map<number, number>, e: { eventId: number; type: string; initiatedEventId: number }): number {
    const seq = map.get(e.initiatedEventId);
    if (seq === undefined) {
      throw new InvalidHistoryError(`${e.type} for initiated event ${e.initiatedEventId}, which this run did not initiate`, e.eventId, 'initiatedEventId');
    }
    map.delete(e.initiatedEventId);
    return seq;
  }

  /** The job that resolves an activity: by its seq; by its recorded activityId in a predicting machine. */
  private resolveActivity(scheduled: { seq: number; activityId: string }, result: ActivityResolution): void {
    this.jobs.push(
      this.predictions === undefined
        ? { type: 'resolveActivity', seq: scheduled.seq, result }
        : { type: 'resolveActivity', seq: 0, activityId: scheduled.activityId, result },
    );
  }

  /** The open activity an activity's closing event closes. */
  private takeActivity(e: EventOf<'activityTaskCompleted' | 'activityTaskFailed' | 'activityTaskTimedOut' | 'activityTaskCanceled'>): { seq: number; activityType: string; activityId: string } {
    const scheduled = this.activities.get(e.scheduledEventId);
    if (scheduled === undefined) {
      throw new InvalidHistoryError(`${e.type} for scheduled event ${e.scheduledEventId}, which is not an open activity`, e.eventId, 'scheduledEventId');
    }
    this.activities.delete(e.scheduledEventId);
    this.openActivityIds?.delete(scheduled.activityId);
    return scheduled;
  }

  /** Records the completion of the activation that `advanceToLive` returned. */
  completeLive(pending: PendingLiveTask, completion: ActivationCompletion): LiveTask {
    this.awaitingLive = false;
    this.localResolutions = [];
    this.replayedActivation = undefined;
    if (completion.ok) {
      this.pending = recordedCommands(completion.commands);
      this.pendingFromCompletedTask = false;
      const sdkMetadata = this.flags.recordLive(completion.usedFlags);
      if (sdkMetadata !== undefined) return { startedEventId: pending.startedEventId, completion, sdkMetadata };
    }
    return { startedEventId: pending.startedEventId, completion };
  }

  /** For a complete history: every command the last completed task emitted must be recorded. */
  finish(): void {
    this.settleTask();
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

  /**
   * How the task started at events[i] ended: the index of its workflowTaskCompleted in `events`,
   * FAILED_TASK (failed or timed out), or LIVE_TASK (no outcome in this chunk). One pass over the
   * task's few events; `runTask` goes on from the completion.
   */
  private completionOf(events: readonly HistoryEvent[], i: number): number {
    const startedId = events[i].eventId;
    for (let j = i + 1; j < events.length; j++) {
      const e = events[j];
      if (e.type === 'workflowTaskCompleted') {
        if (e.startedEventId === startedId) return j;
      } else if ((e.type === 'workflowTaskFailed' || e.type === 'workflowTaskTimedOut') && e.startedEventId === startedId) {
        return FAILED_TASK;
      }
    }
    return LIVE_TASK;
  }

  /**
   * What the completed task recorded after its workflowTaskCompleted at events[c], in one pass:
   * the updates it accepted, as doUpdate jobs that skip the validator (its
   * workflowExecutionUpdateAccepted events, before the next task is scheduled or started), then
   * the patches its markers record, as notifyHasPatch jobs (Temporal's notifyHasPatch: known
   * before the task runs; up to the next task's start).
   */
  private recordedJobs(events: readonly HistoryEvent[], c: number): void {
    const completedId = events[c].eventId;
    let patches: ActivationJob[] | undefined;
    let updatesOpen = true;
    for (let k = c + 1; k < events.length; k++) {
      const e = events[k];
      if (e.type === 'workflowTaskStarted') break;
      if (e.type === 'workflowTaskScheduled') updatesOpen = false;
      else if (e.type === 'patchMarkerRecorded') {
        if (e.workflowTaskCompletedEventId === completedId) (patches ??= []).push({ type: 'notifyHasPatch', patchId: e.patchId });
      } else if (updatesOpen && e.type === 'workflowExecutionUpdateAccepted' && e.workflowTaskCompletedEventId === completedId) {
        this.jobs.push({ type: 'doUpdate', updateId: e.updateId, name: e.name, args: e.input, runValidator: false });
      }
    }
    if (patches !== undefined) for (const job of patches) this.jobs.push(job);
  }

  /** The jobs gathered since the previous task, as the activation of the task started here. */
  private takeActivation(started: HistoryEvent, completed: boolean, flags?: SdkFlags): Activation {
    this.settleTask();
    if (this.pendingFromCompletedTask && this.pending.length > 0) {
      const c = this.pending[0];
      throw new DeterminismViolationError(
        `nondeterminism before event ${started.eventId}: the workflow emitted ${describeCommand(c)}, which history does not record`,
        started.eventId,
        undefined,
        c,
      );
    }
    const jobs = this.jobs.length > 1 ? this.jobs.sort(byJobPriority) : this.jobs; // a stable sort
    this.jobs = [];
    const { historySizeBytes, suggestContinueAsNew } = started as EventOf<'workflowTaskStarted'>;
    // One literal with every member, `flags` undefined for a live task (JSON leaves it out), not
    // a member added afterwards: activations keep one hidden class.
    return {
      timestamp: Date.parse(started.eventTime),
      isReplaying: completed,
      historyLength: started.eventId,
      historySize: historySizeBytes ?? 0,
      continueAsNewSuggested: suggestContinueAsNew ?? false,
      jobs,
      flags,
    };
  }

  /** Replays a task that history says completed (at events[completed]): its commands must follow as events. */
  private runTask(started: HistoryEvent, completed: number): void {
    this.recordedJobs(this.chunk, completed);
    const activation = this.takeActivation(started, true, this.flags.forReplayedTask(this.chunk[completed] as EventOf<'workflowTaskCompleted'>));
    if (this.predictions !== undefined) {
      this.predictions.push(activation);
      return;
    }
    this.replayedActivation = activation;
    const completion = this.recordedCompletion(activation) ?? this.runner.activate(activation);
    if (!completion.ok) throw this.replayFailed(completion, started.eventId);
    this.pending = recordedCommands(completion.commands);
    this.pendingFromCompletedTask = true;
  }

  private matchCommand(e: EventOf<CommandEventType>): void {
    // Temporal's rules for deprecated patches: a deprecated marker the code no longer emits is
    // skipped, and a deprecated marker the code emits that history lacks is dropped.
    while (this.pending.length > 0 && dropsDeprecatedPatch(this.pending[0], e)) this.pending.shift();
    if (skipsDeprecatedMarker(e, this.pending[0])) return;
    const c = this.pending.shift();
    let matched = false;
    if (c !== undefined && c.type === COMMAND_RECORDED_BY[e.type]) {
      // Direct calls for the common events (V8 inlines them); the table decides for every other.
      const M = ReplayMachine.matchers;
      if (e.type === 'activityTaskScheduled') matched = M.activityTaskScheduled.call(this, e, c as Extract<Command, { type: 'scheduleActivity' }>);
      else if (e.type === 'timerStarted') matched = M.timerStarted.call(this, e, c as Extract<Command, { type: 'startTimer' }>);
      else matched = (M[e.type] as (this: ReplayMachine, e: HistoryEvent, c: Command) => boolean).call(this, e, c);
    }
    if (!matched) {
      throw new DeterminismViolationError(
        `nondeterminism at event ${e.eventId}: history recorded ${describeEvent(e)} but the workflow emitted ${describeCommand(c)}`,
        e.eventId,
        e,
        c,
      );
    }
    if (this.pending.length === 0) this.settleTask();
  }

  /**
   * The replayed task's commands are all matched: when markers resolved local activities, its
   * follow-up activation runs now (replaying, at the task's time), and its commands are matched
   * next; repeated while more local activities resolve. Deprecated patch markers left pending
   * (history lacks them) are dropped first.
   */
  private settleTask(): void {
    while (this.pending.length > 0 && dropsDeprecatedPatch(this.pending[0], undefined)) this.pending.shift();
    while (this.pending.length === 0 && this.localResolutions.length > 0 && this.replayedActivation !== undefined) {
      const jobs = this.localResolutions;
      this.localResolutions = [];
      const activation: Activation = { ...this.replayedActivation, jobs };
      const completion = this.runner.activate(activation);
      if (!completion.ok) throw this.replayFailed(completion, this.replayedActivation.historyLength);
      this.pending = recordedCommands(completion.commands);
      this.pendingFromCompletedTask = true;
    }
  }

  /**
   * The activation that follows `pending` (the live task) in the same workflow task: the same
   * time, not replaying, with `jobs` (the resolveLocalActivity jobs of the local activities the
   * worker ran). The worker runs it, and repeats while new local activities appear, then hands
   * the completions, merged, to `completeLive` (see lib/worker/local-activities.ts).
   */
  followUpActivation(pending: PendingLiveTask, jobs: ActivationJob[]): Activation {
    return { ...pending.activation, jobs };
  }

  private replayFailed(completion: Extract<ActivationCompletion, { ok: false }>, startedEventId: number): WorkflowTaskFailedError {
    const f = completion.failure;
    return new WorkflowTaskFailedError(
      `replaying the workflow task at event ${startedEventId} failed, though it succeeded when recorded: ${f.type ? f.type + ': ' : ''}${f.message}`,
      f,
      f.type === 'DeterminismViolationError' ? 'nondeterminism' : 'workflowError',
    );
  }
}

/** The commands history records, in order: all but the unrecorded kinds (a rejected update). */
function recordedCommands(commands: readonly Command[]): Command[] {
  const out: Command[] = [];
  for (const c of commands) if (!Object.prototype.hasOwnProperty.call(UNRECORDED_COMMANDS, c.type)) out.push(c);
  return out;
}

/** Event type → its handler, built once from the typed table (a Map: one lookup, no prototype). */
const HANDLER_BY_TYPE: ReadonlyMap<string, 'nothing' | ((this: ReplayMachine, event: HistoryEvent, index: number) => void)> = new Map(
  Object.entries(ReplayMachine.handlers) as [string, 'nothing' | ((this: ReplayMachine, event: HistoryEvent, index: number) => void)][],
);

export { localActivityResolution } from './markers';
