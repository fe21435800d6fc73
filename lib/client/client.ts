/**
 * WorkflowClient and WorkflowHandle (host side): Temporal's client API over a WorkflowService,
 * both the current one (`client.start/execute/getHandle`) and the seed-era one
 * (`client.createWorkflowHandle(...)` then `handle.start/execute`).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { failureToError } from '../../runtime/failure';
import type { Payload, QueryDefinition, SearchAttributes, SignalDefinition } from '../../runtime/protocol';
import type { LegacySearchAttributes, TypedSearchAttributes } from '../../runtime/search-attributes';
import { assertNever, checkKnownKeys, describe, InvalidArgumentError, warnIgnoredOptions } from '../errors';
import { HISTORY_FORMAT, HISTORY_VERSION, type History } from '../history/events';
import type { ExecutionRef, WorkflowDescription, WorkflowIdReusePolicy, WorkflowService, WorkflowStatus } from '../service';
import { CLIENT_METHODS, Connection, checkOptions, describeNonService, missingMethods, warnTemporalClientOptions } from './connection';
import { startUpdate, updateHandle, updateWithStart, type StartUpdateCall, type UpdateCall, type WorkflowUpdateHandle } from './updates';
import type { UpdateDefinition } from '../../runtime/protocol';
import { ScheduleClient } from './schedules';
import { WorkflowContinuedAsNewError, WorkflowFailedError } from './errors';
import { WorkflowNotFoundError } from '../service-errors';
import { CHAIN_START_OPTION_KEYS, chainStartFields, type ChainStartFields, type ChainStartOptions } from './start-options';
import { describeVisibility, visibilityStartFields, VISIBILITY_START_KEYS, type VisibilityStartOptions } from './visibility';

/** A workflow function: its `.name` is the workflow type. */
export type Workflow = (...args: any[]) => Promise<unknown>;
export type WorkflowResultType<T extends Workflow> = T extends (...args: any[]) => Promise<infer R> ? R : never;

/** deja's names, or Temporal's (`'REJECT_DUPLICATE'`, `'WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE'`). */
export type WorkflowIdReusePolicyOption =
  | WorkflowIdReusePolicy
  | 'ALLOW_DUPLICATE'
  | 'ALLOW_DUPLICATE_FAILED_ONLY'
  | 'REJECT_DUPLICATE'
  | 'WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE'
  | 'WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY'
  | 'WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE';

export interface WorkflowStartOptions<T extends Workflow = Workflow> extends ChainStartOptions, VisibilityStartOptions {
  args?: Parameters<T>;
  taskQueue: string;
  workflowId: string;
  workflowIdReusePolicy?: WorkflowIdReusePolicyOption;
  /** Whether the handle's `result()` follows the run's successors (continue-as-new, cron, retries). Default true. */
  followRuns?: boolean;
  /** Temporal's; accepted and named in a warning: deja has no eager dispatch. */
  requestEagerStart?: boolean;
  /** Temporal's; accepted and named in a warning: deja records no user metadata. */
  staticSummary?: string;
  /** Temporal's; accepted and named in a warning: deja records no user metadata. */
  staticDetails?: string;
  /** Temporal's; accepted and named in a warning: deja has no task priorities. */
  priority?: unknown;
  /** Temporal's; accepted and named in a warning: deja has no worker versioning. */
  versioningOverride?: unknown;
}

/** Options of the seed-era `createWorkflowHandle`: a missing workflow id is generated. */
export interface WorkflowHandleOptions {
  taskQueue: string;
  workflowId?: string;
  workflowIdReusePolicy?: WorkflowIdReusePolicyOption;
}

export interface WorkflowClientOptions {
  /** Recorded on signals. Default `<pid>@<hostname>`, as Temporal's. */
  identity?: string;
}

/** Temporal's WorkflowClientOptions that deja accepts and names once in a warning (see warnTemporalClientOptions). */
export const TEMPORAL_WORKFLOW_CLIENT_OPTIONS = ['namespace', 'dataConverter', 'interceptors', 'queryRejectCondition'] as const;

/** Temporal's name of each service status: a new status without one fails to compile. */
const STATUS_NAMES = {
  running: 'RUNNING',
  completed: 'COMPLETED',
  failed: 'FAILED',
  cancelled: 'CANCELLED',
  terminated: 'TERMINATED',
  continuedAsNew: 'CONTINUED_AS_NEW',
  timedOut: 'TIMED_OUT',
} as const satisfies { readonly [S in WorkflowStatus]: string };
export type WorkflowStatusName = (typeof STATUS_NAMES)[WorkflowStatus];

/** Temporal's current form, `new WorkflowClient({ connection })`: a Connection, or anything with a `service`. */
export interface WorkflowClientConnectionOptions extends WorkflowClientOptions {
  /** Default: `new Connection()` (DEJA_BACKEND, else SQLite at `./.deja/deja.db`). */
  connection?: { service: WorkflowService };
  /** Temporal's: deja has one namespace, 'default'; another is accepted with a warning. */
  namespace?: string;
  /** Temporal's: accepted, not acted on (payloads are JSON), named once in a warning. */
  dataConverter?: unknown;
  /** Temporal's: accepted, not applied yet, named once in a warning. */
  interceptors?: unknown;
  /** Temporal's: accepted, not acted on, named once in a warning. */
  queryRejectCondition?: unknown;
}

export interface WorkflowExecutionDescription {
  workflowId: string;
  runId: string;
  type: string;
  taskQueue: string;
  status: { name: WorkflowStatusName };
  startTime: Date;
  /** Set once the run has closed. */
  closeTime?: Date;
  historyLength: number;
  /** The history's size in bytes (its events' JSON text, UTF-8). */
  historySize: number;
  /** Set for a child workflow: the run that started it. */
  parentExecution?: { workflowId: string; runId: string };
  memo?: Record<string, unknown>;
  /** Temporal's legacy form, `{ Name: [values] }`. */
  searchAttributes: LegacySearchAttributes;
  typedSearchAttributes: TypedSearchAttributes;
}

/** What `client.list()` yields: the description of each run, newest first. */
export type WorkflowExecutionInfo = WorkflowExecutionDescription;

/** Filters of `client.list()`; all given must hold. */
/** `getUpdateHandle`'s options (Temporal's). */
export interface GetWorkflowUpdateHandleOptions {
  /** The run the update was sent to; default: the handle's run. */
  workflowRunId?: string;
}

export interface ListOptions {
  /**
   * Temporal's list filter, such as "WorkflowType = 'order' AND ExecutionStatus = 'Running' ORDER
   * BY StartTime DESC" (the README's "Finding workflows" lists the language).
   */
  query?: string;
  workflowId?: string;
  workflowType?: string;
  taskQueue?: string;
  /** A status name as `describe()` gives it: 'RUNNING', 'COMPLETED', … */
  status?: WorkflowStatusName;
  /** Runs fetched per request. Default 100. */
  pageSize?: number;
}

/** Temporal's current form of signalWithStart: the start options, plus the signal and its arguments. */
export interface WorkflowSignalWithStartOptions<T extends Workflow = Workflow, SA extends any[] = any[]> extends WorkflowStartOptions<T> {
  signal: SignalDefinition<SA> | string;
  signalArgs?: SA;
}

interface ClientContext {
  service: WorkflowService;
  identity: string;
  client: WorkflowClient;
}

/** What a handle needs to start its workflow; absent on a handle to an existing one. */
interface StartSpec {
  workflowType: string;
  taskQueue: string;
  workflowIdReusePolicy?: WorkflowIdReusePolicy;
  /** Cron, retry, timeouts, conflict policy, start delay (start-options.ts). */
  chain?: ChainStartFields;
  memo?: Record<string, Payload>;
  searchAttributes?: SearchAttributes;
}

const TEMPORAL_REUSE_POLICIES: Record<string, WorkflowIdReusePolicy> = {
  ALLOW_DUPLICATE: 'allowDuplicate',
  ALLOW_DUPLICATE_FAILED_ONLY: 'allowDuplicateFailedOnly',
  REJECT_DUPLICATE: 'rejectDuplicate',
};

function reusePolicy(where: string, value: unknown): WorkflowIdReusePolicy | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    if (Object.values(TEMPORAL_REUSE_POLICIES).includes(value as WorkflowIdReusePolicy)) return value as WorkflowIdReusePolicy;
    const temporal = TEMPORAL_REUSE_POLICIES[value.replace(/^WORKFLOW_ID_REUSE_POLICY_/, '')];
    if (temporal) return temporal;
  }
  throw new InvalidArgumentError(
    `${where}: workflowIdReusePolicy must be one of ${Object.keys(TEMPORAL_REUSE_POLICIES)
      .map((k) => `"${k}"`)
      .join(', ')} (or deja's ${Object.values(TEMPORAL_REUSE_POLICIES)
      .map((v) => `"${v}"`)
      .join(', ')}), got ${describe(value)}`,
  );
}

function workflowTypeOf(where: string, workflow: unknown): string {
  if (typeof workflow === 'string' && workflow !== '') return checkString(where, 'the workflow type', workflow);
  if (typeof workflow === 'function') {
    if (workflow.name) return checkString(where, 'the workflow type', workflow.name);
    throw new InvalidArgumentError(`${where}: the workflow function is anonymous; pass a named function or the workflow type name as a string`);
  }
  throw new InvalidArgumentError(`${where}: expected a workflow function or a workflow type name, got ${describe(workflow)}`);
}

/** Temporal's limit on ids and names (`limit.maxIDLength`); longer ones are almost surely a mistake. */
const MAX_NAME_LENGTH = 1000;

function checkString(where: string, name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new InvalidArgumentError(`${where}: ${name} must be a non-empty string, got ${describe(value)}`);
  if (value.length > MAX_NAME_LENGTH) {
    throw new InvalidArgumentError(`${where}: ${name} must be at most ${MAX_NAME_LENGTH} characters, got ${value.length}`);
  }
  return value;
}

/** An options object: a plain object, not null or an array (`what` says what it is for). */
/**
 * Temporal's start options that deja accepts without acting on them: named once per process in a
 * DEJA_IGNORED_OPTIONS warning, never refused, so Temporal code runs unchanged.
 */
const TEMPORAL_START_OPTIONS: Record<string, string> = {
  requestEagerStart: 'deja has no eager dispatch: the first workflow task goes through the store like any other',
  staticSummary: 'deja records no user metadata',
  staticDetails: 'deja records no user metadata',
  priority: 'deja has no task priorities',
  versioningOverride: 'deja has no worker versioning',
};
const TEMPORAL_START_KEYS = Object.keys(TEMPORAL_START_OPTIONS);

function warnTemporalStartOptions(where: string, options: object): void {
  const given = TEMPORAL_START_KEYS.filter((key) => (options as Record<string, unknown>)[key] !== undefined);
  if (given.length > 0) warnIgnoredOptions(where, given, (name) => TEMPORAL_START_OPTIONS[name]!);
}

function checkOptionsObject(where: string, options: unknown, known: readonly string[], what = 'an options object'): asserts options is object {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`${where}: expected ${what}, got ${describe(options)}`);
  }
  checkKnownKeys(where, options, known);
}

/** The name of a signal or query, from its definition (defineSignal/defineQuery) or as given. */
function handlerName(where: string, kind: 'signal' | 'query', def: unknown): string {
  if (typeof def === 'string' && def !== '') return checkString(where, `the ${kind} name`, def);
  const d = def as { type?: unknown; name?: unknown } | null;
  if (typeof d === 'object' && d !== null && typeof d.name === 'string' && d.name !== '') {
    if (d.type === kind) return checkString(where, `the ${kind} name`, d.name);
    if (d.type === 'signal' || d.type === 'query') {
      throw new InvalidArgumentError(`${where}: expected a ${kind} definition or name, got the ${d.type} definition "${d.name}"`);
    }
  }
  const maker = kind === 'signal' ? 'defineSignal' : 'defineQuery';
  throw new InvalidArgumentError(`${where}: expected a ${kind} definition (from ${maker}) or a ${kind} name, got ${describe(def)}`);
}

export class WorkflowHandle<T extends Workflow = Workflow> {
  /** Temporal's: whether the first workflow task went to this worker eagerly. Never, in deja. */
  readonly eagerlyStarted = false;
  private currentRunId: string | undefined;
  private firstRunId: string | undefined;

  /** @internal Made by WorkflowClient. */
  constructor(
    private readonly ctx: ClientContext,
    readonly workflowId: string,
    runId: string | undefined,
    private readonly spec: StartSpec | undefined,
    private readonly followRuns = true,
  ) {
    this.currentRunId = runId;
  }

  /** The run this handle targets; until known (before start, or from getHandle without one), the latest run. */
  get runId(): string | undefined {
    return this.currentRunId;
  }

  /** The run this handle's `start` created. */
  get firstExecutionRunId(): string | undefined {
    return this.firstRunId;
  }

  /** The client that made this handle. */
  get client(): WorkflowClient {
    return this.ctx.client;
  }

  /**
   * Asks the workflow to cancel: records a cancel request, and the workflow's root cancellation
   * scope is cancelled at its next task. Its code decides what happens (cleanup in `finally` and
   * in non-cancellable scopes runs); one that lets the cancellation escape ends CANCELLED.
   */
  async cancel(): Promise<void> {
    // Requests are built with Object.assign, not `{ ...ref, more }`: on Node 20 each member added
    // after a leading spread costs about a microsecond.
    await this.onChain((ref) => this.ctx.service.requestCancelWorkflow(Object.assign({}, ref, { identity: this.ctx.identity })));
  }

  /** Closes the run at once, with no workflow code run: it ends TERMINATED. */
  async terminate(reason?: string): Promise<void> {
    if (reason !== undefined && typeof reason !== 'string') throw new InvalidArgumentError(`WorkflowHandle.terminate: reason must be a string, got ${describe(reason)}`);
    await this.onChain((ref) => this.ctx.service.terminateWorkflow(Object.assign({}, ref, reason !== undefined ? { reason } : {}, { identity: this.ctx.identity })));
  }

  /**
   * Seed era: signals the workflow if it is running, else starts it (with `workflowArgs`) and
   * signals it, in one step. Returns the run id that got the signal.
   */
  async signalWithStart<SA extends any[]>(def: SignalDefinition<SA> | string, signalArgs: SA, workflowArgs: Parameters<T>): Promise<string> {
    const where = 'WorkflowHandle.signalWithStart';
    if (!this.spec) {
      throw new InvalidArgumentError(`${where}: this handle names the existing workflow "${this.workflowId}"; create one with a workflow function or type name to start it`);
    }
    const signalName = handlerName(where, 'signal', def);
    if (!Array.isArray(signalArgs)) throw new InvalidArgumentError(`${where}: signalArgs must be an array, got ${describe(signalArgs)}`);
    if (!Array.isArray(workflowArgs)) throw new InvalidArgumentError(`${where}: workflowArgs must be an array, got ${describe(workflowArgs)}`);
    const { runId } = await this.ctx.service.signalWithStartWorkflow({
      workflowId: this.workflowId,
      workflowType: this.spec.workflowType,
      taskQueue: this.spec.taskQueue,
      args: workflowArgs,
      workflowIdReusePolicy: this.spec.workflowIdReusePolicy,
      ...this.spec.chain,
      ...(this.spec.memo === undefined ? {} : { memo: this.spec.memo }),
      ...(this.spec.searchAttributes === undefined ? {} : { searchAttributes: this.spec.searchAttributes }),
      identity: this.ctx.identity,
      signalName,
      signalArgs,
    });
    this.currentRunId = runId;
    this.firstRunId ??= runId;
    return runId;
  }

  /** Starts the workflow and returns its run id (seed era). */
  async start(...args: Parameters<T>): Promise<string> {
    if (!this.spec) {
      throw new InvalidArgumentError(
        `WorkflowHandle.start: this handle names the existing workflow "${this.workflowId}"; create one with a workflow function or type name to start it`,
      );
    }
    const { runId } = await this.ctx.service.startWorkflow({
      workflowId: this.workflowId,
      workflowType: this.spec.workflowType,
      taskQueue: this.spec.taskQueue,
      args,
      workflowIdReusePolicy: this.spec.workflowIdReusePolicy,
      ...this.spec.chain,
      ...(this.spec.memo === undefined ? {} : { memo: this.spec.memo }),
      ...(this.spec.searchAttributes === undefined ? {} : { searchAttributes: this.spec.searchAttributes }),
      identity: this.ctx.identity,
    });
    this.currentRunId = this.firstRunId = runId;
    return runId;
  }

  /** Starts the workflow and waits for its result (seed era). */
  async execute(...args: Parameters<T>): Promise<WorkflowResultType<T>> {
    await this.start(...args);
    return this.result();
  }

  /**
   * Waits for the run to close. Throws WorkflowFailedError (seed-era name
   * WorkflowExecutionFailedError) when it did not complete: its cause is the workflow's failure,
   * a CancelledFailure (ended cancelled), a TerminatedFailure (terminated) or a TimeoutFailure
   * (timed out). A run that continued as new, or that a cron run or a retry follows, is followed
   * to the chain's last run, unless the handle was made with `followRuns: false`: then a run that
   * continued as new throws WorkflowContinuedAsNewError.
   */
  async result(): Promise<WorkflowResultType<T>> {
    let outcome = await this.ctx.service.getWorkflowOutcome(this.ref());
    while (this.followRuns && 'newRunId' in outcome && outcome.newRunId !== undefined) {
      outcome = await this.ctx.service.getWorkflowOutcome({ workflowId: this.workflowId, runId: outcome.newRunId });
    }
    switch (outcome.status) {
      case 'completed':
        return outcome.result as WorkflowResultType<T>;
      case 'failed':
      case 'cancelled':
      case 'terminated':
      case 'timedOut': {
        const cause = failureToError(outcome.failure);
        throw new WorkflowFailedError(`workflow "${this.workflowId}" ${howItEnded(outcome.status)}: ${cause.message}`, this.workflowId, outcome.runId, cause);
      }
      case 'continuedAsNew':
        throw new WorkflowContinuedAsNewError(`workflow "${this.workflowId}" (run ${outcome.runId}) continued as new in run ${outcome.newRunId}`, outcome.newRunId);
      default:
        return assertNever(outcome, 'workflow outcome');
    }
  }

  async signal<Args extends any[]>(def: SignalDefinition<Args> | string, ...args: Args): Promise<void> {
    const signalName = handlerName('WorkflowHandle.signal', 'signal', def);
    await this.onChain((ref) => this.ctx.service.signalWorkflow(Object.assign({}, ref, { signalName, args, identity: this.ctx.identity })));
  }

  async query<Ret, Args extends any[] = []>(def: QueryDefinition<Ret, Args> | string, ...args: Args): Promise<Ret> {
    const queryType = handlerName('WorkflowHandle.query', 'query', def);
    return (await this.ctx.service.queryWorkflow(Object.assign(this.ref(), { queryType, args }))) as Ret;
  }

  async describe(): Promise<WorkflowExecutionDescription> {
    return executionDescription(await this.ctx.service.describeWorkflow(this.ref()));
  }

  /** The run's history as a deja history file. */
  async fetchHistory(): Promise<History> {
    // Pin the run first, so the events and the runId in the file belong together.
    const runId = this.currentRunId ?? (await this.ctx.service.describeWorkflow(this.ref())).runId;
    const events = await this.ctx.service.getHistory({ workflowId: this.workflowId, runId });
    return { format: HISTORY_FORMAT, version: HISTORY_VERSION, workflowId: this.workflowId, runId, events };
  }

  // ---- updates (updates.ts) ----

  /** Sends an update and waits for its result; WorkflowUpdateFailedError when it was rejected or failed. */
  async executeUpdate<Ret, Args extends any[]>(def: UpdateDefinition<Ret, Args> | string, options?: UpdateCall<Args>): Promise<Ret> {
    return (await startUpdate<Ret>(this.ctx, this.ref(), 'WorkflowHandle.executeUpdate', def, options, 'completed')).result();
  }

  /** Sends an update and waits until it is accepted (or completed): its handle. A rejected update throws WorkflowUpdateFailedError. */
  async startUpdate<Ret, Args extends any[]>(def: UpdateDefinition<Ret, Args> | string, options: StartUpdateCall<Args>): Promise<WorkflowUpdateHandle<Ret>> {
    return startUpdate<Ret>(this.ctx, this.ref(), 'WorkflowHandle.startUpdate', def, options, undefined);
  }

  /**
   * A handle to an update of this workflow sent before (by any client), by its id. Temporal's
   * `options.workflowRunId` names the run the update went to (default: this handle's run).
   */
  getUpdateHandle<Ret>(updateId: string, options?: GetWorkflowUpdateHandleOptions): WorkflowUpdateHandle<Ret> {
    const where = 'WorkflowHandle.getUpdateHandle';
    let runId = this.currentRunId;
    if (options !== undefined) {
      if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`${where}: expected options { workflowRunId? }, got ${describe(options)}`);
      checkKnownKeys(where, options, ['workflowRunId']);
      if (options.workflowRunId !== undefined) {
        if (typeof options.workflowRunId !== 'string' || options.workflowRunId === '') throw new InvalidArgumentError(`${where}: workflowRunId must be a non-empty string, got ${describe(options.workflowRunId)}`);
        runId = options.workflowRunId;
      }
    }
    return updateHandle<Ret>(this.ctx, where, this.workflowId, runId, updateId);
  }

  private ref(): ExecutionRef {
    return this.currentRunId === undefined ? { workflowId: this.workflowId } : { workflowId: this.workflowId, runId: this.currentRunId };
  }

  /**
   * Calls `fn` on the handle's run. As Temporal's handle from `start()` reaches the chain's latest
   * run: when the run this handle started has closed into a successor (continue-as-new, a cron's
   * next run, a retry), `fn` is called again on the workflow id's latest run of that chain, so
   * that a signal, cancel or terminate reaches the chain (and stops a cron).
   */
  private async onChain<R>(fn: (ref: ExecutionRef) => Promise<R>): Promise<R> {
    try {
      return await fn(this.ref());
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError) || !this.spec || !this.followRuns || this.currentRunId === undefined || this.currentRunId !== this.firstRunId) throw err;
      const latest = await this.ctx.service.describeWorkflow({ workflowId: this.workflowId });
      if (latest.runId === this.currentRunId || latest.firstExecutionRunId !== this.firstRunId) throw err;
      return fn({ workflowId: this.workflowId, runId: latest.runId });
    }
  }
}

/** How a run that did not complete ended, in words: "failed", "was cancelled", "was terminated", "timed out". */
export function howItEnded(status: 'failed' | 'cancelled' | 'terminated' | 'timedOut'): string {
  return status === 'failed' ? 'failed' : status === 'timedOut' ? 'timed out' : `was ${status}`;
}

function executionDescription(d: WorkflowDescription): WorkflowExecutionDescription {
  const description: WorkflowExecutionDescription = {
    workflowId: d.workflowId,
    runId: d.runId,
    type: d.workflowType,
    taskQueue: d.taskQueue,
    status: { name: STATUS_NAMES[d.status] },
    startTime: new Date(d.startTime),
    historyLength: d.historyLength,
    historySize: d.historySizeBytes,
    ...describeVisibility(d),
  };
  if (d.closeTime !== undefined) description.closeTime = new Date(d.closeTime);
  if (d.parent !== undefined) description.parentExecution = { ...d.parent };
  return description;
}

/** Temporal's options of `getHandle`. */
export interface GetWorkflowHandleOptions {
  /** Whether `result()` follows the run's successors (continue-as-new, cron, retries). Default true. */
  followRuns?: boolean;
  /** Accepted for Temporal's signature; deja's handle names its run by `runId`. */
  firstExecutionRunId?: string;
}

function followRunsOption(where: string, value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean') throw new InvalidArgumentError(`${where}: followRuns must be true or false, got ${describe(value)}`);
  return value;
}

const STATUS_BY_NAME = new Map<string, WorkflowStatus>(Object.entries(STATUS_NAMES).map(([status, name]) => [name, status as WorkflowStatus]));

export class WorkflowClient {
  readonly workflowService: WorkflowService;
  private readonly ctx: ClientContext;

  /**
   * `new WorkflowClient(service?, options?)` (seed era: `service` is `connection.service`, and
   * defaults to `new Connection().service`: DEJA_BACKEND, else SQLite at `./.deja/deja.db`), or
   * `new WorkflowClient({ connection, identity? })` (Temporal's current form).
   */
  constructor(service?: WorkflowService, options?: WorkflowClientOptions);
  constructor(options: WorkflowClientConnectionOptions);
  constructor(first?: WorkflowService | WorkflowClientConnectionOptions, options?: WorkflowClientOptions) {
    const { service, identity } = clientArguments(first, options);
    this.workflowService = service;
    this.ctx = { service, identity: identity === undefined ? `${process.pid}@${hostname()}` : checkString('WorkflowClient', 'identity', identity), client: this };
  }

  /** Temporal's schedule client (`client.schedule`), on the same service and identity. */
  get schedule(): ScheduleClient {
    return (this.scheduleClient ??= new ScheduleClient({ connection: { service: this.ctx.service }, identity: this.ctx.identity }));
  }
  private scheduleClient: ScheduleClient | undefined;

  /**
   * Signals the workflow id's running run; if none runs, starts one (with `args`) and signals it,
   * in one step. The handle targets the run that got the signal (`signaledRunId`).
   */
  async signalWithStart<T extends Workflow, SA extends any[] = []>(
    workflow: T | string,
    options: WorkflowSignalWithStartOptions<T, SA>,
  ): Promise<WorkflowHandle<T> & { signaledRunId: string }> {
    const where = 'WorkflowClient.signalWithStart';
    const workflowType = workflowTypeOf(where, workflow);
    checkOptionsObject(where, options, ['args', 'taskQueue', 'workflowId', 'workflowIdReusePolicy', 'signal', 'signalArgs', ...CHAIN_START_OPTION_KEYS, ...VISIBILITY_START_KEYS, 'followRuns', ...TEMPORAL_START_KEYS]);
    warnTemporalStartOptions(where, options);
    const args = options.args ?? [];
    if (!Array.isArray(args)) throw new InvalidArgumentError(`${where}: args must be an array, got ${describe(args)}`);
    const signalArgs = options.signalArgs ?? [];
    if (!Array.isArray(signalArgs)) throw new InvalidArgumentError(`${where}: signalArgs must be an array, got ${describe(signalArgs)}`);
    const handle = this.unstartedHandle<T>(where, workflowType, options);
    const signaledRunId = await handle.signalWithStart(options.signal, signalArgs as SA, args as Parameters<T>);
    return Object.assign(handle, { signaledRunId });
  }

  /**
   * Update-with-start: starts `startWorkflowOperation`'s workflow unless it runs (its conflict
   * policy USE_EXISTING; FAIL refuses a running one), sends the update, in one step, and waits for
   * the update's result. `startWorkflowOperation.workflowHandle()` gives the workflow's handle.
   */
  async executeUpdateWithStart<Ret, Args extends any[]>(
    def: UpdateDefinition<Ret, Args> | string,
    options: UpdateCall<Args> & { startWorkflowOperation: unknown },
  ): Promise<Ret> {
    return (await this.updateWithStart<Ret>('WorkflowClient.executeUpdateWithStart', def, options, 'completed')).result();
  }

  /** Update-with-start, waiting for the stage `waitForStage` says: the update's handle. */
  async startUpdateWithStart<Ret, Args extends any[]>(
    def: UpdateDefinition<Ret, Args> | string,
    options: StartUpdateCall<Args> & { startWorkflowOperation: unknown },
  ): Promise<WorkflowUpdateHandle<Ret>> {
    return this.updateWithStart<Ret>('WorkflowClient.startUpdateWithStart', def, options, undefined);
  }

  private updateWithStart<Ret>(where: string, def: unknown, options: unknown, waitFor: 'completed' | undefined): Promise<WorkflowUpdateHandle<Ret>> {
    return updateWithStart<Ret>(this.ctx, where, def, options, waitFor, reusePolicy, (run) => new WorkflowHandle(this.ctx, run.workflowId, run.runId, undefined));
  }

  /** Every run, newest first, fetched a page at a time; filters as `ListOptions` says. */
  list(options: ListOptions = {}): AsyncIterable<WorkflowExecutionInfo> {
    const where = 'WorkflowClient.list';
    checkOptionsObject(where, options, ['query', 'workflowId', 'workflowType', 'taskQueue', 'status', 'pageSize']);
    let status: WorkflowStatus | undefined;
    if (options.status !== undefined) {
      status = STATUS_BY_NAME.get(options.status as string);
      if (status === undefined) throw new InvalidArgumentError(`${where}: status must be one of ${[...STATUS_BY_NAME.keys()].map((k) => `"${k}"`).join(', ')}, got ${describe(options.status)}`);
    }
    const { service } = this.ctx;
    const request = { ...options, status };
    return {
      async *[Symbol.asyncIterator]() {
        let nextPageToken: string | undefined;
        do {
          const page = await service.listWorkflows({ ...request, ...(nextPageToken !== undefined ? { nextPageToken } : {}) });
          for (const d of page.executions) yield executionDescription(d);
          nextPageToken = page.nextPageToken;
        } while (nextPageToken !== undefined);
      },
    };
  }

  /**
   * How many runs match Temporal's list filter (every run when absent), as Temporal's
   * `client.workflow.count(query)`: `{ count }`. A filter with ORDER BY is refused.
   */
  async count(query?: string): Promise<{ count: number }> {
    if (query !== undefined && typeof query !== 'string') throw new InvalidArgumentError(`WorkflowClient.count: query must be a string, got ${describe(query)}`);
    return this.ctx.service.countWorkflows(query === undefined ? {} : { query });
  }

  /** A handle that starts its workflow with these (checked) start options. */
  private unstartedHandle<T extends Workflow>(where: string, workflowType: string, options: WorkflowStartOptions<T>): WorkflowHandle<T> {
    return new WorkflowHandle<T>(
      this.ctx,
      checkString(where, 'workflowId', options.workflowId),
      undefined,
      {
        workflowType,
        taskQueue: checkString(where, 'taskQueue', options.taskQueue),
        workflowIdReusePolicy: reusePolicy(where, options.workflowIdReusePolicy),
        chain: chainStartFields(where, options),
        ...visibilityStartFields(where, options),
      },
      followRunsOption(where, options.followRuns),
    );
  }

  /** Starts a workflow; the handle knows its run (`runId`, `firstExecutionRunId`). */
  async start<T extends Workflow>(workflow: T | string, options: WorkflowStartOptions<T>): Promise<WorkflowHandle<T>> {
    const where = 'WorkflowClient.start';
    const workflowType = workflowTypeOf(where, workflow);
    checkOptionsObject(where, options, ['args', 'taskQueue', 'workflowId', 'workflowIdReusePolicy', ...CHAIN_START_OPTION_KEYS, ...VISIBILITY_START_KEYS, 'followRuns', ...TEMPORAL_START_KEYS]);
    warnTemporalStartOptions(where, options);
    const args = options.args ?? [];
    if (!Array.isArray(args)) throw new InvalidArgumentError(`${where}: args must be an array, got ${describe(args)}`);
    const handle = this.unstartedHandle<T>(where, workflowType, options);
    await handle.start(...(args as Parameters<T>));
    return handle;
  }

  /** Starts a workflow and waits for its result. */
  async execute<T extends Workflow>(workflow: T | string, options: WorkflowStartOptions<T>): Promise<WorkflowResultType<T>> {
    return (await this.start(workflow, options)).result();
  }

  /**
   * A handle to an existing workflow: a given run, or whichever run is latest. `followRuns`
   * (default true): whether `result()` follows the run's successors.
   */
  getHandle<T extends Workflow = Workflow>(workflowId: string, runId?: string, options?: GetWorkflowHandleOptions): WorkflowHandle<T> {
    const where = 'WorkflowClient.getHandle';
    if (options !== undefined) checkOptionsObject(where, options, ['followRuns', 'firstExecutionRunId']);
    return new WorkflowHandle<T>(
      this.ctx,
      checkString(where, 'workflowId', workflowId),
      runId === undefined ? undefined : checkString(where, 'runId', runId),
      undefined,
      followRunsOption(where, options?.followRuns),
    );
  }

  /**
   * Seed era: a handle to start (`createWorkflowHandle(fn | typeName, { taskQueue, workflowId? })`,
   * then `.start(...args)` or `.execute(...args)`), or to an existing workflow
   * (`createWorkflowHandle({ workflowId, runId? })`).
   */
  createWorkflowHandle<T extends Workflow = Workflow>(
    workflow: T | string | { workflowId: string; runId?: string },
    options?: WorkflowHandleOptions,
  ): WorkflowHandle<T> {
    const where = 'WorkflowClient.createWorkflowHandle';
    if (typeof workflow === 'object' && workflow !== null) {
      checkOptionsObject(`${where}: the execution`, workflow, ['workflowId', 'runId'], '{ workflowId, runId? }');
      if (options !== undefined) {
        throw new InvalidArgumentError(`${where}: a handle to an existing workflow takes no options (they are for starting one), got ${describe(options)}`);
      }
      const { workflowId, runId } = workflow;
      return new WorkflowHandle<T>(this.ctx, checkString(where, 'workflowId', workflowId), runId === undefined ? undefined : checkString(where, 'runId', runId), undefined);
    }
    const workflowType = workflowTypeOf(where, workflow);
    checkOptionsObject(where, options, ['taskQueue', 'workflowId', 'workflowIdReusePolicy'], `options with a taskQueue to start "${workflowType}"`);
    const workflowId = options.workflowId === undefined ? randomUUID() : checkString(where, 'workflowId', options.workflowId);
    return new WorkflowHandle<T>(this.ctx, workflowId, undefined, {
      workflowType,
      taskQueue: checkString(where, 'taskQueue', options.taskQueue),
      workflowIdReusePolicy: reusePolicy(where, options.workflowIdReusePolicy),
    });
  }
}

/**
 * The service and identity from the constructor's arguments, in either form. Anything else is
 * refused here, at construction, rather than failing at the first call with a TypeError.
 */
function clientArguments(first: unknown, options: unknown): { service: WorkflowService; identity: unknown } {
  const where = 'WorkflowClient';
  const forms = 'a WorkflowService (connection.service), { connection }, or nothing for the default connection';
  if (first === undefined) {
    checkOptions(where, options, ['identity']);
    return { service: new Connection().service, identity: (options as WorkflowClientOptions | undefined)?.identity };
  }
  if (typeof first !== 'object' || first === null || Array.isArray(first)) {
    throw new InvalidArgumentError(`${where}: expected ${forms}, got ${describe(first)}`);
  }
  if (missingMethods(first, CLIENT_METHODS).length === 0) {
    checkOptions(where, options, ['identity']);
    return { service: first as WorkflowService, identity: (options as WorkflowClientOptions | undefined)?.identity };
  }
  if (['connection', 'identity', ...TEMPORAL_WORKFLOW_CLIENT_OPTIONS].some((key) => key in first)) {
    checkKnownKeys(where, first, ['connection', 'identity', ...TEMPORAL_WORKFLOW_CLIENT_OPTIONS]);
    if (options !== undefined) {
      throw new InvalidArgumentError(`${where}: with { connection }, give identity beside it, not as a second argument (got ${describe(options)})`);
    }
    warnTemporalClientOptions(where, first as Record<string, unknown>, TEMPORAL_WORKFLOW_CLIENT_OPTIONS);
    const { connection, identity } = first as { connection?: { service?: unknown }; identity?: unknown };
    if (connection === undefined && !('connection' in first)) return { service: new Connection().service, identity };
    const service = typeof connection === 'object' && connection !== null ? connection.service : undefined;
    if (missingMethods(service, CLIENT_METHODS).length > 0) {
      throw new InvalidArgumentError(`${where}: connection must be a Connection (or have a WorkflowService as its service), got ${describe(connection)}`);
    }
    return { service: service as WorkflowService, identity };
  }
  const service = (first as { service?: unknown }).service;
  if (service !== undefined && missingMethods(service, CLIENT_METHODS).length === 0) {
    throw new InvalidArgumentError(`${where}: got a Connection, not its service; pass connection.service, or { connection }`);
  }
  throw new InvalidArgumentError(`${where}: expected ${forms}, got ${describeNonService(first, CLIENT_METHODS)}`);
}
