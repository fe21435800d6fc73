// Property: record a run of a randomly generated workflow script with random signal timings, then
// replay its history. Scripts use activities, timers, signals, conditions, randomness,
// cancellation scopes (cancelled by hand, with a timeout, and non-cancellable inside a cancelled
// one), child workflows, and external signals (to itself, and to a workflow that does not exist). The replay emits exactly the recorded commands (the replay engine checks
// every one), and replaying the same history twice gives byte-identical commands. Runs are
// recorded on a manual clock (test/support/manual-env.ts): signal delays are clock advances, so
// a logged seed gives the same runs again.
import t from 'tap';
import fc from 'fast-check';
import { IsolatePool } from '../lib/sandbox';
import { ReplayMachine, initFromStart } from '../lib/replay';
import type { History, WorkflowExecutionStartedEvent } from '../lib/history/events';
import type { Command } from '../runtime/protocol';
import type { Step } from './workflows';
import { testBundle } from './support/env';
import { startManualEnv, type ManualEnv } from './support/manual-env';

let env: ManualEnv;
let pool: IsolatePool;
t.before(async () => {
  env = await startManualEnv();
  pool = new IsolatePool();
});
t.teardown(async () => {
  pool.dispose();
  await env.close();
});

/** Replays a history in a fresh context and returns every command of every activation, serialized. */
async function replayCommands(history: History): Promise<string> {
  const start = history.events[0] as WorkflowExecutionStartedEvent;
  const execution = pool.createExecution(await testBundle(), initFromStart(start), history.workflowId);
  const all: Command[][] = [];
  try {
    const machine = new ReplayMachine({
      activate(activation) {
        const completion = execution.activate(activation);
        if (completion.ok) all.push(completion.commands);
        return completion;
      },
    });
    const live = machine.advance(history.events);
    if (live) throw new Error('a closed history has no live task');
    machine.finish();
  } finally {
    execution.dispose();
  }
  return JSON.stringify(all);
}

/** What a recording decides: each event's type, its time after the start, and which signal or timer it is. */
function shape(history: History): unknown[] {
  const start = Date.parse(history.events[0].eventTime);
  const id = history.workflowId;
  // A child's run id is new in every recording; its workflow id is the parent's plus a suffix.
  return history.events.map((e) => [
    e.type,
    Date.parse(e.eventTime) - start,
    'signalName' in e ? e.signalName : 'timerId' in e ? e.timerId : 'workflowId' in e && e.type !== 'workflowExecutionStarted' ? e.workflowId.replace(id, '') : undefined,
  ]);
}

const name = fc.constantFrom('a', 'b');
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('activity' as const), arg: fc.string({ maxLength: 5 }) }),
  fc.record({ kind: fc.constant('timer' as const), ms: fc.integer({ min: 1, max: 15 }) }),
  fc.record({ kind: fc.constant('signal' as const), name }),
  fc.record({ kind: fc.constant('condition' as const), name, timeoutMs: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ kind: fc.constant('random' as const) }),
  fc.record({ kind: fc.constant('scope' as const), mode: fc.constantFrom('cancel' as const, 'timeout' as const), ms: fc.integer({ min: 1, max: 15 }), timeoutMs: fc.integer({ min: 1, max: 15 }) }),
  fc.record({ kind: fc.constant('shielded' as const), arg: fc.string({ maxLength: 5 }) }),
  fc.record({ kind: fc.constant('child' as const), arg: fc.string({ maxLength: 5 }) }),
  fc.record({ kind: fc.constant('external' as const), target: fc.constantFrom('self' as const, 'missing' as const) }),
  fc.record({ kind: fc.constant('patch' as const), id: fc.constantFrom('p1', 'p2') }),
  fc.record({ kind: fc.constant('upsert' as const), value: fc.string({ minLength: 1, maxLength: 5 }) }),
  fc.record({ kind: fc.constant('local' as const), arg: fc.string({ maxLength: 5 }) }),
);
/** A script and the times its signals are sent: enough of each for every step that waits on one. */
const scenario = fc.array(step, { minLength: 1, maxLength: 7 }).chain((steps) => {
  const needed = steps.flatMap((s) => (s.kind === 'signal' || s.kind === 'condition' ? [s.name] : []));
  return fc.tuple(fc.constant(steps), fc.array(fc.integer({ min: 0, max: 25 }), { minLength: needed.length, maxLength: needed.length })).map(([steps, delays]) => ({
    steps,
    signals: needed.map((n, i) => ({ name: n, afterMs: delays[i] })),
  }));
});

t.test('the same scenario records the same history; the same history gives the same commands, the recorded ones', async (t) => {
  const seed = Number(process.env.DEJA_PROPERTY_SEED ?? Date.now() % 2 ** 31);
  t.comment(`fast-check seed ${seed} (rerun with DEJA_PROPERTY_SEED=${seed})`);
  let runs = 0;
  const seenTypes = new Set<string>();
  await fc.assert(
    fc.asyncProperty(scenario, async ({ steps, signals }) => {
      const history = await env.record('scriptedWorkflow', [steps], signals);
      const again = await env.record('scriptedWorkflow', [steps], signals);
      if (JSON.stringify(shape(again)) !== JSON.stringify(shape(history))) {
        throw new Error(`the same scenario recorded twice gave different histories:\n${JSON.stringify(shape(history))}\n${JSON.stringify(shape(again))}`);
      }
      const last = history.events[history.events.length - 1];
      if (last.type !== 'workflowExecutionCompleted') throw new Error(`the run did not complete: ${JSON.stringify(last)}`);
      const first = await replayCommands(history);
      const second = await replayCommands(history);
      if (first !== second) throw new Error('two replays of one history gave different commands');
      for (const e of history.events) seenTypes.add(e.type);
      runs++;
    }),
    { seed, numRuns: Number(process.env.DEJA_PROPERTY_RUNS ?? 60), interruptAfterTimeLimit: 120_000 },
  );
  t.ok(runs > 0, `${runs} recorded runs replayed identically`);
  if (runs >= 30) {
    // The scripts reach the new kinds of command: a sample this size always does.
    for (const type of [
      'timerCanceled',
      'childWorkflowExecutionCompleted',
      'externalWorkflowExecutionSignaled',
      'signalExternalWorkflowExecutionFailed',
      'activityTaskCompleted',
      'patchMarkerRecorded',
      'upsertWorkflowSearchAttributes',
      'workflowPropertiesModified',
      'localActivityMarkerRecorded',
    ]) {
      t.ok(seenTypes.has(type), `the recorded runs include ${type}`);
    }
  }
});
