/**
 * Failure classes and their wire form. Pure code with no globals, so the same classes serve inside
 * the isolate (workflow code) and on the host (activities, client): an `ApplicationFailure` thrown
 * by an activity is converted to a WireFailure, stored in history, and rebuilt on the other side.
 * `instanceof` checks a brand registered with Symbol.for, so it holds across the two copies of this
 * module (one bundled into the isolate, one loaded on the host) and across copies of the library.
 */
import type { FailureKind, Payload, RetryState, TimeoutType, WireFailure } from './protocol';

const BRAND = Symbol.for('deja.failure');

/** Base of every failure that crosses a boundary. Throwing one from a workflow fails the workflow. */
export class TemporalFailure extends Error {
  readonly kind: FailureKind = 'application';
  constructor(message?: string, options?: { cause?: unknown }) {
    super(message ?? '', options);
    Object.defineProperty(this, BRAND, { value: true });
  }
  override get name(): string {
    return this.constructor.name;
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null || !(BRAND in value)) return false;
    if (this === TemporalFailure) return true;
    // Subclasses: compare by kind-and-name so a copy from the other module instance matches too.
    return (value as unknown as Error).name === this.name || Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

export interface ApplicationFailureOptions {
  message?: string;
  type?: string;
  nonRetryable?: boolean;
  details?: Payload[];
  cause?: Error;
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
  static create(options: ApplicationFailureOptions = {}): ApplicationFailure {
    return new ApplicationFailure(options.message, options.type, options.nonRetryable, options.details, options.cause);
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

/** True for an error that, thrown from workflow code, fails the workflow rather than the task. */
export function isTemporalFailure(error: unknown): error is TemporalFailure {
  return error instanceof TemporalFailure;
}

/** Any thrown value → its wire form. Errors that are not failures become application failures. */
export function errorToFailure(error: unknown, depth = 0): WireFailure {
  if (depth > 20) return { kind: 'application', message: '(cause chain truncated)' };
  const cause = error instanceof Error && error.cause !== undefined ? errorToFailure(error.cause, depth + 1) : undefined;
  const withCause = (f: WireFailure): WireFailure => {
    if (cause) f.cause = cause;
    return f;
  };
  if (error instanceof TemporalFailure) {
    const base = { message: error.message, stack: error.stack };
    switch (error.kind) {
      case 'application': {
        const a = error as ApplicationFailure;
        const f: WireFailure = { ...base, kind: 'application', nonRetryable: a.nonRetryable };
        if (a.type !== undefined) f.type = a.type;
        if (a.details.length) f.details = a.details;
        return withCause(f);
      }
      case 'activity': {
        const a = error as ActivityFailure;
        const f: WireFailure = { ...base, kind: 'activity', activityType: a.activityType, retryState: a.retryState };
        if (a.activityId !== undefined) f.activityId = a.activityId;
        return withCause(f);
      }
      case 'timeout':
        return withCause({ ...base, kind: 'timeout', timeoutType: (error as TimeoutFailure).timeoutType });
      case 'cancelled': {
        const d = (error as CancelledFailure).details;
        return withCause(d.length ? { ...base, kind: 'cancelled', details: d } : { ...base, kind: 'cancelled' });
      }
      case 'terminated':
        return withCause({ ...base, kind: 'terminated' });
      case 'server':
        return withCause({ ...base, kind: 'server', nonRetryable: (error as ServerFailure).nonRetryable });
    }
  }
  if (error instanceof Error) {
    return withCause({ kind: 'application', message: error.message, type: error.name, stack: error.stack, nonRetryable: false });
  }
  let message: string;
  try {
    message = typeof error === 'string' ? error : JSON.stringify(error) ?? String(error);
  } catch {
    message = String(error);
  }
  return { kind: 'application', message, type: 'Error', nonRetryable: false };
}

/** Wire form → an instance of the matching failure class, cause chain included. */
export function failureToError(failure: WireFailure): TemporalFailure {
  const cause = failure.cause ? failureToError(failure.cause) : undefined;
  let error: TemporalFailure;
  switch (failure.kind) {
    case 'activity':
      error = new ActivityFailure(failure.message, failure.activityType ?? '', failure.activityId, failure.retryState ?? 'unspecified', cause);
      break;
    case 'timeout':
      error = new TimeoutFailure(failure.message, failure.timeoutType ?? 'startToClose');
      break;
    case 'cancelled':
      error = new CancelledFailure(failure.message, failure.details ?? []);
      break;
    case 'terminated':
      error = new TerminatedFailure(failure.message);
      break;
    case 'server':
      error = new ServerFailure(failure.message, failure.nonRetryable ?? false);
      break;
    default:
      error = new ApplicationFailure(failure.message, failure.type, failure.nonRetryable, failure.details, cause);
  }
  if (cause !== undefined && error.cause === undefined) Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true });
  if (failure.stack) error.stack = failure.stack;
  return error;
}
