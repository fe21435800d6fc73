/**
 * Host-side error classes. Few classes, each with a stable `code`. The base class, DejaError, and
 * DeterminismViolationError live in runtime/errors.ts, shared with the isolate: every subclass is
 * branded there, so `instanceof` works across copies of the library for each class, not only the
 * base.
 */
import type { WireFailure, WorkflowTaskFailedCause } from '../runtime/protocol';
import { DejaError, DeterminismViolationError, type DejaErrorCode } from '../runtime/errors';

export { DejaError, DeterminismViolationError, type DejaErrorCode };

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
 * A store that cannot be opened or used: `file` names it (for a database server, its URL without
 * the password), `reason` says what is wrong (`directory`, `read-only`, `not-deja`, `newer`, `busy`,
 * `full`, `io`, `closed`, `unavailable`: a server that cannot be reached). The message says what was
 * expected. Nothing was written when this is thrown: a refused open leaves the file as it was, a
 * failed transaction left nothing of itself.
 */
export class StoreError extends DejaError {
  constructor(
    message: string,
    readonly file: string,
    readonly reason: StoreErrorReason,
    options?: { cause?: unknown },
  ) {
    super('DEJA_STORE', message, options);
  }
}

export type StoreErrorReason = 'directory' | 'read-only' | 'not-deja' | 'newer' | 'busy' | 'full' | 'io' | 'closed' | 'unavailable';

/** The workflow task failed inside the isolate (a bug, not a workflow failure). */
export class WorkflowTaskFailedError extends DejaError {
  constructor(
    message: string,
    readonly failure: WireFailure,
    readonly taskFailureCause: WorkflowTaskFailedCause,
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
 * The end of an exhaustive `switch`: `value` has type `never` when every case is handled, so a new
 * variant without a case does not compile. Reaching it at run time is a deja bug.
 */
export function assertNever(value: never, what = 'value'): never {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  throw new DejaError('DEJA_INTERNAL', `deja bug: unexpected ${what} ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`);
}

/** `process.emitWarning` code of the warning that options deja does not act on were accepted. */
export const IGNORED_OPTIONS_WARNING = 'DEJA_IGNORED_OPTIONS';
/** `where: name` pairs already warned about, shared by every copy of deja in the process. */
const WARNED_OPTIONS: Set<string> = ((globalThis as Record<symbol, unknown>)[Symbol.for('deja.warnedOptions')] ??= new Set<string>()) as Set<string>;

/**
 * Warns (a DejaWarning with code DEJA_IGNORED_OPTIONS) that `where` accepted Temporal options it
 * does not act on. Each option is named once per process and place: code written for Temporal
 * runs unchanged, and a log is not flooded by a loop that makes clients. `why` says what deja does
 * instead: one reason for all, or one per option. Returns the names it warned about now.
 */
export function warnIgnoredOptions(where: string, names: readonly string[], why: string | ((name: string) => string)): string[] {
  const fresh = names.filter((name) => !WARNED_OPTIONS.has(`${where}: ${name}`));
  if (fresh.length === 0) return [];
  for (const name of fresh) WARNED_OPTIONS.add(`${where}: ${name}`);
  const s = fresh.length > 1 ? 's' : '';
  const text =
    typeof why === 'string'
      ? `${fresh.map((name) => `"${name}"`).join(', ')}: ${why}`
      : fresh.map((name) => `"${name}" (${why(name)})`).join(', ');
  process.emitWarning(`${where}: deja accepts but does not act on the option${s} ${text}`, { type: 'DejaWarning', code: IGNORED_OPTIONS_WARNING });
  return fresh;
}
