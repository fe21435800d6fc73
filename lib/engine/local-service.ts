/**
 * LocalWorkflowService (host side): the WorkflowService that runs in this process. It composes the
 * engine, a Store, a Clock and the in-process Notifier, and owns the one background loop: a single
 * setTimeout, re-armed to the next due instant, that fires timers, ends leases, makes delayed
 * retries claimable and times out queries. It is unref'd: a process stays alive for its worker,
 * not for this service. Waiting (long polls, results, query answers)
 * lives here; the engine never waits.
 */
import type { Command, Payload, WireFailure } from '../../runtime/protocol';
import { checkKnownKeys, describe, InvalidArgumentError } from '../errors';
import type { HistoryEvent } from '../history/events';
import type {
  ActivityTask,
  ExecutionRef,
  HeartbeatResponse,
  QueryTask,
  QueryWorkflowRequest,
  SignalWorkflowRequest,
  StartWorkflowRequest,
  WorkflowDescription,
  WorkflowOutcome,
  WorkflowService,
  WorkflowTask,
} from '../service';
import { types } from 'node:util';
import { type Effects, Engine, type HistoryWarning, wakeKey } from './engine';
import { QueryFailedError } from '../service-errors';
import { type Limits, resolveLimits } from './limits';
import { Notifier } from './notifier';
import type { Store } from '../backends/store';

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
  private readonly notifier = new Notifier();
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
    // A store may hold work from before (a reopened file): look at once.
    this.arm(this.clock.now());
  }

  // ---- client side ----

  startWorkflow(request: StartWorkflowRequest): Promise<{ runId: string }> {
    return this.open(() => this.engine.startWorkflow(request, this.clock.now()));
  }

  signalWorkflow(request: SignalWorkflowRequest): Promise<void> {
    return this.open(() => this.engine.signalWorkflow(request, this.clock.now()));
  }

  describeWorkflow(ref: ExecutionRef): Promise<WorkflowDescription> {
    return this.open(() => this.engine.describeWorkflow(ref));
  }

  getHistory(ref: ExecutionRef, afterEventId?: number): Promise<HistoryEvent[]> {
    return this.open(() => this.engine.getHistory(ref, afterEventId));
  }

  async getWorkflowOutcome(ref: ExecutionRef, signal?: AbortSignal): Promise<WorkflowOutcome> {
    if (signal !== undefined) checkSignal('getWorkflowOutcome', signal);
    let { workflowId, runId, outcome } = await this.open(() => this.engine.workflowOutcome(ref));
    // Pinned to the run found first: a later run of the same id is another outcome.
    const pinned = { workflowId, runId };
    while (!outcome) {
      const listener = this.notifier.listen(wakeKey.run(runId));
      try {
        ({ outcome } = await this.open(() => this.engine.workflowOutcome(pinned)));
        if (outcome) break;
        this.throwIfAborted(signal);
        await listener.wait([signal, this.closing.signal]);
        this.throwIfAborted(signal);
      } finally {
        listener.close();
      }
    }
    return outcome;
  }

  async queryWorkflow(request: QueryWorkflowRequest): Promise<Payload> {
    const { queryId, taskQueue, workflowId, queryType } = await this.open(() => this.engine.createQuery(request, this.clock.now()));
    const deadline = this.clock.now() + this.queryTimeoutMs;
    this.queryDeadlines.set(queryId, deadline);
    this.arm(deadline);
    this.refLoop();
    const what = `query "${queryType}" on workflow "${workflowId}"`;
    try {
      for (;;) {
        const listener = this.notifier.listen(wakeKey.query(queryId));
        try {
          const answer = await this.open(() => this.engine.queryAnswer(queryId));
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
    const { queue, who } = this.engine.checkPoll(where, taskQueue, identity);
    return this.longPoll(signal, wakeKey.workflowQueue(queue), () => this.engine.pollWorkflowTask(queue, who, this.clock.now()));
  }

  completeWorkflowTask(taskToken: string, commands: Command[]): Promise<void> {
    return this.open(() => this.engine.completeWorkflowTask(taskToken, commands, this.clock.now()));
  }

  failWorkflowTask(taskToken: string, cause: string, failure: WireFailure): Promise<void> {
    return this.open(() => this.engine.failWorkflowTask(taskToken, cause, failure, this.clock.now()));
  }

  respondQueryTask(taskToken: string, answer: { ok: true; result?: Payload } | { ok: false; failure: WireFailure }): Promise<void> {
    return this.open(() => this.engine.respondQueryTask(taskToken, answer, this.clock.now()));
  }

  // ---- activity tasks ----

  async pollActivityTask(taskQueue: string, identity: string, signal: AbortSignal): Promise<ActivityTask | null> {
    const where = 'pollActivityTask';
    checkSignal(where, signal);
    const { queue, who } = this.engine.checkPoll(where, taskQueue, identity);
    return this.longPoll(signal, wakeKey.activityQueue(queue), () => this.engine.pollActivityTask(queue, who, this.clock.now()));
  }

  completeActivityTask(taskToken: string, result: Payload): Promise<void> {
    return this.open(() => this.engine.completeActivityTask(taskToken, result, this.clock.now()));
  }

  failActivityTask(taskToken: string, failure: WireFailure): Promise<void> {
    return this.open(() => this.engine.failActivityTask(taskToken, failure, this.clock.now()));
  }

  heartbeatActivityTask(taskToken: string, details?: Payload): Promise<HeartbeatResponse> {
    return this.open(() => this.engine.heartbeatActivityTask(taskToken, details, this.clock.now()));
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

  private committed(effects: Effects): void {
    for (const key of effects.wake) this.notifier.notify(key);
    if (effects.dueAt !== undefined) this.arm(effects.dueAt);
    for (const warning of effects.warnings) {
      try {
        this.onWarning(warning);
      } catch (err) {
        // The change is committed; a failing hook must not make its caller think otherwise.
        process.emitWarning(`deja: the onWarning hook threw: ${err instanceof Error ? err.message : String(err)}`, { type: 'DejaWarning' });
      }
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

  private async longPoll<T>(signal: AbortSignal, key: string, claim: () => Promise<T | null>): Promise<T | null> {
    for (;;) {
      if (signal.aborted || this.closing.signal.aborted) return null;
      const listener = this.notifier.listen(key);
      try {
        const task = await claim();
        if (task) return task;
        await listener.wait([signal, this.closing.signal]);
      } finally {
        listener.close();
      }
    }
  }

  /** Every entry point goes through here: a closed service refuses, and a sync throw rejects. */
  private async open<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closing.signal.aborted) throw new Error('deja: the workflow service is closed');
    return fn();
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
