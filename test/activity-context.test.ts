// Temporal's activity context under deja's worker (host side): unchanged activity files that import
// `@temporalio/activity` (CommonJS and ESM, with a fake copy of that package installed beside them
// to prove deja's module wins), the info fields, heartbeat details across attempts, cancellation
// delivered by a heartbeat's answer, and asynchronous completion by task token and by ids.
//
// Two tests drive a cancellation by wrapping the real service (memory backend) so that it answers
// cancelRequested, and say so in their names; the engine's own cancel and terminate reach
// activities end to end in test/language.test.ts. No test measures time; every wait is for an event.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Connection, WorkflowClient, AsyncCompletionClient, ActivityNotFoundError, ActivityCancelledError } from '../lib/client';
import { Worker, type ActivityFunction } from '../lib/worker';
import { bundleWorkflowCode, type WorkflowBundle } from '../lib/bundler';
import * as dejaActivity from '../lib/activity';
import { CompleteAsyncError, Context } from '../lib/activity';
import { activityAliasesMechanism } from '../lib/activity/aliases';
import { ApplicationFailure, CancelledFailure } from '../runtime/failure';
import type { ActivityRef, ActivityTask, WorkflowService } from '../lib/service';
import { StaleTaskError } from '../lib/service-errors';
import type { WireFailure } from '../runtime/protocol';

// ── the fixture application, written to a temporary folder ───────────────────────────────────────

const app = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-activity-context-'));
t.teardown(() => fs.rmSync(app, { recursive: true, force: true }));

const write = (file: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(app, file)), { recursive: true });
  fs.writeFileSync(path.join(app, file), text);
};

// A fake of each real package: resolving to these would mean deja's aliases lost.
for (const name of ['activity', 'common']) {
  write(`node_modules/@temporalio/${name}/package.json`, JSON.stringify({ name: `@temporalio/${name}`, version: '0.0.0-fake', main: 'index.js' }));
  write(`node_modules/@temporalio/${name}/index.js`, `exports.FAKE = true;\nexports.Context = { current() { throw new Error('Activity context not initialized'); } };\n`);
}
// A "real" Temporal package that requires @temporalio/activity: it must keep getting its own.
write('node_modules/@temporalio/worker/package.json', JSON.stringify({ name: '@temporalio/worker', version: '0.0.0-fake', main: 'index.js' }));
write('node_modules/@temporalio/worker/index.js', `exports.activity = require('@temporalio/activity');\n`);

/** The activity body shared by both module kinds: everything an activity reads from its context. */
const readInfoBody = `
  const ctx = Context.current();
  const info = ctx.info;
  ctx.log.info('reading my info', { step: 1 });
  log.warn('through the module-level log');
  return {
    same: { activityInfo: activityInfo() === info, heartbeat: typeof heartbeat, sleep: typeof sleep, cancelled: cancelled() === ctx.cancelled, signal: cancellationSignal() === ctx.cancellationSignal },
    classes: { CompleteAsyncError: typeof CompleteAsyncError, CancelledFailure: typeof CancelledFailure, ApplicationFailure: typeof ApplicationFailure },
    info: {
      taskToken: typeof info.taskToken,
      base64TaskToken: info.base64TaskToken === Buffer.from(info.taskToken, 'utf8').toString('base64'),
      activityId: info.activityId,
      activityType: info.activityType,
      workflowExecution: info.workflowExecution,
      workflowType: info.workflowType,
      workflowNamespace: info.workflowNamespace,
      taskQueue: info.taskQueue,
      attempt: info.attempt,
      isLocal: info.isLocal,
      heartbeatDetails: info.heartbeatDetails === undefined ? 'none' : info.heartbeatDetails,
      heartbeatTimeoutMs: info.heartbeatTimeoutMs,
      startToCloseTimeoutMs: info.startToCloseTimeoutMs,
      scheduleToCloseTimeoutMs: info.scheduleToCloseTimeoutMs,
      scheduledTimestampMs: info.scheduledTimestampMs,
      currentAttemptScheduledTimestampMs: info.currentAttemptScheduledTimestampMs,
      startedTimestampMs: info.startedTimestampMs,
    },
  };
`;

write(
  'activities.js',
  `'use strict';
const activityModule = require('@temporalio/activity');
const { Context, activityInfo, heartbeat, sleep, cancelled, cancellationSignal, log, CompleteAsyncError, CancelledFailure } = activityModule;
const { ApplicationFailure } = require('@temporalio/common');
exports.activityModule = activityModule;
exports.commonModule = require('@temporalio/common');
exports.temporalWorkerSees = require('@temporalio/worker').activity;

exports.readInfo = async function readInfo() {${readInfoBody}};

/** Attempt 1 records progress and fails; attempt 2 returns what it finds. */
exports.resumable = async function resumable() {
  const { attempt, heartbeatDetails } = activityInfo();
  if (attempt === 1) {
    heartbeat({ progress: 7 });
    throw ApplicationFailure.retryable('first attempt fails after its heartbeat', 'Flaky');
  }
  return { attempt, heartbeatDetails };
};

/** Heartbeats once (the service answers "cancelled"), then waits for cancellation in one of several ways. */
exports.waitsForCancel = async function waitsForCancel(how) {
  const ctx = Context.current();
  heartbeat('started');
  switch (how) {
    case 'cancelled':
      await cancelled();
      break;
    case 'signal':
      await new Promise((resolve) => ctx.cancellationSignal.addEventListener('abort', resolve, { once: true }));
      cancellationSignal().throwIfAborted();
      break;
    case 'sleep':
      await sleep('1 hour');
      break;
    case 'abortError':
      await new Promise((resolve) => ctx.cancellationSignal.addEventListener('abort', resolve, { once: true }));
      throw new DOMException('the request was aborted', 'AbortError');
    case 'ignores':
      // Never touches \`cancelled\`: its rejection must not be an unhandled one.
      await new Promise((resolve) => ctx.cancellationSignal.addEventListener('abort', resolve, { once: true }));
      return 'finished anyway';
  }
  return 'not cancelled';
};
`,
);

write(
  'activities.mjs',
  `import * as activityModule from '@temporalio/activity';
import { Context, activityInfo, heartbeat, sleep, cancelled, cancellationSignal, log, CompleteAsyncError, CancelledFailure } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
export { activityModule };
export async function readInfo() {${readInfoBody}}
`,
);

write(
  'workflows.ts',
  `import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';

/** Calls one activity and returns its result, or a description of how it failed. */
export async function callActivity(name: string, args: unknown[], options: ActivityOptions): Promise<unknown> {
  try {
    return { result: await (proxyActivities(options) as any)[name](...args) };
  } catch (e: any) {
    return { failed: { name: e.name, message: e.message, cause: e.cause ? { name: e.cause.name, message: e.cause.message, type: e.cause.type } : undefined } };
  }
}
`,
);

/** A real dynamic import: TypeScript's CommonJS output would turn `import()` into `require()`. */
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<Record<string, any>>;

// ── helpers ─────────────────────────────────────────────────────────────────────────────────────

let bundle: WorkflowBundle;
t.before(async () => {
  bundle = await bundleWorkflowCode({ workflowsPath: path.join(app, 'workflows.ts') });
});

interface LogLine {
  workflowId: string;
  level: string;
  message: string;
}

/**
 * A worker on a fresh memory backend. `wrap` may put a thin layer over the service the worker
 * sees; the client and the AsyncCompletionClient speak to the real one.
 */
async function startWorker(activities: Record<string, ActivityFunction>, wrap: (service: WorkflowService) => WorkflowService = (s) => s) {
  const connection = new Connection({ backend: `memory:activity-context-${randomUUID()}` });
  const lines: LogLine[] = [];
  const taskQueue = `q-${randomUUID()}`;
  const worker = await Worker.create({
    connection: { service: wrap(connection.service) },
    taskQueue,
    workflowBundle: bundle,
    activities,
    logger: (line) => lines.push(line),
  });
  const running = worker.run();
  const client = new WorkflowClient(connection.service);
  const start = (name: string, args: unknown[], options: Record<string, unknown> = {}) =>
    client.start('callActivity', {
      taskQueue,
      workflowId: `wf-${randomUUID()}`,
      args: [name, args, { startToCloseTimeout: '1 minute', retry: { maximumAttempts: 1 }, ...options }],
    });
  const close = async () => {
    worker.shutdown();
    await running;
    await connection.close();
  };
  return { connection, client, worker, lines, taskQueue, start, close };
}

/** A layer over a service: each method given replaces the real one; the rest pass through. */
function over(service: WorkflowService, methods: Partial<WorkflowService>): WorkflowService {
  const proxy = Object.create(service) as WorkflowService;
  for (const [name, fn] of Object.entries(methods)) (proxy as unknown as Record<string, unknown>)[name] = fn;
  return proxy;
}

/** A promise with its resolver, to wait for an event. */
function signal<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

// ── resolution ──────────────────────────────────────────────────────────────────────────────────

t.test('@temporalio/activity and @temporalio/common resolve to deja, also with the real packages installed', async (t) => {
  t.ok(activityAliasesMechanism(), `the worker installed the aliases (${activityAliasesMechanism()})`);
  const cjs = require(path.join(app, 'activities.js'));
  t.equal(cjs.activityModule.Context, Context, 'require: deja’s Context, not the fake package');
  t.notOk('FAKE' in cjs.activityModule, 'require: the fake @temporalio/activity was not loaded');
  t.equal(cjs.commonModule.ApplicationFailure, ApplicationFailure, 'require: deja’s @temporalio/common');
  t.equal(cjs.temporalWorkerSees.FAKE, true, 'a real @temporalio package keeps resolving its own @temporalio/activity');

  const esm = await importEsm(path.join(app, 'activities.mjs'));
  t.equal(esm.activityModule.Context, Context, 'import: the same module instance as require');
  t.equal(esm.activityModule.CompleteAsyncError, dejaActivity.CompleteAsyncError);
  t.notOk('FAKE' in esm.activityModule, 'import: the fake @temporalio/activity was not loaded');
});

t.test('an unchanged activity file reads Temporal’s info fields, logs, and finds the helpers (CommonJS and ESM)', async (t) => {
  const cjs = require(path.join(app, 'activities.js'));
  const esm = await importEsm(path.join(app, 'activities.mjs'));
  for (const [kind, readInfo] of [
    ['CommonJS', cjs.readInfo],
    ['ESM', esm.readInfo],
  ] as const) {
    const env = await startWorker({ readInfo });
    try {
      const handle = await env.start('readInfo', [], { startToCloseTimeout: '1 minute', heartbeatTimeout: '30s', scheduleToCloseTimeout: '5 minutes' });
      const { result } = (await handle.result()) as { result: any };
      const scheduled = (await handle.fetchHistory()).events.find((e) => e.type === 'activityTaskScheduled') as { activityId: string };
      t.same(result.same, { activityInfo: true, heartbeat: 'function', sleep: 'function', cancelled: true, signal: true }, `${kind}: the module helpers read the running context`);
      t.same(result.classes, { CompleteAsyncError: 'function', CancelledFailure: 'function', ApplicationFailure: 'function' }, `${kind}: the classes are exported`);
      const info = result.info;
      t.match(
        info,
        {
          taskToken: 'string',
          base64TaskToken: true,
          activityId: scheduled.activityId,
          activityType: 'readInfo',
          workflowExecution: { workflowId: handle.workflowId, runId: handle.runId },
          workflowType: 'callActivity',
          workflowNamespace: 'default',
          taskQueue: env.taskQueue,
          attempt: 1,
          isLocal: false,
          heartbeatDetails: 'none',
          heartbeatTimeoutMs: 30_000,
          startToCloseTimeoutMs: 60_000,
          scheduleToCloseTimeoutMs: 300_000,
        },
        `${kind}: info`,
      );
      t.equal(info.currentAttemptScheduledTimestampMs, info.scheduledTimestampMs, `${kind}: the first attempt was scheduled with the activity`);
      t.ok(info.scheduledTimestampMs > 0 && info.scheduledTimestampMs <= info.startedTimestampMs, `${kind}: scheduled, then started`);
      const mine = env.lines.filter((l) => l.workflowId === handle.workflowId);
      t.same(
        mine.map((l) => [l.level, l.message]),
        [
          ['info', `activity readInfo (${scheduled.activityId}): reading my info {"step":1}`],
          ['warn', `activity readInfo (${scheduled.activityId}): through the module-level log`],
        ],
        `${kind}: log lines name the activity, carry the workflow id, and go to the worker's logger`,
      );
    } finally {
      await env.close();
    }
  }
});

t.test('heartbeat details reach the next attempt', async (t) => {
  const { resumable } = require(path.join(app, 'activities.js'));
  const env = await startWorker({ resumable });
  try {
    const handle = await env.start('resumable', [], { retry: { maximumAttempts: 2, initialInterval: '1ms' } });
    t.same(await handle.result(), { result: { attempt: 2, heartbeatDetails: { progress: 7 } } });
  } finally {
    await env.close();
  }
});

// ── cancellation through heartbeats ─────────────────────────────────────────────────────────────

t.test('the engine answers a heartbeat for an unknown token with cancelRequested', async (t) => {
  const connection = new Connection({ backend: `memory:activity-context-${randomUUID()}` });
  try {
    t.same(await connection.service.heartbeatActivityTask('no-such-token', 'details'), { cancelRequested: true });
  } finally {
    await connection.close();
  }
});

/**
 * A stand-in for the engine's cancel: heartbeats answer cancelRequested for every task (the
 * engine's requestCancel for activities is not built in this branch). Records what the worker
 * reports.
 */
function cancellingService(service: WorkflowService, reports: { token: string; failure?: WireFailure; result?: unknown }[], reported: () => void) {
  return over(service, {
    heartbeatActivityTask: async (token, details) => {
      await service.heartbeatActivityTask(token, details);
      return { cancelRequested: true };
    },
    failActivityTask: async (token, failure) => {
      reports.push({ token, failure });
      await service.failActivityTask(token, failure);
      reported();
    },
    completeActivityTask: async (token, result) => {
      reports.push({ token, result });
      await service.completeActivityTask(token, result);
      reported();
    },
  });
}

t.test('cancellation learned at a heartbeat (stand-in service) reaches cancelled, cancellationSignal and sleep, and is reported as cancelled', async (t) => {
  const { waitsForCancel } = require(path.join(app, 'activities.js'));
  const reports: { token: string; failure?: WireFailure; result?: unknown }[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const env = await startWorker({ waitsForCancel }, (s) => cancellingService(s, reports, () => undefined));
  try {
    for (const how of ['cancelled', 'signal', 'sleep', 'abortError']) {
      reports.length = 0;
      const handle = await env.start('waitsForCancel', [how]);
      const outcome = (await handle.result()) as { failed: { name: string; cause: { name: string } } };
      t.equal(reports.length, 1, `${how}: one report`);
      t.match(reports[0], { failure: { kind: 'cancelled' } }, `${how}: failActivityTask with a 'cancelled' failure`);
      t.match(outcome, { failed: { name: 'ActivityFailure', cause: { name: 'CancelledFailure' } } }, `${how}: the workflow sees the CancelledFailure`);
    }
    reports.length = 0;
    const handle = await env.start('waitsForCancel', ['ignores']);
    t.same(await handle.result(), { result: 'finished anyway' }, 'an activity may finish despite the cancellation');
    t.same(
      reports.map((r) => r.result),
      ['finished anyway'],
      'its result is reported',
    );
    await new Promise((resolve) => setImmediate(resolve));
    t.same(unhandled, [], 'an untouched `cancelled` promise is no unhandled rejection');
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await env.close();
  }
});

t.test('an activity whose task vanished (stand-in: heartbeat says cancelled, the report is stale) is dropped quietly', async (t) => {
  const { waitsForCancel } = require(path.join(app, 'activities.js'));
  const attempts: string[] = [];
  const done = signal();
  const env = await startWorker({ waitsForCancel }, (service) =>
    over(service, {
      heartbeatActivityTask: async () => ({ cancelRequested: true }),
      failActivityTask: async (token) => {
        attempts.push(token);
        done.resolve();
        throw new StaleTaskError('failActivityTask: the activity task token is stale: its run closed');
      },
    }),
  );
  try {
    await env.start('waitsForCancel', ['signal']);
    await done.promise;
    // Let the worker finish handling the refusal before looking at its log.
    await new Promise((resolve) => setImmediate(resolve));
    t.equal(attempts.length, 1, 'the outcome was offered once');
    t.same(env.lines, [], 'nothing was logged');
    t.equal(env.worker.state, 'running', 'the worker runs on');
  } finally {
    await env.close();
  }
});

t.test('heartbeats are throttled: one at once, the next waits, the latest details win', async (t) => {
  const sent: unknown[] = [];
  const firstAnswered = signal();
  const release = signal<{ cancelRequested: boolean }>();
  let blockFirst = true;
  const env = await startWorker(
    {
      async beats(): Promise<string> {
        const ctx = Context.current();
        ctx.heartbeat(1); // sent at once
        ctx.heartbeat(2); // waits: one is in flight
        ctx.heartbeat(3); // replaces 2
        await firstAnswered.promise;
        return 'beaten';
      },
    },
    (service) =>
      over(service, {
        heartbeatActivityTask: async (token, details) => {
          sent.push(details);
          if (blockFirst) {
            blockFirst = false;
            firstAnswered.resolve();
            return release.promise;
          }
          return service.heartbeatActivityTask(token, details);
        },
      }),
  );
  try {
    const handle = await env.start('beats', [], { heartbeatTimeout: '1 minute' });
    await firstAnswered.promise;
    t.same(sent, [1], 'only the first went while it was in flight');
    release.resolve({ cancelRequested: false });
    t.same(await handle.result(), { result: 'beaten' });
    t.same(sent, [1, 3], 'the waiting details were sent once before the outcome, the latest only');
  } finally {
    await env.close();
  }
});

// ── asynchronous completion ─────────────────────────────────────────────────────────────────────

/** An activity that hands its task token out and completes asynchronously; the worker must stay out. */
function asyncActivity() {
  const tokens: { token: string; info: dejaActivity.Info }[] = [];
  const handed = signal();
  const activities = {
    async later(): Promise<never> {
      const info = Context.current().info;
      tokens.push({ token: info.taskToken, info });
      handed.resolve();
      throw new CompleteAsyncError();
    },
  };
  return { tokens, handed, activities };
}

/** Records the worker's own reports, which must be none for an async activity. */
function reportingService(service: WorkflowService, workerReports: string[]) {
  return over(service, {
    completeActivityTask: (token, result) => {
      workerReports.push(`complete ${token}`);
      return service.completeActivityTask(token, result);
    },
    failActivityTask: (token, failure) => {
      workerReports.push(`fail ${token}`);
      return service.failActivityTask(token, failure);
    },
  });
}

t.test('CompleteAsyncError leaves the attempt open; completion by task token from outside completes the workflow', async (t) => {
  const { tokens, handed, activities } = asyncActivity();
  const workerReports: string[] = [];
  const env = await startWorker(activities, (s) => reportingService(s, workerReports));
  try {
    const handle = await env.start('later', []);
    await handed.promise;
    const completion = new AsyncCompletionClient({ connection: env.connection });
    await completion.heartbeat(tokens[0]!.token, { halfway: true });
    await completion.complete(tokens[0]!.token, { done: 'later' });
    t.same(await handle.result(), { result: { done: 'later' } });
    t.same(workerReports, [], 'the worker neither completed nor failed it');
    await t.rejects(completion.complete(tokens[0]!.token, 'again'), { name: 'ActivityNotFoundError', code: 'DEJA_ACTIVITY_NOT_FOUND' }, 'a used token is not found');
    t.ok(new ActivityNotFoundError('x') instanceof ActivityNotFoundError);
  } finally {
    await env.close();
  }
});

t.test('fail, reportCancellation and heartbeat by task token, with the token’s bytes too', async (t) => {
  const { tokens, activities } = asyncActivity();
  const env = await startWorker(activities);
  try {
    const completion = new AsyncCompletionClient(env.connection.service);
    const waitToken = async (n: number) => {
      while (tokens.length < n) await new Promise((resolve) => setImmediate(resolve));
      return tokens[n - 1]!.token;
    };

    const failed = await env.start('later', []);
    await completion.fail(Buffer.from(await waitToken(1), 'utf8'), ApplicationFailure.nonRetryable('gave up outside', 'Outside'));
    t.match(await failed.result(), { failed: { name: 'ActivityFailure', cause: { name: 'ApplicationFailure', message: 'gave up outside', type: 'Outside' } } }, 'fail with the token as bytes');

    const cancelled = await env.start('later', []);
    const token = await waitToken(2);
    await completion.reportCancellation(token, 'details');
    t.match(await cancelled.result(), { failed: { name: 'ActivityFailure', cause: { name: 'CancelledFailure' } } }, 'reportCancellation');
    await t.rejects(completion.heartbeat(token), ActivityCancelledError, 'a heartbeat for an attempt that is over says cancelled');
  } finally {
    await env.close();
  }
});

t.test('completion by ids: the engine’s activityTaskToken finds the running attempt', async (t) => {
  const { handed, activities } = asyncActivity();
  const asked: ActivityRef[] = [];
  const env = await startWorker(activities);
  const service = over(env.connection.service, {
    activityTaskToken: (ref) => {
      asked.push(ref);
      return env.connection.service.activityTaskToken(ref);
    },
  });
  try {
    const completion = new AsyncCompletionClient({ connection: { service } });
    const handle = await env.start('later', [], { activityId: 'charge-1' });
    await handed.promise;
    await completion.complete({ workflowId: handle.workflowId, runId: handle.runId, activityId: 'charge-1' }, 'by ids');
    t.same(await handle.result(), { result: 'by ids' });
    t.same(asked, [{ workflowId: handle.workflowId, runId: handle.runId, activityId: 'charge-1' }], 'the ids went to activityTaskToken');
    await t.rejects(completion.complete({ workflowId: handle.workflowId, activityId: 'nope' }, 1), { name: 'ActivityNotFoundError', code: 'DEJA_ACTIVITY_NOT_FOUND', message: /"nope".* is not open/ });
    await t.rejects(completion.complete({ workflowId: 'no-such-workflow', activityId: 'x' }, 1), { code: 'DEJA_NOT_FOUND' });
  } finally {
    await env.close();
  }
});

t.test('the AsyncCompletionClient refuses bad arguments with what it expected', async (t) => {
  const connection = new Connection({ backend: `memory:activity-context-${randomUUID()}` });
  try {
    const completion = new AsyncCompletionClient({ connection });
    await t.rejects(completion.complete('', 1), { code: 'DEJA_INVALID_ARGUMENT', message: /task token is empty/ });
    await t.rejects(completion.complete(42 as never, 1), { code: 'DEJA_INVALID_ARGUMENT', message: /expected a task token .* or \{ workflowId, runId\?, activityId \}, got/ });
    await t.rejects(completion.complete({ workflowId: 'w' } as never, 1), { code: 'DEJA_INVALID_ARGUMENT', message: /activityId must be a non-empty string/ });
    await t.rejects(completion.complete({ workflowId: 'w', activityId: 'a', runID: 'r' } as never, 1), { code: 'DEJA_INVALID_ARGUMENT', message: /runID/ });
    await t.rejects(completion.complete('no-such-token', 1), { name: 'ActivityNotFoundError', code: 'DEJA_ACTIVITY_NOT_FOUND' }, 'an unknown token');
    // Temporal's options deja does not act on are accepted (and named once in a warning: test/temporal-client.test.ts).
    t.ok(new AsyncCompletionClient({ namespace: 'prod', connection }), "another namespace is accepted: deja's one is used");
    t.throws(() => new AsyncCompletionClient({ namespace: 42 as never, connection }), { code: 'DEJA_INVALID_ARGUMENT', message: /namespace must be a non-empty string/ });
    t.throws(() => new AsyncCompletionClient({ connection: {} as never }), { code: 'DEJA_INVALID_ARGUMENT', message: /connection must be a Connection/ });
    t.throws(() => new AsyncCompletionClient({ conection: connection } as never), { code: 'DEJA_INVALID_ARGUMENT', message: /conection/ });
  } finally {
    await connection.close();
  }
});

t.test('the context outside an activity, CompleteAsyncError across copies, and sleep’s argument', async (t) => {
  t.throws(() => Context.current(), { name: 'IllegalStateError', message: /only be called inside an activity/ });
  const temporalLike = Object.assign(new Error('x'), { [Symbol.for('__temporal_isCompleteAsyncError')]: true });
  t.ok(temporalLike instanceof CompleteAsyncError, 'Temporal’s CompleteAsyncError (its marker) is recognised');
  t.notOk(new Error('x') instanceof CompleteAsyncError);
  const hostile = new Proxy(new Error('x'), {
    get() {
      throw new Error('get trap');
    },
  });
  t.notOk(hostile instanceof CompleteAsyncError, 'a Proxy whose traps throw is not one, and the check does not throw');
  t.equal(new CompleteAsyncError().name, 'CompleteAsyncError');
  const ctx = new Context(
    { attempt: 1 } as dejaActivity.Info,
    new AbortController().signal,
    { heartbeat: () => undefined, log: () => undefined },
  );
  await t.rejects(ctx.sleep('soon'), { code: 'DEJA_INVALID_ARGUMENT', message: /duration/ });
  const aborted = new AbortController();
  aborted.abort(new CancelledFailure('stop'));
  const cancelledCtx = new Context({ attempt: 1 } as dejaActivity.Info, aborted.signal, { heartbeat: () => undefined, log: () => undefined });
  await t.rejects(cancelledCtx.sleep(10), { name: 'CancelledFailure', message: 'stop' }, 'sleep in a cancelled context rejects at once');
  await t.rejects(cancelledCtx.cancelled, { name: 'CancelledFailure', message: 'stop' });
});

t.test('a Context given a signal factory makes its signal once, when first asked, and a signal made after the cancellation starts aborted', async (t) => {
  let made = 0;
  let reason: CancelledFailure | undefined;
  let controller: AbortController | undefined;
  const signal = () => {
    made++;
    controller = new AbortController();
    if (reason !== undefined) controller.abort(reason);
    return controller.signal;
  };
  const lines: string[] = [];
  const hooks = { heartbeat: () => undefined, log: (_level: string, message: string) => void lines.push(message) };
  const ctx = new Context({ attempt: 1 } as dejaActivity.Info, signal, hooks);
  t.equal(made, 0, 'not made by the constructor');
  ctx.log.info('hello', { a: 1 });
  t.same(lines, ['hello {"a":1}'], 'the logger works without the signal');
  t.equal(made, 0, 'nor by the logger');
  reason = new CancelledFailure('cancelled before anyone looked');
  t.equal(ctx.cancellationSignal.aborted, true, 'made aborted: the cancellation came first');
  t.equal(ctx.cancellationSignal.reason, reason);
  await t.rejects(ctx.cancelled, { name: 'CancelledFailure', message: 'cancelled before anyone looked' });
  await t.rejects(ctx.sleep(10), { name: 'CancelledFailure' });
  t.equal(made, 1, 'made once, however often asked');
  t.equal(ctx.cancellationDetails?.cancelRequested, true);

  // Made before the cancellation: aborting it later rejects `cancelled` then.
  let later: AbortController | undefined;
  const ctx2 = new Context({ attempt: 1 } as dejaActivity.Info, () => (later = new AbortController()).signal, hooks);
  const cancelled = ctx2.cancelled;
  t.equal(ctx2.cancellationSignal.aborted, false);
  later!.abort(new CancelledFailure('now'));
  await t.rejects(cancelled, { name: 'CancelledFailure', message: 'now' });
});
