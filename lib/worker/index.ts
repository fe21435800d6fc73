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
import { isClosingCommand, type Payload, type WireFailure, type WorkflowTaskFailedCause } from '../../runtime/protocol';
import { errorToFailure, ApplicationFailure, CancelledFailure } from '../../runtime/failure';
import type { HistoryEvent, WorkflowExecutionStartedEvent } from '../history/events';
import type { ActivityTask, QueryTask, WorkflowService, WorkflowTask } from '../service';
import { bundleWorkflowCode, mapBundleStack, type WorkflowBundle } from '../bundler';
import { IsolatePool, SandboxDisposedError, SandboxMemoryError, SandboxTimeoutError, UnhandledRejectionError, bundleScriptName, checkWireFailure, type SandboxExecution } from '../sandbox';
import { ReplayMachine, initFromStart, type PendingLiveTask } from '../replay';
import { CompleteAsyncError, Context, type ContextHooks, type Info } from '../activity';
import { cancellationDetailsFor } from '../activity/cancellation-details';
import { installActivityAliases } from '../activity/aliases';
import { toPlainJson } from '../activity/json';
import { DejaError, DeterminismViolationError, InvalidArgumentError, LimitExceededError, MAX_TIMER_MS, StoreError, checkInteger, checkKnownKeys, describe, warnIgnoredOptions } from '../errors';
import { durationToMs, type Duration } from '../../runtime/time';
import { openDefaultBackend } from '../wiring';
import { Heartbeats, heartbeatThrottleMs } from './heartbeats';
import { LOCAL_ACTIVITY_LEASE_MARGIN, completeWithLocalActivities, hasUnrunLocalActivities } from './local-activities';
import { SinkDispatcher, checkSinks, type InjectedSinks } from './sinks';
import { trackRunningWorker, untrackRunningWorker } from './shutdown-signals';
import { checkWorkerInterceptors, runActivityFunction, type ActivityInterceptorsFactory, type WorkerInterceptors } from './interceptors';
import type { ActivationCompletion, WorkflowInfo } from '../../runtime/protocol';

// Activity files written for Temporal import `@temporalio/activity`: from here on, in this process,
// that name (and `@temporalio/common`) resolves to deja's modules. See lib/activity/aliases.ts for
// how, and for what else in the process it touches.
installActivityAliases();

/** How long a worker waits after a poll that answered empty before polling again (see pauseAfterEmptyPoll). */
const EMPTY_POLL_PAUSE_MS = 50;

export { NativeConnection } from './connection';
// Temporal's @temporalio/worker exports the bundler too.
export { bundleWorkflowCode, loadBundle, WorkflowBundleError } from '../bundler';
export type { BundleOptions, WorkflowBundle } from '../bundler';
export type { NativeConnectionOptions } from './connection';
export type {
  WorkerInterceptors,
  ActivityInterceptorsFactory,
  ActivityInterceptors,
  ActivityInboundCallsInterceptor,
  ActivityOutboundCallsInterceptor,
  ActivityInboundCallsInterceptorFactory,
  ActivityExecuteInput,
} from './interceptors';

export type ActivityFunction = (...args: any[]) => unknown;

/**
 * The worker's options: deja's, and Temporal's WorkerOptions (the ones in IGNORED_WORKER_OPTIONS
 * are accepted, not acted on, and each given one is named once per process in a DejaWarning).
 */
export interface WorkerOptions extends Partial<Record<IgnoredWorkerOption, unknown>> {
  taskQueue: string;
  /** A Connection (or anything with a `service`); default: the default backend (DEJA_BACKEND, else SQLite at `./.deja/deja.db`), as `new Connection()` opens it. */
  connection?: { service: WorkflowService };
  /** The workflows module to bundle; or give a prebuilt `workflowBundle`. */
  workflowsPath?: string;
  workflowBundle?: WorkflowBundle;
  /** Where bundles and their V8 code cache are kept (see the bundler). */
  bundleCacheDir?: string;
  activities?: Record<string, ActivityFunction>;
  /** Live executions kept in memory. Default 1000. */
  maxCachedWorkflows?: number;
  /** Activities run at once, default 100; no activity is claimed while that many run. */
  maxConcurrentActivityTaskExecutions?: number;
  /** Workflow task pollers, default 2 (at most maxConcurrentWorkflowTaskExecutions). */
  maxConcurrentWorkflowTaskPolls?: number;
  isolatePoolSize?: number;
  memoryLimitMb?: number;
  activationTimeoutMs?: number;
  /**
   * Fresh contexts each isolate keeps ready for new executions, the bundle already run in them,
   * made on the isolate's own thread while the worker does other work. Each serves one execution
   * only: executions never share a context. Default 2; 0 makes every context when it is needed.
   */
  preparedContexts?: number;
  identity?: string;
  /**
   * Where workflow log lines go (only when not replaying), the worker's own reports (a task it
   * could not hand back, a loop that stopped) with `workflowId` '' for those, and each failed
   * workflow task (see WorkerLogLine: once per failure streak, with its source-mapped stack).
   * Default: console, with control characters escaped so workflow text cannot forge or recolour
   * host log lines.
   */
  logger?: (line: WorkerLogLine) => void;
  /**
   * On shutdown, how long running activities may go on before they are cancelled through their
   * cancellation signal. Default 10,000 ms.
   */
  shutdownGraceTimeMs?: number;
  /**
   * After that cancellation, how long the worker waits for activities that ignore it before
   * `run()` resolves anyway; their tasks are retried elsewhere once their lease ends. Default 5,000 ms.
   */
  shutdownForceTimeMs?: number;
  /**
   * Functions that workflow code calls through `proxySinks` (Temporal's InjectedSinks shape):
   * `{ [iface]: { [fn]: { fn(workflowInfo, ...args), callDuringReplay?: boolean } } }`. Each call
   * is made once, after its activation, and during replay only when `callDuringReplay` is true.
   */
  sinks?: InjectedSinks<any>;

  // Temporal's WorkerOptions, for code written against `@temporalio/worker`.
  /** Temporal's: deja has one namespace, 'default'; another is accepted with a warning and not used. */
  namespace?: string;
  /** Temporal's form of shutdownGraceTimeMs (milliseconds or a duration string such as '10s'). Give one of the two. */
  shutdownGraceTime?: Duration;
  /** Temporal's form of shutdownForceTimeMs. Give one of the two. */
  shutdownForceTime?: Duration;
  /**
   * Workflow tasks (and queries) handled at once, default 2. A slot is taken before each poll, so
   * the count never goes past it; the pollers (maxConcurrentWorkflowTaskPolls, at most this many)
   * go on polling while tasks run. Tasks of one run still run one at a time, in order. The isolate
   * runs one activation at a time (isolatePoolSize isolates run that many); tasks overlap in their
   * store work and their local activities: raise it with isolatePoolSize, or for workflows whose
   * tasks wait on local activities.
   */
  maxConcurrentWorkflowTaskExecutions?: number;
  /**
   * Temporal's WorkerInterceptors: `workflowModules` are bundled with the workflows (with
   * `workflowsPath`; a prebuilt `workflowBundle` carries the modules it was built with, and a
   * warning says these are not added to it); `activity` and `activityInbound` factories run around
   * every activity (lib/worker/interceptors.ts).
   */
  interceptors?: WorkerInterceptors;
}

/**
 * Temporal's WorkerOptions that deja accepts and does not act on, each with the reason a warning
 * gives. Anything else unknown is still refused, with the known names listed.
 */
const IGNORED_WORKER_OPTIONS = {
  dataConverter: 'payloads are JSON; custom payload converters and codecs are not applied',
  tuner: 'slots are set by maxConcurrentActivityTaskExecutions and maxConcurrentWorkflowTaskExecutions',
  maxConcurrentLocalActivityExecutions: 'local activities run inside their workflow task',
  enableNonLocalActivities: 'activities run when activities are given',
  disablePayloadErrorLimit: 'payload limits are the backend\'s (ConnectionOptions.limits)',
  maxActivitiesPerSecond: 'there is no activity rate limit',
  maxTaskQueueActivitiesPerSecond: 'there is no activity rate limit',
  maxEagerActivityReservationsPerWorkflowTask: 'there is no eager activity dispatch',
  nonStickyToStickyPollRatio: 'every worker keeps its own cache; there are no sticky queues',
  workflowTaskPollerBehavior: 'pollers are set by maxConcurrentWorkflowTaskPolls',
  activityTaskPollerBehavior: 'activities are claimed up to maxConcurrentActivityTaskExecutions',
  maxConcurrentActivityTaskPolls: 'activities are claimed up to maxConcurrentActivityTaskExecutions',
  stickyQueueScheduleToStartTimeout: 'there are no sticky queues',
  workflowThreadPoolSize: 'workflows run in the isolate pool (isolatePoolSize)',
  maxHeartbeatThrottleInterval: 'heartbeats are throttled at 80% of the heartbeat timeout',
  defaultHeartbeatThrottleInterval: 'heartbeats are throttled at 80% of the heartbeat timeout',
  plugins: 'worker plugins are not supported',
  workflowFailureErrorTypes: 'only ApplicationFailure and the other Temporal failures fail a workflow',
  enableSDKTracing: 'there is no SDK tracing',
  showStackTraceSources: 'stack traces are source-mapped without sources',
  debugMode: 'workflow tasks keep their activation deadline, activationTimeoutMs',
  reuseV8Context: 'each execution has its own context in a shared, precompiled isolate',
  bundlerOptions: 'deja\'s bundler has its own settings, such as bundleCacheDir',
  buildId: 'there is no worker versioning',
  useVersioning: 'there is no worker versioning',
  workerDeploymentOptions: 'there is no worker versioning',
  nexusServices: 'there is no Nexus',
  maxConcurrentNexusTaskExecutions: 'there is no Nexus',
  nexusTaskPollerBehavior: 'there is no Nexus',
  maxConcurrentNexusTaskPolls: 'there is no Nexus',
} as const satisfies Record<string, string>;
type IgnoredWorkerOption = keyof typeof IGNORED_WORKER_OPTIONS;

/**
 * One line for the worker's logger. A failed workflow task is reported at level 'error' with its
 * run, type, cause and attempt, and `stack`: the frames of the error, mapped through the bundle's
 * source map to the workflow's own files (`at fn (src/workflows.ts:12:9)`; deja's runtime shows
 * as `deja:runtime/…`). The default logger prints them under the message.
 *
 * A task that keeps failing is not logged on every retry: the first failure of a run's streak is
 * logged, then each different failure (cause, type and message) once, up to
 * MAX_LOGGED_FAILURES_PER_STREAK; the streak ends when a task of the run completes.
 */
export interface WorkerLogLine {
  workflowId: string;
  level: string;
  message: string;
  runId?: string;
  workflowType?: string;
  cause?: WorkflowTaskFailedCause;
  attempt?: number;
  /** `    at …` lines, one per frame, source-mapped; absent when the error has no workflow frames. */
  stack?: string;
}

/** Different failures logged per failure streak of a run; the rest of the streak is not logged. */
export const MAX_LOGGED_FAILURES_PER_STREAK = 5;
/** Runs whose failure streak the worker remembers; the oldest is forgotten first. */
const MAX_FAILURE_STREAKS = 10_000;

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
  'preparedContexts',
  'identity',
  'logger',
  'shutdownGraceTimeMs',
  'shutdownForceTimeMs',
  'sinks',
  'namespace',
  'shutdownGraceTime',
  'shutdownForceTime',
  'maxConcurrentWorkflowTaskExecutions',
  'interceptors',
  ...Object.keys(IGNORED_WORKER_OPTIONS),
] as const;

interface CachedExecution {
  execution: SandboxExecution;
  machine: ReplayMachine;
  /** The run's info from its start event: for sinks, and the task timeout (local activities). */
  info: WorkflowInfo;
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

/** How long bulk replay runs before it lets the event loop turn (activities, heartbeats, timers). */
const REPLAY_SLICE_MS = 10;

/** The worker's defaults and bounds, in one place. */
const DEFAULTS = {
  maxCachedWorkflows: 1000,
  maxConcurrentActivityTaskExecutions: 100,
  maxConcurrentWorkflowTaskPolls: 2,
  /**
   * Two, as the two pollers ran before this was a limit of its own: with one isolate, more tasks
   * at once only queue for it (measured: 10 gave lower throughput and a higher p99 than 2).
   */
  maxConcurrentWorkflowTaskExecutions: 2,
  shutdownGraceTimeMs: 10_000,
  shutdownForceTimeMs: 5_000,
  preparedContexts: 2,
} as const;
const BOUNDS = {
  maxCachedWorkflows: 1_000_000,
  maxConcurrentActivityTaskExecutions: 100_000,
  maxConcurrentWorkflowTaskPolls: 100,
  maxConcurrentWorkflowTaskExecutions: 1_000_000,
} as const;

export class Worker {
  readonly taskQueue: string;
  readonly identity: string;
  private readonly service: WorkflowService;
  private readonly pool: IsolatePool;
  private readonly cache = new Map<string, CachedExecution>();
  /** Runs whose execution a task is using right now: the LRU never evicts those. */
  private readonly inUse = new Set<string>();
  private readonly runLocks = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private readonly maxCached: number;
  private readonly maxActivities: number;
  private readonly workflowPollers: number;
  private readonly maxWorkflowTasks: number;
  /** Workflow task slots taken (a poll in progress, or a task being handled); at most maxWorkflowTasks. */
  private workflowSlots = 0;
  private readonly workflowSlotWaiters: (() => void)[] = [];
  private readonly graceMs: number;
  private readonly forceMs: number;
  private readonly activities: Record<string, ActivityFunction>;
  private readonly activityInterceptors: ActivityInterceptorsFactory[];
  private readonly logger: NonNullable<WorkerOptions['logger']>;
  /** Per run in a failure streak: the failures already logged (see WorkerLogLine). */
  private readonly failureStreaks = new Map<string, Set<string>>();
  private activeActivities = 0;
  private activitySlotFreed: (() => void) | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** Cancels every running activity; aborted once the shutdown grace time is over. */
  private readonly activityCancel = new AbortController();
  /**
   * What cancels each running activity attempt when activityCancel aborts: one listener on its
   * signal serves them all (an EventTarget listener per attempt costs more than the attempt).
   */
  private readonly activityShutdowns = new Set<() => void>();
  private _state: WorkerState = 'initialized';
  private readonly counters = { cacheHits: 0, cacheMisses: 0, workflowTasks: 0, workflowTaskFailures: 0, queries: 0, activities: 0 };
  private runPromise: Promise<void> | undefined;
  /** The first fatal error of a loop: it stops the worker and rejects run(). */
  private fatal: unknown;

  /** Bundles the workflows (or takes a prebuilt bundle) and prepares the isolate pool. */
  static async create(options: WorkerOptions): Promise<Worker> {
    checkKnownKeys('Worker.create', options, OPTION_KEYS);
    if (options === undefined || options === null || typeof options.taskQueue !== 'string' || options.taskQueue === '') {
      throw new InvalidArgumentError('Worker.create: taskQueue must be a non-empty string');
    }
    if (options.workflowsPath !== undefined && options.workflowBundle !== undefined) {
      throw new InvalidArgumentError('Worker.create: give workflowsPath or workflowBundle, not both');
    }
    // Every option is checked before the (slow) bundling starts.
    const checked = Worker.checkOptions(options);
    const bundle =
      options.workflowBundle ??
      (options.workflowsPath !== undefined
        ? await bundleWorkflowCode({
            workflowsPath: options.workflowsPath,
            ...(options.bundleCacheDir ? { cacheDir: options.bundleCacheDir } : {}),
            ...(checked.interceptors.workflowModules.length > 0 ? { workflowInterceptorModules: checked.interceptors.workflowModules } : {}),
          })
        : undefined);
    if (bundle === undefined && options.activities === undefined) {
      throw new InvalidArgumentError('Worker.create: give workflowsPath (or workflowBundle), activities, or both');
    }
    return new Worker(options, checked, bundle);
  }

  private static checkOptions(options: WorkerOptions) {
    const where = 'Worker.create';
    const int = (name: keyof typeof DEFAULTS, min: number, max: number) => checkInteger(where, name, options[name] ?? DEFAULTS[name], min, max);
    if (options.namespace !== undefined && typeof options.namespace !== 'string') {
      throw new InvalidArgumentError(`${where}: namespace must be a string, got ${describe(options.namespace)}`);
    }
    const workflowBundle = options.workflowBundle as unknown;
    if (workflowBundle !== undefined && (typeof workflowBundle !== 'object' || workflowBundle === null || typeof (workflowBundle as WorkflowBundle).hash !== 'string')) {
      const temporal = typeof workflowBundle === 'object' && workflowBundle !== null && ('codePath' in workflowBundle || 'code' in workflowBundle);
      throw new InvalidArgumentError(
        `${where}: workflowBundle must be a bundle from deja's bundleWorkflowCode, got ${temporal ? "Temporal's { codePath } or { code } form, whose code was built for Temporal's runtime" : describe(workflowBundle)}; ` +
          'bundle with deja (bundleWorkflowCode from deja, or from @temporalio/worker under deja/register), or give workflowsPath',
      );
    }
    const ms = (name: 'shutdownGraceTime' | 'shutdownForceTime'): number | undefined => {
      const temporal = options[name];
      if (temporal === undefined) return undefined;
      if (options[`${name}Ms`] !== undefined) throw new InvalidArgumentError(`${where}: give ${name} or ${name}Ms, not both`);
      try {
        return durationToMs(temporal, name);
      } catch (error) {
        throw new InvalidArgumentError(`${where}: ${(error as Error).message}`);
      }
    };
    const graceTime = ms('shutdownGraceTime');
    const forceTime = ms('shutdownForceTime');
    const workflowExecutions = int('maxConcurrentWorkflowTaskExecutions', 1, BOUNDS.maxConcurrentWorkflowTaskExecutions);
    const activities = options.activities ?? {};
    if (typeof activities !== 'object' || activities === null) throw new InvalidArgumentError(`${where}: activities must be an object of functions, got ${describe(activities)}`);
    for (const [name, fn] of Object.entries(activities)) {
      if (typeof fn !== 'function') throw new InvalidArgumentError(`${where}: activity "${name}" must be a function, got ${typeof fn}`);
    }
    if (options.logger !== undefined && typeof options.logger !== 'function') throw new InvalidArgumentError(`${where}: logger must be a function, got ${describe(options.logger)}`);
    if (options.identity !== undefined && (typeof options.identity !== 'string' || options.identity === '')) {
      throw new InvalidArgumentError(`${where}: identity must be a non-empty string, got ${describe(options.identity)}`);
    }
    const connection = options.connection;
    if (connection !== undefined && (typeof connection !== 'object' || connection === null || typeof connection.service?.pollWorkflowTask !== 'function')) {
      throw new InvalidArgumentError(`${where}: connection must be a Connection (an object with a WorkflowService as its service), got ${describe(connection)}`);
    }
    const interceptors = checkWorkerInterceptors(where, options.interceptors);
    if (interceptors.workflowModules.length > 0 && options.workflowBundle !== undefined) {
      warnIgnoredOptions(where, ['interceptors.workflowModules'], 'a prebuilt workflowBundle runs the interceptor modules it was bundled with (bundleWorkflowCode workflowInterceptorModules)');
    }
    const checked = {
      activities,
      interceptors,
      sinks: options.sinks === undefined ? undefined : checkSinks(where, options.sinks),
      maxCached: int('maxCachedWorkflows', 1, BOUNDS.maxCachedWorkflows),
      maxActivities: int('maxConcurrentActivityTaskExecutions', 1, BOUNDS.maxConcurrentActivityTaskExecutions),
      workflowPollers: Math.min(int('maxConcurrentWorkflowTaskPolls', 1, BOUNDS.maxConcurrentWorkflowTaskPolls), workflowExecutions),
      maxWorkflowTasks: workflowExecutions,
      graceMs: graceTime === undefined ? int('shutdownGraceTimeMs', 0, MAX_TIMER_MS) : checkInteger(where, 'shutdownGraceTime (in ms)', graceTime, 0, MAX_TIMER_MS),
      forceMs: forceTime === undefined ? int('shutdownForceTimeMs', 0, MAX_TIMER_MS) : checkInteger(where, 'shutdownForceTime (in ms)', forceTime, 0, MAX_TIMER_MS),
      // The pool checks its own options now, not after bundling.
      pool: new IsolatePool({
        ...(options.isolatePoolSize !== undefined ? { isolatePoolSize: options.isolatePoolSize } : {}),
        ...(options.memoryLimitMb !== undefined ? { memoryLimitMb: options.memoryLimitMb } : {}),
        ...(options.activationTimeoutMs !== undefined ? { activationTimeoutMs: options.activationTimeoutMs } : {}),
        preparedContexts: options.preparedContexts ?? DEFAULTS.preparedContexts,
      }),
    };
    // Named once every option has passed its check: a refused worker has a better message to give.
    const ignored = (Object.keys(IGNORED_WORKER_OPTIONS) as IgnoredWorkerOption[]).filter((name) => options[name] !== undefined);
    warnIgnoredOptions(where, ignored, (name) => IGNORED_WORKER_OPTIONS[name as IgnoredWorkerOption]);
    if (options.namespace !== undefined && options.namespace !== 'default') {
      warnIgnoredOptions(where, ['namespace'], `deja has one namespace, 'default'; this worker serves it (got ${describe(options.namespace)})`);
    }
    return checked;
  }

  private constructor(
    options: WorkerOptions,
    checked: ReturnType<typeof Worker.checkOptions>,
    private readonly bundle: WorkflowBundle | undefined,
  ) {
    this.taskQueue = options.taskQueue;
    this.identity = options.identity ?? `${process.pid}@${hostname()}`;
    // Without a connection: the default backend, as `new Connection()` would open it (and, as before, held for the process's life).
    this.service = options.connection?.service ?? openDefaultBackend().service;
    this.maxCached = checked.maxCached;
    this.maxActivities = checked.maxActivities;
    this.workflowPollers = checked.workflowPollers;
    this.maxWorkflowTasks = checked.maxWorkflowTasks;
    this.graceMs = checked.graceMs;
    this.forceMs = checked.forceMs;
    this.activities = checked.activities;
    this.activityInterceptors = checked.interceptors.activity;
    this.activityCancel.signal.addEventListener(
      'abort',
      () => {
        for (const onShutdown of [...this.activityShutdowns]) onShutdown();
      },
      { once: true },
    );
    this.pool = checked.pool;
    this.logger = options.logger ?? printLine;
    this.sinks = checked.sinks === undefined ? undefined : new SinkDispatcher(checked.sinks, (workflowId, level, message) => this.log(workflowId, level, message));
  }

  /** Calls the worker's sinks for an activation's sink calls (see WorkerOptions.sinks). */
  private readonly sinks: SinkDispatcher | undefined;
  private dispatchSinks(completion: ActivationCompletion, info: WorkflowInfo): void {
    if (completion.sinkCalls === undefined) return;
    if (this.sinks === undefined) {
      this.sinkless ||= (this.log(info.workflowId, 'warn', 'workflow called a sink (proxySinks), but this worker was given no sinks option; its calls are dropped, and later ones are not reported again'), true);
      return;
    }
    this.sinks.dispatch(completion.sinkCalls, info);
  }
  private sinkless = false;

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

  /**
   * Polls until shutdown() is called; resolves when every task in flight has finished (see the
   * shutdown options). The loops are supervised together: if one fails (its service is gone), all
   * stop, tasks in flight finish, and run() rejects with that error as the cause.
   */
  run(): Promise<void> {
    if (this._state !== 'initialized') throw new DejaError('DEJA_INVALID_ARGUMENT', `Worker.run: the worker is ${this._state}; a worker runs once`);
    this._state = 'running';
    trackRunningWorker(this);
    // Polls on an in-process service are only promises, and the service's timer loop is unref'd:
    // a running worker holds the process open itself, as a network poll would.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const supervise = (loop: () => Promise<void>, name: string) =>
      loop().catch((error: unknown) => {
        if (this.fatal === undefined) this.fatal = new DejaError('DEJA_WORKER_FAILED', `worker ${this.identity}: its ${name} loop failed: ${messageOf(error)}`, { cause: error });
        this.report('error', `${messageOf(this.fatal)}; stopping the worker`);
        this.shutdown();
      });
    const loops: Promise<void>[] = [];
    // The first executions need not make their contexts: the isolates prepare some meanwhile.
    if (this.bundle) void this.pool.prepare(this.bundle).catch(() => undefined);
    if (this.bundle) for (let i = 0; i < this.workflowPollers; i++) loops.push(supervise(() => this.workflowLoop(), 'workflow task'));
    if (Object.keys(this.activities).length > 0) loops.push(supervise(() => this.activityLoop(), 'activity task'));
    this.runPromise = Promise.all(loops)
      .then(() => this.drain())
      .finally(() => {
        clearInterval(keepAlive);
        for (const runId of [...this.cache.keys()]) this.evict(runId);
        this.pool.dispose();
        this._state = 'stopped';
        untrackRunningWorker(this);
      })
      .then(() => {
        if (this.fatal !== undefined) throw this.fatal;
      });
    return this.runPromise;
  }

  /**
   * Waits for tasks in flight. Workflow tasks are bounded by their activation deadline; activities
   * get the grace time, then their cancellation signal, then the force time.
   */
  private async drain(): Promise<void> {
    const settled = () => Promise.all([...this.inFlight]).then(() => true);
    const after = (ms: number) =>
      new Promise<false>((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        timer.unref?.();
      });
    if (this.inFlight.size === 0) return;
    if (await Promise.race([settled(), after(this.graceMs)])) return;
    this.activityCancel.abort(new Error('the worker is shutting down'));
    if (await Promise.race([settled(), after(this.forceMs)])) return;
    this.report(
      'warn',
      `worker ${this.identity} stopped with ${this.activeActivities} activit${this.activeActivities === 1 ? 'y' : 'ies'} still running after cancellation; their tasks will be retried once their leases end`,
    );
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

  /** Stops polling; tasks in flight finish (activities within the shutdown grace time). */
  shutdown(): void {
    if (this._state === 'running') this._state = 'stopping';
    this.abort.abort(new DejaError('DEJA_INVALID_ARGUMENT', 'worker shut down'));
    this.activitySlotFreed?.();
    for (const wake of this.workflowSlotWaiters.splice(0)) wake();
  }

  /** The worker's own reports go through the logger with an empty workflowId. */
  private report(level: 'warn' | 'error', message: string): void {
    try {
      this.logger({ workflowId: '', level, message });
    } catch {
      // A logger that throws must not take the worker down with it.
    }
  }

  /**
   * A poll that found nothing. A long poll waits for work before it answers, so one that answers
   * empty at once means its service has nothing to wait on (it was closed under a running worker,
   * or a remote service timed the poll out): pause before polling again, so the loop never spins
   * and starves the event loop. The pause ends at once when the worker stops.
   */
  private pauseAfterEmptyPoll(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.abort.signal.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        this.abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, EMPTY_POLL_PAUSE_MS);
      this.abort.signal.addEventListener('abort', done, { once: true });
    });
  }

  // ── workflow tasks ──────────────────────────────────────────────────────────────────────────

  /**
   * One workflow task poller. It takes a slot before it polls (so tasks in hand never outnumber
   * maxConcurrentWorkflowTaskExecutions), hands the task it gets to its run's queue, and polls
   * again while the task runs; the slot is freed when the task is done.
   */
  private async workflowLoop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      if (this.workflowSlots >= this.maxWorkflowTasks) {
        await new Promise<void>((resolve) => this.workflowSlotWaiters.push(resolve));
        continue;
      }
      this.workflowSlots++;
      let task: WorkflowTask | QueryTask | null;
      try {
        task = await this.service.pollWorkflowTask(this.taskQueue, this.identity, this.abort.signal);
        this.pollTroubles = 0;
      } catch (error) {
        this.freeWorkflowSlot();
        if (this.abort.signal.aborted) return;
        if (await this.waitOutTransient('workflow task', error)) continue;
        throw error;
      }
      if (task === null) {
        this.freeWorkflowSlot();
        await this.pauseAfterEmptyPoll();
        continue;
      }
      const t = task;
      void this.withRunLock(t.runId, () => this.contain(t, () => (t.kind === 'query' ? this.handleQuery(t) : this.handleWorkflowTask(t)))).finally(() => this.freeWorkflowSlot());
    }
  }

  private freeWorkflowSlot(): void {
    this.workflowSlots--;
    this.workflowSlotWaiters.shift()?.();
  }

  /**
   * One task's trouble stays with that task: whatever handling it throws is reported, and the
   * task is left to its lease, which ends and hands it out again.
   */
  private async contain(task: { workflowId: string; kind: string }, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      this.report('error', `worker ${this.identity}: a ${task.kind} task of ${task.workflowId} could not be handed back (${messageOf(error)}); it will be retried when its lease ends`);
    }
  }

  /** Consecutive polls that failed for a passing reason; the backoff grows with it. */
  private pollTroubles = 0;

  /**
   * A poll that failed for a reason that passes (a store busy past its timeout: another process
   * holds the database's write lock; or unavailable: its server is down or unreachable) is reported and retried after a growing pause, up to 5 s,
   * rather than stopping the worker. Any other error is fatal (the service is gone). Returns
   * whether the error was such a passing one (the loop then goes on, unless it was shut down).
   */
  private async waitOutTransient(loop: string, error: unknown): Promise<boolean> {
    // busy: another process holds a SQLite file's write lock; unavailable: a database server is down or unreachable.
    if (!(error instanceof StoreError) || (error.reason !== 'busy' && error.reason !== 'unavailable')) return false;
    const pauseMs = Math.min(5000, 100 * 2 ** Math.min(this.pollTroubles, 6));
    this.pollTroubles++;
    this.report('warn', `worker ${this.identity}: a ${loop} poll found the store ${error.reason} (${messageOf(error)}); polling again in ${pauseMs} ms`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, pauseMs);
      const signal = this.abort.signal;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
    // Shut down meanwhile: the loop's own check ends it.
    return true;
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

  /** The cached execution with the history it has not seen yet, or a fresh one with all of it. */
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
      // Its isolate was dropped while we waited.
      this.evict(task.runId);
      this.counters.cacheHits--;
    }
    this.counters.cacheMisses++;
    const events = upto(await this.service.getHistory(ref));
    const start = events[0] as WorkflowExecutionStartedEvent | undefined;
    if (start?.type !== 'workflowExecutionStarted') {
      throw new DejaError('DEJA_INVALID_HISTORY', `history of ${task.workflowId}/${task.runId} does not begin with workflowExecutionStarted`);
    }
    const init = initFromStart(start);
    const execution = await this.pool.createExecutionAsync(this.bundle!, init, `workflow ${task.workflowId} (${task.workflowType})`);
    this.evict(task.runId); // a concurrent query may have cached one meanwhile
    // The activations the machine replays make their sink calls too (callDuringReplay).
    const runner = {
      activate: (activation: Parameters<SandboxExecution['activate']>[0]) => {
        const completion = execution.activate(activation);
        this.dispatchSinks(completion, init.info);
        return completion;
      },
      // Replay in bulk (see ReplayMachine.prepareRecorded); the sink calls of each completion are
      // made when the machine takes it, in task order, as with `activate`.
      activateRecorded: (activations: Parameters<SandboxExecution['activateRecorded']>[0]) => execution.activateRecorded(activations),
      tookRecorded: (completion: ReturnType<SandboxExecution['activate']>) => this.dispatchSinks(completion, init.info),
    };
    cached = { execution, machine: new ReplayMachine(runner), info: init.info };
    this.cache.set(task.runId, cached);
    this.makeRoom();
    return { cached, events };
  }

  /** Evicts the least recently used executions beyond maxCachedWorkflows, never one in use. */
  private makeRoom(): void {
    if (this.cache.size <= this.maxCached) return;
    for (const runId of [...this.cache.keys()]) {
      if (this.cache.size <= this.maxCached) return;
      if (!this.inUse.has(runId)) this.evict(runId);
    }
  }

  private evict(runId: string): void {
    const cached = this.cache.get(runId);
    if (!cached) return;
    this.cache.delete(runId);
    cached.execution.dispose();
  }

  /**
   * Replays the recorded tasks in `events` synchronously (the fast path), a slice at a time so the
   * event loop turns between slices, and returns the live task's activation, if there is one.
   * A slice ends after a task's outcome event, so each slice holds whole tasks.
   */
  private async replay(cached: CachedExecution, events: HistoryEvent[], updates?: WorkflowTask['updates']): Promise<PendingLiveTask | undefined> {
    // A fresh execution (a cache miss): its recorded tasks go to the isolate in bulk.
    cached.machine.prepareRecorded(events);
    let from = 0;
    while (from < events.length) {
      const live = await cached.execution.exclusive(() => {
        const sliceStart = performance.now();
        while (from < events.length && performance.now() - sliceStart < REPLAY_SLICE_MS) {
          // Up to the next task outcome (or the end): whole tasks only.
          let end = from;
          while (end < events.length && !isTaskOutcome(events[end])) end++;
          // With the command events after it (replay looks there for the task's patch markers and accepted updates):
          // up to the next task's start.
          while (end + 1 < events.length && events[end + 1].type !== 'workflowTaskStarted') end++;
          const slice = events.slice(from, Math.min(end + 1, events.length));
          from += slice.length;
          const pending = cached.machine.advanceToLive(slice, updates);
          if (pending) {
            if (from < events.length) throw new DejaError('DEJA_INVALID_HISTORY', `history of ${cached.execution.label} goes on after its live workflow task ${pending.startedEventId}`);
            return pending;
          }
        }
        return undefined;
      });
      if (live) return live;
      if (from < events.length) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return undefined;
  }

  private async handleWorkflowTask(task: WorkflowTask): Promise<void> {
    this.counters.workflowTasks++;
    this.inUse.add(task.runId);
    let failure: { cause: WorkflowTaskFailedCause; error: unknown } | undefined;
    // The task's lease began about now (its poll): local activities must end well within it.
    const leaseStart = Date.now();
    try {
      const live = await this.rebuildOnce(task, async () => {
        const { cached, events } = await this.executionFor(task, (all) => all.filter((e) => e.eventId <= task.startedEventId));
        const pending = await this.replay(cached, events, task.updates);
        if (!pending) throw new DejaError('DEJA_INVALID_HISTORY', `history of ${task.workflowId} did not end with the task's workflowTaskStarted ${task.startedEventId}`);
        const first = await cached.execution.activateAsync(pending.activation);
        this.dispatchSinks(first, cached.info);
        // Most tasks schedule no local activity: they skip the machinery (and its allocations).
        if (!hasUnrunLocalActivities(first)) return cached.machine.completeLive(pending, first);
        const whole = await completeWithLocalActivities(
          first,
          (jobs) => cached.execution.activateAsync(cached.machine.followUpActivation(pending, jobs)),
          (followUp) => this.dispatchSinks(followUp, cached.info),
          {
            activities: this.activities,
            activityInterceptors: this.activityInterceptors,
            taskQueue: this.taskQueue,
            workflow: { workflowId: task.workflowId, runId: task.runId, workflowType: task.workflowType },
            leaseDeadline: leaseStart + cached.info.taskTimeoutMs * (1 - LOCAL_ACTIVITY_LEASE_MARGIN),
            shutdown: this.activityCancel.signal,
            log: (level, message) => this.log(task.workflowId, level, message),
          },
        );
        return cached.machine.completeLive(pending, whole);
      });
      const completion = live.completion;
      for (const log of completion.logs) this.log(task.workflowId, log.level, log.message);
      if (completion.ok) {
        try {
          await (live.sdkMetadata === undefined
            ? this.service.completeWorkflowTask(task.taskToken, completion.commands)
            : this.service.completeWorkflowTask(task.taskToken, completion.commands, live.sdkMetadata));
        } catch (error) {
          if (closedForHistory(error)) {
            this.evict(task.runId);
            this.report('warn', `workflow ${task.workflowId} was closed by the service: ${messageOf(error)}`);
            return;
          }
          // The service refused what the workflow emitted (a payload too large, too many
          // commands, a malformed command): a bug in the workflow, so the task fails.
          if (isRefusal(error)) {
            throw new DejaError('DEJA_WORKFLOW_TASK_FAILED', `the service refused the commands of ${task.workflowId}'s workflow task: ${messageOf(error)}`, { cause: error });
          }
          throw error;
        }
        this.failureStreaks.delete(task.runId);
        if (completion.commands.some(isClosingCommand)) this.evict(task.runId);
        return;
      }
      this.evict(task.runId);
      this.counters.workflowTaskFailures++;
      await this.taskFailed(task, completion.failure.type === 'DeterminismViolationError' ? 'nondeterminism' : 'workflowError', completion.failure, undefined);
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
    } finally {
      this.inUse.delete(task.runId);
      this.makeRoom();
    }
    this.evict(task.runId);
    this.counters.workflowTaskFailures++;
    await this.taskFailed(task, failure.cause, hostFailure(failure.error), failure.error);
  }

  /**
   * A workflow task failed: its stacks are mapped to the workflow's sources (in history too: host
   * data, never replayed), the failure is logged unless this run's streak logged it already, and
   * the task is failed. `error` is the host-side error, when the failure was not the isolate's.
   */
  private async taskFailed(task: WorkflowTask, cause: WorkflowTaskFailedCause, failure: WireFailure, error: unknown): Promise<void> {
    const scriptName = bundleScriptName(this.bundle!.hash);
    const mapped = this.mapFailure(failure, scriptName, 0);
    // The log shows the first stack in the cause chain that runs through workflow code. A deja
    // error raised on the host (a deadline, nondeterminism found by replay) says what it needs in
    // its message, and its host frames would only mislead; any other host error is a bug in deja,
    // whose own stack is then the useful one.
    let index = failureChain(failure).findIndex((f) => f.stack?.includes(scriptName));
    if (index < 0 && error !== undefined && !(error instanceof DejaError)) index = 0;
    const frames = index < 0 ? undefined : framesOf(failureChain(mapped)[index]?.stack);
    this.logTaskFailure(task, cause, mapped, frames);
    await this.failTask(task, cause, mapped);
  }

  private mapFailure(failure: WireFailure, scriptName: string, depth: number): WireFailure {
    const out: WireFailure = { ...failure };
    if (typeof failure.stack === 'string') out.stack = mapBundleStack(this.bundle!, failure.stack, scriptName);
    if (failure.cause !== undefined && depth < 32) out.cause = this.mapFailure(failure.cause, scriptName, depth + 1);
    return out;
  }

  /** Logs the failure unless this run's failure streak has already logged it (see WorkerLogLine). */
  private logTaskFailure(task: WorkflowTask, cause: WorkflowTaskFailedCause, failure: WireFailure, frames: string | undefined): void {
    let logged = this.failureStreaks.get(task.runId);
    this.failureStreaks.delete(task.runId); // re-inserted below: the oldest streak is forgotten first
    logged ??= new Set();
    this.failureStreaks.set(task.runId, logged);
    if (this.failureStreaks.size > MAX_FAILURE_STREAKS) this.failureStreaks.delete(this.failureStreaks.keys().next().value!);
    const key = `${cause}\0${failure.type ?? ''}\0${failure.message}`;
    if (logged.has(key) || logged.size >= MAX_LOGGED_FAILURES_PER_STREAK) return;
    logged.add(key);
    const what = failure.type !== undefined && failure.type !== '' ? `${failure.type}: ${failure.message}` : failure.message;
    const after =
      logged.size === MAX_LOGGED_FAILURES_PER_STREAK
        ? `it is retried; no further failure of this run is logged until one of its tasks completes`
        : `it is retried; the same failure again is not logged`;
    this.logger$({
      workflowId: task.workflowId,
      level: 'error',
      message: `workflow task failed (${cause}): ${what} [workflow ${task.workflowId}, run ${task.runId}, type ${task.workflowType}, attempt ${task.attempt}]; ${after}`,
      runId: task.runId,
      workflowType: task.workflowType,
      cause,
      attempt: task.attempt,
      ...(frames !== undefined && frames !== '' ? { stack: frames } : {}),
    });
  }

  /**
   * Runs `fn` once more, on a rebuilt execution, when its execution went away while it waited for
   * its turn (another execution in the same isolate hit the memory limit). That is not this
   * task's fault, so it does not fail it.
   */
  private async rebuildOnce<T>(task: { runId: string }, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof SandboxDisposedError)) throw error;
      this.evict(task.runId);
      return fn();
    }
  }

  /** Fails a workflow task; a failure the service refuses is sent again in a minimal form. */
  private async failTask(task: WorkflowTask, cause: WorkflowTaskFailedCause, failure: WireFailure): Promise<void> {
    try {
      await this.service.failWorkflowTask(task.taskToken, cause, checkWireFailure(failure));
    } catch (error) {
      if ((error instanceof DejaError && error.code === 'DEJA_STALE_TASK') || closedForHistory(error)) return;
      if (!isRefusal(error)) throw error;
      await this.service.failWorkflowTask(task.taskToken, cause, minimalFailure(failure, error)).catch((again: unknown) => {
        if (!(again instanceof DejaError && again.code === 'DEJA_STALE_TASK')) throw again;
      });
    }
  }

  private log(workflowId: string, level: string, message: string): void {
    this.logger$({ workflowId, level, message });
  }

  private logger$(line: WorkerLogLine): void {
    try {
      this.logger(line);
    } catch {
      // A logger that throws loses that line, not the task.
    }
  }

  private async handleQuery(task: QueryTask): Promise<void> {
    this.counters.queries++;
    let answer: Parameters<WorkflowService['respondQueryTask']>[1];
    this.inUse.add(task.runId);
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
        // With its command events: replay reads its patch and local activity markers there.
        const completedId = events[end].eventId;
        while (end + 1 < events.length && (events[end + 1] as { workflowTaskCompletedEventId?: number }).workflowTaskCompletedEventId === completedId) end++;
        return events.slice(0, end + 1);
      };
      answer = await this.rebuildOnce(task, async () => {
        let cached = this.cache.get(task.runId);
        if (!cached || cached.execution.disposed) {
          const { cached: fresh, events } = await this.executionFor(task, lastCompleted);
          const live = await this.replay(fresh, events);
          if (live) throw new DejaError('DEJA_INVALID_HISTORY', `history of ${task.workflowId} ends with a workflow task that did not complete`);
          cached = fresh;
        }
        return cached.execution.queryAsync({ queryType: task.queryType, args: task.args });
      });
    } catch (error) {
      this.evict(task.runId);
      answer = { ok: false, failure: errorToFailure(error) };
    } finally {
      this.inUse.delete(task.runId);
      this.makeRoom();
    }
    try {
      await this.service.respondQueryTask(task.taskToken, answer);
    } catch (error) {
      if (error instanceof DejaError && error.code === 'DEJA_STALE_TASK') return;
      if (!(error instanceof DejaError)) throw error;
      // The answer itself was refused (a result that is not JSON, too large, a malformed
      // failure): the query gets that as its answer instead.
      await this.service
        .respondQueryTask(task.taskToken, {
          ok: false,
          failure: { kind: 'application', type: 'QueryFailed', nonRetryable: true, message: `the answer of query "${task.queryType}" could not be delivered: ${error.message}` },
        })
        .catch((again: unknown) => {
          if (!(again instanceof DejaError && again.code === 'DEJA_STALE_TASK')) throw again;
        });
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
        this.pollTroubles = 0;
      } catch (error) {
        if (this.abort.signal.aborted) return;
        if (await this.waitOutTransient('activity task', error)) continue;
        throw error;
      }
      if (task === null) {
        await this.pauseAfterEmptyPoll();
        continue;
      }
      this.activeActivities++;
      const t = task;
      const running = this.contain({ workflowId: t.workflowId, kind: 'activity' }, () => this.runActivity(t)).finally(() => {
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
    // The attempt's cancellation signal is made when the activity first asks for it (most never
    // do); until then a cancellation is only recorded, and a signal made later starts aborted.
    let cancel: AbortController | undefined;
    // Why the attempt was cancelled, first cause only: the service said so (a cancel request, or the
    // task is no longer this worker's), the attempt's deadline, or the worker's shutdown.
    let cancelledBy: 'request' | 'deadline' | 'shutdown' | undefined;
    let reason: CancelledFailure | undefined;
    const signal = (): AbortSignal => {
      if (cancel === undefined) {
        cancel = new AbortController();
        if (reason !== undefined) cancel.abort(reason);
      }
      return cancel.signal;
    };
    const abort = (by: NonNullable<typeof cancelledBy>, message: string) => {
      if (cancelledBy !== undefined) return;
      cancelledBy = by;
      reason = new CancelledFailure(message);
      cancel?.abort(reason);
    };
    const onShutdown = () => abort('shutdown', `activity ${task.activityType} cancelled: worker ${this.identity} is shutting down`);
    if (this.activityCancel.signal.aborted) onShutdown();
    else this.activityShutdowns.add(onShutdown);
    const timer =
      task.deadline !== undefined
        ? setTimeout(() => abort('deadline', `activity ${task.activityType} cancelled: its deadline passed`), Math.min(MAX_TIMER_MS, Math.max(0, task.deadline - Date.now())))
        : undefined;
    const heartbeats = new Heartbeats(
      (details) => this.service.heartbeatActivityTask(task.taskToken, details),
      heartbeatThrottleMs(task.heartbeatTimeoutMs),
      () => abort('request', `activity ${task.activityType} cancelled: the service asked (a cancel request, or its task is no longer this worker's)`),
    );
    const prefix = `activity ${task.activityType} (${task.activityId})`;
    const hooks: ContextHooks = {
      cancellationDetails: () => (cancelledBy === undefined ? undefined : cancellationDetailsFor(cancelledBy)),
      heartbeat: (details) => heartbeats.beat(details),
      log: (level, message) => {
        try {
          this.logger({ workflowId: task.workflowId, level: level.toLowerCase(), message: `${prefix}: ${message}` });
        } catch {
          // A logger that throws must not fail the activity.
        }
      },
    };
    try {
      const fn = this.activities[task.activityType];
      let result: unknown;
      let threw = false;
      let failed: unknown;
      try {
        if (typeof fn !== 'function') {
          throw ApplicationFailure.nonRetryable(
            `activity type "${task.activityType}" is not registered on task queue "${this.taskQueue}"; registered: ${Object.keys(this.activities).join(', ') || '(none)'}`,
            'NotFoundError',
          );
        }
        result = await runActivityFunction(new Context(activityInfo(task, this.taskQueue), signal, hooks), this.activityInterceptors, fn, task.args);
      } catch (error) {
        threw = true;
        failed = error;
      }
      if (threw && failed instanceof CompleteAsyncError) {
        // Completed later from outside (AsyncCompletionClient): the attempt stays open until then or
        // until its timeout. Details waiting to be sent still go, so a retry could resume from them.
        await heartbeats.flush();
        return;
      }
      await heartbeats.flush();
      if (threw && cancelledBy === 'shutdown') {
        // Another worker retries it: the attempt was cut short, it did not fail on its own.
        failed = ApplicationFailure.retryable(`activity ${task.activityType} was cancelled because worker ${this.identity} shut down`, 'WorkerShutdown');
      } else if (threw && cancelledBy === 'request' && isCancellation(failed, reason)) {
        // It gave in to the cancellation (the signal's own error, a CancelledFailure, an AbortError):
        // reported as cancelled. If its task is gone the report is stale and dropped quietly.
        failed = failed instanceof CancelledFailure ? failed : reason;
      } else if (threw && cancelledBy === 'deadline' && isCancellation(failed, reason)) {
        // The service times the attempt out at the same instant (this report is then stale); if its
        // clock is behind, the attempt fails retryably, as a timeout would, not as a cancellation.
        failed = ApplicationFailure.retryable(`activity ${task.activityType} was cancelled when its deadline passed`, 'DeadlineExceeded');
      } else if (threw && !(failed instanceof Error)) {
        // `throw undefined` (or a string, or an object) fails the activity like any error.
        failed = ApplicationFailure.retryable(`activity ${task.activityType} threw ${describeThrown(failed)}, not an Error`, 'Error');
      }
      await this.report$(task, threw ? { failed } : { result });
    } finally {
      heartbeats.close();
      if (timer) clearTimeout(timer);
      this.activityShutdowns.delete(onShutdown);
    }
  }

  /**
   * Reports an activity's outcome. A result that is not plain JSON (NaN, a symbol, a method, a
   * cycle, a getter that throws, a toJSON that changes its answer), and whatever the service still
   * refuses (too large, too deep), becomes a failed activity with a non-retryable PayloadError:
   * the same value would be refused on every attempt. A failure is reduced to a well-formed one
   * first, so an error with a numeric name or a hostile cause still fails the activity cleanly.
   */
  private async report$(task: ActivityTask, outcome: { result: unknown } | { failed: unknown }): Promise<void> {
    const what = `activity ${task.activityType}`;
    let refused: unknown;
    if ('result' in outcome) {
      const plain = toPlainJson(outcome.result);
      if (plain.ok) {
        refused = await this.send(() => this.service.completeActivityTask(task.taskToken, plain.value as Payload));
        if (refused === undefined) return;
      }
      const why = plain.ok ? messageOf(refused) : plain.problem;
      refused = await this.send(() => this.service.failActivityTask(task.taskToken, payloadFailure(`${what} returned a value that deja cannot record: ${why}`)));
    } else {
      let failure: WireFailure;
      try {
        failure = checkWireFailure(errorToFailure(outcome.failed));
        const plain = toPlainJson(failure);
        if (!plain.ok) throw new InvalidArgumentError(plain.problem);
        failure = plain.value as WireFailure;
      } catch (error) {
        failure = payloadFailure(`${what} threw an error that deja cannot record: ${messageOf(error)}`);
      }
      refused = await this.send(() => this.service.failActivityTask(task.taskToken, failure));
      if (refused === undefined) return;
      refused = await this.send(() =>
        this.service.failActivityTask(task.taskToken, payloadFailure(`${what} failed with an error that deja cannot record: ${messageOf(refused)}`)),
      );
    }
    if (refused !== undefined) throw refused;
  }

  /**
   * Sends one report: undefined when it landed (or the task has moved on), the refusal when the
   * service refused its content; any other error (the service is unavailable) is thrown.
   */
  private async send(fn: () => Promise<void>): Promise<unknown> {
    try {
      await fn();
      return undefined;
    } catch (error) {
      if ((error instanceof DejaError && error.code === 'DEJA_STALE_TASK') || closedForHistory(error)) return undefined;
      if (isRefusal(error)) return error;
      throw error;
    }
  }
}

/** The Context's info for a task: Temporal's fields, from what the service gave. */
function activityInfo(task: ActivityTask, taskQueue: string): Info {
  const startedAt = task.startedAt ?? Date.now();
  const scheduledAt = task.scheduledAt ?? startedAt;
  return {
    taskToken: task.taskToken,
    base64TaskToken: Buffer.from(task.taskToken, 'utf8').toString('base64'),
    activityId: task.activityId,
    activityType: task.activityType,
    workflowExecution: { workflowId: task.workflowId, runId: task.runId },
    workflowType: task.workflowType,
    workflowNamespace: 'default',
    activityNamespace: 'default',
    namespace: 'default',
    taskQueue,
    attempt: task.attempt,
    isLocal: false,
    inWorkflow: true,
    heartbeatDetails: task.heartbeatDetails,
    ...(task.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: task.heartbeatTimeoutMs } : {}),
    startToCloseTimeoutMs: task.startToCloseTimeoutMs ?? (task.deadline !== undefined ? Math.max(0, task.deadline - startedAt) : 0),
    scheduleToCloseTimeoutMs: task.scheduleToCloseTimeoutMs ?? 0,
    scheduledTimestampMs: scheduledAt,
    currentAttemptScheduledTimestampMs: task.currentAttemptScheduledAt ?? scheduledAt,
    startedTimestampMs: startedAt,
    workflowId: task.workflowId,
    runId: task.runId,
    ...(task.deadline !== undefined ? { deadline: task.deadline } : {}),
  };
}

/** Whether an activity's error is its giving in to cancellation (`reason`: its signal's), as Temporal's worker reads it. */
function isCancellation(error: unknown, reason: unknown): boolean {
  if (error === reason || error instanceof CancelledFailure) return true;
  try {
    return error instanceof Error && error.name === 'AbortError';
  } catch {
    return false;
  }
}

/**
 * Whether the service closed the run because this request would have taken its history past its
 * maximum: the run is over (failed with HistoryLimitExceeded), so there is nothing left to report.
 */
function closedForHistory(error: unknown): boolean {
  return error instanceof LimitExceededError && (error.limit === 'maxHistoryEvents' || error.limit === 'maxHistoryBytes');
}

/** Whether the service refused the request's content (as opposed to being unavailable). */
function isRefusal(error: unknown): boolean {
  return error instanceof InvalidArgumentError || (error instanceof DejaError && (error.code === 'DEJA_INVALID_ARGUMENT' || error.code === 'DEJA_LIMIT_EXCEEDED' || error.code === 'DEJA_PAYLOAD_TOO_LARGE'));
}

function payloadFailure(message: string): WireFailure {
  return { kind: 'application', type: 'PayloadError', nonRetryable: true, message: truncate(message, 4096) };
}

/** A failure the service refused, cut down to what it surely accepts. */
function minimalFailure(failure: WireFailure, refusal: unknown): WireFailure {
  const type = typeof failure.type === 'string' ? truncate(failure.type, 200) : 'Error';
  return { kind: 'application', type, nonRetryable: false, message: truncate(`${String(failure.message)} (the full failure was refused: ${messageOf(refusal)})`, 4096) };
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function messageOf(error: unknown): string {
  try {
    if (error instanceof Error) return error.message;
    return String(error);
  } catch {
    return '(an error that cannot be described)';
  }
}

function describeThrown(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (typeof value === 'string') return `the string ${JSON.stringify(truncate(value, 200))}`;
  return `a ${typeof value}`;
}

/**
 * The wire form of a host-side error. A workflows module that threw while loading fails as a
 * DejaError whose cause is the isolate's failure: that is kept as the cause, with its stack.
 */
function hostFailure(error: unknown): WireFailure {
  const failure = errorToFailure(error);
  const cause = error instanceof DejaError ? (error as { cause?: unknown }).cause : undefined;
  if (isWireFailureLike(cause)) failure.cause = checkWireFailure(cause);
  return failure;
}

function isWireFailureLike(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !(value instanceof Error) && typeof (value as WireFailure).kind === 'string' && typeof (value as WireFailure).message === 'string';
}

/** A failure and its causes, outermost first. */
function failureChain(failure: WireFailure): WireFailure[] {
  const chain: WireFailure[] = [];
  for (let f: WireFailure | undefined = failure; f !== undefined && chain.length <= 32; f = f.cause) chain.push(f);
  return chain;
}

/**
 * The frame lines of a stack (`    at …`), without its first lines: those repeat the error's
 * message, which is workflow text and is already in the log line.
 */
function framesOf(stack: string | undefined): string | undefined {
  if (stack === undefined) return undefined;
  return stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .join('\n');
}

function isTaskOutcome(e: HistoryEvent): boolean {
  return e.type === 'workflowTaskCompleted' || e.type === 'workflowTaskFailed' || e.type === 'workflowTaskTimedOut';
}

/**
 * Workflow text printed on the host: control characters (newlines, ANSI escapes) are escaped so
 * that a workflow's log line stays one line and cannot forge or recolour the host's own lines.
 */
export function escapeLogText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    switch (c) {
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default:
        return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  });
}

function printLine(line: WorkerLogLine): void {
  let text = line.workflowId === '' ? `[deja] ${escapeLogText(line.message)}` : `[${escapeLogText(line.workflowId)}] ${escapeLogText(line.message)}`;
  // One indented line per frame, each escaped on its own: the block stays one entry.
  if (typeof line.stack === 'string') for (const frame of line.stack.split('\n')) text += `\n    ${escapeLogText(frame.trim())}`;
  if (line.level === 'error' || line.level === 'warn') console.error(text);
  else console.log(text);
}
