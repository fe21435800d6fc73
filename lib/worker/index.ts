/**
 * The worker (host side): polls workflow and activity tasks from a WorkflowService, runs workflow
 * tasks in the sandbox through the replay engine, and runs activities as plain async functions.
 *
 * Live executions stay cached (an LRU of sandbox contexts with their replay state), so a new task
 * is one incremental activation over the events the worker has not seen. A miss (first task,
 * eviction, a restart, a dropped isolate) rebuilds the execution by replaying its whole history.
 * A failed workflow task evicts the execution: its context may hold half-applied state.
 */
import { hostname } from 'node:os';
import type { Payload } from '../../runtime/protocol';
import { errorToFailure, ApplicationFailure } from '../../runtime/failure';
import type { HistoryEvent, WorkflowExecutionStartedEvent } from '../history/events';
import type { ActivityTask, QueryTask, WorkflowService, WorkflowTask } from '../service';
import { bundleWorkflowCode, type WorkflowBundle } from '../bundler';
import { IsolatePool, SandboxMemoryError, SandboxTimeoutError, UnhandledRejectionError, type SandboxExecution } from '../sandbox';
import { ReplayMachine, initFromStart } from '../replay';
import { Context, type ActivityInfo } from '../activity';
import { DejaError, DeterminismViolationError, InvalidArgumentError, checkInteger, checkKnownKeys } from '../errors';
import { Connection } from '../client';

export type ActivityFunction = (...args: any[]) => unknown;

export interface WorkerOptions {
  taskQueue: string;
  /** A Connection (or anything with a `service`); default `new Connection()`. */
  connection?: { service: WorkflowService };
  /** The workflows module to bundle; or give a prebuilt `workflowBundle`. */
  workflowsPath?: string;
  workflowBundle?: WorkflowBundle;
  /** Where bundles and their V8 code cache are kept (see the bundler). */
  bundleCacheDir?: string;
  activities?: Record<string, ActivityFunction>;
  /** Live executions kept in memory. Default 1000. */
  maxCachedWorkflows?: number;
  maxConcurrentActivityTaskExecutions?: number;
  maxConcurrentWorkflowTaskPolls?: number;
  isolatePoolSize?: number;
  memoryLimitMb?: number;
  activationTimeoutMs?: number;
  identity?: string;
  /** Where workflow log lines go (only when not replaying). Default: console. */
  logger?: (line: { workflowId: string; level: string; message: string }) => void;
}

const OPTION_KEYS = [
  'taskQueue',
  'connection',
  'workflowsPath',
  'workflowBundle',
  'bundleCacheDir',
  'activities',
  'maxCachedWorkflows',
  'maxConcurrentActivityTaskExecutions',
  'maxConcurrentWorkflowTaskPolls',
  'isolatePoolSize',
  'memoryLimitMb',
  'activationTimeoutMs',
  'identity',
  'logger',
] as const;

interface CachedExecution {
  execution: SandboxExecution;
  machine: ReplayMachine;
}

export interface WorkerStats {
  cacheHits: number;
  cacheMisses: number;
  cachedExecutions: number;
  workflowTasks: number;
  workflowTaskFailures: number;
  queries: number;
  activities: number;
}

export type WorkerState = 'initialized' | 'running' | 'stopping' | 'stopped';

export class Worker {
  readonly taskQueue: string;
  readonly identity: string;
  private readonly service: WorkflowService;
  private readonly pool: IsolatePool;
  private readonly cache = new Map<string, CachedExecution>();
  private readonly runLocks = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private readonly maxCached: number;
  private readonly maxActivities: number;
  private readonly workflowPollers: number;
  private readonly activities: Record<string, ActivityFunction>;
  private readonly logger: NonNullable<WorkerOptions['logger']>;
  private activeActivities = 0;
  private activitySlotFreed: (() => void) | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private _state: WorkerState = 'initialized';
  private readonly counters = { cacheHits: 0, cacheMisses: 0, workflowTasks: 0, workflowTaskFailures: 0, queries: 0, activities: 0 };
  private runPromise: Promise<void> | undefined;

  /** Bundles the workflows (or takes a prebuilt bundle) and prepares the isolate pool. */
  static async create(options: WorkerOptions): Promise<Worker> {
    checkKnownKeys('Worker.create', options, OPTION_KEYS);
    if (options === undefined || typeof options.taskQueue !== 'string' || options.taskQueue === '') {
      throw new InvalidArgumentError('Worker.create: taskQueue must be a non-empty string');
    }
    if (options.workflowsPath !== undefined && options.workflowBundle !== undefined) {
      throw new InvalidArgumentError('Worker.create: give workflowsPath or workflowBundle, not both');
    }
    const bundle =
      options.workflowBundle ??
      (options.workflowsPath !== undefined
        ? await bundleWorkflowCode({ workflowsPath: options.workflowsPath, ...(options.bundleCacheDir ? { cacheDir: options.bundleCacheDir } : {}) })
        : undefined);
    if (bundle === undefined && options.activities === undefined) {
      throw new InvalidArgumentError('Worker.create: give workflowsPath (or workflowBundle), activities, or both');
    }
    return new Worker(options, bundle);
  }

  private constructor(
    options: WorkerOptions,
    private readonly bundle: WorkflowBundle | undefined,
  ) {
    this.taskQueue = options.taskQueue;
    this.identity = options.identity ?? `${process.pid}@${hostname()}`;
    this.service = (options.connection ?? new Connection()).service;
    this.maxCached = checkInteger('Worker.create', 'maxCachedWorkflows', options.maxCachedWorkflows ?? 1000);
    this.maxActivities = checkInteger('Worker.create', 'maxConcurrentActivityTaskExecutions', options.maxConcurrentActivityTaskExecutions ?? 100);
    this.workflowPollers = checkInteger('Worker.create', 'maxConcurrentWorkflowTaskPolls', options.maxConcurrentWorkflowTaskPolls ?? 2);
    const activities = options.activities ?? {};
    for (const [name, fn] of Object.entries(activities)) {
      if (typeof fn !== 'function') throw new InvalidArgumentError(`Worker.create: activity "${name}" must be a function, got ${typeof fn}`);
    }
    this.activities = activities;
    this.logger =
      options.logger ??
      ((line) => {
        const text = `[${line.workflowId}] ${line.message}`;
        if (line.level === 'error' || line.level === 'warn') console.error(text);
        else console.log(text);
      });
    this.pool = new IsolatePool({
      ...(options.isolatePoolSize !== undefined ? { isolatePoolSize: options.isolatePoolSize } : {}),
      ...(options.memoryLimitMb !== undefined ? { memoryLimitMb: options.memoryLimitMb } : {}),
      ...(options.activationTimeoutMs !== undefined ? { activationTimeoutMs: options.activationTimeoutMs } : {}),
    });
  }

  get state(): WorkerState {
    return this._state;
  }

  /**
   * What the worker has done: a cache hit is a task served by one incremental activation, a miss
   * one that rebuilt its execution by replaying the whole history.
   */
  stats(): WorkerStats {
    return { ...this.counters, cachedExecutions: this.cache.size };
  }

  /** Polls until shutdown() is called; resolves when every task in flight has finished. */
  run(): Promise<void> {
    if (this._state !== 'initialized') throw new DejaError('DEJA_INVALID_ARGUMENT', `Worker.run: the worker is ${this._state}; a worker runs once`);
    this._state = 'running';
    // Polls on an in-process service are only promises, and the service's timer loop is unref'd:
    // a running worker holds the process open itself, as a network poll would.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const loops: Promise<void>[] = [];
    if (this.bundle) for (let i = 0; i < this.workflowPollers; i++) loops.push(this.workflowLoop());
    if (Object.keys(this.activities).length > 0) loops.push(this.activityLoop());
    this.runPromise = Promise.all(loops)
      .then(() => Promise.all([...this.inFlight]))
      .then(() => undefined)
      .finally(() => {
        clearInterval(keepAlive);
        for (const runId of [...this.cache.keys()]) this.evict(runId);
        this.pool.dispose();
        this._state = 'stopped';
      });
    return this.runPromise;
  }

  /** Runs the worker until `until` settles, then shuts it down; returns (or throws) what it did. */
  async runUntil<T>(until: Promise<T> | (() => Promise<T>)): Promise<T> {
    const running = this.run();
    try {
      return await (typeof until === 'function' ? until() : until);
    } finally {
      this.shutdown();
      await running;
    }
  }

  /** Stops polling; tasks in flight finish. */
  shutdown(): void {
    if (this._state === 'running') this._state = 'stopping';
    this.abort.abort(new DejaError('DEJA_INVALID_ARGUMENT', 'worker shut down'));
  }

  // ── workflow tasks ──────────────────────────────────────────────────────────────────────────

  private async workflowLoop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      let task: WorkflowTask | QueryTask | null;
      try {
        task = await this.service.pollWorkflowTask(this.taskQueue, this.identity, this.abort.signal);
      } catch (error) {
        if (this.abort.signal.aborted) return;
        throw error;
      }
      if (task === null) continue;
      const t = task;
      await this.withRunLock(t.runId, () => (t.kind === 'query' ? this.handleQuery(t) : this.handleWorkflowTask(t)));
    }
  }

  private async withRunLock(runId: string, fn: () => Promise<void>): Promise<void> {
    const previous = this.runLocks.get(runId) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const tracked = next.catch(() => undefined);
    this.runLocks.set(runId, tracked);
    this.inFlight.add(tracked);
    try {
      await next;
    } finally {
      this.inFlight.delete(tracked);
      if (this.runLocks.get(runId) === tracked) this.runLocks.delete(runId);
    }
  }

  /** The cached execution brought up to `uptoEventId`, or a fresh one replayed from history. */
  private async executionFor(task: { workflowId: string; runId: string; workflowType: string }, upto: (events: HistoryEvent[]) => HistoryEvent[]) {
    let cached = this.cache.get(task.runId);
    if (cached && cached.execution.disposed) {
      this.evict(task.runId); // its isolate was dropped (memory limit): rebuild by replay
      cached = undefined;
    }
    const ref = { workflowId: task.workflowId, runId: task.runId };
    if (cached) {
      this.counters.cacheHits++;
      this.cache.delete(task.runId); // re-insert below: LRU order
      this.cache.set(task.runId, cached);
      const events = upto(await this.service.getHistory(ref, cached.machine.lastSeenEventId));
      if (!cached.execution.disposed) return { cached, events };
      // Evicted while we waited (the LRU made room for another run, or its isolate was dropped).
      this.evict(task.runId);
      this.counters.cacheHits--;
    }
    this.counters.cacheMisses++;
    const events = upto(await this.service.getHistory(ref));
    const start = events[0] as WorkflowExecutionStartedEvent | undefined;
    if (start?.type !== 'workflowExecutionStarted') {
      throw new DejaError('DEJA_INVALID_HISTORY', `history of ${task.workflowId}/${task.runId} does not begin with workflowExecutionStarted`);
    }
    const execution = this.pool.createExecution(this.bundle!, initFromStart(start), `workflow ${task.workflowId} (${task.workflowType})`);
    cached = { execution, machine: new ReplayMachine(execution) };
    this.cache.set(task.runId, cached);
    while (this.cache.size > this.maxCached) this.evict(this.cache.keys().next().value as string);
    return { cached, events };
  }

  private evict(runId: string): void {
    const cached = this.cache.get(runId);
    if (!cached) return;
    this.cache.delete(runId);
    cached.execution.dispose();
  }

  private async handleWorkflowTask(task: WorkflowTask): Promise<void> {
    this.counters.workflowTasks++;
    let failure: { cause: string; error: unknown } | undefined;
    try {
      const { cached, events } = await this.executionFor(task, (all) => all.filter((e) => e.eventId <= task.startedEventId));
      const live = cached.machine.advance(events);
      if (!live) throw new DejaError('DEJA_INVALID_HISTORY', `history of ${task.workflowId} did not end with the task's workflowTaskStarted ${task.startedEventId}`);
      const { completion } = live;
      for (const log of completion.logs) this.logger({ workflowId: task.workflowId, level: log.level, message: log.message });
      if (completion.ok) {
        await this.service.completeWorkflowTask(task.taskToken, completion.commands);
        if (completion.commands.some((c) => c.type === 'completeWorkflow' || c.type === 'failWorkflow')) this.evict(task.runId);
        return;
      }
      this.evict(task.runId);
      this.counters.workflowTaskFailures++;
      await this.service.failWorkflowTask(
        task.taskToken,
        completion.failure.type === 'DeterminismViolationError' ? 'nondeterminism' : 'workflowError',
        completion.failure,
      );
      return;
    } catch (error) {
      if (error instanceof DeterminismViolationError) failure = { cause: 'nondeterminism', error };
      else if (error instanceof SandboxTimeoutError) failure = { cause: 'deadlineExceeded', error };
      else if (error instanceof SandboxMemoryError) failure = { cause: 'outOfMemory', error };
      else if (error instanceof UnhandledRejectionError) failure = { cause: 'unhandledRejection', error };
      else if (error instanceof DejaError && error.code === 'DEJA_STALE_TASK') {
        this.evict(task.runId); // another attempt owns the task now
        return;
      } else failure = { cause: 'workflowError', error };
    }
    this.evict(task.runId);
    this.counters.workflowTaskFailures++;
    try {
      await this.service.failWorkflowTask(task.taskToken, failure.cause, errorToFailure(failure.error));
    } catch (error) {
      if (!(error instanceof DejaError && error.code === 'DEJA_STALE_TASK')) throw error;
    }
  }

  private async handleQuery(task: QueryTask): Promise<void> {
    this.counters.queries++;
    let answer: Parameters<WorkflowService['respondQueryTask']>[1];
    try {
      // A query sees the state after the last completed workflow task.
      const lastCompleted = (events: HistoryEvent[]) => {
        let end = -1;
        for (let i = events.length - 1; i >= 0; i--) {
          if (events[i].type === 'workflowTaskCompleted') {
            end = i;
            break;
          }
        }
        if (end < 0) {
          throw new DejaError('DEJA_QUERY_FAILED', `workflow ${task.workflowId} has not completed its first workflow task yet, so it has no state to query; try again shortly`);
        }
        return events.slice(0, end + 1);
      };
      let cached = this.cache.get(task.runId);
      if (!cached || cached.execution.disposed) {
        const { cached: fresh, events } = await this.executionFor(task, lastCompleted);
        fresh.machine.advance(events);
        cached = fresh;
      }
      answer = cached.execution.query({ queryType: task.queryType, args: task.args });
    } catch (error) {
      this.evict(task.runId);
      answer = { ok: false, failure: errorToFailure(error) };
    }
    try {
      await this.service.respondQueryTask(task.taskToken, answer);
    } catch (error) {
      if (!(error instanceof DejaError && error.code === 'DEJA_STALE_TASK')) throw error;
    }
  }

  // ── activity tasks ──────────────────────────────────────────────────────────────────────────

  private async activityLoop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      if (this.activeActivities >= this.maxActivities) {
        await new Promise<void>((resolve) => (this.activitySlotFreed = resolve));
        continue;
      }
      let task: ActivityTask | null;
      try {
        task = await this.service.pollActivityTask(this.taskQueue, this.identity, this.abort.signal);
      } catch (error) {
        if (this.abort.signal.aborted) return;
        throw error;
      }
      if (task === null) continue;
      this.activeActivities++;
      const running = this.runActivity(task).finally(() => {
        this.activeActivities--;
        this.inFlight.delete(running);
        this.activitySlotFreed?.();
        this.activitySlotFreed = undefined;
      });
      this.inFlight.add(running);
    }
  }

  private async runActivity(task: ActivityTask): Promise<void> {
    this.counters.activities++;
    const cancel = new AbortController();
    const timer =
      task.deadline !== undefined ? setTimeout(() => cancel.abort(new Error('activity deadline passed')), Math.max(0, task.deadline - Date.now())) : undefined;
    const info: ActivityInfo = {
      activityId: task.activityId,
      activityType: task.activityType,
      workflowId: task.workflowId,
      runId: task.runId,
      workflowType: task.workflowType,
      taskQueue: this.taskQueue,
      attempt: task.attempt,
      ...(task.deadline !== undefined ? { deadline: task.deadline } : {}),
      ...(task.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: task.heartbeatTimeoutMs } : {}),
      ...(task.heartbeatDetails !== undefined ? { heartbeatDetails: task.heartbeatDetails } : {}),
    };
    const onHeartbeat = (details?: Payload) => {
      this.service.heartbeatActivityTask(task.taskToken, details).then(
        (r) => {
          if (r.cancelRequested) cancel.abort(new Error('activity cancelled'));
        },
        () => undefined, // a lost heartbeat is retried by the next one
      );
    };
    try {
      const fn = this.activities[task.activityType];
      let result: unknown;
      let failed: unknown;
      try {
        if (typeof fn !== 'function') {
          throw ApplicationFailure.nonRetryable(
            `activity type "${task.activityType}" is not registered on task queue "${this.taskQueue}"; registered: ${Object.keys(this.activities).join(', ') || '(none)'}`,
            'NotFoundError',
          );
        }
        result = await Context.run(new Context(info, cancel.signal, onHeartbeat), () => fn(...task.args));
      } catch (error) {
        failed = error;
      }
      if (failed === undefined && result !== undefined) {
        // A result that is not JSON would fail the same way on every attempt: do not retry it.
        try {
          JSON.stringify(result);
        } catch (error) {
          failed = ApplicationFailure.nonRetryable(
            `activity ${task.activityType} returned a value that is not JSON-serializable: ${(error as Error).message}`,
            'PayloadError',
          );
        }
      }
      try {
        if (failed === undefined) await this.service.completeActivityTask(task.taskToken, result as Payload);
        else await this.service.failActivityTask(task.taskToken, errorToFailure(failed));
      } catch (error) {
        if (!(error instanceof DejaError && error.code === 'DEJA_STALE_TASK')) throw error;
      }
    } finally {
      if (timer) clearTimeout(timer);
    }
  }
}
