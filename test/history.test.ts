// History files (host side): parseHistory validates every field and invariant, serializeHistory is
// canonical and round-trips, files are written atomically. Fixtures come from a small builder.
import t from 'tap';
import fc from 'fast-check';
import { deepStrictEqual } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError, InvalidHistoryError } from '../lib/errors';
import {
  EVENT_TYPES,
  SUPPORTED_HISTORY_VERSIONS,
  makeHistory,
  parseHistory,
  readHistoryFile,
  serializeHistory,
  writeHistoryFile,
} from '../lib/history';
import type { EventType, History, HistoryEvent } from '../lib/history';
import { ISO_TIME, historyJsonSchema } from '../lib/history/schema';
import { isIsoTimeText } from '../lib/history/fast';
import { readersForTest } from '../lib/history/validate';
import type { FailureKind, RetryState, TimeoutType, WireFailure } from '../runtime/protocol';
import { HistoryBuilder } from './support/history';

// ---------------------------------------------------------------------------------------------
// Builders

const T0 = Date.UTC(2024, 0, 31, 12, 0, 0);

/** A valid history using every event type; it closes with workflowExecution{Completed,Failed}. */
type Close = 'completed' | 'failed' | 'canceled' | 'terminated' | 'timedOut' | 'continuedAsNew';
const CLOSES: readonly Close[] = ['completed', 'failed', 'canceled', 'terminated', 'timedOut', 'continuedAsNew'];

function everyEventHistory(close: Close): History {
  const b = new HistoryBuilder();
  if (close === 'continuedAsNew') {
    // A run that continues another, with every optional field of the start event.
    b.add({
      type: 'workflowExecutionStarted',
      workflowType: b.workflowType,
      workflowId: b.workflowId,
      runId: b.runId,
      firstExecutionRunId: 'run-0',
      taskQueue: b.taskQueue,
      input: ['Ada'],
      attempt: 2,
      randomnessSeed: 'seed-1',
      workflowTaskTimeoutMs: 10_000,
      continuedFromExecutionRunId: 'run-0',
      initiator: 'cronSchedule',
      cronSchedule: '*/5 * * * *',
      firstWorkflowTaskBackoffMs: 60_000,
      workflowExecutionTimeoutMs: 3_600_000,
      workflowExecutionExpirationTime: '2024-01-31T13:00:00.000Z',
      workflowRunTimeoutMs: 600_000,
      retryPolicy: { initialIntervalMs: 1000, maximumAttempts: 3 },
      memo: { owner: 'ops', n: 1 },
      searchAttributes: {
        CustomKeywordField: { type: 'KEYWORD', value: 'x' },
        CustomIntField: { type: 'INT', value: 3 },
        CustomBoolField: { type: 'BOOL', value: true },
        CustomDatetimeField: { type: 'DATETIME', value: '2024-01-01T00:00:00Z' },
        Tags: { type: 'KEYWORD_LIST', value: ['a', 'b'] },
      },
      lastCompletionResult: { previous: true },
      continuedFailure: { message: 'previous run failed', kind: 'application' },
      identity: 'client-1',
    });
  } else b.start(['Ada']);
  b.workflowTask('failed', 1);
  // A reset: the failed task re-seeds the PRNG.
  const resetScheduled = b.add({ type: 'workflowTaskScheduled', taskQueue: 'main', attempt: 1 });
  const resetStarted = b.add({ type: 'workflowTaskStarted', scheduledEventId: resetScheduled, identity: 'worker-1' });
  b.add({
    type: 'workflowTaskFailed',
    scheduledEventId: resetScheduled,
    startedEventId: resetStarted,
    cause: 'resetWorkflow',
    failure: { message: 'reset', kind: 'application' },
    identity: 'history-service',
    newRandomnessSeed: 'seed-after-reset',
  });
  b.workflowTask('timedOut', 2);
  const wt = b.workflowTask('completed', 3);
  const a1 = b.add({
    type: 'activityTaskScheduled',
    activityId: '1',
    activityType: 'greet',
    taskQueue: 'main',
    input: ['Ada'],
    scheduleToCloseTimeoutMs: 60_000,
    scheduleToStartTimeoutMs: 5_000,
    startToCloseTimeoutMs: 10_000,
    heartbeatTimeoutMs: 2_000,
    retryPolicy: {
      initialIntervalMs: 1000,
      backoffCoefficient: 2,
      maximumIntervalMs: 100_000,
      maximumAttempts: 0,
      nonRetryableErrorTypes: ['Fatal'],
    },
    workflowTaskCompletedEventId: wt,
  });
  const a2 = b.add({ type: 'activityTaskScheduled', activityId: '2', activityType: 'charge', taskQueue: 'main', input: [{ cents: 5 }], workflowTaskCompletedEventId: wt });
  const a3 = b.add({ type: 'activityTaskScheduled', activityId: '3', activityType: 'ship', taskQueue: 'slow', input: [], workflowTaskCompletedEventId: wt });
  const t1 = b.add({ type: 'timerStarted', timerId: '1', startToFireTimeoutMs: 60_000, workflowTaskCompletedEventId: wt });
  const t2 = b.add({ type: 'timerStarted', timerId: '2', startToFireTimeoutMs: 0.5, workflowTaskCompletedEventId: wt });
  // Cancellation, children and external workflows.
  const a4 = b.add({ type: 'activityTaskScheduled', activityId: '4', activityType: 'slow', taskQueue: 'main', input: [], workflowTaskCompletedEventId: wt });
  const a5 = b.add({ type: 'activityTaskScheduled', activityId: '5', activityType: 'slow', taskQueue: 'main', input: [], workflowTaskCompletedEventId: wt });
  const r4 = b.add({ type: 'activityTaskCancelRequested', scheduledEventId: a4, workflowTaskCompletedEventId: wt });
  const r5 = b.add({ type: 'activityTaskCancelRequested', scheduledEventId: a5, workflowTaskCompletedEventId: wt });
  b.add({ type: 'activityTaskCanceled', scheduledEventId: a4, latestCancelRequestedEventId: r4 });
  const s5 = b.add({ type: 'activityTaskStarted', scheduledEventId: a5, attempt: 1 });
  b.add({ type: 'activityTaskCanceled', scheduledEventId: a5, startedEventId: s5, latestCancelRequestedEventId: r5, details: ['partial'] });
  const kids = ['completed', 'failed', 'canceled', 'terminated', 'timedOut'].map((how, i) => {
    const workflowId = `kid-${how}`;
    const initiated = b.add({
      type: 'startChildWorkflowExecutionInitiated',
      workflowId,
      workflowType: 'kid',
      taskQueue: 'main',
      input: [i],
      parentClosePolicy: (['terminate', 'requestCancel', 'abandon'] as const)[i % 3],
      ...(i === 0 ? { workflowIdReusePolicy: 'rejectDuplicate' as const } : {}),
      workflowTaskTimeoutMs: 10_000,
      workflowTaskCompletedEventId: wt,
    });
    const started = b.add({ type: 'childWorkflowExecutionStarted', workflowId, runId: `kid-run-${i}`, workflowType: 'kid', initiatedEventId: initiated });
    return { how, base: { workflowId, runId: `kid-run-${i}`, workflowType: 'kid', initiatedEventId: initiated, startedEventId: started } };
  });
  const refused = b.add({ type: 'startChildWorkflowExecutionInitiated', workflowId: 'taken', workflowType: 'kid', taskQueue: 'main', input: [], parentClosePolicy: 'abandon', workflowTaskTimeoutMs: 10_000, workflowTaskCompletedEventId: wt });
  b.add({ type: 'startChildWorkflowExecutionFailed', workflowId: 'taken', workflowType: 'kid', cause: 'workflowAlreadyExists', initiatedEventId: refused });
  b.add({ type: 'childWorkflowExecutionCompleted', ...kids[0].base, result: { kid: true } });
  b.add({ type: 'childWorkflowExecutionFailed', ...kids[1].base, failure: { message: 'kid broke', kind: 'application' }, retryState: 'retryPolicyNotSet' });
  b.add({ type: 'childWorkflowExecutionCanceled', ...kids[2].base, details: [1] });
  b.add({ type: 'childWorkflowExecutionTerminated', ...kids[3].base, reason: 'parent closed' });
  b.add({ type: 'childWorkflowExecutionTimedOut', ...kids[4].base, retryState: 'timeout' });
  const x1 = b.add({ type: 'signalExternalWorkflowExecutionInitiated', workflowId: 'other', signalName: 'poke', input: [2], childWorkflowOnly: false, workflowTaskCompletedEventId: wt });
  const x2 = b.add({ type: 'signalExternalWorkflowExecutionInitiated', workflowId: 'gone', runId: 'gone-run', signalName: 'poke', input: [], childWorkflowOnly: true, workflowTaskCompletedEventId: wt });
  b.add({ type: 'externalWorkflowExecutionSignaled', initiatedEventId: x1, workflowId: 'other', runId: 'other-run' });
  b.add({ type: 'signalExternalWorkflowExecutionFailed', initiatedEventId: x2, workflowId: 'gone', runId: 'gone-run', cause: 'externalWorkflowExecutionNotFound' });
  const y1 = b.add({ type: 'requestCancelExternalWorkflowExecutionInitiated', workflowId: 'other', childWorkflowOnly: false, workflowTaskCompletedEventId: wt });
  const y2 = b.add({ type: 'requestCancelExternalWorkflowExecutionInitiated', workflowId: 'gone', runId: 'gone-run', childWorkflowOnly: false, workflowTaskCompletedEventId: wt });
  b.add({ type: 'externalWorkflowExecutionCancelRequested', initiatedEventId: y1, workflowId: 'other', runId: 'other-run' });
  b.add({ type: 'requestCancelExternalWorkflowExecutionFailed', initiatedEventId: y2, workflowId: 'gone', cause: 'externalWorkflowExecutionNotFound' });
  b.add({ type: 'workflowExecutionCancelRequested', cause: 'customer left', identity: 'cli', externalInitiatedEventId: 3, externalWorkflowId: 'parent', externalRunId: 'parent-run' });
  const s1 = b.add({ type: 'activityTaskStarted', scheduledEventId: a1, attempt: 1, identity: 'worker-2' });
  b.add({ type: 'activityTaskCompleted', scheduledEventId: a1, startedEventId: s1, result: 'Hello, Ada' });
  const s2 = b.add({ type: 'activityTaskStarted', scheduledEventId: a2, attempt: 3 });
  b.add({
    type: 'activityTaskFailed',
    scheduledEventId: a2,
    startedEventId: s2,
    failure: {
      message: 'card declined',
      kind: 'application',
      type: 'Fatal',
      stack: 'Fatal: card declined\n    at charge',
      nonRetryable: true,
      details: [{ code: 51 }, null],
      cause: { message: 'HTTP 402', kind: 'application' },
    },
    retryState: 'nonRetryableFailure',
  });
  b.add({
    type: 'activityTaskTimedOut',
    scheduledEventId: a3,
    failure: { message: 'activity timed out', kind: 'timeout', timeoutType: 'scheduleToStart', activityType: 'ship', activityId: '3', retryState: 'timeout' },
    retryState: 'timeout',
  });
  b.add({ type: 'timerFired', timerId: '1', startedEventId: t1 });
  b.add({ type: 'workflowExecutionSignaled', signalName: 'poke', input: [1, { deep: [true, null] }], identity: 'cli' });
  // Part 2 of the language: markers, upserts and updates, from a task whose start says how large history is.
  const s3 = b.add({ type: 'workflowTaskScheduled', taskQueue: 'main', attempt: 1 });
  const st3 = b.add({ type: 'workflowTaskStarted', scheduledEventId: s3, historySizeBytes: 12_345, suggestContinueAsNew: false });
  const wt3 = b.add({ type: 'workflowTaskCompleted', scheduledEventId: s3, startedEventId: st3 });
  b.add({ type: 'patchMarkerRecorded', patchId: 'v2', deprecated: false, workflowTaskCompletedEventId: wt3 });
  b.add({ type: 'patchMarkerRecorded', patchId: 'v1', deprecated: true, workflowTaskCompletedEventId: wt3 });
  b.add({ type: 'localActivityMarkerRecorded', seq: 1, activityId: '1', activityType: 'greet', attempt: 1, result: 'hi', workflowTaskCompletedEventId: wt3 });
  b.add({
    type: 'localActivityMarkerRecorded',
    seq: 2,
    activityId: '2',
    activityType: 'greet',
    attempt: 3,
    failure: { message: 'no', kind: 'application' },
    workflowTaskCompletedEventId: wt3,
  });
  b.add({
    type: 'upsertWorkflowSearchAttributes',
    searchAttributes: { CustomKeywordField: { type: 'KEYWORD', value: 'y' }, CustomIntField: null },
    workflowTaskCompletedEventId: wt3,
  });
  b.add({ type: 'workflowPropertiesModified', upsertedMemo: { owner: 'dev', n: null }, workflowTaskCompletedEventId: wt3 });
  const u1 = b.add({ type: 'workflowExecutionUpdateAccepted', updateId: 'u1', name: 'rename', input: ['Bo'], identity: 'cli', workflowTaskCompletedEventId: wt3 });
  const u2 = b.add({ type: 'workflowExecutionUpdateAccepted', updateId: 'u2', name: 'rename', input: [], workflowTaskCompletedEventId: wt3 });
  b.add({ type: 'workflowExecutionUpdateCompleted', updateId: 'u1', acceptedEventId: u1, result: 'ok', workflowTaskCompletedEventId: wt3 });
  b.add({ type: 'workflowExecutionUpdateCompleted', updateId: 'u2', acceptedEventId: u2, failure: { message: 'bad name', kind: 'application' }, workflowTaskCompletedEventId: wt3 });
  const wt2 = b.workflowTask();
  b.add({ type: 'timerCanceled', timerId: '2', startedEventId: t2, workflowTaskCompletedEventId: wt2 });
  if (close === 'completed') {
    b.add({ type: 'workflowExecutionCompleted', result: { greeting: 'Hello, Ada' }, workflowTaskCompletedEventId: wt2 });
  } else if (close === 'failed') {
    b.add({ type: 'workflowExecutionFailed', failure: { message: 'gave up', kind: 'application' }, workflowTaskCompletedEventId: wt2 });
  } else if (close === 'canceled') {
    b.add({ type: 'workflowExecutionCanceled', details: ['bye'], workflowTaskCompletedEventId: wt2 });
  } else if (close === 'timedOut') {
    b.add({ type: 'workflowExecutionTimedOut', retryState: 'retryPolicyNotSet', newExecutionRunId: 'run-next' });
  } else if (close === 'continuedAsNew') {
    b.add({
      type: 'workflowExecutionContinuedAsNew',
      newExecutionRunId: 'run-2',
      workflowType: b.workflowType,
      taskQueue: 'main',
      input: ['Ada', 2],
      workflowRunTimeoutMs: 600_000,
      workflowTaskTimeoutMs: 10_000,
      workflowTaskCompletedEventId: wt2,
    });
  } else {
    b.add({ type: 'workflowExecutionTerminated', reason: 'ops', details: [{ ticket: 1 }], identity: 'cli' });
  }
  return b.history();
}

/**
 * The base of the bad-input cases; its ids, by index: 0 started, 1-3 workflow task, 4 activity
 * "a1" scheduled, 5 timer "t1" started, 6-7 activity started and completed, 8 timer fired, 9-11
 * workflow task, 12 workflow completed.
 */
function baseHistory(): History {
  const b = new HistoryBuilder();
  b.start(['Ada']);
  const wt = b.workflowTask();
  const a = b.add({ type: 'activityTaskScheduled', activityId: 'a1', activityType: 'greet', taskQueue: 'main', input: ['Ada'], startToCloseTimeoutMs: 10_000, workflowTaskCompletedEventId: wt });
  const timer = b.add({ type: 'timerStarted', timerId: 't1', startToFireTimeoutMs: 1000, workflowTaskCompletedEventId: wt });
  const s = b.add({ type: 'activityTaskStarted', scheduledEventId: a, attempt: 1 });
  b.add({ type: 'activityTaskCompleted', scheduledEventId: a, startedEventId: s, result: 'Hello, Ada' });
  b.add({ type: 'timerFired', timerId: 't1', startedEventId: timer });
  const wt2 = b.workflowTask();
  b.add({ type: 'workflowExecutionCompleted', result: 'done', workflowTaskCompletedEventId: wt2 });
  return b.history();
}

// The mutation cases edit a plain JSON copy, as a hand-edited file would be.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const clone = (h: History): Json => JSON.parse(JSON.stringify(h));

/** Asserts that `fn` throws an InvalidHistoryError and returns it. */
function rejects(t: Tap, fn: () => unknown): InvalidHistoryError {
  try {
    fn();
  } catch (err) {
    t.type(err, InvalidHistoryError);
    t.equal((err as InvalidHistoryError).code, 'DEJA_INVALID_HISTORY');
    return err as InvalidHistoryError;
  }
  t.fail('expected an InvalidHistoryError, nothing was thrown');
  return new InvalidHistoryError('(nothing thrown)');
}
type Tap = Pick<typeof t, 'type' | 'equal' | 'fail' | 'notOk'>;

// ---------------------------------------------------------------------------------------------
// Valid histories

t.test('a history with every event type parses, from text, bytes or an object', async (t) => {
  for (const close of CLOSES) {
    const h = everyEventHistory(close);
    const text = JSON.stringify(h);
    const fromText = parseHistory(text, 'every.json');
    t.strictSame(fromText, h);
    t.strictSame(parseHistory(Buffer.from(text)), h);
    t.strictSame(parseHistory(new TextEncoder().encode(text)), h);
    t.strictSame(parseHistory(`\uFEFF${text}`), h, 'a byte-order mark is skipped');
    const fromObject = parseHistory(h);
    t.strictSame(fromObject, h);
    t.not(fromObject.events[0], h.events[0], 'events are fresh objects, not the input');
  }
  const seen = new Set(CLOSES.flatMap((close) => everyEventHistory(close).events.map((e) => e.type)));
  t.strictSame([...seen].sort(), [...EVENT_TYPES].sort(), 'the fixtures cover every event type');
  t.strictSame(SUPPORTED_HISTORY_VERSIONS, [1]);
});

t.test('optional fields set to undefined count as absent', async (t) => {
  const h = baseHistory();
  (h.events[7] as Json).result = undefined;
  (h.events[2] as Json).identity = undefined;
  const parsed = parseHistory(h);
  t.notOk('result' in parsed.events[7]);
  t.notOk('identity' in parsed.events[2]);
});

t.test('ids may be reused once the timer or activity holding them has closed', async (t) => {
  const b = new HistoryBuilder();
  b.start();
  const wt = b.workflowTask();
  const t1 = b.add({ type: 'timerStarted', timerId: 't', startToFireTimeoutMs: 10, workflowTaskCompletedEventId: wt });
  const a1 = b.add({ type: 'activityTaskScheduled', activityId: 'a', activityType: 'x', taskQueue: 'main', input: [], workflowTaskCompletedEventId: wt });
  b.add({ type: 'timerFired', timerId: 't', startedEventId: t1 });
  b.add({ type: 'activityTaskTimedOut', scheduledEventId: a1, failure: { message: 'late', kind: 'timeout' }, retryState: 'timeout' });
  const wt2 = b.workflowTask();
  b.add({ type: 'timerStarted', timerId: 't', startToFireTimeoutMs: 10, workflowTaskCompletedEventId: wt2 });
  b.add({ type: 'activityTaskScheduled', activityId: 'a', activityType: 'x', taskQueue: 'main', input: [], workflowTaskCompletedEventId: wt2 });
  t.equal(parseHistory(b.history()).events.length, b.events.length);
});

t.test('equal event times are allowed; times with offsets and nanoseconds are accepted', async (t) => {
  const b = new HistoryBuilder({ startMs: T0, stepMs: 0 });
  b.start();
  b.workflowTask();
  const h = clone(b.history());
  h.events[1].eventTime = '2024-01-31T13:00:00.123456789+01:00';
  h.events[2].eventTime = '2024-01-31T12:00:00.124Z';
  h.events[3].eventTime = '2024-01-31T12:00:00.124Z';
  t.equal(parseHistory(h).events[1].eventTime, '2024-01-31T13:00:00.123456789+01:00', 'the text is kept as written');
});

// ---------------------------------------------------------------------------------------------
// Serialization and files

t.test('serializeHistory writes canonical JSON: fixed key order, 2-space indent, final newline', async (t) => {
  const h = baseHistory();
  const text = serializeHistory(h);
  t.ok(text.startsWith('{\n  "format": "deja.history",\n  "version": 1,\n  "workflowId": "wf-1",\n  "runId": "run-1",\n  "events": [\n    {\n      "eventId": 1,\n'));
  t.ok(text.endsWith('}\n') && !text.endsWith('\n\n'));
  const completed = JSON.parse(text).events[7];
  t.strictSame(Object.keys(completed), ['eventId', 'eventTime', 'type', 'scheduledEventId', 'startedEventId', 'result']);

  // The same history built with keys in another order gives the same bytes.
  const shuffled = clone(h);
  shuffled.events = shuffled.events.map((e: Record<string, unknown>) => Object.fromEntries(Object.entries(e).reverse()));
  const reordered = { events: shuffled.events, runId: h.runId, workflowId: h.workflowId, version: 1, format: 'deja.history' };
  t.equal(serializeHistory(reordered as History), text);

  t.strictSame(parseHistory(text), h, 'parse(serialize(h)) deep-equals h');
  t.equal(serializeHistory(parseHistory(text)), text, 'serialize is stable');

  const failed = everyEventHistory('failed');
  const failureKeys = Object.keys(JSON.parse(serializeHistory(failed)).events.find((e: Json) => e.type === 'activityTaskFailed').failure);
  t.strictSame(failureKeys, ['message', 'kind', 'type', 'stack', 'nonRetryable', 'details', 'cause'], 'failures in schema order');
});

t.test('serializeHistory refuses what it could not read back', async (t) => {
  const h = clone(baseHistory());
  h.events[7].startedEventId = 99;
  const err = rejects(t, () => serializeHistory(h));
  t.equal(err.eventId, 8);
  t.match(err.message, /^serializeHistory: events\[7\]\.startedEventId/);
  t.throws(() => serializeHistory('{}' as unknown as History), InvalidArgumentError);
});

t.test('makeHistory wraps and validates events', async (t) => {
  const b = baseHistory();
  const h = makeHistory('wf-1', 'run-1', b.events);
  t.strictSame(h, b);
  const err = rejects(t, () => makeHistory('wf-2', 'run-1', b.events));
  t.equal(err.eventId, 1);
  t.equal(err.field, 'workflowId');
  t.match(err.message, /^makeHistory: events\[0\]\.workflowId \(eventId 1, workflowExecutionStarted\): expected the history's workflowId "wf-2", found the string "wf-1"/);
});

t.test('history files: write atomically, read back, refuse bad ones', async (t) => {
  const dir = t.testdir({ 'bad.json': '{"format": "deja.history", "version": 1,\n  "workflowId": }' });
  const file = path.join(dir, 'h.json');
  const h = everyEventHistory('completed');
  writeHistoryFile(file, h);
  t.equal(fs.readFileSync(file, 'utf8'), serializeHistory(h));
  t.strictSame(readHistoryFile(file), h);

  // An invalid history is refused before the disk is touched: the old file stays, no temp file.
  const bad = clone(h);
  delete bad.events[3].startedEventId;
  const err = rejects(t, () => writeHistoryFile(file, bad));
  t.match(err.message, `writeHistoryFile(${file}): events[3].startedEventId`);
  t.equal(fs.readFileSync(file, 'utf8'), serializeHistory(h));
  t.strictSame(fs.readdirSync(dir).sort(), ['bad.json', 'h.json']);

  // Overwrite with another history; still no temp files left behind.
  writeHistoryFile(file, baseHistory());
  t.strictSame(readHistoryFile(file), baseHistory());
  t.strictSame(fs.readdirSync(dir).sort(), ['bad.json', 'h.json']);

  // A failed write (missing directory) leaves nothing behind and throws Node's error.
  t.throws(() => writeHistoryFile(path.join(dir, 'missing', 'h.json'), h), { code: 'ENOENT' });

  const badFile = path.join(dir, 'bad.json');
  const jsonErr = rejects(t, () => readHistoryFile(badFile));
  t.match(jsonErr.message, `${badFile}: not valid JSON`);
  t.match(jsonErr.message, /\(line 2, column 17\)/);
  t.throws(() => readHistoryFile(path.join(dir, 'nope.json')), { code: 'ENOENT' });
});

t.test('the example in docs/history-format.md is valid and canonical', async (t) => {
  const doc = fs.readFileSync(path.join(__dirname, '..', 'docs', 'history-format.md'), 'utf8');
  const example = doc.slice(doc.indexOf('## Example')).match(/```json\n([\s\S]*?)```/)?.[1];
  if (example === undefined) return t.fail('no example found under "## Example"');
  const h = parseHistory(example, 'docs/history-format.md');
  t.equal(serializeHistory(h), example, 'written exactly as serializeHistory writes it');
  t.strictSame(
    h.events.map((e) => e.type),
    [
      'workflowExecutionStarted',
      'workflowTaskScheduled',
      'workflowTaskStarted',
      'workflowTaskCompleted',
      'activityTaskScheduled',
      'activityTaskStarted',
      'activityTaskCompleted',
      'workflowTaskScheduled',
      'workflowTaskStarted',
      'workflowTaskCompleted',
      'workflowExecutionCompleted',
    ],
  );
});

// ---------------------------------------------------------------------------------------------
// Bad input: each case names the event, the field and what was expected

interface BadCase {
  name: string;
  /** A value to parse as is (text or object), or an edit of a JSON copy of baseHistory(). */
  input?: unknown;
  edit?: (h: Json) => void;
  eventId?: number;
  field?: string;
  message: RegExp[];
}

const at = (index: number, type: string, field?: string): RegExp =>
  new RegExp(`^case\\.json: events\\[${index}\\]${field ? `\\.${field.replace(/[.[\]]/g, '\\$&')}` : ''} \\(eventId ${index + 1}, ${type}\\): `);

const failedActivity = (failure: unknown, retryState: unknown = 'timeout') => (h: Json) => {
  h.events[7] = { eventId: 8, eventTime: h.events[7].eventTime, type: 'activityTaskFailed', scheduledEventId: 5, startedEventId: 7, failure, retryState };
};

const badCases: BadCase[] = [
  // The file and its envelope
  { name: 'not JSON', input: '{"format": "deja.history",', message: [/^case\.json: not valid JSON: /, /\(line 1, column 27\)/] },
  { name: 'not JSON, position given by the parser', input: '{\n  "format": "deja.history",,\n}', message: [/not valid JSON: .*position 29/, /\(line 2, column 28\)/] },
  { name: 'not an object', input: [], message: [/^case\.json: the top level: expected a history object \{ format, version, workflowId, runId, events \}, found an array/] },
  { name: 'null', input: null, message: [/expected a history object .*, found null/] },
  { name: 'missing format', edit: (h) => delete h.format, field: 'format', message: [/^case\.json: format: missing required field \(expected "deja\.history"\)/] },
  { name: 'wrong format', edit: (h) => (h.format = 'temporal'), field: 'format', message: [/expected "deja\.history", found the string "temporal"/] },
  {
    // Read as a Temporal export (test/temporal-history.test.ts covers those): its errors name the Temporal event.
    name: 'a Temporal export',
    input: { events: [{ eventId: '1', eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED' }] },
    eventId: 1,
    field: 'eventTime',
    message: [/^case\.json: Temporal event 1 \(EVENT_TYPE_WORKFLOW_EXECUTION_STARTED\), eventTime: missing required field/],
  },
  {
    name: 'a Temporal export with a format field',
    input: { format: 'temporal', events: [{ eventId: '1', eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED' }] },
    field: 'format',
    message: [/expected "deja\.history"/, /looks like a Temporal history export; deja reads those when they have no "format" field/],
  },
  { name: 'unsupported version', edit: (h) => (h.version = 2), field: 'version', message: [/^case\.json: version: expected a supported version \(this build of deja reads version 1\), found number 2/] },
  { name: 'version as a string', edit: (h) => (h.version = '1'), field: 'version', message: [/found the string "1"/] },
  { name: 'missing version', edit: (h) => delete h.version, field: 'version', message: [/version: missing required field \(expected 1\)/] },
  { name: 'unknown envelope field', edit: (h) => ((h.workflowID = h.workflowId), delete h.workflowId), field: 'workflowID', message: [/unknown field "workflowID" \(did you mean "workflowId"\?\); a history has only: format, version, workflowId, runId, events/] },
  { name: 'missing workflowId', edit: (h) => delete h.workflowId, field: 'workflowId', message: [/^case\.json: workflowId: missing required field/] },
  { name: 'missing runId', edit: (h) => delete h.runId, field: 'runId', message: [/^case\.json: runId: missing required field/] },
  { name: 'empty runId', edit: (h) => (h.runId = ''), field: 'runId', message: [/runId: expected a non-empty string, found the string ""/] },
  { name: 'events not an array', edit: (h) => (h.events = {}), field: 'events', message: [/events: expected a non-empty array of events, found an object/] },
  { name: 'no events', edit: (h) => (h.events = []), field: 'events', message: [/events: expected a non-empty array of events, found an array/] },

  // One event's shape
  { name: 'an event that is not an object', edit: (h) => (h.events[3] = 'x'), eventId: 4, message: [/^case\.json: events\[3\]: expected an event object, found the string "x"/] },
  { name: 'unknown event type', edit: (h) => (h.events[8].type = 'timerFire'), eventId: 9, field: 'type', message: [/^case\.json: events\[8\]\.type \(eventId 9\): expected a known event type \(one of workflowExecutionStarted, workflowTaskScheduled, .*workflowExecutionUpdateCompleted\), found the string "timerFire"/] },
  { name: 'missing type', edit: (h) => delete h.events[8].type, eventId: 9, field: 'type', message: [/events\[8\]\.type \(eventId 9\): missing required field/] },
  { name: 'missing required field', edit: (h) => delete h.events[7].startedEventId, eventId: 8, field: 'startedEventId', message: [at(7, 'activityTaskCompleted', 'startedEventId'), /missing required field$/] },
  { name: 'missing eventTime', edit: (h) => delete h.events[2].eventTime, eventId: 3, field: 'eventTime', message: [at(2, 'workflowTaskStarted', 'eventTime'), /missing required field/] },
  { name: 'unknown field (a typo)', edit: (h) => (h.events[7].reslt = 'x'), eventId: 8, field: 'reslt', message: [at(7, 'activityTaskCompleted', 'reslt'), /unknown field "reslt" \(did you mean "result"\?\); an activityTaskCompleted event has only: eventId, eventTime, type, scheduledEventId, startedEventId, result/] },
  { name: 'unknown field', edit: (h) => (h.events[1].priority = 3), eventId: 2, field: 'priority', message: [/unknown field "priority";/] },
  { name: 'eventId as a string', edit: (h) => (h.events[3].eventId = '4'), eventId: 4, field: 'eventId', message: [/^case\.json: events\[3\]\.eventId: expected 4 \(event ids are 1, 2, 3, … in order, with no gaps\), found the string "4"/] },
  { name: 'eventId zero', edit: (h) => (h.events[0].eventId = 0), eventId: 1, field: 'eventId', message: [/expected 1 .*, found number 0/] },
  { name: 'missing eventId', edit: (h) => delete h.events[5].eventId, eventId: 6, field: 'eventId', message: [/events\[5\]\.eventId: missing required field \(expected 6\)/] },
  { name: 'eventId skips', edit: (h) => (h.events[5].eventId = 7), eventId: 6, field: 'eventId', message: [/events\[5\]\.eventId: expected 6 .*found number 7/] },
  { name: 'eventId repeats', edit: (h) => (h.events[5].eventId = 5), eventId: 6, field: 'eventId', message: [/expected 6 .*found number 5/] },
  { name: 'eventTime not a time', edit: (h) => (h.events[2].eventTime = 'yesterday'), eventId: 3, field: 'eventTime', message: [at(2, 'workflowTaskStarted', 'eventTime'), /expected an ISO-8601 UTC time such as "2024-01-31T12:00:00\.000Z", found the string "yesterday"/] },
  { name: 'eventTime without a zone', edit: (h) => (h.events[2].eventTime = '2024-01-31T12:00:02'), eventId: 3, field: 'eventTime', message: [/expected an ISO-8601 UTC time/] },
  { name: 'eventTime a number', edit: (h) => (h.events[2].eventTime = T0), eventId: 3, field: 'eventTime', message: [/found number 1706702400000/] },
  { name: 'eventTime on a day that does not exist', edit: (h) => (h.events[2].eventTime = '2024-02-30T00:00:00Z'), eventId: 3, field: 'eventTime', message: [/a real calendar date/] },
  { name: 'eventTime going backwards', edit: (h) => (h.events[6].eventTime = '2024-01-31T12:00:04.999Z'), eventId: 7, field: 'eventTime', message: [at(6, 'activityTaskStarted', 'eventTime'), /event time goes backwards: expected "2024-01-31T12:00:05\.000Z" \(event 6's time\) or later, found "2024-01-31T12:00:04\.999Z"/] },
  { name: 'attempt not a positive integer', edit: (h) => (h.events[6].attempt = 1.5), eventId: 7, field: 'attempt', message: [/expected an integer ≥ 1, found number 1\.5/] },
  { name: 'input not an array', edit: (h) => (h.events[0].input = 'Ada'), eventId: 1, field: 'input', message: [at(0, 'workflowExecutionStarted', 'input'), /expected an array, found the string "Ada"/] },
  { name: 'a timeout that is negative', edit: (h) => (h.events[4].startToCloseTimeoutMs = -1), eventId: 5, field: 'startToCloseTimeoutMs', message: [/expected a non-negative, finite number of milliseconds, found number -1/] },
  { name: 'a retry policy with a bad coefficient', edit: (h) => (h.events[4].retryPolicy = { backoffCoefficient: 0.5 }), eventId: 5, field: 'retryPolicy.backoffCoefficient', message: [at(4, 'activityTaskScheduled', 'retryPolicy.backoffCoefficient'), /expected a finite number ≥ 1, found number 0\.5/] },
  { name: 'a retry policy with an unknown field', edit: (h) => (h.events[4].retryPolicy = { maxAttempts: 3 }), eventId: 5, field: 'retryPolicy.maxAttempts', message: [/unknown field "maxAttempts" \(did you mean "maximumAttempts"\?\)/] },
  { name: 'failure message not a string', edit: failedActivity({ message: 42, kind: 'application' }), eventId: 8, field: 'failure.message', message: [at(7, 'activityTaskFailed', 'failure.message'), /expected a string, found number 42/] },
  { name: 'failure not an object', edit: failedActivity('boom'), eventId: 8, field: 'failure', message: [/expected a failure \{ message, kind, … \}, found the string "boom"/] },
  { name: 'failure of an unknown kind', edit: failedActivity({ message: 'x', kind: 'oops' }), eventId: 8, field: 'failure.kind', message: [/expected one of "application", "activity", "childWorkflow", "timeout", "cancelled", "terminated", "server", found the string "oops"/] },
  { name: 'failure without a kind', edit: failedActivity({ message: 'x' }), eventId: 8, field: 'failure.kind', message: [/missing required field/] },
  { name: 'a bad failure cause', edit: failedActivity({ message: 'x', kind: 'activity', cause: { message: 'y', kind: 'application', cause: { message: 'z' } } }), eventId: 8, field: 'failure.cause.cause.kind', message: [/events\[7\]\.failure\.cause\.cause\.kind/] },
  { name: 'failure with an unknown field', edit: failedActivity({ message: 'x', kind: 'application', code: 7 }), eventId: 8, field: 'failure.code', message: [/unknown field "code"; a failure \{ message, kind, … \} has only: message, kind, type/] },
  { name: 'unknown retryState', edit: failedActivity({ message: 'x', kind: 'application' }, 'exhausted'), eventId: 8, field: 'retryState', message: [/expected one of "unspecified", "inProgress", .*found the string "exhausted"/] },

  // Payloads that would not survive JSON (objects given directly, not text)
  { name: 'undefined inside input', edit: (h) => (h.events[0].input = ['a', undefined]), eventId: 1, field: 'input[1]', message: [at(0, 'workflowExecutionStarted', 'input[1]'), /JSON has no undefined/] },
  { name: 'a Date inside a payload', edit: (h) => (h.events[7].result = { at: new Date(0) }), eventId: 8, field: 'result.at', message: [/expected a JSON value \(a plain object\), found an instance of Date/] },
  { name: 'NaN inside a payload', edit: (h) => (h.events[7].result = [[1, NaN]]), eventId: 8, field: 'result[0][1]', message: [/numbers must be finite\), found number NaN/] },
  { name: 'a function inside a payload', edit: (h) => (h.events[0].input = [{ f: () => 1 }]), eventId: 1, field: 'input[0].f', message: [/found a function/] },
  {
    name: 'a cycle inside a payload',
    edit: (h) => {
      const loop: Json = { a: [1] };
      loop.a.push(loop);
      h.events[7].result = loop;
    },
    eventId: 8,
    field: 'result.a[1]',
    message: [/found a cycle/],
  },

  // Order and references between events
  { name: 'first event not workflowExecutionStarted', edit: (h) => (h.events[0].type = 'workflowTaskScheduled'), eventId: 1, field: 'type', message: [/expected "workflowExecutionStarted" \(the first event starts the workflow\), found the string "workflowTaskScheduled"/] },
  { name: 'a second workflowExecutionStarted', edit: (h) => (h.events[9] = { ...h.events[0], eventId: 10, eventTime: h.events[9].eventTime }), eventId: 10, field: 'type', message: [/workflowExecutionStarted may only be the first event/] },
  { name: 'start event with another workflowId', edit: (h) => (h.events[0].workflowId = 'other'), eventId: 1, field: 'workflowId', message: [/expected the history's workflowId "wf-1", found the string "other"/] },
  { name: 'start event with another runId', edit: (h) => (h.events[0].runId = 'other'), eventId: 1, field: 'runId', message: [/expected the history's runId "run-1"/] },
  { name: 'reference to itself', edit: (h) => (h.events[2].scheduledEventId = 3), eventId: 3, field: 'scheduledEventId', message: [at(2, 'workflowTaskStarted', 'scheduledEventId'), /expected the eventId of an earlier workflowTaskScheduled event, found 3, which is not earlier than this event/] },
  { name: 'reference to nowhere', edit: (h) => (h.events[2].scheduledEventId = 99), eventId: 3, field: 'scheduledEventId', message: [/found 99, which is not earlier/] },
  { name: 'reference that is not an id', edit: (h) => (h.events[2].scheduledEventId = -2), eventId: 3, field: 'scheduledEventId', message: [/expected an integer ≥ 1, found number -2/] },
  { name: 'workflowTaskStarted of a non-task', edit: (h) => (h.events[2].scheduledEventId = 1), eventId: 3, field: 'scheduledEventId', message: [/earlier workflowTaskScheduled event, found 1, which is a workflowExecutionStarted event/] },
  { name: 'workflowTaskCompleted of another task', edit: (h) => (h.events[11].startedEventId = 3), eventId: 12, field: 'startedEventId', message: [/expected the eventId of an earlier workflowTaskStarted event with scheduledEventId 10, found 3, whose scheduledEventId is 2/] },
  { name: 'activity completed for a timer', edit: (h) => (h.events[7].scheduledEventId = 6), eventId: 8, field: 'scheduledEventId', message: [/earlier activityTaskScheduled event, found 6, which is a timerStarted event/] },
  { name: 'activity completed with a workflow task start', edit: (h) => (h.events[7].startedEventId = 3), eventId: 8, field: 'startedEventId', message: [/earlier activityTaskStarted event with scheduledEventId 5, found 3, which is a workflowTaskStarted event/] },
  { name: 'timer fired for an activity', edit: (h) => (h.events[8].startedEventId = 5), eventId: 9, field: 'startedEventId', message: [/earlier timerStarted event with timerId "t1", found 5, which is an activityTaskScheduled event/] },
  { name: 'timer fired with another timerId', edit: (h) => (h.events[8].timerId = 't2'), eventId: 9, field: 'startedEventId', message: [/with timerId "t2", found 6, whose timerId is "t1"/] },
  { name: 'workflowTaskCompletedEventId of a started task', edit: (h) => (h.events[12].workflowTaskCompletedEventId = 11), eventId: 13, field: 'workflowTaskCompletedEventId', message: [/earlier workflowTaskCompleted event, found 11, which is a workflowTaskStarted event/] },
  { name: 'duplicate timerId among open timers', edit: (h) => (h.events[6] = { ...h.events[5], eventId: 7, eventTime: h.events[6].eventTime }), eventId: 7, field: 'timerId', message: [at(6, 'timerStarted', 'timerId'), /timerId "t1" is already used by the timer opened at event 6, which is still open/] },
  { name: 'duplicate activityId among open activities', edit: (h) => (h.events[5] = { ...h.events[4], eventId: 6, eventTime: h.events[5].eventTime }), eventId: 6, field: 'activityId', message: [/activityId "a1" is already used by the activity opened at event 5, which is still open/] },
  { name: 'an activity closed twice', edit: (h) => (h.events[8] = { ...h.events[7], eventId: 9, eventTime: h.events[8].eventTime }), eventId: 9, field: 'scheduledEventId', message: [/expected an activity that is still open, found 5: that activity was already closed by event 8 \(activityTaskCompleted\)/] },
  { name: 'a workflow task started twice', edit: (h) => (h.events[3] = { ...h.events[2], eventId: 4, eventTime: h.events[3].eventTime }), eventId: 4, field: 'scheduledEventId', message: [/that workflow task was already started by event 3/] },
  { name: 'events after the workflow closed', edit: (h) => h.events.push({ eventId: 14, eventTime: h.events[12].eventTime, type: 'workflowExecutionSignaled', signalName: 'late', input: [] }), eventId: 14, message: [/^case\.json: events\[13\] \(eventId 14, workflowExecutionSignaled\): no event may follow event 13 \(workflowExecutionCompleted\), which closed the workflow/] },
];

t.test('bad input is rejected with the event, the field and what was expected', async (t) => {
  t.ok(badCases.length >= 60);
  for (const c of badCases) {
    t.test(c.name, async (t) => {
      let input = c.input;
      if (c.edit !== undefined) {
        input = clone(baseHistory());
        c.edit(input);
      }
      const err = rejects(t, () => parseHistory(input, 'case.json'));
      t.equal(err.eventId, c.eventId, 'eventId');
      t.equal(err.field, c.field, 'field');
      for (const re of c.message) t.match(err.message, re);
    });
  }
});

t.test('a failure nested deeper than the stack is a bad history, not a crash', async (t) => {
  const h = clone(baseHistory());
  let failure: Json = { message: 'root', kind: 'application' };
  for (let i = 0; i < 200_000; i++) failure = { message: 'wrapped', kind: 'application', cause: failure };
  failedActivity(failure)(h);
  const err = rejects(t, () => parseHistory(h, 'deep.json'));
  t.match(err.message, /^deep\.json: nested too deeply to read/);
  // Deep payloads are walked without recursion, so they are fine.
  let payload: Json = [];
  for (let i = 0; i < 200_000; i++) payload = [payload];
  h.events[7] = { ...baseHistory().events[7], result: payload };
  t.equal(parseHistory(h).events.length, 13);
});

t.test('the base of the bad cases is itself valid, as text too', async (t) => {
  const h = baseHistory();
  t.strictSame(parseHistory(JSON.stringify(h), 'case.json'), h);
});

// ---------------------------------------------------------------------------------------------
// Properties: random valid histories round-trip; random corruptions are rejected

/** Written out by hand (not read from the validator), so that the spec is checked against it. */
const REQUIRED: Record<EventType, string[]> = {
  workflowExecutionStarted: ['workflowType', 'workflowId', 'runId', 'firstExecutionRunId', 'taskQueue', 'input', 'attempt', 'randomnessSeed', 'workflowTaskTimeoutMs'],
  workflowTaskScheduled: ['taskQueue', 'attempt'],
  workflowTaskStarted: ['scheduledEventId'],
  workflowTaskCompleted: ['scheduledEventId', 'startedEventId'],
  workflowTaskFailed: ['scheduledEventId', 'startedEventId', 'cause', 'failure'],
  workflowTaskTimedOut: ['scheduledEventId', 'startedEventId'],
  activityTaskScheduled: ['activityId', 'activityType', 'taskQueue', 'input', 'workflowTaskCompletedEventId'],
  activityTaskStarted: ['scheduledEventId', 'attempt'],
  activityTaskCompleted: ['scheduledEventId', 'startedEventId'],
  activityTaskFailed: ['scheduledEventId', 'startedEventId', 'failure', 'retryState'],
  activityTaskTimedOut: ['scheduledEventId', 'failure', 'retryState'],
  timerStarted: ['timerId', 'startToFireTimeoutMs', 'workflowTaskCompletedEventId'],
  timerFired: ['timerId', 'startedEventId'],
  timerCanceled: ['timerId', 'startedEventId', 'workflowTaskCompletedEventId'],
  workflowExecutionSignaled: ['signalName', 'input'],
  workflowExecutionCancelRequested: [],
  activityTaskCancelRequested: ['scheduledEventId', 'workflowTaskCompletedEventId'],
  activityTaskCanceled: ['scheduledEventId', 'latestCancelRequestedEventId'],
  startChildWorkflowExecutionInitiated: ['workflowId', 'workflowType', 'taskQueue', 'input', 'parentClosePolicy', 'workflowTaskTimeoutMs', 'workflowTaskCompletedEventId'],
  startChildWorkflowExecutionFailed: ['workflowId', 'workflowType', 'cause', 'initiatedEventId'],
  childWorkflowExecutionStarted: ['workflowId', 'runId', 'workflowType', 'initiatedEventId'],
  childWorkflowExecutionCompleted: ['workflowId', 'runId', 'workflowType', 'initiatedEventId', 'startedEventId'],
  childWorkflowExecutionFailed: ['workflowId', 'runId', 'workflowType', 'initiatedEventId', 'startedEventId', 'failure', 'retryState'],
  childWorkflowExecutionCanceled: ['workflowId', 'runId', 'workflowType', 'initiatedEventId', 'startedEventId'],
  childWorkflowExecutionTerminated: ['workflowId', 'runId', 'workflowType', 'initiatedEventId', 'startedEventId'],
  childWorkflowExecutionTimedOut: ['workflowId', 'runId', 'workflowType', 'initiatedEventId', 'startedEventId', 'retryState'],
  signalExternalWorkflowExecutionInitiated: ['workflowId', 'signalName', 'input', 'childWorkflowOnly', 'workflowTaskCompletedEventId'],
  externalWorkflowExecutionSignaled: ['initiatedEventId', 'workflowId', 'runId'],
  signalExternalWorkflowExecutionFailed: ['initiatedEventId', 'workflowId', 'cause'],
  requestCancelExternalWorkflowExecutionInitiated: ['workflowId', 'childWorkflowOnly', 'workflowTaskCompletedEventId'],
  externalWorkflowExecutionCancelRequested: ['initiatedEventId', 'workflowId', 'runId'],
  requestCancelExternalWorkflowExecutionFailed: ['initiatedEventId', 'workflowId', 'cause'],
  workflowExecutionCompleted: ['workflowTaskCompletedEventId'],
  workflowExecutionFailed: ['failure'],
  workflowExecutionCanceled: ['workflowTaskCompletedEventId'],
  workflowExecutionTerminated: [],
  workflowExecutionTimedOut: ['retryState'],
  workflowExecutionContinuedAsNew: ['newExecutionRunId', 'workflowType', 'taskQueue', 'input', 'workflowTaskTimeoutMs', 'workflowTaskCompletedEventId'],
  patchMarkerRecorded: ['patchId', 'deprecated', 'workflowTaskCompletedEventId'],
  localActivityMarkerRecorded: ['seq', 'activityId', 'activityType', 'attempt', 'workflowTaskCompletedEventId'],
  upsertWorkflowSearchAttributes: ['searchAttributes', 'workflowTaskCompletedEventId'],
  workflowPropertiesModified: ['upsertedMemo', 'workflowTaskCompletedEventId'],
  workflowExecutionUpdateAccepted: ['updateId', 'name', 'input', 'workflowTaskCompletedEventId'],
  workflowExecutionUpdateCompleted: ['updateId', 'acceptedEventId', 'workflowTaskCompletedEventId'],
};
const OPTIONAL: Record<EventType, string[]> = {
  workflowExecutionStarted: [
    'parent',
    'continuedFromExecutionRunId',
    'initiator',
    'cronSchedule',
    'firstWorkflowTaskBackoffMs',
    'workflowExecutionTimeoutMs',
    'workflowExecutionExpirationTime',
    'workflowRunTimeoutMs',
    'retryPolicy',
    'memo',
    'searchAttributes',
    'lastCompletionResult',
    'continuedFailure',
    'identity',
  ],
  workflowTaskScheduled: [],
  workflowTaskStarted: ['identity', 'historySizeBytes', 'suggestContinueAsNew'],
  workflowTaskCompleted: ['identity', 'sdkMetadata', 'workerBuildId'],
  workflowTaskFailed: ['identity', 'newRandomnessSeed'],
  workflowTaskTimedOut: [],
  activityTaskScheduled: ['scheduleToCloseTimeoutMs', 'scheduleToStartTimeoutMs', 'startToCloseTimeoutMs', 'heartbeatTimeoutMs', 'retryPolicy'],
  activityTaskStarted: ['identity'],
  activityTaskCompleted: ['result'],
  activityTaskFailed: [],
  activityTaskTimedOut: ['startedEventId'],
  timerStarted: [],
  timerFired: [],
  timerCanceled: [],
  workflowExecutionSignaled: ['identity'],
  workflowExecutionCancelRequested: ['cause', 'identity', 'externalInitiatedEventId', 'externalWorkflowId', 'externalRunId'],
  activityTaskCancelRequested: [],
  activityTaskCanceled: ['startedEventId', 'details'],
  startChildWorkflowExecutionInitiated: ['workflowIdReusePolicy', 'workflowExecutionTimeoutMs', 'workflowRunTimeoutMs', 'retryPolicy', 'cronSchedule', 'memo', 'searchAttributes'],
  startChildWorkflowExecutionFailed: [],
  childWorkflowExecutionStarted: [],
  childWorkflowExecutionCompleted: ['result'],
  childWorkflowExecutionFailed: [],
  childWorkflowExecutionCanceled: ['details'],
  childWorkflowExecutionTerminated: ['reason'],
  childWorkflowExecutionTimedOut: [],
  signalExternalWorkflowExecutionInitiated: ['runId'],
  externalWorkflowExecutionSignaled: [],
  signalExternalWorkflowExecutionFailed: ['runId'],
  requestCancelExternalWorkflowExecutionInitiated: ['runId'],
  externalWorkflowExecutionCancelRequested: [],
  requestCancelExternalWorkflowExecutionFailed: ['runId'],
  workflowExecutionCompleted: ['result', 'newExecutionRunId'],
  // Absent when the service closed the run itself (a history over its limit).
  workflowExecutionFailed: ['workflowTaskCompletedEventId', 'retryState', 'newExecutionRunId'],
  workflowExecutionCanceled: ['details'],
  workflowExecutionTerminated: ['reason', 'details', 'identity'],
  workflowExecutionTimedOut: ['newExecutionRunId'],
  workflowExecutionContinuedAsNew: ['workflowRunTimeoutMs'],
  patchMarkerRecorded: [],
  localActivityMarkerRecorded: ['result', 'failure'],
  upsertWorkflowSearchAttributes: [],
  workflowPropertiesModified: [],
  workflowExecutionUpdateAccepted: ['identity'],
  workflowExecutionUpdateCompleted: ['result', 'failure'],
};
const BASE = ['eventId', 'eventTime', 'type'];

// JSON turns -0 into 0, so payloads are normalised the way a file would store them.
const payloadArb = fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const payloadsArb = fc.array(payloadArb, { maxLength: 3 });

// fc.record builds null-prototype objects; a failure read from a file has Object's prototype.
const failureArb = (depth: number): fc.Arbitrary<WireFailure> =>
  fc.record(
    {
      message: fc.string(),
      kind: fc.constantFrom<FailureKind>('application', 'activity', 'timeout', 'cancelled', 'terminated', 'server'),
      type: fc.string(),
      stack: fc.string(),
      nonRetryable: fc.boolean(),
      details: payloadsArb,
      activityType: fc.string(),
      activityId: fc.string(),
      retryState: fc.constantFrom<RetryState>('unspecified', 'inProgress', 'nonRetryableFailure', 'timeout', 'maximumAttemptsReached', 'retryPolicyNotSet', 'cancelRequested'),
      timeoutType: fc.constantFrom<TimeoutType>('startToClose', 'scheduleToStart', 'scheduleToClose', 'heartbeat'),
      ...(depth > 0 ? { cause: failureArb(depth - 1) } : {}),
    },
    { requiredKeys: ['message', 'kind'] },
  ).map((f) => JSON.parse(JSON.stringify(f)) as WireFailure);

const retryStateArb = fc.constantFrom<RetryState>('timeout', 'maximumAttemptsReached', 'nonRetryableFailure');

/** What the workflow asks for after a workflow task completes. */
const commandArb = fc.oneof(
  fc.record({
    kind: fc.constant('activity' as const),
    id: fc.constantFrom('a', 'b', 'c'),
    input: payloadsArb,
    timeoutMs: fc.option(fc.nat(100_000), { nil: undefined }),
    maximumAttempts: fc.option(fc.nat(5), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('timer' as const), id: fc.constantFrom('t1', 't2'), ms: fc.nat(86_400_000) }),
  fc.record({ kind: fc.constant('cancelTimer' as const), pick: fc.nat() }),
);

/** What happens outside the workflow between its tasks. */
const arrivalArb = fc.oneof(
  fc.record({ kind: fc.constant('activityCompleted' as const), pick: fc.nat(), result: fc.option(payloadArb, { nil: undefined }), attempt: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('activityFailed' as const), pick: fc.nat(), failure: failureArb(2), retryState: retryStateArb }),
  fc.record({ kind: fc.constant('activityTimedOut' as const), pick: fc.nat(), started: fc.boolean(), failure: failureArb(1), retryState: retryStateArb }),
  fc.record({ kind: fc.constant('timerFired' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('signal' as const), name: fc.string({ minLength: 1, maxLength: 8 }), input: payloadsArb }),
);

const planArb = fc.record({
  startMs: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }),
  input: payloadsArb,
  rounds: fc.array(
    fc.record({
      failedAttempts: fc.array(fc.constantFrom<'failed' | 'timedOut'>('failed', 'timedOut'), { maxLength: 2 }),
      commands: fc.array(commandArb, { maxLength: 4 }),
      arrivals: fc.array(arrivalArb, { maxLength: 4 }),
      stepMs: fc.constantFrom(0, 1, 999, 60_000),
    }),
    { maxLength: 5 },
  ),
  close: fc.option(
    fc.oneof(
      fc.record({ kind: fc.constant('completed' as const), result: fc.option(payloadArb, { nil: undefined }) }),
      fc.record({ kind: fc.constant('failed' as const), failure: failureArb(1) }),
    ),
    { nil: undefined },
  ),
});
type Plan = typeof planArb extends fc.Arbitrary<infer P> ? P : never;

const withoutUndefined = <O extends object>(o: O): O =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as O;

/** Plays a plan into a valid history: workflow tasks, then commands, then what arrives. */
function build(plan: Plan): History {
  const b = new HistoryBuilder({ workflowId: 'wf-prop', runId: 'run-prop', startMs: plan.startMs });
  b.start(plan.input);
  const openActivities: { scheduled: number; activityId: string }[] = [];
  const openTimers: { started: number; timerId: string }[] = [];
  const take = <X>(list: X[], pick: number): X | undefined => (list.length === 0 ? undefined : list.splice(pick % list.length, 1)[0]);
  let n = 0;
  const unique = (id: string, open: string[]) => (open.includes(id) ? `${id}-${++n}` : id);
  let lastCompleted = 0;
  for (const round of plan.rounds) {
    b.step(round.stepMs);
    round.failedAttempts.forEach((end, i) => b.workflowTask(end, i + 1));
    lastCompleted = b.workflowTask('completed', round.failedAttempts.length + 1);
    for (const c of round.commands) {
      if (c.kind === 'activity') {
        const activityId = unique(c.id, openActivities.map((a) => a.activityId));
        const scheduled = b.add(
          withoutUndefined({
            type: 'activityTaskScheduled' as const,
            activityId,
            activityType: 'work',
            taskQueue: 'main',
            input: c.input,
            startToCloseTimeoutMs: c.timeoutMs,
            retryPolicy: c.maximumAttempts === undefined ? undefined : { maximumAttempts: c.maximumAttempts },
            workflowTaskCompletedEventId: lastCompleted,
          }),
        );
        openActivities.push({ scheduled, activityId });
      } else if (c.kind === 'timer') {
        const timerId = unique(c.id, openTimers.map((x) => x.timerId));
        openTimers.push({ started: b.add({ type: 'timerStarted', timerId, startToFireTimeoutMs: c.ms, workflowTaskCompletedEventId: lastCompleted }), timerId });
      } else {
        const timer = take(openTimers, c.pick);
        if (timer) b.add({ type: 'timerCanceled', timerId: timer.timerId, startedEventId: timer.started, workflowTaskCompletedEventId: lastCompleted });
      }
    }
    for (const a of round.arrivals) {
      if (a.kind === 'signal') {
        b.add({ type: 'workflowExecutionSignaled', signalName: a.name, input: a.input });
      } else if (a.kind === 'timerFired') {
        const timer = take(openTimers, a.pick);
        if (timer) b.add({ type: 'timerFired', timerId: timer.timerId, startedEventId: timer.started });
      } else {
        const act = take(openActivities, a.pick);
        if (!act) continue;
        const scheduledEventId = act.scheduled;
        if (a.kind === 'activityCompleted') {
          const startedEventId = b.add({ type: 'activityTaskStarted', scheduledEventId, attempt: a.attempt });
          b.add(withoutUndefined({ type: 'activityTaskCompleted' as const, scheduledEventId, startedEventId, result: a.result }));
        } else if (a.kind === 'activityFailed') {
          const startedEventId = b.add({ type: 'activityTaskStarted', scheduledEventId, attempt: 1 });
          b.add({ type: 'activityTaskFailed', scheduledEventId, startedEventId, failure: a.failure, retryState: a.retryState });
        } else {
          const startedEventId = a.started ? b.add({ type: 'activityTaskStarted', scheduledEventId, attempt: 2 }) : undefined;
          b.add(withoutUndefined({ type: 'activityTaskTimedOut' as const, scheduledEventId, startedEventId, failure: a.failure, retryState: a.retryState }));
        }
      }
    }
  }
  if (plan.close !== undefined) {
    const wt = b.workflowTask();
    if (plan.close.kind === 'completed') {
      b.add(withoutUndefined({ type: 'workflowExecutionCompleted' as const, result: plan.close.result, workflowTaskCompletedEventId: wt }));
    } else {
      b.add({ type: 'workflowExecutionFailed', failure: plan.close.failure, workflowTaskCompletedEventId: wt });
    }
  }
  return b.history();
}

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
const fcOptions = { seed, numRuns: 150 };

function checkProperty<Ts extends [unknown, ...unknown[]]>(t: Tap, property: fc.IPropertyWithHooks<Ts>, options?: { numRuns: number }): void {
  const result = fc.check(property, { ...fcOptions, ...options });
  t.notOk(result.failed, (result.failed ? fc.defaultReportMessage(result) : undefined) ?? 'holds');
}

t.test('property: random valid histories round-trip through serialize and parse', async (t) => {
  t.comment(`fast-check seed ${seed} (rerun with FC_SEED=${seed})`);
  let types = new Set<string>();
  checkProperty(
    t,
    fc.property(planArb, (plan) => {
      const h = build(plan);
      const text = serializeHistory(h);
      deepStrictEqual(parseHistory(text), h);
      deepStrictEqual(serializeHistory(parseHistory(text)), text);
      types = new Set([...types, ...h.events.map((e) => e.type)]);
    }),
  );
  // The generator reaches the event types the property is about (not a statement about one run).
  t.ok(types.size >= 12, `generated ${types.size} event types`);
});

t.test('property: deleting a required field, or breaking the ids, is always rejected', async (t) => {
  t.comment(`fast-check seed ${seed} (rerun with FC_SEED=${seed})`);
  const corruption = fc.oneof(
    fc.record({ kind: fc.constant('deleteRequired' as const), which: fc.nat() }),
    fc.record({ kind: fc.constant('badId' as const), id: fc.oneof(fc.integer({ min: -2, max: 500 }), fc.string(), fc.double()) }),
    fc.record({ kind: fc.constant('addUnknown' as const), key: fc.string({ minLength: 1, maxLength: 12 }) }),
  );
  checkProperty(
    t,
    fc.property(planArb, fc.nat(), corruption, (plan, pick, c) => {
      const h = clone(build(plan));
      const index = pick % h.events.length;
      const event = h.events[index];
      let field: string;
      if (c.kind === 'deleteRequired') {
        const required = [...BASE, ...REQUIRED[event.type as EventType]];
        field = required[c.which % required.length];
        delete event[field];
      } else if (c.kind === 'badId') {
        fc.pre(c.id !== index + 1);
        field = 'eventId';
        event.eventId = c.id;
      } else {
        fc.pre(![...BASE, ...REQUIRED[event.type as EventType], ...OPTIONAL[event.type as EventType]].includes(c.key));
        field = c.key;
        Object.defineProperty(event, c.key, { value: 1, enumerable: true, writable: true, configurable: true });
      }
      let err: unknown;
      try {
        parseHistory(h);
      } catch (e) {
        err = e;
      }
      if (!(err instanceof InvalidHistoryError)) throw new Error(`not rejected: ${c.kind} ${field} at index ${index}`);
      deepStrictEqual({ eventId: err.eventId, field: err.field }, { eventId: index + 1, field });
    }),
  );
});

t.test('property: deleting an optional field keeps the history valid', async (t) => {
  t.comment(`fast-check seed ${seed} (rerun with FC_SEED=${seed})`);
  let deleted = 0;
  checkProperty(
    t,
    fc.property(planArb, fc.nat(), (plan, pick) => {
      const h = clone(build(plan));
      const present = h.events.flatMap((e: Json, i: number) => OPTIONAL[e.type as EventType].filter((k) => k in e).map((k) => [i, k] as const));
      fc.pre(present.length > 0);
      const [index, key] = present[pick % present.length];
      delete h.events[index][key];
      deleted++;
      deepStrictEqual(parseHistory(h), h);
    }),
  );
  t.ok(deleted > 0, 'some optional fields were deleted');
});

t.test('a parsed history is frozen, and parsing it again returns it without re-validating', async (t) => {
  const text = JSON.stringify({
    format: 'deja.history',
    version: 1,
    workflowId: 'w',
    runId: 'r',
    events: [
      { eventId: 1, eventTime: '2026-01-01T00:00:00.000Z', type: 'workflowExecutionStarted', workflowType: 'x', workflowId: 'w', runId: 'r', firstExecutionRunId: 'r', taskQueue: 'q', input: [], attempt: 1, randomnessSeed: 's', workflowTaskTimeoutMs: 10000 },
    ],
  });
  const history = parseHistory(text);
  t.ok(Object.isFrozen(history) && Object.isFrozen(history.events) && Object.isFrozen(history.events[0]));
  t.equal(parseHistory(history), history, 'the same object comes back');
  t.throws(() => {
    (history.events as unknown[]).push({});
  }, TypeError);
  const copy = structuredClone(history);
  (copy.events[0] as { eventId: number }).eventId = 2;
  t.throws(() => parseHistory(copy), { name: 'InvalidHistoryError' }, 'a copy is validated again');
});

t.test('docs/history.schema.json is the JSON Schema of lib/history/schema.ts (DEJA_WRITE_SCHEMA=1 rewrites it)', async (t) => {
  const file = path.join(__dirname, '..', 'docs', 'history.schema.json');
  const text = `${JSON.stringify(historyJsonSchema(), null, 2)}\n`;
  if (process.env.DEJA_WRITE_SCHEMA === '1') fs.writeFileSync(file, text);
  t.equal(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '(missing)', text, 'stale: run DEJA_WRITE_SCHEMA=1 tap run test/history.test.ts');
  // Every event type is in it, each closed, with its required fields as the reader requires them.
  const schema = JSON.parse(text);
  const events: Json[] = schema.properties.events.items.oneOf;
  t.strictSame(events.map((e) => e.properties.type.const), [...EVENT_TYPES]);
  for (const e of events) {
    const type = e.properties.type.const as EventType;
    t.equal(e.additionalProperties, false, `${type} is closed`);
    t.strictSame([...e.required].sort(), [...BASE, ...REQUIRED[type]].sort(), `${type}: required fields`);
    t.strictSame(Object.keys(e.properties).sort(), [...BASE, ...REQUIRED[type], ...OPTIONAL[type]].sort(), `${type}: all fields`);
  }
  t.notMatch(text, /"\$id"|"\$ref": "WireFailure"/, 'the recursive failure is one definition, referred to by JSON pointer');
});

// ---------------------------------------------------------------------------------------------
// The fast path (lib/history/fast.ts) against the detailed reader

/** Every place in a value: the path of keys to it (numbers index arrays). */
function placesIn(value: unknown, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(path);
  if (Array.isArray(value)) value.forEach((v, i) => placesIn(v, [...path, i], out));
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) placesIn(v, [...path, k], out);
  return out;
}

const strangeValues: unknown[] = [
  '', 'x', 0, -1, 1, 2, 3, 1.5, 2 ** 53, -0, NaN, Infinity, null, true, false, [], {}, [1], { message: 'm', kind: 'application' },
  undefined, new Date(0), 'application', 'timeout', '2021-02-30T00:00:00.000Z',
];
const badTimes = [
  '2021-02-30T00:00:00.000Z', '2021-02-28T24:00:00.000Z', '2021-13-01T00:00:00.000Z', '2024-01-31T12:00:00Z', '2024-01-31T12:00:00.000+01:00',
  '2024-01-31T12:00:00.123456789Z', '2024-01-31 12:00:00.000Z', '2024-01-31T12:00:00.000z', '2000-01-01T00:00:00.000Z', '2100-01-01T00:00:00.000Z',
  '2024-01-31T12:00:00.000', '٢٠٢٤-01-31T12:00:00.000Z', '2024-1-31T12:00:00.000Z', '2024-01-31T12:60:00.000Z', '2024-02-29T00:00:00.000Z',
];
const mutationArb = fc.record({
  op: fc.constantFrom('retype', 'drop', 'unknown', 'badTime', 'clock'),
  event: fc.nat(),
  place: fc.nat(),
  value: fc.oneof(fc.constantFrom(...strangeValues), fc.string({ maxLength: 4 }), fc.integer({ min: -3, max: 40 })),
  key: fc.oneof(fc.constantFrom('eventID', 'sdkMetaData', 'failures', 'cause2', 'constructor', '__proto__x', 'message'), fc.string({ minLength: 1, maxLength: 6 })),
  time: fc.constantFrom(...badTimes),
  /** A new time of day for the event's own date. */
  clock: fc.constantFrom('24:00:00.000Z', '23:60:00.000Z', '12:00:60.000Z', '1a:00:00.000Z', '00:00:00.000Z', '23:59:59.999Z', '12:00:00.000+00:00', '12:00:00.5Z', '12:00:00.000 '),
});
type Mutation = typeof mutationArb extends fc.Arbitrary<infer M> ? M : never;

/** Applies a mutation to a JSON copy of a history, in place. */
function mutate(h: Json, m: Mutation): void {
  const event = h.events[m.event % h.events.length];
  // An event an earlier mutation replaced by a value that is not an object stays as it is.
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return;
  const places = placesIn(event);
  const path = places[m.place % places.length];
  let parent: Json = event;
  for (const k of path.slice(0, -1)) parent = parent[k];
  const last = path[path.length - 1];
  switch (m.op) {
    case 'retype':
      if (last === undefined) h.events[m.event % h.events.length] = m.value;
      else parent[last] = m.value;
      return;
    case 'drop':
      if (last !== undefined && !Array.isArray(parent)) delete parent[last];
      return;
    case 'unknown': {
      const target = last === undefined ? event : parent[last];
      if (typeof target === 'object' && target !== null && !Array.isArray(target)) {
        Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      }
      return;
    }
    case 'badTime':
      event.eventTime = m.time;
      return;
    case 'clock':
      event.eventTime = `${String(event.eventTime).slice(0, 11)}${m.clock}`;
      return;
  }
}

t.test('property: the fast path and the detailed reader agree on random valid and corrupted histories', async (t) => {
  t.comment(`fast-check seed ${seed} (rerun with FC_SEED=${seed})`);
  const historyArb = fc.oneof(planArb.map(build), fc.constantFrom(...CLOSES).map(everyEventHistory));
  let accepted = 0;
  let rejected = 0;
  checkProperty(
    t,
    fc.property(historyArb, fc.array(mutationArb, { maxLength: 3 }), (history, mutations) => {
      const input = clone(history);
      for (const m of mutations) mutate(input, m);
      let detailed: { ok: true; text: string } | { ok: false; error: InvalidHistoryError };
      try {
        detailed = { ok: true, text: JSON.stringify(readersForTest.detailed(input)) };
      } catch (err) {
        if (!(err instanceof InvalidHistoryError)) throw err;
        detailed = { ok: false, error: err };
      }
      const fast = readersForTest.fast(input);
      if (detailed.ok) {
        accepted++;
        if (fast === undefined) throw new Error('the fast path refused a history that the detailed reader accepts');
        deepStrictEqual(JSON.stringify(fast), detailed.text);
        deepStrictEqual(JSON.stringify(parseHistory(input)), detailed.text);
      } else {
        rejected++;
        if (fast !== undefined) throw new Error(`the fast path accepted a history that the detailed reader refuses: ${detailed.error.message}`);
        let err: unknown;
        try {
          parseHistory(input);
        } catch (e) {
          err = e;
        }
        if (!(err instanceof InvalidHistoryError)) throw new Error('parseHistory accepted a history that the detailed reader refuses');
        deepStrictEqual(
          { message: err.message, eventId: err.eventId, field: err.field },
          { message: detailed.error.message, eventId: detailed.error.eventId, field: detailed.error.field },
        );
      }
    }),
    { numRuns: 600 },
  );
  t.ok(accepted > 50 && rejected > 200, `both verdicts were reached (${accepted} accepted, ${rejected} rejected)`);
});

t.test('records and unions (memo, search attributes) get the same verdict from the fast path and the detailed reader', async (t) => {
  // Values the detailed reader's open check lets through in a record, and ones it refuses.
  const cases: Json[] = [
    { memo: { a: 1, b: [null, { c: 'x' }] } },
    { memo: { a: NaN } },
    { memo: { a: undefined } },
    { memo: { a: new Date(0) } },
    { memo: [] },
    { memo: 'x' },
    { searchAttributes: { a: { type: 'INT', value: 1 } } },
    { searchAttributes: { a: { type: 'INT', value: 1, extra: 2 } } },
    { searchAttributes: { a: { type: 'INT', value: 'one' } } },
    { searchAttributes: { a: null } },
  ];
  for (const extra of cases) {
    const h = clone(everyEventHistory('continuedAsNew'));
    delete h.events[0].memo;
    delete h.events[0].searchAttributes;
    Object.assign(h.events[0], extra);
    let detailed: string;
    try {
      detailed = JSON.stringify(readersForTest.detailed(h));
    } catch (err) {
      detailed = `rejects: ${(err as Error).message}`;
    }
    const fast = readersForTest.fast(h);
    if (fast === undefined) t.match(detailed, /^rejects: /, `${JSON.stringify(extra)}: the fast path refuses, so must the detailed reader`);
    else t.equal(JSON.stringify(fast), detailed, `${JSON.stringify(extra)}: the same output`);
  }
});

t.test('property: the fast ISO time test answers as ISO_TIME does, for canonical times and near misses', async (t) => {
  const chars = '0123456789-:.TZz+ a٣';
  checkProperty(
    t,
    fc.property(
      // A canonical time's shape with any two digits in each field (hours 00-29, …), or a real time.
      fc.oneof(
        fc
          .tuple(fc.integer({ min: 0, max: 9999 }), ...[13, 32, 30, 70, 70].map((max) => fc.integer({ min: 0, max })), fc.integer({ min: 0, max: 999 }))
          .map(([y, mo, d, h, mi, s, ms]) => {
            const p = (n: number, w = 2) => String(n).padStart(w, '0');
            return `${p(y, 4)}-${p(mo)}-${p(d)}T${p(h)}:${p(mi)}:${p(s)}.${p(ms, 3)}Z`;
          }),
        fc.integer({ min: Date.UTC(0, 0, 1), max: Date.UTC(9999, 11, 31) }).map((ms) => new Date(ms).toISOString()),
      ),
      fc.array(fc.record({ at: fc.nat(25), ch: fc.nat(chars.length - 1), op: fc.constantFrom('set', 'insert', 'delete') }), { maxLength: 2 }),
      (time, edits) => {
        let s = time;
        for (const e of edits) {
          const at = e.at % (s.length + 1);
          const ch = chars[e.ch];
          s = e.op === 'set' ? s.slice(0, at) + ch + s.slice(at + 1) : e.op === 'insert' ? s.slice(0, at) + ch + s.slice(at) : s.slice(0, at) + s.slice(at + 1);
        }
        deepStrictEqual({ s, fast: isIsoTimeText(s) }, { s, fast: ISO_TIME.test(s) });
      },
    ),
    { numRuns: 2000 },
  );
});
