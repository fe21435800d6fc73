/**
 * A run's state transitions that every concern shares (host side): scheduling its one workflow
 * task, asking for another when new events arrive, retrying a failed one, and closing the run.
 * A run has at most one workflow task, scheduled or started (`run.workflowTask`); events that
 * arrive while it is started set `workflowTaskPending`, so another task follows it.
 */
import type { Payload, RetryState, WireFailure } from '../../runtime/protocol';
import type { RunRecord } from '../backends/store';
import type { WorkflowStatus } from '../service';
import { applyParentClosePolicy, reportToParent } from './children';
import { workflowTaskId, type Op } from './op';
import { releaseBlockedQueries } from './queries';
import { workflowTaskBackoffMs } from './retry';
import { scheduledRunClosed } from './schedules';
import { closeUpdates } from './updates';

/** How a run closed, as its closing event says: what its parent is told. */
export type Closing =
  | { status: 'completed'; result?: Payload; newRunId?: string }
  | { status: 'failed'; failure: WireFailure; retryState?: RetryState; newRunId?: string }
  | { status: 'cancelled'; details?: Payload[] }
  | { status: 'terminated'; reason?: string }
  | { status: 'timedOut'; retryState?: RetryState; newRunId?: string }
  /** The chain goes on in `newRunId` (chain.ts): the parent is not told of this run. */
  | { status: 'continuedAsNew'; newRunId: string };

/**
 * Closes a run whose closing event the caller has appended: its tasks and timers go, its queries
 * are released, its children get their parent close policy, and its parent learns how it closed.
 */
export async function closeRun(op: Op, run: RunRecord, closing: Closing): Promise<void> {
  run.status = closing.status satisfies WorkflowStatus;
  // The closing event's time: never before the run's last event.
  run.closeTime = op.eventTime(run);
  run.workflowTask = undefined;
  run.workflowTaskPending = false;
  run.closedWhileRunning = undefined;
  op.changed(run);
  // Pending activities and timers die with the run; a worker still running one learns it from
  // its next heartbeat (cancelRequested) or a stale-token error on completion.
  await op.tx.tasks.deleteRun(run.runId);
  await op.tx.timers.deleteRun(run.runId);
  await releaseBlockedQueries(op, run, Infinity);
  await closeUpdates(op, run);
  op.wake({ type: 'runClosed', runId: run.runId });
  await applyParentClosePolicy(op, run);
  await reportToParent(op, run, closing);
  // A run with a successor (chain.ts) is not the end of what the schedule started.
  if (run.scheduleId !== undefined && run.newRunId === undefined) await scheduledRunClosed(op, run, closing);
}

export async function scheduleWorkflowTask(op: Op, run: RunRecord, attempt: number, visibleAt: number): Promise<void> {
  const scheduled = op.append(run, { type: 'workflowTaskScheduled', taskQueue: run.taskQueue, attempt });
  run.workflowTask = { scheduledEventId: scheduled.eventId, attempt };
  await op.tx.tasks.put({
    taskId: workflowTaskId(run.runId),
    kind: 'workflow',
    taskQueue: run.taskQueue,
    runId: run.runId,
    visibleAt,
    leaseMs: run.workflowTaskTimeoutMs,
    attempt,
  });
  if (visibleAt <= op.now) op.wake({ type: 'workflowTask', taskQueue: run.taskQueue });
  else op.due(visibleAt);
}

/**
 * New events for the workflow: schedule a task unless one is coming. A scheduled task will see
 * them; a started one did not, so another must follow it.
 */
export async function needWorkflowTask(op: Op, run: RunRecord): Promise<void> {
  if (!run.workflowTask && (await firstTaskWaits(op, run))) return;
  if (!run.workflowTask) await scheduleWorkflowTask(op, run, 1, op.now);
  else if (run.workflowTask.startedEventId !== undefined) {
    run.workflowTaskPending = true;
    op.changed(run);
  }
}

/**
 * A run whose first workflow task waits (cron, retry backoff, start delay; chain.ts) keeps what
 * arrives for that task, unless a cancel request came: then the task is due now, and the
 * 'workflowBackoff' timer goes.
 */
async function firstTaskWaits(op: Op, run: RunRecord): Promise<boolean> {
  if (run.executionTime === undefined || run.executionTime <= run.startTime) return false;
  if (run.executionTime > op.now && !run.cancelRequested) return true;
  await op.tx.timers.delete(run.runId, 'workflowBackoff', 0);
  return false;
}

/** The next attempt of a failed or timed-out workflow task, after its backoff. */
export async function retryWorkflowTask(op: Op, run: RunRecord): Promise<void> {
  const failedAttempt = run.workflowTask!.attempt;
  run.workflowTaskPending = false;
  await scheduleWorkflowTask(op, run, failedAttempt + 1, op.now + workflowTaskBackoffMs(failedAttempt));
}
