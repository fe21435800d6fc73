// The one history builder of the tests (host side): appends events with consecutive ids and
// advancing times, with shorthands for the common shapes (a run's start, a workflow task, an
// activity that completes, the run's completion).
import { HISTORY_FORMAT, HISTORY_VERSION, type History, type HistoryEvent, type NewEvent } from '../../lib/history/events';

export interface HistoryBuilderOptions {
  workflowId?: string;
  runId?: string;
  /** The first event's time. Default 2024-01-31T12:00:00Z. */
  startMs?: number;
  /** How far each event's time is after the one before. Default 1000. */
  stepMs?: number;
  workflowType?: string;
  taskQueue?: string;
  randomnessSeed?: string;
  /** The worker identity on workflow task events. Default 'worker-1'. */
  identity?: string;
}

export class HistoryBuilder {
  readonly events: HistoryEvent[] = [];
  readonly workflowId: string;
  readonly runId: string;
  readonly workflowType: string;
  readonly taskQueue: string;
  private readonly randomnessSeed: string;
  private readonly identity: string;
  private timeMs: number;
  private stepMs: number;

  constructor(options: HistoryBuilderOptions = {}) {
    this.workflowId = options.workflowId ?? 'wf-1';
    this.runId = options.runId ?? 'run-1';
    this.timeMs = options.startMs ?? Date.UTC(2024, 0, 31, 12, 0, 0);
    this.stepMs = options.stepMs ?? 1000;
    this.workflowType = options.workflowType ?? 'greet';
    this.taskQueue = options.taskQueue ?? 'main';
    this.randomnessSeed = options.randomnessSeed ?? 'seed-1';
    this.identity = options.identity ?? 'worker-1';
  }

  /** Appends an event; returns its id. */
  add(event: NewEvent): number {
    const eventId = this.events.length + 1;
    this.events.push({ eventId, eventTime: new Date(this.timeMs).toISOString(), ...event } as HistoryEvent);
    this.timeMs += this.stepMs;
    return eventId;
  }

  /** From now on, events are `ms` apart. */
  step(ms: number): this {
    this.stepMs = ms;
    return this;
  }

  /** workflowExecutionStarted. */
  start(input: unknown[] = []): this {
    this.add({
      type: 'workflowExecutionStarted',
      workflowType: this.workflowType,
      workflowId: this.workflowId,
      runId: this.runId,
      firstExecutionRunId: this.runId,
      taskQueue: this.taskQueue,
      input,
      attempt: 1,
      randomnessSeed: this.randomnessSeed,
      workflowTaskTimeoutMs: 10_000,
    });
    return this;
  }

  /** A workflow task that ends as `end`; returns the closing event's id. */
  workflowTask(end: 'completed' | 'failed' | 'timedOut' = 'completed', attempt = 1): number {
    const scheduledEventId = this.add({ type: 'workflowTaskScheduled', taskQueue: this.taskQueue, attempt });
    const startedEventId = this.add({ type: 'workflowTaskStarted', scheduledEventId, identity: this.identity });
    if (end === 'completed') return this.add({ type: 'workflowTaskCompleted', scheduledEventId, startedEventId });
    if (end === 'timedOut') return this.add({ type: 'workflowTaskTimedOut', scheduledEventId, startedEventId });
    return this.add({
      type: 'workflowTaskFailed',
      scheduledEventId,
      startedEventId,
      cause: 'nondeterminism',
      failure: { message: 'expected startTimer, got scheduleActivity', kind: 'application', type: 'DeterminismViolationError' },
      identity: this.identity,
    });
  }

  /** activityTaskScheduled by the task that completed at `workflowTaskCompletedEventId`; returns its id. */
  activity(activityType: string, activityId: string, workflowTaskCompletedEventId: number): number {
    return this.add({ type: 'activityTaskScheduled', activityId, activityType, taskQueue: this.taskQueue, input: [], startToCloseTimeoutMs: 10_000, workflowTaskCompletedEventId });
  }

  /** The activity's one attempt: started, then completed with `result`. */
  activityCompleted(scheduledEventId: number, result?: unknown): this {
    const startedEventId = this.add({ type: 'activityTaskStarted', scheduledEventId, attempt: 1 });
    this.add({ type: 'activityTaskCompleted', scheduledEventId, startedEventId, result });
    return this;
  }

  /** workflowExecutionCompleted by the task that completed at `workflowTaskCompletedEventId`. */
  completeWorkflow(workflowTaskCompletedEventId: number, result?: unknown): this {
    this.add({ type: 'workflowExecutionCompleted', workflowTaskCompletedEventId, ...(result === undefined ? {} : { result }) });
    return this;
  }

  history(): History {
    return { format: HISTORY_FORMAT, version: HISTORY_VERSION, workflowId: this.workflowId, runId: this.runId, events: this.events };
  }
}
