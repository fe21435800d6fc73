/**
 * FROZEN BASELINE, NOT LIBRARY CODE: lib/history/validate.ts as it was before issue 7 (git
 * d01064f), kept only so that bench/src/measures/validate.ts can time today's validator against
 * the pre-issue-7 one in the same run. Only its import paths were changed. Do not fix or improve
 * it: it is the "before" of a comparison.
 */
/**
 * History validation and serialization (host side). `parseHistory` reads a history file (JSON text
 * or an already-parsed value), checks it completely against the closed schema of events.ts and the
 * invariants between events, and returns a fresh, typed `History`. `serializeHistory` writes the one
 * canonical JSON text of a history. Both are driven by one declarative spec per event type (SPECS),
 * so the schema, the checks and the key order cannot drift apart: an event type or a field without
 * a spec, or a spec whose checker returns the wrong type, does not compile.
 */
import { InvalidArgumentError, InvalidHistoryError, describe } from '../../../lib/errors';
import type { FailureKind, Payload, RetryPolicy, RetryState, TimeoutType, WireFailure } from '../../../runtime/protocol';
import { HISTORY_FORMAT, HISTORY_VERSION } from '../../../lib/history/events';
import type { EventOf, EventType, History, HistoryEvent } from '../../../lib/history/events';

/** The history file versions this build reads. It writes only HISTORY_VERSION. */
export const SUPPORTED_HISTORY_VERSIONS: readonly number[] = Object.freeze([HISTORY_VERSION]);

// ---------------------------------------------------------------------------------------------
// Locations and failures

/** The event a value belongs to. `idOk` once its eventId is known to equal its position. */
interface EventPlace {
  index: number;
  type?: EventType;
  idOk: boolean;
}

/**
 * Where a value sits: the envelope (no event) or a field path inside one event. Every failure
 * names the source, the full path and, inside an event, its id and type. The error's `eventId` is
 * the event's 1-based position, which equals its eventId whenever ids are valid (and is defined
 * even when the id is missing or wrong); its `field` is the path inside the event or envelope.
 */
class At {
  // The path is built only when a failure needs it: validation of a valid history (the common
  // case, thousands of events) then allocates no path strings at all.
  private built: string | undefined;
  constructor(
    readonly source: string,
    readonly event: EventPlace | undefined,
    path: string,
    private readonly parent?: At,
    private readonly segment?: string | number,
  ) {
    if (parent === undefined) this.built = path;
  }

  get path(): string {
    if (this.built === undefined) {
      const base = this.parent!.path;
      const seg = this.segment!;
      this.built = typeof seg === 'number' ? `${base}[${seg}]` : base === '' ? seg : `${base}.${seg}`;
    }
    return this.built;
  }

  key(name: string): At {
    return new At(this.source, this.event, '', this, name);
  }

  item(index: number): At {
    return new At(this.source, this.event, '', this, index);
  }

  /** Fails with "expected <what>, found <value>". */
  expected(what: string, found: unknown): never {
    return this.fail(`expected ${what}, found ${foundText(found)}`);
  }

  /** The same, with the found part already written out. */
  expectedButFound(what: string, found: string): never {
    return this.fail(`expected ${what}, found ${found}`);
  }

  fail(problem: string): never {
    throw new InvalidHistoryError(
      `${this.describe()}: ${problem}`,
      this.event ? this.event.index + 1 : undefined,
      this.path === '' ? undefined : this.path,
    );
  }

  private describe(): string {
    const ev = this.event;
    if (ev === undefined) return `${this.source}: ${this.path === '' ? 'the top level' : this.path}`;
    const sep = this.path === '' || this.path.startsWith('[') ? '' : '.';
    const label = ev.idOk ? ` (eventId ${ev.index + 1}${ev.type ? `, ${ev.type}` : ''})` : '';
    return `${this.source}: events[${ev.index}]${sep}${this.path}${label}`;
  }
}

function foundText(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `the bigint ${value}n`;
  if (typeof value === 'symbol') return `the symbol ${String(value)}`;
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !isPlain(value)) {
    return `an instance of ${(value as object).constructor?.name ?? 'an unknown class'}`;
  }
  return describe(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A plain object of any realm: its prototype is null or a prototype whose own prototype is null. */
function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}

function own(obj: Record<string, unknown>, key: string): unknown {
  // Own properties only: `constructor` or `toString` must never be read off the prototype.
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** The word with its indefinite article: "an activity", "a timer". */
const a = (word: string): string => `${/^[aeiou]/i.test(word) ? 'an' : 'a'} ${word}`;

const quoteList = (values: readonly string[]): string => values.map((v) => JSON.stringify(v)).join(', ');

// ---------------------------------------------------------------------------------------------
// Checkers: each returns the checked value (a fresh copy for objects), or fails at `at`.
//
// Most checkers also have a fast twin (registered with `withFast`), used on the success path: it
// returns the same value, or BAIL when it cannot accept the value. It never throws and never
// explains; on BAIL the event is read again by the checkers above, which find and word the
// problem. A checker without a twin always bails, which is slow but never wrong.

type Check<T> = (value: unknown, at: At) => T;

/** "Not accepted here": the slow path decides. */
const BAIL: unique symbol = Symbol('bail');
type Bail = typeof BAIL;

/**
 * A fast twin. `depth` counts the objects and arrays it is nested in; twins bail past MAX_DEPTH,
 * so the fast path never nests deeply enough to overflow the stack (the slow path handles depth).
 */
type Fast<T> = (value: unknown, depth: number) => T | Bail;
const MAX_DEPTH = 64;

const FAST = new Map<Check<unknown>, Fast<unknown>>();
const alwaysBail: Fast<never> = () => BAIL;

function withFast<T>(check: Check<T>, fast: Fast<T>): Check<T> {
  FAST.set(check, fast);
  return check;
}

const fastOf = <T>(check: Check<T>): Fast<T> => (FAST.get(check) as Fast<T> | undefined) ?? alwaysBail;

/** A checker that accepts a value as it is when `ok`, and otherwise fails with "expected <what>". */
function simple<T>(what: string, ok: (v: unknown) => boolean): Check<T> {
  return withFast<T>(
    (v, at) => (ok(v) ? (v as T) : at.expected(what, v)),
    (v) => (ok(v) ? (v as T) : BAIL),
  );
}

const str = simple<string>('a string', (v) => typeof v === 'string');

const name = simple<string>('a non-empty string', (v) => typeof v === 'string' && v !== '');

const bool = simple<boolean>('a boolean', (v) => typeof v === 'boolean');

const posInt = simple<number>('a positive integer', (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1);

const nonNegInt = simple<number>(
  'a non-negative integer',
  (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0,
);

/** Durations may have a fraction: imported Temporal durations have nanosecond precision. */
const ms = simple<number>(
  'a non-negative, finite number of milliseconds',
  (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0,
);

const coefficient = simple<number>(
  'a finite number >= 1',
  (v) => typeof v === 'number' && Number.isFinite(v) && v >= 1,
);

/** `values` comes from a Record over the union, so a new member of the union must be listed. */
function oneOf<T extends string>(members: Record<T, true>): Check<T> {
  const values = Object.keys(members) as T[];
  return simple<T>(`one of ${quoteList(values)}`, (v) => typeof v === 'string' && Object.hasOwn(members, v));
}

function arrayOf<T>(item: Check<T>): Check<T[]> {
  const fastItem = fastOf(item);
  return withFast<T[]>(
    (v, at) => {
      if (!Array.isArray(v)) return at.expected('an array', v);
      const out: T[] = new Array<T>(v.length);
      for (let i = 0; i < v.length; i++) out[i] = item(v[i], at.item(i));
      return out;
    },
    (v, depth) => {
      if (!Array.isArray(v) || depth >= MAX_DEPTH) return BAIL;
      const n = v.length;
      const out: T[] = new Array<T>(n);
      for (let i = 0; i < n; i++) {
        const x = fastItem(v[i], depth + 1);
        if (x === BAIL) return BAIL;
        out[i] = x;
      }
      return out;
    },
  );
}

/**
 * A payload is any JSON value that survives JSON.stringify → JSON.parse unchanged. Checked
 * iteratively, because JSON.parse accepts nesting deeper than a recursive walk could follow. Values
 * are returned as they are (not copied): they are user data, and their key order is kept.
 */
const payload: Check<Payload> = (value, at) => {
  interface Node {
    value: unknown;
    parent: Node | undefined;
    key: string | number | undefined;
  }
  const where = (node: Node): At => {
    const keys: (string | number)[] = [];
    for (let n: Node | undefined = node; n?.key !== undefined; n = n.parent) keys.push(n.key);
    let here = at;
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i];
      here = typeof k === 'number' ? here.item(k) : here.key(k);
    }
    return here;
  };
  const onPath = new Set<object>();
  const stack: (Node | { leave: object })[] = [{ value, parent: undefined, key: undefined }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if ('leave' in node) {
      onPath.delete(node.leave);
      continue;
    }
    const v = node.value;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') continue;
    if (typeof v === 'number') {
      if (Number.isFinite(v)) continue;
      return where(node).expected('a JSON value (numbers must be finite)', v);
    }
    if (typeof v !== 'object') {
      const hint = v === undefined ? ' (JSON has no undefined: omit the field, or use null inside arrays)' : '';
      return where(node).expected(`a JSON value${hint}`, v);
    }
    if (onPath.has(v)) return where(node).fail('expected a JSON value, found a cycle (a value that contains itself)');
    if (!Array.isArray(v) && !isPlain(v)) return where(node).expected('a JSON value (a plain object)', v);
    onPath.add(v);
    stack.push({ leave: v });
    // Children are pushed in reverse so that the first bad one, in document order, is reported.
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], parent: node, key: i });
    } else {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push({ value: (v as Record<string, unknown>)[keys[i]], parent: node, key: keys[i] });
      }
    }
  }
  return value;
};
withFast(payload, (v) => (isJson(v, 0) ? (v as Payload) : BAIL));

/**
 * The fast twin of `payload`'s walk: true if `v` is a JSON value no more than MAX_DEPTH deep
 * (anything deeper, a cycle included, is left to the iterative walk). A plain object is one with
 * this realm's Object.prototype or none; for-in then lists its own keys (see ordinaryPrototypes).
 */
function isJson(v: unknown, depth: number): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (typeof v !== 'object' || depth >= MAX_DEPTH) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!isJson(v[i], depth + 1)) return false;
    return true;
  }
  if (!isOrdinary(v)) return false;
  for (const key in v) if (!isJson((v as Record<string, unknown>)[key], depth + 1)) return false;
  return true;
}

const payloads = arrayOf(payload);

// ---------------------------------------------------------------------------------------------
// Declarative field specs, shared by events and by the objects nested in them

/** One field: its checker and whether it may be absent. `undefined` counts as absent. */
interface Rule<T, Optional extends boolean> {
  check: Check<T>;
  optional: Optional;
}

/** A rule for every key of O; a rule is optional exactly when the key is optional in O. */
type Fields<O> = {
  [K in keyof O]-?: Rule<Exclude<O[K], undefined>, {} extends Pick<O, K> ? true : false>;
};

const req = <T>(check: Check<T>): Rule<T, false> => ({ check, optional: false });
const opt = <T>(check: Check<T>): Rule<T, true> => ({ check, optional: true });

/** Edit distance, for "did you mean" on unknown field names. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

/** True if every character of `short` appears in `long`, in order ("maxAttempts" in "maximumAttempts"). */
function isSubsequence(short: string, long: string): boolean {
  let j = 0;
  for (let i = 0; i < long.length && j < short.length; i++) if (long[i] === short[j]) j++;
  return j === short.length;
}

/** The schema is closed: an unknown key is most often a typo, so it is named, with a guess. */
function rejectUnknownKeys(obj: Record<string, unknown>, allowed: readonly string[], what: string, at: At): void {
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key)) continue;
    const near = allowed
      .map((k) => ({ k, d: distance(k.toLowerCase(), key.toLowerCase()) }))
      .filter(({ k, d }) => d <= 2 || (key.length >= 4 && isSubsequence(key.toLowerCase(), k.toLowerCase())))
      .sort((a, b) => a.d - b.d)[0]?.k;
    at.key(key).fail(
      `unknown field ${JSON.stringify(key)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}; ` +
        `${what} has only: ${allowed.join(', ')}`,
    );
  }
}

/** Reads every field of `fields` from `obj` into `out`, in the spec's order. */
function readFields<O>(obj: Record<string, unknown>, fields: Fields<O>, at: At, out: Record<string, unknown>): void {
  for (const [key, rule] of Object.entries(fields) as [string, Rule<unknown, boolean>][]) {
    const value = own(obj, key);
    if (value === undefined) {
      if (rule.optional) continue;
      at.key(key).fail('missing required field');
    }
    out[key] = rule.check(value, at.key(key));
  }
}

function object<O>(what: string, fields: Fields<O>): Check<O> {
  const keys = Object.keys(fields);
  const allowed = keySet(keys);
  const rules = fastRules(fields);
  return withFast<O>(
    (v, at) => {
      if (!isRecord(v)) return at.expected(what, v);
      rejectUnknownKeys(v, keys, what, at);
      const out: Record<string, unknown> = {};
      readFields(v, fields, at, out);
      return out as O;
    },
    (v, depth) => {
      if (typeof v !== 'object' || v === null || depth >= MAX_DEPTH || !isOrdinaryRecord(v)) return BAIL;
      if (!onlyKeys(v, allowed)) return BAIL;
      const out: Record<string, unknown> = {};
      return readFieldsFast(v, rules, depth + 1, out) ? (out as O) : BAIL;
    },
  );
}

// The fast twins of readFields and rejectUnknownKeys. They read with `obj[key]` and for-in, which
// agree with `own` and Object.keys only on an ordinary object (isOrdinaryRecord) and only while
// ordinaryPrototypes() holds; the fast path runs only then.

/** A field rule with its fast twin. */
interface FastRule {
  key: string;
  optional: boolean;
  check: Fast<unknown>;
}

/** Every key that a fast rule or Reader.readFast reads by name. */
const READ_BY_NAME = new Set<string>(['eventId', 'eventTime', 'type']);

function fastRules<O>(fields: Fields<O>): FastRule[] {
  return Object.entries(fields as Record<string, Rule<unknown, boolean>>).map(([key, rule]) => {
    READ_BY_NAME.add(key);
    return { key, optional: rule.optional, check: fastOf(rule.check) };
  });
}

/** The same as readFields, or false where readFields would fail or might. */
function readFieldsFast(
  obj: Record<string, unknown>,
  rules: readonly FastRule[],
  depth: number,
  out: Record<string, unknown>,
): boolean {
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    const value = obj[rule.key];
    if (value === undefined) {
      if (rule.optional) continue;
      return false;
    }
    const checked = rule.check(value, depth);
    if (checked === BAIL) return false;
    out[rule.key] = checked;
  }
  return true;
}

type KeySet = Readonly<Record<string, true | undefined>>;

/** A prototype-less lookup table, so that no key ("constructor", "__proto__") is found by accident. */
function keySet(keys: readonly string[]): KeySet {
  const set = Object.create(null) as Record<string, true>;
  for (const key of keys) set[key] = true;
  return set;
}

/** True if rejectUnknownKeys would accept `obj`'s keys. */
function onlyKeys(obj: object, allowed: KeySet): boolean {
  for (const key in obj) if (allowed[key] !== true) return false;
  return true;
}

/** Not an array, and its prototype is this realm's Object.prototype or null. */
function isOrdinaryRecord(v: object): v is Record<string, unknown> {
  return !Array.isArray(v) && isOrdinary(v);
}

function isOrdinary(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as object | null;
  return proto === Object.prototype || proto === null;
}

const failureKind = oneOf<FailureKind>({
  application: true,
  activity: true,
  timeout: true,
  cancelled: true,
  terminated: true,
  server: true,
});
const retryState = oneOf<RetryState>({
  unspecified: true,
  inProgress: true,
  nonRetryableFailure: true,
  timeout: true,
  maximumAttemptsReached: true,
  retryPolicyNotSet: true,
  cancelRequested: true,
});
const timeoutType = oneOf<TimeoutType>({
  startToClose: true,
  scheduleToStart: true,
  scheduleToClose: true,
  heartbeat: true,
});

// `failure` is recursive through `cause`; the indirection lets the spec name itself.
const failure: Check<WireFailure> = withFast(
  (v, at) => failureObject(v, at),
  (v, depth) => fastFailure(v, depth),
);
const failureObject = object<WireFailure>('a failure { message, kind, … }', {
  message: req(str),
  kind: req(failureKind),
  type: opt(str),
  stack: opt(str),
  nonRetryable: opt(bool),
  details: opt(payloads),
  activityType: opt(str),
  activityId: opt(str),
  retryState: opt(retryState),
  timeoutType: opt(timeoutType),
  cause: opt(failure),
});
const fastFailure = fastOf(failureObject);

const retryPolicy = object<RetryPolicy>('a retry policy', {
  initialIntervalMs: opt(ms),
  backoffCoefficient: opt(coefficient),
  maximumIntervalMs: opt(ms),
  maximumAttempts: opt(nonNegInt),
  nonRetryableErrorTypes: opt(arrayOf(str)),
});

// ISO-8601 date-time with a zone. A zone is required: without one Date.parse reads local time,
// and history would then depend on the reading machine's time zone.
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Returns ms since the epoch. Date.parse alone accepts 2021-02-30, so the day is checked too. */
function eventTime(v: unknown, at: At): number {
  const what = 'an ISO-8601 UTC time such as "2024-01-31T12:00:00.000Z"';
  if (typeof v !== 'string') return at.expected(what, v);
  const t = timeMs(v);
  if (t === t) return t;
  // timeMs rejected it: either it is not ISO-8601 at all, or the date does not exist.
  const iso = ISO_TIME.test(v) && !Number.isNaN(Date.parse(v));
  return at.expected(iso ? `${what} (a real calendar date)` : what, v);
}

/** The ms since the epoch of a valid event time, or NaN. */
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
 * The fast path for the canonical form deja writes, "YYYY-MM-DDTHH:MM:SS.sssZ": its ms since the
 * epoch, or NaN for any other text (which eventTime then reads by ISO_TIME). It accepts only
 * texts that ISO_TIME and the calendar check accept, and computes what Date.parse does.
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
// Event specs

type BaseKey = 'eventId' | 'eventTime' | 'type';
const BASE_KEYS: readonly BaseKey[] = ['eventId', 'eventTime', 'type'];

type KeysOf<E, V> = { [K in keyof E]-?: Exclude<E[K], undefined> extends V ? K : never }[Exclude<keyof E, BaseKey>];

/** The long-lived things that events open, start and close. */
type Thing = 'workflowTask' | 'activity' | 'timer';
const THING_NAME: Record<Thing, string> = { workflowTask: 'workflow task', activity: 'activity', timer: 'timer' };

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

interface EventSpec<E extends HistoryEvent> {
  fields: Fields<Omit<E, BaseKey>>;
  refs?: { [K in KeysOf<E, number>]?: Ref<E> };
  life?: Life<E>;
  /** Fields that must equal the envelope's field of the same name. */
  envelope?: KeysOf<E, string>[];
}

const SPECS: { [T in EventType]: EventSpec<EventOf<T>> } = {
  workflowExecutionStarted: {
    fields: {
      workflowType: req(name),
      workflowId: req(name),
      runId: req(name),
      firstExecutionRunId: req(name),
      taskQueue: req(name),
      input: req(payloads),
      attempt: req(posInt),
      randomnessSeed: req(name),
      workflowTaskTimeoutMs: req(ms),
    },
    life: { op: 'startExecution' },
    envelope: ['workflowId', 'runId'],
  },
  workflowTaskScheduled: {
    fields: { taskQueue: req(name), attempt: req(posInt) },
    life: { op: 'open', thing: 'workflowTask' },
  },
  workflowTaskStarted: {
    fields: { scheduledEventId: req(posInt), identity: opt(str) },
    refs: { scheduledEventId: { to: 'workflowTaskScheduled' } },
    life: { op: 'start', thing: 'workflowTask', via: 'scheduledEventId' },
  },
  workflowTaskCompleted: {
    fields: { scheduledEventId: req(posInt), startedEventId: req(posInt), identity: opt(str) },
    refs: {
      scheduledEventId: { to: 'workflowTaskScheduled' },
      startedEventId: { to: 'workflowTaskStarted', same: 'scheduledEventId' },
    },
    life: { op: 'close', thing: 'workflowTask', via: 'scheduledEventId' },
  },
  workflowTaskFailed: {
    fields: {
      scheduledEventId: req(posInt),
      startedEventId: req(posInt),
      cause: req(name),
      failure: req(failure),
      identity: opt(str),
    },
    refs: {
      scheduledEventId: { to: 'workflowTaskScheduled' },
      startedEventId: { to: 'workflowTaskStarted', same: 'scheduledEventId' },
    },
    life: { op: 'close', thing: 'workflowTask', via: 'scheduledEventId' },
  },
  workflowTaskTimedOut: {
    fields: { scheduledEventId: req(posInt), startedEventId: req(posInt) },
    refs: {
      scheduledEventId: { to: 'workflowTaskScheduled' },
      startedEventId: { to: 'workflowTaskStarted', same: 'scheduledEventId' },
    },
    life: { op: 'close', thing: 'workflowTask', via: 'scheduledEventId' },
  },
  activityTaskScheduled: {
    fields: {
      activityId: req(name),
      activityType: req(name),
      taskQueue: req(name),
      input: req(payloads),
      scheduleToCloseTimeoutMs: opt(ms),
      scheduleToStartTimeoutMs: opt(ms),
      startToCloseTimeoutMs: opt(ms),
      heartbeatTimeoutMs: opt(ms),
      retryPolicy: opt(retryPolicy),
      workflowTaskCompletedEventId: req(posInt),
    },
    refs: { workflowTaskCompletedEventId: { to: 'workflowTaskCompleted' } },
    life: { op: 'open', thing: 'activity', unique: 'activityId' },
  },
  activityTaskStarted: {
    fields: { scheduledEventId: req(posInt), attempt: req(posInt), identity: opt(str) },
    refs: { scheduledEventId: { to: 'activityTaskScheduled' } },
    life: { op: 'start', thing: 'activity', via: 'scheduledEventId' },
  },
  activityTaskCompleted: {
    fields: { scheduledEventId: req(posInt), startedEventId: req(posInt), result: opt(payload) },
    refs: {
      scheduledEventId: { to: 'activityTaskScheduled' },
      startedEventId: { to: 'activityTaskStarted', same: 'scheduledEventId' },
    },
    life: { op: 'close', thing: 'activity', via: 'scheduledEventId' },
  },
  activityTaskFailed: {
    fields: {
      scheduledEventId: req(posInt),
      startedEventId: req(posInt),
      failure: req(failure),
      retryState: req(retryState),
    },
    refs: {
      scheduledEventId: { to: 'activityTaskScheduled' },
      startedEventId: { to: 'activityTaskStarted', same: 'scheduledEventId' },
    },
    life: { op: 'close', thing: 'activity', via: 'scheduledEventId' },
  },
  activityTaskTimedOut: {
    fields: {
      scheduledEventId: req(posInt),
      startedEventId: opt(posInt),
      failure: req(failure),
      retryState: req(retryState),
    },
    refs: {
      scheduledEventId: { to: 'activityTaskScheduled' },
      startedEventId: { to: 'activityTaskStarted', same: 'scheduledEventId' },
    },
    life: { op: 'close', thing: 'activity', via: 'scheduledEventId' },
  },
  timerStarted: {
    fields: { timerId: req(name), startToFireTimeoutMs: req(ms), workflowTaskCompletedEventId: req(posInt) },
    refs: { workflowTaskCompletedEventId: { to: 'workflowTaskCompleted' } },
    life: { op: 'open', thing: 'timer', unique: 'timerId' },
  },
  timerFired: {
    fields: { timerId: req(name), startedEventId: req(posInt) },
    refs: { startedEventId: { to: 'timerStarted', same: 'timerId' } },
    life: { op: 'close', thing: 'timer', via: 'startedEventId' },
  },
  timerCanceled: {
    fields: { timerId: req(name), startedEventId: req(posInt), workflowTaskCompletedEventId: req(posInt) },
    refs: {
      startedEventId: { to: 'timerStarted', same: 'timerId' },
      workflowTaskCompletedEventId: { to: 'workflowTaskCompleted' },
    },
    life: { op: 'close', thing: 'timer', via: 'startedEventId' },
  },
  workflowExecutionSignaled: {
    fields: { signalName: req(name), input: req(payloads), identity: opt(str) },
  },
  workflowExecutionCompleted: {
    fields: { result: opt(payload), workflowTaskCompletedEventId: req(posInt) },
    refs: { workflowTaskCompletedEventId: { to: 'workflowTaskCompleted' } },
    life: { op: 'closeExecution' },
  },
  workflowExecutionFailed: {
    fields: { failure: req(failure), workflowTaskCompletedEventId: opt(posInt) },
    refs: { workflowTaskCompletedEventId: { to: 'workflowTaskCompleted' } },
    life: { op: 'closeExecution' },
  },
};

/** Every event type of the current schema, in the schema's order. */
export const EVENT_TYPES: readonly EventType[] = Object.freeze(Object.keys(SPECS) as EventType[]);

/** The allowed keys of each event type, in canonical (serialization) order. */
const EVENT_KEYS = {} as Record<EventType, readonly string[]>;
for (const type of EVENT_TYPES) EVENT_KEYS[type] = [...BASE_KEYS, ...Object.keys(SPECS[type].fields)];

// The specs are read generically below; these views drop the per-type key typing.
type AnyRef = { to: EventType; same?: string };
type AnyLife =
  | { op: 'startExecution' | 'closeExecution' }
  | { op: 'open'; thing: Thing; unique?: string }
  | { op: 'start' | 'close'; thing: Thing; via: string };
interface AnySpec {
  fields: Fields<Record<string, unknown>>;
  refs?: Record<string, AnyRef | undefined>;
  life?: AnyLife;
  envelope?: string[];
}
const specOf = (type: EventType): AnySpec => SPECS[type] as unknown as AnySpec;

/** A spec compiled for Reader.readFast: its fields' fast twins, its refs as a list. */
interface FastSpec {
  allowed: KeySet;
  rules: readonly FastRule[];
  /** The first event, and only the first, starts the execution. */
  starts: boolean;
  envelope: readonly string[];
  refs: readonly { key: string; to: EventType; same: string | undefined }[];
  life: AnyLife | undefined;
}

const FAST_SPECS = new Map<string, FastSpec>();
for (const type of EVENT_TYPES) {
  const spec = specOf(type);
  const refs: FastSpec['refs'][number][] = [];
  for (const [key, ref] of Object.entries(spec.refs ?? {})) {
    if (ref !== undefined) refs.push({ key, to: ref.to, same: ref.same });
  }
  FAST_SPECS.set(type, {
    allowed: keySet(EVENT_KEYS[type]),
    rules: fastRules(spec.fields),
    starts: spec.life?.op === 'startExecution',
    envelope: spec.envelope ?? [],
    refs,
    life: spec.life,
  });
}

/**
 * True if Object.prototype has no enumerable property (which for-in would list) and none named
 * like a field (which `obj[key]` would find). Checked once per history, since a library may have
 * added some; if it has, every event of the history takes the slow path.
 */
function ordinaryPrototypes(): boolean {
  for (const _ in Object.prototype) return false;
  for (const key of READ_BY_NAME) if (key in Object.prototype) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Reading a history

/** A workflow task, activity or timer, from the event that opened it. */
interface ThingState {
  startedBy?: number;
  closedBy?: number;
  /** The value of the spec's `unique` field, released on close. */
  key?: string;
}

/** What is known after reading a prefix of the events. */
class Reader {
  readonly events: HistoryEvent[] = [];
  private lastTimeMs = -Infinity;
  private lastTimeText = '';
  private closedBy: number | undefined;
  private readonly things: Record<Thing, Map<number, ThingState>> = {
    workflowTask: new Map(),
    activity: new Map(),
    timer: new Map(),
  };
  /** For each thing, the `unique` key of every open one → the id of the event that opened it. */
  private readonly openKeys: Record<Thing, Map<string, number>> = {
    workflowTask: new Map(),
    activity: new Map(),
    timer: new Map(),
  };

  constructor(
    private readonly source: string,
    private readonly envelope: { workflowId: string; runId: string },
  ) {}

  /**
   * Reads event `index` exactly as `read` does, when it is valid and every value in it has a fast
   * twin that accepts it. Otherwise it changes nothing and returns false, and `read` reads the
   * event again: so `read` alone decides what is wrong and how to say it.
   */
  readFast(raw: unknown, index: number): boolean {
    if (typeof raw !== 'object' || raw === null || !isOrdinaryRecord(raw)) return false;
    const id = index + 1;
    if (raw.eventId !== id) return false;
    const type = raw.type;
    const spec = typeof type === 'string' ? FAST_SPECS.get(type) : undefined;
    if (spec === undefined || this.closedBy !== undefined || spec.starts !== (index === 0)) return false;
    if (!onlyKeys(raw, spec.allowed)) return false;

    const timeText = raw.eventTime;
    if (typeof timeText !== 'string') return false;
    // Most events share their time with the one before.
    const time = index > 0 && timeText === this.lastTimeText ? this.lastTimeMs : timeMs(timeText);
    if (!(time >= this.lastTimeMs)) return false;

    const event: Record<string, unknown> = { eventId: id, eventTime: timeText, type };
    if (!readFieldsFast(raw, spec.rules, 0, event)) return false;

    for (let i = 0; i < spec.envelope.length; i++) {
      const key = spec.envelope[i];
      if (event[key] !== this.envelope[key as keyof typeof this.envelope]) return false;
    }
    for (let i = 0; i < spec.refs.length; i++) {
      const ref = spec.refs[i];
      const target = event[ref.key] as number | undefined;
      if (target === undefined) continue;
      if (target >= id) return false;
      const referenced = this.events[target - 1] as unknown as Record<string, unknown>;
      if (referenced.type !== ref.to) return false;
      if (ref.same !== undefined && referenced[ref.same] !== event[ref.same]) return false;
    }

    // The checks of `apply`, then (below, once nothing can fail) its changes.
    const life = spec.life;
    let state: ThingState | undefined;
    if (life !== undefined) {
      if (life.op === 'open') {
        if (life.unique !== undefined && this.openKeys[life.thing].has(event[life.unique] as string)) return false;
      } else if (life.op === 'start' || life.op === 'close') {
        state = this.things[life.thing].get(event[life.via] as number);
        if (state === undefined || state.closedBy !== undefined) return false;
        if (life.op === 'start' && state.startedBy !== undefined) return false;
      }
    }

    if (life !== undefined) {
      switch (life.op) {
        case 'startExecution':
          break;
        case 'closeExecution':
          this.closedBy = id;
          break;
        case 'open': {
          const opened: ThingState = {};
          if (life.unique !== undefined) {
            const key = event[life.unique] as string;
            this.openKeys[life.thing].set(key, id);
            opened.key = key;
          }
          this.things[life.thing].set(id, opened);
          break;
        }
        case 'start':
          state!.startedBy = id;
          break;
        case 'close':
          state!.closedBy = id;
          if (state!.key !== undefined) this.openKeys[life.thing].delete(state!.key);
          break;
      }
    }
    this.lastTimeMs = time;
    this.lastTimeText = timeText;
    this.events.push(event as unknown as HistoryEvent);
    return true;
  }

  read(raw: unknown, index: number): void {
    const place: EventPlace = { index, idOk: false };
    const at = new At(this.source, place, '');
    const id = index + 1;
    if (!isRecord(raw)) return at.expected('an event object', raw);

    const eventId = own(raw, 'eventId');
    if (eventId === undefined) at.key('eventId').fail(`missing required field (expected ${id})`);
    if (eventId !== id) {
      at.key('eventId').expected(`${id} (event ids are 1, 2, 3, … in order, with no gaps)`, eventId);
    }
    place.idOk = true;

    const type = own(raw, 'type');
    if (type === undefined) at.key('type').fail('missing required field');
    if (typeof type !== 'string' || !Object.hasOwn(SPECS, type)) {
      return at.key('type').expected(`a known event type (one of ${EVENT_TYPES.join(', ')})`, type);
    }
    place.type = type as EventType;
    const spec = specOf(place.type);

    if (this.closedBy !== undefined) {
      const closer = this.events[this.closedBy - 1];
      at.fail(`no event may follow event ${this.closedBy} (${closer.type}), which closed the workflow`);
    }
    const life = spec.life;
    if (index === 0 && life?.op !== 'startExecution') {
      at.key('type').expected('"workflowExecutionStarted" (the first event starts the workflow)', type);
    }
    if (index > 0 && life?.op === 'startExecution') {
      at.key('type').fail('workflowExecutionStarted may only be the first event');
    }

    rejectUnknownKeys(raw, EVENT_KEYS[place.type], `${a(place.type)} event`, at);

    const timeText = own(raw, 'eventTime');
    if (timeText === undefined) at.key('eventTime').fail('missing required field');
    const timeMs = eventTime(timeText, at.key('eventTime'));
    if (timeMs < this.lastTimeMs) {
      at.key('eventTime').fail(
        `event time goes backwards: expected ${JSON.stringify(this.lastTimeText)} (event ${id - 1}'s time) or later, ` +
          `found ${JSON.stringify(timeText)}`,
      );
    }

    const event: Record<string, unknown> = { eventId: id, eventTime: timeText, type };
    readFields(raw, spec.fields, at, event);

    for (const key of spec.envelope ?? []) {
      const expected = this.envelope[key as keyof typeof this.envelope];
      if (event[key] !== expected) {
        at.key(key).expected(`the history's ${key} ${JSON.stringify(expected)}`, event[key]);
      }
    }
    for (const [key, ref] of Object.entries(spec.refs ?? {})) {
      if (ref !== undefined && event[key] !== undefined) this.checkRef(event, key, ref, at.key(key));
    }
    if (life !== undefined) this.apply(event, life, at);

    this.lastTimeMs = timeMs;
    this.lastTimeText = timeText as string;
    this.events.push(event as unknown as HistoryEvent);
  }

  private checkRef(event: Record<string, unknown>, key: string, ref: AnyRef, at: At): void {
    const target = event[key] as number;
    const self = event.eventId as number;
    const same = ref.same === undefined ? '' : ` with ${ref.same} ${JSON.stringify(event[ref.same])}`;
    const what = `the eventId of an earlier ${ref.to} event${same}`;
    if (target >= self) at.expectedButFound(what, `${target}, which is not earlier than this event`);
    const referenced = this.events[target - 1];
    if (referenced.type !== ref.to) at.expectedButFound(what, `${target}, which is ${a(referenced.type)} event`);
    if (ref.same !== undefined) {
      const theirs = (referenced as unknown as Record<string, unknown>)[ref.same];
      if (theirs !== event[ref.same]) {
        at.expectedButFound(what, `${target}, whose ${ref.same} is ${JSON.stringify(theirs)}`);
      }
    }
  }

  private apply(event: Record<string, unknown>, life: AnyLife, at: At): void {
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
            at.key(life.unique).fail(
              `${life.unique} ${JSON.stringify(key)} is already used by the ${THING_NAME[life.thing]} ` +
                `opened at event ${holder}, which is still open`,
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
        // missing state can only be a spec whose `via` has no ref, or a ref to the wrong opener.
        const opener = event[life.via] as number;
        const state = this.things[life.thing].get(opener);
        if (state === undefined) throw new Error(`deja bug: ${event.type}.${life.via} is not checked as a reference`);
        const thing = THING_NAME[life.thing];
        const fail = (problem: string): never =>
          at.key(life.via).expectedButFound(`${a(thing)} that is still open`, `${opener}: that ${thing} ${problem}`);
        if (state.closedBy !== undefined) {
          fail(`was already closed by event ${state.closedBy} (${this.events[state.closedBy - 1].type})`);
        }
        if (life.op === 'start') {
          if (state.startedBy !== undefined) fail(`was already started by event ${state.startedBy}`);
          state.startedBy = id;
        } else {
          state.closedBy = id;
          if (state.key !== undefined) this.openKeys[life.thing].delete(state.key);
        }
        return;
      }
    }
  }
}

function parseJson(input: string | Uint8Array, source: string): unknown {
  let text = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  // Editors on some systems write a byte-order mark, which JSON.parse rejects.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    // Node 20's V8 gives a position for some errors only; otherwise find it ourselves.
    const pos = /at position (\d+)/.exec(message);
    const offset = pos ? Number(pos[1]) : jsonErrorOffset(text);
    let where = '';
    if (offset !== undefined) {
      const before = text.slice(0, offset);
      const line = before.split('\n').length;
      const column = offset - before.lastIndexOf('\n');
      where = ` (line ${line}, column ${column})`;
    }
    throw new InvalidHistoryError(`${source}: not valid JSON: ${message}${where}`);
  }
}

/**
 * The offset of the first JSON syntax error in `text`, or undefined if it finds none. Used only
 * after JSON.parse has failed, to say where. Iterative, like the parser, so any depth is fine.
 */
function jsonErrorOffset(text: string): number | undefined {
  const n = text.length;
  const open: string[] = [];
  let i = 0;
  const ws = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const digit = (): boolean => text[i] >= '0' && text[i] <= '9';
  const digits = (): boolean => {
    if (!digit()) return false;
    while (digit()) i++;
    return true;
  };
  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, leaving i at the first character that breaks it.
  const number = (): boolean => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else if (!digits()) return false;
    if (text[i] === '.') {
      i++;
      if (!digits()) return false;
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (!digits()) return false;
    }
    return true;
  };
  const string = (): boolean => {
    if (text[i] !== '"') return false;
    for (i++; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        i++;
        if (text[i] === 'u') {
          for (let k = 0; k < 4; k++) if (!/[0-9a-fA-F]/.test(text[++i] ?? '')) return false;
        } else if (i >= n || !'"\\/bfnrt'.includes(text[i])) return false;
      }
    }
    return false;
  };
  let want: 'value' | 'valueOrEnd' | 'key' | 'keyOrEnd' | 'after' = 'value';
  for (;;) {
    ws();
    if (want === 'after') {
      const top = open[open.length - 1];
      if (top === undefined) return i < n ? i : undefined;
      if (text[i] === ',') want = top === '{' ? 'key' : 'value';
      else if (text[i] === (top === '{' ? '}' : ']')) open.pop();
      else return i;
      i++;
      continue;
    }
    if (want === 'keyOrEnd' || want === 'valueOrEnd') {
      if (text[i] === (want === 'keyOrEnd' ? '}' : ']')) {
        open.pop();
        i++;
        want = 'after';
        continue;
      }
      want = want === 'keyOrEnd' ? 'key' : 'value';
    }
    if (want === 'key') {
      if (!string()) return i;
      ws();
      if (text[i] !== ':') return i;
      i++;
      want = 'value';
      continue;
    }
    // want === 'value'
    const c = text[i];
    if (c === '{' || c === '[') {
      open.push(c);
      i++;
      want = c === '{' ? 'keyOrEnd' : 'valueOrEnd';
      continue;
    }
    want = 'after';
    if (c === '"') {
      if (!string()) return i;
      continue;
    }
    const literal = c === 't' ? 'true' : c === 'f' ? 'false' : c === 'n' ? 'null' : undefined;
    if (literal !== undefined) {
      for (const ch of literal) if (text[i++] !== ch) return i - 1;
      continue;
    }
    if (!number()) return i;
  }
}

const ENVELOPE_KEYS = ['format', 'version', 'workflowId', 'runId', 'events'];

function readHistory(value: unknown, source: string): History {
  const top = new At(source, undefined, '');
  if (!isRecord(value)) return top.expected('a history object { format, version, workflowId, runId, events }', value);

  const format = own(value, 'format');
  if (format !== HISTORY_FORMAT) {
    const events = own(value, 'events');
    const temporal =
      Array.isArray(events) && isRecord(events[0]) && Object.hasOwn(events[0], 'eventType')
        ? ' (this looks like a Temporal history export; deja cannot read those yet)'
        : '';
    if (format === undefined) top.key('format').fail(`missing required field (expected "${HISTORY_FORMAT}")${temporal}`);
    return top.key('format').expected(`"${HISTORY_FORMAT}"${temporal}`, format);
  }
  const version = own(value, 'version');
  if (version === undefined) top.key('version').fail(`missing required field (expected ${HISTORY_VERSION})`);
  if (typeof version !== 'number' || !SUPPORTED_HISTORY_VERSIONS.includes(version)) {
    top.key('version').expected(
      `a supported version (this build of deja reads version ${SUPPORTED_HISTORY_VERSIONS.join(', ')})`,
      version,
    );
  }
  rejectUnknownKeys(value, ENVELOPE_KEYS, 'a history', top);

  const workflowId = own(value, 'workflowId');
  if (workflowId === undefined) top.key('workflowId').fail('missing required field');
  name(workflowId, top.key('workflowId'));
  const runId = own(value, 'runId');
  if (runId === undefined) top.key('runId').fail('missing required field');
  name(runId, top.key('runId'));

  const events = own(value, 'events');
  if (events === undefined) top.key('events').fail('missing required field');
  if (!Array.isArray(events) || events.length === 0) {
    return top.key('events').expected('a non-empty array of events', events);
  }

  const reader = new Reader(source, { workflowId: workflowId as string, runId: runId as string });
  const fast = ordinaryPrototypes();
  for (let i = 0; i < events.length; i++) {
    const event: unknown = events[i];
    let done = false;
    if (fast) {
      try {
        done = reader.readFast(event, i);
      } catch {
        // Only a getter or proxy in the input (or a full stack) can throw here: let `read` meet it.
      }
    }
    if (!done) reader.read(event, i);
  }
  return {
    format: HISTORY_FORMAT,
    version: HISTORY_VERSION,
    workflowId: workflowId as string,
    runId: runId as string,
    events: reader.events,
  };
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
  const value = typeof input === 'string' || input instanceof Uint8Array ? parseJson(input, label) : input;
  const history = readGuarded(value, label);
  for (const event of history.events) Object.freeze(event);
  Object.freeze(history.events);
  Object.freeze(history);
  VALIDATED.add(history);
  return history;
}

const VALIDATED = new WeakSet<object>();

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
  return `${JSON.stringify(readGuarded(history, source), null, 2)}\n`;
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
