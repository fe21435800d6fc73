/**
 * The one contract between the host (lib/) and the isolate (runtime/). Types and constants only.
 *
 * How it works: the host creates a context per workflow execution, runs the compiled bundle in it
 * and calls `__dejaInit(InitMessage)`. Each workflow task is then one activation: the host calls
 * `__dejaActivate(Activation)` once to apply every job (isolated-vm drains the microtask queue when
 * the call returns), then `__dejaConclude()` until it answers with a completion; conclude re-checks
 * `condition()` predicates and returns `{ again: true }` while one of them has just resolved.
 * Queries use `__dejaQuery(QueryRequest)` and never produce commands. Every message crosses as one
 * JSON string each way; the isolate never calls the host. Nothing but these types may cross.
 *
 * Types and constants only, with one exception: `isClosingCommand`, a pure lookup in a constant,
 * kept here so that host and isolate decide a closing command in one place.
 */

/** Bumped on any incompatible change. A bundle built for another version is refused. */
export const PROTOCOL_VERSION = 6;

/** Names of the functions the runtime installs on the isolate's global object. */
export const ENTRY_POINTS = {
  protocolVersion: '__dejaProtocolVersion',
  init: '__dejaInit',
  activate: '__dejaActivate',
  conclude: '__dejaConclude',
  query: '__dejaQuery',
  /**
   * Replay in bulk: `loadRecorded` takes a JSON `RecordedActivations`. Then, for each task,
   * `activate` called with RECORDED_NEXT applies the next one (answering `true`, or `false` when
   * there is none or a key in its jobs names no single pending activity, which ends the run), and
   * `conclude` called with `true` keeps the completion in the isolate and answers a
   * `RecordedConclusion`. When that conclude ran no workflow code and the kept completion holds
   * only commands whose payloads the runtime copied when they were made, it applies the next
   * recorded activation in the same call and answers `completedNext`: nothing the workflow could
   * have queued runs between the two, so the order is the one two calls give, with one call
   * fewer per task. `takeRecorded` answers the kept completions as one JSON array and forgets
   * them.
   */
  loadRecorded: '__dejaLoadRecorded',
  takeRecorded: '__dejaTakeRecorded',
} as const;

/**
 * The activations of a run of recorded workflow tasks, built from history before any of them
 * runs. Their jobs are keyed from history: an activity's resolution names it by the activityId its
 * activityTaskScheduled event recorded (`activityId`, with `seq` 0), and the runtime finds the seq
 * among its pending activities; a timer's seq is its recorded timerId.
 */
export interface RecordedActivations {
  activations: Activation[];
}

/**
 * What `__dejaQuery(request)` answers when the workflow's inbound interceptors handle the query
 * (their `handleQuery` is async): the host then calls `__dejaQuery()` with no argument, after the
 * isolate has run its microtasks, for the QueryResult.
 */
export const QUERY_PENDING = '"deja:query-pending"';

/**
 * What `conclude` called with `true` answers: another round is due; or the completion was kept
 * (ok, or failed: a failed one ends the run); or it was kept and the next recorded activation is
 * applied already (see ENTRY_POINTS.loadRecorded).
 */
/** The argument of `activate` that applies the next recorded activation (see ENTRY_POINTS.loadRecorded). */
export const RECORDED_NEXT = 1;

export const RECORDED_CONCLUSION = { again: 1, completed: 0, failed: 2, completedNext: 3 } as const;
export type RecordedConclusion = (typeof RECORDED_CONCLUSION)[keyof typeof RECORDED_CONCLUSION];

/**
 * A payload is a JSON value (the `json/plain` converter). `undefined` is carried by omitting the
 * field; inside argument arrays it travels as `null`, as JSON.stringify does.
 */
export type Payload = unknown;

/** A failure as it crosses the boundary and as it is stored in history. */
export interface WireFailure {
  message: string;
  /** Which failure class it stands for. */
  kind: FailureKind;
  /** ApplicationFailure's `type`, or the error's class name for other errors. */
  type?: string;
  stack?: string;
  nonRetryable?: boolean;
  details?: Payload[];
  /** For `kind: 'activity'`. */
  activityType?: string;
  activityId?: string;
  retryState?: RetryState;
  /** For `kind: 'timeout'`. */
  timeoutType?: TimeoutType;
  /** For `kind: 'childWorkflow'`: the child's execution and type. */
  workflowId?: string;
  runId?: string;
  workflowType?: string;
  cause?: WireFailure;
}

/**
 * `application`: ApplicationFailure (or a plain error); `activity`: ActivityFailure, wrapping the
 * activity's own failure; `childWorkflow`: ChildWorkflowFailure, wrapping the child's; `timeout`,
 * `cancelled`, `terminated`: TimeoutFailure, CancelledFailure, TerminatedFailure; `server`: a
 * failure the service made (a history limit, a workflow id already taken, an execution not found).
 */
export type FailureKind = 'application' | 'activity' | 'childWorkflow' | 'timeout' | 'cancelled' | 'terminated' | 'server';
export type RetryState =
  | 'unspecified'
  | 'inProgress'
  | 'nonRetryableFailure'
  | 'timeout'
  | 'maximumAttemptsReached'
  | 'retryPolicyNotSet'
  | 'cancelRequested';
export type TimeoutType = 'startToClose' | 'scheduleToStart' | 'scheduleToClose' | 'heartbeat';

export interface RetryPolicy {
  initialIntervalMs?: number;
  backoffCoefficient?: number;
  maximumIntervalMs?: number;
  /** 0 means unlimited. */
  maximumAttempts?: number;
  nonRetryableErrorTypes?: string[];
}

/** What `workflowInfo()` returns inside the isolate. */
export interface WorkflowInfo {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  firstExecutionRunId: string;
  attempt: number;
  /** Milliseconds since the epoch, from the start event. */
  startTime: number;
  /** Updated on every activation. */
  historyLength: number;
  /** Set for a child workflow: the run that started it. */
  parent?: ParentInfo;
  /** The run this one continues: continue-as-new, the next run of a cron, or a retry of the workflow. */
  continuedFromExecutionRunId?: string;
  /** Set when the workflow was started with a cron schedule. */
  cronSchedule?: string;
  /** The history's size in bytes as of the current workflow task. Updated on every activation. */
  historySize: number;
  /**
   * The service suggests continuing as new: the history passed its warning threshold (a fifth of
   * its event or byte limit). Updated on every activation, from the task's workflowTaskStarted.
   */
  continueAsNewSuggested: boolean;
  /** The run's search attributes, as at the start of the current activation plus its own upserts. */
  searchAttributes: SearchAttributes;
  memo?: Record<string, Payload>;
  /** The limit of the whole chain of runs (continue-as-new, cron, retries), when one was given. */
  executionTimeoutMs?: number;
  /** When the chain's execution timeout ends it, in ms since the epoch. */
  executionExpirationTime?: number;
  /** The limit of this run, when one was given. */
  runTimeoutMs?: number;
  taskTimeoutMs: number;
  /** The workflow's own retry policy, when it was started with one. */
  retryPolicy?: RetryPolicy;
  /** The result of the previous run of a cron workflow, when it completed. */
  lastResult?: Payload;
  /** Why the previous run failed: for a retry, or the next run of a cron whose last run failed. */
  lastFailure?: WireFailure;
}

/**
 * Temporal's search attribute types. deja keeps each value with its type, so that a list filter
 * compares it as its type (a DATETIME as a time, an INT as a number).
 */
export type SearchAttributeType = 'TEXT' | 'KEYWORD' | 'INT' | 'DOUBLE' | 'BOOL' | 'DATETIME' | 'KEYWORD_LIST';

/**
 * One search attribute's value, typed. DATETIME values are ISO-8601 strings; KEYWORD_LIST values
 * arrays of strings; INT values safe integers.
 */
export type SearchAttributeValue =
  | { type: 'TEXT' | 'KEYWORD' | 'DATETIME'; value: string }
  | { type: 'INT' | 'DOUBLE'; value: number }
  | { type: 'BOOL'; value: boolean }
  | { type: 'KEYWORD_LIST'; value: string[] };

/** A run's search attributes by name. */
export type SearchAttributes = Record<string, SearchAttributeValue>;

/** An upsert: a value sets the attribute, null removes it. */
export type SearchAttributeUpserts = Record<string, SearchAttributeValue | null>;

export interface ParentInfo {
  workflowId: string;
  runId: string;
  /** Always "default": deja has one namespace. */
  namespace: string;
}

/** Sent once, right after the bundle has run in a fresh context. */
export interface InitMessage {
  protocolVersion: number;
  info: WorkflowInfo;
  /** Seeds Math.random, uuid4 and crypto. */
  randomnessSeed: string;
}

/**
 * SDK flags by id, in Temporal's numbering: `lang` flags gate behaviours of the workflow runtime,
 * `core` flags the handling of its commands. Which ids deja implements, and what each gates: see
 * runtime/flags.ts.
 */
export interface SdkFlags {
  lang: number[];
  core: number[];
}

export interface Activation {
  /**
   * Replaying only: the flags that are on for the task being replayed (those its history
   * recorded, or that Temporal's rules infer). The runtime takes every other flag as off. Ignored
   * when not replaying: a new task uses every flag the runtime implements.
   */
  flags?: SdkFlags;
  /** The time of this workflow task, in ms since the epoch: what Date.now() returns. */
  timestamp: number;
  isReplaying: boolean;
  historyLength: number;
  /** The history's size in bytes at the task's workflowTaskStarted (its historySizeBytes). */
  historySize: number;
  /** The task's workflowTaskStarted said so (suggestContinueAsNew). */
  continueAsNewSuggested: boolean;
  jobs: ActivationJob[];
}

export type ActivationJob =
  | { type: 'startWorkflow'; workflowType: string; args: Payload[] }
  | { type: 'signalWorkflow'; signalName: string; args: Payload[] }
  /** Someone asked to cancel this workflow (`handle.cancel()`, a parent, an external cancel): cancel the root scope. */
  | { type: 'cancelWorkflow'; reason?: string }
  | { type: 'fireTimer'; seq: number }
  /** `activityId` only in a bulk replay's activations (see RecordedActivations), with `seq` 0. */
  | { type: 'resolveActivity'; seq: number; activityId?: string; result: ActivityResolution }
  /** The outcome of `startChildWorkflow` seq: started (with its run id), or refused (its id is taken). */
  | { type: 'resolveChildWorkflowStart'; seq: number; result: ChildWorkflowStartResolution }
  /** The child of `startChildWorkflow` seq closed. */
  | { type: 'resolveChildWorkflow'; seq: number; result: ChildWorkflowResolution }
  /** `signalExternalWorkflow` seq was delivered (no failure) or could not be (the target is missing or closed). */
  | { type: 'resolveSignalExternalWorkflow'; seq: number; failure?: WireFailure }
  /** `requestCancelExternalWorkflow` seq was recorded by its target (no failure) or could not be. */
  | { type: 'resolveRequestCancelExternalWorkflow'; seq: number; failure?: WireFailure }
  /**
   * Replay only, first in its activation: history recorded a marker for this patch in the task
   * being replayed, so `patched(patchId)` returns true there (Temporal's notifyHasPatch).
   */
  | { type: 'notifyHasPatch'; patchId: string }
  /**
   * First in its activation: from now on Math.random, uuid4 and crypto draw from a PRNG seeded
   * with `randomnessSeed`, as at init. Replay sends it in the task after a workflowTaskFailed that
   * carries `newRandomnessSeed` (a Temporal workflow reset, which re-seeds from the new run id).
   */
  | { type: 'updateRandomSeed'; randomnessSeed: string }
  /**
   * An update to run. Live (`runValidator: true`): run its validator, then answer acceptUpdate or
   * rejectUpdate at once, and completeUpdate when its handler settles. Replayed from its
   * workflowExecutionUpdateAccepted event (`runValidator: false`): it was accepted, so the
   * validator is not run again.
   */
  | { type: 'doUpdate'; updateId: string; name: string; args: Payload[]; runValidator: boolean }
  /**
   * The outcome of `scheduleLocalActivity` seq, which the worker ran inside this workflow task (or
   * replay read from its marker). Delivered in an activation of the same task, right after the
   * one that scheduled it.
   */
  | { type: 'resolveLocalActivity'; seq: number; result: ActivityResolution };

export type ActivityResolution =
  | { status: 'completed'; result?: Payload }
  /** failure: an ActivityFailure (kind 'activity') whose cause says why. */
  | { status: 'failed'; failure: WireFailure }
  /** The activity confirmed its cancellation. failure: an ActivityFailure whose cause is a CancelledFailure. */
  | { status: 'cancelled'; failure: WireFailure };

export type ChildWorkflowStartResolution =
  | { status: 'started'; runId: string }
  /** failure: kind 'server', type 'WorkflowExecutionAlreadyStartedError'. */
  | { status: 'failed'; failure: WireFailure };

export type ChildWorkflowResolution =
  | { status: 'completed'; result?: Payload }
  /**
   * It failed, was cancelled, terminated or timed out. failure: a ChildWorkflowFailure (kind
   * 'childWorkflow', with workflowId, runId, workflowType and retryState) whose cause is the
   * child's failure, a CancelledFailure, a TerminatedFailure or a TimeoutFailure.
   */
  | { status: 'failed'; failure: WireFailure };

export interface ScheduleActivityCommand {
  type: 'scheduleActivity';
  seq: number;
  activityId: string;
  activityType: string;
  args: Payload[];
  taskQueue?: string;
  scheduleToCloseTimeoutMs?: number;
  scheduleToStartTimeoutMs?: number;
  startToCloseTimeoutMs?: number;
  heartbeatTimeoutMs?: number;
  retryPolicy?: RetryPolicy;
}

/** Temporal's parent close policies: what happens to a child when its parent closes. */
export type ParentClosePolicy = 'terminate' | 'requestCancel' | 'abandon';

/** Temporal's id-reuse policies. The default allows a new run once the previous one closed. */
export type WorkflowIdReusePolicy = 'allowDuplicate' | 'allowDuplicateFailedOnly' | 'rejectDuplicate';

export interface StartChildWorkflowCommand {
  type: 'startChildWorkflow';
  seq: number;
  workflowId: string;
  workflowType: string;
  args: Payload[];
  /** Default: the parent's task queue. */
  taskQueue?: string;
  parentClosePolicy: ParentClosePolicy;
  workflowIdReusePolicy?: WorkflowIdReusePolicy;
  workflowTaskTimeoutMs?: number;
  workflowExecutionTimeoutMs?: number;
  workflowRunTimeoutMs?: number;
  retryPolicy?: RetryPolicy;
  cronSchedule?: string;
  memo?: Record<string, Payload>;
  searchAttributes?: SearchAttributes;
}

export interface SignalExternalWorkflowCommand {
  type: 'signalExternalWorkflow';
  seq: number;
  workflowId: string;
  /** Absent: the workflow id's latest run. */
  runId?: string;
  signalName: string;
  args: Payload[];
  /** Only a child of this workflow may be the target (the child handle's `signal`). */
  childWorkflowOnly?: boolean;
}

export interface RequestCancelExternalWorkflowCommand {
  type: 'requestCancelExternalWorkflow';
  seq: number;
  workflowId: string;
  runId?: string;
  /** Only a child of this workflow may be the target (a child cancelled with its scope). */
  childWorkflowOnly?: boolean;
}

/** Temporal's workflow id conflict policies: what a start does when the id has a running run. */
export type WorkflowIdConflictPolicy = 'fail' | 'useExisting' | 'terminateExisting';

export interface ContinueAsNewCommand {
  type: 'continueAsNew';
  workflowType: string;
  args: Payload[];
  /** Default: this run's. */
  taskQueue?: string;
  /** Default: this run's. */
  workflowRunTimeoutMs?: number;
  /** Default: this run's. */
  workflowTaskTimeoutMs?: number;
  /** Default: this run's. */
  memo?: Record<string, Payload>;
  /** Default: this run's. */
  searchAttributes?: SearchAttributes;
  /** Default: this run's. */
  retryPolicy?: RetryPolicy;
}

/**
 * A local activity: run by the worker inside the workflow task that scheduled it, its outcome
 * recorded in a localActivityMarkerRecorded event. The isolate emits it without `outcome`; the
 * worker runs it, delivers the outcome (resolveLocalActivity) and sends the command on with
 * `outcome` set. The service refuses one without `outcome`.
 */
export interface ScheduleLocalActivityCommand {
  type: 'scheduleLocalActivity';
  seq: number;
  activityId: string;
  activityType: string;
  args: Payload[];
  scheduleToCloseTimeoutMs?: number;
  startToCloseTimeoutMs?: number;
  retryPolicy?: RetryPolicy;
  outcome?: LocalActivityOutcome;
}

export type LocalActivityOutcome =
  | { status: 'completed'; result?: Payload; attempt: number }
  /** failure: the activity's own failure (not wrapped), or a TimeoutFailure. */
  | { status: 'failed'; failure: WireFailure; attempt: number };

export type Command =
  | ScheduleActivityCommand
  | ScheduleLocalActivityCommand
  /** Cancel the activity of `scheduleActivity` seq (its cancellationType is not ABANDON). */
  | { type: 'requestCancelActivity'; seq: number }
  | { type: 'startTimer'; seq: number; startToFireTimeoutMs: number }
  | { type: 'cancelTimer'; seq: number }
  | StartChildWorkflowCommand
  | SignalExternalWorkflowCommand
  | RequestCancelExternalWorkflowCommand
  | { type: 'completeWorkflow'; result?: Payload }
  | { type: 'failWorkflow'; failure: WireFailure }
  /** The workflow let a cancellation escape: the run ends cancelled. */
  | { type: 'cancelWorkflow'; details?: Payload[] }
  /** The run ends, continued by a new run of the same workflow id. */
  | ContinueAsNewCommand
  /** `patched(patchId)` or `deprecatePatch(patchId)` was first called here: a marker in history. */
  | { type: 'setPatchMarker'; patchId: string; deprecated: boolean }
  | { type: 'upsertSearchAttributes'; searchAttributes: SearchAttributeUpserts }
  /** `upsertMemo`: a value sets a memo field, null removes it. */
  | { type: 'modifyWorkflowProperties'; memo: Record<string, Payload | null> }
  /** The update passed its validator (or has none): its handler runs. */
  | { type: 'acceptUpdate'; updateId: string }
  /** The update's validator threw: it is answered with the failure and leaves no trace in history. */
  | { type: 'rejectUpdate'; updateId: string; failure: WireFailure }
  /** The accepted update's handler settled: `failure` when it threw, else its result. */
  | { type: 'completeUpdate'; updateId: string; result?: Payload; failure?: WireFailure };

export type CommandType = Command['type'];

/**
 * Whether each command kind closes the run. Every command kind must be listed: a new one does not
 * compile until it says whether it closes the run.
 */
export type ClosingCommands<C extends { type: string } = Command> = { readonly [K in C['type']]: boolean };
export const CLOSING_COMMANDS: ClosingCommands = {
  scheduleActivity: false,
  requestCancelActivity: false,
  startTimer: false,
  cancelTimer: false,
  startChildWorkflow: false,
  signalExternalWorkflow: false,
  requestCancelExternalWorkflow: false,
  completeWorkflow: true,
  failWorkflow: true,
  cancelWorkflow: true,
  continueAsNew: true,
  scheduleLocalActivity: false,
  setPatchMarker: false,
  upsertSearchAttributes: false,
  modifyWorkflowProperties: false,
  acceptUpdate: false,
  rejectUpdate: false,
  completeUpdate: false,
};

/**
 * True for a command that closes the run (no command after it counts). The one function in this
 * file: pure, global-free (it runs in the isolate too) and false for a type it does not know,
 * whatever `Object.prototype` holds.
 */
export function isClosingCommand(command: { type: string }): boolean {
  return (CLOSING_COMMANDS as Record<string, boolean | undefined>)[command.type] === true;
}

/**
 * Why a workflow task failed, as the worker reports it and the service records it in
 * `workflowTaskFailed.cause`. Closed: a new cause is a protocol change, checked by the compiler.
 */
export type WorkflowTaskFailedCause =
  /** Workflow code emitted commands that history does not record, or used a nondeterministic API. */
  | 'nondeterminism'
  /** Workflow code threw an error that is not a Temporal failure (a bug). */
  | 'workflowError'
  /** An activation ran past its CPU deadline. */
  | 'deadlineExceeded'
  /** The isolate ran out of memory. */
  | 'outOfMemory'
  /** A promise rejected in workflow code with no handler. */
  | 'unhandledRejection'
  /** The service: a signal arrived while the task ran, so its completion was not taken. */
  | 'unhandledCommand'
  /** The service refused a command the workflow emitted. */
  | 'badCommand'
  /** The service: the run's history went over its limit. */
  | 'historyLimitExceeded';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  /** Workflow time of the activation that wrote it. */
  timestamp: number;
}

/**
 * The answer to an activation. `ok: false` means the workflow task failed (a bug, not a workflow
 * failure): nondeterminism inside the isolate, an unhandled rejection, an error that is not a
 * Temporal failure. The host fails the task and keeps the history as it is.
 */
export type ActivationCompletion =
  /** usedFlags: when not replaying, the flags the activation's behaviour depended on (to record in history). */
  | { ok: true; commands: Command[]; logs: LogEntry[]; sinkCalls?: SinkCall[]; usedFlags?: SdkFlags }
  | { ok: false; failure: WireFailure; logs: LogEntry[]; sinkCalls?: SinkCall[] };

/**
 * A call of a sink function (`proxySinks`), buffered by the activation and made by the worker on
 * the host after it: once, when the activation is not replaying, unless the sink asks to be
 * called during replay too. Arguments cross as JSON.
 */
export interface SinkCall {
  ifaceName: string;
  fnName: string;
  args: Payload[];
  /** Whether the activation that made the call was replaying. */
  isReplaying: boolean;
}

/** `__dejaConclude` answers `{ again: true }` while conditions keep resolving. */
export type ConcludeResult = { again: true } | ActivationCompletion;

/**
 * A signal or query as workflow code defines it (`defineSignal`, `defineQuery`) and client code
 * names it: only `name` crosses, as `signalName` or `queryType`; the type parameters carry the
 * arguments' and the result's types from the definition to both sides.
 */
export interface SignalDefinition<Args extends any[] = [], Name extends string = string> {
  type: 'signal';
  name: Name;
  /** Only for type inference. */
  __args?: Args;
}
export interface QueryDefinition<Ret, Args extends any[] = [], Name extends string = string> {
  type: 'query';
  name: Name;
  __args?: Args;
  __ret?: Ret;
}

/** An update as workflow code defines it (`defineUpdate`) and client code names it. */
export interface UpdateDefinition<Ret, Args extends any[] = [], Name extends string = string> {
  type: 'update';
  name: Name;
  __args?: Args;
  __ret?: Ret;
}

export interface QueryRequest {
  queryType: string;
  args: Payload[];
}

export type QueryResult = { ok: true; result?: Payload } | { ok: false; failure: WireFailure };

/** Answer of `__dejaInit`. */
export type InitResult = { ok: true } | { ok: false; failure: WireFailure };
