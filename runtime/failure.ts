/**
 * Failure classes and their wire form. Pure code with no globals, so the same classes serve inside
 * the isolate (workflow code) and on the host (activities, client): an `ApplicationFailure` thrown
 * by an activity is converted to a WireFailure, stored in history, and rebuilt on the other side.
 * `instanceof` checks brands registered with Symbol.for (`deja.failure` for every failure, and
 * `deja.failure.<ClassName>` for its class and each class above it), so it holds across the two
 * copies of this module (one bundled into the isolate, one loaded on the host) and across copies
 * of the library, for every class.
 *
 * Inside the isolate, `errorToFailure` reads whatever workflow code threw: a getter that throws, a
 * Proxy, an `Error.prepareStackTrace` that returns an object, a patched `Symbol.hasInstance`. It
 * never throws and always returns a well-formed WireFailure (strings where strings are expected),
 * using only the intrinsics captured in primordials.ts.
 */
import type { FailureKind, Payload, RetryState, TimeoutType, WireFailure } from './protocol';
import {
  ArrayIsArray,
  Error,
  ErrorPrototype,
  ObjectDefineProperty,
  ObjectPrototypeHasOwnProperty,
  ObjectPrototypeIsPrototypeOf,
  ReflectHas,
  String,
  SymbolFor,
  SymbolHasInstance,
  dataProperty,
  isObject,
  own,
  put,
  tryGet, ObjectSetPrototypeOf
} from './primordials';
import { brandInstance, fixClassName, hasBrand } from './errors';
import { describeValue } from './format';

const BRAND = SymbolFor('deja.failure');

/** Base of every failure that crosses a boundary. Throwing one from a workflow fails the workflow. */
export class TemporalFailure extends Error {
  readonly kind: FailureKind = 'application';
  /** Why this failure happened, as Temporal types it (declared here too for code compiled without ES2022's lib). */
  declare readonly cause?: Error;
  constructor(message?: string, options?: { cause?: unknown }) {
    super(message ?? '', options);
    ObjectDefineProperty(this, BRAND, dataProperty(true, false, false, false));
    brandInstance(this, new.target, TemporalFailure, 'deja.failure');
  }
  /** The class's name: deja's classes have fixed names (see `name` below), user subclasses their own. */
  override get name(): string {
    const ctor = this.constructor;
    return typeof ctor === 'function' && typeof ctor.name === 'string' ? ctor.name : 'TemporalFailure';
  }
  static override [SymbolHasInstance](value: unknown): boolean {
    if (!isFailure(value)) return false;
    if (this === TemporalFailure) return true;
    // Subclasses: the class's brand (any copy), its prototype, or, for a failure made by a copy of
    // deja older than the class brands, the class's name.
    return hasBrand(this, value, 'deja.failure') || tryGet(value, 'name') === this.name;
  }
}

/**
 * Temporal's failure categories: a BENIGN failure is an expected one (Temporal logs it at debug
 * level and leaves it out of error metrics). deja keeps the category on the failure object where it
 * is thrown; it is not carried through history.
 */
export const ApplicationFailureCategory = { BENIGN: 'BENIGN' } as const;
export type ApplicationFailureCategory = (typeof ApplicationFailureCategory)[keyof typeof ApplicationFailureCategory];

export interface ApplicationFailureOptions {
  message?: string;
  type?: string;
  nonRetryable?: boolean;
  details?: Payload[];
  cause?: Error;
  category?: ApplicationFailureCategory;
}

/** A failure raised by user code, with an optional error type and details. */
export class ApplicationFailure extends TemporalFailure {
  override readonly kind = 'application' as const;
  readonly type: string | undefined;
  readonly nonRetryable: boolean;
  readonly details: Payload[];
  constructor(message?: string, type?: string, nonRetryable?: boolean, details?: Payload[], cause?: Error) {
    super(message, cause === undefined ? undefined : { cause });
    this.type = type ?? undefined;
    this.nonRetryable = nonRetryable ?? false;
    this.details = details ?? [];
  }
  /** Temporal's category (`ApplicationFailureCategory.BENIGN`), as given to `create`. */
  category: ApplicationFailureCategory | undefined;
  static create(options: ApplicationFailureOptions = {}): ApplicationFailure {
    const failure = new ApplicationFailure(options.message, options.type, options.nonRetryable, options.details, options.cause);
    if (options.category !== undefined) failure.category = options.category;
    return failure;
  }
  static fromError(error: unknown, options: ApplicationFailureOptions = {}): ApplicationFailure {
    if (error instanceof ApplicationFailure) return error;
    const e = error instanceof Error ? error : new Error(String(error));
    const f = new ApplicationFailure(options.message ?? e.message, options.type ?? e.name, options.nonRetryable, options.details);
    f.stack = e.stack;
    return f;
  }
  static retryable(message?: string, type?: string, ...details: Payload[]): ApplicationFailure {
    return new ApplicationFailure(message, type ?? 'Error', false, details);
  }
  static nonRetryable(message?: string, type?: string, ...details: Payload[]): ApplicationFailure {
    return new ApplicationFailure(message, type ?? 'Error', true, details);
  }
}

/** An activity failed; `cause` says why (an ApplicationFailure, a TimeoutFailure, …). */
export class ActivityFailure extends TemporalFailure {
  override readonly kind = 'activity' as const;
  constructor(
    message: string,
    readonly activityType: string,
    readonly activityId: string | undefined,
    readonly retryState: RetryState,
    cause?: Error,
  ) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

export class TimeoutFailure extends TemporalFailure {
  override readonly kind = 'timeout' as const;
  constructor(
    message: string,
    readonly timeoutType: TimeoutType,
    readonly lastHeartbeatDetails?: Payload,
  ) {
    super(message);
  }
}

export class CancelledFailure extends TemporalFailure {
  override readonly kind = 'cancelled' as const;
  constructor(
    message: string,
    readonly details: Payload[] = [],
  ) {
    super(message);
  }
}

export class TerminatedFailure extends TemporalFailure {
  override readonly kind = 'terminated' as const;
}

export class ServerFailure extends TemporalFailure {
  override readonly kind = 'server' as const;
  constructor(
    message: string,
    readonly nonRetryable: boolean,
  ) {
    super(message);
  }
}

/** The execution of a workflow: its id and run id. */
export interface WorkflowExecution {
  workflowId: string;
  runId?: string;
}

/**
 * A child workflow failed, was cancelled, terminated or timed out; `cause` says which (the child's
 * own failure, a CancelledFailure, a TerminatedFailure or a TimeoutFailure).
 */
export class ChildWorkflowFailure extends TemporalFailure {
  override readonly kind = 'childWorkflow' as const;
  constructor(
    readonly namespace: string | undefined,
    readonly execution: WorkflowExecution,
    readonly workflowType: string,
    readonly retryState: RetryState,
    cause?: Error,
  ) {
    super('Child Workflow execution failed', cause === undefined ? undefined : { cause });
  }
  /** The child's execution (Temporal names it `execution`; both names work). */
  get workflowExecution(): WorkflowExecution {
    return this.execution;
  }
}

/**
 * A workflow could not be started because its workflow id is taken (by a running workflow, or by a
 * closed one the id-reuse policy keeps). One class for both sides, as in Temporal: `startChild`
 * rejects with it inside a workflow, and the service and client throw it on the host. It is a
 * failure (escaping a workflow, it fails the workflow) and also answers as a DejaError with the
 * stable code DEJA_ALREADY_STARTED (`instanceof DejaError`, `code`), as the service's errors do.
 */
export class WorkflowExecutionAlreadyStartedError extends TemporalFailure {
  override readonly kind = 'server' as const;
  readonly code = 'DEJA_ALREADY_STARTED' as const;
  constructor(
    message: string,
    readonly workflowId: string,
    readonly workflowType: string,
  ) {
    super(message);
    // The brands DejaError's `instanceof` checks (runtime/errors.ts): its own, and this class's.
    ObjectDefineProperty(this, SymbolFor('deja.error'), dataProperty('DEJA_ALREADY_STARTED', false, false, false));
    ObjectDefineProperty(this, SymbolFor('deja.error.WorkflowExecutionAlreadyStartedError'), dataProperty(true, false, false, false));
  }
}

// A bundler may rename a class (esbuild writes `class _ApplicationFailure` or `ApplicationFailure2`
// when names collide), and `name` is read from the constructor: fix each class's name.
const FAILURE_CLASSES: [Function, string][] = [
  [TemporalFailure, 'TemporalFailure'],
  [ApplicationFailure, 'ApplicationFailure'],
  [ActivityFailure, 'ActivityFailure'],
  [TimeoutFailure, 'TimeoutFailure'],
  [CancelledFailure, 'CancelledFailure'],
  [TerminatedFailure, 'TerminatedFailure'],
  [ServerFailure, 'ServerFailure'],
  [ChildWorkflowFailure, 'ChildWorkflowFailure'],
  [WorkflowExecutionAlreadyStartedError, 'WorkflowExecutionAlreadyStartedError'],
];
for (let i = 0; i < FAILURE_CLASSES.length; i++) {
  fixClassName(FAILURE_CLASSES[i][0], FAILURE_CLASSES[i][1]);
}

/** Whether `value` carries the failure brand (reading it may run a Proxy trap: errors count as no). */
function isFailure(value: unknown): value is TemporalFailure {
  'use strict';
  if (!isObject(value)) return false;
  try {
    return ReflectHas(value, BRAND);
  } catch {
    return false;
  }
}

/** True for an error that, thrown from workflow code, fails the workflow rather than the task. */
export function isTemporalFailure(error: unknown): error is TemporalFailure {
  return isFailure(error);
}

/** Whether `value` has Error.prototype on its prototype chain (`instanceof Error` without Symbol.hasInstance). */
function isError(value: unknown): boolean {
  'use strict';
  if (!isObject(value)) return false;
  try {
    return ObjectPrototypeIsPrototypeOf(ErrorPrototype, value);
  } catch {
    return false;
  }
}

/** A string for any value, whatever its toString does. */
const unconvertible = (type: string) => `(a thrown ${type} that cannot be converted to a string)`;
function describeThrown(value: unknown): string {
  return describeValue(value, unconvertible);
}

/** `o[key]` if it is a string. */
function stringField(o: object, key: string): string | undefined {
  'use strict';
  const value = tryGet(o, key);
  return typeof value === 'string' ? value : undefined;
}

/** The message of an error: a string whatever `message` holds (missing: ''). */
function messageOf(o: object): string {
  'use strict';
  const value = tryGet(o, 'message');
  return value === undefined ? '' : describeThrown(value);
}

const KINDS: readonly string[] = ['application', 'activity', 'childWorkflow', 'timeout', 'cancelled', 'terminated', 'server'];
const ALREADY_STARTED = 'WorkflowExecutionAlreadyStartedError';

/** Any thrown value → its wire form. Errors that are not failures become application failures. */
export function errorToFailure(error: unknown, depth?: number): WireFailure {
  'use strict';
  depth ??= 0;
  if (depth > 20) return { message: '(cause chain truncated)', kind: 'application' };
  if (!isObject(error)) {
    return { message: describeThrown(error), kind: 'application', type: 'Error', nonRetryable: false };
  }
  const failure = isFailure(error);
  if (!failure && !isError(error)) {
    // A plain object, a Proxy, a function: its JSON text is the most useful message.
    return { message: describeThrown(error), kind: 'application', type: 'Error', nonRetryable: false };
  }
  const f: WireFailure = { message: messageOf(error), kind: 'application' };
  let kind = failure ? tryGet(error, 'kind') : 'application';
  if (typeof kind !== 'string' || !includes(KINDS, kind)) kind = 'application';
  put(f, 'kind', kind);
  if (!failure) put(f, 'type', stringField(error, 'name') ?? 'Error');
  const stack = stringField(error, 'stack');
  if (stack !== undefined) put(f, 'stack', stack);
  switch (kind) {
    case 'application': {
      if (failure) {
        const type = stringField(error, 'type');
        if (type !== undefined) put(f, 'type', type);
      }
      put(f, 'nonRetryable', tryGet(error, 'nonRetryable') === true);
      if (failure) {
        const details = tryGet(error, 'details');
        if (ArrayIsArray(details) && details.length > 0) put(f, 'details', details);
      }
      break;
    }
    case 'activity': {
      put(f, 'activityType', stringField(error, 'activityType') ?? '');
      const activityId = stringField(error, 'activityId');
      if (activityId !== undefined) put(f, 'activityId', activityId);
      put(f, 'retryState', stringField(error, 'retryState') ?? 'unspecified');
      break;
    }
    case 'childWorkflow': {
      const execution = tryGet(error, 'execution');
      const workflowId = isObject(execution) ? stringField(execution, 'workflowId') : undefined;
      const runId = isObject(execution) ? stringField(execution, 'runId') : undefined;
      if (workflowId !== undefined) put(f, 'workflowId', workflowId);
      if (runId !== undefined) put(f, 'runId', runId);
      put(f, 'workflowType', stringField(error, 'workflowType') ?? '');
      put(f, 'retryState', stringField(error, 'retryState') ?? 'unspecified');
      break;
    }
    case 'timeout':
      put(f, 'timeoutType', stringField(error, 'timeoutType') ?? 'startToClose');
      break;
    case 'cancelled': {
      const details = tryGet(error, 'details');
      if (ArrayIsArray(details) && details.length > 0) put(f, 'details', details);
      break;
    }
    case 'server':
      put(f, 'nonRetryable', tryGet(error, 'nonRetryable') === true);
      if (failure && stringField(error, 'name') === ALREADY_STARTED) {
        put(f, 'type', ALREADY_STARTED);
        put(f, 'workflowId', stringField(error, 'workflowId') ?? '');
        put(f, 'workflowType', stringField(error, 'workflowType') ?? '');
      }
      break;
  }
  // Only an own cause (as `new Error(m, { cause })` makes): one inherited from Object.prototype
  // would otherwise be every error's cause.
  let cause: unknown;
  try {
    cause = own(error, 'cause');
  } catch {
    cause = undefined;
  }
  if (cause !== undefined) put(f, 'cause', errorToFailure(cause, depth + 1));
  return f;
}

function includes(values: readonly string[], value: string): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] === value) return true;
  return false;
}

/** Wire form → an instance of the matching failure class, cause chain included. */
export function failureToError(failure: WireFailure): TemporalFailure {
  // Only own fields count: an inherited one (a getter on Object.prototype) is not part of the wire form.
  const field = <K extends keyof WireFailure>(key: K) => own(failure, key) as WireFailure[K];
  const causeFailure = field('cause');
  const cause = causeFailure ? failureToError(causeFailure) : undefined;
  const message = field('message') ?? '';
  let error: TemporalFailure;
  switch (field('kind')) {
    case 'activity':
      error = new ActivityFailure(message, field('activityType') ?? '', field('activityId'), field('retryState') ?? 'unspecified', cause);
      break;
    case 'childWorkflow': {
      const workflowId = field('workflowId') ?? '';
      const runId = field('runId');
      const execution: WorkflowExecution = runId === undefined ? { workflowId } : { workflowId, runId };
      error = new ChildWorkflowFailure('default', execution, field('workflowType') ?? '', field('retryState') ?? 'unspecified', cause);
      break;
    }
    case 'timeout':
      error = new TimeoutFailure(message, field('timeoutType') ?? 'startToClose');
      break;
    case 'cancelled':
      error = new CancelledFailure(message, field('details') ?? []);
      break;
    case 'terminated':
      error = new TerminatedFailure(message);
      break;
    case 'server':
      error =
        field('type') === ALREADY_STARTED
          ? new WorkflowExecutionAlreadyStartedError(message, field('workflowId') ?? '', field('workflowType') ?? '')
          : new ServerFailure(message, field('nonRetryable') ?? false);
      break;
    default:
      error = new ApplicationFailure(message, field('type'), field('nonRetryable'), field('details'), cause);
  }
  if (cause !== undefined && !ObjectPrototypeHasOwnProperty(error, 'cause')) ObjectDefineProperty(error, 'cause', dataProperty(cause, false));
  const stack = field('stack');
  if (stack) ObjectDefineProperty(error, 'stack', dataProperty(stack, false));
  return error;
}

/**
 * Whether `error` says that something was cancelled: a CancelledFailure, or an ActivityFailure or
 * ChildWorkflowFailure whose cause is one. Checks the failure brands, so it holds for failures made
 * by any copy of deja, whatever `Symbol.hasInstance` workflow code defined.
 */
export function isCancellation(error: unknown): boolean {
  'use strict';
  if (hasBrand(CancelledFailure, error, 'deja.failure')) return true;
  if (!hasBrand(ActivityFailure, error, 'deja.failure') && !hasBrand(ChildWorkflowFailure, error, 'deja.failure')) return false;
  let cause: unknown;
  try {
    cause = own(error as object, 'cause');
  } catch {
    return false;
  }
  return hasBrand(CancelledFailure, cause, 'deja.failure');
}

/**
 * The message of the root cause of `error`: for a failure, of the last failure down its `cause`
 * chain; otherwise the error's own message (or the string itself, when a string was thrown).
 */
export function rootCause(error: unknown): string | undefined {
  'use strict';
  for (let depth = 0; depth < 100; depth++) {
    if (typeof error === 'string') return error;
    if (!isObject(error)) return undefined;
    if (isFailure(error)) {
      const cause = tryGet(error, 'cause');
      if (cause !== undefined && cause !== null) {
        error = cause;
        continue;
      }
    }
    const message = tryGet(error, 'message');
    return typeof message === 'string' ? message : undefined;
  }
  return undefined;
}

/** A WireFailure whose objects have no prototype, ready to cross to the host (see `record`). */
export function wireFailure(error: unknown): WireFailure {
  'use strict';
  const failure = errorToFailure(error);
  for (let f: WireFailure | undefined = failure; f !== undefined; f = own(f, 'cause') as WireFailure | undefined) ObjectSetPrototypeOf(f, null);
  return failure;
}
