/**
 * The client's start options for chains of runs and timing (host side), in Temporal's shapes:
 * `cronSchedule`, `retry` (a RetryPolicy with Durations), `workflowExecutionTimeout`,
 * `workflowRunTimeout`, `workflowTaskTimeout`, `workflowIdConflictPolicy`, `startDelay`. Checked
 * here, turned into the service's request fields (milliseconds, deja's policy names).
 */
import { durationToMs, type Duration } from '../../runtime/time';
import type { RetryPolicy, WorkflowIdConflictPolicy as WireConflictPolicy } from '../../runtime/protocol';
import { checkKnownKeys, describe, InvalidArgumentError } from '../errors';
import type { StartWorkflowRequest } from '../service';

/** Temporal's workflow id reuse policies, as the client's workflowIdReusePolicy accepts them. */
export const WorkflowIdReusePolicy = {
  ALLOW_DUPLICATE: 'ALLOW_DUPLICATE',
  ALLOW_DUPLICATE_FAILED_ONLY: 'ALLOW_DUPLICATE_FAILED_ONLY',
  REJECT_DUPLICATE: 'REJECT_DUPLICATE',
  WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE: 'WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE',
  WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY: 'WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY',
  WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE: 'WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE',
} as const;
export type WorkflowIdReusePolicy = (typeof WorkflowIdReusePolicy)[keyof typeof WorkflowIdReusePolicy];

/** Temporal's workflow id conflict policies: what a start does when the id has a running run. */
export const WorkflowIdConflictPolicy = {
  FAIL: 'FAIL',
  USE_EXISTING: 'USE_EXISTING',
  TERMINATE_EXISTING: 'TERMINATE_EXISTING',
  WORKFLOW_ID_CONFLICT_POLICY_FAIL: 'WORKFLOW_ID_CONFLICT_POLICY_FAIL',
  WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING: 'WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING',
  WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING: 'WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING',
} as const;
export type WorkflowIdConflictPolicy = (typeof WorkflowIdConflictPolicy)[keyof typeof WorkflowIdConflictPolicy];

const CONFLICT: Record<string, WireConflictPolicy> = { FAIL: 'fail', USE_EXISTING: 'useExisting', TERMINATE_EXISTING: 'terminateExisting' };

/** Temporal's RetryPolicy, as a start option (the workflow's own retries). */
export interface WorkflowRetryPolicy {
  initialInterval?: Duration;
  backoffCoefficient?: number;
  maximumInterval?: Duration;
  /** 0 or absent: unlimited (within workflowExecutionTimeout). */
  maximumAttempts?: number;
  nonRetryableErrorTypes?: string[];
}

export interface ChainStartOptions {
  /** Standard five-field cron, a shortcut ("@daily") or "@every 10m", in UTC. Not with startDelay. */
  cronSchedule?: string;
  /** The workflow's retry policy: a failed or timed-out run is run again after its backoff. */
  retry?: WorkflowRetryPolicy;
  /** The limit of the whole chain of runs (continue-as-new, cron, retries). */
  workflowExecutionTimeout?: Duration;
  /** The limit of each run. */
  workflowRunTimeout?: Duration;
  /** The limit of each workflow task. Default 10 s. */
  workflowTaskTimeout?: Duration;
  /** What to do when the id has a running run. Default FAIL. */
  workflowIdConflictPolicy?: WorkflowIdConflictPolicy;
  /** The first workflow task waits this long. */
  startDelay?: Duration;
}

export const CHAIN_START_OPTION_KEYS = [
  'cronSchedule',
  'retry',
  'workflowExecutionTimeout',
  'workflowRunTimeout',
  'workflowTaskTimeout',
  'workflowIdConflictPolicy',
  'startDelay',
] as const;

/** The request fields these options make. */
export type ChainStartFields = Pick<
  StartWorkflowRequest,
  'cronSchedule' | 'retryPolicy' | 'workflowExecutionTimeoutMs' | 'workflowRunTimeoutMs' | 'workflowTaskTimeoutMs' | 'workflowIdConflictPolicy' | 'startDelayMs'
>;

function ms(where: string, name: string, value: unknown, min: number): number | undefined {
  if (value === undefined) return undefined;
  let n: number;
  try {
    n = durationToMs(value as Duration, `${where}: ${name}`);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  n = Math.round(n);
  if (n < min) throw new InvalidArgumentError(`${where}: ${name} must be at least ${min} ms, got ${describe(value)}`);
  return n;
}

function conflictPolicy(where: string, value: unknown): WireConflictPolicy | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    const policy = CONFLICT[value.replace(/^WORKFLOW_ID_CONFLICT_POLICY_/, '')];
    if (policy) return policy;
    if (Object.values(CONFLICT).includes(value as WireConflictPolicy)) return value as WireConflictPolicy;
  }
  throw new InvalidArgumentError(
    `${where}: workflowIdConflictPolicy must be one of ${Object.keys(CONFLICT)
      .map((k) => `"${k}"`)
      .join(', ')} (also with the WORKFLOW_ID_CONFLICT_POLICY_ prefix), got ${describe(value)}`,
  );
}

function retryPolicy(where: string, value: unknown): RetryPolicy | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`${where}: retry must be a RetryPolicy object, got ${describe(value)}`);
  }
  const r = value as Record<string, unknown>;
  checkKnownKeys(`${where}: retry`, r, ['initialInterval', 'backoffCoefficient', 'maximumInterval', 'maximumAttempts', 'nonRetryableErrorTypes']);
  const policy: RetryPolicy = {};
  const initial = ms(where, 'retry.initialInterval', r.initialInterval, 1);
  if (initial !== undefined) policy.initialIntervalMs = initial;
  const maximum = ms(where, 'retry.maximumInterval', r.maximumInterval, 1);
  if (maximum !== undefined) policy.maximumIntervalMs = maximum;
  if (r.backoffCoefficient !== undefined) {
    if (typeof r.backoffCoefficient !== 'number' || !(r.backoffCoefficient >= 1) || !Number.isFinite(r.backoffCoefficient)) {
      throw new InvalidArgumentError(`${where}: retry.backoffCoefficient must be a number ≥ 1, got ${describe(r.backoffCoefficient)}`);
    }
    policy.backoffCoefficient = r.backoffCoefficient;
  }
  if (r.maximumAttempts !== undefined) {
    if (!Number.isSafeInteger(r.maximumAttempts) || (r.maximumAttempts as number) < 0) {
      throw new InvalidArgumentError(`${where}: retry.maximumAttempts must be a non-negative integer (0: unlimited), got ${describe(r.maximumAttempts)}`);
    }
    policy.maximumAttempts = r.maximumAttempts as number;
  }
  if (r.nonRetryableErrorTypes !== undefined) {
    const types = r.nonRetryableErrorTypes;
    if (!Array.isArray(types) || types.some((t) => typeof t !== 'string')) {
      throw new InvalidArgumentError(`${where}: retry.nonRetryableErrorTypes must be an array of error type names, got ${describe(types)}`);
    }
    policy.nonRetryableErrorTypes = [...types];
  }
  return policy;
}

/** Checks the options and gives the request fields they set (only those given). */
export function chainStartFields(where: string, options: ChainStartOptions): ChainStartFields {
  const fields: ChainStartFields = {};
  if (options.cronSchedule !== undefined) {
    if (typeof options.cronSchedule !== 'string') throw new InvalidArgumentError(`${where}: cronSchedule must be a string such as "*/5 * * * *" or "@daily", got ${describe(options.cronSchedule)}`);
    if (options.startDelay !== undefined) throw new InvalidArgumentError(`${where}: startDelay cannot be combined with cronSchedule (the cron decides when each run starts)`);
    fields.cronSchedule = options.cronSchedule;
  }
  const set = <K extends keyof ChainStartFields>(key: K, value: ChainStartFields[K] | undefined) => {
    if (value !== undefined) fields[key] = value;
  };
  set('retryPolicy', retryPolicy(where, options.retry));
  set('workflowExecutionTimeoutMs', ms(where, 'workflowExecutionTimeout', options.workflowExecutionTimeout, 1));
  set('workflowRunTimeoutMs', ms(where, 'workflowRunTimeout', options.workflowRunTimeout, 1));
  set('workflowTaskTimeoutMs', ms(where, 'workflowTaskTimeout', options.workflowTaskTimeout, 1));
  set('workflowIdConflictPolicy', conflictPolicy(where, options.workflowIdConflictPolicy));
  set('startDelayMs', ms(where, 'startDelay', options.startDelay, 0));
  return fields;
}
