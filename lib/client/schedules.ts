/**
 * ScheduleClient and ScheduleHandle (host side): Temporal's schedule client over a WorkflowService.
 * Options take Temporal's shapes (durations as '1h' or ms, dates as Date, overlap policies by
 * Temporal's names) and become the service's ScheduleDefinition; descriptions come back in
 * Temporal's shapes (Dates, ms, names). What deja's schedules do not have yet (calendar specs,
 * jitter, time zones other than UTC, backfill) is refused with a "not supported yet" error rather
 * than ignored. Cron expressions are checked by the service, which knows the cron dialect.
 */
import { hostname } from 'node:os';
import { parseDuration } from '../../runtime/time';
import { checkKnownKeys, describe, InvalidArgumentError } from '../errors';
import type { ScheduleAction, ScheduleDefinition, ScheduleDescription as ServiceDescription, ScheduleOverlapPolicy as Overlap, ScheduleSpec as ServiceSpec, WorkflowService } from '../service';
import { CLIENT_METHODS, missingMethods, warnTemporalClientOptions } from './connection';
import type { Workflow } from './client';

/** Temporal's overlap policy names (as its current SDK's const object). */
export const ScheduleOverlapPolicy = {
  SKIP: 'SKIP',
  BUFFER_ONE: 'BUFFER_ONE',
  BUFFER_ALL: 'BUFFER_ALL',
  CANCEL_OTHER: 'CANCEL_OTHER',
  TERMINATE_OTHER: 'TERMINATE_OTHER',
  ALLOW_ALL: 'ALLOW_ALL',
} as const;
type OverlapName = (typeof ScheduleOverlapPolicy)[keyof typeof ScheduleOverlapPolicy];
/** A policy by name, or by its protobuf name (`'SCHEDULE_OVERLAP_POLICY_SKIP'`). */
export type ScheduleOverlapPolicy = OverlapName | `SCHEDULE_OVERLAP_POLICY_${OverlapName}`;

const OVERLAP_BY_NAME = {
  SKIP: 'skip',
  BUFFER_ONE: 'bufferOne',
  BUFFER_ALL: 'bufferAll',
  CANCEL_OTHER: 'cancelOther',
  TERMINATE_OTHER: 'terminateOther',
  ALLOW_ALL: 'allowAll',
} as const satisfies Record<OverlapName, Overlap>;
const NAME_BY_OVERLAP = Object.fromEntries(Object.entries(OVERLAP_BY_NAME).map(([name, policy]) => [policy, name])) as Record<Overlap, OverlapName>;

/** A duration: milliseconds, or a string such as '1h', '30 minutes' (the `ms` package's grammar, as Temporal's). */
export type Duration = number | string;

export interface IntervalSpec {
  every: Duration;
  /** Shifts the times from the epoch's multiples of `every`. */
  offset?: Duration;
}

export interface ScheduleSpec {
  /** Five-field cron expressions (or `@daily`, `@every 10m`, …), in UTC. */
  cronExpressions?: string[];
  intervals?: IntervalSpec[];
  startAt?: Date;
  endAt?: Date;
  /** Only 'UTC' for now. */
  timezone?: string;
}

export interface ScheduleOptionsStartWorkflowAction<W extends Workflow = Workflow> {
  type: 'startWorkflow';
  workflowType: string | W;
  args?: Parameters<W> | unknown[];
  taskQueue: string;
  /** The started workflows' id prefix; each gets `-<scheduled time>` appended. Default: `<scheduleId>-workflow`. */
  workflowId?: string;
  workflowExecutionTimeout?: Duration;
  workflowRunTimeout?: Duration;
  workflowTaskTimeout?: Duration;
  retry?: RetryPolicyOptions;
  memo?: Record<string, unknown>;
}

/** Temporal's retry policy options (durations as Duration). */
export interface RetryPolicyOptions {
  initialInterval?: Duration;
  backoffCoefficient?: number;
  maximumInterval?: Duration;
  maximumAttempts?: number;
  nonRetryableErrorTypes?: string[];
}

export interface SchedulePolicies {
  /** Default SKIP. */
  overlap?: ScheduleOverlapPolicy;
  /** Default 1 year. */
  catchupWindow?: Duration;
  pauseOnFailure?: boolean;
}

export interface ScheduleState {
  paused?: boolean;
  note?: string;
  remainingActions?: number;
}

export interface ScheduleOptions<W extends Workflow = Workflow> {
  scheduleId: string;
  spec: ScheduleSpec;
  action: ScheduleOptionsStartWorkflowAction<W>;
  policies?: SchedulePolicies;
  state?: ScheduleState & { triggerImmediately?: boolean };
  memo?: Record<string, unknown>;
}

/** What `update`'s function returns: the schedule's new options, without its id. */
/** The workflow type of an update's parameter: deja's form names the workflow, Temporal's the action. */
type ScheduledWorkflowOf<X> = X extends ScheduleOptionsStartWorkflowAction<infer W> ? W : X extends Workflow ? X : Workflow;
/** A schedule's new options. The parameter is the workflow type (deja) or, as in Temporal, the action type. */
export type ScheduleUpdateOptions<X extends Workflow | ScheduleOptionsStartWorkflowAction<any> = Workflow> = Omit<ScheduleOptions<ScheduledWorkflowOf<X>>, 'scheduleId' | 'state'> & {
  state?: ScheduleState;
};

/** Temporal's backfill request (runs for a past time range): accepted by the types, refused by deja. */
export interface Backfill {
  start: Date;
  end: Date;
  overlap?: ScheduleOverlapPolicy;
}

export interface ScheduleExecutionResult {
  scheduledAt: Date;
  takenAt: Date;
  action: { type: 'startWorkflow'; workflow: { workflowId: string; firstExecutionRunId: string } };
}

export interface ScheduleDescription {
  scheduleId: string;
  spec: { cronExpressions: string[]; intervals: { every: number; offset: number }[]; startAt?: Date; endAt?: Date; timezone: 'UTC' };
  action: {
    type: 'startWorkflow';
    workflowType: string;
    workflowId: string;
    taskQueue: string;
    args: unknown[];
    workflowExecutionTimeout?: number;
    workflowRunTimeout?: number;
    workflowTaskTimeout?: number;
    retry?: RetryPolicyOptions;
    memo?: Record<string, unknown>;
  };
  policies: { overlap: OverlapName; catchupWindow: number; pauseOnFailure: boolean };
  state: { paused: boolean; note?: string; remainingActions?: number };
  memo?: Record<string, unknown>;
  info: {
    numActionsTaken: number;
    numActionsMissedCatchupWindow: number;
    numActionsSkippedOverlap: number;
    runningActions: { type: 'startWorkflow'; workflow: { workflowId: string; firstExecutionRunId: string } }[];
    recentActions: ScheduleExecutionResult[];
    nextActionTimes: Date[];
    createdAt: Date;
    lastUpdatedAt?: Date;
  };
  /** The service's description, as it came. */
  raw: ServiceDescription;
}

/** What `list()` yields for each schedule. */
export interface ScheduleSummary {
  scheduleId: string;
  spec: ScheduleDescription['spec'];
  action: { type: 'startWorkflow'; workflowType: string };
  memo?: Record<string, unknown>;
  state: { paused: boolean; note?: string };
  info: { recentActions: ScheduleExecutionResult[]; nextActionTimes: Date[] };
}

export interface ScheduleClientOptions {
  connection: { service: WorkflowService };
  /** Default `<pid>@<hostname>`. */
  identity?: string;
  /** Temporal's: deja has one namespace, 'default'; another is accepted with a warning. */
  namespace?: string;
  /** Temporal's: accepted, not acted on, named once in a warning. */
  dataConverter?: unknown;
  interceptors?: unknown;
}

// ---- conversions ----

function fail(where: string, message: string): never {
  throw new InvalidArgumentError(`${where}: ${message}`);
}

function object(where: string, name: string, value: unknown, known: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, `${name} must be an object, got ${describe(value)}`);
  checkKnownKeys(`${where}: ${name}`, value as object, known);
  return value as Record<string, unknown>;
}

function durationMs(where: string, name: string, value: unknown): number {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? parseDuration(value) : undefined;
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) fail(where, `${name} must be a duration such as '1h', '30 minutes' or 5000 (ms), got ${describe(value)}`);
  return Math.round(ms as number);
}
const optionalDurationMs = (where: string, name: string, value: unknown) => (value === undefined ? undefined : durationMs(where, name, value));

function dateMs(where: string, name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) fail(where, `${name} must be a valid Date, got ${describe(value)}`);
  return (value as Date).getTime();
}

function overlapPolicy(where: string, name: string, value: unknown): Overlap {
  if (typeof value === 'string') {
    const policy = (OVERLAP_BY_NAME as Record<string, Overlap>)[value.replace(/^SCHEDULE_OVERLAP_POLICY_/, '')];
    if (policy) return policy;
  }
  return fail(where, `${name} must be one of ${Object.keys(OVERLAP_BY_NAME).map((n) => `ScheduleOverlapPolicy.${n}`).join(', ')}, got ${describe(value)}`);
}

function workflowTypeName(where: string, value: unknown): string {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'function' && value.name) return value.name;
  return fail(where, `action.workflowType must be a workflow function or a workflow type name, got ${describe(value)}`);
}

const drop = <T extends object>(value: T): T => {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
};

function specOf(where: string, value: unknown): ServiceSpec {
  const spec = object(where, 'spec', value, ['cronExpressions', 'intervals', 'startAt', 'endAt', 'timezone', 'calendars', 'skip', 'jitter']);
  if (spec.calendars !== undefined) fail(where, 'spec.calendars (calendar specs) are not supported yet; use cronExpressions or intervals');
  if (spec.skip !== undefined) fail(where, 'spec.skip (calendar exclusions) is not supported yet');
  if (spec.jitter !== undefined) fail(where, 'spec.jitter is not supported yet');
  if (spec.timezone !== undefined && spec.timezone !== 'UTC') fail(where, `spec.timezone ${describe(spec.timezone)} is not supported yet; schedules run in UTC`);
  let intervals: ServiceSpec['intervals'];
  if (spec.intervals !== undefined) {
    if (!Array.isArray(spec.intervals)) fail(where, `spec.intervals must be an array of { every, offset? }, got ${describe(spec.intervals)}`);
    intervals = (spec.intervals as unknown[]).map((item, i) => {
      const interval = object(where, `spec.intervals[${i}]`, item, ['every', 'offset']);
      return drop({ everyMs: durationMs(where, `spec.intervals[${i}].every`, interval.every), offsetMs: optionalDurationMs(where, `spec.intervals[${i}].offset`, interval.offset) });
    });
  }
  return drop({
    cronExpressions: spec.cronExpressions as string[] | undefined,
    intervals,
    startAt: dateMs(where, 'spec.startAt', spec.startAt),
    endAt: dateMs(where, 'spec.endAt', spec.endAt),
  });
}

function retryOf(where: string, value: unknown): ScheduleAction['retryPolicy'] {
  if (value === undefined) return undefined;
  const r = object(where, 'action.retry', value, ['initialInterval', 'backoffCoefficient', 'maximumInterval', 'maximumAttempts', 'nonRetryableErrorTypes']);
  return drop({
    initialIntervalMs: optionalDurationMs(where, 'action.retry.initialInterval', r.initialInterval),
    backoffCoefficient: r.backoffCoefficient as number | undefined,
    maximumIntervalMs: optionalDurationMs(where, 'action.retry.maximumInterval', r.maximumInterval),
    maximumAttempts: r.maximumAttempts as number | undefined,
    nonRetryableErrorTypes: r.nonRetryableErrorTypes as string[] | undefined,
  });
}

function actionOf(where: string, scheduleId: string, value: unknown): ScheduleAction {
  const a = object(where, 'action', value, [
    'type',
    'workflowType',
    'args',
    'taskQueue',
    'workflowId',
    'workflowExecutionTimeout',
    'workflowRunTimeout',
    'workflowTaskTimeout',
    'retry',
    'memo',
    'searchAttributes',
    'typedSearchAttributes',
  ]);
  if (a.type !== 'startWorkflow') fail(where, `action.type must be 'startWorkflow' (the only schedule action), got ${describe(a.type)}`);
  if (a.searchAttributes !== undefined || a.typedSearchAttributes !== undefined) fail(where, "action's search attributes are not supported yet in the schedule client");
  return drop({
    workflowId: a.workflowId === undefined ? `${scheduleId}-workflow` : (a.workflowId as string),
    workflowType: workflowTypeName(where, a.workflowType),
    taskQueue: a.taskQueue as string,
    args: (a.args ?? []) as ScheduleAction['args'],
    workflowExecutionTimeoutMs: optionalDurationMs(where, 'action.workflowExecutionTimeout', a.workflowExecutionTimeout),
    workflowRunTimeoutMs: optionalDurationMs(where, 'action.workflowRunTimeout', a.workflowRunTimeout),
    workflowTaskTimeoutMs: optionalDurationMs(where, 'action.workflowTaskTimeout', a.workflowTaskTimeout),
    retryPolicy: retryOf(where, a.retry),
    memo: a.memo as ScheduleAction['memo'],
  });
}

/** Temporal's options → the service's definition (the service checks every field again, cron included). */
function definitionOf(where: string, scheduleId: string, options: Record<string, unknown>): { definition: ScheduleDefinition; triggerImmediately: boolean } {
  const policies = options.policies === undefined ? {} : object(where, 'policies', options.policies, ['overlap', 'catchupWindow', 'pauseOnFailure']);
  const state = options.state === undefined ? {} : object(where, 'state', options.state, ['paused', 'note', 'remainingActions', 'triggerImmediately', 'backfill']);
  if (state.backfill !== undefined) fail(where, 'state.backfill is not supported yet');
  if (options.searchAttributes !== undefined || options.typedSearchAttributes !== undefined) fail(where, "a schedule's own search attributes are not supported yet");
  const definition: ScheduleDefinition = drop({
    spec: specOf(where, options.spec),
    action: actionOf(where, scheduleId, options.action),
    policies: {
      overlap: policies.overlap === undefined ? 'skip' : overlapPolicy(where, 'policies.overlap', policies.overlap),
      catchupWindowMs: policies.catchupWindow === undefined ? 365 * 24 * 3_600_000 : durationMs(where, 'policies.catchupWindow', policies.catchupWindow),
      pauseOnFailure: (policies.pauseOnFailure ?? false) as boolean,
    },
    state: drop({ paused: (state.paused ?? false) as boolean, note: state.note as string | undefined, remainingActions: state.remainingActions as number | undefined }),
    memo: options.memo as ScheduleDefinition['memo'],
  });
  return { definition, triggerImmediately: state.triggerImmediately === true };
}

const date = (iso: string) => new Date(iso);

function executionResult(r: ServiceDescription['info']['recentActions'][number]): ScheduleExecutionResult {
  return { scheduledAt: date(r.scheduledAt), takenAt: date(r.takenAt), action: { type: 'startWorkflow', workflow: { workflowId: r.workflowId, firstExecutionRunId: r.runId } } };
}

function specDescription(spec: ServiceSpec): ScheduleDescription['spec'] {
  return drop({
    cronExpressions: [...(spec.cronExpressions ?? [])],
    intervals: (spec.intervals ?? []).map((i) => ({ every: i.everyMs, offset: i.offsetMs ?? 0 })),
    startAt: spec.startAt === undefined ? undefined : new Date(spec.startAt),
    endAt: spec.endAt === undefined ? undefined : new Date(spec.endAt),
    timezone: 'UTC' as const,
  });
}

function descriptionOf(d: ServiceDescription): ScheduleDescription {
  const a = d.action;
  const retry = a.retryPolicy && {
    ...a.retryPolicy,
    initialInterval: a.retryPolicy.initialIntervalMs,
    maximumInterval: a.retryPolicy.maximumIntervalMs,
  };
  if (retry) {
    delete (retry as { initialIntervalMs?: number }).initialIntervalMs;
    delete (retry as { maximumIntervalMs?: number }).maximumIntervalMs;
  }
  return drop({
    scheduleId: d.scheduleId,
    spec: specDescription(d.spec),
    action: drop({
      type: 'startWorkflow' as const,
      workflowType: a.workflowType,
      workflowId: a.workflowId,
      taskQueue: a.taskQueue,
      args: a.args as unknown[],
      workflowExecutionTimeout: a.workflowExecutionTimeoutMs,
      workflowRunTimeout: a.workflowRunTimeoutMs,
      workflowTaskTimeout: a.workflowTaskTimeoutMs,
      retry: retry && drop(retry),
      memo: a.memo as Record<string, unknown> | undefined,
    }),
    policies: { overlap: NAME_BY_OVERLAP[d.policies.overlap], catchupWindow: d.policies.catchupWindowMs, pauseOnFailure: d.policies.pauseOnFailure },
    state: drop({ paused: d.state.paused, note: d.state.note, remainingActions: d.state.remainingActions }),
    memo: d.memo as Record<string, unknown> | undefined,
    info: drop({
      numActionsTaken: d.info.numActionsTaken,
      numActionsMissedCatchupWindow: d.info.numActionsMissedCatchupWindow,
      numActionsSkippedOverlap: d.info.numActionsSkippedOverlap,
      runningActions: d.info.runningWorkflows.map((w) => ({ type: 'startWorkflow' as const, workflow: { workflowId: w.workflowId, firstExecutionRunId: w.runId } })),
      recentActions: d.info.recentActions.map(executionResult),
      nextActionTimes: d.info.nextActionTimes.map(date),
      createdAt: date(d.info.createdAt),
      lastUpdatedAt: d.info.lastUpdatedAt === undefined ? undefined : date(d.info.lastUpdatedAt),
    }),
    raw: d,
  });
}

function checkScheduleId(where: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') fail(where, `scheduleId must be a non-empty string, got ${describe(value)}`);
  return value as string;
}

// ---- the client and its handles ----

interface Context {
  service: WorkflowService;
  identity: string;
  client: ScheduleClient;
}

export class ScheduleHandle {
  constructor(
    private readonly ctx: Context,
    readonly scheduleId: string,
  ) {}

  get client(): ScheduleClient {
    return this.ctx.client;
  }

  async describe(): Promise<ScheduleDescription> {
    return descriptionOf(await this.ctx.service.describeSchedule(this.scheduleId));
  }

  /** Stops the schedule's actions until `unpause` (a trigger still acts). */
  async pause(note = 'Paused via deja client'): Promise<void> {
    return this.ctx.service.pauseSchedule(this.scheduleId, note);
  }

  async unpause(note = 'Unpaused via deja client'): Promise<void> {
    return this.ctx.service.unpauseSchedule(this.scheduleId, note);
  }

  /** Takes the action now, under `overlap` (default: the schedule's own policy). */
  async trigger(overlap?: ScheduleOverlapPolicy): Promise<void> {
    const where = 'ScheduleHandle.trigger';
    return this.ctx.service.triggerSchedule(this.scheduleId, overlap === undefined ? undefined : overlapPolicy(where, 'overlap', overlap));
  }

  /** Backfill is not supported yet: always rejects, saying so (Temporal's method, so code that calls it gets a clear error). */
  async backfill(options: Backfill | Backfill[]): Promise<void> {
    void options;
    fail('ScheduleHandle.backfill', 'backfill (taking the actions of a past time range) is not supported yet');
  }

  /**
   * Replaces the schedule: `updateFn` gets its current description and returns its new options
   * (Temporal's form: return `{ ...previous, spec: … }` to change one part). What it has done
   * (its info) is kept; the new spec applies from now.
   */
  async update<W extends Workflow | ScheduleOptionsStartWorkflowAction<any> = Workflow>(updateFn: (previous: ScheduleDescription) => ScheduleUpdateOptions<W>): Promise<void> {
    const where = 'ScheduleHandle.update';
    if (typeof updateFn !== 'function') fail(where, `expected a function from the current description to the new options, got ${describe(updateFn)}`);
    const previous = await this.describe();
    const next = updateFn(previous) as unknown;
    if (typeof next !== 'object' || next === null) fail(where, `the update function must return the new options, got ${describe(next)}`);
    // A description passed back whole: its read-only parts are dropped.
    const { scheduleId: _id, info: _info, raw: _raw, ...options } = next as Record<string, unknown>;
    void _id, _info, _raw;
    if ((options.state as { triggerImmediately?: unknown } | undefined)?.triggerImmediately !== undefined) fail(where, 'state.triggerImmediately is for create only');
    const { definition } = definitionOf(where, this.scheduleId, options);
    await this.ctx.service.updateSchedule(this.scheduleId, definition);
  }

  /** Deletes the schedule; the workflows it started run on. */
  async delete(): Promise<void> {
    return this.ctx.service.deleteSchedule(this.scheduleId);
  }
}

export class ScheduleClient {
  readonly workflowService: WorkflowService;
  private readonly ctx: Context;

  /** `new ScheduleClient({ connection })`, as Temporal's; `connection` is a Connection or anything with a WorkflowService as `service`. */
  constructor(options: ScheduleClientOptions) {
    const where = 'ScheduleClient';
    const o = object(where, 'the options', options, ['connection', 'identity', 'namespace', 'dataConverter', 'interceptors']);
    warnTemporalClientOptions(where, o, ['namespace', 'dataConverter', 'interceptors']);
    const service = (o.connection as { service?: unknown } | undefined)?.service;
    if (typeof o.connection !== 'object' || o.connection === null || missingMethods(service, CLIENT_METHODS).length > 0) {
      fail(where, `connection must be a Connection (or have a WorkflowService as its service), got ${describe(o.connection)}`);
    }
    const identity = o.identity === undefined ? `${process.pid}@${hostname()}` : o.identity;
    if (typeof identity !== 'string' || identity === '') fail(where, `identity must be a non-empty string, got ${describe(identity)}`);
    this.workflowService = service as WorkflowService;
    this.ctx = { service: this.workflowService, identity: identity as string, client: this };
  }

  /** Creates a schedule; ScheduleAlreadyRunningError when the id is taken. */
  async create<W extends Workflow = Workflow>(options: ScheduleOptions<W>): Promise<ScheduleHandle> {
    const where = 'ScheduleClient.create';
    const o = object(where, 'the options', options, ['scheduleId', 'spec', 'action', 'policies', 'state', 'memo', 'searchAttributes', 'typedSearchAttributes']);
    const scheduleId = checkScheduleId(where, o.scheduleId);
    const { definition, triggerImmediately } = definitionOf(where, scheduleId, o);
    await this.ctx.service.createSchedule({ scheduleId, schedule: definition, triggerImmediately, identity: this.ctx.identity });
    return new ScheduleHandle(this.ctx, scheduleId);
  }

  /** A handle to an existing schedule (not checked until used). */
  getHandle(scheduleId: string): ScheduleHandle {
    return new ScheduleHandle(this.ctx, checkScheduleId('ScheduleClient.getHandle', scheduleId));
  }

  /** Every schedule, by id, fetched a page at a time. */
  list(options: { pageSize?: number } = {}): AsyncIterable<ScheduleSummary> {
    const where = 'ScheduleClient.list';
    const o = object(where, 'the options', options, ['pageSize', 'query']);
    if (o.query !== undefined) fail(where, 'a query (a visibility filter on schedules) is not supported yet');
    const { service } = this.ctx;
    const pageSize = o.pageSize as number | undefined;
    return {
      async *[Symbol.asyncIterator]() {
        let nextPageToken: string | undefined;
        do {
          const page = await service.listSchedules(drop({ pageSize, nextPageToken }));
          for (const d of page.schedules) {
            const full = descriptionOf(d);
            yield drop({
              scheduleId: full.scheduleId,
              spec: full.spec,
              action: { type: 'startWorkflow' as const, workflowType: full.action.workflowType },
              memo: full.memo,
              state: drop({ paused: full.state.paused, note: full.state.note }),
              info: { recentActions: full.info.recentActions, nextActionTimes: full.info.nextActionTimes },
            });
          }
          nextPageToken = page.nextPageToken;
        } while (nextPageToken !== undefined);
      },
    };
  }
}
