/**
 * The sandbox (host side): a pool of V8 isolates, the compiled bundle per isolate, one context per
 * workflow execution, a memory limit per isolate and a CPU deadline per activation. It is the only
 * module that imports isolated-vm. Every call into an isolate is synchronous and carries one JSON
 * string each way; the isolate never calls back.
 */
import ivm from 'isolated-vm';
import {
  ENTRY_POINTS,
  PROTOCOL_VERSION,
  type Activation,
  type ActivationCompletion,
  type ConcludeResult,
  type InitMessage,
  type InitResult,
  type QueryRequest,
  type QueryResult,
} from '../../runtime/protocol';
import { readCodeCache, writeCodeCache, type WorkflowBundle } from '../bundler';
import { DejaError, checkInteger, checkKnownKeys } from '../errors';

export interface SandboxOptions {
  /** Isolates in the pool; executions are spread over them. Default 1. */
  isolatePoolSize?: number;
  /** Heap limit of each isolate in MB (at least 8). Default 128. */
  memoryLimitMb?: number;
  /** CPU deadline of one activation (or query) in ms. Default 2000, as Temporal's deadlock timeout. */
  activationTimeoutMs?: number;
}

const OPTION_KEYS = ['isolatePoolSize', 'memoryLimitMb', 'activationTimeoutMs'] as const;

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

class PooledIsolate {
  readonly isolate: ivm.Isolate;
  readonly scripts = new Map<string, ivm.Script>();
  readonly executions = new Set<SandboxExecution>();
  constructor(
    memoryLimitMb: number,
    private readonly counts: { codeCacheHits: number; codeCacheMisses: number },
  ) {
    this.isolate = new ivm.Isolate({ memoryLimit: memoryLimitMb });
  }

  /** Compiles the bundle once per isolate, from the on-disk V8 code cache when there is one. */
  script(bundle: WorkflowBundle): ivm.Script {
    let script = this.scripts.get(bundle.hash);
    if (script) return script;
    const filename = `file:///deja-bundle/${bundle.hash.slice(0, 12)}.js`;
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

  dispose(): void {
    for (const execution of [...this.executions]) execution.evict('its isolate was disposed');
    if (!this.isolate.isDisposed) this.isolate.dispose();
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
}

/** A pool of isolates. Create executions with `createExecution`; dispose the pool when done. */
export class IsolatePool {
  private readonly isolates: PooledIsolate[] = [];
  private readonly size: number;
  private readonly memoryLimitMb: number;
  readonly activationTimeoutMs: number;
  private disposed = false;
  private readonly counts = { codeCacheHits: 0, codeCacheMisses: 0 };

  constructor(options: SandboxOptions = {}) {
    checkKnownKeys('IsolatePool', options, OPTION_KEYS);
    this.size = checkInteger('IsolatePool', 'isolatePoolSize', options.isolatePoolSize ?? 1);
    this.memoryLimitMb = checkInteger('IsolatePool', 'memoryLimitMb', options.memoryLimitMb ?? 128, 8);
    this.activationTimeoutMs = checkInteger('IsolatePool', 'activationTimeoutMs', options.activationTimeoutMs ?? 2000);
  }

  /** The live isolate with the fewest executions; dead ones are replaced. */
  private pick(): PooledIsolate {
    for (let i = this.isolates.length - 1; i >= 0; i--) {
      if (this.isolates[i].isolate.isDisposed) this.isolates.splice(i, 1)[0].dispose();
    }
    while (this.isolates.length < this.size) this.isolates.push(new PooledIsolate(this.memoryLimitMb, this.counts));
    let best = this.isolates[0];
    for (const p of this.isolates) if (p.executions.size < best.executions.size) best = p;
    return best;
  }

  /**
   * A new context running the bundle, initialised for one workflow execution. `label` names the
   * execution in errors (e.g. "workflow order-1 (processOrder)").
   */
  createExecution(bundle: WorkflowBundle, init: InitMessage, label: string): SandboxExecution {
    if (this.disposed) throw new SandboxDisposedError('the isolate pool has been disposed');
    if (bundle.protocolVersion !== PROTOCOL_VERSION) {
      throw new DejaError(
        'DEJA_PROTOCOL_MISMATCH',
        `bundle ${bundle.hash.slice(0, 12)} was built for protocol ${bundle.protocolVersion}, this host speaks ${PROTOCOL_VERSION}: rebuild it with this version of deja`,
      );
    }
    const pooled = this.pick();
    const execution = new SandboxExecution(pooled, label, this.activationTimeoutMs);
    try {
      execution.start(pooled.script(bundle), init);
    } catch (error) {
      execution.dispose();
      throw execution.translate(error, 'starting');
    }
    return execution;
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

/** One workflow execution's context. Not reusable after `dispose()` or eviction. */
export class SandboxExecution {
  private context: ivm.Context | undefined;
  private refs: { activate: ivm.Reference; conclude: ivm.Reference; query: ivm.Reference } | undefined;
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

  /** @internal */
  start(script: ivm.Script, init: InitMessage): void {
    this.context = this.pooled.isolate.createContextSync();
    script.runSync(this.context, { timeout: this.timeoutMs });
    const global = this.context.global;
    const version = global.getSync(ENTRY_POINTS.protocolVersion);
    if (version !== PROTOCOL_VERSION) {
      throw new DejaError(
        'DEJA_PROTOCOL_MISMATCH',
        `the bundle for ${this.label} speaks protocol ${String(version)}, this host ${PROTOCOL_VERSION}: rebuild it with this version of deja`,
      );
    }
    const ref = (name: string) => global.getSync(name, { reference: true }) as ivm.Reference;
    this.refs = { activate: ref(ENTRY_POINTS.activate), conclude: ref(ENTRY_POINTS.conclude), query: ref(ENTRY_POINTS.query) };
    const init$ = ref(ENTRY_POINTS.init);
    const result = JSON.parse(init$.applySync(undefined, [JSON.stringify(init)], { timeout: this.timeoutMs }) as string) as InitResult;
    init$.release();
    if (!result.ok) {
      throw new DejaError('DEJA_WORKFLOW_TASK_FAILED', `loading the workflows module for ${this.label} failed: ${result.failure.message}`, {
        cause: result.failure,
      });
    }
  }

  private live(): NonNullable<SandboxExecution['refs']> {
    if (this.refs === undefined || this.context === undefined) {
      throw new SandboxDisposedError(`the sandbox of ${this.label} is gone (${this.evictedBecause ?? 'disposed'}); rebuild it by replay`);
    }
    return this.refs;
  }

  /**
   * Applies one activation and returns its completion. Throws SandboxTimeoutError or
   * SandboxMemoryError (the execution is then disposed) for a runaway activation.
   */
  activate(activation: Activation): ActivationCompletion {
    const refs = this.live();
    const deadline = performance.now() + this.timeoutMs;
    const remaining = () => Math.max(1, Math.ceil(deadline - performance.now()));
    try {
      refs.activate.applySync(undefined, [JSON.stringify(activation)], { timeout: remaining() });
      // Each call returns with the microtask queue drained; conclude until no condition resolves.
      for (;;) {
        const result = JSON.parse(refs.conclude.applySync(undefined, [], { timeout: remaining() }) as string) as ConcludeResult;
        if (!('again' in result)) return result;
      }
    } catch (error) {
      throw this.fail(error, 'an activation');
    }
  }

  /** Runs a query handler; never produces commands. */
  query(request: QueryRequest): QueryResult {
    const refs = this.live();
    try {
      return JSON.parse(refs.query.applySync(undefined, [JSON.stringify(request)], { timeout: this.timeoutMs }) as string) as QueryResult;
    } catch (error) {
      throw this.fail(error, `query "${request.queryType}"`);
    }
  }

  /**
   * After a timeout, an out-of-memory or an unhandled rejection the context's state is unknown:
   * it is discarded. Our entry points catch everything else, so any other error thrown out of the
   * isolate is a rejection that workflow code left unhandled.
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
    if (/Script execution timed out/.test(message)) {
      return new SandboxTimeoutError(
        `${what} of ${this.label} ran past its ${this.timeoutMs} ms CPU deadline (activationTimeoutMs); look for a loop that never awaits`,
      );
    }
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
