/**
 * The checks of the schedule requests (host side), run at the service edge before the engine sees
 * them: a schedule definition is copied and checked field by field (cron expressions parsed,
 * intervals of at least a second, a known overlap policy, a spec with at least one time), with
 * defaults filled in, so the engine (schedules.ts) takes only well-formed definitions.
 */
import { parseCron } from '../cron';
import { describe, InvalidArgumentError } from '../errors';
import type { ScheduleAction, ScheduleDefinition, ScheduleOverlapPolicy, SchedulePolicies, ScheduleSpec, ScheduleState } from '../service';
import type { Limits } from './limits';
import { compact } from './op';
import { DEFAULT_WORKFLOW_TASK_TIMEOUT_MS } from './requests';
import type { CreateScheduleRequest } from './schedules';
import { edge, type Edge } from './validate';

export const OVERLAP_POLICIES: readonly ScheduleOverlapPolicy[] = ['skip', 'bufferOne', 'bufferAll', 'cancelOther', 'terminateOther', 'allowAll'];
/** Temporal's default catch-up window: one year. */
export const DEFAULT_CATCHUP_WINDOW_MS = 365 * 24 * 3_600_000;
/** The shortest interval, as for `@every`. */
export const MIN_INTERVAL_MS = 1000;
export const DEFAULT_SCHEDULE_PAGE_SIZE = 100;
export const MAX_SCHEDULE_PAGE_SIZE = 1000;
/** What a started workflow's id adds to the action's workflowId: '-' and an RFC 3339 time. */
const ID_SUFFIX_BYTES = '-2026-01-01T00:00:00Z'.length;
/** A spec may list this many cron expressions and intervals together. */
export const MAX_SPEC_ITEMS = 100;

const fail = (e: Edge, message: string): never => {
  throw new InvalidArgumentError(`${e.where}: ${message}`);
};

function bool(e: Edge, name: string, value: unknown, otherwise: boolean): boolean {
  if (value === undefined) return otherwise;
  if (typeof value !== 'boolean') fail(e, `${name} must be true or false, got ${describe(value)}`);
  return value as boolean;
}

function array(e: Edge, name: string, value: unknown): unknown[] {
  if (!Array.isArray(value)) fail(e, `${name} must be an array, got ${describe(value)}`);
  const items = [...(value as unknown[])];
  if (items.length > MAX_SPEC_ITEMS) fail(e, `${name} has ${items.length} items; at most ${MAX_SPEC_ITEMS} are allowed`);
  return items;
}

function spec(e: Edge, value: unknown): ScheduleSpec {
  const r = e.record('schedule.spec', value);
  e.knownKeys(r, ['cronExpressions', 'intervals', 'startAt', 'endAt'], 'schedule.spec');
  const cronExpressions =
    r.cronExpressions === undefined
      ? undefined
      : array(e, 'schedule.spec.cronExpressions', r.cronExpressions).map((text, i) => {
          const where = `schedule.spec.cronExpressions[${i}]`;
          parseCron(`${e.where}: ${where}`, text);
          return e.string(where, text);
        });
  const intervals =
    r.intervals === undefined
      ? undefined
      : array(e, 'schedule.spec.intervals', r.intervals).map((item, i) => {
          const where = `schedule.spec.intervals[${i}]`;
          const interval = e.record(where, item);
          e.knownKeys(interval, ['everyMs', 'offsetMs'], where);
          const everyMs = interval.everyMs;
          if (typeof everyMs !== 'number' || !Number.isSafeInteger(everyMs) || everyMs < MIN_INTERVAL_MS) {
            fail(e, `${where}.everyMs must be an integer number of milliseconds ≥ ${MIN_INTERVAL_MS} (the shortest interval is one second), got ${describe(everyMs)}`);
          }
          const offsetMs = e.optionalInt(`${where}.offsetMs`, interval.offsetMs, 0);
          if (offsetMs !== undefined && offsetMs >= (everyMs as number)) {
            fail(e, `${where}.offsetMs must be less than everyMs (${everyMs as number}), got ${offsetMs}`);
          }
          return compact({ everyMs: everyMs as number, offsetMs });
        });
  if ((cronExpressions?.length ?? 0) + (intervals?.length ?? 0) === 0) {
    fail(e, 'schedule.spec must have at least one cron expression (cronExpressions) or interval (intervals); it would never take an action');
  }
  const startAt = e.optionalInt('schedule.spec.startAt', r.startAt, 0);
  const endAt = e.optionalInt('schedule.spec.endAt', r.endAt, 0);
  if (startAt !== undefined && endAt !== undefined && endAt < startAt) {
    fail(e, `schedule.spec.endAt (${new Date(endAt).toISOString()}) must not be before startAt (${new Date(startAt).toISOString()})`);
  }
  return compact({ cronExpressions, intervals, startAt, endAt });
}

function action(e: Edge, value: unknown): ScheduleAction {
  const r = e.record('schedule.action', value);
  e.knownKeys(
    r,
    ['workflowId', 'workflowType', 'taskQueue', 'args', 'workflowExecutionTimeoutMs', 'workflowRunTimeoutMs', 'workflowTaskTimeoutMs', 'retryPolicy', 'memo', 'searchAttributes'],
    'schedule.action',
  );
  const searchAttributes = e.searchAttributes('schedule.action.searchAttributes', r.searchAttributes);
  for (const name of ['TemporalScheduledById', 'TemporalScheduledStartTime']) {
    if (searchAttributes && name in searchAttributes) fail(e, `schedule.action.searchAttributes.${name} is set by the schedule itself; leave it out`);
  }
  const workflowId = e.string('schedule.action.workflowId', r.workflowId);
  const started = Buffer.byteLength(workflowId, 'utf8') + ID_SUFFIX_BYTES;
  if (started > e.limits.maxIdBytes) {
    fail(e, `schedule.action.workflowId is too long: with the scheduled time appended ("-2026-01-01T00:00:00Z") the started workflows' ids would be ${started} bytes, over maxIdBytes (${e.limits.maxIdBytes})`);
  }
  return compact({
    workflowId,
    workflowType: e.string('schedule.action.workflowType', r.workflowType),
    taskQueue: e.string('schedule.action.taskQueue', r.taskQueue),
    args: r.args === undefined ? [] : e.args('schedule.action.args', r.args),
    workflowExecutionTimeoutMs: e.optionalInt('schedule.action.workflowExecutionTimeoutMs', r.workflowExecutionTimeoutMs, 1),
    workflowRunTimeoutMs: e.optionalInt('schedule.action.workflowRunTimeoutMs', r.workflowRunTimeoutMs, 1),
    workflowTaskTimeoutMs: e.optionalInt('schedule.action.workflowTaskTimeoutMs', r.workflowTaskTimeoutMs, 1) ?? DEFAULT_WORKFLOW_TASK_TIMEOUT_MS,
    retryPolicy: e.retryPolicy('schedule.action.retryPolicy', r.retryPolicy),
    memo: e.memo('schedule.action.memo', r.memo),
    searchAttributes,
  });
}

function policies(e: Edge, value: unknown): SchedulePolicies {
  const r = value === undefined ? {} : e.record('schedule.policies', value);
  e.knownKeys(r, ['overlap', 'catchupWindowMs', 'pauseOnFailure'], 'schedule.policies');
  return {
    overlap: r.overlap === undefined ? 'skip' : overlapPolicy(e, 'schedule.policies.overlap', r.overlap),
    catchupWindowMs: e.optionalInt('schedule.policies.catchupWindowMs', r.catchupWindowMs, 1) ?? DEFAULT_CATCHUP_WINDOW_MS,
    pauseOnFailure: bool(e, 'schedule.policies.pauseOnFailure', r.pauseOnFailure, false),
  };
}

function overlapPolicy(e: Edge, name: string, value: unknown): ScheduleOverlapPolicy {
  return e.oneOf(name, value, OVERLAP_POLICIES);
}

function state(e: Edge, value: unknown): ScheduleState {
  const r = value === undefined ? {} : e.record('schedule.state', value);
  e.knownKeys(r, ['paused', 'note', 'remainingActions'], 'schedule.state');
  return compact({
    paused: bool(e, 'schedule.state.paused', r.paused, false),
    note: note(e, 'schedule.state.note', r.note),
    remainingActions: e.optionalInt('schedule.state.remainingActions', r.remainingActions, 0),
  });
}

/** A note is free text (it may be empty), within the request's byte budget. */
function note(e: Edge, name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') fail(e, `${name} must be a string, got ${describe(value)}`);
  return e.payload(name, value) as string;
}

function definition(e: Edge, value: unknown): ScheduleDefinition {
  const r = e.record('schedule', value);
  e.knownKeys(r, ['spec', 'action', 'policies', 'state', 'memo'], 'schedule');
  return compact({
    spec: spec(e, r.spec),
    action: action(e, r.action),
    policies: policies(e, r.policies),
    state: state(e, r.state),
    memo: e.memo('schedule.memo', r.memo),
  });
}

export function checkCreateSchedule(limits: Limits, request: unknown): CreateScheduleRequest {
  return edge('createSchedule', limits, (e) => {
    const r = e.record('the request', request);
    e.knownKeys(r, ['scheduleId', 'schedule', 'triggerImmediately', 'identity']);
    return compact({
      scheduleId: e.string('scheduleId', r.scheduleId),
      schedule: definition(e, r.schedule),
      triggerImmediately: bool(e, 'triggerImmediately', r.triggerImmediately, false),
      identity: e.optionalString('identity', r.identity),
    });
  });
}

export function checkScheduleId(where: string, limits: Limits, scheduleId: unknown): string {
  return edge(where, limits, (e) => e.string('scheduleId', scheduleId));
}

export function checkUpdateSchedule(limits: Limits, scheduleId: unknown, schedule: unknown): { scheduleId: string; schedule: ScheduleDefinition } {
  return edge('updateSchedule', limits, (e) => ({ scheduleId: e.string('scheduleId', scheduleId), schedule: definition(e, schedule) }));
}

export function checkScheduleNote(where: string, limits: Limits, scheduleId: unknown, text: unknown): { scheduleId: string; note?: string } {
  return edge(where, limits, (e) => compact({ scheduleId: e.string('scheduleId', scheduleId), note: note(e, 'note', text) }));
}

export function checkTriggerSchedule(limits: Limits, scheduleId: unknown, overlap: unknown): { scheduleId: string; overlap?: ScheduleOverlapPolicy } {
  return edge('triggerSchedule', limits, (e) =>
    compact({ scheduleId: e.string('scheduleId', scheduleId), overlap: overlap === undefined ? undefined : overlapPolicy(e, 'overlap', overlap) }),
  );
}

export function checkListSchedules(limits: Limits, request: unknown): { pageSize: number; afterScheduleId?: string } {
  const where = 'listSchedules';
  return edge(where, limits, (e) => {
    const r = request === undefined ? {} : e.record('the request', request);
    e.knownKeys(r, ['pageSize', 'nextPageToken']);
    const pageSize = e.optionalInt('pageSize', r.pageSize, 1) ?? DEFAULT_SCHEDULE_PAGE_SIZE;
    if (pageSize > MAX_SCHEDULE_PAGE_SIZE) fail(e, `pageSize must be at most ${MAX_SCHEDULE_PAGE_SIZE}, got ${pageSize}`);
    const token = e.optionalString('nextPageToken', r.nextPageToken);
    let afterScheduleId: string | undefined;
    if (token !== undefined) {
      afterScheduleId = Buffer.from(token, 'base64url').toString('utf8');
      if (afterScheduleId === '' || Buffer.from(afterScheduleId, 'utf8').toString('base64url') !== token) {
        fail(e, `nextPageToken ${describe(token)} is not a page token from a previous listSchedules page`);
      }
    }
    return compact({ pageSize, afterScheduleId });
  });
}
