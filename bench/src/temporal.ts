/**
 * The peer: Temporal's TypeScript SDK 1.24, offline (host side). `bundleWorkflowCode` (webpack)
 * and `Worker.runReplayHistories`, whose native core ships inside the npm package, so no server
 * is involved. Loaded lazily so that processes measuring only deja never load it.
 */
import type * as TemporalWorker from '@temporalio/worker';
import type { TemporalHistoryJson } from './temporal-history';

type WorkerModule = typeof TemporalWorker;
let worker: WorkerModule | undefined;

/** The SDK, with its logs (TypeScript and core) limited to errors: replaying a changed workflow warns by design. */
export function temporal(): WorkerModule {
  if (worker) return worker;
  const w = require('@temporalio/worker') as WorkerModule;
  w.Runtime.install({
    logger: new w.DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
  });
  return (worker = w);
}

export function temporalVersion(): string {
  return (require('@temporalio/worker/package.json') as { version: string }).version;
}

export interface TemporalBundle {
  code: string;
}

export async function bundleTemporal(workflowsPath: string): Promise<TemporalBundle> {
  const w = temporal();
  const { code } = await w.bundleWorkflowCode({ workflowsPath, logger: new w.DefaultLogger('ERROR') });
  return { code };
}

export interface TemporalReplayResult {
  workflowId: string;
  /** The error's class name and message; undefined when the history replayed cleanly. */
  error?: string;
  errorClass?: string;
}

/**
 * Replays Temporal JSON histories with one replay worker, as `runReplayHistories` does. The JSON
 * to proto conversion (`historyFromJSON`) happens inside, as deja's history validation does on
 * its side: both start from a parsed JSON object.
 */
export async function replayTemporal(bundle: TemporalBundle, histories: { workflowId: string; json: TemporalHistoryJson }[]): Promise<TemporalReplayResult[]> {
  const w = temporal();
  const { historyFromJSON } = require('@temporalio/common/lib/proto-utils') as typeof import('@temporalio/common/lib/proto-utils');
  const items = histories.map((h) => ({ workflowId: h.workflowId, history: historyFromJSON(h.json) }));
  const out: TemporalReplayResult[] = [];
  for await (const r of w.Worker.runReplayHistories({ workflowBundle: bundle }, items)) {
    out.push(
      r.error === undefined
        ? { workflowId: r.workflowId }
        : { workflowId: r.workflowId, error: r.error.message, errorClass: r.error.constructor.name },
    );
  }
  return out;
}

/** One history through `Worker.runReplayHistory` (throws on nondeterminism). */
export async function replayTemporalOne(bundle: TemporalBundle, workflowId: string, json: TemporalHistoryJson): Promise<void> {
  const w = temporal();
  const { historyFromJSON } = require('@temporalio/common/lib/proto-utils') as typeof import('@temporalio/common/lib/proto-utils');
  await w.Worker.runReplayHistory({ workflowBundle: bundle }, historyFromJSON(json), workflowId);
}
