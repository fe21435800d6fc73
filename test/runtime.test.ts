// The runtime inside a real isolate: scripted activations → completions, golden values for the
// PRNG and dates, isolation between executions, and the sandbox limits.
process.env.TZ = 'Asia/Tokyo'; // the host's zone must not leak into workflows (checked below)

import t from 'tap';
import * as path from 'node:path';
import { bundleWorkflowCode, readCodeCache, type WorkflowBundle } from '../lib/bundler';
import { IsolatePool, SandboxMemoryError, SandboxTimeoutError, SandboxDisposedError, UnhandledRejectionError } from '../lib/sandbox';
import { PROTOCOL_VERSION, type Activation, type ActivationCompletion, type ActivationJob, type Command, type InitMessage } from '../runtime/protocol';

const workflowsPath = path.join(__dirname, 'workflows', 'index.ts');
let bundle: WorkflowBundle;
let pool: IsolatePool;

t.before(async () => {
  bundle = await bundleWorkflowCode({ workflowsPath });
  pool = new IsolatePool({ isolatePoolSize: 2, memoryLimitMb: 32, activationTimeoutMs: 1000 });
});
t.teardown(() => pool.dispose());

function initFor(workflowType: string, seed = 'seed', startTime = 1_000): InitMessage {
  return {
    protocolVersion: PROTOCOL_VERSION,
    randomnessSeed: seed,
    info: { workflowId: `wf-${workflowType}`, runId: 'run-1', workflowType, taskQueue: 'q', firstExecutionRunId: 'run-1', attempt: 1, startTime, historyLength: 1, historySize: 0, continueAsNewSuggested: false, searchAttributes: {}, taskTimeoutMs: 10_000 },
  };
}

/**
 * Builders: an execution of `workflowType`, its first activation (the start, plus any `alsoJobs`
 * delivered with it), and later activations.
 */
function start(workflowType: string, args: unknown[] = [], seed = 'seed', startTime = 1_000, alsoJobs: ActivationJob[] = []) {
  const execution = pool.createExecution(bundle, initFor(workflowType, seed, startTime), `workflow wf-${workflowType} (${workflowType})`);
  let n = 3;
  const activate = (timestamp: number, ...jobs: ActivationJob[]): ActivationCompletion => {
    const activation: Activation = { timestamp, isReplaying: false, historyLength: n, historySize: 0, continueAsNewSuggested: false, jobs };
    n += 3;
    return execution.activate(activation);
  };
  const first = activate(startTime, { type: 'startWorkflow', workflowType, args }, ...alsoJobs);
  return { execution, activate, first };
}
/** What `fn` throws (undefined if it returns). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}
const commandsOf = (c: ActivationCompletion): Command[] => {
  if (!c.ok) throw new Error(`expected ok completion, got failure ${c.failure.message}`);
  return c.commands;
};
const fire = (seq: number): ActivationJob => ({ type: 'fireTimer', seq });
const resolved = (seq: number, result?: unknown): ActivationJob => ({ type: 'resolveActivity', seq, result: { status: 'completed', result } });
const signal = (signalName: string, ...args: unknown[]): ActivationJob => ({ type: 'signalWorkflow', signalName, args });

t.test('activities: one command per step, results flow back', async (t) => {
  const { activate, first, execution } = start('orderWorkflow', ['ann', 3]);
  t.match(commandsOf(first), [{ type: 'scheduleActivity', seq: 1, activityId: '1', activityType: 'greet', args: ['ann'], startToCloseTimeoutMs: 10_000 }]);
  t.match(commandsOf(activate(2000, resolved(1, 'hi'))), [{ type: 'scheduleActivity', seq: 2, activityType: 'charge', args: ['ann', 3] }]);
  t.match(commandsOf(activate(3000, resolved(2, 'paid'))), [{ type: 'scheduleActivity', seq: 3, activityType: 'greet' }]);
  t.same(commandsOf(activate(4000, resolved(3, 'bye'))), [{ type: 'completeWorkflow', result: 'hi | paid | bye' }]);
  execution.dispose();
});

t.test('timers: sleep, duration strings and setTimeout are durable timers; Date.now is task time', async (t) => {
  const { activate, first, execution } = start('timersWorkflow', [], 'seed', 10_000);
  t.same(commandsOf(first), [{ type: 'startTimer', seq: 1, startToFireTimeoutMs: 20 }]);
  t.same(commandsOf(activate(10_020, fire(1))), [{ type: 'startTimer', seq: 2, startToFireTimeoutMs: 30 }]);
  t.same(commandsOf(activate(10_050, fire(2))), [{ type: 'startTimer', seq: 3, startToFireTimeoutMs: 10 }]);
  t.same(commandsOf(activate(10_060, fire(3))), [{ type: 'completeWorkflow', result: 60 }]);
  execution.dispose();
});

t.test('signals are buffered until a handler exists; queries are synchronous and read-only', async (t) => {
  const { activate, first, execution } = start('cartWorkflow');
  t.same(commandsOf(first), []);
  t.same(commandsOf(activate(2000, signal('addItem', 'apple'), signal('addItem', 'pear'))), []);
  t.same(execution.query({ queryType: 'items', args: [] }), { ok: true, result: ['apple', 'pear'] });
  const missing = execution.query({ queryType: 'nope', args: [] });
  t.equal(missing.ok, false);
  t.match(!missing.ok && missing.failure.message, /no query handler for "nope"; known queries: items/);
  t.same(commandsOf(activate(3000, signal('checkout'))), [{ type: 'completeWorkflow', result: ['apple', 'pear'] }]);
  execution.dispose();
});

t.test('signals that arrive with the start reach handlers set later', async (t) => {
  const { first, execution } = start('cartWorkflow', [], 'seed', 0, [signal('addItem', 'x'), signal('checkout')]);
  t.same(commandsOf(first), [{ type: 'completeWorkflow', result: ['x'] }]);
  execution.dispose();
});

t.test('condition with a timeout: the timer is cancelled when the condition wins', async (t) => {
  const a = start('approvalWorkflow', [5000]);
  t.same(commandsOf(a.first), [{ type: 'startTimer', seq: 1, startToFireTimeoutMs: 5000 }]);
  t.same(commandsOf(a.activate(2000, signal('approve'))), [{ type: 'cancelTimer', seq: 1 }, { type: 'completeWorkflow', result: 'approved' }]);
  a.execution.dispose();

  const b = start('approvalWorkflow', [5000]);
  t.same(commandsOf(b.activate(6000, fire(1))), [{ type: 'completeWorkflow', result: 'timed out' }]);
  b.execution.dispose();

  // Approved in the same activation as the start: the timer never leaves the isolate.
  const c = start('approvalWorkflow', [5000], 'seed', 0, [signal('approve')]);
  t.same(commandsOf(c.first), [{ type: 'completeWorkflow', result: 'approved' }]);
  c.execution.dispose();
});

t.test('failures: ApplicationFailure fails the workflow; a plain Error fails only the task', async (t) => {
  const f = start('failingWorkflow');
  const failed = f.activate(2000, {
    type: 'resolveActivity',
    seq: 1,
    result: { status: 'failed', failure: { kind: 'activity', message: 'Activity task failed', activityType: 'fail', activityId: '1', retryState: 'nonRetryableFailure', cause: { kind: 'application', message: 'card declined', type: 'CardError', nonRetryable: true } } },
  });
  const cmds = commandsOf(failed);
  t.equal(cmds.length, 1);
  t.match(cmds[0], { type: 'failWorkflow', failure: { kind: 'application', type: 'PaymentError', nonRetryable: true, message: 'payment failed: Activity task failed' } });
  f.execution.dispose();

  const b = start('buggyWorkflow');
  const bug = b.activate(2000, fire(1));
  t.equal(bug.ok, false);
  t.match(!bug.ok && bug.failure, { type: 'TypeError', message: 'oops' });
  b.execution.dispose();

  const w = start('weakRefWorkflow');
  t.equal(w.first.ok, false);
  t.match(!w.first.ok && w.first.failure, { type: 'DeterminismViolationError', message: /WeakRef cannot be used in workflows/ });
  w.execution.dispose();

  const unknown = start('noSuchWorkflow');
  t.equal(unknown.first.ok, false);
  t.match(!unknown.first.ok && unknown.first.failure.message, /workflow type "noSuchWorkflow" is not exported.*orderWorkflow/);
  unknown.execution.dispose();
});

t.test('golden values: Math.random, uuid4, crypto and Date for a fixed seed and time', async (t) => {
  const { first, execution } = start('globalsWorkflow', [], 'seed', 1_000);
  const late = start('globalsWorkflow', [], 'seed', 5_000);
  const result = (commandsOf(late.first)[0] as { result: Record<string, unknown> }).result;
  t.same(result, {
    random: [0.49367685127072036, 0.10407243785448372],
    // Temporal's uuid4 draws (four 32-bit words): what @temporalio/workflow's uuid4FromRandom gives
    // after the same six draws from alea('seed').
    uuid: '09c03630-c184-4570-b857-4a24c9b462a1',
    randomUUID: '3f239e44-34cc-4f05-969e-f8dc128ddf30',
    bytes: [8, 148, 155, 217],
    now: 5000,
    date: '1970-01-01T00:00:05.000Z',
    hours: 0,
    offset: 0,
    localComponents: '2020-01-02T03:04:05.000Z',
    string: 'Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)',
    info: 'globalsWorkflow',
  });
  t.equal(new Date(0).getHours(), 9, 'the host runs in Asia/Tokyo, so the isolate really overrides the zone');
  // Same seed, same values; another seed, other values.
  t.same((commandsOf(first)[0] as { result: { random: number[] } }).result.random, result.random);
  const other = start('globalsWorkflow', [], 'another seed', 5_000);
  t.not((commandsOf(other.first)[0] as { result: { random: number[] } }).result.random[0], (result.random as number[])[0]);
  for (const e of [execution, late.execution, other.execution]) e.dispose();
});

t.test('updateRandomSeed: Math.random, uuid4 and crypto all draw from the new seed from then on', async (t) => {
  type Draws = { random: number; uuid: string; randomUUID: string; bytes: number[] };
  const run = (seed: string, ...jobs: ActivationJob[]) => {
    const r = start('reseedWorkflow', [], seed);
    t.same(commandsOf(r.first), [{ type: 'startTimer', seq: 1, startToFireTimeoutMs: 1 }]);
    const done = commandsOf(r.activate(2_000, ...jobs, fire(1)))[0] as { result: { before: Draws; after: Draws } };
    r.execution.dispose();
    return done.result;
  };
  const plain = run('seed');
  const reseeded = run('seed', { type: 'updateRandomSeed', randomnessSeed: 'other seed' });
  const fresh = run('other seed');
  t.same(reseeded.before, plain.before, 'the draws before the job are the old seed\'s');
  t.same(reseeded.after, fresh.before, 'after it, every source starts over from the new seed');
  t.notSame(reseeded.after, plain.after);

  const bad = start('reseedWorkflow');
  const failed = bad.activate(2_000, { type: 'updateRandomSeed', randomnessSeed: '' }, fire(1));
  t.match(!failed.ok && failed.failure.message, /updateRandomSeed: expected a non-empty randomnessSeed string/);
  bad.execution.dispose();
});

t.test('isolation: an execution that mutates globals does not affect another', async (t) => {
  const polluter = start('mutateGlobalsWorkflow');
  t.same(commandsOf(polluter.first), [{ type: 'completeWorkflow', result: 'mutated' }]);
  const observer = start('observeGlobalsWorkflow');
  t.same(commandsOf(observer.first), [{ type: 'completeWorkflow', result: { polluted: null, leaked: null, max: 2 } }]);
  polluter.execution.dispose();
  observer.execution.dispose();
});

t.test('an infinite loop fails the activation at its deadline, naming the workflow; the pool survives', async (t) => {
  const error = thrown(() => start('infiniteLoopWorkflow'));
  t.ok(error instanceof SandboxTimeoutError);
  t.match((error as Error).message, /workflow wf-infiniteLoopWorkflow \(infiniteLoopWorkflow\) ran past its 1000 ms CPU deadline/);
  const ok = start('orderWorkflow', ['x', 1]);
  t.equal(commandsOf(ok.first).length, 1, 'the same pool still runs workflows');
  ok.execution.dispose();
});

t.test('a memory bomb drops its isolate and evicts its executions; the pool rebuilds', async (t) => {
  // Every isolate of the pool holds a bystander, so one of them shares the bomb's isolate.
  const bystanders = [start('cartWorkflow'), start('cartWorkflow'), start('cartWorkflow')];
  const error = thrown(() => start('memoryBombWorkflow'));
  t.ok(error instanceof SandboxMemoryError, `got ${String(error)}`);
  t.match((error as Error).message, /exceeded the isolate memory limit/);
  const evicted = bystanders.filter((b) => b.execution.disposed);
  t.ok(evicted.length >= 1, 'the bystander in the dropped isolate is evicted');
  t.throws(() => evicted[0].execution.query({ queryType: 'items', args: [] }), SandboxDisposedError);
  const fresh = start('orderWorkflow', ['x', 1]);
  t.equal(commandsOf(fresh.first).length, 1, 'a new isolate replaces the dropped one');
  fresh.execution.dispose();
  for (const b of bystanders) b.execution.dispose();
});

t.test('an unhandled rejection fails the activation and discards the context', async (t) => {
  const error = thrown(() => start('unhandledRejectionWorkflow'));
  t.ok(error instanceof UnhandledRejectionError, `got ${String(error)}`);
  t.match((error as Error).message, /an activation of workflow wf-unhandledRejectionWorkflow \(unhandledRejectionWorkflow\) left a promise rejection unhandled: Error: forgotten/);
  t.match((error as Error).stack, /unhandledRejectionWorkflow/, 'the stack inside the isolate is kept');
});

t.test('the V8 code cache is written beside the bundle and reused by the next isolate', async (t) => {
  const dir = t.testdir({});
  const fresh = await bundleWorkflowCode({ workflowsPath, cacheDir: dir });
  t.equal(readCodeCache(fresh), undefined, 'no cache before the first compile');
  const first = new IsolatePool();
  first.createExecution(fresh, initFor('x'), 'w').dispose();
  t.match(first.stats(), { codeCacheHits: 0, codeCacheMisses: 1 });
  first.dispose();
  t.ok((readCodeCache(fresh)?.length ?? 0) > 0, 'the sandbox wrote the cache');
  const second = new IsolatePool();
  second.createExecution(fresh, initFor('x'), 'w').dispose();
  t.match(second.stats(), { codeCacheHits: 1, codeCacheMisses: 0 }, 'a new isolate compiles from the cache');
  second.dispose();
});

t.test('lifetimes: disposed and failed executions leave nothing behind in the pool', async (t) => {
  const leakPool = new IsolatePool({ isolatePoolSize: 2, activationTimeoutMs: 1000 });
  const made = Array.from({ length: 6 }, (_, i) => leakPool.createExecution(bundle, initFor('cartWorkflow'), `cart-${i}`));
  t.equal(leakPool.stats().executions, 6);
  for (const e of made.slice(0, 3)) e.dispose();
  t.equal(leakPool.stats().executions, 3);
  const looping = leakPool.createExecution(bundle, initFor('infiniteLoopWorkflow'), 'loop');
  t.throws(() => looping.activate({ timestamp: 0, isReplaying: false, historyLength: 3, historySize: 0, continueAsNewSuggested: false, jobs: [{ type: 'startWorkflow', workflowType: 'infiniteLoopWorkflow', args: [] }] }), SandboxTimeoutError);
  t.ok(looping.disposed, 'a timed-out execution is disposed');
  t.equal(leakPool.stats().executions, 3);
  for (const e of made.slice(3)) e[Symbol.dispose]();
  t.equal(leakPool.stats().executions, 0, 'no context left');
  leakPool.dispose();
  t.throws(() => leakPool.createExecution(bundle, initFor('cartWorkflow'), 'late'), SandboxDisposedError);
});

t.test('prepared contexts: made ahead, each given to one execution only, and isolated from each other', async (t) => {
  const prepared = new IsolatePool({ preparedContexts: 2, activationTimeoutMs: 1000 });
  t.teardown(() => prepared.dispose());
  const run = async (workflowType: string) => {
    const execution = await prepared.createExecutionAsync(bundle, initFor(workflowType), workflowType);
    const completion = await execution.activateAsync({ timestamp: 1_000, isReplaying: false, historyLength: 3, historySize: 0, continueAsNewSuggested: false, jobs: [{ type: 'startWorkflow', workflowType, args: [] }] });
    return { execution, completion };
  };
  await prepared.prepare(bundle);
  t.equal(prepared.stats().preparedHits, 0, 'preparing starts no execution');
  t.equal(prepared.stats().executions, 0);
  const polluter = await run('mutateGlobalsWorkflow');
  t.same(commandsOf(polluter.completion), [{ type: 'completeWorkflow', result: 'mutated' }]);
  t.equal(prepared.stats().preparedHits, 1, 'the first execution took a prepared context');
  // Whatever the polluter did stays in its own context: the next prepared one never saw it.
  const observer = await run('observeGlobalsWorkflow');
  t.same(commandsOf(observer.completion), [{ type: 'completeWorkflow', result: { polluted: null, leaked: null, max: 2 } }]);
  t.equal(prepared.stats().preparedHits, 2);
  polluter.execution.dispose();
  // A disposed execution's context is gone, not given back: the next ones are fresh ones.
  await prepared.prepare(bundle);
  const after = await run('observeGlobalsWorkflow');
  t.same(commandsOf(after.completion), [{ type: 'completeWorkflow', result: { polluted: null, leaked: null, max: 2 } }]);
  t.equal(prepared.stats().preparedHits, 3);
  t.equal(prepared.stats().executions, 2, 'spares are not executions');
  // The synchronous path takes prepared contexts too.
  await prepared.prepare(bundle);
  const sync = prepared.createExecution(bundle, initFor('observeGlobalsWorkflow'), 'sync');
  t.equal(prepared.stats().preparedHits, 4);
  sync.dispose();
  observer.execution.dispose();
  after.execution.dispose();
  t.equal(prepared.stats().executions, 0);
  // Without the option, nothing is prepared.
  const plain = new IsolatePool();
  await plain.prepare(bundle);
  plain.createExecution(bundle, initFor('x'), 'w').dispose();
  t.equal(plain.stats().preparedHits, 0);
  plain.dispose();
  await t.rejects(prepared.prepare({ ...bundle, protocolVersion: 99 }), /built for protocol 99/);
});

t.test('prepared contexts: a prepare() while the spares are full does not stop later refills', async (t) => {
  const pool = new IsolatePool({ preparedContexts: 1, activationTimeoutMs: 1000 });
  t.teardown(() => pool.dispose());
  for (let i = 1; i <= 3; i++) {
    await pool.prepare(bundle);
    await pool.prepare(bundle); // the spare is there already: nothing to do
    pool.createExecution(bundle, initFor('x'), `x${i}`).dispose();
    t.equal(pool.stats().preparedHits, i, `execution ${i} took a prepared context`);
  }
});

t.test('released executions free their contexts without waiting for the host to collect garbage', async (t) => {
  // Three times more contexts than a 16 MB isolate holds at once: each must be freed for the next.
  const small = new IsolatePool({ memoryLimitMb: 16, activationTimeoutMs: 1000 });
  t.teardown(() => small.dispose());
  let made = 0;
  for (let i = 0; i < 240; i++) {
    const execution = i % 2 ? small.createExecution(bundle, initFor('cartWorkflow'), `cart-${i}`) : await small.createExecutionAsync(bundle, initFor('cartWorkflow'), `cart-${i}`);
    execution.dispose();
    made++;
  }
  t.equal(made, 240);
  t.equal(small.stats().isolates, 1);
});

t.test('pool options are validated', async (t) => {
  t.throws(() => new IsolatePool({ memoryLimitMb: 4 }), /memoryLimitMb must be an integer from 8 to 65536, got number 4/);
  t.throws(() => new IsolatePool({ isolatePoolSize: 0 }), /isolatePoolSize must be an integer from 1 to 64, got number 0/);
  t.throws(() => new IsolatePool({ memoryLimit: 64 } as never), /unknown option "memoryLimit"/);
  t.throws(() => new IsolatePool({ preparedContexts: -1 }), /preparedContexts must be an integer from 0 to 64, got number -1/);
  t.throws(() => new IsolatePool({ preparedContexts: 1.5 }), /preparedContexts must be an integer from 0 to 64/);
  t.throws(() => pool.createExecution({ ...bundle, protocolVersion: 99 }, {} as never, 'x'), /built for protocol 99/);
});

t.test('live activations on the isolate thread (conclude queued behind activate) answer as the synchronous calls do', async (t) => {
  // Each script: the workflow, its start args and extra start jobs, then the later activations' jobs.
  const scripts: { workflowType: string; args: unknown[]; alsoJobs: ActivationJob[]; later: ActivationJob[][] }[] = [
    { workflowType: 'orderWorkflow', args: ['ann', 3], alsoJobs: [], later: [[resolved(1, 'hi')], [resolved(2, 'paid')], [resolved(3, 'bye')]] },
    { workflowType: 'timersWorkflow', args: [], alsoJobs: [], later: [[fire(1)], [fire(2)], [fire(3)]] },
    { workflowType: 'cartWorkflow', args: [], alsoJobs: [], later: [[signal('addItem', 'x')], [signal('addItem', 'y'), signal('checkout')]] },
    { workflowType: 'cartWorkflow', args: [], alsoJobs: [signal('addItem', 'x'), signal('checkout')], later: [] },
    { workflowType: 'approvalWorkflow', args: [5000], alsoJobs: [], later: [[signal('approve')]] },
    { workflowType: 'approvalWorkflow', args: [5000], alsoJobs: [], later: [[fire(1)]] },
    { workflowType: 'failingWorkflow', args: [], alsoJobs: [], later: [[{ type: 'resolveActivity', seq: 1, result: { status: 'failed', failure: { message: 'card declined', kind: 'application', type: 'Error', nonRetryable: false } } }]] },
  ];
  const asyncPool = new IsolatePool({ activationTimeoutMs: 1000, preparedContexts: 1 });
  t.teardown(() => asyncPool.dispose());
  let completions = 0;
  for (const s of scripts) {
    const activations = [[{ type: 'startWorkflow' as const, workflowType: s.workflowType, args: s.args }, ...s.alsoJobs], ...s.later].map(
      (jobs, i): Activation => ({ timestamp: 1_000 + i * 1_000, isReplaying: false, historyLength: 3 + 3 * i, historySize: 0, continueAsNewSuggested: false, jobs }),
    );
    const sync = pool.createExecution(bundle, initFor(s.workflowType), `sync ${s.workflowType}`);
    const live = await asyncPool.createExecutionAsync(bundle, initFor(s.workflowType), `live ${s.workflowType}`);
    for (const activation of activations) {
      const expected = sync.activate(activation);
      t.same(await live.activateAsync(activation), expected, `${s.workflowType}: job ${activation.jobs[0].type} gives the same completion`);
      completions++;
    }
    sync.dispose();
    live.dispose();
  }
  t.equal(completions, 18);
  // A runaway activation still fails at its deadline, and the conclude queued behind it runs no
  // workflow code: the isolate goes on serving the next execution with the right answers.
  const looping = await asyncPool.createExecutionAsync(bundle, initFor('infiniteLoopWorkflow'), 'loop');
  const timeout = await looping
    .activateAsync({ timestamp: 0, isReplaying: false, historyLength: 3, historySize: 0, continueAsNewSuggested: false, jobs: [{ type: 'startWorkflow', workflowType: 'infiniteLoopWorkflow', args: [] }] })
    .then(() => undefined, (error: unknown) => error);
  t.type(timeout, SandboxTimeoutError);
  t.ok(looping.disposed, 'a timed-out execution is disposed');
  const rejecting = await asyncPool.createExecutionAsync(bundle, initFor('unhandledRejectionWorkflow'), 'rejecting');
  const rejected = await rejecting
    .activateAsync({ timestamp: 0, isReplaying: false, historyLength: 3, historySize: 0, continueAsNewSuggested: false, jobs: [{ type: 'startWorkflow', workflowType: 'unhandledRejectionWorkflow', args: [] }] })
    .then(() => undefined, (error: unknown) => error);
  t.type(rejected, UnhandledRejectionError, 'an unhandled rejection is reported as before');
  t.ok(rejecting.disposed);
  const after = await asyncPool.createExecutionAsync(bundle, initFor('cartWorkflow'), 'after');
  const done = await after.activateAsync({ timestamp: 0, isReplaying: false, historyLength: 3, historySize: 0, continueAsNewSuggested: false, jobs: [{ type: 'startWorkflow', workflowType: 'cartWorkflow', args: [] }, signal('addItem', 'z'), signal('checkout')] });
  t.same(commandsOf(done), [{ type: 'completeWorkflow', result: ['z'] }]);
  after.dispose();
  t.equal(asyncPool.stats().executions, 0, 'no context left behind');
});
