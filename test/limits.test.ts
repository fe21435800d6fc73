// Limits at the service edge (host side): the `limits` option, payload size and depth on every
// method that takes one, the request total, identifiers, commands per task, history length and
// size (the warning hook, and closing a run that would pass the maximum), refusals that leave the
// task to its worker, the engine's work per task counted (never timed), and a property: hostile
// payloads given to any method are refused as InvalidArgumentErrors and change nothing.
import t from 'tap';
import fc from 'fast-check';
import { MemoryStore } from '../lib/backends/memory';
import { sortedSetWork } from '../lib/backends/memory/sorted-set';
import { DEFAULT_LIMITS, LIMIT_RANGES, LocalWorkflowService, type HistoryWarning, type Limits, type Store } from '../lib/engine';
import { copyJson } from '../lib/engine/json-copy';
import { InvalidArgumentError, LimitExceededError } from '../lib/errors';
import { makeHistory, type HistoryEvent } from '../lib/history';
import type { ActivityTask, QueryTask, WorkflowTask } from '../lib/service';
import type { Command, WireFailure } from '../runtime/protocol';
import { nested } from './store-conformance';
import { failure, ManualClock, pollNow } from './support/service';

const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
const numRuns = Number(process.env.DEJA_PROPERTY_RUNS ?? 60);

// ---- harness ----

const activity = (seq: number, args: unknown[] = [seq]): Command => ({ type: 'scheduleActivity', seq, activityId: String(seq), activityType: 'work', args, startToCloseTimeoutMs: 60_000 });
const timer = (seq: number): Command => ({ type: 'startTimer', seq, startToFireTimeoutMs: 1000 });

function setup(t: tap.Test, limits: Partial<Limits> = {}, onWarning: (w: HistoryWarning) => void = () => {}) {
  const clock = new ManualClock();
  const store: Store = new MemoryStore();
  const service = new LocalWorkflowService({ store, clock, limits, onWarning });
  t.teardown(() => service.close());
  let ids = 0;
  const h = {
    service,
    store,
    clock,
    async start(args: unknown[] = ['Ada'], workflowId = `wf-${++ids}`) {
      const { runId } = await service.startWorkflow({ workflowId, workflowType: 'greet', taskQueue: 'q', args: args as never });
      return { workflowId, runId };
    },
    async workflowTask(): Promise<WorkflowTask> {
      const task = await pollNow((s) => service.pollWorkflowTask('q', 'fake-worker', s));
      if (task?.kind !== 'workflow') throw new Error(`expected a workflow task, got ${JSON.stringify(task)}`);
      return task;
    },
    async activityTask(): Promise<ActivityTask> {
      const task = await pollNow((s) => service.pollActivityTask('q', 'fake-worker', s));
      if (!task) throw new Error('expected an activity task');
      return task;
    },
    async history(run: { workflowId: string; runId: string }): Promise<HistoryEvent[]> {
      const events = await service.getHistory(run);
      makeHistory(run.workflowId, run.runId, events); // throws if the engine wrote an invalid history
      return events;
    },
    /** A run with one activity claimed by the fake worker. */
    async withActivity() {
      const run = await h.start();
      await service.completeWorkflowTask((await h.workflowTask()).taskToken, [activity(1)]);
      return { run, task: await h.activityTask() };
    },
    record: (runId: string) => store.transaction((x) => x.runs.get(runId)),
  };
  return h;
}

const MiB = 1024 * 1024;
/** A string whose JSON text is exactly `bytes` bytes of UTF-8, mostly 3-byte characters. */
function jsonString(bytes: number): string {
  const inner = bytes - 2;
  return '€'.repeat(Math.floor(inner / 3)) + 'a'.repeat(inner % 3);
}

// ---- the option ----

t.test('limits: defaults, one option each, bounds named with their unit and range', async (t) => {
  const store = () => new MemoryStore();
  const make = (limits: unknown) => new LocalWorkflowService({ store: store(), limits: limits as Limits });
  const defaults = make(undefined);
  t.same(defaults.limits, DEFAULT_LIMITS, 'no option: the defaults');
  t.match(DEFAULT_LIMITS, {
    maxPayloadBytes: 2 * MiB,
    maxPayloadDepth: 100,
    maxRequestBytes: 4 * MiB,
    maxIdBytes: 1000,
    maxCommandsPerTask: 10_000,
    warnHistoryEvents: 10_240,
    warnHistoryBytes: 10 * MiB,
    maxHistoryEvents: 51_200,
    maxHistoryBytes: 50 * MiB,
  });
  await defaults.close();
  const some = make({ maxPayloadBytes: 4096, maxHistoryEvents: 100, warnHistoryEvents: 50 });
  t.match(some.limits, { maxPayloadBytes: 4096, maxHistoryEvents: 100, warnHistoryEvents: 50, maxIdBytes: 1000 }, 'what is left out keeps its default');
  await some.close();
  const follows = make({ maxPayloadBytes: 8 * MiB, maxHistoryEvents: 1000, maxHistoryBytes: 100 * MiB });
  t.match(
    follows.limits,
    { maxRequestBytes: 16 * MiB, warnHistoryEvents: 200, warnHistoryBytes: 20 * MiB },
    'left out, a request holds two payloads and a warning comes at a fifth of its maximum (Temporal’s proportions)',
  );
  await follows.close();

  const refused: [string, unknown, RegExp][] = [
    ['not an object', 5, /^LocalWorkflowService: limits must be an object, got number 5$/],
    ['an unknown key', { maxPayload: 1 }, /^LocalWorkflowService: limits: unknown option "maxPayload"; expected one of: "maxPayloadBytes", /],
    ['a fraction', { maxPayloadBytes: 1.5 }, /^LocalWorkflowService: limits\.maxPayloadBytes must be a whole number of bytes, got number 1\.5$/],
    ['a string', { maxCommandsPerTask: '10' }, /limits\.maxCommandsPerTask must be a whole number of commands, got the string "10"/],
    ['below its range', { maxPayloadBytes: 100 }, /^LocalWorkflowService: limits\.maxPayloadBytes must be from 1,024 to 67,108,864 bytes \(.+\), got 100$/],
    ['above its range', { maxPayloadDepth: 513 }, /limits\.maxPayloadDepth must be from 16 to 512 levels \(every store must hold the deepest payload allowed\), got 513/],
    ['under another limit', { maxPayloadBytes: 8 * MiB, maxRequestBytes: 4 * MiB }, /limits\.maxRequestBytes must be from maxPayloadBytes \(8,388,608\) to maxHistoryBytes \(52,428,800\) bytes .*, got 4,194,304/],
    ['following another limit out of range', { maxPayloadBytes: 64 * MiB }, /limits\.maxRequestBytes \(left out: 2 × maxPayloadBytes\) must be from maxPayloadBytes \(67,108,864\) to maxHistoryBytes/],
    ['a warning past its maximum', { warnHistoryEvents: 60_000 }, /limits\.warnHistoryEvents must be from 1 to maxHistoryEvents \(51,200\) events/],
    ['too few events to run', { maxHistoryEvents: 5, warnHistoryEvents: 5 }, /limits\.maxHistoryEvents must be from 10 to 10,000,000 events/],
  ];
  for (const [name, limits, message] of refused) t.throws(() => make(limits), { name: 'InvalidArgumentError', code: 'DEJA_INVALID_ARGUMENT', message }, name);
  for (const key of Object.keys(LIMIT_RANGES) as (keyof Limits)[]) {
    t.throws(() => make({ [key]: -1 }), { message: new RegExp(`limits\\.${key} must be from .* ${LIMIT_RANGES[key].unit}`) }, `${key} has a range`);
  }
  t.throws(() => new LocalWorkflowService({ store: store(), onWarning: 'log' as never }), { message: /onWarning must be a function, got the string "log"/ });
});

// ---- the JSON copy ----

t.test('property: the edge copy is JSON.parse(JSON.stringify(v)), and its byte count is exact', async (t) => {
  t.comment(`fast-check seed ${seed} (rerun with FC_SEED=${seed})`);
  // Any UTF-16 unit, lone surrogates and control characters included, and the ones JSON escapes
  // or UTF-8 widens, often; long strings too (they are measured another way).
  const unit = fc.oneof(
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    fc.constantFrom('😀', '\ud800', '\udc00', '"', '\\', '\n', '\b', '\u0001', '\u001f', '\u007f', 'é', '€', '\u2028', 'a'),
  );
  const anyString = fc.oneof(fc.string({ unit, maxLength: 20 }), fc.string({ unit, minLength: 250, maxLength: 400 }));
  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      anyString,
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.date({ noInvalidDate: true }),
      anyString.map((s) => new String(s)),
      fc.integer().map((n) => new Number(n)),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(anyString, tie('value'), { maxKeys: 4 }),
    ),
  })).value;
  fc.assert(
    fc.property(json, (value) => {
      const copied = copyJson(value, 'v', 1e9, 1000);
      const text = JSON.stringify(value);
      if (!copied.ok) throw new Error(`refused: ${JSON.stringify(copied)}`);
      if (copied.bytes !== (text === undefined ? 0 : Buffer.byteLength(text))) throw new Error(`bytes ${copied.bytes} ≠ ${Buffer.byteLength(text)}`);
      return JSON.stringify(copied.value) === text && (text === undefined || Object.is(JSON.stringify(JSON.parse(text)), JSON.stringify(copied.value)));
    }),
    { seed, numRuns: numRuns * 10 },
  );
  t.pass('agrees');
});

t.test('the edge copy reads each value once, never recurses, and keeps "__proto__" a key', async (t) => {
  let reads = 0;
  const counted = Object.defineProperty({}, 'x', { enumerable: true, get: () => ++reads });
  t.same(copyJson({ a: counted }, 'v', 1000, 10), { ok: true, value: { a: { x: 1 } }, bytes: Buffer.byteLength('{"a":{"x":1}}') });
  t.equal(reads, 1, 'a getter runs once');

  let calls = 0;
  const fickle = { toJSON: () => (++calls === 1 ? { fine: true } : 10n) };
  t.match(copyJson([fickle], 'v', 1000, 10), { ok: true, value: [{ fine: true }] }, 'a toJSON that changes between calls: its first answer is what is stored');
  t.equal(calls, 1);

  let deep: unknown = 0;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  t.same(copyJson(deep, 'v', 1e9, 100), { ok: false, problem: 'depth', path: `v${'[0]'.repeat(100)}` }, '100,000 levels: refused at 101, no stack overflow');
  t.match(copyJson(deep, 'v', 1e9, 200_000), { ok: true, bytes: 200_001 }, 'and copied whole when allowed: the walk is iterative');

  const proto = JSON.parse('{"__proto__": {"polluted": true}}') as unknown;
  const copied = copyJson(proto, 'v', 1000, 10);
  t.ok(copied.ok && Object.hasOwn(copied.value as object, '__proto__'), '"__proto__" stays an own key');
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'nothing polluted');

  const big = 'x'.repeat(32 * MiB);
  t.same(copyJson({ big }, 'v', 2 * MiB, 100), { ok: false, problem: 'size', bytes: 32 * MiB + 10, exact: false }, 'a 32 MiB string: measured, not escaped');
  t.same(copyJson(['€'.repeat(1000)], 'v', 100, 10), { ok: false, problem: 'size', bytes: 3004, exact: true }, 'the actual size, counted past the limit');
});

// ---- payloads at the edge ----

t.test('payloads over maxPayloadBytes are refused on every method, naming method, field, size and limit; nothing changes', async (t) => {
  const max = 4096;
  const h = setup(t, { maxPayloadBytes: max, maxRequestBytes: 64 * 1024 });
  const over = jsonString(max + 1);
  const { run, task: act } = await h.withActivity();
  // The query first, while the run is idle (asked after the signal, it would wait for its task).
  const query = h.service.queryWorkflow({ ...run, queryType: 'q', args: [] }).catch(() => undefined);
  await new Promise((r) => setImmediate(r));
  const qtask = (await pollNow((s) => h.service.pollWorkflowTask('q', 'w', s))) as QueryTask;
  await h.service.signalWorkflow({ ...run, signalName: 'go', args: [] });
  const wft = await h.workflowTask();
  const before = await h.history(run);
  // An argument list is measured whole, as Temporal measures a command's input.
  const cases: [string, () => Promise<unknown>, string][] = [
    ['startWorkflow', () => h.start([over.slice(0, -1), 1], 'too-big'), 'startWorkflow: args is 4,098 bytes'],
    ['signalWorkflow', () => h.service.signalWorkflow({ ...run, signalName: 's', args: [over] }), 'signalWorkflow: args is 4,099 bytes'],
    ['queryWorkflow', () => h.service.queryWorkflow({ ...run, queryType: 'q', args: [over] }), 'queryWorkflow: args is 4,099 bytes'],
    ['a workflow result', () => h.service.completeWorkflowTask(wft.taskToken, [{ type: 'completeWorkflow', result: over }]), 'completeWorkflowTask: commands[0]: result is 4,097 bytes'],
    ['activity args', () => h.service.completeWorkflowTask(wft.taskToken, [timer(1), activity(2, [over])]), 'completeWorkflowTask: commands[1]: args is 4,099 bytes'],
    ['a workflow failure', () => h.service.completeWorkflowTask(wft.taskToken, [{ type: 'failWorkflow', failure: failure(over) }]), 'completeWorkflowTask: commands[0]: failure is 4,130 bytes'],
    ['failWorkflowTask', () => h.service.failWorkflowTask(wft.taskToken, 'workflowError', failure('x', { stack: over })), 'failWorkflowTask: failure is 4,142 bytes'],
    ['a query answer', () => h.service.respondQueryTask(qtask.taskToken, { ok: true, result: over }), 'respondQueryTask: answer.result is 4,097 bytes'],
    ['a query failure', () => h.service.respondQueryTask(qtask.taskToken, { ok: false, failure: failure('x', { details: [over] }) }), 'respondQueryTask: answer.failure is 4,146 bytes'],
    ['an activity result', () => h.service.completeActivityTask(act.taskToken, { over }), 'completeActivityTask: result is 4,106 bytes'],
    ['an activity failure', () => h.service.failActivityTask(act.taskToken, failure(over)), 'failActivityTask: failure is 4,130 bytes'],
    ['heartbeat details', () => h.service.heartbeatActivityTask(act.taskToken, [over]), 'heartbeatActivityTask: details is 4,099 bytes'],
  ];
  for (const [name, call, prefix] of cases) {
    const err = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(err instanceof LimitExceededError && err instanceof InvalidArgumentError, `${name}: a LimitExceededError, an InvalidArgumentError`);
    t.match(err, { code: 'DEJA_PAYLOAD_TOO_LARGE', limit: 'maxPayloadBytes', max, message: `${prefix} of JSON, over maxPayloadBytes (4,096 bytes)` }, name);
    t.ok((err as Error).message.startsWith(prefix), `${name}: ${(err as Error).message}`);
  }
  t.same(await h.history(run), before, 'nothing landed');
  t.equal((await h.service.describeWorkflow({ workflowId: 'too-big' }).catch((e: { code: string }) => e.code)), 'DEJA_NOT_FOUND', 'no run was started');
  // The refusals consumed nothing: the held tasks still work.
  await h.service.respondQueryTask(qtask.taskToken, { ok: true, result: 'fine' });
  t.same(await h.service.heartbeatActivityTask(act.taskToken, 'small'), { cancelRequested: false });
  await h.service.completeWorkflowTask(wft.taskToken, [{ type: 'completeWorkflow', result: over.slice(0, -1) }]);
  t.equal((await h.history(run)).at(-1)?.type, 'workflowExecutionCompleted', 'a result of exactly maxPayloadBytes is accepted');
  await query;
});

t.test('at the default 2 MiB: exactly the limit in multi-byte characters passes, one byte more does not', async (t) => {
  const h = setup(t);
  const { run, task } = await h.withActivity();
  const limit = DEFAULT_LIMITS.maxPayloadBytes;
  await t.rejects(h.service.completeActivityTask(task.taskToken, jsonString(limit + 1)), {
    code: 'DEJA_PAYLOAD_TOO_LARGE',
    actual: limit + 1,
    message: 'completeActivityTask: result is 2,097,153 bytes of JSON, over maxPayloadBytes (2,097,152 bytes)',
  });
  const huge = 'x'.repeat(64 * MiB);
  await t.rejects(h.service.completeActivityTask(task.taskToken, huge), {
    message: 'completeActivityTask: result is at least 67,108,866 bytes of JSON, over maxPayloadBytes (2,097,152 bytes)',
  }, 'a 64 MiB result is refused (as the 300 MB one of the attack run), the size given as a lower bound');
  await h.service.completeActivityTask(task.taskToken, jsonString(limit));
  const completed = (await h.history(run)).find((e) => e.type === 'activityTaskCompleted') as { result: string };
  t.equal(Buffer.byteLength(JSON.stringify(completed.result)), limit, 'the largest allowed result is stored whole');
});

t.test('depth: maxPayloadDepth levels pass through the service, one more is refused', async (t) => {
  const h = setup(t);
  const { run, task } = await h.withActivity();
  await t.rejects(h.service.heartbeatActivityTask(task.taskToken, nested(101)), {
    code: 'DEJA_PAYLOAD_TOO_LARGE',
    limit: 'maxPayloadDepth',
    message: /^heartbeatActivityTask: details is nested more than 100 levels deep \(at details\.inner\[1\]\.inner.*…\), over maxPayloadDepth \(100 levels\)$/,
  });
  await t.rejects(h.service.signalWorkflow({ ...run, signalName: 's', args: [1, nested(101)] }), { message: /^signalWorkflow: args is nested more than 100 levels deep \(at args\[1\]/ }, 'an argument list is not a level');
  await h.service.signalWorkflow({ ...run, signalName: 's', args: [nested(100)] });
  await h.service.completeActivityTask(task.taskToken, nested(100));
  const history = await h.history(run);
  t.equal(JSON.stringify((history.find((e) => e.type === 'activityTaskCompleted') as { result: unknown }).result), JSON.stringify(nested(100)));
  t.equal(JSON.stringify((history.find((e) => e.type === 'workflowExecutionSignaled') as { input: unknown[] }).input[0]), JSON.stringify(nested(100)));
});

t.test('maxRequestBytes: the payloads and names of one request together', async (t) => {
  const h = setup(t, { maxPayloadBytes: 4096, maxRequestBytes: 10_000 });
  const run = await h.start();
  const task = await h.workflowTask();
  const third = 'x'.repeat(4000);
  await t.rejects(h.service.completeWorkflowTask(task.taskToken, [activity(1, [third]), activity(2, [third]), activity(3, [third])]), {
    code: 'DEJA_PAYLOAD_TOO_LARGE',
    limit: 'maxRequestBytes',
    message: /^completeWorkflowTask: commands\[2\]: args brings the request to [\d,]+ bytes, over maxRequestBytes \(10,000 bytes\)$/,
  });
  t.equal((await h.history(run)).length, 3, 'nothing landed, and the task is still held');
  await h.service.completeWorkflowTask(task.taskToken, [activity(1, [third]), activity(2, [third])]);
  t.equal((await h.history(run)).filter((e) => e.type === 'activityTaskScheduled').length, 2, 'two fit');
});

t.test('maxIdBytes: identifiers are measured in UTF-8 bytes', async (t) => {
  const h = setup(t);
  await t.rejects(h.start([], 'é'.repeat(501)), { code: 'DEJA_LIMIT_EXCEEDED', limit: 'maxIdBytes', message: 'startWorkflow: workflowId is 1,002 bytes, over maxIdBytes (1,000 bytes)' });
  await h.start([], 'é'.repeat(500));
  const task = await h.workflowTask();
  await t.rejects(h.service.completeWorkflowTask(task.taskToken, [{ ...activity(1), activityType: 'a'.repeat(5000) } as Command]), {
    code: 'DEJA_LIMIT_EXCEEDED',
    message: 'completeWorkflowTask: commands[0]: activityType is 5,000 bytes, over maxIdBytes (1,000 bytes)',
  });
});

// ---- refusals leave the task to the worker ----

t.test('maxCommandsPerTask: refused whole; the same token then fails (or completes) the task', async (t) => {
  const h = setup(t, { maxCommandsPerTask: 5 });
  const run = await h.start();
  const task = await h.workflowTask();
  const before = await h.history(run);
  const six = [1, 2, 3, 4, 5, 6].map(timer);
  await t.rejects(h.service.completeWorkflowTask(task.taskToken, six), {
    name: 'LimitExceededError',
    code: 'DEJA_LIMIT_EXCEEDED',
    limit: 'maxCommandsPerTask',
    actual: 6,
    max: 5,
    message: 'completeWorkflowTask: 6 commands, over maxCommandsPerTask (5)',
  });
  t.same(await h.history(run), before, 'the refusal wrote nothing and did not fail the task');
  // What the worker does with the refusal.
  await h.service.failWorkflowTask(task.taskToken, 'workflowError', failure('completeWorkflowTask: 6 commands, over maxCommandsPerTask (5)', { type: 'LimitExceededError' }));
  t.match((await h.history(run)).slice(-2), [{ type: 'workflowTaskFailed', cause: 'workflowError', failure: { type: 'LimitExceededError' } }, { type: 'workflowTaskScheduled', attempt: 2 }]);
  h.clock.ms += 1000;
  const retry = await h.workflowTask();
  await h.service.completeWorkflowTask(retry.taskToken, six.slice(0, 5));
  t.equal((await h.history(run)).filter((e) => e.type === 'timerStarted').length, 5, 'exactly the limit is accepted');
});

t.test('an activity result too large: refused, then the worker fails the activity with a small non-retryable failure', async (t) => {
  const h = setup(t, { maxPayloadBytes: 4096 });
  const { run, task } = await h.withActivity();
  await t.rejects(h.service.completeActivityTask(task.taskToken, 'x'.repeat(5000)), { code: 'DEJA_PAYLOAD_TOO_LARGE' });
  await h.service.failActivityTask(
    task.taskToken,
    failure('activity work returned 5,002 bytes of JSON, over maxPayloadBytes (4,096 bytes)', { type: 'PayloadError', nonRetryable: true }),
  );
  t.match((await h.history(run)).slice(-3), [
    { type: 'activityTaskStarted', attempt: 1 },
    { type: 'activityTaskFailed', retryState: 'nonRetryableFailure', failure: { type: 'PayloadError' } },
    { type: 'workflowTaskScheduled' },
  ]);
});

// ---- history limits ----

/** The run's closing events, checked: the limit failure, and nothing of what was refused. */
async function expectClosedForLimit(t: tap.Test, h: ReturnType<typeof setup>, run: { workflowId: string; runId: string }, before: HistoryEvent[], limit: string) {
  const after = await h.history(run);
  t.same(after.slice(0, before.length), before, 'nothing already in history was lost');
  const closing = after.slice(before.length);
  t.ok(closing.length >= 1 && closing.length <= 2, `only the closing events were added (${closing.map((e) => e.type).join(', ')})`);
  const last = closing.at(-1) as { type: string; failure: WireFailure; workflowTaskCompletedEventId?: number };
  t.match(last, { type: 'workflowExecutionFailed', failure: { kind: 'server', type: 'HistoryLimitExceeded', nonRetryable: true, message: new RegExp(`over ${limit}`) } });
  t.equal(last.workflowTaskCompletedEventId, undefined, 'no workflow task closed it');
  t.match(await h.service.getWorkflowOutcome(run), { status: 'failed', failure: { type: 'HistoryLimitExceeded' } });
  return closing;
}

t.test('a signal that would pass maxHistoryEvents is refused and the run is closed', async (t) => {
  const h = setup(t, { maxHistoryEvents: 12, warnHistoryEvents: 12 });
  const run = await h.start();
  await h.service.completeWorkflowTask((await h.workflowTask()).taskToken, [activity(1), timer(2)]); // 6 events
  for (let i = 0; i < 5; i++) await h.service.signalWorkflow({ ...run, signalName: 's', args: [i] }); // 7 + 5 = 12
  const before = await h.history(run);
  t.equal(before.length, 12, 'exactly the limit is allowed');
  await t.rejects(h.service.signalWorkflow({ ...run, signalName: 's', args: ['one too many'] }), {
    name: 'LimitExceededError',
    code: 'DEJA_LIMIT_EXCEEDED',
    limit: 'maxHistoryEvents',
    actual: 13,
    max: 12,
    message: `signalWorkflow: the history of workflow "${run.workflowId}" (run ${run.runId}) would grow to 13 events, over maxHistoryEvents (12 events); the run was closed (workflowExecutionFailed, HistoryLimitExceeded)`,
  });
  t.same(await expectClosedForLimit(t, h, run, before, 'maxHistoryEvents'), [(await h.history(run)).at(-1)], 'no task was started: one closing event');
  t.equal(await pollNow((s) => h.service.pollActivityTask('q', 'w', s)), null, 'its activity died with it');
  h.clock.ms += 5000;
  await h.service.tick();
  t.equal((await h.history(run)).length, 13, 'and its timer');
});

t.test('a completion that would pass maxHistoryEvents fails its task and closes the run; the token is then stale', async (t) => {
  const h = setup(t, { maxHistoryEvents: 20, warnHistoryEvents: 20 });
  const run = await h.start();
  const task = await h.workflowTask();
  const before = await h.history(run);
  await t.rejects(h.service.completeWorkflowTask(task.taskToken, Array.from({ length: 17 }, (_, i) => timer(i))), { code: 'DEJA_LIMIT_EXCEEDED', limit: 'maxHistoryEvents', actual: 21 });
  const closing = await expectClosedForLimit(t, h, run, before, 'maxHistoryEvents');
  t.match(closing, [{ type: 'workflowTaskFailed', cause: 'historyLimitExceeded', scheduledEventId: 2, startedEventId: 3, identity: 'fake-worker', failure: { type: 'HistoryLimitExceeded' } }, { type: 'workflowExecutionFailed' }]);
  await t.rejects(h.service.failWorkflowTask(task.taskToken, 'workflowError', failure('x')), { code: 'DEJA_STALE_TASK' }, 'the worker learns the task is gone');
});

t.test('an activity result that would pass maxHistoryBytes closes the run, failing the workflow task another worker holds', async (t) => {
  const h = setup(t, { maxPayloadBytes: 16 * 1024, maxRequestBytes: 32 * 1024, maxHistoryBytes: 64 * 1024, warnHistoryBytes: 64 * 1024 });
  const { run, task } = await h.withActivity();
  for (let i = 0; i < 4; i++) await h.service.signalWorkflow({ ...run, signalName: 's', args: ['x'.repeat(15_000)] });
  const held = await h.workflowTask();
  const before = await h.history(run);
  const size = (await h.service.describeWorkflow(run)).historySizeBytes;
  t.equal(size, before.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0), 'historySizeBytes is the events’ JSON bytes');
  await t.rejects(h.service.completeActivityTask(task.taskToken, 'y'.repeat(16_000)), { code: 'DEJA_LIMIT_EXCEEDED', limit: 'maxHistoryBytes', message: /^completeActivityTask: .* bytes, over maxHistoryBytes \(65,536 bytes\); the run was closed/ });
  const closing = await expectClosedForLimit(t, h, run, before, 'maxHistoryBytes');
  t.match(closing[0], { type: 'workflowTaskFailed', cause: 'historyLimitExceeded', startedEventId: held.startedEventId });
  t.ok(!JSON.stringify(closing).includes('yyyy'), 'the result did not land');
  await t.rejects(h.service.completeWorkflowTask(held.taskToken, []), { code: 'DEJA_STALE_TASK' });
});

t.test('the service’s own events: a poll or a timer that would pass the limit closes the run and carries on', async (t) => {
  const h = setup(t, { maxHistoryEvents: 10, warnHistoryEvents: 10 });
  // Run A: 7 events, then signals up to exactly 10, with its workflow task scheduled, not started.
  const a = await h.start();
  await h.service.completeWorkflowTask((await h.workflowTask()).taskToken, [timer(1)]); // 5 events
  for (let i = 0; i < 4; i++) await h.service.signalWorkflow({ ...a, signalName: 's', args: [] }); // 6 + 4 = 10, with a task scheduled
  const b = await h.start();
  const aBefore = await h.history(a);
  t.equal(aBefore.length, 10);
  // The next poll would start A's task (event 11): A is closed instead, and the poll gets B's.
  const polled = await h.workflowTask();
  t.equal(polled.runId, b.runId, 'the poll moved on to the next run');
  await expectClosedForLimit(t, h, a, aBefore, 'maxHistoryEvents');

  // Run C: full to the limit with a timer pending; the tick that fires it closes C instead.
  await h.service.completeWorkflowTask(polled.taskToken, [timer(1)]);
  const c = await h.start();
  await h.service.completeWorkflowTask((await h.workflowTask()).taskToken, [timer(1)]); // 5 events
  for (let i = 0; i < 4; i++) await h.service.signalWorkflow({ ...c, signalName: 's', args: [] }); // 6 + 4 = 10
  const cBefore = await h.history(c);
  h.clock.ms += 1000;
  await h.service.tick();
  await expectClosedForLimit(t, h, c, cBefore, 'maxHistoryEvents');
  t.ok((await h.history(b)).some((e) => e.type === 'timerFired'), 'the same tick fired the other run’s timer');
});

t.test('a start whose first events pass maxHistoryBytes is refused, and no run exists', async (t) => {
  const h = setup(t, { maxPayloadBytes: 64 * 1024, maxRequestBytes: 64 * 1024, maxHistoryBytes: 64 * 1024, warnHistoryBytes: 64 * 1024 });
  await t.rejects(h.start(['x'.repeat(64 * 1024 - 200)], 'big'), { code: 'DEJA_LIMIT_EXCEEDED', limit: 'maxHistoryBytes', message: /^startWorkflow: .*; the run was not started$/ });
  await t.rejects(h.service.describeWorkflow({ workflowId: 'big' }), { code: 'DEJA_NOT_FOUND' });
});

t.test('passing a warning threshold calls the hook once per run and flags the run record', async (t) => {
  const warnings: HistoryWarning[] = [];
  const h = setup(t, { warnHistoryEvents: 5 }, (w) => warnings.push(w));
  const run = await h.start(); // 2 events
  await h.service.completeWorkflowTask((await h.workflowTask()).taskToken, [timer(1)]); // 5
  t.equal(warnings.length, 0, 'at the threshold: no warning');
  t.equal((await h.record(run.runId))?.historySizeWarned, false);
  await h.service.signalWorkflow({ ...run, signalName: 's', args: [] }); // signaled and a task scheduled: 7
  await h.service.signalWorkflow({ ...run, signalName: 's', args: [] });
  t.same(warnings, [
    {
      code: 'DEJA_HISTORY_LARGE',
      message: `the history of workflow "${run.workflowId}" (run ${run.runId}) has 7 events, past warnHistoryEvents (5); at 51,200 events the run will be closed`,
      workflowId: run.workflowId,
      runId: run.runId,
      limit: 'warnHistoryEvents',
      threshold: 5,
      historyEvents: 7,
      historyBytes: (await h.history(run)).slice(0, 7).reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0),
    },
  ]);
  t.equal((await h.record(run.runId))?.historySizeWarned, true, 'the run record says so (for continueAsNewSuggested)');
  await h.service.completeWorkflowTask((await h.workflowTask()).taskToken, [timer(2)]);
  const other = await h.start();
  await h.service.completeWorkflowTask((await h.workflowTask()).taskToken, [timer(1), timer(2)]);
  t.same(warnings.map((w) => w.runId), [run.runId, other.runId], 'each run warns once');
});

t.test('the default warning hook: process.emitWarning with a stable code; a throwing hook breaks nothing', async (t) => {
  const seen: Error[] = [];
  const listener = (w: Error) => seen.push(w);
  process.on('warning', listener);
  t.teardown(() => void process.off('warning', listener));
  const service = new LocalWorkflowService({ store: new MemoryStore(), limits: { warnHistoryBytes: 100 } });
  t.teardown(() => service.close());
  await service.startWorkflow({ workflowId: 'w', workflowType: 'greet', taskQueue: 'q', args: [] });
  await new Promise((r) => setImmediate(r));
  t.match(seen, [{ name: 'DejaWarning', code: 'DEJA_HISTORY_LARGE', message: /past warnHistoryBytes \(100\)/ }]);

  const throwing = new LocalWorkflowService({ store: new MemoryStore(), limits: { warnHistoryBytes: 100 }, onWarning: () => { throw new Error('hook broke'); } });
  t.teardown(() => throwing.close());
  await throwing.startWorkflow({ workflowId: 'w', workflowType: 'greet', taskQueue: 'q', args: [] });
  await new Promise((r) => setImmediate(r));
  t.match(seen.at(-1), { message: /the onWarning hook threw: hook broke/ }, 'the start succeeded; the hook’s failure is reported');
});

// ---- the engine does not scan ----

t.test('40,000 activities through the service: claiming the first and the last does the same bounded index work', async (t) => {
  const h = setup(t);
  const N = 40_000;
  const perRun = DEFAULT_LIMITS.maxCommandsPerTask;
  for (let r = 0; r < N / perRun; r++) {
    await h.start();
    await h.service.completeWorkflowTask((await h.workflowTask()).taskToken, Array.from({ length: perRun }, (_, i) => activity(i + 1)));
  }
  const steps = async (fn: () => Promise<unknown>) => {
    const before = sortedSetWork.steps;
    await fn();
    return sortedSetWork.steps - before;
  };
  let last: ActivityTask | undefined;
  const first = await steps(async () => (last = await h.activityTask()));
  for (let i = 2; i < N; i++) await h.activityTask();
  const lastSteps = await steps(async () => (last = await h.activityTask()));
  const tick = await steps(() => h.service.tick());
  const bound = 20 * Math.log2(N);
  t.comment(`index steps: first claim ${first}, claim #${N} ${lastSteps}, a tick over ${N} leases ${tick}`);
  t.ok(first <= bound && lastSteps <= bound, `each claim visits ≤ ${Math.round(bound)} index nodes (a scan would visit ${N})`);
  t.ok(tick <= bound, 'a tick with nothing due is bounded too');
  t.equal(last?.activityId, String(perRun), 'every activity was claimed');
  t.equal(await pollNow((s) => h.service.pollActivityTask('q', 'w', s)), null);
});

t.test('hostile requests (not only payloads) are refused as InvalidArgumentErrors', async (t) => {
  const h = setup(t);
  const { run, task: act } = await h.withActivity();
  await h.service.signalWorkflow({ ...run, signalName: 'go', args: [] });
  const wft = await h.workflowTask();
  const before = await h.history(run);
  const boom = () => {
    throw new Error('trap');
  };
  const revoked = () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  };
  const throwingGetter = (key: string, base: object) => Object.defineProperty({ ...base }, key, { enumerable: true, get: boom });
  const s = new AbortController().signal;
  const cases: [string, () => Promise<unknown>][] = [
    ['a request whose ownKeys throws', () => h.service.startWorkflow(new Proxy({}, { ownKeys: boom }) as never)],
    ['a request field whose getter throws', () => h.service.startWorkflow(throwingGetter('workflowId', { workflowType: 'w', taskQueue: 'q', args: [] }) as never)],
    ['a revoked request', () => h.service.signalWorkflow(revoked() as never)],
    ['a revoked ref', () => h.service.describeWorkflow(revoked() as never)],
    ['a revoked query request', () => h.service.queryWorkflow(revoked() as never)],
    ['a revoked commands list', () => h.service.completeWorkflowTask('no-such-token', revoked() as never)],
    ['a commands list whose length throws', () => h.service.completeWorkflowTask('no-such-token', new Proxy([], { get: boom }) as never)],
    ['a command whose getter throws', () => h.service.completeWorkflowTask('no-such-token', [throwingGetter('type', {})] as never)],
    ['a retry policy whose getter throws', () => h.service.completeWorkflowTask('no-such-token', [{ ...activity(1), retryPolicy: throwingGetter('maximumAttempts', {}) }] as never)],
    ['an answer that is a Proxy', () => h.service.respondQueryTask('no-such-token', new Proxy({ ok: true }, { get: boom }) as never)],
    ['a failure that is a Proxy', () => h.service.failActivityTask(act.taskToken, new Proxy(failure('x'), { ownKeys: boom }) as never)],
    ['a token that is an object', () => h.service.completeActivityTask({ toString: boom } as never, 1)],
    ['an afterEventId with a throwing valueOf', () => h.service.getHistory(run, { valueOf: boom } as never)],
    ['a task queue with a throwing toString', () => h.service.pollWorkflowTask({ toString: boom } as never, 'w', s)],
    ['a signal that is a Proxy', () => h.service.pollActivityTask('q', 'w', new Proxy(s, { getPrototypeOf: boom }) as never)],
  ];
  for (const [name, call] of cases) {
    const err = await call().then(
      () => new Error('accepted'),
      (e: unknown) => e,
    );
    t.ok(err instanceof InvalidArgumentError, `${name}: ${String(err)}`);
  }
  t.same(await h.history(run), before, 'nothing changed');
  await h.service.completeWorkflowTask(wft.taskToken, []);
});

// ---- property: hostile payloads ----

/** Each call makes a fresh hostile value: a value that JSON cannot carry, or one over a limit. */
const HOSTILE: Record<string, () => unknown> = {
  NaN: () => NaN,
  Infinity: () => Infinity,
  '-Infinity': () => -Infinity,
  BigInt: () => 10n,
  symbol: () => Symbol('s'),
  function: () => () => 1,
  cycle: () => {
    const o: Record<string, unknown> = { a: 1 };
    o.self = { back: o };
    return o;
  },
  'array cycle': () => {
    const a: unknown[] = [1];
    a.push([a]);
    return a;
  },
  'a getter that throws': () => Object.defineProperty({}, 'x', { enumerable: true, get: () => { throw new Error('getter'); } }),
  'a getter that throws a non-Error': () => Object.defineProperty({}, 'x', { enumerable: true, get: () => { throw 42; } }),
  'a getter that throws a Proxy': () => Object.defineProperty({}, 'x', { enumerable: true, get: () => { throw new Proxy(new Error('p'), { get: () => { throw new Error('trap'); }, getPrototypeOf: () => { throw new Error('trap'); } }); } }),
  'a toJSON that throws': () => ({ toJSON: () => { throw new TypeError('toJSON'); } }),
  'a toJSON that changes between calls (bad first)': () => {
    let n = 0;
    return { toJSON: () => (++n === 1 ? 10n : 'fine') };
  },
  'a Proxy whose ownKeys throws': () => new Proxy({}, { ownKeys: () => { throw new RangeError('ownKeys'); } }),
  'a Proxy whose get throws': () => new Proxy({ a: 1 }, { get: () => { throw new Error('get'); } }),
  'a Proxy whose getPrototypeOf throws': () => new Proxy({}, { getPrototypeOf: () => { throw new Error('proto'); } }),
  'a revoked Proxy': () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  },
  'an array Proxy whose length throws': () => new Proxy([1, 2], { get: (target, key) => { if (key === 'length') throw new Error('length'); return Reflect.get(target, key); } }),
  '10,000 levels of arrays': () => {
    let v: unknown = 1;
    for (let i = 0; i < 10_000; i++) v = [v];
    return v;
  },
  '10,000 levels of objects': () => {
    let v: unknown = 1;
    for (let i = 0; i < 10_000; i++) v = { v };
    return v;
  },
  'a toJSON that nests itself forever': () => {
    const o: { toJSON(): unknown } = { toJSON: () => ({ again: o }) };
    return o;
  },
  'a string just over the limit (3-byte characters)': () => jsonString(PROPERTY_LIMITS.maxPayloadBytes + 1),
  'a string just over the limit (4-byte characters)': () => '😀'.repeat(Math.ceil(PROPERTY_LIMITS.maxPayloadBytes / 4)),
  'a long string of control characters': () => '\u0001'.repeat(Math.ceil(PROPERTY_LIMITS.maxPayloadBytes / 6)),
};
const PROPERTY_LIMITS = { maxPayloadBytes: 4096, maxRequestBytes: 16_384 };

/** Wraps `value` in objects and arrays along `path`, beside harmless siblings. */
function embed(value: unknown, path: ('object' | 'array')[]): unknown {
  let v = value;
  for (const step of path) v = step === 'object' ? { ok: 'fine', here: v, n: 1 } : ['fine', v, 2];
  return v;
}

type Method = (h: ReturnType<typeof setup>, s: Scene, payload: unknown) => Promise<unknown>;
interface Scene {
  run: { workflowId: string; runId: string };
  wft: WorkflowTask;
  act: ActivityTask;
  query: QueryTask;
}
const METHODS: Record<string, Method> = {
  'startWorkflow args': (h, _s, p) => h.start([p], 'hostile-start'),
  'signalWorkflow args': (h, s, p) => h.service.signalWorkflow({ ...s.run, signalName: 'x', args: [1, p] }),
  'queryWorkflow args': (h, s, p) => h.service.queryWorkflow({ ...s.run, queryType: 'x', args: [p] }),
  'completeWorkflowTask activity args': (h, s, p) => h.service.completeWorkflowTask(s.wft.taskToken, [activity(9, [p])]),
  'completeWorkflowTask result': (h, s, p) => h.service.completeWorkflowTask(s.wft.taskToken, [{ type: 'completeWorkflow', result: p }]),
  'completeWorkflowTask failure details': (h, s, p) => h.service.completeWorkflowTask(s.wft.taskToken, [{ type: 'failWorkflow', failure: failure('f', { details: [p] }) }]),
  'failWorkflowTask failure details': (h, s, p) => h.service.failWorkflowTask(s.wft.taskToken, 'workflowError', failure('f', { details: [p] })),
  'respondQueryTask result': (h, s, p) => h.service.respondQueryTask(s.query.taskToken, { ok: true, result: p }),
  'respondQueryTask failure details': (h, s, p) => h.service.respondQueryTask(s.query.taskToken, { ok: false, failure: failure('f', { details: [p] }) }),
  'completeActivityTask result': (h, s, p) => h.service.completeActivityTask(s.act.taskToken, p),
  'failActivityTask failure details': (h, s, p) => h.service.failActivityTask(s.act.taskToken, failure('f', { details: [p] })),
  'heartbeatActivityTask details': (h, s, p) => h.service.heartbeatActivityTask(s.act.taskToken, p),
};

t.test('property: hostile payloads on every method are refused as InvalidArgumentErrors, and nothing changes', async (t) => {
  t.comment(`fast-check seed ${seed} (rerun with FC_SEED=${seed})`);
  const seen = new Set<string>();
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...Object.keys(METHODS)),
      fc.constantFrom(...Object.keys(HOSTILE)),
      fc.array(fc.constantFrom<'object' | 'array'>('object', 'array'), { maxLength: 3 }),
      async (method, hostile, path) => {
        seen.add(method).add(hostile);
        const h = setup(t, PROPERTY_LIMITS);
        const { run, task: act } = await h.withActivity();
        // The query while the run is idle (after the signal, it would wait for the signal's task).
        const pending = h.service.queryWorkflow({ ...run, queryType: 'state', args: [] }).catch(() => undefined);
        await new Promise((r) => setImmediate(r));
        const query = (await pollNow((s) => h.service.pollWorkflowTask('q', 'w', s))) as QueryTask;
        await h.service.signalWorkflow({ ...run, signalName: 'go', args: [] });
        const wft = await h.workflowTask();
        const before = await h.history(run);

        const err = await METHODS[method](h, { run, wft, act, query }, embed(HOSTILE[hostile](), path)).then(
          () => new Error('accepted'),
          (e: unknown) => e,
        );
        if (!(err instanceof InvalidArgumentError)) throw new Error(`${method} with ${hostile}: ${String(err)}`);
        if (!/^\w+: /.test(err.message)) throw new Error(`unclear message: ${err.message}`);

        const after = await h.history(run);
        // A malformed completion fails its task (badCommand), as Temporal does; one over a limit is
        // left to the worker. Neither lands any of its payload.
        const failedTask = method.startsWith('completeWorkflowTask') && !(err instanceof LimitExceededError);
        const expected = failedTask ? [...before.map((e) => e.type), 'workflowTaskFailed', 'workflowTaskScheduled'] : before.map((e) => e.type);
        if (JSON.stringify(after.slice(0, before.length)) !== JSON.stringify(before) || JSON.stringify(after.map((e) => e.type)) !== JSON.stringify(expected)) {
          throw new Error(`${method} with ${hostile} changed history: ${after.map((e) => e.type).join(', ')}`);
        }
        if (failedTask) {
          const cause = (after.at(-2) as { cause: string }).cause;
          if (cause !== 'badCommand') throw new Error(`cause ${cause}`);
        } else {
          // The held tasks are untouched: each can still finish.
          await h.service.respondQueryTask(query.taskToken, { ok: true });
          await h.service.completeActivityTask(act.taskToken, 'done');
          await h.service.completeWorkflowTask(wft.taskToken, []);
        }
        if ((await h.service.describeWorkflow({ workflowId: 'hostile-start' }).catch((e: { code: string }) => e.code)) !== 'DEJA_NOT_FOUND') throw new Error('a hostile start began a run');
        await h.service.close();
        await pending;
      },
    ),
    { seed, numRuns: Math.max(numRuns * 4, 200) },
  );
  t.ok(seen.size > 20, `covered ${seen.size} methods and kinds of payload`);
});
