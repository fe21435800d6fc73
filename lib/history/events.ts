/**
 * The deja history event schema, version 1 (host side). Events are past-tense facts with
 * Temporal's meanings. Every event has a monotonic `eventId` (1, 2, 3, …) and an ISO-8601
 * `eventTime`; its other fields are flat on the event and depend on `type`.
 */
import type { Payload, RetryPolicy, RetryState, WireFailure } from '../../runtime/protocol';

export const HISTORY_FORMAT = 'deja.history';
export const HISTORY_VERSION = 1;

interface Base {
  eventId: number;
  /** ISO-8601 with milliseconds, UTC. */
  eventTime: string;
}

export interface WorkflowExecutionStartedEvent extends Base {
  type: 'workflowExecutionStarted';
  workflowType: string;
  workflowId: string;
  runId: string;
  firstExecutionRunId: string;
  taskQueue: string;
  input: Payload[];
  attempt: number;
  /** Seeds Math.random, uuid4 and crypto inside the isolate. */
  randomnessSeed: string;
  workflowTaskTimeoutMs: number;
}
export interface WorkflowTaskScheduledEvent extends Base {
  type: 'workflowTaskScheduled';
  taskQueue: string;
  attempt: number;
}
export interface WorkflowTaskStartedEvent extends Base {
  type: 'workflowTaskStarted';
  scheduledEventId: number;
  identity?: string;
}
export interface WorkflowTaskCompletedEvent extends Base {
  type: 'workflowTaskCompleted';
  scheduledEventId: number;
  startedEventId: number;
  identity?: string;
}
export interface WorkflowTaskFailedEvent extends Base {
  type: 'workflowTaskFailed';
  scheduledEventId: number;
  startedEventId: number;
  /** Why: 'nondeterminism', 'workflowError', 'deadlineExceeded', 'outOfMemory', 'unhandledRejection', … */
  cause: string;
  failure: WireFailure;
  identity?: string;
}
export interface WorkflowTaskTimedOutEvent extends Base {
  type: 'workflowTaskTimedOut';
  scheduledEventId: number;
  startedEventId: number;
}
export interface ActivityTaskScheduledEvent extends Base {
  type: 'activityTaskScheduled';
  activityId: string;
  activityType: string;
  taskQueue: string;
  input: Payload[];
  scheduleToCloseTimeoutMs?: number;
  scheduleToStartTimeoutMs?: number;
  startToCloseTimeoutMs?: number;
  heartbeatTimeoutMs?: number;
  retryPolicy?: RetryPolicy;
  workflowTaskCompletedEventId: number;
}
/** Written once, when the activity closes, with the attempt that closed it (as Temporal does). */
export interface ActivityTaskStartedEvent extends Base {
  type: 'activityTaskStarted';
  scheduledEventId: number;
  attempt: number;
  identity?: string;
}
export interface ActivityTaskCompletedEvent extends Base {
  type: 'activityTaskCompleted';
  scheduledEventId: number;
  startedEventId: number;
  result?: Payload;
}
export interface ActivityTaskFailedEvent extends Base {
  type: 'activityTaskFailed';
  scheduledEventId: number;
  startedEventId: number;
  failure: WireFailure;
  retryState: RetryState;
}
export interface ActivityTaskTimedOutEvent extends Base {
  type: 'activityTaskTimedOut';
  scheduledEventId: number;
  startedEventId?: number;
  failure: WireFailure;
  retryState: RetryState;
}
export interface TimerStartedEvent extends Base {
  type: 'timerStarted';
  timerId: string;
  startToFireTimeoutMs: number;
  workflowTaskCompletedEventId: number;
}
export interface TimerFiredEvent extends Base {
  type: 'timerFired';
  timerId: string;
  startedEventId: number;
}
export interface TimerCanceledEvent extends Base {
  type: 'timerCanceled';
  timerId: string;
  startedEventId: number;
  workflowTaskCompletedEventId: number;
}
export interface WorkflowExecutionSignaledEvent extends Base {
  type: 'workflowExecutionSignaled';
  signalName: string;
  input: Payload[];
  identity?: string;
}
export interface WorkflowExecutionCompletedEvent extends Base {
  type: 'workflowExecutionCompleted';
  result?: Payload;
  workflowTaskCompletedEventId: number;
}
export interface WorkflowExecutionFailedEvent extends Base {
  type: 'workflowExecutionFailed';
  failure: WireFailure;
  /**
   * The task whose failWorkflow command closed the run. Absent when the service closed it itself
   * (a history over its limit, failure kind 'server'): no workflow task did.
   */
  workflowTaskCompletedEventId?: number;
}

export type HistoryEvent =
  | WorkflowExecutionStartedEvent
  | WorkflowTaskScheduledEvent
  | WorkflowTaskStartedEvent
  | WorkflowTaskCompletedEvent
  | WorkflowTaskFailedEvent
  | WorkflowTaskTimedOutEvent
  | ActivityTaskScheduledEvent
  | ActivityTaskStartedEvent
  | ActivityTaskCompletedEvent
  | ActivityTaskFailedEvent
  | ActivityTaskTimedOutEvent
  | TimerStartedEvent
  | TimerFiredEvent
  | TimerCanceledEvent
  | WorkflowExecutionSignaledEvent
  | WorkflowExecutionCompletedEvent
  | WorkflowExecutionFailedEvent;

export type EventType = HistoryEvent['type'];
export type EventOf<T extends EventType> = Extract<HistoryEvent, { type: T }>;

/** An event before the store has given it an id and a time. */
export type NewEvent = HistoryEvent extends infer E ? (E extends HistoryEvent ? Omit<E, 'eventId' | 'eventTime'> : never) : never;

/** A history file: `{ format: 'deja.history', version: 1, workflowId, runId, events }`. */
export interface History {
  format: typeof HISTORY_FORMAT;
  version: typeof HISTORY_VERSION;
  workflowId: string;
  runId: string;
  events: HistoryEvent[];
}
