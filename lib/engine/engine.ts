/**
 * The engine (host side): the service logic, written once over a Store, one file per concern:
 * runs (executions.ts, runs.ts), workflow tasks and their commands (workflow-tasks.ts,
 * commands.ts), activity tasks (activity-tasks.ts), time (timers.ts), queries (queries.ts) and
 * history limits (history-limits.ts), each working on one transaction's working set (op.ts).
 *
 * This class is their entry point: it runs each operation in one store transaction (read-only for
 * pure reads) and reports what a committed one changed to `onCommit` as Effects, never acting on
 * them itself. It does no I/O and reads no clock or env: every operation gets `now`, and takes
 * request values the service edge has already checked and copied (requests.ts). No operation
 * scans runs, tasks or timers; history is read only by getHistory, by an outcome (its last event)
 * and by a completion that cancels a timer (the events since its task started, once).
 */
import { DejaError } from '../errors';
import { randomUUID } from 'node:crypto';
import type { Command, Payload, WireFailure } from '../../runtime/protocol';
import type { QueryAnswer, Store } from '../backends/store';
import { InvalidArgumentError, LimitExceededError } from '../errors';
import type { HistoryEvent } from '../history/events';
import type { SdkMetadata } from '../history/schema';
import type { ActivityRef, ActivityTask, ExecutionRef, HeartbeatResponse, ListWorkflowsPage, QueryTask, WorkflowDescription, WorkflowOutcome, WorkflowTask } from '../service';
import type { ListSchedulesPage, ScheduleDefinition, ScheduleDescription, ScheduleOverlapPolicy } from '../service';
import { StaleTaskError } from '../service-errors';
import * as activities from './activity-tasks';
import * as executions from './executions';
import { checkHistoryLimits, closeOverHistoryLimit, HistoryLimitHit } from './history-limits';
import { DEFAULT_LIMITS, type Limits } from './limits';
import { type Effects, Op } from './op';
import * as queries from './queries';
import * as schedules from './schedules';
import type { CancelRequest, ListRequest, QueryRequest, SignalRequest, SignalWithStartRequest, StartRequest, TerminateRequest } from './requests';
import * as timers from './timers';
import * as workflowTasks from './workflow-tasks';
import * as updates from './updates';
import type { UpdateRequest, UpdateWithStartRequest } from './update-requests';
import type { ListQuery } from '../visibility/ast';
import { countWorkflows } from './visibility';

export type { Effects } from './op';

export interface EngineOptions {
  /** Run ids, task tokens, query ids and (dashes removed) randomness seeds. Default crypto.randomUUID. */
  newId?: () => string;
  onCommit?: (effects: Effects) => void;
  /** Already checked (resolveLimits). Default DEFAULT_LIMITS. */
  limits?: Limits;
}

/** What `write` does when a transaction would take a run's history past a limit. */
type OnHistoryLimit =
  /** Close the run, then refuse the request with a LimitExceededError (it brought the events). */
  | 'refuse'
  /** Close the run, then run the operation again (its events were the service's own: a poll, a tick). */
  | 'retry';

export class Engine {
  private readonly newId: () => string;
  private readonly onCommit: (effects: Effects) => void;
  private readonly limits: Limits;

  constructor(
    private readonly store: Store,
    options: EngineOptions = {},
  ) {
    this.newId = options.newId ?? randomUUID;
    this.onCommit = options.onCommit ?? (() => {});
    this.limits = options.limits ?? DEFAULT_LIMITS;
  }

  private async write<T>(where: string, now: number, fn: (op: Op) => Promise<T>, onHistoryLimit: OnHistoryLimit = 'refuse'): Promise<T> {
    const closed = new Set<string>();
    for (;;) {
      let op!: Op;
      try {
        const value = await this.store.transaction(async (tx) => {
          // A fresh working set each time: the store may run this function more than once.
          op = new Op(tx, now);
          const result = await fn(op);
          checkHistoryLimits(op, this.limits);
          await op.flush();
          return result;
        });
        this.onCommit(op.effects());
        return value;
      } catch (err) {
        if (!(err instanceof HistoryLimitHit)) throw err;
        // Nothing of the transaction landed. A new run simply is not started; an existing one is
        // closed, as Temporal terminates a workflow whose history is too large.
        if (!err.isNew) {
          // A closed run gets no more events, so a retry cannot hit the same run twice.
          if (closed.has(err.run.runId)) throw new DejaError('DEJA_INTERNAL', `deja engine invariant broken: run ${err.run.runId} grew after it was closed`);
          closed.add(err.run.runId);
          await this.write('closing a run over a history limit', now, (op) => closeOverHistoryLimit(op, err));
          if (onHistoryLimit === 'retry') continue;
        }
        const outcome = err.isNew ? 'the run was not started' : 'the run was closed (workflowExecutionFailed, HistoryLimitExceeded)';
        throw new LimitExceededError('DEJA_LIMIT_EXCEEDED', `${where}: ${err.what}; ${outcome}`, err.limit, err.actual, err.max);
      }
    }
  }

  /** A pure read, in a read-only transaction. */
  private read<T>(now: number, fn: (op: Op) => Promise<T>): Promise<T> {
    return this.store.transaction((tx) => fn(new Op(tx, now)), { readOnly: true });
  }

  // ---- client side ----

  startWorkflow(request: StartRequest, now: number): Promise<{ runId: string; started: boolean }> {
    return this.write('startWorkflow', now, (op) => executions.startWorkflow(op, this.newId, request));
  }

  signalWorkflow(request: SignalRequest, now: number): Promise<void> {
    return this.write('signalWorkflow', now, (op) => executions.signalWorkflow(op, request));
  }

  signalWithStart(request: SignalWithStartRequest, now: number): Promise<{ runId: string }> {
    return this.write('signalWithStartWorkflow', now, (op) => executions.signalWithStart(op, this.newId, request));
  }

  requestCancelWorkflow(request: CancelRequest, now: number): Promise<void> {
    return this.write('requestCancelWorkflow', now, (op) => executions.requestCancelWorkflow(op, request));
  }

  terminateWorkflow(request: TerminateRequest, now: number): Promise<void> {
    return this.write('terminateWorkflow', now, (op) => executions.terminateWorkflow(op, request));
  }

  listWorkflows(request: ListRequest, now: number): Promise<ListWorkflowsPage> {
    return this.read(now, (op) => executions.listWorkflows(op, request));
  }

  activityTaskToken(ref: ActivityRef, now: number): Promise<string> {
    return this.read(now, (op) => activities.activityTaskToken(op, ref));
  }

  countWorkflows(query: ListQuery | undefined, now: number): Promise<{ count: number }> {
    return this.read(now, (op) => countWorkflows(op, query));
  }

  describeWorkflow(ref: ExecutionRef, now: number): Promise<WorkflowDescription> {
    return this.read(now, (op) => executions.describeWorkflow(op, ref));
  }

  /** The run a ref names, with its outcome once it has closed. */
  workflowOutcome(ref: ExecutionRef, now: number): Promise<{ workflowId: string; runId: string; outcome?: WorkflowOutcome }> {
    return this.read(now, (op) => executions.workflowOutcome(op, ref));
  }

  getHistory(ref: ExecutionRef, afterEventId: number | undefined, now: number): Promise<HistoryEvent[]> {
    return this.read(now, (op) => executions.getHistory(op, ref, afterEventId));
  }

  /** Files a query for a worker to answer; the caller waits for `queryAnswer` and then drops it. */
  createQuery(request: QueryRequest, now: number): Promise<{ queryId: string; taskQueue: string; workflowId: string; queryType: string }> {
    return this.write('queryWorkflow', now, (op) => queries.createQuery(op, this.newId, request));
  }

  queryAnswer(queryId: string, now: number): Promise<QueryAnswer | undefined> {
    return this.read(now, (op) => queries.queryAnswer(op, queryId));
  }

  dropQuery(queryId: string, now: number): Promise<void> {
    return this.write('queryWorkflow', now, (op) => op.tx.queries.delete(queryId));
  }

  // ---- updates ----

  /** Admits an update (or joins the one with its id); where it stands now. */
  updateWorkflow(request: UpdateRequest, now: number): Promise<updates.UpdateView> {
    return this.write('updateWorkflow', now, (op) => updates.updateWorkflow(op, request));
  }

  updateView(ref: ExecutionRef, updateId: string, now: number): Promise<updates.UpdateView> {
    return this.read(now, (op) => updates.updateView(op, ref, updateId));
  }

  updateWithStart(request: UpdateWithStartRequest, now: number): Promise<{ started: boolean; view: updates.UpdateView }> {
    return this.write('updateWithStartWorkflow', now, (op) => updates.updateWithStart(op, this.newId, request));
  }

  // ---- schedules (schedules.ts) ----

  createSchedule(request: schedules.CreateScheduleRequest, now: number): Promise<void> {
    return this.write('createSchedule', now, (op) => schedules.createSchedule(op, request));
  }

  describeSchedule(scheduleId: string, now: number): Promise<ScheduleDescription> {
    return this.read(now, (op) => schedules.describeSchedule(op, scheduleId));
  }

  listSchedules(request: { pageSize: number; afterScheduleId?: string }, now: number): Promise<ListSchedulesPage> {
    return this.read(now, (op) => schedules.listSchedules(op, request));
  }

  updateSchedule(scheduleId: string, schedule: ScheduleDefinition, now: number): Promise<void> {
    return this.write('updateSchedule', now, (op) => schedules.updateSchedule(op, scheduleId, schedule));
  }

  pauseSchedule(scheduleId: string, note: string | undefined, now: number): Promise<void> {
    return this.write('pauseSchedule', now, (op) => schedules.pauseSchedule(op, scheduleId, note));
  }

  unpauseSchedule(scheduleId: string, note: string | undefined, now: number): Promise<void> {
    return this.write('unpauseSchedule', now, (op) => schedules.unpauseSchedule(op, scheduleId, note));
  }

  triggerSchedule(scheduleId: string, overlap: ScheduleOverlapPolicy | undefined, now: number): Promise<void> {
    return this.write('triggerSchedule', now, (op) => schedules.triggerSchedule(op, scheduleId, overlap));
  }

  deleteSchedule(scheduleId: string, now: number): Promise<void> {
    return this.write('deleteSchedule', now, (op) => schedules.deleteSchedule(op, scheduleId));
  }

  // ---- workflow tasks ----

  /**
   * Claims a query task, else a workflow task, of the queue; null when there is none. With
   * `lookFirst`, it looks in a read-only transaction first and opens a write transaction only to
   * claim: a poll that finds nothing writes nothing.
   */
  async pollWorkflowTask(queue: string, who: string, now: number, lookFirst = true): Promise<WorkflowTask | QueryTask | null> {
    if (lookFirst && !(await this.read(now, (op) => workflowTasks.workflowWorkWaiting(op, queue)))) return null;
    return this.write(
      'pollWorkflowTask',
      now,
      (op) => workflowTasks.claimWorkflowTask(op, this.newId(), queue, who, this.limits),
      // A run whose history is full is closed, and the poll takes the next task.
      'retry',
    );
  }

  /**
   * Turns the commands into events, all or nothing. A completion refused for its content (a timer
   * seq already open, an unknown timer) fails the workflow task, cause badCommand, as Temporal
   * does, and rejects. One that would take history past a limit closes the run.
   */
  async completeWorkflowTask(token: string, commands: Command[], now: number, sdkMetadata?: SdkMetadata): Promise<void> {
    const where = 'completeWorkflowTask';
    try {
      await this.write(where, now, (op) => workflowTasks.applyCompletion(op, this.newId, where, token, commands, sdkMetadata));
    } catch (err) {
      if (err instanceof InvalidArgumentError && !(err instanceof LimitExceededError)) await this.rejectCompletion(token, err, now);
      throw err;
    }
  }

  /**
   * A completion refused whole for a bad command (its writes rolled back, or never begun): fails
   * the task, so history shows why and the task is retried. The caller rethrows `err` to the
   * worker. A task already gone is left alone.
   */
  async rejectCompletion(token: string, err: InvalidArgumentError, now: number): Promise<void> {
    const where = 'completeWorkflowTask';
    const failure: WireFailure = { kind: 'application', type: err.name, message: err.message, nonRetryable: false };
    await this.write(where, now, async (op) => workflowTasks.failHeldWorkflowTask(op, await workflowTasks.heldWorkflowTask(op, where, token), 'badCommand', failure)).catch(
      (staleOrWorse: unknown) => {
        if (!(staleOrWorse instanceof StaleTaskError)) throw staleOrWorse;
      },
    );
  }

  failWorkflowTask(token: string, cause: string, failure: WireFailure, now: number): Promise<void> {
    const where = 'failWorkflowTask';
    return this.write(where, now, async (op) => workflowTasks.failHeldWorkflowTask(op, await workflowTasks.heldWorkflowTask(op, where, token), cause, failure));
  }

  respondQueryTask(token: string, answer: QueryAnswer, now: number): Promise<void> {
    const where = 'respondQueryTask';
    return this.write(where, now, (op) => queries.respondQueryTask(op, where, token, answer));
  }

  // ---- activity tasks ----

  /** Claims an activity task of the queue; null when there is none. `lookFirst`: as for workflow tasks. */
  async pollActivityTask(queue: string, who: string, now: number, lookFirst = true): Promise<ActivityTask | null> {
    if (lookFirst && !(await this.read(now, (op) => op.tx.tasks.claimable('activity', queue, now)))) return null;
    return this.write('pollActivityTask', now, (op) => activities.claimActivityTask(op, this.newId(), queue, who));
  }

  completeActivityTask(token: string, result: Payload, now: number): Promise<void> {
    const where = 'completeActivityTask';
    return this.write(where, now, (op) => activities.completeActivityTask(op, where, token, result));
  }

  failActivityTask(token: string, failure: WireFailure, now: number): Promise<void> {
    const where = 'failActivityTask';
    return this.write(where, now, (op) => activities.failActivityTask(op, where, token, failure));
  }

  /** Records details and renews a heartbeat lease; never throws for a lost task, it says cancel. */
  heartbeatActivityTask(token: string, details: Payload, now: number): Promise<HeartbeatResponse> {
    return this.write('heartbeatActivityTask', now, (op) => activities.heartbeatActivityTask(op, token, details));
  }

  // ---- time ----

  /** Fires due timers and processes ended leases; returns when time-driven work is next due. */
  async tick(now: number): Promise<number | undefined> {
    // A run whose history is full is closed (its timers and tasks go with it), and the batch runs again.
    while ((await this.write('tick', now, (op) => timers.tickBatch(op, this.newId), 'retry')) > 0);
    return this.read(now, timers.nextDueAt);
  }
}
