/**
 * Measure 6, end to end on the in-memory store (host side): a Worker and a WorkflowClient on
 * `new Connection({ backend: 'memory:…' })`, running seqActivities(1), a one-activity workflow.
 * Throughput: `e2eWorkflows` workflows with `e2eConcurrency` in flight, each timed from
 * `client.start` to its `result()`. Latency alone: `e2eSequential` workflows one at a time.
 *
 * Baselines: the same Worker, service and store with the sandbox replaced by the node:vm floor
 * (IsolatePool.prototype.createExecution(Async) patched, in this process only), so the difference
 * is the isolate boundary; and deja with its live activations run synchronously on the event loop
 * (SandboxExecution.prototype.activateAsync and queryAsync patched to the synchronous calls), as
 * it did before live tasks moved to the isolate's own thread, so the price of that move shows.
 * Temporal has no in-memory server to compare with; it is not in this measure.
 * Runs alternate between the variants; each run has its own store and worker.
 */
import { Connection, IsolatePool, SandboxExecution, Worker, WorkflowClient, type Activation, type WorkflowBundle } from '../deja';
import { VmFloor } from '../floor';
import { activities } from '../record';
import { dejaBundle, type Settings } from '../setup';
import { now, percentile, summarize, type Summary } from '../stats';

type Variant = 'deja' | 'dejaSync' | 'floor';
const VARIANTS: Variant[] = ['deja', 'dejaSync', 'floor'];

export interface E2eVariantResult {
  /** Workflows per second, over the runs. */
  throughput: Summary;
  /** Start-to-result latency under load, ms, over all runs' workflows. */
  loaded: { p50: number; p99: number };
  /** Start-to-result latency one at a time, ms. */
  sequential: { p50: number; p99: number };
  /**
   * CPU time of this process (every thread: the event loop and the isolates') per workflow under
   * load, ms, median over the runs: what the throughput costs, less sensitive than the rate to
   * other processes sharing the machine.
   */
  cpuMsPerWorkflow?: number;
}

export interface E2eResult {
  workflows: number;
  concurrency: number;
  sequential: number;
  deja: E2eVariantResult;
  /** deja with live activations on the event loop thread (the path before issue 6). */
  dejaSync?: E2eVariantResult;
  floor: E2eVariantResult;
  resultsHash: string;
}

let useFloor = false;
let useSync = false;
const floors = new Map<string, VmFloor>();
const original = IsolatePool.prototype.createExecution;
const originalAsync = IsolatePool.prototype.createExecutionAsync;
IsolatePool.prototype.createExecutionAsync = async function (this: IsolatePool, bundle: WorkflowBundle, init, label) {
  if (!useFloor) return originalAsync.call(this, bundle, init, label);
  return IsolatePool.prototype.createExecution.call(this, bundle, init, label);
};
const activateAsync = SandboxExecution.prototype.activateAsync;
SandboxExecution.prototype.activateAsync = function (this: SandboxExecution, activation: Activation) {
  if (!useSync) return activateAsync.call(this, activation);
  return this.exclusive(() => this.activate(activation));
};
IsolatePool.prototype.createExecution = function (this: IsolatePool, bundle: WorkflowBundle, init, label) {
  if (!useFloor) return original.call(this, bundle, init, label);
  let floor = floors.get(bundle.hash);
  if (!floor) floors.set(bundle.hash, (floor = new VmFloor(bundle)));
  const execution = floor.createExecution(init);
  let disposed = false;
  return {
    label,
    get disposed() {
      return disposed;
    },
    activate: (activation: Activation) => execution.activate(activation),
    activateAsync: async (activation: Activation) => execution.activate(activation),
    exclusive: async <T>(fn: () => T) => fn(),
    query: () => {
      throw new Error('the floor answers no queries');
    },
    dispose: () => {
      disposed = true;
      execution.dispose();
    },
  } as unknown as ReturnType<typeof original>;
};

let runCounter = 0;

async function oneRun(variant: Variant, bundle: WorkflowBundle, settings: Settings, sink: { loaded: number[]; sequential: number[]; results: unknown[]; cpu: number[] }): Promise<number> {
  useFloor = variant === 'floor';
  useSync = variant === 'dejaSync';
  const connection = new Connection({ backend: `memory:bench-e2e-${variant}-${++runCounter}` });
  const taskQueue = 'e2e';
  const worker = await Worker.create({ connection, taskQueue, workflowBundle: bundle, activities, logger: () => undefined });
  const running = worker.run();
  const client = new WorkflowClient(connection.service);
  let id = 0;
  const one = async (): Promise<number> => {
    const t0 = now();
    const handle = await client.start('seqActivities', { taskQueue, workflowId: `e2e-${++id}`, args: [1] });
    sink.results.push(await handle.result());
    return now() - t0;
  };
  try {
    // Warm-up: the isolate, the compiled bundle, the JIT on both sides.
    await Promise.all(Array.from({ length: 20 }, one));
    // Under load: keep `concurrency` workflows in flight.
    const loaded: number[] = [];
    let started = 0;
    const t0 = now();
    const cpu0 = process.cpuUsage();
    await Promise.all(
      Array.from({ length: settings.e2eConcurrency }, async () => {
        while (started < settings.e2eWorkflows) {
          started++;
          loaded.push(await one());
        }
      }),
    );
    const throughput = settings.e2eWorkflows / ((now() - t0) / 1000);
    const cpu = process.cpuUsage(cpu0);
    sink.cpu.push((cpu.user + cpu.system) / 1000 / settings.e2eWorkflows);
    sink.loaded.push(...loaded);
    for (let i = 0; i < settings.e2eSequential; i++) sink.sequential.push(await one());
    return throughput;
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    useFloor = false;
    useSync = false;
  }
}

export async function measureE2e(settings: Settings): Promise<E2eResult> {
  const bundle = await dejaBundle('workflows');
  const sinks = Object.fromEntries(VARIANTS.map((v) => [v, { loaded: [], sequential: [], results: [], cpu: [] }])) as unknown as Record<Variant, { loaded: number[]; sequential: number[]; results: unknown[]; cpu: number[] }>;
  const throughput: Record<Variant, number[]> = { deja: [], dejaSync: [], floor: [] };
  for (let r = 0; r < settings.e2eRuns; r++) {
    for (const v of VARIANTS) throughput[v].push(await oneRun(v, bundle, settings, sinks[v]));
    process.stderr.write(`  e2e run ${r + 1}: ${VARIANTS.map((v) => `${v} ${throughput[v][r].toFixed(0)}/s`).join(', ')}\n`);
  }
  const summary = (v: Variant): E2eVariantResult => ({
    throughput: summarize(throughput[v]),
    loaded: { p50: percentile(sinks[v].loaded, 50), p99: percentile(sinks[v].loaded, 99) },
    sequential: { p50: percentile(sinks[v].sequential, 50), p99: percentile(sinks[v].sequential, 99) },
    cpuMsPerWorkflow: summarize(sinks[v].cpu).median,
  });
  const distinct = [...new Set(VARIANTS.flatMap((v) => sinks[v].results).map((x) => JSON.stringify(x)))];
  return {
    workflows: settings.e2eWorkflows,
    concurrency: settings.e2eConcurrency,
    sequential: settings.e2eSequential,
    deja: summary('deja'),
    dejaSync: summary('dejaSync'),
    floor: summary('floor'),
    resultsHash: distinct.join(','),
  };
}
