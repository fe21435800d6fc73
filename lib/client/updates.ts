/**
 * Workflow updates on the client (host side): `handle.executeUpdate`, `handle.startUpdate`,
 * `handle.getUpdateHandle`, update-with-start (`WithStartWorkflowOperation`), the
 * WorkflowUpdateHandle and WorkflowUpdateFailedError, with Temporal's names. WorkflowHandle and
 * WorkflowClient (client.ts) delegate here.
 */
import { failureToError } from '../../runtime/failure';
import type { UpdateDefinition } from '../../runtime/protocol';
import { checkKnownKeys, DejaError, describe, InvalidArgumentError } from '../errors';
import type { ExecutionRef, UpdateOutcome, UpdateWorkflowResponse, WorkflowService, WorkflowIdReusePolicy } from '../service';

/** Temporal's update stages. startUpdate waits for ACCEPTED or COMPLETED (ADMITTED is not supported, as in Temporal). */
export const WorkflowUpdateStage = {
  ADMITTED: 'ADMITTED',
  ACCEPTED: 'ACCEPTED',
  COMPLETED: 'COMPLETED',
} as const;
export type WorkflowUpdateStage = (typeof WorkflowUpdateStage)[keyof typeof WorkflowUpdateStage];

// Temporal's workflow id conflict policies (start-options.ts); update-with-start allows FAIL and USE_EXISTING.
import { WorkflowIdConflictPolicy } from './start-options';
import type { WorkflowHandle } from './client';

/**
 * The update's outcome is a failure; `cause` says why, rebuilt as an error: the validator's
 * rejection, the handler's ApplicationFailure, or a ServerFailure when the run closed first.
 */
export class WorkflowUpdateFailedError extends DejaError {
  /** Why the update failed; declared for code compiled without ES2022's lib. */
  declare readonly cause: Error;
  constructor(
    message: string,
    readonly workflowId: string,
    readonly updateId: string,
    cause: Error,
  ) {
    super('DEJA_UPDATE_FAILED', message, { cause });
  }
}

export interface WorkflowUpdateOptions {
  /** Default: a new UUID. A second update with the same id joins the first, it does not run twice. */
  updateId?: string;
}

export interface UpdateCall<Args extends any[]> extends WorkflowUpdateOptions {
  args?: Args;
}

export interface StartUpdateCall<Args extends any[]> extends UpdateCall<Args> {
  waitForStage: typeof WorkflowUpdateStage.ACCEPTED | typeof WorkflowUpdateStage.COMPLETED;
}

interface UpdateContext {
  service: WorkflowService;
  identity: string;
}

/** A handle to one update: its ids, and its result once it completes. */
export class WorkflowUpdateHandle<Ret> {
  /** @internal Made by WorkflowHandle and WorkflowClient. */
  constructor(
    private readonly ctx: UpdateContext,
    readonly updateId: string,
    readonly workflowId: string,
    readonly workflowRunId: string | undefined,
    private known: UpdateOutcome | undefined,
  ) {}

  /** Waits for the update's outcome: its handler's result, or WorkflowUpdateFailedError. */
  async result(): Promise<Ret> {
    const ref: ExecutionRef = this.workflowRunId === undefined ? { workflowId: this.workflowId } : { workflowId: this.workflowId, runId: this.workflowRunId };
    this.known ??= await this.ctx.service.pollWorkflowUpdate(Object.assign({}, ref, { updateId: this.updateId }));
    return outcomeValue(this.known, this.workflowId, this.updateId) as Ret;
  }
}

function outcomeValue(outcome: UpdateOutcome, workflowId: string, updateId: string): unknown {
  if (outcome.status === 'completed') return outcome.result;
  throw new WorkflowUpdateFailedError('Workflow Update failed', workflowId, updateId, failureToError(outcome.failure));
}

/** The name of an update, from its definition (defineUpdate) or as given. */
export function updateName(where: string, def: unknown): string {
  if (typeof def === 'string' && def !== '') return def;
  const d = def as { type?: unknown; name?: unknown } | null;
  if (typeof d === 'object' && d !== null && typeof d.name === 'string' && d.name !== '') {
    if (d.type === 'update') return d.name;
    if (d.type === 'signal' || d.type === 'query') throw new InvalidArgumentError(`${where}: expected an update definition or name, got the ${d.type} definition "${d.name}"`);
  }
  throw new InvalidArgumentError(`${where}: expected an update definition (from defineUpdate) or an update name, got ${describe(def)}`);
}

/** The options of an update call, checked; `stage` says whether waitForStage is taken. */
function updateCall(where: string, options: unknown, keys: readonly string[]): { args: unknown[]; updateId?: string; waitForStage?: 'accepted' | 'completed'; rest: Record<string, unknown> } {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError(`${where}: expected an options object, got ${describe(options)}`);
  checkKnownKeys(where, options, ['args', 'updateId', ...keys]);
  const o = options as Record<string, unknown>;
  const args = o.args ?? [];
  if (!Array.isArray(args)) throw new InvalidArgumentError(`${where}: args must be an array, got ${describe(args)}`);
  if (o.updateId !== undefined && (typeof o.updateId !== 'string' || o.updateId === '')) throw new InvalidArgumentError(`${where}: updateId must be a non-empty string, got ${describe(o.updateId)}`);
  let waitForStage: 'accepted' | 'completed' | undefined;
  if (keys.includes('waitForStage')) {
    const stage = o.waitForStage;
    if (stage === WorkflowUpdateStage.ACCEPTED) waitForStage = 'accepted';
    else if (stage === WorkflowUpdateStage.COMPLETED) waitForStage = 'completed';
    else if (stage === WorkflowUpdateStage.ADMITTED) throw new InvalidArgumentError(`${where}: waitForStage ADMITTED is not supported (as in Temporal); wait for ACCEPTED or COMPLETED`);
    else throw new InvalidArgumentError(`${where}: waitForStage must be WorkflowUpdateStage.ACCEPTED or WorkflowUpdateStage.COMPLETED, got ${describe(stage)}`);
  }
  return { args, updateId: o.updateId as string | undefined, waitForStage, rest: o };
}

/** handle.startUpdate / executeUpdate: sends the update and waits for the stage. A rejected update throws. */
export async function startUpdate<Ret>(
  ctx: UpdateContext,
  ref: ExecutionRef,
  where: string,
  def: unknown,
  options: unknown,
  waitFor: 'accepted' | 'completed' | undefined,
): Promise<WorkflowUpdateHandle<Ret>> {
  const name = updateName(where, def);
  const call = updateCall(where, options, waitFor === undefined ? ['waitForStage'] : []);
  const waitForStage = waitFor ?? call.waitForStage!;
  const response = await ctx.service.updateWorkflow({
    ...ref,
    ...(call.updateId !== undefined ? { updateId: call.updateId } : {}),
    name,
    args: call.args,
    waitForStage,
    identity: ctx.identity,
  });
  return handleOf<Ret>(ctx, response);
}

function handleOf<Ret>(ctx: UpdateContext, response: UpdateWorkflowResponse): WorkflowUpdateHandle<Ret> {
  // Temporal's startUpdate throws for an update that was rejected (or failed before it returned).
  if (response.outcome?.status === 'failed') outcomeValue(response.outcome, response.workflowId, response.updateId);
  return new WorkflowUpdateHandle<Ret>(ctx, response.updateId, response.workflowId, response.runId, response.outcome);
}

export function updateHandle<Ret>(ctx: UpdateContext, where: string, workflowId: string, runId: string | undefined, updateId: unknown): WorkflowUpdateHandle<Ret> {
  if (typeof updateId !== 'string' || updateId === '') throw new InvalidArgumentError(`${where}: updateId must be a non-empty string, got ${describe(updateId)}`);
  return new WorkflowUpdateHandle<Ret>(ctx, updateId, workflowId, runId, undefined);
}

// ---- update-with-start ----

export interface WithStartWorkflowOperationOptions<Args extends any[] = any[]> {
  workflowId: string;
  taskQueue: string;
  args?: Args;
  /** Required, as in Temporal: USE_EXISTING sends the update to a running workflow; FAIL refuses one. */
  workflowIdConflictPolicy: WorkflowIdConflictPolicy | 'useExisting' | 'fail';
  workflowIdReusePolicy?: string;
}

/** What a WithStartWorkflowOperation hands its handle once the call ran: the run the update went to. */
export interface StartedRun {
  workflowId: string;
  runId: string;
}

/**
 * The workflow to start for update-with-start (Temporal's WithStartWorkflowOperation). Used once:
 * `workflowHandle()` resolves once the update-with-start call has started the workflow (or found
 * it running), and rejects if the call failed.
 */
export class WithStartWorkflowOperation<W extends (...args: any[]) => Promise<unknown> = (...args: any[]) => Promise<unknown>> {
  private used = false;
  private settle!: { resolve: (run: StartedRun) => void; reject: (error: unknown) => void };
  readonly workflowType: string;
  readonly options: WithStartWorkflowOperationOptions;
  private readonly started: Promise<StartedRun>;
  /** @internal Set by the client that runs the operation: makes the workflow handle. */
  makeHandle: ((run: StartedRun) => unknown) | undefined;

  /** `new WithStartWorkflowOperation(workflow, options)` (Temporal's spelling) or `WithStartWorkflowOperation.create(…)`. */
  constructor(workflow: W | string, options: WithStartWorkflowOperationOptions<Parameters<W>>) {
    const where = 'WithStartWorkflowOperation';
    let workflowType: string;
    if (typeof workflow === 'string' && workflow !== '') workflowType = workflow;
    else if (typeof workflow === 'function' && workflow.name) workflowType = workflow.name;
    else throw new InvalidArgumentError(`${where}: expected a named workflow function or a workflow type name, got ${describe(workflow)}`);
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError(`${where}: expected an options object, got ${describe(options)}`);
    checkKnownKeys(where, options, ['workflowId', 'taskQueue', 'args', 'workflowIdConflictPolicy', 'workflowIdReusePolicy']);
    for (const key of ['workflowId', 'taskQueue'] as const) {
      if (typeof options[key] !== 'string' || options[key] === '') throw new InvalidArgumentError(`${where}: ${key} must be a non-empty string, got ${describe(options[key])}`);
    }
    if (options.args !== undefined && !Array.isArray(options.args)) throw new InvalidArgumentError(`${where}: args must be an array, got ${describe(options.args)}`);
    conflictPolicy(where, options.workflowIdConflictPolicy);
    this.workflowType = workflowType;
    this.options = { ...options };
    this.started = new Promise<StartedRun>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.started.catch(() => {}); // rejected only when the call failed, which its caller sees
  }

  static create<W extends (...args: any[]) => Promise<unknown>>(workflow: W | string, options: WithStartWorkflowOperationOptions<Parameters<W>>): WithStartWorkflowOperation<W> {
    return new WithStartWorkflowOperation<W>(workflow, options);
  }

  /** The started (or already running) workflow's handle, once the update-with-start call got that far. */
  async workflowHandle(): Promise<WorkflowHandle<W>> {
    const run = await this.started;
    return this.makeHandle!(run) as WorkflowHandle<W>;
  }

  /** @internal Marks the operation used (it may run once). */
  take(where: string): void {
    if (this.used) throw new InvalidArgumentError(`${where}: this WithStartWorkflowOperation was used already; create a new one for each call`);
    this.used = true;
  }

  /** @internal */
  resolve(run: StartedRun): void {
    this.settle.resolve(run);
  }

  /** @internal */
  reject(error: unknown): void {
    this.settle.reject(error);
  }
}

function conflictPolicy(where: string, value: unknown): 'useExisting' | 'fail' {
  if (value === 'USE_EXISTING' || value === 'WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING' || value === 'useExisting') return 'useExisting';
  if (value === 'FAIL' || value === 'WORKFLOW_ID_CONFLICT_POLICY_FAIL' || value === 'fail') return 'fail';
  throw new InvalidArgumentError(
    `${where}: workflowIdConflictPolicy is required for update-with-start and must be "USE_EXISTING" or "FAIL" (Temporal's rule), got ${describe(value)}`,
  );
}

/** client.startUpdateWithStart / executeUpdateWithStart. `reusePolicy` checks the reuse policy as the client's start does. */
export async function updateWithStart<Ret>(
  ctx: UpdateContext,
  where: string,
  def: unknown,
  options: unknown,
  waitFor: 'accepted' | 'completed' | undefined,
  reusePolicy: (where: string, value: unknown) => WorkflowIdReusePolicy | undefined,
  makeHandle: (run: StartedRun) => unknown,
): Promise<WorkflowUpdateHandle<Ret>> {
  const name = updateName(where, def);
  const call = updateCall(where, options, waitFor === undefined ? ['waitForStage', 'startWorkflowOperation'] : ['startWorkflowOperation']);
  const op = call.rest.startWorkflowOperation;
  if (!(op instanceof WithStartWorkflowOperation)) {
    throw new InvalidArgumentError(`${where}: startWorkflowOperation must be a WithStartWorkflowOperation (WithStartWorkflowOperation.create(...)), got ${describe(op)}`);
  }
  const o = op.options;
  const workflowIdReusePolicy = reusePolicy(where, o.workflowIdReusePolicy);
  op.take(where);
  op.makeHandle = makeHandle;
  try {
    const { start, update } = await ctx.service.updateWithStartWorkflow({
      start: {
        workflowId: o.workflowId,
        workflowType: op.workflowType,
        taskQueue: o.taskQueue,
        args: o.args ?? [],
        workflowIdConflictPolicy: conflictPolicy(where, o.workflowIdConflictPolicy),
        ...(workflowIdReusePolicy !== undefined ? { workflowIdReusePolicy } : {}),
        identity: ctx.identity,
      },
      update: {
        ...(call.updateId !== undefined ? { updateId: call.updateId } : {}),
        name,
        args: call.args,
        waitForStage: waitFor ?? call.waitForStage!,
        identity: ctx.identity,
      },
    });
    op.resolve({ workflowId: o.workflowId, runId: start.runId });
    return handleOf<Ret>(ctx, update);
  } catch (error) {
    op.reject(error);
    throw error;
  }
}

export type { UpdateDefinition };
