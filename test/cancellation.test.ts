// Cancellation scopes, activity and child cancellation types, child and external workflows, and
// the workflow's own cancellation, in a real isolate: scripted activations → the exact commands
// and what workflow code saw; then hand-built histories with the new events through the replay
// engine, their mutated twins (DeterminismViolationError), and byte-identical commands twice.
import t from 'tap';
import * as path from 'node:path';
import { bundleWorkflowCode, type WorkflowBundle } from '../lib/bundler';
import { IsolatePool } from '../lib/sandbox';
import { ReplayMachine, initFromStart, replayFailures } from '../lib/replay';
import { DeterminismViolationError } from '../lib/errors';
import type { HistoryEvent, WorkflowExecutionStartedEvent } from '../lib/history/events';
import { PROTOCOL_VERSION, type Activation, type ActivationCompletion, type ActivationJob, type Command, type WireFailure } from '../runtime/protocol';
import { HistoryBuilder } from './support/history';

const workflowsPath = path.join(__dirname, 'workflows', 'cancellation.ts');
let bundle: WorkflowBundle;
let pool: IsolatePool;

t.before(async () => {
  bundle = await bundleWorkflowCode({ workflowsPath });
  pool = new IsolatePool({ isolatePoolSize: 1, memoryLimitMb: 32, activationTimeoutMs: 1000 });
});
t.teardown(() => pool.dispose());

// ── builders ───────────────────────────────────────────────────────────────────────────────────

/** An execution of `workflowType`, its first activation (the start plus `alsoJobs`), and `next` for the later ones. */
function start(workflowType: string, args: unknown[] = [], alsoJobs: ActivationJob[] = []) {
  const execution = pool.createExecution(
    bundle,
    {
      protocolVersion: PROTOCOL_VERSION,
      randomnessSeed: 'seed',
      info: { workflowId: `wf-${workflowType}`, runId: 'run-1', workflowType, taskQueue: 'q', firstExecutionRunId: 'run-1', attempt: 1, startTime: 1_000, historyLength: 1, historySize: 0, continueAsNewSuggested: false, searchAttributes: {}, taskTimeoutMs: 10_000 },
    },
    `workflow ${workflowType}`,
  );
  let n = 3;
  const next = (...jobs: ActivationJob[]): ActivationCompletion => {
    const activation: Activation = { timestamp: 1_000 + n, isReplaying: false, historyLength: n, historySize: 0, continueAsNewSuggested: false, jobs };
    n += 3;
    return execution.activate(activation);
  };
  const first = next({ type: 'startWorkflow', workflowType, args }, ...alsoJobs);
  t.teardown(() => execution.dispose());
  return { first, next };
}
const commandsOf = (c: ActivationCompletion): Command[] => {
  if (!c.ok) throw new Error(`expected an ok completion, got the failure ${c.failure.type}: ${c.failure.message}`);
  return c.commands;
};
/** The result of the completeWorkflow command the completion must end with. */
const resultOf = (c: ActivationCompletion): unknown => {
  const commands = commandsOf(c);
  const last = commands[commands.length - 1];
  if (last?.type !== 'completeWorkflow') throw new Error(`expected completeWorkflow, got ${JSON.stringify(commands)}`);
  return last.result;
};
const fire = (seq: number): ActivationJob => ({ type: 'fireTimer', seq });
const completed = (seq: number, result?: unknown): ActivationJob => ({ type: 'resolveActivity', seq, result: { status: 'completed', result } });
const cancelWorkflow: ActivationJob = { type: 'cancelWorkflow' };
const sched = (seq: number, arg: string): Command => ({ type: 'scheduleActivity', seq, activityId: String(seq), activityType: 'greet', args: [arg], startToCloseTimeoutMs: 10_000 });
/** The failure the replay builds for an activity that confirmed its cancellation. */
const activityCancelledFailure = (seq: number): WireFailure => ({
  kind: 'activity',
  message: 'Activity task failed',
  activityType: 'greet',
  activityId: String(seq),
  retryState: 'cancelRequested',
  cause: replayFailures.activityCancelled(undefined),
});
const cancelledActivity = {
  name: 'ActivityFailure',
  message: 'Activity task failed',
  cause: 'CancelledFailure',
  causeMessage: 'Activity cancelled',
  cancellation: true,
  root: 'Activity cancelled',
};

// ── scopes, timers and conditions ──────────────────────────────────────────────────────────────

t.test('timers: a cancelled scope drops a timer started in the same activation, cancels an older one, and refuses new ones', async (t) => {
  const { first, next } = start('timerCancelWorkflow');
  t.same(commandsOf(first), [
    { type: 'startTimer', seq: 2, startToFireTimeoutMs: 2000 },
    { type: 'startTimer', seq: 3, startToFireTimeoutMs: 10 },
  ]);
  const last = next(fire(3));
  t.same(commandsOf(last).slice(0, -1), [{ type: 'cancelTimer', seq: 2 }]);
  const scopeCancelled = { name: 'CancelledFailure', message: 'Cancellation scope cancelled', cancellation: true, root: 'Cancellation scope cancelled' };
  t.same(resultOf(last), [scopeCancelled, scopeCancelled, scopeCancelled, true]);
});

t.test('scope options are checked, and cancellation flows down the tree except through a non-cancellable scope', async (t) => {
  const { first } = start('scopeTreeWorkflow');
  t.same(resultOf(first), [
    'CancellationScope: expected cancellable to be a boolean',
    'CancellationScope: unknown option "timeot"; expected one of: timeout, cancellable, parent',
    'CancellationScope parent: expected a CancellationScope',
    true, // the parent
    true, // its cancellable child
    false, // the non-cancellable one: asked, never considered cancelled
    false, // below it: shielded
    true, // made under a cancelled scope
    'CancelledFailure',
    false,
    true,
  ]);
});

// ── activities ─────────────────────────────────────────────────────────────────────────────────

t.test('activities: TRY_CANCEL (the default) asks and rejects at once; a later resolution is ignored', async (t) => {
  for (const type of [undefined, 'TRY_CANCEL']) {
    const { first, next } = start('activityCancelWorkflow', type ? [type] : []);
    t.same(commandsOf(first), [sched(1, 'a'), { type: 'startTimer', seq: 1, startToFireTimeoutMs: 1 }]);
    t.same(commandsOf(next(fire(1))), [
      { type: 'requestCancelActivity', seq: 1 },
      { type: 'startTimer', seq: 2, startToFireTimeoutMs: 1 },
    ]);
    t.same(resultOf(next(completed(1, 'late'), fire(2))), cancelledActivity, 'the late result does not reach the workflow');
  }
});

t.test('activities: ABANDON sends nothing and rejects at once', async (t) => {
  const { next } = start('activityCancelWorkflow', ['ABANDON']);
  t.same(commandsOf(next(fire(1))), [{ type: 'startTimer', seq: 2, startToFireTimeoutMs: 1 }]);
  t.same(resultOf(next(completed(1, 'late'), fire(2))), cancelledActivity);
});

t.test('activities: WAIT_CANCELLATION_COMPLETED asks, then waits for the outcome: cancelled, or completed', async (t) => {
  const cancelled = start('activityCancelWorkflow', ['WAIT_CANCELLATION_COMPLETED']);
  t.same(commandsOf(cancelled.next(fire(1))), [{ type: 'requestCancelActivity', seq: 1 }], 'no rejection yet');
  const confirmed = cancelled.next({ type: 'resolveActivity', seq: 1, result: { status: 'cancelled', failure: activityCancelledFailure(1) } });
  t.same(commandsOf(confirmed), [{ type: 'startTimer', seq: 2, startToFireTimeoutMs: 1 }]);
  t.same(resultOf(cancelled.next(fire(2))), cancelledActivity);

  const finished = start('activityCancelWorkflow', ['WAIT_CANCELLATION_COMPLETED']);
  finished.next(fire(1));
  finished.next(completed(1, 'done anyway'));
  t.same(resultOf(finished.next(fire(2))), { result: 'done anyway' });
});

t.test('activities: cancelled in the activation that scheduled it, the command is dropped', async (t) => {
  const { first } = start('activityDropWorkflow');
  t.same(commandsOf(first).length, 1, 'only the completion');
  t.same(resultOf(first), cancelledActivity);
});

t.test('activities: an unknown cancellationType is refused', async (t) => {
  const { first } = start('badCancellationTypeWorkflow');
  t.equal(resultOf(first), 'proxyActivities cancellationType: expected one of TRY_CANCEL, WAIT_CANCELLATION_COMPLETED, ABANDON, got "SOMETIMES"');
});

// ── the scope follows the code across awaits ───────────────────────────────────────────────────

t.test('nonCancellable covers every await of its function; the cleanup in finally runs; the cancellation closes the run', async (t) => {
  const { first, next } = start('nonCancellableWorkflow');
  t.same(commandsOf(first), [sched(1, 'a')]);
  t.same(commandsOf(next(cancelWorkflow)), [], 'nothing to cancel: the activity is shielded');
  t.same(commandsOf(next(completed(1, 'A'))), [sched(2, 'b')], 'the second activity, after an await, is still shielded');
  // greet('AB') runs in the cancelled root scope: refused at once (seq 3), then the cleanup (seq 4).
  t.same(commandsOf(next(completed(2, 'B'))), [sched(4, 'cleanup')]);
  t.same(commandsOf(next(completed(4, 'clean'))), [{ type: 'cancelWorkflow' }]);
});

t.test('withTimeout covers every await of its function: the timer cancels the second activity', async (t) => {
  const late = start('withTimeoutWorkflow');
  t.same(commandsOf(late.first), [{ type: 'startTimer', seq: 1, startToFireTimeoutMs: 1000 }, sched(1, 'a')]);
  t.same(commandsOf(late.next(completed(1, 'A'))), [sched(2, 'b')]);
  t.same(commandsOf(late.next(fire(1))), [
    { type: 'requestCancelActivity', seq: 2 },
    { type: 'completeWorkflow', result: 'timed out: true' },
  ]);

  const inTime = start('withTimeoutWorkflow');
  inTime.next(completed(1, 'A'));
  t.same(commandsOf(inTime.next(completed(2, 'B'))), [{ type: 'cancelTimer', seq: 1 }, { type: 'completeWorkflow', result: 'AB' }], 'the timeout timer is cancelled');
});

t.test('a .then callback runs in the scope it was registered in, in a later activation', async (t) => {
  const { first, next } = start('thenScopeWorkflow');
  t.same(commandsOf(first), [sched(1, 'a')]);
  t.same(commandsOf(next(completed(1, 'A'))), [sched(2, 'b')]);
  t.same(resultOf(next(completed(2, 'B'))), [true, false], 'inside the scope in the callback; back in the root after');
});

// ── the workflow's own cancellation ────────────────────────────────────────────────────────────

t.test('the workflow is cancelled: the timer is cancelled and the run closes with cancelWorkflow', async (t) => {
  const { first, next } = start('sleepWorkflow');
  t.same(commandsOf(first), [{ type: 'startTimer', seq: 1, startToFireTimeoutMs: 10_000 }]);
  t.same(commandsOf(next({ type: 'cancelWorkflow', reason: 'no longer needed' })), [{ type: 'cancelTimer', seq: 1 }, { type: 'cancelWorkflow' }]);
  // Cancelled in its first activation: the timer never leaves the isolate.
  const early = start('sleepWorkflow', [], [cancelWorkflow]);
  t.same(commandsOf(early.first), [{ type: 'cancelWorkflow' }]);
});

t.test('a workflow that catches its cancellation and completes', async (t) => {
  const { next } = start('catchCancelWorkflow');
  t.same(commandsOf(next(cancelWorkflow)), [{ type: 'cancelTimer', seq: 1 }, sched(1, 'after')]);
  t.same(commandsOf(next(completed(1, 'cleaned'))), [{ type: 'completeWorkflow', result: 'cleaned' }]);
});

t.test('a cancellation of its own that escapes fails the workflow: only the workflow being cancelled closes it cancelled', async (t) => {
  const { first } = start('ownCancelWorkflow');
  const commands = commandsOf(first);
  t.equal(commands.length, 1);
  t.match(commands[0], { type: 'failWorkflow', failure: { kind: 'cancelled', message: 'Cancellation scope cancelled' } });
});

// ── child workflows ────────────────────────────────────────────────────────────────────────────

const childStart: Command = { type: 'startChildWorkflow', seq: 1, workflowId: 'child-1', workflowType: 'childFn', args: [1], parentClosePolicy: 'terminate' };
const childStarted: ActivationJob = { type: 'resolveChildWorkflowStart', seq: 1, result: { status: 'started', runId: 'child-run' } };
const childSignalCommand: Command = { type: 'signalExternalWorkflow', seq: 1, workflowId: 'child-1', runId: 'child-run', signalName: 'childSignal', args: ['hi'], childWorkflowOnly: true };
const cancelChild: Command = { type: 'requestCancelExternalWorkflow', seq: 1, workflowId: 'child-1', runId: 'child-run', childWorkflowOnly: true };
const signalled: ActivationJob = { type: 'resolveSignalExternalWorkflow', seq: 1 };
const childCancelled = (cancellation: boolean) => ({
  name: 'ChildWorkflowFailure',
  message: 'Child Workflow execution failed',
  cause: 'CancelledFailure',
  causeMessage: 'Child Workflow execution cancelled',
  cancellation,
  root: 'Child Workflow execution cancelled',
  execution: { workflowId: 'child-1', runId: 'child-run' },
  workflowType: 'childFn',
  retryState: 'cancelRequested',
});
const childClosedCancelled: ActivationJob = {
  type: 'resolveChildWorkflow',
  seq: 1,
  result: {
    status: 'failed',
    failure: replayFailures.child({ workflowId: 'child-1', runId: 'child-run', workflowType: 'childFn' }, 'cancelRequested', replayFailures.childCancelled(undefined)),
  },
};

/** A childCancelWorkflow up to the scope's cancellation; returns the commands of that activation. */
function childUntilCancel(type: string) {
  const run = start('childCancelWorkflow', [type]);
  t.same(commandsOf(run.first), [childStart]);
  t.same(commandsOf(run.next(childStarted)), [childSignalCommand]);
  return { ...run, atCancel: run.next(signalled) };
}

t.test('children: ABANDON sends nothing and rejects at once', async (t) => {
  const { atCancel } = childUntilCancel('ABANDON');
  t.equal(commandsOf(atCancel).length, 1);
  t.same(resultOf(atCancel), childCancelled(true));
});

t.test('children: TRY_CANCEL asks the child to cancel and rejects at once', async (t) => {
  const { atCancel } = childUntilCancel('TRY_CANCEL');
  t.same(commandsOf(atCancel)[0], cancelChild);
  t.same(resultOf(atCancel), childCancelled(true));
});

t.test('children: WAIT_CANCELLATION_REQUESTED rejects once the child has the request', async (t) => {
  const { atCancel, next } = childUntilCancel('WAIT_CANCELLATION_REQUESTED');
  t.same(commandsOf(atCancel), [cancelChild]);
  t.same(resultOf(next({ type: 'resolveRequestCancelExternalWorkflow', seq: 1 })), childCancelled(true));
});

t.test('children: WAIT_CANCELLATION_COMPLETED (the default) waits for the child to close', async (t) => {
  const { atCancel, next } = childUntilCancel('WAIT_CANCELLATION_COMPLETED');
  t.same(commandsOf(atCancel), [cancelChild]);
  t.same(commandsOf(next({ type: 'resolveRequestCancelExternalWorkflow', seq: 1 })), [], 'still waiting');
  t.same(resultOf(next(childClosedCancelled)), childCancelled(true));
  // Had the child completed instead, the result would be its own.
  const other = childUntilCancel('WAIT_CANCELLATION_COMPLETED');
  t.same(resultOf(other.next({ type: 'resolveChildWorkflow', seq: 1, result: { status: 'completed', result: 2 } })), { result: 2, runId: 'child-run' });
});

t.test('children: cancelled before the start is sent, dropped; a taken id rejects with WorkflowExecutionAlreadyStartedError', async (t) => {
  const { first, next } = start('childStartWorkflow');
  t.same(commandsOf(first), [
    {
      type: 'startChildWorkflow',
      seq: 2,
      workflowId: 'taken',
      workflowType: 'childFn',
      args: [],
      parentClosePolicy: 'abandon',
      taskQueue: 'kids',
      workflowIdReusePolicy: 'rejectDuplicate',
      workflowTaskTimeoutMs: 5000,
    },
  ]);
  const failure = replayFailures.childAlreadyStarted('taken', 'childFn');
  t.same(resultOf(next({ type: 'resolveChildWorkflowStart', seq: 2, result: { status: 'failed', failure } })), [
    { name: 'CancelledFailure', message: 'Cancellation scope cancelled', cancellation: true, root: 'Cancellation scope cancelled' },
    { name: 'WorkflowExecutionAlreadyStartedError', taken: true, workflowId: 'taken', workflowType: 'childFn', message: failure.message },
  ]);
});

t.test('children: bad options and unknown ones are refused by name', async (t) => {
  const { first } = start('childOptionsWorkflow');
  t.same(resultOf(first), [
    "startChild workflowRunTimeout: expected a duration such as '10s', '30 minutes' or 1500 (ms), got \"forever\"",
    'retry.maximumAttempts: expected a non-negative integer, got -1',
    'startChild workflowIdReusePolicy: expected one of ALLOW_DUPLICATE, ALLOW_DUPLICATE_FAILED_ONLY, REJECT_DUPLICATE, WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE, WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY, WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, got "TERMINATE_IF_RUNNING"',
    'startChild: unknown option "color"; expected one of: workflowId, args, taskQueue, parentClosePolicy, cancellationType, workflowIdReusePolicy, workflowTaskTimeout, workflowExecutionTimeout, workflowRunTimeout, retry, cronSchedule, memo, searchAttributes, typedSearchAttributes',
    'startChild cancellationType: expected one of ABANDON, TRY_CANCEL, WAIT_CANCELLATION_REQUESTED, WAIT_CANCELLATION_COMPLETED, got "NEVER"',
  ]);
});

t.test('children: the workflow cancelled while the start is in flight cancels the child once started, and closes cancelled', async (t) => {
  const { first, next } = start('childRootCancelWorkflow');
  t.same(commandsOf(first), [{ type: 'startChildWorkflow', seq: 1, workflowId: 'kid', workflowType: 'childFn', args: [], parentClosePolicy: 'terminate' }]);
  t.same(commandsOf(next(cancelWorkflow)), [], 'the start was sent: nothing to do until it resolves');
  t.same(commandsOf(next({ type: 'resolveChildWorkflowStart', seq: 1, result: { status: 'started', runId: 'kid-run' } })), [
    { type: 'requestCancelExternalWorkflow', seq: 1, workflowId: 'kid', runId: 'kid-run', childWorkflowOnly: true },
  ]);
  const closed = replayFailures.child({ workflowId: 'kid', runId: 'kid-run', workflowType: 'childFn' }, 'cancelRequested', replayFailures.childCancelled(undefined));
  t.same(commandsOf(next({ type: 'resolveChildWorkflow', seq: 1, result: { status: 'failed', failure: closed } })), [{ type: 'cancelWorkflow' }]);
});

// ── external workflows ─────────────────────────────────────────────────────────────────────────

t.test('external handles: a signal that finds no workflow rejects catchably; cancel; a signal dropped with its scope', async (t) => {
  const { first, next } = start('externalWorkflow');
  t.same(commandsOf(first), [{ type: 'signalExternalWorkflow', seq: 1, workflowId: 'other', runId: 'run-o', signalName: 'poke', args: [1] }]);
  const notFound = replayFailures.externalNotFound('signal', 'other', 'run-o');
  t.same(commandsOf(next({ type: 'resolveSignalExternalWorkflow', seq: 1, failure: notFound })), [
    { type: 'requestCancelExternalWorkflow', seq: 1, workflowId: 'other', runId: 'run-o' },
  ]);
  t.same(resultOf(next({ type: 'resolveRequestCancelExternalWorkflow', seq: 1 })), [
    `ApplicationFailure/ExternalWorkflowExecutionNotFound: ${notFound.message}`,
    'requested',
    'CancelledFailure',
    'other',
    'run-o',
  ]);
});

// ── replay: the new events ─────────────────────────────────────────────────────────────────────

/** A history builder for a run of `workflowType`. */
const builder = (workflowType: string, input: unknown[] = [], parent?: WorkflowExecutionStartedEvent['parent']) => {
  const b = new HistoryBuilder({ workflowType, taskQueue: 'q', randomnessSeed: 'seed', startMs: Date.UTC(2026, 0, 1), stepMs: 1 });
  if (parent === undefined) return b.start(input);
  b.add({ type: 'workflowExecutionStarted', workflowType, workflowId: b.workflowId, runId: b.runId, firstExecutionRunId: b.runId, taskQueue: 'q', input, attempt: 1, randomnessSeed: 'seed', workflowTaskTimeoutMs: 10_000, parent });
  return b;
};

/** Replays `events` in a fresh context; returns every completion the machine asked for, and the live one. */
function replay(events: HistoryEvent[]) {
  const first = events[0] as WorkflowExecutionStartedEvent;
  const execution = pool.createExecution(bundle, initFromStart(first), `replay of ${first.workflowType}`);
  const completions: ActivationCompletion[] = [];
  try {
    const machine = new ReplayMachine({ activate: (a) => (completions.push(execution.activate(a)), completions[completions.length - 1]) });
    const live = machine.advance(events);
    if (live === undefined) machine.finish();
    return { completions, live: live?.completion, closed: machine.isClosed };
  } finally {
    execution.dispose();
  }
}

/** The history of catchCancelWorkflow: cancel requested while it sleeps, cleanup activity, completion. */
function catchCancelHistory(): HistoryEvent[] {
  const b = builder('catchCancelWorkflow');
  const t1 = b.workflowTask();
  const timer = b.add({ type: 'timerStarted', timerId: '1', startToFireTimeoutMs: 10_000, workflowTaskCompletedEventId: t1 });
  b.add({ type: 'workflowExecutionCancelRequested', cause: 'stop', identity: 'client' });
  const t2 = b.workflowTask();
  b.add({ type: 'timerCanceled', timerId: '1', startedEventId: timer, workflowTaskCompletedEventId: t2 });
  b.activityCompleted(b.activity('greet', '1', t2), 'cleaned');
  b.completeWorkflow(b.workflowTask(), 'cleaned');
  return b.events;
}

/** activityCancelWorkflow(WAIT_CANCELLATION_COMPLETED): the cancel request, then the activity's confirmation. */
function activityCancelHistory(): HistoryEvent[] {
  const b = builder('activityCancelWorkflow', ['WAIT_CANCELLATION_COMPLETED']);
  const t1 = b.workflowTask();
  const scheduled = b.activity('greet', '1', t1);
  const timer = b.add({ type: 'timerStarted', timerId: '1', startToFireTimeoutMs: 1, workflowTaskCompletedEventId: t1 });
  const started = b.add({ type: 'activityTaskStarted', scheduledEventId: scheduled, attempt: 1 });
  b.add({ type: 'timerFired', timerId: '1', startedEventId: timer });
  const t2 = b.workflowTask();
  const requested = b.add({ type: 'activityTaskCancelRequested', scheduledEventId: scheduled, workflowTaskCompletedEventId: t2 });
  b.add({ type: 'activityTaskCanceled', scheduledEventId: scheduled, startedEventId: started, latestCancelRequestedEventId: requested });
  const t3 = b.workflowTask();
  const timer2 = b.add({ type: 'timerStarted', timerId: '2', startToFireTimeoutMs: 1, workflowTaskCompletedEventId: t3 });
  b.add({ type: 'timerFired', timerId: '2', startedEventId: timer2 });
  b.completeWorkflow(b.workflowTask(), cancelledActivity);
  return b.events;
}

/** childCancelWorkflow(WAIT_CANCELLATION_COMPLETED), start to cancelled close; `closing` picks how the parent's run ends. */
function childHistory(): HistoryEvent[] {
  const b = builder('childCancelWorkflow', ['WAIT_CANCELLATION_COMPLETED']);
  const t1 = b.workflowTask();
  const initiated = b.add({
    type: 'startChildWorkflowExecutionInitiated',
    workflowId: 'child-1',
    workflowType: 'childFn',
    taskQueue: 'q',
    input: [1],
    parentClosePolicy: 'terminate',
    workflowTaskTimeoutMs: 10_000,
    workflowTaskCompletedEventId: t1,
  });
  const child = { workflowId: 'child-1', runId: 'child-run', workflowType: 'childFn', initiatedEventId: initiated };
  const childStartedId = b.add({ type: 'childWorkflowExecutionStarted', ...child });
  const t2 = b.workflowTask();
  const signal = b.add({
    type: 'signalExternalWorkflowExecutionInitiated',
    workflowId: 'child-1',
    runId: 'child-run',
    signalName: 'childSignal',
    input: ['hi'],
    childWorkflowOnly: true,
    workflowTaskCompletedEventId: t2,
  });
  b.add({ type: 'externalWorkflowExecutionSignaled', initiatedEventId: signal, workflowId: 'child-1', runId: 'child-run' });
  const t3 = b.workflowTask();
  const cancel = b.add({ type: 'requestCancelExternalWorkflowExecutionInitiated', workflowId: 'child-1', runId: 'child-run', childWorkflowOnly: true, workflowTaskCompletedEventId: t3 });
  b.add({ type: 'externalWorkflowExecutionCancelRequested', initiatedEventId: cancel, workflowId: 'child-1', runId: 'child-run' });
  b.workflowTask();
  b.add({ type: 'childWorkflowExecutionCanceled', ...child, startedEventId: childStartedId });
  b.completeWorkflow(b.workflowTask(), childCancelled(true));
  return b.events;
}

/** externalWorkflow: the signal fails (no such workflow), the cancel request goes through. */
function externalHistory(): HistoryEvent[] {
  const b = builder('externalWorkflow');
  const t1 = b.workflowTask();
  const signal = b.add({ type: 'signalExternalWorkflowExecutionInitiated', workflowId: 'other', runId: 'run-o', signalName: 'poke', input: [1], childWorkflowOnly: false, workflowTaskCompletedEventId: t1 });
  b.add({ type: 'signalExternalWorkflowExecutionFailed', initiatedEventId: signal, workflowId: 'other', runId: 'run-o', cause: 'externalWorkflowExecutionNotFound' });
  const t2 = b.workflowTask();
  const cancel = b.add({ type: 'requestCancelExternalWorkflowExecutionInitiated', workflowId: 'other', runId: 'run-o', childWorkflowOnly: false, workflowTaskCompletedEventId: t2 });
  b.add({ type: 'externalWorkflowExecutionCancelRequested', initiatedEventId: cancel, workflowId: 'other', runId: 'run-o' });
  const notFound = replayFailures.externalNotFound('signal', 'other', 'run-o');
  b.completeWorkflow(b.workflowTask(), [`ApplicationFailure/ExternalWorkflowExecutionNotFound: ${notFound.message}`, 'requested', 'CancelledFailure', 'other', 'run-o']);
  return b.events;
}

/** sleepWorkflow cancelled: the run closes with workflowExecutionCanceled. */
function cancelledRunHistory(): HistoryEvent[] {
  const b = builder('sleepWorkflow');
  const t1 = b.workflowTask();
  const timer = b.add({ type: 'timerStarted', timerId: '1', startToFireTimeoutMs: 10_000, workflowTaskCompletedEventId: t1 });
  b.add({ type: 'workflowExecutionCancelRequested', identity: 'client' });
  const t2 = b.workflowTask();
  b.add({ type: 'timerCanceled', timerId: '1', startedEventId: timer, workflowTaskCompletedEventId: t2 });
  b.add({ type: 'workflowExecutionCanceled', workflowTaskCompletedEventId: t2 });
  return b.events;
}

const HISTORIES: Record<string, () => HistoryEvent[]> = {
  'cancel requested, caught, completed': catchCancelHistory,
  'activity cancel requested and confirmed': activityCancelHistory,
  'child started, signalled, cancelled': childHistory,
  'external signal failed, external cancel requested': externalHistory,
  'run cancelled': cancelledRunHistory,
};

t.test('replay: histories with the new events replay cleanly, and the same history gives byte-identical commands twice', async (t) => {
  for (const [name, make] of Object.entries(HISTORIES)) {
    const once = replay(make());
    t.equal(once.live, undefined, `${name}: no live task`);
    t.ok(once.closed, `${name}: closed`);
    t.ok(once.completions.every((c) => c.ok), `${name}: every task replays`);
    const twice = replay(make());
    t.equal(JSON.stringify(twice.completions.map((c) => c.ok && c.commands)), JSON.stringify(once.completions.map((c) => c.ok && c.commands)), `${name}: same commands`);
  }
});

t.test('replay: a terminated run is closed with no job for the workflow', async (t) => {
  const b = builder('sleepWorkflow');
  const t1 = b.workflowTask();
  b.add({ type: 'timerStarted', timerId: '1', startToFireTimeoutMs: 10_000, workflowTaskCompletedEventId: t1 });
  b.add({ type: 'workflowExecutionTerminated', reason: 'enough', identity: 'client' });
  const result = replay(b.events);
  t.ok(result.closed);
  t.equal(result.completions.length, 1);
});

t.test('replay: a child sees its parent in workflowInfo', async (t) => {
  const b = builder('parentInfoWorkflow', [], { workflowId: 'dad', runId: 'dad-run', initiatedEventId: 5 });
  b.workflowTask();
  const result = replay(b.events.slice(0, 3));
  t.same(result.live && commandsOf(result.live), [{ type: 'completeWorkflow', result: { workflowId: 'dad', runId: 'dad-run', namespace: 'default' } }]);
});

/** Replaces the first event of `type` in `events` with `change(event)`. */
function mutate(events: HistoryEvent[], type: HistoryEvent['type'], change: (e: Record<string, unknown>) => void): HistoryEvent[] {
  const copy = structuredClone(events);
  const target = copy.find((e) => e.type === type) as unknown as Record<string, unknown>;
  change(target);
  return copy;
}

t.test('replay: mutated twins fail with DeterminismViolationError naming the event', async (t) => {
  const twins: [string, HistoryEvent[], RegExp][] = [
    ['a child of another type', mutate(childHistory(), 'startChildWorkflowExecutionInitiated', (e) => (e.workflowType = 'otherFn')), /startChildWorkflowExecutionInitiated otherFn \(workflowId child-1\) but the workflow emitted startChildWorkflow childFn/],
    ['a child with another id', mutate(childHistory(), 'startChildWorkflowExecutionInitiated', (e) => (e.workflowId = 'child-2')), /workflowId child-2/],
    ['a signal to another workflow', mutate(externalHistory(), 'signalExternalWorkflowExecutionInitiated', (e) => (e.workflowId = 'elsewhere')), /signalExternalWorkflowExecutionInitiated poke to workflowId elsewhere but the workflow emitted signalExternalWorkflow poke to workflowId other/],
    ['another signal name', mutate(externalHistory(), 'signalExternalWorkflowExecutionInitiated', (e) => (e.signalName = 'nudge')), /nudge/],
    ['a cancel request to another workflow', mutate(externalHistory(), 'requestCancelExternalWorkflowExecutionInitiated', (e) => (e.workflowId = 'elsewhere')), /requestCancelExternalWorkflowExecutionInitiated of workflowId elsewhere/],
    ['a run recorded as failed, not cancelled', mutate(cancelledRunHistory(), 'workflowExecutionCanceled', (e) => ((e.type = 'workflowExecutionFailed'), (e.failure = { kind: 'cancelled', message: 'x' }))), /history recorded workflowExecutionFailed but the workflow emitted cancelWorkflow/],
  ];
  for (const [name, events, message] of twins) {
    const mutated = events.find((e, i) => JSON.stringify(e) !== JSON.stringify(twinsSource(name)[i]));
    t.throws(() => replay(events), { name: 'DeterminismViolationError', eventId: mutated?.eventId, message }, name);
  }
  // An activity cancel request for an activity other than the one the workflow cancels.
  const events = activityCancelHistory();
  const other = structuredClone(events);
  const requested = other.find((e) => e.type === 'activityTaskCancelRequested') as unknown as Record<string, unknown>;
  requested.type = 'timerCanceled';
  requested.timerId = '1';
  const error = t.throws(() => replay(other)) as DeterminismViolationError;
  t.ok(error instanceof DeterminismViolationError);
  t.match(error.message, /history recorded timerCanceled 1 but the workflow emitted requestCancelActivity 1/);
});

/** The unmutated history each twin above was made from. */
function twinsSource(name: string): HistoryEvent[] {
  if (name.includes('child')) return childHistory();
  if (name.includes('run')) return cancelledRunHistory();
  return externalHistory();
}

t.test('replay: the jobs the new events give, in order, with the failures the engine must agree on', async (t) => {
  const seen: Activation[] = [];
  const machine = new ReplayMachine({
    activate(a) {
      seen.push(a);
      const answers: Command[][] = [
        [childStart],
        [childSignalCommand],
        [cancelChild],
        [],
        [{ type: 'completeWorkflow', result: childCancelled(true) }],
      ];
      return { ok: true, commands: answers[seen.length - 1] ?? [], logs: [] };
    },
  });
  machine.advance(childHistory());
  machine.finish();
  t.same(
    seen.map((a) => a.jobs),
    [
      [{ type: 'startWorkflow', workflowType: 'childCancelWorkflow', args: ['WAIT_CANCELLATION_COMPLETED'] }],
      [childStarted],
      [signalled],
      [{ type: 'resolveRequestCancelExternalWorkflow', seq: 1 }],
      [childClosedCancelled],
    ],
  );
  t.same((childClosedCancelled as { result: { failure: WireFailure } }).result.failure, {
    kind: 'childWorkflow',
    message: 'Child Workflow execution failed',
    workflowId: 'child-1',
    runId: 'child-run',
    workflowType: 'childFn',
    retryState: 'cancelRequested',
    cause: { kind: 'cancelled', message: 'Child Workflow execution cancelled' },
  });
  // The cancel request of the workflow itself carries its reason.
  const cancelSeen: Activation[] = [];
  new ReplayMachine({ activate: (a) => (cancelSeen.push(a), { ok: true, commands: cancelSeen.length === 1 ? [{ type: 'startTimer', seq: 1, startToFireTimeoutMs: 10_000 }] : [{ type: 'cancelTimer', seq: 1 }, sched(1, 'after')], logs: [] }) }).advance(catchCancelHistory().slice(0, 9));
  t.same(cancelSeen[1]?.jobs, [{ type: 'cancelWorkflow', reason: 'stop' }]);
});
