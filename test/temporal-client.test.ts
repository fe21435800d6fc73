// Temporal's current host surface (issue 12): Client, Connection.connect and NativeConnection.connect
// with the address rule, Temporal options accepted with a once-per-process warning, the worker's
// Temporal options, MockActivityEnvironment, and deja/register in child processes (CommonJS and ESM)
// running a worker and a client that import only `@temporalio/*`.
import t from 'tap';
import { warningsOf } from './support/warnings';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { ActivityClient, AsyncCompletionClient, Client, Connection, ScheduleClient, WorkflowClient } from '../lib/client';
import { NativeConnection, Worker } from '../lib/worker';
import { bundleWorkflowCode, type WorkflowBundle } from '../lib/bundler';
import { CompleteAsyncError, Context, heartbeat, sleep } from '../lib/activity';
import { MockActivityEnvironment } from '../lib/testing/mock-activity-environment';
import { CancelledFailure } from '../runtime/failure';

const root = path.join(__dirname, '..');


const app = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-temporal-client-'));
t.teardown(() => fs.rmSync(app, { recursive: true, force: true }));
fs.writeFileSync(
  path.join(app, 'workflows.ts'),
  `import { proxyActivities, defineSignal, setHandler, condition } from '@temporalio/workflow';

export const go = defineSignal<[string]>('go');

/** Waits for the go signal, then calls the activity it names. */
export async function waitThenCall(): Promise<unknown> {
  let activity = '';
  setHandler(go, (name) => { activity = name; });
  await condition(() => activity !== '');
  return (proxyActivities({ startToCloseTimeout: '1 minute', retry: { maximumAttempts: 1 } }) as any)[activity]();
}
`,
);
let bundle: WorkflowBundle;
t.before(async () => {
  bundle = await bundleWorkflowCode({ workflowsPath: path.join(app, 'workflows.ts') });
});

// ── Connection.connect and NativeConnection.connect: the address rule ─────────────────────────────

t.test('Connection.connect and NativeConnection.connect: address is read as a backend', async (t) => {
  const saved = process.env.DEJA_BACKEND;
  const name = `memory:address-${randomUUID()}`;
  process.env.DEJA_BACKEND = name;
  const opened: { close(): Promise<void> }[] = [];
  const keep = <C extends { close(): Promise<void> }>(c: C) => (opened.push(c), c);
  try {
    const byName = keep(await Connection.connect({ backend: name }));
    // Absent, empty and Temporal's local default are the default backend (here DEJA_BACKEND).
    for (const address of [undefined, '', 'localhost:7233', '127.0.0.1:7233', '[::1]:7233']) {
      t.equal(keep(await Connection.connect(address === undefined ? {} : { address })).service, byName.service, `Connection, address ${JSON.stringify(address)}: the default backend`);
      t.equal(keep(await NativeConnection.connect(address === undefined ? undefined : { address })).service, byName.service, `NativeConnection, address ${JSON.stringify(address)}: the default backend`);
    }
    // A backend string is that backend, shared by name between client and worker connections.
    const other = `memory:other-${randomUUID()}`;
    const client = keep(await Connection.connect({ address: other }));
    const native = keep(await NativeConnection.connect({ address: other }));
    t.equal(client.service, native.service, 'the same memory: name is one service for both');
    t.not(client.service, byName.service);
    const db = path.join(app, 'address.db');
    const sqlite = keep(await Connection.connect({ address: `sqlite:${db}` }));
    t.ok(fs.existsSync(db), 'sqlite:<path> as address opens that file');
    t.equal(keep(await NativeConnection.connect({ address: `sqlite:${db}` })).service, sqlite.service);
    await t.resolves(sqlite.ensureConnected());

    // Any other host:port is refused: deja has no server.
    for (const connect of [(o: object) => Connection.connect(o) as Promise<unknown>, (o: object) => NativeConnection.connect(o) as Promise<unknown>]) {
      await t.rejects(connect({ address: 'temporal.example.com:7233' }), {
        code: 'DEJA_INVALID_ARGUMENT',
        message: /address "temporal\.example\.com:7233" names a server, and deja has none.*Leave address out \(or give "localhost:7233"\) for the default backend \(DEJA_BACKEND, else "sqlite:\.\/\.deja\/deja\.db"\), or give a backend string as the address: "sqlite:<path>"/,
      });
      await t.rejects(connect({ address: 'my-namespace.tmprl.cloud:7233', tls: true, apiKey: 'k' }), { message: /names a server/ });
      await t.rejects(connect({ address: 42 }), { code: 'DEJA_INVALID_ARGUMENT', message: /address must be a string, got number 42/ });
      await t.rejects(connect({ address: 'memory:', backend: 'memory:' }), { message: /give backend or address, not both/ });
      await t.rejects(connect({ adress: 'localhost:7233' }), { code: 'DEJA_INVALID_ARGUMENT', message: /unknown option "adress"; expected one of: "backend", "address", "limits", "onWarning", "tls"/ });
    }
    await t.rejects(NativeConnection.connect([] as never), { message: /expected an options object, got an array/ });
    await t.rejects(NativeConnection.connect({ backend: 42 } as never), { message: /backend must be a backend string/ });
    t.throws(() => new Connection({ address: 'memory:x', backend: byName.service }), { message: /give backend or address, not both/ });
    // The existing messages stay as they were.
    t.throws(() => new Connection({ backend: null } as never), { message: /^Connection: backend must be a backend string/ });
  } finally {
    for (const c of opened) await c.close();
    if (saved === undefined) delete process.env.DEJA_BACKEND;
    else process.env.DEJA_BACKEND = saved;
  }
});

t.test("Temporal's connection options are accepted, and each is named once per process in a warning", async (t) => {
  const backend = `memory:warn-${randomUUID()}`;
  const opened: { close(): Promise<void> }[] = [];
  try {
    const first = await warningsOf(async () => opened.push(await Connection.connect({ address: backend, tls: { serverNameOverride: 'x' }, apiKey: 'secret', metadata: { a: 'b' }, connectTimeout: '5s' })));
    t.equal(first.length, 1, 'one warning');
    t.match(first[0], /^Connection\.connect: deja accepts but does not act on the options "tls", "metadata", "apiKey", "connectTimeout": deja has no server to dial/);
    t.notMatch(first[0], /secret/, 'never the values');
    t.same(await warningsOf(async () => opened.push(await Connection.connect({ address: backend, tls: true, apiKey: 'again' }))), [], 'not again in this process');
    const more = await warningsOf(async () => opened.push(await Connection.connect({ address: backend, tls: true, channelArgs: {} })));
    t.same(more.length, 1, 'an option not yet named is named');
    t.match(more[0], /"channelArgs"/);
    t.notMatch(more[0], /"tls"/);
    const native = await warningsOf(async () => opened.push(await NativeConnection.connect({ address: backend, tls: true, proxy: {} })));
    t.match(native[0], /^NativeConnection\.connect: deja accepts but does not act on the options "tls", "proxy"/);
    t.same(await warningsOf(async () => opened.push(await Connection.connect({ address: backend, tls: undefined }))), [], 'an option given as undefined is not named');
  } finally {
    for (const c of opened) await c.close();
  }
});

// ── Client ──────────────────────────────────────────────────────────────────────────────────────

t.test('Client: workflow, schedule and activity clients on one connection; options checked and warned', async (t) => {
  const connection = await Connection.connect({ address: `memory:client-${randomUUID()}` });
  t.teardown(() => connection.close());
  const client = new Client({ connection, identity: 'me' });
  t.ok(client.workflow instanceof WorkflowClient);
  t.ok(client.schedule instanceof ScheduleClient);
  t.ok(client.activity instanceof ActivityClient);
  t.ok(client.activity instanceof AsyncCompletionClient, "Temporal's ActivityClient is an AsyncCompletionClient");
  t.equal(client.connection, connection);
  t.equal(client.workflowService, connection.service);
  t.equal(client.workflow.workflowService, connection.service);
  t.equal(client.activity.identity, 'me');
  t.same({ namespace: client.options.namespace, identity: client.options.identity }, { namespace: 'default', identity: 'me' });
  t.match(new Client({ connection }).options.identity, /^\d+@/, 'the default identity is <pid>@<host>');

  const warned = await warningsOf(() => new Client({ connection, namespace: 'prod' }));
  t.equal(warned.length, 1);
  t.match(warned[0], /^Client: deja accepts but does not act on the option "namespace": deja has one namespace, 'default', and uses it \(got the string "prod"\)/);
  t.same(await warningsOf(() => new Client({ connection, namespace: 'prod' })), [], 'once per process');
  t.same(await warningsOf(() => new Client({ connection, namespace: 'default' })), [], "'default' is no news");
  const options = await warningsOf(() => new Client({ connection, dataConverter: { payloadCodecs: [] }, interceptors: { workflow: [] }, plugins: [], workflow: { queryRejectCondition: 'NOT_OPEN' } }));
  t.equal(options.length, 2);
  t.match(options[0], /^Client: deja accepts but does not act on the options "dataConverter" \(payloads are JSON; custom payload converters and codecs are not applied\), "interceptors" \(client interceptors are not applied yet\), "plugins" \(client plugins are not supported\)$/);
  t.match(options[1], /"workflow\.queryRejectCondition"/);
  // The same Temporal options on the other clients, which warn under their own names.
  const wc = await warningsOf(() => new WorkflowClient({ connection, namespace: 'prod', dataConverter: {} }));
  t.match(wc[0], /^WorkflowClient: .*"namespace"/);
  t.match(wc[1], /^WorkflowClient: .*"dataConverter"/);
  t.ok(new WorkflowClient({ namespace: 'default', connection }), "Temporal's options-only form");
  t.ok(await warningsOf(() => new ScheduleClient({ connection, interceptors: [] })), 'ScheduleClient accepts interceptors');
  t.ok(new AsyncCompletionClient({ connection, namespace: 'prod', dataConverter: {} }));

  const refused: Array<[string, () => unknown, RegExp]> = [
    ['an unknown option', () => new Client({ connection, namepsace: 'x' } as never), /^Client: unknown option "namepsace"; expected one of: "connection", "namespace", "identity", "dataConverter", "interceptors", "plugins", "workflow"$/],
    ['an array', () => new Client([] as never), /^Client: expected an options object .* got an array$/],
    ['null', () => new Client(null as never), /got null$/],
    ['a bad connection', () => new Client({ connection: {} as never }), /^Client: connection must be a Connection \(or have a WorkflowService as its service\), got an object$/],
    ['an empty identity', () => new Client({ connection, identity: '' }), /^Client: identity must be a non-empty string/],
    ['a bad namespace', () => new Client({ connection, namespace: 42 as never }), /^Client: namespace must be a non-empty string, got number 42/],
    ['a bad workflow option', () => new Client({ connection, workflow: { queryRejectConditon: 1 } as never }), /^Client: workflow: unknown option "queryRejectConditon"/],
    ['workflow not an object', () => new Client({ connection, workflow: 'x' as never }), /^Client: workflow must be an options object/],
  ];
  for (const [what, make, message] of refused) t.throws(make, { code: 'DEJA_INVALID_ARGUMENT', message }, what);

  const aborted = new AbortController();
  aborted.abort(new Error('stop'));
  await t.rejects(client.withAbortSignal(aborted.signal, async () => 1), { message: 'stop' });
  t.equal(await client.withAbortSignal(new AbortController().signal, async () => 2), 2);
  await t.rejects(client.withDeadline(Date.now() - 1, () => new Promise(() => undefined)), { message: /the deadline passed before the call finished/ });
  t.equal(await client.withDeadline(new Date(Date.now() + 60_000), async () => 3), 3);
  await t.rejects(client.withDeadline('soon' as never, async () => 4), { message: /deadline must be a Date or ms since the epoch/ });
  t.equal(await client.withMetadata({ a: 'b' }, async () => 5), 5);
});

t.test('Client end to end: start, signal, result, list, count, getHandle, signalWithStart; client.activity completes by ids', async (t) => {
  const connection = await Connection.connect({ address: `memory:e2e-${randomUUID()}` });
  const taskQueue = 'tq';
  const handed: string[] = [];
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue,
    workflowBundle: bundle,
    activities: {
      async quick() {
        return 'quick done';
      },
      async later() {
        handed.push(Context.current().info.activityId);
        throw new CompleteAsyncError();
      },
    },
    logger: () => undefined,
  });
  const running = worker.run();
  t.teardown(async () => {
    worker.shutdown();
    await running;
    await connection.close();
  });
  const client = new Client({ connection });
  t.throws(() => new Client({ connection, dataConverter: { payloadCodecs: [{ encode: async (p: unknown) => p, decode: async (p: unknown) => p }] } }), {
    name: 'InvalidArgumentError',
    message: /^Client: dataConverter\.payloadCodecs is not offered: deja stores payloads as plain JSON .* remove payloadCodecs to run without it$/,
  }, 'a payload codec is refused: deja would store in the clear what it was meant to encode');
  const handle = await client.workflow.start('waitThenCall', { taskQueue, workflowId: 'first' });
  await handle.signal('go', 'quick');
  t.equal(await handle.result(), 'quick done');
  t.equal(await client.workflow.getHandle('first').result(), 'quick done');
  t.same((await client.workflow.count("WorkflowType = 'waitThenCall'")).count, 1);
  const listed: string[] = [];
  for await (const info of client.workflow.list({ query: "ExecutionStatus = 'Completed'" })) listed.push(info.workflowId);
  t.same(listed, ['first']);

  const second = await client.workflow.signalWithStart('waitThenCall', { taskQueue, workflowId: 'second', signal: 'go', signalArgs: ['later'] });
  while (handed.length === 0) await new Promise((resolve) => setImmediate(resolve));
  await client.activity.heartbeat({ workflowId: 'second', activityId: handed[0]! }, { halfway: true });
  await client.activity.complete({ workflowId: 'second', runId: second.signaledRunId, activityId: handed[0]! }, 'completed from outside');
  t.equal(await second.result(), 'completed from outside');
  const eager = await warningsOf(async () => {
    const h = await client.workflow.start('waitThenCall', { taskQueue, workflowId: 'eager', requestEagerStart: true, staticSummary: 'a summary', priority: { priorityKey: 1 } });
    t.equal(h.eagerlyStarted, false, 'never eagerly started');
    await h.signal('go', 'quick');
    t.equal(await h.result(), 'quick done', "Temporal's start options do not stop the start");
  });
  t.match(eager.find((w) => w.startsWith('WorkflowClient.start')), /^WorkflowClient\.start: deja accepts but does not act on the options "requestEagerStart" \(deja has no eager dispatch.*"staticSummary".*"priority"/);
});

// ── Worker options ──────────────────────────────────────────────────────────────────────────────

t.test("Worker.create: Temporal's options are mapped, accepted with a warning, or refused when wrong", async (t) => {
  const connection = await NativeConnection.connect({ address: `memory:worker-${randomUUID()}` });
  t.teardown(() => connection.close());
  const base = { connection, taskQueue: 'w', workflowBundle: bundle, logger: () => undefined };
  let worker: Worker | undefined;
  const warned = await warningsOf(async () => {
    worker = await Worker.create({
      ...base,
      namespace: 'default',
      identity: 'worker-1',
      maxConcurrentWorkflowTaskExecutions: 1,
      maxConcurrentActivityTaskExecutions: 3,
      maxCachedWorkflows: 7,
      shutdownGraceTime: '2s',
      shutdownForceTime: 250,
      interceptors: { workflowModules: [] },
      bundlerOptions: { ignoreModules: ['fs'] },
      debugMode: true,
      reuseV8Context: true,
      dataConverter: {},
      maxActivitiesPerSecond: 10,
    });
  });
  t.equal(warned.length, 1, 'one warning names them all');
  t.match(
    warned[0],
    /^Worker\.create: deja accepts but does not act on the options "dataConverter" \(.*\), "maxActivitiesPerSecond" \(.*\), "debugMode" \(.*\), "reuseV8Context" \(.*\), "bundlerOptions" \(.*\)$/,
  );
  const w = worker as unknown as { identity: string; workflowPollers: number; maxActivities: number; maxCached: number; graceMs: number; forceMs: number };
  t.same(
    { identity: w.identity, workflowPollers: w.workflowPollers, maxActivities: w.maxActivities, maxCached: w.maxCached, graceMs: w.graceMs, forceMs: w.forceMs },
    { identity: 'worker-1', workflowPollers: 1, maxActivities: 3, maxCached: 7, graceMs: 2000, forceMs: 250 },
    'the options deja acts on are mapped',
  );
  t.same(await warningsOf(() => Worker.create({ ...base, debugMode: true, interceptors: {} })), [], 'once per process');
  const ns = await warningsOf(() => Worker.create({ ...base, namespace: 'prod' }));
  t.match(ns[0], /^Worker\.create: deja accepts but does not act on the option "namespace": deja has one namespace/);
  const polls = (await Worker.create({ ...base, maxConcurrentWorkflowTaskPolls: 5, maxConcurrentWorkflowTaskExecutions: 3 })) as unknown as { workflowPollers: number };
  t.equal(polls.workflowPollers, 3, 'executions cap the pollers');

  const refused: Array<[string, Record<string, unknown>, RegExp]> = [
    ['an unknown option', { maxConcurentActivityTaskExecutions: 1 }, /^Worker\.create: unknown option "maxConcurentActivityTaskExecutions"; expected one of: "taskQueue", "connection",.*"namespace", "shutdownGraceTime".*"interceptors"/],
    ['both grace times', { shutdownGraceTime: '1s', shutdownGraceTimeMs: 1000 }, /give shutdownGraceTime or shutdownGraceTimeMs, not both/],
    ['a bad duration', { shutdownGraceTime: 'soonish' }, /^Worker\.create: .*shutdownGraceTime/],
    ['zero workflow executions', { maxConcurrentWorkflowTaskExecutions: 0 }, /maxConcurrentWorkflowTaskExecutions must be an integer from 1 to 1000000, got number 0/],
    ['a namespace not a string', { namespace: 7 }, /namespace must be a string, got number 7/],
    ["Temporal's bundle form", { workflowBundle: { codePath: '/tmp/bundle.js' } }, /workflowBundle must be a bundle from deja's bundleWorkflowCode, got Temporal's \{ codePath \} or \{ code \} form/],
    ['a bundle that is not one', { workflowBundle: 'x' }, /workflowBundle must be a bundle from deja's bundleWorkflowCode, got the string "x"/],
  ];
  for (const [what, options, message] of refused) await t.rejects(Worker.create({ ...base, ...options } as never), { code: 'DEJA_INVALID_ARGUMENT', message }, what);
  // Existing messages are unchanged.
  await t.rejects(Worker.create({ ...base, taskQueue: '' }), { message: 'Worker.create: taskQueue must be a non-empty string' });
  await t.rejects(Worker.create({ ...base, workflowsPath: 'x' }), { message: 'Worker.create: give workflowsPath or workflowBundle, not both' });
});

// ── MockActivityEnvironment ─────────────────────────────────────────────────────────────────────

t.test('MockActivityEnvironment runs an activity in a context, with heartbeats, logs and cancellation', async (t) => {
  const env = new MockActivityEnvironment({ activityType: 'charge', attempt: 2, workflowExecution: { workflowId: 'wf', runId: 'run' } });
  const beats: unknown[] = [];
  env.on('heartbeat', (d) => beats.push(d));
  const logs: string[] = [];
  env.on('log', (level, message) => logs.push(`${level} ${message}`));
  const result = await env.run(async (amount: number) => {
    const { info, log } = Context.current();
    heartbeat({ step: 1 });
    log.info('charging', { amount });
    return `${info.activityType} #${info.attempt} of ${info.workflowExecution.workflowId}/${info.runId}: ${amount}`;
  }, 5);
  t.equal(result, 'charge #2 of wf/run: 5');
  t.same(beats, [{ step: 1 }]);
  t.match(logs, [/^INFO charging/]);
  t.equal(MockActivityEnvironment.defaultInfo.activityType, 'unknown');
  t.equal(new MockActivityEnvironment().context.info.workflowId, 'test');

  const cancelling = new MockActivityEnvironment();
  const slept = cancelling.run(() => sleep('1 day'));
  cancelling.cancel('shutting down');
  await t.rejects(slept, CancelledFailure, 'sleep rejects on cancel');
  t.ok(cancelling.context.cancellationSignal.aborted);
  await t.rejects(cancelling.context.cancelled, { message: 'shutting down' });
  cancelling.cancel('again');
  await t.rejects(env.run(async () => {
    throw new Error('boom');
  }), { message: 'boom' });
  await t.rejects(env.run('nope' as never), { message: /expected an activity function/ });
  t.throws(() => new MockActivityEnvironment('x' as never), { message: /info must be an object/ });
  t.throws(() => new MockActivityEnvironment({}, { interceptors: [{}] as never }), { message: /expected interceptors to be an array of activity interceptor factories/ });
  const intercepted = new MockActivityEnvironment({}, { interceptors: [() => ({ inbound: { execute: async (input, next) => `${String(await next({ ...input, args: [...input.args, 'x'] }))}!` } })] });
  t.equal(await intercepted.run(async (...args: unknown[]) => args.join('+'), 'a'), 'a+x!', 'its activity interceptors run around the function');
  t.throws(() => new MockActivityEnvironment({}, { loger: 1 } as never), { message: /unknown option "loger"/ });
});

// ── deja/register in child processes ────────────────────────────────────────────────────────────

// The children load deja from dist/: an old build would test old code.
for (const rel of ['lib/compat/register.ts', 'lib/compat/client.ts', 'lib/compat/worker.ts', 'lib/client/temporal-client.ts', 'lib/worker/connection.ts', 'lib/worker/index.ts']) {
  const built = path.join(root, 'dist', rel.replace(/\.ts$/, '.js'));
  if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < fs.statSync(path.join(root, rel)).mtimeMs) {
    throw new Error(`dist/${rel.replace(/\.ts$/, '.js')} is missing or older than ${rel}: run "npm run build" (node scripts/test.js does)`);
  }
}

const MAIN = (imports: string) => `${imports}
async function main() {
  const backend = 'memory:register';
  const nc = await NativeConnection.connect({ address: backend });
  const worker = await Worker.create({
    connection: nc,
    namespace: 'default',
    taskQueue: 'register',
    workflowsPath: WORKFLOWS,
    activities: { async greet(name) { return 'hello ' + name + ' from ' + Context.current().info.activityType; } },
    maxConcurrentWorkflowTaskExecutions: 2,
    shutdownGraceTime: '1s',
  });
  const connection = await Connection.connect({ address: backend });
  const client = new Client({ connection, namespace: 'default' });
  const running = worker.run();
  const handle = await client.workflow.start(hello, { taskQueue: 'register', workflowId: 'register-1', args: ['deja'] });
  await handle.signal(go);
  const result = await handle.result();
  const env = new MockActivityEnvironment();
  const mocked = await env.run(async () => Context.current().info.activityType);
  worker.shutdown();
  await running;
  await connection.close();
  await nc.close();
  console.log(JSON.stringify({ result, mocked, failure: ApplicationFailure.nonRetryable('x').nonRetryable, common: typeof SearchAttributeType }));
}
main().catch((e) => { console.error(e); process.exit(1); });
`;

const WORKFLOW_BODY = `
export const go = defineSignal('go');
const { greet } = proxyActivities({ startToCloseTimeout: '10s' });
export async function hello(name) {
  let went = false;
  setHandler(go, () => { went = true; });
  await condition(() => went);
  return greet(name);
}
`;

function runChild(args: string[], script: string) {
  const { NODE_OPTIONS: _n, DEJA_BACKEND: _b, ...env } = process.env;
  // cwd is deja's root, so `deja/register` resolves to this package (its exports map) by self-reference.
  return spawnSync(process.execPath, ['--no-node-snapshot', ...args, script], { cwd: root, encoding: 'utf8', env, timeout: 120_000 });
}

t.test('deja/register, CommonJS (node -r deja/register): a Temporal-style worker and client complete a workflow', async (t) => {
  const dir = fs.mkdtempSync(path.join(app, 'cjs-'));
  fs.writeFileSync(path.join(dir, 'workflows.cjs'), `const { proxyActivities, defineSignal, setHandler, condition } = require('@temporalio/workflow');\n${WORKFLOW_BODY.replace(/export const (\w+)/g, 'const $1 = exports.$1').replace(/export async function (\w+)/g, 'exports.$1 = async function $1')}`);
  fs.writeFileSync(
    path.join(dir, 'main.cjs'),
    MAIN(`const { Worker, NativeConnection } = require('@temporalio/worker');
const { Client, Connection } = require('@temporalio/client');
const { Context } = require('@temporalio/activity');
const { ApplicationFailure, SearchAttributeType } = require('@temporalio/common');
const { MockActivityEnvironment } = require('@temporalio/testing');
const { hello, go } = require('./workflows.cjs');
const WORKFLOWS = require.resolve('./workflows.cjs');`),
  );
  const r = runChild(['-r', 'deja/register'], path.join(dir, 'main.cjs'));
  t.equal(r.status, 0, r.stderr);
  t.same(JSON.parse(r.stdout.trim().split('\n').pop()!), { result: 'hello deja from greet', mocked: 'unknown', failure: true, common: 'object' });
  t.notMatch(r.stderr, /DejaWarning/, 'nothing to warn about');
  // common: 'object' shows deja/register's @temporalio/common (lib/compat/common) won over the
  // worker's narrower activity alias, installed earlier: resolve hooks run last-in, first-out.
});

t.test('deja/register, ESM (node --import deja/register): the same, with import statements', async (t) => {
  const dir = fs.mkdtempSync(path.join(app, 'esm-'));
  fs.writeFileSync(path.join(dir, 'workflows.mjs'), `import { proxyActivities, defineSignal, setHandler, condition } from '@temporalio/workflow';\n${WORKFLOW_BODY}`);
  fs.writeFileSync(
    path.join(dir, 'main.mjs'),
    MAIN(`import { Worker, NativeConnection } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, SearchAttributeType } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { hello, go } from './workflows.mjs';
import { fileURLToPath } from 'node:url';
const WORKFLOWS = fileURLToPath(new URL('./workflows.mjs', import.meta.url));`),
  );
  const r = runChild(['--import', 'deja/register'], path.join(dir, 'main.mjs'));
  t.equal(r.status, 0, r.stderr);
  t.same(JSON.parse(r.stdout.trim().split('\n').pop()!), { result: 'hello deja from greet', mocked: 'unknown', failure: true, common: 'object' });
});

t.test('deja/register: a real server address fails with the rule, not a crash', async (t) => {
  const dir = fs.mkdtempSync(path.join(app, 'bad-'));
  fs.writeFileSync(
    path.join(dir, 'main.cjs'),
    `const { Connection } = require('@temporalio/client');
Connection.connect({ address: 'temporal.internal:7233' }).then(() => process.exit(0), (e) => { console.error(e.code + ': ' + e.message); process.exit(3); });`,
  );
  const r = runChild(['-r', 'deja/register'], path.join(dir, 'main.cjs'));
  t.equal(r.status, 3);
  t.match(r.stderr, /^DEJA_INVALID_ARGUMENT: Connection\.connect: address "temporal\.internal:7233" names a server, and deja has none/);
});

// ── tsc through a documented tsconfig `paths` block ─────────────────────────────────────────────

t.test("a TypeScript project compiles against '@temporalio/*' through a paths block to deja's declarations", async (t) => {
  const project = path.join(root, 'test', 'fixtures', 'temporal-paths');
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', project], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  t.equal(r.status, 0, r.stdout + r.stderr);
  t.equal(r.stdout.trim(), '', 'no errors (and the @ts-expect-error lines did fail: the types are real)');
});
