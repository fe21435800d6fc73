/**
 * Validation at the service edge (host side). Every request and command is checked here before it
 * can reach the store, and every payload is deep-copied (JSON round trip), so stored history never
 * aliases a caller's object and bad input never corrupts state. Errors name the method, the field
 * and what was found.
 */
import type { Command, FailureKind, Payload, RetryPolicy, RetryState, TimeoutType, WireFailure } from '../../runtime/protocol';
import { checkKnownKeys, describe, InvalidArgumentError } from '../errors';
import type { ExecutionRef } from '../service';

export function checkString(where: string, name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new InvalidArgumentError(`${where}: ${name} must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

export function checkOptionalString(where: string, name: string, value: unknown): string | undefined {
  return value === undefined ? undefined : checkString(where, name, value);
}

/** A whole number of milliseconds (or attempts) ≥ `min`. */
export function checkInt(where: string, name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(`${where}: ${name} must be an integer ≥ ${min}, got ${describe(value)}`);
  }
  return value;
}

export function checkOptionalInt(where: string, name: string, value: unknown, min: number): number | undefined {
  return value === undefined ? undefined : checkInt(where, name, value, min);
}

export function checkOneOf<T extends string>(where: string, name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new InvalidArgumentError(`${where}: ${name} must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

export function checkObject(where: string, name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`${where}: ${name} must be an object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

export function checkRef(where: string, ref: unknown): ExecutionRef {
  const r = checkObject(where, 'the execution ref', ref);
  checkKnownKeys(where, r, ['workflowId', 'runId']);
  return { workflowId: checkString(where, 'workflowId', r.workflowId), runId: checkOptionalString(where, 'runId', r.runId) };
}

// ---- payloads ----

function pathOf(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/** The first thing in `value` that JSON cannot carry faithfully, described with its path. */
function findNonJson(value: unknown, path: string, ancestors: object[]): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is the non-finite number ${value}`;
    case 'bigint':
      return `${path} is a BigInt (${value}n)`;
    case 'symbol':
      return `${path} is a symbol`;
    case 'function':
      return `${path} is a function`;
  }
  if (value === null) return undefined;
  const obj = value as Record<string, unknown>;
  if (ancestors.includes(obj)) return `${path} is a circular reference`;
  if (typeof obj.toJSON === 'function') return findNonJson(obj.toJSON(), path, ancestors);
  ancestors.push(obj);
  try {
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length; i++) {
        const found = findNonJson(obj[i], pathOf(path, i), ancestors);
        if (found) return found;
      }
    } else {
      for (const key of Object.keys(obj)) {
        const found = findNonJson(obj[key], pathOf(path, key), ancestors);
        if (found) return found;
      }
    }
    return undefined;
  } finally {
    ancestors.pop();
  }
}

function copyJson(where: string, name: string, value: unknown): unknown {
  let found: string | undefined;
  try {
    found = findNonJson(value, name, []);
  } catch (err) {
    if (err instanceof RangeError) found = `${name} is nested too deeply`;
    else throw err;
  }
  if (found) throw new InvalidArgumentError(`${where}: ${found}; payloads must be JSON values`);
  // undefined, or a toJSON() that answers undefined, serializes to nothing: carried by omission.
  const text = JSON.stringify(value);
  return text === undefined ? undefined : JSON.parse(text);
}

/** A payload, or undefined (carried by omission). */
export function copyPayload(where: string, name: string, value: unknown): Payload {
  return copyJson(where, name, value);
}

/** An argument list; `undefined` items become null, as JSON does. */
export function copyArgs(where: string, name: string, value: unknown): Payload[] {
  if (!Array.isArray(value)) throw new InvalidArgumentError(`${where}: ${name} must be an array, got ${describe(value)}`);
  return copyJson(where, name, value) as Payload[];
}

// ---- failures and retry policies ----

const FAILURE_KINDS: readonly FailureKind[] = ['application', 'activity', 'timeout', 'cancelled', 'terminated', 'server'];
const RETRY_STATES: readonly RetryState[] = [
  'unspecified',
  'inProgress',
  'nonRetryableFailure',
  'timeout',
  'maximumAttemptsReached',
  'retryPolicyNotSet',
  'cancelRequested',
];
const TIMEOUT_TYPES: readonly TimeoutType[] = ['startToClose', 'scheduleToStart', 'scheduleToClose', 'heartbeat'];
const FAILURE_KEYS = ['message', 'kind', 'type', 'stack', 'nonRetryable', 'details', 'activityType', 'activityId', 'retryState', 'timeoutType', 'cause'];

function checkFailureShape(where: string, name: string, value: unknown, depth: number): void {
  const f = checkObject(where, name, value);
  checkKnownKeys(`${where}: ${name}`, f, FAILURE_KEYS);
  if (typeof f.message !== 'string') throw new InvalidArgumentError(`${where}: ${name}.message must be a string, got ${describe(f.message)}`);
  checkOneOf(where, `${name}.kind`, f.kind, FAILURE_KINDS);
  for (const key of ['type', 'stack', 'activityType', 'activityId'] as const) {
    if (f[key] !== undefined && typeof f[key] !== 'string') {
      throw new InvalidArgumentError(`${where}: ${name}.${key} must be a string, got ${describe(f[key])}`);
    }
  }
  if (f.nonRetryable !== undefined && typeof f.nonRetryable !== 'boolean') {
    throw new InvalidArgumentError(`${where}: ${name}.nonRetryable must be a boolean, got ${describe(f.nonRetryable)}`);
  }
  if (f.details !== undefined) copyArgs(where, `${name}.details`, f.details);
  if (f.retryState !== undefined) checkOneOf(where, `${name}.retryState`, f.retryState, RETRY_STATES);
  if (f.timeoutType !== undefined) checkOneOf(where, `${name}.timeoutType`, f.timeoutType, TIMEOUT_TYPES);
  if (f.cause !== undefined) {
    if (depth >= 32) throw new InvalidArgumentError(`${where}: ${name} has a cause chain deeper than 32`);
    checkFailureShape(where, `${name}.cause`, f.cause, depth + 1);
  }
}

export function copyFailure(where: string, name: string, value: unknown): WireFailure {
  checkFailureShape(where, name, value, 0);
  return JSON.parse(JSON.stringify(value)) as WireFailure;
}

const RETRY_POLICY_KEYS = ['initialIntervalMs', 'backoffCoefficient', 'maximumIntervalMs', 'maximumAttempts', 'nonRetryableErrorTypes'];

export function copyRetryPolicy(where: string, name: string, value: unknown): RetryPolicy | undefined {
  if (value === undefined) return undefined;
  const p = checkObject(where, name, value);
  checkKnownKeys(`${where}: ${name}`, p, RETRY_POLICY_KEYS);
  const policy: RetryPolicy = {};
  const initial = checkOptionalInt(where, `${name}.initialIntervalMs`, p.initialIntervalMs, 1);
  if (initial !== undefined) policy.initialIntervalMs = initial;
  if (p.backoffCoefficient !== undefined) {
    if (typeof p.backoffCoefficient !== 'number' || !Number.isFinite(p.backoffCoefficient) || p.backoffCoefficient < 1) {
      throw new InvalidArgumentError(`${where}: ${name}.backoffCoefficient must be a finite number ≥ 1, got ${describe(p.backoffCoefficient)}`);
    }
    policy.backoffCoefficient = p.backoffCoefficient;
  }
  const maxInterval = checkOptionalInt(where, `${name}.maximumIntervalMs`, p.maximumIntervalMs, initial ?? 1);
  if (maxInterval !== undefined) policy.maximumIntervalMs = maxInterval;
  const maxAttempts = checkOptionalInt(where, `${name}.maximumAttempts`, p.maximumAttempts, 0);
  if (maxAttempts !== undefined) policy.maximumAttempts = maxAttempts;
  if (p.nonRetryableErrorTypes !== undefined) {
    const types = p.nonRetryableErrorTypes;
    if (!Array.isArray(types) || !types.every((x) => typeof x === 'string')) {
      throw new InvalidArgumentError(`${where}: ${name}.nonRetryableErrorTypes must be an array of strings, got ${describe(types)}`);
    }
    policy.nonRetryableErrorTypes = [...types];
  }
  return policy;
}

// ---- commands ----

const COMMAND_KEYS: Record<Command['type'], readonly string[]> = {
  scheduleActivity: [
    'type',
    'seq',
    'activityId',
    'activityType',
    'args',
    'taskQueue',
    'scheduleToCloseTimeoutMs',
    'scheduleToStartTimeoutMs',
    'startToCloseTimeoutMs',
    'heartbeatTimeoutMs',
    'retryPolicy',
  ],
  startTimer: ['type', 'seq', 'startToFireTimeoutMs'],
  cancelTimer: ['type', 'seq'],
  completeWorkflow: ['type', 'result'],
  failWorkflow: ['type', 'failure'],
};

/** Checks one command on its own (state-dependent checks are the engine's) and returns a copy. */
export function copyCommand(where: string, value: unknown): Command {
  const c = checkObject(where, 'the command', value);
  if (typeof c.type !== 'string' || !Object.hasOwn(COMMAND_KEYS, c.type)) {
    throw new InvalidArgumentError(
      `${where}: unknown command type ${describe(c.type)}; expected one of ${Object.keys(COMMAND_KEYS).map((k) => `"${k}"`).join(', ')}`,
    );
  }
  const type = c.type as Command['type'];
  checkKnownKeys(`${where} (${type})`, c, COMMAND_KEYS[type]);
  switch (type) {
    case 'scheduleActivity': {
      const cmd: Command = {
        type,
        seq: checkInt(where, 'seq', c.seq, 0),
        activityId: checkString(where, 'activityId', c.activityId),
        activityType: checkString(where, 'activityType', c.activityType),
        args: copyArgs(where, 'args', c.args),
      };
      const taskQueue = checkOptionalString(where, 'taskQueue', c.taskQueue);
      if (taskQueue !== undefined) cmd.taskQueue = taskQueue;
      for (const key of ['scheduleToCloseTimeoutMs', 'scheduleToStartTimeoutMs', 'startToCloseTimeoutMs', 'heartbeatTimeoutMs'] as const) {
        const ms = checkOptionalInt(where, key, c[key], 1);
        if (ms !== undefined) cmd[key] = ms;
      }
      if (cmd.startToCloseTimeoutMs === undefined && cmd.scheduleToCloseTimeoutMs === undefined) {
        throw new InvalidArgumentError(`${where}: activity "${cmd.activityType}" needs startToCloseTimeoutMs or scheduleToCloseTimeoutMs`);
      }
      const retryPolicy = copyRetryPolicy(where, 'retryPolicy', c.retryPolicy);
      if (retryPolicy !== undefined) cmd.retryPolicy = retryPolicy;
      return cmd;
    }
    case 'startTimer':
      return { type, seq: checkInt(where, 'seq', c.seq, 0), startToFireTimeoutMs: checkInt(where, 'startToFireTimeoutMs', c.startToFireTimeoutMs, 1) };
    case 'cancelTimer':
      return { type, seq: checkInt(where, 'seq', c.seq, 0) };
    case 'completeWorkflow': {
      const result = copyPayload(where, 'result', c.result);
      return result === undefined ? { type } : { type, result };
    }
    case 'failWorkflow':
      return { type, failure: copyFailure(where, 'failure', c.failure) };
  }
}
