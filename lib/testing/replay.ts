/**
 * replayHistory / replayHistories (host side): replay recorded histories against workflow code
 * and report nondeterminism before a deploy. Bundles once and replays each history in a fresh
 * context (module state never carries from one history to the next).
 *
 * The isolate pool a replay needs (a new isolate, and the bundle compiled in it) cost about 5 ms
 * of the 44 ms a 1000-activity history took, and a replay test suite calls replayHistory once per
 * history. So a finished call leaves its pool warm for the next call with the same sandbox
 * options, for IDLE_POOL_MS; then it is disposed. Only the isolate is shared, never a context;
 * the idle timer is unref'd, so a warm pool never keeps the process alive.
 */
import type { History } from '../history/events';
import { parseHistory, type TemporalHistoryJson } from '../history';
import { bundleWorkflowCode, type WorkflowBundle } from '../bundler';
import { IsolatePool, type SandboxOptions } from '../sandbox';
import { ReplayMachine, initFromStart } from '../replay';
import { InvalidArgumentError, InvalidHistoryError, checkKnownKeys, warnIgnoredOptions } from '../errors';
import { checkWorkerInterceptors, type WorkerInterceptors } from '../worker/interceptors';

export interface ReplayOptions extends SandboxOptions {
  workflowsPath?: string;
  workflowBundle?: WorkflowBundle;
  bundleCacheDir?: string;
  /**
   * Temporal's worker interceptors: with `workflowsPath`, the `workflowModules` are bundled with
   * the workflows and run in the replay. A `workflowBundle` runs the modules it was built with
   * (bundleWorkflowCode's `workflowInterceptorModules`; a warning says these are not added). Activity interceptors are accepted and
   * unused: a replay runs no activity.
   */
  interceptors?: WorkerInterceptors;
}

const KEYS = ['workflowsPath', 'workflowBundle', 'bundleCacheDir', 'isolatePoolSize', 'memoryLimitMb', 'activationTimeoutMs', 'interceptors'] as const;

/**
 * A history to replay: a deja History, or the text or bytes of a history file (deja's, or a
 * Temporal export: JSON of either dialect or binary protobuf), or a parsed Temporal export.
 */
export type ReplayInput = History | string | Uint8Array | TemporalHistoryJson;

export interface ReplayResult {
  workflowId: string;
  runId: string;
  /** Undefined when the history replayed cleanly. */
  error?: Error;
}

async function prepare(where: string, options: ReplayOptions): Promise<{ bundle: WorkflowBundle; sandbox: SandboxOptions }> {
  checkKnownKeys(where, options, KEYS);
  if ((options.workflowsPath === undefined) === (options.workflowBundle === undefined)) {
    throw new InvalidArgumentError(`${where}: give exactly one of workflowsPath or workflowBundle`);
  }
  const { workflowModules } = checkWorkerInterceptors(where, options.interceptors);
  if (workflowModules.length > 0 && options.workflowBundle !== undefined) {
    warnIgnoredOptions(where, ['interceptors.workflowModules'], 'a prebuilt workflowBundle runs the interceptor modules it was bundled with (bundleWorkflowCode workflowInterceptorModules)');
  }
  const bundle =
    options.workflowBundle ??
    (await bundleWorkflowCode({
      workflowsPath: options.workflowsPath!,
      ...(options.bundleCacheDir ? { cacheDir: options.bundleCacheDir } : {}),
      ...(workflowModules.length > 0 ? { workflowInterceptorModules: workflowModules } : {}),
    }));
  const { workflowsPath: _w, workflowBundle: _b, bundleCacheDir: _c, interceptors: _i, ...sandbox } = options;
  return { bundle, sandbox };
}

/** How long a finished replayHistory call keeps its isolate pool warm for the next one. */
export const IDLE_POOL_MS = 5_000;

/** At most one warm pool per set of sandbox options (the key), waiting for the next call. */
const idlePools = new Map<string, { pool: IsolatePool; timer: ReturnType<typeof setTimeout> }>();

function poolKey(options: SandboxOptions): string {
  return JSON.stringify([options.isolatePoolSize, options.memoryLimitMb, options.activationTimeoutMs, options.preparedContexts]);
}

/** The warm pool for these options (taken: concurrent calls never share one), or a new one. */
function borrowPool(options: SandboxOptions): IsolatePool {
  const key = poolKey(options);
  const idle = idlePools.get(key);
  if (idle === undefined) return new IsolatePool(options);
  idlePools.delete(key);
  clearTimeout(idle.timer);
  return idle.pool;
}

/** Keeps `pool` warm for IDLE_POOL_MS, unless another is already waiting for the same options. */
function returnPool(options: SandboxOptions, pool: IsolatePool): void {
  const key = poolKey(options);
  if (idlePools.has(key)) {
    pool.dispose();
    return;
  }
  const timer = setTimeout(() => {
    if (idlePools.get(key)?.pool === pool) idlePools.delete(key);
    pool.dispose();
  }, IDLE_POOL_MS);
  timer.unref();
  idlePools.set(key, { pool, timer });
}

/** Disposes the warm pools replayHistory keeps between calls (tests; a host that wants its memory back now). */
export function disposeIdleReplayPools(): void {
  for (const { pool, timer } of idlePools.values()) {
    clearTimeout(timer);
    pool.dispose();
  }
  idlePools.clear();
}

/** Replays one parsed history. */
function replayOne(pool: IsolatePool, bundle: WorkflowBundle, history: History): void {
  const start = history.events[0];
  if (start?.type !== 'workflowExecutionStarted') {
    throw new InvalidHistoryError('the first event must be workflowExecutionStarted', start?.eventId, 'type');
  }
  const execution = pool.createExecution(bundle, initFromStart(start), `workflow ${history.workflowId} (${start.workflowType})`);
  try {
    const machine = new ReplayMachine(execution);
    machine.advance(history.events);
    machine.finish();
  } finally {
    execution.dispose();
  }
}

/**
 * Replays one history. Resolves when it replays cleanly; rejects with DeterminismViolationError
 * (naming the event, the recorded event and the emitted command), WorkflowTaskFailedError, or
 * InvalidHistoryError.
 */
export async function replayHistory(options: ReplayOptions, history: ReplayInput): Promise<void> {
  const parsed = parseHistory(history);
  const { bundle, sandbox } = await prepare('replayHistory', options);
  const pool = borrowPool(sandbox);
  try {
    replayOne(pool, bundle, parsed);
  } finally {
    // Kept whatever the verdict: a timeout disposes only its context, and an isolate the memory
    // limit took is replaced by the pool on its next use.
    returnPool(sandbox, pool);
  }
}

/** Replays many histories with one bundle; yields a result per history, failures included. */
export async function* replayHistories(
  options: ReplayOptions,
  histories: Iterable<ReplayInput> | AsyncIterable<ReplayInput>,
): AsyncGenerator<ReplayResult> {
  const { bundle, sandbox } = await prepare('replayHistories', options);
  const pool = new IsolatePool(sandbox);
  try {
    for await (const input of histories) {
      let history: History | undefined;
      try {
        history = parseHistory(input);
        replayOne(pool, bundle, history);
        yield { workflowId: history.workflowId, runId: history.runId };
      } catch (error) {
        yield { workflowId: history?.workflowId ?? '?', runId: history?.runId ?? '?', error: error as Error };
      }
    }
  } finally {
    pool.dispose();
  }
}
