/**
 * Measure 2, replay throughput (host side). For each workload and size, one batch of histories
 * (copies of the recorded execution under distinct ids, about `stepsPerBatch` workflow steps in
 * all) is replayed by:
 * - deja: one IsolatePool per batch, a fresh context per history, deja's ReplayMachine. This is
 *   the loop of `replayHistories`, written out so that every activation's completion can be kept
 *   for the output hash;
 * - deja via the public `replayHistories` (the same work; a check that the loop above is honest);
 * - the replay floor: the same loop and runtime bundle in a node:vm context (src/floor.ts);
 * - the pure floor: the workload as plain async functions (src/floor.ts);
 * - Temporal: `Worker.runReplayHistories` on the Temporal JSON histories of the same executions.
 * Every engine starts from parsed JSON objects: deja validates them (parseHistory), Temporal
 * converts them (historyFromJSON), inside the timed region. Runs alternate between engines.
 *
 * Temporal runs in a process of its own: its replay worker installs a V8 promise hook on the main
 * isolate (for its stack traces) and leaves it there, which would slow every promise of the node:vm
 * floor that ran after it in the same process.
 */
import {
  IsolatePool,
  ReplayMachine,
  initFromStart,
  parseHistory,
  replayHistories,
  type ActivationCompletion,
  type ActivationRunner,
  type History,
  type WorkflowBundle,
} from '../deja';
import { VmFloor, runPlain } from '../floor';
import { withIds } from '../record';
import { toTemporalHistory, type TemporalHistoryJson } from '../temporal-history';
import { replayTemporal, type TemporalBundle } from '../temporal';
import { WORKLOADS, collect, dejaBundle, entryFor, key, loadCorpus, loadTemporalBundle, sha256, type Settings } from '../setup';
import { now, summarize, type Summary } from '../stats';

type Engine = 'deja' | 'dejaApi' | 'floor' | 'pure' | 'temporal';
export const DEJA_SIDE: Engine[] = ['deja', 'dejaApi', 'floor', 'pure'];
export const TEMPORAL_SIDE: Engine[] = ['temporal'];

export interface ReplayRow {
  history: string;
  /** The one-history batch that shows each engine's fixed cost per call; not one of the 9. */
  single?: boolean;
  /** How many processes' samples were pooled (see Settings.dejaProcesses). */
  processes?: number;
  workload: string;
  n: number;
  histories: number;
  eventsPerHistory: number;
  /** Batch time in ms per engine. */
  ms: Partial<Record<Engine, Summary>>;
  /** Hash of the engine's outputs for the batch: deja's and the floor's are every completion. */
  hash: Partial<Record<Engine, string>>;
}

export interface ReplayResult {
  rows: ReplayRow[];
}

interface Executor {
  createExecution(init: ReturnType<typeof initFromStart>, label: string): ActivationRunner & { dispose(): void };
  dispose(): void;
}

/** The replayHistories loop, with each completion kept in `sink`. */
export function replayBatch(executor: Executor, inputs: readonly unknown[], sink: ActivationCompletion[]): void {
  try {
    for (const input of inputs) {
      const history = parseHistory(input);
      const start = history.events[0];
      if (start.type !== 'workflowExecutionStarted') throw new Error('no start event');
      const execution = executor.createExecution(initFromStart(start), `workflow ${history.workflowId}`);
      try {
        const runner: ActivationRunner = {
          activate(activation) {
            const completion = execution.activate(activation);
            sink.push(completion);
            return completion;
          },
        };
        // deja's executions replay the recorded tasks in bulk, as replayHistory does; the same
        // runtime without an isolate goes one task at a time. Completions reach `sink` in task order either way.
        if (execution.activateRecorded) {
          runner.activateRecorded = (activations) => execution.activateRecorded!(activations);
          runner.tookRecorded = (completion) => void sink.push(completion);
        }
        const machine = new ReplayMachine(runner);
        if (machine.advance(history.events)) throw new Error(`${history.workflowId}: a closed history has a live task`);
        machine.finish();
      } finally {
        execution.dispose();
      }
    }
  } finally {
    executor.dispose();
  }
}

export function isolateExecutor(bundle: WorkflowBundle): Executor {
  const pool = new IsolatePool();
  return { createExecution: (init, label) => pool.createExecution(bundle, init, label), dispose: () => pool.dispose() };
}

export function floorExecutor(bundle: WorkflowBundle): Executor {
  const floor = new VmFloor(bundle);
  return { createExecution: (init) => floor.createExecution(init), dispose: () => undefined };
}

export async function measureReplay(settings: Settings, side: 'deja' | 'temporal'): Promise<ReplayResult> {
  const engines = side === 'deja' ? DEJA_SIDE : TEMPORAL_SIDE;
  const corpus = loadCorpus();
  const bundle = await dejaBundle('workflows');
  const temporalBundle: TemporalBundle = loadTemporalBundle('workflows');
  const rows: ReplayRow[] = [];

  const plan = WORKLOADS.flatMap((workload) => settings.sizes.map((n) => ({ workload, n, single: false })));
  plan.push({ workload: 'seqActivities', n: 10, single: true });
  for (const { workload, n, single } of plan) {
    const entry = entryFor(corpus, workload, n);
    const copies = single ? 1 : Math.max(1, Math.round(settings.stepsPerBatch / n));
    const histories: History[] = Array.from({ length: copies }, (_, c) => withIds(entry.deja, c));
    // Each engine gets its own parsed-JSON copy, as if read from a file: nothing is shared.
    const dejaInput = () => JSON.parse(JSON.stringify(histories)) as unknown[];
    const temporalJson: { workflowId: string; json: TemporalHistoryJson }[] = histories.map((h) => ({ workflowId: h.workflowId, json: toTemporalHistory(h) }));
    const temporalInput = () => JSON.parse(JSON.stringify(temporalJson)) as typeof temporalJson;

    let lap = 0; // the last run's time in ms, set by each runner around its timed part only
    const run: Record<Engine, () => Promise<string>> = {
      async deja() {
        const input = dejaInput();
        const sink: ActivationCompletion[] = [];
        collect();
        const t0 = now();
        replayBatch(isolateExecutor(bundle), input, sink);
        lap = now() - t0;
        return sha256(JSON.stringify(sink));
      },
      async dejaApi() {
        const input = dejaInput();
        collect();
        const t0 = now();
        const errors: string[] = [];
        for await (const r of replayHistories({ workflowBundle: bundle }, input as History[])) if (r.error) errors.push(`${r.workflowId}: ${r.error.message}`);
        lap = now() - t0;
        if (errors.length) throw new Error(`replayHistories failed: ${errors[0]}`);
        return 'n/a';
      },
      async floor() {
        const input = dejaInput();
        const sink: ActivationCompletion[] = [];
        collect();
        const t0 = now();
        replayBatch(floorExecutor(bundle), input, sink);
        lap = now() - t0;
        return sha256(JSON.stringify(sink));
      },
      async pure() {
        const input = dejaInput() as History[];
        const results: number[] = [];
        collect();
        const t0 = now();
        for (const h of input) results.push(await runPlain(h));
        lap = now() - t0;
        return sha256(JSON.stringify(results));
      },
      async temporal() {
        const input = temporalInput();
        collect();
        const t0 = now();
        const results = await replayTemporal(temporalBundle, input);
        lap = now() - t0;
        const failed = results.find((r) => r.error);
        if (failed || results.length !== input.length) throw new Error(`Temporal replay failed: ${failed?.errorClass}: ${failed?.error}`);
        return sha256(JSON.stringify(results));
      },
    };

    const samples: Record<Engine, number[]> = { deja: [], dejaApi: [], floor: [], pure: [], temporal: [] };
    const hashes: Partial<Record<Engine, Set<string>>> = {};
    for (let w = 0; w < settings.warmups; w++) for (const e of engines) await run[e]();
    const rounds = side === 'temporal' ? settings.runsTemporal : settings.runsDeja;
    for (let r = 0; r < rounds; r++) {
      for (const e of engines) {
        const h = await run[e]();
        samples[e].push(lap);
        (hashes[e] ??= new Set()).add(h);
      }
    }
    const row: ReplayRow = { history: key(workload, n), ...(single ? { single } : {}), workload, n, histories: copies, eventsPerHistory: entry.events, ms: {}, hash: {} };
    for (const e of engines) {
      row.ms[e] = summarize(samples[e]);
      const hs = hashes[e]!;
      if (hs.size !== 1) throw new Error(`${row.history}: ${e} gave different outputs on different runs`);
      row.hash[e] = [...hs][0];
    }
    rows.push(row);
    process.stderr.write(`  replay ${row.history} ×${copies}: ${engines.map((e) => `${e} ${row.ms[e]!.median.toFixed(1)} ms`).join(', ')}\n`);
  }
  return { rows };
}
