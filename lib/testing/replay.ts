/**
 * replayHistory / replayHistories (host side): replay recorded histories against workflow code
 * and report nondeterminism before a deploy. Bundles once, replays each history in a fresh
 * context of one isolate pool, and disposes everything at the end.
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

async function prepare(where: string, options: ReplayOptions): Promise<{ bundle: WorkflowBundle; pool: IsolatePool }> {
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
  return { bundle, pool: new IsolatePool(sandbox) };
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
  const { bundle, pool } = await prepare('replayHistory', options);
  try {
    replayOne(pool, bundle, parsed);
  } finally {
    pool.dispose();
  }
}

/** Replays many histories with one bundle; yields a result per history, failures included. */
export async function* replayHistories(
  options: ReplayOptions,
  histories: Iterable<ReplayInput> | AsyncIterable<ReplayInput>,
): AsyncGenerator<ReplayResult> {
  const { bundle, pool } = await prepare('replayHistories', options);
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
