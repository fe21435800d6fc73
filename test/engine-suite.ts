// The engine's behaviour, for every Store backend (host side): `engineSuite(t, makeStore)` runs it
// through LocalWorkflowService over a fresh store from `makeStore` per subtest, driven by a
// scripted fake worker: poll a task, read history, complete it with hand-written commands. Time is
// a manual clock moved by the test (then `tick()`), except where the background loop itself is
// under test. Every history read is also validated by parseHistory (via makeHistory).
// test/engine.test.ts runs it on the memory store; SQLite and PostgreSQL run it unchanged.
import type { Store, TransactionOptions } from '../lib/backends/store';
import { LocalWorkflowService, systemClock, type Clock } from '../lib/engine';
import { makeHistory } from '../lib/history';
import type { EventType, HistoryEvent } from '../lib/history';
import type { ActivityTask, QueryTask, StartWorkflowRequest, WorkflowService, WorkflowTask } from '../lib/service';
import type { Command, RetryPolicy, WireFailure } from '../runtime/protocol';
import { cmd, failure, ManualClock, pollNow, pollWait, T0 } from './support/service';
import { spyStore, type StoreCall } from './support/store-spy';

/** Transactions running on the stores setup() made: flush waits for them. */
let inFlight = 0;

/**
 * A settled tick: let pending work (a query being filed) run first. A tick is enough for a store
 * that answers synchronously (memory, SQLite); one over a network (PostgreSQL) needs its
 * transactions to finish, so wait until none is running.
 */
const flush = async () => {
  do await new Promise((resolve) => setImmediate(resolve));
  while (inFlight > 0);
};

/** The store, with its running transactions counted for flush. */
function counted(store: Store): Store {
  return {
    transaction: async (fn, options) => {
      inFlight++;
      try {
        return await store.transaction(fn, options);
      } finally {
        inFlight--;
      }
    },
    ...(store.changes ? { changes: store.changes } : {}),
    close: () => store.close(),
  };
}

async function setup(t: tap.Test, makeStore: () => Promise<Store>, options: { clock?: Clock; queryTimeoutMs?: number } = {}) {
  const clock = options.clock ?? new ManualClock();
  const service = new LocalWorkflowService({ store: counted(await makeStore()), clock, queryTimeoutMs: options.queryTimeoutMs });
  t.teardown(() => service.close());
  let ids = 0;
  const h = {
    service: service as LocalWorkflowService & WorkflowService,
    clock: clock as ManualClock,
    async start(over: Partial<StartWorkflowRequest> = {}): Promise<{ workflowId: string; runId: string }> {
      const workflowId = over.workflowId ?? `wf-${++ids}`;
      const { runId } = await service.startWorkflow({ workflowId, workflowType: 'greet', taskQueue: 'q', args: ['Ada'], ...over });
      return { workflowId, runId };
    },
    pollWorkflow: (queue = 'q') => pollNow((s) => service.pollWorkflowTask(queue, 'fake-worker', s)),
    /** The next workflow task, which must be there. */
    async workflowTask(queue = 'q'): Promise<WorkflowTask> {
      const task = await h.pollWorkflow(queue);
      if (task?.kind !== 'workflow') throw new Error(`expected a workflow task, got ${JSON.stringify(task)}`);
      return task;
    },
    /** Polls the next workflow task and completes it with these commands. */
    async runTask(commands: Command[], queue = 'q'): Promise<WorkflowTask> {
      const task = await h.workflowTask(queue);
      await service.completeWorkflowTask(task.taskToken, commands);
      return task;
    },
    pollActivity: (queue = 'q') => pollNow((s) => service.pollActivityTask(queue, 'fake-worker', s)),
    async activityTask(queue = 'q'): Promise<ActivityTask> {
      const task = await h.pollActivity(queue);
      if (!task) throw new Error('expected an activity task');
      return task;
    },
    async history(run: { workflowId: string; runId: string }): Promise<HistoryEvent[]> {
      const events = await service.getHistory(run);
      makeHistory(run.workflowId, run.runId, events); // throws if the engine wrote an invalid history
      return events;
    },
    async types(run: { workflowId: string; runId: string }): Promise<EventType[]> {
      return (await h.history(run)).map((e) => e.type);
    },
    async event<T extends EventType>(run: { workflowId: string; runId: string }, type: T, nth = 0): Promise<Extract<HistoryEvent, { type: T }>> {
      const found = (await h.history(run)).filter((e) => e.type === type)[nth];
      if (!found) throw new Error(`no ${type} #${nth} in history`);
      return found as Extract<HistoryEvent, { type: T }>;
    },
  };
  return h;
}

const START: EventType[] = ['workflowExecutionStarted', 'workflowTaskScheduled'];
const TASK: EventType[] = ['workflowTaskScheduled', 'workflowTaskStarted', 'workflowTaskCompleted'];
const FIRST_TASK: EventType[] = ['workflowExecutionStarted', ...TASK];

// ---- the suite ----

export function engineSuite(t: tap.Test, makeStore: () => Promise<Store>): void {

  t.test('start: started + scheduled events, copied input, description', async (t) => {
    const h = await setup(t, makeStore);
    const input = [{ name: 'Ada', tags: ['x'] }, undefined];
    const run = await h.start({ args: input });
    input[0]!.tags.push('mutated');
    t.same(await h.types(run), START);
    const started = await h.event(run, 'workflowExecutionStarted');
    t.match(started, {
      eventId: 1,
      eventTime: new Date(T0).toISOString(),
      workflowType: 'greet',
      workflowId: run.workflowId,
      runId: run.runId,
      firstExecutionRunId: run.runId,
      taskQueue: 'q',
      attempt: 1,
      workflowTaskTimeoutMs: 10_000,
      randomnessSeed: /^[0-9a-f]{32}$/,
    });
    t.same(started.input, [{ name: 'Ada', tags: ['x'] }, null], 'input is a copy; undefined in args becomes null');
    t.match(await h.event(run, 'workflowTaskScheduled'), { eventId: 2, taskQueue: 'q', attempt: 1 });
    t.same(await h.service.describeWorkflow(run), {
      workflowId: run.workflowId,
      runId: run.runId,
      workflowType: 'greet',
      taskQueue: 'q',
      status: 'running',
      startTime: new Date(T0).toISOString(),
      historyLength: 2,
      historySizeBytes: (await h.history(run)).reduce((sum, e) => sum + Buffer.byteLength(JSON.stringify(e)), 0),
    });
    const task = await h.workflowTask();
    t.match(task, { kind: 'workflow', workflowId: run.workflowId, runId: run.runId, workflowType: 'greet', startedEventId: 3, attempt: 1 });
    t.equal(await h.pollWorkflow(), null, 'one workflow task per run at a time');
  });

  t.test('activity success: scheduled, then started + completed, then a workflow task', async (t) => {
    const h = await setup(t, makeStore);
    const run = await h.start();
    await h.runTask([cmd.activity(1, { activityType: 'charge', args: [{ amount: 5 }], heartbeatTimeoutMs: 1000 })]);
    const task = await h.activityTask();
    t.match(task, {
      workflowId: run.workflowId,
      runId: run.runId,
      workflowType: 'greet',
      activityId: '1',
      activityType: 'charge',
      args: [{ amount: 5 }],
      attempt: 1,
      deadline: T0 + 5000,
      heartbeatTimeoutMs: 1000,
    });
    t.equal(await h.pollActivity(), null, 'a claimed activity is not handed out twice');
    h.clock.advance(7);
    await h.service.completeActivityTask(task.taskToken, { charged: true });
    await h.runTask([cmd.complete('done')]);
    t.same(await h.types(run), [
      ...FIRST_TASK,
      'activityTaskScheduled',
      'activityTaskStarted',
      'activityTaskCompleted',
      ...TASK,
      'workflowExecutionCompleted',
    ]);
    t.match(await h.event(run, 'activityTaskScheduled'), {
      eventId: 5,
      activityId: '1',
      activityType: 'charge',
      taskQueue: 'q',
      input: [{ amount: 5 }],
      startToCloseTimeoutMs: 5000,
      heartbeatTimeoutMs: 1000,
      workflowTaskCompletedEventId: 4,
    });
    t.match(await h.event(run, 'activityTaskStarted'), { eventId: 6, scheduledEventId: 5, attempt: 1, identity: 'fake-worker' });
    t.match(await h.event(run, 'activityTaskCompleted'), { eventId: 7, scheduledEventId: 5, startedEventId: 6, result: { charged: true }, eventTime: new Date(T0 + 7).toISOString() });
    t.same(await h.service.getWorkflowOutcome(run), { status: 'completed', runId: run.runId, result: 'done' });
    t.same((await h.service.getHistory(run, 9)).map((e) => e.eventId), [10, 11], 'getHistory after an event id');
  });

  t.test('activity on another task queue', async (t) => {
    const h = await setup(t, makeStore);
    await h.start();
    await h.runTask([cmd.activity(1, { taskQueue: 'gpu' })]);
    t.equal(await h.pollActivity('q'), null);
    t.match(await h.activityTask('gpu'), { activityId: '1' });
  });

  t.test('activity retries with backoff, keeps heartbeat details, and only the final attempt is written', async (t) => {
    const h = await setup(t, makeStore);
    const run = await h.start();
    await h.runTask([cmd.activity(1, { retryPolicy: { initialIntervalMs: 100, backoffCoefficient: 3 } })]);
    const first = await h.activityTask();
    t.same(await h.service.heartbeatActivityTask(first.taskToken, { progress: 1 }), { cancelRequested: false });
    await h.service.failActivityTask(first.taskToken, failure('flaky'));
    t.equal(await h.pollActivity(), null, 'the retry waits out its backoff');
    h.clock.advance(99);
    t.equal(await h.pollActivity(), null);
    h.clock.advance(1);
    const second = await h.activityTask();
    t.match(second, { attempt: 2, heartbeatDetails: { progress: 1 } }, 'attempt 2 after 100 ms gets the last heartbeat details');
    await t.rejects(h.service.completeActivityTask(first.taskToken, 'late'), { code: 'DEJA_STALE_TASK' }, 'the failed attempt’s token is stale');
    await h.service.failActivityTask(second.taskToken, failure('flaky again'));
    h.clock.advance(299);
    t.equal(await h.pollActivity(), null, 'backoff × 3');
    h.clock.advance(1);
    const third = await h.activityTask();
    t.equal(third.attempt, 3);
    await h.service.completeActivityTask(third.taskToken, 'ok');
    t.same(await h.types(run), [...FIRST_TASK, 'activityTaskScheduled', 'activityTaskStarted', 'activityTaskCompleted', 'workflowTaskScheduled']);
    t.match(await h.event(run, 'activityTaskStarted'), { attempt: 3 });
  });

  t.test('activity failures that are not retried', async (t) => {
    const h = await setup(t, makeStore);
    const cases: { name: string; retryPolicy?: RetryPolicy; scheduleToCloseTimeoutMs?: number; failures: WireFailure[]; retryState: string }[] = [
      { name: 'nonRetryable flag', failures: [failure('fatal', { nonRetryable: true })], retryState: 'nonRetryableFailure' },
      {
        name: 'type in nonRetryableErrorTypes',
        retryPolicy: { nonRetryableErrorTypes: ['Fatal'] },
        failures: [failure('fatal', { type: 'Fatal' })],
        retryState: 'nonRetryableFailure',
      },
      {
        name: 'maximum attempts',
        retryPolicy: { maximumAttempts: 2, initialIntervalMs: 10 },
        failures: [failure('one'), failure('two')],
        retryState: 'maximumAttemptsReached',
      },
      {
        name: 'next attempt past schedule-to-close',
        retryPolicy: { initialIntervalMs: 1000 },
        scheduleToCloseTimeoutMs: 500,
        failures: [failure('slow')],
        retryState: 'timeout',
      },
    ];
    for (const c of cases) {
      const run = await h.start();
      await h.runTask([cmd.activity(1, { retryPolicy: c.retryPolicy, scheduleToCloseTimeoutMs: c.scheduleToCloseTimeoutMs })]);
      for (const f of c.failures) {
        await h.service.failActivityTask((await h.activityTask()).taskToken, f);
        h.clock.advance(10);
      }
      t.same(
        await h.types(run),
        [...FIRST_TASK, 'activityTaskScheduled', 'activityTaskStarted', 'activityTaskFailed', 'workflowTaskScheduled'],
        `${c.name}: failed at once`,
      );
      t.match(await h.event(run, 'activityTaskStarted'), { attempt: c.failures.length }, `${c.name}: the last attempt`);
      t.match(
        await h.event(run, 'activityTaskFailed'),
        { scheduledEventId: 5, startedEventId: 6, failure: c.failures[c.failures.length - 1], retryState: c.retryState },
        `${c.name}: retryState ${c.retryState}`,
      );
      await h.runTask([cmd.complete()]);
    }
  });

  t.test('activity timeouts: start-to-close retried then final, heartbeat, schedule-to-close', async (t) => {
    const h = await setup(t, makeStore);

    const stc = await h.start();
    await h.runTask([cmd.activity(1, { startToCloseTimeoutMs: 1000, retryPolicy: { maximumAttempts: 2, initialIntervalMs: 10 } })]);
    const first = await h.activityTask();
    h.clock.advance(999);
    await h.service.tick();
    t.same(await h.service.heartbeatActivityTask(first.taskToken), { cancelRequested: false }, 'still within start-to-close');
    h.clock.advance(1);
    await h.service.tick();
    t.same(await h.service.heartbeatActivityTask(first.taskToken), { cancelRequested: true }, 'a heartbeat on a lost lease says cancel');
    await t.rejects(h.service.completeActivityTask(first.taskToken, 'late'), { code: 'DEJA_STALE_TASK' }, 'a timed-out attempt cannot complete');
    h.clock.advance(10);
    const second = await h.activityTask();
    t.equal(second.attempt, 2, 'the timeout was retried');
    h.clock.advance(1000);
    await h.service.tick();
    t.same(await h.types(stc), [...FIRST_TASK, 'activityTaskScheduled', 'activityTaskStarted', 'activityTaskTimedOut', 'workflowTaskScheduled']);
    t.match(await h.event(stc, 'activityTaskTimedOut'), {
      scheduledEventId: 5,
      startedEventId: 6,
      failure: { kind: 'timeout', timeoutType: 'startToClose' },
      retryState: 'maximumAttemptsReached',
    });
    await h.runTask([cmd.complete()]);

    const hb = await h.start();
    await h.runTask([cmd.activity(1, { startToCloseTimeoutMs: 10_000, heartbeatTimeoutMs: 100, retryPolicy: { maximumAttempts: 1 } })]);
    const beating = await h.activityTask();
    h.clock.advance(50);
    await h.service.heartbeatActivityTask(beating.taskToken, 'halfway');
    h.clock.advance(99);
    await h.service.tick();
    t.same(await h.types(hb), [...FIRST_TASK, 'activityTaskScheduled'], 'a heartbeat renewed the lease');
    h.clock.advance(1);
    await h.service.tick();
    t.match(await h.event(hb, 'activityTaskTimedOut'), { failure: { kind: 'timeout', timeoutType: 'heartbeat' }, retryState: 'maximumAttemptsReached' });
    await h.runTask([cmd.complete()]);

    const s2c = await h.start();
    await h.runTask([cmd.activity(1, { startToCloseTimeoutMs: undefined, scheduleToCloseTimeoutMs: 500 })]);
    h.clock.advance(500);
    await h.service.tick();
    t.same(
      await h.types(s2c),
      [...FIRST_TASK, 'activityTaskScheduled', 'activityTaskTimedOut', 'workflowTaskScheduled'],
      'never started: no activityTaskStarted',
    );
    const timedOut = await h.event(s2c, 'activityTaskTimedOut');
    t.match(timedOut, { failure: { kind: 'timeout', timeoutType: 'scheduleToClose' }, retryState: 'timeout' });
    t.equal(timedOut.startedEventId, undefined);
    t.equal(await h.pollActivity(), null, 'the activity task is gone');
  });

  t.test('timers: fire after their duration, or are cancelled', async (t) => {
    const h = await setup(t, makeStore);
    const run = await h.start();
    await h.runTask([cmd.timer(1, 1000), cmd.timer(2, 2000)]);
    t.match(await h.event(run, 'timerStarted'), { eventId: 5, timerId: '1', startToFireTimeoutMs: 1000, workflowTaskCompletedEventId: 4 });
    h.clock.advance(999);
    await h.service.tick();
    t.equal(await h.pollWorkflow(), null, 'not yet');
    h.clock.advance(1);
    await h.service.tick();
    t.match(await h.event(run, 'timerFired'), { eventId: 7, timerId: '1', startedEventId: 5 });
    await h.runTask([cmd.cancelTimer(2)]);
    h.clock.advance(5000);
    await h.service.tick();
    t.same(await h.types(run), [...FIRST_TASK, 'timerStarted', 'timerStarted', 'timerFired', ...TASK, 'timerCanceled']);
    t.match(await h.event(run, 'timerCanceled'), { timerId: '2', startedEventId: 6, workflowTaskCompletedEventId: 10 });
  });

  t.test('timers: cancelling a timer that fired while the task ran is accepted and writes nothing', async (t) => {
    const h = await setup(t, makeStore);
    const run = await h.start();
    await h.runTask([cmd.timer(1, 100)]);
    await h.service.signalWorkflow({ ...run, signalName: 'wake', args: [] });
    const task = await h.workflowTask();
    h.clock.advance(100);
    await h.service.tick();
    await h.service.completeWorkflowTask(task.taskToken, [cmd.cancelTimer(1)]);
    t.same(await h.types(run), [
      ...FIRST_TASK,
      'timerStarted',
      'workflowExecutionSignaled',
      'workflowTaskScheduled',
      'workflowTaskStarted',
      'timerFired',
      'workflowTaskCompleted',
      'workflowTaskScheduled',
    ]);
    const next = await h.workflowTask();
    await t.rejects(h.service.completeWorkflowTask(next.taskToken, [cmd.cancelTimer(1)]), { message: /seq 1 names no open timer/ }, 'a timer that fired before the task started is unknown');
  });

  t.test('the background loop fires timers and wakes pollers on its own (real clock)', async (t) => {
    const h = await setup(t, makeStore, { clock: systemClock });
    const run = await h.start();
    await h.runTask([cmd.timer(1, 5)]);
    const next = await pollWait((s) => h.service.pollWorkflowTask('q', 'w', s));
    t.equal(next?.kind, 'workflow', 'the fired timer scheduled a workflow task and woke the poller');
    await h.service.completeWorkflowTask(next!.taskToken, [cmd.activity(2, { retryPolicy: { initialIntervalMs: 5 } })]);
    t.ok((await h.types(run)).includes('timerFired'));
    await h.service.failActivityTask((await h.activityTask()).taskToken, failure('retry me'));
    const retried = await pollWait((s) => h.service.pollActivityTask('q', 'w', s));
    t.equal(retried?.attempt, 2, 'the delayed retry became claimable and the waiting poller got it');
  });

  t.test('signals: appended at once; one arriving mid-task schedules another task', async (t) => {
    const h = await setup(t, makeStore);
    const run = await h.start();
    await h.service.signalWorkflow({ ...run, signalName: 'early', args: [0] });
    t.same(await h.types(run), [...START, 'workflowExecutionSignaled'], 'a scheduled task will see it: no second task');
    const task = await h.workflowTask();
    await h.service.signalWorkflow({ workflowId: run.workflowId, signalName: 'go', args: [{ n: 1 }], identity: 'client-1' });
    t.same(await h.types(run), [...START, 'workflowExecutionSignaled', 'workflowTaskStarted', 'workflowExecutionSignaled'], 'appended between started and completed');
    t.match(await h.event(run, 'workflowExecutionSignaled', 1), { signalName: 'go', input: [{ n: 1 }], identity: 'client-1' });
    await h.service.completeWorkflowTask(task.taskToken, []);
    t.same((await h.types(run)).slice(-2), ['workflowTaskCompleted', 'workflowTaskScheduled'], 'a task follows, for the signal');
    await h.runTask([]);
    t.equal(await h.pollWorkflow(), null, 'no task without new events');
    await h.service.signalWorkflow({ ...run, signalName: 'idle', args: [] });
    t.same((await h.types(run)).slice(-2), ['workflowExecutionSignaled', 'workflowTaskScheduled'], 'an idle run gets a task');
    await h.runTask([cmd.complete()]);
    await t.rejects(h.service.signalWorkflow({ ...run, signalName: 'late', args: [] }), {
      code: 'DEJA_NOT_FOUND',
      message: /already closed/,
    });
  });

  t.test('a task that closes the run while a signal arrived is refused, and the signal is delivered', async (t) => {
    const h = await setup(t, makeStore);
    const run = await h.start();
    const task = await h.workflowTask();
    await h.service.signalWorkflow({ ...run, signalName: 'late', args: [] });
    await h.service.completeWorkflowTask(task.taskToken, [cmd.complete('too early')]);
    t.same(await h.types(run), [...START, 'workflowTaskStarted', 'workflowExecutionSignaled', 'workflowTaskFailed', 'workflowTaskScheduled']);
    t.match(await h.event(run, 'workflowTaskFailed'), { cause: 'unhandledCommand', failure: { type: 'UnhandledCommand' } });
    t.match(await h.event(run, 'workflowTaskScheduled', 1), { attempt: 1 }, 'retried at once, not as a failure of the code');
    t.equal((await h.service.describeWorkflow(run)).status, 'running');
    await h.runTask([cmd.complete('after the signal')]);
    t.same((await h.types(run)).slice(-2), ['workflowTaskCompleted', 'workflowExecutionCompleted']);
  });

  t.test('complete and fail the workflow; closing drops pending work and wakes waiters', async (t) => {
    const h = await setup(t, makeStore);
    const run = await h.start();
    const outcome = h.service.getWorkflowOutcome(run);
    await h.runTask([cmd.activity(1), cmd.timer(2, 100)]);
    const held = await h.activityTask();
    await h.service.signalWorkflow({ ...run, signalName: 'stop', args: [] });
    await h.runTask([cmd.fail('gave up'), cmd.timer(3, 10), { type: 'bogus' } as unknown as Command]);
    t.same(await outcome, { status: 'failed', runId: run.runId, failure: failure('gave up') }, 'the waiter was woken');
    t.same((await h.types(run)).slice(-2), ['workflowTaskCompleted', 'workflowExecutionFailed'], 'commands after the closing one are ignored');
    t.match(await h.event(run, 'workflowExecutionFailed'), { eventId: 11, failure: failure('gave up'), workflowTaskCompletedEventId: 10 });
    t.same(await h.service.heartbeatActivityTask(held.taskToken), { cancelRequested: true }, 'a running activity learns the run closed');
    await t.rejects(h.service.completeActivityTask(held.taskToken, 1), { code: 'DEJA_STALE_TASK' });
    h.clock.advance(1000);
    await h.service.tick();
    t.equal((await h.types(run)).at(-1), 'workflowExecutionFailed', 'the pending timer died with the run');
    t.match(await h.service.describeWorkflow(run), { status: 'failed', closeTime: new Date(T0).toISOString(), historyLength: 11 });

    const done = await h.start();
    await h.runTask([cmd.complete({ answer: 42 })]);
    t.same(await h.types(done), [...FIRST_TASK, 'workflowExecutionCompleted']);
    t.same(await h.service.getWorkflowOutcome(done), { status: 'completed', runId: done.runId, result: { answer: 42 } });
    const empty = await h.start();
    await h.runTask([cmd.complete()]);
    t.same(await h.service.getWorkflowOutcome(empty), { status: 'completed', runId: empty.runId }, 'no result: no result field');
  });

  t.test('stale tokens are refused', async (t) => {
    const h = await setup(t, makeStore);
    await h.start();
    const task = await h.workflowTask();
    await h.service.completeWorkflowTask(task.taskToken, [cmd.activity(1)]);
    await t.rejects(h.service.completeWorkflowTask(task.taskToken, []), { code: 'DEJA_STALE_TASK', message: /stale/ }, 'completed twice');
    await t.rejects(h.service.failWorkflowTask(task.taskToken, 'x', failure('x')), { code: 'DEJA_STALE_TASK' });
    await t.rejects(h.service.completeWorkflowTask('no-such-token', []), { code: 'DEJA_STALE_TASK' });
    const act = await h.activityTask();
    await t.rejects(h.service.completeWorkflowTask(act.taskToken, []), { code: 'DEJA_STALE_TASK' }, 'an activity token is no workflow token');
    await h.service.completeActivityTask(act.taskToken, 1);
    await t.rejects(h.service.failActivityTask(act.taskToken, failure('x')), { code: 'DEJA_STALE_TASK' });
    await t.rejects(h.service.respondQueryTask('no-such-token', { ok: true }), { code: 'DEJA_STALE_TASK' });
  });

  t.test('workflow task failure: recorded, retried after 1 s, then 2 s', async (t) => {
    const h = await setup(t, makeStore);
    const run = await h.start();
    const first = await h.workflowTask();
    const why = failure('nondeterminism at event 5', { type: 'DeterminismViolationError' });
    await h.service.failWorkflowTask(first.taskToken, 'nondeterminism', why);
    t.same(await h.types(run), [...START, 'workflowTaskStarted', 'workflowTaskFailed', 'workflowTaskScheduled']);
    t.match(await h.event(run, 'workflowTaskFailed'), { scheduledEventId: 2, startedEventId: 3, cause: 'nondeterminism', failure: why, identity: 'fake-worker' });
    t.match(await h.event(run, 'workflowTaskScheduled', 1), { attempt: 2 });
    h.clock.advance(999);
    t.equal(await h.pollWorkflow(), null, 'backoff 1 s');
    h.clock.advance(1);
    const second = await h.workflowTask();
    t.equal(second.attempt, 2);
    await h.service.failWorkflowTask(second.taskToken, 'workflowError', why);
    h.clock.advance(1999);
    t.equal(await h.pollWorkflow(), null, 'backoff 2 s');
    h.clock.advance(1);
    const third = await h.workflowTask();
    t.equal(third.attempt, 3);
    await h.service.completeWorkflowTask(third.taskToken, [cmd.complete()]);
    t.equal((await h.types(run)).at(-1), 'workflowExecutionCompleted');
  });

  t.test('workflow task timeout: recorded, retried, and the late token is stale', async (t) => {
    const h = await setup(t, makeStore);
    const run = await h.start({ workflowTaskTimeoutMs: 500 });
    const task = await h.workflowTask();
    h.clock.advance(500);
    await t.rejects(h.service.completeWorkflowTask(task.taskToken, []), { code: 'DEJA_STALE_TASK' }, 'refused at the deadline, even before the loop ran');
    await h.service.tick();
    t.same(await h.types(run), [...START, 'workflowTaskStarted', 'workflowTaskTimedOut', 'workflowTaskScheduled']);
    t.match(await h.event(run, 'workflowTaskTimedOut'), { scheduledEventId: 2, startedEventId: 3 });
    t.match(await h.event(run, 'workflowTaskScheduled', 1), { attempt: 2 });
    h.clock.advance(1000);
    t.match(await h.workflowTask(), { attempt: 2 });
  });

  t.test('workflow id reuse and refs', async (t) => {
    const h = await setup(t, makeStore);
    const first = await h.start({ workflowId: 'order' });
    await t.rejects(h.start({ workflowId: 'order' }), {
      code: 'DEJA_ALREADY_STARTED',
      name: 'WorkflowExecutionAlreadyStartedError',
      message: /"order" is already running/,
    });
    await h.runTask([cmd.complete(1)]);
    await t.rejects(h.start({ workflowId: 'order', workflowIdReusePolicy: 'rejectDuplicate' }), { code: 'DEJA_ALREADY_STARTED', message: /rejectDuplicate/ });
    await t.rejects(h.start({ workflowId: 'order', workflowIdReusePolicy: 'allowDuplicateFailedOnly' }), { code: 'DEJA_ALREADY_STARTED' }, 'the last run completed');
    const second = await h.start({ workflowId: 'order' });
    t.not(second.runId, first.runId, 'allowDuplicate by default');
    t.equal((await h.service.describeWorkflow({ workflowId: 'order' })).runId, second.runId, 'no runId: the latest run');
    t.equal((await h.service.describeWorkflow(first)).status, 'completed', 'the first run stays readable');
    await h.runTask([cmd.fail('no')]);
    const third = await h.start({ workflowId: 'order', workflowIdReusePolicy: 'allowDuplicateFailedOnly' });
    t.equal((await h.event(third, 'workflowExecutionStarted')).firstExecutionRunId, third.runId);
    await t.rejects(h.service.describeWorkflow({ workflowId: 'nope' }), { code: 'DEJA_NOT_FOUND', name: 'WorkflowNotFoundError', message: /"nope" not found/ });
    await t.rejects(h.service.getHistory({ workflowId: 'order', runId: 'bogus' }), { code: 'DEJA_NOT_FOUND', message: /no run "bogus"/ });
    await t.rejects(h.service.getWorkflowOutcome({ workflowId: 'nope' }), { code: 'DEJA_NOT_FOUND' });
  });

  t.test('queries: handed out before workflow tasks, answered, failed, timed out; history untouched', async (t) => {
    const h = await setup(t, makeStore, { queryTimeoutMs: 1000 });
    const run = await h.start();
    await h.runTask([cmd.timer(1, 60_000)]);
    const before = await h.history(run);

    const answered = h.service.queryWorkflow({ ...run, queryType: 'status', args: [1] });
    await flush();
    const q = (await h.pollWorkflow()) as QueryTask;
    t.match(q, { kind: 'query', workflowId: run.workflowId, runId: run.runId, workflowType: 'greet', queryType: 'status', args: [1] }, 'before the pending workflow task');
    await h.service.respondQueryTask(q.taskToken, { ok: true, result: { stage: 'charging' } });
    t.same(await answered, { stage: 'charging' });
    await t.rejects(h.service.respondQueryTask(q.taskToken, { ok: true }), { code: 'DEJA_STALE_TASK' }, 'answered once');

    const failing = h.service.queryWorkflow({ workflowId: run.workflowId, queryType: 'missing', args: [] });
    await flush();
    const fq = (await h.pollWorkflow()) as QueryTask;
    const why = failure('no handler for query "missing"', { type: 'QueryNotRegisteredError' });
    await h.service.respondQueryTask(fq.taskToken, { ok: false, failure: why });
    await t.rejects(failing, { code: 'DEJA_QUERY_FAILED', name: 'QueryFailedError', failure: why, message: /no handler/ });

    const unanswered = h.service.queryWorkflow({ ...run, queryType: 'status', args: [] });
    await flush();
    const claimed = (await h.pollWorkflow()) as QueryTask;
    h.clock.advance(1000);
    await h.service.tick();
    await t.rejects(unanswered, {
      code: 'DEJA_QUERY_FAILED',
      failure: { kind: 'timeout' },
      message: /got no answer within 1000 ms: is a worker polling task queue "q"/,
    });
    await t.rejects(h.service.respondQueryTask(claimed.taskToken, { ok: true }), { code: 'DEJA_STALE_TASK' }, 'a timed-out query is withdrawn');

    t.same(await h.history(run), before, 'queries never touch history');
    await t.rejects(h.service.queryWorkflow({ workflowId: 'nope', queryType: 'x', args: [] }), { code: 'DEJA_NOT_FOUND' });
  });

  t.test('consistent queries: a query asked after a signal waits for the task that sees it', async (t) => {
    const h = await setup(t, makeStore, { queryTimeoutMs: 10_000 });
    const run = await h.start();
    const early = h.service.queryWorkflow({ ...run, queryType: 'status', args: [] });
    await flush();
    const first = await h.pollWorkflow();
    t.equal(first?.kind, 'workflow', 'a query on a run whose first task has not run waits: the task comes first');
    await h.service.completeWorkflowTask(first!.taskToken, [cmd.timer(1, 60_000)]);
    await flush();
    const q1 = (await h.pollWorkflow()) as QueryTask;
    t.equal(q1.kind, 'query', 'released once the task completed');
    await h.service.respondQueryTask(q1.taskToken, { ok: true, result: 'after start' });
    t.equal(await early, 'after start');

    await h.service.signalWorkflow({ ...run, signalName: 'go', args: [] });
    const late = h.service.queryWorkflow({ ...run, queryType: 'status', args: [] });
    await flush();
    const task = await h.pollWorkflow();
    t.equal(task?.kind, 'workflow', 'the signal’s task is handed out before the query that must see it');
    t.equal(await h.pollWorkflow(), null, 'the query stays blocked while that task runs');
    // A signal while the task runs: a query asked now needs the task after this one.
    await h.service.signalWorkflow({ ...run, signalName: 'again', args: [] });
    const later = h.service.queryWorkflow({ ...run, queryType: 'status', args: [] });
    await flush();
    await h.service.completeWorkflowTask(task!.taskToken, []);
    await flush();
    const q2 = (await h.pollWorkflow()) as QueryTask;
    t.equal(q2.kind, 'query', 'the first query is released by the task that saw its signal');
    await h.service.respondQueryTask(q2.taskToken, { ok: true, result: 'saw go' });
    t.equal(await late, 'saw go');
    const next = await h.pollWorkflow();
    t.equal(next?.kind, 'workflow', 'the second query waits for the task that sees "again"');
    await h.service.failWorkflowTask(next!.taskToken, 'workflowError', failure('bug'));
    await flush();
    const q3 = (await h.pollWorkflow()) as QueryTask;
    t.equal(q3.kind, 'query', 'a task that failed releases the queries too (they see the state before)');
    await h.service.respondQueryTask(q3.taskToken, { ok: true, result: 'before again' });
    t.equal(await later, 'before again');

    const closedRun = await h.start({ workflowId: 'closing' });
    const onClosed = h.service.queryWorkflow({ ...closedRun, queryType: 'status', args: [] });
    await flush();
    await h.runTask([cmd.complete('done')]);
    const q4 = (await h.pollWorkflow()) as QueryTask;
    t.equal(q4.kind, 'query', 'released when the run closes');
    await h.service.respondQueryTask(q4.taskToken, { ok: true, result: 'final' });
    t.equal(await onClosed, 'final');
  });

  t.test('a query with no worker times out on the real clock too', async (t) => {
    const h = await setup(t, makeStore, { clock: systemClock, queryTimeoutMs: 20 });
    const run = await h.start();
    await t.rejects(h.service.queryWorkflow({ ...run, queryType: 'status', args: [] }), { code: 'DEJA_QUERY_FAILED', failure: { kind: 'timeout' } });
  });

  t.test('bad commands fail the workflow task whole, with a clear error', async (t) => {
    const h = await setup(t, makeStore);
    const bad = (c: object) => c as unknown as Command;
    const cases: { name: string; commands: unknown; message: RegExp; before?: Command[] }[] = [
      { name: 'not an array', commands: { type: 'completeWorkflow' }, message: /commands must be an array, got an object/ },
      { name: 'unknown type', commands: [cmd.timer(1, 10), bad({ type: 'launchRocket' })], message: /commands\[1\]: unknown command type the string "launchRocket"/ },
      { name: 'unknown key', commands: [bad({ type: 'startTimer', seq: 1, startToFireTimeoutMs: 5, delay: 5 })], message: /unknown option "delay"/ },
      { name: 'duplicate seq in one batch', commands: [cmd.timer(1, 10), cmd.timer(1, 20)], message: /startTimer seq 1 is already an open timer/ },
      { name: 'duplicate seq of an earlier timer', before: [cmd.timer(7, 10)], commands: [cmd.timer(7, 10)], message: /seq 7 is already an open timer/ },
      { name: 'cancel of an unknown timer', commands: [cmd.cancelTimer(9)], message: /cancelTimer seq 9 names no open timer/ },
      { name: 'zero duration', commands: [cmd.timer(1, 0)], message: /startToFireTimeoutMs must be an integer ≥ 1, got number 0/ },
      { name: 'fractional duration', commands: [cmd.timer(1, 1.5)], message: /got number 1.5/ },
      { name: 'NaN seq', commands: [bad({ type: 'startTimer', seq: NaN, startToFireTimeoutMs: 5 })], message: /seq must be an integer ≥ 0, got number NaN/ },
      { name: 'activity without timeouts', commands: [cmd.activity(1, { startToCloseTimeoutMs: undefined })], message: /needs startToCloseTimeoutMs or scheduleToCloseTimeoutMs/ },
      { name: 'bad retry policy', commands: [cmd.activity(1, { retryPolicy: { backoffCoefficient: 0.5 } })], message: /retryPolicy.backoffCoefficient must be a finite number ≥ 1/ },
      { name: 'non-JSON activity args', commands: [cmd.activity(1, { args: [1, () => 2] })], message: /args\[1\] is a function/ },
      { name: 'bad failure', commands: [bad({ type: 'failWorkflow', failure: { kind: 'oops', message: 'x' } })], message: /failure.kind must be one of/ },
    ];
    for (const c of cases) {
      const run = await h.start();
      if (c.before) {
        await h.runTask(c.before);
        await h.service.signalWorkflow({ ...run, signalName: 'next', args: [] });
      }
      const historyBefore = await h.types(run);
      const task = await h.workflowTask();
      await t.rejects(h.service.completeWorkflowTask(task.taskToken, c.commands as Command[]), { code: 'DEJA_INVALID_ARGUMENT', message: c.message }, c.name);
      const after = await h.history(run);
      t.same(
        after.map((e) => e.type),
        [...historyBefore, 'workflowTaskStarted', 'workflowTaskFailed', 'workflowTaskScheduled'],
        `${c.name}: nothing of the completion landed; the task failed`,
      );
      t.match(after.at(-2), { cause: 'badCommand', failure: { message: c.message } }, `${c.name}: history says why`);
      t.match(after.at(-1), { attempt: 2 });
      await t.rejects(h.service.completeWorkflowTask(task.taskToken, []), { code: 'DEJA_STALE_TASK' }, `${c.name}: the task is over`);
    }
  });

  t.test('bad requests are rejected at the edge, naming what was wrong', async (t) => {
    const h = await setup(t, makeStore);
    const run = await h.start();
    const before = await h.history(run);
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const s = new AbortController().signal;
    const start = (over: Record<string, unknown>) => h.service.startWorkflow({ workflowId: 'x', workflowType: 'greet', taskQueue: 'q', args: [], ...over } as StartWorkflowRequest);
    const cases: [string, () => Promise<unknown>, RegExp][] = [
      ['missing workflowId', () => start({ workflowId: undefined }), /startWorkflow: workflowId must be a non-empty string, got undefined/],
      ['empty taskQueue', () => start({ taskQueue: '' }), /taskQueue must be a non-empty string, got the string ""/],
      ['args not an array', () => start({ args: 'Ada' }), /args must be an array, got the string "Ada"/],
      ['a function arg', () => start({ args: [1, { cb: () => 1 }] }), /startWorkflow: args\[1\]\.cb is a function; payloads must be JSON values/],
      ['a symbol arg', () => start({ args: [Symbol('s')] }), /args\[0\] is a symbol/],
      ['a BigInt arg', () => start({ args: [{ n: 10n }] }), /args\[0\]\.n is a BigInt \(10n\)/],
      ['a circular arg', () => start({ args: [circular] }), /args\[0\]\.self is a circular reference/],
      ['a NaN arg', () => start({ args: [{ 'odd key': [NaN] }] }), /args\[0\]\["odd key"\]\[0\] is the non-finite number NaN/],
      ['an Infinity arg', () => start({ args: [Infinity] }), /args\[0\] is the non-finite number Infinity/],
      ['unknown request key', () => start({ workflowExecutionTimeout: 5 }), /startWorkflow: unknown option "workflowExecutionTimeout"/],
      ['bad reuse policy', () => start({ workflowIdReusePolicy: 'sometimes' }), /workflowIdReusePolicy must be one of "allowDuplicate"/],
      ['zero task timeout', () => start({ workflowTaskTimeoutMs: 0 }), /workflowTaskTimeoutMs must be an integer ≥ 1/],
      ['no signal name', () => h.service.signalWorkflow({ ...run, signalName: '', args: [] }), /signalWorkflow: signalName must be a non-empty string/],
      ['bad signal args', () => h.service.signalWorkflow({ ...run, signalName: 's', args: [() => 1] }), /signalWorkflow: args\[0\] is a function/],
      ['bad ref', () => h.service.describeWorkflow({ workflowId: 42 } as never), /describeWorkflow: workflowId must be a non-empty string, got number 42/],
      ['bad runId', () => h.service.describeWorkflow({ workflowId: 'x', runId: '' }), /runId must be a non-empty string/],
      ['bad afterEventId', () => h.service.getHistory(run, -1), /afterEventId must be an integer ≥ 0, got number -1/],
      ['bad query type', () => h.service.queryWorkflow({ ...run, queryType: undefined as never, args: [] }), /queryWorkflow: queryType must be a non-empty string/],
      ['poll without a queue', () => h.service.pollWorkflowTask('', 'w', s), /pollWorkflowTask: taskQueue must be a non-empty string/],
      ['poll without a signal', () => h.service.pollActivityTask('q', 'w', undefined as never), /pollActivityTask: signal must be an AbortSignal, got undefined/],
      ['empty token', () => h.service.completeWorkflowTask('', []), /completeWorkflowTask: taskToken must be a non-empty string/],
      ['bad fail cause', () => h.service.failWorkflowTask('tok', '', failure('x')), /failWorkflowTask: cause must be a non-empty string/],
      ['failure without message', () => h.service.failActivityTask('tok', { kind: 'application' } as never), /failActivityTask: failure.message must be a string, got undefined/],
      ['deep bad failure', () => h.service.failActivityTask('tok', failure('x', { cause: { kind: 'nope', message: 'y' } as never })), /failure.cause.kind must be one of/],
      ['bad activity result', () => h.service.completeActivityTask('tok', { f: () => 1 }), /completeActivityTask: result\.f is a function/],
      ['bad heartbeat details', () => h.service.heartbeatActivityTask('tok', 1n), /heartbeatActivityTask: details is a BigInt/],
      ['bad query answer', () => h.service.respondQueryTask('tok', { result: 1 } as never), /respondQueryTask: answer.ok must be true or false/],
    ];
    for (const [name, call, message] of cases) await t.rejects(call(), { code: 'DEJA_INVALID_ARGUMENT', name: 'InvalidArgumentError', message }, name);
    t.same(await h.history(run), before, 'bad input changed nothing');
    t.equal((await h.service.describeWorkflow({ workflowId: 'x' }).catch((e: { code: string }) => e.code)), 'DEJA_NOT_FOUND', 'no bad start left a run');
  });

  t.test('close: polls resolve null, waiters reject, later calls reject', async (t) => {
    const store = await makeStore();
    const service = new LocalWorkflowService({ store, clock: new ManualClock() });
    const { runId } = await service.startWorkflow({ workflowId: 'w', workflowType: 'greet', taskQueue: 'q', args: [] });
    const poll = service.pollActivityTask('q', 'w', new AbortController().signal);
    const outcome = service.getWorkflowOutcome({ workflowId: 'w', runId });
    const aborted = new AbortController();
    const abortable = service.getWorkflowOutcome({ workflowId: 'w' }, aborted.signal);
    aborted.abort(new Error('caller gave up'));
    await t.rejects(abortable, { message: 'caller gave up' }, 'an aborted wait rejects with the abort reason');
    // Watched from before close: on a store over a network, it rejects while close() is awaited.
    const outcomeRejected = t.rejects(outcome, { message: /closed/ });
    await service.close();
    t.equal(await poll, null);
    await outcomeRejected;
    await t.rejects(service.describeWorkflow({ workflowId: 'w' }), { message: /closed/ });
    t.equal(await service.pollWorkflowTask('q', 'w', new AbortController().signal), null, 'a poll on a closed service returns null');
    await t.rejects(store.transaction(async () => 1), 'the store was closed too');
    await service.close();
  });

  t.test('bad service options', async (t) => {
    const store = await makeStore();
    t.teardown(() => store.close());
    t.throws(() => new LocalWorkflowService({} as never), { code: 'DEJA_INVALID_ARGUMENT', message: /store must be a Store/ });
    t.throws(() => new LocalWorkflowService({ store, queryTimeoutMs: -1 }), { message: /queryTimeoutMs must be an integer ≥ 1/ });
    t.throws(() => new LocalWorkflowService({ store, clock: {} as never }), { message: /clock must have a now\(\) method/ });
    t.throws(() => new LocalWorkflowService({ store, storage: 1 } as never), { message: /unknown option "storage"/ });
  });

  // ---- time, reads and narrow writes (what a shared SQL store needs) ----

  t.test('event times never go backwards within a run, whatever the clock does', async (t) => {
    const clock = new ManualClock(T0 + 60_000);
    const h = await setup(t, makeStore, { clock });
    const run = await h.start();
    await h.runTask([cmd.timer(1, 1000)]);
    clock.ms = T0; // the local clock jumps back a minute (an NTP step, another machine's clock)
    await h.service.signalWorkflow({ ...run, signalName: 'late', args: [] });
    await h.runTask([]);
    clock.advance(1000); // still behind the run's last event
    await h.service.signalWorkflow({ ...run, signalName: 'later', args: [] });
    await h.runTask([cmd.complete()]);
    const times = (await h.history(run)).map((e) => Date.parse(e.eventTime));
    t.same(times, [...times].sort((a, b) => a - b), 'each event is at or after the one before');
    t.equal(times.at(-1), T0 + 60_000, 'held at the last event time until the clock catches up');
    const d = await h.service.describeWorkflow(run);
    t.ok(Date.parse(d.closeTime!) >= Date.parse(d.startTime), 'the run does not close before it started');
    clock.ms = T0 + 120_000;
    const later = await h.start();
    t.equal(Date.parse((await h.history(later))[0].eventTime), T0 + 120_000, 'a new run takes the clock as it is');
  });

  t.test('pure reads run in read-only transactions, and so does a poll that finds nothing', async (t) => {
    const seen: (TransactionOptions | undefined)[] = [];
    let recording = false;
    const h = await setup(t, async () => spyStore(await makeStore(), { onTransaction: (options) => recording && seen.push(options) }));
    const run = await h.start();
    await h.runTask([cmd.complete('done')]);
    await h.service.tick(); // the loop's first tick, done now: nothing time-driven is left to run in the background
    recording = true;
    await h.service.getHistory(run);
    await h.service.describeWorkflow(run);
    await h.service.getWorkflowOutcome(run);
    t.equal(await h.pollActivity(), null);
    t.equal(await h.pollWorkflow(), null);
    recording = false;
    t.equal(seen.length, 5, `one transaction each: ${JSON.stringify(seen)}`);
    t.ok(
      seen.every((options) => options?.readOnly === true),
      'all read-only',
    );
  });

  t.test('a heartbeat writes only its details and the lease end, not the task with its arguments', async (t) => {
    const calls: StoreCall[] = [];
    let recording = false;
    const h = await setup(t, async () => spyStore(await makeStore(), { beforeCall: (call) => recording && calls.push(call) }));
    const run = await h.start();
    await h.runTask([cmd.activity(1, { heartbeatTimeoutMs: 1000, args: [{ big: 'x'.repeat(1000) }], retryPolicy: { initialIntervalMs: 10 } })]);
    const first = await h.activityTask();
    h.clock.advance(300);
    recording = true;
    t.same(await h.service.heartbeatActivityTask(first.taskToken, { step: 1 }), { cancelRequested: false });
    recording = false;
    const reads = new Set(['get', 'byToken', 'latest', 'read', 'claimable']);
    const writes = calls.filter((c) => !reads.has(c.method.split('.')[1]));
    t.same(
      writes.map((c) => c.method),
      ['tasks.setHeartbeat'],
      'one narrow write',
    );
    t.same(writes[0]?.args[1], { details: { step: 1 }, expiresAt: T0 + 300 + 1000 }, 'the details and the renewed lease end');
    h.clock.advance(1000);
    await h.service.tick();
    const second = await h.activityTask().catch(async () => {
      h.clock.advance(10);
      await h.service.tick();
      return h.activityTask();
    });
    t.equal(second.attempt, 2, 'the missed heartbeat timed the attempt out');
    t.same(second.heartbeatDetails, { step: 1 }, 'the details reached the next attempt');
    t.same(second.args, [{ big: 'x'.repeat(1000) }], 'the arguments are intact');
    t.ok(run);
  });

  // ---- cancellation, termination, children, external workflows ----

  t.test('cancel: a request is recorded once and asks for a task; the workflow decides; cancelWorkflow closes it cancelled', async (t) => {
    const h = await setup(t, makeStore);
    const run = await h.start();
    await h.runTask([cmd.timer(1, 60_000)]);
    await h.service.requestCancelWorkflow({ ...run, reason: 'customer left', identity: 'ops' });
    await h.service.requestCancelWorkflow({ ...run, reason: 'again' });
    const requested = await h.event(run, 'workflowExecutionCancelRequested');
    t.match(requested, { cause: 'customer left', identity: 'ops' });
    t.equal((await h.types(run)).filter((x) => x === 'workflowExecutionCancelRequested').length, 1, 'a second request adds nothing');
    await h.runTask([cmd.cancelTimer(1), cmd.cancelled()]);
    t.same((await h.types(run)).slice(-2), ['timerCanceled', 'workflowExecutionCanceled']);
    t.match(await h.service.getWorkflowOutcome(run), { status: 'cancelled', failure: { kind: 'cancelled' } });
    t.equal((await h.service.describeWorkflow(run)).status, 'cancelled');
    await t.rejects(h.service.requestCancelWorkflow(run), { code: 'DEJA_NOT_FOUND', message: /already closed \(cancelled\)/ });
    await t.rejects(h.service.requestCancelWorkflow({ workflowId: 'nope' }), { code: 'DEJA_NOT_FOUND' });
  });

  t.test('terminate: closes the run at once; its task, timers and activities go; a worker learns it at its next heartbeat', async (t) => {
    const h = await setup(t, makeStore);
    const run = await h.start();
    await h.runTask([cmd.timer(1, 60_000), cmd.activity(1, { heartbeatTimeoutMs: 1000 })]);
    const activity = await h.activityTask();
    await h.service.signalWorkflow({ ...run, signalName: 'go', args: [] });
    const task = await h.workflowTask();
    await h.service.terminateWorkflow({ ...run, reason: 'stuck', details: [{ ticket: 7 }], identity: 'ops' });
    t.match(await h.event(run, 'workflowExecutionTerminated'), { reason: 'stuck', details: [{ ticket: 7 }], identity: 'ops' });
    t.match(await h.service.getWorkflowOutcome(run), { status: 'terminated', failure: { kind: 'terminated', message: 'stuck' } });
    t.same(await h.service.heartbeatActivityTask(activity.taskToken, { step: 1 }), { cancelRequested: true }, 'the activity learns it');
    await t.rejects(h.service.completeWorkflowTask(task.taskToken, [cmd.complete()]), { code: 'DEJA_STALE_TASK' }, 'the task in flight is stale');
    await t.rejects(h.service.completeActivityTask(activity.taskToken, 'late'), { code: 'DEJA_STALE_TASK' });
    h.clock.advance(60_000);
    await h.service.tick();
    t.equal((await h.types(run)).at(-1), 'workflowExecutionTerminated', 'no timer fires after it');
    await t.rejects(h.service.terminateWorkflow(run), { code: 'DEJA_NOT_FOUND' });
    t.equal((await h.service.describeWorkflow(run)).status, 'terminated');
  });

  t.test('activity cancellation: before it starts, cancelled at once; while it runs, through its heartbeat', async (t) => {
    const h = await setup(t, makeStore);
    const run = await h.start({ taskQueue: 'a' });
    await h.runTask([cmd.activity(1, { heartbeatTimeoutMs: 1000, activityId: 'one' })], 'a');
    const one = await h.activityTask('a');
    await h.runTask([]).catch(() => undefined); // nothing else is queued on 'q'
    await h.service.signalWorkflow({ ...run, signalName: 'stop', args: [] });
    await h.runTask([cmd.cancelActivity(1)], 'a');
    t.same(await h.service.heartbeatActivityTask(one.taskToken), { cancelRequested: true }, 'a running attempt hears it at its heartbeat');
    const requested = await h.event(run, 'activityTaskCancelRequested');
    await h.service.failActivityTask(one.taskToken, { kind: 'cancelled', message: 'stopped', details: ['partial'] });
    const cancelled = await h.event(run, 'activityTaskCanceled');
    t.match(cancelled, { latestCancelRequestedEventId: requested.eventId, details: ['partial'] });
    t.ok(cancelled.startedEventId, 'it had started');
    t.equal((await h.workflowTask('a')).runId, run.runId, 'a task follows, so the workflow sees it');

    const run2 = await h.start({ workflowId: 'unstarted', taskQueue: 'b' });
    await h.runTask([cmd.activity(1)], 'b');
    await h.service.signalWorkflow({ ...run2, signalName: 'stop', args: [] });
    await h.runTask([cmd.cancelActivity(1)], 'b');
    t.same((await h.types(run2)).slice(-4), ['workflowTaskCompleted', 'activityTaskCancelRequested', 'activityTaskCanceled', 'workflowTaskScheduled'], 'never claimed: cancelled in the same step');
    t.equal((await h.event(run2, 'activityTaskCanceled')).startedEventId, undefined);
    t.equal(await h.pollActivity('b'), null, 'its task is gone');
    const next = await h.workflowTask('b');
    await t.rejects(h.service.completeWorkflowTask(next.taskToken, [cmd.cancelActivity(9)]), {
      code: 'DEJA_INVALID_ARGUMENT',
      message: /requestCancelActivity seq 9 names no open activity/,
    });
  });

  t.test('activity cancellation: a failure after the request is final, and so is a timeout', async (t) => {
    const h = await setup(t, makeStore);
    const run = await h.start();
    await h.runTask([cmd.activity(1, { retryPolicy: { maximumAttempts: 5 } }), cmd.activity(2, { retryPolicy: { maximumAttempts: 5 }, startToCloseTimeoutMs: 1000 })]);
    const a1 = await h.activityTask();
    const a2 = await h.activityTask();
    await h.service.signalWorkflow({ ...run, signalName: 'stop', args: [] });
    await h.runTask([cmd.cancelActivity(1), cmd.cancelActivity(2)]);
    await h.service.failActivityTask(a1.taskToken, failure('boom'));
    t.match(await h.event(run, 'activityTaskFailed'), { retryState: 'cancelRequested' }, 'a failure is not retried');
    h.clock.advance(1000);
    await h.service.tick();
    t.match(await h.event(run, 'activityTaskTimedOut'), { retryState: 'cancelRequested' }, 'nor is a timeout');
    t.equal(await h.pollActivity(), null);
    void a2;
  });

  t.test('an activity that closed while the task ran can still be named by a cancel; the close stands', async (t) => {
    const h = await setup(t, makeStore);
    const run = await h.start();
    await h.runTask([cmd.activity(1)]);
    const a = await h.activityTask();
    await h.service.signalWorkflow({ ...run, signalName: 'go', args: [] });
    const task = await h.workflowTask();
    await h.service.completeActivityTask(a.taskToken, 'done');
    await h.service.completeWorkflowTask(task.taskToken, [cmd.cancelActivity(1)]);
    const types = await h.types(run);
    t.ok(types.includes('activityTaskCompleted') && types.includes('activityTaskCancelRequested'), 'both recorded');
    t.notOk(types.includes('activityTaskCanceled'));
    const next = await h.workflowTask();
    await t.rejects(h.service.completeWorkflowTask(next.taskToken, [cmd.cancelActivity(1)]), {
      code: 'DEJA_INVALID_ARGUMENT',
      message: /requestCancelActivity seq 1 names no open activity/,
    }, 'only while the task that had not seen the close runs');
  });

  t.test('children: started in the same step; the parent hears how each closed', async (t) => {
    const h = await setup(t, makeStore);
    const parent = await h.start({ workflowId: 'parent', taskQueue: 'p' });
    await h.runTask(
      [cmd.child(1, 'kid-ok', { taskQueue: 'k1' }), cmd.child(2, 'kid-fail', { taskQueue: 'k2' }), cmd.child(3, 'kid-cancel', { taskQueue: 'k3' }), cmd.child(4, 'kid-term', { taskQueue: 'k4' })],
      'p',
    );
    const started = (await h.history(parent)).flatMap((e) => (e.type === 'childWorkflowExecutionStarted' ? [e] : []));
    t.same(started.map((e) => e.workflowId), ['kid-ok', 'kid-fail', 'kid-cancel', 'kid-term']);
    const kid = (id: string) => ({ workflowId: id, runId: started.find((e) => e.workflowId === id)!.runId });
    t.match(await h.event(kid('kid-ok'), 'workflowExecutionStarted'), { workflowType: 'kid', input: [1], parent: { workflowId: 'parent', runId: parent.runId } });
    t.match(await h.service.describeWorkflow(kid('kid-ok')), { parent: { workflowId: 'parent', runId: parent.runId } });
    await h.runTask([], 'p'); // the parent sees the starts
    await h.runTask([cmd.complete({ ok: 1 })], 'k1');
    await h.runTask([cmd.fail('kid broke')], 'k2');
    await h.runTask([], 'k3');
    await h.service.requestCancelWorkflow(kid('kid-cancel'));
    await h.runTask([cmd.cancelled()], 'k3');
    await h.service.terminateWorkflow({ ...kid('kid-term'), reason: 'enough' });
    const closes = (await h.history(parent)).filter((e) => e.type.startsWith('childWorkflowExecution') && e.type !== 'childWorkflowExecutionStarted');
    t.same(
      closes.map((e) => [e.type, (e as { workflowId: string }).workflowId]),
      [
        ['childWorkflowExecutionCompleted', 'kid-ok'],
        ['childWorkflowExecutionFailed', 'kid-fail'],
        ['childWorkflowExecutionCanceled', 'kid-cancel'],
        ['childWorkflowExecutionTerminated', 'kid-term'],
      ],
    );
    t.match(closes[0], { result: { ok: 1 }, initiatedEventId: Number, startedEventId: Number });
    t.match(closes[1], { failure: { message: 'kid broke' }, retryState: 'retryPolicyNotSet' });
    t.match(closes[3], { reason: 'enough' });
    t.ok(await h.workflowTask('p'), 'the parent has a task to see them');
  });

  t.test('children: an id that is taken fails the start, not the parent', async (t) => {
    const h = await setup(t, makeStore);
    await h.start({ workflowId: 'taken' });
    const parent = await h.start({ workflowId: 'parent' });
    const tasks = [await h.workflowTask(), await h.workflowTask()];
    for (const task of tasks) await h.service.completeWorkflowTask(task.taskToken, task.workflowId === 'parent' ? [cmd.child(1, 'taken'), cmd.child(2, 'parent')] : []);
    const failed = (await h.history(parent)).filter((e) => e.type === 'startChildWorkflowExecutionFailed');
    t.match(failed, [
      { workflowId: 'taken', cause: 'workflowAlreadyExists' },
      { workflowId: 'parent', cause: 'workflowAlreadyExists' },
    ]);
    t.equal((await h.service.describeWorkflow(parent)).status, 'running');
  });

  t.test('parent close policies: terminate, request cancel, abandon', async (t) => {
    const h = await setup(t, makeStore);
    const parent = await h.start({ workflowId: 'parent', taskQueue: 'p' });
    await h.runTask(
      [
        cmd.child(1, 'k-term', { parentClosePolicy: 'terminate', taskQueue: 'k' }),
        cmd.child(2, 'k-cancel', { parentClosePolicy: 'requestCancel', taskQueue: 'k' }),
        cmd.child(3, 'k-abandon', { parentClosePolicy: 'abandon', taskQueue: 'k' }),
      ],
      'p',
    );
    await h.runTask([cmd.complete('bye')], 'p');
    t.equal((await h.service.describeWorkflow(parent)).status, 'completed');
    const ref = async (workflowId: string) => {
      const { runId, status } = await h.service.describeWorkflow({ workflowId });
      return { workflowId, runId, status };
    };
    const kt = await ref('k-term');
    t.equal(kt.status, 'terminated');
    t.match(await h.event({ workflowId: kt.workflowId, runId: kt.runId }, 'workflowExecutionTerminated'), { reason: /parent workflow "parent" .* closed \(completed\): parent close policy TERMINATE/ });
    const kc = await ref('k-cancel');
    t.equal(kc.status, 'running');
    t.match(await h.event({ workflowId: kc.workflowId, runId: kc.runId }, 'workflowExecutionCancelRequested'), { externalWorkflowId: 'parent', externalRunId: parent.runId });
    const ka = await ref('k-abandon');
    t.equal(ka.status, 'running');
    t.notOk((await h.types({ workflowId: ka.workflowId, runId: ka.runId })).includes('workflowExecutionCancelRequested'), 'abandoned: left alone');
    await h.service.terminateWorkflow({ workflowId: ka.workflowId, runId: ka.runId });
    t.equal((await h.types(parent)).at(-1), 'workflowExecutionCompleted', 'the parent hears nothing after it closed');
  });

  t.test('external workflows: a signal and a cancel reach the target; a missing target fails the command, not the run', async (t) => {
    const h = await setup(t, makeStore);
    const target = await h.start({ workflowId: 'target' });
    await h.runTask([cmd.timer(1, 60_000)]);
    const source = await h.start({ workflowId: 'source' });
    await h.runTask([
      cmd.signalExternal(1, 'target'),
      cmd.signalExternal(2, 'missing'),
      cmd.cancelExternal(1, 'target'),
      cmd.cancelExternal(2, 'missing'),
      cmd.signalExternal(3, 'target', { childWorkflowOnly: true }),
    ]);
    const types = await h.types(source);
    t.same(types.slice(4, 14), [
      'signalExternalWorkflowExecutionInitiated',
      'externalWorkflowExecutionSignaled',
      'signalExternalWorkflowExecutionInitiated',
      'signalExternalWorkflowExecutionFailed',
      'requestCancelExternalWorkflowExecutionInitiated',
      'externalWorkflowExecutionCancelRequested',
      'requestCancelExternalWorkflowExecutionInitiated',
      'requestCancelExternalWorkflowExecutionFailed',
      'signalExternalWorkflowExecutionInitiated',
      'signalExternalWorkflowExecutionFailed',
    ], 'each outcome right after its command; a child-only signal to a non-child fails');
    t.match(await h.event(source, 'signalExternalWorkflowExecutionFailed'), { workflowId: 'missing', cause: 'externalWorkflowExecutionNotFound' });
    t.match(await h.event(target, 'workflowExecutionSignaled'), { signalName: 'poke', input: [1], identity: 'workflow source' });
    t.match(await h.event(target, 'workflowExecutionCancelRequested'), { externalWorkflowId: 'source', externalRunId: source.runId });
    const next = [await h.workflowTask(), await h.workflowTask()].map((x) => x.workflowId).sort();
    t.same(next, ['source', 'target'], 'both runs get a task: the target for the signal, the source for the outcomes');
  });

  t.test('signalWithStart: starts a run and signals it, or signals the running one', async (t) => {
    const h = await setup(t, makeStore);
    const req = { workflowId: 'sws', workflowType: 'greet', taskQueue: 'q', args: ['a'], signalName: 'add', signalArgs: [1] };
    const { runId } = await h.service.signalWithStartWorkflow(req);
    t.same(await h.types({ workflowId: 'sws', runId }), ['workflowExecutionStarted', 'workflowTaskScheduled', 'workflowExecutionSignaled']);
    const again = await h.service.signalWithStartWorkflow({ ...req, signalArgs: [2] });
    t.equal(again.runId, runId, 'the running run is signalled');
    t.equal((await h.history({ workflowId: 'sws', runId })).filter((e) => e.type === 'workflowExecutionSignaled').length, 2);
    await h.runTask([cmd.complete()]);
    const third = await h.service.signalWithStartWorkflow({ ...req, workflowIdReusePolicy: 'allowDuplicate' });
    t.not(third.runId, runId, 'a closed run: a new one starts');
    await t.rejects(h.service.signalWithStartWorkflow({ ...req, workflowId: 'x', workflowIdReusePolicy: 'rejectDuplicate', signalName: '' }), { code: 'DEJA_INVALID_ARGUMENT', message: /signalName/ });
  });

  t.test('listWorkflows: newest first, filtered, paged with a token; a bad token is refused', async (t) => {
    const h = await setup(t, makeStore);
    for (let i = 1; i <= 5; i++) {
      await h.start({ workflowId: `l${i}`, workflowType: i % 2 ? 'odd' : 'even' });
      h.clock.advance(10);
    }
    const first = await h.service.listWorkflows({ pageSize: 2 });
    t.same(first.executions.map((e) => e.workflowId), ['l5', 'l4']);
    const second = await h.service.listWorkflows({ pageSize: 2, nextPageToken: first.nextPageToken });
    t.same(second.executions.map((e) => e.workflowId), ['l3', 'l2']);
    const last = await h.service.listWorkflows({ pageSize: 2, nextPageToken: second.nextPageToken });
    t.same(last.executions.map((e) => e.workflowId), ['l1']);
    t.equal(last.nextPageToken, undefined, 'no token after the last page');
    t.same((await h.service.listWorkflows({ workflowType: 'even' })).executions.map((e) => e.workflowId), ['l4', 'l2']);
    t.same((await h.service.listWorkflows({ status: 'completed' })).executions, []);
    await t.rejects(h.service.listWorkflows({ nextPageToken: '!!' }), { code: 'DEJA_INVALID_ARGUMENT', message: /nextPageToken/ });
    await t.rejects(h.service.listWorkflows({ pageSize: 5000 }), { code: 'DEJA_INVALID_ARGUMENT', message: /at most 1000/ });
    await t.rejects(h.service.listWorkflows({ status: 'sleeping' as never }), { code: 'DEJA_INVALID_ARGUMENT', message: /status/ });
  });

  t.test('activityTaskToken: the running attempt’s token, by ids; clear errors otherwise', async (t) => {
    const h = await setup(t, makeStore);
    const run = await h.start();
    await h.runTask([cmd.activity(1, { activityId: 'charge' })]);
    await t.rejects(h.service.activityTaskToken({ ...run, activityId: 'charge' }), { code: 'DEJA_ACTIVITY_NOT_FOUND', message: /no attempt running/ });
    const task = await h.activityTask();
    t.equal(await h.service.activityTaskToken({ workflowId: run.workflowId, activityId: 'charge' }), task.taskToken);
    await h.service.completeActivityTask(await h.service.activityTaskToken({ ...run, activityId: 'charge' }), 'paid');
    await t.rejects(h.service.activityTaskToken({ ...run, activityId: 'charge' }), { code: 'DEJA_ACTIVITY_NOT_FOUND', message: /not open/ });
    await t.rejects(h.service.activityTaskToken({ ...run, activityId: 'other' }), { code: 'DEJA_ACTIVITY_NOT_FOUND' });
    await t.rejects(h.service.activityTaskToken({ workflowId: run.workflowId } as never), { code: 'DEJA_INVALID_ARGUMENT', message: /activityId/ });
  });
}
