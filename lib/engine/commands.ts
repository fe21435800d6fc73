/**
 * A workflow task's commands become events (host side). One handler per command kind, in a table
 * typed over the protocol's `Command['type']` union: a command kind without a handler fails
 * `tsc`. Handlers run inside the completion's transaction; the state-dependent checks (a timer seq
 * already open, a cancel of an unknown timer) are theirs, since the edge cannot see state.
 */
import type { Command } from '../../runtime/protocol';
import type { ActivitySchedule, RunRecord, TaskRecord } from '../backends/store';
import { InvalidArgumentError } from '../errors';
import { finishActivity, scheduleToCloseDeadline } from './activity-tasks';
import { requestCancelExternal, signalExternal, startChild } from './children';
import { activityTaskId, compact, type Op } from './op';
import { closeRun } from './runs';
import { acceptUpdate, completeUpdate, rejectUpdate } from './updates';
import { completeRun, continueAsNew, failRun } from './chain';
import { parseCron } from '../cron';
import { modifyWorkflowProperties, upsertSearchAttributes } from './visibility';
import { localActivityMarker } from './local-activities';

/** What a handler knows besides its command. */
export interface CommandContext {
  op: Op;
  run: RunRecord;
  /** The workflowTaskCompleted event the commands belong to. */
  completedId: number;
  /** Whether the timer fired after the task started (its timerFired is newer than the task). */
  firedWhileRunning: (timerId: string) => Promise<boolean>;
  /** `completeWorkflowTask: commands[i]`, for messages. */
  where: string;
  /** Ids for what a command creates (a child's run id and randomness seed). */
  newId: () => string;
}

type CommandHandlers = { readonly [K in Command['type']]: (command: Extract<Command, { type: K }>, at: CommandContext) => Promise<void> };

const handlers: CommandHandlers = {
  async scheduleActivity(c, { op, run, completedId }) {
    const { tx, now } = op;
    const taskQueue = c.taskQueue ?? run.taskQueue;
    const scheduled = op.append(run, {
      type: 'activityTaskScheduled',
      activityId: c.activityId,
      activityType: c.activityType,
      taskQueue,
      input: c.args,
      scheduleToCloseTimeoutMs: c.scheduleToCloseTimeoutMs,
      scheduleToStartTimeoutMs: c.scheduleToStartTimeoutMs,
      startToCloseTimeoutMs: c.startToCloseTimeoutMs,
      heartbeatTimeoutMs: c.heartbeatTimeoutMs,
      retryPolicy: c.retryPolicy,
      workflowTaskCompletedEventId: completedId,
    });
    const startToCloseTimeoutMs = c.startToCloseTimeoutMs ?? c.scheduleToCloseTimeoutMs!;
    const activity: ActivitySchedule = compact({
      seq: c.seq,
      scheduledEventId: scheduled.eventId,
      activityId: c.activityId,
      activityType: c.activityType,
      args: c.args,
      scheduledAt: now,
      startToCloseTimeoutMs,
      scheduleToCloseTimeoutMs: c.scheduleToCloseTimeoutMs,
      heartbeatTimeoutMs: c.heartbeatTimeoutMs,
      retryPolicy: c.retryPolicy,
    });
    await tx.tasks.put({
      taskId: activityTaskId(run.runId, scheduled.eventId),
      kind: 'activity',
      taskQueue,
      runId: run.runId,
      visibleAt: now,
      // A lease lasts one attempt, or until the next heartbeat is due (each heartbeat renews it).
      leaseMs: Math.min(startToCloseTimeoutMs, c.heartbeatTimeoutMs ?? Infinity),
      attempt: 1,
      activity,
    });
    const deadline = scheduleToCloseDeadline(activity);
    if (deadline !== undefined) {
      await tx.timers.put({ runId: run.runId, kind: 'activityDeadline', ref: scheduled.eventId, fireAt: deadline, eventId: scheduled.eventId });
      op.due(deadline);
    }
    op.wake({ type: 'activityTask', taskQueue });
  },

  async startTimer(c, { op, run, completedId, where }) {
    const { tx, now } = op;
    if (await tx.timers.get(run.runId, 'timer', c.seq)) throw new InvalidArgumentError(`${where}: startTimer seq ${c.seq} is already an open timer`);
    const started = op.append(run, {
      type: 'timerStarted',
      timerId: String(c.seq),
      startToFireTimeoutMs: c.startToFireTimeoutMs,
      workflowTaskCompletedEventId: completedId,
    });
    const fireAt = now + c.startToFireTimeoutMs;
    await tx.timers.put({ runId: run.runId, kind: 'timer', ref: c.seq, fireAt, eventId: started.eventId });
    op.due(fireAt);
  },

  async cancelTimer(c, { op, run, completedId, firedWhileRunning, where }) {
    const timer = await op.tx.timers.get(run.runId, 'timer', c.seq);
    if (timer) {
      await op.tx.timers.delete(run.runId, 'timer', c.seq);
      op.append(run, { type: 'timerCanceled', timerId: String(c.seq), startedEventId: timer.eventId, workflowTaskCompletedEventId: completedId });
      return;
    }
    // A timer that fired while this task ran is not unknown: the code cancelled it before it
    // could see timerFired (appended after the task started). Nothing is left to cancel.
    if (await firedWhileRunning(String(c.seq))) return;
    throw new InvalidArgumentError(`${where}: cancelTimer seq ${c.seq} names no open timer`);
  },

  async requestCancelActivity(c, { op, run, completedId, where }) {
    const { tx } = op;
    const task = (await tx.tasks.ofRun(run.runId)).find((t): t is Extract<TaskRecord, { kind: 'activity' }> => t.kind === 'activity' && t.activity.seq === c.seq);
    if (task === undefined) {
      // Closed while this task ran: the code had not seen it close. The request is recorded (so
      // that replay finds it), and the close the workflow has not seen yet stands.
      const closed = run.closedWhileRunning?.[c.seq];
      if (closed === undefined) throw new InvalidArgumentError(`${where}: requestCancelActivity seq ${c.seq} names no open activity`);
      op.append(run, { type: 'activityTaskCancelRequested', scheduledEventId: closed, workflowTaskCompletedEventId: completedId });
      return;
    }
    const scheduledEventId = task.activity.scheduledEventId;
    const requested = op.append(run, { type: 'activityTaskCancelRequested', scheduledEventId, workflowTaskCompletedEventId: completedId });
    if (task.lease === undefined) {
      // No attempt is running (not started yet, or waiting out a retry's backoff): cancelled now.
      op.append(run, { type: 'activityTaskCanceled', scheduledEventId, latestCancelRequestedEventId: requested.eventId });
      await finishActivity(op, run, task);
      return;
    }
    // An attempt is running: its next heartbeat says cancelRequested, and its outcome closes it.
    task.activity.cancelRequestedEventId = requested.eventId;
    await tx.tasks.put(task);
  },

  async startChildWorkflow(c, { op, run, completedId, newId, where }) {
    if (c.cronSchedule !== undefined) parseCron(`${where}: startChildWorkflow cronSchedule`, c.cronSchedule);
    await startChild(op, newId, run, c, completedId);
  },

  async signalExternalWorkflow(c, { op, run, completedId }) {
    await signalExternal(op, run, c, completedId);
  },

  async requestCancelExternalWorkflow(c, { op, run, completedId }) {
    await requestCancelExternal(op, run, c, completedId);
  },

  // A cron's next run, or a retry, may follow (chain.ts).
  async completeWorkflow(c, { op, run, completedId, newId }) {
    await completeRun(op, newId, run, c.result, completedId);
  },

  async failWorkflow(c, { op, run, completedId, newId }) {
    await failRun(op, newId, run, c.failure, completedId);
  },

  async cancelWorkflow(c, { op, run, completedId }) {
    op.append(run, { type: 'workflowExecutionCanceled', details: c.details, workflowTaskCompletedEventId: completedId });
    await closeRun(op, run, compact({ status: 'cancelled' as const, details: c.details }));
  },

  async continueAsNew(c, { op, run, completedId, newId }) {
    await continueAsNew(op, newId, run, c, completedId);
  },
  async scheduleLocalActivity(c, { op, run, completedId, where }) {
    op.append(run, localActivityMarker(c, completedId, where));
  },
  async setPatchMarker(c, { op, run, completedId }) {
    op.append(run, { type: 'patchMarkerRecorded', patchId: c.patchId, deprecated: c.deprecated, workflowTaskCompletedEventId: completedId });
  },
  upsertSearchAttributes,
  modifyWorkflowProperties,
  async acceptUpdate(c, { op, run, completedId, where }) {
    acceptUpdate(op, run, c, completedId, where);
  },

  async rejectUpdate(c, { op, run, where }) {
    rejectUpdate(op, run, c, where);
  },

  async completeUpdate(c, { op, run, completedId, where }) {
    completeUpdate(op, run, c, completedId, where);
  },
};

export function applyCommand<C extends Command>(command: C, at: CommandContext): Promise<void> {
  // The table is indexed by the command's own kind; TypeScript cannot correlate the two unions.
  const handler = handlers[command.type] as (command: C, at: CommandContext) => Promise<void>;
  return handler(command, at);
}
