// Versioning with patches, end to end: the same patched code replays a history recorded before
// the patch (old branch) and one recorded with it (new branch); a live run recorded before the
// patch goes on through the old branch on a worker running the patched code; deprecatePatch and
// the patch's removal follow Temporal's rules; and the replay machine's marker rules, scripted.
import t from 'tap';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { MemoryStore } from '../lib/backends/memory';
import { LocalWorkflowService } from '../lib/engine';
import { WorkflowClient } from '../lib/client';
import { Worker } from '../lib/worker';
import { bundleWorkflowCode } from '../lib/bundler';
import { replayHistory } from '../lib/testing/replay';
import { ReplayMachine } from '../lib/replay';
import { DeterminismViolationError } from '../lib/errors';
import type { History, HistoryEvent } from '../lib/history/events';
import type { Activation, ActivationCompletion, Command } from '../runtime/protocol';
import * as activities from './workflows/activities';
import { startEnv, workflowsPath } from './support/env';
import { HistoryBuilder } from './support/history';

const versions = path.join(__dirname, 'workflows', 'patch-versions');
const code = {
  before: path.join(versions, 'before.ts'),
  patched: workflowsPath,
  deprecated: path.join(versions, 'deprecated.ts'),
  removed: path.join(versions, 'removed.ts'),
};

/** A run of patchWorkflow recorded with the given code. */
async function record(workflowsPath: string, name: string): Promise<{ history: History; result: unknown }> {
  const env = await startEnv({ workflowBundle: await bundleWorkflowCode({ workflowsPath }) });
  try {
    const history = await env.record('patchWorkflow', [name], [{ name: 'go', afterMs: 10 }]);
    const last = history.events[history.events.length - 1] as { result?: unknown };
    return { history, result: last.result };
  } finally {
    await env.close();
  }
}

const replay = (workflowsPath: string, history: History) => replayHistory({ workflowsPath }, history).then(() => undefined, (error: unknown) => error);
const types = (h: History) => h.events.map((e) => e.type);

t.test('patched: the same code replays histories from before and after the patch', async (t) => {
  const before = await record(code.before, 'ann');
  const after = await record(code.patched, 'bo');
  const deprecated = await record(code.deprecated, 'cy');
  t.equal(before.result, 'Hello, ann! (before the patch)');
  t.equal(after.result, 'charged bo 1.00 (patched: true)');
  t.equal(deprecated.result, 'charged cy 1.00 (deprecated)');
  t.notOk(types(before.history).includes('patchMarkerRecorded'), 'no marker before the patch');
  t.match(after.history.events.find((e) => e.type === 'patchMarkerRecorded'), { patchId: 'charge-first', deprecated: false });
  t.match(deprecated.history.events.find((e) => e.type === 'patchMarkerRecorded'), { patchId: 'charge-first', deprecated: true });

  t.equal(await replay(code.patched, before.history), undefined, 'patched code, history from before the patch: the old branch');
  t.equal(await replay(code.patched, after.history), undefined, 'patched code, history with the patch: the new branch');
  t.equal(await replay(code.patched, deprecated.history), undefined, 'patched code, history with the deprecated marker');

  t.equal(await replay(code.deprecated, after.history), undefined, 'deprecatePatch against a history with the marker');
  const old = await replay(code.deprecated, before.history);
  t.ok(old instanceof DeterminismViolationError, 'deprecatePatch against a history from before the patch: its old branch is gone');
  t.match((old as Error).message, /history recorded activityTaskScheduled greet .* but the workflow emitted scheduleActivity charge/);

  t.equal(await replay(code.removed, deprecated.history), undefined, 'the patch removed: a deprecated marker in history is skipped');
  const removed = await replay(code.removed, after.history);
  t.ok(removed instanceof DeterminismViolationError, 'the patch removed while history has its (non-deprecated) marker');
  t.match((removed as Error).message, /history recorded patchMarkerRecorded "charge-first" but the workflow emitted scheduleActivity charge/);
  t.equal((removed as DeterminismViolationError).eventId, after.history.events.find((e) => e.type === 'patchMarkerRecorded')!.eventId);

  const unpatched = await replay(code.before, after.history);
  t.ok(unpatched instanceof DeterminismViolationError, 'the code from before the patch against a history with its marker');
  t.match((unpatched as Error).message, /patchMarkerRecorded "charge-first"/);
});

t.test('patched: a run started before the patch goes on through the old branch on the patched code', async (t) => {
  const service = new LocalWorkflowService({ store: new MemoryStore() });
  const client = new WorkflowClient(service);
  const start = async (workflowsPath: string) => {
    const worker = await Worker.create({ connection: { service }, taskQueue: 'patch', workflowBundle: await bundleWorkflowCode({ workflowsPath }), activities, logger: () => undefined });
    const running = worker.run();
    return async () => {
      worker.shutdown();
      await running;
    };
  };
  const stopOld = await start(code.before);
  const handle = await client.start('patchWorkflow', { taskQueue: 'patch', workflowId: `patch-${randomUUID()}`, args: ['dee'] });
  // Until the old code has greeted and waits for `go`: the task after the greeting completed.
  for (let i = 0; i < 2000; i++) {
    const events = (await handle.fetchHistory()).events;
    if (events.filter((e) => e.type === 'workflowTaskCompleted').length >= 2) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await stopOld();
  const stopNew = await start(code.patched);
  await handle.signal('go');
  t.equal(await handle.result(), 'Hello, dee! (patched: false)', 'the old branch, and patched() keeps its answer');
  await stopNew();
  const history = await handle.fetchHistory();
  t.notOk(types(history).includes('patchMarkerRecorded'));
  t.equal(await replay(code.patched, history), undefined);
  await service.close();
});

/** A runner that answers each activation with the next scripted commands, and keeps the activations. */
function scripted(...answers: Command[][]) {
  const seen: Activation[] = [];
  let i = 0;
  return {
    seen,
    activate(activation: Activation): ActivationCompletion {
      seen.push(activation);
      return { ok: true, commands: answers[i++] ?? [], logs: [] };
    },
  };
}

/** One task whose commands are recorded by `commandEvents` (appended after its workflowTaskCompleted). */
function oneTask(commandEvents: ((completedId: number) => object)[]): HistoryEvent[] {
  const b = new HistoryBuilder({ workflowType: 'patchWorkflow' }).start();
  const completed = b.workflowTask();
  for (const make of commandEvents) b.add(make(completed) as never);
  return b.events;
}

t.test('replay machine: notifyHasPatch first, and the deprecated-marker rules', async (t) => {
  const marker = (patchId: string, deprecated: boolean) => (completedId: number) => ({ type: 'patchMarkerRecorded', patchId, deprecated, workflowTaskCompletedEventId: completedId });
  const timer = (completedId: number) => ({ type: 'timerStarted', timerId: '1', startToFireTimeoutMs: 5, workflowTaskCompletedEventId: completedId });
  const setMarker = (patchId: string, deprecated: boolean): Command => ({ type: 'setPatchMarker', patchId, deprecated });
  const startTimer: Command = { type: 'startTimer', seq: 1, startToFireTimeoutMs: 5 };

  const runner = scripted([setMarker('p', false), startTimer]);
  const machine = new ReplayMachine(runner);
  machine.advance(oneTask([marker('p', false), timer]));
  machine.finish();
  t.same(runner.seen[0].jobs.map((j) => j.type), ['notifyHasPatch', 'startWorkflow'], 'the patch is announced before the start');

  const skip = new ReplayMachine(scripted([startTimer]));
  skip.advance(oneTask([marker('p', true), timer]));
  t.doesNotThrow(() => skip.finish(), 'a deprecated marker the code does not emit is skipped');

  const drop = new ReplayMachine(scripted([setMarker('p', true), startTimer]));
  drop.advance(oneTask([timer]));
  t.doesNotThrow(() => drop.finish(), 'a deprecated marker history lacks is dropped');

  const dropLast = new ReplayMachine(scripted([startTimer, setMarker('p', true)]));
  dropLast.advance(oneTask([timer]));
  t.doesNotThrow(() => dropLast.finish(), 'also when it is the last command');

  t.throws(() => new ReplayMachine(scripted([startTimer])).advance(oneTask([marker('p', false), timer])), {
    name: 'DeterminismViolationError',
    message: /patchMarkerRecorded "p" but the workflow emitted startTimer/,
  });
  t.throws(() => new ReplayMachine(scripted([setMarker('p', false), startTimer])).advance(oneTask([timer])), {
    name: 'DeterminismViolationError',
    message: /history recorded timerStarted 1 \(5 ms\) but the workflow emitted patched\("p"\) marker/,
  });
  t.throws(() => new ReplayMachine(scripted([setMarker('q', false)])).advance(oneTask([marker('p', false)])), {
    name: 'DeterminismViolationError',
    message: /patchMarkerRecorded "p" but the workflow emitted patched\("q"\) marker/,
  });
});
