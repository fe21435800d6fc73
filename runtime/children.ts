/**
 * Child workflows and handles to other workflows (inside the isolate), as in Temporal's
 * TypeScript SDK: `startChild`, `executeChild`, `getExternalWorkflowHandle`. Each call emits one
 * command and is resolved by the job that answers it (internals.ts); cancelling the scope of a child
 * cancels it as its `cancellationType` says.
 */
import { ArrayIsArray, ObjectKeys, PromisePrototypeThen, PromiseResolve, TypeError, own, put, record } from './primordials';
import { startSearchAttributesToWire, type LegacySearchAttributes, type SearchAttributePair, type TypedSearchAttributes } from './search-attributes';
import type { Payload, ParentClosePolicy as WireParentClosePolicy, WorkflowIdReusePolicy as WireIdReusePolicy, SignalDefinition } from './protocol';
import { getState, type ChildCancellation, type ChildWorkflowFields, type SignalExternalFields } from './internals';
import { CancellationScope } from './cancellation-scope';
import { checkKeys, checkPayloads, enumOption, retryPolicy, type RetryOptions } from './workflow';
import { durationToMs, type Duration } from './time';
import { uuid4FromRandom } from './uuid';
import { memoValue } from './upserts';
import { emptyHeaders, hasInterceptors, interceptOutbound, type SignalWorkflowInput } from './interceptors';

/**
 * Temporal's child workflow cancellation types: what cancelling a child's scope does.
 * - ABANDON: nothing is sent; `result()` rejects at once.
 * - TRY_CANCEL: the child is asked to cancel; `result()` rejects at once.
 * - WAIT_CANCELLATION_REQUESTED: asked; `result()` rejects once the child has the request.
 * - WAIT_CANCELLATION_COMPLETED (default): asked; `result()` settles when the child closes.
 */
export const ChildWorkflowCancellationType = {
  ABANDON: 'ABANDON',
  TRY_CANCEL: 'TRY_CANCEL',
  WAIT_CANCELLATION_REQUESTED: 'WAIT_CANCELLATION_REQUESTED',
  WAIT_CANCELLATION_COMPLETED: 'WAIT_CANCELLATION_COMPLETED',
} as const;
export type ChildWorkflowCancellationType = (typeof ChildWorkflowCancellationType)[keyof typeof ChildWorkflowCancellationType];

/** Temporal's parent close policies: what happens to a child when its parent closes (default TERMINATE). */
export const ParentClosePolicy = {
  TERMINATE: 'TERMINATE',
  ABANDON: 'ABANDON',
  REQUEST_CANCEL: 'REQUEST_CANCEL',
  PARENT_CLOSE_POLICY_TERMINATE: 'TERMINATE',
  PARENT_CLOSE_POLICY_ABANDON: 'ABANDON',
  PARENT_CLOSE_POLICY_REQUEST_CANCEL: 'REQUEST_CANCEL',
} as const;
export type ParentClosePolicy = (typeof ParentClosePolicy)[keyof typeof ParentClosePolicy];

/** Temporal's workflow id reuse policies (default ALLOW_DUPLICATE). */
export const WorkflowIdReusePolicy = {
  ALLOW_DUPLICATE: 'ALLOW_DUPLICATE',
  ALLOW_DUPLICATE_FAILED_ONLY: 'ALLOW_DUPLICATE_FAILED_ONLY',
  REJECT_DUPLICATE: 'REJECT_DUPLICATE',
  WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE: 'ALLOW_DUPLICATE',
  WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY: 'ALLOW_DUPLICATE_FAILED_ONLY',
  WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE: 'REJECT_DUPLICATE',
} as const;
export type WorkflowIdReusePolicy = (typeof WorkflowIdReusePolicy)[keyof typeof WorkflowIdReusePolicy];

export interface ChildWorkflowOptions {
  /** Default: a uuid4 from the workflow's seeded PRNG. */
  workflowId?: string;
  args?: unknown[];
  /** Default: the parent's task queue. */
  taskQueue?: string;
  parentClosePolicy?: ParentClosePolicy | `PARENT_CLOSE_POLICY_${ParentClosePolicy}`;
  cancellationType?: ChildWorkflowCancellationType;
  workflowIdReusePolicy?: WorkflowIdReusePolicy | `WORKFLOW_ID_REUSE_POLICY_${WorkflowIdReusePolicy}`;
  workflowTaskTimeout?: Duration;
  /** The limit of the child's whole chain of runs (continue-as-new, cron, retries). */
  workflowExecutionTimeout?: Duration;
  /** The limit of each of the child's runs. */
  workflowRunTimeout?: Duration;
  /** The child's own retry policy: a failed run is run again. */
  retry?: RetryOptions;
  /** A cron schedule (UTC): the child runs at each fire time until cancelled or terminated. */
  cronSchedule?: string;
  /** Memo fields of the child (any JSON values). */
  memo?: Record<string, unknown>;
  /** The child's search attributes in Temporal's legacy form (`{ Name: [values] }`). */
  searchAttributes?: LegacySearchAttributes;
  /** The child's search attributes, typed (a typed value wins over a legacy one of the same name). */
  typedSearchAttributes?: SearchAttributePair[] | TypedSearchAttributes;
}

const OPTION_KEYS = [
  'workflowId',
  'args',
  'taskQueue',
  'parentClosePolicy',
  'cancellationType',
  'workflowIdReusePolicy',
  'workflowTaskTimeout',
  'workflowExecutionTimeout',
  'workflowRunTimeout',
  'retry',
  'cronSchedule',
  'memo',
  'searchAttributes',
  'typedSearchAttributes',
];

const PARENT_CLOSE: Record<string, WireParentClosePolicy> = /* @__PURE__ */ record({
  TERMINATE: 'terminate',
  REQUEST_CANCEL: 'requestCancel',
  ABANDON: 'abandon',
  PARENT_CLOSE_POLICY_TERMINATE: 'terminate',
  PARENT_CLOSE_POLICY_REQUEST_CANCEL: 'requestCancel',
  PARENT_CLOSE_POLICY_ABANDON: 'abandon',
});
const ID_REUSE: Record<string, WireIdReusePolicy> = /* @__PURE__ */ record({
  ALLOW_DUPLICATE: 'allowDuplicate',
  ALLOW_DUPLICATE_FAILED_ONLY: 'allowDuplicateFailedOnly',
  REJECT_DUPLICATE: 'rejectDuplicate',
  WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE: 'allowDuplicate',
  WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY: 'allowDuplicateFailedOnly',
  WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE: 'rejectDuplicate',
});
const PARENT_CLOSE_NAMES = ['TERMINATE', 'REQUEST_CANCEL', 'ABANDON', 'PARENT_CLOSE_POLICY_TERMINATE', 'PARENT_CLOSE_POLICY_REQUEST_CANCEL', 'PARENT_CLOSE_POLICY_ABANDON'] as const;
const ID_REUSE_NAMES = [
  'ALLOW_DUPLICATE',
  'ALLOW_DUPLICATE_FAILED_ONLY',
  'REJECT_DUPLICATE',
  'WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE',
  'WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY',
  'WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE',
] as const;
const CANCELLATION_NAMES = ['ABANDON', 'TRY_CANCEL', 'WAIT_CANCELLATION_REQUESTED', 'WAIT_CANCELLATION_COMPLETED'] as const;

type Workflow = (...args: any[]) => Promise<unknown>;
type ResultOf<T> = T extends (...args: any[]) => Promise<infer R> ? R : unknown;

export interface ChildWorkflowHandle<T = Workflow> {
  readonly workflowId: string;
  /** The run id the child started with. */
  readonly firstExecutionRunId: string;
  /** Settles when the child closes: its result, or a ChildWorkflowFailure. */
  result(): Promise<ResultOf<T>>;
  /** Signals the child (a `signalExternalWorkflow` command that only a child of this workflow may receive). */
  signal<Args extends any[]>(def: SignalDefinition<Args> | string, ...args: Args): Promise<void>;
}

export interface ExternalWorkflowHandle {
  readonly workflowId: string;
  readonly runId?: string;
  /** Resolves once the signal reached the workflow; rejects when it could not (no such workflow). */
  signal<Args extends any[]>(def: SignalDefinition<Args> | string, ...args: Args): Promise<void>;
  /** Asks the workflow to cancel; resolves once it has the request. */
  cancel(): Promise<void>;
}

function signalName(where: string, def: unknown): string {
  if (typeof def === 'string' && def !== '') return def;
  if (typeof def === 'object' && def !== null && (def as SignalDefinition).type === 'signal' && typeof (def as SignalDefinition).name === 'string') {
    return (def as SignalDefinition).name;
  }
  throw new TypeError(`${where}: expected a signal definition from defineSignal, or a signal name`);
}

function nonEmpty(where: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new TypeError(`${where}: expected a non-empty string`);
  return value;
}

function optionalString(where: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new TypeError(`${where}: expected a non-empty string`);
  return value;
}

/**
 * Starts a child workflow; resolves with its handle once the child has started. Rejects with
 * WorkflowExecutionAlreadyStartedError when its workflow id is taken, and with a CancelledFailure
 * when its scope is cancelled before the start was sent.
 */
export function startChild<T extends Workflow>(workflow: string | T, options?: ChildWorkflowOptions): Promise<ChildWorkflowHandle<T>> {
  const state = getState('startChild');
  const workflowType = typeof workflow === 'string' ? workflow : typeof workflow === 'function' ? workflow.name : undefined;
  if (typeof workflowType !== 'string' || workflowType === '') {
    throw new TypeError('startChild: expected a workflow function or a workflow type name');
  }
  const opts: ChildWorkflowOptions = options ?? record({});
  if (typeof opts !== 'object' || opts === null) throw new TypeError('startChild: expected an options object');
  checkKeys('startChild', opts, OPTION_KEYS);
  const workflowId = optionalString('startChild workflowId', opts.workflowId) ?? uuid4FromRandom(state.random);
  const args = opts.args ?? [];
  if (!ArrayIsArray(args)) throw new TypeError('startChild: expected args to be an array');
  const fields: ChildWorkflowFields = record({
    workflowId,
    workflowType,
    args: checkPayloads(args, `child workflow ${workflowType}`),
    parentClosePolicy: PARENT_CLOSE[enumOption('startChild parentClosePolicy', opts.parentClosePolicy ?? 'TERMINATE', PARENT_CLOSE_NAMES)],
  });
  const taskQueue = optionalString('startChild taskQueue', opts.taskQueue);
  if (taskQueue !== undefined) fields.taskQueue = taskQueue;
  if (opts.workflowIdReusePolicy !== undefined) {
    fields.workflowIdReusePolicy = ID_REUSE[enumOption('startChild workflowIdReusePolicy', opts.workflowIdReusePolicy, ID_REUSE_NAMES)];
  }
  if (opts.workflowTaskTimeout !== undefined) fields.workflowTaskTimeoutMs = durationToMs(opts.workflowTaskTimeout, 'startChild workflowTaskTimeout');
  if (opts.workflowExecutionTimeout !== undefined) fields.workflowExecutionTimeoutMs = durationToMs(opts.workflowExecutionTimeout, 'startChild workflowExecutionTimeout');
  if (opts.workflowRunTimeout !== undefined) fields.workflowRunTimeoutMs = durationToMs(opts.workflowRunTimeout, 'startChild workflowRunTimeout');
  if (opts.retry !== undefined) fields.retryPolicy = retryPolicy(opts.retry, 'startChild retry');
  if (opts.cronSchedule !== undefined) fields.cronSchedule = nonEmpty('startChild cronSchedule', opts.cronSchedule);
  if (opts.memo !== undefined) fields.memo = childMemo(opts.memo);
  const searchAttributes = startSearchAttributesToWire('startChild', opts.searchAttributes, opts.typedSearchAttributes);
  if (searchAttributes !== undefined) fields.searchAttributes = searchAttributes;
  const cancellation: ChildCancellation = enumOption('startChild cancellationType', opts.cancellationType ?? 'WAIT_CANCELLATION_COMPLETED', CANCELLATION_NAMES);
  if (hasInterceptors()) return startChildIntercepted<T>(workflowType, opts, fields, cancellation);
  const child = state.startChild(fields, cancellation, CancellationScope.current());
  return PromisePrototypeThen(child.started, (runId: string) => childHandle<T>(workflowId, runId, child.result));
}

/**
 * startChild through the outbound interceptors (Temporal's order: the call is numbered and its
 * workflow id drawn before they run; the handle comes once their pair of promises and then the
 * start have resolved). An interceptor may change the workflow type, the id and the arguments.
 */
function startChildIntercepted<T extends Workflow>(
  workflowType: string,
  opts: ChildWorkflowOptions,
  fields: ChildWorkflowFields,
  cancellation: ChildCancellation,
): Promise<ChildWorkflowHandle<T>> {
  const state = getState('startChild');
  const scope = CancellationScope.current();
  const seq = state.reserveSeq('childWorkflow');
  const options = { ...opts, workflowId: fields.workflowId, args: opts.args ?? [] };
  let startedId = fields.workflowId;
  const pair = interceptOutbound('startChildWorkflowExecution', record({ workflowType, options, headers: emptyHeaders(), seq }), (input) => {
    const type = input.workflowType;
    const id = optionalString('startChild workflowId', input.options.workflowId) ?? fields.workflowId;
    startedId = id;
    const args = input.options.args ?? [];
    if (!ArrayIsArray(args)) throw new TypeError('startChild: expected args to be an array');
    const child = state.startChild(record({ ...fields, workflowType: type, workflowId: id, args: checkPayloads(args, `child workflow ${type}`) }), cancellation, scope, input.seq);
    return PromiseResolve([child.started, child.result] as [Promise<string>, Promise<unknown>]);
  });
  return PromisePrototypeThen(pair, (promises: [Promise<string>, Promise<unknown>]) =>
    PromisePrototypeThen(promises[0], (runId: string) => childHandle<T>(startedId, runId, promises[1])),
  ) as unknown as Promise<ChildWorkflowHandle<T>>;
}

/** The handle of a started child. */
function childHandle<T extends Workflow>(workflowId: string, runId: string, childResult: Promise<unknown>): ChildWorkflowHandle<T> {
  const handle: ChildWorkflowHandle<T> = {
    workflowId,
    firstExecutionRunId: runId,
    result: () => childResult as Promise<ResultOf<T>>,
    signal: (def, ...signalArgs) => {
      const name = signalName('ChildWorkflowHandle.signal', def);
      const state = getState('ChildWorkflowHandle.signal');
      if (hasInterceptors()) {
        const target = record({ type: 'child' as const, childWorkflowId: workflowId });
        return signalIntercepted(state, name, signalArgs, target, (input) => record({ workflowId, runId, signalName: input.signalName, args: checkPayloads(input.args, `signal ${input.signalName}`), childWorkflowOnly: true }));
      }
      const payloads = checkPayloads(signalArgs, `signal ${name}`);
      return state.signalExternal(
        record({ workflowId, runId, signalName: name, args: payloads, childWorkflowOnly: true }),
        CancellationScope.current(),
      );
    },
  };
  return handle;
}

/** A signal to another workflow through the outbound interceptors; `fields` builds the command's fields from their input. */
function signalIntercepted(
  state: ReturnType<typeof getState>,
  name: string,
  args: unknown[],
  target: SignalWorkflowInput['target'],
  fields: (input: SignalWorkflowInput) => SignalExternalFields,
): Promise<void> {
  const scope = CancellationScope.current();
  const seq = state.reserveSeq('signalExternal');
  return interceptOutbound('signalWorkflow', record({ seq, signalName: name, args, headers: emptyHeaders(), target }), (input) =>
    state.signalExternal(fields(input), scope, input.seq),
  );
}

/** A child's memo: its fields as JSON copies (a field set to undefined is left out). */
function childMemo(memo: unknown): Record<string, Payload> {
  if (typeof memo !== 'object' || memo === null || ArrayIsArray(memo)) throw new TypeError('startChild: memo must be an object of memo fields');
  const out: Record<string, Payload> = record({});
  const names = ObjectKeys(memo);
  for (let i = 0; i < names.length; i++) {
    const value = own(memo, names[i]);
    if (value !== undefined) put(out, names[i], memoValue(`startChild: memo field ${names[i]}`, value));
  }
  return out;
}

/** Starts a child workflow and waits for its result: `startChild` then `result()`. */
export function executeChild<T extends Workflow>(workflow: string | T, options?: ChildWorkflowOptions): Promise<ResultOf<T>> {
  return PromisePrototypeThen(startChild(workflow, options), (handle: ChildWorkflowHandle<T>) => handle.result()) as unknown as Promise<ResultOf<T>>;
}

/** A handle to another workflow, by id (and run id; absent: its latest run). */
export function getExternalWorkflowHandle(workflowId: string, runId?: string): ExternalWorkflowHandle {
  getState('getExternalWorkflowHandle');
  if (typeof workflowId !== 'string' || workflowId === '') throw new TypeError('getExternalWorkflowHandle: expected a workflow id');
  optionalString('getExternalWorkflowHandle runId', runId);
  const target = (): { workflowId: string; runId?: string } => (runId === undefined ? record({ workflowId }) : record({ workflowId, runId }));
  return {
    workflowId,
    runId,
    signal: (def, ...args) => {
      const name = signalName('ExternalWorkflowHandle.signal', def);
      if (hasInterceptors()) {
        const execution = target();
        return signalIntercepted(getState('ExternalWorkflowHandle.signal'), name, args, record({ type: 'external' as const, workflowExecution: execution }), (input) =>
          record({ ...execution, signalName: input.signalName, args: checkPayloads(input.args, `signal ${input.signalName}`) }),
        );
      }
      const payloads = checkPayloads(args, `signal ${name}`);
      return getState('ExternalWorkflowHandle.signal').signalExternal(
        record({ ...target(), signalName: name, args: payloads }),
        CancellationScope.current(),
      );
    },
    cancel: () => getState('ExternalWorkflowHandle.cancel').cancelExternal(target(), CancellationScope.current()),
  };
}

/** The seed-era name for getExternalWorkflowHandle. */
export const createExternalWorkflowHandle = getExternalWorkflowHandle;
