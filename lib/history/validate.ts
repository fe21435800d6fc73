/**
 * History validation and serialization (host side). `parseHistory` reads a history file (JSON text
 * or an already-parsed value), checks each event against its schema (schema.ts, compiled by
 * TypeBox and dispatched on `type`), then what a schema cannot say: ids 1, 2, 3, …, time order,
 * references between events and their lifecycle. It returns a fresh, frozen `History`.
 * `serializeHistory` writes the one canonical JSON text of a history, keys in schema order.
 *
 * Two readers do this. The fast path (`readFast`, with fast.ts's generated per-type copiers)
 * reads a valid history in one pass and words nothing; at the first thing it is not sure of, the
 * detailed reader (`Reader`: TypeBox's checks, the copier below, and every message) reads the
 * history again from the start. So every error comes from the detailed reader, and a fast-check
 * property in test/history.test.ts holds the two to the same verdicts and the same output.
 */
import { DejaError } from '../errors';
import type { TSchema } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import { InvalidArgumentError, InvalidHistoryError, describe } from '../errors';
import { HISTORY_FORMAT, HISTORY_VERSION } from './events';
import type { EventOf, EventType, History, HistoryEvent } from './events';
import { compileFastCopier, type FastCopy } from './fast';
import { convertTemporalHistory, looksLikeTemporalJson, looksLikeTemporalProtobuf, readTemporalBytes } from './temporal';
import {
  EVENT_SCHEMAS,
  EVENT_TIME_WORDS,
  Expected,
  ISO_TIME,
  a,
  compiledOpenCheck,
  expectedOf,
  firstProblem,
  isPayload,
  isPayloadSchema,
  isPlainObject,
  pathText,
  type Problem,
} from './schema';

/** The history file versions this build reads. It writes only HISTORY_VERSION. */
export const SUPPORTED_HISTORY_VERSIONS: readonly number[] = Object.freeze([HISTORY_VERSION]);

// ---------------------------------------------------------------------------------------------
// Failures: every one names the source, the event (its index, and its id and type once known),
// the field path, what was expected and what was found. The error's `eventId` is the event's
// 1-based position (its eventId whenever ids are valid); its `field` is the path in the event.

interface Place {
  source: string;
  /** Undefined for the envelope. */
  index?: number;
  type?: EventType;
  /** Whether the event's id is known to equal its position, so the message may name it. */
  idOk?: boolean;
}

function fail(place: Place, path: string, problem: string): never {
  let where: string;
  if (place.index === undefined) {
    where = `${place.source}: ${path === '' ? 'the top level' : path}`;
  } else {
    const sep = path === '' || path.startsWith('[') ? '' : '.';
    const label = place.idOk ? ` (eventId ${place.index + 1}${place.type ? `, ${place.type}` : ''})` : '';
    where = `${place.source}: events[${place.index}]${sep}${path}${label}`;
  }
  throw new InvalidHistoryError(`${where}: ${problem}`, place.index === undefined ? undefined : place.index + 1, path === '' ? undefined : path);
}

function foundText(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `the bigint ${value}n`;
  if (typeof value === 'symbol') return `the symbol ${String(value)}`;
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !isPlainObject(value)) {
    return `an instance of ${(value as object).constructor?.name ?? 'an unknown class'}`;
  }
  return describe(value);
}

const expected = (place: Place, path: string, what: string, found: unknown): never =>
  fail(place, path, `expected ${what}, found ${foundText(found)}`);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function own(obj: Record<string, unknown>, key: string): unknown {
  // Own properties only: `constructor` or `toString` must never be read off the prototype.
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** Edit distance, for "did you mean" on unknown field names. */
function distance(x: string, y: string): number {
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[y.length];
}

/** True if every character of `short` appears in `long`, in order ("maxAttempts" in "maximumAttempts"). */
function isSubsequence(short: string, long: string): boolean {
  let j = 0;
  for (let i = 0; i < long.length && j < short.length; i++) if (long[i] === short[j]) j++;
  return j === short.length;
}

/** The schema is closed: an unknown key is most often a typo, so it is named, with a guess. */
function unknownField(key: string, allowed: readonly string[], what: string): string {
  const k = key.toLowerCase();
  const near = allowed
    .map((name) => ({ name, d: distance(name.toLowerCase(), k) }))
    .filter(({ name, d }) => d <= 2 || (key.length >= 4 && isSubsequence(k, name.toLowerCase())))
    .sort((x, y) => x.d - y.d)[0]?.name;
  return `unknown field ${JSON.stringify(key)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}; ${what} has only: ${allowed.join(', ')}`;
}

/** Words a schema problem, at `base` (a path inside the event or envelope). */
function failProblem(place: Place, problem: Problem, base = ''): never {
  const path = pathText(problem.keys, base);
  switch (problem.kind) {
    case 'missing':
      return fail(place, path, 'missing required field');
    case 'unknownKey': {
      const what = ((problem.owner as unknown as Record<symbol, unknown>)[Expected] as string | undefined) ?? 'this object';
      return fail(place, path, unknownField(problem.key, problem.allowed, what));
    }
    case 'type':
      if (problem.cycle) return fail(place, path, 'expected a JSON value, found a cycle (a value that contains itself)');
      return expected(place, path, problem.words ?? expectedOf(problem.schema), problem.value);
  }
}

// ---------------------------------------------------------------------------------------------
// Event times

/** Returns ms since the epoch, or NaN. Date.parse alone accepts 2021-02-30, so the day is checked too. */
function timeMs(v: string): number {
  const t = canonicalTimeMs(v);
  if (t === t) return t;
  const m = ISO_TIME.exec(v);
  const ms = m ? Date.parse(v) : NaN;
  if (!m || Number.isNaN(ms)) return NaN;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return NaN;
  return ms;
}

function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * The ms since the epoch of the canonical form deja writes, "YYYY-MM-DDTHH:MM:SS.sssZ", computed
 * as Date.parse does; NaN for any other text (which timeMs then reads by ISO_TIME).
 */
function canonicalTimeMs(v: string): number {
  if (v.length !== 24) return NaN;
  if (
    v.charCodeAt(4) !== 0x2d || // -
    v.charCodeAt(7) !== 0x2d ||
    v.charCodeAt(10) !== 0x54 || // T
    v.charCodeAt(13) !== 0x3a || // :
    v.charCodeAt(16) !== 0x3a ||
    v.charCodeAt(19) !== 0x2e || // .
    v.charCodeAt(23) !== 0x5a // Z
  ) {
    return NaN;
  }
  const year = digits(v, 0, 4);
  const month = digits(v, 5, 2);
  const day = digits(v, 8, 2);
  const hour = digits(v, 11, 2);
  const minute = digits(v, 14, 2);
  const second = digits(v, 17, 2);
  const milli = digits(v, 20, 3);
  // A field that is not all digits is negative, and fails these range checks.
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return NaN;
  if (minute < 0 || minute > 59 || second < 0 || second > 59 || milli < 0) return NaN;
  if (day > daysIn(year, month)) return NaN;
  // Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil).
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  const days = era * 146097 + doe - 719468;
  return days * 86400000 + hour * 3600000 + minute * 60000 + second * 1000 + milli;
}

/**
 * timeMs(v), for an event whose time differs from the one before (`last`, read as `lastMs`): when
 * both are in the canonical form and share the date, only the time of day is read.
 */
function nextTimeMs(v: string, last: string, lastMs: number): number {
  if (v.length === 24 && last.length === 24 && v.charCodeAt(23) === 0x5a && last.charCodeAt(23) === 0x5a && lastMs === lastMs) {
    let sameDay = v.charCodeAt(10) === 0x54 && last.charCodeAt(10) === 0x54;
    for (let i = 0; sameDay && i < 10; i++) sameDay = v.charCodeAt(i) === last.charCodeAt(i);
    if (sameDay && v.charCodeAt(13) === 0x3a && v.charCodeAt(16) === 0x3a && v.charCodeAt(19) === 0x2e) {
      const hour = digits(v, 11, 2);
      const minute = digits(v, 14, 2);
      const second = digits(v, 17, 2);
      const milli = digits(v, 20, 3);
      if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || milli < 0) return NaN;
      // The last time is canonical UTC on the same day: its day starts at a whole multiple of a day.
      return Math.floor(lastMs / 86400000) * 86400000 + hour * 3600000 + minute * 60000 + second * 1000 + milli;
    }
  }
  return timeMs(v);
}

/** The decimal number in v[start, start + count), or -1 if a character there is not a digit. */
function digits(v: string, start: number, count: number): number {
  let n = 0;
  for (let i = start; i < start + count; i++) {
    const d = v.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Canonical copies: each event and each object in it (failure, retry policy) is rebuilt with its
// keys in schema order, so equal histories serialize to equal bytes. Arrays are copied; payload
// values are kept as given (they are user data, and their key order is theirs).

type Copy = (value: unknown) => unknown;

type ObjectSchema = TSchema & { type?: string; properties?: Record<string, TSchema>; required?: string[]; items?: TSchema; $id?: string; $ref?: string };

/** Thrown by a copier that met a key its schema does not have, or a payload that is not JSON. */
const REFUSED: unique symbol = Symbol('refused');

/** A payload, checked (the open check does not walk payloads). */
const payloadCopy: Copy = (v) => {
  if (isPayload(v)) return v;
  throw REFUSED;
};

/**
 * The copier of an object schema, compiled like TypeBox's checks: a function that reads each key
 * by name, in schema order (constant names keep V8's loads monomorphic), copies arrays and nested
 * objects, and keeps payloads and scalars as they are. It runs only on values that the schema's
 * open check (schema.ts, `compiledOpenCheck`) accepted, and does what that check left out: it
 * walks payloads, and keeps the schema closed by counting the keys it copied against the value's
 * own. It throws REFUSED when either fails; the full schema's errors then say where and why.
 */
function compileCopier(schema: TSchema): Copy {
  const helpers: Copy[] = [];
  const allowed: Set<string>[] = [];
  const byId = new Map<string, number>();
  /** Counts differ: a key with the value undefined (allowed, absent) or an unknown key. */
  const onlyKnown = (v: object, i: number): boolean => {
    for (const key of Object.keys(v)) if (!allowed[i].has(key)) throw REFUSED;
    return true;
  };
  /** The index in `helpers` of the copier of `s`, or undefined for a value kept as it is. */
  const helper = (s: ObjectSchema): number | undefined => {
    if (s.$ref !== undefined) return byId.get(s.$ref)!;
    if (isPayloadSchema(s)) return helpers.push(payloadCopy) - 1;
    if (s.type === 'array' && s.items !== undefined) {
      const item = helper(s.items as ObjectSchema);
      // Looked up per call: a recursive item's copier may still be being compiled.
      if (item === undefined) return helpers.push((v) => (v as unknown[]).slice()) - 1;
      return (
        helpers.push((v) => {
          const from = v as unknown[];
          const n = from.length;
          const out = new Array<unknown>(n);
          const copy = helpers[item];
          for (let i = 0; i < n; i++) out[i] = copy(from[i]);
          return out;
        }) - 1
      );
    }
    if (s.type !== 'object' || s.properties === undefined) return undefined;
    const i: number = helpers.push((v) => helpers[i](v)) - 1;
    if (s.$id !== undefined) byId.set(s.$id, i);
    const required = new Set(s.required ?? []);
    const keys = Object.keys(s.properties);
    allowed[i] = new Set(keys);
    const value = (k: string): string => {
      const sub = helper(s.properties![k] as ObjectSchema);
      return sub === undefined ? `v[${JSON.stringify(k)}]` : `h[${sub}](v[${JSON.stringify(k)}])`;
    };
    // Required keys up to the first optional one go in the literal (one hidden class for all).
    let literal = 0;
    while (literal < keys.length && required.has(keys[literal])) literal++;
    const lines = [`const o = {${keys.slice(0, literal).map((k) => `${JSON.stringify(k)}: ${value(k)}`).join(', ')}};`, `let n = ${required.size};`];
    for (const k of keys.slice(literal)) {
      const key = JSON.stringify(k);
      lines.push(required.has(k) ? `o[${key}] = ${value(k)};` : `if (v[${key}] !== undefined) { o[${key}] = ${value(k)}; n++; }`);
    }
    lines.push('let m = 0;', 'for (const k in v) m++;', `if (m !== n) onlyKnown(v, ${i});`, 'return o;');
    helpers[i] = new Function('h', 'onlyKnown', `return function copy(v) {\n${lines.join('\n')}\n};`)(helpers, onlyKnown) as Copy;
    return i;
  };
  const root = helper(schema as ObjectSchema);
  if (root === undefined) throw new DejaError('DEJA_INTERNAL', 'deja bug: an event schema is not an object schema');
  return helpers[root];
}

// ---------------------------------------------------------------------------------------------
// What a schema cannot say: references between events and their lifecycle

type BaseKey = 'eventId' | 'eventTime' | 'type';
type KeysOf<E, V> = { [K in keyof E]-?: Exclude<E[K], undefined> extends V ? K : never }[Exclude<keyof E, BaseKey>];

/** The long-lived things that events open, start and close. */
type Thing = 'workflowTask' | 'activity' | 'timer' | 'childWorkflow' | 'signalExternal' | 'cancelExternal' | 'update';
const THING_NAME: Record<Thing, string> = {
  workflowTask: 'workflow task',
  activity: 'activity',
  timer: 'timer',
  childWorkflow: 'child workflow',
  signalExternal: 'external signal',
  cancelExternal: 'external cancel request',
  update: 'update',
};

/**
 * A reference: the field holds the eventId of an earlier event of type `to`. With `same`, the
 * referenced event must also carry the same value in that field (the timer's timerId, or the
 * scheduledEventId a started event belongs to).
 */
interface Ref<E> {
  to: EventType;
  same?: KeysOf<E, string | number>;
}

/**
 * What the event does to the execution's state. `open` begins a thing, keyed by this event's id
 * (with `unique`, that field must not be shared by another thing still open); `start` and `close`
 * act on the thing opened by the event their `via` field references: each happens at most once,
 * and never after the close.
 */
type Life<E> =
  | { op: 'startExecution' }
  | { op: 'closeExecution' }
  | { op: 'open'; thing: Thing; unique?: KeysOf<E, string> }
  | { op: 'start' | 'close'; thing: Thing; via: KeysOf<E, number> };

interface EventRules<E extends HistoryEvent> {
  refs?: { [K in KeysOf<E, number>]?: Ref<E> };
  life?: Life<E>;
  /** Fields that must equal the envelope's field of the same name. */
  envelope?: KeysOf<E, string>[];
}

const scheduledTask = { to: 'workflowTaskScheduled' } as const;
const startedTask = { to: 'workflowTaskStarted', same: 'scheduledEventId' } as const;
const scheduledActivity = { to: 'activityTaskScheduled' } as const;
const startedActivity = { to: 'activityTaskStarted', same: 'scheduledEventId' } as const;
const completedTask = { to: 'workflowTaskCompleted' } as const;
const startedTimer = { to: 'timerStarted', same: 'timerId' } as const;
const initiatedChild = { to: 'startChildWorkflowExecutionInitiated', same: 'workflowId' } as const;
const startedChild = { to: 'childWorkflowExecutionStarted', same: 'initiatedEventId' } as const;
const initiatedSignal = { to: 'signalExternalWorkflowExecutionInitiated', same: 'workflowId' } as const;
const initiatedCancel = { to: 'requestCancelExternalWorkflowExecutionInitiated', same: 'workflowId' } as const;
/** The rules of an event that closes a started child. */
const childClosed = {
  refs: { initiatedEventId: initiatedChild, startedEventId: startedChild },
  life: { op: 'close', thing: 'childWorkflow', via: 'initiatedEventId' },
} as const;

const RULES: { [T in EventType]: EventRules<EventOf<T>> } = {
  workflowExecutionStarted: { life: { op: 'startExecution' }, envelope: ['workflowId', 'runId'] },
  workflowTaskScheduled: { life: { op: 'open', thing: 'workflowTask' } },
  workflowTaskStarted: {
    refs: { scheduledEventId: scheduledTask },
    life: { op: 'start', thing: 'workflowTask', via: 'scheduledEventId' },
  },
  workflowTaskCompleted: {
    refs: { scheduledEventId: scheduledTask, startedEventId: startedTask },
    life: { op: 'close', thing: 'workflowTask', via: 'scheduledEventId' },
  },
  workflowTaskFailed: {
    refs: { scheduledEventId: scheduledTask, startedEventId: startedTask },
    life: { op: 'close', thing: 'workflowTask', via: 'scheduledEventId' },
  },
  workflowTaskTimedOut: {
    refs: { scheduledEventId: scheduledTask, startedEventId: startedTask },
    life: { op: 'close', thing: 'workflowTask', via: 'scheduledEventId' },
  },
  activityTaskScheduled: {
    refs: { workflowTaskCompletedEventId: completedTask },
    life: { op: 'open', thing: 'activity', unique: 'activityId' },
  },
  activityTaskStarted: {
    refs: { scheduledEventId: scheduledActivity },
    life: { op: 'start', thing: 'activity', via: 'scheduledEventId' },
  },
  activityTaskCompleted: {
    refs: { scheduledEventId: scheduledActivity, startedEventId: startedActivity },
    life: { op: 'close', thing: 'activity', via: 'scheduledEventId' },
  },
  activityTaskFailed: {
    refs: { scheduledEventId: scheduledActivity, startedEventId: startedActivity },
    life: { op: 'close', thing: 'activity', via: 'scheduledEventId' },
  },
  activityTaskTimedOut: {
    refs: { scheduledEventId: scheduledActivity, startedEventId: startedActivity },
    life: { op: 'close', thing: 'activity', via: 'scheduledEventId' },
  },
  timerStarted: {
    refs: { workflowTaskCompletedEventId: completedTask },
    life: { op: 'open', thing: 'timer', unique: 'timerId' },
  },
  timerFired: {
    refs: { startedEventId: startedTimer },
    life: { op: 'close', thing: 'timer', via: 'startedEventId' },
  },
  timerCanceled: {
    refs: { startedEventId: startedTimer, workflowTaskCompletedEventId: completedTask },
    life: { op: 'close', thing: 'timer', via: 'startedEventId' },
  },
  workflowExecutionSignaled: {},
  workflowExecutionCancelRequested: {},
  activityTaskCancelRequested: { refs: { scheduledEventId: scheduledActivity, workflowTaskCompletedEventId: completedTask } },
  activityTaskCanceled: {
    refs: {
      scheduledEventId: scheduledActivity,
      startedEventId: startedActivity,
      latestCancelRequestedEventId: { to: 'activityTaskCancelRequested', same: 'scheduledEventId' },
    },
    life: { op: 'close', thing: 'activity', via: 'scheduledEventId' },
  },
  startChildWorkflowExecutionInitiated: { refs: { workflowTaskCompletedEventId: completedTask }, life: { op: 'open', thing: 'childWorkflow' } },
  startChildWorkflowExecutionFailed: {
    refs: { initiatedEventId: initiatedChild },
    life: { op: 'close', thing: 'childWorkflow', via: 'initiatedEventId' },
  },
  childWorkflowExecutionStarted: {
    refs: { initiatedEventId: initiatedChild },
    life: { op: 'start', thing: 'childWorkflow', via: 'initiatedEventId' },
  },
  childWorkflowExecutionCompleted: childClosed,
  childWorkflowExecutionFailed: childClosed,
  childWorkflowExecutionCanceled: childClosed,
  childWorkflowExecutionTerminated: childClosed,
  childWorkflowExecutionTimedOut: childClosed,
  signalExternalWorkflowExecutionInitiated: { refs: { workflowTaskCompletedEventId: completedTask }, life: { op: 'open', thing: 'signalExternal' } },
  externalWorkflowExecutionSignaled: { refs: { initiatedEventId: initiatedSignal }, life: { op: 'close', thing: 'signalExternal', via: 'initiatedEventId' } },
  signalExternalWorkflowExecutionFailed: { refs: { initiatedEventId: initiatedSignal }, life: { op: 'close', thing: 'signalExternal', via: 'initiatedEventId' } },
  requestCancelExternalWorkflowExecutionInitiated: {
    refs: { workflowTaskCompletedEventId: completedTask },
    life: { op: 'open', thing: 'cancelExternal' },
  },
  externalWorkflowExecutionCancelRequested: {
    refs: { initiatedEventId: initiatedCancel },
    life: { op: 'close', thing: 'cancelExternal', via: 'initiatedEventId' },
  },
  requestCancelExternalWorkflowExecutionFailed: {
    refs: { initiatedEventId: initiatedCancel },
    life: { op: 'close', thing: 'cancelExternal', via: 'initiatedEventId' },
  },
  workflowExecutionCompleted: { refs: { workflowTaskCompletedEventId: completedTask }, life: { op: 'closeExecution' } },
  workflowExecutionFailed: { refs: { workflowTaskCompletedEventId: completedTask }, life: { op: 'closeExecution' } },
  workflowExecutionCanceled: { refs: { workflowTaskCompletedEventId: completedTask }, life: { op: 'closeExecution' } },
  workflowExecutionTerminated: { life: { op: 'closeExecution' } },
  workflowExecutionTimedOut: { life: { op: 'closeExecution' } },
  workflowExecutionContinuedAsNew: { refs: { workflowTaskCompletedEventId: completedTask }, life: { op: 'closeExecution' } },
  patchMarkerRecorded: { refs: { workflowTaskCompletedEventId: completedTask } },
  localActivityMarkerRecorded: { refs: { workflowTaskCompletedEventId: completedTask } },
  upsertWorkflowSearchAttributes: { refs: { workflowTaskCompletedEventId: completedTask } },
  workflowPropertiesModified: { refs: { workflowTaskCompletedEventId: completedTask } },
  workflowExecutionUpdateAccepted: {
    refs: { workflowTaskCompletedEventId: completedTask },
    life: { op: 'open', thing: 'update', unique: 'updateId' },
  },
  workflowExecutionUpdateCompleted: {
    refs: { acceptedEventId: { to: 'workflowExecutionUpdateAccepted', same: 'updateId' }, workflowTaskCompletedEventId: completedTask },
    life: { op: 'close', thing: 'update', via: 'acceptedEventId' },
  },
};

/** Every event type of the current schema, in the schema's order. */
export const EVENT_TYPES: readonly EventType[] = Object.freeze(Object.keys(EVENT_SCHEMAS) as EventType[]);

type AnyLife =
  | { op: 'startExecution' | 'closeExecution' }
  | { op: 'open'; thing: Thing; unique?: string }
  | { op: 'start' | 'close'; thing: Thing; via: string };

/**
 * One event type, ready for the readers: its checks and copiers, its rules as lists. Each check
 * and copier is compiled on its first use: a history has a few of the event types, and a valid
 * one never needs the detailed reader's.
 */
interface Kind {
  type: EventType;
  schema: TSchema;
  /** The detailed reader's TypeBox check and copier (see checkOf, copyOf). */
  check: TypeCheck<TSchema> | undefined;
  copy: Copy | undefined;
  /** The fast path's checking copier (fast.ts): at first a stub that compiles it and takes its place. */
  fast: FastCopy;
  /** The refs with their target's kind, for the fast path. */
  fastRefs: { key: string; to: Kind; same: string | undefined }[];
  /** The thing this event type opens, if it opens one, and the field no other open one may share. */
  opens: Thing | undefined;
  unique: string | undefined;
  starts: boolean;
  envelope: readonly string[];
  refs: readonly { key: string; to: EventType; same: string | undefined }[];
  life: AnyLife | undefined;
}

let kinds: Map<string, Kind> | undefined;

const checkOf = (kind: Kind): TypeCheck<TSchema> => (kind.check ??= compiledOpenCheck(kind.schema));
const copyOf = (kind: Kind): Copy => (kind.copy ??= compileCopier(kind.schema));

/** The event kinds, compiled on first use: a process that never reads a history never compiles. */
function kindsByType(): Map<string, Kind> {
  if (kinds !== undefined) return kinds;
  kinds = new Map();
  for (const type of EVENT_TYPES) {
    const schema = EVENT_SCHEMAS[type] as TSchema;
    const rules = RULES[type] as { refs?: Record<string, { to: EventType; same?: string } | undefined>; life?: AnyLife; envelope?: string[] };
    const refs: Kind['refs'][number][] = [];
    for (const [key, ref] of Object.entries(rules.refs ?? {})) if (ref !== undefined) refs.push({ key, to: ref.to, same: ref.same });
    const kind: Kind = {
      type,
      schema,
      check: undefined,
      copy: undefined,
      fast: (v) => (kind.fast = compileFastCopier(schema))(v),
      fastRefs: [],
      opens: rules.life?.op === 'open' ? rules.life.thing : undefined,
      unique: rules.life?.op === 'open' ? rules.life.unique : undefined,
      starts: rules.life?.op === 'startExecution',
      envelope: rules.envelope ?? [],
      refs,
      life: rules.life,
    };
    kinds.set(type, kind);
  }
  for (const kind of kinds.values()) kind.fastRefs = kind.refs.map((ref) => ({ key: ref.key, to: kinds!.get(ref.to)!, same: ref.same }));
  return kinds;
}

// ---------------------------------------------------------------------------------------------
// Reading a history

/** A workflow task, activity or timer, from the event that opened it. */
interface ThingState {
  startedBy?: number;
  closedBy?: number;
  /** The value of the rule's `unique` field, released on close. */
  key?: string;
}

/** A new map for every kind of thing. */
function perThing<M extends Map<unknown, unknown>>(): Record<Thing, M> {
  const out = {} as Record<Thing, M>;
  for (const thing of Object.keys(THING_NAME) as Thing[]) out[thing] = new Map() as M;
  return out;
}

/** What is known after reading a prefix of the events. */
class Reader {
  readonly events: HistoryEvent[] = [];
  private lastTimeMs = -Infinity;
  private lastTimeText = '';
  private closedBy: number | undefined;
  private readonly things = perThing<Map<number, ThingState>>();
  /** For each thing, the `unique` key of every open one → the id of the event that opened it. */
  private readonly openKeys = perThing<Map<string, number>>();
  private readonly kinds = kindsByType();

  constructor(
    private readonly source: string,
    private readonly envelope: { workflowId: string; runId: string },
  ) {}

  /** Where event `index` is, for a message: built only when one is needed. */
  private at(index: number, type?: EventType, idOk = true): Place {
    return { source: this.source, index, type, idOk };
  }

  read(raw: unknown, index: number): void {
    const id = index + 1;
    if (!isRecord(raw)) return expected(this.at(index, undefined, false), '', 'an event object', raw);

    const eventId = raw.eventId;
    if (eventId !== id) {
      const place = this.at(index, undefined, false);
      if (own(raw, 'eventId') === undefined) fail(place, 'eventId', `missing required field (expected ${id})`);
      expected(place, 'eventId', `${id} (event ids are 1, 2, 3, … in order, with no gaps)`, eventId);
    }

    const type = raw.type;
    const kind = typeof type === 'string' ? this.kinds.get(type) : undefined;
    if (kind === undefined) {
      if (own(raw, 'type') === undefined) fail(this.at(index), 'type', 'missing required field');
      return expected(this.at(index), 'type', `a known event type (one of ${EVENT_TYPES.join(', ')})`, type);
    }

    if (this.closedBy !== undefined) {
      const closer = this.events[this.closedBy - 1];
      fail(this.at(index, kind.type), '', `no event may follow event ${this.closedBy} (${closer.type}), which closed the workflow`);
    }
    if (kind.starts !== (index === 0)) {
      if (index === 0) expected(this.at(index, kind.type), 'type', '"workflowExecutionStarted" (the first event starts the workflow)', type);
      fail(this.at(index, kind.type), 'type', 'workflowExecutionStarted may only be the first event');
    }

    if (!checkOf(kind).Check(raw)) failProblem(this.at(index, kind.type), firstProblem(kind.schema, raw));

    // The event time is checked here, where it is parsed for the time order.
    const timeText = raw.eventTime as string;
    if (typeof timeText !== 'string') failProblem(this.at(index, kind.type), firstProblem(kind.schema, raw));
    // Most events share their time with the one before.
    const time = timeText === this.lastTimeText ? this.lastTimeMs : timeMs(timeText);
    if (time !== time) {
      const iso = ISO_TIME.test(timeText) && !Number.isNaN(Date.parse(timeText));
      expected(this.at(index, kind.type), 'eventTime', iso ? `${EVENT_TIME_WORDS} (a real calendar date)` : EVENT_TIME_WORDS, timeText);
    }
    if (time < this.lastTimeMs) {
      fail(
        this.at(index, kind.type),
        'eventTime',
        `event time goes backwards: expected ${JSON.stringify(this.lastTimeText)} (event ${id - 1}'s time) or later, ` +
          `found ${JSON.stringify(timeText)}`,
      );
    }

    let event: Record<string, unknown>;
    try {
      event = copyOf(kind)(raw) as Record<string, unknown>;
    } catch (err) {
      if (err === REFUSED) failProblem(this.at(index, kind.type), firstProblem(kind.schema, raw));
      throw err;
    }
    for (let i = 0; i < kind.envelope.length; i++) {
      const key = kind.envelope[i];
      const want = this.envelope[key as keyof typeof this.envelope];
      if (event[key] !== want) expected(this.at(index, kind.type), key, `the history's ${key} ${JSON.stringify(want)}`, event[key]);
    }
    for (let i = 0; i < kind.refs.length; i++) {
      const ref = kind.refs[i];
      if (event[ref.key] !== undefined) this.checkRef(event, ref, index);
    }
    if (kind.life !== undefined) this.apply(event, kind.life, index);

    this.lastTimeMs = time;
    this.lastTimeText = timeText;
    this.events.push(event as unknown as HistoryEvent);
  }

  private checkRef(event: Record<string, unknown>, ref: Kind['refs'][number], index: number): void {
    const target = event[ref.key] as number;
    const self = event.eventId as number;
    const referenced = target < self ? (this.events[target - 1] as unknown as Record<string, unknown>) : undefined;
    if (referenced !== undefined && referenced.type === ref.to && (ref.same === undefined || referenced[ref.same] === event[ref.same])) return;
    const same = ref.same === undefined ? '' : ` with ${ref.same} ${JSON.stringify(event[ref.same])}`;
    const what = `the eventId of an earlier ${ref.to} event${same}`;
    let found: string;
    if (referenced === undefined) found = `${target}, which is not earlier than this event`;
    else if (referenced.type !== ref.to) found = `${target}, which is ${a(referenced.type as string)} event`;
    else found = `${target}, whose ${ref.same} is ${JSON.stringify(referenced[ref.same!])}`;
    fail(this.at(index, event.type as EventType), ref.key, `expected ${what}, found ${found}`);
  }

  private apply(event: Record<string, unknown>, life: AnyLife, index: number): void {
    const id = event.eventId as number;
    switch (life.op) {
      case 'startExecution':
        return;
      case 'closeExecution':
        this.closedBy = id;
        return;
      case 'open': {
        const state: ThingState = {};
        if (life.unique !== undefined) {
          const key = event[life.unique] as string;
          const holder = this.openKeys[life.thing].get(key);
          if (holder !== undefined) {
            fail(
              this.at(index, event.type as EventType),
              life.unique,
              `${life.unique} ${JSON.stringify(key)} is already used by the ${THING_NAME[life.thing]} opened at event ${holder}, which is still open`,
            );
          }
          this.openKeys[life.thing].set(key, id);
          state.key = key;
        }
        this.things[life.thing].set(id, state);
        return;
      }
      case 'start':
      case 'close': {
        // The ref check has already proved that `via` names the event that opened a thing; a
        // missing state can only be a rule whose `via` has no ref, or a ref to the wrong opener.
        const opener = event[life.via] as number;
        const state = this.things[life.thing].get(opener);
        if (state === undefined) throw new DejaError('DEJA_INTERNAL', `deja bug: ${event.type as string}.${life.via} is not checked as a reference`);
        if (state.closedBy !== undefined) {
          this.notOpen(event, life, index, `was already closed by event ${state.closedBy} (${this.events[state.closedBy - 1].type})`);
        }
        if (life.op === 'start') {
          if (state.startedBy !== undefined) this.notOpen(event, life, index, `was already started by event ${state.startedBy}`);
          state.startedBy = id;
        } else {
          state.closedBy = id;
          if (state.key !== undefined) this.openKeys[life.thing].delete(state.key);
        }
        return;
      }
    }
  }
  private notOpen(event: Record<string, unknown>, life: { thing: Thing; via: string }, index: number, problem: string): never {
    const thing = THING_NAME[life.thing];
    const found = `${event[life.via] as number}: that ${thing} ${problem}`;
    return fail(this.at(index, event.type as EventType), life.via, `expected ${a(thing)} that is still open, found ${found}`);
  }
}


// ---------------------------------------------------------------------------------------------
// The fast path: a valid history read in one pass, with no error wording

/**
 * Reads a history on the fast path: each event checked and copied by its fast copier (fast.ts),
 * the rules between events checked as Reader does, with the lifecycle kept in arrays indexed by
 * event id. Returns the history with its events frozen, or undefined at the first thing that is
 * not plainly valid: the caller then reads it again with the detailed reader, which says what is
 * wrong (or, should this path ever be stricter than that one, accepts it).
 */
function readFast(value: unknown): History | undefined {
  try {
    return readFastUnguarded(value);
  } catch {
    // A failure chain deeper than the stack, or a getter that throws: the detailed reader says so.
    return undefined;
  }
}

function readFastUnguarded(value: unknown): History | undefined {
  if (!isRecord(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== ENVELOPE_KEYS.length) return undefined;
  for (let i = 0; i < keys.length; i++) if (!ENVELOPE_KEYS.includes(keys[i])) return undefined;
  const { format, version, workflowId, runId, events: raws } = value;
  if (format !== HISTORY_FORMAT || version !== HISTORY_VERSION) return undefined;
  if (typeof workflowId !== 'string' || workflowId === '' || typeof runId !== 'string' || runId === '') return undefined;
  if (!Array.isArray(raws) || raws.length === 0) return undefined;

  const kinds = kindsByType();
  const n = raws.length;
  // Filled by push, so that the list stays a packed array (as the detailed reader's does).
  const events: Record<string, unknown>[] = [];
  /** The kind of each event read, by index: compared by identity, never by type name. */
  const kindAt: Kind[] = [];
  // By the id of the event that opened a thing: the id of the event that started, closed it.
  const startedBy = new Int32Array(n + 1);
  const closedBy = new Int32Array(n + 1);
  let openKeys: Partial<Record<Thing, Map<unknown, number>>> | undefined;
  let lastTimeText = '';
  let lastTimeMs = -Infinity;
  let closed = false;

  for (let index = 0; index < n; index++) {
    const raw = raws[index] as unknown;
    const id = index + 1;
    if (!isRecord(raw) || raw.eventId !== id || closed) return undefined;
    const type = raw.type;
    const kind = typeof type === 'string' ? kinds.get(type) : undefined;
    if (kind === undefined || kind.starts !== (index === 0)) return undefined;
    const timeText = raw.eventTime;
    if (typeof timeText !== 'string') return undefined;
    const time = timeText === lastTimeText ? lastTimeMs : nextTimeMs(timeText, lastTimeText, lastTimeMs);
    // NaN fails this too.
    if (!(time >= lastTimeMs)) return undefined;
    const event = kind.fast(raw) as Record<string, unknown> | undefined;
    if (event === undefined) return undefined;

    for (let i = 0; i < kind.envelope.length; i++) {
      const key = kind.envelope[i];
      if (event[key] !== (key === 'workflowId' ? workflowId : key === 'runId' ? runId : undefined)) return undefined;
    }
    const refs = kind.fastRefs;
    for (let i = 0; i < refs.length; i++) {
      const ref = refs[i];
      const target = event[ref.key] as number | undefined;
      if (target === undefined) continue;
      // The copier has checked that a reference is an integer ≥ 1.
      if (!(target < id) || kindAt[target - 1] !== ref.to) return undefined;
      if (ref.same !== undefined && events[target - 1][ref.same] !== event[ref.same]) return undefined;
    }
    const life = kind.life;
    if (life !== undefined) {
      switch (life.op) {
        case 'startExecution':
          break;
        case 'closeExecution':
          closed = true;
          break;
        case 'open':
          if (life.unique !== undefined) {
            openKeys ??= {};
            const open = (openKeys[life.thing] ??= new Map());
            const key = event[life.unique];
            if (open.has(key)) return undefined;
            open.set(key, id);
          }
          break;
        case 'start':
        case 'close': {
          const opener = event[life.via] as number;
          // Checked as a reference above, to an event that opens this kind of thing.
          if (!(opener >= 1 && opener < id)) return undefined;
          const openerKind = kindAt[opener - 1];
          if (openerKind.opens !== life.thing || closedBy[opener] !== 0) return undefined;
          if (life.op === 'start') {
            if (startedBy[opener] !== 0) return undefined;
            startedBy[opener] = id;
          } else {
            closedBy[opener] = id;
            const unique = openerKind.unique;
            if (unique !== undefined) openKeys?.[life.thing]?.delete(events[opener - 1][unique]);
          }
          break;
        }
      }
    }

    lastTimeMs = time;
    lastTimeText = timeText;
    kindAt.push(kind);
    events.push(Object.freeze(event));
  }
  return { format: HISTORY_FORMAT, version: HISTORY_VERSION, workflowId, runId, events: events as unknown as HistoryEvent[] };
}

// ---------------------------------------------------------------------------------------------
// JSON text

function parseJson(input: string | Uint8Array, source: string): unknown {
  let text = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  // Editors on some systems write a byte-order mark, which JSON.parse rejects.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    // V8 gives a position for some errors only; otherwise find it with the parser itself.
    const pos = /at position (\d+)/.exec(message);
    const offset = pos ? Number(pos[1]) : jsonErrorOffset(text);
    const before = text.slice(0, offset);
    const where = ` (line ${before.split('\n').length}, column ${offset - before.lastIndexOf('\n')})`;
    throw new InvalidHistoryError(`${source}: not valid JSON: ${message}${where}`);
  }
}

/**
 * The offset of the first character JSON.parse cannot take, found by asking JSON.parse about
 * prefixes: a prefix is still viable when it parses or fails only for ending early, and once a
 * prefix is not viable no longer one is, so a binary search finds the first bad character. Used
 * only after JSON.parse has failed without saying where.
 */
function jsonErrorOffset(text: string): number {
  const viable = (n: number): boolean => {
    try {
      JSON.parse(text.slice(0, n));
      return true;
    } catch (err) {
      // "Unexpected end of JSON input", or an error placed at the very end ("Expected
      // double-quoted property name in JSON at position <n>" after a trailing comma).
      const message = (err as Error).message;
      const at = /at position (\d+)/.exec(message);
      return /end of JSON input/i.test(message) || (at !== null && Number(at[1]) >= n);
    }
  };
  let lo = 0; // viable (the empty prefix ends early)
  let hi = text.length; // not viable: the whole text failed
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (viable(mid)) lo = mid;
    else hi = mid;
  }
  return hi - 1;
}

// ---------------------------------------------------------------------------------------------
// The envelope

const ENVELOPE_KEYS = ['format', 'version', 'workflowId', 'runId', 'events'];

function readHistory(value: unknown, source: string): History {
  const top: Place = { source };
  if (!isRecord(value)) return expected(top, '', 'a history object { format, version, workflowId, runId, events }', value);

  const format = own(value, 'format');
  if (format !== HISTORY_FORMAT) {
    const events = own(value, 'events');
    const temporal =
      Array.isArray(events) && isRecord(events[0]) && Object.hasOwn(events[0], 'eventType')
        ? ' (this looks like a Temporal history export; deja reads those when they have no "format" field)'
        : '';
    if (format === undefined) fail(top, 'format', `missing required field (expected "${HISTORY_FORMAT}")${temporal}`);
    return expected(top, 'format', `"${HISTORY_FORMAT}"${temporal}`, format);
  }
  const version = own(value, 'version');
  if (version === undefined) fail(top, 'version', `missing required field (expected ${HISTORY_VERSION})`);
  if (typeof version !== 'number' || !SUPPORTED_HISTORY_VERSIONS.includes(version)) {
    expected(top, 'version', `a supported version (this build of deja reads version ${SUPPORTED_HISTORY_VERSIONS.join(', ')})`, version);
  }
  for (const key of Object.keys(value)) if (!ENVELOPE_KEYS.includes(key)) fail(top, key, unknownField(key, ENVELOPE_KEYS, 'a history'));

  const ids: Record<'workflowId' | 'runId', string> = { workflowId: '', runId: '' };
  for (const key of ['workflowId', 'runId'] as const) {
    const v = own(value, key);
    if (v === undefined) fail(top, key, 'missing required field');
    if (typeof v !== 'string' || v === '') return expected(top, key, 'a non-empty string', v);
    ids[key] = v;
  }

  const events = own(value, 'events');
  if (events === undefined) fail(top, 'events', 'missing required field');
  if (!Array.isArray(events) || events.length === 0) return expected(top, 'events', 'a non-empty array of events', events);

  const reader = new Reader(source, ids);
  for (let i = 0; i < events.length; i++) reader.read(events[i], i);
  return { format: HISTORY_FORMAT, version: HISTORY_VERSION, workflowId: ids.workflowId, runId: ids.runId, events: reader.events };
}

/**
 * Reads and fully validates a history: its JSON text (a string, a Buffer or other bytes, UTF-8) or
 * an already-parsed value. Returns a fresh `History` whose envelope, events and failures are new
 * objects with keys in canonical order (payload values are kept as given). An optional field set
 * to `undefined` counts as absent. Throws `InvalidHistoryError` naming `source` (default
 * "history"), the path and the event, with what was expected and what was found.
 */
export function parseHistory(input: string | Buffer | unknown, source?: string): History {
  // A history this function returned is valid and frozen (its envelope, event list and events),
  // so it is handed back as it is: read a file once, replay it many times, validate once.
  if (typeof input === 'object' && input !== null && VALIDATED.has(input)) return input as History;
  const label = source ?? 'history';
  let value: unknown;
  if (input instanceof Uint8Array && looksLikeTemporalProtobuf(input) !== 'no') {
    value = readTemporalBytes(input, label);
  } else {
    value = typeof input === 'string' || input instanceof Uint8Array ? parseJson(input, label) : input;
  }
  // A Temporal export (either JSON dialect, or protobuf as read above) is converted, then
  // validated like any deja history. Payload codecs need fromTemporalHistory, which is async.
  if (looksLikeTemporalJson(value)) value = convertTemporalHistory(value as Record<string, unknown>, label);
  // The fast path reads a valid history; anything else is read again by the detailed reader,
  // which words the error (the fast path never does, so messages come from one place).
  let history = readFast(value);
  if (history === undefined) {
    history = readGuarded(value, label);
    for (const event of history.events) Object.freeze(event);
  }
  Object.freeze(history.events);
  Object.freeze(history);
  VALIDATED.add(history);
  return history;
}

const VALIDATED = new WeakSet<object>();

/**
 * For tests (test/history.test.ts): the two readers on an already-parsed history value. The
 * fast one returns undefined where it is not sure (and freezes the events it returns); the
 * detailed one throws InvalidHistoryError.
 */
export const readersForTest = {
  fast: (value: unknown): History | undefined => readFast(value),
  detailed: (value: unknown, source = 'history'): History => readGuarded(value, source),
};

function readGuarded(value: unknown, source: string): History {
  try {
    return readHistory(value, source);
  } catch (err) {
    // Failure causes are checked recursively; a chain too deep for the stack is a bad history.
    if (err instanceof RangeError && /call stack/i.test(err.message)) {
      throw new InvalidHistoryError(`${source}: nested too deeply to read (${err.message})`);
    }
    throw err;
  }
}

/** serializeHistory with a label for messages (writeHistoryFile names its target file). */
export function serializeHistoryAs(history: History, source: string): string {
  if (!isRecord(history)) {
    throw new InvalidArgumentError(`${source}: expected a History object, found ${foundText(history)}`);
  }
  // Validating on write means an invalid file is never written, and rebuilding gives every event
  // and failure its canonical key order, so equal histories serialize to equal bytes.
  return `${JSON.stringify(readFast(history) ?? readGuarded(history, source), null, 2)}\n`;
}

/**
 * The canonical JSON text of a history: 2-space indent, envelope keys in the order format,
 * version, workflowId, runId, events; each event's keys in the order eventId, eventTime, type,
 * then its schema's order; a final newline. Validates first (throws `InvalidHistoryError`), so
 * `parseHistory(serializeHistory(h))` deep-equals `h` for any valid `h` without undefined fields.
 */
export function serializeHistory(history: History): string {
  return serializeHistoryAs(history, 'serializeHistory');
}
