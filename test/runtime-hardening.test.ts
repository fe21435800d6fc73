// Nothing a workflow does can fool the worker, and replay is the same on every machine: workflows
// that replace built-ins (test/workflows/hostile.ts) still hand the host their real commands;
// dates, Intl and locale methods give the same answers whatever the host's TZ and LANG; memory
// outside the isolate's heap is refused; log volume is capped; failures keep stable names.
process.env.TZ = 'Asia/Tokyo'; // the host's zone must not leak into workflows (checked below)

import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { transform } from 'esbuild';
import ms from 'ms';
import { bundleWorkflowCode, type WorkflowBundle } from '../lib/bundler';
import { IsolatePool } from '../lib/sandbox';
import { Connection, WorkflowClient } from '../lib/client';
import { Worker } from '../lib/worker';
import type { HistoryEvent } from '../lib/history/events';
import { ApplicationFailure } from '../runtime/failure';
import { parseDuration } from '../runtime/time';
import {
  PROTOCOL_VERSION,
  type Activation,
  type ActivationCompletion,
  type ActivationJob,
  type Command,
  type InitMessage,
  type WireFailure,
} from '../runtime/protocol';
import { ATTACKS, FAILURE_ATTACKS, PROBE_TIME } from './workflows/hostile';

const root = path.join(__dirname, '..');
const workflowsPath = path.join(__dirname, 'workflows', 'hostile.ts');
const cacheDir = path.join(os.tmpdir(), 'deja-test-hardening-cache');
let bundle: WorkflowBundle;
// One isolate: every execution of this file shares it, so a leak between them would show.
let pool: IsolatePool;

t.before(async () => {
  bundle = await bundleWorkflowCode({ workflowsPath, cacheDir });
  pool = new IsolatePool({ isolatePoolSize: 1, memoryLimitMb: 64, activationTimeoutMs: 1000 });
});
t.teardown(() => pool.dispose());

// ── builders (as in runtime.test.ts) ───────────────────────────────────────────────────────────

function initFor(workflowType: string, startTime: number): InitMessage {
  return {
    protocolVersion: PROTOCOL_VERSION,
    randomnessSeed: 'seed',
    info: { workflowId: `wf-${workflowType}`, runId: 'run-1', workflowType, taskQueue: 'q', firstExecutionRunId: 'run-1', attempt: 1, startTime, historyLength: 1, historySize: 0, continueAsNewSuggested: false, searchAttributes: {}, taskTimeoutMs: 10_000 },
  };
}

/** An execution of `workflowType` and its first activation; `activate` runs the later ones. */
function start(workflowType: string, args: unknown[] = [], startTime = 1_000) {
  const execution = pool.createExecution(bundle, initFor(workflowType, startTime), `workflow wf-${workflowType} (${workflowType})`);
  let n = 3;
  const activate = (timestamp: number, ...jobs: ActivationJob[]): ActivationCompletion => {
    const activation: Activation = { timestamp, isReplaying: false, historyLength: n, historySize: 0, continueAsNewSuggested: false, jobs };
    n += 3;
    return execution.activate(activation);
  };
  const first = activate(startTime, { type: 'startWorkflow', workflowType, args });
  return { execution, activate, first };
}
const commandsOf = (c: ActivationCompletion): Command[] => {
  if (!c.ok) throw new Error(`expected an ok completion, got the failure ${c.failure.type}: ${c.failure.message}`);
  return c.commands;
};
const failureOf = (c: ActivationCompletion): WireFailure => {
  if (c.ok) throw new Error(`expected a failed completion, got commands ${JSON.stringify(c.commands)}`);
  return c.failure;
};
const resultOf = (c: ActivationCompletion): unknown => {
  const commands = commandsOf(c);
  const last = commands[commands.length - 1];
  if (last?.type !== 'completeWorkflow') throw new Error(`expected completeWorkflow, got ${JSON.stringify(commands)}`);
  return last.result;
};
const fire = (seq: number): ActivationJob => ({ type: 'fireTimer', seq });
const resolved = (seq: number, result?: unknown): ActivationJob => ({ type: 'resolveActivity', seq, result: { status: 'completed', result } });
const cardDeclined: ActivationJob = {
  type: 'resolveActivity',
  seq: 1,
  result: {
    status: 'failed',
    failure: {
      kind: 'activity',
      message: 'Activity task failed',
      activityType: 'fail',
      activityId: '1',
      retryState: 'nonRetryableFailure',
      cause: { kind: 'application', message: 'card declined', type: 'CardError', nonRetryable: true },
    },
  },
};
/** A failure without its stacks (they name lines of the bundle). */
function withoutStacks(f: WireFailure | undefined): unknown {
  if (f === undefined) return undefined;
  const { stack: _stack, cause, ...rest } = f;
  return cause === undefined ? rest : { ...rest, cause: withoutStacks(cause) };
}

/** An in-memory service and a worker running the hostile workflows. */
async function withWorker<T>(body: (client: WorkflowClient, taskQueue: string) => Promise<T>): Promise<T> {
  const connection = new Connection({ backend: `memory:hardening-${randomUUID()}` });
  const worker = await Worker.create({
    connection,
    taskQueue: 'hardening',
    workflowBundle: bundle,
    activities: {
      greet: async (name: string) => `Hello, ${name}!`,
      echo: async (value: string) => `echo ${value}`,
      fail: async (reason: string) => {
        throw ApplicationFailure.nonRetryable(reason, 'CardError');
      },
    },
    activationTimeoutMs: 1000,
    memoryLimitMb: 64,
    logger: () => undefined,
  });
  try {
    return await worker.runUntil(() => body(new WorkflowClient(connection.service), 'hardening'));
  } finally {
    await connection.close();
  }
}

/** Resolves with the run's history once `predicate` holds (the engine works meanwhile). */
async function historyUntil(client: WorkflowClient, workflowId: string, predicate: (events: HistoryEvent[]) => boolean): Promise<HistoryEvent[]> {
  for (let i = 0; i < 500; i++) {
    const events = (await client.getHandle(workflowId).fetchHistory()).events;
    if (predicate(events)) return events;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`history of ${workflowId} never reached the expected state`);
}

// ── the runtime's own code ─────────────────────────────────────────────────────────────────────

t.test('runtime code names no global and uses no for…of: every built-in comes from primordials.ts', async (t) => {
  // Every global of a fresh V8 context, plus those the isolate has and those deja installs.
  const names = new Set<string>([
    ...(vm.runInNewContext('Object.getOwnPropertyNames(globalThis)') as string[]),
    ...['WebAssembly', 'SharedArrayBuffer', 'Atomics', 'console', 'setTimeout', 'clearTimeout', 'queueMicrotask', 'crypto'],
  ]);
  // Non-writable, non-configurable: no workflow can change them.
  for (const constant of ['undefined', 'NaN', 'Infinity']) names.delete(constant);
  const define: Record<string, string> = {};
  for (const name of names) if (/^[A-Za-z_$][\w$]*$/.test(name) && name !== 'eval') define[name] = `__free_global__${name}`;
  const exempt = new Set(['primordials.ts', 'protocol.ts', 'vendor.d.ts']);
  const files = fs.readdirSync(path.join(root, 'runtime')).filter((f) => f.endsWith('.ts') && !exempt.has(f));
  t.ok(files.length >= 9, 'found the runtime sources');
  for (const file of files) {
    const source = fs.readFileSync(path.join(root, 'runtime', file), 'utf8');
    const { code } = await transform(source, { loader: 'ts', define, logLevel: 'silent' });
    const used = [...new Set([...code.matchAll(/__free_global__(\w+)/g)].map((m) => m[1]))];
    t.same(used, [], `${file} uses no global directly`);
    t.notMatch(code, /\bfor\s*\(\s*(?:const|let|var)\b[^;)]*\bof\b/, `${file} has no for…of`);
  }
});

t.test('duration strings parse as the ms package parses them', async (t) => {
  const inputs = ['0', '1', '1.5', '.5', '100', '10ms', '10 ms', '2s', '2 sec', '2 secs', '1.5h', '1 hour', '3 hours', '2d', '1 week', '2w', '1y', '1 yr', '1 years',
    '5m', '5 mins', '5 minutes', '1 MINUTE', '1Ms', '-1s', '1 s ', ' 1s', '1x', 'abc', '', '1e3', '1,000', `${'1'.repeat(101)}`, '1  s', '1.5.5s', '53 milliseconds', '2 msecs'];
  for (const input of inputs) t.equal(parseDuration(input), input === '' ? undefined : ms(input as ms.StringValue), JSON.stringify(input));
});

// ── workflows that replace built-ins ───────────────────────────────────────────────────────────

const honestCommands = (attack: string) => ({
  first: [
    {
      type: 'scheduleActivity',
      seq: 1,
      activityId: '1',
      activityType: 'greet',
      args: ['ann'],
      startToCloseTimeoutMs: 10_000,
      retryPolicy: { maximumAttempts: 2, nonRetryableErrorTypes: ['Fatal'] },
    },
  ],
  second: [{ type: 'startTimer', seq: 1, startToFireTimeoutMs: 5 }],
  last: [{ type: 'completeWorkflow', result: `Hello, ann!|true|1/1/1970|${attack}` }],
  logs: [
    { level: 'info', message: 'greeted Hello, ann!', timestamp: 3_000 },
    { level: 'info', message: `done ${attack}`, timestamp: 3_000 },
  ],
});

t.test('a workflow that replaces built-ins still hands the host its real commands and logs', async (t) => {
  for (const attack of Object.keys(ATTACKS)) {
    const expected = honestCommands(attack);
    const { first, activate, execution } = start('hostileWorkflow', [attack]);
    t.same(commandsOf(first), expected.first, `${attack}: the activity, as scheduled`);
    const second = activate(2_000, resolved(1, 'Hello, ann!'));
    t.same(commandsOf(second), expected.second, `${attack}: the timer`);
    const last = activate(3_000, fire(1));
    t.same(commandsOf(last), expected.last, `${attack}: the real result (the condition's timer never left the isolate)`);
    t.same(last.logs, expected.logs, `${attack}: the real logs`);
    execution.dispose();
  }
});

t.test('with the real worker, each hostile workflow completes with its real result', { timeout: 60_000 }, async (t) => {
  const results = await withWorker((client, taskQueue) =>
    Promise.all(
      Object.keys(ATTACKS).map(async (attack) => {
        const handle = await client.start('hostileWorkflow', { taskQueue, workflowId: `hostile-${randomUUID()}`, args: [attack] });
        return [attack, await handle.result()] as const;
      }),
    ),
  );
  for (const [attack, result] of results) t.equal(result, `Hello, ann!|true|1/1/1970|${attack}`, attack);
});

t.test('isolation: what one execution replaced is intact in the next one on the same isolate', async (t) => {
  const polluters = Object.keys(ATTACKS).map((attack) => start('hostileWorkflow', [attack]));
  const observer = start('pristineWorkflow');
  const checks = resultOf(observer.first) as Record<string, boolean>;
  t.ok(Object.keys(checks).length >= 10);
  for (const [check, ok] of Object.entries(checks)) t.equal(ok, true, check);
  for (const p of [...polluters, observer]) p.execution.dispose();
});

t.test('failures travel intact whatever the workflow replaced', async (t) => {
  const expected = {
    message: 'payment failed',
    kind: 'application',
    type: 'PaymentError',
    nonRetryable: true,
    cause: {
      message: 'Activity task failed',
      kind: 'activity',
      activityType: 'fail',
      activityId: '1',
      retryState: 'nonRetryableFailure',
      cause: { message: 'card declined', kind: 'application', type: 'CardError', nonRetryable: true },
    },
  };
  for (const attack of Object.keys(FAILURE_ATTACKS)) {
    const { activate, execution } = start('hostileFailureWorkflow', [attack]);
    const commands = commandsOf(activate(2_000, cardDeclined));
    t.equal(commands.length, 1, `${attack}: one command`);
    t.equal(commands[0].type, 'failWorkflow', `${attack}: the workflow fails (it threw an ApplicationFailure)`);
    t.same(withoutStacks((commands[0] as { failure: WireFailure }).failure), expected, `${attack}: the real cause chain`);
    execution.dispose();
  }
});

t.test('a failure that cannot be read still fails the task with a well-formed failure', async (t) => {
  const cases: [string, RegExp | string, string][] = [
    ['throwing getters', '', 'Error'],
    ['a Proxy', /cannot be converted to a string/, 'Error'],
    ['a revoked Proxy', /cannot be converted|revoked|\[object/, 'Error'],
    ['prepareStackTrace returns an object', 'odd stack', 'TypeError'],
    ['prepareStackTrace throws', 'no stack', 'RangeError'],
    ['a cause cycle', 'loop', 'Error'],
    ['non-string fields', '{"an":"object"}', 'Error'],
    ['an object without prototype', '{}', 'Error'],
    ['a symbol', 'Symbol(s)', 'Error'],
  ];
  for (const [kind, message, type] of cases) {
    const { activate, execution } = start('badThrowWorkflow', [kind]);
    const failure = failureOf(activate(2_000, fire(1)));
    t.match(failure, { kind: 'application', nonRetryable: false, message, type }, kind);
    t.type(failure.message, 'string', `${kind}: the message is a string`);
    t.ok(failure.stack === undefined || typeof failure.stack === 'string', `${kind}: the stack is a string or absent`);
    if (kind === 'a cause cycle') {
      let depth = 0;
      for (let f: WireFailure | undefined = failure; f; f = f.cause) depth++;
      t.equal(depth, 22, 'the cycle is cut after 20 causes');
    }
    execution.dispose();
  }
});

t.test('a result that cannot be serialized fails the task; the answer is still JSON', async (t) => {
  const cases: [string, RegExp][] = [
    ['a BigInt', /BigInt/],
    ['a throwing toJSON', /toJSON refused/],
    ['a cycle', /circular/i],
    ['a failure with BigInt details', /BigInt/],
    ['a toJSON that throws a failure with BigInt details', /deja could not serialize the answer to __dejaConclude/],
  ];
  for (const [kind, message] of cases) {
    const { first, execution } = start('badResultWorkflow', [kind]);
    t.match(failureOf(first), { kind: 'application', message }, kind);
    execution.dispose();
  }
});

t.test('workflow code cannot call, replace or remove the entry points', async (t) => {
  const { activate, first, execution } = start('reentryWorkflow');
  t.same(commandsOf(first), [{ type: 'startTimer', seq: 1, startToFireTimeoutMs: 1 }], 'the activation survived the attempts');
  const result = resultOf(activate(2_000, fire(1))) as Record<string, string>;
  t.match(result.conclude, /^IllegalStateError: __dejaConclude is for the deja host/);
  t.match(result.activate, /^IllegalStateError: __dejaActivate is for the deja host/);
  t.match(result.redefine, /^TypeError: Cannot redefine property: __dejaQuery/);
  t.equal(result.intact, true, 'the entry points are the runtime\'s, whatever was assigned or deleted');
  execution.dispose();
});

t.test('a workflow that loops on conditions fails its task instead of keeping the host calling', async (t) => {
  // A generous deadline: the rounds must end the loop, not the deadline.
  const roomy = new IsolatePool({ activationTimeoutMs: 30_000 });
  const execution = roomy.createExecution(bundle, initFor('conditionLoopWorkflow', 0), 'workflow loop');
  // The host caps the rounds (MAX_CONCLUDE_ROUNDS) well before the runtime's own backstop.
  t.throws(
    () => execution.activate({ timestamp: 0, isReplaying: false, historyLength: 3, historySize: 0, continueAsNewSuggested: false, jobs: [{ type: 'startWorkflow', workflowType: 'conditionLoopWorkflow', args: [] }] }),
    { name: 'SandboxTimeoutError', message: /resolved condition\(\) 1000 rounds in a row without settling/ },
  );
  t.ok(execution.disposed, 'the execution is discarded');
  roomy.dispose();
});

t.test('workflow code calling back through fn.caller finds no runtime function', async (t) => {
  const { activate, execution } = start('callerWorkflow');
  activate(2_000, { type: 'signalWorkflow', signalName: 'probe', args: [] });
  execution.query({ queryType: 'probe', args: [] });
  activate(3_000, fire(1));
  const seen = resultOf(activate(4_000, fire(2))) as string[];
  t.same(
    [...seen].sort(),
    [
      'condition: hidden',
      'error getter: hidden',
      'microtask: hidden',
      'options getter, hour12: hidden',
      'options getter: hidden',
      'query handler: hidden',
      'signal handler: hidden',
      'timer callback: hidden',
      'toJSON: hidden',
      'valueOf: hidden',
    ],
  );
  execution.dispose();
});

// ── time zone and locale ───────────────────────────────────────────────────────────────────────

const GOLDEN_PROBE = {
  isoLocal: '2020-01-01T10:00:00.000Z',
  isoLocalMinutes: Date.UTC(2020, 0, 1, 10),
  isoLocalLowercaseT: Date.UTC(2020, 0, 1, 10, 0, 0, 500),
  isoZoned: Date.UTC(2020, 0, 1, 8),
  isoDateOnly: Date.UTC(2020, 0, 1),
  legacySpace: Date.UTC(2020, 0, 1, 10),
  legacySlash: Date.UTC(2020, 0, 2, 3, 4),
  legacyUs: Date.UTC(2020, 0, 2),
  legacyWords: '2020-01-02T10:00:00.000Z',
  legacyZoned: Date.UTC(2020, 0, 2, 1),
  legacyOffset: Date.UTC(2020, 0, 2, 15),
  legacyEst: Date.UTC(2020, 0, 2, 15),
  legacyComment: Date.UTC(2020, 0, 2, 10),
  constructorString: '2020-01-01T10:00:00.000Z',
  components: '2020-01-02T03:04:05.000Z',
  getYear: 120,
  setYear: '1999-01-01T00:00:00.000Z',
  getHours: 3,
  offset: 0,
  string: 'Thu Jan 02 2020 03:04:05 GMT+0000 (Coordinated Universal Time)',
  dateString: 'Thu Jan 02 2020',
  timeString: '03:04:05 GMT+0000 (Coordinated Universal Time)',
  dateCalledAsFunction: 'Thu Jan 02 2020 03:04:05 GMT+0000 (Coordinated Universal Time)',
  toLocaleString: '1/2/2020, 3:04:05 AM',
  toLocaleDateString: '1/2/2020',
  toLocaleTimeString: '3:04:05 AM',
  toLocaleStringZoneUndefined: '1/2/2020, 3:04:05 AM',
  toLocaleStringTokyo: '1/2/2020, 12:04:05 PM',
  toLocaleStringGerman: '2.1.2020, 03:04:05',
  dtfResolved: { locale: 'en-US', calendar: 'gregory', numberingSystem: 'latn', timeZone: 'UTC', year: 'numeric', month: 'numeric', day: 'numeric' },
  dtfCalled: 'en-US',
  dtfZoneUndefined: '3:04 AM',
  dtfEmptyLocales: 'en-US',
  dtfUnknownLocale: 'en-US',
  dtfNow: 'Thursday, January 2, 2020 at 3:04:05 AM UTC',
  dtfNowParts: '03:04:05',
  dtfRange: '1/2/2020\u2009–\u20091/3/2020',
  dtfConstructor: true,
  dtfInstanceof: true,
  dtfShape: ['DateTimeFormat', 0, 'function'],
  dateShape: ['Date', 7, true, true],
  numberFormat: '1,234,567.891',
  numberFormatLocale: 'en-US',
  numberToLocale: '1,234,567.891',
  bigintToLocale: '1,234,567',
  arrayToLocale: '1,234.5,1/2/2020, 3:04:05 AM',
  typedArrayToLocale: '1,234.5,6,789.25',
  collator: 'en-US',
  collatorCompare: 'aäbz',
  localeCompare: 'aäbz',
  upper: 'II',
  lower: 'ii̇',
  pluralRules: 'en',
  relativeTime: '1 day ago',
  listFormat: 'a, b, and c',
  displayNames: 'Germany',
  segmenter: 'en-US',
  dtfRangeWithoutDates: 'TypeError',
  intlShapes: [
    ['Collator', 0, true, true, true],
    ['DateTimeFormat', 0, true, true, true],
    ['DisplayNames', 2, true, true, true],
    ['ListFormat', 0, true, true, true],
    ['NumberFormat', 0, true, true, true],
    ['PluralRules', 0, true, true, true],
    ['RelativeTimeFormat', 0, true, true, true],
    ['Segmenter', 0, true, true, true],
  ],
};

t.test('inside the isolate the time zone is UTC and the locale en-US, whatever the host has', async (t) => {
  t.equal(new Date(0).getHours(), 9, 'this process runs in Asia/Tokyo, so the isolate really overrides the zone');
  const { first, activate, execution } = start('localeWorkflow', [], PROBE_TIME);
  t.equal(commandsOf(first).length, 1, 'the probe schedules its activity');
  const probe = resultOf(activate(PROBE_TIME + 5, resolved(1, 'echo probe'))) as Record<string, unknown>;
  for (const [key, value] of Object.entries(GOLDEN_PROBE)) t.same(probe[key], value, key);
  t.same(Object.keys(probe).sort(), Object.keys(GOLDEN_PROBE).sort(), 'every output is checked');
  execution.dispose();
});

t.test('a history recorded under Asia/Tokyo and ja_JP replays the same under America/New_York, de_DE, UTC and C', async (t) => {
  const child = path.join(__dirname, 'support', 'locale-child.ts');
  const runChild = (mode: 'record' | 'replay', tz: string, lang: string, input?: string) => {
    const env: NodeJS.ProcessEnv = { ...process.env, TZ: tz, LANG: lang };
    for (const key of Object.keys(env)) if (key.startsWith('LC_')) delete env[key];
    // The child registers tap's ts-node fork and requires the TypeScript file (CommonJS, as tap
    // runs tests); a .ts main module would go to the ESM loader that tap's process tracking adds.
    const script = `require('@isaacs/ts-node-temp-fork-for-pr-2009/register/transpile-only'); require(${JSON.stringify(child)});`;
    const r = spawnSync(process.execPath, ['--no-node-snapshot', '-e', script, mode], {
      cwd: root,
      env,
      input,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    t.equal(r.status, 0, `${mode} under ${tz} ${lang} exits cleanly: ${r.stderr.slice(-2000)}`);
    return JSON.parse(r.stdout) as { host: { timeZone: string; locale: string; number: string; hours: number }; result: unknown; history?: unknown; error?: string };
  };
  // A run happens at the time it runs: compare all but the outputs that show the time.
  const timeless = (r: unknown) => JSON.stringify({ ...(r as Record<string, unknown>), dateCalledAsFunction: 0, dtfNow: 0, dtfNowParts: 0 });
  const recorded = runChild('record', 'Asia/Tokyo', 'ja_JP.UTF-8');
  t.match(recorded.host, { timeZone: 'Asia/Tokyo', locale: 'ja-JP', hours: 9 }, 'the recording host is in Tokyo and speaks Japanese');
  t.equal(timeless(recorded.result), timeless(GOLDEN_PROBE), 'the recorded outputs are the golden ones');
  const text = JSON.stringify(recorded.history);
  for (const [tz, lang, host] of [
    ['America/New_York', 'de_DE.UTF-8', { timeZone: 'America/New_York', locale: 'de-DE', number: '1.234,5', hours: 19 }],
    ['UTC', 'C', { timeZone: 'UTC', locale: 'en-US', hours: 0 }],
  ] as const) {
    const replayed = runChild('replay', tz, lang, text);
    t.match(replayed.host, host, `the replaying host really is in ${tz} with ${lang}`);
    t.equal(replayed.error, undefined, `replayed cleanly under ${tz} ${lang}`);
    t.equal(timeless(replayed.result), timeless(recorded.result), `a fresh run under ${tz} ${lang} gives byte-identical outputs`);
  }
});

// ── memory outside the heap ────────────────────────────────────────────────────────────────────

t.test('WebAssembly, resizable buffers and Atomics.waitAsync fail the task with the reason', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['WebAssembly.Memory', 'TypeError', /WebAssembly cannot be used in deja workflows: WebAssembly memory lives outside the isolate heap/],
    ['WebAssembly.instantiate', 'TypeError', /WebAssembly cannot be used in deja workflows/],
    ['resizable ArrayBuffer', 'TypeError', /a resizable ArrayBuffer \(maxByteLength\) cannot be used in deja workflows/],
    ['growable SharedArrayBuffer', 'TypeError', /a resizable SharedArrayBuffer \(maxByteLength\) cannot be used in deja workflows/],
    ['Atomics.waitAsync', 'DeterminismViolationError', /Atomics.waitAsync cannot be used in deja workflows: it settles on a host timer/],
  ];
  for (const [kind, type, message] of cases) {
    const { first, execution } = start('outOfHeapWorkflow', [kind]);
    t.match(failureOf(first), { type, message }, kind);
    execution.dispose();
  }
  const { first, execution } = start('buffersWorkflow');
  t.same(
    resultOf(first),
    { plain: 8, typed: true, sliced: 6, shared: 4, notEqual: 'not-equal', timedOut: 'timed-out', subclass: true, wasmType: 'object' },
    'plain and shared buffers, and Atomics.wait, still work',
  );
  execution.dispose();
});

t.test('with the real worker, a WebAssembly workflow fails its task and the worker goes on', { timeout: 60_000 }, async (t) => {
  await withWorker(async (client, taskQueue) => {
    const workflowId = `wasm-${randomUUID()}`;
    await client.start('outOfHeapWorkflow', { taskQueue, workflowId, args: ['WebAssembly.Memory'] });
    const events = await historyUntil(client, workflowId, (es) => es.some((e) => e.type === 'workflowTaskFailed'));
    t.match(events.find((e) => e.type === 'workflowTaskFailed'), { cause: 'workflowError', failure: { type: 'TypeError', message: /WebAssembly cannot be used in deja workflows/ } });
    t.equal((await client.getHandle(workflowId).describe()).status.name, 'RUNNING', 'only the task failed');
    const after = await client.start('hostileWorkflow', { taskQueue, workflowId: `after-${randomUUID()}`, args: ['JSON.parse forges the activation'] });
    t.match(await after.result(), /^Hello, ann!/, 'the worker still runs workflows');
  });
});

// ── log volume ─────────────────────────────────────────────────────────────────────────────────

const DROP_NOTICE = /^deja dropped (\d+) log lines? \((\d+) bytes\) of this activation: a workflow activation may log at most 1000 lines and 262144 bytes$/;

t.test('5,000 log lines in one activation arrive capped at 1,000 with one notice of what was dropped', async (t) => {
  const { first, execution } = start('chattyWorkflow', [5000, 10]);
  commandsOf(first);
  t.equal(first.logs.length, 1001, '1,000 lines and the notice');
  t.ok(first.logs.slice(0, 1000).every((l) => l.message === 'xxxxxxxxxx' && l.level === 'info'), 'the first 1,000 lines, in order');
  const notice = first.logs[1000];
  t.equal(notice.level, 'warn');
  // 4,000 more lines of 10 bytes, and the unprintable object's '[object]'.
  t.match(notice.message, DROP_NOTICE);
  t.same(DROP_NOTICE.exec(notice.message)!.slice(1), ['4001', String(4000 * 10 + '[object]'.length)]);
  execution.dispose();
});

t.test('log bytes per activation are capped at 256 KiB, and one line at 32 KiB', async (t) => {
  const wide = start('chattyWorkflow', [300, 1000]);
  const logs = wide.first.logs;
  const kept = Math.floor((256 * 1024) / 1000);
  t.equal(logs.length, kept + 1, `${kept} lines of 1,000 bytes fit in 256 KiB, then the notice`);
  t.same(DROP_NOTICE.exec(logs[kept].message)!.slice(1), [String(300 - kept + 1), String((300 - kept) * 1000 + '[object]'.length)]);
  wide.execution.dispose();

  const long = start('chattyWorkflow', [0, 0, 40_000]);
  const [line, unprintable] = long.first.logs;
  t.equal(line.level, 'warn');
  t.ok(Buffer.byteLength(line.message) <= 32 * 1024, `the line is cut to 32 KiB (${Buffer.byteLength(line.message)} bytes)`);
  t.match(line.message, /^é+ … \[deja: line cut at 32768 bytes; \d+ more characters dropped\]$/);
  t.equal(unprintable.message, '[object]', 'a value that is neither JSON nor text is logged as its type');
  long.execution.dispose();

  const twice = start('chattyTwiceWorkflow', [800]);
  t.equal(twice.first.logs.length, 800, 'the limits are per activation…');
  t.equal(twice.activate(2_000, fire(1)).logs.length, 800, '…and start afresh with the next one');
  twice.execution.dispose();
});

// ── names ──────────────────────────────────────────────────────────────────────────────────────

t.test('inside a workflow, failure classes have their own names', async (t) => {
  const { activate, execution } = start('failureNamesWorkflow');
  t.same(resultOf(activate(2_000, cardDeclined)), {
    instance: 'ApplicationFailure',
    class: 'ApplicationFailure',
    stack: 'ApplicationFailure: m',
    activity: 'ActivityFailure',
    activityCause: 'ApplicationFailure',
    temporal: 'TemporalFailure',
    subclass: 'PaymentFailure',
    instanceofActivity: true,
    instanceofApplication: true,
  });
  execution.dispose();
});
