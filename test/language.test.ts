// The workflow language, part 1, end to end: a real worker, sandbox, replay, engine and client on
// the in-memory backend. Cancellation (sleeping, during an activity of each cancellation type,
// during a child under each parent close policy), termination with an activity running, child
// workflows (results, failures, signals, an id that is taken, workflowInfo().parent), external
// signals and cancels (to a missing workflow too), signalWithStart, describe's statuses, and
// consistent queries.
import t from 'tap';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Connection, WorkflowClient, WorkflowFailedError, WorkflowExecutionFailedError } from '../lib/client';
import { bundleWorkflowCode } from '../lib/bundler';
import { Worker } from '../lib/worker';
import { CancelledFailure, TerminatedFailure } from '../runtime/failure';
import type { HistoryEvent } from '../lib/history/events';
import * as activities from './workflows/language-activities';

const workflowsPath = path.join(__dirname, 'workflows', 'language.ts');
const taskQueue = 'language';
let connection: Connection;
let client: WorkflowClient;
let worker: Worker;
let running: Promise<void>;

t.before(async () => {
  connection = new Connection({ backend: `memory:language-${randomUUID()}` });
  worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({ workflowsPath }),
    activities: { cleanup: activities.cleanup, quick: activities.quick, waitForCancel: activities.waitForCancel },
    logger: () => undefined,
  });
  running = worker.run();
  client = new WorkflowClient({ connection });
});
t.teardown(async () => {
  worker.shutdown();
  await running;
  await connection.close();
});

const id = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const types = (events: HistoryEvent[]) => events.map((e) => e.type);
const historyOf = async (workflowId: string) => (await client.getHandle(workflowId).fetchHistory()).events;

/** Resolves once `check` holds (the engine and worker move on their own; nothing here is timed). */
async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 1000; i++) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never happened: ${what}`);
}

/** Whether a run is idle: a workflow task completed, and none is scheduled after it. */
const isIdle = (events: HistoryEvent[]) => {
  const last = events.map((e) => e.type).lastIndexOf('workflowTaskCompleted');
  return last >= 0 && !events.slice(last).some((e) => e.type === 'workflowTaskScheduled');
};

/** Waits until the run is idle (its code is blocked, waiting for something). */
const idle = (workflowId: string) =>
  until(`${workflowId} idle`, async () => {
    try {
      const events = await historyOf(workflowId);
      return isIdle(events) ? events : undefined;
    } catch {
      return undefined; // not started yet
    }
  });

/** What result() rejects with. */
async function failureOf(handle: { result(): Promise<unknown> }): Promise<WorkflowFailedError> {
  const error = await handle.result().then(
    (value) => {
      throw new Error(`expected a failure, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
  if (!(error instanceof WorkflowFailedError)) throw error;
  return error;
}

t.test('cancel while sleeping: cleanup in a non-cancellable scope runs (two activities), then the run ends CANCELLED', async (t) => {
  const handle = await client.start('sleepThenCleanup', { taskQueue, workflowId: id('sleep') });
  await idle(handle.workflowId);
  await handle.cancel();
  const error = await failureOf(handle);
  t.ok(error instanceof WorkflowExecutionFailedError, 'the seed-era name is the same class');
  t.ok(error.cause instanceof CancelledFailure, `cause: a CancelledFailure (got ${String(error.cause)})`);
  t.match(error.message, /was cancelled/);
  const events = await historyOf(handle.workflowId);
  t.same(
    events.filter((e) => e.type === 'activityTaskCompleted').map((e) => (e.type === 'activityTaskCompleted' ? e.result : undefined)),
    ['cleaned first', 'cleaned second'],
    'both cleanup activities ran, the second started after an await inside the non-cancellable scope',
  );
  t.ok(types(events).includes('timerCanceled'), 'the sleep was cancelled');
  t.equal(events[events.length - 1].type, 'workflowExecutionCanceled');
  t.equal((await handle.describe()).status.name, 'CANCELLED');
});

t.test('a workflow that catches its cancellation completes', async (t) => {
  const handle = await client.start('catchesCancel', { taskQueue, workflowId: id('catch') });
  await idle(handle.workflowId);
  await handle.cancel();
  t.equal(await handle.result(), 'caught');
  t.equal((await handle.describe()).status.name, 'COMPLETED');
});

for (const type of ['TRY_CANCEL', 'WAIT_CANCELLATION_COMPLETED', 'ABANDON'] as const) {
  t.test(`cancel while an activity runs: ${type}`, async (t) => {
    const tag = id(type);
    const handle = await client.start('cancelDuringActivity', { taskQueue, workflowId: id('act'), args: [type, tag] });
    await until('the activity started', () => activities.seen.includes(`started ${tag}`));
    await handle.cancel();
    t.equal(await handle.result(), `cancelled ${type}`);
    const events = await historyOf(handle.workflowId);
    const kinds = types(events);
    if (type === 'ABANDON') {
      t.notOk(kinds.includes('activityTaskCancelRequested'), 'ABANDON sends no cancel request');
    } else {
      t.ok(kinds.includes('activityTaskCancelRequested'), 'a cancel request was recorded');
    }
    if (type === 'WAIT_CANCELLATION_COMPLETED') {
      const canceled = kinds.indexOf('activityTaskCanceled');
      t.ok(canceled > 0 && canceled < kinds.indexOf('workflowExecutionCompleted'), 'the workflow waited for the activity to confirm');
    }
    // Every type: the activity itself stops, learning it at its next heartbeat.
    await until(`the activity saw its cancellation (${type})`, () => activities.seen.includes(`cancelled ${tag}`));
    t.pass('the activity saw the cancellation');
  });
}

t.test('a scope with a timeout cancels its second activity, started after an await', async (t) => {
  const tag = id('scope');
  const handle = await client.start('scopeTimeout', { taskQueue, workflowId: id('scope'), args: [tag] });
  t.equal(await handle.result(), 'timed out');
  t.ok(activities.seen.includes(`cancelled ${tag}`), 'the second activity was cancelled through the scope');
  t.ok(types(await historyOf(handle.workflowId)).includes('activityTaskCanceled'));
});

t.test('terminate with an activity running: the run closes at once; the activity learns it at its next heartbeat', async (t) => {
  const tag = id('term');
  const handle = await client.start('runsActivity', { taskQueue, workflowId: id('term'), args: [tag] });
  await until('the activity started', () => activities.seen.includes(`started ${tag}`));
  await handle.terminate('ops said so');
  const error = await failureOf(handle);
  t.ok(error.cause instanceof TerminatedFailure, `cause: a TerminatedFailure (got ${String(error.cause)})`);
  t.match(error.cause, { message: 'ops said so' });
  const events = await historyOf(handle.workflowId);
  t.equal(events[events.length - 1].type, 'workflowExecutionTerminated');
  t.equal((await handle.describe()).status.name, 'TERMINATED');
  await until('the activity saw the termination', () => activities.seen.includes(`cancelled ${tag}`));
  t.pass('the activity stopped');
});

for (const [policy, expected] of [
  ['TERMINATE', 'TERMINATED'],
  ['REQUEST_CANCEL', 'CANCELLED'],
  ['ABANDON', 'RUNNING'],
] as const) {
  t.test(`cancel a parent while its child runs: parent close policy ${policy}`, async (t) => {
    const childId = id(`child-${policy}`);
    const parent = await client.start('parentWithPolicy', { taskQueue, workflowId: id('parent'), args: [policy, childId] });
    await idle(childId);
    await parent.cancel();
    const error = await failureOf(parent);
    t.match(String(error.cause), /Cancel/i, 'the parent ended cancelled (the abandoned child rejected at once)');
    const child = client.getHandle(childId);
    const status = await until(`the child is ${expected}`, async () => {
      const s = (await child.describe()).status.name;
      return s === expected ? s : undefined;
    });
    t.equal(status, expected);
    t.match((await child.describe()).parentExecution, { workflowId: parent.workflowId });
    if (policy === 'ABANDON') await child.terminate('test cleanup');
  });
}

t.test('cancel a parent whose child is cancelled with it (the default: wait until the child ends cancelled)', async (t) => {
  const childId = id('child-wait');
  const parent = await client.start('parentWaitsForCancelledChild', { taskQueue, workflowId: id('parent'), args: [childId] });
  await idle(childId);
  await parent.cancel();
  const error = await failureOf(parent);
  t.match(String(error.cause), /Cancel/i);
  t.equal((await client.getHandle(childId).describe()).status.name, 'CANCELLED', 'the child ended cancelled first');
  t.ok(types(await historyOf(parent.workflowId)).includes('childWorkflowExecutionCanceled'));
});

t.test('a child that fails reaches the parent as a ChildWorkflowFailure with its cause', async (t) => {
  const handle = await client.start('parentOfFailingChild', { taskQueue, workflowId: id('parent') });
  t.match(await handle.result(), /\| kid broke \| KidError$/);
});

t.test('a child started by type name: the parent signals it; it knows its parent', async (t) => {
  const handle = await client.start('parentSignalsChild', { taskQueue, workflowId: id('parent') });
  const result = (await handle.result()) as { result: { poked: string; parent: unknown }; hasRunId: boolean };
  t.equal(result.result.poked, 'from parent');
  t.match(result.result.parent, { workflowId: handle.workflowId, runId: handle.runId, namespace: 'default' });
  t.equal(result.hasRunId, true);
});

t.test('a child whose workflow id is taken fails to start with a catchable error', async (t) => {
  const taken = await client.start('catchesCancel', { taskQueue, workflowId: id('taken') });
  const handle = await client.start('childIdTaken', { taskQueue, workflowId: id('parent'), args: [taken.workflowId] });
  t.equal(await handle.result(), 'taken');
  await taken.cancel();
  t.equal(await taken.result(), 'caught');
});

t.test('external workflows: a signal by id arrives; a signal to a missing workflow fails catchably; a cancel by id arrives', async (t) => {
  const target = await client.start('pokedChild', { taskQueue, workflowId: id('target') });
  const signaller = await client.start('signaller', { taskQueue, workflowId: id('signaller'), args: [target.workflowId] });
  t.match(await signaller.result(), /^missing: .*not found/i);
  t.match(await target.result(), { poked: 'from outside' });
  t.equal((await target.result() as { parent?: unknown }).parent, undefined, 'not a child');

  const victim = await client.start('catchesCancel', { taskQueue, workflowId: id('victim') });
  await idle(victim.workflowId);
  const canceller = await client.start('canceller', { taskQueue, workflowId: id('canceller'), args: [victim.workflowId] });
  t.equal(await canceller.result(), 'requested');
  t.equal(await victim.result(), 'caught');
  t.match((await historyOf(victim.workflowId)).find((e) => e.type === 'workflowExecutionCancelRequested'), { externalWorkflowId: canceller.workflowId });
});

t.test('signalWithStart: starts the workflow with the signal, then signals the running one', async (t) => {
  const workflowId = id('sws');
  const first = await client.signalWithStart('counter', { taskQueue, workflowId, signal: 'poke', signalArgs: ['a'] });
  const second = await client.signalWithStart('counter', { taskQueue, workflowId, signal: 'poke', signalArgs: ['b'] });
  t.equal(second.signaledRunId, first.signaledRunId, 'the running run got the second signal');
  const seed = client.createWorkflowHandle('counter', { taskQueue, workflowId });
  t.equal(await seed.signalWithStart('poke', ['c'], []), first.signaledRunId, 'the seed-era handle form');
  t.equal(await first.result(), 3);
  t.equal(first.client, client, 'handle.client is the client');
});

t.test('consistent queries: a query right after a signal sees it', async (t) => {
  const handle = await client.start('counter', { taskQueue, workflowId: id('count') });
  for (let i = 1; i <= 2; i++) {
    await handle.signal('poke', `n${i}`);
    t.equal(await handle.query('state'), String(i), `query after signal ${i}`);
  }
  await handle.signal('poke', 'n3');
  t.equal(await handle.result(), 3);
});

t.test('describe reports status, start and close times, and history length', async (t) => {
  const handle = await client.start('catchesCancel', { taskQueue, workflowId: id('describe') });
  const runningD = await handle.describe();
  t.equal(runningD.status.name, 'RUNNING');
  t.equal(runningD.closeTime, undefined);
  await idle(handle.workflowId);
  await handle.cancel();
  await handle.result();
  const closed = await handle.describe();
  t.equal(closed.status.name, 'COMPLETED');
  t.ok(closed.closeTime instanceof Date && closed.closeTime >= closed.startTime);
  t.equal(closed.historyLength, (await historyOf(handle.workflowId)).length);
  const listed = [];
  for await (const info of client.list({ workflowType: 'catchesCancel', status: 'COMPLETED' })) listed.push(info.workflowId);
  t.ok(listed.includes(handle.workflowId), 'list finds it by type and status');
});

t.test('recursive async functions, declared, as arrows and as methods, still call themselves', async (t) => {
  t.same(await client.execute('recursion', { taskQueue, workflowId: id('recursion'), args: [3] }), [3, 3, 3]);
});
