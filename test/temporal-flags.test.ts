// SDK flags: Temporal's recorded histories whose replay depends on them (from
// ../shared/temporal-histories/, never copied here; skipped when that folder is absent) replay
// against the equivalent workflows of test/workflows/temporal-flags.ts with Temporal's verdict;
// deja records the flags its runtime used in new histories; a flag gates its behaviour both ways;
// Temporal's sdkMetadata survives import and export.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { bundleWorkflowCode, type WorkflowBundle } from '../lib/bundler';
import { Connection, WorkflowClient } from '../lib/client';
import { DeterminismViolationError, InvalidHistoryError } from '../lib/errors';
import { fromTemporalHistory, parseHistory, readHistoryFile, serializeHistory, toTemporalHistory, type History, type HistoryEvent } from '../lib/history';
import { FlagHistory, unionFlags } from '../lib/replay/flags';
import { replayHistory } from '../lib/testing/replay';
import { Worker } from '../lib/worker';
import { defineUpdate } from '../runtime/update-api';
import { HistoryBuilder } from './support/history';
import { ManualClock, pollNow } from './support/service';
import { MemoryStore } from '../lib/backends/memory';
import { SqliteStore } from '../lib/backends/sqlite';
import { LocalWorkflowService } from '../lib/engine';
import type { WorkflowTask } from '../lib/service';
import * as os from 'node:os';

const root = path.join(__dirname, '..');
const recorded = path.join(root, '..', 'shared', 'temporal-histories');
const flagWorkflows = path.join(root, 'test', 'workflows', 'temporal-flags.ts');
const recordedSkip = fs.existsSync(path.join(recorded, 'INDEX.md')) ? false : `no recorded Temporal histories at ${recorded} (the shared conformance folder is absent)`;

let bundle: Promise<WorkflowBundle> | undefined;
const flagBundle = () => (bundle ??= bundleWorkflowCode({ workflowsPath: flagWorkflows }));
const replay = async (h: History) => replayHistory({ workflowBundle: await flagBundle() }, h);

type Completed = Extract<HistoryEvent, { type: 'workflowTaskCompleted' }>;
type Metadata = NonNullable<Completed['sdkMetadata']>;

/** `h` with each workflowTaskCompleted passed through `edit` (its index among them as second argument). */
function editCompleted(h: History, edit: (e: Completed, i: number) => Completed): History {
  let i = 0;
  return parseHistory({ ...h, events: h.events.map((e) => (e.type === 'workflowTaskCompleted' ? edit({ ...e }, i++) : e)) });
}

/** `h` with every workflowTaskCompleted's sdkMetadata set to `m` (undefined: removed). */
function withMetadata(h: History, m: Metadata | undefined): History {
  return editCompleted(h, (e) => {
    const { sdkMetadata: _, ...rest } = e;
    return m === undefined ? rest : { ...rest, sdkMetadata: m };
  });
}

/** `h` with its workflow type renamed (changed code). */
function renamed(h: History, workflowType: string): History {
  const [start, ...rest] = h.events;
  return parseHistory({ ...h, events: [{ ...start, workflowType }, ...rest] });
}

const completedEvents = (h: History) => h.events.filter((e): e is Completed => e.type === 'workflowTaskCompleted');

// ---------------------------------------------------------------------------------------------
// Temporal's recordings

const langFlagFiles = ['lang_flags_replay_correctly_1_9_3.json', 'lang_flags_replay_correctly_1_11_1.json', 'lang_flags_replay_correctly_1_11_2.json'];
const updateFile = 'complete_update_after_workflow_returns_pre1488.json';

t.test('Temporal histories that depend on SDK flags replay cleanly; changed code gives a DeterminismViolationError', { skip: recordedSkip }, async (t) => {
  for (const file of langFlagFiles) {
    const h = readHistoryFile(path.join(recorded, file));
    await t.resolves(replay(h), `${file} replays`);
    await t.rejects(replay(renamed(h, 'langFlagsReplayCorrectlyChanged')), DeterminismViolationError, `${file} against changed code`);
  }
  const h = readHistoryFile(path.join(recorded, updateFile));
  await t.resolves(replay(h), `${updateFile} replays`);
  await t.rejects(replay(renamed(h, 'canCompleteUpdateAfterWorkflowReturnsChanged')), DeterminismViolationError, `${updateFile} against changed code`);
});

t.test("the recordings' flags are read: recorded, absent, and inferred from the build id", { skip: recordedSkip }, async (t) => {
  const [h193, h1111, h1112] = langFlagFiles.map((f) => readHistoryFile(path.join(recorded, f)));
  t.same(completedEvents(h193).map((e) => e.sdkMetadata), [{ coreUsedFlags: [2, 1] }, {}], '1.9.3: core flags only, and an empty sdkMetadata');
  t.same(completedEvents(h1112).map((e) => e.sdkMetadata), [{ coreUsedFlags: [3, 2, 1] }, { langUsedFlags: [1] }], '1.11.2 records lang flag 1 where it used it');
  t.same(completedEvents(h1111).map((e) => e.sdkMetadata?.langUsedFlags), [undefined, undefined], '1.11.1 records no lang flag');
  t.match(completedEvents(h1111)[1].workerBuildId, /^@temporalio\/worker@1\.11\.1\+/, "1.11.1's build id is kept");

  // Lang flag 1 on where 1.9.3 had it off: the timer is cancelled, which history does not record.
  const on193 = editCompleted(h193, (e, i) => (i === 1 ? { ...e, sdkMetadata: { langUsedFlags: [1] } } : e));
  await t.rejects(replay(on193), { name: 'DeterminismViolationError', message: /event 12: history recorded workflowExecutionCompleted but the workflow emitted cancelTimer 1/ }, '1.9.3 with lang flag 1');
  // Off where 1.11.2 recorded it: the timer is left running, but history cancelled it.
  const off1112 = editCompleted(h1112, (e) => ({ ...e, sdkMetadata: { coreUsedFlags: [1, 2, 3] } }));
  await t.rejects(replay(off1112), { name: 'DeterminismViolationError', message: /event 12: history recorded timerCanceled 1 but the workflow emitted completeWorkflow/ }, '1.11.2 without lang flag 1');
  // 1.11.1's flag comes from its build id alone: another version's build id turns it off.
  const other1111 = editCompleted(h1111, (e) => ({ ...e, workerBuildId: e.workerBuildId?.replace('@1.11.1+', '@1.11.2+') }));
  await t.rejects(replay(other1111), DeterminismViolationError, '1.11.1 with a 1.11.2 build id');
  const none1111 = editCompleted(h1111, (e) => {
    const { workerBuildId: _, ...rest } = e;
    return rest;
  });
  await t.rejects(replay(none1111), DeterminismViolationError, '1.11.1 without its build id');
});

t.test('complete_update_after_workflow_returns_pre1488: the update completion after the return is dropped without core flag 3, kept with it', { skip: recordedSkip }, async (t) => {
  const h = readHistoryFile(path.join(recorded, updateFile));
  t.same(completedEvents(h)[0].sdkMetadata, { coreUsedFlags: [2, 1] }, 'core flags 1 and 2, not 3');
  const with3 = editCompleted(h, (e) => ({ ...e, sdkMetadata: { coreUsedFlags: [2, 1, 3] } }));
  await t.rejects(
    replay(with3),
    { name: 'DeterminismViolationError', message: /event 6: history recorded workflowExecutionCompleted but the workflow emitted completeUpdate/ },
    'with core flag 3 the completion is kept, before the closing command',
  );
});

// ---------------------------------------------------------------------------------------------
// Temporal's sdkMetadata through import and export

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** A proto3 JSON Temporal history with two tasks, whose completions carry `first` and `second` as attributes. */
function twoTasks(first: Record<string, unknown>, second: Record<string, unknown>): { events: Record<string, unknown>[] } {
  const task = (id: number) => [
    { eventId: String(id), eventTime: `2024-05-01T09:00:0${id}.000Z`, eventType: 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED', workflowTaskScheduledEventAttributes: { taskQueue: { name: 'q' }, attempt: 1 } },
    { eventId: String(id + 1), eventTime: `2024-05-01T09:00:0${id}.100Z`, eventType: 'EVENT_TYPE_WORKFLOW_TASK_STARTED', workflowTaskStartedEventAttributes: { scheduledEventId: String(id) } },
  ];
  return {
    events: [
      {
        eventId: '1',
        eventTime: '2024-05-01T09:00:00.000Z',
        eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
        workflowExecutionStartedEventAttributes: { workflowType: { name: 'langFlagsReplayCorrectly' }, taskQueue: { name: 'q' }, workflowTaskTimeout: '10s', originalExecutionRunId: 'run-f', firstExecutionRunId: 'run-f', attempt: 1 },
      },
      ...task(2),
      { eventId: '4', eventTime: '2024-05-01T09:00:02.200Z', eventType: 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED', workflowTaskCompletedEventAttributes: { scheduledEventId: '2', startedEventId: '3', ...first } },
      { eventId: '5', eventTime: '2024-05-01T09:00:02.200Z', eventType: 'EVENT_TYPE_TIMER_STARTED', timerStartedEventAttributes: { timerId: '1', startToFireTimeout: '10s', workflowTaskCompletedEventId: '4' } },
      {
        eventId: '6',
        eventTime: '2024-05-01T09:00:02.200Z',
        eventType: 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED',
        activityTaskScheduledEventAttributes: { activityId: '1', activityType: { name: 'noopActivity' }, taskQueue: { name: 'q' }, scheduleToCloseTimeout: '10s', workflowTaskCompletedEventId: '4' },
      },
      { eventId: '7', eventTime: '2024-05-01T09:00:03.000Z', eventType: 'EVENT_TYPE_ACTIVITY_TASK_STARTED', activityTaskStartedEventAttributes: { scheduledEventId: '6', attempt: 1 } },
      {
        eventId: '8',
        eventTime: '2024-05-01T09:00:03.100Z',
        eventType: 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED',
        activityTaskCompletedEventAttributes: { scheduledEventId: '6', startedEventId: '7', result: { payloads: [{ metadata: { encoding: b64('binary/null') } }] } },
      },
      ...task(9).map((e) => ({ ...e, eventTime: (e.eventTime as string).replace('09:00:09', '09:00:04') })),
      { eventId: '11', eventTime: '2024-05-01T09:00:04.200Z', eventType: 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED', workflowTaskCompletedEventAttributes: { scheduledEventId: '9', startedEventId: '10', ...second } },
      { eventId: '12', eventTime: '2024-05-01T09:00:04.200Z', eventType: 'EVENT_TYPE_TIMER_CANCELED', timerCanceledEventAttributes: { timerId: '1', startedEventId: '5', workflowTaskCompletedEventId: '11' } },
      { eventId: '13', eventTime: '2024-05-01T09:00:04.200Z', eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED', workflowExecutionCompletedEventAttributes: { workflowTaskCompletedEventId: '11' } },
    ],
  };
}

t.test("Temporal's sdkMetadata and build id: imported, kept through deja's own format, exported as they were", async (t) => {
  const full = { sdkMetadata: { langUsedFlags: [1], coreUsedFlags: [3, 1], sdkName: 'temporal-typescript', sdkVersion: '1.11.2' }, workerVersion: { buildId: '@temporalio/worker@1.11.2+abc' } };
  const temporal = twoTasks({ sdkMetadata: { coreUsedFlags: [3, 2, 1] } }, full);
  const h = await fromTemporalHistory(temporal);
  const [c1, c2] = completedEvents(h);
  t.same(c1.sdkMetadata, { coreUsedFlags: [3, 2, 1] });
  t.same(c2.sdkMetadata, full.sdkMetadata);
  t.equal(c2.workerBuildId, '@temporalio/worker@1.11.2+abc');
  t.same(parseHistory(serializeHistory(h)), h, "deja's JSON keeps them");
  const out = toTemporalHistory(h);
  t.same(out.events[3].workflowTaskCompletedEventAttributes, { scheduledEventId: '2', startedEventId: '3', sdkMetadata: { coreUsedFlags: [3, 2, 1] } });
  t.same(out.events[10].workflowTaskCompletedEventAttributes, { scheduledEventId: '9', startedEventId: '10', ...full });
  t.same(await fromTemporalHistory(out), h, 'Temporal → deja → Temporal → deja');

  // An empty sdkMetadata (no flags) stays one; an absent one stays absent: they mean different things to deja.
  const bare = await fromTemporalHistory(twoTasks({ sdkMetadata: {} }, {}));
  t.same(completedEvents(bare).map((e) => 'sdkMetadata' in e), [true, false]);
  t.same(completedEvents(bare)[0].sdkMetadata, {});
  t.same(toTemporalHistory(bare).events[3].workflowTaskCompletedEventAttributes, { scheduledEventId: '2', startedEventId: '3', sdkMetadata: {} });
  t.notOk('sdkMetadata' in (toTemporalHistory(bare).events[10].workflowTaskCompletedEventAttributes as object));

  // Flags that are not flag ids are refused, naming the event and the field.
  await t.rejects(fromTemporalHistory(twoTasks({ sdkMetadata: { langUsedFlags: ['one'] } }, {})), { name: 'InvalidHistoryError', message: /sdkMetadata\.langUsedFlags.*flag ids/ });
  t.throws(() => parseHistory({ ...h, events: h.events.map((e) => (e.eventId === 4 ? { ...e, sdkMetadata: { langUsedFlags: [0] } } : e)) }), InvalidHistoryError, 'deja JSON: flag 0 is refused');
  t.throws(() => parseHistory({ ...h, events: h.events.map((e) => (e.eventId === 4 ? { ...e, sdkMetadata: { flags: [1] } } : e)) }), InvalidHistoryError, 'deja JSON: an unknown sdkMetadata field is refused');
});

t.test('a converted history: lang flag 1 recorded, absent, inferred from the build id, or off, decides the replay', async (t) => {
  const cancelled = await fromTemporalHistory(twoTasks({ sdkMetadata: { coreUsedFlags: [3, 2, 1] } }, { sdkMetadata: { langUsedFlags: [1] } }));
  await t.resolves(replay(cancelled), 'recorded where it was used: the timer is cancelled');
  await t.resolves(replay(await fromTemporalHistory(twoTasks({ sdkMetadata: { langUsedFlags: [1] } }, { sdkMetadata: {} }))), 'recorded by an earlier task: still on');
  await t.resolves(replay(await fromTemporalHistory(twoTasks({}, {}))), 'no sdkMetadata at all (deja before flags): on');
  await t.resolves(
    replay(await fromTemporalHistory(twoTasks({ sdkMetadata: {} }, { sdkMetadata: {}, workerVersion: { buildId: '@temporalio/worker@1.11.0+x' } }))),
    'not recorded, but a 1.11.0 worker completed the task: on',
  );
  await t.rejects(replay(await fromTemporalHistory(twoTasks({ sdkMetadata: {} }, { sdkMetadata: {} }))), {
    name: 'DeterminismViolationError',
    message: /event 12: history recorded timerCanceled 1 but the workflow emitted completeWorkflow/,
  });
  await t.rejects(
    replay(await fromTemporalHistory(twoTasks({ sdkMetadata: {} }, { sdkMetadata: { langUsedFlags: [2] }, workerVersion: { buildId: '@temporalio/worker@1.12.0+x' } }))),
    DeterminismViolationError,
    'another flag, and a later version: off',
  );
  // The same workflow when it never cancelled its timer (Temporal 1.9.3): replays only with the flag off.
  const kept = (m: Record<string, unknown>) => {
    const h = twoTasks({ sdkMetadata: { coreUsedFlags: [2, 1] } }, m);
    h.events.splice(11, 1);
    h.events[11] = { ...h.events[11], eventId: '12' };
    return fromTemporalHistory(h);
  };
  await t.resolves(replay(await kept({ sdkMetadata: {} })));
  await t.rejects(replay(await kept({ sdkMetadata: { langUsedFlags: [1] } })), { name: 'DeterminismViolationError', message: /emitted cancelTimer 1/ });
});

t.test('core flag 2: replaying, each patch marker is followed by the TemporalChangeVersion upsert Temporal adds', async (t) => {
  const keywordList = (ids: string[]) => ({ metadata: { encoding: b64('json/plain'), type: b64('KeywordList') }, data: b64(JSON.stringify(ids)) });
  const marker = (id: number, patchId: string) => ({
    eventId: String(id),
    eventTime: '2024-05-01T09:00:02.200Z',
    eventType: 'EVENT_TYPE_MARKER_RECORDED',
    markerRecordedEventAttributes: { markerName: 'core_patch', details: { patch_data: { payloads: [{ metadata: { encoding: b64('json/plain') }, data: b64(JSON.stringify({ id: patchId, deprecated: false })) }] } }, workflowTaskCompletedEventId: '4' },
  });
  const upsert = (id: number, ids: string[]) => ({
    eventId: String(id),
    eventTime: '2024-05-01T09:00:02.200Z',
    eventType: 'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES',
    upsertWorkflowSearchAttributesEventAttributes: { workflowTaskCompletedEventId: '4', searchAttributes: { indexedFields: { TemporalChangeVersion: keywordList(ids) } } },
  });
  const history = (metadata: Record<string, unknown>, withUpserts: boolean) => {
    const h = twoTasks(metadata, {});
    const body = withUpserts ? [marker(5, 'b-change'), upsert(6, ['b-change']), marker(7, 'a-change'), upsert(8, ['a-change', 'b-change'])] : [marker(5, 'b-change'), marker(6, 'a-change')];
    const done = { eventId: String(5 + body.length), eventTime: '2024-05-01T09:00:02.200Z', eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED', workflowExecutionCompletedEventAttributes: { workflowTaskCompletedEventId: '4' } };
    const [started, ...rest] = h.events;
    return fromTemporalHistory({ events: [{ ...started, workflowExecutionStartedEventAttributes: { ...(started.workflowExecutionStartedEventAttributes as object), workflowType: { name: 'twoPatches' } } }, ...rest.slice(0, 3), ...body, done] });
  };
  const withFlag = await history({ sdkMetadata: { coreUsedFlags: [3, 2, 1] } }, true);
  t.match(withFlag.events[7], { type: 'upsertWorkflowSearchAttributes', searchAttributes: { TemporalChangeVersion: { type: 'KEYWORD_LIST', value: ['a-change', 'b-change'] } } });
  await t.resolves(replay(withFlag), 'with core flag 2: marker, upsert (the ids so far, sorted), marker, upsert');
  await t.resolves(replay(await history({ sdkMetadata: { coreUsedFlags: [1] } }, false)), 'without it: the markers only');
  await t.rejects(replay(await history({ sdkMetadata: { coreUsedFlags: [1] } }, true)), { name: 'DeterminismViolationError', message: /event 6: history recorded upsertWorkflowSearchAttributes TemporalChangeVersion but the workflow emitted patched\("a-change"\) marker/ });
  await t.rejects(replay(await history({ sdkMetadata: { coreUsedFlags: [2] } }, false)), { name: 'DeterminismViolationError', message: /event 6: history recorded patchMarkerRecorded "a-change" but the workflow emitted upsertSearchAttributes TemporalChangeVersion/ });
});

t.test('FlagHistory: recorded flags accumulate; inferred ones come from the build id and the SDK version; a live task records only new flags', async (t) => {
  const b = new HistoryBuilder();
  b.start();
  b.workflowTask();
  b.workflowTask();
  const events = b.history().events.map((e) => (e.type === 'workflowTaskCompleted' ? { ...e, sdkMetadata: {} } : e));
  const at = (i: number, m: Metadata, buildId?: string): HistoryEvent[] =>
    events.map((e, j) => (j === i ? { ...(e as Completed), sdkMetadata: m, ...(buildId === undefined ? {} : { workerBuildId: buildId }) } : e));
  const completed = events.flatMap((e, i) => (e.type === 'workflowTaskCompleted' ? [i] : []));

  let f = new FlagHistory();
  let evs = at(completed[0], { langUsedFlags: [2], coreUsedFlags: [3] });
  t.same(f.forReplayedTask(evs[completed[0]] as Completed), { lang: [2], core: [3] }, 'the task records its own');
  t.same(f.forReplayedTask(evs[completed[1]] as Completed), { lang: [2], core: [3] }, 'and they stay on');

  f = new FlagHistory();
  evs = at(completed[1], {}, '@temporalio/worker@1.11.1+abc');
  t.same(f.forReplayedTask(evs[completed[0]] as Completed), { lang: [], core: [] });
  t.same(f.forReplayedTask(evs[completed[1]] as Completed), { lang: [1, 2], core: [] }, 'a 1.11.1 worker: lang flags 1 and 2');
  f = new FlagHistory();
  t.same(f.forReplayedTask(at(completed[0], { sdkVersion: '1.13.2' })[completed[0]] as Completed), { lang: [3, 4, 5], core: [] }, 'SDK 1.13.2: the OpenTelemetry flags');
  f = new FlagHistory();
  t.same(f.forReplayedTask(at(completed[0], { sdkVersion: '1.11.5' })[completed[0]] as Completed), { lang: [3], core: [] }, 'SDK 1.11.5: flag 3 only');

  f = new FlagHistory();
  f.forReplayedTask(at(completed[0], { langUsedFlags: [1] })[completed[0]] as Completed);
  t.same(f.recordLive({ lang: [1, 2], core: [3] }), { langUsedFlags: [2], coreUsedFlags: [3] }, 'only what the run has not recorded');
  t.equal(f.recordLive({ lang: [2], core: [3] }), undefined, 'then nothing');
  t.equal(f.recordLive(undefined), undefined);
  t.same(unionFlags({ lang: [1], core: [] }, { lang: [1, 2], core: [3] }), { lang: [1, 2], core: [3] });
  t.same(unionFlags(undefined, { lang: [1], core: [] }), { lang: [1], core: [] });
});

// ---------------------------------------------------------------------------------------------
// deja's own histories

t.test('the service records a completion\'s sdkMetadata in its workflowTaskCompleted (memory and SQLite), and refuses a malformed one', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-flags-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [name, store] of [
    ['memory', new MemoryStore()],
    ['sqlite', new SqliteStore(path.join(dir, 'flags.db'))],
  ] as const) {
    const service = new LocalWorkflowService({ store, clock: new ManualClock() });
    try {
      const poll = async (): Promise<WorkflowTask> => {
        const task = await pollNow((signal) => service.pollWorkflowTask('q', 'fake', signal));
        if (task?.kind !== 'workflow') throw new Error(`expected a workflow task, got ${JSON.stringify(task)}`);
        return task;
      };
      const run = async (workflowId: string) => {
        await service.startWorkflow({ workflowId, workflowType: 'w', taskQueue: 'q', args: [] });
        return poll();
      };
      await t.rejects(
        service.completeWorkflowTask((await run('bad-id')).taskToken, [], { langUsedFlags: ['one'] } as never),
        { name: 'InvalidArgumentError', message: /^completeWorkflowTask: sdkMetadata\.langUsedFlags\[0\] must be an integer ≥ 1, got the string "one"$/ },
        `${name}: a flag that is not an id is refused`,
      );
      await t.rejects(
        service.completeWorkflowTask((await run('bad-key')).taskToken, [], { flags: [1] } as never),
        { name: 'InvalidArgumentError', message: /sdkMetadata.*"flags"/ },
        `${name}: an unknown field is refused`,
      );
      for (const workflowId of ['bad-id', 'bad-key']) {
        const history = await service.getHistory({ workflowId });
        t.same(history.filter((e) => e.type === 'workflowTaskFailed').map((e) => (e as { cause: string }).cause), ['badCommand'], `${name}: the refused completion failed its task`);
      }
      await service.completeWorkflowTask((await run('good')).taskToken, [{ type: 'startTimer', seq: 1, startToFireTimeoutMs: 1000 }], { langUsedFlags: [1], coreUsedFlags: [3] });
      const history = await service.getHistory({ workflowId: 'good' });
      t.same(
        history.filter((e): e is Completed => e.type === 'workflowTaskCompleted').map((e) => e.sdkMetadata),
        [{ langUsedFlags: [1], coreUsedFlags: [3] }],
        `${name}: recorded in the task's workflowTaskCompleted`,
      );
    } finally {
      await service.close();
    }
  }
});

const doneUpdate = defineUpdate<string>('doneUpdate');

t.test('deja records the flags its runtime used, and replays its histories with them both ways', async (t) => {
  const connection = new Connection({ backend: `memory:flags-${randomUUID()}` });
  const taskQueue = 'flags';
  const worker = await Worker.create({ connection, taskQueue, workflowBundle: await flagBundle(), activities: { noopActivity: async () => undefined }, logger: () => undefined });
  const running = worker.run();
  const client = new WorkflowClient(connection.service);
  const start = (type: string) => client.start(type, { taskQueue, workflowId: `${type}-${randomUUID()}` });
  try {
    // Lang flag 1, used when the activity completes before the timeout: the second task records it.
    const timeout = await start('langFlagsReplayCorrectly');
    await timeout.result();
    const th = await timeout.fetchHistory();
    t.same(completedEvents(th).map((e) => e.sdkMetadata), [undefined, { langUsedFlags: [1] }], 'lang flag 1 recorded by the task that used it');
    t.ok(th.events.some((e) => e.type === 'timerCanceled'), 'the timer was cancelled');
    await t.resolves(replay(th), 'replays as recorded');
    await t.resolves(replay(withMetadata(th, undefined)), 'as a history of deja before flags: lang flag 1 on');
    await t.rejects(replay(withMetadata(th, {})), { name: 'DeterminismViolationError', message: /timerCanceled 1 but the workflow emitted completeWorkflow/ }, 'with the flag off: the timer is left running');

    // Lang flag 1, used when the non-cancellable scope's cancellation would reach the inner one.
    const shield = await start('nonCancellableShield');
    t.equal(await shield.result(), 'shielded');
    const sh = await shield.fetchHistory();
    t.same(completedEvents(sh)[0].sdkMetadata, { langUsedFlags: [1] });
    await t.resolves(replay(sh));
    await t.rejects(replay(withMetadata(sh, {})), { name: 'DeterminismViolationError', message: /history recorded timerStarted 1 .*but the workflow emitted completeWorkflow/ }, 'with the flag off: the inner scope is cancelled');

    // Core flag 3: the update's completion after the workflow returned is kept, before the closing command.
    const update = await start('canCompleteUpdateAfterWorkflowReturns');
    t.equal(await update.executeUpdate(doneUpdate), 'completed', 'the caller gets the result');
    await update.result();
    const uh = await update.fetchHistory();
    const types = uh.events.map((e) => e.type);
    t.ok(types.indexOf('workflowExecutionUpdateCompleted') > 0 && types.indexOf('workflowExecutionUpdateCompleted') < types.indexOf('workflowExecutionCompleted'), 'the update completed before the run');
    t.same(completedEvents(uh).at(-1)?.sdkMetadata, { coreUsedFlags: [3] }, 'core flag 3 recorded by the task that used it');
    await t.resolves(replay(uh));
    await t.rejects(replay(withMetadata(uh, undefined)), { name: 'DeterminismViolationError', message: /workflowExecutionUpdateCompleted.*but the workflow emitted completeWorkflow/ }, 'as a history of deja before flags: dropped');
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
});
