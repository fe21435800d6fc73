// Continue-as-new end to end (a real worker, sandbox, replay, engine and client on a manual clock):
// the chain keeps its workflow id and first run id, each run knows the one it continues,
// handle.result() follows the chain (or, with followRuns: false, throws
// WorkflowContinuedAsNewError), a continue-as-new from a signal handler with new options, a
// caught and rethrown ContinueAsNew, bad options, continueAsNewSuggested, and the replay of a
// continued run's history.
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { WorkflowContinuedAsNewError, WorkflowFailedError } from '../lib/client';
import type { HistoryEvent } from '../lib/history/events';
import { replayHistory } from '../lib/testing/replay';
import { startChainEnv, type ChainEnv } from './support/chain-env';
import { workflowsPath } from './support/env';

let env: ChainEnv;
t.before(async () => {
  env = await startChainEnv();
});
t.teardown(() => env.close());

const id = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const closed = (workflowId: string, runId?: string) => async () => {
  const d = await env.service.describeWorkflow({ workflowId, ...(runId ? { runId } : {}) });
  return d.status !== 'running' ? d : undefined;
};
/** The runs of a workflow id, oldest first. */
async function chain(workflowId: string) {
  const page = await env.service.listWorkflows({ workflowId });
  return page.executions.reverse();
}
const last = (events: HistoryEvent[]) => events[events.length - 1];

t.test('a countdown through continue-as-new: one workflow id, the first run id kept, result() follows to the last run', async (t) => {
  const workflowId = id('countdown');
  const handle = await env.client.start('countdownWorkflow', { taskQueue: env.taskQueue, workflowId, args: [3] });
  const firstRunId = handle.runId!;
  // The chain's last run completes; the latest run is it.
  await env.until('the chain ends', async () => {
    const d = await env.service.describeWorkflow({ workflowId });
    return d.status === 'completed' ? d : undefined;
  });
  const runs = await chain(workflowId);
  t.equal(runs.length, 4, 'four runs: 3, 2, 1, 0');
  t.same(
    runs.map((r) => r.status),
    ['continuedAsNew', 'continuedAsNew', 'continuedAsNew', 'completed'],
  );
  t.equal(runs[0].runId, firstRunId);
  t.equal(runs[0].firstExecutionRunId, undefined, 'describe names the first run only for a continued run');
  for (let i = 1; i < runs.length; i++) {
    t.equal(runs[i].firstExecutionRunId, firstRunId, `run ${i} keeps the first run id`);
    t.equal(runs[i].continuedFromExecutionRunId, runs[i - 1].runId, `run ${i} continues run ${i - 1}`);
  }
  const result = (await handle.result()) as { seen: number[]; info: Record<string, unknown> };
  t.same(result.seen, [3, 2, 1], 'each run passed its arguments on');
  t.match(result.info, { runId: runs[3].runId, firstExecutionRunId: firstRunId, continuedFromExecutionRunId: runs[2].runId, attempt: 1 });
  t.equal(handle.firstExecutionRunId, firstRunId, 'the handle keeps the first run id');
  t.equal(handle.runId, firstRunId, 'the handle still names the run it started');

  const history = (await handle.fetchHistory()).events;
  const closing = last(history);
  t.match(closing, { type: 'workflowExecutionContinuedAsNew', newExecutionRunId: runs[1].runId, workflowType: 'countdownWorkflow', taskQueue: env.taskQueue, input: [2, [3]] });
  const started = (await env.service.getHistory({ workflowId, runId: runs[1].runId }))[0];
  t.match(started, { type: 'workflowExecutionStarted', initiator: 'workflow', continuedFromExecutionRunId: firstRunId, firstExecutionRunId: firstRunId, input: [2, [3]] });

  // Without following: the run continued as new.
  const pinned = env.client.getHandle(workflowId, firstRunId, { followRuns: false });
  const error = await pinned.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(error instanceof WorkflowContinuedAsNewError, 'followRuns: false → WorkflowContinuedAsNewError');
  t.equal((error as WorkflowContinuedAsNewError).newExecutionRunId, runs[1].runId);
  t.same(await env.client.getHandle(workflowId, runs[2].runId).result(), result, 'a handle to a middle run follows too');
  t.throws(() => env.client.getHandle(workflowId, undefined, { followRuns: 'yes' } as never), /followRuns must be true or false/);
  t.throws(() => env.client.getHandle(workflowId, undefined, { follow: true } as never), /unknown option "follow"/);

  // The first run's history replays: its continueAsNew command matches the closing event.
  await t.resolves(replayHistory({ workflowsPath }, await handle.fetchHistory()), 'a continued run replays');
  // And a middle run's, from its own start event.
  const middle = { format: 'deja.history', version: 1, workflowId, runId: runs[1].runId, events: await env.service.getHistory({ workflowId, runId: runs[1].runId }) };
  await t.resolves(replayHistory({ workflowsPath }, middle as never), 'a run started by continue-as-new replays');
});

t.test('continue-as-new from a signal handler, as another workflow type with new timeouts', async (t) => {
  const workflowId = id('from-signal');
  const handle = await env.client.start('continueFromSignalWorkflow', { taskQueue: env.taskQueue, workflowId });
  await env.settle();
  await handle.signal('next', 'tagged');
  await env.until('the chain ends', async () => ((await env.service.describeWorkflow({ workflowId })).status === 'completed' ? true : undefined));
  const result = (await handle.result()) as { tag: string; info: Record<string, unknown> };
  t.equal(result.tag, 'tagged');
  t.match(result.info, { runTimeoutMs: 3_600_000, taskTimeoutMs: 20_000, continuedFromExecutionRunId: handle.runId });
  const runs = await chain(workflowId);
  t.same(
    runs.map((r) => [r.workflowType, r.status]),
    [
      ['continueFromSignalWorkflow', 'continuedAsNew'],
      ['chainInfoWorkflow', 'completed'],
    ],
  );
  const closing = last(await env.service.getHistory({ workflowId, runId: handle.runId! }));
  t.match(closing, { type: 'workflowExecutionContinuedAsNew', workflowType: 'chainInfoWorkflow', workflowRunTimeoutMs: 3_600_000, workflowTaskTimeoutMs: 20_000 });
});

t.test('a ContinueAsNew caught and rethrown still continues; a bad makeContinueAsNewFunc option is a TypeError naming the known ones', async (t) => {
  const workflowId = id('caught');
  const handle = await env.client.start('catchContinueAsNewWorkflow', { taskQueue: env.taskQueue, workflowId, args: [true] });
  await env.until('done', closed(workflowId));
  t.equal(await handle.result(), 'second run');
  const message = await env.client.execute('badContinueAsNewOptionsWorkflow', { taskQueue: env.taskQueue, workflowId: id('bad-options') });
  t.match(message, /^TypeError: makeContinueAsNewFunc: unknown option "workflowTimeout"; expected one of: workflowType, taskQueue, workflowRunTimeout, workflowTaskTimeout, memo, searchAttributes/);
});

t.test('continueAsNewSuggested turns true once the history passes its warning threshold; the next run starts afresh', async (t) => {
  const small = await startChainEnv({ limits: { warnHistoryEvents: 30 } });
  t.teardown(() => small.close());
  const workflowId = id('suggested');
  const handle = await small.client.start('untilSuggestedWorkflow', { taskQueue: small.taskQueue, workflowId, args: [false] });
  await small.until('the chain ends', async () => ((await small.service.describeWorkflow({ workflowId })).status === 'completed' ? true : undefined));
  const result = (await handle.result()) as { continued: boolean; suggested: boolean };
  t.same(result, { continued: true, suggested: false, historyLength: 3 }, 'the new run is not told to continue again');
  const events = await small.service.getHistory({ workflowId, runId: handle.runId! });
  const started = events.filter((e): e is Extract<HistoryEvent, { type: 'workflowTaskStarted' }> => e.type === 'workflowTaskStarted');
  t.ok(started.every((e) => typeof e.historySizeBytes === 'number' && typeof e.suggestContinueAsNew === 'boolean'), 'every workflowTaskStarted carries both');
  t.equal(started[0].suggestContinueAsNew, false);
  t.equal(started[started.length - 1].suggestContinueAsNew, true);
  const firstTrue = started.find((e) => e.suggestContinueAsNew)!;
  t.ok(firstTrue.eventId > 30, `suggested only past 30 events (at event ${firstTrue.eventId})`);
  t.ok(started.every((e, i) => i === 0 || e.historySizeBytes! > started[i - 1].historySizeBytes!), 'historySizeBytes grows');
  t.equal(last(events).type, 'workflowExecutionContinuedAsNew');
  await t.resolves(replayHistory({ workflowsPath }, await handle.fetchHistory()), 'replays with the suggestion read from history');
});

t.test('a failure in the workflow after continue-as-new is the chain\'s result', async (t) => {
  const workflowId = id('fail-after');
  const handle = await env.client.start('retryingWorkflow', { taskQueue: env.taskQueue, workflowId, args: [2] });
  await env.until('done', closed(workflowId));
  const error = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(error instanceof WorkflowFailedError, 'no retry policy: the failure ends it');
  t.match((error as Error).message, /attempt 1 failed/);
});
