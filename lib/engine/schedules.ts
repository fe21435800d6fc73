/**
 * Schedules (host side): Temporal's schedules, kept by the engine. A schedule is a record in
 * `StoreTx.schedules` and one durable timer (kind 'schedule', owner `scheduleTimerOwner(id)`) at
 * its next action; when the timer fires the engine starts the action's workflow under the
 * schedule's overlap policy and arms the timer again. A run a schedule started carries its
 * `scheduleId`, so its close can start a buffered action.
 *
 * Invariants: a schedule has a timer exactly when it is not paused, has actions left and its spec
 * has a time after `lastActionAt`; the timer's fireAt is that time. `info.runningWorkflows` lists
 * the runs it started that have not closed. No clock is read: every time is `op.now`.
 *
 * Temporal's rules followed here (its scheduler workflow):
 * - A started workflow's id is `<action.workflowId>-<scheduled time, RFC 3339 UTC, whole seconds>`,
 *   and it gets the search attributes TemporalScheduledById and TemporalScheduledStartTime (the
 *   scheduled, "nominal", time).
 * - Catch-up: when the timer fires late (the service was down, the clock jumped), every spec time
 *   in (lastActionAt, now] is considered in order. One more than `catchupWindowMs` old is counted
 *   in numActionsMissedCatchupWindow and dropped; the others are taken one after another, each
 *   under the overlap policy (so with 'skip' the first starts and the rest count as skipped, with
 *   'allowAll' all start). At most MAX_CATCHUP_TIMES times are looked at per firing; past that the
 *   schedule resumes from now and the rest are neither taken nor counted.
 * - remainingActions counts scheduled actions only: a manual trigger (and triggerImmediately) is
 *   taken even while paused or with no actions left, and does not use one up. A buffered action
 *   uses one up when it starts.
 * - While paused no action is due and none is caught up on unpause: the schedule resumes from the
 *   unpause instant. Actions buffered when a run closes during a pause are dropped.
 * - Buffers: bufferOne keeps at most one waiting action (a later one is skipped); bufferAll up to
 *   MAX_BUFFERED (Temporal's default limit), beyond which they are skipped; cancelOther and
 *   terminateOther keep only the latest one, which starts when the running workflow has closed.
 */
import { randomUUID } from 'node:crypto';
import type { SearchAttributes } from '../../runtime/protocol';
import { scheduleTimerOwner, type RunRecord, type ScheduleRecord, type TimerRecord } from '../backends/store';
import { parseCron, type CronSchedule } from '../cron';
import { assertNever } from '../errors';
import type { ListSchedulesPage, ScheduleDefinition, ScheduleDescription, ScheduleOverlapPolicy, ScheduleSpec } from '../service';
import { ScheduleAlreadyRunningError, ScheduleNotFoundError, WorkflowExecutionAlreadyStartedError } from '../service-errors';
import { requestCancelRun, terminateRun } from './cancellation';
import { startRun } from './executions';
import { compact, type Op } from './op';
import type { Closing } from './runs';

/** How many recent actions and next action times a description shows (Temporal's 10). */
export const MAX_RECENT_ACTIONS = 10;
export const MAX_NEXT_ACTION_TIMES = 10;
/** bufferAll's limit (Temporal's default maximum buffer size). */
export const MAX_BUFFERED = 1000;
/** Spec times looked at in one firing, when catching up after downtime. */
export const MAX_CATCHUP_TIMES = 10_000;

const IDENTITY = 'deja-scheduler';

// ---- spec arithmetic (pure) ----

/** Parsed cron expressions, by text: parsing is not free and the same few come back at each firing. */
const cronCache = new Map<string, CronSchedule>();
function cron(text: string): CronSchedule {
  let parsed = cronCache.get(text);
  if (!parsed) {
    // Checked at the edge: a failure here means a stored record was changed behind deja's back.
    parsed = parseCron('schedule spec: cronExpressions', text);
    if (cronCache.size > 1000) cronCache.clear();
    cronCache.set(text, parsed);
  }
  return parsed;
}

/**
 * The spec's first time strictly after `afterMs`: the earliest over its cron expressions and
 * intervals, not before `startAt`, undefined when there is none up to `endAt`.
 */
export function nextSpecTime(spec: ScheduleSpec, afterMs: number): number | undefined {
  const after = spec.startAt !== undefined ? Math.max(afterMs, spec.startAt - 1) : afterMs;
  let best: number | undefined;
  for (const text of spec.cronExpressions ?? []) {
    const t = cron(text).next(after);
    if (t !== undefined && (best === undefined || t < best)) best = t;
  }
  for (const { everyMs, offsetMs = 0 } of spec.intervals ?? []) {
    const t = offsetMs + (Math.floor((after - offsetMs) / everyMs) + 1) * everyMs;
    if (best === undefined || t < best) best = t;
  }
  if (best === undefined || (spec.endAt !== undefined && best > spec.endAt)) return undefined;
  return best;
}

/** Up to `count` spec times strictly after `afterMs`, increasing. */
export function nextSpecTimes(spec: ScheduleSpec, afterMs: number, count: number): number[] {
  const times: number[] = [];
  for (let t = nextSpecTime(spec, afterMs); t !== undefined && times.length < count; t = nextSpecTime(spec, t)) times.push(t);
  return times;
}

/** RFC 3339 in UTC, to the second, as Temporal formats the time in a scheduled workflow's id. */
export function rfc3339Seconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// ---- the working set ----

/** Schedules loaded by a transaction: one object per id, so nested steps change the same record. */
const loaded = new WeakMap<Op, Map<string, ScheduleRecord | null>>();

async function load(op: Op, scheduleId: string): Promise<ScheduleRecord | undefined> {
  let cache = loaded.get(op);
  if (!cache) loaded.set(op, (cache = new Map()));
  if (!cache.has(scheduleId)) cache.set(scheduleId, (await op.tx.schedules.get(scheduleId)) ?? null);
  return cache.get(scheduleId) ?? undefined;
}

async function mustLoad(op: Op, scheduleId: string): Promise<ScheduleRecord> {
  const s = await load(op, scheduleId);
  if (!s) throw new ScheduleNotFoundError(`schedule "${scheduleId}" not found`, scheduleId);
  return s;
}

const save = (op: Op, s: ScheduleRecord) => op.tx.schedules.update(s);

const exhausted = (s: ScheduleRecord) => s.definition.state.remainingActions === 0;

/** Puts the schedule's timer at its next action, or removes it when none is due (paused, no actions left, spec ended). */
async function arm(op: Op, s: ScheduleRecord): Promise<void> {
  const owner = scheduleTimerOwner(s.scheduleId);
  await op.tx.timers.delete(owner, 'schedule', 0);
  if (s.definition.state.paused || exhausted(s)) return;
  const at = nextSpecTime(s.definition.spec, s.lastActionAt ?? s.createdAt);
  if (at === undefined) return;
  await op.tx.timers.put({ runId: owner, kind: 'schedule', ref: 0, fireAt: at, eventId: 0 });
  op.due(at);
}

// ---- taking actions ----

/** Starts the action's workflow for `scheduledAt`; false when it was not started. */
async function startAction(op: Op, s: ScheduleRecord, scheduledAt: number, manual: boolean): Promise<boolean> {
  const { state, action } = s.definition;
  if (!manual && state.remainingActions !== undefined) {
    if (state.remainingActions <= 0) return false;
    state.remainingActions--;
  }
  const workflowId = `${action.workflowId}-${rfc3339Seconds(scheduledAt)}`;
  const searchAttributes: SearchAttributes = {
    ...action.searchAttributes,
    TemporalScheduledById: { type: 'KEYWORD', value: s.scheduleId },
    TemporalScheduledStartTime: { type: 'DATETIME', value: new Date(scheduledAt).toISOString() },
  };
  let run: RunRecord;
  try {
    run = await startRun(
      op,
      randomUUID,
      compact({
        workflowId,
        workflowType: action.workflowType,
        taskQueue: action.taskQueue,
        args: structuredClone(action.args),
        policy: 'allowDuplicate' as const,
        workflowTaskTimeoutMs: action.workflowTaskTimeoutMs ?? 10_000,
        workflowExecutionTimeoutMs: action.workflowExecutionTimeoutMs,
        workflowRunTimeoutMs: action.workflowRunTimeoutMs,
        retryPolicy: action.retryPolicy && structuredClone(action.retryPolicy),
        memo: action.memo && structuredClone(action.memo),
        searchAttributes,
        identity: IDENTITY,
      }),
    );
  } catch (err) {
    // Two actions in one second (a trigger beside a scheduled one, under allowAll) name the same
    // workflow id: the second is dropped, as Temporal's scheduler drops it.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    if (!manual && state.remainingActions !== undefined) state.remainingActions++;
    s.info.numActionsSkippedOverlap++;
    return false;
  }
  run.scheduleId = s.scheduleId;
  op.changed(run);
  s.info.numActionsTaken++;
  s.info.runningWorkflows.push({ workflowId: run.workflowId, runId: run.runId });
  s.info.recentActions.push({ scheduledAt: new Date(scheduledAt).toISOString(), takenAt: new Date(op.now).toISOString(), workflowId: run.workflowId, runId: run.runId });
  if (s.info.recentActions.length > MAX_RECENT_ACTIONS) s.info.recentActions.splice(0, s.info.recentActions.length - MAX_RECENT_ACTIONS);
  return true;
}

/** An action is due at `scheduledAt`: start it, buffer it or skip it, as `overlap` says while a workflow it started runs. */
async function takeAction(op: Op, s: ScheduleRecord, scheduledAt: number, overlap: ScheduleOverlapPolicy, manual: boolean): Promise<void> {
  if (s.info.runningWorkflows.length === 0) {
    await startAction(op, s, scheduledAt, manual);
    return;
  }
  switch (overlap) {
    case 'allowAll':
      await startAction(op, s, scheduledAt, manual);
      return;
    case 'skip':
      s.info.numActionsSkippedOverlap++;
      return;
    case 'bufferOne':
      if (s.buffered.length > 0) s.info.numActionsSkippedOverlap++;
      else s.buffered.push(scheduledAt);
      return;
    case 'bufferAll':
      if (s.buffered.length >= MAX_BUFFERED) s.info.numActionsSkippedOverlap++;
      else s.buffered.push(scheduledAt);
      return;
    case 'cancelOther':
    case 'terminateOther': {
      // Only the latest waits; it starts when the running workflows have closed.
      s.info.numActionsSkippedOverlap += s.buffered.length;
      s.buffered = [scheduledAt];
      for (const ref of [...s.info.runningWorkflows]) {
        // The chain's latest run: the one listed may have continued as new (or been retried).
        const latest = await op.tx.runs.latest(ref.workflowId);
        const run = latest && (await op.run(latest.runId));
        if (run?.status !== 'running') continue;
        const reason = `schedule "${s.scheduleId}": overlap policy ${overlap} for the action due at ${new Date(scheduledAt).toISOString()}`;
        // A termination closes the run at once: scheduledRunClosed starts the buffered action.
        if (overlap === 'cancelOther') await requestCancelRun(op, run, { reason, identity: IDENTITY });
        else await terminateRun(op, run, { reason, identity: IDENTITY });
      }
      return;
    }
    default:
      return assertNever(overlap, 'overlap policy');
  }
}

/** A schedule's timer fired: take its due actions (under its overlap policy) and arm the next one. */
export async function fireSchedule(op: Op, timer: TimerRecord): Promise<void> {
  const scheduleId = timer.runId.slice(scheduleTimerOwner('').length);
  const s = await load(op, scheduleId);
  if (!s) return; // deleted with its timer in the same breath; nothing to do
  if (!s.definition.state.paused && !exhausted(s)) {
    const { spec, policies } = s.definition;
    let after = s.lastActionAt ?? s.createdAt;
    for (let looked = 0; ; looked++) {
      if (looked >= MAX_CATCHUP_TIMES) {
        after = Math.max(after, op.now);
        break;
      }
      const at = nextSpecTime(spec, after);
      if (at === undefined || at > op.now) break;
      after = at;
      if (op.now - at > policies.catchupWindowMs) s.info.numActionsMissedCatchupWindow++;
      else await takeAction(op, s, at, policies.overlap, false);
      if (exhausted(s)) break;
    }
    s.lastActionAt = after;
  }
  await arm(op, s);
  await save(op, s);
}

/** A run a schedule started closed: the schedule may pause (pauseOnFailure) or take a buffered action now. */
export async function scheduledRunClosed(op: Op, run: RunRecord, closing: Closing): Promise<void> {
  const s = await load(op, run.scheduleId!);
  if (!s) return; // the schedule was deleted; its workflows live on
  // By workflow id: a run that continued (continue-as-new, a retry, its cron) keeps its place until its chain ends.
  s.info.runningWorkflows = s.info.runningWorkflows.filter((r) => r.workflowId !== run.workflowId);
  const { state, policies } = s.definition;
  if (policies.pauseOnFailure && (closing.status === 'failed' || closing.status === 'timedOut') && !state.paused) {
    state.paused = true;
    state.note = `paused because workflow "${run.workflowId}" (run ${run.runId}) ${closing.status === 'failed' ? 'failed' : 'timed out'}`;
    await arm(op, s);
  }
  if (state.paused) s.buffered = [];
  while (s.buffered.length > 0 && s.info.runningWorkflows.length === 0) {
    const at = s.buffered.shift()!;
    await startAction(op, s, at, false);
  }
  // Actions it used up may have been the last: the timer goes.
  if (exhausted(s)) await arm(op, s);
  await save(op, s);
}

// ---- requests ----

export interface CreateScheduleRequest {
  scheduleId: string;
  schedule: ScheduleDefinition;
  triggerImmediately: boolean;
  identity?: string;
}

export async function createSchedule(op: Op, request: CreateScheduleRequest): Promise<void> {
  const { scheduleId } = request;
  if (await load(op, scheduleId)) throw new ScheduleAlreadyRunningError(`schedule "${scheduleId}" already exists`, scheduleId);
  const s: ScheduleRecord = {
    scheduleId,
    definition: request.schedule,
    info: { numActionsTaken: 0, numActionsMissedCatchupWindow: 0, numActionsSkippedOverlap: 0, runningWorkflows: [], recentActions: [] },
    createdAt: op.now,
    buffered: [],
    lastActionAt: op.now,
  };
  await op.tx.schedules.insert(s);
  loaded.get(op)!.set(scheduleId, s);
  if (request.triggerImmediately) await takeAction(op, s, op.now, s.definition.policies.overlap, true);
  await arm(op, s);
  await save(op, s);
}

export async function describeSchedule(op: Op, scheduleId: string): Promise<ScheduleDescription> {
  return description(await mustLoad(op, scheduleId));
}

function description(s: ScheduleRecord): ScheduleDescription {
  const { state, spec } = s.definition;
  const next = state.paused || exhausted(s) ? [] : nextSpecTimes(spec, s.lastActionAt ?? s.createdAt, MAX_NEXT_ACTION_TIMES);
  const limit = state.remainingActions;
  return {
    scheduleId: s.scheduleId,
    ...s.definition,
    info: compact({
      ...s.info,
      nextActionTimes: (limit === undefined ? next : next.slice(0, limit)).map((t) => new Date(t).toISOString()),
      createdAt: new Date(s.createdAt).toISOString(),
      lastUpdatedAt: s.lastUpdatedAt === undefined ? undefined : new Date(s.lastUpdatedAt).toISOString(),
    }),
  };
}

/** A page of schedules by id; the page token is the last id, base64url. */
export async function listSchedules(op: Op, request: { pageSize: number; afterScheduleId?: string }): Promise<ListSchedulesPage> {
  const rows = await op.tx.schedules.list({ limit: request.pageSize + 1, afterScheduleId: request.afterScheduleId });
  const page = rows.slice(0, request.pageSize);
  return compact({
    schedules: page.map(description),
    nextPageToken: rows.length > request.pageSize ? Buffer.from(page[page.length - 1].scheduleId, 'utf8').toString('base64url') : undefined,
  });
}

/** Replaces the definition (its state too, as Temporal's update does); keeps what it has done. The new spec applies from now. */
export async function updateSchedule(op: Op, scheduleId: string, schedule: ScheduleDefinition): Promise<void> {
  const s = await mustLoad(op, scheduleId);
  s.definition = schedule;
  s.lastUpdatedAt = op.now;
  s.lastActionAt = Math.max(s.lastActionAt ?? s.createdAt, op.now);
  if (schedule.policies.overlap !== 'bufferAll' && s.buffered.length > 1) s.buffered = s.buffered.slice(-1);
  await arm(op, s);
  await save(op, s);
}

export async function pauseSchedule(op: Op, scheduleId: string, note: string | undefined): Promise<void> {
  const s = await mustLoad(op, scheduleId);
  s.definition.state.paused = true;
  s.definition.state.note = note;
  s.definition.state = compact(s.definition.state);
  s.lastUpdatedAt = op.now;
  await arm(op, s);
  await save(op, s);
}

/** Resumes from now: the times it was paused through are not caught up. */
export async function unpauseSchedule(op: Op, scheduleId: string, note: string | undefined): Promise<void> {
  const s = await mustLoad(op, scheduleId);
  if (s.definition.state.paused) s.lastActionAt = Math.max(s.lastActionAt ?? s.createdAt, op.now);
  s.definition.state.paused = false;
  s.definition.state.note = note;
  s.definition.state = compact(s.definition.state);
  s.lastUpdatedAt = op.now;
  await arm(op, s);
  await save(op, s);
}

/** Takes an action now, under `overlap` (absent: the schedule's own), paused or not. */
export async function triggerSchedule(op: Op, scheduleId: string, overlap: ScheduleOverlapPolicy | undefined): Promise<void> {
  const s = await mustLoad(op, scheduleId);
  await takeAction(op, s, op.now, overlap ?? s.definition.policies.overlap, true);
  await arm(op, s);
  await save(op, s);
}

/** Deletes the schedule and its timer; the workflows it started run on. */
export async function deleteSchedule(op: Op, scheduleId: string): Promise<void> {
  await mustLoad(op, scheduleId);
  await op.tx.timers.delete(scheduleTimerOwner(scheduleId), 'schedule', 0);
  await op.tx.schedules.delete(scheduleId);
  loaded.get(op)!.set(scheduleId, null);
}

