/**
 * Activity tasks (host side): claiming one, its result, its failure (retried under its policy or
 * final), heartbeats, and the retry and finish steps the timers share. Only an activity's final
 * attempt is written to history, as Temporal does: activityTaskStarted, then its outcome.
 */
import { DejaError } from '../errors';
import type { Payload, TimeoutType, WireFailure } from '../../runtime/protocol';
import type { ActivitySchedule, RunRecord, TaskRecord } from '../backends/store';
import type { ActivityRef, ActivityTask, HeartbeatResponse } from '../service';
import { ActivityNotFoundError, StaleTaskError } from '../service-errors';
import { compact, type Op } from './op';
import { activityRetry } from './retry';
import { needWorkflowTask } from './runs';
import type { HeldTask } from './workflow-tasks';

type ActivityTaskRecord = Extract<TaskRecord, { kind: 'activity' }>;

export function scheduleToCloseDeadline(a: ActivitySchedule): number | undefined {
  return a.scheduleToCloseTimeoutMs === undefined ? undefined : a.scheduledAt + a.scheduleToCloseTimeoutMs;
}

export function timeoutFailure(timeoutType: TimeoutType, cause?: WireFailure): WireFailure {
  return compact({ kind: 'timeout', timeoutType, message: `activity ${timeoutType} timeout`, cause });
}

export async function claimActivityTask(op: Op, token: string, queue: string, who: string): Promise<ActivityTask | null> {
  const task = await op.tx.tasks.claim('activity', queue, who, token, op.now);
  if (!task) return null;
  if (task.kind !== 'activity') throw new DejaError('DEJA_INTERNAL', `deja store broken: claim('activity') returned a ${task.kind} task`);
  const run = await op.openRun(task.runId, `activity task ${task.taskId}`);
  const a = task.activity;
  const lease = task.lease!;
  op.due(lease.expiresAt);
  return compact({
    taskToken: token,
    workflowId: run.workflowId,
    runId: run.runId,
    workflowType: run.workflowType,
    activityId: a.activityId,
    activityType: a.activityType,
    args: a.args,
    attempt: task.attempt,
    deadline: Math.min(lease.claimedAt + a.startToCloseTimeoutMs, scheduleToCloseDeadline(a) ?? Infinity),
    scheduledAt: a.scheduledAt,
    currentAttemptScheduledAt: task.visibleAt,
    startedAt: lease.claimedAt,
    startToCloseTimeoutMs: a.startToCloseTimeoutMs,
    scheduleToCloseTimeoutMs: a.scheduleToCloseTimeoutMs,
    heartbeatTimeoutMs: a.heartbeatTimeoutMs,
    heartbeatDetails: a.heartbeatDetails,
  });
}

export async function completeActivityTask(op: Op, where: string, token: string, result: Payload): Promise<void> {
  const { task, run } = await heldActivityTask(op, where, token);
  const started = appendActivityStarted(op, run, task);
  op.append(run, { type: 'activityTaskCompleted', scheduledEventId: task.activity.scheduledEventId, startedEventId: started.eventId, result });
  await finishActivity(op, run, task);
}

export async function failActivityTask(op: Op, where: string, token: string, failure: WireFailure): Promise<void> {
  const { task, run } = await heldActivityTask(op, where, token);
  const a = task.activity;
  if (a.cancelRequestedEventId !== undefined && failure.kind === 'cancelled') {
    // The activity confirmed the cancellation the workflow asked for.
    const started = appendActivityStarted(op, run, task);
    op.append(run, {
      type: 'activityTaskCanceled',
      scheduledEventId: a.scheduledEventId,
      startedEventId: started.eventId,
      latestCancelRequestedEventId: a.cancelRequestedEventId,
      details: failure.details,
    });
    return finishActivity(op, run, task);
  }
  const decision =
    a.cancelRequestedEventId !== undefined
      ? { retryState: 'cancelRequested' as const } // a cancelled activity is not tried again
      : activityRetry(a.retryPolicy, task.attempt, failure, op.now, scheduleToCloseDeadline(a));
  if ('retryAt' in decision) return retryActivity(op, task, decision.retryAt, failure);
  const started = appendActivityStarted(op, run, task);
  op.append(run, { type: 'activityTaskFailed', scheduledEventId: a.scheduledEventId, startedEventId: started.eventId, failure, retryState: decision.retryState });
  await finishActivity(op, run, task);
}

/** Records details and renews a heartbeat lease; never throws for a lost task, it says cancel. */
export async function heartbeatActivityTask(op: Op, token: string, details: Payload): Promise<HeartbeatResponse> {
  const task = await op.tx.tasks.byToken(token);
  if (!task || task.kind !== 'activity' || task.lease!.expiresAt <= op.now) return { cancelRequested: true };
  const a = task.activity;
  const lease = task.lease!;
  const expiresAt = a.heartbeatTimeoutMs === undefined ? lease.expiresAt : Math.min(lease.claimedAt + a.startToCloseTimeoutMs, op.now + a.heartbeatTimeoutMs);
  // A narrow write: the details and the lease end, not the task with its arguments.
  await op.tx.tasks.setHeartbeat(task.taskId, compact({ details, expiresAt }));
  return { cancelRequested: a.cancelRequestedEventId !== undefined };
}

/** The token of the running attempt of an open activity, named by ids (async completion). */
export async function activityTaskToken(op: Op, ref: ActivityRef): Promise<string> {
  const run = await op.resolve({ workflowId: ref.workflowId, runId: ref.runId });
  const what = `activity "${ref.activityId}" of workflow "${run.workflowId}" (run ${run.runId})`;
  const task = (await op.tx.tasks.ofRun(run.runId)).find((t) => t.kind === 'activity' && t.activity.activityId === ref.activityId);
  if (task === undefined) throw new ActivityNotFoundError(`${what} is not open: it never existed, or it has closed`);
  if (task.lease === undefined || task.lease.expiresAt <= op.now) {
    throw new ActivityNotFoundError(`${what} has no attempt running now (it waits for a worker, or for its retry)`);
  }
  return task.lease.token;
}

async function heldActivityTask(op: Op, where: string, token: string): Promise<HeldTask<'activity'>> {
  const task = await op.tx.tasks.byToken(token);
  if (!task || task.kind !== 'activity' || task.lease!.expiresAt <= op.now) {
    throw new StaleTaskError(`${where}: the activity task token is stale: the attempt timed out or was completed, or its run closed`);
  }
  return { task, run: await op.openRun(task.runId, `activity task ${task.taskId}`) };
}

/** Only an activity's final attempt is written, as Temporal does: started, then the outcome. */
export function appendActivityStarted(op: Op, run: RunRecord, task: ActivityTaskRecord) {
  return op.append(run, {
    type: 'activityTaskStarted',
    scheduledEventId: task.activity.scheduledEventId,
    attempt: task.attempt,
    identity: task.lease?.identity,
  });
}

export async function retryActivity(op: Op, task: ActivityTaskRecord, retryAt: number, failure: WireFailure): Promise<void> {
  const next: TaskRecord = { ...task, attempt: task.attempt + 1, visibleAt: retryAt, activity: { ...task.activity, lastFailure: failure } };
  delete next.lease;
  await op.tx.tasks.put(next);
  op.due(retryAt);
}

export async function finishActivity(op: Op, run: RunRecord, task: ActivityTaskRecord): Promise<void> {
  const { seq, scheduledEventId } = task.activity;
  // A started workflow task's code has not seen it close, and may still ask to cancel it.
  if (seq !== undefined && run.workflowTask?.startedEventId !== undefined) {
    run.closedWhileRunning = { ...run.closedWhileRunning, [seq]: scheduledEventId };
    op.changed(run);
  }
  await op.tx.tasks.delete(task.taskId);
  await op.tx.timers.delete(run.runId, 'activityDeadline', task.activity.scheduledEventId);
  await needWorkflowTask(op, run);
}
