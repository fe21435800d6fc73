/**
 * Time-driven work (host side): durable timers that fire, activity schedule-to-close deadlines,
 * and leases that end (a workflow task that timed out, an activity attempt past its start-to-close
 * or heartbeat limit). `tickBatch` processes one bounded batch in one transaction; the engine
 * repeats it until a batch finds nothing.
 */
import type { TimeoutType } from '../../runtime/protocol';
import type { TaskRecord, TimerRecord } from '../backends/store';
import { assertNever } from '../errors';
import { appendActivityStarted, finishActivity, retryActivity, scheduleToCloseDeadline, timeoutFailure } from './activity-tasks';
import { activityTaskId, type Op } from './op';
import { activityRetry } from './retry';
import { needWorkflowTask, retryWorkflowTask } from './runs';
import { fireSchedule } from './schedules';
import { backoffEnded, executionTimedOut, failRun, RUN_TIMEOUT_FAILURE } from './chain';
import { workflowTaskEnded } from './workflow-tasks';

/** Due timers and lease ends processed per tick transaction, to keep transactions short. */
export const TICK_BATCH = 100;

/** Fires due timers and ends due leases, up to TICK_BATCH each; returns how many it processed. */
export async function tickBatch(op: Op, newId: () => string): Promise<number> {
  const timers = await op.tx.timers.takeDue(op.now, TICK_BATCH);
  for (const timer of timers) await fireTimer(op, timer, newId);
  const expired = await op.tx.tasks.expireLeases(op.now, TICK_BATCH);
  for (const task of expired) await expireLease(op, task);
  return timers.length + expired.length;
}

/** When time-driven work is next due (a read). */
export async function nextDueAt(op: Op): Promise<number | undefined> {
  const [timerAt, taskAt] = [await op.tx.timers.nextFireAt(), await op.tx.tasks.nextDueAt(op.now)];
  if (timerAt === undefined) return taskAt;
  return taskAt === undefined ? timerAt : Math.min(timerAt, taskAt);
}

async function fireTimer(op: Op, timer: TimerRecord, newId: () => string): Promise<void> {
  // A schedule's timer belongs to no run.
  if (timer.kind === 'schedule') return fireSchedule(op, timer);
  const run = await op.openRun(timer.runId, `${timer.kind} ${timer.ref}`);
  switch (timer.kind) {
    case 'timer':
      op.append(run, { type: 'timerFired', timerId: String(timer.ref), startedEventId: timer.eventId });
      return needWorkflowTask(op, run);
    case 'activityDeadline': {
      // Schedule-to-close: the activity's whole budget is spent, whatever attempt it is in.
      const task = await op.tx.tasks.get(activityTaskId(run.runId, timer.ref));
      if (task?.kind !== 'activity') return;
      const started = task.lease ? appendActivityStarted(op, run, task) : undefined;
      op.append(run, {
        type: 'activityTaskTimedOut',
        scheduledEventId: task.activity.scheduledEventId,
        startedEventId: started?.eventId,
        failure: timeoutFailure('scheduleToClose', task.activity.lastFailure),
        retryState: 'timeout',
      });
      return finishActivity(op, run, task);
    }
    case 'workflowBackoff':
      return backoffEnded(op, run);
    case 'workflowRunTimeout':
      return failRun(op, newId, run, RUN_TIMEOUT_FAILURE, undefined);
    case 'workflowExecutionTimeout':
      return executionTimedOut(op, run);
    default:
      return assertNever(timer.kind, 'timer kind');
  }
}

async function expireLease(op: Op, task: TaskRecord): Promise<void> {
  const run = await op.openRun(task.runId, `task ${task.taskId}`);
  const lease = task.lease!;
  switch (task.kind) {
    case 'workflow': {
      const { scheduledEventId, startedEventId } = run.workflowTask as { scheduledEventId: number; startedEventId: number };
      op.append(run, { type: 'workflowTaskTimedOut', scheduledEventId, startedEventId });
      await workflowTaskEnded(op, run, startedEventId);
      return retryWorkflowTask(op, run);
    }
    case 'activity': {
      // The lease ends at the attempt's start-to-close limit, or earlier when a heartbeat is overdue.
      const a = task.activity;
      const timeoutType: TimeoutType = lease.expiresAt >= lease.claimedAt + a.startToCloseTimeoutMs ? 'startToClose' : 'heartbeat';
      const failure = timeoutFailure(timeoutType);
      const decision =
        a.cancelRequestedEventId !== undefined
          ? { retryState: 'cancelRequested' as const } // a cancelled activity is not tried again
          : activityRetry(a.retryPolicy, task.attempt, failure, op.now, scheduleToCloseDeadline(a));
      if ('retryAt' in decision) return retryActivity(op, task, decision.retryAt, failure);
      const started = appendActivityStarted(op, run, task);
      op.append(run, { type: 'activityTaskTimedOut', scheduledEventId: a.scheduledEventId, startedEventId: started.eventId, failure, retryState: decision.retryState });
      return finishActivity(op, run, task);
    }
    default:
      return assertNever(task, 'task kind');
  }
}
