// Workflow updates end to end (a worker running test/workflows/updates.ts, a client), the engine's
// update flow on the in-memory store and on SQLite (a hand-driven fake worker), replay of
// histories with updates, and default handlers. No test waits on wall-clock time: every wait is
// for a stage, a result or a signal.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { MemoryStore } from '../lib/backends/memory';
import { SqliteStore } from '../lib/backends/sqlite';
import type { Store } from '../lib/backends/store';
import {
  Connection,
  WithStartWorkflowOperation,
  WorkflowClient,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateNotFoundError,
  WorkflowUpdateStage,
  type WorkflowHandle,
} from '../lib/client';
import { LocalWorkflowService } from '../lib/engine';
import { DeterminismViolationError, InvalidArgumentError, LimitExceededError } from '../lib/errors';
import type { History } from '../lib/history/events';
import { replayHistory } from '../lib/testing/replay';
import { Worker } from '../lib/worker';
import { ApplicationFailure } from '../runtime/failure';
import type { WorkflowTask } from '../lib/service';
import { defineUpdate } from '../runtime/update-api';
import * as activities from './workflows/activities';
import { startEnv, testBundle, workflowsPath, type TestEnv } from './support/env';
import { ManualClock, pollNow } from './support/service';

const changedPath = path.join(__dirname, 'workflows', 'changed.ts');

// The definitions as test/workflows/updates.ts makes them (only the names cross).
const increment = defineUpdate<number, [number]>('increment');
const failing = defineUpdate<void, []>('failing');
const buggy = defineUpdate<void, []>('buggy');
const slow = defineUpdate<string, [string]>('slow');
const greetUpdate = defineUpdate<string, [string]>('greet');

const updateEvents = (h: History) => h.events.filter((e) => e.type === 'workflowExecutionUpdateAccepted' || e.type === 'workflowExecutionUpdateCompleted');

let env: TestEnv;
t.before(async () => {
  env = await startEnv();
});
t.teardown(() => env.close());

async function counter(): Promise<WorkflowHandle> {
  return env.client.start('updateCounter', { taskQueue: env.taskQueue, workflowId: `counter-${randomUUID()}` });
}

t.test('executeUpdate returns the handler result; startUpdate waits for ACCEPTED or COMPLETED', async (t) => {
  const h = await counter();
  t.equal(await h.executeUpdate(increment, { args: [3] }), 3);
  t.equal(await h.executeUpdate('increment', { args: [4] }), 7, 'by name');
  const done = await h.startUpdate(increment, { args: [1], waitForStage: WorkflowUpdateStage.COMPLETED, updateId: 'inc-1' });
  t.equal(done.updateId, 'inc-1');
  t.equal(done.workflowId, h.workflowId);
  t.type(done.workflowRunId, 'string');
  t.equal(await done.result(), 8);
  const accepted = await h.startUpdate(slow, { args: ['s'], waitForStage: WorkflowUpdateStage.ACCEPTED, updateId: 'slow-1' });
  t.equal(await h.query('count'), 8, 'the slow update is accepted and still running');
  await h.signal('release');
  t.equal(await accepted.result(), 's|slow-1|slow|slow-1|slow', 'currentUpdateInfo is the update across its awaits');
  await h.signal('finish');
  t.equal(await h.result(), 8);
  const history = await h.fetchHistory();
  t.same(
    updateEvents(history).map((e) => e.type),
    ['workflowExecutionUpdateAccepted', 'workflowExecutionUpdateCompleted', 'workflowExecutionUpdateAccepted', 'workflowExecutionUpdateCompleted', 'workflowExecutionUpdateAccepted', 'workflowExecutionUpdateCompleted', 'workflowExecutionUpdateAccepted', 'workflowExecutionUpdateCompleted'],
  );
  const first = updateEvents(history)[0];
  t.match(first, { type: 'workflowExecutionUpdateAccepted', name: 'increment', input: [3] });
  await replayHistory({ workflowsPath }, history);
  t.pass('its history replays cleanly');
});

t.test('an async validator (one that returns a promise) accepts, as in Temporal, which ignores what a validator returns', async (t) => {
  const h = await counter();
  t.equal(await h.executeUpdate(defineUpdate<number, [number]>('asyncValidated'), { args: [5] }), 5);
  await h.signal('finish');
  t.equal(await h.result(), 5);
  t.equal(updateEvents(await h.fetchHistory()).length, 2, 'accepted and completed');
  await replayHistory({ workflowsPath }, await h.fetchHistory());
});

t.test('an update rejected by its validator fails the call and leaves no trace in history', async (t) => {
  const h = await counter();
  await h.executeUpdate(increment, { args: [2] });
  const error = await h.executeUpdate(increment, { args: [-1], updateId: 'negative' }).catch((e: unknown) => e);
  t.ok(error instanceof WorkflowUpdateFailedError, String(error));
  t.equal((error as WorkflowUpdateFailedError).code, 'DEJA_UPDATE_FAILED');
  t.match((error as Error).cause, { message: 'cannot add -1: not a non-negative number' });
  await t.rejects(h.startUpdate(increment, { args: [-2], waitForStage: WorkflowUpdateStage.ACCEPTED }), WorkflowUpdateFailedError, 'startUpdate throws for a rejection');
  t.equal(await h.query('count'), 2, 'the rejected update did not run');
  await t.rejects(h.getUpdateHandle('negative').result(), WorkflowUpdateFailedError, 'its handle gives the rejection too');
  await h.signal('finish');
  t.equal(await h.result(), 2);
  const history = await h.fetchHistory();
  t.notOk(JSON.stringify(history.events).includes('negative'), 'no event names the rejected update');
  t.equal(updateEvents(history).length, 2, 'only the accepted update is in history');
  await replayHistory({ workflowsPath }, history);
});

t.test('a handler that throws an ApplicationFailure fails the update, not the workflow', async (t) => {
  const h = await counter();
  const error = await h.executeUpdate(failing).catch((e: unknown) => e);
  t.ok(error instanceof WorkflowUpdateFailedError);
  t.ok((error as Error).cause instanceof ApplicationFailure);
  t.match((error as Error).cause, { message: 'the handler says no', type: 'Nope', nonRetryable: true });
  t.equal((await h.describe()).status.name, 'RUNNING');
  const completed = updateEvents(await h.fetchHistory()).find((e) => e.type === 'workflowExecutionUpdateCompleted');
  t.match(completed, { failure: { message: 'the handler says no', type: 'Nope' } });
  await h.signal('finish');
  t.equal(await h.result(), 0);
});

t.test('an update on a completed workflow, or on one that does not exist: WorkflowNotFoundError', async (t) => {
  const h = await env.client.start('quickWorkflow', { taskQueue: env.taskQueue, workflowId: `quick-${randomUUID()}`, args: [21] });
  t.equal(await h.result(), 42);
  await t.rejects(h.executeUpdate(increment, { args: [1] }), WorkflowNotFoundError);
  await t.rejects(env.client.getHandle(`missing-${randomUUID()}`).executeUpdate(increment, { args: [1] }), WorkflowNotFoundError);
  await t.rejects(h.getUpdateHandle('never-sent').result(), WorkflowUpdateNotFoundError);
});

t.test('an update with no handler is rejected with Temporal wording', async (t) => {
  const h = await env.client.start('noUpdateHandlersWorkflow', { taskQueue: env.taskQueue, workflowId: `none-${randomUUID()}` });
  const error = await h.executeUpdate('nope', { args: [1] }).catch((e: unknown) => e);
  t.ok(error instanceof WorkflowUpdateFailedError);
  t.match((error as Error).cause, { message: 'No registered handler for update: nope' });
  await h.signal('finish');
  await h.result();
  t.equal(updateEvents(await h.fetchHistory()).length, 0);
});

t.test('default handlers answer signals, queries and updates that have no handler of their own', async (t) => {
  const h = await env.client.start('defaultHandlersWorkflow', { taskQueue: env.taskQueue, workflowId: `defaults-${randomUUID()}` });
  t.equal(await h.executeUpdate('anything', { args: [1, 'two'] }), 'anything done (anything)');
  t.equal(await h.query('whatever', 'x', 2), 'query whatever ["x",2]');
  t.same(await h.query('seen'), ['update anything [1,"two"]'], 'a query with its own handler is not the default one');
  await h.signal('ping', 7);
  await h.signal('stop');
  t.same(await h.result(), ['update anything [1,"two"]', 'signal ping [7]', 'signal stop []']);
  await replayHistory({ workflowsPath }, await h.fetchHistory());
});

t.test('condition(allHandlersFinished) lets a running update finish before the workflow returns', async (t) => {
  const h = await counter();
  const running = await h.startUpdate(slow, { args: ['late'], waitForStage: WorkflowUpdateStage.ACCEPTED, updateId: 'late-1' });
  await h.signal('finish');
  t.equal(await h.query('count'), 0, 'the task that saw finish has completed');
  t.equal((await h.describe()).status.name, 'RUNNING', 'the workflow waits for its handler');
  await h.signal('release');
  t.equal(await running.result(), 'late|late-1|slow|late-1|slow');
  t.equal(await h.result(), 0);
});

t.test('an update id is used once: a second call joins the first', async (t) => {
  const h = await counter();
  t.equal(await h.executeUpdate(increment, { args: [5], updateId: 'same' }), 5);
  t.equal(await h.executeUpdate(increment, { args: [5], updateId: 'same' }), 5, 'the second call gets the first result');
  t.equal(await h.executeUpdate(increment, { args: [99], updateId: 'same' }), 5, 'even with other arguments');
  t.equal(await h.query('count'), 5);
  await h.signal('finish');
  await h.result();
  t.equal(updateEvents(await h.fetchHistory()).filter((e) => e.type === 'workflowExecutionUpdateAccepted').length, 1);
});

t.test('getUpdateHandle from another client gets the result', async (t) => {
  const h = await counter();
  await h.startUpdate(slow, { args: ['x'], waitForStage: WorkflowUpdateStage.ACCEPTED, updateId: 'shared' });
  const other = new WorkflowClient(env.connection.service);
  const handle = other.getHandle(h.workflowId).getUpdateHandle<string>('shared');
  t.equal(handle.updateId, 'shared');
  t.equal(handle.workflowRunId, undefined, 'a handle without a run id targets the latest run');
  const result = handle.result();
  await h.signal('release');
  t.equal(await result, 'x|shared|slow|shared|slow');
  await h.signal('finish');
  await h.result();
});

t.test('a handler that throws a plain error fails the workflow task, not the update', async (t) => {
  const h = await counter();
  const pending = h.startUpdate(buggy, { waitForStage: WorkflowUpdateStage.COMPLETED, updateId: 'buggy-1' });
  // The task fails and is retried (with a backoff); the update stays in flight meanwhile.
  for (;;) {
    const history = await h.fetchHistory();
    if (history.events.some((e) => e.type === 'workflowTaskFailed')) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  t.equal((await h.describe()).status.name, 'RUNNING');
  await h.terminate('done');
  const error = await pending.catch((e: unknown) => e);
  t.ok(error instanceof WorkflowUpdateFailedError, 'the run closing fails the update in flight');
});

t.test('update-with-start starts the workflow when it does not run', async (t) => {
  const workflowId = `uws-${randomUUID()}`;
  const op = WithStartWorkflowOperation.create('updateCounter', { workflowId, taskQueue: env.taskQueue, workflowIdConflictPolicy: 'USE_EXISTING' });
  t.equal(await env.client.executeUpdateWithStart(increment, { args: [2], startWorkflowOperation: op }), 2);
  const h = (await op.workflowHandle()) as WorkflowHandle;
  t.equal(h.workflowId, workflowId);
  t.type(h.runId, 'string');
  const history = await h.fetchHistory();
  // The first workflow task saw the start and the update together.
  const firstCompleted = history.events.find((e) => e.type === 'workflowTaskCompleted')!;
  t.match(history.events[firstCompleted.eventId], { type: 'workflowExecutionUpdateAccepted', workflowTaskCompletedEventId: firstCompleted.eventId });
  await t.rejects(env.client.executeUpdateWithStart(increment, { args: [1], startWorkflowOperation: op }), InvalidArgumentError, 'an operation is used once');
  await h.signal('finish');
  t.equal(await h.result(), 2);
});

t.test('an update delivered with the first task waits for a handler the main function registers after an await', async (t) => {
  const op = WithStartWorkflowOperation.create('lateHandlerWorkflow', { workflowId: `late-${randomUUID()}`, taskQueue: env.taskQueue, workflowIdConflictPolicy: 'FAIL' });
  t.equal(await env.client.executeUpdateWithStart(greetUpdate, { args: ['cy'], startWorkflowOperation: op }), 'late cy');
  t.equal(await ((await op.workflowHandle()) as WorkflowHandle).result(), 'cy');
});

t.test('update-with-start sends the update to the running workflow (USE_EXISTING), or refuses (FAIL)', async (t) => {
  const h = await counter();
  await h.executeUpdate(increment, { args: [10] });
  const op = WithStartWorkflowOperation.create('updateCounter', { workflowId: h.workflowId, taskQueue: env.taskQueue, workflowIdConflictPolicy: 'USE_EXISTING' });
  const update = await env.client.startUpdateWithStart(increment, { args: [1], waitForStage: WorkflowUpdateStage.ACCEPTED, startWorkflowOperation: op });
  t.equal(await update.result(), 11);
  t.equal(((await op.workflowHandle()) as WorkflowHandle).runId, (await h.describe()).runId, 'the handle is the running run');
  const refused = WithStartWorkflowOperation.create('updateCounter', { workflowId: h.workflowId, taskQueue: env.taskQueue, workflowIdConflictPolicy: 'FAIL' });
  await t.rejects(env.client.executeUpdateWithStart(increment, { args: [1], startWorkflowOperation: refused }), WorkflowExecutionAlreadyStartedError);
  await t.rejects(refused.workflowHandle(), WorkflowExecutionAlreadyStartedError, 'its workflowHandle rejects too');
  await h.signal('finish');
  t.equal(await h.result(), 11);
});

t.test('bad input gets clear errors', async (t) => {
  const h = env.client.getHandle('anything');
  await t.rejects(h.executeUpdate({ type: 'signal', name: 's' } as never), /expected an update definition or name, got the signal definition "s"/);
  await t.rejects(h.executeUpdate(increment, { args: 1 } as never), /args must be an array/);
  await t.rejects(h.executeUpdate(increment, { bogus: 1 } as never), /bogus/);
  await t.rejects(h.startUpdate(increment, { waitForStage: WorkflowUpdateStage.ADMITTED } as never), /ADMITTED is not supported/);
  await t.rejects(h.startUpdate(increment, {} as never), /waitForStage must be/);
  await t.rejects(h.executeUpdate(increment, { updateId: '' }), /updateId must be a non-empty string/);
  t.throws(() => h.getUpdateHandle(5 as never), /updateId must be a non-empty string/);
  t.throws(() => WithStartWorkflowOperation.create('w', { workflowId: 'x', taskQueue: 'q' } as never), /workflowIdConflictPolicy is required/);
  t.throws(() => WithStartWorkflowOperation.create('w', { workflowId: 'x', taskQueue: 'q', workflowIdConflictPolicy: 'TERMINATE_EXISTING' } as never), /must be "USE_EXISTING" or "FAIL"/);
  t.throws(() => WithStartWorkflowOperation.create('', { workflowId: 'x', taskQueue: 'q', workflowIdConflictPolicy: 'FAIL' }), /named workflow function/);
  await t.rejects(env.client.executeUpdateWithStart(increment, { startWorkflowOperation: {} }), /startWorkflowOperation must be a WithStartWorkflowOperation/);
  const service = env.connection.service;
  await t.rejects(service.updateWorkflow({ workflowId: 'w', name: 'u', args: [], waitForStage: 'admitted' } as never), /waitForStage/);
  await t.rejects(service.updateWorkflow({ workflowId: 'w', name: '', args: [], waitForStage: 'completed' }), /name must be a non-empty string/);
  await t.rejects(
    service.updateWithStartWorkflow({
      start: { workflowId: 'w', workflowType: 't', taskQueue: 'q', args: [], workflowIdConflictPolicy: 'terminateExisting' },
      update: { name: 'u', args: [], waitForStage: 'completed' },
    }),
    /must be "useExisting" or "fail"/,
  );
});

t.test('a fresh worker replays a history with accepted and completed updates and carries on', async (t) => {
  const connection = new Connection({ backend: `memory:restart-${randomUUID()}` });
  const client = new WorkflowClient(connection.service);
  const taskQueue = 'restart';
  const make = async () => Worker.create({ connection, taskQueue, workflowBundle: await testBundle(), activities, logger: () => undefined });
  const first = await make();
  const firstRun = first.run();
  const h = await client.start('updateCounter', { taskQueue, workflowId: `restart-${randomUUID()}` });
  t.equal(await h.executeUpdate(increment, { args: [3] }), 3);
  t.equal(await h.executeUpdate(greetUpdate, { args: ['ann'] }), 'Hello, ann! (greet)');
  await t.rejects(h.executeUpdate(increment, { args: [-3] }), WorkflowUpdateFailedError);
  const pending = await h.startUpdate(slow, { args: ['across'], waitForStage: WorkflowUpdateStage.ACCEPTED, updateId: 'across' });
  first.shutdown();
  await firstRun;
  const second = await make();
  const secondRun = second.run();
  t.teardown(async () => {
    second.shutdown();
    await secondRun;
    await connection.close();
  });
  // The new worker has nothing cached: it rebuilds the run from history, updates included.
  t.equal(await h.executeUpdate(increment, { args: [5] }), 9, 'the count survived: 3 + 1 (greet) + 5');
  await h.signal('release');
  t.equal(await pending.result(), 'across|across|slow|across|slow', 'an update accepted before the restart completes after it');
  await h.signal('finish');
  t.equal(await h.result(), 9);
  await replayHistory({ workflowsPath }, await h.fetchHistory());
});

t.test('changed code that handles a recorded update differently: DeterminismViolationError', async (t) => {
  const h = await env.client.start('updateFixtureWorkflow', { taskQueue: env.taskQueue, workflowId: `fixture-${randomUUID()}` });
  t.equal(await h.executeUpdate(greetUpdate, { args: ['bo'] }), 'Hello, bo!');
  await h.signal('finish');
  await h.result();
  const history = await h.fetchHistory();
  await replayHistory({ workflowsPath }, history);
  await t.rejects(replayHistory({ workflowsPath: changedPath }, history), DeterminismViolationError);
  // A recorded update whose name the code has no handler for: rejected now, so its accepted event is unmatched.
  const renamed: History = structuredClone(history);
  for (const e of renamed.events) if (e.type === 'workflowExecutionUpdateAccepted') e.name = 'renamed';
  const error = await replayHistory({ workflowsPath }, renamed).catch((e: unknown) => e);
  t.ok(error instanceof DeterminismViolationError, String(error));
  t.match(String(error), /workflowExecutionUpdateAccepted renamed/);
});

t.test('property: any mix of accepted and rejected updates gives the sum of the accepted ones and replays', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: -5, max: 9 }), { minLength: 1, maxLength: 6 }), async (values) => {
      const h = await counter();
      let sum = 0;
      for (const v of values) {
        if (v >= 0) {
          sum += v;
          t.equal(await h.executeUpdate(increment, { args: [v] }), sum);
        } else await t.rejects(h.executeUpdate(increment, { args: [v] }), WorkflowUpdateFailedError);
      }
      await h.signal('finish');
      t.equal(await h.result(), sum);
      const history = await h.fetchHistory();
      t.equal(updateEvents(history).length, 2 * values.filter((v) => v >= 0).length);
      await replayHistory({ workflowsPath }, history);
    }),
    { numRuns: 8, seed: Number(process.env.FC_SEED ?? 424242) },
  );
});

// ---- the engine's flow, on both stores, with a hand-driven fake worker ----

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-updates-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

for (const [name, makeStore] of [
  ['memory', (): Store => new MemoryStore()],
  ['sqlite', (): Store => new SqliteStore(path.join(dir, `${randomUUID()}.db`))],
] as const) {
  t.test(`engine update flow (${name} store)`, async (t) => {
    const clock = new ManualClock();
    const service = new LocalWorkflowService({ store: makeStore(), clock });
    t.teardown(() => service.close());
    const poll = async (): Promise<WorkflowTask> => {
      const task = await pollNow((signal) => service.pollWorkflowTask('q', 'fake', signal));
      if (task?.kind !== 'workflow') throw new Error(`expected a workflow task, got ${JSON.stringify(task)}`);
      return task;
    };
    const { runId } = await service.startWorkflow({ workflowId: 'wf', workflowType: 'w', taskQueue: 'q', args: [] });
    const ref = { workflowId: 'wf' };

    // An update while the first task runs: the task does not carry it; another task follows.
    const task1 = await poll();
    t.equal(task1.updates, undefined);
    const u1 = service.updateWorkflow({ ...ref, updateId: 'u1', name: 'add', args: [1], waitForStage: 'completed' });
    let u1Done = false;
    void u1.then(() => (u1Done = true));
    await service.completeWorkflowTask(task1.taskToken, []);
    const task2 = await poll();
    t.same(task2.updates, [{ updateId: 'u1', name: 'add', args: [1] }]);
    t.notOk(u1Done);
    await service.completeWorkflowTask(task2.taskToken, [
      { type: 'acceptUpdate', updateId: 'u1' },
      { type: 'completeUpdate', updateId: 'u1', result: 'one' },
    ]);
    t.same(await u1, { updateId: 'u1', workflowId: 'wf', runId, stage: 'completed', outcome: { status: 'completed', result: 'one' } });
    t.same(await service.pollWorkflowUpdate({ ...ref, updateId: 'u1' }), { status: 'completed', result: 'one' });
    t.same(await service.updateWorkflow({ ...ref, updateId: 'u1', name: 'add', args: [2], waitForStage: 'accepted' }), await u1, 'joined by id');

    // Rejected: no event. Accepted: an event with the stored name and input.
    const before = (await service.getHistory(ref)).length;
    const u2 = service.updateWorkflow({ ...ref, updateId: 'u2', name: 'add', args: [-1], waitForStage: 'accepted' });
    await new Promise((resolve) => setImmediate(resolve));
    const u3 = service.updateWorkflow({ ...ref, updateId: 'u3', name: 'slow', args: ['s'], waitForStage: 'accepted', identity: 'me' });
    await new Promise((resolve) => setImmediate(resolve));
    const u10 = service.updateWorkflow({ ...ref, updateId: '10', name: 'add', args: [10], waitForStage: 'accepted' });
    await new Promise((resolve) => setImmediate(resolve));
    const u9 = service.updateWorkflow({ ...ref, updateId: '9', name: 'add', args: [9], waitForStage: 'accepted' });
    await new Promise((resolve) => setImmediate(resolve));
    const task3 = await poll();
    t.same(
      task3.updates?.map((u) => u.updateId),
      ['u2', 'u3', '10', '9'],
      'in arrival order, whatever the ids look like',
    );
    await service.completeWorkflowTask(task3.taskToken, [
      { type: 'rejectUpdate', updateId: 'u2', failure: { kind: 'application', message: 'no' } },
      { type: 'acceptUpdate', updateId: 'u3' },
      { type: 'rejectUpdate', updateId: '10', failure: { kind: 'application', message: 'no' } },
      { type: 'rejectUpdate', updateId: '9', failure: { kind: 'application', message: 'no' } },
    ]);
    await u10;
    await u9;
    t.same(await u2, { updateId: 'u2', workflowId: 'wf', runId, stage: 'completed', outcome: { status: 'failed', failure: { kind: 'application', message: 'no' } } });
    t.same(await u3, { updateId: 'u3', workflowId: 'wf', runId, stage: 'accepted' });
    const added = (await service.getHistory(ref)).slice(before);
    t.same(
      added.map((e) => e.type),
      ['workflowTaskScheduled', 'workflowTaskStarted', 'workflowTaskCompleted', 'workflowExecutionUpdateAccepted'],
    );
    t.match(added[3], { updateId: 'u3', name: 'slow', input: ['s'], identity: 'me' });

    // Delivered but not answered: it goes back and comes with the next task; so does one whose task failed.
    const u4 = service.updateWorkflow({ ...ref, updateId: 'u4', name: 'add', args: [4], waitForStage: 'accepted' });
    await new Promise((resolve) => setImmediate(resolve));
    const task4 = await poll();
    t.same(task4.updates?.map((u) => u.updateId), ['u4']);
    await service.completeWorkflowTask(task4.taskToken, []);
    const task5 = await poll();
    t.same(task5.updates?.map((u) => u.updateId), ['u4'], 'unanswered: delivered again');
    await service.failWorkflowTask(task5.taskToken, 'workflowError', { kind: 'application', message: 'bug' });
    clock.advance(60_000);
    await service.tick();
    const task6 = await poll();
    t.same(task6.updates?.map((u) => u.updateId), ['u4'], 'its task failed: delivered again');

    // Commands that name no such update, or one in the wrong stage, fail the task (badCommand).
    await t.rejects(service.completeWorkflowTask(task6.taskToken, [{ type: 'acceptUpdate', updateId: 'nope' }]), InvalidArgumentError);
    clock.advance(60_000);
    await service.tick();
    const task7 = await poll();
    await t.rejects(service.completeWorkflowTask(task7.taskToken, [{ type: 'completeUpdate', updateId: 'u4', result: 1 }]), /which is admitted, not accepted/);
    clock.advance(60_000);
    await service.tick();
    const task8 = await poll();
    await service.completeWorkflowTask(task8.taskToken, [{ type: 'acceptUpdate', updateId: 'u4' }]);
    t.same((await u4).stage, 'accepted');

    // Caps: at most 10 in flight (u3 and u4 are).
    const waiting = [];
    for (let i = 0; i < 8; i++) waiting.push(service.updateWorkflow({ ...ref, updateId: `cap${i}`, name: 'add', args: [i], waitForStage: 'completed' }).catch((e: unknown) => e));
    await new Promise((resolve) => setImmediate(resolve));
    await t.rejects(service.updateWorkflow({ ...ref, updateId: 'cap8', name: 'add', args: [], waitForStage: 'accepted' }), LimitExceededError);

    // An abort ends the wait, not the update.
    const ac = new AbortController();
    const aborted = service.pollWorkflowUpdate({ ...ref, updateId: 'u3' }, ac.signal);
    ac.abort(new Error('gave up'));
    await t.rejects(aborted, /gave up/);
    await t.rejects(service.pollWorkflowUpdate({ ...ref, updateId: 'missing' }), WorkflowUpdateNotFoundError);

    // The run closes: updates in flight end failed, with Temporal's wording.
    const u3Outcome = service.pollWorkflowUpdate({ ...ref, updateId: 'u3' });
    const task9 = await poll();
    t.equal(task9.updates?.length, 8);
    await service.completeWorkflowTask(task9.taskToken, [{ type: 'completeWorkflow' }]);
    t.same(await u3Outcome, {
      status: 'failed',
      failure: { kind: 'server', type: 'AcceptedUpdateCompletedWorkflow', message: 'Workflow Update failed because the Workflow completed before the Update completed.' },
    });
    for (const w of await Promise.all(waiting)) t.match(w, { stage: 'completed', outcome: { status: 'failed', failure: { message: 'workflow execution already completed' } } });
    await t.rejects(service.updateWorkflow({ ...ref, name: 'add', args: [], waitForStage: 'accepted' }), WorkflowNotFoundError, 'an update on a closed run');
    t.same(await service.pollWorkflowUpdate({ ...ref, updateId: 'u1' }), { status: 'completed', result: 'one' }, 'a closed run still answers for its updates');
    await t.rejects(service.updateWorkflow({ workflowId: 'nobody', name: 'add', args: [], waitForStage: 'accepted' }), WorkflowNotFoundError);

    // Update-with-start: one transaction starts the run and admits the update; the first task carries both.
    const uws = service.updateWithStartWorkflow({
      start: { workflowId: 'wf2', workflowType: 'w', taskQueue: 'q', args: [], workflowIdConflictPolicy: 'useExisting' },
      update: { updateId: 'w1', name: 'add', args: [7], waitForStage: 'accepted' },
    });
    await new Promise((resolve) => setImmediate(resolve));
    const first = await poll();
    t.same(first.updates, [{ updateId: 'w1', name: 'add', args: [7] }]);
    t.same((await service.getHistory({ workflowId: 'wf2' })).map((e) => e.type), ['workflowExecutionStarted', 'workflowTaskScheduled', 'workflowTaskStarted']);
    await service.completeWorkflowTask(first.taskToken, [{ type: 'acceptUpdate', updateId: 'w1' }]);
    const { start, update } = await uws;
    t.equal(start.started, true);
    t.equal(update.stage, 'accepted');
    const again = await service.updateWithStartWorkflow({
      start: { workflowId: 'wf2', workflowType: 'w', taskQueue: 'q', args: [], workflowIdConflictPolicy: 'useExisting' },
      update: { updateId: 'w1', name: 'add', args: [7], waitForStage: 'accepted' },
    });
    t.same(again.start, { runId: start.runId, started: false }, 'USE_EXISTING: the running run');
  });
}
