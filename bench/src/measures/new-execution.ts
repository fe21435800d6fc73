/**
 * Measure 4, starting a new execution (host side): `pool.createExecution`, that is a new context
 * in a warm isolate, one run of the compiled bundle and the init call, as a worker pays on a cache
 * miss before its first activation. Also the first activation (the start job up to the first
 * command). Baseline: the same in a node:vm context (the floor). Samples alternate between the
 * two; disposal is outside the timed region. V8's own share: an empty isolated-vm context, created
 * and released in a warm isolate (isolated-vm is imported here for that alone). And deja with a
 * prepared context waiting (IsolatePool's `preparedContexts`, a worker's default): the pool makes
 * it on the isolate's thread between samples, outside the timed region, so the sample is the init
 * alone; the cold row above is what a new execution costs when no prepared context is left.
 */
import { IsolatePool, initFromStart, type Activation } from '../deja';
import { VmFloor } from '../floor';
import { collect, dejaBundle, entryFor, loadCorpus, type Settings } from '../setup';
import { now, percentile } from '../stats';

export interface Quantiles {
  p50: number;
  p99: number;
  mean: number;
}

export interface NewExecutionResult {
  samples: number;
  bundleBytes: number;
  create: { deja: Quantiles; floor: Quantiles; emptyContext: Quantiles; dejaPrepared?: Quantiles };
  createAndFirstActivation: { deja: Quantiles; floor: Quantiles };
  /** The timings, so that several processes can be pooled. */
  raw: Raw;
  /** Each process's p50 of deja's create, when several were pooled. */
  perProcessP50?: number[];
}

interface Raw {
  deja: number[];
  floor: number[];
  dejaFirst: number[];
  floorFirst: number[];
  empty: number[];
  /** With a prepared context waiting (absent from results of before it was measured). */
  prepared?: number[];
}

export function fromRaw(raw: Raw, bundleBytes: number): NewExecutionResult {
  return {
    samples: raw.deja.length,
    bundleBytes,
    create: { deja: q(raw.deja), floor: q(raw.floor), emptyContext: q(raw.empty), ...(raw.prepared?.length ? { dejaPrepared: q(raw.prepared) } : {}) },
    createAndFirstActivation: { deja: q(raw.dejaFirst), floor: q(raw.floorFirst) },
    raw,
  };
}

export function mergeNewExecution(parts: NewExecutionResult[]): NewExecutionResult {
  const keys = Object.keys(parts[0].raw) as (keyof Raw)[];
  const raw = Object.fromEntries(keys.map((k) => [k, parts.flatMap((p) => p.raw[k] ?? [])])) as unknown as Raw;
  return { ...fromRaw(raw, parts[0].bundleBytes), perProcessP50: parts.map((p) => p.create.deja.p50) };
}

const q = (s: number[]): Quantiles => ({ p50: percentile(s, 50), p99: percentile(s, 99), mean: s.reduce((a, b) => a + b, 0) / s.length });

export async function measureNewExecution(settings: Settings): Promise<NewExecutionResult> {
  const bundle = await dejaBundle('workflows');
  const entry = entryFor(loadCorpus(), 'seqActivities', 10);
  const start = entry.deja.events[0];
  if (start.type !== 'workflowExecutionStarted') throw new Error('no start event');
  const init = initFromStart(start);
  const firstTask = entry.deja.events.find((e) => e.type === 'workflowTaskStarted')!;
  const activation: Activation = {
    timestamp: Date.parse(firstTask.eventTime),
    isReplaying: false,
    historyLength: firstTask.eventId,
    historySize: 0,
    continueAsNewSuggested: false,
    jobs: [{ type: 'startWorkflow', workflowType: start.workflowType, args: start.input }],
  };
  const pool = new IsolatePool();
  const preparedPool = new IsolatePool({ preparedContexts: 1 });
  const floor = new VmFloor(bundle);
  const ivm = require('isolated-vm') as typeof import('isolated-vm');
  const bare = new ivm.Isolate({ memoryLimit: 128 });
  const s: Raw = { deja: [], floor: [], dejaFirst: [], floorFirst: [], empty: [], prepared: [] };
  const samples = Math.ceil(settings.newExecutionSamples / settings.dejaProcesses);
  const warmups = Math.min(200, settings.newExecutionSamples / 10);
  for (let i = -warmups; i < samples; i++) {
    if (i % 100 === 0) collect();
    let t0 = now();
    const d = pool.createExecution(bundle, init, 'bench');
    let t1 = now();
    d.activate(activation);
    let t2 = now();
    d.dispose();
    if (i >= 0) {
      s.deja.push(t1 - t0);
      s.dejaFirst.push(t2 - t0);
    }
    t0 = now();
    const f = floor.createExecution(init);
    t1 = now();
    f.activate(activation);
    t2 = now();
    f.dispose();
    if (i >= 0) {
      s.floor.push(t1 - t0);
      s.floorFirst.push(t2 - t0);
    }
    t0 = now();
    const c = bare.createContextSync();
    t1 = now();
    c.release();
    if (i >= 0) s.empty.push(t1 - t0);
    await preparedPool.prepare(bundle);
    t0 = now();
    const p = preparedPool.createExecution(bundle, init, 'bench');
    t1 = now();
    p.dispose();
    if (i >= 0) s.prepared!.push(t1 - t0);
  }
  if (preparedPool.stats().preparedHits < samples) throw new Error(`expected every prepared sample to take a prepared context, ${preparedPool.stats().preparedHits} did`);
  preparedPool.dispose();
  pool.dispose();
  bare.dispose();
  return fromRaw(s, Buffer.byteLength(bundle.code));
}
