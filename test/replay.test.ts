// The replay engine on its own: hand-built histories, a scripted runner in place of an isolate,
// and the real isolate for the same histories. Checks activations, command matching and the
// DeterminismViolationError it gives.
import t from 'tap';
import * as path from 'node:path';
import { ReplayMachine, type ActivationRunner } from '../lib/replay';
import { DeterminismViolationError, InvalidHistoryError, WorkflowTaskFailedError } from '../lib/errors';
import { makeHistory } from '../lib/history';
import type { HistoryEvent, NewEvent } from '../lib/history/events';
import type { Activation, ActivationCompletion, Command } from '../runtime/protocol';
import { replayHistory } from '../lib/testing/replay';
import { HistoryBuilder } from './support/history';

/** A run of `workflowType` on task queue "q", its events 1 ms apart. */
const builder = (workflowType: string, input: unknown[] = []) =>
  new HistoryBuilder({ workflowType, taskQueue: 'q', randomnessSeed: 'seed', startMs: Date.UTC(2026, 0, 1) + 1, stepMs: 1 }).start(input);

/** The order workflow's history (see test/workflows): greet, charge, greet, complete. */
function orderHistory(): HistoryEvent[] {
  const b = builder('orderWorkflow', ['ann', 3]);
  b.activityCompleted(b.activity('greet', '1', b.workflowTask()), 'hi');
  b.activityCompleted(b.activity('charge', '2', b.workflowTask()), 'paid');
  b.activityCompleted(b.activity('greet', '3', b.workflowTask()), 'bye');
  b.completeWorkflow(b.workflowTask(), 'hi | paid | bye');
  return b.events;
}

/** A runner that answers each activation with the next scripted command list, recording activations. */
function scripted(...answers: Command[][]): ActivationRunner & { seen: Activation[] } {
  const seen: Activation[] = [];
  return {
    seen,
    activate(activation): ActivationCompletion {
      seen.push(activation);
      return { ok: true, commands: answers[seen.length - 1] ?? [], logs: [] };
    },
  };
}
const sched = (seq: number, activityType: string): Command => ({ type: 'scheduleActivity', seq, activityId: String(seq), activityType, args: [] });

t.test('activations: one per completed task, timed at its start, jobs in Temporal order', async (t) => {
  const runner = scripted([sched(1, 'greet')], [sched(2, 'charge')], [sched(3, 'greet')], [{ type: 'completeWorkflow', result: 'hi | paid | bye' }]);
  const machine = new ReplayMachine(runner);
  const events = orderHistory();
  t.equal(machine.advance(events), undefined, 'no live task in a closed history');
  machine.finish();
  t.ok(machine.isClosed);
  t.equal(runner.seen.length, 4);
  t.same(runner.seen[0].jobs, [{ type: 'startWorkflow', workflowType: 'orderWorkflow', args: ['ann', 3] }]);
  t.same(runner.seen[1].jobs, [{ type: 'resolveActivity', seq: 1, result: { status: 'completed', result: 'hi' } }]);
  t.equal(runner.seen[1].timestamp, Date.parse(events.find((e) => e.eventId === 9)!.eventTime));
  t.ok(runner.seen.every((a) => a.isReplaying));
});

t.test('signals that arrive while a task runs go to the next activation, before other jobs', async (t) => {
  const b = builder('x');
  const s1 = b.add({ type: 'workflowTaskScheduled', taskQueue: 'q', attempt: 1 });
  const st1 = b.add({ type: 'workflowTaskStarted', scheduledEventId: s1 });
  b.add({ type: 'workflowExecutionSignaled', signalName: 'early', input: [1] }); // mid-task
  const c1 = b.add({ type: 'workflowTaskCompleted', scheduledEventId: s1, startedEventId: st1 });
  const timer = b.add({ type: 'timerStarted', timerId: '1', startToFireTimeoutMs: 5, workflowTaskCompletedEventId: c1 });
  b.add({ type: 'timerFired', timerId: '1', startedEventId: timer });
  b.add({ type: 'workflowExecutionSignaled', signalName: 'late', input: [] });
  const s2 = b.add({ type: 'workflowTaskScheduled', taskQueue: 'q', attempt: 1 });
  const st2 = b.add({ type: 'workflowTaskStarted', scheduledEventId: s2 });
  const runner = scripted([{ type: 'startTimer', seq: 1, startToFireTimeoutMs: 5 }], [{ type: 'completeWorkflow' }]);
  const machine = new ReplayMachine(runner);
  const live = machine.advance(b.events);
  t.equal(live?.startedEventId, st2, 'the last task has no completion: it is live');
  t.equal(runner.seen[1].isReplaying, false);
  t.same(runner.seen[1].jobs, [
    { type: 'signalWorkflow', signalName: 'early', args: [1] },
    { type: 'signalWorkflow', signalName: 'late', args: [] },
    { type: 'fireTimer', seq: 1 },
  ]);
});

t.test('a reset (a failed task with newRandomnessSeed) re-seeds first thing in the next activation', async (t) => {
  const b = builder('x');
  const c1 = b.workflowTask();
  const timer = b.add({ type: 'timerStarted', timerId: '1', startToFireTimeoutMs: 5, workflowTaskCompletedEventId: c1 });
  b.add({ type: 'timerFired', timerId: '1', startedEventId: timer });
  const s2 = b.add({ type: 'workflowTaskScheduled', taskQueue: 'q', attempt: 1 });
  const st2 = b.add({ type: 'workflowTaskStarted', scheduledEventId: s2 });
  b.add({ type: 'workflowTaskFailed', scheduledEventId: s2, startedEventId: st2, cause: 'resetWorkflow', failure: { kind: 'application', message: 'reset' }, newRandomnessSeed: 'after reset' });
  b.add({ type: 'workflowExecutionSignaled', signalName: 'go', input: [] });
  b.completeWorkflow(b.workflowTask());
  const runner = scripted([{ type: 'startTimer', seq: 1, startToFireTimeoutMs: 5 }], [{ type: 'completeWorkflow' }]);
  const machine = new ReplayMachine(runner);
  machine.advance(b.events);
  machine.finish();
  t.equal(runner.seen.length, 2, 'the failed task is skipped');
  t.same(runner.seen[1].jobs, [
    { type: 'updateRandomSeed', randomnessSeed: 'after reset' },
    { type: 'signalWorkflow', signalName: 'go', args: [] },
    { type: 'fireTimer', seq: 1 },
  ]);
  // A failed task without a new seed re-seeds nothing.
  const plain = builder('x');
  plain.workflowTask('failed');
  plain.completeWorkflow(plain.workflowTask());
  const plainRunner = scripted([{ type: 'completeWorkflow' }]);
  new ReplayMachine(plainRunner).advance(plain.events);
  t.same(plainRunner.seen[0].jobs.map((j) => j.type), ['startWorkflow']);
});

t.test('a failed task attempt is skipped and its jobs go to the next attempt', async (t) => {
  const b = builder('x');
  const s1 = b.add({ type: 'workflowTaskScheduled', taskQueue: 'q', attempt: 1 });
  const st1 = b.add({ type: 'workflowTaskStarted', scheduledEventId: s1 });
  b.add({ type: 'workflowTaskFailed', scheduledEventId: s1, startedEventId: st1, cause: 'workflowError', failure: { kind: 'application', message: 'bug' } });
  const s2 = b.add({ type: 'workflowTaskScheduled', taskQueue: 'q', attempt: 2 });
  const st2 = b.add({ type: 'workflowTaskStarted', scheduledEventId: s2 });
  const c2 = b.add({ type: 'workflowTaskCompleted', scheduledEventId: s2, startedEventId: st2 });
  b.completeWorkflow(c2);
  const runner = scripted([{ type: 'completeWorkflow' }]);
  new ReplayMachine(runner).advance(b.events);
  t.equal(runner.seen.length, 1);
  t.same(runner.seen[0].jobs.map((j) => j.type), ['startWorkflow']);
});

t.test('nondeterminism names the event, the recorded event and the emitted command', async (t) => {
  const wrongType = new ReplayMachine(scripted([sched(1, 'greet')], [sched(2, 'refund')]));
  const error = t.throws(() => wrongType.advance(orderHistory())) as DeterminismViolationError;
  t.ok(error instanceof DeterminismViolationError);
  t.equal(error.code, 'DEJA_NONDETERMINISM');
  t.equal(error.eventId, 11);
  t.match(error.recorded, { type: 'activityTaskScheduled', activityType: 'charge' });
  t.match(error.emitted, { type: 'scheduleActivity', activityType: 'refund' });
  t.match(error.message, /at event 11: history recorded activityTaskScheduled charge \(activityId 2\) but the workflow emitted scheduleActivity refund/);

  const tooFew = new ReplayMachine(scripted([sched(1, 'greet')], []));
  t.throws(() => tooFew.advance(orderHistory()), { name: 'DeterminismViolationError', message: /emitted nothing/ });

  const tooMany = new ReplayMachine(scripted([sched(1, 'greet'), { type: 'startTimer', seq: 1, startToFireTimeoutMs: 5 }]));
  t.throws(() => tooMany.advance(orderHistory()), { name: 'DeterminismViolationError', message: /emitted startTimer 1 \(5 ms\), which history does not record/ });

  const extraAtEnd = new ReplayMachine(scripted([sched(1, 'greet')], [sched(2, 'charge')], [sched(3, 'greet')], [{ type: 'completeWorkflow' }, sched(4, 'greet')]));
  extraAtEnd.advance(orderHistory());
  t.throws(() => extraAtEnd.finish(), DeterminismViolationError);
});

t.test('bad histories: gaps, unknown timers and activities', async (t) => {
  const events = orderHistory();
  t.throws(() => new ReplayMachine(scripted()).advance([events[0], events[2]]), { name: 'InvalidHistoryError', message: /expected event 2, got event 3/ });
  const b = builder('x');
  b.workflowTask();
  b.add({ type: 'timerFired', timerId: '7', startedEventId: 4 });
  const error = t.throws(() => new ReplayMachine(scripted([])).advance(b.events)) as InvalidHistoryError;
  t.ok(error instanceof InvalidHistoryError);
  t.equal(error.eventId, 5);
});

t.test('an event type the machine does not know is refused, naming the event, never skipped', async (t) => {
  const b = builder('x');
  b.workflowTask();
  // As a newer deja might write it: unknown to this one.
  b.add({ type: 'nexusOperationStarted', operationId: 'c' } as unknown as NewEvent);
  for (const type of ['nexusOperationStarted', 'constructor', '__proto__', 'toString']) {
    const events = b.events.map((e) => (e.eventId === 5 ? ({ ...e, type } as unknown as HistoryEvent) : e));
    const error = t.throws(() => new ReplayMachine(scripted([])).advance(events)) as InvalidHistoryError;
    t.ok(error instanceof InvalidHistoryError, type);
    t.match(error, { code: 'DEJA_INVALID_HISTORY', eventId: 5, field: 'type', message: `event 5 has type "${type}", which this version of deja does not know` }, type);
  }
});

t.test('a command of a kind history does not know is a mismatch, named in the message', async (t) => {
  const odd = new ReplayMachine(scripted([{ type: 'scheduleNexusOperation', seq: 1 } as unknown as Command]));
  t.throws(() => odd.advance(orderHistory()), {
    name: 'DeterminismViolationError',
    eventId: 5,
    message: /history recorded activityTaskScheduled greet \(activityId 1\) but the workflow emitted an unknown command "scheduleNexusOperation"/,
  });
});

t.test('replayHistory with the real isolate: clean, and failing on a mutated history', async (t) => {
  const workflowsPath = path.join(__dirname, 'workflows', 'index.ts');
  const good = makeHistory('wf-1', 'run-1', orderHistory());
  await t.resolves(replayHistory({ workflowsPath }, good));
  const edited = structuredClone(good);
  (edited.events[10] as { activityType: string }).activityType = 'refund';
  await t.rejects(replayHistory({ workflowsPath }, edited), { name: 'DeterminismViolationError', eventId: 11 });
  const otherType = structuredClone(good);
  (otherType.events[0] as { workflowType: string }).workflowType = 'timersWorkflow';
  await t.rejects(replayHistory({ workflowsPath }, otherType), DeterminismViolationError);
  const missing = structuredClone(good);
  (missing.events[0] as { workflowType: string }).workflowType = 'noSuchWorkflow';
  await t.rejects(replayHistory({ workflowsPath }, missing), WorkflowTaskFailedError);
  await t.rejects(replayHistory({ workflowsPath }, '{"format": "deja.history"'), { name: 'InvalidHistoryError', message: /not valid JSON/ });
  await t.rejects(replayHistory({} as never, good), /exactly one of workflowsPath or workflowBundle/);
});

t.test('replayHistory keeps its isolate warm between calls, never a context, and recovers from a lost isolate', async (t) => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const { disposeIdleReplayPools } = await import('../lib/testing/replay');
  t.teardown(disposeIdleReplayPools);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-warm-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const workflowsPath = path.join(dir, 'workflows.ts');
  // Module state: a second run in the same context would see started === 2 and emit a timer.
  fs.writeFileSync(
    workflowsPath,
    `import { sleep } from 'deja/workflow';
let started = 0;
export async function counted(): Promise<number> {
  started++;
  if (started > 1) await sleep(1000);
  return started;
}
export async function hog(): Promise<number> {
  const kept: number[][] = [];
  for (;;) kept.push(new Array(1_000_000).fill(started));
}
`,
  );
  const { bundleWorkflowCode } = await import('../lib/bundler');
  const workflowBundle = await bundleWorkflowCode({ workflowsPath });
  const runOf = (workflowType: string) => {
    const b = builder(workflowType);
    b.completeWorkflow(b.workflowTask(), 1);
    return makeHistory('wf-1', 'run-1', b.events);
  };
  const options = { workflowBundle, memoryLimitMb: 16, activationTimeoutMs: 5_000 };
  for (let i = 0; i < 3; i++) await t.resolves(replayHistory(options, runOf('counted')), `replay ${i + 1}: a fresh context each time, so module state starts over`);
  await t.rejects(replayHistory(options, runOf('hog')), /memory/i, 'a replay that exhausts the isolate fails');
  await t.resolves(replayHistory(options, runOf('counted')), 'the next call with the same options works (the lost isolate is replaced)');
  // The process is not held open by a warm pool: a child that replays once exits on its own.
  const { spawnSync } = await import('node:child_process');
  const script = `require('${path.join(__dirname, '..', 'dist', 'lib', 'testing', 'replay.js').replace(/\\/g, '/')}').replayHistory(${JSON.stringify({ workflowBundle })}, ${JSON.stringify(runOf('counted'))}).then(() => console.log('replayed'))`;
  const scriptPath = path.join(dir, 'replay-once.js');
  fs.writeFileSync(scriptPath, script);
  const child = spawnSync(process.execPath, ['--no-node-snapshot', scriptPath], { encoding: 'utf8', timeout: 60_000 });
  t.equal(child.error, undefined);
  t.equal(child.signal, null, 'the child exited by itself, not killed at the 60 s guard');
  t.equal(child.status, 0, child.stderr);
  t.match(child.stdout, /replayed/);
});
