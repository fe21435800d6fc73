/**
 * History validation and serialization (host side). `parseHistory` reads a history file (JSON text
 * or an already-parsed value), checks it completely against the closed schema of events.ts and the
 * invariants between events, and returns a fresh, typed `History`. `serializeHistory` writes the one
 * canonical JSON text of a history. Both are driven by one declarative spec per event type (SPECS),
 * so the schema, the checks and the key order cannot drift apart: an event type or a field without
 * a spec, or a spec whose checker returns the wrong type, does not compile.
 */
import { InvalidArgumentError, InvalidHistoryError, describe } from '../errors';
import type { FailureKind, Payload, RetryPolicy, RetryState, TimeoutType, WireFailure } from '../../runtime/protocol';
import { HISTORY_FORMAT, HISTORY_VERSION } from './events';
import type { EventOf, EventType, History, HistoryEvent } from './events';

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

type Check<T> = (value: unknown, at: At) => T;

const str: Check<string> = (v, at) => (typeof v === 'string' ? v : at.expected('a string', v));

const name: Check<string> = (v, at) =>
  typeof v === 'string' && v !== '' ? v : at.expected('a non-empty string', v);

const bool: Check<boolean> = (v, at) => (typeof v === 'boolean' ? v : at.expected('a boolean', v));

const posInt: Check<number> = (v, at) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 ? v : at.expected('a positive integer', v);

const nonNegInt: Check<number> = (v, at) =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : at.expected('a non-negative integer', v);

/** Durations may have a fraction: imported Temporal durations have nanosecond precision. */
const ms: Check<number> = (v, at) =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0
    ? v
    : at.expected('a non-negative, finite number of milliseconds', v);

const coefficient: Check<number> = (v, at) =>
  typeof v === 'number' && Number.isFinite(v) && v >= 1 ? v : at.expected('a finite number >= 1', v);

/** `values` comes from a Record over the union, so a new member of the union must be listed. */
function oneOf<T extends string>(members: Record<T, true>): Check<T> {
  const values = Object.keys(members) as T[];
  return (v, at) =>
    typeof v === 'string' && Object.hasOwn(members, v) ? (v as T) : at.expected(`one of ${quoteList(values)}`, v);
}

function arrayOf<T>(item: Check<T>): Check<T[]> {
  return (v, at) => {
    if (!Array.isArray(v)) return at.expected('an array', v);
    const out: T[] = new Array<T>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = item(v[i], at.item(i));
    return out;
  };
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
  return (v, at) => {
    if (!isRecord(v)) return at.expected(what, v);
    rejectUnknownKeys(v, keys, what, at);
    const out: Record<string, unknown> = {};
    readFields(v, fields, at, out);
    return out as O;
  };
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
const failure: Check<WireFailure> = (v, at) => failureObject(v, at);
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
  // Fast path for the canonical form deja writes: if formatting the parsed instant gives the same
  // text back, the text is a valid, real calendar time in UTC.
  if (v.length === 24) {
    const t = Date.parse(v);
    if (t === t && new Date(t).toISOString() === v) return t;
  }
  const m = ISO_TIME.exec(v);
  const ms = m ? Date.parse(v) : NaN;
  if (!m || Number.isNaN(ms)) return at.expected(what, v);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const daysInMonth = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) {
    return at.expected(`${what} (a real calendar date)`, v);
  }
  return ms;
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
    fields: { failure: req(failure), workflowTaskCompletedEventId: req(posInt) },
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
  for (let i = 0; i < events.length; i++) reader.read(events[i], i);
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
