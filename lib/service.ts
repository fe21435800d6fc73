/**
 * WorkflowService: the transport seam (host side). The worker and the client speak to this
 * interface and to nothing else. The local implementation is the engine over a Store; a remote
 * one (a server, another orchestrator) implements the same methods.
 */
import type {
  Command,
  Payload,
  RetryPolicy,
  SearchAttributes,
  WireFailure,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowTaskFailedCause,
} from '../runtime/protocol';
import type { HistoryEvent } from './history/events';
import type { SdkMetadata } from './history/schema';

/**
 * A run's status. `running` until it closes; then how it closed: it returned (`completed`), threw
 * (`failed`), let a cancellation escape (`cancelled`), was terminated (`terminated`), continued as
 * a new run (`continuedAsNew`), or ran out of time (`timedOut`).
 */
export type WorkflowStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'continuedAsNew' | 'timedOut';

export type { WorkflowIdReusePolicy, WorkflowIdConflictPolicy, SearchAttributes } from '../runtime/protocol';

export interface StartWorkflowRequest {
  workflowId: string;
  workflowType: string;
  taskQueue: string;
  args: Payload[];
  workflowIdReusePolicy?: WorkflowIdReusePolicy;
  /** What to do when the id has a running run. Default 'fail' (WorkflowExecutionAlreadyStartedError). */
  workflowIdConflictPolicy?: WorkflowIdConflictPolicy;
  /** Default 10 000. */
  workflowTaskTimeoutMs?: number;
  /** The limit of the whole chain of runs (continue-as-new, cron, retries). Default: none. */
  workflowExecutionTimeoutMs?: number;
  /** The limit of each run. Default: none. */
  workflowRunTimeoutMs?: number;
  /** A failed or timed-out run is retried as a new run, after the policy's backoff. Default: none. */
  retryPolicy?: RetryPolicy;
  /** Standard five-field cron (or a shortcut such as "@daily", "@every 10m"), in UTC. */
  cronSchedule?: string;
  /** The first workflow task waits this long. Default 0. Not with cronSchedule. */
  startDelayMs?: number;
  memo?: Record<string, Payload>;
  searchAttributes?: SearchAttributes;
  identity?: string;
}

/** `started` is false when workflowIdConflictPolicy 'useExisting' found the id running: `runId` is that run's. */
export interface StartWorkflowResponse {
  runId: string;
  started: boolean;
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
  /**
   * Temporal's list filter ("WorkflowType = 'x' AND ExecutionStatus = 'Running' ORDER BY
   * StartTime DESC"). A filter the parser does not accept is an InvalidArgumentError naming the
   * position. May be combined with the fields below (all must hold).
   */
  query?: string;
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
  /** ISO-8601: when its first workflow task was (or will be) due: the start plus any backoff (cron, retry, delay). */
  executionTime?: string;
  /** Set when this run continues another (continue-as-new, cron, retry): the chain's first run. */
  firstExecutionRunId?: string;
  continuedFromExecutionRunId?: string;
  cronSchedule?: string;
  memo?: Record<string, Payload>;
  searchAttributes?: SearchAttributes;
}

export interface CountWorkflowsRequest {
  /** The list filter, as for listWorkflows (an ORDER BY is refused). Absent: every run. */
  query?: string;
}

// ---- updates ----

/** How far an update has come: waiting for a worker, accepted by its validator, or done. */
export type UpdateStage = 'admitted' | 'accepted' | 'completed';

/** An update's outcome: its handler's result, or a failure (the handler threw, the validator rejected it, or the run closed first). */
export type UpdateOutcome = { status: 'completed'; result?: Payload } | { status: 'failed'; failure: WireFailure };

export interface UpdateWorkflowRequest extends ExecutionRef {
  /** Default: a new UUID. A second request with the id of an update the run has is joined to it, not run twice. */
  updateId?: string;
  name: string;
  args: Payload[];
  /** Resolve once the update is accepted (or rejected), or only once it has completed. */
  waitForStage: 'accepted' | 'completed';
  identity?: string;
}

export interface UpdateWorkflowResponse {
  updateId: string;
  workflowId: string;
  runId: string;
  /** 'completed' with an outcome once it completed or was rejected; 'accepted' while its handler runs. */
  stage: 'accepted' | 'completed';
  outcome?: UpdateOutcome;
}

export interface UpdateRef extends ExecutionRef {
  updateId: string;
}

export interface UpdateWithStartRequest {
  /** Its workflowIdConflictPolicy must be 'useExisting' or 'fail' (Temporal's rule). */
  start: StartWorkflowRequest;
  update: Omit<UpdateWorkflowRequest, 'workflowId' | 'runId'>;
}

// ---- schedules ----

/** Temporal's overlap policies: what a due action does while the schedule's previous workflow still runs. */
export type ScheduleOverlapPolicy = 'skip' | 'bufferOne' | 'bufferAll' | 'cancelOther' | 'terminateOther' | 'allowAll';

export interface ScheduleSpec {
  /** Five-field cron expressions (or shortcuts), in UTC. */
  cronExpressions?: string[];
  /** Every `everyMs`, shifted by `offsetMs` from the epoch. */
  intervals?: { everyMs: number; offsetMs?: number }[];
  /** No action before this instant (ms since the epoch). */
  startAt?: number;
  /** No action after this instant. */
  endAt?: number;
}

export interface ScheduleAction {
  /** The started workflow's id is this, then '-' and the action's scheduled time (ISO-8601), as Temporal names them. */
  workflowId: string;
  workflowType: string;
  taskQueue: string;
  args: Payload[];
  workflowExecutionTimeoutMs?: number;
  workflowRunTimeoutMs?: number;
  workflowTaskTimeoutMs?: number;
  retryPolicy?: RetryPolicy;
  memo?: Record<string, Payload>;
  searchAttributes?: SearchAttributes;
}

export interface SchedulePolicies {
  overlap: ScheduleOverlapPolicy;
  /** How late a missed action may still be taken (after downtime). Default 1 year, as Temporal's. */
  catchupWindowMs: number;
  /** Pause the schedule when one of its workflows fails or times out. */
  pauseOnFailure: boolean;
}

export interface ScheduleState {
  paused: boolean;
  note?: string;
  /** When set, the schedule takes only this many more actions. */
  remainingActions?: number;
}

export interface ScheduleDefinition {
  spec: ScheduleSpec;
  action: ScheduleAction;
  policies: SchedulePolicies;
  state: ScheduleState;
  memo?: Record<string, Payload>;
}

export interface ScheduleActionResult {
  /** ISO-8601: when the action was due, and when it was taken. */
  scheduledAt: string;
  takenAt: string;
  workflowId: string;
  runId: string;
}

export interface ScheduleDescription extends ScheduleDefinition {
  scheduleId: string;
  info: {
    numActionsTaken: number;
    numActionsMissedCatchupWindow: number;
    numActionsSkippedOverlap: number;
    /** The workflows it started that are still running. */
    runningWorkflows: { workflowId: string; runId: string }[];
    /** The last actions, oldest first (at most 10). */
    recentActions: ScheduleActionResult[];
    /** ISO-8601: the next times an action is due (at most 10), empty while paused. */
    nextActionTimes: string[];
    createdAt: string;
    lastUpdatedAt?: string;
  };
}

export interface ListSchedulesPage {
  schedules: ScheduleDescription[];
  nextPageToken?: string;
}

/**
 * How a run closed. `failure` for a run that did not complete: its workflow's failure (`failed`),
 * a CancelledFailure (`cancelled`), a TerminatedFailure (`terminated`) or a TimeoutFailure
 * (`timedOut`). `continuedAsNew` names the run that continues it; `newRunId` on a completed,
 * failed or timed-out run names the run its cron or retry policy started after it (a client
 * waiting for the workflow's result follows it, as Temporal's does).
 */
export type WorkflowOutcome =
  | { status: 'completed'; runId: string; result?: Payload; newRunId?: string }
  | { status: 'failed' | 'timedOut'; runId: string; failure: WireFailure; newRunId?: string }
  | { status: 'cancelled' | 'terminated'; runId: string; failure: WireFailure }
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
  /**
   * Updates delivered with this task, in arrival order: each becomes a doUpdate job (runValidator
   * true) of the live activation, and the completion must answer each with acceptUpdate or
   * rejectUpdate. One left unanswered goes back to wait for the next task.
   */
  updates?: { updateId: string; name: string; args: Payload[] }[];
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
  startWorkflow(request: StartWorkflowRequest): Promise<StartWorkflowResponse>;
  signalWorkflow(request: SignalWorkflowRequest): Promise<void>;
  /** Signals the id's running run; if none runs, starts one (under its reuse policy) and signals it. */
  signalWithStartWorkflow(request: SignalWithStartRequest): Promise<{ runId: string }>;
  /** Records a cancel request on a running run (WorkflowNotFoundError for a closed or unknown one). */
  requestCancelWorkflow(request: CancelWorkflowRequest): Promise<void>;
  /** Closes a running run at once, status terminated (WorkflowNotFoundError for a closed or unknown one). */
  terminateWorkflow(request: TerminateWorkflowRequest): Promise<void>;
  /** Runs, newest first (or in the query's ORDER BY), a page at a time. */
  listWorkflows(request?: ListWorkflowsRequest): Promise<ListWorkflowsPage>;
  /** How many runs match the filter. */
  countWorkflows(request?: CountWorkflowsRequest): Promise<{ count: number }>;

  /**
   * Sends an update to the running run and waits for `waitForStage` (a rejection counts as
   * completed, with a failed outcome). WorkflowNotFoundError when the run has closed or does not
   * exist. Rejects with the abort reason when `signal` aborts (the update goes on).
   */
  updateWorkflow(request: UpdateWorkflowRequest, signal?: AbortSignal): Promise<UpdateWorkflowResponse>;
  /** Waits for an update's outcome (getUpdateHandle(...).result()). WorkflowUpdateNotFoundError (DEJA_UPDATE_NOT_FOUND) for an update the run does not have. */
  pollWorkflowUpdate(ref: UpdateRef, signal?: AbortSignal): Promise<UpdateOutcome>;
  /** Starts the workflow unless it runs (under its conflict policy), then sends the update, in one step. */
  updateWithStartWorkflow(request: UpdateWithStartRequest, signal?: AbortSignal): Promise<{ start: StartWorkflowResponse; update: UpdateWorkflowResponse }>;

  /** ScheduleAlreadyRunningError (DEJA_SCHEDULE_EXISTS) when the id is taken. */
  createSchedule(request: { scheduleId: string; schedule: ScheduleDefinition; triggerImmediately?: boolean; identity?: string }): Promise<void>;
  /** ScheduleNotFoundError (DEJA_SCHEDULE_NOT_FOUND) for an unknown id, here and below. */
  describeSchedule(scheduleId: string): Promise<ScheduleDescription>;
  listSchedules(request?: { pageSize?: number; nextPageToken?: string }): Promise<ListSchedulesPage>;
  /** Replaces the definition (its info is kept). */
  updateSchedule(scheduleId: string, schedule: ScheduleDefinition): Promise<void>;
  pauseSchedule(scheduleId: string, note?: string): Promise<void>;
  unpauseSchedule(scheduleId: string, note?: string): Promise<void>;
  /** Takes an action now, under `overlap` (default: the schedule's own policy). */
  triggerSchedule(scheduleId: string, overlap?: ScheduleOverlapPolicy): Promise<void>;
  deleteSchedule(scheduleId: string): Promise<void>;
  /** Delivered to a worker polling the run's task queue; resolves with the handler's answer. */
  queryWorkflow(request: QueryWorkflowRequest): Promise<Payload>;
  describeWorkflow(ref: ExecutionRef): Promise<WorkflowDescription>;
  /** Waits until the run closes. Rejects with the abort reason when `signal` aborts. */
  getWorkflowOutcome(ref: ExecutionRef, signal?: AbortSignal): Promise<WorkflowOutcome>;
  /** Events with `eventId > afterEventId` (all when absent), in order. */
  getHistory(ref: ExecutionRef, afterEventId?: number): Promise<HistoryEvent[]>;

  /** Waits for a workflow or query task; resolves null when `signal` aborts. */
  pollWorkflowTask(taskQueue: string, identity: string, signal: AbortSignal): Promise<WorkflowTask | QueryTask | null>;
  /**
   * Commands are turned into events; a stale or unknown token rejects with DEJA_STALE_TASK.
   * `sdkMetadata`: the SDK flags the task used first, recorded in its workflowTaskCompleted.
   */
  completeWorkflowTask(taskToken: string, commands: Command[], sdkMetadata?: SdkMetadata): Promise<void>;
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
