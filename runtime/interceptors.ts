/**
 * Workflow interceptors (inside the isolate), with Temporal's shapes: the interceptor modules
 * bundled with the workflows each export `interceptors`, a factory called once per execution
 * before the workflows module loads; their inbound, outbound and internals lists are concatenated
 * in module order, and each method is composed so that the first interceptor in a list is the
 * outermost (Temporal's `composeInterceptors`).
 *
 * Invariant: with no interceptor installed, `installed` stays undefined and the call sites take
 * their direct path: no input object, no composition, nothing per call.
 *
 * deja carries no headers on its commands and events: every `headers` an interceptor sees is a
 * fresh empty object, and headers an interceptor adds go nowhere.
 */
import { ArrayIsArray, Error, Promise, PromiseResolve, ReflectApply, TypeError, append, list, own } from './primordials';
import type { Payload } from './protocol';
import type { ActivityOptions } from './workflow';
import type { LocalActivityOptions } from './local-activities';
import type { ChildWorkflowOptions } from './children';
import type { ContinueAsNewOptions } from './continue-as-new';

/** Temporal's header map: header name to payload. Always empty in deja (see above). */
export type Headers = Record<string, Payload>;

type AnyFunc = (...args: any[]) => any;
type OmitLast<T> = T extends [...infer REST, any] ? REST : never;
type OmitLastParam<F extends AnyFunc> = (...args: OmitLast<Parameters<F>>) => ReturnType<F>;
/** The `next` of an interceptor method: the same function without its last parameter. */
export type Next<IF, FN extends keyof IF> = Required<IF>[FN] extends AnyFunc ? OmitLastParam<Required<IF>[FN]> : never;

export interface WorkflowExecuteInput {
  readonly args: unknown[];
  readonly headers: Headers;
}
export interface SignalInput {
  readonly signalName: string;
  readonly args: unknown[];
  readonly headers: Headers;
}
export interface QueryInput {
  readonly queryId: string;
  readonly queryName: string;
  readonly args: unknown[];
  readonly headers: Headers;
}
export interface UpdateInput {
  readonly updateId: string;
  readonly name: string;
  readonly args: unknown[];
  readonly headers: Headers;
}

export interface WorkflowInboundCallsInterceptor {
  execute?: (input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>) => Promise<unknown>;
  handleSignal?: (input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>) => Promise<void>;
  /** Accepted for Temporal's shape; deja does not call it yet (queries are answered synchronously). */
  handleQuery?: (input: QueryInput, next: Next<WorkflowInboundCallsInterceptor, 'handleQuery'>) => Promise<unknown>;
  handleUpdate?: (input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>) => Promise<unknown>;
  /** Called (synchronously) before an update is accepted, when its validator would run (not on replay). */
  validateUpdate?: (input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'validateUpdate'>) => void;
}

export interface TimerInput {
  readonly durationMs: number;
  readonly seq: number;
}
export interface ActivityInput {
  readonly activityType: string;
  readonly args: unknown[];
  readonly options: ActivityOptions;
  readonly headers: Headers;
  readonly seq: number;
}
export interface LocalActivityInput {
  readonly activityType: string;
  readonly args: unknown[];
  readonly options: LocalActivityOptions;
  readonly headers: Headers;
  readonly seq: number;
  readonly attempt: number;
  readonly originalScheduleTime?: unknown;
}
/** Child options with Temporal's defaults filled in: the workflow id is always there. */
export type ChildWorkflowOptionsWithDefaults = ChildWorkflowOptions & { workflowId: string; args: unknown[] };
export interface StartChildWorkflowExecutionInput {
  readonly workflowType: string;
  readonly options: ChildWorkflowOptionsWithDefaults;
  readonly headers: Headers;
  readonly seq: number;
}
export interface SignalWorkflowInput {
  readonly seq: number;
  readonly signalName: string;
  readonly args: unknown[];
  readonly headers: Headers;
  readonly target:
    | { readonly type: 'external'; readonly workflowExecution: { workflowId: string; runId?: string } }
    | { readonly type: 'child'; readonly childWorkflowId: string };
}
export type ContinueAsNewInputOptions = ContinueAsNewOptions & { workflowType: string };
export interface ContinueAsNewInput {
  readonly args: unknown[];
  readonly headers: Headers;
  readonly options: ContinueAsNewInputOptions;
}
export type GetLogAttributesInput = Record<string, unknown>;

export interface WorkflowOutboundCallsInterceptor {
  startTimer?: (input: TimerInput, next: Next<WorkflowOutboundCallsInterceptor, 'startTimer'>) => Promise<void>;
  scheduleActivity?: (input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>) => Promise<unknown>;
  scheduleLocalActivity?: (input: LocalActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>) => Promise<unknown>;
  startChildWorkflowExecution?: (
    input: StartChildWorkflowExecutionInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'startChildWorkflowExecution'>,
  ) => Promise<[Promise<string>, Promise<unknown>]>;
  signalWorkflow?: (input: SignalWorkflowInput, next: Next<WorkflowOutboundCallsInterceptor, 'signalWorkflow'>) => Promise<void>;
  continueAsNew?: (input: ContinueAsNewInput, next: Next<WorkflowOutboundCallsInterceptor, 'continueAsNew'>) => Promise<never>;
  /** Called on each `log.*` call: the attributes it returns are appended to the line. */
  getLogAttributes?: (input: GetLogAttributesInput, next: Next<WorkflowOutboundCallsInterceptor, 'getLogAttributes'>) => Record<string, unknown>;
}

export interface ActivateInput {
  readonly activation: unknown;
  readonly batchIndex: number;
}
export interface ConcludeActivationInput {
  readonly commands: unknown[];
}
export type ConcludeActivationOutput = ConcludeActivationInput;
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface DisposeInput {}

/**
 * Temporal's internals interceptor: its shape is accepted, but deja does not call it (its inputs
 * are Temporal's activation and command protos, which deja does not have).
 */
export interface WorkflowInternalsInterceptor {
  activate?(input: ActivateInput, next: (input: ActivateInput) => void): void;
  concludeActivation?(input: ConcludeActivationInput, next: (input: ConcludeActivationInput) => ConcludeActivationOutput): ConcludeActivationOutput;
  dispose?(input: DisposeInput, next: (input: DisposeInput) => void): void;
}

export interface WorkflowInterceptors {
  inbound?: WorkflowInboundCallsInterceptor[];
  outbound?: WorkflowOutboundCallsInterceptor[];
  internals?: WorkflowInternalsInterceptor[];
}

/** What an interceptor module exports as `interceptors`. */
export type WorkflowInterceptorsFactory = () => WorkflowInterceptors;

/**
 * Composes `method` of `interceptors` around `next`: calling the result calls the first
 * interceptor's method with a `next` that calls the second's, and so on, the last one's `next`
 * being the given function. Interceptors without the method are skipped.
 */
export function composeInterceptors<I, M extends keyof I>(interceptors: I[], method: M, next: Next<I, M>): Next<I, M> {
  let composed: AnyFunc = next as AnyFunc;
  for (let i = interceptors.length - 1; i >= 0; i--) {
    const interceptor = interceptors[i];
    const fn = interceptor[method] as unknown;
    if (fn === undefined) continue;
    if (typeof fn !== 'function') {
      throw new TypeError(`workflow interceptor ${i}: expected ${typeof method === 'string' ? method : 'a method'} to be a function, got ${typeof fn}`);
    }
    const inner = composed;
    composed = (input: unknown) => ReflectApply(fn as AnyFunc, interceptor, [input, inner]);
  }
  return composed as Next<I, M>;
}

interface Installed {
  inbound: WorkflowInboundCallsInterceptor[];
  outbound: WorkflowOutboundCallsInterceptor[];
  internals: WorkflowInternalsInterceptor[];
}

let installed: Installed | undefined;

/** Whether any interceptor is installed (the call sites' fast path). */
export function hasInterceptors(): boolean {
  return installed !== undefined;
}

function addAll<T>(where: string, into: T[], from: unknown): void {
  if (from === undefined) return;
  if (!ArrayIsArray(from)) throw new TypeError(`${where}: expected an array of interceptor objects, got ${typeof from}`);
  for (let i = 0; i < from.length; i++) {
    const item = from[i] as unknown;
    if (typeof item !== 'object' || item === null) throw new TypeError(`${where}[${i}]: expected an interceptor object, got ${item === null ? 'null' : typeof item}`);
    append(into, item as T);
  }
}

/**
 * Calls each interceptor module's `interceptors` factory, in order, and installs what they return.
 * A module without the export is skipped (as Temporal does); one whose export is not a function,
 * or whose factory throws or returns something else than an object of lists, fails the execution's
 * start with a TypeError naming the module.
 */
export function installInterceptors(modules: { name: string; exports: Record<string, unknown> }[]): void {
  const all: Installed = { inbound: list(), outbound: list(), internals: list() };
  for (let i = 0; i < modules.length; i++) {
    const { name, exports } = modules[i];
    const factory = own(exports, 'interceptors');
    if (factory === undefined) continue;
    if (typeof factory !== 'function') {
      throw new TypeError(`interceptor module ${name}: expected its "interceptors" export to be a function returning { inbound, outbound, internals }, got ${typeof factory}`);
    }
    let made: unknown;
    try {
      made = (factory as () => unknown)();
    } catch (error) {
      const reason = typeof error === 'object' && error !== null ? own(error, 'message') : undefined;
      throw new Error(`interceptor module ${name}: its interceptors() threw: ${typeof reason === 'string' ? reason : typeof error}`);
    }
    if (typeof made !== 'object' || made === null) {
      throw new TypeError(`interceptor module ${name}: its interceptors() returned ${made === null ? 'null' : typeof made}; expected { inbound?, outbound?, internals? }`);
    }
    addAll(`interceptor module ${name}: inbound`, all.inbound, own(made, 'inbound'));
    addAll(`interceptor module ${name}: outbound`, all.outbound, own(made, 'outbound'));
    addAll(`interceptor module ${name}: internals`, all.internals, own(made, 'internals'));
  }
  if (all.inbound.length + all.outbound.length + all.internals.length > 0) installed = all;
}

/** Runs `next(input)` through the installed inbound interceptors' `method`. */
export function interceptInbound<M extends keyof WorkflowInboundCallsInterceptor>(
  method: M,
  input: Parameters<Next<WorkflowInboundCallsInterceptor, M>>[0],
  next: Next<WorkflowInboundCallsInterceptor, M>,
): ReturnType<Next<WorkflowInboundCallsInterceptor, M>> {
  const chain = installed === undefined ? next : composeInterceptors(installed.inbound, method, next);
  return (chain as AnyFunc)(input);
}

/** Runs `next(input)` through the installed outbound interceptors' `method`. */
export function interceptOutbound<M extends keyof WorkflowOutboundCallsInterceptor>(
  method: M,
  input: Parameters<Next<WorkflowOutboundCallsInterceptor, M>>[0],
  next: Next<WorkflowOutboundCallsInterceptor, M>,
): ReturnType<Next<WorkflowOutboundCallsInterceptor, M>> {
  const chain = installed === undefined ? next : composeInterceptors(installed.outbound, method, next);
  return (chain as AnyFunc)(input);
}

/** A promise of `fn()`'s result; a synchronous throw becomes a rejection. */
export function asPromise<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return PromiseResolve(fn());
  } catch (error) {
    return new Promise<T>((_, reject) => reject(error));
  }
}

export function emptyHeaders(): Headers {
  return {};
}
