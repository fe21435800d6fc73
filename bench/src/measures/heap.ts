/**
 * Measure 5, heap per cached execution (host side): 1,000 executions of seqActivities(1000) kept
 * alive, each after its first workflow task (waiting on its first activity), each with its
 * ReplayMachine, as a worker's cache holds them. Reported per execution: the growth of the
 * isolate heap (used_heap_size, from pool.stats()), of the host heap (process heapUsed) and of
 * the process RSS, each after a full garbage collection. Baseline: the same executions as
 * node:vm contexts (the floor), whose heap is the host's. And the lower bound V8 itself sets: an
 * empty isolated-vm context, with nothing run in it (isolated-vm is imported here for that alone).
 */
import { IsolatePool, ReplayMachine, initFromStart, type HistoryEvent } from '../deja';
import { VmFloor } from '../floor';
import { collect, dejaBundle, entryFor, loadCorpus, type Settings } from '../setup';

export interface HeapResult {
  executions: number;
  /** Bytes per execution. */
  deja: { isolateHeap: number; hostHeap: number; total: number; rss: number; gcInIsolate: boolean };
  floor: { hostHeap: number; rss: number };
  /** An empty isolated-vm context, bytes of isolate heap each. */
  emptyContext: number;
}

/** A full GC in every isolate of the pool, through a scratch context (needs --expose-gc). */
function collectPool(pool: IsolatePool): boolean {
  const isolates = (pool as unknown as { isolates?: { isolate: { createContextSync(): { evalSync(code: string): unknown; release(): void } } }[] }).isolates;
  if (!Array.isArray(isolates)) return false;
  let ok = true;
  for (const p of isolates) {
    const ctx = p.isolate.createContextSync();
    try {
      ctx.evalSync('typeof gc === "function" && (gc(), gc())');
    } catch {
      ok = false;
    }
    ctx.release();
  }
  return ok;
}

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 50));
  collect();
  collect();
}

export async function measureHeap(settings: Settings): Promise<HeapResult> {
  const bundle = await dejaBundle('workflows');
  const history = entryFor(loadCorpus(), 'seqActivities', 1000).deja;
  const firstTask = history.events.findIndex((e) => e.type === 'workflowTaskStarted');
  const prefix: HistoryEvent[] = history.events.slice(0, firstTask + 1);
  const start = prefix[0];
  if (start.type !== 'workflowExecutionStarted') throw new Error('no start event');
  const count = settings.cachedExecutions;

  // deja
  const pool = new IsolatePool({ memoryLimitMb: 2048 });
  const keep: unknown[] = [];
  const cacheOne = (i: number) => {
    const execution = pool.createExecution(bundle, initFromStart({ ...start, runId: `run-${i}` }), `heap ${i}`);
    const machine = new ReplayMachine(execution);
    if (!machine.advance(prefix)) throw new Error('expected a live first task');
    keep.push({ execution, machine });
  };
  cacheOne(-1); // the isolate, its compiled bundle, and one context exist before the baseline
  let gcInIsolate = collectPool(pool);
  await settle();
  const isolate0 = pool.stats().usedHeapBytes;
  const host0 = process.memoryUsage().heapUsed;
  const rss0 = process.memoryUsage().rss;
  for (let i = 0; i < count; i++) cacheOne(i);
  gcInIsolate = collectPool(pool) && gcInIsolate;
  await settle();
  const isolateHeap = (pool.stats().usedHeapBytes - isolate0) / count;
  const hostHeap = (process.memoryUsage().heapUsed - host0) / count;
  const rss = (process.memoryUsage().rss - rss0) / count;
  if (pool.stats().executions !== count + 1) throw new Error(`expected ${count + 1} live executions, found ${pool.stats().executions}`);
  pool.dispose();
  keep.length = 0;
  await settle();

  // the floor
  const floor = new VmFloor(bundle);
  const floorKeep: unknown[] = [];
  const floorOne = (i: number) => {
    const execution = floor.createExecution(initFromStart({ ...start, runId: `run-${i}` }));
    const machine = new ReplayMachine(execution);
    if (!machine.advance(prefix)) throw new Error('expected a live first task');
    floorKeep.push({ execution, machine });
  };
  floorOne(-1);
  await settle();
  const fHost0 = process.memoryUsage().heapUsed;
  const fRss0 = process.memoryUsage().rss;
  for (let i = 0; i < count; i++) floorOne(i);
  await settle();
  const floorHost = (process.memoryUsage().heapUsed - fHost0) / count;
  const floorRss = (process.memoryUsage().rss - fRss0) / count;
  if (floorKeep.length !== count + 1) throw new Error('floor executions lost');

  floorKeep.length = 0;
  await settle();

  // V8's own floor: empty contexts in a fresh isolate.
  const ivm = require('isolated-vm') as typeof import('isolated-vm');
  const isolate = new ivm.Isolate({ memoryLimit: 1024 });
  const contexts: { release(): void }[] = [isolate.createContextSync()];
  const gcIsolate = () => {
    const c = isolate.createContextSync();
    c.evalSync('typeof gc === "function" && (gc(), gc())');
    c.release();
  };
  gcIsolate();
  const empty0 = isolate.getHeapStatisticsSync().used_heap_size;
  for (let i = 0; i < count; i++) contexts.push(isolate.createContextSync());
  gcIsolate();
  const emptyContext = (isolate.getHeapStatisticsSync().used_heap_size - empty0) / count;
  for (const c of contexts) c.release();
  isolate.dispose();

  return {
    executions: count,
    emptyContext,
    deja: { isolateHeap, hostHeap, total: isolateHeap + hostHeap, rss, gcInIsolate },
    floor: { hostHeap: floorHost, rss: floorRss },
  };
}
