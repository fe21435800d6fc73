/**
 * Measure 11, time per workflow task as history grows (host side): timerLoop(n) for n = 10,
 * 100, 1,000 and 10,000 tasks (10,000 only in a full run), recorded here with deja's own worker
 * (not timed), then replayed from a parsed history, validation included, by:
 * - deja in a warm isolate pool (a worker's cache miss: a new context, the recorded tasks in bulk);
 * - the same runtime without an isolate (the node:vm context of src/floor.ts, one task at a time);
 * - the plain-function floor (the workload as a plain async function fed the recorded results).
 * The figure is the median time divided by the number of workflow tasks (n + 1). Flat rows mean
 * a replay costs the same per task however long the history; a rising row is work that grows with
 * the history (a scan per task, a map rebuilt). timerLoop, because 10,000 tasks of it are 50,005
 * events, within the 51,200 events a history may hold (Temporal's limit, and deja's); 10,000
 * activities would be 60,005.
 */
import { IsolatePool, ReplayMachine, initFromStart, parseHistory, type ActivationRunner, type History } from '../deja';
import { VmFloor, runPlain } from '../floor';
import { startRecorder } from '../record';
import { collect, dejaBundle, sha256, type Settings } from '../setup';
import { now, summarize, type Summary } from '../stats';

export interface GrowthRow {
  n: number;
  tasks: number;
  events: number;
  runs: number;
  /** Median ms per replay of the whole history. */
  ms: { deja: Summary; noIsolate: Summary; plain: Summary };
  /** Hash of deja's completions (the same runtime without an isolate must give the same). */
  hash: { deja: string; noIsolate: string };
}

export interface GrowthResult {
  rows: GrowthRow[];
  recordMs: number;
}

/** The history lengths measured, in workflow tasks less one. */
export function growthSizes(settings: Settings): number[] {
  return settings.quick ? [10, 100, 1000] : [10, 100, 1000, 10000];
}

export async function measureGrowth(settings: Settings): Promise<GrowthResult> {
  const bundle = await dejaBundle('workflows');
  const t0 = now();
  const recorder = await startRecorder(bundle);
  const histories: { n: number; text: string }[] = [];
  try {
    for (const n of growthSizes(settings)) histories.push({ n, text: JSON.stringify(await recorder.record('timerLoop', n)) });
  } finally {
    await recorder.close();
  }
  const recordMs = now() - t0;
  const pool = new IsolatePool();
  const floor = new VmFloor(bundle);
  const rows: GrowthRow[] = [];
  try {
    for (const { n, text } of histories) {
      const tasks = n + 1;
      // About 2,000 tasks of replay per engine and size, at least 3 runs.
      const runs = Math.max(3, Math.round((settings.quick ? 500 : 2000) / tasks));
      const times = { deja: [] as number[], noIsolate: [] as number[], plain: [] as number[] };
      const hashes = { deja: new Set<string>(), noIsolate: new Set<string>() };
      let events = 0;
      const replay = (engine: 'deja' | 'noIsolate'): string => {
        const history: History = parseHistory(JSON.parse(text));
        const start = history.events[0];
        if (start.type !== 'workflowExecutionStarted') throw new Error('no start event');
        events = history.events.length;
        const completions: unknown[] = [];
        collect();
        const t = now();
        const parsed = parseHistory(JSON.parse(text));
        const init = initFromStart(start);
        if (engine === 'deja') {
          const execution = pool.createExecution(bundle, init, `growth ${n}`);
          const runner: ActivationRunner = {
            activate: (a) => {
              const c = execution.activate(a);
              completions.push(c);
              return c;
            },
          };
          if (execution.activateRecorded) {
            runner.activateRecorded = (as) => execution.activateRecorded(as);
            runner.tookRecorded = (c) => void completions.push(c);
          }
          const machine = new ReplayMachine(runner);
          if (machine.advance(parsed.events)) throw new Error('a closed history has a live task');
          machine.finish();
          execution.dispose();
        } else {
          const execution = floor.createExecution(init);
          const machine = new ReplayMachine({
            activate: (a) => {
              const c = execution.activate(a);
              completions.push(c);
              return c;
            },
          });
          if (machine.advance(parsed.events)) throw new Error('a closed history has a live task');
          machine.finish();
          execution.dispose();
        }
        times[engine].push(now() - t);
        return sha256(JSON.stringify(completions));
      };
      const plain = async () => {
        const history = JSON.parse(text) as History;
        collect();
        const t = now();
        await runPlain(history);
        times.plain.push(now() - t);
      };
      // One warm-up of each, untimed; then runs alternating.
      replay('deja');
      replay('noIsolate');
      await plain();
      times.deja.length = times.noIsolate.length = times.plain.length = 0;
      for (let r = 0; r < runs; r++) {
        hashes.deja.add(replay('deja'));
        hashes.noIsolate.add(replay('noIsolate'));
        await plain();
      }
      if (hashes.deja.size !== 1 || hashes.noIsolate.size !== 1) throw new Error(`growth ${n}: different outputs on different runs`);
      const row: GrowthRow = {
        n,
        tasks,
        events,
        runs,
        ms: { deja: summarize(times.deja), noIsolate: summarize(times.noIsolate), plain: summarize(times.plain) },
        hash: { deja: [...hashes.deja][0], noIsolate: [...hashes.noIsolate][0] },
      };
      rows.push(row);
      process.stderr.write(
        `  growth timerLoop(${n}) ×${runs}: deja ${row.ms.deja.median.toFixed(2)} ms, without an isolate ${row.ms.noIsolate.median.toFixed(2)} ms, plain ${row.ms.plain.median.toFixed(3)} ms\n`,
      );
    }
  } finally {
    pool.dispose();
  }
  return { rows, recordMs };
}
