// Interceptors (issue 12, item 3): Temporal's workflow interceptors (inbound, outbound), composed
// with the first outermost, from interceptor modules bundled with the workflows (the worker's
// interceptors.workflowModules, bundleWorkflowCode's workflowInterceptorModules, replayHistory's
// interceptors); activity interceptors on the host; clear failures for broken ones; and replay
// with interceptors deterministic. Workflows and interceptor modules: test/workflows/interceptors/.
import tap from 'tap';
const t = tap;
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Connection, WorkflowClient } from '../lib/client';
import { Worker, type WorkerLogLine } from '../lib/worker';
import { bundleWorkflowCode } from '../lib/bundler';
import { replayHistory } from '../lib/testing/replay';
import { DeterminismViolationError, InvalidArgumentError } from '../lib/errors';
import { Context } from '../lib/activity';
import type { History } from '../lib/history/events';
import type { ActivityInterceptorsFactory } from '../lib/worker/interceptors';
import { warningsOf } from './support/warnings';

const dir = path.join(__dirname, 'workflows', 'interceptors');
const workflowsPath = path.join(dir, 'workflows.ts');
const mod = (name: string) => path.join(dir, `${name}.ts`);

interface Env {
  client: WorkflowClient;
  lines: WorkerLogLine[];
  activityCalls: string[];
  close(): Promise<void>;
}

/** A worker on a fresh in-memory backend with these workflow interceptor modules and activity factories. */
async function env(workflowModules: string[], activity: ActivityInterceptorsFactory[] = [], activityInbound: ((ctx: Context) => object)[] = []): Promise<Env> {
  const connection = new Connection({ backend: `memory:icpt-${randomUUID()}` });
  const lines: WorkerLogLine[] = [];
  const activityCalls: string[] = [];
  const worker = await Worker.create({
    connection,
    taskQueue: 'icpt',
    workflowsPath,
    activities: {
      echo: async (s: string) => {
        activityCalls.push(s);
        Context.current().log.info(`echo ${s}`, { act: true });
        return `echo ${s}`;
      },
    },
    interceptors: { workflowModules, activity, activityInbound: activityInbound as never },
    logger: (line) => void lines.push(line),
  });
  const running = worker.run();
  return {
    client: new WorkflowClient(connection.service),
    lines,
    activityCalls,
    async close() {
      worker.shutdown();
      await running;
    },
  };
}

/** Runs `everything` to its end (its signal and update sent from the client); returns its result, trace and history. */
async function runEverything(t: Pick<typeof tap, 'rejects' | 'equal'>, e: Env): Promise<{ result: string[]; trace: string[]; history: History }> {
  const handle = await e.client.start('everything', { taskQueue: 'icpt', workflowId: `everything-${randomUUID()}`, args: ['change-start'] });
  await t.rejects(
    handle.executeUpdate('set', { args: ['reject-me'] }),
    { name: 'WorkflowUpdateFailedError', cause: { message: 'rejected by the interceptor' } },
    'validateUpdate runs before the update is accepted, and may reject it',
  );
  t.equal(await handle.executeUpdate('set', { args: ['change-update'] }), 'set change-update!', 'the update handler got the arguments handleUpdate passed on');
  await handle.signal('go', 'change-go');
  const result = (await handle.result()) as string[];
  const trace = (await handle.query('trace')) as string[];
  return { result, trace, history: await handle.fetchHistory() };
}

t.test('two modules, two interceptors in one: composed with the first outermost, each sees and changes its input', async (t) => {
  const e = await env([mod('first'), mod('second')]);
  try {
    const { result, trace, history } = await runEverything(t, e);
    // The factories run in module order, before the workflows module loads.
    t.same(trace.slice(0, 3), ['factory first', 'factory second', 'workflows loaded']);
    t.same(trace.slice(3, 6), ['first execute in ["change-start"] headers {}', 'first[1] execute in ["change-start!"]', 'second execute in ["change-start!"]']);
    // The child runs with the same interceptors: its execute and handleSignal mark the arguments again.
    t.same(result, ['change-start!', 'echo change-activity!', 'echo change-local!', 'change-child!! change-signal!!', 'change-go!'], 'each changed input reached the workflow, the activities, the child and its signal');
    t.ok(trace.includes('activity echo seq 1 ["change-activity"] timeout 1m'), 'scheduleActivity: type, seq, args and options');
    t.ok(trace.includes('second activity ["change-activity!"]'), 'the inner module sees what the outer passed on');
    t.ok(trace.includes('local activity echo seq 2 ["change-local"]'), 'scheduleLocalActivity: activities and local activities share one sequence, as in Temporal');
    t.ok(trace.includes('timer seq 1 10 ms'), 'startTimer: seq and duration');
    t.ok(trace.includes('child childWorkflow seq 1 id the-child ["change-child"]'), 'startChildWorkflowExecution: type, seq, id, args');
    t.ok(trace.includes('signal out go to {"type":"child","childWorkflowId":"the-child-x"} ["change-signal"]'), 'signalWorkflow: name, target (the id the interceptor gave the child), args');
    t.match(history.events.find((ev) => ev.type === 'startChildWorkflowExecutionInitiated'), { workflowId: 'the-child-x', input: ['change-child!'] }, 'the child started with the id and arguments the interceptor passed on');
    t.ok(trace.includes('first signal go ["change-go"]'), 'handleSignal: name and args');
    t.ok(trace.some((line) => /^first update set \S+ \["change-update"\]$/.test(line)), 'handleUpdate: name, id, args');
    const timer = history.events.find((ev) => ev.type === 'timerStarted') as { startToFireTimeoutMs: number } | undefined;
    t.equal(timer?.startToFireTimeoutMs, 20, 'the timer runs for the duration startTimer passed on');
    t.ok(trace.indexOf('second execute out') < trace.indexOf('first execute out'), 'the outermost finishes last');
    t.equal(trace[trace.length - 1], 'first query trace []', 'handleQuery: an async interceptor answers the query, and may change its answer');
    const handle = e.client.getHandle(history.workflowId);
    await t.rejects(handle.query('noSuchQuery'), { message: /no query handler for "noSuchQuery"/ }, 'a query with no handler fails through the interceptors too');
    const again = (await handle.query('trace')) as string[];
    t.equal(again[again.length - 1], 'first query trace []', 'a closed run answers through its interceptors as well');
    const done = e.lines.find((l) => l.message.includes('done'));
    t.match(done?.message, /done \{"mine":1,"from":"second","seenFrom":"first"\}/, 'getLogAttributes: composed in order, written with the line');
  } finally {
    await e.close();
  }
});

t.test('continueAsNew goes through the interceptors, which may change its arguments', async (t) => {
  const e = await env([mod('first')]);
  try {
    const handle = await e.client.start('continuing', { taskQueue: 'icpt', workflowId: `can-${randomUUID()}`, args: [0] });
    await handle.result();
    const history = await handle.fetchHistory();
    t.match(history.events.at(-1), { type: 'workflowExecutionContinuedAsNew', input: ['change-next!'] });
  } finally {
    await e.close();
  }
});

t.test('activity interceptors run on the host, first outermost; the older activityInbound form too', async (t) => {
  const order: string[] = [];
  const factory =
    (name: string): ActivityInterceptorsFactory =>
    (ctx) => ({
      inbound: {
        async execute(input, next) {
          order.push(`${name} in ${ctx.info.activityType} ${JSON.stringify(input.args)}`);
          const result = await next({ ...input, args: input.args.map((a) => `${a}+${name}`) });
          order.push(`${name} out`);
          return `${result as string} (${name})`;
        },
      },
      outbound: {
        getLogAttributes: (input, next) => next({ ...input, by: name }),
      },
    });
  const legacy = () => ({ execute: async (input: { args: unknown[] }, next: (i: unknown) => Promise<unknown>) => next({ ...input, args: [...input.args.map((a) => `${a}+legacy`)] }) });
  const e = await env([], [factory('a'), factory('b')], [legacy]);
  try {
    const handle = await e.client.start('twoActivities', { taskQueue: 'icpt', workflowId: `act-${randomUUID()}` });
    await handle.result();
    const history = await handle.fetchHistory();
    const completed = history.events.filter((ev) => ev.type === 'activityTaskCompleted').map((ev) => (ev as { result?: unknown }).result);
    t.same(completed.sort(), ['echo a+a+b+legacy (b) (a)', 'echo b+a+b+legacy (b) (a)'], 'inbound execute: the first outermost, each changing the arguments and the result');
    t.same(order.slice(0, 4), ['a in echo ["a"]', 'b in echo ["a+a"]', 'b out', 'a out']);
    t.ok(e.lines.some((l) => /echo a\+a\+b\+legacy/.test(l.message) && /"by":"b"/.test(l.message)), 'outbound getLogAttributes: composed in order (the inner one writes last)');
  } finally {
    await e.close();
  }
});

t.test('replay with interceptors is deterministic; without them, or with others, it diverges', async (t) => {
  const e = await env([mod('yields')]);
  let history: History;
  try {
    const handle = await e.client.start('twoActivities', { taskQueue: 'icpt', workflowId: `yields-${randomUUID()}` });
    await handle.result();
    history = await handle.fetchHistory();
  } finally {
    await e.close();
  }
  t.same(
    history.events.filter((ev) => ev.type === 'timerStarted' || ev.type === 'activityTaskScheduled').slice(0, 2).map((ev) => ev.type),
    ['timerStarted', 'activityTaskScheduled'],
    'the interceptor yields: the timer goes first',
  );
  for (let i = 0; i < 3; i++) await t.resolves(replayHistory({ workflowsPath, interceptors: { workflowModules: [mod('yields')] } }, history), `replay ${i + 1} with the interceptors`);
  await t.rejects(replayHistory({ workflowsPath }, history), DeterminismViolationError, 'without them it diverges');
  const bundle = await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: [mod('yields')] });
  await t.resolves(replayHistory({ workflowBundle: bundle }, history), 'a bundle with the modules replays it too');
  const plain = await bundleWorkflowCode({ workflowsPath });
  t.not(plain.hash, bundle.hash, 'the modules are part of the bundle');
});

t.test('a handleQuery interceptor that never settles fails its query with a clear message; the workflow goes on', async (t) => {
  const e = await env([mod('stuck-query')]);
  try {
    const handle = await e.client.start('everything', { taskQueue: 'icpt', workflowId: `stuck-${randomUUID()}`, args: ['a'] });
    await t.rejects(handle.query('trace'), { message: /handleQuery interceptors did not settle: a query cannot wait for timers, activities or signals/ });
    t.equal(await handle.executeUpdate('set', { args: ['b'] }), 'set b', 'the workflow still answers updates');
    await handle.signal('go', 'c');
    t.ok(Array.isArray(await handle.result()), 'and completes');
  } finally {
    await e.close();
  }
});

t.test('broken interceptors give clear failures, never a crash', async (t) => {
  const e = await env([]);
  let history: History;
  try {
    const handle = await e.client.start('noop', { taskQueue: 'icpt', workflowId: `noop-${randomUUID()}` });
    await handle.result();
    history = await handle.fetchHistory();
  } finally {
    await e.close();
  }
  await t.rejects(replayHistory({ workflowsPath, interceptors: { workflowModules: [mod('broken')] } }, history), {
    message: /interceptor module broken\.ts: its interceptors\(\) threw: the tracing backend is not configured/,
  }, 'a factory that throws fails the execution\'s start with its error, naming the module');
  await t.rejects(replayHistory({ workflowsPath, interceptors: { workflowModules: [mod('not-a-function')] } }, history), {
    message: /interceptor module not-a-function\.ts: expected its "interceptors" export to be a function/,
  }, 'an export that is not a factory is named');
  await t.rejects(replayHistory({ workflowsPath, interceptors: { workflowModules: [path.join(dir, 'missing.ts')] } }, history), {
    constructor: InvalidArgumentError,
    message: /workflowInterceptorModules\[0\] .*missing\.ts does not exist/,
  });
  await t.rejects(replayHistory({ workflowsPath, interceptors: { workflowModules: 'first.ts' } as never }, history), {
    constructor: InvalidArgumentError,
    message: /interceptors\.workflowModules to be an array of module paths/,
  });
  await t.rejects(replayHistory({ workflowsPath, interceptors: { workflow: [] } as never }, history), { constructor: InvalidArgumentError, message: /unknown|workflow/ });
  await t.rejects(bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: [42] as never }), {
    constructor: InvalidArgumentError,
    message: /workflowInterceptorModules to be an array of module paths/,
  });
  await t.rejects(Worker.create({ taskQueue: 'q', activities: {}, interceptors: { activity: [{}] } as never }), {
    constructor: InvalidArgumentError,
    message: /interceptors\.activity\[0\]/,
  });
});

t.test("a prebuilt bundle runs the modules it was built with: workflowModules given beside it are named in a warning, once", async (t) => {
  const workflowBundle = await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: [mod('first')] });
  const connection = new Connection({ backend: `memory:icpt-${randomUUID()}` });
  const warned = await warningsOf(() => Worker.create({ connection, taskQueue: 'q', workflowBundle, interceptors: { workflowModules: [mod('second')] } }));
  t.match(warned, [/^Worker\.create: deja accepts but does not act on the option "interceptors\.workflowModules": a prebuilt workflowBundle runs the interceptor modules it was bundled with/]);
  t.same(await warningsOf(() => Worker.create({ connection, taskQueue: 'q', workflowBundle, interceptors: { workflowModules: [mod('second')] } })), [], 'once per process');
});
