/**
 * LocalWorkflowService (host side): the WorkflowService that runs in this process. It composes the
 * engine, a Store, a Clock, a ChangeFeed (the store's, else the in-process one) and this process's
 * waiters. It is the service edge: every request is checked and copied here (requests.ts) before
 * the engine runs, and the engine takes only checked values. It owns the one background loop: a single
 * setTimeout, re-armed to the next due instant, that fires timers, ends leases, makes delayed
 * retries claimable and times out queries. It is unref'd: a process stays alive for its worker,
 * not for this service. Waiting (long polls, results, query answers)
 * lives here; the engine never waits.
 */
import type { Command, Payload, WireFailure } from '../../runtime/protocol';
import { checkKnownKeys, DejaError, describe, InvalidArgumentError, LimitExceededError } from '../errors';
import type { HistoryEvent } from '../history/events';
import type { SdkMetadata } from '../history/schema';
import type {
  ActivityRef,
  ActivityTask,
  CancelWorkflowRequest,
  ExecutionRef,
  ListWorkflowsPage,
  ListWorkflowsRequest,
  SignalWithStartRequest,
  TerminateWorkflowRequest,
  HeartbeatResponse,
  QueryTask,
  QueryWorkflowRequest,
  SignalWorkflowRequest,
  StartWorkflowRequest,
  WorkflowDescription,
  WorkflowOutcome,
  WorkflowService,
  WorkflowTask,
  CountWorkflowsRequest,
  ListSchedulesPage,
  ScheduleDefinition,
  ScheduleDescription,
  ScheduleOverlapPolicy,
  StartWorkflowResponse,
  UpdateOutcome,
  UpdateRef,
  UpdateWithStartRequest,
  UpdateWorkflowRequest,
  UpdateWorkflowResponse,
} from '../service';
import { types } from 'node:util';
import type { Change, ChangeFeed, Store } from '../backends/store';
import { assertNever } from '../errors';
import { QueryFailedError } from '../service-errors';
import { type Effects, Engine } from './engine';
import type { HistoryWarning } from './history-limits';
import { type Limits, resolveLimits } from './limits';
import { InProcessChangeFeed, Notifier, waitKey } from './notifier';
import * as check from './requests';
import { checkUpdate, checkUpdateRef, checkUpdateWithStart } from './update-requests';
import { reached, responseOf, type UpdateView } from './updates';
import * as checkSchedule from './schedule-requests';

/** Where the service reads time. Tests and time skipping pass one they move by hand, then `tick()`. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface LocalWorkflowServiceOptions {
  store: Store;
  /** Default: the system clock. */
  clock?: Clock;
  /** How long queryWorkflow waits for a worker's answer. Default 30 000. */
  queryTimeoutMs?: number;
  /**
   * Payload, request, identifier, command and history limits (limits.ts, DEFAULT_LIMITS). One
   * left out takes its default, except that maxRequestBytes follows maxPayloadBytes (twice it) and
   * each warning threshold its maximum (a fifth of it), as in Temporal's defaults. Checked here: a
   * value out of its range is refused.
   */
  limits?: Partial<Limits>;
  /**
   * Called once per run when its history passes warnHistoryEvents or warnHistoryBytes. Default:
   * `process.emitWarning(warning.message, { type: 'DejaWarning', code: 'DEJA_HISTORY_LARGE' })`.
   */
  onWarning?: (warning: HistoryWarning) => void;
}

const emitWarning = (warning: HistoryWarning) => process.emitWarning(warning.message, { type: 'DejaWarning', code: warning.code });

/** setTimeout's largest delay; a later instant is re-armed when this one fires. */
const MAX_DELAY_MS = 2 ** 31 - 1;
/** After the loop itself failed (a store error), try again this much later. */
const LOOP_RETRY_MS = 1000;

export class LocalWorkflowService implements WorkflowService {
  private readonly engine: Engine;
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly queryTimeoutMs: number;
  private readonly onWarning: (warning: HistoryWarning) => void;
  /** The limits in force: the defaults with the `limits` option applied. */
  readonly limits: Readonly<Limits>;
  /** This process's waiters. */
  private readonly notifier = new Notifier();
  private readonly feed: ChangeFeed;
  private readonly unsubscribe: () => void;
  private readonly closing = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private armedAt: number | undefined;
  private ticking: Promise<void> = Promise.resolve();
  /** Deadlines of queries waiting in this process: the loop wakes them. */
  private readonly queryDeadlines = new Map<string, number>();

  constructor(options: LocalWorkflowServiceOptions) {
    const where = 'LocalWorkflowService';
    checkKnownKeys(where, options, ['store', 'clock', 'queryTimeoutMs', 'limits', 'onWarning']);
    if (typeof options?.store?.transaction !== 'function') throw new InvalidArgumentError(`${where}: store must be a Store, got ${describe(options?.store)}`);
    if (options.clock !== undefined && typeof options.clock?.now !== 'function') {
      throw new InvalidArgumentError(`${where}: clock must have a now() method, got ${describe(options.clock)}`);
    }
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    const queryTimeoutMs = options.queryTimeoutMs ?? 30_000;
    if (typeof queryTimeoutMs !== 'number' || !Number.isSafeInteger(queryTimeoutMs) || queryTimeoutMs < 1) {
      throw new InvalidArgumentError(`${where}: queryTimeoutMs must be an integer ≥ 1, got ${describe(queryTimeoutMs)}`);
    }
    this.queryTimeoutMs = queryTimeoutMs;
    if (options.onWarning !== undefined && typeof options.onWarning !== 'function') {
      throw new InvalidArgumentError(`${where}: onWarning must be a function, got ${describe(options.onWarning)}`);
    }
    this.onWarning = options.onWarning ?? emitWarning;
    this.limits = Object.freeze(resolveLimits(where, options.limits));
    this.engine = new Engine(this.store, { onCommit: (effects) => this.committed(effects), limits: this.limits });
    this.feed = this.store.changes ?? new InProcessChangeFeed();
    this.unsubscribe = this.feed.subscribe((change) => this.changed(change));
    // A store may hold work from before (a reopened file): look at once.
    this.arm(this.clock.now());
  }

  // ---- client side ----

  startWorkflow(request: StartWorkflowRequest): Promise<StartWorkflowResponse> {
    return this.open(() => this.engine.startWorkflow(check.checkStart(this.limits, request), this.clock.now()));
  }

  signalWorkflow(request: SignalWorkflowRequest): Promise<void> {
    return this.open(() => this.engine.signalWorkflow(check.checkSignal(this.limits, request), this.clock.now()));
  }

  signalWithStartWorkflow(request: SignalWithStartRequest): Promise<{ runId: string }> {
    return this.open(() => this.engine.signalWithStart(check.checkSignalWithStart(this.limits, request), this.clock.now()));
  }

  requestCancelWorkflow(request: CancelWorkflowRequest): Promise<void> {
    return this.open(() => this.engine.requestCancelWorkflow(check.checkCancel(this.limits, request), this.clock.now()));
  }

  terminateWorkflow(request: TerminateWorkflowRequest): Promise<void> {
    return this.open(() => this.engine.terminateWorkflow(check.checkTerminate(this.limits, request), this.clock.now()));
  }

  listWorkflows(request?: ListWorkflowsRequest): Promise<ListWorkflowsPage> {
    return this.open(() => this.engine.listWorkflows(check.checkList(this.limits, request), this.clock.now()));
  }

  countWorkflows(request?: CountWorkflowsRequest): Promise<{ count: number }> {
    return this.open(() => this.engine.countWorkflows(check.checkCount(this.limits, request), this.clock.now()));
  }

  // ---- updates ----

  async updateWorkflow(request: UpdateWorkflowRequest, signal?: AbortSignal): Promise<UpdateWorkflowResponse> {
    if (signal !== undefined) checkSignal('updateWorkflow', signal);
    const checked = await this.open(async () => checkUpdate(this.limits, request));
    const view = await this.open(() => this.engine.updateWorkflow(checked, this.clock.now()));
    return responseOf(await this.waitForUpdate(view, checked.waitForStage, signal));
  }

  async pollWorkflowUpdate(ref: UpdateRef, signal?: AbortSignal): Promise<UpdateOutcome> {
    if (signal !== undefined) checkSignal('pollWorkflowUpdate', signal);
    const view = await this.open(() => {
      const checked = checkUpdateRef(this.limits, ref);
      return this.engine.updateView(checked.ref, checked.updateId, this.clock.now());
    });
    return (await this.waitForUpdate(view, 'completed', signal)).outcome!;
  }

  async updateWithStartWorkflow(request: UpdateWithStartRequest, signal?: AbortSignal): Promise<{ start: StartWorkflowResponse; update: UpdateWorkflowResponse }> {
    if (signal !== undefined) checkSignal('updateWithStartWorkflow', signal);
    const checked = await this.open(async () => checkUpdateWithStart(this.limits, request));
    const { started, view } = await this.open(() => this.engine.updateWithStart(checked, this.clock.now()));
    const update = responseOf(await this.waitForUpdate(view, checked.update.waitForStage, signal));
    return { start: { runId: view.runId, started }, update };
  }

  /**
   * Waits until the update has reached `stage` (a rejection, or the run closing, counts as
   * completed), re-reading it whenever one of its run's updates changes stage. Rejects with the
   * abort reason when `signal` aborts; the update goes on.
   */
  private waitForUpdate(view: UpdateView, stage: 'accepted' | 'completed', signal: AbortSignal | undefined): Promise<UpdateView> {
    const pinned = { workflowId: view.workflowId, runId: view.runId };
    return this.waitUntil(
      view,
      (v) => reached(v, stage),
      waitKey.update(view.runId),
      () => this.open(() => this.engine.updateView(pinned, view.updateId, this.clock.now())),
      signal,
    );
  }

  /**
   * Waits until `done(value)`, reading the value again whenever `key` is notified. On a store that
   * other processes share, one of them may make the change: the wait keeps this process alive, as
   * a network client's open request would (on an in-process store only this process can, and its
   * worker holds it open while it runs). Rejects with the abort reason when `signal` aborts.
   */
  private async waitUntil<T>(value: T, done: (value: T) => boolean, key: string, read: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    const keepAlive = !done(value) && this.store.changes !== undefined ? setInterval(() => undefined, 1 << 30) : undefined;
    try {
      while (!done(value)) {
        const listener = this.notifier.listen(key);
        try {
          value = await read();
          if (done(value)) break;
          this.throwIfAborted(signal);
          await listener.wait([signal, this.closing.signal]);
          this.throwIfAborted(signal);
        } finally {
          listener.close();
        }
      }
    } finally {
      clearInterval(keepAlive);
    }
    return value;
  }


  // ---- schedules ----

  createSchedule(request: { scheduleId: string; schedule: ScheduleDefinition; triggerImmediately?: boolean; identity?: string }): Promise<void> {
    return this.open(() => this.engine.createSchedule(checkSchedule.checkCreateSchedule(this.limits, request), this.clock.now()));
  }

  describeSchedule(scheduleId: string): Promise<ScheduleDescription> {
    return this.open(() => this.engine.describeSchedule(checkSchedule.checkScheduleId('describeSchedule', this.limits, scheduleId), this.clock.now()));
  }

  listSchedules(request?: { pageSize?: number; nextPageToken?: string }): Promise<ListSchedulesPage> {
    return this.open(() => this.engine.listSchedules(checkSchedule.checkListSchedules(this.limits, request), this.clock.now()));
  }

  updateSchedule(scheduleId: string, schedule: ScheduleDefinition): Promise<void> {
    return this.open(() => {
      const checked = checkSchedule.checkUpdateSchedule(this.limits, scheduleId, schedule);
      return this.engine.updateSchedule(checked.scheduleId, checked.schedule, this.clock.now());
    });
  }

  pauseSchedule(scheduleId: string, note?: string): Promise<void> {
    return this.open(() => {
      const checked = checkSchedule.checkScheduleNote('pauseSchedule', this.limits, scheduleId, note);
      return this.engine.pauseSchedule(checked.scheduleId, checked.note, this.clock.now());
    });
  }

  unpauseSchedule(scheduleId: string, note?: string): Promise<void> {
    return this.open(() => {
      const checked = checkSchedule.checkScheduleNote('unpauseSchedule', this.limits, scheduleId, note);
      return this.engine.unpauseSchedule(checked.scheduleId, checked.note, this.clock.now());
    });
  }

  triggerSchedule(scheduleId: string, overlap?: ScheduleOverlapPolicy): Promise<void> {
    return this.open(() => {
      const checked = checkSchedule.checkTriggerSchedule(this.limits, scheduleId, overlap);
      return this.engine.triggerSchedule(checked.scheduleId, checked.overlap, this.clock.now());
    });
  }

  deleteSchedule(scheduleId: string): Promise<void> {
    return this.open(() => this.engine.deleteSchedule(checkSchedule.checkScheduleId('deleteSchedule', this.limits, scheduleId), this.clock.now()));
  }

  activityTaskToken(ref: ActivityRef): Promise<string> {
    return this.open(() => this.engine.activityTaskToken(check.checkActivityRef(this.limits, ref), this.clock.now()));
  }

  describeWorkflow(ref: ExecutionRef): Promise<WorkflowDescription> {
    return this.open(() => this.engine.describeWorkflow(check.checkRef('describeWorkflow', this.limits, ref), this.clock.now()));
  }

  getHistory(ref: ExecutionRef, afterEventId?: number): Promise<HistoryEvent[]> {
    return this.open(() => {
      const checked = check.checkGetHistory(this.limits, ref, afterEventId);
      return this.engine.getHistory(checked.ref, checked.after, this.clock.now());
    });
  }

  async getWorkflowOutcome(ref: ExecutionRef, signal?: AbortSignal): Promise<WorkflowOutcome> {
    if (signal !== undefined) checkSignal('getWorkflowOutcome', signal);
    const found = await this.open(() => this.engine.workflowOutcome(check.checkRef('getWorkflowOutcome', this.limits, ref), this.clock.now()));
    // Pinned to the run found first: a later run of the same id is another outcome.
    const pinned = { workflowId: found.workflowId, runId: found.runId };
    const { outcome } = await this.waitUntil(
      found,
      (f) => f.outcome !== undefined,
      waitKey.run(found.runId),
      () => this.open(() => this.engine.workflowOutcome(pinned, this.clock.now())),
      signal,
    );
    return outcome!;
  }


  async queryWorkflow(request: QueryWorkflowRequest): Promise<Payload> {
    const { queryId, taskQueue, workflowId, queryType } = await this.open(() => this.engine.createQuery(check.checkQuery(this.limits, request), this.clock.now()));
    const deadline = this.clock.now() + this.queryTimeoutMs;
    this.queryDeadlines.set(queryId, deadline);
    this.arm(deadline);
    this.refLoop();
    const what = `query "${queryType}" on workflow "${workflowId}"`;
    try {
      for (;;) {
        const listener = this.notifier.listen(waitKey.query(queryId));
        try {
          const answer = await this.open(() => this.engine.queryAnswer(queryId, this.clock.now()));
          if (answer?.ok) return answer.result;
          if (answer) throw new QueryFailedError(`${what} failed: ${answer.failure.message}`, answer.failure);
          if (this.clock.now() >= deadline) {
            const message = `${what} got no answer within ${this.queryTimeoutMs} ms: is a worker polling task queue "${taskQueue}"?`;
            const failure: WireFailure = { kind: 'timeout', message };
            throw new QueryFailedError(message, failure);
          }
          await listener.wait([this.closing.signal]);
        } finally {
          listener.close();
        }
      }
    } finally {
      this.queryDeadlines.delete(queryId);
      this.refLoop();
      // Withdraw it, answered or not; after close() the store is gone and so is the query.
      await this.engine.dropQuery(queryId, this.clock.now()).catch(() => {});
    }
  }

  // ---- workflow tasks ----

  async pollWorkflowTask(taskQueue: string, identity: string, signal: AbortSignal): Promise<WorkflowTask | QueryTask | null> {
    const where = 'pollWorkflowTask';
    checkSignal(where, signal);
    const { queue, who } = check.checkPoll(where, this.limits, taskQueue, identity);
    return this.longPoll(signal, waitKey.workflowQueue(queue), (lookFirst) => this.engine.pollWorkflowTask(queue, who, this.clock.now(), lookFirst));
  }

  /**
   * A malformed completion (an unknown command, a bad field) fails the workflow task, cause
   * badCommand, as Temporal does, and rejects. One over a limit (too many commands, a payload too
   * large or too deep) is refused without touching the task: the worker fails it (failWorkflowTask,
   * same token) saying why, or the task times out.
   */
  completeWorkflowTask(taskToken: string, commands: Command[], sdkMetadata?: SdkMetadata): Promise<void> {
    const where = 'completeWorkflowTask';
    return this.open(async () => {
      const token = check.checkToken(where, this.limits, taskToken);
      let checked: Command[];
      let metadata: SdkMetadata | undefined;
      try {
        checked = check.checkCommands(where, this.limits, commands);
        metadata = check.checkSdkMetadata(where, this.limits, sdkMetadata);
      } catch (err) {
        if (err instanceof InvalidArgumentError && !(err instanceof LimitExceededError)) await this.engine.rejectCompletion(token, err, this.clock.now());
        throw err;
      }
      return this.engine.completeWorkflowTask(token, checked, this.clock.now(), metadata);
    });
  }

  failWorkflowTask(taskToken: string, cause: string, failure: WireFailure): Promise<void> {
    return this.open(() => {
      const checked = check.checkFailWorkflowTask(this.limits, taskToken, cause, failure);
      return this.engine.failWorkflowTask(checked.token, checked.cause, checked.failure, this.clock.now());
    });
  }

  respondQueryTask(taskToken: string, answer: { ok: true; result?: Payload } | { ok: false; failure: WireFailure }): Promise<void> {
    return this.open(() => {
      const checked = check.checkQueryAnswer(this.limits, taskToken, answer);
      return this.engine.respondQueryTask(checked.token, checked.answer, this.clock.now());
    });
  }

  // ---- activity tasks ----

  async pollActivityTask(taskQueue: string, identity: string, signal: AbortSignal): Promise<ActivityTask | null> {
    const where = 'pollActivityTask';
    checkSignal(where, signal);
    const { queue, who } = check.checkPoll(where, this.limits, taskQueue, identity);
    return this.longPoll(signal, waitKey.activityQueue(queue), (lookFirst) => this.engine.pollActivityTask(queue, who, this.clock.now(), lookFirst));
  }

  completeActivityTask(taskToken: string, result: Payload): Promise<void> {
    return this.open(() => {
      const checked = check.checkActivityResult(this.limits, taskToken, result);
      return this.engine.completeActivityTask(checked.token, checked.result, this.clock.now());
    });
  }

  failActivityTask(taskToken: string, failure: WireFailure): Promise<void> {
    return this.open(() => {
      const checked = check.checkActivityFailure(this.limits, taskToken, failure);
      return this.engine.failActivityTask(checked.token, checked.failure, this.clock.now());
    });
  }

  heartbeatActivityTask(taskToken: string, details?: Payload): Promise<HeartbeatResponse> {
    return this.open(() => {
      const checked = check.checkHeartbeat(this.limits, taskToken, details);
      return this.engine.heartbeatActivityTask(checked.token, checked.details, this.clock.now());
    });
  }

  // ---- lifetime and time ----

  /**
   * Runs the work due at the clock's current instant now, instead of when the loop would. For a
   * clock that jumps (tests, time skipping): move it, then tick. Ticks run one at a time.
   */
  tick(): Promise<void> {
    this.ticking = this.ticking.then(() => this.runTick());
    return this.ticking;
  }

  /** Stops the loop, ends waits (polls resolve null, other waits reject) and closes the store. */
  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort(new Error('deja: the workflow service was closed'));
    this.unsubscribe();
    clearTimeout(this.timer);
    await this.ticking;
    await this.store.close();
  }

  private async runTick(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = this.armedAt = undefined;
    if (this.closing.signal.aborted) return;
    const now = this.clock.now();
    let next: number | undefined;
    try {
      next = await this.engine.tick(now);
    } catch (err) {
      if (this.closing.signal.aborted) return;
      // Nobody awaits the loop: report, and try again rather than stop time for every workflow.
      process.emitWarning(err instanceof Error ? err : String(err), { type: 'DejaLoopWarning' });
      next = this.clock.now() + LOOP_RETRY_MS;
    }
    // Broadcast: a task whose backoff ended is claimable now, and a query may be past its
    // deadline. Ticks happen only at due instants; a needless wake costs one store read.
    this.notifier.notifyAll();
    for (const deadline of this.queryDeadlines.values()) if (deadline > now && (next === undefined || deadline < next)) next = deadline;
    this.arm(next);
  }

  /** After a commit: announce its changes (to this process's waiters and, through a shared feed, others'). */
  private committed(effects: Effects): void {
    this.feed.publish(effects.changes);
    for (const warning of effects.warnings) {
      try {
        this.onWarning(warning);
      } catch (err) {
        // The change is committed; a failing hook must not make its caller think otherwise.
        process.emitWarning(`deja: the onWarning hook threw: ${err instanceof Error ? err.message : String(err)}`, { type: 'DejaWarning' });
      }
    }
  }

  /** A committed change, this process's or (through a shared feed) another's: wake whoever waits for it. */
  private changed(change: Change): void {
    switch (change.type) {
      case 'workflowTask':
      case 'query':
        return this.notifier.notify(waitKey.workflowQueue(change.taskQueue));
      case 'activityTask':
        return this.notifier.notify(waitKey.activityQueue(change.taskQueue));
      case 'answer':
        return this.notifier.notify(waitKey.query(change.queryId));
      case 'runClosed':
        // Updates in flight end with their run.
        this.notifier.notify(waitKey.update(change.runId));
        return this.notifier.notify(waitKey.run(change.runId));
      case 'update':
        return this.notifier.notify(waitKey.update(change.runId));
      case 'due':
        return this.arm(change.at);
      case 'any':
        this.notifier.notifyAll();
        return this.arm(this.clock.now());
      default:
        return assertNever(change, 'change');
    }
  }

  /** Arms the loop for `at` unless it is already armed for that instant or earlier. */
  private arm(at: number | undefined): void {
    if (at === undefined || this.closing.signal.aborted) return;
    if (this.armedAt !== undefined && this.armedAt <= at) return;
    clearTimeout(this.timer);
    this.armedAt = at;
    this.timer = setTimeout(() => void this.tick(), Math.min(Math.max(at - this.clock.now(), 0), MAX_DELAY_MS));
    this.refLoop();
  }

  /**
   * The loop's timer does not keep the process alive, except while a caller here awaits a query:
   * that wait promises an answer or a timeout, so the process must live to its deadline.
   */
  private refLoop(): void {
    if (this.queryDeadlines.size > 0) this.timer?.ref();
    else this.timer?.unref();
  }

  /**
   * Claims, or waits for a change on `key` and claims again. A poll woken by a change on its own
   * key goes straight to the claim (there is likely work); any other look checks first in a
   * read-only transaction, so a poll that finds nothing never opens a write transaction.
   */
  private async longPoll<T>(signal: AbortSignal, key: string, claim: (lookFirst: boolean) => Promise<T | null>): Promise<T | null> {
    let hinted = false;
    for (;;) {
      if (signal.aborted || this.closing.signal.aborted) return null;
      const listener = this.notifier.listen(key);
      try {
        const task = await claim(!hinted);
        if (task) return task;
        await listener.wait([signal, this.closing.signal]);
        hinted = listener.hinted;
      } finally {
        listener.close();
      }
    }
  }

  /** Every entry point goes through here: a closed service refuses, and a sync throw rejects. */
  private open<T>(fn: () => Promise<T>): Promise<T> {
    // Not an async function: fn's own promise is handed on, with no wrapper promise around it.
    if (this.closing.signal.aborted) return Promise.reject(new DejaError('DEJA_SERVICE_CLOSED', 'deja: the workflow service is closed'));
    try {
      return fn();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private throwIfAborted(signal: AbortSignal | undefined): void {
    signal?.throwIfAborted();
    this.closing.signal.throwIfAborted();
  }
}

function checkSignal(where: string, signal: unknown): void {
  let ok = false;
  try {
    ok = !types.isProxy(signal) && signal instanceof AbortSignal;
  } catch {
    // a Proxy's trap threw: not an AbortSignal
  }
  if (!ok) throw new InvalidArgumentError(`${where}: signal must be an AbortSignal, got ${typeof signal === 'object' ? describe(signal) : typeof signal}`);
}
