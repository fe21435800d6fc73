/**
 * Measure 8, the replay machine (host side): `ReplayMachine` (lib/replay, handler tables over the
 * event and command kinds since issue 7) against the pre-issue-7 machine (bench/src/baseline/
 * replay.ts, a frozen copy), on the same histories in the same process, runs alternating.
 *
 * Two ways: the machine alone, fed by a runner that hands back the completions the isolate gave
 * when the history was first replayed (so only the machine's own work is timed); and the whole
 * replay with the isolate, a new execution in a warm pool for every run (what a worker pays on a
 * cache miss). Both machines must accept every history and see the same completions.
 */
import { ReplayMachine as BaselineMachine } from '../baseline/replay';
import { IsolatePool, ReplayMachine, initFromStart, parseHistory, type Activation, type ActivationCompletion, type ActivationRunner, type History } from '../deja';
import { collect, dejaBundle, key, loadCorpus, type Settings } from '../setup';
import { summarize, type Summary } from '../stats';

export interface ReplayMachineRow {
  history: string;
  events: number;
  /** ms per replay of the whole history, the machine alone (recorded completions). */
  machine: { current: Summary; baseline: Summary };
  /** ms per replay of the whole history with a new execution in a warm isolate pool. */
  withIsolate: { current: Summary; baseline: Summary };
}

export interface ReplayMachineResult {
  rows: ReplayMachineRow[];
}

type Machine = { advance(events: History['events']): unknown; finish(): void };
type MachineClass = new (runner: ActivationRunner) => Machine;

/** Hands back recorded completions in order. */
function scripted(completions: ActivationCompletion[]): ActivationRunner {
  let i = 0;
  return { activate: (_a: Activation) => completions[i++] };
}

export async function measureReplayMachine(settings: Settings): Promise<ReplayMachineResult> {
  const bundle = await dejaBundle('workflows');
  const pool = new IsolatePool({ activationTimeoutMs: 60_000 });
  const corpus = loadCorpus();
  const runs = settings.quick ? 15 : 31;
  const warmups = 3;
  const rows: ReplayMachineRow[] = [];
  const classes: Record<'current' | 'baseline', MachineClass> = { current: ReplayMachine as unknown as MachineClass, baseline: BaselineMachine as unknown as MachineClass };
  try {
    for (const entry of corpus.entries) {
      const history = parseHistory(entry.deja);
      const start = history.events[0] as Parameters<typeof initFromStart>[0];
      // The completions, recorded once through the isolate; both machines must see the same.
      const recorded: Record<'current' | 'baseline', ActivationCompletion[]> = { current: [], baseline: [] };
      for (const which of ['current', 'baseline'] as const) {
        const execution = pool.createExecution(bundle, initFromStart(start), 'bench');
        const machine = new classes[which]({ activate: (a) => (recorded[which].push(execution.activate(a)), recorded[which].at(-1)!) });
        machine.advance(history.events);
        machine.finish();
        execution.dispose();
      }
      if (JSON.stringify(recorded.current) !== JSON.stringify(recorded.baseline)) throw new Error(`the two machines saw different completions for ${key(entry.workload, entry.n)}`);
      const reps = Math.max(1, Math.ceil(20_000 / entry.events));
      const machine: Record<'current' | 'baseline', number[]> = { current: [], baseline: [] };
      const withIsolate: Record<'current' | 'baseline', number[]> = { current: [], baseline: [] };
      for (let r = -warmups; r < runs; r++) {
        const order = r % 2 === 0 ? (['current', 'baseline'] as const) : (['baseline', 'current'] as const);
        for (const which of order) {
          collect();
          let t0 = performance.now();
          for (let i = 0; i < reps; i++) {
            const m = new classes[which](scripted(recorded.current));
            m.advance(history.events);
            m.finish();
          }
          const alone = (performance.now() - t0) / reps;
          const execution = pool.createExecution(bundle, initFromStart(start), 'bench');
          t0 = performance.now();
          const m = new classes[which](execution);
          m.advance(history.events);
          m.finish();
          const whole = performance.now() - t0;
          execution.dispose();
          if (r >= 0) {
            machine[which].push(alone);
            withIsolate[which].push(whole);
          }
        }
      }
      rows.push({
        history: key(entry.workload, entry.n),
        events: entry.events,
        machine: { current: summarize(machine.current), baseline: summarize(machine.baseline) },
        withIsolate: { current: summarize(withIsolate.current), baseline: summarize(withIsolate.baseline) },
      });
      process.stderr.write(`  replay machine ${key(entry.workload, entry.n)}: alone ${rows.at(-1)!.machine.current.median.toFixed(3)} vs ${rows.at(-1)!.machine.baseline.median.toFixed(3)} ms\n`);
    }
  } finally {
    pool.dispose();
  }
  return { rows };
}
