// Chains of runs at the engine level (host side), on the in-memory store and on SQLite: a scripted
// fake worker completes workflow tasks with hand-written commands, and a manual clock moves time
// (then `tick()`). Continue-as-new (defaults from the closing run, the parent's entry moving to the
// successor), cron fire times (a property over @every intervals and start times), retry backoff
// (a property over policies), run and execution timeouts, the conflict policies, a start delay
// that a signal does not cut short and a cancel does, and the events' chain fields.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { MemoryStore } from '../lib/backends/memory';
import { SqliteStore } from '../lib/backends/sqlite';
import type { Store } from '../lib/backends/store';
import { LocalWorkflowService } from '../lib/engine';
import { makeHistory, type HistoryEvent } from '../lib/history';
import type { StartWorkflowRequest, WorkflowTask } from '../lib/service';
import type { Command } from '../runtime/protocol';
import { cmd, ManualClock, pollNow, T0 } from './support/service';

const MIN = 60_000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-chain-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
let files = 0;

async function setup(t: tap.Test, makeStore: () => Store, limits?: ConstructorParameters<typeof LocalWorkflowService>[0]['limits']) {
  const clock = new ManualClock(T0);
  const service = new LocalWorkflowService({ store: makeStore(), clock, limits });
  t.teardown(() => service.close());
  let ids = 0;
  const h = {
    service,
    clock,
    async start(over: Partial<StartWorkflowRequest> = {}) {
      const workflowId = over.workflowId ?? `wf-${++ids}`;
      const { runId } = await service.startWorkflow({ workflowId, workflowType: 'greet', taskQueue: 'q', args: ['Ada'], ...over });
      return { workflowId, runId };
    },
    poll: () => pollNow((s) => service.pollWorkflowTask('q', 'fake', s)),
    async task(): Promise<WorkflowTask> {
      const task = await h.poll();
      if (task?.kind !== 'workflow') throw new Error(`expected a workflow task, got ${JSON.stringify(task)}`);
      return task;
    },
    async runTask(commands: Command[]): Promise<WorkflowTask> {
      const task = await h.task();
      await service.completeWorkflowTask(task.taskToken, commands);
      return task;
    },
    async history(run: { workflowId: string; runId: string }): Promise<HistoryEvent[]> {
      const events = await service.getHistory({ workflowId: run.workflowId, runId: run.runId });
      makeHistory(run.workflowId, run.runId, events); // a valid history
      return events;
    },
    async at(ms: number) {
      clock.ms = ms;
      await service.tick();
    },
    async runs(workflowId: string) {
      return (await service.listWorkflows({ workflowId })).executions.reverse();
    },
  };
  return h;
}
const last = (events: HistoryEvent[]) => events[events.length - 1];

function chainSuite(t: tap.Test, makeStore: () => Store): void {
  t.test('continueAsNew: the closing event, the next run with the closing run\'s defaults, the outcome', async (t) => {
    const h = await setup(t, makeStore);
    const run = await h.start({ workflowRunTimeoutMs: 60 * MIN, retryPolicy: { maximumAttempts: 2 }, memo: { m: 1 }, workflowTaskTimeoutMs: 5000 });
    await h.runTask([{ type: 'continueAsNew', workflowType: 'greet', args: ['Bo'] }]);
    const closing = last(await h.history(run));
    const runs = await h.runs(run.workflowId);
    t.same(
      runs.map((r) => r.status),
      ['continuedAsNew', 'running'],
    );
    t.match(closing, { type: 'workflowExecutionContinuedAsNew', newExecutionRunId: runs[1].runId, workflowType: 'greet', taskQueue: 'q', input: ['Bo'], workflowRunTimeoutMs: 60 * MIN, workflowTaskTimeoutMs: 5000 });
    const next = await h.history(runs[1]);
    t.same(
      next.map((e) => e.type),
      ['workflowExecutionStarted', 'workflowTaskScheduled'],
    );
    t.match(next[0], {
      initiator: 'workflow',
      continuedFromExecutionRunId: run.runId,
      firstExecutionRunId: run.runId,
      attempt: 1,
      workflowRunTimeoutMs: 60 * MIN,
      retryPolicy: { maximumAttempts: 2 },
      memo: { m: 1 },
      workflowTaskTimeoutMs: 5000,
    });
    t.same(await h.service.getWorkflowOutcome(run), { status: 'continuedAsNew', runId: run.runId, newRunId: runs[1].runId });
    // The new run's run timeout counts from its own start.
    await h.at(T0 + 60 * MIN);
    t.match(last(await h.history(runs[1])), { type: 'workflowExecutionTimedOut', retryState: 'inProgress' });
  });

  t.test('a child that continues as new: the parent hears once, of the last run, with its result', async (t) => {
    const h = await setup(t, makeStore);
    const parent = await h.start();
    await h.runTask([cmd.child(1, 'kid-1')]);
    // The child's first task and the parent's next one (childWorkflowExecutionStarted).
    const tasks = [await h.task(), await h.task()];
    const child = tasks.find((x) => x.workflowId === 'kid-1')!;
    const parentTask = tasks.find((x) => x.workflowId !== 'kid-1')!;
    await h.service.completeWorkflowTask(parentTask.taskToken, []);
    await h.service.completeWorkflowTask(child.taskToken, [{ type: 'continueAsNew', workflowType: 'kid', args: [2] }]);
    t.equal((await h.history(parent)).filter((e) => e.type.startsWith('childWorkflowExecution')).length, 1, 'only the start so far');
    const kidRuns = await h.runs('kid-1');
    t.match((await h.history(kidRuns[1]))[0], { parent: { workflowId: parent.workflowId, runId: parent.runId } });
    await h.runTask([cmd.complete('kid done')]);
    const done = (await h.history(parent)).find((e) => e.type === 'childWorkflowExecutionCompleted');
    t.match(done, { runId: kidRuns[1].runId, result: 'kid done' });
  });

  t.test('a child retried until maximumAttempts: the parent hears of the last attempt, with the final retryState', async (t) => {
    const h = await setup(t, makeStore);
    const parent = await h.start();
    await h.runTask([cmd.child(1, 'kid-r', { retryPolicy: { initialIntervalMs: 1000, maximumAttempts: 2 } })]);
    const tasks = [await h.task(), await h.task()];
    const parentTask = tasks.find((x) => x.workflowId !== 'kid-r')!;
    await h.service.completeWorkflowTask(parentTask.taskToken, []);
    await h.service.completeWorkflowTask(tasks.find((x) => x.workflowId === 'kid-r')!.taskToken, [cmd.fail('first')]);
    await h.at(T0 + 1000);
    await h.runTask([cmd.fail('second')]);
    const kidRuns = await h.runs('kid-r');
    t.equal(kidRuns.length, 2);
    const closed = (await h.history(parent)).filter((e) => e.type === 'childWorkflowExecutionFailed');
    t.equal(closed.length, 1);
    t.match(closed[0], { runId: kidRuns[1].runId, retryState: 'maximumAttemptsReached', failure: { message: 'second' } });
  });

  t.test('cron: first task at the first fire time, next runs at theirs; a failure goes on; lastCompletionResult; terminate ends it', async (t) => {
    const h = await setup(t, makeStore);
    const run = await h.start({ cronSchedule: '*/10 * * * *' });
    t.same(
      (await h.history(run)).map((e) => e.type),
      ['workflowExecutionStarted'],
    );
    t.equal(await h.poll(), null, 'no task before the fire time');
    await h.at(T0 + 10 * MIN - 1);
    t.equal(await h.poll(), null);
    await h.at(T0 + 10 * MIN);
    await h.runTask([cmd.complete('one')]);
    let runs = await h.runs(run.workflowId);
    t.match(last(await h.history(run)), { type: 'workflowExecutionCompleted', result: 'one', newExecutionRunId: runs[1].runId });
    t.same(await h.service.getWorkflowOutcome(run), { status: 'completed', runId: run.runId, result: 'one', newRunId: runs[1].runId });
    t.match((await h.history(runs[1]))[0], { initiator: 'cronSchedule', firstWorkflowTaskBackoffMs: 10 * MIN, lastCompletionResult: 'one', input: ['Ada'] });
    await h.at(T0 + 20 * MIN);
    await h.runTask([cmd.fail('two failed')]);
    runs = await h.runs(run.workflowId);
    t.match(last(await h.history(runs[1])), { type: 'workflowExecutionFailed', retryState: 'retryPolicyNotSet', newExecutionRunId: runs[2].runId });
    t.match((await h.history(runs[2]))[0], { lastCompletionResult: 'one', continuedFailure: { message: 'two failed' } });
    await h.service.terminateWorkflow({ workflowId: run.workflowId });
    await h.at(T0 + 60 * MIN);
    t.equal((await h.runs(run.workflowId)).length, 3, 'terminated: no more runs');
    t.equal((await h.runs(run.workflowId))[2].status, 'terminated');
  });

  t.test('property: an @every cron runs at each multiple of its interval after the start', async (t) => {
    const seed = Number(process.env.DEJA_PROPERTY_SEED ?? Date.now() % 2 ** 31);
    t.comment(`fast-check seed ${seed}`);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 0, max: 10 * MIN }), async (minutes, offset) => {
        const h = await setup(t, makeStore);
        h.clock.ms = T0 + offset;
        const interval = minutes * MIN;
        const run = await h.start({ cronSchedule: `@every ${minutes}m` });
        let expected = (Math.floor((T0 + offset) / interval) + 1) * interval;
        for (let i = 0; i < 3; i++) {
          await h.at(expected - 1);
          if ((await h.poll()) !== null) throw new Error(`run ${i} ran before ${new Date(expected).toISOString()}`);
          await h.at(expected);
          const task = await h.task();
          await h.service.completeWorkflowTask(task.taskToken, [cmd.complete(i)]);
          expected += interval;
        }
        const runs = await h.runs(run.workflowId);
        if (runs.length !== 4) throw new Error(`expected 4 runs, got ${runs.length}`);
        await h.service.close();
      }),
      { seed, numRuns: 15 },
    );
    t.pass('every run at its fire time');
  });

  t.test('property: a retried run waits min(initial × coefficient^(attempt-1), maximum) and stops at maximumAttempts', async (t) => {
    const seed = Number(process.env.DEJA_PROPERTY_SEED ?? Date.now() % 2 ** 31);
    t.comment(`fast-check seed ${seed}`);
    await fc.assert(
      fc.asyncProperty(
        fc.record({ initialIntervalMs: fc.integer({ min: 1, max: 100_000 }), backoffCoefficient: fc.double({ min: 1, max: 4, noNaN: true }), maximumAttempts: fc.integer({ min: 1, max: 5 }) }),
        fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: undefined }),
        async (policy, extra) => {
          const h = await setup(t, makeStore);
          // The edge refuses a maximum below the initial interval.
          const maximumIntervalMs = extra === undefined ? undefined : policy.initialIntervalMs + extra;
          const retryPolicy = maximumIntervalMs === undefined ? policy : { ...policy, maximumIntervalMs };
          const run = await h.start({ retryPolicy });
          for (let attempt = 1; attempt <= policy.maximumAttempts; attempt++) {
            const task = await h.task();
            await h.service.completeWorkflowTask(task.taskToken, [cmd.fail(`attempt ${attempt}`)]);
            const runs = await h.runs(run.workflowId);
            if (attempt === policy.maximumAttempts) {
              if (runs.length !== attempt) throw new Error(`a retry after the last attempt: ${runs.length} runs`);
              const closing = last(await h.history(runs[attempt - 1]));
              if ((closing as { retryState?: string }).retryState !== 'maximumAttemptsReached') throw new Error(JSON.stringify(closing));
              break;
            }
            const started = (await h.history(runs[attempt]))[0] as Extract<HistoryEvent, { type: 'workflowExecutionStarted' }>;
            const want = Math.round(Math.min(policy.initialIntervalMs * policy.backoffCoefficient ** (attempt - 1), maximumIntervalMs ?? 100 * policy.initialIntervalMs));
            if (started.firstWorkflowTaskBackoffMs !== want || started.attempt !== attempt + 1) {
              throw new Error(`attempt ${attempt + 1}: backoff ${started.firstWorkflowTaskBackoffMs}, want ${want}`);
            }
            await h.at(h.clock.ms + want);
          }
          await h.service.close();
        },
      ),
      { seed, numRuns: 15 },
    );
    t.pass('backoffs as the policy says');
  });

  t.test('execution timeout: one deadline across the chain; a run timeout with a cron goes on to the next fire time', async (t) => {
    const h = await setup(t, makeStore);
    const run = await h.start({ workflowExecutionTimeoutMs: 30 * MIN });
    await h.runTask([cmd.timer(1, 20 * MIN)]);
    await h.at(T0 + 20 * MIN);
    await h.runTask([{ type: 'continueAsNew', workflowType: 'greet', args: [] }]);
    const runs = await h.runs(run.workflowId);
    t.match((await h.history(runs[1]))[0], { workflowExecutionExpirationTime: new Date(T0 + 30 * MIN).toISOString(), workflowExecutionTimeoutMs: 30 * MIN });
    await h.at(T0 + 30 * MIN);
    t.match(last(await h.history(runs[1])), { type: 'workflowExecutionTimedOut', retryState: 'timeout' });
    t.match(await h.service.getWorkflowOutcome({ workflowId: run.workflowId }), { status: 'timedOut', failure: { kind: 'timeout' } });

    const cron = await h.start({ cronSchedule: '@hourly', workflowRunTimeoutMs: 5 * MIN });
    await h.at(T0 + 60 * MIN);
    await h.runTask([cmd.timer(1, 30 * MIN)]);
    await h.at(T0 + 65 * MIN);
    const cronRuns = await h.runs(cron.workflowId);
    t.match(last(await h.history(cron)), { type: 'workflowExecutionTimedOut', retryState: 'retryPolicyNotSet', newExecutionRunId: cronRuns[1].runId });
    t.match((await h.history(cronRuns[1]))[0], { initiator: 'cronSchedule', firstWorkflowTaskBackoffMs: 55 * MIN, continuedFailure: { kind: 'timeout' } });
  });

  t.test('conflict policies and the reuse policy together', async (t) => {
    const h = await setup(t, makeStore);
    const run = await h.start({ workflowId: 'c' });
    await t.rejects(h.start({ workflowId: 'c' }), { code: 'DEJA_ALREADY_STARTED' });
    t.same(await h.service.startWorkflow({ workflowId: 'c', workflowType: 'greet', taskQueue: 'q', args: [], workflowIdConflictPolicy: 'useExisting' }), { runId: run.runId, started: false });
    const fresh = await h.service.startWorkflow({ workflowId: 'c', workflowType: 'greet', taskQueue: 'q', args: [], workflowIdConflictPolicy: 'terminateExisting', workflowIdReusePolicy: 'rejectDuplicate' });
    t.equal(fresh.started, true);
    t.equal((await h.service.describeWorkflow(run)).status, 'terminated');
    // A closed run and rejectDuplicate: refused whatever the conflict policy.
    await h.service.terminateWorkflow({ workflowId: 'c' });
    await t.rejects(
      h.service.startWorkflow({ workflowId: 'c', workflowType: 'greet', taskQueue: 'q', args: [], workflowIdConflictPolicy: 'useExisting', workflowIdReusePolicy: 'rejectDuplicate' }),
      { code: 'DEJA_ALREADY_STARTED' },
    );
  });

  t.test('start delay: a signal waits for the first task; a cancel request does not', async (t) => {
    const h = await setup(t, makeStore);
    const run = await h.start({ startDelayMs: 30 * MIN });
    await h.service.signalWorkflow({ ...run, signalName: 's', args: [] });
    t.equal(await h.poll(), null, 'the signal does not start the run early');
    t.equal((await h.service.describeWorkflow(run)).executionTime, new Date(T0 + 30 * MIN).toISOString());
    await h.service.requestCancelWorkflow(run);
    const task = await h.task();
    t.equal(task.runId, run.runId, 'a cancel request does');
    await h.service.completeWorkflowTask(task.taskToken, [cmd.cancelled()]);
    await h.at(T0 + 30 * MIN);
    t.equal(await h.poll(), null, 'the backoff timer went with the early task');
    t.same(
      (await h.history(run)).map((e) => e.type),
      ['workflowExecutionStarted', 'workflowExecutionSignaled', 'workflowExecutionCancelRequested', 'workflowTaskScheduled', 'workflowTaskStarted', 'workflowTaskCompleted', 'workflowExecutionCanceled'],
    );
  });

  t.test('a bad child cron schedule fails the task with a clear error', async (t) => {
    const h = await setup(t, makeStore);
    await h.start();
    const task = await h.task();
    await t.rejects(h.service.completeWorkflowTask(task.taskToken, [cmd.child(1, 'kid', { cronSchedule: 'whenever' })]), /startChildWorkflow cronSchedule: .*"whenever"/);
  });

  t.test('suggestContinueAsNew and historySizeBytes on every workflowTaskStarted', async (t) => {
    const h = await setup(t, makeStore, { warnHistoryEvents: 8 });
    const run = await h.start();
    for (let i = 1; i <= 3; i++) {
      await h.runTask([cmd.timer(i, 1000)]);
      await h.at(h.clock.ms + 1000);
    }
    const task = await h.task();
    await h.service.completeWorkflowTask(task.taskToken, [cmd.complete()]);
    const started = (await h.history(run)).filter((e): e is Extract<HistoryEvent, { type: 'workflowTaskStarted' }> => e.type === 'workflowTaskStarted');
    t.same(
      started.map((e) => [e.eventId, e.suggestContinueAsNew]),
      [
        [3, false],
        [8, false],
        [13, true],
        [18, true],
      ],
    );
    t.ok(started.every((e, i) => e.historySizeBytes! > 0 && (i === 0 || e.historySizeBytes! > started[i - 1].historySizeBytes!)));
  });
}

t.test('memory store', async (t) => chainSuite(t, () => new MemoryStore()));
t.test('SQLite store', async (t) => chainSuite(t, () => new SqliteStore(path.join(dir, `chain-${++files}.db`))));

