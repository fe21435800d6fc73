/**
 * Temporal's replay API under deja's names (host side): `Worker.runReplayHistory`,
 * `Worker.runReplayHistories`, `ReplayError` and `historyFromJSON`, over deja's replayHistory.
 *
 * Temporal's replayer reports a nondeterminism as DeterminismViolationError and any other failure
 * of the replay (a workflow task that throws, a history it cannot read) as ReplayError; deja's
 * replay throws DeterminismViolationError, WorkflowTaskFailedError or InvalidHistoryError, so the
 * last two are wrapped in a ReplayError whose `cause` is deja's error.
 */
import { parseHistory, fromTemporalHistory } from '../history';
import { looksLikeTemporalJson } from '../history/temporal';
import type { History } from '../history/events';
import { replayHistories, type ReplayOptions } from '../testing/replay';
import { DeterminismViolationError, InvalidArgumentError, checkKnownKeys, describe, warnIgnoredOptions } from '../errors';
import type { WorkerInterceptors } from '../worker/interceptors';
import type { WorkflowBundle } from '../worker';

/** A replay that failed for a reason other than nondeterminism (Temporal's class). */
export class ReplayError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReplayError';
  }
}

/** Temporal's ReplayWorkerOptions: deja's replay options and Temporal's that deja accepts without acting on them. */
export interface ReplayWorkerOptions {
  workflowsPath?: string;
  workflowBundle?: WorkflowBundle;
  interceptors?: WorkerInterceptors;
  bundleCacheDir?: string;
  isolatePoolSize?: number;
  memoryLimitMb?: number;
  activationTimeoutMs?: number;
  /** Temporal names the replay worker with it; deja's replay has no worker to name. */
  replayName?: string;
  [temporalOnly: string]: unknown;
}

/** One history for runReplayHistories, as Temporal's client's `HistoryAndWorkflowId`. */
export interface HistoryAndWorkflowId {
  workflowId: string;
  history: unknown;
}

export interface ReplayResult {
  readonly workflowId: string;
  readonly runId: string;
  readonly error?: ReplayError | DeterminismViolationError;
}

const DEJA_KEYS = ['workflowsPath', 'workflowBundle', 'interceptors', 'bundleCacheDir', 'isolatePoolSize', 'memoryLimitMb', 'activationTimeoutMs'];
const ACCEPTED: Record<string, string> = {
  replayName: "deja's replay runs no worker to name",
  sinks: 'a replay calls no sinks (Temporal skips them on replay too)',
  dataConverter: "deja's payloads are JSON",
  debugMode: 'deja replays in isolates with no debug mode',
  reuseV8Context: 'deja gives every execution its own context',
  bundlerOptions: "deja's bundler takes none of webpack's options",
  showStackTraceSources: 'deja keeps no stack trace query',
  plugins: 'deja has no worker plugins',
  namespace: 'deja has one namespace',
  taskQueue: 'a replay polls no task queue',
  identity: "deja's replay runs no worker to name",
  buildId: 'deja has no build ids',
};

function replayOptions(where: string, options: ReplayWorkerOptions): ReplayOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`${where}: expected options ({ workflowsPath } or { workflowBundle }), got ${describe(options)}`);
  }
  const ignored = Object.keys(options).filter((key) => key in ACCEPTED && options[key] !== undefined);
  if (ignored.length > 0) warnIgnoredOptions(where, ignored, (name) => ACCEPTED[name]!);
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) if (!(key in ACCEPTED) && value !== undefined) rest[key] = value;
  checkKnownKeys(where, rest, [...DEJA_KEYS, ...Object.keys(ACCEPTED)]);
  return rest as ReplayOptions;
}

/**
 * A history given to Temporal's replay API: a deja History, a parsed history file (deja's or a
 * Temporal export of either JSON dialect), or its text or bytes. `workflowId` names the workflow
 * where the history does not (Temporal's exports usually do not).
 */
async function readHistory(history: unknown, workflowId: string | undefined): Promise<History> {
  if (history === null || history === undefined || (typeof history !== 'object' && typeof history !== 'string')) {
    throw new InvalidArgumentError(`expected a history (a parsed history file, its text or bytes), got ${describe(history)}`);
  }
  if (workflowId !== undefined && typeof history === 'object' && !(history instanceof Uint8Array) && looksLikeTemporalJson(history)) {
    return fromTemporalHistory(history, { workflowId });
  }
  return parseHistory(history);
}

/** Temporal's verdict classes for deja's errors: nondeterminism as it is, anything else a ReplayError. */
function asReplayError(error: unknown): ReplayError | DeterminismViolationError {
  if (error instanceof DeterminismViolationError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ReplayError(`Replay failed: ${message}`, { cause: error });
}

/**
 * Replays one history against the workflow code (Temporal's `Worker.runReplayHistory`). Resolves
 * when it replays cleanly; rejects with DeterminismViolationError, or ReplayError for any other
 * failure (its `cause` is deja's error).
 */
export async function runReplayHistory(options: ReplayWorkerOptions, history: unknown, workflowId?: string): Promise<void> {
  const opts = replayOptions('Worker.runReplayHistory', options);
  const parsed = await readHistory(history, workflowId).catch((error: unknown) => {
    throw asReplayError(error);
  });
  for await (const result of replayHistories(opts, [parsed])) {
    if (result.error !== undefined) throw asReplayError(result.error);
  }
}

/**
 * Replays many histories with one bundle (Temporal's `Worker.runReplayHistories`): yields
 * `{ workflowId, runId, error? }` for each, in order. Items are `{ workflowId, history }` as
 * Temporal's client gives them, or histories alone.
 */
export async function* runReplayHistories(
  options: ReplayWorkerOptions,
  histories: Iterable<HistoryAndWorkflowId | unknown> | AsyncIterable<HistoryAndWorkflowId | unknown>,
): AsyncGenerator<ReplayResult> {
  const opts = replayOptions('Worker.runReplayHistories', options);
  if (histories === null || typeof histories !== 'object' || (!(Symbol.iterator in histories) && !(Symbol.asyncIterator in histories))) {
    throw new InvalidArgumentError(`Worker.runReplayHistories: expected an iterable of { workflowId, history }, got ${describe(histories)}`);
  }
  // Each history is read as it comes, so one unreadable history is its own result, not the end.
  const results: ReplayResult[] = [];
  async function* parsed(): AsyncGenerator<History> {
    for await (const item of histories as AsyncIterable<unknown>) {
      const pair = typeof item === 'object' && item !== null && 'history' in item ? (item as HistoryAndWorkflowId) : undefined;
      const workflowId = pair !== undefined && typeof pair.workflowId === 'string' ? pair.workflowId : undefined;
      try {
        yield await readHistory(pair !== undefined ? pair.history : item, workflowId);
      } catch (error) {
        results.push({ workflowId: workflowId ?? '?', runId: '?', error: asReplayError(error) });
      }
    }
  }
  const pump = replayHistories(opts, parsed());
  for (;;) {
    const next = await pump.next();
    while (results.length > 0) yield results.shift()!;
    if (next.done) break;
    const r = next.value;
    yield { workflowId: r.workflowId, runId: r.runId, ...(r.error === undefined ? {} : { error: asReplayError(r.error) }) };
  }
}

/** Temporal's `historyFromJSON`: a parsed history file (Temporal's or deja's) as a history to replay. */
export function historyFromJSON(history: unknown): History {
  return parseHistory(history);
}
