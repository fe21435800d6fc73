/**
 * Validation at the service edge (host side). Every request and command is checked here, before
 * any transaction, and every payload is copied into plain JSON data (see json-copy.ts), so stored
 * history never aliases a caller's object and bad input never reaches the store. Each request is
 * read once: an object's properties are snapshotted, a payload walked once, so a getter, a Proxy
 * or a toJSON cannot show one value to the check and another to the store.
 *
 * Errors name the method, the field and what was found. A request over a limit (limits.ts) gets a
 * LimitExceededError naming the limit and the actual size; anything the request's own code throws
 * while being read (a getter, a Proxy trap) becomes an InvalidArgumentError too.
 */
import { types } from 'node:util';
import type { TSchema } from '@sinclair/typebox';
import type { Command, Payload, RetryPolicy, SearchAttributes, SearchAttributeUpserts, WireFailure } from '../../runtime/protocol';
import { isClosingCommand } from '../../runtime/protocol';
import {
  COMMAND_SCHEMAS,
  ISO_TIME,
  RetryPolicyCommandSchema,
  SearchAttributesSchema,
  SearchAttributeUpsertsSchema,
  SdkMetadataSchema,
  WireFailureSchema,
  type SdkMetadata,
  compiledCheck,
  expectedOf,
  firstProblem,
  isPayloadSchema,
  pathText,
} from '../history/schema';
import { checkKnownKeys, describe, InvalidArgumentError, LimitExceededError } from '../errors';
import type { ExecutionRef } from '../service';
import { copyJson, thrownMessage } from './json-copy';
import { formatInt, type Limits } from './limits';

/** An error the edge itself raised, as opposed to anything a caller's getter could throw. */
function isRefusal(err: unknown): boolean {
  try {
    return !types.isProxy(err) && err instanceof InvalidArgumentError;
  } catch {
    return false;
  }
}

/**
 * Runs the checks of one request. Whatever they throw that is not already a refusal (a caller's
 * getter, a Proxy trap, a toString) becomes an InvalidArgumentError naming the method.
 */
export function edge<T>(where: string, limits: Limits, check: (e: Edge) => T): T {
  try {
    return check(new Edge(where, limits));
  } catch (err) {
    if (isRefusal(err)) throw err;
    throw new InvalidArgumentError(`${where}: the request could not be read (${thrownMessage(err)}); requests must be plain data`);
  }
}

const shorten = (path: string) => (path.length > 80 ? `${path.slice(0, 77)}…` : path);

/** The checks of one request. `where` begins every message; the request's byte budget is shared. */
export class Edge {
  constructor(
    readonly where: string,
    readonly limits: Limits,
    private readonly budget: { used: number } = { used: 0 },
  ) {}

  /** The same request, inside one of its parts: messages begin `where: part`. */
  at(part: string): Edge {
    return new Edge(`${this.where}: ${part}`, this.limits, this.budget);
  }

  private fail(message: string): never {
    throw new InvalidArgumentError(`${this.where}: ${message}`);
  }

  /** Adds `bytes` to the request's total; `exact` false: they are a lower bound. */
  private charge(name: string, bytes: number, exact = true): void {
    this.budget.used += bytes;
    const max = this.limits.maxRequestBytes;
    if (this.budget.used > max) {
      throw new LimitExceededError(
        'DEJA_PAYLOAD_TOO_LARGE',
        `${this.where}: ${name} brings the request to ${exact ? '' : 'at least '}${formatInt(this.budget.used)} bytes, over maxRequestBytes (${formatInt(max)} bytes)`,
        'maxRequestBytes',
        this.budget.used,
        max,
      );
    }
  }

  // ---- scalars and records ----

  /** An object's own enumerable properties, each read once, into a record with no prototype. */
  record(name: string, value: unknown): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(`${name} must be an object, got ${describe(value)}`);
    const copy = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(value)) copy[key] = (value as Record<string, unknown>)[key];
    return copy;
  }

  /** Refuses keys not in `known`; `part` names the object for a nested one. */
  knownKeys(record: Record<string, unknown>, known: readonly string[], part?: string): void {
    checkKnownKeys(part === undefined ? this.where : `${this.where}: ${part}`, record, known);
  }

  /** A non-empty identifier of at most maxIdBytes. */
  string(name: string, value: unknown): string {
    if (typeof value !== 'string' || value === '') this.fail(`${name} must be a non-empty string, got ${describe(value)}`);
    const max = this.limits.maxIdBytes;
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > max) {
      throw new LimitExceededError('DEJA_LIMIT_EXCEEDED', `${this.where}: ${name} is ${formatInt(bytes)} bytes, over maxIdBytes (${formatInt(max)} bytes)`, 'maxIdBytes', bytes, max);
    }
    this.charge(name, bytes);
    return value;
  }

  optionalString(name: string, value: unknown): string | undefined {
    return value === undefined ? undefined : this.string(name, value);
  }

  /** A whole number of milliseconds (or attempts) ≥ `min`. */
  int(name: string, value: unknown, min: number): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) this.fail(`${name} must be an integer ≥ ${min}, got ${describe(value)}`);
    return value;
  }

  optionalInt(name: string, value: unknown, min: number): number | undefined {
    return value === undefined ? undefined : this.int(name, value, min);
  }

  oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
    if (!allowed.includes(value as T)) this.fail(`${name} must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${describe(value)}`);
    return value as T;
  }

  ref(value: unknown): ExecutionRef {
    const r = this.record('the execution ref', value);
    this.knownKeys(r, ['workflowId', 'runId']);
    return { workflowId: this.string('workflowId', r.workflowId), runId: this.optionalString('runId', r.runId) };
  }

  // ---- payloads ----

  /**
   * A JSON copy of `value`, within maxPayloadBytes and maxPayloadDepth, charged to the request.
   * `listLevel`: the value is an argument list, whose own level does not count.
   */
  private json(name: string, value: unknown, listLevel = false): unknown {
    const { maxPayloadBytes, maxPayloadDepth, maxRequestBytes } = this.limits;
    const room = Math.min(maxPayloadBytes, maxRequestBytes - this.budget.used);
    const copied = copyJson(value, name, room, maxPayloadDepth + (listLevel ? 1 : 0));
    if (copied.ok) {
      this.charge(name, copied.bytes);
      return copied.value;
    }
    switch (copied.problem) {
      case 'size': {
        const size = `${copied.exact ? '' : 'at least '}${formatInt(copied.bytes)} bytes`;
        if (copied.bytes > maxPayloadBytes) {
          throw new LimitExceededError(
            'DEJA_PAYLOAD_TOO_LARGE',
            `${this.where}: ${name} is ${size} of JSON, over maxPayloadBytes (${formatInt(maxPayloadBytes)} bytes)`,
            'maxPayloadBytes',
            copied.bytes,
            maxPayloadBytes,
          );
        }
        return this.charge(name, copied.bytes, copied.exact) as never;
      }
      case 'depth':
        throw new LimitExceededError(
          'DEJA_PAYLOAD_TOO_LARGE',
          `${this.where}: ${name} is nested more than ${maxPayloadDepth} levels deep (at ${shorten(copied.path)}), over maxPayloadDepth (${maxPayloadDepth} levels)`,
          'maxPayloadDepth',
          maxPayloadDepth + 1,
          maxPayloadDepth,
        );
      case 'notJson':
        return this.fail(`${copied.path} is ${copied.what}; payloads must be JSON values`);
      case 'unreadable':
        return this.fail(`${shorten(copied.path)} could not be read (${copied.message}); payloads must be plain JSON values`);
    }
  }

  /** A payload, or undefined (carried by omission). */
  payload(name: string, value: unknown): Payload {
    return this.json(name, value);
  }

  /** An argument list; `undefined` items become null, as JSON does. Its size is the list's. */
  args(name: string, value: unknown): Payload[] {
    if (!Array.isArray(value)) this.fail(`${name} must be an array, got ${describe(value)}`);
    return this.json(name, value, true) as Payload[];
  }

  // ---- failures and retry policies (shapes from lib/history/schema.ts) ----

  /** A failure: copied as one payload (its details, message and stack count), then its shape checked. */
  failure(name: string, value: unknown): WireFailure {
    const f = this.json(name, value);
    this.shape(name, WireFailureSchema, f);
    let depth = 0;
    for (let c = (f as WireFailure).cause; c !== undefined; c = c.cause) {
      if (++depth > 32) this.fail(`${name} has a cause chain deeper than 32`);
    }
    return f as WireFailure;
  }

  /** The SDK flags a completion used first (a workflowTaskCompleted's sdkMetadata), when given. */
  sdkMetadata(name: string, value: unknown): SdkMetadata | undefined {
    if (value === undefined) return undefined;
    const m = this.json(name, value);
    this.shape(name, SdkMetadataSchema, m);
    return m as SdkMetadata;
  }

  retryPolicy(name: string, value: unknown): RetryPolicy | undefined {
    if (value === undefined) return undefined;
    const policy = this.json(name, value) as RetryPolicy;
    this.shape(name, RetryPolicyCommandSchema, policy);
    const { initialIntervalMs, maximumIntervalMs } = policy;
    if (initialIntervalMs !== undefined && maximumIntervalMs !== undefined && maximumIntervalMs < initialIntervalMs) {
      this.fail(`${name}.maximumIntervalMs must be an integer ≥ ${initialIntervalMs} (initialIntervalMs), got ${describe(maximumIntervalMs)}`);
    }
    return policy;
  }

  /** A memo: field name → any JSON value, copied within the payload limits. */
  memo(name: string, value: unknown): Record<string, Payload> | undefined {
    if (value === undefined) return undefined;
    const memo = this.json(name, value);
    if (typeof memo !== 'object' || memo === null || Array.isArray(memo)) this.fail(`${name} must be an object of memo fields, got ${describe(memo)}`);
    for (const key of Object.keys(memo)) if (key === '') this.fail(`${name} has an empty field name`);
    return memo as Record<string, Payload>;
  }

  /**
   * Typed search attributes (`{ name: { type, value } }`), or upserts (a value may be null) when
   * `upserts`: copied, shaped, and each value checked for its type (INT a safe integer, DATETIME
   * an ISO-8601 time with a zone).
   */
  searchAttributes(name: string, value: unknown): SearchAttributes | undefined;
  searchAttributes(name: string, value: unknown, upserts: true): SearchAttributeUpserts;
  searchAttributes(name: string, value: unknown, upserts = false): SearchAttributes | SearchAttributeUpserts | undefined {
    if (value === undefined && !upserts) return undefined;
    const attrs = this.json(name, value) as Record<string, unknown>;
    this.shape(name, upserts ? SearchAttributeUpsertsSchema : SearchAttributesSchema, attrs);
    this.searchAttributeValues(name, attrs as SearchAttributeUpserts);
    return attrs as SearchAttributes;
  }

  /** What the schema cannot say of search attribute values (already shaped). */
  private searchAttributeValues(name: string, attrs: SearchAttributeUpserts): void {
    for (const [key, v] of Object.entries(attrs)) {
      if (v === null) continue;
      if (v.type === 'INT' && !Number.isSafeInteger(v.value)) this.fail(`${name}.${key}.value must be a safe integer for type INT, got ${describe(v.value)}`);
      if (v.type === 'DOUBLE' && !Number.isFinite(v.value)) this.fail(`${name}.${key}.value must be a finite number for type DOUBLE, got ${describe(v.value)}`);
      if (v.type === 'DATETIME' && (!ISO_TIME.test(v.value) || Number.isNaN(Date.parse(v.value)))) {
        this.fail(`${name}.${key}.value must be an ISO-8601 time with a zone for type DATETIME, such as "2026-01-31T12:00:00Z", got ${describe(v.value)}`);
      }
    }
  }

  /**
   * Checks plain data (already copied) against a schema; the first problem is worded as the edge
   * words every refusal: `<name>.<path> must be <what the schema expects>, got <what was found>`.
   */
  private shape(name: string, schema: TSchema, value: unknown): void {
    if (compiledCheck(schema).Check(value)) return;
    const problem = firstProblem(schema, value);
    const path = pathText(problem.keys, name);
    switch (problem.kind) {
      case 'missing':
        return this.fail(`${path} must be ${expectedOf(schemaAt(schema, problem.keys), true)}, got undefined`);
      case 'unknownKey':
        return this.knownKeys(
          valueAt(value, problem.keys.slice(0, -1)) as Record<string, unknown>,
          problem.allowed,
          pathText(problem.keys.slice(0, -1), name) || undefined,
        );
      case 'type':
        return this.fail(`${path} must be ${problem.words ?? expectedOf(problem.schema, true)}, got ${describe(problem.value)}`);
    }
  }

  // ---- commands ----

  /**
   * A completion's commands, checked one by one (state-dependent checks are the engine's). A
   * closing command ends the list: the commands after it are ignored, unchecked.
   */
  commands(value: unknown): Command[] {
    if (!Array.isArray(value)) this.fail(`commands must be an array, got ${describe(value)}`);
    const n = value.length;
    const max = this.limits.maxCommandsPerTask;
    if (n > max) {
      throw new LimitExceededError(
        'DEJA_LIMIT_EXCEEDED',
        `${this.where}: ${formatInt(n)} commands, over maxCommandsPerTask (${formatInt(max)})`,
        'maxCommandsPerTask',
        n,
        max,
      );
    }
    const commands: Command[] = [];
    for (let i = 0; i < n; i++) {
      const command = this.at(`commands[${i}]`).command(value[i]);
      commands.push(command);
      if (isClosingCommand(command)) break;
    }
    return commands;
  }

  /**
   * One command on its own, copied: its payloads, failure and retry policy as JSON within the
   * limits, its strings within maxIdBytes; its shape checked against COMMAND_SCHEMAS.
   */
  command(value: unknown): Command {
    const c = this.record('the command', value);
    const type = c.type;
    if (typeof type !== 'string' || !Object.hasOwn(COMMAND_SCHEMAS, type)) {
      this.fail(`unknown command type ${describe(type)}; expected one of ${Object.keys(COMMAND_SCHEMAS).map((k) => `"${k}"`).join(', ')}`);
    }
    const t = type as Command['type'];
    const schema = COMMAND_SCHEMAS[t] as TSchema;
    const { keys, kinds } = commandPlan(t);
    checkKnownKeys(`${this.where} (${t})`, c, keys);
    const cmd: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const v = c[key];
      if (v === undefined) continue;
      switch (kinds[i]) {
        case 'retryPolicy':
          cmd[key] = this.retryPolicy(key, v);
          break;
        case 'failure':
          cmd[key] = this.failure(key, v);
          break;
        case 'args':
          cmd[key] = this.args(key, v);
          break;
        case 'payload':
          cmd[key] = this.payload(key, v);
          break;
        case 'string':
          cmd[key] = this.string(key, v);
          break;
        case 'other':
          cmd[key] = typeof v === 'object' && v !== null ? this.json(key, v) : v; // memo, search attributes, an outcome: copied as JSON
          break;
      }
    }
    this.shape('', schema, cmd);
    if (cmd.searchAttributes !== undefined) this.searchAttributeValues('searchAttributes', cmd.searchAttributes as SearchAttributeUpserts);
    if (t === 'scheduleActivity' && cmd.startToCloseTimeoutMs === undefined && cmd.scheduleToCloseTimeoutMs === undefined) {
      this.fail(`activity "${cmd.activityType as string}" needs startToCloseTimeoutMs or scheduleToCloseTimeoutMs`);
    }
    return cmd as unknown as Command;
  }
}

/** How `Edge.command` reads each field of a command type (`other`: copied as JSON if an object, else as it is). */
type FieldKind = 'retryPolicy' | 'failure' | 'args' | 'payload' | 'string' | 'other';
const COMMAND_PLANS = new Map<string, { keys: string[]; kinds: FieldKind[] }>();

/** A command type's fields in schema order, each with how it is read; worked out once per type. */
function commandPlan(type: Command['type']): { keys: string[]; kinds: FieldKind[] } {
  let plan = COMMAND_PLANS.get(type);
  if (plan === undefined) {
    const schema = COMMAND_SCHEMAS[type] as TSchema & { properties: Record<string, TSchema & { type?: string; items?: TSchema }> };
    const keys = Object.keys(schema.properties);
    const kinds = keys.map((key): FieldKind => {
      const field = schema.properties[key];
      if (key === 'retryPolicy') return 'retryPolicy';
      if (key === 'failure') return 'failure';
      if (field.type === 'array' && field.items !== undefined && isPayloadSchema(field.items)) return 'args';
      if (isPayloadSchema(field)) return 'payload';
      if (field.type === 'string' && key !== 'type') return 'string';
      return 'other';
    });
    COMMAND_PLANS.set(type, (plan = { keys, kinds }));
  }
  return plan;
}

/** The sub-schema at a path of keys (objects' properties, arrays' items, the failure's own cause). */
function schemaAt(schema: TSchema, keys: readonly (string | number)[]): TSchema {
  let s = schema as TSchema & { properties?: Record<string, TSchema>; items?: TSchema; $ref?: string };
  for (const k of keys) {
    if (s.$ref === 'WireFailure') s = WireFailureSchema as typeof s;
    s = (typeof k === 'number' ? s.items : s.properties?.[k]) as typeof s;
    if (s === undefined) return schema;
  }
  return s.$ref === 'WireFailure' ? WireFailureSchema : s;
}

function valueAt(value: unknown, keys: readonly (string | number)[]): unknown {
  let v = value;
  for (const k of keys) v = (v as Record<string | number, unknown>)[k];
  return v;
}
