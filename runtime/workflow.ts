/**
 * The workflow author's API (inside the isolate; also importable on the host for its definitions,
 * e.g. a client importing `defineSignal` results). Follows the Temporal TypeScript SDK.
 */
import { rememberDescription } from './builtin-queries';
import { describeLogValues } from './format';
import {
  ObjectGetPrototypeOf,
  ObjectPrototype,
  ArrayIsArray,
  JSONParse,
  JSONStringify,
  MapPrototypeDelete,
  MapPrototypeSet,
  NumberIsInteger,
  ObjectKeys,
  ObjectSetPrototypeOf,
  Promise,
  PromisePrototypeThen,
  Proxy,
  TypeError,
  append,
  list,
  put,
  record,
  tryGet,
} from './primordials';
import type { Payload, QueryDefinition, RetryPolicy, ScheduleActivityCommand, SignalDefinition, UpdateDefinition } from './protocol';
import { setUpdateHandler, type UpdateHandlerOptions } from './update-api';
import { getState, type ActivityCancellation, type QueryHandler, type SignalHandler } from './internals';
import { CancellationScope } from './cancellation-scope';
import { durationToMs, optionalDurationToMs, type Duration } from './time';
import { uuid4FromRandom } from './uuid';
import { workflowInfoView, type WorkflowInfoView } from './search-attributes';
import { emptyHeaders, hasInterceptors, interceptOutbound } from './interceptors';

/** Defined in the protocol, where client code can see them too. */
export type { QueryDefinition, SignalDefinition };

export interface RetryOptions {
  initialInterval?: Duration;
  backoffCoefficient?: number;
  maximumInterval?: Duration;
  /** 0 or absent: unlimited. */
  maximumAttempts?: number;
  nonRetryableErrorTypes?: string[];
}

export interface ActivityOptions {
  taskQueue?: string;
  activityId?: string;
  scheduleToCloseTimeout?: Duration;
  startToCloseTimeout?: Duration;
  scheduleToStartTimeout?: Duration;
  heartbeatTimeout?: Duration;
  retry?: RetryOptions;
  /** What cancelling the activity's scope does (default TRY_CANCEL). */
  cancellationType?: ActivityCancellationType;
  allowEagerDispatch?: boolean;
  versioningIntent?: unknown;
  summary?: string;
}

const ACTIVITY_OPTION_KEYS = [
  'taskQueue',
  'activityId',
  'scheduleToCloseTimeout',
  'startToCloseTimeout',
  'scheduleToStartTimeout',
  'heartbeatTimeout',
  'retry',
  'cancellationType',
  'allowEagerDispatch',
  'versioningIntent',
  'summary',
];

type ActivityFunction = (...args: any[]) => Promise<any>;
/** Every activity of `A` as a function returning a promise of its result. */
export type ActivityInterfaceFor<A> = {
  [K in keyof A]: A[K] extends (...args: infer P) => infer R ? ActivityFunctionWithOptions<(...args: P) => Promise<Awaited<R>>> : never;
};
/** An activity of a proxy: call it, or call `executeWithOptions` to override the proxy's options for one call (merged over them, nested objects too). */
export type ActivityFunctionWithOptions<T extends ActivityFunction> = T & {
  executeWithOptions(options: ActivityOptions, args: Parameters<T>): Promise<Awaited<ReturnType<T>>>;
};

/** `override` over `base`, plain objects merged key by key (Temporal's merge of activity options). */
export function mergeOptions<T extends object>(base: T, override: object): T {
  if (typeof override !== 'object' || override === null) throw new TypeError('executeWithOptions: expected an options object');
  const out: Record<string, unknown> = record({ ...(base as Record<string, unknown>) });
  const keys = ObjectKeys(override);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const o = (override as Record<string, unknown>)[k];
    const b = out[k];
    const plain = (v: unknown): v is object => typeof v === 'object' && v !== null && !ArrayIsArray(v) && ObjectGetPrototypeOf(v) === ObjectPrototype;
    put(out, k, plain(b) && plain(o) ? mergeOptions(b, o) : o);
  }
  return out as T;
}

/** Adds `executeWithOptions` to one proxied activity function. */
export function withExecuteWithOptions<O extends object>(fn: (...args: unknown[]) => Promise<unknown>, options: O, proxy: (options: O) => Record<string, (...args: unknown[]) => Promise<unknown>>, activityType: string) {
  put(fn, 'executeWithOptions', (override: object, args: unknown[]) => {
    if (!ArrayIsArray(args)) throw new TypeError(`${activityType}.executeWithOptions: expected the arguments as an array`);
    return proxy(mergeOptions(options, override))[activityType]!(...args);
  });
  return fn;
}

/**
 * Temporal's activity cancellation types: what cancelling an activity's scope does.
 * - TRY_CANCEL (default): ask the activity to cancel, and reject at once.
 * - WAIT_CANCELLATION_COMPLETED: ask, and wait for its outcome (cancelled, or completed or failed).
 * - ABANDON: ask nothing, and reject at once.
 */
export const ActivityCancellationType = {
  TRY_CANCEL: 'TRY_CANCEL',
  WAIT_CANCELLATION_COMPLETED: 'WAIT_CANCELLATION_COMPLETED',
  ABANDON: 'ABANDON',
} as const;
export type ActivityCancellationType = (typeof ActivityCancellationType)[keyof typeof ActivityCancellationType];

/** `value` if it is one of `allowed`'s values; otherwise a TypeError naming them. */
export function enumOption<T extends string>(where: string, value: unknown, allowed: readonly T[]): T {
  for (let i = 0; i < allowed.length; i++) if (allowed[i] === value) return value as T;
  let expected = '';
  for (let i = 0; i < allowed.length; i++) expected += (i === 0 ? '' : ', ') + allowed[i];
  throw new TypeError(`${where}: expected one of ${expected}, got ${typeof value === 'string' ? JSON_QUOTE(value) : typeof value}`);
}
function JSON_QUOTE(value: string): string {
  return JSONStringify(value) ?? '';
}

export function checkKeys(where: string, options: object, known: string[]): void {
  const keys = ObjectKeys(options);
  for (let i = 0; i < keys.length; i++) {
    let found = false;
    for (let j = 0; j < known.length && !found; j++) found = known[j] === keys[i];
    if (!found) {
      let expected = '';
      for (let j = 0; j < known.length; j++) expected += (j === 0 ? '' : ', ') + known[j];
      throw new TypeError(`${where}: unknown option "${keys[i]}"; expected one of: ${expected}`);
    }
  }
}

export function retryPolicy(retry: RetryOptions | undefined, where = 'proxyActivities retry'): RetryPolicy | undefined {
  if (retry === undefined) return undefined;
  checkKeys(where, retry, ['initialInterval', 'backoffCoefficient', 'maximumInterval', 'maximumAttempts', 'nonRetryableErrorTypes']);
  const policy: RetryPolicy = record({});
  const initial = optionalDurationToMs(retry.initialInterval, 'retry.initialInterval');
  const maximum = optionalDurationToMs(retry.maximumInterval, 'retry.maximumInterval');
  if (initial !== undefined) put(policy, 'initialIntervalMs', initial);
  if (maximum !== undefined) put(policy, 'maximumIntervalMs', maximum);
  if (retry.backoffCoefficient !== undefined) {
    if (typeof retry.backoffCoefficient !== 'number' || !(retry.backoffCoefficient >= 1)) {
      throw new TypeError(`retry.backoffCoefficient: expected a number ≥ 1, got ${retry.backoffCoefficient}`);
    }
    put(policy, 'backoffCoefficient', retry.backoffCoefficient);
  }
  if (retry.maximumAttempts !== undefined) {
    if (!NumberIsInteger(retry.maximumAttempts) || retry.maximumAttempts < 0) {
      throw new TypeError(`retry.maximumAttempts: expected a non-negative integer, got ${retry.maximumAttempts}`);
    }
    put(policy, 'maximumAttempts', retry.maximumAttempts);
  }
  const types = retry.nonRetryableErrorTypes;
  if (types !== undefined) {
    if (!ArrayIsArray(types)) throw new TypeError('retry.nonRetryableErrorTypes: expected an array of error type names');
    const copy = list<string>();
    for (let i = 0; i < types.length; i++) {
      if (typeof types[i] !== 'string') throw new TypeError(`retry.nonRetryableErrorTypes: expected error type names (strings), got ${typeof types[i]} at index ${i}`);
      append(copy, types[i]);
    }
    put(policy, 'nonRetryableErrorTypes', copy);
  }
  return policy;
}

/** JSON.parse reviver: every object and array of the copy has no prototype (see `record`). */
function withoutPrototypes(_key: string, value: unknown): unknown {
  'use strict';
  if (typeof value === 'object' && value !== null) ObjectSetPrototypeOf(value, null);
  return value;
}

/**
 * The arguments as payloads: a JSON copy, taken now. The copy has no prototypes, so that when the
 * command is serialized for the host nothing workflow code defines later (an
 * `Object.prototype.toJSON`) changes it.
 */
export function checkPayloads(args: unknown[], where: string): Payload[] {
  const values = list<unknown>();
  // Strings, booleans, null and finite numbers are their own JSON copies (-0 reads back as 0):
  // arguments that are all such need no round trip through JSON text.
  let plain = true;
  for (let i = 0; i < args.length; i++) {
    const v = args[i];
    if (typeof v === 'number') {
      if (v - v !== 0) plain = false; // NaN and ±Infinity: JSON writes null
      append(values, v === 0 ? 0 : v);
    } else {
      if (typeof v !== 'string' && typeof v !== 'boolean' && v !== null) plain = false;
      append(values, v);
    }
  }
  if (plain) return values as Payload[];
  let text: string;
  try {
    text = JSONStringify(values);
  } catch (error) {
    const reason = typeof error === 'object' && error !== null ? tryGet(error, 'message') : undefined;
    throw new TypeError(`${where}: arguments must be JSON-serializable (${typeof reason === 'string' ? reason : 'the value cannot be converted'})`);
  }
  return JSONParse(text, withoutPrototypes) as Payload[];
}

/**
 * A proxy whose every property schedules the activity of that name. One of startToCloseTimeout or
 * scheduleToCloseTimeout is required, as in Temporal.
 */
export function proxyActivities<A = Record<string, ActivityFunction>>(options: ActivityOptions): ActivityInterfaceFor<A> {
  if (typeof options !== 'object' || options === null) throw new TypeError('proxyActivities: expected an options object');
  checkKeys('proxyActivities', options, ACTIVITY_OPTION_KEYS);
  if (options.startToCloseTimeout === undefined && options.scheduleToCloseTimeout === undefined) {
    throw new TypeError('proxyActivities: one of startToCloseTimeout or scheduleToCloseTimeout is required');
  }
  // Only the fields that were set, so the commands (and history) carry nothing else.
  const fields = record({}) as Omit<ScheduleActivityCommand, 'type' | 'seq' | 'activityId' | 'activityType' | 'args'>;
  const set = (key: string, value: unknown) => value !== undefined && put(fields, key, value);
  set('taskQueue', options.taskQueue);
  set('scheduleToCloseTimeoutMs', optionalDurationToMs(options.scheduleToCloseTimeout, 'scheduleToCloseTimeout'));
  set('startToCloseTimeoutMs', optionalDurationToMs(options.startToCloseTimeout, 'startToCloseTimeout'));
  set('scheduleToStartTimeoutMs', optionalDurationToMs(options.scheduleToStartTimeout, 'scheduleToStartTimeout'));
  set('heartbeatTimeoutMs', optionalDurationToMs(options.heartbeatTimeout, 'heartbeatTimeout'));
  set('retryPolicy', retryPolicy(options.retry));
  const cancellation: ActivityCancellation =
    options.cancellationType === undefined
      ? 'TRY_CANCEL'
      : enumOption('proxyActivities cancellationType', options.cancellationType, ['TRY_CANCEL', 'WAIT_CANCELLATION_COMPLETED', 'ABANDON'] as const);
  const activityId = options.activityId;
  // The handler has no prototype: a trap defined on Object.prototype must not join it.
  const handler: ProxyHandler<ActivityInterfaceFor<A>> = record({
    get(_: unknown, activityType: string | symbol) {
      if (typeof activityType !== 'string') return undefined;
      return withExecuteWithOptions((...args: unknown[]) => {
        const state = getState('an activity');
        if (!hasInterceptors()) {
          return state.scheduleActivity(activityId, { activityType, args: checkPayloads(args, `activity ${activityType}`), ...fields }, cancellation, CancellationScope.current());
        }
        // Temporal's order: the call is numbered now; the interceptors may delay or change it.
        const scope = CancellationScope.current();
        const seq = state.reserveSeq('activity');
        return interceptOutbound('scheduleActivity', record({ activityType, args, options: { ...options }, headers: emptyHeaders(), seq }), (input) =>
          state.scheduleActivity(
            activityId,
            { activityType: input.activityType, args: checkPayloads(input.args, `activity ${input.activityType}`), ...fields },
            cancellation,
            scope,
            input.seq,
          ),
        );
      }, options, proxyActivities as never, activityType);
    },
  });
  return new Proxy({} as ActivityInterfaceFor<A>, handler);
}

/** The seed-era name for proxyActivities. */
export const createActivityHandle = proxyActivities;

/** A durable timer: resolves after `duration` of workflow time (ms or a string such as '30 minutes'). */
export function sleep(duration: Duration, options?: { readonly summary?: string }): Promise<void> {
  const ms = durationToMs(duration, 'sleep');
  if (options !== undefined) {
    // Temporal's TimerOptions: a summary for UIs, which deja does not record.
    if (typeof options !== 'object' || options === null) throw new TypeError('sleep: expected options { summary? }');
    checkKeys('sleep', options, ['summary']);
    if (options.summary !== undefined && typeof options.summary !== 'string') throw new TypeError('sleep: expected summary to be a string');
  }
  const state = getState('sleep');
  if (!hasInterceptors()) return state.sleep(ms, CancellationScope.current());
  const scope = CancellationScope.current();
  const seq = state.reserveSeq('timer');
  return interceptOutbound('startTimer', record({ durationMs: ms, seq }), (input) => {
    const durationMs = durationToMs(input.durationMs, 'startTimer interceptor durationMs');
    return state.sleep(durationMs, scope, input.seq);
  });
}

/**
 * Resolves once `fn` returns true. With a timeout it resolves true when `fn` held, false when the
 * timeout fired first; the timer is cancelled when the condition wins.
 */
export function condition(fn: () => boolean, timeout: Duration): Promise<boolean>;
export function condition(fn: () => boolean): Promise<void>;
export function condition(fn: () => boolean, timeout?: Duration): Promise<void | boolean> {
  if (typeof fn !== 'function') throw new TypeError('condition: expected a function returning a boolean');
  const state = getState('condition');
  const scope = CancellationScope.current();
  if (timeout === undefined) return state.condition(fn, scope).promise;
  const ms = durationToMs(timeout, 'condition timeout');
  const cond = state.condition(fn, scope);
  const timer = state.startTimer(ms, undefined, scope);
  // Promise.race written out with the captured `then` (workflow code may have replaced
  // Promise.race, Promise.resolve or Promise.prototype.then), in the same microtask turns.
  const held = PromisePrototypeThen(cond.promise, () => true);
  const timedOut = PromisePrototypeThen(timer.promise, () => false);
  const race = new Promise<boolean>((resolve, reject) => {
    PromisePrototypeThen(held, resolve, reject);
    PromisePrototypeThen(timedOut, resolve, reject);
  });
  return PromisePrototypeThen(race, (inTime: boolean) => {
    if (inTime) state.cancelTimer(timer.seq);
    else state.dropCondition(cond.seq);
    return inTime;
  });
}


export function defineSignal<Args extends any[] = [], Name extends string = string>(name: Name): SignalDefinition<Args, Name> {
  if (typeof name !== 'string' || name === '') throw new TypeError('defineSignal: expected a non-empty name');
  return { type: 'signal', name };
}

export function defineQuery<Ret, Args extends any[] = [], Name extends string = string>(name: Name): QueryDefinition<Ret, Args, Name> {
  if (typeof name !== 'string' || name === '') throw new TypeError('defineQuery: expected a non-empty name');
  return { type: 'query', name };
}

/**
 * Sets (or with undefined, removes) the handler of a signal, query or update. Signals and updates
 * that arrived before their handler was set are delivered now, in arrival order. Query handlers
 * must be synchronous. An update's options may give a validator (see update-api.ts).
 */
export function setHandler<Args extends any[]>(def: SignalDefinition<Args>, handler: ((...args: Args) => void | Promise<void>) | undefined, options?: { description?: string }): void;
export function setHandler<Ret, Args extends any[]>(def: QueryDefinition<Ret, Args>, handler: ((...args: Args) => Ret) | undefined, options?: { description?: string }): void;
export function setHandler<Ret, Args extends any[]>(def: UpdateDefinition<Ret, Args>, handler: ((...args: Args) => Ret | Promise<Ret>) | undefined, options?: UpdateHandlerOptions<Args>): void;
export function setHandler(
  def: SignalDefinition<any[]> | QueryDefinition<unknown, any[]> | UpdateDefinition<unknown, any[]>,
  handler: ((...args: any[]) => unknown) | undefined,
  options?: unknown,
): void {
  const state = getState('setHandler');
  if (typeof def !== 'object' || def === null || (def.type !== 'signal' && def.type !== 'query' && def.type !== 'update')) {
    throw new TypeError('setHandler: expected a definition from defineSignal, defineQuery or defineUpdate');
  }
  if (handler !== undefined && typeof handler !== 'function') throw new TypeError('setHandler: expected a function or undefined');
  if (def.type === 'update') return setUpdateHandler(def.name, handler, options);
  if (options !== undefined) {
    if (typeof options !== 'object' || options === null) throw new TypeError('setHandler: expected options { description? }');
    checkKeys('setHandler', options, ['description']);
  }
  const map: Map<string, SignalHandler | QueryHandler> = def.type === 'signal' ? state.signalHandlers : state.queryHandlers;
  if (handler === undefined) MapPrototypeDelete(map, def.name);
  else MapPrototypeSet(map, def.name, handler);
  rememberDescription(state, def.type, def.name, handler === undefined ? undefined : (options as { description?: string } | undefined)?.description);
  if (def.type === 'signal') state.flushBufferedSignals(def.name);
}

/** Information about the running workflow. */
export function workflowInfo(): WorkflowInfoView {
  return workflowInfoView(getState('workflowInfo').info);
}

/** A version-4 UUID from the workflow's seeded PRNG: the same on every replay. */
export function uuid4(): string {
  return uuid4FromRandom(getState('uuid4').random);
}

/** Whether the current activation replays history (side effects such as logs are then skipped). */
export function isReplaying(): boolean {
  return getState('isReplaying').isReplaying;
}

/**
 * Log lines, buffered and returned with the activation (printed by the worker when not replaying).
 * Temporal's optional attributes follow the message as console.log writes them.
 */
export const log = {
  debug: (message: string, attributes?: Record<string, unknown>) => logLine('debug', message, attributes),
  info: (message: string, attributes?: Record<string, unknown>) => logLine('info', message, attributes),
  warn: (message: string, attributes?: Record<string, unknown>) => logLine('warn', message, attributes),
  error: (message: string, attributes?: Record<string, unknown>) => logLine('error', message, attributes),
};

/**
 * One `log.*` line. Its attributes follow the message as console.log writes them. With outbound
 * interceptors installed, their `getLogAttributes` see the line's own attributes, and what they
 * return is written after the message instead.
 */
function logLine(level: 'debug' | 'info' | 'warn' | 'error', message: string, attributes: Record<string, unknown> | undefined): void {
  const state = getState('log');
  if (!hasInterceptors() || typeof message !== 'string') return state.log(level, withAttributes(message, attributes));
  const given: Record<string, unknown> = record({});
  if (typeof attributes === 'object' && attributes !== null) {
    const keys = ObjectKeys(attributes);
    for (let i = 0; i < keys.length; i++) put(given, keys[i], attributes[keys[i]]);
  }
  const all = interceptOutbound('getLogAttributes', given, (input) => input);
  const shown = typeof all === 'object' && all !== null && ObjectKeys(all).length > 0 ? (all as Record<string, unknown>) : undefined;
  state.log(level, withAttributes(message, shown));
}

function withAttributes(message: string, attributes: Record<string, unknown> | undefined): unknown {
  return attributes === undefined ? message : describeLogValues([message, attributes]);
}
