/**
 * TestWorkflowEnvironment (host side, for tests): `@temporalio/testing`'s integration-test
 * environment, in process. createTimeSkipping() and createLocal() each own a LocalWorkflowService
 * over a private MemoryStore, reachable only through `env.connection`, `env.nativeConnection` and
 * `env.client`; teardown() closes it. createFromExistingServer() holds a backend named by address
 * instead, and teardown() lets go of it.
 *
 * createTimeSkipping() runs the service on a virtual clock: real time plus an offset that only
 * grows. Time skips (the offset jumps to the next due instant: a timer, a retry's backoff, a
 * timeout, a lease end, a schedule's fire time, and the service ticks) only when nothing is
 * runnable: no workflow task, query or activity task claimable on a queue a worker of this
 * environment polls, and no task held by such a worker. Skipping is on while a result is awaited
 * through this environment's connection (`handle.result()`, `client.workflow.execute`), Temporal's
 * "unlocked while waiting for a result", and during `env.sleep(duration)`, which moves time by
 * exactly that much, firing what falls due on the way in order. Activities run on real time: an
 * activity in flight holds automatic skipping (its clock still runs), but not `env.sleep`, so an
 * activity may call `env.sleep` to stand for long work. There is no `connection.testService`:
 * skipping cannot be locked or unlocked by hand.
 *
 * createLocal() runs the same service on the system clock: no skipping, and `env.sleep` sleeps.
 *
 * The environment reads the real clock here, at the edge, as the system clock does; the engine
 * reads only the Clock it is given.
 */
import { Client, Connection, type ClientOptions } from '../client';
import { MemoryStore } from '../backends/memory';
import { LocalWorkflowService, type Clock } from '../engine';
import { checkKnownKeys, DejaError, describe, InvalidArgumentError, warnIgnoredOptions } from '../errors';
import type { WorkflowService } from '../service';
import { NativeConnection, nativeConnectionOver } from '../worker/connection';
import type { ActivityClient } from '../client/temporal-client';
import type { WorkflowClient } from '../client';
import { durationToMs, type Duration } from '../../runtime/time';

/** Client options for the environment's client: its connection and namespace are the environment's. */
export type ClientOptionsForTestEnv = Omit<ClientOptions, 'connection' | 'namespace'>;

/** Options of `TestWorkflowEnvironment.createTimeSkipping` (Temporal's shape; `server` and `plugins` are accepted, not acted on). */
export interface TimeSkippingTestWorkflowEnvironmentOptions {
  /** Temporal's test server settings (`executable`, `port`, `extraArgs`): there is no server to start. */
  server?: { executable?: unknown; port?: number; extraArgs?: string[] };
  client?: ClientOptionsForTestEnv;
  plugins?: unknown[];
}

/** Options of `TestWorkflowEnvironment.createLocal` (Temporal's shape; `server` and `plugins` are accepted, not acted on). */
export interface LocalTestWorkflowEnvironmentOptions {
  /** Temporal's dev server settings: there is no server to start. `namespace` other than 'default' is warned about. */
  server?: {
    executable?: unknown;
    dbFilename?: string;
    namespace?: string;
    ip?: string;
    port?: number;
    ui?: boolean;
    uiPort?: number;
    log?: { format: string; level: string };
    extraArgs?: string[];
    searchAttributes?: unknown[];
  };
  client?: ClientOptionsForTestEnv;
  plugins?: unknown[];
}

/** Options of `TestWorkflowEnvironment.createFromExistingServer`. */
export interface ExistingServerTestWorkflowEnvironmentOptions {
  /** Read as a backend, as Connection.connect reads it. Default: the default backend (DEJA_BACKEND, else SQLite). */
  address?: string;
  /** deja has one namespace, 'default'; another is accepted with a warning. */
  namespace?: string;
  client?: ClientOptionsForTestEnv;
  plugins?: unknown[];
}

/** What an environment was made with, and whether it skips time. */
export type TestWorkflowEnvironmentOptions = (TimeSkippingTestWorkflowEnvironmentOptions | LocalTestWorkflowEnvironmentOptions | ExistingServerTestWorkflowEnvironmentOptions) & {
  readonly supportsTimeSkipping: boolean;
};

const TIME_SKIPPING_SERVER_KEYS = ['executable', 'port', 'extraArgs'] as const;
const LOCAL_SERVER_KEYS = ['executable', 'dbFilename', 'namespace', 'ip', 'port', 'ui', 'uiPort', 'log', 'extraArgs', 'searchAttributes'] as const;

/** While skipping finds nothing to skip to (a workflow waits on a signal or an activity), it looks again this often. */
const IDLE_LOOK_MS = 5;
/** While a worker has work, settle looks again after this many event-loop turns, then every few ms. */
const EAGER_LOOKS = 20;
const BUSY_LOOK_MS = 2;

/** Real time plus an offset that only grows: what a time-skipping environment's service reads. */
class SkippingClock implements Clock {
  private offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  /** Moves time forward to `at` (never back). */
  advanceTo(at: number): void {
    const by = at - this.now();
    if (by > 0) this.offsetMs += by;
  }
}

interface Sleeper {
  until: number;
  resolve(): void;
  reject(err: Error): void;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Drives a time-skipping environment's clock. It makes `view`, the service as the environment's
 * workers and clients see it (counting the polls in progress, the tasks workers hold and the
 * result waits), and reads the store to tell whether anything is runnable or due.
 */
class TimeSkipper {
  /** Task tokens held by this environment's workers (polled, not yet answered). */
  private readonly heldWorkflow = new Set<string>();
  private readonly heldActivity = new Set<string>();
  /**
   * Polls in progress per queue: a task is runnable only on a queue a worker of this environment
   * is polling (a worker shut down leaves work that nothing here will run, and time may move).
   */
  private readonly workflowPolls = new Map<string, number>();
  private readonly activityPolls = new Map<string, number>();
  /** Result waits in progress: skipping is on while there is one. */
  private unlocks = 0;
  private sleepers: Sleeper[] = [];
  private driving: Promise<void> | undefined;
  private closed = false;
  /** The service as this environment's connections see it. */
  readonly view: WorkflowService;

  constructor(
    private readonly service: LocalWorkflowService,
    private readonly store: MemoryStore,
    readonly clock: SkippingClock,
  ) {
    this.view = this.makeView();
  }

  /** Advances virtual time by `ms`, letting workflows react to what falls due on the way. */
  sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.reject(closedError('sleep'));
    return new Promise<void>((resolve, reject) => {
      this.sleepers.push({ until: this.clock.now() + ms, resolve, reject });
      this.drive();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const sleeper of this.sleepers.splice(0)) sleeper.reject(closedError('sleep'));
    await this.driving;
  }

  private makeView(): WorkflowService {
    const service = this.service;
    const overrides: Partial<Record<keyof WorkflowService, unknown>> = {
      pollWorkflowTask: async (taskQueue: string, identity: string, signal: AbortSignal) => {
        const task = await counted(this.workflowPolls, taskQueue, () => service.pollWorkflowTask(taskQueue, identity, signal));
        if (task) this.heldWorkflow.add(task.taskToken);
        return task;
      },
      pollActivityTask: async (taskQueue: string, identity: string, signal: AbortSignal) => {
        const task = await counted(this.activityPolls, taskQueue, () => service.pollActivityTask(taskQueue, identity, signal));
        if (task) this.heldActivity.add(task.taskToken);
        return task;
      },
      getWorkflowOutcome: async (...args: Parameters<WorkflowService['getWorkflowOutcome']>) => {
        this.unlocks++;
        this.drive();
        try {
          return await service.getWorkflowOutcome(...args);
        } finally {
          this.unlocks--;
        }
      },
    };
    for (const name of ['completeWorkflowTask', 'failWorkflowTask', 'respondQueryTask'] as const) {
      overrides[name] = (token: string, ...rest: unknown[]) =>
        (service[name] as (token: string, ...rest: unknown[]) => Promise<void>).call(service, token, ...rest).finally(() => this.heldWorkflow.delete(token));
    }
    for (const name of ['completeActivityTask', 'failActivityTask'] as const) {
      overrides[name] = (token: string, ...rest: unknown[]) =>
        (service[name] as (token: string, ...rest: unknown[]) => Promise<void>).call(service, token, ...rest).finally(() => this.heldActivity.delete(token));
    }
    return refusingPollsAfterTeardown(viewOf(service, overrides), () => this.closed);
  }

  private wanted(): boolean {
    return !this.closed && (this.unlocks > 0 || this.sleepers.length > 0);
  }

  /** Starts the driving loop unless it runs; it ends when no wait wants time to move. */
  private drive(): void {
    if (this.driving || !this.wanted()) return;
    this.driving = this.loop()
      .catch((err: unknown) => {
        // Nobody awaits the loop: report, and let the next wait start it again.
        if (!this.closed) process.emitWarning(err instanceof Error ? err : String(err), { type: 'DejaWarning' });
      })
      .finally(() => {
        this.driving = undefined;
        // A wait that began as the loop ended.
        if (this.wanted()) setImmediate(() => this.drive());
      });
  }

  private async loop(): Promise<void> {
    while (this.wanted()) {
      // env.sleep does not wait for activities in flight: one of them may be the caller.
      if (!(await this.settle(this.sleepers.length === 0))) continue;
      const now = this.clock.now();
      this.wake(now);
      if (!this.wanted()) break;
      const due = await this.nextDue(now);
      const until = this.sleepers.length > 0 ? Math.min(...this.sleepers.map((s) => s.until)) : undefined;
      let next = due !== undefined && (until === undefined || due <= until) ? due : undefined;
      if (until !== undefined && (next === undefined || until < next)) next = until;
      if (next === undefined) {
        // Nothing due: a workflow waits for a signal, a client call, or an activity that runs on.
        await delay(IDLE_LOOK_MS);
        continue;
      }
      if (next > now) this.clock.advanceTo(next);
      await this.service.tick();
      // Due already (the service's own loop is about to run it): give it a moment rather than spin.
      if (next <= now) await delay(1);
    }
  }

  /** Resolves the sleeps that have reached their instant. */
  private wake(now: number): void {
    const [done, waiting] = [this.sleepers.filter((s) => s.until <= now), this.sleepers.filter((s) => s.until > now)];
    this.sleepers = waiting;
    for (const sleeper of done) sleeper.resolve();
  }

  /**
   * Waits until this environment's workers have nothing to do, seen twice across a turn of the
   * event loop (a task claimed in the store reaches the held set a few microtasks later). False
   * when the wait was given up (closed, or nobody wants time to move any more).
   */
  private async settle(withActivities: boolean): Promise<boolean> {
    let looks = 0;
    for (let quiet = 0; quiet < 2; ) {
      await (looks++ < EAGER_LOOKS ? turn() : delay(BUSY_LOOK_MS));
      if (!this.wanted()) return false;
      if (this.sleepers.length > 0) withActivities = false;
      quiet = (await this.busy(withActivities)) ? 0 : quiet + 1;
    }
    return true;
  }

  private busy(withActivities: boolean): Promise<boolean> {
    const now = this.clock.now();
    return this.store.transaction(
      async (tx) => {
        // A held token whose lease is gone (expired, or answered some other way) is held no more.
        for (const token of this.heldWorkflow) if (!(await tx.tasks.byToken(token)) && !(await tx.queries.byToken(token))) this.heldWorkflow.delete(token);
        for (const token of this.heldActivity) if (!(await tx.tasks.byToken(token))) this.heldActivity.delete(token);
        if (this.heldWorkflow.size > 0 || (withActivities && this.heldActivity.size > 0)) return true;
        for (const queue of this.workflowPolls.keys()) if ((await tx.tasks.claimable('workflow', queue, now)) || (await tx.queries.claimable(queue))) return true;
        for (const queue of this.activityPolls.keys()) if (await tx.tasks.claimable('activity', queue, now)) return true;
        return false;
      },
      { readOnly: true },
    );
  }

  /** The next instant the service has work at: a timer (schedules' included), a backoff's end, a lease's end. */
  private nextDue(now: number): Promise<number | undefined> {
    return this.store.transaction(
      async (tx) => {
        const [timerAt, taskAt] = [await tx.timers.nextFireAt(), await tx.tasks.nextDueAt(now)];
        return timerAt === undefined ? taskAt : taskAt === undefined ? timerAt : Math.min(timerAt, taskAt);
      },
      { readOnly: true },
    );
  }
}

/**
 * The service as seen through an environment that may be torn down: after teardown a poll is
 * refused with an error that says so, rather than answered "no task" at once (which a worker left
 * running would ask again, and again, without ever yielding to the event loop).
 */
function refusingPollsAfterTeardown(service: WorkflowService, tornDown: () => boolean): WorkflowService {
  const refuse = (): Promise<never> =>
    Promise.reject(new DejaError('DEJA_SERVICE_CLOSED', 'TestWorkflowEnvironment: the environment was torn down; shut its workers down before teardown()'));
  const overrides: Partial<Record<keyof WorkflowService, unknown>> = {
    pollWorkflowTask: (...args: Parameters<WorkflowService['pollWorkflowTask']>) => (tornDown() ? refuse() : service.pollWorkflowTask(...args)),
    pollActivityTask: (...args: Parameters<WorkflowService['pollActivityTask']>) => (tornDown() ? refuse() : service.pollActivityTask(...args)),
  };
  return viewOf(service, overrides);
}

/** `service` with some methods replaced; every other one is the service's own, called with `this` the service. */
function viewOf(service: WorkflowService, overrides: Partial<Record<keyof WorkflowService, unknown>>): WorkflowService {
  return new Proxy(service, {
    get: (target, prop, receiver) => {
      if (Object.prototype.hasOwnProperty.call(overrides, prop)) return overrides[prop as keyof WorkflowService];
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as WorkflowService;
}

/** Runs a poll, counting it in `polls` under its queue while it is in progress. */
async function counted<T>(polls: Map<string, number>, queue: unknown, poll: () => Promise<T>): Promise<T> {
  if (typeof queue !== 'string') return poll(); // the service refuses it
  polls.set(queue, (polls.get(queue) ?? 0) + 1);
  try {
    return await poll();
  } finally {
    const left = polls.get(queue)! - 1;
    if (left > 0) polls.set(queue, left);
    else polls.delete(queue);
  }
}

function closedError(what: string): DejaError {
  return new DejaError('DEJA_SERVICE_CLOSED', `TestWorkflowEnvironment.${what}: the environment was torn down`);
}

/** Checks `opts` and names the options deja accepts without acting on them. */
function checkEnvOptions(where: string, opts: unknown, keys: readonly string[], serverKeys: readonly string[]): void {
  if (opts === undefined) return;
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    throw new InvalidArgumentError(`${where}: expected an options object ({ ${keys.map((k) => `${k}?`).join(', ')} }) or nothing, got ${describe(opts)}`);
  }
  checkKnownKeys(where, opts, keys);
  const o = opts as Record<string, unknown>;
  const ignored: string[] = [];
  const reasons: Record<string, string> = {};
  if (o.server !== undefined) {
    if (typeof o.server !== 'object' || o.server === null || Array.isArray(o.server)) {
      throw new InvalidArgumentError(`${where}: server must be an options object, got ${describe(o.server)}`);
    }
    checkKnownKeys(`${where}: server`, o.server, serverKeys);
    for (const [key, value] of Object.entries(o.server)) {
      if (value === undefined || (key === 'namespace' && value === 'default')) continue;
      const name = `server.${key}`;
      ignored.push(name);
      reasons[name] =
        key === 'namespace'
          ? "deja has one namespace, 'default'"
          : key === 'searchAttributes'
            ? 'deja keeps no search attribute registry: a workflow may set any'
            : 'the environment runs in process: no server to start';
    }
  }
  if (o.client !== undefined) {
    if (typeof o.client !== 'object' || o.client === null || Array.isArray(o.client)) {
      throw new InvalidArgumentError(`${where}: client must be an options object (Client options without connection and namespace), got ${describe(o.client)}`);
    }
    for (const key of ['connection', 'namespace']) {
      if ((o.client as Record<string, unknown>)[key] !== undefined) {
        throw new InvalidArgumentError(`${where}: client.${key} is the environment's own; give the other Client options (identity, …)`);
      }
    }
  }
  if (o.plugins !== undefined) {
    if (!Array.isArray(o.plugins)) throw new InvalidArgumentError(`${where}: plugins must be an array, got ${describe(o.plugins)}`);
    ignored.push('plugins');
    reasons.plugins = 'plugins are not supported';
  }
  if (ignored.length > 0) warnIgnoredOptions(where, ignored, (name) => reasons[name]!);
}

export class TestWorkflowEnvironment {
  /** Always 'default': deja has one namespace. */
  readonly namespace = 'default';
  /** A Connection to this environment's service (for another Client, `new Client({ connection: env.connection })`). */
  readonly connection: Connection;
  /** For workers: `Worker.create({ connection: env.nativeConnection, … })`. */
  readonly nativeConnection: NativeConnection;
  /** A Client on this environment; in a time-skipping one, awaiting a result skips time. */
  readonly client: Client;
  /** @deprecated Temporal's older name: `client.workflow`. */
  readonly workflowClient: WorkflowClient;
  /** @deprecated Temporal's older name: `client.activity`. */
  readonly asyncCompletionClient: ActivityClient;
  readonly options: Readonly<TestWorkflowEnvironmentOptions>;

  private torndown: Promise<void> | undefined;

  /**
   * An environment whose clock skips ahead whenever every workflow waits on time and a result is
   * awaited (or `sleep` is called). See the module comment for when exactly it skips.
   */
  static async createTimeSkipping(opts?: TimeSkippingTestWorkflowEnvironmentOptions): Promise<TestWorkflowEnvironment> {
    checkEnvOptions('TestWorkflowEnvironment.createTimeSkipping', opts, ['server', 'client', 'plugins'], TIME_SKIPPING_SERVER_KEYS);
    const store = new MemoryStore();
    const clock = new SkippingClock();
    const service = new LocalWorkflowService({ store, clock });
    const skipper = new TimeSkipper(service, store, clock);
    return new TestWorkflowEnvironment(opts ?? {}, true, {
      connection: new Connection({ backend: skipper.view }),
      nativeConnection: nativeConnectionOver(skipper.view),
      skipper,
      close: () => service.close(),
    });
  }

  /** An environment on the real clock, on a private in-memory backend: no time skipping; `sleep` really sleeps. */
  static async createLocal(opts?: LocalTestWorkflowEnvironmentOptions): Promise<TestWorkflowEnvironment> {
    checkEnvOptions('TestWorkflowEnvironment.createLocal', opts, ['server', 'client', 'plugins'], LOCAL_SERVER_KEYS);
    const service = new LocalWorkflowService({ store: new MemoryStore() });
    let closed = false;
    const view = refusingPollsAfterTeardown(service, () => closed);
    return new TestWorkflowEnvironment(opts ?? {}, false, {
      connection: new Connection({ backend: view }),
      nativeConnection: nativeConnectionOver(view),
      close: () => {
        closed = true;
        return service.close();
      },
    });
  }

  /**
   * An environment on a backend that exists already: `address` is read as Connection.connect
   * reads it (absent or `localhost:7233`: the default backend; `sqlite:…`, `memory:…`,
   * `postgres://…`: that backend). Real clock, no skipping. teardown() releases this
   * environment's holds on the backend; the backend closes when its last holder lets go.
   */
  static async createFromExistingServer(opts?: ExistingServerTestWorkflowEnvironmentOptions): Promise<TestWorkflowEnvironment> {
    const where = 'TestWorkflowEnvironment.createFromExistingServer';
    checkEnvOptions(where, opts, ['address', 'namespace', 'client', 'plugins'], []);
    if (opts?.namespace !== undefined && opts.namespace !== 'default') warnIgnoredOptions(where, ['namespace'], "deja has one namespace, 'default'");
    const address = opts?.address;
    const connection = await Connection.connect(address === undefined ? {} : { address });
    let nativeConnection: NativeConnection;
    try {
      nativeConnection = await NativeConnection.connect(address === undefined ? {} : { address });
    } catch (err) {
      await connection.close();
      throw err;
    }
    return new TestWorkflowEnvironment(opts ?? {}, false, { connection, nativeConnection, close: async () => {} });
  }

  private readonly skipper: TimeSkipper | undefined;
  private readonly closeService: () => Promise<void>;

  private constructor(
    opts: TimeSkippingTestWorkflowEnvironmentOptions | LocalTestWorkflowEnvironmentOptions | ExistingServerTestWorkflowEnvironmentOptions,
    readonly supportsTimeSkipping: boolean,
    parts: { connection: Connection; nativeConnection: NativeConnection; skipper?: TimeSkipper; close(): Promise<void> },
  ) {
    this.options = Object.freeze({ ...opts, supportsTimeSkipping });
    this.connection = parts.connection;
    this.nativeConnection = parts.nativeConnection;
    this.skipper = parts.skipper;
    this.closeService = parts.close;
    try {
      this.client = new Client({ ...(opts.client ?? {}), connection: this.connection });
    } catch (err) {
      void this.teardown();
      throw err;
    }
    this.workflowClient = this.client.workflow;
    this.asyncCompletionClient = this.client.activity;
  }

  /**
   * Waits `duration` (ms or a string such as '1 day') of this environment's time: in a
   * time-skipping environment time moves by that much at once, firing what falls due on the way
   * (each workflow reacts before time moves on); in a local one it is a real sleep.
   */
  sleep = async (duration: Duration): Promise<void> => {
    let ms: number;
    try {
      ms = durationToMs(duration, 'TestWorkflowEnvironment.sleep');
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
    if (this.torndown) throw closedError('sleep');
    if (this.skipper) return this.skipper.sleep(ms);
    await delay(ms);
  };

  /** This environment's time, in ms since the epoch: virtual in a time-skipping one, else the system clock. */
  async currentTimeMs(): Promise<number> {
    return this.skipper ? this.skipper.clock.now() : Date.now();
  }

  /**
   * Stops time skipping, ends pending sleeps (they reject), and closes the service (waits and
   * polls on it end). Workers on `nativeConnection` are the caller's: shut them down first.
   * Calling it again does nothing more.
   */
  teardown(): Promise<void> {
    this.torndown ??= (async () => {
      await this.skipper?.close();
      await this.nativeConnection.close();
      await this.connection.close();
      await this.closeService();
    })();
    return this.torndown;
  }
}
