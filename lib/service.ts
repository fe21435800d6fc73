/**
 * WorkflowService: the transport seam (host side). The worker and the client speak to this
 * interface and to nothing else. The local implementation is the engine over a Store; a remote
 * one (a server, another orchestrator) implements the same methods.
 */
import type { Command, Payload, WireFailure, WorkflowIdReusePolicy, WorkflowTaskFailedCause } from '../runtime/protocol';
import type { HistoryEvent } from './history/events';

/**
 * A run's status. `running` until it closes; then how it closed: it returned (`completed`), threw
 * (`failed`), let a cancellation escape (`cancelled`), was terminated (`terminated`), continued as
 * a new run (`continuedAsNew`), or ran out of time (`timedOut`).
 */
export type WorkflowStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'continuedAsNew' | 'timedOut';

export type { WorkflowIdReusePolicy } from '../runtime/protocol';

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

/** `handle.cancel()`: records a cancel request; the workflow's code decides what it means. */
export interface CancelWorkflowRequest extends ExecutionRef {
  reason?: string;
  identity?: string;
}

/** `handle.terminate()`: closes the run at once, with no workflow code run. */
export interface TerminateWorkflowRequest extends ExecutionRef {
  reason?: string;
  details?: Payload[];
  identity?: string;
}

/** Signals the workflow id's running run, or starts a run and signals it, in one step. */
export interface SignalWithStartRequest extends StartWorkflowRequest {
  signalName: string;
  signalArgs: Payload[];
}

/** An open activity, named by ids instead of a task token (async completion by ids). */
export interface ActivityRef {
  workflowId: string;
  /** Absent: the workflow id's latest run. */
  runId?: string;
  activityId: string;
}

export interface ListWorkflowsRequest {
  /** Default 100, at most 1000. */
  pageSize?: number;
  /** From the previous page's `nextPageToken`. */
  nextPageToken?: string;
  workflowId?: string;
  workflowType?: string;
  taskQueue?: string;
  status?: WorkflowStatus;
}

export interface ListWorkflowsPage {
  executions: WorkflowDescription[];
  /** Absent on the last page. */
  nextPageToken?: string;
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
  /** Set for a child workflow. */
  parent?: { workflowId: string; runId: string };
}

/**
 * How a run closed. `failure` for a run that did not complete: its workflow's failure (`failed`),
 * a CancelledFailure (`cancelled`), a TerminatedFailure (`terminated`) or a TimeoutFailure
 * (`timedOut`). `continuedAsNew` names the run that continues it.
 */
export type WorkflowOutcome =
  | { status: 'completed'; runId: string; result?: Payload }
  | { status: 'failed' | 'cancelled' | 'terminated' | 'timedOut'; runId: string; failure: WireFailure }
  | { status: 'continuedAsNew'; runId: string; newRunId: string };

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
  /** When the activity was scheduled, in ms since the epoch. */
  scheduledAt?: number;
  /** When this attempt was scheduled: `scheduledAt` for the first, the end of its backoff for a retry. */
  currentAttemptScheduledAt?: number;
  /** When this claim of the attempt began (the worker's start of it), in ms since the epoch. */
  startedAt?: number;
  /** The limit of one attempt. */
  startToCloseTimeoutMs?: number;
  /** The limit of all attempts, when there is one. */
  scheduleToCloseTimeoutMs?: number;
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
  /** Signals the id's running run; if none runs, starts one (under its reuse policy) and signals it. */
  signalWithStartWorkflow(request: SignalWithStartRequest): Promise<{ runId: string }>;
  /** Records a cancel request on a running run (WorkflowNotFoundError for a closed or unknown one). */
  requestCancelWorkflow(request: CancelWorkflowRequest): Promise<void>;
  /** Closes a running run at once, status terminated (WorkflowNotFoundError for a closed or unknown one). */
  terminateWorkflow(request: TerminateWorkflowRequest): Promise<void>;
  /** Runs, newest first, a page at a time. */
  listWorkflows(request?: ListWorkflowsRequest): Promise<ListWorkflowsPage>;
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
  /**
   * The task token of an open activity's attempt in progress, for completing it by ids (async
   * completion). Rejects with ActivityNotFoundError (DEJA_ACTIVITY_NOT_FOUND) when the run has no
   * such open activity or no attempt of it is running.
   */
  activityTaskToken(ref: ActivityRef): Promise<string>;

  /** Stops background loops (timers, lease expiry) and releases the store. */
  close(): Promise<void>;
}
