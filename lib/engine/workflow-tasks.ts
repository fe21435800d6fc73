/**
 * Workflow tasks (host side): claiming one (after any query task of the queue), completing it
 * with commands (commands.ts), failing it, and the unhandled-command rule. A task's token holds
 * the task while its lease lasts; a token that lost it is stale (StaleTaskError).
 */
import type { Command, WireFailure } from '../../runtime/protocol';
import type { RunRecord, TaskRecord } from '../backends/store';
import type { QueryTask, WorkflowTask } from '../service';
import { StaleTaskError } from '../service-errors';
import { isClosingCommand } from '../../runtime/protocol';
import { applyCommand } from './commands';
import type { Op } from './op';
import type { SdkMetadata } from '../history/schema';
import { releaseBlockedQueries } from './queries';
import { retryWorkflowTask, scheduleWorkflowTask } from './runs';
import { deliverUpdates, updatesAfterTask } from './updates';

export interface HeldTask<K extends TaskRecord['kind']> {
  task: Extract<TaskRecord, { kind: K }>;
  run: RunRecord;
}

/** Whether a poll of this queue would find a query or a workflow task: a read-only check. */
export async function workflowWorkWaiting(op: Op, queue: string): Promise<boolean> {
  return (await op.tx.queries.claimable(queue)) || (await op.tx.tasks.claimable('workflow', queue, op.now));
}

/** Claims a query task, else a workflow task, of the queue; null when there is none. */
export async function claimWorkflowTask(
  op: Op,
  token: string,
  queue: string,
  who: string,
  warn?: { warnHistoryEvents: number; warnHistoryBytes: number },
): Promise<WorkflowTask | QueryTask | null> {
  const query = await op.tx.queries.claim(queue, token);
  if (query) {
    const { workflowId, runId, workflowType, queryType, args } = query;
    return { kind: 'query', taskToken: token, workflowId, runId, workflowType, queryType, args };
  }
  const task = await op.tx.tasks.claim('workflow', queue, who, token, op.now);
  if (!task) return null;
  const run = await op.openRun(task.runId, `workflow task ${task.taskId}`);
  const wft = run.workflowTask!;
  // The history's size before this event, and Temporal's hint to continue as new once the history
  // passes its warning threshold (the event makes it nextEventId events long).
  const historySizeBytes = run.historyBytes;
  const suggestContinueAsNew = warn !== undefined && (run.nextEventId > warn.warnHistoryEvents || historySizeBytes > warn.warnHistoryBytes);
  const started = op.append(run, { type: 'workflowTaskStarted', scheduledEventId: wft.scheduledEventId, identity: who, historySizeBytes, suggestContinueAsNew });
  wft.startedEventId = started.eventId;
  op.due(task.lease!.expiresAt);
  const updates = deliverUpdates(op, run, started.eventId);
  return {
    kind: 'workflow',
    taskToken: token,
    workflowId: run.workflowId,
    runId: run.runId,
    workflowType: run.workflowType,
    startedEventId: started.eventId,
    attempt: wft.attempt,
    ...(updates.length > 0 ? { updates } : {}),
  };
}

export async function heldWorkflowTask(op: Op, where: string, token: string): Promise<HeldTask<'workflow'>> {
  const task = await op.tx.tasks.byToken(token);
  if (!task || task.kind !== 'workflow' || task.lease!.expiresAt <= op.now) {
    throw new StaleTaskError(`${where}: the workflow task token is stale: the task was completed, failed or timed out, or its run closed`);
  }
  return { task, run: await op.openRun(task.runId, `workflow task ${task.taskId}`) };
}

export async function failHeldWorkflowTask(op: Op, { task, run }: HeldTask<'workflow'>, cause: string, failure: WireFailure): Promise<void> {
  const { scheduledEventId, startedEventId } = run.workflowTask as { scheduledEventId: number; startedEventId: number };
  op.append(run, { type: 'workflowTaskFailed', scheduledEventId, startedEventId, cause, failure, identity: task.lease!.identity });
  await workflowTaskEnded(op, run, startedEventId);
  await retryWorkflowTask(op, run);
}

/**
 * A started workflow task ended (completed, failed or timed out): what only mattered while it ran
 * is dropped, and the queries waiting for events it saw are released.
 */
export async function workflowTaskEnded(op: Op, run: RunRecord, startedEventId: number): Promise<void> {
  if (run.closedWhileRunning !== undefined) {
    run.closedWhileRunning = undefined;
    op.changed(run);
  }
  await releaseBlockedQueries(op, run, startedEventId);
  updatesAfterTask(op, run, startedEventId);
}

/** Turns checked commands into events, all or nothing (the caller's transaction). */
export async function applyCompletion(op: Op, newId: () => string, where: string, token: string, commands: Command[], sdkMetadata?: SdkMetadata): Promise<void> {
  const { task, run } = await heldWorkflowTask(op, where, token);
  const { scheduledEventId, startedEventId } = run.workflowTask as { scheduledEventId: number; startedEventId: number };
  // Temporal's unhandled-command rule: a task that closes the run while new events (a signal, an
  // activity result) arrived during it is refused, so that the workflow sees them first rather
  // than losing them. The next task, scheduled at once, carries them.
  if (run.workflowTaskPending && commands.some(isClosingCommand)) {
    op.append(run, {
      type: 'workflowTaskFailed',
      scheduledEventId,
      startedEventId,
      cause: 'unhandledCommand',
      failure: { kind: 'application', type: 'UnhandledCommand', message: 'new events arrived while the workflow task ran; the workflow must handle them before it closes' },
      identity: task.lease!.identity,
    });
    run.workflowTaskPending = false;
    await scheduleWorkflowTask(op, run, 1, op.now);
    return;
  }
  const completed = op.append(
    run,
    sdkMetadata === undefined
      ? { type: 'workflowTaskCompleted', scheduledEventId, startedEventId, identity: task.lease!.identity }
      : { type: 'workflowTaskCompleted', scheduledEventId, startedEventId, identity: task.lease!.identity, sdkMetadata },
  );
  await op.tx.tasks.delete(task.taskId);
  // The task stays the run's until its commands are applied: a command whose outcome comes back
  // at once (a child started, a signal delivered) marks another task as needed, after this one.
  // Timers that fired while this task ran, read once for the whole completion (cancelTimer).
  let firedSinceStart: Set<string> | undefined;
  const firedWhileRunning = async (timerId: string) => {
    firedSinceStart ??= new Set((await op.tx.history.read(run.runId, startedEventId)).flatMap((e) => (e.type === 'timerFired' ? [e.timerId] : [])));
    return firedSinceStart.has(timerId);
  };
  // A closing command ends the run, and ends the list (the edge dropped what followed it).
  for (let i = 0; i < commands.length && run.status === 'running'; i++) {
    await applyCommand(commands[i], { op, run, completedId: completed.eventId, firedWhileRunning, where: `${where}: commands[${i}]`, newId });
  }
  if (run.status !== 'running') return;
  run.workflowTask = undefined;
  await workflowTaskEnded(op, run, startedEventId);
  if (run.workflowTaskPending) {
    run.workflowTaskPending = false;
    await scheduleWorkflowTask(op, run, 1, op.now);
  }
}
