// TestWorkflowEnvironment (lib/testing): time skipping on a virtual clock (a month-long sleep ends
// at once; timers and a signal; env.sleep firing a timer; an activity's retries and backoff), the
// local environment on the real clock, teardown, options, and a Temporal-style test file that
// imports only `@temporalio/*` run through deja/register in a child process. Assertions are on
// virtual time (env.currentTimeMs() and the workflows' own Date.now()), never on real durations.
import t from 'tap';
import { warningsOf } from './support/warnings';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestWorkflowEnvironment } from '../lib/testing/test-workflow-environment';
import { TestWorkflowEnvironment as FromCompat } from '../lib/compat/testing';
import { TestWorkflowEnvironment as FromIndex } from '../lib';
import { NativeConnection, Worker } from '../lib/worker';
import { Client, Connection } from '../lib/client';
import { bundleWorkflowCode, type WorkflowBundle } from '../lib/bundler';
import { Context } from '../lib/activity';

const root = path.join(__dirname, '..');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const app = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-test-env-'));
t.teardown(() => fs.rmSync(app, { recursive: true, force: true }));
fs.writeFileSync(
  path.join(app, 'workflows.ts'),
  `import { sleep, condition, defineSignal, setHandler, proxyActivities } from '@temporalio/workflow';

export const go = defineSignal<[string]>('go');

/** Sleeps, and says when (its own clock) it began and ended. */
export async function sleeper(duration: string): Promise<{ began: number; ended: number }> {
  const began = Date.now();
  await sleep(duration);
  return { began, ended: Date.now() };
}

/** An hour's timer, then waits up to a day for the go signal, then two hours more. */
export async function timersAndSignal(): Promise<{ at: string; t: number }[]> {
  const marks: { at: string; t: number }[] = [{ at: 'start', t: Date.now() }];
  let word = '';
  setHandler(go, (w) => { word = w; });
  await sleep('1 hour');
  marks.push({ at: 'slept', t: Date.now() });
  const got = await condition(() => word !== '', '1 day');
  marks.push({ at: got ? 'signal:' + word : 'no signal', t: Date.now() });
  await sleep('2 hours');
  marks.push({ at: 'end', t: Date.now() });
  return marks;
}

const { flaky } = proxyActivities<{ flaky(failures: number): Promise<number> }>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1 hour', backoffCoefficient: 2, maximumAttempts: 5 },
});

/** Calls an activity that fails its first attempts; says on which attempt it succeeded, and when. */
export async function retrying(failures: number): Promise<{ attempt: number; began: number; ended: number }> {
  const began = Date.now();
  const attempt = await flaky(failures);
  return { attempt, began, ended: Date.now() };
}

const { longWork } = proxyActivities<{ longWork(): Promise<string> }>({ startToCloseTimeout: '1 day', retry: { maximumAttempts: 1 } });

/** Races a 10-minute timer against an activity that stands for an hour's work with env.sleep. */
export async function race(): Promise<string> {
  return Promise.race([sleep('10 minutes').then(() => 'timer'), longWork().then(() => 'activity')]);
}
`,
);

// Host-side stand-ins for the workflows: only their names and types matter to the client.
type Span = { began: number; ended: number };
type Mark = { at: string; t: number };
const standIn = (): never => {
  throw new Error('a stand-in: workflows run in the worker');
};
async function sleeper(_duration: string): Promise<Span> {
  return standIn();
}
async function timersAndSignal(): Promise<Mark[]> {
  return standIn();
}
async function retrying(_failures: number): Promise<Span & { attempt: number }> {
  return standIn();
}
async function race(): Promise<string> {
  return standIn();
}

let bundle: WorkflowBundle;
t.before(async () => {
  bundle = await bundleWorkflowCode({ workflowsPath: path.join(app, 'workflows.ts') });
});


let queues = 0;
/** A worker on the environment, with `activities`; shut down and the environment torn down after the test. */
async function workerOn(t: tap.Test, env: TestWorkflowEnvironment, activities: Record<string, (...args: never[]) => Promise<unknown>> = {}) {
  const taskQueue = `q-${++queues}`;
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities, logger: () => undefined });
  const running = worker.run();
  t.teardown(async () => {
    worker.shutdown();
    await running;
    await env.teardown();
  });
  return taskQueue;
}

t.test('exported from lib/compat/testing and the package entry', async (t) => {
  t.equal(FromCompat, TestWorkflowEnvironment);
  t.equal(FromIndex, TestWorkflowEnvironment);
});

t.test('time skipping: a workflow that sleeps 30 days completes at once, 30 virtual days later', async (t) => {
  const env = await TestWorkflowEnvironment.createTimeSkipping();
  t.equal(env.supportsTimeSkipping, true);
  t.equal(env.namespace, 'default');
  t.ok(env.client instanceof Client);
  t.ok(env.nativeConnection instanceof NativeConnection);
  t.ok(env.connection instanceof Connection);
  t.equal(env.workflowClient, env.client.workflow);
  t.equal(env.asyncCompletionClient, env.client.activity);
  const taskQueue = await workerOn(t, env);
  const before = await env.currentTimeMs();
  const { began, ended } = await env.client.workflow.execute(sleeper, { taskQueue, workflowId: 'month', args: ['30 days'] });
  const after = await env.currentTimeMs();
  t.ok(ended - began >= 30 * DAY, `the workflow's own clock moved 30 days (${ended - began} ms)`);
  t.ok(ended - began < 30 * DAY + HOUR, 'and not much more');
  t.ok(after - before >= 30 * DAY, "the environment's clock moved 30 days");
  t.ok(after - before < 30 * DAY + HOUR);
  t.ok(began >= before && ended <= after, 'the workflow read the environment’s clock');

  // A second workflow in the same environment, through a handle: result() skips too.
  const handle = await env.client.workflow.start(sleeper, { taskQueue, workflowId: 'year', args: ['365 days'] });
  const second = await handle.result();
  t.ok(second.ended - second.began >= 365 * DAY);
  t.ok((await env.currentTimeMs()) - after >= 365 * DAY);
});

t.test('time skipping: timers and a signal, in order, with env.sleep firing the first timer', async (t) => {
  const env = await TestWorkflowEnvironment.createTimeSkipping();
  const taskQueue = await workerOn(t, env);
  const t0 = await env.currentTimeMs();
  const handle = await env.client.workflow.start(timersAndSignal, { taskQueue, workflowId: 'timers' });
  // No result is awaited yet: only env.sleep moves time (else it runs at the real clock's pace).
  await env.sleep('59 minutes');
  t.ok((await env.currentTimeMs()) - t0 >= 59 * 60_000, 'env.sleep moved the clock 59 minutes');
  const events = async () => (await handle.fetchHistory()).events.map((e) => e.type);
  t.notOk((await events()).includes('timerFired'), 'the hour is not up');
  await env.sleep('2 minutes');
  t.ok((await events()).includes('timerFired'), 'env.sleep fired the timer that fell due');
  t.equal((await handle.describe()).status.name, 'RUNNING', 'waiting for the signal');
  await env.sleep('3 hours');
  await handle.signal('go', 'now');
  const marks = await handle.result();
  t.same(marks.map((m) => m.at), ['start', 'slept', 'signal:now', 'end']);
  const [start, slept, signalled, end] = marks.map((m) => m.t - marks[0]!.t);
  t.equal(start, 0);
  t.ok(slept! >= HOUR && slept! < 2 * HOUR, `the first timer fired at one hour (${slept})`);
  t.ok(signalled! >= 4 * HOUR && signalled! < 5 * HOUR, `the signal came after the 3 hours slept (${signalled})`);
  t.ok(end! - signalled! >= 2 * HOUR && end! - signalled! < 3 * HOUR, 'the last timer took two hours');
  t.ok((await env.currentTimeMs()) - t0 >= 6 * HOUR);

  // Without the signal, the condition's day-long timeout passes while result() waits.
  const lonely = await env.client.workflow.execute(timersAndSignal, { taskQueue, workflowId: 'timers-2' });
  t.same(lonely.map((m) => m.at), ['start', 'slept', 'no signal', 'end']);
  t.ok(lonely[2]!.t - lonely[1]!.t >= DAY, 'the condition timed out after a virtual day');
});

t.test('time skipping: an activity retried with backoff; activities run on real time', async (t) => {
  const env = await TestWorkflowEnvironment.createTimeSkipping();
  const attempts: { attempt: number; at: number }[] = [];
  const taskQueue = await workerOn(t, env, {
    async flaky(failures: number) {
      const { attempt } = Context.current().info;
      attempts.push({ attempt, at: await env.currentTimeMs() });
      // Real time passes inside an activity; the environment does not skip while it runs.
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (attempt <= failures) throw new Error(`attempt ${attempt} fails`);
      return attempt;
    },
  });
  const result = await env.client.workflow.execute(retrying, { taskQueue, workflowId: 'retry', args: [3] });
  t.equal(result.attempt, 4, 'succeeded on the fourth attempt');
  t.same(attempts.map((a) => a.attempt), [1, 2, 3, 4]);
  const gaps = attempts.slice(1).map((a, i) => a.at - attempts[i]!.at);
  // Backoff 1h, 2h, 4h: each gap is at least its backoff, and less than the next.
  t.ok(gaps[0]! >= HOUR && gaps[0]! < 2 * HOUR, `first backoff ${gaps[0]}`);
  t.ok(gaps[1]! >= 2 * HOUR && gaps[1]! < 3 * HOUR, `second backoff ${gaps[1]}`);
  t.ok(gaps[2]! >= 4 * HOUR && gaps[2]! < 5 * HOUR, `third backoff ${gaps[2]}`);
  t.ok(result.ended - result.began >= 7 * HOUR, "the workflow's clock saw the 7 hours of backoff");
});

t.test('time skipping: an activity may call env.sleep to stand for long work; timers fall due meanwhile', async (t) => {
  const env = await TestWorkflowEnvironment.createTimeSkipping();
  const taskQueue = await workerOn(t, env, {
    async longWork() {
      await env.sleep('1 hour');
      return 'done';
    },
  });
  t.equal(await env.client.workflow.execute(race, { taskQueue, workflowId: 'race' }), 'timer', 'the 10-minute timer won against an hour of work');
});

t.test('time skipping: work left on a queue no worker polls any more does not hold env.sleep', async (t) => {
  const env = await TestWorkflowEnvironment.createTimeSkipping();
  t.teardown(() => env.teardown());
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'gone', workflowBundle: bundle, activities: {}, logger: () => undefined });
  const running = worker.run();
  const handle = await env.client.workflow.start(sleeper, { taskQueue: 'gone', workflowId: 'orphan', args: ['1 hour'] });
  await env.sleep('1 minute');
  t.ok((await handle.fetchHistory()).events.some((e) => e.type === 'timerStarted'), 'the worker ran the first task');
  worker.shutdown();
  await running;
  const t0 = await env.currentTimeMs();
  await env.sleep('2 hours');
  t.ok((await env.currentTimeMs()) - t0 >= 2 * HOUR, 'time moved');
  const events = (await handle.fetchHistory()).events.map((e) => e.type);
  t.ok(events.includes('timerFired'), 'the timer fired; its workflow task waits for a worker');
  t.equal((await handle.describe()).status.name, 'RUNNING');
});

t.test('local environment: the real clock, no skipping, env.sleep really sleeps', async (t) => {
  const env = await TestWorkflowEnvironment.createLocal();
  t.equal(env.supportsTimeSkipping, false);
  const taskQueue = await workerOn(t, env);
  const before = Date.now();
  const now = await env.currentTimeMs();
  t.ok(now >= before && now <= Date.now(), 'currentTimeMs is the system clock');
  const { began, ended } = await env.client.workflow.execute(sleeper, { taskQueue, workflowId: 'short', args: ['30ms'] });
  t.ok(ended - began >= 30, 'a short timer fires on real time');
  t.ok(began >= before - 1000 && ended <= Date.now() + 1000, 'on the real clock');
  const s0 = Date.now();
  await env.sleep(25);
  t.ok(Date.now() - s0 >= 20, 'env.sleep waited in real time');
});

t.test('createFromExistingServer: an environment on a backend that exists, by address; teardown lets go of it', async (t) => {
  const address = `memory:existing-${process.pid}`;
  const other = await Connection.connect({ address });
  t.teardown(() => other.close());
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address, namespace: 'default' });
  t.equal(env.supportsTimeSkipping, false);
  t.equal(env.connection.service, other.service, 'the same backend');
  t.equal(env.nativeConnection.service, other.service);
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'existing', workflowBundle: bundle, activities: {}, logger: () => undefined });
  const span = await worker.runUntil(env.client.workflow.execute(sleeper, { taskQueue: 'existing', workflowId: 'existing-1', args: ['10ms'] }));
  t.ok(span.ended - span.began >= 10);
  await env.teardown();
  await env.teardown();
  t.equal((await new Client({ connection: other }).workflow.getHandle('existing-1').describe()).status.name, 'COMPLETED', 'the backend outlives the environment');
  await t.rejects(TestWorkflowEnvironment.createFromExistingServer({ address: 'temporal.example.com:7233' }), { code: 'DEJA_INVALID_ARGUMENT', message: /names a server, and deja has none/ });
  await t.rejects(TestWorkflowEnvironment.createFromExistingServer({ server: {} } as never), { message: /createFromExistingServer: unknown option "server"; expected one of: "address", "namespace", "client", "plugins"/ });
  const warned = await warningsOf(async () => (await TestWorkflowEnvironment.createFromExistingServer({ address, namespace: 'orders' })).teardown());
  t.match(warned, [/createFromExistingServer: deja accepts but does not act on the option "namespace": deja has one namespace, 'default'/]);
});

t.test('teardown: stops the service, twice is fine, sleeps and calls after it are refused', async (t) => {
  const env = await TestWorkflowEnvironment.createTimeSkipping();
  const pending = t.rejects(env.sleep('1 day'), { code: 'DEJA_SERVICE_CLOSED', message: /TestWorkflowEnvironment\.sleep: the environment was torn down/ }, 'a pending sleep rejects');
  const [first, second] = [env.teardown(), env.teardown()];
  t.equal(first, second, 'the same teardown');
  await first;
  await t.resolves(env.teardown(), 'a third time, later');
  await pending;
  await t.rejects(env.sleep(5), { code: 'DEJA_SERVICE_CLOSED' });
  await t.rejects(env.client.workflow.start(sleeper, { taskQueue: 'q', workflowId: 'late', args: ['1s'] }), { code: 'DEJA_SERVICE_CLOSED' });
  const local = await TestWorkflowEnvironment.createLocal();
  await local.teardown();
  await local.teardown();
  await t.rejects(local.client.workflow.start(sleeper, { taskQueue: 'q', workflowId: 'late', args: ['1s'] }), { code: 'DEJA_SERVICE_CLOSED' });
});

t.test('teardown with a worker still running: the worker stops with an error that says why, and nothing spins', async (t) => {
  for (const create of [() => TestWorkflowEnvironment.createTimeSkipping(), () => TestWorkflowEnvironment.createLocal()]) {
    const env = await create();
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'left', workflowBundle: bundle, activities: { async noop() {} }, logger: () => undefined });
    const running = worker.run();
    await env.teardown();
    await t.rejects(running, { code: 'DEJA_WORKER_FAILED', message: /the environment was torn down; shut its workers down before teardown\(\)/ }, `supportsTimeSkipping ${env.supportsTimeSkipping}`);
  }
});

t.test('options: Temporal shapes accepted, server settings named once in a warning, mistakes refused', async (t) => {
  const warned = await warningsOf(async () => {
    const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { port: 7234, extraArgs: ['--x'] }, client: { identity: 'tester' }, plugins: [] });
    t.equal(env.client.options.identity, 'tester', 'client options reach the client');
    t.same((env.options as { server?: unknown }).server, { port: 7234, extraArgs: ['--x'] });
    await env.teardown();
  });
  t.equal(warned.length, 1);
  t.match(warned[0], /^TestWorkflowEnvironment\.createTimeSkipping: deja accepts but does not act on the options "server\.port" \(the environment runs in process: no server to start\), "server\.extraArgs" \(.*\), "plugins" \(plugins are not supported\)/);
  t.same(await warningsOf(async () => (await TestWorkflowEnvironment.createTimeSkipping({ server: { port: 1 } })).teardown()), [], 'once per process');
  const local = await warningsOf(async () => (await TestWorkflowEnvironment.createLocal({ server: { namespace: 'other', searchAttributes: [], ui: false } })).teardown());
  t.match(local[0], /"server\.namespace" \(deja has one namespace, 'default'\), "server\.searchAttributes" \(deja keeps no search attribute registry/);
  t.same(await warningsOf(async () => (await TestWorkflowEnvironment.createLocal({ server: { namespace: 'default' } })).teardown()), [], "namespace 'default' is no news");

  await t.rejects(TestWorkflowEnvironment.createTimeSkipping({ sever: {} } as never), { code: 'DEJA_INVALID_ARGUMENT', message: /createTimeSkipping: unknown option "sever"; expected one of: "server", "client", "plugins"/ });
  await t.rejects(TestWorkflowEnvironment.createTimeSkipping({ server: { dbFilename: 'x' } } as never), { message: /createTimeSkipping: server: unknown option "dbFilename"; expected one of: "executable", "port", "extraArgs"/ });
  await t.rejects(TestWorkflowEnvironment.createLocal({ server: { prot: 1 } } as never), { message: /createLocal: server: unknown option "prot"/ });
  await t.rejects(TestWorkflowEnvironment.createLocal('local' as never), { message: /expected an options object \(\{ server\?, client\?, plugins\? \}\) or nothing, got the string "local"/ });
  await t.rejects(TestWorkflowEnvironment.createLocal({ server: 7233 } as never), { message: /server must be an options object, got number 7233/ });
  await t.rejects(TestWorkflowEnvironment.createLocal({ plugins: {} } as never), { message: /plugins must be an array/ });
  await t.rejects(TestWorkflowEnvironment.createTimeSkipping({ client: { connection: {} } } as never), { message: /client\.connection is the environment's own/ });
  await t.rejects(TestWorkflowEnvironment.createTimeSkipping({ client: { identitty: 'x' } } as never), { message: /Client: unknown option "identitty"/ });
  await t.rejects(TestWorkflowEnvironment.createTimeSkipping({ client: [] } as never), { message: /client must be an options object/ });

  const env = await TestWorkflowEnvironment.createTimeSkipping();
  t.teardown(() => env.teardown());
  await t.rejects(env.sleep('soon'), { code: 'DEJA_INVALID_ARGUMENT', message: /TestWorkflowEnvironment\.sleep: expected a duration such as '10s'/ });
  await t.rejects(env.sleep(-1), { code: 'DEJA_INVALID_ARGUMENT' });
  const t0 = await env.currentTimeMs();
  await env.sleep('2 days');
  t.ok((await env.currentTimeMs()) - t0 >= 2 * DAY, 'env.sleep with no workflow at all moves the clock');
});

// ── deja/register in a child process: a Temporal-style test file ────────────────────────────────

// The child loads deja from dist/: an old build would test old code.
for (const rel of ['lib/compat/register.ts', 'lib/compat/testing.ts', 'lib/testing/test-workflow-environment.ts', 'lib/worker/connection.ts']) {
  const built = path.join(root, 'dist', rel.replace(/\.ts$/, '.js'));
  if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < fs.statSync(path.join(root, rel)).mtimeMs) {
    throw new Error(`dist/${rel.replace(/\.ts$/, '.js')} is missing or older than ${rel}: run "npm run build" (node scripts/test.js does)`);
  }
}

t.test('deja/register: a Temporal-style test file importing only @temporalio/* runs on a time-skipping environment', async (t) => {
  const dir = fs.mkdtempSync(path.join(app, 'register-'));
  fs.writeFileSync(
    path.join(dir, 'workflows.cjs'),
    `const { sleep, proxyActivities } = require('@temporalio/workflow');
const { charge } = proxyActivities({ startToCloseTimeout: '1 minute', retry: { initialInterval: '1 day', maximumAttempts: 3 } });
exports.subscription = async function subscription(months) {
  const began = Date.now();
  const receipts = [];
  for (let i = 1; i <= months; i++) {
    await sleep('30 days');
    receipts.push(await charge(i));
  }
  return { receipts, days: (Date.now() - began) / 86400000 };
};
`,
  );
  fs.writeFileSync(
    path.join(dir, 'subscription.test.cjs'),
    `const { TestWorkflowEnvironment } = require('@temporalio/testing');
const { Worker } = require('@temporalio/worker');
const { Client } = require('@temporalio/client');
const { Context } = require('@temporalio/activity');

async function main() {
  const env = await TestWorkflowEnvironment.createTimeSkipping();
  let calls = 0;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'billing',
    workflowsPath: require.resolve('./workflows.cjs'),
    activities: {
      async charge(month) {
        calls++;
        if (Context.current().info.attempt === 1 && month === 2) throw new Error('card declined');
        return 'month ' + month + ' attempt ' + Context.current().info.attempt;
      },
    },
  });
  const start = await env.currentTimeMs();
  const out = await worker.runUntil(env.client.workflow.execute('subscription', { taskQueue: 'billing', workflowId: 'sub-1', args: [3] }));
  const elapsedDays = (await env.currentTimeMs() - start) / 86400000;
  await env.sleep('1 day');
  await env.teardown();
  await env.teardown();
  console.log(JSON.stringify({ out, calls, elapsedDays: Math.floor(elapsedDays), client: env.client instanceof Client, skipping: env.supportsTimeSkipping }));
}
main().catch((e) => { console.error(e); process.exit(1); });
`,
  );
  const { NODE_OPTIONS: _n, DEJA_BACKEND: _b, ...childEnv } = process.env;
  // cwd is deja's root, so `deja/register` resolves to this package (its exports map) by self-reference.
  const r = spawnSync(process.execPath, ['--no-node-snapshot', '-r', 'deja/register', path.join(dir, 'subscription.test.cjs')], { cwd: root, encoding: 'utf8', env: childEnv, timeout: 120_000 });
  t.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout.trim().split('\n').pop()!);
  t.same(got.out.receipts, ['month 1 attempt 1', 'month 2 attempt 2', 'month 3 attempt 1']);
  t.ok(got.out.days >= 91 && got.out.days < 92, `90 days of sleep and a day of backoff, on the workflow's clock (${got.out.days})`);
  t.equal(got.elapsedDays, 91);
  t.equal(got.calls, 4);
  t.same([got.client, got.skipping], [true, true]);
  t.notMatch(r.stderr, /DejaWarning/, 'nothing to warn about');
});
