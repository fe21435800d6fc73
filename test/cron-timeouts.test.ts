// Cron workflows, workflow timeouts and retries, the id conflict policy and the start delay, end to
// end (a real worker, sandbox, replay, engine and client on a manual clock: time moves only when
// the test moves it). Failure paths: a cron whose run fails goes on, cancel and terminate stop a
// cron, a run timeout during an activity, an execution timeout across continue-as-new, retries
// with backoff until maximumAttempts, a non-retryable failure, a retry past the execution
// deadline, and bad options.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, WorkflowExecutionAlreadyStartedError, WorkflowIdConflictPolicy } from '../lib/client';
import type { HistoryEvent } from '../lib/history/events';
import { replayHistory } from '../lib/testing/replay';
import { CancelledFailure, TerminatedFailure, TimeoutFailure } from '../runtime/failure';
import { startChainEnv, type ChainEnv } from './support/chain-env';
import { workflowsPath } from './support/env';

let env: ChainEnv;
t.before(async () => {
  env = await startChainEnv();
});
t.teardown(() => env.close());

const MIN = 60_000;
const id = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
async function chain(workflowId: string) {
  return (await env.service.listWorkflows({ workflowId })).executions.reverse();
}
const historyOf = (workflowId: string, runId: string) => env.service.getHistory({ workflowId, runId });
const startedOf = async (workflowId: string, runId: string) => (await historyOf(workflowId, runId))[0] as Extract<HistoryEvent, { type: 'workflowExecutionStarted' }>;
const last = (events: HistoryEvent[]) => events[events.length - 1];
async function failureOf(p: Promise<unknown>): Promise<WorkflowFailedError> {
  const error = await p.then(
    (v) => {
      throw new Error(`expected a failure, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e,
  );
  if (!(error instanceof WorkflowFailedError)) throw error;
  return error;
}
const realWait = (what: string, check: () => Promise<boolean> | boolean) =>
  (async () => {
    for (let i = 0; i < 500; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`never happened: ${what}`);
  })();

t.test('cron: the first run waits for the first fire time; a failed run does not stop it; lastResult and lastFailure; terminate stops it', async (t) => {
  const workflowId = id('cron');
  const t0 = env.clock.now(); // on the hour
  const handle = await env.client.start('cronWorkflow', { taskQueue: env.taskQueue, workflowId, cronSchedule: '*/5 * * * *' });
  await env.settle();
  const first = await historyOf(workflowId, handle.runId!);
  t.same(
    first.map((e) => e.type),
    ['workflowExecutionStarted'],
    'no workflow task before the first fire time',
  );
  t.match(first[0], { cronSchedule: '*/5 * * * *', firstWorkflowTaskBackoffMs: 5 * MIN });
  t.equal((await env.service.describeWorkflow({ workflowId })).executionTime, new Date(t0 + 5 * MIN).toISOString());

  await env.until('three runs closed', async () => ((await chain(workflowId)).filter((r) => r.status !== 'running').length >= 3 ? true : undefined));
  const runs = await chain(workflowId);
  t.same(
    runs.slice(0, 3).map((r) => r.status),
    ['failed', 'completed', 'completed'],
    'the failed run did not stop the cron',
  );
  t.equal(runs[3].status, 'running', 'the fourth run waits for its fire time');
  const results = [];
  for (const [i, run] of runs.slice(0, 3).entries()) {
    const events = await historyOf(workflowId, run.runId);
    t.equal(last(events).type === 'workflowExecutionFailed' || last(events).type === 'workflowExecutionCompleted', true);
    t.equal((last(events) as { newExecutionRunId?: string }).newExecutionRunId, runs[i + 1].runId, `run ${i} names its successor`);
    // Each run's first task ran at its fire time: every 5 minutes after t0.
    const firstTask = events.find((e) => e.type === 'workflowTaskStarted')!;
    t.equal(Date.parse(firstTask.eventTime), t0 + (i + 1) * 5 * MIN, `run ${i} ran at its fire time`);
    if (last(events).type === 'workflowExecutionCompleted') results.push((last(events) as { result?: unknown }).result);
  }
  t.match(last(await historyOf(workflowId, runs[0].runId)), { type: 'workflowExecutionFailed', retryState: 'retryPolicyNotSet' });
  t.match(results[0], /^recovered from: first run fails at /, 'the run after a failure gets lastFailure');
  t.match(results[1], /^recovered from: first run fails\+ at /, 'the next gets lastResult');
  const second = await startedOf(workflowId, runs[1].runId);
  t.match(second, { initiator: 'cronSchedule', continuedFromExecutionRunId: runs[0].runId, firstExecutionRunId: runs[0].runId, continuedFailure: { message: 'first run fails' } });
  t.equal(second.lastCompletionResult, undefined, 'no run had succeeded yet');
  t.equal((await startedOf(workflowId, runs[2].runId)).lastCompletionResult, results[0]);

  // terminate through the handle from start(): it reaches the chain's latest run, and ends it.
  await handle.terminate('enough');
  t.equal((await env.service.describeWorkflow({ workflowId })).status, 'terminated');
  const error = await failureOf(handle.result());
  t.ok(error.cause instanceof TerminatedFailure, 'result() follows the chain to the terminated run');
  env.clock.advance(60 * MIN);
  await env.service.tick();
  await env.settle();
  t.equal((await chain(workflowId)).length, 4, 'no run after the termination');
  // A cron run's history replays (its start event has the cron fields).
  await t.resolves(replayHistory({ workflowsPath }, { format: 'deja.history', version: 1, workflowId, runId: runs[1].runId, events: await historyOf(workflowId, runs[1].runId) } as never));
});

t.test('cron: workflowInfo().cronSchedule is set; cancel stops the cron (a run that lets the cancellation escape)', async (t) => {
  const workflowId = id('cron-cancel');
  const handle = await env.client.start('slowCronWorkflow', { taskQueue: env.taskQueue, workflowId, cronSchedule: '@every 1m' });
  // Cancel while the first run still waits for its fire time: its first task runs at once.
  await handle.cancel();
  await env.until('closed', async () => ((await env.service.describeWorkflow({ workflowId })).status !== 'running' ? true : undefined));
  const error = await failureOf(handle.result());
  t.ok(error.cause instanceof CancelledFailure, 'the run ended cancelled');
  env.clock.advance(10 * MIN);
  await env.service.tick();
  await env.settle();
  t.equal((await chain(workflowId)).length, 1, 'no run after the cancellation');

  const info = (await env.client.execute('chainInfoWorkflow', { taskQueue: env.taskQueue, workflowId: id('info'), args: ['x'], workflowExecutionTimeout: '1 day', workflowRunTimeout: '1 hour', workflowTaskTimeout: '30s' })) as {
    info: Record<string, unknown>;
  };
  t.match(info.info, { executionTimeoutMs: 86_400_000, runTimeoutMs: 3_600_000, taskTimeoutMs: 30_000, cronSchedule: null });
  t.type(info.info.executionExpirationTime, 'number');

  // A cron that is cancelled after some runs: the run that sees it ends, the chain with it.
  const id2 = id('cron-cancel-later');
  const h2 = await env.client.start('slowCronWorkflow', { taskQueue: env.taskQueue, workflowId: id2, cronSchedule: '@every 1m' });
  await env.until('the first run sleeps', async () => ((await historyOf(id2, h2.runId!)).some((e) => e.type === 'timerStarted') ? true : undefined));
  const started = await startedOf(id2, h2.runId!);
  t.equal(started.cronSchedule, '@every 1m');
  await h2.cancel();
  await env.until('closed', async () => ((await env.service.describeWorkflow({ workflowId: id2 })).status === 'cancelled' ? true : undefined));
  t.equal((await chain(id2)).length, 1);
});

t.test('a run timeout during an activity: TIMED_OUT; the activity learns it at its next heartbeat', async (t) => {
  const workflowId = id('run-timeout');
  const handle = await env.client.start('activityUntilTimeoutWorkflow', { taskQueue: env.taskQueue, workflowId, workflowRunTimeout: '1 minute' });
  await realWait('the activity runs', async () => env.held.size > 0 && (await historyOf(workflowId, handle.runId!)).some((e) => e.type === 'activityTaskScheduled'));
  env.clock.advance(MIN);
  await env.service.tick();
  t.equal((await env.service.describeWorkflow({ workflowId })).status, 'timedOut');
  const events = await historyOf(workflowId, handle.runId!);
  t.match(last(events), { type: 'workflowExecutionTimedOut', retryState: 'retryPolicyNotSet' });
  t.notOk('newExecutionRunId' in last(events));
  await realWait('the activity stops at its next heartbeat', () => env.held.size === 0);
  t.pass('the worker let go of the activity');
  const error = await failureOf(handle.result());
  t.ok(error.cause instanceof TimeoutFailure, 'result() throws a TimeoutFailure');
  t.match(error.message, /timed out/);
});

t.test('an execution timeout across continue-as-new ends the chain', async (t) => {
  const workflowId = id('exec-timeout');
  const t0 = env.clock.now();
  const handle = await env.client.start('sleepForeverWorkflow', { taskQueue: env.taskQueue, workflowId, args: [1], workflowExecutionTimeout: '25 minutes' });
  await env.until('closed', async () => ((await env.service.describeWorkflow({ workflowId })).status === 'timedOut' ? true : undefined));
  const runs = await chain(workflowId);
  t.same(
    runs.map((r) => r.status),
    ['continuedAsNew', 'continuedAsNew', 'timedOut'],
  );
  for (const run of runs) {
    t.equal((await startedOf(workflowId, run.runId)).workflowExecutionExpirationTime, new Date(t0 + 25 * MIN).toISOString(), 'one deadline for the chain');
  }
  const closing = last(await historyOf(workflowId, runs[2].runId));
  t.match(closing, { type: 'workflowExecutionTimedOut', retryState: 'timeout' });
  t.equal(Date.parse(closing.eventTime), t0 + 25 * MIN);
  t.ok((await failureOf(handle.result())).cause instanceof TimeoutFailure);
});

t.test('retries: backoff grows until maximumAttempts; a success on a later attempt; non-retryable failures; not past the execution deadline', async (t) => {
  const retry = { initialInterval: '10s', backoffCoefficient: 2, maximumAttempts: 3 };
  const exhausted = id('retry-max');
  const h1 = await env.client.start('retryingWorkflow', { taskQueue: env.taskQueue, workflowId: exhausted, args: [10], retry });
  await env.until('exhausted', async () => ((await chain(exhausted)).every((r) => r.status === 'failed') ? true : undefined));
  const runs = await chain(exhausted);
  t.equal(runs.length, 3, 'three attempts');
  const starts = await Promise.all(runs.map((r) => startedOf(exhausted, r.runId)));
  t.same(
    starts.map((s) => [s.attempt, s.initiator ?? null, s.firstWorkflowTaskBackoffMs ?? 0]),
    [
      [1, null, 0],
      [2, 'retryPolicy', 10_000],
      [3, 'retryPolicy', 20_000],
    ],
  );
  t.match(starts[2], { continuedFailure: { message: 'attempt 2 failed' }, retryPolicy: { initialIntervalMs: 10_000, backoffCoefficient: 2, maximumAttempts: 3 } });
  const closings = await Promise.all(runs.map(async (r) => last(await historyOf(exhausted, r.runId))));
  t.same(
    closings.map((e) => (e as { retryState?: string }).retryState),
    ['inProgress', 'inProgress', 'maximumAttemptsReached'],
  );
  t.match((await failureOf(h1.result())).cause, { message: 'attempt 3 failed' });

  const recovers = id('retry-ok');
  const h2 = await env.client.start('retryingWorkflow', { taskQueue: env.taskQueue, workflowId: recovers, args: [3], retry: { initialInterval: '1s', maximumAttempts: 5 } });
  await env.until('done', async () => ((await env.service.describeWorkflow({ workflowId: recovers })).status === 'completed' ? true : undefined));
  t.equal(await h2.result(), 'attempt 3 succeeded after: attempt 2 failed');

  for (const [name, args, policy] of [
    ['non-retryable failure', [3, true], { initialInterval: '1s' }],
    ['non-retryable error type', [3, false], { initialInterval: '1s', nonRetryableErrorTypes: ['Flaky'] }],
  ] as const) {
    const workflowId = id('no-retry');
    const h = await env.client.start('retryingWorkflow', { taskQueue: env.taskQueue, workflowId, args: [...args], retry: { ...policy } as { initialInterval: string; nonRetryableErrorTypes?: string[] } });
    await env.until('failed', async () => ((await env.service.describeWorkflow({ workflowId })).status === 'failed' ? true : undefined));
    t.equal((await chain(workflowId)).length, 1, `${name}: not retried`);
    t.match(last(await historyOf(workflowId, h.runId!)), { type: 'workflowExecutionFailed', retryState: 'nonRetryableFailure' }, name);
  }

  const deadline = id('retry-deadline');
  const h3 = await env.client.start('retryingWorkflow', { taskQueue: env.taskQueue, workflowId: deadline, args: [3], retry: { initialInterval: '1 hour' }, workflowExecutionTimeout: '30 minutes' });
  await env.until('failed', async () => ((await env.service.describeWorkflow({ workflowId: deadline })).status === 'failed' ? true : undefined));
  t.equal((await chain(deadline)).length, 1, 'a retry that would start past the execution deadline is not made');
  t.match(last(await historyOf(deadline, h3.runId!)), { retryState: 'timeout' });
});

t.test('a child with a retry policy: the parent sees only the chain\'s last run', async (t) => {
  const workflowId = id('parent');
  const handle = await env.client.start('parentOfRetryingChild', { taskQueue: env.taskQueue, workflowId, args: [3] });
  await env.until('done', async () => ((await env.service.describeWorkflow({ workflowId })).status === 'completed' ? true : undefined));
  t.equal(await handle.result(), 'attempt 3 succeeded after: attempt 2 failed');
  const events = await historyOf(workflowId, handle.runId!);
  const initiated = events.find((e) => e.type === 'startChildWorkflowExecutionInitiated');
  t.match(initiated, { retryPolicy: { initialIntervalMs: 1000, maximumAttempts: 5 }, workflowRunTimeoutMs: 3_600_000, workflowExecutionTimeoutMs: 86_400_000 });
  const childRuns = await chain(`${workflowId}-child`);
  t.equal(childRuns.length, 3);
  const closes = events.filter((e) => e.type.startsWith('childWorkflowExecution') && e.type !== 'childWorkflowExecutionStarted');
  t.equal(closes.length, 1, 'one close reported');
  t.match(closes[0], { type: 'childWorkflowExecutionCompleted', runId: childRuns[2].runId });
  t.equal(childRuns[2].parent?.runId, handle.runId, 'the last child run keeps the parent link');
  await t.resolves(replayHistory({ workflowsPath }, await handle.fetchHistory()));
});

t.test('workflowIdConflictPolicy: FAIL (default), USE_EXISTING, TERMINATE_EXISTING', async (t) => {
  const workflowId = id('conflict');
  const first = await env.client.start('approvalWorkflow', { taskQueue: env.taskQueue, workflowId, args: [3_600_000] });
  await env.settle();
  await t.rejects(env.client.start('approvalWorkflow', { taskQueue: env.taskQueue, workflowId, args: [1] }), WorkflowExecutionAlreadyStartedError);
  await t.rejects(env.client.start('approvalWorkflow', { taskQueue: env.taskQueue, workflowId, args: [1], workflowIdConflictPolicy: 'FAIL' }), WorkflowExecutionAlreadyStartedError);
  const same = await env.client.start('approvalWorkflow', { taskQueue: env.taskQueue, workflowId, args: [1], workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING });
  t.equal(same.runId, first.runId, 'USE_EXISTING: the running run');
  const raw = await env.service.startWorkflow({ workflowId, workflowType: 'approvalWorkflow', taskQueue: env.taskQueue, args: [1], workflowIdConflictPolicy: 'useExisting' });
  t.same(raw, { runId: first.runId, started: false });
  const fresh = await env.client.start('approvalWorkflow', { taskQueue: env.taskQueue, workflowId, args: [1], workflowIdConflictPolicy: 'WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING' });
  t.not(fresh.runId, first.runId);
  t.equal((await env.service.describeWorkflow({ workflowId, runId: first.runId })).status, 'terminated', 'TERMINATE_EXISTING: the old run is terminated');
  t.equal((await env.service.describeWorkflow({ workflowId })).runId, fresh.runId);
  t.match(last(await historyOf(workflowId, first.runId!)), { type: 'workflowExecutionTerminated', reason: /TERMINATE_EXISTING/ });
  await env.until('done', async () => ((await env.service.describeWorkflow({ workflowId })).status === 'completed' ? true : undefined));
  t.equal(await fresh.result(), 'timed out');
});

t.test('startDelay: the first task waits; a signal during the delay is seen by it', async (t) => {
  const workflowId = id('delay');
  const t0 = env.clock.now();
  const handle = await env.client.start('approvalWorkflow', { taskQueue: env.taskQueue, workflowId, args: [60_000], startDelay: '1 hour' });
  await env.settle();
  await handle.signal('approve');
  await env.settle();
  t.same(
    (await historyOf(workflowId, handle.runId!)).map((e) => e.type),
    ['workflowExecutionStarted', 'workflowExecutionSignaled'],
    'the signal does not start it early',
  );
  await env.until('done', async () => ((await env.service.describeWorkflow({ workflowId })).status === 'completed' ? true : undefined));
  t.equal(await handle.result(), 'approved');
  const events = await historyOf(workflowId, handle.runId!);
  t.match(events[0], { firstWorkflowTaskBackoffMs: 3_600_000 });
  t.equal(Date.parse(events.find((e) => e.type === 'workflowTaskScheduled')!.eventTime), t0 + 3_600_000);
});

t.test('bad options: clear errors', async (t) => {
  const start = (over: Record<string, unknown>) => env.client.start('chainInfoWorkflow', { taskQueue: env.taskQueue, workflowId: id('bad'), ...over } as never);
  await t.rejects(start({ cronSchedule: 'every day' }), /cronSchedule: the string "every day" has 2 fields; expected five/);
  await t.rejects(start({ cronSchedule: '@fortnightly' }), /is not a cron shortcut/);
  await t.rejects(start({ cronSchedule: '61 * * * *' }), /not a valid cron expression/);
  await t.rejects(start({ cronSchedule: '@daily', startDelay: '1s' }), /startDelay cannot be combined with cronSchedule/);
  await t.rejects(start({ workflowRunTimeout: 'forever' }), /workflowRunTimeout: expected a duration/);
  await t.rejects(start({ workflowExecutionTimeout: 0 }), /workflowExecutionTimeout must be at least 1 ms/);
  await t.rejects(start({ retry: { maximumAttempts: -1 } }), /retry.maximumAttempts must be a non-negative integer/);
  await t.rejects(start({ retry: { backoffCoefficient: 0.5 } }), /retry.backoffCoefficient must be a number ≥ 1/);
  await t.rejects(start({ retry: { maxAttempts: 3 } }), /unknown option "maxAttempts"/);
  await t.rejects(start({ retry: 3 }), /retry must be a RetryPolicy object/);
  await t.rejects(start({ workflowIdConflictPolicy: 'REPLACE' }), /workflowIdConflictPolicy must be one of "FAIL", "USE_EXISTING", "TERMINATE_EXISTING"/);
  await t.rejects(start({ colour: 'red' }), /unknown option "colour"/);
  await t.rejects(
    env.service.startWorkflow({ workflowId: id('raw'), workflowType: 'x', taskQueue: 'q', args: [], workflowIdConflictPolicy: 'sometimes' as never }),
    /workflowIdConflictPolicy/,
  );
});
