/**
 * The sandbox (host side): a pool of V8 isolates, the compiled bundle per isolate, one context per
 * workflow execution, a memory limit per isolate and a CPU deadline per activation. It is the only
 * module that imports isolated-vm. Every call into an isolate is synchronous and carries one JSON
 * string each way; the isolate never calls back.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import ivm from 'isolated-vm';
import {
  ENTRY_POINTS,
  PROTOCOL_VERSION,
  type Activation,
  type ActivationCompletion,
  type Command,
  type ConcludeResult,
  type InitMessage,
  type InitResult,
  type QueryRequest,
  type QueryResult,
  type LogEntry,
  type SdkFlags,
  RECORDED_CONCLUSION,
  RECORDED_NEXT,
  QUERY_PENDING,
  type RecordedActivations,
  type SinkCall,
  type WireFailure,
} from '../../runtime/protocol';
import { readCodeCache, writeCodeCache, type CodeCacheTarget } from '../cache';
import { DejaError, MAX_TIMER_MS, checkInteger, checkKnownKeys } from '../errors';

/**
 * What the sandbox needs of a workflow bundle (the bundler's WorkflowBundle is one): the script,
 * its hash (one compiled script per hash and isolate), the protocol it was built for, and where
 * its V8 code cache lives.
 */
export interface SandboxBundle extends CodeCacheTarget {
  hash: string;
  protocolVersion: number;
}

export interface SandboxOptions {
  /** Isolates in the pool; executions are spread over them. Default 1. */
  isolatePoolSize?: number;
  /** Heap limit of each isolate in MB (at least 8). Default 128. */
  memoryLimitMb?: number;
  /** CPU deadline of one activation (or query) in ms. Default 2000, as Temporal's deadlock timeout. */
  activationTimeoutMs?: number;
  /**
   * Fresh contexts each isolate keeps ready, the bundle already run in them and not yet given to
   * any execution: a new execution then pays only its init. They are made on the isolate's own
   * thread after a context is taken (see `prepare`). Each is used by one execution at most, never
   * again. Default 0 (none).
   */
  preparedContexts?: number;
}

const OPTION_KEYS = ['isolatePoolSize', 'memoryLimitMb', 'activationTimeoutMs', 'preparedContexts'] as const;

/** The upper bound of each option: past these the option is a mistake, not a setting. */
const LIMITS = {
  isolatePoolSize: 64,
  /** 64 GiB: V8 cannot give one isolate more heap than that on any machine deja runs on. */
  memoryLimitMb: 65_536,
  activationTimeoutMs: MAX_TIMER_MS,
  preparedContexts: 64,
} as const;

/** The activation ran past its CPU deadline; the execution's context is discarded. */
export class SandboxTimeoutError extends DejaError {
  constructor(message: string) {
    super('DEJA_SANDBOX_TIMEOUT', message);
  }
}
/** The isolate hit its memory limit and was dropped with every execution in it. */
export class SandboxMemoryError extends DejaError {
  constructor(message: string) {
    super('DEJA_SANDBOX_MEMORY', message);
  }
}
/**
 * A promise rejected in workflow code with no handler. isolated-vm throws it to whoever called
 * into the isolate, so the activation stops half-applied: the context is discarded.
 */
export class UnhandledRejectionError extends DejaError {
  constructor(message: string, cause: unknown) {
    super('DEJA_WORKFLOW_TASK_FAILED', message, { cause });
    if (cause instanceof Error && cause.stack) this.stack = `${this.name}: ${message}\n${cause.stack.split('\n').slice(1).join('\n')}`;
  }
}

/** The execution was disposed (explicitly, or evicted with its isolate). */
export class SandboxDisposedError extends DejaError {
  constructor(message: string) {
    super('DEJA_SANDBOX_DISPOSED', message);
  }
}

/**
 * The name the bundle is compiled under: stack frames of workflow code inside the isolate name
 * their positions as `<this>:line:column`, which the worker maps back to source files.
 */
export function bundleScriptName(hash: string): string {
  return `file:///deja-bundle/${hash.slice(0, 12)}.js`;
}

/**
 * A full garbage collection at exit, in a process that made isolates. Node tears its main isolate
 * down after isolated-vm's environment is gone; if V8 is in the middle of incremental marking then,
 * the teardown finishes it, and the weak callbacks of isolated-vm's handles (a Reference, a
 * Context, an Isolate that became garbage) run with no environment: isolated-vm aborts the process
 * (`IsolateEnvironment::GetCurrent(): Assertion environment != nullptr`, seen in about one test
 * process in four). Collecting at `exit`, while its environment still exists, leaves nothing for
 * the teardown to finish.
 */
let exitCollectionInstalled = false;
function collectAtExit(): void {
  if (exitCollectionInstalled) return;
  exitCollectionInstalled = true;
  process.once('exit', () => {
    try {
      v8.setFlagsFromString('--expose-gc');
      (vm.runInNewContext('gc') as () => void)();
    } catch {
      // A Node without the flag: exit as before.
    }
  });
}

/**
 * A context with the bundle run in it and its entry points bound, not yet initialised: nothing of
 * any execution has been in it. Given to one execution, once.
 */
interface PreparedContext {
  context: ivm.Context;
  refs: Refs;
  init: ivm.Reference;
}

class PooledIsolate {
  readonly isolate: ivm.Isolate;
  readonly scripts = new Map<string, ivm.Script>();
  readonly executions = new Set<SandboxExecution>();
  /** Prepared contexts of the bundle last used here (`sparesOf`); other bundles' are released. */
  private spares: PreparedContext[] = [];
  private sparesOf: string | undefined;
  private preparing: Promise<void> | undefined;
  constructor(
    memoryLimitMb: number,
    readonly counts: { codeCacheHits: number; codeCacheMisses: number; preparedHits: number; chainedActivations: number },
    private readonly spareTarget: number,
    private readonly timeoutMs: number,
  ) {
    this.isolate = new ivm.Isolate({ memoryLimit: memoryLimitMb });
    collectAtExit();
  }

  /** A prepared context of `bundle`, taken out of the spares (never handed out twice), or undefined. */
  takeSpare(bundle: SandboxBundle): PreparedContext | undefined {
    if (this.sparesOf !== bundle.hash) return undefined;
    const spare = this.spares.pop();
    if (spare) this.counts.preparedHits++;
    return spare;
  }

  /**
   * Fills the spares of `bundle` up to their target on the isolate's own thread, one context per
   * turn of the isolate, so activations waiting for it are not held up behind more than one.
   * Resolves when they are full (or the isolate went away).
   */
  prepare(bundle: SandboxBundle): Promise<void> {
    if (this.spareTarget === 0) return Promise.resolve();
    if (this.sparesOf !== bundle.hash) {
      this.releaseSpares();
      this.sparesOf = bundle.hash;
    }
    // Nothing to make: answered here, because the loop below would then end without awaiting, its
    // `finally` would clear `preparing` before `??=` stores the finished promise, and that stale
    // promise would answer every later call: the spares would never be refilled.
    if (this.preparing === undefined && (this.spares.length >= this.spareTarget || this.isolate.isDisposed)) return Promise.resolve();
    this.preparing ??= (async () => {
      try {
        while (this.sparesOf === bundle.hash && this.spares.length < this.spareTarget && !this.isolate.isDisposed) {
          const spare = await this.exclusive(() => this.prepareOne(bundle));
          if (this.sparesOf === bundle.hash && !this.isolate.isDisposed) this.spares.push(spare);
          else releasePrepared(spare, this.isolate);
        }
      } catch {
        // The isolate was disposed (memory limit) or the bundle does not run: executions made
        // without a spare report that themselves.
      } finally {
        this.preparing = undefined;
      }
    })();
    return this.preparing;
  }

  private prepareOne(bundle: SandboxBundle): Promise<PreparedContext> {
    return prepareContext(this.isolate, this.script(bundle), this.timeoutMs, `bundle ${bundle.hash.slice(0, 12)}`);
  }

  private releaseSpares(): void {
    for (const spare of this.spares.splice(0)) releasePrepared(spare, this.isolate);
  }

  /** Compiles the bundle once per isolate, from the on-disk V8 code cache when there is one. */
  script(bundle: SandboxBundle): ivm.Script {
    let script = this.scripts.get(bundle.hash);
    if (script) return script;
    const filename = bundleScriptName(bundle.hash);
    const cached = readCodeCache(bundle);
    if (cached) {
      const copy = new ivm.ExternalCopy(cached.buffer.slice(cached.byteOffset, cached.byteOffset + cached.byteLength) as ArrayBuffer);
      script = this.isolate.compileScriptSync(bundle.code, { filename, cachedData: copy });
      copy.release();
      if ((script as unknown as { cachedDataRejected?: boolean }).cachedDataRejected) script = undefined;
      else this.counts.codeCacheHits++;
    }
    if (!script) {
      this.counts.codeCacheMisses++;
      script = this.isolate.compileScriptSync(bundle.code, { filename, produceCachedData: true });
      const data = (script as unknown as { cachedData?: ivm.ExternalCopy<ArrayBuffer> }).cachedData;
      if (data) writeCodeCache(bundle, Buffer.from(data.copy()));
    }
    this.scripts.set(bundle.hash, script);
    return script;
  }

  /**
   * One activation at a time per isolate. isolated-vm queues calls per isolate anyway; taking
   * turns here keeps the calls of one activation together, so its deadline measures its own work
   * and never the time it waited behind another execution.
   */
  private held = false;
  private readonly turns: (() => void)[] = [];

  async exclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    if (this.held) await new Promise<void>((resolve) => this.turns.push(resolve));
    else this.held = true;
    try {
      return await fn();
    } finally {
      const next = this.turns.shift();
      if (next) next(); // the turn passes directly: `held` stays true
      else this.held = false;
    }
  }

  get busy(): boolean {
    return this.held;
  }

  dispose(): void {
    for (const execution of [...this.executions]) execution.evict('its isolate was disposed');
    this.sparesOf = undefined;
    this.releaseSpares();
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }
}

/**
 * A new context with the compiled bundle run in it and its entry points bound, every step on the
 * isolate's own thread. The reads are asynchronous too: a synchronous one right after an
 * asynchronous call waits for the isolate's thread to let go, blocking the event loop.
 */
async function prepareContext(isolate: ivm.Isolate, script: ivm.Script, timeoutMs: number, what: string): Promise<PreparedContext> {
  const deadline = performance.now() + timeoutMs;
  const context = await isolate.createContext();
  try {
    const ran = script.run(context, { timeout: Math.max(1, Math.ceil(deadline - performance.now())) });
    // The reads are queued behind the run (isolated-vm runs an isolate's calls in order), so the
    // isolate does not wait for the run's answer to reach this thread before it reads; if the run
    // failed, its error is the one reported.
    const global = context.global;
    const read = Promise.all([
      global.get(ENTRY_POINTS.protocolVersion),
      ...[ENTRY_POINTS.activate, ENTRY_POINTS.conclude, ENTRY_POINTS.query, ENTRY_POINTS.loadRecorded, ENTRY_POINTS.takeRecorded, ENTRY_POINTS.init].map(
        (name) => global.get(name, { reference: true }) as Promise<ivm.Reference>,
      ),
    ]);
    // After a failed run nobody takes the references read behind it: release them.
    const releaseAll = (values: unknown[]) => {
      for (const r of values.slice(1)) {
        try {
          (r as ivm.Reference).release();
        } catch {
          // the isolate is gone, and the references with it
        }
      }
    };
    read.then(
      (values) => ran.catch(() => releaseAll(values)),
      () => undefined,
    );
    await ran;
    const [version, activate, conclude, query, loadRecorded, takeRecorded, init] = await read;
    const refs = { activate, conclude, query, loadRecorded, takeRecorded };
    checkEntryPoints(version, { ...refs, init }, what);
    return { context, refs, init };
  } catch (error) {
    if (!isolate.isDisposed) context.release();
    throw error;
  }
}

function releasePrepared(spare: PreparedContext, isolate: ivm.Isolate): void {
  for (const r of Object.values(spare.refs)) r.release();
  spare.init.release();
  if (!isolate.isDisposed) spare.context.release();
}

/**
 * The entry points of a context the bundle has run in: checks the protocol version it speaks and
 * takes a reference to each entry function. `what` names the bundle or execution in errors.
 */
function bindEntryPoints(context: ivm.Context, what: string): { refs: Refs; init: ivm.Reference } {
  const global = context.global;
  const version = global.getSync(ENTRY_POINTS.protocolVersion);
  checkEntryPoints(version, {}, what);
  const ref = (name: string) => {
    const r = global.getSync(name, { reference: true }) as ivm.Reference;
    checkEntryPoints(version, { [name]: r }, what);
    return r;
  };
  return {
    refs: {
      activate: ref(ENTRY_POINTS.activate),
      conclude: ref(ENTRY_POINTS.conclude),
      query: ref(ENTRY_POINTS.query),
      loadRecorded: ref(ENTRY_POINTS.loadRecorded),
      takeRecorded: ref(ENTRY_POINTS.takeRecorded),
    },
    init: ref(ENTRY_POINTS.init),
  };
}

/** The protocol version a context speaks is the host's, and each entry point is a function. */
function checkEntryPoints(version: unknown, refs: Record<string, ivm.Reference | undefined>, what: string): void {
  if (version !== PROTOCOL_VERSION) {
    throw new DejaError(
      'DEJA_PROTOCOL_MISMATCH',
      `the bundle for ${what} speaks protocol ${String(version)}, this host ${PROTOCOL_VERSION}: rebuild it with this version of deja`,
    );
  }
  for (const [name, r] of Object.entries(refs)) {
    if (r?.typeof !== 'function') throw new SandboxProtocolError(`the bundle for ${what} has no entry point ${name}`);
  }
}

export interface SandboxStats {
  isolates: number;
  executions: number;
  /** used_heap_size summed over the isolates, in bytes. */
  usedHeapBytes: number;
  /** Bundle compilations that used the V8 code cache on disk, and those that had to produce it. */
  codeCacheHits: number;
  codeCacheMisses: number;
  /** Executions that started in a prepared context (the `preparedContexts` option). */
  preparedHits: number;
  /** Recorded activations of a bulk replay applied in the same call as the conclude before them. */
  chainedActivations: number;
}

/** A pool of isolates. Create executions with `createExecution`; dispose the pool when done. */
export class IsolatePool {
  private readonly isolates: PooledIsolate[] = [];
  private readonly size: number;
  private readonly memoryLimitMb: number;
  readonly activationTimeoutMs: number;
  private readonly preparedContexts: number;
  private disposed = false;
  private readonly counts = { codeCacheHits: 0, codeCacheMisses: 0, preparedHits: 0, chainedActivations: 0 };

  constructor(options: SandboxOptions = {}) {
    checkKnownKeys('IsolatePool', options, OPTION_KEYS);
    this.size = checkInteger('IsolatePool', 'isolatePoolSize', options.isolatePoolSize ?? 1, 1, LIMITS.isolatePoolSize);
    this.memoryLimitMb = checkInteger('IsolatePool', 'memoryLimitMb', options.memoryLimitMb ?? 128, 8, LIMITS.memoryLimitMb);
    this.activationTimeoutMs = checkInteger('IsolatePool', 'activationTimeoutMs', options.activationTimeoutMs ?? 2000, 1, LIMITS.activationTimeoutMs);
    this.preparedContexts = checkInteger('IsolatePool', 'preparedContexts', options.preparedContexts ?? 0, 0, LIMITS.preparedContexts);
  }

  /** The live isolate with the fewest executions; dead ones are replaced. */
  private pick(): PooledIsolate {
    for (let i = this.isolates.length - 1; i >= 0; i--) {
      if (this.isolates[i].isolate.isDisposed) this.isolates.splice(i, 1)[0].dispose();
    }
    while (this.isolates.length < this.size) this.isolates.push(new PooledIsolate(this.memoryLimitMb, this.counts, this.preparedContexts, this.activationTimeoutMs));
    let best = this.isolates[0];
    for (const p of this.isolates) {
      if (p.busy !== best.busy ? !p.busy : p.executions.size < best.executions.size) best = p;
    }
    return best;
  }

  /**
   * A new context running the bundle, initialised for one workflow execution. `label` names the
   * execution in errors (e.g. "workflow order-1 (processOrder)").
   */
  createExecution(bundle: SandboxBundle, init: InitMessage, label: string): SandboxExecution {
    const { pooled, execution } = this.claim(bundle, label);
    try {
      execution.start(pooled.takeSpare(bundle) ?? pooled.script(bundle), init);
    } catch (error) {
      execution.dispose();
      throw execution.translate(error, 'starting');
    } finally {
      void pooled.prepare(bundle);
    }
    return execution;
  }

  /**
   * The same, with the workflow module's top level run on the isolate's own thread. The bundle is
   * compiled synchronously the first time an isolate sees it (from the V8 code cache when there is
   * one): that runs no workflow code.
   */
  async createExecutionAsync(bundle: SandboxBundle, init: InitMessage, label: string): Promise<SandboxExecution> {
    const { pooled, execution } = this.claim(bundle, label);
    try {
      await pooled.exclusive(() => execution.startAsync(pooled.takeSpare(bundle) ?? pooled.script(bundle), init));
    } catch (error) {
      execution.dispose();
      throw execution.translate(error, 'starting');
    } finally {
      void pooled.prepare(bundle);
    }
    return execution;
  }

  /**
   * Makes each isolate's prepared contexts of `bundle` (the `preparedContexts` option) now, on the
   * isolates' own threads; resolves when they are ready. Executions made meanwhile still start,
   * without one. A no-op when the option is 0.
   */
  async prepare(bundle: SandboxBundle): Promise<void> {
    this.checkBundle(bundle);
    if (this.preparedContexts === 0) return;
    this.pick();
    await Promise.all(this.isolates.map((p) => p.prepare(bundle)));
  }

  private checkBundle(bundle: SandboxBundle): void {
    if (this.disposed) throw new SandboxDisposedError('the isolate pool has been disposed');
    if (bundle.protocolVersion !== PROTOCOL_VERSION) {
      throw new DejaError(
        'DEJA_PROTOCOL_MISMATCH',
        `bundle ${bundle.hash.slice(0, 12)} was built for protocol ${bundle.protocolVersion}, this host speaks ${PROTOCOL_VERSION}: rebuild it with this version of deja`,
      );
    }
  }

  private claim(bundle: SandboxBundle, label: string): { pooled: PooledIsolate; execution: SandboxExecution } {
    this.checkBundle(bundle);
    const pooled = this.pick();
    return { pooled, execution: new SandboxExecution(pooled, label, this.activationTimeoutMs) };
  }

  stats(): SandboxStats {
    let usedHeapBytes = 0;
    let executions = 0;
    for (const p of this.isolates) {
      if (p.isolate.isDisposed) continue;
      usedHeapBytes += p.isolate.getHeapStatisticsSync().used_heap_size;
      executions += p.executions.size;
    }
    return { isolates: this.isolates.length, executions, usedHeapBytes, ...this.counts };
  }

  dispose(): void {
    this.disposed = true;
    for (const p of this.isolates.splice(0)) p.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * How many times one activation may call `__dejaConclude`. Each round runs the continuations of
 * the `condition()`s that have just resolved; a workflow that keeps resolving conditions
 * (`for (;;) await condition(() => true)`) would otherwise loop until its deadline. The cap also
 * bounds the timers isolated-vm keeps per activation: it leaves every call's timer in its queue
 * until that timer's time, and thousands of them due at one instant overflow its timer thread's
 * stack (a crash of the whole process, seen with isolated-vm 5.0.4 after 70,000 rounds).
 */
export const MAX_CONCLUDE_ROUNDS = 1000;

/**
 * The largest completion (JSON text, in UTF-16 code units) the host accepts from an isolate. The
 * service's payload limits are far lower; this only keeps a hostile answer from reaching them.
 */
export const MAX_COMPLETION_CHARS = 64 * 1024 * 1024;

/** A malformed answer from the isolate: workflow code tampered with the runtime. */
export class SandboxProtocolError extends DejaError {
  constructor(message: string) {
    super('DEJA_WORKFLOW_TASK_FAILED', message);
  }
}

type Refs = {
  activate: ivm.Reference;
  conclude: ivm.Reference;
  query: ivm.Reference;
  loadRecorded: ivm.Reference;
  takeRecorded: ivm.Reference;
};

/**
 * What `activateRecorded` gives back: the completions of the activations it ran, in order, and
 * the error the next one threw, if one did (a timeout, the memory limit, an unhandled rejection:
 * what `activate` would have thrown for it).
 */
export interface RecordedRun {
  completions: ActivationCompletion[];
  error?: unknown;
}

/** One workflow execution's context. Not reusable after `dispose()` or eviction. */
export class SandboxExecution {
  private context: ivm.Context | undefined;
  private refs: Refs | undefined;
  private evictedBecause: string | undefined;

  constructor(
    private readonly pooled: PooledIsolate,
    readonly label: string,
    private readonly timeoutMs: number,
  ) {
    pooled.executions.add(this);
  }

  get disposed(): boolean {
    return this.context === undefined;
  }

  /**
   * Runs `fn` when this execution's isolate is free, holding it meanwhile. The asynchronous
   * methods take their turn themselves; a caller that mixes them with synchronous calls (the
   * worker replays synchronously and runs live tasks asynchronously) wraps its synchronous work in
   * this, or the synchronous call would block the event loop until the running one ends.
   */
  exclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    return this.pooled.exclusive(fn);
  }

  /**
   * @internal Initialises the execution (synchronously) in a prepared context, or in a new one
   * the bundle's compiled script is run in first.
   */
  start(from: ivm.Script | PreparedContext, init: InitMessage): void {
    let init$: ivm.Reference;
    if (from instanceof ivm.Script) {
      this.context = this.pooled.isolate.createContextSync();
      from.runSync(this.context, { timeout: this.timeoutMs });
      init$ = this.bind();
    } else {
      ({ context: this.context, refs: this.refs, init: init$ } = from);
    }
    try {
      this.checkInit(init$.applySync(undefined, [JSON.stringify(init)], { timeout: this.timeoutMs }));
    } finally {
      // Held until the host collects it, it would keep the context alive in the isolate.
      init$.release();
    }
  }

  /** @internal The same, with the isolate's work on its own thread (the event loop goes on). */
  async startAsync(from: ivm.Script | PreparedContext, init: InitMessage): Promise<void> {
    const deadline = performance.now() + this.timeoutMs;
    let init$: ivm.Reference;
    const prepared = from instanceof ivm.Script ? await prepareContext(this.pooled.isolate, from, this.timeoutMs, this.label) : from;
    ({ context: this.context, refs: this.refs, init: init$ } = prepared);
    try {
      this.checkInit(await init$.apply(undefined, [JSON.stringify(init)], { timeout: this.remaining(deadline, 'starting') }));
    } finally {
      init$.release();
    }
  }

  private bind(): ivm.Reference {
    const { refs, init } = bindEntryPoints(this.context!, this.label);
    this.refs = refs;
    return init;
  }

  private checkInit(answer: unknown): void {
    const result = this.parse(answer, 'init') as InitResult;
    if (result.ok === true) return;
    const failure = checkWireFailure(result.ok === false ? result.failure : undefined);
    throw new DejaError('DEJA_WORKFLOW_TASK_FAILED', `loading the workflows module for ${this.label} failed: ${failure.message}`, { cause: failure });
  }

  private live(): Refs {
    if (this.refs === undefined || this.context === undefined) {
      throw new SandboxDisposedError(`the sandbox of ${this.label} is gone (${this.evictedBecause ?? 'disposed'}); rebuild it by replay`);
    }
    return this.refs;
  }

  /**
   * The time left before `deadline`, for the next call's timeout. The deadline covers the whole
   * activation, every conclude round included; once it has passed no further call is made.
   */
  private remaining(deadline: number, what: string): number {
    const left = Math.ceil(deadline - performance.now());
    if (left <= 0) throw new SandboxTimeoutError(this.deadlineMessage(what));
    return left;
  }

  private deadlineMessage(what: string): string {
    return `${what} of ${this.label} ran past its ${this.timeoutMs} ms CPU deadline (activationTimeoutMs); look for a loop that never awaits`;
  }

  /**
   * Applies one activation and returns its completion, synchronously: the fast path, for replay.
   * Throws SandboxTimeoutError or SandboxMemoryError (the execution is then disposed) for a
   * runaway activation.
   */
  activate(activation: Activation): ActivationCompletion {
    const refs = this.live();
    const deadline = performance.now() + this.timeoutMs;
    try {
      refs.activate.applySync(undefined, [JSON.stringify(activation)], { timeout: this.remaining(deadline, 'an activation') });
      // Each call returns with the microtask queue drained; conclude until no condition resolves.
      for (let round = 1; ; round++) {
        const answer = refs.conclude.applySync(undefined, [], { timeout: this.remaining(deadline, 'an activation') });
        const result = this.concluded(answer, round);
        if (result) return result;
      }
    } catch (error) {
      throw this.fail(error, 'an activation');
    }
  }

  /**
   * Runs the activations of recorded tasks in order, as `activate` would one by one, with their
   * jobs keyed from history (see RecordedActivations): the activations cross as one JSON string,
   * each task is one or two calls with no JSON (a conclude may apply the next task's activation in
   * the same call: RECORDED_CONCLUSION.completedNext), and the completions come back as one JSON
   * string. Stops after a failed completion, and before an activation whose keys the isolate
   * cannot resolve (the caller goes on with `activate`). Each activation has its own CPU deadline,
   * as with `activate`. An error is returned, not thrown, with the completions before
   * it; the execution is then disposed, as `activate` does.
   */
  activateRecorded(activations: readonly Activation[]): RecordedRun {
    const completions: ActivationCompletion[] = [];
    let refs: Refs;
    try {
      refs = this.live();
    } catch (error) {
      return { completions, error };
    }
    let ran = 0;
    try {
      refs.loadRecorded.applySync(undefined, [JSON.stringify({ activations: activations as Activation[] } satisfies RecordedActivations)], { timeout: this.timeoutMs });
      // An activation's deadline runs from the call that applied it: its own `activate`, or the
      // conclude of the task before when that applied it (completedNext). That call is bounded by
      // what is left of the task before's deadline, so a task applied that way may be stopped
      // sooner than alone, only when the one before used most of its own: the deadline is there
      // for runaway code, and a task that close to it is one already.
      let applied = false;
      let deadline = 0;
      for (let i = 0; i < activations.length; i++) {
        if (!applied) {
          deadline = performance.now() + this.timeoutMs;
          if (refs.activate.applySync(undefined, [RECORDED_NEXT], { timeout: this.remaining(deadline, 'an activation') }) !== true) break;
        }
        let code: unknown;
        for (let round = 1; ; round++) {
          const start = performance.now();
          code = refs.conclude.applySync(undefined, [true], { timeout: this.remaining(deadline, 'an activation') });
          if (code === RECORDED_CONCLUSION.completedNext) {
            deadline = start + this.timeoutMs;
            this.pooled.counts.chainedActivations++;
          }
          if (code !== RECORDED_CONCLUSION.again) break;
          if (round >= MAX_CONCLUDE_ROUNDS) throw this.roundsError();
        }
        ran++;
        applied = code === RECORDED_CONCLUSION.completedNext;
        if (code !== RECORDED_CONCLUSION.completed && !applied) break;
      }
      this.takeRecorded(refs, completions, ran);
      return { completions };
    } catch (error) {
      // The completions kept before the error, when the context still answers (a timeout, an
      // unhandled rejection; not the memory limit, which took the isolate). A call that kept one
      // task's completion and was then stopped in the next task's activation kept one more than
      // the calls that returned counted: the error belongs to the task after the last kept one.
      try {
        if (!this.pooled.isolate.isDisposed) this.takeRecorded(refs, completions, ran, ran + 1);
      } catch {
        completions.length = 0;
      }
      if (error instanceof SandboxMemoryError) return { completions, error }; // checkAllocation dropped the isolate already
      return { completions, error: this.fail(error, 'an activation') };
    }
  }

  private takeRecorded(refs: Refs, into: ActivationCompletion[], expected: number, atMost = expected): void {
    const answer: unknown = refs.takeRecorded.applySync(undefined, [], { timeout: this.timeoutMs });
    if (typeof answer !== 'string') throw new SandboxProtocolError(`conclude of ${this.label} answered with a ${typeof answer}, not a JSON string`);
    let values: unknown;
    try {
      values = JSON.parse(answer);
    } catch (error) {
      throw new SandboxProtocolError(`conclude of ${this.label} answered with text that is not JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(values) || values.length < expected || values.length > atMost) {
      throw new SandboxProtocolError(`the recorded run of ${this.label} answered with something other than its ${expected} completions`);
    }
    for (const value of values as unknown[]) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new SandboxProtocolError(`conclude of ${this.label} answered with ${Array.isArray(value) ? 'an array' : String(value)}, not an object`);
      }
      const completion = checkCompletion(value as Record<string, unknown>, this.label);
      if (!completion.ok) this.checkAllocation(completion.failure, 'an activation');
      into.push(completion);
    }
  }

  private roundsError(): SandboxTimeoutError {
    return new SandboxTimeoutError(
      `an activation of ${this.label} resolved condition() ${MAX_CONCLUDE_ROUNDS} rounds in a row without settling; look for a loop around a condition that is already true`,
    );
  }

  /**
   * The same, with every call run on the isolate's own thread: the event loop (activities,
   * heartbeats, other workflows) goes on while workflow code runs. About 30–70 µs a call instead
   * of 1.5 µs, so the worker uses it for live tasks, whose code may be new, and replays old ones
   * synchronously.
   */
  activateAsync(activation: Activation): Promise<ActivationCompletion> {
    return this.pooled.exclusive(async () => {
      const refs = this.live();
      const deadline = performance.now() + this.timeoutMs;
      try {
        // The first conclude is queued right behind the activation, without waiting for the
        // activation's answer to reach this thread: isolated-vm runs an isolate's calls in order,
        // each after the previous one's microtasks have drained, so it sees what it would see if
        // it were sent after. It saves a round trip through the event loop while the isolate
        // waits. If the activation fails, its error is the task's, as before, and the conclude's
        // answer is dropped. A conclude behind an activation stopped at its deadline runs no
        // workflow code: the runtime refuses an entry point while one was cut off inside another.
        const activated = refs.activate.apply(undefined, [JSON.stringify(activation)], { timeout: this.remaining(deadline, 'an activation') });
        const first = refs.conclude.apply(undefined, [], { timeout: this.remaining(deadline, 'an activation') });
        first.catch(() => undefined); // awaited below unless the activation failed
        await activated;
        this.live();
        let answer: unknown = await first;
        // The first conclude's timeout was set before the activation ran: the deadline, which
        // covers the whole activation, is checked here instead, as the next call's would be.
        this.remaining(deadline, 'an activation');
        for (let round = 1; ; round++) {
          const result = this.concluded(answer, round);
          if (result) return result;
          answer = await this.live().conclude.apply(undefined, [], { timeout: this.remaining(deadline, 'an activation') });
        }
      } catch (error) {
        throw this.fail(error, 'an activation');
      }
    });
  }

  /** The completion in a conclude answer, or undefined when another round is due. */
  private concluded(answer: unknown, round: number): ActivationCompletion | undefined {
    const result = this.parse(answer, 'conclude') as ConcludeResult;
    if ('again' in result && (result as { again: unknown }).again === true && Object.keys(result).length === 1) {
      if (round >= MAX_CONCLUDE_ROUNDS) throw this.roundsError();
      return undefined;
    }
    const completion = checkCompletion(result, this.label);
    if (!completion.ok) this.checkAllocation(completion.failure, 'an activation');
    return completion;
  }

  /**
   * An ArrayBuffer larger than what is left of the memory limit fails with a RangeError inside
   * the isolate instead of disposing it, and leaves the isolate's accounting near its limit until
   * V8 collects the garbage: the next execution to allocate there would pay for it. An
   * allocation failure is therefore handled as the memory limit it is: the isolate goes.
   */
  private checkAllocation(failure: WireFailure, what: string): void {
    if (failure.type === 'RangeError' && /allocation failed/i.test(failure.message)) {
      this.pooled.dispose();
      throw new SandboxMemoryError(
        `${what} of ${this.label} exceeded the isolate memory limit (${failure.message}); the isolate was dropped with its executions, which will be rebuilt by replay`,
      );
    }
  }

  /** Runs a query handler; never produces commands. */
  query(request: QueryRequest): QueryResult {
    const refs = this.live();
    try {
      let answer = refs.query.applySync(undefined, [JSON.stringify(request)], { timeout: this.timeoutMs });
      // Inbound interceptors answer a query asynchronously: take the answer after the microtasks ran.
      if (answer === QUERY_PENDING) answer = refs.query.applySync(undefined, [], { timeout: this.timeoutMs });
      return this.answered(answer, request);
    } catch (error) {
      throw this.fail(error, `query "${request.queryType}"`);
    }
  }

  /** The same on the isolate's own thread. */
  queryAsync(request: QueryRequest): Promise<QueryResult> {
    return this.pooled.exclusive(async () => {
      const refs = this.live();
      try {
        let answer = await refs.query.apply(undefined, [JSON.stringify(request)], { timeout: this.timeoutMs });
        if (answer === QUERY_PENDING) answer = await refs.query.apply(undefined, [], { timeout: this.timeoutMs });
        return this.answered(answer, request);
      } catch (error) {
        throw this.fail(error, `query "${request.queryType}"`);
      }
    });
  }

  private answered(answer: unknown, request: QueryRequest): QueryResult {
    const result = checkQueryResult(this.parse(answer, 'query'), this.label);
    if (!result.ok) this.checkAllocation(result.failure, `query "${request.queryType}"`);
    return result;
  }

  /** The isolate's answer is data from code we do not trust: a string of JSON, of bounded size. */
  private parse(answer: unknown, entry: string): Record<string, unknown> {
    if (typeof answer !== 'string') throw new SandboxProtocolError(`${entry} of ${this.label} answered with a ${typeof answer}, not a JSON string`);
    if (answer.length > MAX_COMPLETION_CHARS) {
      throw new SandboxProtocolError(`${entry} of ${this.label} answered with ${answer.length} characters, more than the ${MAX_COMPLETION_CHARS} the host accepts`);
    }
    let value: unknown;
    try {
      value = JSON.parse(answer);
    } catch (error) {
      throw new SandboxProtocolError(`${entry} of ${this.label} answered with text that is not JSON: ${(error as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new SandboxProtocolError(`${entry} of ${this.label} answered with ${Array.isArray(value) ? 'an array' : String(value)}, not an object`);
    }
    return value as Record<string, unknown>;
  }

  /**
   * After a timeout, an out-of-memory, an unhandled rejection or a malformed answer the context's
   * state is unknown: it is discarded. Our entry points catch everything else, so any other error
   * thrown out of the isolate is a rejection that workflow code left unhandled.
   */
  private fail(error: unknown, what: string): unknown {
    let translated = this.translate(error, what);
    if (translated === error && !(error instanceof DejaError)) {
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      translated = new UnhandledRejectionError(`${what} of ${this.label} left a promise rejection unhandled: ${text}`, error);
    }
    this.dispose();
    return translated;
  }

  /** @internal Maps isolated-vm's errors to ours, naming the workflow and the limit. */
  translate(error: unknown, what: string): unknown {
    if (this.pooled.isolate.isDisposed) {
      this.pooled.dispose();
      return new SandboxMemoryError(
        `${what} of ${this.label} exceeded the isolate memory limit; the isolate was dropped with its executions, which will be rebuilt by replay`,
      );
    }
    const message = error instanceof Error ? error.message : String(error);
    if (/Script execution timed out/.test(message)) return new SandboxTimeoutError(this.deadlineMessage(what));
    return error;
  }

  /** @internal Called when the isolate goes away. */
  evict(reason: string): void {
    this.evictedBecause = reason;
    this.release();
  }

  private release(): void {
    this.pooled.executions.delete(this);
    if (this.refs) for (const r of Object.values(this.refs)) r.release();
    this.refs = undefined;
    if (this.context && !this.pooled.isolate.isDisposed) this.context.release();
    this.context = undefined;
  }

  dispose(): void {
    this.evictedBecause ??= 'disposed';
    this.release();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

// ---- checks of what comes out of the isolate ----

const LOG_LEVELS = new Set(['debug', 'info', 'warn', 'error']);
const FAILURE_KINDS = new Set(['application', 'activity', 'timeout', 'cancelled', 'terminated', 'server']);

/**
 * A failure from the isolate, reduced to a well-formed WireFailure: fields of the wrong type are
 * dropped or turned into strings, so a workflow that throws `ApplicationFailure.create({ type: 5 })`
 * fails its task or query with a readable message instead of a failure the service refuses.
 */
export function checkWireFailure(value: unknown, depth = 0): WireFailure {
  if (typeof value !== 'object' || value === null) {
    return { kind: 'application', type: 'Error', message: `a failure that is not an object (${String(value)})`, nonRetryable: false };
  }
  const f = value as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? undefined : safeString(v));
  const out: WireFailure = {
    kind: FAILURE_KINDS.has(f.kind as string) ? (f.kind as WireFailure['kind']) : 'application',
    message: text(f.message) ?? '',
  };
  const type = text(f.type);
  if (type !== undefined) out.type = type;
  const stack = text(f.stack);
  if (stack !== undefined) out.stack = stack;
  if (typeof f.nonRetryable === 'boolean') out.nonRetryable = f.nonRetryable;
  if (Array.isArray(f.details)) out.details = f.details as WireFailure['details'];
  for (const key of ['activityType', 'activityId'] as const) {
    const v = text(f[key]);
    if (v !== undefined) out[key] = v;
  }
  if (typeof f.retryState === 'string') out.retryState = f.retryState as WireFailure['retryState'];
  if (typeof f.timeoutType === 'string') out.timeoutType = f.timeoutType as WireFailure['timeoutType'];
  if (f.cause !== undefined && depth < 32) out.cause = checkWireFailure(f.cause, depth + 1); // the runtime cuts at 20
  return out;
}

function safeString(v: unknown): string {
  try {
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

function checkLogs(value: unknown, label: string): LogEntry[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new SandboxProtocolError(`an activation of ${label} answered with logs that are not an array`);
  const logs: LogEntry[] = [];
  for (const entry of value as unknown[]) {
    const e = entry as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || typeof e.message !== 'string' || !LOG_LEVELS.has(e.level as string) || typeof e.timestamp !== 'number') {
      throw new SandboxProtocolError(`an activation of ${label} answered with a malformed log entry`);
    }
    logs.push({ level: e.level as LogEntry['level'], message: e.message, timestamp: e.timestamp });
  }
  return logs;
}

/**
 * The shape of a completion: `ok`, then commands or a failure, then logs. The commands' fields are
 * checked by the service when the task completes (and by the replay engine against history); here
 * only what the host itself reads.
 */
function checkCompletion(value: Record<string, unknown>, label: string): ActivationCompletion {
  const logs = checkLogs(value.logs, label);
  const sinkCalls = checkSinkCalls(value.sinkCalls, label);
  if (value.ok === false) return sinkCalls ? { ok: false, failure: checkWireFailure(value.failure), logs, sinkCalls } : { ok: false, failure: checkWireFailure(value.failure), logs };
  if (value.ok !== true || !Array.isArray(value.commands)) {
    throw new SandboxProtocolError(`an activation of ${label} answered with something that is not a completion (expected ok and commands)`);
  }
  for (const c of value.commands as unknown[]) {
    if (typeof c !== 'object' || c === null || typeof (c as { type?: unknown }).type !== 'string') {
      throw new SandboxProtocolError(`an activation of ${label} answered with a command that has no type`);
    }
  }
  const completion: ActivationCompletion = sinkCalls ? { ok: true, commands: value.commands as Command[], logs, sinkCalls } : { ok: true, commands: value.commands as Command[], logs };
  if (value.usedFlags !== undefined) completion.usedFlags = checkUsedFlags(value.usedFlags, label);
  return completion;
}

/** The SDK flags a completion says it used: lists of flag ids (positive integers). */
function checkUsedFlags(value: unknown, label: string): SdkFlags {
  const ids = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => Number.isSafeInteger(x) && (x as number) > 0);
  const f = value as Record<string, unknown> | null;
  if (typeof f !== 'object' || f === null || !ids(f.lang) || !ids(f.core)) {
    throw new SandboxProtocolError(`an activation of ${label} answered with usedFlags that are not { lang, core } lists of flag ids`);
  }
  return { lang: [...f.lang], core: [...f.core] };
}

/** The sink calls of a completion (proxySinks), when it made any: only what the worker reads. */
function checkSinkCalls(value: unknown, label: string): SinkCall[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new SandboxProtocolError(`an activation of ${label} answered with sink calls that are not an array`);
  if (value.length === 0) return undefined;
  const calls: SinkCall[] = [];
  for (const entry of value as unknown[]) {
    const e = entry as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || typeof e.ifaceName !== 'string' || typeof e.fnName !== 'string' || !Array.isArray(e.args) || typeof e.isReplaying !== 'boolean') {
      throw new SandboxProtocolError(`an activation of ${label} answered with a malformed sink call`);
    }
    calls.push({ ifaceName: e.ifaceName, fnName: e.fnName, args: e.args, isReplaying: e.isReplaying });
  }
  return calls;
}

function checkQueryResult(value: Record<string, unknown>, label: string): QueryResult {
  if (value.ok === true) return 'result' in value && value.result !== undefined ? { ok: true, result: value.result } : { ok: true };
  if (value.ok === false) return { ok: false, failure: checkWireFailure(value.failure) };
  throw new SandboxProtocolError(`a query of ${label} answered with something that is not a query result`);
}
