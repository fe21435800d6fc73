/**
 * WorkflowService: the transport seam (host side). The worker and the client speak to this
 * interface and to nothing else. The local implementation is the engine over a Store; a remote
 * one (a server, another orchestrator) implements the same methods.
 */
import type { Command, Payload, WireFailure, WorkflowTaskFailedCause } from '../runtime/protocol';
import type { HistoryEvent } from './history/events';

/**
 * A run's status. `running` until it closes; then how it closed: it returned (`completed`), threw
 * (`failed`), let a cancellation escape (`cancelled`), was terminated (`terminated`), continued as
 * a new run (`continuedAsNew`), or ran out of time (`timedOut`).
 */
export type WorkflowStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'continuedAsNew' | 'timedOut';

/** Temporal's id-reuse policies. The default allows a new run once the previous one closed. */
export type WorkflowIdReusePolicy = 'allowDuplicate' | 'allowDuplicateFailedOnly' | 'rejectDuplicate';

export interface StartWorkflowRequest {
  workflowId: string;
  workflowType: string;
  taskQueue: string;
  args: Payload[];
  workflowIdReusePolicy?: WorkflowIdReusePolicy;
  /** Default 10 000. */
  workflowTaskTimeoutMs?: number;
  identity?: string;
}

export interface ExecutionRef {
  workflowId: string;
  /** When absent: the latest run of the workflow id. */
  runId?: string;
}

export interface SignalWorkflowRequest extends ExecutionRef {
  signalName: string;
  args: Payload[];
  identity?: string;
}

export interface QueryWorkflowRequest extends ExecutionRef {
  queryType: string;
  args: Payload[];
}

export interface WorkflowDescription {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  status: WorkflowStatus;
  /** ISO-8601. */
  startTime: string;
  closeTime?: string;
  historyLength: number;
  /** The history's size in bytes: its events' JSON text, UTF-8. */
  historySizeBytes: number;
}

export type WorkflowOutcome =
  | { status: 'completed'; runId: string; result?: Payload }
  | { status: 'failed'; runId: string; failure: WireFailure };

/** A workflow task handed to a worker. The worker fetches the events it has not seen. */
export interface WorkflowTask {
  kind: 'workflow';
  /** Opaque; completes or fails exactly this claim of the task. */
  taskToken: string;
  workflowId: string;
  runId: string;
  workflowType: string;
  /** The id of this task's workflowTaskStarted event: history up to it is what the task covers. */
  startedEventId: number;
  /** 1 for the first try. */
  attempt: number;
}

/** A query for a worker to answer: it runs on the history up to the last completed task. */
export interface QueryTask {
  kind: 'query';
  taskToken: string;
  workflowId: string;
  runId: string;
  workflowType: string;
  queryType: string;
  args: Payload[];
}

export interface ActivityTask {
  taskToken: string;
  workflowId: string;
  runId: string;
  workflowType: string;
  activityId: string;
  activityType: string;
  args: Payload[];
  /** 1 for the first try. */
  attempt: number;
  /** Absolute deadline in ms since the epoch (start-to-close or schedule-to-close, the earlier). */
  deadline?: number;
  heartbeatTimeoutMs?: number;
  /** The details of the last heartbeat of an earlier attempt. */
  heartbeatDetails?: Payload;
}

export interface HeartbeatResponse {
  /** The activity has been cancelled or its task is no longer this worker's. */
  cancelRequested: boolean;
}

export interface WorkflowService {
  startWorkflow(request: StartWorkflowRequest): Promise<{ runId: string }>;
  signalWorkflow(request: SignalWorkflowRequest): Promise<void>;
  /** Delivered to a worker polling the run's task queue; resolves with the handler's answer. */
  queryWorkflow(request: QueryWorkflowRequest): Promise<Payload>;
  describeWorkflow(ref: ExecutionRef): Promise<WorkflowDescription>;
  /** Waits until the run closes. Rejects with the abort reason when `signal` aborts. */
  getWorkflowOutcome(ref: ExecutionRef, signal?: AbortSignal): Promise<WorkflowOutcome>;
  /** Events with `eventId > afterEventId` (all when absent), in order. */
  getHistory(ref: ExecutionRef, afterEventId?: number): Promise<HistoryEvent[]>;

  /** Waits for a workflow or query task; resolves null when `signal` aborts. */
  pollWorkflowTask(taskQueue: string, identity: string, signal: AbortSignal): Promise<WorkflowTask | QueryTask | null>;
  /** Commands are turned into events; a stale or unknown token rejects with DEJA_STALE_TASK. */
  completeWorkflowTask(taskToken: string, commands: Command[]): Promise<void>;
  /** `cause` says why (see WorkflowTaskFailedCause); the service records it in workflowTaskFailed. */
  failWorkflowTask(taskToken: string, cause: WorkflowTaskFailedCause, failure: WireFailure): Promise<void>;
  respondQueryTask(taskToken: string, answer: { ok: true; result?: Payload } | { ok: false; failure: WireFailure }): Promise<void>;

  /** Waits for an activity task; resolves null when `signal` aborts. */
  pollActivityTask(taskQueue: string, identity: string, signal: AbortSignal): Promise<ActivityTask | null>;
  completeActivityTask(taskToken: string, result: Payload): Promise<void>;
  failActivityTask(taskToken: string, failure: WireFailure): Promise<void>;
  heartbeatActivityTask(taskToken: string, details?: Payload): Promise<HeartbeatResponse>;

  /** Stops background loops (timers, lease expiry) and releases the store. */
  close(): Promise<void>;
}
