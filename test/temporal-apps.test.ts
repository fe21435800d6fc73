// Temporal applications run unchanged (issue 12, item 4). Two small apps in test/temporal-apps/,
// written the way Temporal's samples are (worker.ts, client.ts, workflows.ts, activities.ts and a
// describe/it test on TestWorkflowEnvironment) and importing only `@temporalio/*`, are compiled with
// tsc through the documented `paths` block to dist/'s declarations, then run in child processes
// through `deja/register`: the worker until SIGINT, the client against it, the spec on its own.
// Also here: the pieces those apps (and Temporal's samples) needed: @temporalio/envconfig,
// Runtime and DefaultLogger, bundleWorkflowCode's Temporal options, WorkflowCoverage,
// `new WithStartWorkflowOperation`, client.connection, shutdown on signals.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { warningsOf } from './support/warnings';
import {
  loadClientConfig,
  loadClientConfigFromToml,
  loadClientConfigProfile,
  loadClientConnectConfig,
  loadConfigData,
  toClientOptions,
} from '../lib/compat/envconfig';
import { DefaultLogger, Runtime, runtimeWorkerLogger, type LogEntry } from '../lib/compat/runtime';
import { bundleWorkflowCode, Worker as CompatWorker } from '../lib/compat/worker';
import { WorkflowCoverage } from '../lib/compat/nyc-test-coverage';
import { registerTargets } from '../lib/compat/register';
import { Client, Connection, WithStartWorkflowOperation, type ScheduleDescription, type ScheduleUpdateOptions, type Workflow } from '../lib/client';
import type { ScheduleOptionsStartWorkflowAction } from '../lib/client/schedules';
import { NativeConnection, Worker } from '../lib/worker';
import { SHUTDOWN_SIGNALS } from '../lib/worker/shutdown-signals';

const root = path.join(__dirname, '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-temporal-apps-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

// ── @temporalio/envconfig ─────────────────────────────────────────────────────────────────────────

const TOML = `# profiles for deja's test
[profile.default]
address = "localhost:7233"
namespace = 'default'

[profile.staging]
address = "sqlite:./staging.db" # a backend string
api_key = "k-1"

[profile.staging.tls]
server_name = "staging.internal"
client_cert_data = "CERT"

[profile.staging.grpc_meta]
Some_Header = "v"
`;

t.test('envconfig: profiles from a TOML file, environment variables over them', async (t) => {
  const file = path.join(tmp, 'temporal.toml');
  fs.writeFileSync(file, TOML);
  t.same(loadClientConfigFromToml(TOML).profiles, {
    default: { address: 'localhost:7233', namespace: 'default' },
    staging: { address: 'sqlite:./staging.db', apiKey: 'k-1', tls: { serverName: 'staging.internal', clientCert: { data: 'CERT' } }, grpcMeta: { 'some-header': 'v' } },
  });
  t.same(loadClientConfig({ overrideEnvVars: { TEMPORAL_CONFIG_FILE: file } }).profiles.default, { address: 'localhost:7233', namespace: 'default' });
  // No file anywhere: no profiles, and a connect config with nothing in it (the default backend).
  const empty = { XDG_CONFIG_HOME: path.join(tmp, 'nothing-here'), HOME: path.join(tmp, 'nothing-here') };
  t.same(loadClientConfig({ overrideEnvVars: empty }), { profiles: {} });
  t.same(loadClientConnectConfig({ overrideEnvVars: empty }), { connectionOptions: {} });
  // The default file is found under XDG_CONFIG_HOME/temporalio/temporal.toml.
  fs.mkdirSync(path.join(tmp, 'xdg', 'temporalio'), { recursive: true });
  fs.writeFileSync(path.join(tmp, 'xdg', 'temporalio', 'temporal.toml'), TOML);
  t.same(loadClientConnectConfig({ overrideEnvVars: { XDG_CONFIG_HOME: path.join(tmp, 'xdg') } }), { connectionOptions: { address: 'localhost:7233' }, namespace: 'default' });
  // TEMPORAL_PROFILE picks a profile; TEMPORAL_* variables win over the file.
  const staging = loadClientConnectConfig({ overrideEnvVars: { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging', TEMPORAL_NAMESPACE: 'ns', TEMPORAL_GRPC_META_X_TEAM: 'a' } });
  t.same(staging, {
    connectionOptions: { address: 'sqlite:./staging.db', apiKey: 'k-1', tls: { serverName: 'staging.internal', clientCert: { data: 'CERT' } }, metadata: { 'some-header': 'v', 'x-team': 'a' } },
    namespace: 'ns',
  });
  t.same(loadClientConnectConfig({ disableFile: true, overrideEnvVars: { TEMPORAL_ADDRESS: 'memory:x', TEMPORAL_TLS: 'false' } }), { connectionOptions: { address: 'memory:x', tls: false } });
  t.same(loadClientConfigProfile({ configSource: { data: TOML }, disableEnv: true, profile: 'default', overrideEnvVars: { TEMPORAL_ADDRESS: 'ignored' } }), { address: 'localhost:7233', namespace: 'default' });
  t.same(toClientOptions({ apiKey: 'k' }), { connectionOptions: { apiKey: 'k', tls: true } });
  t.equal(loadConfigData({ data: 'abc' })!.toString(), 'abc');
  t.equal(loadConfigData(undefined), undefined);
  // Refusals say what was expected.
  t.throws(() => loadClientConfigProfile({ configSource: { data: TOML }, profile: 'prod' }), { message: /profile "prod" is not in the config file \(it has: default, staging\)/ });
  t.throws(() => loadClientConfigFromToml('[profile.default]\naddress = localhost'), { message: /line 2: expected a quoted string, true, false or an integer, got localhost/ });
  t.throws(() => loadClientConfigFromToml('[profile.default]\nwhat'), { message: /line 2: expected \[table\] or key = value, got what/ });
  t.throws(() => loadClientConfigFromToml('[profile.default]\nadress = "x"', { strict: true }), { message: /unknown key\(s\) in profile\.default: adress/ });
  t.throws(() => loadClientConfigFromToml('[profile.default]\naddress = 7'), { message: /profile\.default\.address must be a string, got number 7/ });
  t.throws(() => loadClientConfigProfile({ disableEnv: true, disableFile: true }), { message: /disableFile and disableEnv together/ });
  t.throws(() => loadClientConfigProfile({ profil: 'x' } as never), { message: /unknown option "profil"/ });
});

t.test('envconfig: a profile address goes through Connection.connect', async (t) => {
  const config = loadClientConnectConfig({ disableFile: true, overrideEnvVars: { TEMPORAL_ADDRESS: 'memory:envconfig' } });
  const connection = await Connection.connect(config.connectionOptions);
  const native = await NativeConnection.connect(config.connectionOptions);
  t.equal(connection.service, native.service, 'the same memory: backend for client and worker');
  await connection.close();
  await native.close();
  await t.rejects(Connection.connect(loadClientConnectConfig({ disableFile: true, overrideEnvVars: { TEMPORAL_ADDRESS: 'my-ns.tmprl.cloud:7233' } }).connectionOptions), { message: /names a server, and deja has none/ });
});

// ── Runtime, DefaultLogger, bundleWorkflowCode, WorkflowCoverage ─────────────────────────────────

t.test('Runtime.install({ logger }) receives the lines of workers created afterwards; DefaultLogger filters by level', async (t) => {
  const entries: LogEntry[] = [];
  const logger = new DefaultLogger('INFO', (entry) => entries.push(entry));
  logger.debug('dropped');
  logger.info('kept', { a: 1 });
  logger.error('also kept');
  t.same(entries.map((e) => [e.level, e.message, e.meta]), [['INFO', 'kept', { a: 1 }], ['ERROR', 'also kept', undefined]]);
  t.type(entries[0]!.timestampNanos, 'bigint');
  t.throws(() => new DefaultLogger('LOUD' as never), { message: /level must be one of 'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', got the string "LOUD"/ });
  t.throws(() => Runtime.install({ logger: {} as never }), { message: /logger must have a log\(level, message, meta\) method/ });
  t.throws(() => Runtime.install({ loger: 1 } as never), { message: /unknown option "loger"/ });
  entries.length = 0;
  const runtime = Runtime.install({ logger });
  t.equal(Runtime.instance(), runtime);
  runtimeWorkerLogger()!({ workflowId: 'w-1', runId: 'r-1', level: 'info', message: 'from the workflow' });
  runtimeWorkerLogger()!({ workflowId: '', level: 'debug', message: 'below the level' });
  t.same(entries.map((e) => [e.level, e.message, e.meta]), [['INFO', 'from the workflow', { workflowId: 'w-1', runId: 'r-1' }]]);

  const dir = fs.mkdtempSync(path.join(tmp, 'runtime-'));
  fs.writeFileSync(path.join(dir, 'workflows.ts'), `import { log } from '@temporalio/workflow';\nexport async function speak(): Promise<string> { log.info('spoken', { loud: true }); return 'ok'; }\n`);
  const warnings = await warningsOf(async () => {
    const bundle = await bundleWorkflowCode({ workflowsPath: path.join(dir, 'workflows.ts'), logger, ignoreModules: ['fs'], webpackConfigHook: (c: unknown) => c });
    entries.length = 0;
    const connection = await NativeConnection.connect({ address: 'memory:runtime-logger' });
    const worker = await CompatWorker.create({ connection, taskQueue: 'rt', workflowBundle: bundle });
    t.ok(worker instanceof CompatWorker && worker instanceof Worker, 'the compat Worker is deja Worker');
    const client = new Client({ connection });
    t.equal(await worker.runUntil(client.workflow.execute('speak', { taskQueue: 'rt', workflowId: 'speak-1' })), 'ok');
    await connection.close();
  });
  t.same(entries.map((e) => [e.level, e.message, e.meta?.workflowId]), [['INFO', 'spoken {"loud":true}', 'speak-1']], "the workflow's log line, with its attributes, went to the Runtime's logger");
  t.match(warnings.join('\n'), /bundleWorkflowCode: deja accepts but does not act on the options "ignoreModules" \(.*\), "webpackConfigHook" \(deja bundles with esbuild, not webpack\)/);
  t.notMatch(warnings.join('\n'), /logger/, 'the bundler logger is accepted quietly');
  await t.rejects(bundleWorkflowCode({ workflowsPath: path.join(dir, 'workflows.ts'), bogus: 1 } as never), { message: /unknown option "bogus"/ });
  Runtime.install({});
  t.equal(runtimeWorkerLogger(), undefined, 'a Runtime without a logger leaves workers on their own printing');
});

t.test("WorkflowCoverage hands options back and says once that workflow code isn't instrumented", async (t) => {
  const coverage = new WorkflowCoverage();
  const options = { taskQueue: 'q' };
  const warnings = await warningsOf(async () => {
    t.equal(coverage.augmentWorkerOptions(options), options);
    t.equal(coverage.augmentBundleOptions(options), options);
    coverage.mergeIntoGlobalCoverage();
  });
  t.equal(warnings.filter((w) => /WorkflowCoverage: .*"workflow code coverage": deja's bundles are not instrumented/.test(w)).length, 1, 'one warning for three calls');
  t.same(coverage.coverageMapsData, []);
  t.ok(registerTargets()['@temporalio/nyc-test-coverage']!.includes('nyc-test-coverage'));
  t.ok(registerTargets()['@temporalio/envconfig']!.includes('envconfig'));
});

t.test('new WithStartWorkflowOperation(…) (Temporal spelling) checks its options as create does', async (t) => {
  async function order(): Promise<string> {
    return 'x';
  }
  const op = new WithStartWorkflowOperation(order, { workflowId: 'w', taskQueue: 'q', workflowIdConflictPolicy: 'FAIL' });
  t.equal(op.workflowType, 'order');
  t.equal(WithStartWorkflowOperation.create('order', { workflowId: 'w', taskQueue: 'q', workflowIdConflictPolicy: 'USE_EXISTING' }).workflowType, 'order');
  t.throws(() => new WithStartWorkflowOperation(order, { workflowId: '', taskQueue: 'q', workflowIdConflictPolicy: 'FAIL' }), { message: /WithStartWorkflowOperation: workflowId must be a non-empty string/ });
  t.throws(() => new WithStartWorkflowOperation(order, { workflowId: 'w', taskQueue: 'q', taskqueue: 1 } as never), { message: /unknown option "taskqueue"/ });
});

t.test('client.connection has close and ensureConnected, also for a bare { service }', async (t) => {
  const connection = await Connection.connect({ address: 'memory:bare' });
  t.equal(new Client({ connection }).connection, connection);
  const bare = new Client({ connection: { service: connection.service } });
  t.equal(bare.connection.service, connection.service);
  await t.resolves(bare.connection.ensureConnected());
  await t.resolves(bare.connection.close());
  await connection.close();
});

t.test("schedules: Temporal's update-by-action type checks, and backfill is refused with a message", async (t) => {
  // Temporal parameterises ScheduleUpdateOptions by the action type; this must type-check (tsc runs on this file).
  const temporalStyle = (previous: ScheduleDescription): ScheduleUpdateOptions<ScheduleOptionsStartWorkflowAction<Workflow>> => ({ ...previous, spec: { intervals: [{ every: '5s' }] } });
  const connection = await Connection.connect({ address: 'memory:schedules-compat' });
  const client = new Client({ connection });
  const handle = await client.schedule.create({ scheduleId: 's-1', spec: { intervals: [{ every: '1 hour' }] }, action: { type: 'startWorkflow', workflowType: 'nothing', taskQueue: 'none' } });
  await handle.update(temporalStyle);
  t.same((await handle.describe()).spec.intervals, [{ every: 5000, offset: 0 }]);
  await t.rejects(handle.backfill({ start: new Date(0), end: new Date(1000) }), { code: 'DEJA_INVALID_ARGUMENT', message: /ScheduleHandle\.backfill: backfill \(taking the actions of a past time range\) is not supported yet/ });
  await handle.delete();
  await connection.close();
});

// ── the apps, compiled with tsc and run through deja/register ────────────────────────────────────

for (const rel of ['lib/compat/register.ts', 'lib/compat/envconfig.ts', 'lib/compat/worker.ts', 'lib/compat/runtime.ts', 'lib/worker/index.ts', 'lib/worker/shutdown-signals.ts', 'runtime/workflow.ts']) {
  const built = path.join(root, 'dist', rel.replace(/\.ts$/, '.js'));
  if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < fs.statSync(path.join(root, rel)).mtimeMs) {
    throw new Error(`dist/${rel.replace(/\.ts$/, '.js')} is missing or older than ${rel}: run "npm run build" (node scripts/test.js does)`);
  }
}

const out = path.join(tmp, 'out');
const db = path.join(tmp, 'apps.db');
/** The children's environment: the address comes from envconfig's TEMPORAL_ADDRESS, no config file. */
function childEnv(): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _n, DEJA_BACKEND: _b, TEMPORAL_PROFILE: _p, TEMPORAL_CONFIG_FILE: _c, TEMPORAL_NAMESPACE: _ns, ...env } = process.env;
  return { ...env, TEMPORAL_ADDRESS: `sqlite:${db}`, XDG_CONFIG_HOME: path.join(tmp, 'no-config'), HOME: path.join(tmp, 'no-config') };
}
// cwd is deja's root, so `deja/register` resolves to this package (its exports map) by self-reference.
const nodeArgs = (register: string[], file: string) => ['--no-node-snapshot', ...register, path.join(out, file)];

t.test('tsc accepts the apps through the documented paths block', async (t) => {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'test', 'temporal-apps', 'tsconfig.json'), '--outDir', out], { cwd: root, encoding: 'utf8', timeout: 180_000 });
  t.equal(r.status, 0, r.stdout + r.stderr);
  t.ok(fs.existsSync(path.join(out, 'orders', 'worker.js')));
});

/** Starts the worker, waits for its ready line, runs the client, stops the worker with SIGINT. */
async function runApp(app: string, register: string[]): Promise<{ client: ReturnType<typeof spawnSync>; workerOut: string; workerErr: string; workerExit: number | null; workerSignal: NodeJS.Signals | null }> {
  const worker = spawn(process.execPath, nodeArgs(register, `${app}/worker.js`), { cwd: root, env: childEnv() });
  let workerOut = '';
  let workerErr = '';
  worker.stderr.on('data', (d: Buffer) => (workerErr += d.toString()));
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => worker.on('exit', (code, signal) => resolve([code, signal])));
  await new Promise<void>((resolve, reject) => {
    worker.stdout.on('data', (d: Buffer) => {
      workerOut += d.toString();
      if (workerOut.includes('worker ready')) resolve();
    });
    void exited.then(([code]) => reject(new Error(`the ${app} worker exited (${code}) before it was ready: ${workerErr}`)));
  });
  const client = await new Promise<ReturnType<typeof spawnSync>>((resolve) => {
    const c = spawn(process.execPath, nodeArgs(register, `${app}/client.js`), { cwd: root, env: childEnv() });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('exit', (status) => resolve({ status, stdout, stderr } as ReturnType<typeof spawnSync>));
  });
  worker.kill('SIGINT');
  const [workerExit, workerSignal] = await exited;
  return { client, workerOut, workerErr, workerExit, workerSignal };
}

t.test('orders app (node -r deja/register): worker until SIGINT, client against it', async (t) => {
  const r = await runApp('orders', ['-r', 'deja/register']);
  t.equal(r.client.status, 0, String(r.client.stderr));
  t.same(String(r.client.stdout).trim().split('\n'), [
    'status: awaiting approval',
    'result: order-1001: approved by maria, charged 42.50 on attempt 1, label order-1001/2 (parent order-1001)',
    'declined: CardDeclined: card declined for order-1002',
    'orders: 2',
  ]);
  t.equal(r.workerExit, 0, `SIGINT shut the worker down and its program ended normally: ${r.workerErr}`);
  t.equal(r.workerSignal, null);
  t.match(r.workerOut, /\[order-1001\] stock reserved \{"orderId":"order-1001","lines":2\}/, 'log.info attributes are printed');
  t.match(r.workerOut, /worker stopped\n$/, 'worker.run() resolved, then the finally block closed the connection');
});

t.test('reminders app (node --import deja/register): updates, continue-as-new, cancellation', async (t) => {
  const r = await runApp('reminders', ['--import', 'deja/register']);
  t.equal(r.client.status, 0, String(r.client.stderr));
  t.same(String(r.client.stdout).trim().split('\n'), [
    'refused: snooze needs a positive whole number of milliseconds, got -1',
    'snoozed by 5 ms',
    'result: water the plants: 9 reminders over several run(s)',
    'sent: 9',
    'cancelled: true',
    'status: CANCELLED',
  ]);
  t.equal(r.workerExit, 0, r.workerErr);
  t.match(r.workerOut, /reminder 9: water the plants/);
  t.match(r.workerOut, /closed stretch after 0/, 'the non-cancellable scope ran after the cancel request');
});

t.test("orders app's spec (describe/it on a time-skipping TestWorkflowEnvironment) passes", async (t) => {
  const r = spawnSync(process.execPath, nodeArgs(['-r', 'deja/register'], 'orders/orders.spec.js'), { cwd: root, env: childEnv(), encoding: 'utf8', timeout: 180_000 });
  t.equal(r.status, 0, r.stdout + r.stderr);
  // node:test's default reporter is TAP on Node 20 and 22 and the spec reporter on 24 and later.
  t.match(r.stdout, /(# pass 2\n# fail 0)|(ℹ pass 2\s*\n\s*ℹ fail 0)/);
  t.match(r.stdout, /spec: expired[\s\S]*spec: approved/);
  t.notMatch(r.stdout, /stock reserved/, "Runtime.install({ logger: new DefaultLogger('WARN') }) kept the INFO lines out");
});

// ── shutdown on signals ──────────────────────────────────────────────────────────────────────────

t.test('a running worker shuts down on each shutdown signal; a second signal while draining stops the process', async (t) => {
  t.same(SHUTDOWN_SIGNALS, ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2']);
  const script = path.join(tmp, 'signal.cjs');
  // The worker runs an activity that ignores cancellation for a while, so the second signal arrives while it drains.
  fs.writeFileSync(
    script,
    `const { Worker, NativeConnection } = require('@temporalio/worker');
const { Client } = require('@temporalio/client');
const path = require('node:path');
const fs = require('node:fs');
const sig = process.argv[2], twice = process.argv[3] === 'twice';
fs.writeFileSync(path.join(__dirname, 'wf.js'), "const { proxyActivities } = require('@temporalio/workflow'); exports.slow = () => proxyActivities({ startToCloseTimeout: '1 minute' }).hold();");
(async () => {
  const connection = await NativeConnection.connect({ address: 'memory:signals' });
  const worker = await Worker.create({ connection, taskQueue: 's', workflowsPath: path.join(__dirname, 'wf.js'), shutdownGraceTime: twice ? '1 minute' : 0, shutdownForceTime: twice ? '1 minute' : 0,
    activities: { hold: () => new Promise((resolve) => { console.log('held'); if (twice) { process.kill(process.pid, sig); setTimeout(() => process.kill(process.pid, sig), 50); } else process.kill(process.pid, sig); setTimeout(resolve, twice ? 60000 : 300).unref(); }) } });
  const before = process.listenerCount(sig);
  const running = worker.run();
  console.log('listeners while running: ' + (process.listenerCount(sig) - before));
  await new Client({ connection }).workflow.start('slow', { taskQueue: 's', workflowId: 'slow' });
  await running;
  console.log('run resolved; listeners after: ' + (process.listenerCount(sig) - before));
})().catch((e) => { console.error(e); process.exit(1); });
`,
  );
  for (const signal of SHUTDOWN_SIGNALS) {
    const r = spawnSync(process.execPath, ['--no-node-snapshot', '-r', 'deja/register', script, signal], { cwd: root, env: childEnv(), encoding: 'utf8', timeout: 120_000 });
    t.equal(r.status, 0, `${signal}: ${r.stderr}`);
    t.same(r.stdout.trim().split('\n'), ['listeners while running: 1', 'held', 'run resolved; listeners after: 0'], signal);
  }
  const r = spawnSync(process.execPath, ['--no-node-snapshot', '-r', 'deja/register', script, 'SIGTERM', 'twice'], { cwd: root, env: childEnv(), encoding: 'utf8', timeout: 120_000 });
  t.equal(r.signal, 'SIGTERM', 'the second SIGTERM ended the process the default way');
  t.notMatch(r.stdout, /run resolved/);
});
