/**
 * Temporal history files, read and written (host side). `fromTemporalHistory` turns a Temporal
 * history (either JSON dialect, or binary protobuf) into a deja `History`; `toTemporalHistory`
 * writes a deja history as Temporal's current proto3 JSON. parseHistory (validate.ts) calls the
 * same reader when its input looks like a Temporal export, so every reader of history files
 * (readHistoryFile, replayHistory, `deja replay`) takes them.
 *
 * What a Temporal file looks like, and how it is recognised:
 * - proto3 JSON (`"eventType": "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"`, enums as
 *   `TASK_QUEUE_KIND_NORMAL`) and the older tctl/gogo JSON (`"eventType": "WorkflowExecutionStarted"`,
 *   enums as `Normal`). Both: int64 as strings, durations as `"10s"`, times as RFC 3339, bytes
 *   (payload data and metadata) as base64. A parsed value is Temporal's when it is an object
 *   without a `format` field whose `events` is a non-empty array whose first element has an
 *   `eventType` field.
 * - binary protobuf (`temporal.api.history.v1.History`): bytes whose first byte is 0x0A (field 1,
 *   `events`, length-delimited) and that are not JSON text. They are decoded with
 *   `@temporalio/proto`, loaded on first use only, so a deja user who never reads one never loads
 *   it. Decoded messages give durations and times as `{ seconds, nanos }`; the reader takes both.
 *
 * Payloads become deja payloads (JSON values): `json/plain` is parsed; `binary/null` is undefined
 * (absent); `json/protobuf` and `binary/protobuf` are decoded with @temporalio/proto when their
 * `messageType` metadata names a message it knows, into that message's proto3 JSON form. Any
 * other encoding (`binary/plain`, `binary/encrypted`, a custom codec's) is an InvalidHistoryError
 * naming the event, the field and the encoding, unless the caller of `fromTemporalHistory` passes a
 * `payloadCodec` (Temporal's PayloadCodec: async `encode` / `decode` of payload lists), whose
 * `decode` is applied first to every payload except search attributes and headers, which
 * Temporal never encodes with a codec.
 *
 * Temporal information deja's history has no field for is left out (never invented into a deja
 * field): task ids and event versions, headers (tracing context), namespaces, request ids,
 * worker versions other than a workflow task's build id, workflow task start-to-close timeouts
 * and timeout types, the auto-reset points, local activity marker times and backoffs, continue-as-new's memo, headers and backoff, a failure's
 * `source`, and the update protocol's message ids. In the other direction, what Temporal has no
 * field for is lost: a non-application failure's `type`, a terminated child's `reason`, and the
 * difference between deja's own workflow task failure causes other than nondeterminism. deja's
 * randomness seed travels in a `deja-randomness-seed` header of the started event, which
 * Temporal ignores, and a reset's new seed in the WorkflowTaskFailed's `newRunId` behind
 * NEW_SEED_PREFIX, so a deja → Temporal → deja round trip keeps both. A Temporal history without
 * them gets Temporal's own seeds (siphash.ts): from `originalExecutionRunId`, and for a
 * RESET_WORKFLOW task failure from its `newRunId`.
 *
 * A WorkflowTaskCompleted's `sdkMetadata` (the SDK flags the task used first: `langUsedFlags`,
 * `coreUsedFlags`, `sdkName`, `sdkVersion`) and its worker's build id (`workerVersion.buildId`)
 * are kept as deja's `sdkMetadata` and `workerBuildId`: replay decides from them which of
 * Temporal's SDK flags are on for each task (lib/replay/flags.ts).
 *
 * Events and ids the conversion derives rather than copies: the run id is the started event's
 * `originalExecutionRunId`; the workflow id is the caller's `workflowId` option, else the started
 * event's `workflowId` (newer servers write it), else "temporal-replay"; an update event's
 * `workflowTaskCompletedEventId` is the latest workflowTaskCompleted before it; an
 * externalWorkflowExecutionSignaled or …CancelRequested without a run id takes the initiated
 * event's, else that of the child started with the same workflow id, else "unknown".
 */
import { InvalidArgumentError, InvalidHistoryError, assertNever, describe } from '../errors';
import type { Payload, RetryPolicy, SearchAttributeValue, WireFailure } from '../../runtime/protocol';
import { HISTORY_FORMAT, HISTORY_VERSION } from './events';
import { temporalRandomnessSeed } from './siphash';
import type { History, HistoryEvent } from './events';

// ---------------------------------------------------------------------------------------------
// Public types

/** A Temporal payload as its JSON form has it: metadata values and data are base64. */
export interface TemporalJsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

/** A payload as Temporal's PayloadCodec sees it (`temporal.api.common.v1.Payload`). */
export interface CodecPayload {
  metadata?: Record<string, Uint8Array> | null;
  data?: Uint8Array | null;
}

/** Temporal's PayloadCodec shape: encryption, compression, or any custom encoding. */
export interface PayloadCodec {
  encode(payloads: CodecPayload[]): Promise<CodecPayload[]>;
  decode(payloads: CodecPayload[]): Promise<CodecPayload[]>;
}

export interface FromTemporalOptions {
  /** Applied (its `decode`) to every payload before it is read. */
  payloadCodec?: PayloadCodec;
  /** The workflow id; Temporal histories from older servers do not record it. */
  workflowId?: string;
  /** Starts every error message (a file name, say). */
  source?: string;
}

/** A Temporal history in its proto3 JSON form, as `toTemporalHistory` returns it. */
export interface TemporalHistoryJson {
  events: Record<string, unknown>[];
}

const FROM_KEYS = ['payloadCodec', 'workflowId', 'source'];

/** The header field of the started event that carries deja's randomness seed. */
export const SEED_HEADER = 'deja-randomness-seed';

/**
 * What a written WorkflowTaskFailed's `newRunId` starts with when it carries a deja re-seed
 * (`newRandomnessSeed`) rather than a Temporal run id: the seed follows it verbatim. Temporal's
 * run ids never start with it.
 */
export const NEW_SEED_PREFIX = 'deja-randomness-seed:';

// ---------------------------------------------------------------------------------------------
// Recognising a Temporal history

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const own = (o: Obj, key: string): unknown => (Object.hasOwn(o, key) ? o[key] : undefined);

/** True for a parsed value shaped like a Temporal history export (either JSON dialect). */
export function looksLikeTemporalJson(value: unknown): boolean {
  if (!isObj(value) || Object.hasOwn(value, 'format')) return false;
  const events = own(value, 'events');
  return Array.isArray(events) && events.length > 0 && isObj(events[0]) && Object.hasOwn(events[0], 'eventType');
}

/**
 * True for bytes that may be a binary protobuf History: the first byte is field 1 (`events`),
 * wire type 2, and the first character that is not JSON whitespace is not `{` or `[`. (A JSON
 * text starting with a newline also starts with 0x0A; the caller tries JSON first for those.)
 */
export function looksLikeTemporalProtobuf(bytes: Uint8Array): 'yes' | 'maybe' | 'no' {
  if (bytes.length === 0 || bytes[0] !== 0x0a) return 'no';
  for (const b of bytes) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
    return b === 0x7b || b === 0x5b ? 'maybe' : 'yes';
  }
  return 'maybe';
}

// ---------------------------------------------------------------------------------------------
// @temporalio/proto, loaded lazily

interface ProtoType {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: object): Obj;
  fromObject(value: unknown): unknown;
  encode(message: unknown): { finish(): Uint8Array };
}

let protoRoot: Obj | undefined;
function proto(): Obj {
  if (protoRoot === undefined) {
    // Loaded here only, on first use: most deja users never read a Temporal binary history.
    protoRoot = require('@temporalio/proto') as Obj;
  }
  return protoRoot;
}

/** The @temporalio/proto message type a full name such as "temporal.api.common.v1.WorkflowExecution" names, if any. */
function protoType(fullName: string): ProtoType | undefined {
  let here: unknown = proto();
  for (const part of fullName.split('.')) {
    if ((typeof here !== 'object' && typeof here !== 'function') || here === null) return undefined;
    here = Object.hasOwn(here, part) ? (here as Obj)[part] : undefined;
  }
  const t = here as Partial<ProtoType> | undefined;
  return (typeof t === 'object' || typeof t === 'function') && t !== null && typeof t.decode === 'function' && typeof t.toObject === 'function' && typeof t.fromObject === 'function'
    ? (t as ProtoType)
    : undefined;
}

const OBJECT_OPTIONS = { longs: String, enums: String, bytes: String, json: true };

/** Decodes a binary `temporal.api.history.v1.History` into its JSON-like object form. */
function decodeProtobuf(bytes: Uint8Array, source: string): Obj {
  const History = protoType('temporal.api.history.v1.History');
  if (History === undefined) throw new InvalidHistoryError(`${source}: @temporalio/proto has no temporal.api.history.v1.History message`);
  const refuse = (why: string): never => {
    throw new InvalidHistoryError(
      `${source}: not a Temporal protobuf history (temporal.api.history.v1.History): ${why}; expected a history file: deja's JSON, Temporal's JSON, or Temporal's binary protobuf`,
    );
  };
  let value: Obj;
  try {
    value = History.toObject(History.decode(bytes), OBJECT_OPTIONS);
  } catch (err) {
    return refuse((err as Error).message);
  }
  if (!looksLikeTemporalJson(value)) refuse('it decodes to a History without events');
  return value;
}

// ---------------------------------------------------------------------------------------------
// Reading: Temporal → deja

/**
 * Converts a Temporal history (a parsed JSON object of either dialect, JSON text, or protobuf
 * bytes) into a deja `History`, which parseHistory then validates. Applies `payloadCodec` first,
 * so it is async. Throws InvalidHistoryError naming the Temporal event id and type.
 */
export async function fromTemporalHistory(input: unknown, options: FromTemporalOptions = {}): Promise<History> {
  if (!isObj(options as unknown)) throw new InvalidArgumentError(`fromTemporalHistory: expected options to be an object, found ${describe(options)}`);
  for (const key of Object.keys(options)) {
    if (!FROM_KEYS.includes(key)) throw new InvalidArgumentError(`fromTemporalHistory: unknown option ${JSON.stringify(key)}; expected one of ${FROM_KEYS.join(', ')}`);
  }
  const codec = options.payloadCodec;
  if (codec !== undefined && (typeof codec !== 'object' || codec === null || typeof codec.decode !== 'function')) {
    throw new InvalidArgumentError('fromTemporalHistory: expected payloadCodec to be a PayloadCodec { encode(payloads), decode(payloads) }');
  }
  const source = options.source ?? 'Temporal history';
  let value = temporalValue(input, source);
  if (codec !== undefined) value = await decodeWithCodec(value, codec, source);
  // parseHistory is imported lazily: validate.ts imports this module.
  const { parseHistory } = require('./validate') as typeof import('./validate');
  return parseHistory(convertTemporalHistory(value, source, options.workflowId), source);
}

/**
 * Bytes that `looksLikeTemporalProtobuf` did not rule out: a protobuf History's object form, or
 * the parsed JSON when they are JSON text after all (one that starts with a newline). When
 * neither reads, the JSON error is thrown for text that looks like JSON, the protobuf one else.
 */
export function readTemporalBytes(bytes: Uint8Array, source: string): unknown {
  if (looksLikeTemporalProtobuf(bytes) === 'yes') return decodeProtobuf(bytes, source);
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (jsonError) {
    try {
      return decodeProtobuf(bytes, source);
    } catch {
      throw new InvalidHistoryError(`${source}: not valid JSON: ${(jsonError as Error).message}`);
    }
  }
}

/** The parsed Temporal history in `input`, whatever form it came in. */
function temporalValue(input: unknown, source: string): Obj {
  let value: unknown = input;
  if (input instanceof Uint8Array) {
    value = readTemporalBytes(input, source);
  } else if (typeof input === 'string') {
    try {
      value = JSON.parse(input.replace(/^\uFEFF/, ''));
    } catch (err) {
      throw new InvalidHistoryError(`${source}: not valid JSON: ${(err as Error).message}; expected a Temporal history`);
    }
  }
  if (!looksLikeTemporalJson(value)) {
    throw new InvalidHistoryError(`${source}: expected a Temporal history { events: [{ eventId, eventTime, eventType, … }] }, found ${describe(value)}`);
  }
  return value as Obj;
}

// ---------------------------------------------------------------------------------------------
// Payload codecs

const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const unb64 = (u: Uint8Array): string => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64');

/**
 * A copy of `value` in which every payload a codec may have encoded (those in `payloads` lists,
 * memo fields, a failure's `encodedAttributes`) is replaced by the codec's decoding of it.
 */
async function decodeWithCodec(value: Obj, codec: PayloadCodec, source: string): Promise<Obj> {
  const slots: { holder: Obj | unknown[]; key: string | number }[] = [];
  const walk = (v: unknown, parentKey: string): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, parentKey));
    if (!isObj(v)) return v;
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === 'header' || k === 'searchAttributes') {
        out[k] = x; // Temporal never passes these through a codec.
      } else if (k === 'payloads' && Array.isArray(x)) {
        const list = x.slice();
        list.forEach((_, i) => slots.push({ holder: list, key: i }));
        out[k] = list;
      } else if (k === 'fields' && (parentKey === 'memo' || parentKey === 'upsertedMemo') && isObj(x)) {
        const fields = { ...x };
        for (const name of Object.keys(fields)) slots.push({ holder: fields, key: name });
        out[k] = fields;
      } else if (k === 'encodedAttributes' && isObj(x)) {
        out[k] = x;
        slots.push({ holder: out, key: k });
      } else {
        out[k] = walk(x, k);
      }
    }
    return out;
  };
  const copy = walk(value, '') as Obj;
  if (slots.length === 0) return copy;
  const encoded = slots.map(({ holder, key }) => toCodecPayload((holder as Obj)[key as string]));
  let decoded: CodecPayload[];
  try {
    decoded = await codec.decode(encoded);
  } catch (err) {
    throw new InvalidHistoryError(`${source}: the payload codec's decode failed: ${(err as Error).message}`);
  }
  if (!Array.isArray(decoded) || decoded.length !== encoded.length) {
    throw new InvalidHistoryError(`${source}: the payload codec's decode returned ${Array.isArray(decoded) ? `${decoded.length} payloads` : describe(decoded)}; expected an array of ${encoded.length} payloads, one for each it was given`);
  }
  slots.forEach(({ holder, key }, i) => {
    (holder as Obj)[key as string] = fromCodecPayload(decoded[i]);
  });
  return copy;
}

function toCodecPayload(p: unknown): CodecPayload {
  const o = isObj(p) ? p : {};
  const metadata: Record<string, Uint8Array> = {};
  if (isObj(o.metadata)) for (const [k, v] of Object.entries(o.metadata)) if (typeof v === 'string') metadata[k] = b64(v);
  return { metadata, data: typeof o.data === 'string' ? b64(o.data) : new Uint8Array(0) };
}

function fromCodecPayload(p: CodecPayload | undefined): TemporalJsonPayload {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(p?.metadata ?? {})) if (v instanceof Uint8Array) metadata[k] = unb64(v);
  return { metadata, data: p?.data instanceof Uint8Array ? unb64(p.data) : '' };
}

// ---------------------------------------------------------------------------------------------
// The conversion of one history, event by event

/** Where a conversion problem is: the Temporal event and the field inside its attributes. */
class Ctx {
  eventId = 0;
  eventType = '';
  constructor(readonly source: string) {}
  fail(field: string, problem: string): never {
    const where = this.eventId === 0 ? this.source : `${this.source}: Temporal event ${this.eventId} (${this.eventType})${field ? `, ${field}` : ''}`;
    throw new InvalidHistoryError(`${where}: ${problem}`, this.eventId || undefined, field || undefined);
  }
  expected(field: string, what: string, found: unknown): never {
    return this.fail(field, `expected ${what}, found ${describe(found)}`);
  }
}

/** "EVENT_TYPE_TIMER_STARTED" or "TimerStarted" → "TimerStarted". */
function eventTypeName(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw === '') return undefined;
  if (raw.startsWith('EVENT_TYPE_')) return raw.slice('EVENT_TYPE_'.length).toLowerCase().replace(/(^|_)([a-z])/g, (_, _u, c: string) => c.toUpperCase());
  return /^[A-Z][A-Za-z]*$/.test(raw) ? raw : undefined;
}

/** "TimerStarted" → "EVENT_TYPE_TIMER_STARTED". */
const eventTypeEnum = (name: string): string => `EVENT_TYPE_${upperSnake(name)}`;
const upperSnake = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);

/**
 * An enum value in either dialect, as its UPPER_SNAKE name without the prefix:
 * "PARENT_CLOSE_POLICY_TERMINATE" and "Terminate" both give "TERMINATE". Undefined when absent.
 */
function enumValue(raw: unknown, prefix: string): string | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string') return undefined;
  if (raw.startsWith(`${prefix}_`)) return raw.slice(prefix.length + 1);
  return upperSnake(raw);
}

/** camelCase of an UPPER_SNAKE name: "MAXIMUM_ATTEMPTS_REACHED" → "maximumAttemptsReached". */
const camel = (snake: string): string => snake.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** The Temporal event types with a deja counterpart. */
const SUPPORTED = new Set([
  'WorkflowExecutionStarted', 'WorkflowExecutionCompleted', 'WorkflowExecutionFailed', 'WorkflowExecutionTimedOut',
  'WorkflowExecutionCanceled', 'WorkflowExecutionTerminated', 'WorkflowExecutionContinuedAsNew', 'WorkflowExecutionSignaled',
  'WorkflowExecutionCancelRequested', 'WorkflowTaskScheduled', 'WorkflowTaskStarted', 'WorkflowTaskCompleted',
  'WorkflowTaskFailed', 'WorkflowTaskTimedOut', 'ActivityTaskScheduled', 'ActivityTaskStarted', 'ActivityTaskCompleted',
  'ActivityTaskFailed', 'ActivityTaskTimedOut', 'ActivityTaskCancelRequested', 'ActivityTaskCanceled', 'TimerStarted',
  'TimerFired', 'TimerCanceled', 'StartChildWorkflowExecutionInitiated', 'StartChildWorkflowExecutionFailed',
  'ChildWorkflowExecutionStarted', 'ChildWorkflowExecutionCompleted', 'ChildWorkflowExecutionFailed',
  'ChildWorkflowExecutionCanceled', 'ChildWorkflowExecutionTerminated', 'ChildWorkflowExecutionTimedOut',
  'SignalExternalWorkflowExecutionInitiated', 'ExternalWorkflowExecutionSignaled', 'SignalExternalWorkflowExecutionFailed',
  'RequestCancelExternalWorkflowExecutionInitiated', 'ExternalWorkflowExecutionCancelRequested',
  'RequestCancelExternalWorkflowExecutionFailed', 'MarkerRecorded', 'UpsertWorkflowSearchAttributes',
  'WorkflowPropertiesModified', 'WorkflowExecutionUpdateAccepted', 'WorkflowExecutionUpdateCompleted',
]);

/** Reads the fields of one event's attributes, naming the field in every error. */
class Attrs {
  constructor(
    readonly ctx: Ctx,
    readonly o: Obj,
    readonly path = '',
  ) {}
  at(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }
  raw(key: string): unknown {
    return own(this.o, key);
  }
  has(key: string): boolean {
    const v = this.raw(key);
    return v !== undefined && v !== null;
  }
  obj(key: string): Attrs | undefined {
    const v = this.raw(key);
    if (v === undefined || v === null) return undefined;
    if (!isObj(v)) return this.ctx.expected(this.at(key), 'an object', v);
    return new Attrs(this.ctx, v, this.at(key));
  }
  /** A string; '' counts as absent (proto3 has no absent strings). */
  str(key: string): string | undefined {
    const v = this.raw(key);
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') return this.ctx.expected(this.at(key), 'a string', v);
    return v;
  }
  reqStr(key: string): string {
    return this.str(key) ?? this.ctx.fail(this.at(key), 'missing required field (expected a non-empty string)');
  }
  /** `{ name }` objects: workflowType, activityType, taskQueue. */
  name(key: string): string {
    const o = this.obj(key);
    return o?.str('name') ?? this.ctx.fail(this.at(`${key}.name`), 'missing required field (expected a non-empty string)');
  }
  bool(key: string): boolean | undefined {
    const v = this.raw(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') return this.ctx.expected(this.at(key), 'a boolean', v);
    return v;
  }
  /** An int64 (a string in JSON) or int32; 0 counts as absent. */
  int(key: string): number | undefined {
    const v = this.raw(key);
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : typeof v === 'number' ? v : NaN;
    if (!Number.isSafeInteger(n) || n < 0) return this.ctx.expected(this.at(key), 'a non-negative integer (int64 as a string)', v);
    return n === 0 ? undefined : n;
  }
  reqInt(key: string): number {
    return this.int(key) ?? this.ctx.fail(this.at(key), 'missing required field (expected an event id)');
  }
  num(key: string): number | undefined {
    const v = this.raw(key);
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n)) return this.ctx.expected(this.at(key), 'a finite number', v);
    return n;
  }
  /** A Duration ("10s", "0.5s", or { seconds, nanos }) in ms; `zeroIsAbsent` for Temporal's "0 means unset". */
  ms(key: string, zeroIsAbsent = true): number | undefined {
    const v = this.raw(key);
    if (v === undefined || v === null) return undefined;
    const ms = durationMs(v);
    if (ms === undefined) return this.ctx.expected(this.at(key), 'a duration such as "10s" or "0.250s"', v);
    return ms === 0 && zeroIsAbsent ? undefined : ms;
  }
  time(key: string): string | undefined {
    const v = this.raw(key);
    if (v === undefined || v === null) return undefined;
    const t = timestampIso(v);
    if (t === undefined) return this.ctx.expected(this.at(key), 'an RFC 3339 time such as "2024-01-31T12:00:00.123456Z"', v);
    return t;
  }
  enum(key: string, prefix: string): string | undefined {
    const v = this.raw(key);
    if (v !== undefined && v !== null && typeof v !== 'string') return this.ctx.expected(this.at(key), `an enum name (${prefix}_…)`, v);
    const e = enumValue(v, prefix);
    return e === 'UNSPECIFIED' ? undefined : e;
  }
}

function durationMs(v: unknown): number | undefined {
  if (typeof v === 'string') {
    const m = /^(\d+)(?:\.(\d{1,9}))?s$/.exec(v);
    if (!m) return undefined;
    return Number(m[1]) * 1000 + (m[2] ? Number(m[2].padEnd(9, '0')) / 1e6 : 0);
  }
  if (isObj(v)) {
    const s = Number(own(v, 'seconds') ?? 0);
    const n = Number(own(v, 'nanos') ?? 0);
    if (!Number.isSafeInteger(s) || !Number.isInteger(n) || s < 0 || n < 0) return undefined;
    return s * 1000 + n / 1e6;
  }
  return undefined;
}

/** A Timestamp (RFC 3339 text, or { seconds, nanos }) as deja writes times: UTC, milliseconds. */
function timestampIso(v: unknown): string | undefined {
  let ms: number;
  if (typeof v === 'string') {
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(v)) return undefined;
    ms = Date.parse(v);
  } else if (isObj(v)) {
    const s = Number(own(v, 'seconds') ?? 0);
    const n = Number(own(v, 'nanos') ?? 0);
    if (!Number.isSafeInteger(s) || !Number.isInteger(n)) return undefined;
    ms = s * 1000 + Math.floor(n / 1e6);
  } else {
    return undefined;
  }
  if (!Number.isFinite(ms)) return undefined;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

const text = (u: Uint8Array): string => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('utf8');

/** Reads Temporal payloads into deja payloads. */
class Payloads {
  constructor(readonly ctx: Ctx) {}

  /** One payload → a JSON value, or undefined for binary/null. */
  one(p: unknown, field: string): Payload | undefined {
    if (!isObj(p)) return this.ctx.expected(field, 'a payload { metadata, data }', p);
    const meta = isObj(p.metadata) ? p.metadata : {};
    const metaText = (key: string): string | undefined => (typeof meta[key] === 'string' ? text(b64(meta[key] as string)) : undefined);
    // Trimmed: recorded histories exist whose encoding ends with a stray newline ("binary/null\n").
    const encoding = metaText('encoding')?.trim();
    const data = typeof p.data === 'string' ? b64(p.data) : new Uint8Array(0);
    switch (encoding) {
      case 'binary/null':
        return undefined;
      case 'json/plain':
        try {
          return JSON.parse(text(data)) as Payload;
        } catch (err) {
          return this.ctx.fail(field, `a json/plain payload whose data is not JSON: ${(err as Error).message}`);
        }
      case 'json/protobuf':
      case 'binary/protobuf': {
        const messageType = metaText('messageType');
        const type = messageType === undefined ? undefined : protoType(messageType);
        if (type === undefined) {
          return this.ctx.fail(
            field,
            `a ${encoding} payload of message type ${messageType === undefined ? '(none given)' : JSON.stringify(messageType)}, which @temporalio/proto does not define; deja reads protobuf payloads only of Temporal's own message types`,
          );
        }
        try {
          const message = encoding === 'json/protobuf' ? type.fromObject(JSON.parse(text(data))) : type.decode(data);
          return JSON.parse(JSON.stringify(type.toObject(message, OBJECT_OPTIONS))) as Payload;
        } catch (err) {
          return this.ctx.fail(field, `a ${encoding} payload that is not a valid ${messageType}: ${(err as Error).message}`);
        }
      }
      default:
        return this.ctx.fail(
          field,
          `a payload with encoding ${encoding === undefined ? '(none)' : JSON.stringify(encoding)}, which deja cannot read; it reads json/plain, binary/null and json/protobuf of known message types (for encrypted or custom encodings, pass fromTemporalHistory a payloadCodec)`,
        );
    }
  }

  /** A `Payloads` message ({ payloads: [...] }) → a list; absent → []. Undefined items (binary/null) become null. */
  list(a: Attrs, key: string): Payload[] {
    const v = a.raw(key);
    if (v === undefined || v === null) return [];
    if (!isObj(v)) return a.ctx.expected(a.at(key), 'payloads { payloads: [...] }', v);
    const items = own(v, 'payloads');
    if (items === undefined || items === null) return [];
    if (!Array.isArray(items)) return a.ctx.expected(a.at(`${key}.payloads`), 'an array of payloads', items);
    return items.map((p, i) => this.one(p, `${a.at(key)}.payloads[${i}]`) ?? null);
  }

  /** Optional payload list: absent stays absent. */
  optList(a: Attrs, key: string): Payload[] | undefined {
    return a.has(key) ? this.list(a, key) : undefined;
  }

  /** A result: the first payload of a `Payloads`, undefined when absent or binary/null. */
  first(a: Attrs, key: string): Payload | undefined {
    const v = a.raw(key);
    if (!isObj(v)) return v === undefined || v === null ? undefined : a.ctx.expected(a.at(key), 'payloads { payloads: [...] }', v);
    const items = own(v, 'payloads');
    if (!Array.isArray(items) || items.length === 0) return undefined;
    return this.one(items[0], `${a.at(key)}.payloads[0]`);
  }

  /** Memo ({ fields: { name: payload } }) → by name; `nullForAbsent` keeps binary/null as null. */
  memo(a: Attrs, key: string): Record<string, Payload> | undefined {
    const m = a.obj(key);
    const fields = m?.obj('fields');
    if (fields === undefined) return undefined;
    const out: Record<string, Payload> = {};
    for (const [name, p] of Object.entries(fields.o)) out[name] = this.one(p, fields.at(name)) ?? null;
    return out;
  }

  /** Search attributes ({ indexedFields: { name: payload with a `type` } }). */
  searchAttributes(a: Attrs, key: string, allowNull: true): Record<string, SearchAttributeValue | null> | undefined;
  searchAttributes(a: Attrs, key: string, allowNull?: false): Record<string, SearchAttributeValue> | undefined;
  searchAttributes(a: Attrs, key: string, allowNull = false): Record<string, SearchAttributeValue | null> | undefined {
    const fields = a.obj(key)?.obj('indexedFields');
    if (fields === undefined) return undefined;
    const out: Record<string, SearchAttributeValue | null> = {};
    for (const [name, p] of Object.entries(fields.o)) {
      const field = fields.at(name);
      const value = this.one(p, field);
      const meta = isObj(p) && isObj(p.metadata) ? p.metadata : {};
      const typeName = typeof meta.type === 'string' ? text(b64(meta.type)) : undefined;
      if (value === undefined || value === null || (Array.isArray(value) && value.length === 0 && typeName === undefined)) {
        if (allowNull) out[name] = null;
        continue;
      }
      out[name] = searchAttributeValue(this.ctx, field, typeName, value);
    }
    return out;
  }
}

const SA_TYPES: Record<string, SearchAttributeValue['type']> = {
  Text: 'TEXT', Keyword: 'KEYWORD', Int: 'INT', Double: 'DOUBLE', Bool: 'BOOL', Datetime: 'DATETIME', KeywordList: 'KEYWORD_LIST',
};
const SA_NAMES = Object.fromEntries(Object.entries(SA_TYPES).map(([k, v]) => [v, k])) as Record<SearchAttributeValue['type'], string>;

function searchAttributeValue(ctx: Ctx, field: string, typeName: string | undefined, value: Payload): SearchAttributeValue {
  // Without `type` metadata (older SDKs), the value's JSON type decides.
  const type =
    typeName !== undefined
      ? SA_TYPES[typeName] ?? SA_TYPES[typeName.replace(/^INDEXED_VALUE_TYPE_/, '').toLowerCase().replace(/(^|_)([a-z])/g, (_, _u, c: string) => c.toUpperCase())]
      : Array.isArray(value)
        ? 'KEYWORD_LIST'
        : typeof value === 'number'
          ? Number.isInteger(value) ? 'INT' : 'DOUBLE'
          : typeof value === 'boolean'
            ? 'BOOL'
            : 'KEYWORD';
  if (type === undefined) return ctx.fail(field, `a search attribute of type ${JSON.stringify(typeName)}; expected one of ${Object.keys(SA_TYPES).join(', ')}`);
  // An SDK stores every search attribute value as a list; one-element lists are single values.
  const v = Array.isArray(value) && type !== 'KEYWORD_LIST' && value.length === 1 ? value[0] : value;
  const ok =
    type === 'KEYWORD_LIST'
      ? Array.isArray(v) && v.every((x) => typeof x === 'string')
      : type === 'INT' || type === 'DOUBLE'
        ? typeof v === 'number'
        : type === 'BOOL'
          ? typeof v === 'boolean'
          : typeof v === 'string';
  if (!ok) return ctx.expected(field, `a ${type} search attribute value`, v);
  return { type, value: v } as SearchAttributeValue;
}

/** A Temporal Failure → a deja failure. */
function failureOf(ctx: Ctx, payloads: Payloads, f: Attrs, depth = 0): WireFailure {
  if (depth > 64) return ctx.fail(f.path, 'a failure whose causes nest more than 64 deep');
  let message = f.str('message') ?? '';
  let stack = f.str('stackTrace');
  // A failure whose message and stack a codec encoded: encodedAttributes holds { message, stack_trace }.
  const encoded = f.raw('encodedAttributes');
  if (encoded !== undefined && encoded !== null) {
    const attrs = payloads.one(encoded, f.at('encodedAttributes'));
    if (isObj(attrs)) {
      if (typeof attrs.message === 'string') message = attrs.message;
      if (typeof attrs.stack_trace === 'string') stack = attrs.stack_trace;
    }
  }
  const out: WireFailure = { message, kind: 'application' };
  const app = f.obj('applicationFailureInfo');
  const timeout = f.obj('timeoutFailureInfo');
  const canceled = f.obj('canceledFailureInfo');
  const terminated = f.obj('terminatedFailureInfo');
  const server = f.obj('serverFailureInfo');
  const activity = f.obj('activityFailureInfo');
  const child = f.obj('childWorkflowExecutionFailureInfo');
  if (app) {
    const type = app.str('type');
    if (type !== undefined) out.type = type;
    const nonRetryable = app.bool('nonRetryable');
    if (nonRetryable !== undefined) out.nonRetryable = nonRetryable;
    const details = payloads.optList(app, 'details');
    if (details !== undefined) out.details = details;
  } else if (timeout) {
    out.kind = 'timeout';
    const tt = timeout.enum('timeoutType', 'TIMEOUT_TYPE');
    if (tt !== undefined) {
      const mapped = camel(tt);
      if (!['startToClose', 'scheduleToStart', 'scheduleToClose', 'heartbeat'].includes(mapped)) ctx.expected(timeout.at('timeoutType'), 'a timeout type', tt);
      out.timeoutType = mapped as WireFailure['timeoutType'];
    }
    const details = payloads.optList(timeout, 'lastHeartbeatDetails');
    if (details !== undefined) out.details = details;
  } else if (canceled) {
    out.kind = 'cancelled';
    const details = payloads.optList(canceled, 'details');
    if (details !== undefined) out.details = details;
  } else if (terminated) {
    out.kind = 'terminated';
  } else if (server) {
    out.kind = 'server';
    const nonRetryable = server.bool('nonRetryable');
    if (nonRetryable !== undefined) out.nonRetryable = nonRetryable;
  } else if (activity) {
    out.kind = 'activity';
    const at = activity.obj('activityType')?.str('name');
    if (at !== undefined) out.activityType = at;
    const id = activity.str('activityId');
    if (id !== undefined) out.activityId = id;
    const rs = retryStateOf(activity, 'retryState');
    if (rs !== undefined) out.retryState = rs;
  } else if (child) {
    out.kind = 'childWorkflow';
    const exec = child.obj('workflowExecution');
    const wid = exec?.str('workflowId');
    const rid = exec?.str('runId');
    const wt = child.obj('workflowType')?.str('name');
    if (wid !== undefined) out.workflowId = wid;
    if (rid !== undefined) out.runId = rid;
    if (wt !== undefined) out.workflowType = wt;
    const rs = retryStateOf(child, 'retryState');
    if (rs !== undefined) out.retryState = rs;
  }
  // Any other info (resetWorkflowFailureInfo, nexus…) has no deja kind: an application failure.
  if (stack !== undefined) out.stack = stack;
  const cause = f.obj('cause');
  if (cause !== undefined) out.cause = failureOf(ctx, payloads, cause, depth + 1);
  return canonicalFailure(out);
}

/** A failure's keys in the order deja's schema lists them. */
function canonicalFailure(f: WireFailure): WireFailure {
  const order: (keyof WireFailure)[] = ['message', 'kind', 'type', 'stack', 'nonRetryable', 'details', 'activityType', 'activityId', 'retryState', 'timeoutType', 'workflowId', 'runId', 'workflowType', 'cause'];
  const out: Partial<WireFailure> = {};
  for (const k of order) if (f[k] !== undefined) (out as Record<string, unknown>)[k] = f[k];
  return out as WireFailure;
}

const RETRY_STATES = ['unspecified', 'inProgress', 'nonRetryableFailure', 'timeout', 'maximumAttemptsReached', 'retryPolicyNotSet', 'internalServerError', 'cancelRequested'];

function retryStateOf(a: Attrs, key: string): WireFailure['retryState'] | undefined {
  const v = a.raw(key);
  if (v === undefined || v === null || v === '') return undefined;
  const e = enumValue(v, 'RETRY_STATE');
  const mapped = e === undefined ? undefined : camel(e);
  // internalServerError has no deja counterpart: it stops retrying like an unspecified state.
  if (mapped === 'internalServerError') return 'unspecified';
  if (mapped === undefined || !RETRY_STATES.includes(mapped)) return a.ctx.expected(a.at(key), 'a retry state (RETRY_STATE_…)', v);
  return mapped as WireFailure['retryState'];
}

/** A RetryPolicy. Zero values are unset in proto3 (the tctl dialect writes them anyway), so 0 and [] read as absent. */
function retryPolicyOf(a: Attrs, key: string): RetryPolicy | undefined {
  const r = a.obj(key);
  if (r === undefined) return undefined;
  const out: RetryPolicy = {};
  const initial = r.ms('initialInterval');
  if (initial !== undefined) out.initialIntervalMs = initial;
  const backoff = r.num('backoffCoefficient');
  if (backoff !== undefined && backoff !== 0) {
    if (backoff < 1) r.ctx.expected(r.at('backoffCoefficient'), 'a number ≥ 1', backoff);
    out.backoffCoefficient = backoff;
  }
  const max = r.ms('maximumInterval');
  if (max !== undefined) out.maximumIntervalMs = max;
  const attempts = r.raw('maximumAttempts');
  if (attempts !== undefined && attempts !== null && attempts !== 0) {
    if (typeof attempts !== 'number' || !Number.isInteger(attempts) || attempts < 0) r.ctx.expected(r.at('maximumAttempts'), 'a non-negative integer', attempts);
    out.maximumAttempts = attempts as number;
  }
  const types = r.raw('nonRetryableErrorTypes');
  if (types !== undefined && types !== null) {
    if (!Array.isArray(types) || !types.every((x) => typeof x === 'string')) r.ctx.expected(r.at('nonRetryableErrorTypes'), 'an array of strings', types);
    if ((types as string[]).length > 0) out.nonRetryableErrorTypes = types as string[];
  }
  return out;
}

/** Removes the keys whose value is undefined (deja's schema is closed, and absent means absent). */
/**
 * A WorkflowTaskCompleted's `sdkMetadata` (the SDK flags the task used first): kept as it is, an
 * empty one included, since deja reads an absent one as a task deja wrote before it recorded
 * flags (see lib/replay/flags.ts). Empty lists and strings are proto3's "unset".
 */
function sdkMetadataOf(a: Attrs): Obj | undefined {
  const m = a.obj('sdkMetadata');
  if (m === undefined) return undefined;
  const flags = (key: string): number[] | undefined => {
    const v = m.raw(key);
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v) || !v.every((x) => Number.isSafeInteger(typeof x === 'string' ? Number(x) : x) && Number(x) > 0)) {
      return m.ctx.expected(m.at(key), 'a list of flag ids (positive integers)', v);
    }
    return v.length === 0 ? undefined : [...new Set(v.map(Number))];
  };
  return defined({ langUsedFlags: flags('langUsedFlags'), coreUsedFlags: flags('coreUsedFlags'), sdkName: m.str('sdkName'), sdkVersion: m.str('sdkVersion') });
}

function defined<T extends Obj>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * The conversion itself, synchronous: a parsed Temporal history (JSON of either dialect, or the
 * object form of a decoded protobuf) → the plain object of a deja history, for parseHistory to
 * validate. Throws InvalidHistoryError naming the Temporal event id and type.
 */
export function convertTemporalHistory(value: Obj, source: string, workflowIdOption?: string): Obj {
  const ctx = new Ctx(source);
  const payloads = new Payloads(ctx);
  const events = own(value, 'events');
  if (!Array.isArray(events) || events.length === 0) return ctx.expected('events', 'a non-empty array of Temporal events', events);
  const out: Obj[] = [];
  let workflowId = workflowIdOption;
  let runId = '';
  let lastCompleted: number | undefined;
  let lastTime = '';
  /** initiated event id → run id; child workflow id → run id, for external events without a run id. */
  const initiatedRunIds = new Map<number, string | undefined>();
  const childRunIds = new Map<string, string>();
  for (let i = 0; i < events.length; i++) {
    const raw = events[i];
    ctx.eventId = 0;
    ctx.eventType = '';
    if (!isObj(raw)) return ctx.expected(`events[${i}]`, 'a Temporal event object', raw);
    const top = new Attrs(ctx, raw);
    const eventId = top.int('eventId') ?? i + 1;
    ctx.eventId = eventId;
    ctx.eventType = typeof raw.eventType === 'string' ? raw.eventType : String(raw.eventType);
    const name = eventTypeName(raw.eventType);
    if (name === undefined) return ctx.expected('eventType', 'an event type name such as "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"', raw.eventType);
    if (!SUPPORTED.has(name)) {
      return ctx.fail('eventType', `deja does not support ${name} events yet; it reads the Temporal event types that have a deja counterpart (see docs/history-format.md)`);
    }
    let eventTime = top.time('eventTime') ?? ctx.fail('eventTime', 'missing required field (expected an RFC 3339 time)');
    // Temporal servers stamp some events (a signal, say) with the time it arrived, which may be
    // a few ms before the event written just ahead of it; deja's times never go backwards, so
    // such an event takes the time of the one before it.
    if (eventTime < lastTime) eventTime = lastTime;
    lastTime = eventTime;
    const a = top.obj(`${lowerFirst(name)}EventAttributes`) ?? new Attrs(ctx, {}, `${lowerFirst(name)}EventAttributes`);
    const base = { eventId, eventTime };
    const execOf = (key: string) => {
      const e = a.obj(key);
      return { workflowId: e?.str('workflowId'), runId: e?.str('runId') };
    };
    let e: Obj;
    switch (name) {
      case 'WorkflowExecutionStarted': {
        runId = a.str('originalExecutionRunId') ?? a.str('firstExecutionRunId') ?? ctx.fail(a.at('originalExecutionRunId'), 'missing required field (expected the run id)');
        workflowId ??= a.str('workflowId') ?? 'temporal-replay';
        const parentExec = execOf('parentWorkflowExecution');
        const parentInitiated = a.int('parentInitiatedEventId');
        const initiator = a.enum('initiator', 'CONTINUE_AS_NEW_INITIATOR');
        const header = a.obj('header')?.obj('fields');
        const seedPayload = header?.raw(SEED_HEADER);
        const seed = seedPayload === undefined ? undefined : payloads.one(seedPayload, header!.at(SEED_HEADER));
        e = defined({
          ...base,
          type: 'workflowExecutionStarted',
          workflowType: a.name('workflowType'),
          workflowId,
          runId,
          firstExecutionRunId: a.str('firstExecutionRunId') ?? runId,
          taskQueue: a.name('taskQueue'),
          input: payloads.list(a, 'input'),
          attempt: a.int('attempt') ?? 1,
          // Temporal's JSON has no seed: its worker seeds the PRNG from the original run id,
          // which gives the same stream here (siphash.ts). deja's own seed, when it wrote the file.
          randomnessSeed: typeof seed === 'string' && seed !== '' ? seed : temporalRandomnessSeed(runId),
          workflowTaskTimeoutMs: a.ms('workflowTaskTimeout') ?? 10_000,
          parent:
            parentExec.workflowId !== undefined && parentExec.runId !== undefined && parentInitiated !== undefined
              ? { workflowId: parentExec.workflowId, runId: parentExec.runId, initiatedEventId: parentInitiated }
              : undefined,
          continuedFromExecutionRunId: a.str('continuedExecutionRunId'),
          initiator: initiator === 'WORKFLOW' ? 'workflow' : initiator === 'RETRY' ? 'retryPolicy' : initiator === 'CRON_SCHEDULE' ? 'cronSchedule' : undefined,
          cronSchedule: a.str('cronSchedule'),
          firstWorkflowTaskBackoffMs: a.ms('firstWorkflowTaskBackoff'),
          workflowExecutionTimeoutMs: a.ms('workflowExecutionTimeout'),
          workflowExecutionExpirationTime: a.time('workflowExecutionExpirationTime'),
          workflowRunTimeoutMs: a.ms('workflowRunTimeout'),
          retryPolicy: retryPolicyOf(a, 'retryPolicy'),
          memo: payloads.memo(a, 'memo'),
          searchAttributes: payloads.searchAttributes(a, 'searchAttributes'),
          lastCompletionResult: payloads.first(a, 'lastCompletionResult'),
          continuedFailure: a.obj('continuedFailure') ? failureOf(ctx, payloads, a.obj('continuedFailure')!) : undefined,
          identity: a.str('identity'),
        });
        break;
      }
      case 'WorkflowExecutionCompleted':
        e = { ...base, type: 'workflowExecutionCompleted', result: payloads.first(a, 'result'), workflowTaskCompletedEventId: a.reqInt('workflowTaskCompletedEventId'), newExecutionRunId: a.str('newExecutionRunId') };
        break;
      case 'WorkflowExecutionFailed':
        e = {
          ...base,
          type: 'workflowExecutionFailed',
          failure: failureOrEmpty(ctx, payloads, a),
          workflowTaskCompletedEventId: a.int('workflowTaskCompletedEventId'),
          retryState: retryStateOf(a, 'retryState'),
          newExecutionRunId: a.str('newExecutionRunId'),
        };
        break;
      case 'WorkflowExecutionTimedOut':
        e = { ...base, type: 'workflowExecutionTimedOut', retryState: retryStateOf(a, 'retryState') ?? 'unspecified', newExecutionRunId: a.str('newExecutionRunId') };
        break;
      case 'WorkflowExecutionCanceled':
        e = { ...base, type: 'workflowExecutionCanceled', details: payloads.optList(a, 'details'), workflowTaskCompletedEventId: a.reqInt('workflowTaskCompletedEventId') };
        break;
      case 'WorkflowExecutionTerminated':
        e = { ...base, type: 'workflowExecutionTerminated', reason: a.str('reason'), details: payloads.optList(a, 'details'), identity: a.str('identity') };
        break;
      case 'WorkflowExecutionContinuedAsNew':
        e = {
          ...base,
          type: 'workflowExecutionContinuedAsNew',
          newExecutionRunId: a.reqStr('newExecutionRunId'),
          workflowType: a.name('workflowType'),
          taskQueue: a.name('taskQueue'),
          input: payloads.list(a, 'input'),
          workflowRunTimeoutMs: a.ms('workflowRunTimeout'),
          workflowTaskTimeoutMs: a.ms('workflowTaskTimeout') ?? 10_000,
          workflowTaskCompletedEventId: a.reqInt('workflowTaskCompletedEventId'),
        };
        break;
      case 'WorkflowExecutionSignaled':
        e = { ...base, type: 'workflowExecutionSignaled', signalName: a.reqStr('signalName'), input: payloads.list(a, 'input'), identity: a.str('identity') };
        break;
      case 'WorkflowExecutionCancelRequested': {
        const ext = execOf('externalWorkflowExecution');
        e = {
          ...base,
          type: 'workflowExecutionCancelRequested',
          cause: a.str('cause'),
          identity: a.str('identity'),
          externalInitiatedEventId: a.int('externalInitiatedEventId'),
          externalWorkflowId: ext.workflowId,
          externalRunId: ext.runId,
        };
        break;
      }
      case 'WorkflowTaskScheduled':
        e = { ...base, type: 'workflowTaskScheduled', taskQueue: a.name('taskQueue'), attempt: a.int('attempt') ?? 1 };
        break;
      case 'WorkflowTaskStarted':
        e = {
          ...base,
          type: 'workflowTaskStarted',
          scheduledEventId: a.reqInt('scheduledEventId'),
          identity: a.str('identity'),
          historySizeBytes: a.int('historySizeBytes'),
          suggestContinueAsNew: a.bool('suggestContinueAsNew'),
        };
        break;
      case 'WorkflowTaskCompleted':
        lastCompleted = eventId;
        e = {
          ...base,
          type: 'workflowTaskCompleted',
          scheduledEventId: a.reqInt('scheduledEventId'),
          startedEventId: a.reqInt('startedEventId'),
          identity: a.str('identity'),
          sdkMetadata: sdkMetadataOf(a),
          workerBuildId: a.obj('workerVersion')?.str('buildId'),
        };
        break;
      case 'WorkflowTaskFailed': {
        const cause = a.enum('cause', 'WORKFLOW_TASK_FAILED_CAUSE');
        e = {
          ...base,
          type: 'workflowTaskFailed',
          scheduledEventId: a.reqInt('scheduledEventId'),
          startedEventId: a.reqInt('startedEventId'),
          cause: cause === undefined ? 'unspecified' : DEJA_TASK_CAUSE[cause] ?? camel(cause),
          failure: failureOrEmpty(ctx, payloads, a),
          identity: a.str('identity'),
          newRandomnessSeed: newSeedOf(a, cause),
        };
        break;
      }
      case 'WorkflowTaskTimedOut':
        e = { ...base, type: 'workflowTaskTimedOut', scheduledEventId: a.reqInt('scheduledEventId'), startedEventId: a.reqInt('startedEventId') };
        break;
      case 'ActivityTaskScheduled':
        e = {
          ...base,
          type: 'activityTaskScheduled',
          activityId: a.reqStr('activityId'),
          activityType: a.name('activityType'),
          taskQueue: a.name('taskQueue'),
          input: payloads.list(a, 'input'),
          scheduleToCloseTimeoutMs: a.ms('scheduleToCloseTimeout'),
          scheduleToStartTimeoutMs: a.ms('scheduleToStartTimeout'),
          startToCloseTimeoutMs: a.ms('startToCloseTimeout'),
          heartbeatTimeoutMs: a.ms('heartbeatTimeout'),
          retryPolicy: retryPolicyOf(a, 'retryPolicy'),
          workflowTaskCompletedEventId: a.reqInt('workflowTaskCompletedEventId'),
        };
        break;
      case 'ActivityTaskStarted':
        e = { ...base, type: 'activityTaskStarted', scheduledEventId: a.reqInt('scheduledEventId'), attempt: a.int('attempt') ?? 1, identity: a.str('identity') };
        break;
      case 'ActivityTaskCompleted':
        e = { ...base, type: 'activityTaskCompleted', scheduledEventId: a.reqInt('scheduledEventId'), startedEventId: a.reqInt('startedEventId'), result: payloads.first(a, 'result') };
        break;
      case 'ActivityTaskFailed':
        e = {
          ...base,
          type: 'activityTaskFailed',
          scheduledEventId: a.reqInt('scheduledEventId'),
          startedEventId: a.reqInt('startedEventId'),
          failure: failureOrEmpty(ctx, payloads, a),
          retryState: retryStateOf(a, 'retryState') ?? 'unspecified',
        };
        break;
      case 'ActivityTaskTimedOut':
        e = {
          ...base,
          type: 'activityTaskTimedOut',
          scheduledEventId: a.reqInt('scheduledEventId'),
          startedEventId: a.int('startedEventId'),
          failure: failureOrEmpty(ctx, payloads, a),
          retryState: retryStateOf(a, 'retryState') ?? 'unspecified',
        };
        break;
      case 'ActivityTaskCancelRequested':
        e = { ...base, type: 'activityTaskCancelRequested', scheduledEventId: a.reqInt('scheduledEventId'), workflowTaskCompletedEventId: a.reqInt('workflowTaskCompletedEventId') };
        break;
      case 'ActivityTaskCanceled':
        e = {
          ...base,
          type: 'activityTaskCanceled',
          scheduledEventId: a.reqInt('scheduledEventId'),
          startedEventId: a.int('startedEventId'),
          latestCancelRequestedEventId: a.reqInt('latestCancelRequestedEventId'),
          details: payloads.optList(a, 'details'),
        };
        break;
      case 'TimerStarted':
        e = {
          ...base,
          type: 'timerStarted',
          timerId: a.reqStr('timerId'),
          startToFireTimeoutMs: a.ms('startToFireTimeout', false) ?? ctx.fail(a.at('startToFireTimeout'), 'missing required field (expected a duration)'),
          workflowTaskCompletedEventId: a.reqInt('workflowTaskCompletedEventId'),
        };
        break;
      case 'TimerFired':
        e = { ...base, type: 'timerFired', timerId: a.reqStr('timerId'), startedEventId: a.reqInt('startedEventId') };
        break;
      case 'TimerCanceled':
        e = { ...base, type: 'timerCanceled', timerId: a.reqStr('timerId'), startedEventId: a.reqInt('startedEventId'), workflowTaskCompletedEventId: a.reqInt('workflowTaskCompletedEventId') };
        break;
      case 'StartChildWorkflowExecutionInitiated': {
        const pcp = a.enum('parentClosePolicy', 'PARENT_CLOSE_POLICY');
        const reuse = a.enum('workflowIdReusePolicy', 'WORKFLOW_ID_REUSE_POLICY');
        e = {
          ...base,
          type: 'startChildWorkflowExecutionInitiated',
          workflowId: a.reqStr('workflowId'),
          workflowType: a.name('workflowType'),
          taskQueue: a.name('taskQueue'),
          input: payloads.list(a, 'input'),
          // Temporal's default for an unspecified policy is terminate.
          parentClosePolicy: pcp === 'REQUEST_CANCEL' ? 'requestCancel' : pcp === 'ABANDON' ? 'abandon' : 'terminate',
          // TERMINATE_IF_RUNNING has no deja counterpart; the child's start already happened.
          workflowIdReusePolicy:
            reuse === 'ALLOW_DUPLICATE' ? 'allowDuplicate' : reuse === 'ALLOW_DUPLICATE_FAILED_ONLY' ? 'allowDuplicateFailedOnly' : reuse === 'REJECT_DUPLICATE' ? 'rejectDuplicate' : undefined,
          workflowTaskTimeoutMs: a.ms('workflowTaskTimeout') ?? 10_000,
          workflowExecutionTimeoutMs: a.ms('workflowExecutionTimeout'),
          workflowRunTimeoutMs: a.ms('workflowRunTimeout'),
          retryPolicy: retryPolicyOf(a, 'retryPolicy'),
          cronSchedule: a.str('cronSchedule'),
          memo: payloads.memo(a, 'memo'),
          searchAttributes: payloads.searchAttributes(a, 'searchAttributes'),
          workflowTaskCompletedEventId: a.reqInt('workflowTaskCompletedEventId'),
        };
        break;
      }
      case 'StartChildWorkflowExecutionFailed': {
        const cause = a.enum('cause', 'START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE');
        e = {
          ...base,
          type: 'startChildWorkflowExecutionFailed',
          workflowId: a.reqStr('workflowId'),
          workflowType: a.name('workflowType'),
          cause: cause === undefined ? 'unspecified' : camel(cause),
          initiatedEventId: a.reqInt('initiatedEventId'),
        };
        break;
      }
      case 'ChildWorkflowExecutionStarted': {
        const ex = execOf('workflowExecution');
        const child = { workflowId: ex.workflowId ?? ctx.fail(a.at('workflowExecution.workflowId'), 'missing required field'), runId: ex.runId ?? ctx.fail(a.at('workflowExecution.runId'), 'missing required field') };
        childRunIds.set(child.workflowId, child.runId);
        e = { ...base, type: 'childWorkflowExecutionStarted', ...child, workflowType: a.name('workflowType'), initiatedEventId: a.reqInt('initiatedEventId') };
        break;
      }
      case 'ChildWorkflowExecutionCompleted':
      case 'ChildWorkflowExecutionFailed':
      case 'ChildWorkflowExecutionCanceled':
      case 'ChildWorkflowExecutionTerminated':
      case 'ChildWorkflowExecutionTimedOut': {
        const ex = execOf('workflowExecution');
        const closed = {
          ...base,
          type: lowerFirst(name),
          workflowId: ex.workflowId ?? ctx.fail(a.at('workflowExecution.workflowId'), 'missing required field'),
          runId: ex.runId ?? ctx.fail(a.at('workflowExecution.runId'), 'missing required field'),
          workflowType: a.name('workflowType'),
          initiatedEventId: a.reqInt('initiatedEventId'),
          startedEventId: a.reqInt('startedEventId'),
        };
        if (name === 'ChildWorkflowExecutionCompleted') e = { ...closed, result: payloads.first(a, 'result') };
        else if (name === 'ChildWorkflowExecutionFailed') e = { ...closed, failure: failureOrEmpty(ctx, payloads, a), retryState: retryStateOf(a, 'retryState') ?? 'unspecified' };
        else if (name === 'ChildWorkflowExecutionCanceled') e = { ...closed, details: payloads.optList(a, 'details') };
        else if (name === 'ChildWorkflowExecutionTerminated') e = closed;
        else e = { ...closed, retryState: retryStateOf(a, 'retryState') ?? 'unspecified' };
        break;
      }
      case 'SignalExternalWorkflowExecutionInitiated':
      case 'RequestCancelExternalWorkflowExecutionInitiated': {
        const ex = execOf('workflowExecution');
        const target = ex.workflowId ?? ctx.fail(a.at('workflowExecution.workflowId'), 'missing required field');
        initiatedRunIds.set(eventId, ex.runId);
        e =
          name === 'SignalExternalWorkflowExecutionInitiated'
            ? {
                ...base,
                type: 'signalExternalWorkflowExecutionInitiated',
                workflowId: target,
                runId: ex.runId,
                signalName: a.reqStr('signalName'),
                input: payloads.list(a, 'input'),
                childWorkflowOnly: a.bool('childWorkflowOnly') ?? false,
                workflowTaskCompletedEventId: a.reqInt('workflowTaskCompletedEventId'),
              }
            : {
                ...base,
                type: 'requestCancelExternalWorkflowExecutionInitiated',
                workflowId: target,
                runId: ex.runId,
                childWorkflowOnly: a.bool('childWorkflowOnly') ?? false,
                workflowTaskCompletedEventId: a.reqInt('workflowTaskCompletedEventId'),
              };
        break;
      }
      case 'ExternalWorkflowExecutionSignaled':
      case 'ExternalWorkflowExecutionCancelRequested': {
        const ex = execOf('workflowExecution');
        const initiatedEventId = a.reqInt('initiatedEventId');
        const target = ex.workflowId ?? ctx.fail(a.at('workflowExecution.workflowId'), 'missing required field');
        e = {
          ...base,
          type: lowerFirst(name),
          initiatedEventId,
          workflowId: target,
          runId: ex.runId ?? initiatedRunIds.get(initiatedEventId) ?? childRunIds.get(target) ?? 'unknown',
        };
        break;
      }
      case 'SignalExternalWorkflowExecutionFailed':
      case 'RequestCancelExternalWorkflowExecutionFailed': {
        const ex = execOf('workflowExecution');
        const cause = a.enum('cause', 'CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE') ?? undefined;
        const signalCause = a.enum('cause', 'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE');
        const c = name === 'SignalExternalWorkflowExecutionFailed' ? signalCause : cause;
        e = {
          ...base,
          type: lowerFirst(name),
          initiatedEventId: a.reqInt('initiatedEventId'),
          workflowId: ex.workflowId ?? ctx.fail(a.at('workflowExecution.workflowId'), 'missing required field'),
          runId: ex.runId,
          cause: c === undefined ? 'unspecified' : camel(c),
        };
        break;
      }
      case 'MarkerRecorded':
        e = { ...base, ...markerOf(ctx, payloads, a) };
        break;
      case 'UpsertWorkflowSearchAttributes':
        e = {
          ...base,
          type: 'upsertWorkflowSearchAttributes',
          searchAttributes: payloads.searchAttributes(a, 'searchAttributes', true) ?? {},
          workflowTaskCompletedEventId: a.reqInt('workflowTaskCompletedEventId'),
        };
        break;
      case 'WorkflowPropertiesModified':
        e = { ...base, type: 'workflowPropertiesModified', upsertedMemo: payloads.memo(a, 'upsertedMemo') ?? {}, workflowTaskCompletedEventId: a.reqInt('workflowTaskCompletedEventId') };
        break;
      case 'WorkflowExecutionUpdateAccepted': {
        const req = a.obj('acceptedRequest');
        const meta = req?.obj('meta');
        const input = req?.obj('input');
        e = {
          ...base,
          type: 'workflowExecutionUpdateAccepted',
          updateId: meta?.str('updateId') ?? a.reqStr('protocolInstanceId'),
          name: input?.str('name') ?? ctx.fail(a.at('acceptedRequest.input.name'), 'missing required field (expected the update name)'),
          input: input === undefined ? [] : payloads.list(input, 'args'),
          identity: meta?.str('identity'),
          workflowTaskCompletedEventId: lastCompleted ?? ctx.fail('', 'an update accepted before any workflow task completed'),
        };
        break;
      }
      case 'WorkflowExecutionUpdateCompleted': {
        const outcome = a.obj('outcome');
        const failure = outcome?.obj('failure');
        e = {
          ...base,
          type: 'workflowExecutionUpdateCompleted',
          updateId: a.obj('meta')?.str('updateId') ?? ctx.fail(a.at('meta.updateId'), 'missing required field'),
          acceptedEventId: a.reqInt('acceptedEventId'),
          result: outcome === undefined || failure !== undefined ? undefined : payloads.first(outcome, 'success'),
          failure: failure === undefined ? undefined : failureOf(ctx, payloads, failure),
          workflowTaskCompletedEventId: lastCompleted ?? ctx.fail('', 'an update completed before any workflow task completed'),
        };
        break;
      }
      default:
        return ctx.fail('eventType', `deja does not support ${name} events yet`);
    }
    out.push(defined(e));
  }
  if (workflowId === undefined) {
    ctx.eventId = 0;
    return ctx.fail('', 'expected the first event to be WorkflowExecutionStarted');
  }
  return { format: HISTORY_FORMAT, version: HISTORY_VERSION, workflowId, runId, events: out };
}

function failureOrEmpty(ctx: Ctx, payloads: Payloads, a: Attrs): WireFailure {
  const f = a.obj('failure');
  return f === undefined ? { message: '', kind: 'application' } : failureOf(ctx, payloads, f);
}

/** Temporal's workflow task failure causes with a deja name of their own. */
const DEJA_TASK_CAUSE: Record<string, string> = {
  NON_DETERMINISTIC_ERROR: 'nondeterminism',
  WORKFLOW_WORKER_UNHANDLED_FAILURE: 'workflowError',
};
/**
 * The seed a WorkflowTaskFailed gives the PRNG from the next task on: a workflow reset
 * (RESET_WORKFLOW) re-seeds from its newRunId as Temporal's worker does; a newRunId deja wrote
 * carries its seed verbatim. Any other task failure leaves the seed alone.
 */
function newSeedOf(a: Attrs, cause: string | undefined): string | undefined {
  const newRunId = a.str('newRunId');
  if (newRunId === undefined || newRunId === '') return undefined;
  if (newRunId.startsWith(NEW_SEED_PREFIX) && newRunId.length > NEW_SEED_PREFIX.length) return newRunId.slice(NEW_SEED_PREFIX.length);
  return cause === 'RESET_WORKFLOW' ? temporalRandomnessSeed(newRunId) : undefined;
}

const TEMPORAL_TASK_CAUSE: Record<string, string> = { nondeterminism: 'NON_DETERMINISTIC_ERROR', workflowError: 'WORKFLOW_WORKER_UNHANDLED_FAILURE' };

/** A MarkerRecorded: core_patch or core_local_activity (the markers the Temporal TypeScript SDK writes). */
function markerOf(ctx: Ctx, payloads: Payloads, a: Attrs): Obj {
  const markerName = a.reqStr('markerName');
  const details = a.obj('details');
  const detail = (key: string): Payload | undefined => (details === undefined ? undefined : payloads.first(details, key));
  const workflowTaskCompletedEventId = a.reqInt('workflowTaskCompletedEventId');
  if (markerName === 'core_patch') {
    const data = detail('patch_data') ?? detail('patchData');
    const patchId = isObj(data) ? (data.id ?? data.patch_id ?? data.patchId) : undefined;
    if (typeof patchId !== 'string' || patchId === '') return ctx.expected(a.at('details.patch_data'), 'a core_patch marker payload { id, deprecated }', data);
    return { type: 'patchMarkerRecorded', patchId, deprecated: isObj(data) && data.deprecated === true, workflowTaskCompletedEventId };
  }
  if (markerName === 'core_local_activity') {
    const data = detail('data');
    if (!isObj(data) || typeof data.seq !== 'number' || typeof data.activity_id !== 'string' || typeof data.activity_type !== 'string') {
      return ctx.expected(a.at('details.data'), 'a core_local_activity marker payload { seq, attempt, activity_id, activity_type, … }', data);
    }
    const f = a.obj('failure');
    return defined({
      type: 'localActivityMarkerRecorded',
      seq: data.seq,
      activityId: data.activity_id,
      activityType: data.activity_type,
      attempt: typeof data.attempt === 'number' && data.attempt >= 1 ? data.attempt : 1,
      result: f === undefined ? detail('result') : undefined,
      failure: f === undefined ? undefined : failureOf(ctx, payloads, f),
      workflowTaskCompletedEventId,
    });
  }
  return ctx.fail(a.at('markerName'), `deja does not support ${JSON.stringify(markerName)} markers yet; it reads core_patch and core_local_activity markers`);
}

// ---------------------------------------------------------------------------------------------
// Writing: deja → Temporal proto3 JSON

const enc = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const JSON_PLAIN = enc('json/plain');
const BINARY_NULL = enc('binary/null');

function payloadOut(value: Payload | undefined, extra?: Record<string, string>): TemporalJsonPayload {
  if (value === undefined) return { metadata: { encoding: BINARY_NULL } };
  return { metadata: { encoding: JSON_PLAIN, ...extra }, data: enc(JSON.stringify(value)) };
}
const payloadsOut = (values: readonly Payload[]): Obj => (values.length === 0 ? {} : { payloads: values.map((v) => payloadOut(v)) });
const resultOut = (value: Payload | undefined): Obj | undefined => (value === undefined ? undefined : { payloads: [payloadOut(value)] });

/** ms → a proto3 JSON Duration ("1.5s"). */
function durationOut(ms: number | undefined): string | undefined {
  if (ms === undefined) return undefined;
  const ns = Math.round(ms * 1e6);
  const seconds = Math.floor(ns / 1e9);
  const frac = ns % 1e9;
  return frac === 0 ? `${seconds}s` : `${seconds}.${String(frac).padStart(9, '0').replace(/0+$/, '')}s`;
}
const idOut = (id: number | undefined): string | undefined => (id === undefined ? undefined : String(id));

function failureOut(f: WireFailure): Obj {
  const out: Obj = { message: f.message };
  if (f.stack !== undefined) out.stackTrace = f.stack;
  if (f.cause !== undefined) out.cause = failureOut(f.cause);
  const details = f.details === undefined ? undefined : payloadsOut(f.details);
  switch (f.kind) {
    case 'application':
      out.applicationFailureInfo = defined({ type: f.type, nonRetryable: f.nonRetryable, details });
      break;
    case 'timeout':
      out.timeoutFailureInfo = defined({ timeoutType: f.timeoutType === undefined ? undefined : `TIMEOUT_TYPE_${upperSnake(f.timeoutType)}`, lastHeartbeatDetails: details });
      break;
    case 'cancelled':
      out.canceledFailureInfo = defined({ details });
      break;
    case 'terminated':
      out.terminatedFailureInfo = {};
      break;
    case 'server':
      out.serverFailureInfo = defined({ nonRetryable: f.nonRetryable });
      break;
    case 'activity':
      out.activityFailureInfo = defined({
        activityType: f.activityType === undefined ? undefined : { name: f.activityType },
        activityId: f.activityId,
        retryState: retryStateOut(f.retryState),
      });
      break;
    case 'childWorkflow':
      out.childWorkflowExecutionFailureInfo = defined({
        workflowExecution: f.workflowId === undefined && f.runId === undefined ? undefined : defined({ workflowId: f.workflowId, runId: f.runId }),
        workflowType: f.workflowType === undefined ? undefined : { name: f.workflowType },
        retryState: retryStateOut(f.retryState),
      });
      break;
  }
  return out;
}

const retryStateOut = (s: WireFailure['retryState']): string | undefined => (s === undefined ? undefined : `RETRY_STATE_${upperSnake(s)}`);

function retryPolicyOut(r: RetryPolicy | undefined): Obj | undefined {
  if (r === undefined) return undefined;
  return defined({
    initialInterval: durationOut(r.initialIntervalMs),
    backoffCoefficient: r.backoffCoefficient,
    maximumInterval: durationOut(r.maximumIntervalMs),
    maximumAttempts: r.maximumAttempts,
    nonRetryableErrorTypes: r.nonRetryableErrorTypes,
  });
}

function memoOut(memo: Record<string, Payload | null> | undefined): Obj | undefined {
  if (memo === undefined) return undefined;
  return { fields: Object.fromEntries(Object.entries(memo).map(([k, v]) => [k, payloadOut(v)])) };
}

function searchAttributesOut(sa: Record<string, SearchAttributeValue | null> | undefined): Obj | undefined {
  if (sa === undefined) return undefined;
  return {
    indexedFields: Object.fromEntries(
      Object.entries(sa).map(([k, v]) => [k, v === null ? payloadOut(null) : payloadOut(v.value, { type: enc(SA_NAMES[v.type]) })]),
    ),
  };
}

const taskQueueOut = (name: string): Obj => ({ name, kind: 'TASK_QUEUE_KIND_NORMAL' });

/**
 * A deja history as Temporal's current proto3 JSON (`{ events: [...] }`, event types
 * `EVENT_TYPE_…`, int64 as strings, durations as "10s", payloads json/plain or binary/null), which
 * Temporal's replayer (`Worker.runReplayHistory`, `historyFromJSON`) reads. `fromTemporalHistory`
 * (and parseHistory) read it back into the same deja history.
 */
export function toTemporalHistory(history: History): TemporalHistoryJson {
  const { parseHistory } = require('./validate') as typeof import('./validate');
  const h = parseHistory(history, 'toTemporalHistory');
  const events = h.events.map((e) => {
    const [name, attrs] = eventOut(e, h);
    return { eventId: String(e.eventId), eventTime: e.eventTime, eventType: eventTypeEnum(name), [`${lowerFirst(name)}EventAttributes`]: defined(attrs) };
  });
  return { events };
}

/** The latest workflowTaskCompleted's scheduled event id at or before an event (for update sequencing). */
function scheduledOfCompleted(h: History, completedId: number): number | undefined {
  const e = h.events[completedId - 1];
  return e?.type === 'workflowTaskCompleted' ? e.scheduledEventId : undefined;
}

function eventOut(e: HistoryEvent, h: History): [string, Obj] {
  const wtc = (x: { workflowTaskCompletedEventId: number }) => idOut(x.workflowTaskCompletedEventId);
  switch (e.type) {
    case 'workflowExecutionStarted':
      return [
        'WorkflowExecutionStarted',
        {
          workflowId: e.workflowId,
          workflowType: { name: e.workflowType },
          parentWorkflowExecution: e.parent === undefined ? undefined : { workflowId: e.parent.workflowId, runId: e.parent.runId },
          parentInitiatedEventId: idOut(e.parent?.initiatedEventId),
          taskQueue: taskQueueOut(e.taskQueue),
          input: payloadsOut(e.input),
          workflowExecutionTimeout: durationOut(e.workflowExecutionTimeoutMs),
          workflowRunTimeout: durationOut(e.workflowRunTimeoutMs),
          workflowTaskTimeout: durationOut(e.workflowTaskTimeoutMs),
          continuedExecutionRunId: e.continuedFromExecutionRunId,
          initiator:
            e.initiator === undefined
              ? undefined
              : `CONTINUE_AS_NEW_INITIATOR_${e.initiator === 'workflow' ? 'WORKFLOW' : e.initiator === 'retryPolicy' ? 'RETRY' : 'CRON_SCHEDULE'}`,
          continuedFailure: e.continuedFailure === undefined ? undefined : failureOut(e.continuedFailure),
          lastCompletionResult: resultOut(e.lastCompletionResult),
          originalExecutionRunId: e.runId,
          identity: e.identity,
          firstExecutionRunId: e.firstExecutionRunId,
          retryPolicy: retryPolicyOut(e.retryPolicy),
          attempt: e.attempt,
          workflowExecutionExpirationTime: e.workflowExecutionExpirationTime,
          cronSchedule: e.cronSchedule,
          firstWorkflowTaskBackoff: durationOut(e.firstWorkflowTaskBackoffMs),
          memo: memoOut(e.memo),
          searchAttributes: searchAttributesOut(e.searchAttributes),
          // deja's seed, which Temporal has no field for; Temporal's workers ignore unknown headers.
          header: { fields: { [SEED_HEADER]: payloadOut(e.randomnessSeed) } },
        },
      ];
    case 'workflowExecutionCompleted':
      return ['WorkflowExecutionCompleted', { result: resultOut(e.result), workflowTaskCompletedEventId: wtc(e), newExecutionRunId: e.newExecutionRunId }];
    case 'workflowExecutionFailed':
      return [
        'WorkflowExecutionFailed',
        { failure: failureOut(e.failure), retryState: retryStateOut(e.retryState), workflowTaskCompletedEventId: idOut(e.workflowTaskCompletedEventId), newExecutionRunId: e.newExecutionRunId },
      ];
    case 'workflowExecutionTimedOut':
      return ['WorkflowExecutionTimedOut', { retryState: retryStateOut(e.retryState), newExecutionRunId: e.newExecutionRunId }];
    case 'workflowExecutionCanceled':
      return ['WorkflowExecutionCanceled', { workflowTaskCompletedEventId: wtc(e), details: e.details === undefined ? undefined : payloadsOut(e.details) }];
    case 'workflowExecutionTerminated':
      return ['WorkflowExecutionTerminated', { reason: e.reason, details: e.details === undefined ? undefined : payloadsOut(e.details), identity: e.identity }];
    case 'workflowExecutionContinuedAsNew':
      return [
        'WorkflowExecutionContinuedAsNew',
        {
          newExecutionRunId: e.newExecutionRunId,
          workflowType: { name: e.workflowType },
          taskQueue: taskQueueOut(e.taskQueue),
          input: payloadsOut(e.input),
          workflowRunTimeout: durationOut(e.workflowRunTimeoutMs),
          workflowTaskTimeout: durationOut(e.workflowTaskTimeoutMs),
          workflowTaskCompletedEventId: wtc(e),
          initiator: 'CONTINUE_AS_NEW_INITIATOR_WORKFLOW',
        },
      ];
    case 'workflowExecutionSignaled':
      return ['WorkflowExecutionSignaled', { signalName: e.signalName, input: payloadsOut(e.input), identity: e.identity }];
    case 'workflowExecutionCancelRequested':
      return [
        'WorkflowExecutionCancelRequested',
        {
          cause: e.cause,
          externalInitiatedEventId: idOut(e.externalInitiatedEventId),
          externalWorkflowExecution: e.externalWorkflowId === undefined ? undefined : defined({ workflowId: e.externalWorkflowId, runId: e.externalRunId }),
          identity: e.identity,
        },
      ];
    case 'workflowTaskScheduled':
      return ['WorkflowTaskScheduled', { taskQueue: taskQueueOut(e.taskQueue), startToCloseTimeout: durationOut(h.events[0]?.type === 'workflowExecutionStarted' ? h.events[0].workflowTaskTimeoutMs : undefined), attempt: e.attempt }];
    case 'workflowTaskStarted':
      return ['WorkflowTaskStarted', { scheduledEventId: idOut(e.scheduledEventId), identity: e.identity, historySizeBytes: idOut(e.historySizeBytes), suggestContinueAsNew: e.suggestContinueAsNew }];
    case 'workflowTaskCompleted':
      return [
        'WorkflowTaskCompleted',
        {
          scheduledEventId: idOut(e.scheduledEventId),
          startedEventId: idOut(e.startedEventId),
          identity: e.identity,
          sdkMetadata: e.sdkMetadata === undefined ? undefined : defined({ ...e.sdkMetadata }),
          workerVersion: e.workerBuildId === undefined ? undefined : { buildId: e.workerBuildId },
        },
      ];
    case 'workflowTaskFailed':
      return [
        'WorkflowTaskFailed',
        {
          scheduledEventId: idOut(e.scheduledEventId),
          startedEventId: idOut(e.startedEventId),
          // Temporal's causes are a closed enum: deja's own causes other than these two become an unhandled failure.
          cause: `WORKFLOW_TASK_FAILED_CAUSE_${TEMPORAL_TASK_CAUSE[e.cause] ?? (taskCauseIsTemporal(e.cause) ? upperSnake(e.cause) : 'WORKFLOW_WORKER_UNHANDLED_FAILURE')}`,
          failure: failureOut(e.failure),
          identity: e.identity,
          // Temporal has no field for a seed: a re-seed travels in newRunId, marked (see NEW_SEED_PREFIX).
          newRunId: e.newRandomnessSeed === undefined ? undefined : NEW_SEED_PREFIX + e.newRandomnessSeed,
        },
      ];
    case 'workflowTaskTimedOut':
      return ['WorkflowTaskTimedOut', { scheduledEventId: idOut(e.scheduledEventId), startedEventId: idOut(e.startedEventId), timeoutType: 'TIMEOUT_TYPE_START_TO_CLOSE' }];
    case 'activityTaskScheduled':
      return [
        'ActivityTaskScheduled',
        {
          activityId: e.activityId,
          activityType: { name: e.activityType },
          taskQueue: taskQueueOut(e.taskQueue),
          input: payloadsOut(e.input),
          scheduleToCloseTimeout: durationOut(e.scheduleToCloseTimeoutMs),
          scheduleToStartTimeout: durationOut(e.scheduleToStartTimeoutMs),
          startToCloseTimeout: durationOut(e.startToCloseTimeoutMs),
          heartbeatTimeout: durationOut(e.heartbeatTimeoutMs),
          workflowTaskCompletedEventId: wtc(e),
          retryPolicy: retryPolicyOut(e.retryPolicy),
        },
      ];
    case 'activityTaskStarted':
      return ['ActivityTaskStarted', { scheduledEventId: idOut(e.scheduledEventId), identity: e.identity, attempt: e.attempt }];
    case 'activityTaskCompleted':
      return ['ActivityTaskCompleted', { result: resultOut(e.result), scheduledEventId: idOut(e.scheduledEventId), startedEventId: idOut(e.startedEventId) }];
    case 'activityTaskFailed':
      return ['ActivityTaskFailed', { failure: failureOut(e.failure), scheduledEventId: idOut(e.scheduledEventId), startedEventId: idOut(e.startedEventId), retryState: retryStateOut(e.retryState) }];
    case 'activityTaskTimedOut':
      return ['ActivityTaskTimedOut', { failure: failureOut(e.failure), scheduledEventId: idOut(e.scheduledEventId), startedEventId: idOut(e.startedEventId), retryState: retryStateOut(e.retryState) }];
    case 'activityTaskCancelRequested':
      return ['ActivityTaskCancelRequested', { scheduledEventId: idOut(e.scheduledEventId), workflowTaskCompletedEventId: wtc(e) }];
    case 'activityTaskCanceled':
      return [
        'ActivityTaskCanceled',
        {
          details: e.details === undefined ? undefined : payloadsOut(e.details),
          latestCancelRequestedEventId: idOut(e.latestCancelRequestedEventId),
          scheduledEventId: idOut(e.scheduledEventId),
          startedEventId: idOut(e.startedEventId),
        },
      ];
    case 'timerStarted':
      return ['TimerStarted', { timerId: e.timerId, startToFireTimeout: durationOut(e.startToFireTimeoutMs), workflowTaskCompletedEventId: wtc(e) }];
    case 'timerFired':
      return ['TimerFired', { timerId: e.timerId, startedEventId: idOut(e.startedEventId) }];
    case 'timerCanceled':
      return ['TimerCanceled', { timerId: e.timerId, startedEventId: idOut(e.startedEventId), workflowTaskCompletedEventId: wtc(e) }];
    case 'startChildWorkflowExecutionInitiated':
      return [
        'StartChildWorkflowExecutionInitiated',
        {
          workflowId: e.workflowId,
          workflowType: { name: e.workflowType },
          taskQueue: taskQueueOut(e.taskQueue),
          input: payloadsOut(e.input),
          workflowExecutionTimeout: durationOut(e.workflowExecutionTimeoutMs),
          workflowRunTimeout: durationOut(e.workflowRunTimeoutMs),
          workflowTaskTimeout: durationOut(e.workflowTaskTimeoutMs),
          parentClosePolicy: `PARENT_CLOSE_POLICY_${upperSnake(e.parentClosePolicy)}`,
          workflowTaskCompletedEventId: wtc(e),
          workflowIdReusePolicy: e.workflowIdReusePolicy === undefined ? undefined : `WORKFLOW_ID_REUSE_POLICY_${upperSnake(e.workflowIdReusePolicy)}`,
          retryPolicy: retryPolicyOut(e.retryPolicy),
          cronSchedule: e.cronSchedule,
          memo: memoOut(e.memo),
          searchAttributes: searchAttributesOut(e.searchAttributes),
        },
      ];
    case 'startChildWorkflowExecutionFailed':
      return [
        'StartChildWorkflowExecutionFailed',
        { workflowId: e.workflowId, workflowType: { name: e.workflowType }, cause: `START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_${upperSnake(e.cause)}`, initiatedEventId: idOut(e.initiatedEventId) },
      ];
    case 'childWorkflowExecutionStarted':
      return ['ChildWorkflowExecutionStarted', { initiatedEventId: idOut(e.initiatedEventId), workflowExecution: { workflowId: e.workflowId, runId: e.runId }, workflowType: { name: e.workflowType } }];
    case 'childWorkflowExecutionCompleted':
    case 'childWorkflowExecutionFailed':
    case 'childWorkflowExecutionCanceled':
    case 'childWorkflowExecutionTerminated':
    case 'childWorkflowExecutionTimedOut': {
      const closed: Obj = {
        workflowExecution: { workflowId: e.workflowId, runId: e.runId },
        workflowType: { name: e.workflowType },
        initiatedEventId: idOut(e.initiatedEventId),
        startedEventId: idOut(e.startedEventId),
      };
      if (e.type === 'childWorkflowExecutionCompleted') closed.result = resultOut(e.result);
      if (e.type === 'childWorkflowExecutionFailed') Object.assign(closed, { failure: failureOut(e.failure), retryState: retryStateOut(e.retryState) });
      if (e.type === 'childWorkflowExecutionCanceled' && e.details !== undefined) closed.details = payloadsOut(e.details);
      if (e.type === 'childWorkflowExecutionTimedOut') closed.retryState = retryStateOut(e.retryState);
      return [e.type.charAt(0).toUpperCase() + e.type.slice(1), closed];
    }
    case 'signalExternalWorkflowExecutionInitiated':
      return [
        'SignalExternalWorkflowExecutionInitiated',
        {
          workflowTaskCompletedEventId: wtc(e),
          workflowExecution: defined({ workflowId: e.workflowId, runId: e.runId }),
          signalName: e.signalName,
          input: payloadsOut(e.input),
          childWorkflowOnly: e.childWorkflowOnly,
        },
      ];
    case 'requestCancelExternalWorkflowExecutionInitiated':
      return [
        'RequestCancelExternalWorkflowExecutionInitiated',
        { workflowTaskCompletedEventId: wtc(e), workflowExecution: defined({ workflowId: e.workflowId, runId: e.runId }), childWorkflowOnly: e.childWorkflowOnly },
      ];
    case 'externalWorkflowExecutionSignaled':
    case 'externalWorkflowExecutionCancelRequested':
      return [e.type.charAt(0).toUpperCase() + e.type.slice(1), { initiatedEventId: idOut(e.initiatedEventId), workflowExecution: { workflowId: e.workflowId, runId: e.runId } }];
    case 'signalExternalWorkflowExecutionFailed':
    case 'requestCancelExternalWorkflowExecutionFailed': {
      const prefix = e.type === 'signalExternalWorkflowExecutionFailed' ? 'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE' : 'CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE';
      return [
        e.type.charAt(0).toUpperCase() + e.type.slice(1),
        { cause: `${prefix}_${upperSnake(e.cause)}`, initiatedEventId: idOut(e.initiatedEventId), workflowExecution: defined({ workflowId: e.workflowId, runId: e.runId }) },
      ];
    }
    case 'patchMarkerRecorded':
      return ['MarkerRecorded', { markerName: 'core_patch', details: { patch_data: { payloads: [payloadOut({ id: e.patchId, deprecated: e.deprecated })] } }, workflowTaskCompletedEventId: wtc(e) }];
    case 'localActivityMarkerRecorded': {
      const details: Obj = { data: { payloads: [payloadOut({ seq: e.seq, attempt: e.attempt, activity_id: e.activityId, activity_type: e.activityType })] } };
      if (e.failure === undefined) details.result = { payloads: [payloadOut(e.result)] };
      return ['MarkerRecorded', { markerName: 'core_local_activity', details, workflowTaskCompletedEventId: wtc(e), failure: e.failure === undefined ? undefined : failureOut(e.failure) }];
    }
    case 'upsertWorkflowSearchAttributes':
      return ['UpsertWorkflowSearchAttributes', { workflowTaskCompletedEventId: wtc(e), searchAttributes: searchAttributesOut(e.searchAttributes) }];
    case 'workflowPropertiesModified':
      return ['WorkflowPropertiesModified', { workflowTaskCompletedEventId: wtc(e), upsertedMemo: memoOut(e.upsertedMemo) }];
    case 'workflowExecutionUpdateAccepted':
      return [
        'WorkflowExecutionUpdateAccepted',
        {
          protocolInstanceId: e.updateId,
          acceptedRequestMessageId: `${e.updateId}/request`,
          acceptedRequestSequencingEventId: idOut(scheduledOfCompleted(h, e.workflowTaskCompletedEventId)),
          acceptedRequest: { meta: defined({ updateId: e.updateId, identity: e.identity }), input: { name: e.name, args: payloadsOut(e.input) } },
        },
      ];
    case 'workflowExecutionUpdateCompleted':
      return [
        'WorkflowExecutionUpdateCompleted',
        {
          meta: { updateId: e.updateId },
          acceptedEventId: idOut(e.acceptedEventId),
          outcome: e.failure !== undefined ? { failure: failureOut(e.failure) } : { success: e.result === undefined ? {} : resultOut(e.result) },
        },
      ];
    default:
      return assertNever(e, 'history event');
  }
}

/** A deja task failure cause that names one of Temporal's (camelCase of WORKFLOW_TASK_FAILED_CAUSE_…): read back as written. */
function taskCauseIsTemporal(cause: string): boolean {
  return /^[a-z][a-zA-Z0-9]*$/.test(cause) && TEMPORAL_CAUSES.has(upperSnake(cause));
}
const TEMPORAL_CAUSES = new Set([
  'UNSPECIFIED', 'UNHANDLED_COMMAND', 'BAD_SCHEDULE_ACTIVITY_ATTRIBUTES', 'BAD_REQUEST_CANCEL_ACTIVITY_ATTRIBUTES', 'BAD_START_TIMER_ATTRIBUTES',
  'BAD_CANCEL_TIMER_ATTRIBUTES', 'BAD_RECORD_MARKER_ATTRIBUTES', 'BAD_COMPLETE_WORKFLOW_EXECUTION_ATTRIBUTES',
  'BAD_FAIL_WORKFLOW_EXECUTION_ATTRIBUTES', 'BAD_CANCEL_WORKFLOW_EXECUTION_ATTRIBUTES',
  'BAD_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_ATTRIBUTES', 'BAD_CONTINUE_AS_NEW_ATTRIBUTES', 'START_TIMER_DUPLICATE_ID',
  'RESET_STICKY_TASK_QUEUE', 'WORKFLOW_WORKER_UNHANDLED_FAILURE', 'BAD_SIGNAL_WORKFLOW_EXECUTION_ATTRIBUTES',
  'BAD_START_CHILD_EXECUTION_ATTRIBUTES', 'FORCE_CLOSE_COMMAND', 'FAILOVER_CLOSE_COMMAND', 'BAD_SIGNAL_INPUT_SIZE',
  'RESET_WORKFLOW', 'BAD_BINARY', 'SCHEDULE_ACTIVITY_DUPLICATE_ID', 'BAD_SEARCH_ATTRIBUTES', 'NON_DETERMINISTIC_ERROR',
  'BAD_MODIFY_WORKFLOW_PROPERTIES_ATTRIBUTES', 'PENDING_CHILD_WORKFLOWS_LIMIT_EXCEEDED', 'PENDING_ACTIVITIES_LIMIT_EXCEEDED',
  'PENDING_SIGNALS_LIMIT_EXCEEDED', 'PENDING_REQUEST_CANCEL_LIMIT_EXCEEDED', 'BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE',
  'UNHANDLED_UPDATE', 'BAD_SCHEDULE_NEXUS_OPERATION_ATTRIBUTES', 'PENDING_NEXUS_OPERATIONS_LIMIT_EXCEEDED',
  'BAD_REQUEST_CANCEL_NEXUS_OPERATION_ATTRIBUTES', 'FEATURE_DISABLED', 'GRPC_MESSAGE_TOO_LARGE',
]);
