// The Temporal names added for issue 12 item 5, by behaviour: Trigger in a real workflow (and its
// replay), scheduleActivity / scheduleLocalActivity / executeWithOptions, current details and the
// built-in queries, the pure helpers inside the isolate, the error classes (names, instanceof, and
// Temporal's own classes recognising them), the enum codecs' round trips, and the activity names.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Connection, WorkflowClient } from '../lib/client';
import { bundleWorkflowCode, type WorkflowBundle } from '../lib/bundler';
import { Worker } from '../lib/worker';
import { replayHistory } from '../lib/testing/replay';
import { MockActivityEnvironment } from '../lib/testing/mock-activity-environment';
import * as workflow from '../runtime/index';
import * as activity from '../lib/activity';
import * as client from '../lib/compat/client';
import { QueryFailedError } from '../lib/service-errors';
import { cancellationDetailsFor } from '../lib/activity/cancellation-details';
import { DeterminismViolationError } from '../runtime/errors';

const workflowsPath = path.join(__dirname, 'workflows', 'temporal-names.ts');
const taskQueue = 'temporal-names';
let connection: Connection;
let wfClient: WorkflowClient;
let worker: Worker;
let running: Promise<void>;
let bundle: WorkflowBundle;

t.before(async () => {
  connection = new Connection({ backend: `memory:temporal-names-${randomUUID()}` });
  bundle = await bundleWorkflowCode({ workflowsPath });
  worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: bundle,
    activities: { echo: async (s: string) => s },
    logger: () => undefined,
  });
  running = worker.run();
  wfClient = new WorkflowClient({ connection });
});
t.teardown(async () => {
  worker.shutdown();
  await running;
  await connection.close();
});

const id = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (let i = 0; i < 1000; i++) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never happened: ${what}`);
}

async function replays(t: Test, workflowId: string): Promise<void> {
  const history = await wfClient.getHandle(workflowId).fetchHistory();
  await t.resolves(replayHistory({ workflowBundle: bundle }, history), `${workflowId} replays`);
}

t.test('Trigger: a signal resolves it, its cancellable scope rejects it, and the run replays', async (t) => {
  const workflowId = id('trigger');
  const handle = await wfClient.start('triggered', { workflowId, taskQueue, args: [] });
  await until('the query handler is set', async () => (await handle.query<string>('step').catch(() => undefined)) === 'waiting');
  await handle.signal('release', 'go');
  t.same(await handle.result(), { value: 'go', cancelled: true, again: 'late' });
  await replays(t, workflowId);
});

t.test('scheduleActivity, scheduleLocalActivity and executeWithOptions schedule real activities', async (t) => {
  const workflowId = id('scheduling');
  const handle = await wfClient.start('scheduling', { workflowId, taskQueue, args: [] });
  t.same(await handle.result(), ['one', 'two', 'three']);
  const events = (await handle.fetchHistory()).events;
  const scheduled = events.filter((e) => e.type === 'activityTaskScheduled') as unknown as { startToCloseTimeoutMs?: number; retryPolicy?: { maximumAttempts?: number } }[];
  t.equal(scheduled.length, 2, 'two activities (the local one is a marker)');
  t.equal(scheduled[1]!.startToCloseTimeoutMs, 120_000, "executeWithOptions' timeout overrides the proxy's");
  t.equal(scheduled[1]!.retryPolicy?.maximumAttempts, 2, 'and its retry policy is merged in');
  await replays(t, workflowId);
});

t.test('current details and the built-in queries', async (t) => {
  const workflowId = id('detailed');
  const handle = await wfClient.start('detailed', { workflowId, taskQueue, args: [] });
  await until('the details are set', async () => (await handle.query<string>('step').catch(() => undefined)) === 'waiting (total 0)');
  t.equal(await handle.executeUpdate('bump', { args: [3], updateId: 'u1' }), 3);
  const runId = (await handle.describe()).runId;
  t.equal(await wfClient.getHandle(workflowId).getUpdateHandle<number>('u1', { workflowRunId: runId }).result(), 3, 'getUpdateHandle with workflowRunId');
  t.throws(() => handle.getUpdateHandle('u1', { workflowRunId: '' }), { code: 'DEJA_INVALID_ARGUMENT' });
  t.throws(() => handle.getUpdateHandle('u1', { runId } as never), { code: 'DEJA_INVALID_ARGUMENT' });
  const metadata = await handle.query<workflow.WorkflowMetadata>(workflow.workflowMetadataQuery.name);
  t.same(metadata, {
    definition: {
      type: 'detailed',
      queryDefinitions: [
        { name: '__stack_trace', description: 'Returns a sensible stack trace.' },
        { name: '__enhanced_stack_trace', description: 'Returns a stack trace annotated with source information.' },
        { name: '__temporal_workflow_metadata', description: 'Returns metadata associated with this workflow.' },
        { name: 'step' },
      ],
      signalDefinitions: [{ name: 'finish', description: 'ends the workflow' }],
      updateDefinitions: [{ name: 'bump', description: 'adds n' }],
    },
    currentDetails: 'waiting (total 0)',
  });
  t.match(await handle.query<string>('__stack_trace'), /deja keeps no stack traces/);
  t.same(await handle.query('__enhanced_stack_trace'), { sdk: { name: 'deja', version: '' }, stacks: [], sources: {} });
  await handle.signal('finish');
  t.equal(await handle.result(), 'waiting (total 0)');
  await replays(t, workflowId);
});

t.test('the pure helpers inside the isolate', async (t) => {
  const workflowId = id('helpers');
  const result = (await wfClient.execute('helpers', { workflowId, taskQueue, args: [] })) as Record<string, any>;
  t.equal(result.inWorkflowContext, true);
  t.equal(result.type, 'helpers');
  t.same(result.options, { workflowIdLength: 36, args: [], cancellationType: 'WAIT_CANCELLATION_COMPLETED', taskQueue: 'q' });
  t.same(result.counter, { name: 'calls', kind: 'counter' });
  t.ok(result.before >= 0 && result.before < 1);
  t.equal(result.bytes.length, 4);
  t.ok(result.bytes.every((b: number) => Number.isInteger(b) && b >= 0 && b < 256));
  t.match(result.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.equal(result.valueError, true, 'a bad enum name is a ValueError');
  t.equal(result.determinismIsWorkflowError, true, 'DeterminismViolationError is a WorkflowError, as in Temporal');
  t.equal(result.reuse, 3);
  t.equal(result.conflict, 'USE_EXISTING');
  await replays(t, workflowId);
  t.equal(workflow.inWorkflowContext(), false, 'false on the host');
  t.throws(() => workflow.getCurrentDetails(), { name: 'IllegalStateError' });
  t.throws(() => workflow.workflowRandom.random(), { name: 'IllegalStateError' });
});

t.test('extractWorkflowType', async (t) => {
  t.equal(workflow.extractWorkflowType('x'), 'x');
  t.equal(workflow.extractWorkflowType(async function named() {}), 'named');
  t.throws(() => workflow.extractWorkflowType((() => async () => {})()), /anonymous/);
  t.throws(() => workflow.extractWorkflowType(3 as never), /expected either a string or a function, got 'number'/);
  t.equal(client.extractWorkflowType, workflow.extractWorkflowType);
});

t.test('the error classes: names, instanceof, and Temporal\'s own classes', async (t) => {
  const made = [
    new workflow.ValueError('v', 'why'),
    new workflow.PayloadConverterError('p'),
    new workflow.NamespaceNotFoundError('ns'),
    new workflow.WorkflowError('w'),
    new workflow.CompleteAsyncError(),
    new client.QueryRejectedError('RUNNING'),
    new client.WorkflowUpdateRPCTimeoutOrCancelledError('u'),
    new client.ActivityCompletionError('a'),
    new client.QueryNotRegisteredError('q', 'DEJA_QUERY_FAILED'),
  ];
  t.same(
    made.map((e) => e.name),
    ['ValueError', 'PayloadConverterError', 'NamespaceNotFoundError', 'WorkflowError', 'CompleteAsyncError', 'QueryRejectedError', 'WorkflowUpdateRPCTimeoutOrCancelledError', 'ActivityCompletionError', 'QueryNotRegisteredError'],
  );
  t.ok(made[1] instanceof workflow.ValueError, 'PayloadConverterError extends ValueError');
  t.notOk(made[0] instanceof workflow.PayloadConverterError);
  t.equal((made[0] as workflow.ValueError).cause, 'why');
  t.equal(made[2]!.message, "Namespace not found: 'ns'");
  t.ok(new DeterminismViolationError('d') instanceof workflow.WorkflowError);
  t.notOk(new Error('x') instanceof workflow.WorkflowError);
  t.equal(activity.CompleteAsyncError, workflow.CompleteAsyncError, 'one class on both sides');
  const notFound = new workflow.WorkflowNotFoundError('gone', 'wf');
  t.match(notFound, { code: 'DEJA_NOT_FOUND', workflowId: 'wf', name: 'WorkflowNotFoundError' });
  t.ok(notFound instanceof client.WorkflowNotFoundError, "the client's WorkflowNotFoundError is the runtime's");
  t.ok(new QueryFailedError('no handler', { kind: 'application', type: 'QueryNotFound', message: 'no handler' }) instanceof client.QueryNotRegisteredError);
  t.notOk(new QueryFailedError('boom', { kind: 'application', type: 'Error', message: 'boom' }) instanceof client.QueryNotRegisteredError);
  for (const value of [null, 1, 'x', new Proxy({}, { get: () => { throw new Error('trap'); } })]) {
    t.equal(value instanceof workflow.ValueError, false, 'never throws');
  }
  // Temporal's own classes and deja's recognise each other (the same markers).
  const temporalCommon = path.join(__dirname, '..', 'bench', 'node_modules', '@temporalio', 'common');
  if (fs.existsSync(temporalCommon)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const real = require(temporalCommon) as Record<string, new (...a: any[]) => Error>;
    t.ok(new workflow.ValueError('x') instanceof real.ValueError!);
    t.ok(new real.NamespaceNotFoundError!('ns') instanceof workflow.NamespaceNotFoundError);
    t.ok(new real.PayloadConverterError!('p') instanceof workflow.ValueError);
  }
});

t.test('a query for a missing handler is a QueryNotRegisteredError', async (t) => {
  const workflowId = id('no-query');
  const handle = await wfClient.start('detailed', { workflowId, taskQueue, args: [] });
  const error = await handle.query('nope').catch((e: unknown) => e);
  t.ok(error instanceof client.QueryNotRegisteredError);
  t.ok(error instanceof QueryFailedError);
  await handle.signal('finish');
  await handle.result();
});

t.test('the enum codecs: round trips, prefixes, and bad input', async (t) => {
  const codecs: [string, (x: any) => number | undefined, (n: any) => string | undefined, readonly string[], string][] = [
    ['reuse', workflow.encodeWorkflowIdReusePolicy, workflow.decodeWorkflowIdReusePolicy, ['ALLOW_DUPLICATE', 'ALLOW_DUPLICATE_FAILED_ONLY', 'REJECT_DUPLICATE', 'TERMINATE_IF_RUNNING'], 'WORKFLOW_ID_REUSE_POLICY_'],
    ['conflict', workflow.encodeWorkflowIdConflictPolicy, workflow.decodeWorkflowIdConflictPolicy, ['FAIL', 'USE_EXISTING', 'TERMINATE_EXISTING'], 'WORKFLOW_ID_CONFLICT_POLICY_'],
    ['query reject', client.encodeQueryRejectCondition, client.decodeQueryRejectCondition, ['NONE', 'NOT_OPEN', 'NOT_COMPLETED_CLEANLY'], 'QUERY_REJECT_CONDITION_'],
    ['overlap', client.encodeScheduleOverlapPolicy, client.decodeScheduleOverlapPolicy, Object.keys(client.ScheduleOverlapPolicy), 'SCHEDULE_OVERLAP_POLICY_'],
    ['pending activity', client.encodePendingActivityState, client.decodePendingActivityState, Object.keys(client.PendingActivityState), 'PENDING_ACTIVITY_STATE_'],
  ];
  for (const [what, encode, decode, names, prefix] of codecs) {
    names.forEach((name, i) => {
      t.equal(encode(name), i + 1, `${what}: ${name}`);
      t.equal(encode(prefix + name), i + 1, `${what}: ${prefix}${name}`);
      t.equal(decode(i + 1), name);
    });
    t.equal(encode(undefined), undefined);
    t.equal(encode(null), undefined);
    t.equal(decode(0), undefined, 'unspecified');
    t.equal(decode(99), 'unknown_99');
    t.throws(() => encode('NOPE'), { name: 'ValueError', message: /Invalid enum value: 'NOPE'/ });
    t.throws(() => decode('1'), { name: 'ValueError' });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: names.length }), (n) => encode(decode(n)) === n),
      { seed: 12 },
    );
  }
  // Temporal's own codecs agree, where bench/ has them.
  const temporalClient = path.join(__dirname, '..', 'bench', 'node_modules', '@temporalio', 'client');
  if (fs.existsSync(temporalClient)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const real = require(temporalClient) as Record<string, (x: unknown) => unknown>;
    for (const name of Object.keys(client.ScheduleOverlapPolicy)) t.equal(client.encodeScheduleOverlapPolicy(name as never), real.encodeScheduleOverlapPolicy!(name));
    for (const n of [0, 1, 2, 3, 7]) t.equal(client.decodeQueryRejectCondition(n), real.decodeQueryRejectCondition!(n));
  }
});

t.test('constants and the no-op meter', async (t) => {
  t.equal(client.MONTHS.length, 12);
  t.same(client.DAYS_OF_WEEK.slice(0, 2), ['SUNDAY', 'MONDAY']);
  t.same(client.HandlerUnfinishedPolicy, { WARN_AND_ABANDON: 'WARN_AND_ABANDON', ABANDON: 'ABANDON' });
  t.equal(workflow.WorkflowIdConflictPolicy.USE_EXISTING, 'USE_EXISTING');
  const gauge = workflow.metricMeter.createGauge('g', 'float', 'ms');
  t.match(gauge, { name: 'g', kind: 'gauge', valueType: 'float', unit: 'ms' });
  t.equal(gauge.set(3), undefined);
  t.equal(gauge.withTags({ x: 1 }), gauge);
  t.equal(activity.metricMeter, workflow.metricMeter);
});

t.test('activity: cancellationDetails and asyncLocalStorage', async (t) => {
  const env = new MockActivityEnvironment();
  const seen = await env.run(async () => {
    const before = activity.cancellationDetails();
    const same = activity.asyncLocalStorage.getStore() === activity.Context.current();
    env.cancel();
    return { before, after: activity.cancellationDetails(), same };
  });
  t.equal(seen.before, undefined);
  t.ok(seen.same);
  t.match(seen.after, { cancelRequested: true, timedOut: false, workerShutdown: false, notFound: false, paused: false, reset: false });
  t.match(cancellationDetailsFor('deadline'), { timedOut: true, cancelRequested: false });
  t.match(cancellationDetailsFor('shutdown'), { workerShutdown: true, cancelRequested: false });
  t.throws(() => activity.cancellationDetails(), { name: 'IllegalStateError' });
  const fn = async () => 1;
  activity.setActivityOptions({ typeInfo: 'x' }, fn);
  t.same((fn as unknown as { activityDefinitionOptions: unknown }).activityDefinitionOptions, { typeInfo: 'x' });
  t.throws(() => activity.setActivityOptions({}, 3 as never), { code: 'DEJA_INVALID_ARGUMENT' });
});
