// Replay in bulk (ReplayMachine.prepareRecorded, SandboxExecution.activateRecorded): the recorded
// tasks' activations built from history alone, run together, and their commands matched after.
// Checked against the task-at-a-time replay: the same completions, the same errors.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ReplayMachine, type ActivationRunner } from '../lib/replay';
import { initFromStart } from '../lib/replay';
import { IsolatePool } from '../lib/sandbox';
import { bundleWorkflowCode } from '../lib/bundler';
import { readHistoryFile } from '../lib/history';
import type { HistoryEvent, WorkflowExecutionStartedEvent } from '../lib/history/events';
import type { Activation, ActivationCompletion, Command } from '../runtime/protocol';
import { HistoryBuilder } from './support/history';
import { workflowsPath } from './support/env';

const builder = (workflowType: string, input: unknown[] = []) =>
  new HistoryBuilder({ workflowType, taskQueue: 'q', randomnessSeed: 'seed', startMs: Date.UTC(2026, 0, 1) + 1, stepMs: 1 }).start(input);

function orderHistory(): HistoryEvent[] {
  const b = builder('orderWorkflow', ['ann', 3]);
  b.activityCompleted(b.activity('greet', '1', b.workflowTask()), 'hi');
  b.activityCompleted(b.activity('charge', '2', b.workflowTask()), 'paid');
  b.activityCompleted(b.activity('greet', '3', b.workflowTask()), 'bye');
  b.completeWorkflow(b.workflowTask(), 'hi | paid | bye');
  return b.events;
}

const sched = (seq: number, activityType: string): Command => ({ type: 'scheduleActivity', seq, activityId: String(seq), activityType, args: [] });
const ORDER_ANSWERS: Command[][] = [[sched(1, 'greet')], [sched(2, 'charge')], [sched(3, 'greet')], [{ type: 'completeWorkflow', result: 'hi | paid | bye' }]];

/**
 * A scripted runner that can run in bulk: each activation, single or in a batch, takes the next
 * answer. `stopAfter` makes a batch stop after that many; `error` is returned after them.
 */
function scripted(answers: Command[][], options: { bulk?: boolean; stopAfter?: number; error?: Error } = {}) {
  let n = 0;
  const answer = (): ActivationCompletion => ({ ok: true, commands: answers[n++] ?? [], logs: [] });
  const runner: ActivationRunner & { batches: Activation[][]; single: Activation[]; took: number } = {
    batches: [],
    single: [],
    took: 0,
    activate(activation) {
      runner.single.push(activation);
      return answer();
    },
  };
  if (options.bulk !== false) {
    runner.activateRecorded = (activations) => {
      runner.batches.push([...activations]);
      const count = Math.min(activations.length, options.stopAfter ?? activations.length);
      return { completions: Array.from({ length: count }, answer), ...(options.error ? { error: options.error } : {}) };
    };
    runner.tookRecorded = () => void runner.took++;
  }
  return runner;
}

t.test('a fresh machine runs the recorded tasks in one batch, activities keyed by their recorded activityId', async (t) => {
  const runner = scripted(ORDER_ANSWERS);
  const machine = new ReplayMachine(runner);
  t.equal(machine.advance(orderHistory()), undefined);
  machine.finish();
  t.equal(runner.batches.length, 1, 'one batch');
  t.equal(runner.batches[0].length, 4, 'every completed task in it');
  t.equal(runner.single.length, 0, 'nothing one at a time');
  t.equal(runner.took, 4, 'each completion taken');
  t.same(runner.batches[0][1].jobs, [{ type: 'resolveActivity', seq: 0, activityId: '1', result: { status: 'completed', result: 'hi' } }]);
});

t.test('a batch that stops early: the machine goes on one task at a time, keyed by matched seqs', async (t) => {
  const runner = scripted(ORDER_ANSWERS, { stopAfter: 2 });
  const machine = new ReplayMachine(runner);
  machine.advance(orderHistory());
  machine.finish();
  t.equal(runner.single.length, 2);
  t.same(runner.single[0].jobs, [{ type: 'resolveActivity', seq: 2, result: { status: 'completed', result: 'paid' } }]);
});

t.test('an error from the batch is thrown at its task, after the earlier tasks were matched', async (t) => {
  const boom = new Error('boom');
  t.throws(() => new ReplayMachine(scripted(ORDER_ANSWERS, { stopAfter: 2, error: boom })).advance(orderHistory()), boom);
  // A divergence in the tasks before it wins, with the message the task-at-a-time replay gives.
  const diverging = [[sched(1, 'greet')], [sched(2, 'refund')]];
  let single: unknown;
  try {
    new ReplayMachine(scripted(diverging, { bulk: false })).advance(orderHistory());
  } catch (error) {
    single = error;
  }
  t.match(single, { name: 'DeterminismViolationError' });
  t.throws(() => new ReplayMachine(scripted(diverging, { stopAfter: 2, error: boom })).advance(orderHistory()), {
    name: 'DeterminismViolationError',
    message: (single as Error).message,
  });
});

t.test('the real isolate: every replay fixture gives the same completions and errors in bulk as one task at a time', async (t) => {
  const fixtures = path.join(__dirname, '..', 'replay-fixtures');
  const bundles = {
    recorded: await bundleWorkflowCode({ workflowsPath }),
    changed: await bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'workflows', 'changed.ts') }),
  };
  const pool = new IsolatePool();
  t.teardown(() => pool.dispose());
  const replay = (which: keyof typeof bundles, events: HistoryEvent[], bulk: boolean) => {
    const execution = pool.createExecution(bundles[which], initFromStart(events[0] as WorkflowExecutionStartedEvent), 'fixture');
    const completions: ActivationCompletion[] = [];
    let batches = 0;
    const runner: ActivationRunner = {
      activate: (a) => {
        const c = execution.activate(a);
        completions.push(c);
        return c;
      },
    };
    if (bulk) {
      runner.activateRecorded = (as) => (batches++, execution.activateRecorded(as));
      runner.tookRecorded = (c) => void completions.push(c);
    }
    let error: string | undefined;
    try {
      const machine = new ReplayMachine(runner);
      machine.advance(events);
      machine.finish();
    } catch (e) {
      error = `${(e as Error).name}: ${(e as Error).message}`;
    } finally {
      execution.dispose();
    }
    return { completions, error, batches };
  };
  let batched = 0;
  for (const file of fs.readdirSync(fixtures).filter((f) => f.endsWith('.json'))) {
    const events = readHistoryFile(path.join(fixtures, file)).events;
    for (const which of ['recorded', 'changed'] as const) {
      const one = replay(which, events, false);
      const bulk = replay(which, events, true);
      t.same(bulk.completions, one.completions, `${file} against the ${which} code: the same completions`);
      t.equal(bulk.error, one.error, `${file} against the ${which} code: the same outcome`);
      if (which === 'recorded') t.equal(one.error, undefined, `${file} replays cleanly`);
      batched += bulk.batches;
    }
  }
  t.ok(batched > 0, 'some fixtures were replayed in bulk');
});

t.test('a conclude applies the next recorded activation in the same call only when no workflow code could run between', async (t) => {
  const os = await import('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-chain-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'workflows.ts');
  // `watched` keeps a condition pending whose function queues a microtask each time a conclude
  // evaluates it; the signal handler, which runs inside the next activation, reads what it did.
  // Were that activation applied in the conclude's own call, the handler would run before the
  // microtask and see another count: the activity arguments would differ.
  fs.writeFileSync(
    file,
    `import { proxyActivities, condition, defineSignal, setHandler } from 'deja/workflow';
const { step } = proxyActivities<{ step(seen: number[]): Promise<void> }>({ startToCloseTimeout: '1m' });
const poke = defineSignal('poke');
let evaluated = 0;
export async function watched(): Promise<void> {
  const seen: number[] = [];
  setHandler(poke, () => void seen.push(evaluated));
  void condition(() => {
    void Promise.resolve().then(() => evaluated++);
    return false;
  });
  for (let i = 0; i < 4; i++) await step([...seen]);
}
export async function plain(): Promise<void> {
  for (let i = 0; i < 4; i++) await step([i]);
}
`,
  );
  const bundle = await bundleWorkflowCode({ workflowsPath: file });
  const historyOf = (workflowType: string) => {
    const b = builder(workflowType);
    let task = b.workflowTask();
    for (let i = 1; i <= 4; i++) {
      b.activityCompleted(b.activity('step', String(i), task));
      b.add({ type: 'workflowExecutionSignaled', signalName: 'poke', input: [] });
      task = b.workflowTask();
    }
    b.completeWorkflow(task);
    return b.events;
  };
  const run = (events: HistoryEvent[], bulk: boolean) => {
    const pool = new IsolatePool();
    try {
      const execution = pool.createExecution(bundle, initFromStart(events[0] as WorkflowExecutionStartedEvent), 'chain');
      const completions: ActivationCompletion[] = [];
      const runner: ActivationRunner = { activate: (a) => (completions.push(execution.activate(a)), completions.at(-1)!) };
      if (bulk) {
        runner.activateRecorded = (as) => execution.activateRecorded(as);
        runner.tookRecorded = (c) => void completions.push(c);
      }
      const machine = new ReplayMachine(runner);
      machine.advance(events);
      machine.finish();
      execution.dispose();
      return { completions, chained: pool.stats().chainedActivations };
    } finally {
      pool.dispose();
    }
  };
  for (const workflowType of ['watched', 'plain']) {
    const events = historyOf(workflowType);
    const one = run(events, false);
    const bulk = run(events, true);
    t.same(bulk.completions, one.completions, `${workflowType}: the same completions in bulk as one task at a time`);
    t.equal(one.chained, 0, `${workflowType}: nothing is chained one task at a time`);
    if (workflowType === 'watched') {
      t.equal(bulk.chained, 0, 'a pending condition (workflow code in every conclude) is never chained');
      const args = one.completions.flatMap((c) => (c.ok ? c.commands : [])).filter((c) => c.type === 'scheduleActivity').map((c) => (c as { args: unknown[] }).args[0]);
      t.same(args, [[], [1], [1, 2], [1, 2, 3]], 'the handler saw each conclude\'s microtask before it ran');
    } else {
      t.ok(bulk.chained >= 3, `plain: the recorded tasks after the first were applied by the conclude before them (${bulk.chained})`);
    }
  }
});

t.test('a runaway activation in a bulk run: the same completions before it and the same error as one task at a time', async (t) => {
  const os = await import('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-spin-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'workflows.ts');
  fs.writeFileSync(
    file,
    `import { proxyActivities } from 'deja/workflow';
const { step } = proxyActivities<{ step(i: number): Promise<void> }>({ startToCloseTimeout: '1m' });
export async function spins(): Promise<void> {
  for (let i = 0; i < 6; i++) {
    await step(i);
    if (i === 3) for (;;) {}
  }
}
`,
  );
  const bundle = await bundleWorkflowCode({ workflowsPath: file });
  const b = builder('spins');
  let task = b.workflowTask();
  for (let i = 1; i <= 6; i++) {
    b.activityCompleted(b.activity('step', String(i), task));
    task = b.workflowTask();
  }
  b.completeWorkflow(task);
  const events = b.events;
  const run = (bulk: boolean) => {
    const pool = new IsolatePool({ activationTimeoutMs: 300 });
    try {
      const execution = pool.createExecution(bundle, initFromStart(events[0] as WorkflowExecutionStartedEvent), 'spin');
      const completions: ActivationCompletion[] = [];
      const runner: ActivationRunner = { activate: (a) => (completions.push(execution.activate(a)), completions.at(-1)!) };
      if (bulk) {
        runner.activateRecorded = (as) => execution.activateRecorded(as);
        runner.tookRecorded = (c) => void completions.push(c);
      }
      let error: Error | undefined;
      try {
        const machine = new ReplayMachine(runner);
        machine.advance(events);
        machine.finish();
      } catch (e) {
        error = e as Error;
      }
      return { completions, error, chained: pool.stats().chainedActivations };
    } finally {
      pool.dispose();
    }
  };
  const one = run(false);
  const bulk = run(true);
  t.equal(one.completions.length, 4, 'one at a time: the four tasks before the runaway one completed');
  t.same(bulk.completions, one.completions, 'in bulk: the same completions before it');
  t.match(one.error, { name: 'SandboxTimeoutError', message: /CPU deadline/ });
  t.equal(bulk.error?.name, one.error?.name, 'the same error');
  t.equal(bulk.error?.message, one.error?.message);
  t.ok(bulk.chained >= 3, `the tasks before it were applied by the conclude before each, so the runaway one was too (${bulk.chained} chained)`);
});
