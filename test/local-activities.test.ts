// Local activities and sinks, end to end: a worker runs local activities inside the workflow task
// (retried locally, within their timeouts), history records their outcomes as markers, and replay
// (by replayHistory, and by a fresh worker that takes the run over) reads them back without
// calling the activity again. Sinks are called once live and, on replay, only when they ask.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { MemoryStore } from '../lib/backends/memory';
import { SqliteStore } from '../lib/backends/sqlite';
import type { Store } from '../lib/backends/store';
import { LocalWorkflowService } from '../lib/engine';
import { WorkflowClient } from '../lib/client';
import { Worker, type WorkerLogLine, type WorkerOptions } from '../lib/worker';
import { replayHistory } from '../lib/testing/replay';
import { InvalidArgumentError } from '../lib/errors';
import { ApplicationFailure, Context } from '../lib/activity';
import type { HistoryEvent } from '../lib/history/events';
import * as testActivities from './workflows/activities';
import { testBundle, workflowsPath } from './support/env';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-local-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Activities that count their calls. */
function counted() {
  const calls: Record<string, number> = {};
  const count = (name: string) => (calls[name] = (calls[name] ?? 0) + 1);
  const activities = {
    ...testActivities,
    greet: async (name: string) => (count('greet'), testActivities.greet(name)),
    charge: async (customer: string, amount: number) => (count('charge'), testActivities.charge(customer, amount)),
    echo: async (value: string) => (count('echo'), testActivities.echo(value)),
    counted: async () => {
      count('counted');
      const info = Context.current().info;
      return `isLocal=${info.isLocal} attempt=${info.attempt}`;
    },
    flakyTwice: async () => {
      const n = count('flakyTwice');
      if (n < 3) throw new Error(`flaky ${n}`);
      return `ok at attempt ${Context.current().info.attempt}`;
    },
    alwaysFails: async () => {
      count('alwaysFails');
      throw ApplicationFailure.retryable('nope', 'NopeError');
    },
    neverRetried: async () => {
      count('neverRetried');
      throw ApplicationFailure.nonRetryable('no way', 'NoWayError');
    },
    hangs: async () => {
      count('hangs');
      await Context.current().cancelled;
    },
  };
  return { calls, activities };
}

interface Harness {
  service: LocalWorkflowService;
  client: WorkflowClient;
  lines: WorkerLogLine[];
  worker(options?: Partial<WorkerOptions>): Promise<{ worker: Worker; stop(): Promise<void> }>;
  close(): Promise<void>;
}

async function harness(store: Store = new MemoryStore()): Promise<Harness> {
  const service = new LocalWorkflowService({ store });
  const lines: WorkerLogLine[] = [];
  const bundle = await testBundle();
  return {
    service,
    client: new WorkflowClient(service),
    lines,
    async worker(options = {}) {
      const worker = await Worker.create({ connection: { service }, taskQueue: 'local', workflowBundle: bundle, activities: testActivities, logger: (l) => lines.push(l), ...options });
      const running = worker.run();
      return {
        worker,
        async stop() {
          worker.shutdown();
          await running;
        },
      };
    },
    close: () => service.close(),
  };
}

/** Polls `fn` until it holds (never a fixed wait: only how long it takes depends on the machine). */
async function until(what: string, fn: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (await fn()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`gave up waiting until ${what}`);
}

const markers = (events: HistoryEvent[]) => events.filter((e): e is Extract<HistoryEvent, { type: 'localActivityMarkerRecorded' }> => e.type === 'localActivityMarkerRecorded');

t.test('local activities: results recorded as markers, replayed without calling them', async (t) => {
  const h = await harness();
  const { calls, activities } = counted();
  const { stop } = await h.worker({ activities });
  const handle = await h.client.start('localActivityWorkflow', { taskQueue: 'local', workflowId: `la-${randomUUID()}`, args: ['ann'] });
  const result = await handle.result();
  await stop();
  t.equal(result, 'Hello, ann! | charged ann 2.00 | echo Hello, ann! | Hello, after the timer!');
  t.same(calls, { greet: 2, charge: 1, echo: 1 }, 'each local activity ran once');
  const history = await handle.fetchHistory();
  const ms = markers(history.events);
  t.same(
    ms.map((m) => [m.seq, m.activityType, m.attempt, m.result]),
    [
      [1, 'greet', 1, 'Hello, ann!'],
      [2, 'charge', 1, 'charged ann 2.00'],
      [3, 'echo', 1, 'echo Hello, ann!'],
      [4, 'greet', 1, 'Hello, after the timer!'],
    ],
  );
  // Two in the first activation and the third in its follow-up: one workflow task for all three.
  t.equal(new Set(ms.slice(0, 3).map((m) => m.workflowTaskCompletedEventId)).size, 1, 'the first three markers belong to one task');
  t.notOk(history.events.some((e) => e.type === 'activityTaskScheduled'), 'no activity task: the service never ran them');
  const types = history.events.map((e) => e.type);
  t.ok(types.indexOf('timerStarted') > history.events.indexOf(ms[2]), 'the timer comes after the follow-up activation');

  // Replayed from history alone: no activity functions at all, the same commands.
  await replayHistory({ workflowsPath }, history);
  t.same(calls, { greet: 2, charge: 1, echo: 1 }, 'replay called no activity');
  await h.close();
});

t.test('local activities: retried locally until success, until giving up, and not when non-retryable', async (t) => {
  const h = await harness();
  const { calls, activities } = counted();
  const { stop } = await h.worker({ activities });
  const run = async (type: string, options: object) => {
    const handle = await h.client.start('localOutcomeWorkflow', { taskQueue: 'local', workflowId: `la-${type}-${randomUUID()}`, args: [type, options] });
    return { result: await handle.result(), history: await handle.fetchHistory() };
  };
  const flaky = await run('flakyTwice', { startToCloseTimeout: '10s' });
  t.equal(flaky.result, 'completed: ok at attempt 3');
  t.same(markers(flaky.history.events).map((m) => [m.attempt, m.result]), [[3, 'ok at attempt 3']], 'one marker: the attempt that succeeded');

  const fails = await run('alwaysFails', { startToCloseTimeout: '10s', maximumAttempts: 2 });
  t.equal(fails.result, 'failed (maximumAttemptsReached): ApplicationFailure: nope');
  const [marker] = markers(fails.history.events);
  t.equal(marker.attempt, 2);
  t.match(marker.failure, { kind: 'application', type: 'NopeError', message: 'nope' }, 'the marker records the failure');
  t.equal(calls.alwaysFails, 2);

  const never = await run('neverRetried', { startToCloseTimeout: '10s' });
  t.equal(never.result, 'failed (nonRetryableFailure): ApplicationFailure: no way');
  t.equal(calls.neverRetried, 1, 'a non-retryable failure is not retried');

  const info = await run('counted', { startToCloseTimeout: '10s' });
  t.equal(info.result, 'completed: isLocal=true attempt=1', "the activity's Context says it is local");

  // Each replays from its markers.
  for (const r of [flaky, fails, never, info]) await replayHistory({ workflowsPath }, r.history);
  t.same(calls, { flakyTwice: 3, alwaysFails: 2, neverRetried: 1, counted: 1 }, 'replay called none again');
  await stop();
  await h.close();
});

t.test('local activities: an attempt that outlives its timeout, and the workflow task lease', async (t) => {
  const h = await harness();
  const { calls, activities } = counted();
  const { stop } = await h.worker({ activities });
  const handle = await h.client.start('localOutcomeWorkflow', { taskQueue: 'local', workflowId: `la-hangs-${randomUUID()}`, args: ['hangs', { startToCloseTimeout: 30, maximumAttempts: 2 }] });
  t.equal(await handle.result(), 'failed (timeout): TimeoutFailure startToClose: local activity hangs (1) timed out (startToClose timeout)');
  t.equal(calls.hangs, 2, 'a startToClose timeout is retried');
  const [marker] = markers((await handle.fetchHistory()).events);
  t.match(marker, { attempt: 2, failure: { kind: 'timeout', timeoutType: 'startToClose' } });

  const whole = await h.client.start('localOutcomeWorkflow', { taskQueue: 'local', workflowId: `la-close-${randomUUID()}`, args: ['hangs', { scheduleToCloseTimeout: 40 }] });
  t.match(await whole.result(), /^failed \(timeout\): TimeoutFailure scheduleToClose: /, 'scheduleToClose ends every attempt');

  // A task timeout of 250 ms: the local activity is cut at 80% of it, before the lease ends, so the
  // task still completes (with the timeout recorded) instead of timing out.
  const workflowId = `la-lease-${randomUUID()}`;
  await h.service.startWorkflow({ workflowId, workflowType: 'localOutcomeWorkflow', taskQueue: 'local', args: ['hangs', { startToCloseTimeout: '1 hour' }], workflowTaskTimeoutMs: 250 });
  const lease = h.client.getHandle(workflowId);
  t.match(String(await lease.result()), /^failed \(timeout\): TimeoutFailure startToClose: local activity hangs \(1\) timed out: the workflow task's lease would end/);
  t.notOk((await lease.fetchHistory()).events.some((e) => e.type === 'workflowTaskTimedOut'), 'the task did not time out');
  await stop();
  await h.close();
});

t.test('local activities: cancelled before its command is sent, it never runs', async (t) => {
  const h = await harness();
  const { calls, activities } = counted();
  const { stop } = await h.worker({ activities });
  const handle = await h.client.start('localCancelledWorkflow', { taskQueue: 'local', workflowId: `la-cancel-${randomUUID()}`, args: [] });
  t.equal(await handle.result(), 'failed (cancelRequested): CancelledFailure: Local Activity cancelled');
  t.equal(calls.counted, undefined, 'never called');
  t.same(markers((await handle.fetchHistory()).events), [], 'no marker');
  await stop();
  await h.close();
});

t.test('local activities: bad options, and a command without an outcome', async (t) => {
  const h = await harness();
  const { stop } = await h.worker();
  const handle = await h.client.start('localBadOptionsWorkflow', { taskQueue: 'local', workflowId: `la-bad-${randomUUID()}`, args: [] });
  const lines = String(await handle.result()).split('\n');
  t.match(lines[0], /TypeError: proxyLocalActivities: one of startToCloseTimeout or scheduleToCloseTimeout is required/);
  t.match(lines[1], /TypeError: proxyLocalActivities: unknown option "taskQueue"; expected one of: activityId, startToCloseTimeout, scheduleToCloseTimeout, retry, cancellationType/);
  t.match(lines[2], /TypeError: proxyLocalActivities cancellationType: expected one of TRY_CANCEL, WAIT_CANCELLATION_COMPLETED, ABANDON/);
  t.match(lines[3], /TypeError: proxyLocalActivities: expected an options object/);
  t.match(lines[4], /TypeError: patched: expected a non-empty patch id/);
  t.match(lines[5], /TypeError: deprecatePatch: expected a non-empty patch id \(a string\), got number/);
  await stop();

  // The service never runs a local activity: a command without its outcome is refused.
  const started = await h.service.startWorkflow({ workflowId: `la-raw-${randomUUID()}`, workflowType: 'localActivityWorkflow', taskQueue: 'raw', args: ['x'] });
  void started;
  const task = await h.service.pollWorkflowTask('raw', 'test', new AbortController().signal);
  t.ok(task && task.kind === 'workflow');
  await t.rejects(
    h.service.completeWorkflowTask(task!.taskToken, [{ type: 'scheduleLocalActivity', seq: 1, activityId: '1', activityType: 'greet', args: ['x'], startToCloseTimeoutMs: 1000 }]),
    { name: 'InvalidArgumentError', message: /scheduleLocalActivity greet \(seq 1\) has no outcome; a local activity runs in the worker, which must run it/ },
  );
  await h.close();
});

t.test('sinks: called once live, not again on replay unless they ask; failures and unknown sinks logged', async (t) => {
  const h = await harness();
  const { calls, activities } = counted();
  const seen: string[] = [];
  const sinks = {
    audit: {
      record: { fn: (info: { workflowType: string }, event: string, n: number) => void seen.push(`record ${info.workflowType} ${event} ${n}`) },
      replayed: { fn: (_: unknown, event: string) => void seen.push(`replayed ${event}`), callDuringReplay: true },
    },
    broken: {
      throws: { fn: () => { throw new Error('sink exploded'); } },
      rejects: { fn: async () => { throw new Error('sink rejected'); } },
    },
  };
  const first = await h.worker({ activities, sinks });
  const handle = await h.client.start('sinkWorkflow', { taskQueue: 'local', workflowId: `sinks-${randomUUID()}`, args: [] });
  // The first task (and its local activity's follow-up activation) is done once a second task can come.
  await until('the first task completed', async () => (await handle.fetchHistory()).events.some((e) => e.type === 'workflowTaskCompleted'));
  await first.stop();
  t.same(seen, ['record sinkWorkflow start 1', 'replayed start replaying=false', 'record sinkWorkflow after local activity 2'], 'live: each call once, in order');
  t.equal(h.lines.filter((l) => /sink missing\.nobodyHome, which this worker was not given/.test(l.message)).length, 1, 'an unknown sink is reported once');
  t.ok(h.lines.some((l) => l.level === 'error' && /sink broken\.throws failed: sink exploded/.test(l.message)), 'a sink that throws is logged');
  t.ok(h.lines.some((l) => l.level === 'error' && /sink broken\.rejects failed: sink rejected/.test(l.message)), 'a sink that rejects is logged');

  // A fresh worker takes the run over: it replays the first task (the local activity from its marker).
  seen.length = 0;
  const second = await h.worker({ activities, sinks });
  await handle.signal('go');
  t.equal(await handle.result(), 'done');
  await second.stop();
  t.same(
    seen,
    ['replayed start replaying=true', 'record sinkWorkflow after go 3', 'replayed after go replaying=false'],
    'replayed: only the sink that asks; then the live task once',
  );
  t.equal(calls.counted, 1, 'the local activity was not run again');
  await h.close();
});

t.test('sinks: the option is checked', async (t) => {
  const bundle = await testBundle();
  const service = new LocalWorkflowService({ store: new MemoryStore() });
  const create = (sinks: unknown) => Worker.create({ connection: { service }, taskQueue: 'q', workflowBundle: bundle, sinks: sinks as never });
  await t.rejects(create(42), InvalidArgumentError);
  await t.rejects(create({ audit: 5 }), { message: /sinks\.audit must be an object of sink functions/ });
  await t.rejects(create({ audit: { record: () => undefined } }), { message: /sinks\.audit\.record must be \{ fn\(workflowInfo, \.\.\.args\), callDuringReplay\?: boolean \}/ });
  await t.rejects(create({ audit: { record: { fn: () => undefined, callDuringReplay: 'yes' } } }), { message: /callDuringReplay must be a boolean/ });
  await t.rejects(create({ audit: { record: { fn: () => undefined, often: true } } }), { message: /unknown option "often"/ });
  await service.close();
});

t.test('local activities and patches on SQLite', async (t) => {
  const h = await harness(new SqliteStore(path.join(dir, 'local.db')));
  const { calls, activities } = counted();
  const { stop } = await h.worker({ activities });
  const handle = await h.client.start('localActivityWorkflow', { taskQueue: 'local', workflowId: `la-sqlite-${randomUUID()}`, args: ['sql'] });
  t.equal(await handle.result(), 'Hello, sql! | charged sql 2.00 | echo Hello, sql! | Hello, after the timer!');
  const patchedRun = await h.client.start('patchWorkflow', { taskQueue: 'local', workflowId: `patch-sqlite-${randomUUID()}`, args: ['sql'] });
  await until('the patch is recorded', async () => (await patchedRun.fetchHistory()).events.some((e) => e.type === 'activityTaskCompleted'));
  await patchedRun.signal('go');
  t.equal(await patchedRun.result(), 'charged sql 1.00 (patched: true)');
  await stop();
  for (const run of [handle, patchedRun]) await replayHistory({ workflowsPath }, await run.fetchHistory());
  t.same(calls, { greet: 2, charge: 2, echo: 1 });
  await h.close();
});
