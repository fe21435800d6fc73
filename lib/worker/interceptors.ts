/**
 * The worker's `interceptors` option (host side), Temporal 1.24's WorkerInterceptors:
 * `workflowModules` are bundled with the workflows and run in the isolate
 * (runtime/interceptors.ts); `activity` (and the older `activityInbound`) factories are called
 * for each activity attempt, inside its Context, and their inbound `execute` and outbound
 * `getLogAttributes` run here, around the activity function. The first interceptor in a list is
 * the outermost, as Temporal composes them.
 *
 * With none given, `runActivityFunction` calls the function directly.
 */
import { Context, type LogLevel, type LogMetadata, type Logger } from '../activity';
import { InvalidArgumentError, checkKnownKeys, describe } from '../errors';

/** Temporal's header map; always empty in deja (it carries no headers). */
export type Headers = Record<string, unknown>;
type AnyFunc = (...args: any[]) => any;
type OmitLast<T> = T extends [...infer REST, any] ? REST : never;
/** The `next` of an interceptor method: the same function without its last parameter. */
export type Next<IF, FN extends keyof IF> = Required<IF>[FN] extends AnyFunc ? (...args: OmitLast<Parameters<Required<IF>[FN]>>) => ReturnType<Required<IF>[FN]> : never;

/**
 * `method` of `interceptors` composed around `next`, the first interceptor outermost (the host's
 * twin of runtime/interceptors.ts, which host code may not import).
 */
export function composeInterceptors<I, M extends keyof I>(interceptors: I[], method: M, next: Next<I, M>): Next<I, M> {
  let composed: AnyFunc = next as AnyFunc;
  for (let i = interceptors.length - 1; i >= 0; i--) {
    const interceptor = interceptors[i]!;
    const fn = interceptor[method] as unknown;
    if (fn === undefined) continue;
    if (typeof fn !== 'function') throw new InvalidArgumentError(`activity interceptor ${i}: expected ${String(method)} to be a function, got ${describe(fn)}`);
    const inner = composed;
    composed = (input: unknown) => (fn as AnyFunc).call(interceptor, input, inner);
  }
  return composed as Next<I, M>;
}

export interface ActivityExecuteInput {
  readonly args: unknown[];
  readonly headers: Headers;
}

export interface ActivityInboundCallsInterceptor {
  /** Called around the activity function: returns (or rejects with) the activity's outcome. */
  execute?: (input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>) => Promise<unknown>;
}

export interface ActivityOutboundCallsInterceptor {
  /** Called on each log line of the activity's logger: the attributes it returns go with the line. */
  getLogAttributes?: (input: Record<string, unknown>, next: Next<ActivityOutboundCallsInterceptor, 'getLogAttributes'>) => Record<string, unknown>;
}

export interface ActivityInterceptors {
  inbound?: ActivityInboundCallsInterceptor;
  outbound?: ActivityOutboundCallsInterceptor;
}

export type ActivityInterceptorsFactory = (ctx: Context) => ActivityInterceptors;
/** Temporal's older form: a factory of one inbound interceptor. */
export type ActivityInboundCallsInterceptorFactory = (ctx: Context) => ActivityInboundCallsInterceptor;

export interface WorkerInterceptors {
  /** Workflow interceptor modules: each exports `interceptors`, a WorkflowInterceptorsFactory. */
  workflowModules?: string[];
  activity?: ActivityInterceptorsFactory[];
  /** @deprecated Temporal's older form of `activity`. */
  activityInbound?: ActivityInboundCallsInterceptorFactory[];
}

/** The checked option: the modules to bundle, and every activity factory in order. */
export interface CheckedInterceptors {
  workflowModules: string[];
  activity: ActivityInterceptorsFactory[];
}

const KEYS = ['workflowModules', 'activity', 'activityInbound'] as const;

/** Checks the `interceptors` option of `where`; undefined gives none. */
export function checkWorkerInterceptors(where: string, value: unknown): CheckedInterceptors {
  if (value === undefined) return { workflowModules: [], activity: [] };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`${where}: expected interceptors to be an object { workflowModules?, activity?, activityInbound? }, got ${describe(value)}`);
  }
  checkKnownKeys(`${where} interceptors`, value, KEYS);
  const given = value as WorkerInterceptors;
  const list = <T>(name: string, items: unknown, what: string): T[] => {
    if (items === undefined) return [];
    if (!Array.isArray(items)) throw new InvalidArgumentError(`${where}: expected interceptors.${name} to be an array of ${what}, got ${describe(items)}`);
    items.forEach((item, i) => {
      const ok = what === 'module paths' ? typeof item === 'string' && item !== '' : typeof item === 'function';
      if (!ok) throw new InvalidArgumentError(`${where}: expected interceptors.${name}[${i}] to be one of ${what}, got ${describe(item)}`);
    });
    return items as T[];
  };
  const workflowModules = list<string>('workflowModules', given.workflowModules, 'module paths');
  const activity = list<ActivityInterceptorsFactory>('activity', given.activity, 'factories (ctx) => ({ inbound?, outbound? })');
  const inbound = list<ActivityInboundCallsInterceptorFactory>('activityInbound', given.activityInbound, 'factories (ctx) => inbound interceptor');
  return { workflowModules, activity: [...activity, ...inbound.map((factory) => (ctx: Context) => ({ inbound: factory(ctx) }))] };
}

const LEVELS: Record<string, LogLevel> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' };

/**
 * Calls `fn(...args)` inside `context`, through the activity interceptors that `factories` make
 * for this attempt. A factory that throws or returns something else than an object fails the
 * attempt with an error naming it.
 */
export function runActivityFunction(
  context: Context,
  factories: ActivityInterceptorsFactory[],
  fn: (...args: unknown[]) => unknown,
  args: unknown[],
): Promise<unknown> | unknown {
  if (factories.length === 0) return Context.run(context, () => fn(...args));
  return Context.run(context, () => {
    const inbound: ActivityInboundCallsInterceptor[] = [];
    const outbound: ActivityOutboundCallsInterceptor[] = [];
    factories.forEach((factory, i) => {
      const made = factory(context) as unknown;
      if (typeof made !== 'object' || made === null) {
        throw new InvalidArgumentError(`activity interceptor factory ${i}: expected it to return { inbound?, outbound? }, got ${describe(made)}`);
      }
      const { inbound: inb, outbound: out } = made as ActivityInterceptors;
      if (inb !== undefined) inbound.push(inb);
      if (out !== undefined) outbound.push(out);
    });
    if (outbound.some((o) => o.getLogAttributes !== undefined)) withLogAttributes(context, outbound);
    const execute = composeInterceptors(inbound, 'execute', async (input: ActivityExecuteInput) => fn(...input.args));
    return execute({ args, headers: {} });
  });
}

/** Replaces the context's logger by one that asks the outbound interceptors for attributes first. */
function withLogAttributes(context: Context, outbound: ActivityOutboundCallsInterceptor[]): void {
  const original = context.log;
  const attributes = composeInterceptors(outbound, 'getLogAttributes', (input: Record<string, unknown>) => input);
  const write = (level: LogLevel, message: string, meta?: LogMetadata) => original.log(level, message, attributes({ ...(meta ?? {}) }));
  const logger = { log: write } as Logger;
  for (const [name, level] of Object.entries(LEVELS)) (logger as unknown as Record<string, unknown>)[name] = (message: string, meta?: LogMetadata) => write(level, message, meta);
  Object.defineProperty(context, 'log', { value: logger, enumerable: true });
}
