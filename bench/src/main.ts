/**
 * The bench driver (host side): `node -r bench/register.js bench/src/main.ts [--quick]`, started
 * by `npm run bench` (scripts/bench.js). Runs each measure in a fresh process, one after the
 * other, then prints the results as tables and writes them to bench/RESULTS.md (a full run) or
 * bench/.work/RESULTS-quick.md (--quick).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BENCH_DIR, WORK_DIR, settingsFor, type Settings } from './setup';
import { renderReport, type Environment, type Results } from './report';
import { mergeOneHistory, mergeReplay } from './merge';
import { mergeNewExecution } from './measures/new-execution';

/** Measures run in `dejaProcesses` processes, and how their results are pooled. */
const POOLED: Partial<Record<keyof Results, (parts: never[]) => unknown>> = {
  replayDeja: mergeReplay as (parts: never[]) => unknown,
  oneHistoryDeja: mergeOneHistory as (parts: never[]) => unknown,
  newExecution: mergeNewExecution as (parts: never[]) => unknown,
};

const PLAN: { name: keyof Results; title: string }[] = [
  { name: 'prepare', title: 'record histories, derive Temporal histories, prove them valid' },
  { name: 'bundle', title: '1. bundle time' },
  { name: 'replayDeja', title: '2. replay throughput: deja, the same runtime without an isolate, the plain-function floor' },
  { name: 'replayTemporal', title: '2. replay throughput: Temporal' },
  { name: 'oneHistoryDeja', title: '3. one 1000-activity history: deja and the same runtime without an isolate' },
  { name: 'oneHistoryTemporal', title: '3. one 1000-activity history: Temporal' },
  { name: 'rssDeja', title: '3. peak RSS: deja' },
  { name: 'rssFloor', title: '3. peak RSS: the same runtime without an isolate' },
  { name: 'rssTemporal', title: '3. peak RSS: Temporal' },
  { name: 'newExecution', title: '4. new execution' },
  { name: 'heap', title: '5. heap per cached execution' },
  { name: 'e2e', title: '6. end to end, in-memory store' },
  { name: 'e2eStores', title: '9. end to end by store: memory and SQLite, 1 and 2 worker processes' },
  { name: 'e2ePostgres', title: '10. end to end on PostgreSQL: 1, 2 and 4 worker processes beside SQLite, memory and DBOS' },
  { name: 'validate', title: '7. history validation: schema-derived against the pre-issue-7 validator' },
  { name: 'replayMachine', title: '8. replay machine: handler tables against the pre-issue-7 machine' },
  { name: 'growth', title: '11. time per task as history grows: 10 to 10,000 tasks' },
];

export const CHILD_FLAGS = ['--no-node-snapshot', '--expose-gc'];

function runChild(name: string, settings: Settings): { result?: unknown; error?: string; seconds: number } {
  const out = path.join(WORK_DIR, `result-${name}.json`);
  fs.rmSync(out, { force: true });
  const t0 = performance.now();
  const child = spawnSync(
    process.execPath,
    [...CHILD_FLAGS, '-r', path.join(BENCH_DIR, 'register.js'), path.join(__dirname, 'child.ts'), name, JSON.stringify(settings), out],
    { cwd: BENCH_DIR, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } },
  );
  const seconds = (performance.now() - t0) / 1000;
  if (child.status !== 0 || !fs.existsSync(out)) return { error: `exited with ${child.status ?? child.signal}`, seconds };
  return { result: JSON.parse(fs.readFileSync(out, 'utf8')), seconds };
}

function gitDescribe(): string {
  const rev = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: BENCH_DIR, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', '../lib', '../runtime'], { cwd: BENCH_DIR, encoding: 'utf8' });
  if (rev.status !== 0) return 'unknown';
  return `${rev.stdout.trim()}${dirty.stdout.trim() ? ' with uncommitted changes in lib/ or runtime/' : ''}`;
}

const version = (pkg: string, from = BENCH_DIR): string => {
  try {
    return (JSON.parse(fs.readFileSync(require.resolve(`${pkg}/package.json`, { paths: [from] }), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
};

function main(): number {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--quick' && !a.startsWith('--only='));
  if (unknown.length) {
    process.stderr.write(`bench: unknown argument ${unknown.join(' ')}; expected --quick and/or --only=<measure,…>\n`);
    return 2;
  }
  const quick = args.includes('--quick');
  const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
  const settings = settingsFor(quick);
  fs.mkdirSync(WORK_DIR, { recursive: true });
  const root = path.resolve(BENCH_DIR, '..');
  const started = new Date();
  const load0 = os.loadavg();
  const t0 = performance.now();
  const results: Partial<Results> = {};
  const errors: string[] = [];
  const seconds: Record<string, number> = {};
  for (const step of PLAN) {
    if (only && step.name !== 'prepare' && !only.includes(step.name)) continue;
    if (step.name === 'oneHistoryTemporal' && !settings.oneHistoryTemporal) continue;
    if (only && step.name === 'prepare' && !only.includes('prepare') && fs.existsSync(path.join(WORK_DIR, 'corpus.json'))) continue;
    const merge = POOLED[step.name];
    const times = merge ? settings.dejaProcesses : 1;
    const parts: unknown[] = [];
    seconds[step.name] = 0;
    for (let k = 0; k < times; k++) {
      process.stderr.write(`bench: ${step.title}${times > 1 ? ` (process ${k + 1} of ${times})` : ''}…\n`);
      const r = runChild(step.name, settings);
      seconds[step.name] += r.seconds;
      if (r.error) {
        errors.push(`${step.name}: ${r.error}`);
        process.stderr.write(`bench: ${step.name} failed (${r.error})\n`);
        break;
      }
      parts.push(r.result);
    }
    if (parts.length === times) (results as Record<string, unknown>)[step.name] = merge && times > 1 ? merge(parts as never[]) : parts[0];
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpus = os.cpus();
  const env: Environment = {
    date: started.toISOString(),
    quick,
    machine: `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB, ${os.type()} ${os.release()}`,
    loadAverage: { start: load0, end: os.loadavg() },
    node: `${process.version} (V8 ${process.versions.v8})`,
    deja: `${(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version} at git ${gitDescribe()}`,
    isolatedVm: version('isolated-vm', root),
    esbuild: version('esbuild', root),
    temporal: `@temporalio/worker ${version('@temporalio/worker')}, @temporalio/workflow ${version('@temporalio/workflow')}, @temporalio/common ${version('@temporalio/common')}, protobufjs ${version('protobufjs')}`,
    command: quick ? 'npm run bench -- --quick' : 'npm run bench',
    childCommand: `node ${CHILD_FLAGS.join(' ')} -r bench/register.js bench/src/child.ts <measure>`,
    settings,
    wallSeconds,
    seconds,
    errors,
  };
  const markdown = renderReport(env, results);
  process.stdout.write('\n' + markdown + '\n');
  const file = quick || only ? path.join(WORK_DIR, 'RESULTS-quick.md') : path.join(BENCH_DIR, 'RESULTS.md');
  fs.writeFileSync(file, markdown);
  fs.writeFileSync(path.join(WORK_DIR, quick || only ? 'results-quick.json' : 'results.json'), JSON.stringify({ env, results }, null, 1));
  process.stderr.write(`bench: wrote ${path.relative(root, file)} (${wallSeconds.toFixed(0)} s in all)\n`);
  return errors.length ? 1 : 0;
}

process.exitCode = main();
