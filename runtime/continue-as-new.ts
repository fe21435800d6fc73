/**
 * Continue-as-new (inside the isolate): `continueAsNew(...args)` and `makeContinueAsNewFunc(options)`
 * throw a `ContinueAsNew` error that carries the command; when it escapes the workflow's main
 * function or a signal handler, internals.ts closes the run with that `continueAsNew` command
 * (`continueAsNewCommandOf`). The new run keeps the workflow id; the service fills in what the
 * command leaves out from the closing run (task queue, timeouts, memo, search attributes, retry).
 *
 * Follows Temporal's `ContinueAsNew` class (its `command` field) and the options of
 * `makeContinueAsNewFunc`. What crosses to the host is built from prototype-less objects.
 */
import {
  Error,
  JSONParse,
  JSONStringify,
  ObjectDefineProperty,
  ObjectSetPrototypeOf,
  Promise,
  ArrayIsArray,
  SymbolHasInstance,
  TypeError,
  dataProperty,
  isObject,
  own,
  put,
  record,
  tryGet,
} from './primordials';
import type { ContinueAsNewCommand, Payload } from './protocol';
import { brandInstance, fixClassName, hasBrand } from './errors';
import { getState } from './internals';
import { emptyHeaders, hasInterceptors, interceptOutbound } from './interceptors';
import { durationToMs, type Duration } from './time';
import { checkKeys, checkPayloads } from './workflow';

const PREFIX = 'deja.continueAsNew';

/**
 * Thrown by `continueAsNew`: not a failure. Escaping the workflow (or a signal handler), it closes
 * the run as continued-as-new, and the service starts the next run with `command`. Workflow code
 * that catches it must rethrow it.
 */
export class ContinueAsNew extends Error {
  readonly command: ContinueAsNewCommand;
  constructor(command: ContinueAsNewCommand) {
    super('Workflow continued as new');
    this.command = command;
    brandInstance(this, new.target, ContinueAsNew, PREFIX);
  }
  override get name(): string {
    return 'ContinueAsNew';
  }
  static override [SymbolHasInstance](value: unknown): boolean {
    return hasBrand(this, value, PREFIX);
  }
}
fixClassName(ContinueAsNew, 'ContinueAsNew');

/** Temporal's `ContinueAsNewOptions`: what the next run changes; absent fields keep the current run's. */
export interface ContinueAsNewOptions {
  workflowType?: string;
  taskQueue?: string;
  workflowRunTimeout?: Duration;
  workflowTaskTimeout?: Duration;
  memo?: Record<string, unknown>;
  /** Passed on as given. */
  searchAttributes?: Record<string, unknown>;
}

const OPTION_KEYS = ['workflowType', 'taskQueue', 'workflowRunTimeout', 'workflowTaskTimeout', 'memo', 'searchAttributes'];

type Workflow = (...args: any[]) => Promise<unknown>;

/** A JSON copy with no prototypes (see `record`), or a TypeError naming `where`. */
function jsonCopy(value: unknown, where: string): unknown {
  let text: string | undefined;
  try {
    text = JSONStringify(value);
  } catch {
    text = undefined;
  }
  if (typeof text !== 'string') throw new TypeError(`${where}: expected a JSON-serializable object`);
  return JSONParse(text, (_key, v) => {
    if (typeof v === 'object' && v !== null) ObjectSetPrototypeOf(v, null);
    return v;
  });
}

function objectOption(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || ArrayIsArray(value)) throw new TypeError(`${where}: expected an object`);
  return jsonCopy(value, where) as Record<string, unknown>;
}

function nameOption(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${where}: expected a non-empty string`);
  return value;
}

/**
 * A function that continues the workflow as new with `options`: calling it returns a promise that
 * rejects with `ContinueAsNew` (await it, or return it, so that the error escapes). The options are
 * checked here: an unknown one is a TypeError naming the known ones.
 */
export function makeContinueAsNewFunc<F extends Workflow>(options?: ContinueAsNewOptions): (...args: Parameters<F>) => Promise<never> {
  const state = getState('makeContinueAsNewFunc');
  const opts: ContinueAsNewOptions = options ?? record({});
  if (typeof opts !== 'object' || opts === null) throw new TypeError('makeContinueAsNewFunc: expected an options object');
  checkKeys('makeContinueAsNewFunc', opts, OPTION_KEYS);
  const info = state.info;
  const workflowType = opts.workflowType === undefined ? info.workflowType : nameOption(opts.workflowType, 'makeContinueAsNewFunc workflowType');
  const taskQueue = opts.taskQueue === undefined ? undefined : nameOption(opts.taskQueue, 'makeContinueAsNewFunc taskQueue');
  const runTimeoutMs = opts.workflowRunTimeout === undefined ? undefined : durationToMs(opts.workflowRunTimeout, 'makeContinueAsNewFunc workflowRunTimeout');
  const taskTimeoutMs = opts.workflowTaskTimeout === undefined ? undefined : durationToMs(opts.workflowTaskTimeout, 'makeContinueAsNewFunc workflowTaskTimeout');
  const memo = opts.memo === undefined ? undefined : objectOption(opts.memo, 'makeContinueAsNewFunc memo');
  const searchAttributes = opts.searchAttributes === undefined ? undefined : objectOption(opts.searchAttributes, 'makeContinueAsNewFunc searchAttributes');
  const continued = (type: string, args: unknown[]): Promise<never> => {
    const command: ContinueAsNewCommand = record({ type: 'continueAsNew' as const, workflowType: type, args: checkPayloads(args, `continueAsNew ${type}`) });
    // The run's own values are the service's defaults; only what the options give is sent.
    if (taskQueue !== undefined) put(command, 'taskQueue', taskQueue);
    if (runTimeoutMs !== undefined) put(command, 'workflowRunTimeoutMs', runTimeoutMs);
    if (taskTimeoutMs !== undefined) put(command, 'workflowTaskTimeoutMs', taskTimeoutMs);
    if (memo !== undefined) put(command, 'memo', memo as Record<string, Payload>);
    if (searchAttributes !== undefined) put(command, 'searchAttributes', searchAttributes);
    return new Promise<never>((_, reject) => reject(new ContinueAsNew(command)));
  };
  return (...args: Parameters<F>): Promise<never> => {
    getState('continueAsNew');
    if (!hasInterceptors()) return continued(workflowType, args);
    const input = record({ args, headers: emptyHeaders(), options: { ...opts, workflowType } });
    return interceptOutbound('continueAsNew', input, (given) => continued(nameOption(given.options.workflowType, 'continueAsNew interceptor workflowType'), given.args));
  };
}

/**
 * Continues the workflow as a new run of the same workflow type, with these arguments: the promise
 * rejects with `ContinueAsNew`, which must escape the workflow function (`await continueAsNew(…)`).
 */
export function continueAsNew<F extends Workflow>(...args: Parameters<F>): Promise<never> {
  return makeContinueAsNewFunc<F>()(...args);
}

/** Whether `error` is a ContinueAsNew (of any copy of deja). */
export function isContinueAsNew(error: unknown): boolean {
  return isObject(error) && hasBrand(ContinueAsNew, error, PREFIX);
}

/**
 * The command a ContinueAsNew carries, as a prototype-less copy ready to cross to the host. A
 * ContinueAsNew that workflow code built with a command that is not an object gives a TypeError
 * (a bug: it fails the task). The host checks the fields.
 */
export function continueAsNewCommandOf(error: unknown): ContinueAsNewCommand {
  const command = tryGet(error as object, 'command');
  if (!isObject(command)) throw new TypeError('ContinueAsNew: expected its command to be an object (use continueAsNew or makeContinueAsNewFunc)');
  const copy = jsonCopy(command, 'ContinueAsNew command') as ContinueAsNewCommand;
  if (own(copy, 'type') !== 'continueAsNew') put(copy, 'type', 'continueAsNew');
  return copy;
}
