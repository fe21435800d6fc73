// Temporal history files: read (proto3 JSON, tctl JSON, binary protobuf) and written (proto3
// JSON). Recorded Temporal histories from ../shared/temporal-histories/ (never copied here) are
// converted, validated and, where today's deja can, replayed with `deja replay` against the
// equivalent workflows in test/workflows/temporal-compat.ts; random deja histories round-trip
// deja → Temporal JSON → deja unchanged.
import t from 'tap';
import fc from 'fast-check';
import { deepStrictEqual } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main, type Out } from '../lib/cli/main';
import { DeterminismViolationError, InvalidHistoryError } from '../lib/errors';
import {
  fromTemporalHistory,
  parseHistory,
  readHistoryFile,
  serializeHistory,
  toTemporalHistory,
  writeTemporalHistoryFile,
  type CodecPayload,
  type History,
  type HistoryEvent,
} from '../lib/history';
import { replayHistory } from '../lib/testing/replay';
import type { WireFailure } from '../runtime/protocol';
import { HistoryBuilder } from './support/history';
import alea from 'seedrandom/lib/alea';
import { bundleWorkflowCode } from '../lib/bundler';
import { sipHash13, temporalRandomnessSeed, temporalSeedOf } from '../lib/history/siphash';
import { ReplayMachine, initFromStart } from '../lib/replay';
import { IsolatePool } from '../lib/sandbox';
import { uuid4FromRandom } from '../runtime/uuid';

const root = path.join(__dirname, '..');
const recorded = path.join(root, '..', 'shared', 'temporal-histories');
const compatWorkflows = path.join(root, 'test', 'workflows', 'temporal-compat.ts');
const haveRecorded = fs.existsSync(path.join(recorded, 'INDEX.md'));
const recordedSkip = haveRecorded ? false : `no recorded Temporal histories at ${recorded} (the shared conformance folder is absent)`;

class Recorder implements Out {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  log = (line: string) => void this.stdout.push(line);
  error = (line: string) => void this.stderr.push(line);
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new Recorder();
  const code = await main(args, out);
  return { code, stdout: out.stdout.join('\n'), stderr: out.stderr.join('\n') };
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const jsonPayload = (v: unknown) => ({ metadata: { encoding: b64('json/plain') }, data: b64(JSON.stringify(v)) });

/** A small proto3 JSON Temporal history: started, one task, a signal, completed with `result`. */
function smallTemporal(result: object = { payloads: [jsonPayload('done')] }): { events: Record<string, unknown>[] } {
  return {
    events: [
      {
        eventId: '1',
        eventTime: '2024-05-01T09:00:00.123456789Z',
        eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
        workflowExecutionStartedEventAttributes: {
          workflowType: { name: 'greet' },
          taskQueue: { name: 'q', kind: 'TASK_QUEUE_KIND_NORMAL' },
          input: { payloads: [jsonPayload('Ada')] },
          workflowTaskTimeout: '10s',
          originalExecutionRunId: 'run-a',
          firstExecutionRunId: 'run-a',
          attempt: 1,
        },
      },
      { eventId: '2', eventTime: '2024-05-01T09:00:00.200Z', eventType: 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED', workflowTaskScheduledEventAttributes: { taskQueue: { name: 'q' }, attempt: 1 } },
      { eventId: '3', eventTime: '2024-05-01T09:00:00.300Z', eventType: 'EVENT_TYPE_WORKFLOW_TASK_STARTED', workflowTaskStartedEventAttributes: { scheduledEventId: '2' } },
      {
        eventId: '4',
        eventTime: '2024-05-01T09:00:00.400Z',
        eventType: 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
        workflowTaskCompletedEventAttributes: { scheduledEventId: '2', startedEventId: '3' },
      },
      {
        eventId: '5',
        eventTime: '2024-05-01T09:00:00.400Z',
        eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
        workflowExecutionCompletedEventAttributes: { result, workflowTaskCompletedEventId: '4' },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Reading

t.test('a proto3 JSON history converts to a valid deja history', async (t) => {
  const h = parseHistory(smallTemporal(), 'small.json');
  t.equal(h.format, 'deja.history');
  t.equal(h.runId, 'run-a');
  t.equal(h.workflowId, 'temporal-replay', 'no workflowId recorded: the documented default');
  t.same(
    h.events.map((e) => e.type),
    ['workflowExecutionStarted', 'workflowTaskScheduled', 'workflowTaskStarted', 'workflowTaskCompleted', 'workflowExecutionCompleted'],
  );
  const start = h.events[0] as HistoryEvent & { type: 'workflowExecutionStarted' };
  t.equal(start.eventTime, '2024-05-01T09:00:00.123Z', 'nanoseconds become deja milliseconds');
  t.same(start.input, ['Ada']);
  t.equal(start.workflowTaskTimeoutMs, 10_000);
  t.equal(start.randomnessSeed, temporalRandomnessSeed('run-a'), 'Temporal\'s, from the original run id');
  t.same((h.events[4] as { result?: unknown }).result, 'done');
  t.equal((await fromTemporalHistory(smallTemporal(), { workflowId: 'wf-7' })).workflowId, 'wf-7', 'the workflowId option');
  t.same(await fromTemporalHistory(JSON.stringify(smallTemporal())), h, 'JSON text gives the same');
  t.same(parseHistory(Buffer.from(`\n${JSON.stringify(smallTemporal())}`)), h, 'JSON bytes that start with a newline are still JSON');
});

t.test('payloads: binary/null is absent; json/protobuf of a known type decodes; others are refused by name', async (t) => {
  const none = parseHistory(smallTemporal({ payloads: [{ metadata: { encoding: b64('binary/null') } }] }));
  t.notOk('result' in none.events[4], 'binary/null: no result');
  const exec = { workflowId: 'w', runId: 'r' };
  const proto = parseHistory(
    smallTemporal({
      payloads: [{ metadata: { encoding: b64('json/protobuf'), messageType: b64('temporal.api.common.v1.WorkflowExecution') }, data: b64(JSON.stringify(exec)) }],
    }),
  );
  t.same((proto.events[4] as { result?: unknown }).result, exec, 'json/protobuf of temporal.api.common.v1.WorkflowExecution');
  t.throws(
    () => parseHistory(smallTemporal({ payloads: [{ metadata: { encoding: b64('json/protobuf'), messageType: b64('acme.Order') }, data: b64('{}') }] }), 'h.json'),
    { name: 'InvalidHistoryError', message: /Temporal event 5 \(EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED\), workflowExecutionCompletedEventAttributes\.result\.payloads\[0\]: .*"acme\.Order", which @temporalio\/proto does not define/ },
    'an unknown message type',
  );
  const encrypted = smallTemporal({ payloads: [{ metadata: { encoding: b64('binary/encrypted') }, data: b64('xyz') }] });
  const err = t.throws(() => parseHistory(encrypted, 'secret.json')) as InvalidHistoryError;
  t.ok(err instanceof InvalidHistoryError);
  t.match(err.message, /^secret\.json: Temporal event 5 \(EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED\), workflowExecutionCompletedEventAttributes\.result\.payloads\[0\]: a payload with encoding "binary\/encrypted", which deja cannot read; .*payloadCodec/);
  t.equal(err.eventId, 5);
  t.equal(err.field, 'workflowExecutionCompletedEventAttributes.result.payloads[0]');
});

t.test('a payload codec is applied before payloads are read', async (t) => {
  // A toy codec: the "encrypted" form is the JSON payload reversed, byte for byte.
  const reverse = (u: Uint8Array | null | undefined) => Uint8Array.from(u ?? []).reverse();
  const codec = {
    async encode(payloads: CodecPayload[]) {
      return payloads.map((p) => ({ metadata: { encoding: new TextEncoder().encode('binary/reversed') }, data: reverse(new TextEncoder().encode(JSON.stringify({ m: p.metadata?.encoding && Buffer.from(p.metadata.encoding).toString(), d: Buffer.from(p.data ?? []).toString('base64') }))) }));
    },
    async decode(payloads: CodecPayload[]) {
      // Like any codec, it leaves alone the payloads it did not encode.
      return payloads.map((p) => {
        if (Buffer.from(p.metadata?.encoding ?? []).toString() !== 'binary/reversed') return p;
        const inner = JSON.parse(Buffer.from(reverse(p.data)).toString('utf8')) as { m: string; d: string };
        return { metadata: { encoding: new TextEncoder().encode(inner.m) }, data: Buffer.from(inner.d, 'base64') };
      });
    },
  };
  const plain = smallTemporal();
  const [encodedResult] = await codec.encode([{ metadata: { encoding: new TextEncoder().encode('json/plain') }, data: new TextEncoder().encode('"done"') }]);
  const encoded = smallTemporal({
    payloads: [{ metadata: { encoding: Buffer.from(encodedResult.metadata!.encoding).toString('base64') }, data: Buffer.from(encodedResult.data!).toString('base64') }],
  });
  t.throws(() => parseHistory(encoded), { message: /encoding "binary\/reversed", which deja cannot read/ }, 'without the codec: refused');
  t.same(await fromTemporalHistory(encoded, { payloadCodec: codec }), parseHistory(plain), 'with it: the plain history');
  await t.rejects(fromTemporalHistory(encoded, { payloadCodec: { encode: codec.encode, decode: async () => [] } }), { message: /the payload codec's decode returned 0 payloads; expected an array of 2 payloads/ });
  await t.rejects(fromTemporalHistory(encoded, { payloadCodec: codec, codec } as never), { name: 'InvalidArgumentError', message: /unknown option "codec"/ });
});

t.test('an event type deja has no counterpart for, or an unknown marker, is refused by event id', async (t) => {
  const h = smallTemporal();
  h.events.splice(4, 0, { eventId: '5', eventTime: '2024-05-01T09:00:00.400Z', eventType: 'EVENT_TYPE_NEXUS_OPERATION_SCHEDULED', nexusOperationScheduledEventAttributes: {} });
  h.events[5].eventId = '6';
  t.throws(() => parseHistory(h, 'nexus.json'), {
    name: 'InvalidHistoryError',
    message: /^nexus\.json: Temporal event 5 \(EVENT_TYPE_NEXUS_OPERATION_SCHEDULED\), eventType: deja does not support NexusOperationScheduled events yet/,
    eventId: 5,
  });
  const marker = smallTemporal();
  marker.events.splice(4, 0, {
    eventId: '5',
    eventTime: '2024-05-01T09:00:00.400Z',
    eventType: 'MarkerRecorded',
    markerRecordedEventAttributes: { markerName: 'SideEffect', workflowTaskCompletedEventId: '4' },
  });
  marker.events[5].eventId = '6';
  t.throws(() => parseHistory(marker, 'marker.json'), { message: /Temporal event 5 \(MarkerRecorded\), markerRecordedEventAttributes\.markerName: deja does not support "SideEffect" markers yet/ });
  t.throws(() => parseHistory({ events: [{ eventId: '1', eventType: 42 }] }), { message: /Temporal event 1 \(42\), eventType: expected an event type name/ });
  t.throws(() => parseHistory(Buffer.from([0x0a, 0xff, 0xff, 0xff])), { name: 'InvalidHistoryError', message: /not a Temporal protobuf history/ }, 'bad protobuf bytes: an error, not a crash');
});

t.test("deja's own format keeps its messages", async (t) => {
  t.throws(() => parseHistory('{"format": "x"'), { message: /^history: not valid JSON: / });
  t.throws(() => parseHistory({ events: [] }), { message: /^history: format: missing required field \(expected "deja.history"\)$/ });
  t.throws(() => parseHistory({ format: 'deja.history', version: 1, workflowId: 'w', runId: 'r', events: [{ eventId: '1', eventType: 'X' }] }), { message: /events\[0\]/ });
});

// ---------------------------------------------------------------------------------------------
// The recorded Temporal histories

const recordedFiles = haveRecorded ? fs.readdirSync(recorded).filter((f) => f.endsWith('.json') || f.endsWith('.bin')) : [];

t.test('every recorded Temporal history converts and passes validation', { skip: recordedSkip }, async (t) => {
  t.ok(recordedFiles.length >= 14, `${recordedFiles.length} files`);
  for (const file of recordedFiles) {
    const bytes = fs.readFileSync(path.join(recorded, file));
    const h = readHistoryFile(path.join(recorded, file));
    t.equal(h.events[0].type, 'workflowExecutionStarted', `${file}: ${h.events.length} events`);
    // A converted history is a valid deja one: it serializes and reads back unchanged.
    deepStrictEqual(parseHistory(serializeHistory(h)), h);
    t.same(await fromTemporalHistory(bytes, { source: file }), h, `${file}: fromTemporalHistory agrees`);
  }
});

t.test('both JSON dialects and the protobuf form are read', { skip: recordedSkip }, async (t) => {
  const tctlText = fs.readFileSync(path.join(recorded, 'cancel_fake_progress_history.json'), 'utf8');
  t.match(tctlText, /"eventType": "WorkflowExecutionStarted"/, 'the tctl dialect');
  const proto3Text = fs.readFileSync(path.join(recorded, 'lang_flags_replay_correctly_1_9_3.json'), 'utf8');
  t.match(proto3Text, /"eventType": "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"/, 'the proto3 dialect');
  const proto3 = parseHistory(proto3Text);
  t.same(
    proto3.events.map((e) => e.type),
    ['workflowExecutionStarted', 'workflowTaskScheduled', 'workflowTaskStarted', 'workflowTaskCompleted', 'timerStarted', 'activityTaskScheduled', 'activityTaskStarted', 'activityTaskCompleted', 'workflowTaskScheduled', 'workflowTaskStarted', 'workflowTaskCompleted', 'workflowExecutionCompleted'],
  );
  t.match(proto3.events[5], { activityType: 'noopActivity', scheduleToCloseTimeoutMs: 10_000 });

  const json = parseHistory(tctlText);
  const bin = readHistoryFile(path.join(recorded, 'cancel_fake_progress_history.bin'));
  // The .bin is another recording of the same workflow (January 2022; the .json is of July 2022):
  // run ids, times, worker identities, sticky queue names and the activity's heartbeat timeout
  // differ. Everything else (ids, types, references, payloads, options) must be the same.
  const RECORDING = new Set(['eventTime', 'runId', 'firstExecutionRunId', 'randomnessSeed', 'identity', 'taskQueue', 'heartbeatTimeoutMs']);
  const shape = (h: History) => h.events.map((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !RECORDING.has(k))));
  t.same(shape(bin), shape(json), 'the .bin and the .json give the same deja history, but for what differs between the recordings');
  t.equal(bin.events.length, 16);
  t.match(bin.events[4], { type: 'activityTaskScheduled', heartbeatTimeoutMs: 3000, startToCloseTimeoutMs: 200_000 });
  t.match(bin.events[0], { runId: 'a7e68cfc-0287-48dd-b86a-866caf5c9a73', eventTime: '2022-01-13T18:46:34.661Z' });
});

t.test('markers, updates and children are read with their details', { skip: recordedSkip }, async (t) => {
  const otel = readHistoryFile(path.join(recorded, 'otel_1_11_3.json'));
  t.match(
    otel.events.filter((e) => e.type === 'localActivityMarkerRecorded'),
    [
      { seq: 1, activityId: '1', activityType: 'a', attempt: 1, result: 'a' },
      { seq: 2, activityType: 'b', result: 'b' },
      { seq: 3, activityType: 'c', result: 'c' },
    ].slice(0, otel.events.filter((e) => e.type === 'localActivityMarkerRecorded').length),
  );
  const update = readHistoryFile(path.join(recorded, 'complete_update_after_workflow_returns_pre1488.json'));
  t.match(update.events[4], { type: 'workflowExecutionUpdateAccepted', name: 'doneUpdate', updateId: 'fb28b772-4538-45a4-99f0-550fae0b7668', workflowTaskCompletedEventId: 4 });
  const signal = readHistoryFile(path.join(recorded, 'otel_v2_signal_workflow_1_18_1.json'));
  const child = signal.events.find((e) => e.type === 'childWorkflowExecutionStarted') as { runId: string };
  t.match(signal.events.find((e) => e.type === 'externalWorkflowExecutionSignaled'), { runId: child.runId }, 'the run id a Temporal server leaves out: the child started with that workflow id');
  const reset = readHistoryFile(path.join(recorded, 'random-replay-1.17.2.json'));
  t.match(reset.events.find((e) => e.type === 'workflowTaskFailed'), { cause: 'resetWorkflow' });
});

t.test('deja replay runs recorded Temporal histories against equivalent workflows', { skip: recordedSkip }, async (t) => {
  const files = ['cancel_fake_progress_history.json', 'cancel_fake_progress_history.bin'].map((f) => path.join(recorded, f));
  const r = await cli(['replay', ...files, '--workflows', compatWorkflows]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /2 histories: 2 replayed cleanly, 0 failed/);

  // Changed code fails: the workflow type of event 1 renamed in memory.
  const h = readHistoryFile(files[0]);
  const renamed = { ...h, events: [{ ...h.events[0], workflowType: 'topSecretGreeting' }, ...h.events.slice(1)] };
  await t.rejects(replayHistory({ workflowsPath: compatWorkflows }, parseHistory(renamed)), DeterminismViolationError);

  // topSecretGreeting starts its child with the default workflow id, a uuid4 from Temporal's
  // workflow PRNG, which deja now seeds the same way: the 1.18.1 recording replays as it is.
  await t.resolves(replayHistory({ workflowsPath: compatWorkflows }, readHistoryFile(path.join(recorded, 'otel_v2_signal_workflow_1_18_1.json'))), 'otel_v2_signal_workflow_1_18_1 replays');

  // The 1.13.1 one was recorded with OpenTelemetry interceptors, which draw 48 numbers from the
  // same PRNG (span and trace ids) before the child's id: its id is the uuid4 after those draws
  // from deja's seed for the run. Without interceptors it diverges at that id; with the equivalent
  // interceptors (test/workflows/otel/, also the timer before the signal) it replays cleanly.
  const h113 = readHistoryFile(path.join(recorded, 'signal_workflow_1_13_1.json'));
  const childId = (h113.events[4] as { workflowId: string }).workflowId;
  const rng = alea(h113.events[0].type === 'workflowExecutionStarted' ? h113.events[0].randomnessSeed : '');
  for (let i = 0; i < 48; i++) rng();
  t.equal(uuid4FromRandom(rng), childId, "signal_workflow_1_13_1's child id is the uuid4 after the interceptors' 48 draws");
  await t.rejects(
    replayHistory({ workflowsPath: compatWorkflows }, h113),
    { message: /nondeterminism at event 5: history recorded startChildWorkflowExecutionInitiated topSecretGreetingChild/ },
    'signal_workflow_1_13_1 without the interceptors stops at the child id they moved',
  );
  const interceptors = { workflowModules: [path.join(root, 'test', 'workflows', 'otel', 'v1_13_1.ts')] };
  await t.resolves(replayHistory({ workflowsPath: compatWorkflows, interceptors }, h113), 'signal_workflow_1_13_1 replays with the OpenTelemetry interceptors of 1.13.1');
});

/** Replays `history` against the compat workflows in one execution and asks it `queryType`. */
async function replayAndQuery(history: History, queryType: string): Promise<unknown> {
  const bundle = await bundleWorkflowCode({ workflowsPath: compatWorkflows });
  const pool = new IsolatePool({});
  try {
    const start = history.events[0] as Extract<HistoryEvent, { type: 'workflowExecutionStarted' }>;
    const execution = pool.createExecution(bundle, initFromStart(start), 'random-replay');
    try {
      const machine = new ReplayMachine(execution);
      machine.advance(history.events);
      machine.finish();
      const answer = execution.query({ queryType, args: [] });
      if (!answer.ok) throw new Error(answer.failure.message);
      return answer.result;
    } finally {
      execution.dispose();
    }
  } finally {
    pool.dispose();
  }
}

t.test('random-replay-1.17.2: Math.random, uuid4 and child ids are the ones Temporal drew, across the reset', { skip: recordedSkip }, async (t) => {
  const file = path.join(recorded, 'random-replay-1.17.2.json');
  const h = readHistoryFile(file);
  const start = h.events[0] as Extract<HistoryEvent, { type: 'workflowExecutionStarted' }>;
  t.equal(start.randomnessSeed, temporalRandomnessSeed('019e93d9-da0e-70d6-9f43-888c2c8d3988'), "the seed comes from the original run id");
  const reset = h.events.find((e) => e.type === 'workflowTaskFailed') as Extract<HistoryEvent, { type: 'workflowTaskFailed' }>;
  t.match(reset, { eventId: 9, cause: 'resetWorkflow', newRandomnessSeed: temporalRandomnessSeed('248fbeda-b1fd-4901-9dbc-7c9c34273875') }, 'the reset re-seeds from its newRunId');

  const r = await cli(['replay', file, '--workflows', compatWorkflows]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /1 history: 1 replayed cleanly, 0 failed/);

  // What the workflow computed in replay is what it returned under Temporal (the recorded result),
  // and the child ids it made are the recorded ones (replay matched them, and they are here too).
  const captures = (await replayAndQuery(h, 'randomStreamResetCaptures')) as { random: number; uuid: string; childWorkflowId: string }[];
  const completed = h.events.at(-1) as Extract<HistoryEvent, { type: 'workflowExecutionCompleted' }>;
  t.same(captures, completed.result);
  t.same(
    captures.map((c) => c.childWorkflowId),
    h.events.filter((e) => e.type === 'startChildWorkflowExecutionInitiated').map((e) => (e as { workflowId: string }).workflowId),
  );
  t.equal(captures[0].uuid, 'ce828af4-10ab-45e7-91f7-d0922559bdb7');
  t.equal(captures[1].random, 0.8269537510350347, 'the first draw after the reset is the new seed\'s first');

  // Without the re-seed the children after the reset get other ids.
  const noReset = { ...h, events: h.events.map((e) => (e.type === 'workflowTaskFailed' ? { ...e, newRandomnessSeed: undefined } : e)) };
  await t.rejects(replayHistory({ workflowsPath: compatWorkflows }, parseHistory(JSON.parse(JSON.stringify(noReset)))), {
    name: 'DeterminismViolationError',
    message: /nondeterminism at event 19: history recorded startChildWorkflowExecutionInitiated randomStreamResetChild \(workflowId 80342b45-80ec-402f-9b9d-de0e85335390\)/,
  });
  // Changed code, one more Math.random() before the loop, gets other ids from the start.
  const changed = { ...h, events: [{ ...start, workflowType: 'directRandomAndUuidResetWorkflowChanged' }, ...h.events.slice(1)] };
  await t.rejects(replayHistory({ workflowsPath: compatWorkflows }, parseHistory(changed)), {
    name: 'DeterminismViolationError',
    message: /nondeterminism at event 5: history recorded startChildWorkflowExecutionInitiated randomStreamResetChild \(workflowId c33cd353-e087-4be1-9d53-ae25f181c1a8\)/,
  });
});

t.test('SipHash-1-3 (keys 0, 0) and the seed Temporal derives from a run id', async (t) => {
  // Vectors from a second implementation: CPython 3.11's hash of bytes is SipHash-1-3, and with
  // PYTHONHASHSEED=0 its key is zero: `PYTHONHASHSEED=0 python3 -c 'print(hash(b"…") % 2**64)'`
  // (Python answers 0 for b'' itself, so the empty input is not among these).
  // Lengths 1, 15, 16, 17 and 37: a tail only; a word and 7 tail bytes; two words and an empty
  // tail; two words and 1 tail byte; a run id and 0xFF.
  const vectors: [string, bigint][] = [
    ['00', 7541581120933061747n],
    ['ff', 3476900567878811119n],
    ['000102030405060708090a0b0c0d0e', 17514137373579004394n],
    ['000102030405060708090a0b0c0d0e0f', 9904005486622393783n],
    ['000102030405060708090a0b0c0d0e0f10', 5225236159122152477n],
    [Buffer.from('019e93d9-da0e-70d6-9f43-888c2c8d3988\xff', 'latin1').toString('hex'), 2190767061165566105n],
  ];
  for (const [hex, want] of vectors) t.equal(sipHash13(Buffer.from(hex, 'hex')), want, `SipHash-1-3 of ${hex}`);
  // The run ids of the recorded histories: their children's ids (uuid4s from the PRNG) prove the seeds.
  t.equal(temporalSeedOf('019e93d9-da0e-70d6-9f43-888c2c8d3988'), 2190767061165566105n);
  const seed = temporalRandomnessSeed('019e93d9-da0e-70d6-9f43-888c2c8d3988');
  t.equal(seed.length, 8);
  t.same([...seed].map((c) => c.charCodeAt(0)), [...Buffer.from(2190767061165566105n.toString(16).padStart(16, '0'), 'hex')], 'the 8 bytes, big-endian, one char each');
  const rng = alea(seed);
  t.equal(rng(), 0.8810140371788293, "deja's Alea with that seed draws what Temporal drew (random-replay-1.17.2's first Math.random)");
  t.equal(uuid4FromRandom(rng), 'ce828af4-10ab-45e7-91f7-d0922559bdb7');
  t.equal(uuid4FromRandom(rng), 'c33cd353-e087-4be1-9d53-ae25f181c1a8', 'and its first child id');
  // A byte array (or its comma-joined text) is not the same seed in deja's Alea, which mashes String(seed).
  t.not(alea([...seed].map((c) => c.charCodeAt(0)) as unknown as string)(), 0.8810140371788293);
  // Multi-byte UTF-8 run ids hash their bytes.
  t.equal(temporalSeedOf('é'), sipHash13(Uint8Array.from([0xc3, 0xa9, 0xff])));
});

t.test('a workflow reset re-seeds: read from newRunId, written back marked', async (t) => {
  const small = smallTemporal();
  const failedTask = (cause: string, newRunId: string) => [
    { eventId: '5', eventTime: '2024-05-01T09:00:01Z', eventType: 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED', workflowTaskScheduledEventAttributes: { taskQueue: { name: 'q' }, attempt: 1 } },
    { eventId: '6', eventTime: '2024-05-01T09:00:01Z', eventType: 'EVENT_TYPE_WORKFLOW_TASK_STARTED', workflowTaskStartedEventAttributes: { scheduledEventId: '5' } },
    {
      eventId: '7',
      eventTime: '2024-05-01T09:00:01Z',
      eventType: 'EVENT_TYPE_WORKFLOW_TASK_FAILED',
      workflowTaskFailedEventAttributes: { scheduledEventId: '5', startedEventId: '6', cause, failure: { message: 'reset', resetWorkflowFailureInfo: {} }, baseRunId: 'run-a', newRunId },
    },
  ];
  const withTask = (cause: string, newRunId: string) => ({ events: [...small.events.slice(0, 4), ...failedTask(cause, newRunId)] });
  const read = async (cause: string, newRunId: string) => (await fromTemporalHistory(withTask(cause, newRunId))).events[6] as Extract<HistoryEvent, { type: 'workflowTaskFailed' }>;
  t.equal((await read('WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW', 'run-b')).newRandomnessSeed, temporalRandomnessSeed('run-b'));
  t.equal((await read('WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE', 'run-b')).newRandomnessSeed, undefined, 'only a reset re-seeds');
  t.notOk('newRandomnessSeed' in (await read('WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW', '')), 'no new run id, no re-seed');

  const b = new HistoryBuilder({ randomnessSeed: 'own seed' }).start();
  const wt = b.add({ type: 'workflowTaskScheduled', taskQueue: 'main', attempt: 1 });
  const st = b.add({ type: 'workflowTaskStarted', scheduledEventId: wt });
  b.add({ type: 'workflowTaskFailed', scheduledEventId: wt, startedEventId: st, cause: 'resetWorkflow', failure: { message: 'reset', kind: 'application' }, newRandomnessSeed: 'après\u0000' });
  const h = parseHistory(b.history());
  const temporal = toTemporalHistory(h);
  t.match(temporal.events[3], { workflowTaskFailedEventAttributes: { newRunId: 'deja-randomness-seed:après\u0000', cause: 'WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW' } });
  t.same(await fromTemporalHistory(temporal), h, 'deja → Temporal → deja keeps both seeds');
});

// ---------------------------------------------------------------------------------------------
// Writing, and round trips

t.test('toTemporalHistory writes proto3 JSON that reads back as the same history', async (t) => {
  const b = new HistoryBuilder({ workflowId: 'wf-rt', runId: 'run-rt', randomnessSeed: 'seed-rt' });
  b.start(['Ada']);
  const wt = b.workflowTask();
  const act = b.activity('greet', '1', wt);
  b.activityCompleted(act, 'Hello, Ada!');
  b.completeWorkflow(b.workflowTask(), 'Hello, Ada!');
  const h = parseHistory(b.history());
  const temporal = toTemporalHistory(h);
  t.equal(temporal.events[0].eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');
  t.equal(temporal.events[0].eventId, '1', 'int64 as strings');
  t.match(temporal.events[4], { eventType: 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED', activityTaskScheduledEventAttributes: { startToCloseTimeout: '10s', activityType: { name: 'greet' } } });
  t.same(parseHistory(temporal), h);
  t.same(parseHistory(JSON.stringify(temporal)), h);
  t.same(protoProblems(protoHistory(), temporal, 'history'), [], "every field and enum value is in Temporal's schema (@temporalio/proto)");
  t.ok(protoProblems(protoHistory(), { events: [{ eventId: 1, eventType: 'EVENT_TYPE_NOPE', bogus: true }] }, 'history').length === 3, 'the schema check finds problems');
  const dir = t.testdir({});
  writeTemporalHistoryFile(path.join(dir, 'h.json'), h);
  t.same(readHistoryFile(path.join(dir, 'h.json')), h, 'writeTemporalHistoryFile → readHistoryFile');
});

/**
 * The problems of `value` as the proto3 JSON of message `type`, by @temporalio/proto's reflection:
 * every field name is one of the message's, every enum name one of the enum's, int64 values are
 * decimal strings, durations "<seconds>s", times RFC 3339, bytes base64. (What proto3 JSON parsers,
 * Temporal's `historyFromJSON` among them, insist on.)
 */
interface ProtoField { name: string; type: string; repeated: boolean; map: boolean; resolvedType: ProtoType | ProtoEnum | null }
interface ProtoType { fullName: string; fields: Record<string, ProtoField>; resolveAll(): ProtoType }
interface ProtoEnum { values: Record<string, number> }
function protoProblems(type: ProtoType, value: unknown, at: string, out: string[] = []): string[] {
  if (type.fullName === '.google.protobuf.Duration') {
    if (typeof value !== 'string' || !/^\d+(\.\d{1,9})?s$/.test(value)) out.push(`${at}: ${JSON.stringify(value)} is not a Duration`);
    return out;
  }
  if (type.fullName === '.google.protobuf.Timestamp') {
    if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) out.push(`${at}: ${JSON.stringify(value)} is not a Timestamp`);
    return out;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [...out, `${at}: expected a ${type.fullName} object`];
  type.resolveAll();
  for (const [key, v] of Object.entries(value)) {
    const field = type.fields[key];
    if (field === undefined) {
      out.push(`${at}.${key}: ${type.fullName} has no such field`);
      continue;
    }
    const one = (x: unknown, where: string) => {
      const r = field.resolvedType;
      if (r !== null && 'fields' in r) protoProblems(r, x, where, out);
      else if (r !== null) {
        if (typeof x !== 'string' || !(x in r.values)) out.push(`${where}: ${JSON.stringify(x)} is not a value of the enum`);
      } else if (['int64', 'uint64', 'sint64', 'fixed64'].includes(field.type)) {
        if (typeof x !== 'string' || !/^-?\d+$/.test(x)) out.push(`${where}: int64 ${JSON.stringify(x)} is not a decimal string`);
      } else if (['int32', 'uint32', 'sint32'].includes(field.type)) {
        if (!Number.isInteger(x)) out.push(`${where}: ${JSON.stringify(x)} is not an int32`);
      } else if (field.type === 'bool') {
        if (typeof x !== 'boolean') out.push(`${where}: not a bool`);
      } else if (field.type === 'double' || field.type === 'float') {
        if (typeof x !== 'number') out.push(`${where}: not a number`);
      } else if (field.type === 'bytes') {
        if (typeof x !== 'string' || !/^[A-Za-z0-9+/]*=*$/.test(x)) out.push(`${where}: not base64`);
      } else if (field.type === 'string') {
        if (typeof x !== 'string') out.push(`${where}: not a string`);
      }
    };
    if (field.map) {
      if (typeof v !== 'object' || v === null) out.push(`${at}.${key}: expected a map`);
      else for (const [k, x] of Object.entries(v)) one(x, `${at}.${key}.${k}`);
    } else if (field.repeated) {
      if (!Array.isArray(v)) out.push(`${at}.${key}: expected an array`);
      else v.forEach((x, i) => one(x, `${at}.${key}[${i}]`));
    } else {
      one(v, `${at}.${key}`);
    }
  }
  return out;
}
const protoHistory = () => (require('@temporalio/proto') as { temporal: { api: { history: { v1: { History: ProtoType } } } } }).temporal.api.history.v1.History;

// Random valid deja histories, within what Temporal's format can say (see the module header of
// lib/history/temporal.ts): failures carry only their kind's fields, zero durations and ids are
// unset in proto3, a terminated child has no reason.
const str = fc.string({ minLength: 1, maxLength: 6 });
const payloadArb = fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const payloadsArb = fc.array(payloadArb, { maxLength: 3 });
const retryStateArb = fc.constantFrom('unspecified', 'inProgress', 'nonRetryableFailure', 'timeout', 'maximumAttemptsReached', 'retryPolicyNotSet', 'cancelRequested' as const);
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const clean = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const failureArb: fc.Arbitrary<WireFailure> = fc.letrec<{ f: WireFailure }>((tie) => ({
  f: fc
    .record({
      base: fc.record({ message: fc.string({ maxLength: 8 }), stack: opt(str) }),
      kind: fc.oneof(
        fc.record({ kind: fc.constant('application' as const), type: opt(str), nonRetryable: opt(fc.boolean()), details: opt(payloadsArb) }),
        fc.record({ kind: fc.constant('timeout' as const), timeoutType: opt(fc.constantFrom('startToClose', 'scheduleToStart', 'scheduleToClose', 'heartbeat' as const)), details: opt(payloadsArb) }),
        fc.record({ kind: fc.constant('cancelled' as const), details: opt(payloadsArb) }),
        fc.record({ kind: fc.constant('terminated' as const) }),
        fc.record({ kind: fc.constant('server' as const), nonRetryable: opt(fc.boolean()) }),
        fc.record({ kind: fc.constant('activity' as const), activityType: opt(str), activityId: opt(str), retryState: opt(retryStateArb) }),
        fc.record({ kind: fc.constant('childWorkflow' as const), workflowId: opt(str), runId: opt(str), workflowType: opt(str), retryState: opt(retryStateArb) }),
      ),
      cause: fc.option(tie('f'), { nil: undefined, depthSize: 'small' }),
    })
    .map(({ base, kind, cause }) => clean({ ...base, ...kind, cause }) as WireFailure),
})).f;

const msArb = fc.integer({ min: 1, max: 10_000_000 });
const retryPolicyArb = fc.record(
  { initialIntervalMs: msArb, backoffCoefficient: fc.double({ min: 1, max: 10, noNaN: true }), maximumIntervalMs: msArb, maximumAttempts: fc.integer({ min: 1, max: 10 }), nonRetryableErrorTypes: fc.array(str, { minLength: 1, maxLength: 2 }) },
  { requiredKeys: [] },
);
const searchAttributeArb = fc.oneof(
  fc.record({ type: fc.constantFrom('TEXT', 'KEYWORD' as const), value: fc.string({ maxLength: 6 }) }),
  fc.record({ type: fc.constant('DATETIME' as const), value: fc.integer({ min: 0, max: 4e12 }).map((ms) => new Date(ms).toISOString()) }),
  fc.record({ type: fc.constant('INT' as const), value: fc.integer() }),
  fc.record({ type: fc.constant('DOUBLE' as const), value: fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d)) }),
  fc.record({ type: fc.constant('BOOL' as const), value: fc.boolean() }),
  fc.record({ type: fc.constant('KEYWORD_LIST' as const), value: fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }) }),
);
const nameArb = fc.constantFrom('a', 'b', 'CustomKeywordField');
const memoArb = fc.dictionary(nameArb, payloadArb, { maxKeys: 2 });

/** One thing that happens after a workflow task completes; each is turned into valid events. */
const stepArb = fc.oneof(
  fc.record({ k: fc.constant('activity' as const), input: payloadsArb, timeouts: fc.record({ scheduleToCloseTimeoutMs: msArb, scheduleToStartTimeoutMs: msArb, startToCloseTimeoutMs: msArb, heartbeatTimeoutMs: msArb }, { requiredKeys: [] }), retryPolicy: opt(retryPolicyArb), end: fc.constantFrom('completed', 'failed', 'timedOut', 'timedOutUnstarted', 'canceled', 'open'), result: opt(payloadArb), failure: failureArb, retryState: retryStateArb, details: opt(payloadsArb) }),
  fc.record({ k: fc.constant('timer' as const), ms: fc.nat(10_000_000), end: fc.constantFrom('fired', 'canceled', 'open') }),
  fc.record({ k: fc.constant('signal' as const), name: str, input: payloadsArb, identity: opt(str) }),
  fc.record({ k: fc.constant('cancelRequested' as const), cause: opt(str), identity: opt(str), external: fc.boolean() }),
  fc.record({ k: fc.constant('patch' as const), patchId: str, deprecated: fc.boolean() }),
  fc.record({ k: fc.constant('local' as const), activityType: str, attempt: fc.integer({ min: 1, max: 5 }), result: opt(payloadArb), failure: opt(failureArb) }),
  fc.record({ k: fc.constant('upsert' as const), sa: fc.dictionary(nameArb, fc.option(searchAttributeArb, { nil: null }), { minKeys: 1, maxKeys: 2 }) }),
  fc.record({ k: fc.constant('memo' as const), memo: fc.dictionary(nameArb, fc.option(payloadArb, { nil: null }), { minKeys: 1, maxKeys: 2 }) }),
  fc.record({ k: fc.constant('update' as const), name: str, input: payloadsArb, identity: opt(str), result: opt(payloadArb), failure: opt(failureArb), completed: fc.boolean() }),
  fc.record({
    k: fc.constant('child' as const),
    input: payloadsArb,
    parentClosePolicy: fc.constantFrom('terminate', 'requestCancel', 'abandon' as const),
    workflowIdReusePolicy: opt(fc.constantFrom('allowDuplicate', 'allowDuplicateFailedOnly', 'rejectDuplicate' as const)),
    retryPolicy: opt(retryPolicyArb),
    memo: opt(memoArb),
    searchAttributes: opt(fc.dictionary(nameArb, searchAttributeArb, { maxKeys: 2 })),
    end: fc.constantFrom('startFailed', 'completed', 'failed', 'canceled', 'terminated', 'timedOut', 'open'),
    result: opt(payloadArb),
    failure: failureArb,
    retryState: retryStateArb,
    details: opt(payloadsArb),
  }),
  fc.record({ k: fc.constant('external' as const), signal: fc.boolean(), runId: opt(str), childWorkflowOnly: fc.boolean(), failed: fc.boolean(), input: payloadsArb }),
  fc.record({ k: fc.constant('taskFailed' as const), cause: fc.constantFrom('nondeterminism', 'workflowError', 'unhandledCommand', 'resetWorkflow'), failure: failureArb, newRandomnessSeed: opt(fc.oneof(str, fc.constant(temporalRandomnessSeed('run-x')))) }),
);
const closeArb = fc.oneof(
  fc.record({ k: fc.constant('completed' as const), result: opt(payloadArb), newExecutionRunId: opt(str) }),
  fc.record({ k: fc.constant('failed' as const), failure: failureArb, retryState: opt(retryStateArb), newExecutionRunId: opt(str) }),
  fc.record({ k: fc.constant('timedOut' as const), retryState: retryStateArb }),
  fc.record({ k: fc.constant('canceled' as const), details: opt(payloadsArb) }),
  fc.record({ k: fc.constant('terminated' as const), reason: opt(str), details: opt(payloadsArb), identity: opt(str) }),
  fc.record({ k: fc.constant('continuedAsNew' as const), input: payloadsArb, workflowRunTimeoutMs: opt(msArb) }),
);
const startArb = fc.record({
  startMs: fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }),
  input: payloadsArb,
  extra: fc.record(
    {
      parent: fc.record({ workflowId: str, runId: str, initiatedEventId: fc.integer({ min: 1, max: 100 }) }),
      continuedFromExecutionRunId: str,
      initiator: fc.constantFrom('workflow', 'retryPolicy', 'cronSchedule' as const),
      cronSchedule: str,
      firstWorkflowTaskBackoffMs: msArb,
      workflowExecutionTimeoutMs: msArb,
      workflowExecutionExpirationTime: fc.integer({ min: 0, max: 4e12 }).map((ms) => new Date(ms).toISOString()),
      workflowRunTimeoutMs: msArb,
      retryPolicy: retryPolicyArb,
      memo: memoArb,
      searchAttributes: fc.dictionary(nameArb, searchAttributeArb, { maxKeys: 2 }),
      lastCompletionResult: payloadArb,
      continuedFailure: failureArb,
      identity: str,
    },
    { requiredKeys: [] },
  ),
});
const planArb = fc.record({ start: startArb, rounds: fc.array(fc.array(stepArb, { maxLength: 3 }), { maxLength: 4 }), close: opt(closeArb), stepMs: fc.constantFrom(0, 1, 999) });
type Plan = typeof planArb extends fc.Arbitrary<infer P> ? P : never;

const defined = <O extends object>(o: O): O => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as O;

function build(plan: Plan): History {
  const b = new HistoryBuilder({ workflowId: 'wf-t', runId: 'run-t', startMs: plan.start.startMs, stepMs: plan.stepMs, randomnessSeed: 'seed-t' });
  b.add(defined({ type: 'workflowExecutionStarted' as const, workflowType: 'greet', workflowId: 'wf-t', runId: 'run-t', firstExecutionRunId: 'run-first', taskQueue: 'main', input: plan.start.input, attempt: 1, randomnessSeed: 'seed-t', workflowTaskTimeoutMs: 10_000, ...plan.start.extra }));
  let n = 0;
  for (const round of plan.rounds) {
    const wt = b.workflowTask();
    for (const s of round) {
      const id = `${++n}`;
      switch (s.k) {
        case 'activity': {
          const scheduledEventId = b.add(defined({ type: 'activityTaskScheduled' as const, activityId: id, activityType: 'work', taskQueue: 'main', input: s.input, ...s.timeouts, retryPolicy: s.retryPolicy, workflowTaskCompletedEventId: wt }));
          if (s.end === 'open') break;
          if (s.end === 'timedOutUnstarted') {
            b.add({ type: 'activityTaskTimedOut', scheduledEventId, failure: s.failure, retryState: s.retryState });
            break;
          }
          if (s.end === 'canceled') {
            const cr = b.add({ type: 'activityTaskCancelRequested', scheduledEventId, workflowTaskCompletedEventId: wt });
            b.add(defined({ type: 'activityTaskCanceled' as const, scheduledEventId, latestCancelRequestedEventId: cr, details: s.details }));
            break;
          }
          const startedEventId = b.add({ type: 'activityTaskStarted', scheduledEventId, attempt: 2, identity: 'w' });
          if (s.end === 'completed') b.add(defined({ type: 'activityTaskCompleted' as const, scheduledEventId, startedEventId, result: s.result }));
          else if (s.end === 'failed') b.add({ type: 'activityTaskFailed', scheduledEventId, startedEventId, failure: s.failure, retryState: s.retryState });
          else b.add({ type: 'activityTaskTimedOut', scheduledEventId, startedEventId, failure: s.failure, retryState: s.retryState });
          break;
        }
        case 'timer': {
          const startedEventId = b.add({ type: 'timerStarted', timerId: id, startToFireTimeoutMs: s.ms, workflowTaskCompletedEventId: wt });
          if (s.end === 'fired') b.add({ type: 'timerFired', timerId: id, startedEventId });
          if (s.end === 'canceled') b.add({ type: 'timerCanceled', timerId: id, startedEventId, workflowTaskCompletedEventId: wt });
          break;
        }
        case 'signal':
          b.add(defined({ type: 'workflowExecutionSignaled' as const, signalName: s.name, input: s.input, identity: s.identity }));
          break;
        case 'cancelRequested':
          b.add(defined({ type: 'workflowExecutionCancelRequested' as const, cause: s.cause, identity: s.identity, ...(s.external ? { externalInitiatedEventId: 3, externalWorkflowId: 'other', externalRunId: 'other-run' } : {}) }));
          break;
        case 'patch':
          b.add({ type: 'patchMarkerRecorded', patchId: s.patchId, deprecated: s.deprecated, workflowTaskCompletedEventId: wt });
          break;
        case 'local':
          b.add(defined({ type: 'localActivityMarkerRecorded' as const, seq: n, activityId: id, activityType: s.activityType, attempt: s.attempt, result: s.failure ? undefined : s.result, failure: s.failure, workflowTaskCompletedEventId: wt }));
          break;
        case 'upsert':
          b.add({ type: 'upsertWorkflowSearchAttributes', searchAttributes: s.sa, workflowTaskCompletedEventId: wt });
          break;
        case 'memo':
          b.add({ type: 'workflowPropertiesModified', upsertedMemo: s.memo, workflowTaskCompletedEventId: wt });
          break;
        case 'update': {
          const acceptedEventId = b.add(defined({ type: 'workflowExecutionUpdateAccepted' as const, updateId: `u${id}`, name: s.name, input: s.input, identity: s.identity, workflowTaskCompletedEventId: wt }));
          if (s.completed) b.add(defined({ type: 'workflowExecutionUpdateCompleted' as const, updateId: `u${id}`, acceptedEventId, result: s.failure ? undefined : s.result, failure: s.failure, workflowTaskCompletedEventId: wt }));
          break;
        }
        case 'child': {
          const workflowId = `child-${id}`;
          const initiatedEventId = b.add(
            defined({ type: 'startChildWorkflowExecutionInitiated' as const, workflowId, workflowType: 'kid', taskQueue: 'main', input: s.input, parentClosePolicy: s.parentClosePolicy, workflowIdReusePolicy: s.workflowIdReusePolicy, workflowTaskTimeoutMs: 10_000, workflowRunTimeoutMs: 5000, retryPolicy: s.retryPolicy, memo: s.memo, searchAttributes: s.searchAttributes, workflowTaskCompletedEventId: wt }),
          );
          if (s.end === 'startFailed') {
            b.add({ type: 'startChildWorkflowExecutionFailed', workflowId, workflowType: 'kid', cause: 'workflowAlreadyExists', initiatedEventId });
            break;
          }
          const runId = `child-run-${id}`;
          const startedEventId = b.add({ type: 'childWorkflowExecutionStarted', workflowId, runId, workflowType: 'kid', initiatedEventId });
          const c = { workflowId, runId, workflowType: 'kid', initiatedEventId, startedEventId };
          if (s.end === 'completed') b.add(defined({ type: 'childWorkflowExecutionCompleted' as const, ...c, result: s.result }));
          if (s.end === 'failed') b.add({ type: 'childWorkflowExecutionFailed', ...c, failure: s.failure, retryState: s.retryState });
          if (s.end === 'canceled') b.add(defined({ type: 'childWorkflowExecutionCanceled' as const, ...c, details: s.details }));
          if (s.end === 'terminated') b.add({ type: 'childWorkflowExecutionTerminated', ...c });
          if (s.end === 'timedOut') b.add({ type: 'childWorkflowExecutionTimedOut', ...c, retryState: s.retryState });
          break;
        }
        case 'external': {
          const workflowId = `ext-${id}`;
          const initiatedEventId = s.signal
            ? b.add(defined({ type: 'signalExternalWorkflowExecutionInitiated' as const, workflowId, runId: s.runId, signalName: 'go', input: s.input, childWorkflowOnly: s.childWorkflowOnly, workflowTaskCompletedEventId: wt }))
            : b.add(defined({ type: 'requestCancelExternalWorkflowExecutionInitiated' as const, workflowId, runId: s.runId, childWorkflowOnly: s.childWorkflowOnly, workflowTaskCompletedEventId: wt }));
          if (s.failed) b.add(defined({ type: s.signal ? ('signalExternalWorkflowExecutionFailed' as const) : ('requestCancelExternalWorkflowExecutionFailed' as const), initiatedEventId, workflowId, runId: s.runId, cause: 'externalWorkflowExecutionNotFound' }));
          else b.add({ type: s.signal ? 'externalWorkflowExecutionSignaled' : 'externalWorkflowExecutionCancelRequested', initiatedEventId, workflowId, runId: s.runId ?? 'latest-run' });
          break;
        }
        case 'taskFailed': {
          const scheduledEventId = b.add({ type: 'workflowTaskScheduled', taskQueue: 'main', attempt: 1 });
          const startedEventId = b.add({ type: 'workflowTaskStarted', scheduledEventId, identity: 'w', historySizeBytes: 100, suggestContinueAsNew: s.cause === 'nondeterminism' });
          b.add(defined({ type: 'workflowTaskFailed' as const, scheduledEventId, startedEventId, cause: s.cause, failure: s.failure, identity: 'w', newRandomnessSeed: s.newRandomnessSeed }));
          break;
        }
      }
    }
  }
  const c = plan.close;
  if (c !== undefined) {
    if (c.k === 'timedOut') b.add({ type: 'workflowExecutionTimedOut', retryState: c.retryState });
    else if (c.k === 'terminated') b.add(defined({ type: 'workflowExecutionTerminated' as const, reason: c.reason, details: c.details, identity: c.identity }));
    else {
      const wt = b.workflowTask();
      if (c.k === 'completed') b.add(defined({ type: 'workflowExecutionCompleted' as const, result: c.result, workflowTaskCompletedEventId: wt, newExecutionRunId: c.newExecutionRunId }));
      if (c.k === 'failed') b.add(defined({ type: 'workflowExecutionFailed' as const, failure: c.failure, retryState: c.retryState, workflowTaskCompletedEventId: wt, newExecutionRunId: c.newExecutionRunId }));
      if (c.k === 'canceled') b.add(defined({ type: 'workflowExecutionCanceled' as const, details: c.details, workflowTaskCompletedEventId: wt }));
      if (c.k === 'continuedAsNew') b.add(defined({ type: 'workflowExecutionContinuedAsNew' as const, newExecutionRunId: 'run-next', workflowType: 'greet', taskQueue: 'main', input: c.input, workflowRunTimeoutMs: c.workflowRunTimeoutMs, workflowTaskTimeoutMs: 10_000, workflowTaskCompletedEventId: wt }));
    }
  }
  return parseHistory(b.history(), 'build');
}

const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);

t.test("property: deja → Temporal JSON → deja gives the same history, and the JSON fits Temporal's schema", async (t) => {
  t.comment(`fast-check seed ${seed} (rerun with FC_SEED=${seed})`);
  const types = new Set<string>();
  const result = fc.check(
    fc.property(planArb, (plan) => {
      // Through JSON, as a file would be: fast-check's dictionaries have null prototypes.
      const h = build(clean(plan));
      for (const e of h.events) types.add(e.type);
      const temporal = toTemporalHistory(h);
      deepStrictEqual(protoProblems(protoHistory(), temporal, 'history'), []);
      deepStrictEqual(parseHistory(JSON.parse(JSON.stringify(temporal))), h);
    }),
    { seed, numRuns: 150 },
  );
  t.notOk(result.failed, (result.failed ? fc.defaultReportMessage(result) : undefined) ?? 'holds');
  t.comment(`${types.size} event types seen`);
  t.ok(types.size >= 35, `most event types are exercised (${types.size})`);
});
