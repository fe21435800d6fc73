/**
 * Measure 9, end to end by store (host side): seqActivities(1), a one-activity workflow, on the
 * in-memory store and on SQLite side by side, runs alternating in one measure:
 * - memory: worker and client in this process (`memory:`), as measure 6;
 * - sqlite, one process: worker and client in this process on one SQLite file (the default
 *   synchronous = NORMAL), and the same with synchronous = FULL;
 * - sqlite, 1 and 2 worker processes: the client here, the workers in processes of their own
 *   (src/e2e-worker.ts), sharing the file; this process learns of results through the feed.
 * Throughput: `e2eWorkflows` with `e2eConcurrency` in flight; latency from `client.start` to
 * `result()` under that load and one at a time. Plus the cross-process wake-up of the SQLite
 * change feed: a commit here until a subscriber in another process has seen it, timed as half of
 * a ping-pong, after the poll went idle and while it is busy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Connection, LocalWorkflowService, Worker, WorkflowClient, type WorkflowBundle } from '../deja';
import { SqliteStore } from '../../../lib/backends/sqlite';
import { activities } from '../record';
import { BENCH_DIR, WORK_DIR, dejaBundle, type Settings } from '../setup';
import { now, percentile, summarize, type Summary } from '../stats';

export type StoreVariant = 'memory' | 'sqliteInProcess' | 'sqliteFullInProcess' | 'sqlite1' | 'sqlite2';
export const STORE_VARIANTS: StoreVariant[] = ['memory', 'sqliteInProcess', 'sqliteFullInProcess', 'sqlite1', 'sqlite2'];

export interface StoreVariantResult {
  throughput: Summary;
  loaded: { p50: number; p99: number };
  sequential: { p50: number; p99: number };
  /** CPU time of this process (all its threads) per workflow under load, ms, median over the runs; worker processes not included. */
  cpuMsPerWorkflow?: number;
}

export interface E2eStoresResult {
  workflows: number;
  concurrency: number;
  sequential: number;
  variants: Record<StoreVariant, StoreVariantResult>;
  /** Cross-process wake-up of the SQLite feed, ms (half a round trip). */
  wakeUp: { idle: { p50: number; p99: number }; busy: { p50: number; p99: number }; samples: number };
  resultsHash: string;
}

let runCounter = 0;
const dbDir = path.join(WORK_DIR, 'sqlite');

function spawnWorker(file: string, taskQueue: string): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, ['--no-node-snapshot', '-r', path.join(BENCH_DIR, 'register.js'), path.join(__dirname, '..', 'e2e-worker.ts'), file, taskQueue], {
    cwd: BENCH_DIR,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const ready = new Promise<void>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => line.includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`bench worker exited with ${code}`)));
  });
  return { child, ready };
}

async function oneRun(variant: StoreVariant, bundle: WorkflowBundle, settings: Settings, sink: { loaded: number[]; sequential: number[]; results: unknown[]; cpu: number[] }): Promise<number> {
  const id = ++runCounter;
  const file = path.join(dbDir, `e2e-${variant}-${id}.db`);
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
  const connection =
    variant === 'sqliteFullInProcess'
      ? new Connection({ backend: new LocalWorkflowService({ store: new SqliteStore(file, { synchronous: 'full' }) }) })
      : new Connection({ backend: variant === 'memory' ? `memory:bench-stores-${id}` : `sqlite:${file}` });
  const taskQueue = 'e2e';
  const processes = variant === 'sqlite1' ? 1 : variant === 'sqlite2' ? 2 : 0;
  const children = Array.from({ length: processes }, () => spawnWorker(file, taskQueue));
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  if (processes === 0) {
    worker = await Worker.create({ connection, taskQueue, workflowBundle: bundle, activities, logger: () => undefined });
    running = worker.run();
  }
  await Promise.all(children.map((c) => c.ready));
  const client = new WorkflowClient(connection.service);
  let n = 0;
  const one = async (): Promise<number> => {
    const t0 = now();
    const handle = await client.start('seqActivities', { taskQueue, workflowId: `e2e-${++n}`, args: [1] });
    sink.results.push(await handle.result());
    return now() - t0;
  };
  try {
    await Promise.all(Array.from({ length: 20 }, one)); // warm-up
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
    worker?.shutdown();
    await running;
    for (const c of children) {
      c.child.kill('SIGTERM');
      await new Promise((resolve) => (c.child.exitCode !== null ? resolve(undefined) : c.child.on('exit', resolve)));
    }
    await connection.close();
    if (variant === 'sqliteFullInProcess') await connection.service.close();
  }
}

/**
 * The feed's wake-up across processes: a child (src/e2e-worker.ts in `echo` mode) answers each
 * change it sees with a write of its own; this process times its write until it sees the answer.
 */
async function measureWakeUp(samples: number): Promise<E2eStoresResult['wakeUp']> {
  const file = path.join(dbDir, `wake-${++runCounter}.db`);
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
  const store = new SqliteStore(file);
  const child = spawn(process.execPath, ['--no-node-snapshot', '-r', path.join(BENCH_DIR, 'register.js'), path.join(__dirname, '..', 'e2e-worker.ts'), file, '--echo'], {
    cwd: BENCH_DIR,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  await new Promise<void>((resolve) => readline.createInterface({ input: child.stdout! }).on('line', (line) => line.includes('ready') && resolve()));
  let seen: (() => void) | undefined;
  const unsubscribe = store.changes.subscribe((change) => change.type === 'any' && seen?.());
  const ping = async (i: number): Promise<number> => {
    const answered = new Promise<void>((resolve) => (seen = resolve));
    const t0 = now();
    await store.transaction((tx) => tx.queries.insert({ queryId: `ping-${i}`, workflowId: 'w', runId: 'r', workflowType: 't', taskQueue: 'ping', queryType: 'p', args: [] }));
    await answered;
    return (now() - t0) / 2;
  };
  const idle: number[] = [];
  const busy: number[] = [];
  let i = 0;
  try {
    for (let s = 0; s < samples; s++) {
      await new Promise((resolve) => setTimeout(resolve, 300)); // both polls back off to idle
      idle.push(await ping(++i));
      for (let b = 0; b < 5; b++) busy.push(await ping(++i)); // right after activity
    }
  } finally {
    unsubscribe();
    child.kill('SIGTERM');
    await store.close();
  }
  return { idle: { p50: percentile(idle, 50), p99: percentile(idle, 99) }, busy: { p50: percentile(busy, 50), p99: percentile(busy, 99) }, samples: idle.length + busy.length };
}

export async function measureE2eStores(settings: Settings): Promise<E2eStoresResult> {
  fs.mkdirSync(dbDir, { recursive: true });
  const bundle = await dejaBundle('workflows');
  const sinks = Object.fromEntries(STORE_VARIANTS.map((v) => [v, { loaded: [], sequential: [], results: [], cpu: [] }])) as unknown as Record<
    StoreVariant,
    { loaded: number[]; sequential: number[]; results: unknown[]; cpu: number[] }
  >;
  const throughput = Object.fromEntries(STORE_VARIANTS.map((v) => [v, [] as number[]])) as Record<StoreVariant, number[]>;
  for (let r = 0; r < settings.e2eRuns; r++) {
    for (const v of STORE_VARIANTS) throughput[v].push(await oneRun(v, bundle, settings, sinks[v]));
    process.stderr.write(`  e2e by store, run ${r + 1}: ${STORE_VARIANTS.map((v) => `${v} ${throughput[v][r].toFixed(0)}/s`).join(', ')}\n`);
  }
  const wakeUp = await measureWakeUp(settings.e2eSequential);
  const summary = (v: StoreVariant): StoreVariantResult => ({
    throughput: summarize(throughput[v]),
    loaded: { p50: percentile(sinks[v].loaded, 50), p99: percentile(sinks[v].loaded, 99) },
    sequential: { p50: percentile(sinks[v].sequential, 50), p99: percentile(sinks[v].sequential, 99) },
    cpuMsPerWorkflow: summarize(sinks[v].cpu).median,
  });
  const distinct = [...new Set(STORE_VARIANTS.flatMap((v) => sinks[v].results).map((x) => JSON.stringify(x)))];
  return {
    workflows: settings.e2eWorkflows,
    concurrency: settings.e2eConcurrency,
    sequential: settings.e2eSequential,
    variants: Object.fromEntries(STORE_VARIANTS.map((v) => [v, summary(v)])) as Record<StoreVariant, StoreVariantResult>,
    wakeUp,
    resultsHash: distinct.join(','),
  };
}
