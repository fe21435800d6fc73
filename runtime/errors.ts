/**
 * deja's own error classes, shared by both sides: pure code with no globals, so the same classes
 * serve inside the isolate and on the host (lib/errors.ts builds on DejaError and re-exports it).
 *
 * Every class is branded: each instance carries `Symbol.for('<prefix>.<ClassName>')` for its class
 * and every deja class above it, and `instanceof` checks the brand, not the prototype. So
 * `instanceof` holds across copies of this module (one bundled into the isolate, one on the host)
 * and across copies of the library, as undici's errors do. The checks never throw, whatever the
 * value (a Proxy, a throwing getter).
 *
 * Inside the isolate, throwing one of these is a bug in the workflow, not a workflow failure: it
 * fails the workflow task (retried after the code is fixed), never the workflow.
 */
import {
  Error,
  FunctionPrototypeSymbolHasInstance,
  ObjectDefineProperty,
  ObjectGetPrototypeOf,
  ReflectHas,
  SymbolFor,
  SymbolHasInstance,
  dataProperty,
  isObject,
  tryGet,
} from './primordials';

/** The brand of the class named `name` among the classes that share `prefix`. */
function brandOf(prefix: string, name: string): symbol {
  return SymbolFor(prefix + '.' + name);
}

/**
 * Brands a new instance with its class and each class above it, up to `base` (included). Called by
 * the base constructor with `new.target`, so subclasses (deja's and the user's) need no code.
 */
export function brandInstance(instance: object, newTarget: unknown, base: unknown, prefix: string): void {
  'use strict';
  let ctor = newTarget;
  for (let depth = 0; depth < 64 && typeof ctor === 'function'; depth++) {
    const name = tryGet(ctor, 'name');
    if (typeof name === 'string' && name !== '') ObjectDefineProperty(instance, brandOf(prefix, name), dataProperty(true, false, false, false));
    if (ctor === base) return;
    try {
      ctor = ObjectGetPrototypeOf(ctor);
    } catch {
      return;
    }
  }
}

/**
 * `value instanceof ctor`, for a class branded with `prefix`: true when `value` carries the class's
 * brand (made by any copy), or has its prototype. False, never an exception, for anything else.
 */
export function hasBrand(ctor: unknown, value: unknown, prefix: string): boolean {
  'use strict';
  if (!isObject(value) || typeof ctor !== 'function') return false;
  try {
    const name = tryGet(ctor, 'name');
    if (typeof name === 'string' && name !== '' && ReflectHas(value, brandOf(prefix, name))) return true;
    return FunctionPrototypeSymbolHasInstance(ctor, value);
  } catch {
    return false;
  }
}

export type DejaErrorCode =
  | 'DEJA_INVALID_ARGUMENT'
  | 'DEJA_INVALID_HISTORY'
  | 'DEJA_BUNDLE'
  | 'DEJA_PROTOCOL_MISMATCH'
  | 'DEJA_NONDETERMINISM'
  | 'DEJA_ILLEGAL_STATE'
  | 'DEJA_WORKFLOW_TASK_FAILED'
  | 'DEJA_SANDBOX_TIMEOUT'
  | 'DEJA_SANDBOX_MEMORY'
  | 'DEJA_SANDBOX_DISPOSED'
  | 'DEJA_NOT_FOUND'
  | 'DEJA_ALREADY_STARTED'
  | 'DEJA_WORKFLOW_FAILED'
  | 'DEJA_QUERY_FAILED'
  | 'DEJA_STALE_TASK'
  /** No open activity (attempt in progress) has these ids: async completion by ids. */
  | 'DEJA_ACTIVITY_NOT_FOUND'
  /** An activity completed from outside was cancelled (AsyncCompletionClient.heartbeat). */
  | 'DEJA_ACTIVITY_CANCELLED'
  | 'DEJA_LIMIT_EXCEEDED'
  | 'DEJA_PAYLOAD_TOO_LARGE'
  | 'DEJA_WORKER_FAILED'
  /** The store cannot be opened or used: a bad path, a file that is not deja's, locked, full. */
  | 'DEJA_STORE'
  /** A broken invariant of deja's own: a bug to report. */
  | 'DEJA_INTERNAL'
  | 'DEJA_SERVICE_CLOSED'
  /** The run has no update with this id (getUpdateHandle). */
  | 'DEJA_UPDATE_NOT_FOUND'
  /** An update's outcome is a failure: its validator rejected it, its handler threw, or the run closed first. */
  | 'DEJA_UPDATE_FAILED'
  /** A schedule with this id exists already. */
  | 'DEJA_SCHEDULE_EXISTS'
  | 'DEJA_SCHEDULE_NOT_FOUND';

const PREFIX = 'deja.error';
/** Every DejaError has it, with its code as the value (older copies of deja check only this one). */
const BASE_BRAND = SymbolFor(PREFIX);

/** The base of deja's errors: a stable `code`, and an `instanceof` that works across copies. */
export class DejaError extends Error {
  readonly code: DejaErrorCode;
  constructor(code: DejaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    ObjectDefineProperty(this, BASE_BRAND, dataProperty(code, false, false, false));
    brandInstance(this, new.target, DejaError, PREFIX);
  }
  /** The class's name (deja's classes have fixed names, user subclasses their own). */
  override get name(): string {
    const ctor = tryGet(this, 'constructor');
    const name = typeof ctor === 'function' ? tryGet(ctor, 'name') : undefined;
    return typeof name === 'string' ? name : 'DejaError';
  }
  static override [SymbolHasInstance](value: unknown): boolean {
    'use strict';
    if (this !== DejaError) return hasBrand(this, value, PREFIX);
    if (!isObject(value)) return false;
    try {
      return ReflectHas(value, BASE_BRAND);
    } catch {
      return false;
    }
  }
}

/**
 * The workflow did something that cannot be replayed deterministically. Inside the isolate: a
 * nondeterministic API (WeakRef, …). On the host: the replay engine found the workflow's commands
 * differ from history; then it names the event id, the recorded event and the command emitted
 * instead.
 */
export class DeterminismViolationError extends DejaError {
  constructor(
    message: string,
    readonly eventId?: number,
    readonly recorded?: unknown,
    readonly emitted?: unknown,
  ) {
    super('DEJA_NONDETERMINISM', message);
  }
  override get name(): string {
    return 'DeterminismViolationError';
  }
}

/** A workflow API was called outside a workflow (on the host, or in a query that emits commands). */
export class IllegalStateError extends DejaError {
  constructor(message: string) {
    super('DEJA_ILLEGAL_STATE', message);
  }
  override get name(): string {
    return 'IllegalStateError';
  }
}

/**
 * Gives the class `ctor` the name `name`, with the attributes the language gives a class's name.
 * The bundler may rename classes (`DeterminismViolationError2`, `_DejaError`), and the brands are
 * made from the constructors' names. A class that has its name already is left as it is: the
 * property would be the same, and redefining it costs every workflow context a dictionary of the
 * constructor's properties.
 */
export function fixClassName(ctor: Function, name: string): void {
  if (tryGet(ctor, 'name') !== name) ObjectDefineProperty(ctor, 'name', dataProperty(name, false, false, true));
}
fixClassName(DejaError, 'DejaError');
fixClassName(DeterminismViolationError, 'DeterminismViolationError');
fixClassName(IllegalStateError, 'IllegalStateError');
