// replay-fixtures/: histories recorded from real runs of test/workflows. Each replays cleanly
// against the code that recorded it, and each has mutated twins that must fail: the same history
// against changed code (test/workflows/changed.ts), and an edited copy of the history.
// Re-record with `npm run record-fixtures` (never edit a fixture by hand).
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readHistoryFile, writeHistoryFile } from '../lib/history';
import { replayHistory, replayHistories } from '../lib/testing/replay';
import { DeterminismViolationError } from '../lib/errors';
import { IsolatePool } from '../lib/sandbox';
import { ReplayMachine, initFromStart } from '../lib/replay';
import type { History, HistoryEvent, WorkflowExecutionStartedEvent } from '../lib/history/events';
import { startEnv, testBundle, workflowsPath, type RecordAction } from './support/env';
import { main } from '../lib/cli/main';
import { bundleWorkflowCode } from '../lib/bundler';

const dir = path.join(__dirname, '..', 'replay-fixtures');
const changedPath = path.join(__dirname, 'workflows', 'changed.ts');
const version = (require('../package.json').version as string).replace(/\./g, '_');

/** What each fixture records, and how its edited twin is made. */
const scenarios: {
  name: string;
  covers: string;
  workflowType: string;
  args: unknown[];
  signals?: RecordAction[];
  /** Start options (a cron schedule). */
  start?: Record<string, unknown>;
  /** The workflows module that records it, when not test/workflows (code from before a patch). */
  recordWith?: string;
  edit: (events: HistoryEvent[]) => void;
}[] = [
  {
    name: 'activities',
    covers: 'three activities in sequence',
    workflowType: 'orderWorkflow',
    args: ['ann', 42],
    edit: (events) => {
      const e = events.find((e) => e.type === 'activityTaskScheduled' && e.activityType === 'charge') as { activityType: string };
      e.activityType = 'refund';
    },
  },
  {
    name: 'timers',
    covers: 'sleep in ms and as a string, and setTimeout',
    workflowType: 'timersWorkflow',
    args: [],
    edit: (events) => {
      (events[0] as { workflowType: string }).workflowType = 'orderWorkflow';
    },
  },
  {
    name: 'signals_queries',
    covers: 'signals buffered and handled, a query handler',
    workflowType: 'cartWorkflow',
    args: [],
    signals: [
      { name: 'addItem', args: ['apple'], afterMs: 5 },
      { name: 'addItem', args: ['pear'], afterMs: 15 },
      { name: 'checkout', afterMs: 40 },
    ],
    edit: (events) => {
      // A timer the code never starts.
      const completed = events.find((e) => e.type === 'workflowTaskCompleted')!;
      const i = events.indexOf(completed) + 1;
      events.splice(i, 0, { eventId: 0, eventTime: completed.eventTime, type: 'timerStarted', timerId: '1', startToFireTimeoutMs: 5, workflowTaskCompletedEventId: completed.eventId });
      events.forEach((e, n) => (e.eventId = n + 1));
      for (const e of events) {
        for (const key of ['scheduledEventId', 'startedEventId', 'workflowTaskCompletedEventId'] as const) {
          const v = (e as unknown as Record<string, unknown>)[key];
          if (typeof v === 'number' && v >= i + 1) (e as unknown as Record<string, number>)[key] = v + 1;
        }
      }
    },
  },
  {
    name: 'failing',
    covers: 'an activity fails, the workflow fails with an ApplicationFailure',
    workflowType: 'failingWorkflow',
    args: [],
    edit: (events) => {
      (events.find((e) => e.type === 'activityTaskScheduled') as { activityType: string }).activityType = 'charge';
    },
  },
  {
    name: 'condition_approved',
    covers: 'condition with a timeout, satisfied in time (the timer is cancelled)',
    workflowType: 'approvalWorkflow',
    args: [60_000],
    signals: [{ name: 'approve', afterMs: 10 }],
    edit: (events) => {
      // The approval signal renamed: the workflow keeps waiting instead of cancelling its timer.
      (events.find((e) => e.type === 'workflowExecutionSignaled') as { signalName: string }).signalName = 'reject';
    },
  },
  {
    name: 'condition_timed_out',
    covers: 'condition with a timeout that fires first',
    workflowType: 'approvalWorkflow',
    args: [20],
    edit: (events) => {
      (events.find((e) => e.type === 'timerStarted') as { timerId: string }).timerId = '2';
      (events.find((e) => e.type === 'timerFired') as { timerId: string }).timerId = '2';
    },
  },
  {
    name: 'cancellation',
    covers: 'a cancel request while sleeping: cleanup in a non-cancellable scope, then the run ends cancelled',
    workflowType: 'cancellationWorkflow',
    args: [],
    signals: [{ name: 'cancel', afterMs: 50, action: 'cancel' }],
    edit: (events) => {
      (events.find((e) => e.type === 'activityTaskScheduled') as { activityType: string }).activityType = 'charge';
    },
  },
  {
    name: 'termination',
    covers: 'an activity, then a sleep that a termination ends',
    workflowType: 'terminationWorkflow',
    args: [],
    signals: [{ name: 'ops said so', afterMs: 50, action: 'terminate' }],
    edit: (events) => {
      (events.find((e) => e.type === 'activityTaskScheduled') as { activityType: string }).activityType = 'charge';
    },
  },
  {
    name: 'child_workflow',
    covers: 'a child workflow started, signalled and awaited; a signal to a missing workflow caught',
    workflowType: 'childWorkflowParent',
    args: ['ann'],
    edit: (events) => {
      (events.find((e) => e.type === 'startChildWorkflowExecutionInitiated') as { workflowType: string }).workflowType = 'orderWorkflow';
    },
  },
  {
    name: 'cancel_requests',
    covers: 'an activity cancelled through its scope and confirmed; a child cancelled through an external handle',
    workflowType: 'cancelRequestsWorkflow',
    args: [],
    edit: (events) => {
      // The cancel request names another workflow (its outcome too, so the history stays valid).
      for (const e of events) {
        if (e.type === 'requestCancelExternalWorkflowExecutionInitiated' || e.type === 'externalWorkflowExecutionCancelRequested') e.workflowId = 'someone-else';
      }
    },
  },
  {
    name: 'external_signal',
    covers: 'the same run as child_workflow, its external signal edited',
    workflowType: 'childWorkflowParent',
    args: ['bo'],
    edit: (events) => {
      (events.find((e) => e.type === 'signalExternalWorkflowExecutionInitiated') as { signalName: string }).signalName = 'reject';
    },
  },
  {
    name: 'update',
    covers: 'an update whose handler calls an activity, one its validator rejects (no trace in history), then a signal once every handler has finished',
    workflowType: 'updateFixtureWorkflow',
    args: [],
    signals: [
      { name: 'greet', args: ['ann'], afterMs: 5, action: 'update' },
      { name: 'greet', args: [''], afterMs: 15, action: 'update' },
      { name: 'finish', afterMs: 40 },
    ],
    edit: (events) => {
      // The recorded update renamed: the code has no handler for it, rejects it, and emits no acceptUpdate.
      (events.find((e) => e.type === 'workflowExecutionUpdateAccepted') as { name: string }).name = 'renamed';
    },
  },
  {
    name: 'continue_as_new',
    covers: "an activity, then continue-as-new (the first run of the chain's three)",
    workflowType: 'countdownWorkflow',
    args: [2],
    edit: (events) => {
      // The next run would be another workflow type.
      (events.find((e) => e.type === 'workflowExecutionContinuedAsNew') as { workflowType: string }).workflowType = 'chainInfoWorkflow';
    },
  },
  {
    name: 'cron',
    covers: 'the first run of a cron (it fails; the next run follows), terminated later',
    workflowType: 'cronWorkflow',
    args: [],
    start: { cronSchedule: '@every 1s' },
    signals: [{ name: 'enough', afterMs: 2500, action: 'terminate' }],
    edit: (events) => {
      // As if a previous run had failed: this run recovers instead of failing.
      (events[0] as { continuedFailure?: unknown }).continuedFailure = { kind: 'application', message: 'an earlier run failed' };
    },
  },
  {
    name: 'upsert',
    covers: 'search attributes upserted in the legacy and the typed form, and the memo, around a timer',
    workflowType: 'upsertWorkflow',
    args: [],
    edit: (events) => {
      // The memo's upsert recorded as a search attribute upsert.
      const i = events.findIndex((e) => e.type === 'workflowPropertiesModified');
      const e = events[i] as { workflowTaskCompletedEventId: number; eventId: number; eventTime: string };
      events[i] = { eventId: e.eventId, eventTime: e.eventTime, type: 'upsertWorkflowSearchAttributes', searchAttributes: {}, workflowTaskCompletedEventId: e.workflowTaskCompletedEventId };
    },
  },
  {
    name: 'patch_before',
    covers: 'recorded before the patch "charge-first": the patched code replays it through the old branch',
    workflowType: 'patchWorkflow',
    args: ['ann'],
    signals: [{ name: 'go', afterMs: 20 }],
    recordWith: path.join(__dirname, 'workflows', 'patch-versions', 'before.ts'),
    edit: (events) => {
      (events.find((e) => e.type === 'activityTaskScheduled') as { activityType: string }).activityType = 'charge';
    },
  },
  {
    name: 'patch_after',
    covers: 'recorded with the patch "charge-first": its marker, and the new branch',
    workflowType: 'patchWorkflow',
    args: ['bo'],
    signals: [{ name: 'go', afterMs: 20 }],
    edit: (events) => {
      (events.find((e) => e.type === 'patchMarkerRecorded') as { patchId: string }).patchId = 'another-patch';
    },
  },
  {
    name: 'local_activity',
    covers: 'local activities: two in one task, one in its follow-up activation, one after a timer, each a marker',
    workflowType: 'localActivityWorkflow',
    args: ['cy'],
    edit: (events) => {
      (events.find((e) => e.type === 'localActivityMarkerRecorded') as { activityType: string }).activityType = 'refund';
    },
  },
];

const fileOf = (name: string) => path.join(dir, `${name}_deja_${version}.json`);

t.before(async () => {
  if (process.env.DEJA_RECORD_FIXTURES !== '1') return;
  fs.mkdirSync(dir, { recursive: true });
  const env = await startEnv();
  try {
    for (const s of scenarios) {
      if (s.recordWith !== undefined) continue;
      writeHistoryFile(fileOf(s.name), await env.record(s.workflowType, s.args, s.signals, s.start));
    }
  } finally {
    await env.close();
  }
  for (const s of scenarios) {
    if (s.recordWith === undefined) continue;
    const other = await startEnv({ workflowBundle: await bundleWorkflowCode({ workflowsPath: s.recordWith }) });
    try {
      writeHistoryFile(fileOf(s.name), await other.record(s.workflowType, s.args, s.signals));
    } finally {
      await other.close();
    }
  }
});

t.test('every fixture replays cleanly against the code that recorded it', async (t) => {
  const histories = scenarios.map((s) => readHistoryFile(fileOf(s.name)));
  const results = [];
  for await (const r of replayHistories({ workflowsPath }, histories)) results.push(r);
  t.equal(results.length, scenarios.length);
  for (const r of results) t.equal(r.error, undefined, `${r.workflowId}: ${r.error?.message ?? 'ok'}`);
  const closing = histories.map((h) => h.events[h.events.length - 1].type);
  t.same(closing, [
    'workflowExecutionCompleted',
    'workflowExecutionCompleted',
    'workflowExecutionCompleted',
    'workflowExecutionFailed',
    'workflowExecutionCompleted',
    'workflowExecutionCompleted',
    'workflowExecutionCanceled',
    'workflowExecutionTerminated',
    'workflowExecutionCompleted',
    'workflowExecutionCompleted',
    'workflowExecutionCompleted',
    'workflowExecutionCompleted',
    'workflowExecutionContinuedAsNew',
    'workflowExecutionFailed',
    'workflowExecutionCompleted',
    'workflowExecutionCompleted',
    'workflowExecutionCompleted',
    'workflowExecutionCompleted',
  ]);
  const all = new Set(histories.flatMap((h) => h.events.map((e) => e.type)));
  for (const type of [
    'activityTaskCancelRequested',
    'activityTaskCanceled',
    'requestCancelExternalWorkflowExecutionInitiated',
    'externalWorkflowExecutionCancelRequested',
    'childWorkflowExecutionCanceled',
    'workflowExecutionCanceled',
    'workflowExecutionTerminated',
    'patchMarkerRecorded',
    'localActivityMarkerRecorded',
    'workflowExecutionCancelRequested', 'startChildWorkflowExecutionInitiated', 'childWorkflowExecutionStarted', 'childWorkflowExecutionCompleted', 'signalExternalWorkflowExecutionInitiated', 'externalWorkflowExecutionSignaled', 'signalExternalWorkflowExecutionFailed', 'workflowExecutionUpdateAccepted', 'workflowExecutionUpdateCompleted', 'upsertWorkflowSearchAttributes', 'workflowPropertiesModified'] as const) {
    t.ok(all.has(type), `the fixtures record ${type}`);
  }
});

t.test('each fixture fails against changed code', async (t) => {
  for (const s of scenarios) {
    await t.rejects(replayHistory({ workflowsPath: changedPath }, readHistoryFile(fileOf(s.name))), DeterminismViolationError, `${s.name} against changed code`);
  }
});

t.test('each fixture fails once edited', async (t) => {
  for (const s of scenarios) {
    const history: History = structuredClone(readHistoryFile(fileOf(s.name)));
    s.edit(history.events);
    const error = await replayHistory({ workflowsPath }, history).then(() => undefined, (e: unknown) => e);
    t.ok(error instanceof DeterminismViolationError, `${s.name} edited: ${String(error)}`);
    const { eventId } = error as DeterminismViolationError;
    t.ok(
      typeof eventId === 'number' && Number.isInteger(eventId) && eventId >= 1 && eventId <= history.events.length,
      `${s.name} edited: the error names an event of the history (eventId ${String(eventId)})`,
    );
  }
});

t.test('a query answers from a replayed execution', async (t) => {
  const history = readHistoryFile(fileOf('signals_queries'));
  const pool = new IsolatePool();
  const execution = pool.createExecution(await testBundle(), initFromStart(history.events[0] as WorkflowExecutionStartedEvent), 'cart');
  new ReplayMachine(execution).advance(history.events);
  t.same(execution.query({ queryType: 'items', args: [] }), { ok: true, result: ['apple', 'pear'] });
  pool.dispose();
});

t.test('deja replay: a verdict per history, non-zero exit on failure', async (t) => {
  const lines: string[] = [];
  const out = { log: (l: string) => lines.push(l), error: (l: string) => lines.push(l) };
  const files = scenarios.map((s) => fileOf(s.name));
  t.equal(await main(['replay', ...files, '--workflows', workflowsPath], out), 0);
  t.match(lines.join('\n'), new RegExp(`${scenarios.length} histories: ${scenarios.length} replayed cleanly, 0 failed`));
  t.equal(lines.filter((l) => l.startsWith('✓')).length, scenarios.length);

  lines.length = 0;
  t.equal(await main(['replay', files[0], '--workflows', changedPath], out), 1);
  t.match(lines.join('\n'), /✗ .*activities.*\n\s+DeterminismViolationError: nondeterminism at event \d+/);

  lines.length = 0;
  const bad = path.join(t.testdirName, 'bad.json');
  fs.mkdirSync(t.testdirName, { recursive: true });
  fs.writeFileSync(bad, '{"format":"deja.history","version":1,"workflowId":"w","runId":"r","events":[{"eventId":1}]}');
  t.equal(await main(['replay', bad, path.join(t.testdirName, 'missing.json'), files[1], '--workflows', workflowsPath], out), 1);
  t.match(lines.join('\n'), /✗ .*bad\.json\n\s+InvalidHistoryError: .*event/);
  t.match(lines.join('\n'), /missing\.json\n\s+file not found/);
  t.match(lines.join('\n'), /3 histories: 1 replayed cleanly, 2 failed/);

  lines.length = 0;
  t.equal(await main(['replay', files[0]], out), 2);
  t.match(lines.join('\n'), /--workflows <path> is required/);
  t.equal(await main(['replay', '--bogus'], out), 2);
  t.equal(await main(['frobnicate'], out), 2);
  t.match(lines.join('\n'), /unknown command "frobnicate"/);
});
