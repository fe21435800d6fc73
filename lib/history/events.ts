/**
 * The deja history event types, version 1 (host side), derived from the schemas in schema.ts:
 * one source for the types, the checks and the JSON Schema. Events are past-tense facts with
 * Temporal's meanings. Every event has a monotonic `eventId` (1, 2, 3, …) and an ISO-8601
 * `eventTime`; its other fields are flat on the event and depend on `type`.
 */
import type { Static } from '@sinclair/typebox';
import { HISTORY_FORMAT, HISTORY_VERSION, type EventSchemas } from './schema';

export { HISTORY_FORMAT, HISTORY_VERSION } from './schema';

type EventFrom<T extends keyof EventSchemas> = Static<EventSchemas[T]>;

export type WorkflowExecutionStartedEvent = EventFrom<'workflowExecutionStarted'>;
export type WorkflowTaskScheduledEvent = EventFrom<'workflowTaskScheduled'>;
export type WorkflowTaskStartedEvent = EventFrom<'workflowTaskStarted'>;
export type WorkflowTaskCompletedEvent = EventFrom<'workflowTaskCompleted'>;
export type WorkflowTaskFailedEvent = EventFrom<'workflowTaskFailed'>;
export type WorkflowTaskTimedOutEvent = EventFrom<'workflowTaskTimedOut'>;
export type ActivityTaskScheduledEvent = EventFrom<'activityTaskScheduled'>;
/** Written once, when the activity closes, with the attempt that closed it (as Temporal does). */
export type ActivityTaskStartedEvent = EventFrom<'activityTaskStarted'>;
export type ActivityTaskCompletedEvent = EventFrom<'activityTaskCompleted'>;
export type ActivityTaskFailedEvent = EventFrom<'activityTaskFailed'>;
export type ActivityTaskTimedOutEvent = EventFrom<'activityTaskTimedOut'>;
export type TimerStartedEvent = EventFrom<'timerStarted'>;
export type TimerFiredEvent = EventFrom<'timerFired'>;
export type TimerCanceledEvent = EventFrom<'timerCanceled'>;
export type WorkflowExecutionSignaledEvent = EventFrom<'workflowExecutionSignaled'>;
export type WorkflowExecutionCompletedEvent = EventFrom<'workflowExecutionCompleted'>;
/** `workflowTaskCompletedEventId` is absent when the service closed the run itself (a history over its limit). */
export type WorkflowExecutionFailedEvent = EventFrom<'workflowExecutionFailed'>;

export type HistoryEvent = { [T in keyof EventSchemas]: EventFrom<T> }[keyof EventSchemas];

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
