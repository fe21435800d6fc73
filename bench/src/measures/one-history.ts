/**
 * Measure 3, one 1000-activity history (host side): the time to replay seqActivities(1000) from
 * a parsed JSON object, and the peak RSS of a fresh process that does it once.
 *
 * Time, medians in one process:
 * - deja `replayHistory()`, first call in a process: the public call with no warm pool, so it
 *   creates one (a new isolate, the bundle compiled from its code cache), validates and replays
 *   (the warm pool is disposed before each such run, with disposeIdleReplayPools);
 * - deja `replayHistory()`, called again: what each call after the first pays, as in a suite of
 *   replay tests (the pool a call leaves warm is reused; a new context per history still);
 * - deja in a warm pool: a new context in an existing isolate, validation and replay; what a
 *   worker pays on a cache miss;
 * - the replay floor (node:vm), with validation, as deja in a warm pool;
 * - Temporal `Worker.runReplayHistory()` (in its own process: see replay.ts on its promise hook).
 * Peak RSS: a fresh process per engine loads everything, notes its peak RSS, replays the history
 * once, and notes it again.
 */
import { IsolatePool, ReplayMachine, disposeIdleReplayPools, initFromStart, parseHistory, replayHistory, type History } from '../deja';
import { VmFloor } from '../floor';
import { replayTemporalOne, temporal } from '../temporal';
import { collect, dejaBundle, entryFor, loadCorpus, loadTemporalBundle, type Settings } from '../setup';
import { now, summarize, type Summary } from '../stats';
import { replayBatch } from './replay';

export const ONE = { workload: 'seqActivities', n: 1000 } as const;

export interface OneHistoryResult {
  events: number;
  /** dejaReplayHistory: a first call (cold pool); dejaReplayHistoryAgain: a call after one (warm pool kept by replayHistory). */
  ms: Partial<Record<'dejaReplayHistory' | 'dejaReplayHistoryAgain' | 'dejaWarmPool' | 'floor' | 'temporal', Summary>>;
  /** Where deja's time goes (medians, ms); see breakdown(). */
  breakdown?: Breakdown;
  /** Each process's medians, when several were pooled. */
  perProcess?: { replayHistory: number; again: number; warmPool: number; floor: number }[];
}

export interface Breakdown {
  activations: number;
  /** replayHistory()'s own pool: new IsolatePool, the bundle compiled from its code cache, disposal; less a warm createExecution. */
  newPool: number;
  /** parseHistory: validating the 1000-activity history. */
  validate: number;
  /** pool.createExecution: a context, the bundle run in it, init. */
  createExecution: number;
  /** Inside execution.activate() over all activations: both sides of the boundary. */
  activate: number;
  /** Of which the isolate's own CPU time (isolated-vm's cpuTime): the runtime and its JSON work. */
  isolateCpu: number;
  /** ReplayMachine's own work: advance() and finish() minus the activations. */
  replayMachine: number;
  /** The floor's activate() over all activations, for comparison. */
  floorActivate: number;
}

const median = (xs: number[]) => summarize(xs).median;

/**
 * Splits one replay of the history into its parts, in separate untimed-elsewhere passes: the
 * numbers come from the same process and the same history as the timings above.
 */
function breakdown(bundle: Parameters<IsolatePool['createExecution']>[0], text: string, runs: number): Breakdown {
  const history: History = parseHistory(JSON.parse(text));
  const start = history.events[0];
  if (start.type !== 'workflowExecutionStarted') throw new Error('no start event');
  const validate: number[] = [];
  const create: number[] = [];
  const activate: number[] = [];
  const isolateCpu: number[] = [];
  const machine: number[] = [];
  const floorActivate: number[] = [];
  const newPool: number[] = [];
  let activations = 0;
  const pool = new IsolatePool();
  const floor = new VmFloor(bundle);
  // The isolate is private to the pool; its cpuTime is read for this breakdown only.
  const isolateOf = () => (pool as unknown as { isolates: { isolate: { cpuTime: bigint } }[] }).isolates[0].isolate;
  for (let r = -1; r < runs; r++) {
    const input = JSON.parse(text);
    collect();
    let t0 = now();
    parseHistory(input);
    const v = now() - t0;
    t0 = now();
    const execution = pool.createExecution(bundle, initFromStart(start), 'breakdown');
    const c = now() - t0;
    let inActivate = 0;
    activations = 0;
    const m = new ReplayMachine({
      activate(a) {
        const t = now();
        const completion = execution.activate(a);
        inActivate += now() - t;
        activations++;
        return completion;
      },
    });
    const cpu0 = isolateOf().cpuTime;
    t0 = now();
    m.advance(history.events);
    m.finish();
    const total = now() - t0;
    const cpu = Number(isolateOf().cpuTime - cpu0) / 1e6;
    execution.dispose();
    const f = floor.createExecution(initFromStart(start));
    let inFloor = 0;
    const fm = new ReplayMachine({
      activate(a) {
        const t = now();
        const completion = f.activate(a);
        inFloor += now() - t;
        return completion;
      },
    });
    fm.advance(history.events);
    fm.finish();
    t0 = now();
    const fresh = new IsolatePool();
    fresh.createExecution(bundle, initFromStart(start), 'breakdown').dispose();
    fresh.dispose();
    const p = now() - t0 - c;
    if (r < 0) continue;
    newPool.push(p);
    validate.push(v);
    create.push(c);
    activate.push(inActivate);
    isolateCpu.push(cpu);
    machine.push(total - inActivate);
    floorActivate.push(inFloor);
  }
  pool.dispose();
  return {
    activations,
    newPool: median(newPool),
    validate: median(validate),
    createExecution: median(create),
    activate: median(activate),
    isolateCpu: median(isolateCpu),
    replayMachine: median(machine),
    floorActivate: median(floorActivate),
  };
}

async function samples(warmups: number, runs: number, fn: () => unknown): Promise<number[]> {
  for (let i = 0; i < warmups; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    collect();
    const t0 = now();
    await fn();
    out.push(now() - t0);
  }
  return out;
}

export async function measureOneHistory(settings: Settings, side: 'deja' | 'temporal'): Promise<OneHistoryResult> {
  const corpus = loadCorpus();
  const entry = entryFor(corpus, ONE.workload, ONE.n);
  const text = JSON.stringify(entry.deja);
  const temporalText = JSON.stringify(entry.temporal);
  const result: OneHistoryResult = { events: entry.events, ms: {} };
  if (side === 'temporal') {
    const bundle = loadTemporalBundle('workflows');
    result.ms.temporal = summarize(
      await samples(settings.warmups, settings.runsTemporal, () => replayTemporalOne(bundle, entry.deja.workflowId, JSON.parse(temporalText))),
    );
    return result;
  }
  const bundle = await dejaBundle('workflows');
  const pool = new IsolatePool();
  const warm = { createExecution: (init: Parameters<IsolatePool['createExecution']>[1], label: string) => pool.createExecution(bundle, init, label), dispose: () => undefined };
  const floor = new VmFloor(bundle);
  const floorExec = { createExecution: (init: Parameters<VmFloor['createExecution']>[0]) => floor.createExecution(init), dispose: () => undefined };
  const runs = settings.runsDeja;
  const a: number[] = [];
  const b: number[] = [];
  const c: number[] = [];
  const d: number[] = [];
  // Interleaved, after one untimed round of each.
  for (let r = -settings.warmups; r < runs; r++) {
    let input = JSON.parse(text);
    disposeIdleReplayPools();
    collect();
    let t0 = now();
    await replayHistory({ workflowBundle: bundle }, input);
    if (r >= 0) a.push(now() - t0);
    input = JSON.parse(text);
    collect();
    t0 = now();
    await replayHistory({ workflowBundle: bundle }, input);
    if (r >= 0) d.push(now() - t0);
    input = JSON.parse(text);
    collect();
    t0 = now();
    replayBatch(warm, [input], []);
    if (r >= 0) b.push(now() - t0);
    input = JSON.parse(text);
    collect();
    t0 = now();
    replayBatch(floorExec, [input], []);
    if (r >= 0) c.push(now() - t0);
  }
  pool.dispose();
  disposeIdleReplayPools();
  result.ms = { dejaReplayHistory: summarize(a), dejaReplayHistoryAgain: summarize(d), dejaWarmPool: summarize(b), floor: summarize(c) };
  result.breakdown = breakdown(bundle, text, runs);
  return result;
}

export interface RssResult {
  engine: string;
  /** Peak RSS in bytes after loading, before the replay. */
  before: number;
  /** Peak RSS in bytes after the replay. */
  after: number;
  ms: number;
}

/** In a fresh process: peak RSS around one replay of the 1000-activity history. */
export async function peakRss(engine: 'deja' | 'floor' | 'temporal'): Promise<RssResult> {
  const entry = entryFor(loadCorpus(), ONE.workload, ONE.n);
  let run: () => Promise<unknown>;
  if (engine === 'temporal') {
    temporal();
    const bundle = loadTemporalBundle('workflows');
    const json = entry.temporal;
    run = () => replayTemporalOne(bundle, entry.deja.workflowId, json);
  } else {
    const bundle = await dejaBundle('workflows');
    const input = entry.deja;
    if (engine === 'deja') run = () => replayHistory({ workflowBundle: bundle }, input);
    else {
      const floor = new VmFloor(bundle);
      run = async () => replayBatch({ createExecution: (init) => floor.createExecution(init), dispose: () => undefined }, [input], []);
    }
  }
  collect();
  const before = process.resourceUsage().maxRSS * 1024;
  const t0 = now();
  await run();
  const ms = now() - t0;
  const after = process.resourceUsage().maxRSS * 1024;
  return { engine, before, after, ms };
}
