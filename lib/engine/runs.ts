/**
 * A run's state transitions that every concern shares (host side): scheduling its one workflow
 * task, asking for another when new events arrive, retrying a failed one, and closing the run.
 * A run has at most one workflow task, scheduled or started (`run.workflowTask`); events that
 * arrive while it is started set `workflowTaskPending`, so another task follows it.
 */
import type { RunRecord } from '../backends/store';
import type { WorkflowStatus } from '../service';
import { workflowTaskId, type Op } from './op';
import { workflowTaskBackoffMs } from './retry';

export async function closeRun(op: Op, run: RunRecord, status: WorkflowStatus): Promise<void> {
  run.status = status;
  // The closing event's time: never before the run's last event.
  run.closeTime = op.eventTime(run);
  run.workflowTask = undefined;
  run.workflowTaskPending = false;
  op.changed(run);
  // Pending activities and timers die with the run; a worker still running one learns it from
  // its next heartbeat (cancelRequested) or a stale-token error on completion.
  await op.tx.tasks.deleteRun(run.runId);
  await op.tx.timers.deleteRun(run.runId);
  op.wake({ type: 'runClosed', runId: run.runId });
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
  if (!run.workflowTask) await scheduleWorkflowTask(op, run, 1, op.now);
  else if (run.workflowTask.startedEventId !== undefined) {
    run.workflowTaskPending = true;
    op.changed(run);
  }
}

/** The next attempt of a failed or timed-out workflow task, after its backoff. */
export async function retryWorkflowTask(op: Op, run: RunRecord): Promise<void> {
  const failedAttempt = run.workflowTask!.attempt;
  run.workflowTaskPending = false;
  await scheduleWorkflowTask(op, run, failedAttempt + 1, op.now + workflowTaskBackoffMs(failedAttempt));
}
