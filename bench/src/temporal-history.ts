/**
 * Temporal histories for the bench (host side): turns a history deja recorded into the
 * proto3-JSON history a Temporal server would have recorded for the same execution, so that
 * Temporal's replayer and deja replay the same logical histories.
 *
 * The mapping is one event to one event, in the same order and with the same ids, because deja's
 * event sequence is Temporal's: WorkflowExecutionStarted, WorkflowTaskScheduled/Started/Completed,
 * ActivityTaskScheduled, ActivityTaskStarted (written when the activity closes, as the server
 * does), ActivityTaskCompleted, TimerStarted/Fired, WorkflowExecutionSignaled,
 * WorkflowExecutionCompleted. The attributes are those the server fills in for a TypeScript SDK
 * 1.24 worker: default timeouts as "0s", the default retry policy, the core SDK flags on the first
 * completed workflow task. Payloads use the `json/plain` converter; undefined is `binary/null`.
 */
import type { History, HistoryEvent } from '../../lib/history/events';

const SDK_VERSION = '1.24.0';
const IDENTITY = 'bench@deja';
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const JSON_PLAIN = b64('json/plain');
const BINARY_NULL = b64('binary/null');

type Json = Record<string, unknown>;

function payload(value: unknown): Json {
  if (value === undefined) return { metadata: { encoding: BINARY_NULL } };
  return { metadata: { encoding: JSON_PLAIN }, data: b64(JSON.stringify(value)) };
}

function payloads(values: readonly unknown[]): Json {
  return values.length === 0 ? {} : { payloads: values.map(payload) };
}

/** Temporal's proto3 JSON duration: seconds with a fraction, e.g. "10s", "0.001s". */
function duration(ms: number | undefined): string {
  return `${(ms ?? 0) / 1000}s`;
}

const SCREAMING: Record<HistoryEvent['type'], string> = {
  workflowExecutionStarted: 'WORKFLOW_EXECUTION_STARTED',
  workflowTaskScheduled: 'WORKFLOW_TASK_SCHEDULED',
  workflowTaskStarted: 'WORKFLOW_TASK_STARTED',
  workflowTaskCompleted: 'WORKFLOW_TASK_COMPLETED',
  workflowTaskFailed: 'WORKFLOW_TASK_FAILED',
  workflowTaskTimedOut: 'WORKFLOW_TASK_TIMED_OUT',
  activityTaskScheduled: 'ACTIVITY_TASK_SCHEDULED',
  activityTaskStarted: 'ACTIVITY_TASK_STARTED',
  activityTaskCompleted: 'ACTIVITY_TASK_COMPLETED',
  activityTaskFailed: 'ACTIVITY_TASK_FAILED',
  activityTaskTimedOut: 'ACTIVITY_TASK_TIMED_OUT',
  timerStarted: 'TIMER_STARTED',
  timerFired: 'TIMER_FIRED',
  timerCanceled: 'TIMER_CANCELED',
  workflowExecutionSignaled: 'WORKFLOW_EXECUTION_SIGNALED',
  workflowExecutionCompleted: 'WORKFLOW_EXECUTION_COMPLETED',
  workflowExecutionFailed: 'WORKFLOW_EXECUTION_FAILED',
};

export interface TemporalHistoryJson {
  events: Json[];
}

/**
 * The Temporal JSON history of the execution deja recorded in `history`. Only the event kinds
 * the bench workloads produce are supported; anything else throws (no silent approximation).
 */
export function toTemporalHistory(history: History): TemporalHistoryJson {
  let taskQueue = '';
  let firstTaskCompleted = true;
  const events = history.events.map((e, i): Json => {
    const id = String(e.eventId);
    const base: Json = {
      eventId: id,
      eventTime: e.eventTime,
      eventType: `EVENT_TYPE_${SCREAMING[e.type]}`,
      taskId: String(1048576 + i),
    };
    const queue = () => ({ name: taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL' });
    switch (e.type) {
      case 'workflowExecutionStarted':
        taskQueue = e.taskQueue;
        return {
          ...base,
          workflowExecutionStartedEventAttributes: {
            workflowType: { name: e.workflowType },
            taskQueue: queue(),
            input: payloads(e.input),
            workflowExecutionTimeout: '0s',
            workflowRunTimeout: '0s',
            workflowTaskTimeout: duration(e.workflowTaskTimeoutMs),
            originalExecutionRunId: e.runId,
            identity: IDENTITY,
            firstExecutionRunId: e.firstExecutionRunId,
            attempt: e.attempt,
            firstWorkflowTaskBackoff: '0s',
            header: {},
            workflowId: e.workflowId,
          },
        };
      case 'workflowTaskScheduled':
        return { ...base, workflowTaskScheduledEventAttributes: { taskQueue: queue(), startToCloseTimeout: '10s', attempt: e.attempt } };
      case 'workflowTaskStarted':
        return {
          ...base,
          workflowTaskStartedEventAttributes: {
            scheduledEventId: String(e.scheduledEventId),
            identity: IDENTITY,
            requestId: `request-${id}`,
            historySizeBytes: '0',
          },
        };
      case 'workflowTaskCompleted': {
        // A 1.24 worker reports the core flags it used on its first task; later tasks send none.
        const sdkMetadata = firstTaskCompleted ? { coreUsedFlags: [1, 2, 3], sdkName: 'temporal-typescript', sdkVersion: SDK_VERSION } : {};
        firstTaskCompleted = false;
        return {
          ...base,
          workflowTaskCompletedEventAttributes: {
            scheduledEventId: String(e.scheduledEventId),
            startedEventId: String(e.startedEventId),
            identity: IDENTITY,
            sdkMetadata,
            meteringMetadata: {},
          },
        };
      }
      case 'activityTaskScheduled':
        return {
          ...base,
          activityTaskScheduledEventAttributes: {
            activityId: e.activityId,
            activityType: { name: e.activityType },
            taskQueue: { name: e.taskQueue, kind: 'TASK_QUEUE_KIND_NORMAL' },
            header: {},
            input: payloads(e.input),
            scheduleToCloseTimeout: duration(e.scheduleToCloseTimeoutMs),
            scheduleToStartTimeout: duration(e.scheduleToStartTimeoutMs),
            startToCloseTimeout: duration(e.startToCloseTimeoutMs),
            heartbeatTimeout: duration(e.heartbeatTimeoutMs),
            workflowTaskCompletedEventId: String(e.workflowTaskCompletedEventId),
            retryPolicy: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '100s' },
            useWorkflowBuildId: true,
          },
        };
      case 'activityTaskStarted':
        return {
          ...base,
          activityTaskStartedEventAttributes: {
            scheduledEventId: String(e.scheduledEventId),
            identity: IDENTITY,
            requestId: `request-${id}`,
            attempt: e.attempt,
          },
        };
      case 'activityTaskCompleted':
        return {
          ...base,
          activityTaskCompletedEventAttributes: {
            result: payloads([e.result]),
            scheduledEventId: String(e.scheduledEventId),
            startedEventId: String(e.startedEventId),
            identity: IDENTITY,
          },
        };
      case 'timerStarted':
        return {
          ...base,
          timerStartedEventAttributes: {
            timerId: e.timerId,
            startToFireTimeout: duration(e.startToFireTimeoutMs),
            workflowTaskCompletedEventId: String(e.workflowTaskCompletedEventId),
          },
        };
      case 'timerFired':
        return { ...base, timerFiredEventAttributes: { timerId: e.timerId, startedEventId: String(e.startedEventId) } };
      case 'workflowExecutionSignaled':
        return {
          ...base,
          workflowExecutionSignaledEventAttributes: { signalName: e.signalName, input: payloads(e.input), identity: IDENTITY, header: {} },
        };
      case 'workflowExecutionCompleted':
        return {
          ...base,
          workflowExecutionCompletedEventAttributes: {
            result: payloads([e.result]),
            workflowTaskCompletedEventId: String(e.workflowTaskCompletedEventId),
          },
        };
      default:
        throw new Error(`toTemporalHistory: event ${e.eventId} (${e.type}) is not produced by the bench workloads and has no mapping`);
    }
  });
  return { events };
}
