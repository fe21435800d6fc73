/**
 * Measure 10, end to end on PostgreSQL (host side): seqActivities(1), a one-activity workflow,
 * on one private PostgreSQL server that this measure starts (scripts/postgres.js, PostgreSQL's
 * default durability settings: fsync on, synchronous_commit on) and stops, side by side in one
 * run with the in-memory store and SQLite:
 * - memory: worker and client in this process;
 * - sqlite N, postgres N (N = 1, 2, 4): the client here, N worker processes (src/e2e-worker.ts)
 *   sharing a fresh SQLite file or a fresh PostgreSQL schema per run;
 * - postgres in process: worker and client in this process on PostgreSQL;
 * - DBOS Transact (when `@dbos-inc/dbos-sdk` resolves from bench/, or from DEJA_BENCH_DBOS_DIR):
 *   the same one-step workflow (a registered workflow calling one registered step), started and
 *   awaited in this process on the same server, its system database a database of its own.
 * Throughput: `e2eWorkflows` with `e2eConcurrency` in flight; latency from start to result under
 * that load (p50/p99) and one at a time. Variants alternate within each run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Connection, Worker, WorkflowClient, type WorkflowBundle } from '../deja';
import { activities } from '../record';
import { BENCH_DIR, WORK_DIR, dejaBundle, type Settings } from '../setup';
import { now, percentile, summarize, type Summary } from '../stats';

export const PG_VARIANTS = ['memory', 'sqlite1', 'sqlite2', 'sqlite4', 'postgresInProcess', 'postgres1', 'postgres2', 'postgres4', 'dbos'] as const;
export type PgVariant = (typeof PG_VARIANTS)[number];

export interface PgVariantResult {
  throughput: Summary;
  loaded: { p50: number; p99: number };
  sequential: { p50: number; p99: number };
}

export interface E2ePostgresResult {
  workflows: number;
  concurrency: number;
  sequential: number;
  postgresVersion: string;
  /** Why DBOS was not measured, when it was not. */
  dbosMissing?: string;
  dbosVersion?: string;
  variants: Partial<Record<PgVariant, PgVariantResult>>;
  resultsHash: string;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const pgServer = require('../../../scripts/postgres.js') as { startServer(o?: { durable?: boolean }): Promise<{ url: string; stop(): void } | undefined> };

let runCounter = 0;
const dbDir = path.join(WORK_DIR, 'sqlite');

function spawnWorker(backend: string, taskQueue: string): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, ['--no-node-snapshot', '-r', path.join(BENCH_DIR, 'register.js'), path.join(__dirname, '..', 'e2e-worker.ts'), backend, taskQueue], {
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

type Sink = { loaded: number[]; sequential: number[]; results: unknown[] };

/** Runs the load and the sequential part with `one` (start a workflow, await its result, return the latency). */
async function drive(settings: Settings, sink: Sink, one: () => Promise<number>): Promise<number> {
  await Promise.all(Array.from({ length: 20 }, one)); // warm-up
  const loaded: number[] = [];
  let started = 0;
  const t0 = now();
  await Promise.all(
    Array.from({ length: settings.e2eConcurrency }, async () => {
      while (started < settings.e2eWorkflows) {
        started++;
        loaded.push(await one());
      }
    }),
  );
  const throughput = settings.e2eWorkflows / ((now() - t0) / 1000);
  sink.loaded.push(...loaded);
  for (let i = 0; i < settings.e2eSequential; i++) sink.sequential.push(await one());
  return throughput;
}

async function dejaRun(variant: PgVariant, pgUrl: string, bundle: WorkflowBundle, settings: Settings, sink: Sink): Promise<number> {
  const id = ++runCounter;
  let backend: string;
  if (variant.startsWith('sqlite')) {
    const file = path.join(dbDir, `e2e-pg-${variant}-${id}.db`);
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
    backend = `sqlite:${file}`;
  } else if (variant.startsWith('postgres')) backend = `${pgUrl}?schema=bench_${process.pid}_${id}`;
  else backend = `memory:bench-pg-${id}`;
  const processes = Number(/\d+$/.exec(variant)?.[0] ?? 0);
  const connection = new Connection({ backend });
  const taskQueue = 'e2e';
  // The schema exists before the workers start (each would create it otherwise: they take turns).
  await connection.service.describeWorkflow({ workflowId: 'none' }).catch(() => undefined);
  const children = Array.from({ length: processes }, () => spawnWorker(backend, taskQueue));
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  if (processes === 0) {
    worker = await Worker.create({ connection, taskQueue, workflowBundle: bundle, activities, logger: () => undefined });
    running = worker.run();
  }
  await Promise.all(children.map((c) => c.ready));
  const client = new WorkflowClient(connection.service);
  let n = 0;
  try {
    return await drive(settings, sink, async () => {
      const t0 = now();
      const handle = await client.start('seqActivities', { taskQueue, workflowId: `e2e-${++n}`, args: [1] });
      sink.results.push(await handle.result());
      return now() - t0;
    });
  } finally {
    worker?.shutdown();
    await running;
    for (const c of children) {
      c.child.kill('SIGTERM');
      await new Promise((resolve) => (c.child.exitCode !== null ? resolve(undefined) : c.child.on('exit', resolve)));
    }
    await connection.close();
  }
}

interface Dbos {
  run(): Promise<number>;
  version: string;
}

/** DBOS Transact on the same server, if it can be loaded: launched once, one workflow per call. */
async function loadDbos(pgUrl: string): Promise<Dbos | string> {
  const from = process.env.DEJA_BENCH_DBOS_DIR ? [process.env.DEJA_BENCH_DBOS_DIR] : [BENCH_DIR];
  let entry: string;
  try {
    entry = require.resolve('@dbos-inc/dbos-sdk', { paths: from });
  } catch {
    return `@dbos-inc/dbos-sdk is not installed in ${from[0]} (npm install in bench/, or set DEJA_BENCH_DBOS_DIR)`;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DBOS } = require(entry) as { DBOS: any };
  const pkg = JSON.parse(fs.readFileSync(path.join(entry.slice(0, entry.lastIndexOf(`${path.sep}dist${path.sep}`)), 'package.json'), 'utf8')) as { version: string };
  const u = new URL(pgUrl);
  u.pathname = '/dbos_bench';
  const step = DBOS.registerStep(async (i: number) => i, { name: 'step' });
  const workflow = DBOS.registerWorkflow(
    async (n: number) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await step(i);
      return sum;
    },
    { name: 'seqActivities' },
  );
  DBOS.setConfig({ name: 'deja-bench', systemDatabaseUrl: u.toString(), runAdminServer: false, logLevel: 'error' });
  await DBOS.launch();
  return {
    version: pkg.version,
    async run() {
      const handle = await DBOS.startWorkflow(workflow)(1);
      return (await handle.getResult()) as number;
    },
  };
}

export async function measureE2ePostgres(settings: Settings): Promise<E2ePostgresResult> {
  fs.mkdirSync(dbDir, { recursive: true });
  const server = await pgServer.startServer({ durable: true });
  if (!server) throw new Error('measure 10 needs PostgreSQL: scripts/postgres.js could not install or start it');
  try {
    const bundle = await dejaBundle('workflows');
    const { Client } = require('pg') as typeof import('pg');
    const admin = new Client({ connectionString: server.url });
    await admin.connect();
    const postgresVersion = (await admin.query('SHOW server_version')).rows[0].server_version as string;
    await admin.end();
    const dbos = await loadDbos(server.url).catch((err: unknown) => `DBOS did not start: ${(err as Error).message}`);
    const variants = PG_VARIANTS.filter((v) => v !== 'dbos' || typeof dbos !== 'string');
    const sinks = Object.fromEntries(variants.map((v) => [v, { loaded: [], sequential: [], results: [] }])) as unknown as Record<PgVariant, Sink>;
    const throughput = Object.fromEntries(variants.map((v) => [v, [] as number[]])) as Record<PgVariant, number[]>;
    for (let r = 0; r < settings.e2eRuns; r++) {
      for (const v of variants) {
        const value =
          v === 'dbos'
            ? await drive(settings, sinks[v], async () => {
                const t0 = now();
                sinks[v].results.push(await (dbos as Dbos).run());
                return now() - t0;
              })
            : await dejaRun(v, server.url, bundle, settings, sinks[v]);
        throughput[v].push(value);
        process.stderr.write(`  e2e on PostgreSQL, run ${r + 1}: ${v} ${value.toFixed(0)}/s\n`);
      }
    }
    if (typeof dbos !== 'string') {
      const { DBOS } = require(require.resolve('@dbos-inc/dbos-sdk', { paths: process.env.DEJA_BENCH_DBOS_DIR ? [process.env.DEJA_BENCH_DBOS_DIR] : [BENCH_DIR] })) as { DBOS: { shutdown(): Promise<void> } };
      await DBOS.shutdown();
    }
    const summary = (v: PgVariant): PgVariantResult => ({
      throughput: summarize(throughput[v]),
      loaded: { p50: percentile(sinks[v].loaded, 50), p99: percentile(sinks[v].loaded, 99) },
      sequential: { p50: percentile(sinks[v].sequential, 50), p99: percentile(sinks[v].sequential, 99) },
    });
    const distinct = [...new Set(variants.flatMap((v) => sinks[v].results).map((x) => JSON.stringify(x)))];
    return {
      workflows: settings.e2eWorkflows,
      concurrency: settings.e2eConcurrency,
      sequential: settings.e2eSequential,
      postgresVersion,
      ...(typeof dbos === 'string' ? { dbosMissing: dbos } : { dbosVersion: dbos.version }),
      variants: Object.fromEntries(variants.map((v) => [v, summary(v)])),
      resultsHash: distinct.join(','),
    };
  } finally {
    server.stop();
  }
}
