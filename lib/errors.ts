/**
 * Host-side error classes. Few classes, each with a stable `code`; `instanceof` works across
 * copies of the library because it checks a brand registered with Symbol.for, not the prototype.
 */
import type { WireFailure } from '../runtime/protocol';

const BRAND = Symbol.for('deja.error');

export type DejaErrorCode =
  | 'DEJA_INVALID_ARGUMENT'
  | 'DEJA_INVALID_HISTORY'
  | 'DEJA_BUNDLE'
  | 'DEJA_PROTOCOL_MISMATCH'
  | 'DEJA_NONDETERMINISM'
  | 'DEJA_WORKFLOW_TASK_FAILED'
  | 'DEJA_SANDBOX_TIMEOUT'
  | 'DEJA_SANDBOX_MEMORY'
  | 'DEJA_SANDBOX_DISPOSED'
  | 'DEJA_NOT_FOUND'
  | 'DEJA_ALREADY_STARTED'
  | 'DEJA_WORKFLOW_FAILED'
  | 'DEJA_QUERY_FAILED'
  | 'DEJA_STALE_TASK'
  | 'DEJA_LIMIT_EXCEEDED'
  | 'DEJA_PAYLOAD_TOO_LARGE'
  | 'DEJA_WORKER_FAILED';

export class DejaError extends Error {
  readonly code: DejaErrorCode;
  constructor(code: DejaErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    Object.defineProperty(this, BRAND, { value: code });
  }
  override get name(): string {
    return this.constructor.name;
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === DejaError) return typeof value === 'object' && value !== null && BRAND in value;
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/** Bad options, arguments or payloads given to a public function. */
export class InvalidArgumentError extends DejaError {
  constructor(message: string) {
    super('DEJA_INVALID_ARGUMENT', message);
  }
}

/**
 * A request over one of the service's limits: a payload too large or too deeply nested
 * (`DEJA_PAYLOAD_TOO_LARGE`), or too many commands, an identifier too long, a history too long or
 * too large (`DEJA_LIMIT_EXCEEDED`). It is an InvalidArgumentError: the request was refused whole.
 * `limit` names the option (`maxPayloadBytes`, …), `actual` what was found (a lower bound when the
 * message says "at least" or "more than") and `max` the limit's value.
 */
export class LimitExceededError extends InvalidArgumentError {
  override readonly code: 'DEJA_PAYLOAD_TOO_LARGE' | 'DEJA_LIMIT_EXCEEDED';
  constructor(
    code: 'DEJA_PAYLOAD_TOO_LARGE' | 'DEJA_LIMIT_EXCEEDED',
    message: string,
    readonly limit: string,
    readonly actual: number,
    readonly max: number,
  ) {
    super(message);
    this.code = code;
  }
}

/** A history that cannot be read: names the event and the field. */
export class InvalidHistoryError extends DejaError {
  constructor(
    message: string,
    readonly eventId?: number,
    readonly field?: string,
  ) {
    super('DEJA_INVALID_HISTORY', message);
  }
}

/**
 * The workflow code emitted a command that history does not have, or failed to emit one it has.
 * Names the event id, the recorded event and the command emitted instead.
 */
export class DeterminismViolationError extends DejaError {
  constructor(
    message: string,
    readonly eventId: number | undefined,
    readonly recorded: unknown,
    readonly emitted: unknown,
  ) {
    super('DEJA_NONDETERMINISM', message);
  }
}

/** The workflow task failed inside the isolate (a bug, not a workflow failure). */
export class WorkflowTaskFailedError extends DejaError {
  constructor(
    message: string,
    readonly failure: WireFailure,
    readonly taskFailureCause: string,
  ) {
    super('DEJA_WORKFLOW_TASK_FAILED', message);
  }
}

/** Options validation helper: rejects unknown keys, naming the function and the key. */
export function checkKnownKeys(where: string, options: object | undefined, known: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`${where}: expected an options object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new InvalidArgumentError(
        `${where}: unknown option "${key}"; expected one of: ${known.map((k) => `"${k}"`).join(', ')}`,
      );
    }
  }
}

/**
 * An integer option in [min, max], with a message naming where, the option, the range and what was
 * found. Every option has an upper bound: past it the option would break something later (a
 * timeout above 2^31−1 ms overflows Node's and isolated-vm's timers) instead of failing here.
 */
export function checkInteger(where: string, name: string, value: unknown, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new InvalidArgumentError(`${where}: ${name} must be an integer ${range}, got ${describe(value)}`);
  }
  return value;
}

/** The largest delay Node's and isolated-vm's timers accept (2^31−1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/**
 * The end of an exhaustive `switch`: the compiler proves it unreachable, so a new member of the
 * union without a case fails `tsc`. At run time (a value from outside the types) it throws.
 */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`deja: unexpected ${what}: ${JSON.stringify(value)}`);
}
