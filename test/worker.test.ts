// End to end on the in-memory service: worker, sandbox, replay, engine and client together.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionFailedError } from '../lib/client';
import { ApplicationFailure, ActivityFailure } from '../runtime/failure';
import type { HistoryEvent } from '../lib/history/events';
import { Worker } from '../lib/worker';
import { startEnv, testBundle, type TestEnv } from './support/env';
import { Connection } from '../lib/client';

let env: TestEnv;
t.before(async () => {
  env = await startEnv({ activationTimeoutMs: 1000, memoryLimitMb: 16, isolatePoolSize: 2 });
});
t.teardown(() => env.close());

const id = (prefix: string) => `${prefix}-${randomUUID()}`;
const types = (events: HistoryEvent[]) => events.map((e) => e.type);

/** Resolves once `predicate` holds for the run's history (the engine wakes us; no sleeps asserted). */
async function historyUntil(workflowId: string, predicate: (events: HistoryEvent[]) => boolean): Promise<HistoryEvent[]> {
  for (let i = 0; i < 500; i++) {
    const events = (await env.client.getHandle(workflowId).fetchHistory()).events;
    if (predicate(events)) return events;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`history of ${workflowId} never reached the expected state`);
}

t.test('activities run and the result comes back; later tasks are incremental', async (t) => {
  const before = env.worker.stats();
  const handle = await env.client.start('orderWorkflow', { taskQueue: env.taskQueue, workflowId: id('order'), args: ['ann', 3] });
  t.equal(await handle.result(), 'Hello, ann! | charged ann 3.00 | Hello, ann (again)!');
  const after = env.worker.stats();
  t.equal(after.cacheMisses - before.cacheMisses, 1, 'only the first task builds the execution');
  t.equal(after.cacheHits - before.cacheHits, 3, 'the three later tasks are incremental activations');
  const history = await handle.fetchHistory();
  t.equal(history.events[history.events.length - 1].type, 'workflowExecutionCompleted');
});

t.test('seed-era client API: createWorkflowHandle, start, execute', async (t) => {
  const handle = env.client.createWorkflowHandle('orderWorkflow', { taskQueue: env.taskQueue });
  const runId = await handle.start('bo', 1);
  t.type(runId, 'string');
  t.match(await handle.result(), /^Hello, bo!/);
  const again = env.client.createWorkflowHandle('timersWorkflow', { taskQueue: env.taskQueue, workflowId: id('timers') });
  t.ok(((await again.execute()) as number) >= 60, 'three durable timers: at least 20 + 30 + 10 ms of workflow time passed');
});

t.test('signals and queries', async (t) => {
  const handle = await env.client.start('cartWorkflow', { taskQueue: env.taskQueue, workflowId: id('cart'), args: [] });
  await handle.signal('addItem', 'apple');
  await handle.signal('addItem', 'pear');
  await historyUntil(handle.workflowId, (events) => events.filter((e) => e.type === 'workflowTaskCompleted').length >= 2 && events[events.length - 1].type === 'workflowTaskCompleted');
  t.same(await handle.query('items'), ['apple', 'pear']);
  await handle.signal('checkout');
  t.same(await handle.result(), ['apple', 'pear']);
  t.same(await handle.query('items'), ['apple', 'pear'], 'a closed workflow is queried by replay');
  await t.rejects(handle.query('nope'), /no query handler for "nope"/);
});

t.test('condition with a timeout, both ways', async (t) => {
  const approved = await env.client.start('approvalWorkflow', { taskQueue: env.taskQueue, workflowId: id('approval'), args: [60_000] });
  await approved.signal('approve');
  t.equal(await approved.result(), 'approved');
  t.ok(types((await approved.fetchHistory()).events).includes('timerCanceled'), 'the timer was cancelled');
  const late = await env.client.start('approvalWorkflow', { taskQueue: env.taskQueue, workflowId: id('approval'), args: [10] });
  t.equal(await late.result(), 'timed out');
});

t.test('a workflow failure reaches the client with its cause chain', async (t) => {
  const handle = await env.client.start('failingWorkflow', { taskQueue: env.taskQueue, workflowId: id('failing'), args: [] });
  const error = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(error instanceof WorkflowExecutionFailedError, `got ${String(error)}`);
  const cause = (error as Error).cause;
  t.ok(cause instanceof ApplicationFailure);
  t.match(cause, { type: 'PaymentError', message: 'payment failed: Activity task failed', nonRetryable: true });
  const activity = (cause as Error).cause;
  t.ok(activity instanceof ActivityFailure, 'its cause is the activity failure');
  t.match((activity as Error).cause, { message: 'card declined', type: 'CardError' });
});

t.test('bugs fail the workflow task, not the workflow; the worker survives', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['buggyWorkflow', 'workflowError', /oops/],
    ['weakRefWorkflow', 'nondeterminism', /WeakRef cannot be used/],
    ['infiniteLoopWorkflow', 'deadlineExceeded', /workflow .* \(infiniteLoopWorkflow\) ran past its 1000 ms CPU deadline/],
    ['memoryBombWorkflow', 'outOfMemory', /exceeded the isolate memory limit/],
    ['unhandledRejectionWorkflow', 'unhandledRejection', /left a promise rejection unhandled: Error: forgotten/],
  ];
  for (const [workflowType, cause, message] of cases) {
    const workflowId = id(workflowType);
    await env.client.start(workflowType, { taskQueue: env.taskQueue, workflowId, args: [] });
    const events = await historyUntil(workflowId, (es) => es.some((e) => e.type === 'workflowTaskFailed'));
    const failed = events.find((e) => e.type === 'workflowTaskFailed');
    t.match(failed, { cause, failure: { message } }, `${workflowType}: the task failed with cause ${cause}`);
    t.notOk(types(events).some((e) => e === 'workflowExecutionFailed' || e === 'workflowExecutionCompleted'), `${workflowType} is still running`);
    t.equal((await env.client.getHandle(workflowId).describe()).status.name, 'RUNNING');
  }
  t.equal(env.worker.state, 'running');
  const handle = await env.client.start('orderWorkflow', { taskQueue: env.taskQueue, workflowId: id('after'), args: ['cy', 2] });
  t.match(await handle.result(), /^Hello, cy!/, 'the worker still runs workflows afterwards');
});

t.test('a cache of one: every task rebuilds by replay and results are unchanged', async (t) => {
  const connection = new Connection({ backend: `memory:${id('tiny')}` });
  const worker = await Worker.create({ connection, taskQueue: 'tiny', workflowBundle: await testBundle(), activities: await import('./workflows/activities'), maxCachedWorkflows: 1, logger: () => undefined });
  const client = new (await import('../lib/client')).WorkflowClient(connection.service);
  const results = await worker.runUntil(async () => {
    const handles = await Promise.all(['a', 'b', 'c'].map((who) => client.start('orderWorkflow', { taskQueue: 'tiny', workflowId: id(who), args: [who, 1] })));
    return Promise.all(handles.map((h) => h.result()));
  });
  t.same(results.map((r) => (r as string).split(' | ')[0]), ['Hello, a!', 'Hello, b!', 'Hello, c!']);
  t.ok(worker.stats().cacheMisses >= 3);
  t.ok(worker.stats().cachedExecutions <= 1);
  t.equal(worker.stats().workflowTaskFailures, 0, 'eviction under load never fails a task');
  t.equal(worker.state, 'stopped');
  await connection.close();
});

/**
 * An `echo` activity that holds every call until the test lets it go, counting the calls running at
 * once (and the most ever), so a concurrency limit shows as counts, never as time.
 */
function heldEcho() {
  const held: (() => void)[] = [];
  const counts = { running: 0, peak: 0, started: 0 };
  let startedWaiter: { n: number; resolve: () => void } | undefined;
  const echo = async (value: string): Promise<string> => {
    counts.running++;
    counts.started++;
    counts.peak = Math.max(counts.peak, counts.running);
    if (startedWaiter && counts.started >= startedWaiter.n) startedWaiter.resolve();
    await new Promise<void>((resolve) => held.push(resolve));
    counts.running--;
    return value;
  };
  /** Resolves once `n` calls have started. */
  const started = (n: number) => (counts.started >= n ? Promise.resolve() : new Promise<void>((resolve) => (startedWaiter = { n, resolve })));
  /** Lets the event loop turn (and the worker poll) many times: what the worker could start, it would have. */
  const settle = async (client: WorkflowClientLike, workflowId: string) => {
    for (let i = 0; i < 20; i++) {
      for (let j = 0; j < 20; j++) await new Promise((resolve) => setImmediate(resolve));
      await client.getHandle(workflowId).describe();
    }
  };
  return { echo, counts, started, settle, release: () => held.shift()?.() };
}
type WorkflowClientLike = { getHandle(workflowId: string): { describe(): Promise<unknown> } };

for (const [what, kind, option, limit] of [
  ['workflow tasks (local activities run inside them)', 'local', 'maxConcurrentWorkflowTaskExecutions', 3],
  ['activities', 'activity', 'maxConcurrentActivityTaskExecutions', 2],
] as const) {
  t.test(`${option} limits the ${what} running at once`, async (t) => {
    const gate = heldEcho();
    const connection = new Connection({ backend: `memory:${id('limit')}` });
    t.teardown(() => connection.close());
    const worker = await Worker.create({ connection, taskQueue: 'limit', workflowBundle: await testBundle(), activities: { echo: gate.echo }, [option]: limit, logger: () => undefined });
    const client = new (await import('../lib/client')).WorkflowClient(connection.service);
    const total = limit * 2;
    const results = await worker.runUntil(async () => {
      const handles = await Promise.all(
        Array.from({ length: total }, (_, i) => client.start('scriptedWorkflow', { taskQueue: 'limit', workflowId: id(`limit-${i}`), args: [[{ kind, arg: `v${i}` }]] })),
      );
      // All of them are waiting; exactly `limit` get to run, and no more while those are held.
      await gate.started(limit);
      await gate.settle(client, handles[0].workflowId);
      t.equal(gate.counts.running, limit, `${limit} running, the others wait`);
      t.equal(gate.counts.started, limit, 'none started past the limit');
      // Each one let go makes room for one more.
      for (let n = limit + 1; n <= total; n++) {
        gate.release();
        await gate.started(n);
        await gate.settle(client, handles[0].workflowId);
        t.equal(gate.counts.started, n, `one more started (${n})`);
      }
      for (let i = 0; i < total; i++) gate.release();
      return Promise.all(handles.map((h) => h.result()));
    });
    t.equal(results.length, total, 'every workflow completed');
    t.equal(gate.counts.peak, limit, `at most ${limit} at once, and ${limit} reached`);
    t.equal(worker.stats().workflowTaskFailures, 0);
  });
}

t.test('worker options are validated', async (t) => {
  await t.rejects(Worker.create({} as never), /taskQueue must be a non-empty string/);
  await t.rejects(Worker.create({ taskQueue: 'q', workflowsPath: 'x', workflowBundle: await testBundle() }), /not both/);
  await t.rejects(Worker.create({ taskQueue: 'q', activitiez: {} } as never), /unknown option "activitiez"/);
  await t.rejects(Worker.create({ taskQueue: 'q', activities: { a: 1 } as never }), /activity "a" must be a function/);
  await t.rejects(Worker.create({ taskQueue: 'q', workflowBundle: await testBundle(), maxCachedWorkflows: 0 }), /Worker.create: maxCachedWorkflows must be an integer from 1 to 1000000, got number 0/);
  await t.rejects(Worker.create({ taskQueue: 'q', workflowBundle: await testBundle(), maxConcurrentWorkflowTaskExecutions: 0 }), /Worker.create: maxConcurrentWorkflowTaskExecutions must be an integer from 1 to 1000000, got number 0/);
  await t.rejects(Worker.create({ taskQueue: 'q', workflowBundle: await testBundle(), maxConcurrentWorkflowTaskExecutions: 2.5 }), /maxConcurrentWorkflowTaskExecutions must be an integer/);
  await t.rejects(Worker.create({ taskQueue: 'q', workflowBundle: await testBundle(), maxConcurrentActivityTaskExecutions: '10' as never }), /Worker.create: maxConcurrentActivityTaskExecutions must be an integer from 1 to 100000, got the string "10"/);
  await t.rejects(Worker.create({ taskQueue: 'q', workflowBundle: await testBundle(), preparedContexts: -1 }), /preparedContexts must be an integer from 0 to 64, got number -1/);
});

t.test('an activity that is not registered fails without retries, naming the registered ones', async (t) => {
  const connection = new Connection({ backend: `memory:${id('unregistered')}` });
  const worker = await Worker.create({ connection, taskQueue: 'u', workflowBundle: await testBundle(), activities: { greet: async () => 'hi' }, logger: () => undefined });
  const client = new (await import('../lib/client')).WorkflowClient(connection.service);
  const error = await worker.runUntil(() =>
    client.start('failingWorkflow', { taskQueue: 'u', workflowId: id('u'), args: [] }).then((h) => h.result().then(() => undefined, (e: unknown) => e)),
  );
  t.match((error as Error)?.cause, { type: 'PaymentError' });
  t.match(((error as Error).cause as Error).cause, { cause: { type: 'NotFoundError', message: /activity type "fail" is not registered.*registered: greet/ } });
  await connection.close();
});

t.test('workflow log lines are printed once, not again when the execution is replayed', async (t) => {
  const connection = new Connection({ backend: `memory:${id('logs')}` });
  const lines: string[] = [];
  const worker = await Worker.create({
    connection,
    taskQueue: 'logs',
    workflowBundle: await testBundle(),
    maxCachedWorkflows: 1, // two workflows alternate, so every task replays from scratch
    logger: (line) => void lines.push(`${line.level} ${line.message}`),
  });
  const client = new (await import('../lib/client')).WorkflowClient(connection.service);
  await worker.runUntil(async () => {
    const handles = await Promise.all(['a', 'b'].map((n) => client.start('loggingWorkflow', { taskQueue: 'logs', workflowId: id(n), args: [n] })));
    await Promise.all(handles.map((h) => h.result()));
  });
  t.same(lines.sort(), ['info a: after', 'info a: before', 'info b: after', 'info b: before']);
  t.ok(worker.stats().cacheMisses >= 3, 'executions were rebuilt by replay meanwhile');
  await connection.close();
});

t.test('an activity result that is not JSON fails the activity without retries', async (t) => {
  const handle = await env.client.start('badResultWorkflow', { taskQueue: env.taskQueue, workflowId: id('bad-result'), args: [] });
  t.match(await handle.result(), /activity bigint returned a value that deja cannot record: the value cannot be serialized \(Do not know how to serialize a BigInt\)/);
  const failed = (await handle.fetchHistory()).events.find((e) => e.type === 'activityTaskFailed');
  t.match(failed, { retryState: 'nonRetryableFailure', failure: { type: 'PayloadError' } });
});

t.test('a query before the first workflow task completed waits for it, then answers (consistent queries)', async (t) => {
  const connection = new Connection({ backend: `memory:${id('early-query')}` });
  const client = new (await import('../lib/client')).WorkflowClient(connection.service);
  const handle = await client.start('cartWorkflow', { taskQueue: 'early', workflowId: id('early'), args: [] });
  await handle.signal('addItem', 'apple');
  const answer = handle.query('items');
  // The worker starts after the query was filed: the first workflow task (which sets the query
  // handler and sees the signal) is handed out first, and the query after it.
  await new Promise((r) => setImmediate(r));
  const worker = await Worker.create({ connection, taskQueue: 'early', workflowBundle: await testBundle(), logger: () => undefined });
  t.same(await worker.runUntil(answer), ['apple']);
  await connection.close();
});

t.test('a failing activity is retried by its policy; only the final attempt is in history', async (t) => {
  const handle = await env.client.start('retryWorkflow', { taskQueue: env.taskQueue, workflowId: id('retry'), args: [] });
  t.equal(await handle.result(), 'finally');
  const events = (await handle.fetchHistory()).events;
  t.match(events.find((e) => e.type === 'activityTaskStarted'), { attempt: 3 });
  t.equal(events.filter((e) => e.type === 'activityTaskStarted').length, 1);
});

t.test('a service closed under a running worker: its polls answer empty at once, and the worker does not spin', async (t) => {
  const { MemoryStore } = await import('../lib/backends/memory');
  const { LocalWorkflowService } = await import('../lib/engine');
  const service = new LocalWorkflowService({ store: new MemoryStore() });
  let polls = 0;
  const counting = Object.create(service) as typeof service;
  counting.pollWorkflowTask = (...args) => {
    polls++;
    return service.pollWorkflowTask(...args);
  };
  counting.pollActivityTask = (...args) => {
    polls++;
    return service.pollActivityTask(...args);
  };
  const worker = await Worker.create({ connection: { service: counting }, taskQueue: 'closed-under', workflowBundle: await testBundle(), logger: () => undefined });
  const running = worker.run();
  await service.close();
  const before = polls;
  // Twenty turns of the event loop: a worker polling in a tight loop would starve them (this test
  // would never get here), or poll thousands of times in between.
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  t.ok(polls - before < 50, `at most a few polls while the loop turned 20 times (got ${polls - before})`);
  worker.shutdown();
  await running.catch(() => undefined);
  t.pass('the worker shuts down');
});
