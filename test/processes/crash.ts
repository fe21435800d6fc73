/**
 * The crash run (host side), shared by test/sqlite-store.test.ts (a short run in `npm test`) and
 * scripts/crash-sqlite.ts (200 kills or more): worker processes on one SQLite file are killed
 * with SIGKILL at random (seeded) instants, again and again, while workflows of activities and
 * timers run; then a fresh worker finishes them, and `checkCrashRun` checks that nothing was lost
 * or done twice. Needs the built dist/ (the children run it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Connection, WorkflowClient } from '../../lib/client';
import { makeHistory, type HistoryEvent } from '../../lib/history';

export const childScript = path.join(__dirname, 'child.js');

/** A child process running child.js, and its JSON lines. */
export interface Child {
  process: ChildProcess;
  /** The next line that has `key`; rejects if the child exits first or prints an error. */
  waitFor(key: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnChild(args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const child = spawn(process.execPath, ['--no-node-snapshot', childScript, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Plain JS on dist/: none of the test runner's loaders.
    env: { ...process.env, NODE_OPTIONS: '', ...env },
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      return;
    }
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // 'close', not 'exit': by then every line the child printed has been read.
    child.on('close', (code, signal) => {
      resolve({ code, signal });
      for (const wake of waiters.splice(0)) wake();
    }),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  return {
    process: child,
    exited,
    async waitFor(key, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const error = lines.find((l) => 'error' in l);
        if (error) throw new Error(`child ${args[0]} failed: ${String(error.error)}`);
        const found = lines.find((l) => key in l);
        if (found) return found;
        if (gone || child.exitCode !== null || child.signalCode !== null) throw new Error(`child ${args[0]} exited before printing "${key}": ${stderr}`);
        if (Date.now() > deadline) throw new Error(`child ${args[0]}: no "${key}" within ${timeoutMs} ms: ${stderr}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100).unref();
        });
      }
    },
  };
}

/** A backend string as it is; a path as the SQLite file there. */
export const backendOf = (fileOrBackend: string): string => (/^[a-z]+:/.test(fileOrBackend) ? fileOrBackend : `sqlite:${fileOrBackend}`);

/** A small seeded PRNG (mulberry32), so that a failing run can be repeated from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface CrashRunOptions {
  /** The SQLite file, or any backend string (postgres://…) the workers share. */
  file: string;
  log: string;
  seed: number;
  kills: number;
  /** Started at first; then one more each time workers are started. */
  workflows: number;
  steps: number;
  sleepMs: number;
  /** A worker lives this long before its kill: from minMs to maxMs, drawn from the seed. */
  lifeMs: [min: number, max: number];
  /** Called after each kill. */
  onKill?: (kills: number) => void;
  /** Called after each kill, awaited, while other workers may run: more faults (a database's connections cut, a restart). */
  chaos?: (kills: number) => Promise<void> | void;
}

export interface CrashRunResult {
  kills: number;
  workflows: number;
  completed: number;
  activityExecutions: number;
  reExecutions: number;
  timersFired: number;
  /** Workflows still running when the last kill was done. */
  openAfterKills: number;
  elapsedMs: number;
}

const taskQueue = 'crash';

/**
 * Starts the workflows, then kills workers `kills` times (one or two at once, each after a seeded
 * random life), then runs one fresh worker until every workflow has a result, and checks them.
 */
export async function crashRun(options: CrashRunOptions): Promise<CrashRunResult> {
  const started = Date.now();
  const random = prng(options.seed);
  const connection = new Connection({ backend: backendOf(options.file) });
  try {
    const service = connection.service;
    const ids: string[] = [];
    const runIds: string[] = [];
    const startOne = async () => {
      const workflowId = `crash-${options.seed}-${ids.length}`;
      // A short workflow task timeout: a killed worker's task comes back after a second.
      const { runId } = await service.startWorkflow({ workflowId, workflowType: 'crashable', taskQueue, args: [options.steps, options.sleepMs], workflowTaskTimeoutMs: 1000 });
      ids.push(workflowId);
      runIds.push(runId);
    };
    // Some at first, then one more with each new worker: there is work in flight at every kill.
    while (ids.length < options.workflows) await startOne();
    let kills = 0;
    while (kills < options.kills) {
      await startOne();
      const together = options.kills - kills >= 2 && random() < 0.3 ? 2 : 1;
      const workers = Array.from({ length: together }, () => spawnChild(['worker', options.file, taskQueue, options.log]));
      await Promise.all(workers.map((w) => w.waitFor('ready')));
      for (const worker of workers) {
        const life = options.lifeMs[0] + random() * (options.lifeMs[1] - options.lifeMs[0]);
        await new Promise((resolve) => setTimeout(resolve, life / together));
        worker.process.kill('SIGKILL');
        await worker.exited;
        kills++;
        options.onKill?.(kills);
        await options.chaos?.(kills);
      }
    }
    // How much was still to do when the killing stopped (the run is worth little if nothing was).
    let openAfterKills = 0;
    for (const workflowId of ids) if ((await service.describeWorkflow({ workflowId })).status === 'running') openAfterKills++;
    // A fresh worker finishes everything.
    const last = spawnChild(['worker', options.file, taskQueue, options.log]);
    try {
      await last.waitFor('ready');
      const client = new WorkflowClient(service);
      const results = await Promise.all(ids.map((id) => client.getHandle(id).result()));
      const histories = await Promise.all(ids.map((workflowId, i) => service.getHistory({ workflowId, runId: runIds[i] })));
      return { ...checkCrashRun(ids.map((workflowId, i) => ({ workflowId, runId: runIds[i] })), results, histories, options, last.process.pid!), kills, openAfterKills, elapsedMs: Date.now() - started };
    } finally {
      last.process.kill('SIGTERM');
      await last.exited;
    }
  } finally {
    await connection.close();
  }
}

/** A broken promise of the crash run: thrown with what was found. */
export class CrashCheckError extends Error {}

/**
 * The promises, checked: every workflow completed once with every step's result; every history is
 * valid; every activity ran at least once; an attempt ran at most once, and the attempt whose
 * result was recorded was the last to run (nothing ran after a completion was recorded); earlier
 * attempts each lost their worker (they never reported an end in a process that lived on).
 */
export function checkCrashRun(
  runs: { workflowId: string; runId: string }[],
  results: unknown[],
  histories: HistoryEvent[][],
  options: Pick<CrashRunOptions, 'steps' | 'log'>,
  lastPid: number,
): Omit<CrashRunResult, 'kills' | 'openAfterKills' | 'elapsedMs'> {
  const fail = (message: string): never => {
    throw new CrashCheckError(message);
  };
  const lines = fs.readFileSync(options.log, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' '));
  // Every worker but the last was killed: an attempt that ended in the last one must be the recorded one.
  let timersFired = 0;
  let activityExecutions = 0;
  let reExecutions = 0;
  runs.forEach(({ workflowId, runId }, w) => {
    const expected = Array.from({ length: options.steps }, (_, i) => `${workflowId}/${i}`).join(',');
    if (results[w] !== expected) fail(`${workflowId}: result ${JSON.stringify(results[w])}, expected ${JSON.stringify(expected)}`);
    const events = histories[w];
    makeHistory(workflowId, runId, events); // throws on an invalid history
    const closes = events.filter((e) => e.type.startsWith('workflowExecution') && e.type !== 'workflowExecutionStarted' && e.type !== 'workflowExecutionSignaled');
    if (closes.length !== 1 || closes[0].type !== 'workflowExecutionCompleted') fail(`${workflowId}: ${closes.length} close events (${closes.map((e) => e.type).join(', ')}), expected one completion`);
    const fired = events.filter((e) => e.type === 'timerFired').length;
    if (fired !== options.steps) fail(`${workflowId}: ${fired} timers fired, expected ${options.steps}`);
    timersFired += fired;
    const completed = events.filter((e) => e.type === 'activityTaskCompleted').length;
    if (completed !== options.steps) fail(`${workflowId}: ${completed} activity completions, expected ${options.steps}`);
    for (let i = 0; i < options.steps; i++) {
      const key = `${workflowId}/${i}`;
      const begins = lines.filter((l) => l[0] === 'begin' && l[1] === key);
      const ends = lines.filter((l) => l[0] === 'end' && l[1] === key);
      if (begins.length === 0) fail(`${key}: the activity never ran`);
      const attempts = begins.map((l) => Number(l[2]));
      if (new Set(attempts).size !== attempts.length) fail(`${key}: an attempt ran twice (attempts ${attempts.join(', ')})`);
      const scheduled = events.find((e) => e.type === 'activityTaskScheduled' && JSON.stringify((e as { input?: unknown }).input) === JSON.stringify([key]));
      if (!scheduled) fail(`${key}: no activityTaskScheduled in history`);
      const startedEvent = events.find((e) => e.type === 'activityTaskStarted' && (e as { scheduledEventId?: number }).scheduledEventId === scheduled!.eventId) as { attempt?: number } | undefined;
      if (startedEvent?.attempt === undefined) fail(`${key}: no activityTaskStarted with its attempt in history`);
      const recorded = startedEvent!.attempt!;
      if (Math.max(...attempts) !== recorded) fail(`${key}: attempt ${Math.max(...attempts)} ran after attempt ${recorded}'s result was recorded`);
      for (const attempt of attempts.filter((a) => a < recorded)) {
        const end = ends.find((l) => Number(l[2]) === attempt);
        if (end && end[3] === String(lastPid)) fail(`${key}: attempt ${attempt} ended in the last worker, yet attempt ${recorded} ran after it`);
      }
      activityExecutions += begins.length;
      reExecutions += begins.length - 1;
    }
  });
  return { workflows: runs.length, completed: results.length, activityExecutions, reExecutions, timersFired };
}
