/**
 * The service's limits (host side), in one place: their defaults, the range each may be set to,
 * and the check of a `limits` option. The engine reads them from here and nowhere else; the store
 * conformance suite checks that every store holds a payload as deep as the deepest allowed here.
 *
 * Sizes are bytes of UTF-8 JSON text, as JSON.stringify would write the value. Where a default
 * is Temporal's, a workflow that runs on a default Temporal cluster runs here too, and one that
 * would fail there fails here, with the same threshold.
 */
import { checkKnownKeys, describe, InvalidArgumentError } from '../errors';

export interface Limits {
  /** One payload: an argument list, a result, a failure, heartbeat details, a query answer. */
  maxPayloadBytes: number;
  /** Levels of arrays and objects inside one payload (an argument list itself is not a level). */
  maxPayloadDepth: number;
  /** Everything one request carries (a workflow task completion with all its commands, …). */
  maxRequestBytes: number;
  /** One identifier: a workflow id, a type, a task queue, a signal or query name, an activity id. */
  maxIdBytes: number;
  /** Commands in one workflow task completion. */
  maxCommandsPerTask: number;
  /** A run's history passing this many events calls the warning hook, once per run. */
  warnHistoryEvents: number;
  /** A run's history passing this many bytes calls the warning hook, once per run. */
  warnHistoryBytes: number;
  /** A change that would take a run's history past this many events closes the run instead. */
  maxHistoryEvents: number;
  /** A change that would take a run's history past this many bytes closes the run instead. */
  maxHistoryBytes: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** Temporal's blob size error limit (`limit.blobSize.error`): a larger payload fails there too. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 2 * MiB;
/**
 * Protocol Buffers' default recursion limit, the nesting Temporal's own messages may reach. Real
 * data rarely passes 20 levels, and 100 is a tenth of what any store or JSON routine here can
 * take (SQLite's JSON functions stop at 1000; V8's JSON and structuredClone at thousands), so a
 * payload that passes the edge can never overflow a stack further in.
 */
export const DEFAULT_MAX_PAYLOAD_DEPTH = 100;
/**
 * 4 MiB: the largest gRPC message a Temporal server receives, and Temporal's
 * DefaultTransactionSizeLimit, the largest batch of events it persists at once. A workflow task
 * completion is one such batch. Two maximal payloads fit in one request, as they do in Temporal.
 */
export const DEFAULT_MAX_REQUEST_BYTES = 4 * MiB;
/** Temporal's `limit.maxIDLength` (1000), which Temporal's server measures in UTF-8 bytes. */
export const DEFAULT_MAX_ID_BYTES = 1000;
/**
 * Temporal has no such limit (its gRPC message size bounds a completion instead). One task's
 * commands land in one store transaction; 10,000 keeps that transaction in milliseconds, and is a
 * fifth of maxHistoryEvents, so a run that uses it whole still has room for four more.
 */
export const DEFAULT_MAX_COMMANDS_PER_TASK = 10_000;
/** Temporal's `limit.historyCount.warn`. */
export const DEFAULT_WARN_HISTORY_EVENTS = 10_240;
/** Temporal's `limit.historySize.warn`. */
export const DEFAULT_WARN_HISTORY_BYTES = 10 * MiB;
/** Temporal's `limit.historyCount.error`: past it Temporal terminates the workflow. */
export const DEFAULT_MAX_HISTORY_EVENTS = 51_200;
/** Temporal's `limit.historySize.error`: past it Temporal terminates the workflow. */
export const DEFAULT_MAX_HISTORY_BYTES = 50 * MiB;

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
  maxPayloadDepth: DEFAULT_MAX_PAYLOAD_DEPTH,
  maxRequestBytes: DEFAULT_MAX_REQUEST_BYTES,
  maxIdBytes: DEFAULT_MAX_ID_BYTES,
  maxCommandsPerTask: DEFAULT_MAX_COMMANDS_PER_TASK,
  warnHistoryEvents: DEFAULT_WARN_HISTORY_EVENTS,
  warnHistoryBytes: DEFAULT_WARN_HISTORY_BYTES,
  maxHistoryEvents: DEFAULT_MAX_HISTORY_EVENTS,
  maxHistoryBytes: DEFAULT_MAX_HISTORY_BYTES,
});

/**
 * The deepest payload any configuration allows: half of SQLite's JSON_MAX_DEPTH (1000), leaving
 * room for what a store wraps around a payload (an event, a failure's cause chain). Every store
 * must hold a payload this deep; the conformance suite checks it.
 */
export const MAX_PAYLOAD_DEPTH_ALLOWED = 512;

interface Range {
  unit: string;
  min: number | keyof Limits;
  max: number | keyof Limits;
  why: string;
}

/**
 * What each limit may be set to. A bound that names another limit ties the two: the request
 * limit is at least the payload limit, and so on, so no value can make another one unreachable.
 */
export const LIMIT_RANGES: { readonly [K in keyof Limits]: Range } = {
  maxPayloadBytes: { unit: 'bytes', min: KiB, max: 64 * MiB, why: 'a payload is a value, not a file' },
  maxPayloadDepth: { unit: 'levels', min: 16, max: MAX_PAYLOAD_DEPTH_ALLOWED, why: 'every store must hold the deepest payload allowed' },
  maxRequestBytes: { unit: 'bytes', min: 'maxPayloadBytes', max: 'maxHistoryBytes', why: 'a request must fit a payload, and a history a request' },
  maxIdBytes: { unit: 'bytes', min: 64, max: 64 * KiB, why: 'identifiers are names, not data' },
  maxCommandsPerTask: { unit: 'commands', min: 1, max: 1_000_000, why: 'one completion is one store transaction' },
  warnHistoryEvents: { unit: 'events', min: 1, max: 'maxHistoryEvents', why: 'a warning comes before the limit' },
  warnHistoryBytes: { unit: 'bytes', min: 1, max: 'maxHistoryBytes', why: 'a warning comes before the limit' },
  maxHistoryEvents: { unit: 'events', min: 10, max: 10_000_000, why: 'a run needs room to start, run a task and close' },
  maxHistoryBytes: { unit: 'bytes', min: 64 * KiB, max: 1024 * MiB, why: 'a run’s history is read whole by a worker' },
};

const LIMIT_KEYS = Object.keys(DEFAULT_LIMITS) as (keyof Limits)[];

export const formatInt = (n: number): string => n.toLocaleString('en-US');

/**
 * Limits left out that follow another one, in Temporal's own proportions, so that raising or
 * lowering a limit alone keeps its companions consistent: a request holds two payloads (4 MB and
 * 2 MB), and a warning comes at a fifth of its maximum (10,240 of 51,200 events, 10 of 50 MB). With
 * the other limit at its default, each gives exactly its own default.
 */
const FOLLOWS: { readonly [K in keyof Limits]?: { of: keyof Limits; rule: string; value: (of: number) => number } } = {
  maxRequestBytes: { of: 'maxPayloadBytes', rule: '2 × maxPayloadBytes', value: (n) => 2 * n },
  warnHistoryEvents: { of: 'maxHistoryEvents', rule: 'maxHistoryEvents / 5', value: (n) => Math.max(1, Math.floor(n / 5)) },
  warnHistoryBytes: { of: 'maxHistoryBytes', rule: 'maxHistoryBytes / 5', value: (n) => Math.max(1, Math.floor(n / 5)) },
};

/**
 * The limits a `limits` option asks for: what it gives, the rest by default (see FOLLOWS).
 * Refuses an unknown key, a value that is not a whole number, and one out of its range, naming
 * the option, the unit and the range.
 */
export function resolveLimits(where: string, options: unknown): Limits {
  if (options === undefined) return { ...DEFAULT_LIMITS };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`${where}: limits must be an object, got ${describe(options)}`);
  }
  checkKnownKeys(`${where}: limits`, options, LIMIT_KEYS);
  const given = options as Partial<Record<keyof Limits, unknown>>;
  const limits = { ...DEFAULT_LIMITS };
  const bound = (b: number | keyof Limits, v: number) => (typeof b === 'number' ? formatInt(v) : `${b} (${formatInt(v)})`);
  const check = (key: keyof Limits, relative: boolean) => {
    const { unit, min, max, why } = LIMIT_RANGES[key];
    const lo = typeof min === 'number' ? min : limits[min];
    const hi = typeof max === 'number' ? max : limits[max];
    const value = limits[key];
    const out = relative ? value < lo || value > hi : (typeof min === 'number' && value < min) || (typeof max === 'number' && value > max);
    if (!out) return;
    const followed = given[key] === undefined ? FOLLOWS[key] : undefined;
    const name = followed ? `limits.${key} (left out: ${followed.rule})` : `limits.${key}`;
    throw new InvalidArgumentError(`${where}: ${name} must be from ${bound(min, lo)} to ${bound(max, hi)} ${unit} (${why}), got ${formatInt(value)}`);
  };
  for (const key of LIMIT_KEYS) {
    const value = given[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      throw new InvalidArgumentError(`${where}: limits.${key} must be a whole number of ${LIMIT_RANGES[key].unit}, got ${describe(value)}`);
    }
    limits[key] = value;
  }
  // What was given, against fixed bounds; then what follows it; then every bound.
  for (const key of LIMIT_KEYS) if (given[key] !== undefined) check(key, false);
  for (const key of LIMIT_KEYS) {
    const follows = FOLLOWS[key];
    if (follows && given[key] === undefined) limits[key] = follows.value(limits[follows.of]);
  }
  for (const relative of [false, true]) for (const key of LIMIT_KEYS) check(key, relative);
  return limits;
}
