/**
 * A workflow task's commands become events (host side). One handler per command kind, in a table
 * typed over the protocol's `Command['type']` union: a command kind without a handler fails
 * `tsc`. Handlers run inside the completion's transaction; the state-dependent checks (a timer seq
 * already open, a cancel of an unknown timer) are theirs, since the edge cannot see state.
 */
import type { Command } from '../../runtime/protocol';
import type { ActivitySchedule, RunRecord } from '../backends/store';
import { assertNever, InvalidArgumentError } from '../errors';
import { scheduleToCloseDeadline } from './activity-tasks';
import { activityTaskId, compact, type Op } from './op';
import { closeRun } from './runs';

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
}

type CommandHandlers = { readonly [K in Command['type']]: (command: Extract<Command, { type: K }>, at: CommandContext) => Promise<void> };

const handlers = {
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

  async completeWorkflow(c, { op, run, completedId }) {
    op.append(run, { type: 'workflowExecutionCompleted', result: c.result, workflowTaskCompletedEventId: completedId });
    await closeRun(op, run, 'completed');
  },

  async failWorkflow(c, { op, run, completedId }) {
    op.append(run, { type: 'workflowExecutionFailed', failure: c.failure, workflowTaskCompletedEventId: completedId });
    await closeRun(op, run, 'failed');
  },
} as CommandHandlers;

// Placeholders while the engine side of cancellation, children and external workflows is built.
const notYet = (kind: string) => async (): Promise<void> => {
  throw new InvalidArgumentError(`the ${kind} command is not supported by this engine yet`);
};
Object.assign(handlers, {
  requestCancelActivity: notYet('requestCancelActivity'),
  startChildWorkflow: notYet('startChildWorkflow'),
  signalExternalWorkflow: notYet('signalExternalWorkflow'),
  requestCancelExternalWorkflow: notYet('requestCancelExternalWorkflow'),
  cancelWorkflow: notYet('cancelWorkflow'),
});

export function applyCommand<C extends Command>(command: C, at: CommandContext): Promise<void> {
  // The table is indexed by the command's own kind; TypeScript cannot correlate the two unions.
  const handler = handlers[command.type] as (command: C, at: CommandContext) => Promise<void>;
  return handler(command, at);
}
