// Failures that cannot be missed (host side, end to end on a manual clock): a failed workflow task
// is logged once per failure streak, with its ids, cause and a stack mapped to the workflow's own
// source lines; history keeps the mapped stack; an unknown workflow type names the exported ones.
import t, { type Test } from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { MemoryStore } from '../lib/backends/memory';
import { bundleWorkflowCode, type WorkflowBundle } from '../lib/bundler';
import { WorkflowClient } from '../lib/client';
import { LocalWorkflowService } from '../lib/engine';
import type { EventOf, HistoryEvent } from '../lib/history/events';
import { MAX_LOGGED_FAILURES_PER_STREAK, Worker, type WorkerLogLine } from '../lib/worker';
import * as activities from './workflows/activities';
import { countingService } from './support/manual-env';
import { ManualClock } from './support/service';

const WORKFLOWS = path.join(__dirname, 'workflows', 'failures.ts');
/** The file as the worker shows it: relative to the working directory, which is the repository. */
const SHOWN = path.relative(process.cwd(), WORKFLOWS);
const SOURCE_LINES = fs.readFileSync(WORKFLOWS, 'utf8').split('\n');
/** The 1-based line that carries the marker `// at: <what>`. */
const lineOf = (what: string): number => {
  const index = SOURCE_LINES.findIndex((l) => l.endsWith(`// at: ${what}`));
  if (index < 0) throw new Error(`no marker "${what}" in ${WORKFLOWS}`);
  return index + 1;
};
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

let bundle: WorkflowBundle;
t.before(async () => {
  bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS });
});

interface Env {
  client: WorkflowClient;
  lines: WorkerLogLine[];
  /** Runs the worker, moving the clock to each next due instant, until `done` holds for the history. */
  driveUntil(workflowId: string, done: (events: HistoryEvent[]) => boolean): Promise<HistoryEvent[]>;
  close(): Promise<void>;
}

/**
 * One service on a manual clock and one worker on the failures module. The worker runs until it
 * has nothing to do (no task claimable, none held); only then does the clock move, so what
 * happens does not depend on the machine's speed.
 */
async function startEnv(t: Test, options: { logger?: false; workflowBundle?: WorkflowBundle; activationTimeoutMs?: number } = {}): Promise<Env> {
  const clock = new ManualClock(Math.ceil(Date.now() / 1000) * 1000 + 3_600_000);
  const store = new MemoryStore();
  const service = new LocalWorkflowService({ store, clock });
  const held = new Set<string>();
  const lines: WorkerLogLine[] = [];
  const taskQueue = 'failures';
  const worker = await Worker.create({
    connection: { service: countingService(service, held) },
    taskQueue,
    workflowBundle: options.workflowBundle ?? bundle,
    activities,
    ...(options.activationTimeoutMs !== undefined ? { activationTimeoutMs: options.activationTimeoutMs } : {}),
    ...(options.logger === false ? {} : { logger: (line: WorkerLogLine) => void lines.push(line) }),
  });
  const running = worker.run();
  const client = new WorkflowClient(service);
  const busy = async () =>
    held.size > 0 ||
    store.transaction(async (tx) => (await tx.tasks.claimable('workflow', taskQueue, clock.now())) || (await tx.tasks.claimable('activity', taskQueue, clock.now())), {
      readOnly: true,
    });
  const settle = async () => {
    for (let quiet = 0; quiet < 2; ) {
      await new Promise((resolve) => setImmediate(resolve));
      quiet = (await busy()) ? 0 : quiet + 1;
    }
  };
  const nextDue = () =>
    store.transaction(
      async (tx) => {
        const [timerAt, taskAt] = [await tx.timers.nextFireAt(), await tx.tasks.nextDueAt(clock.now())];
        return timerAt === undefined ? taskAt : taskAt === undefined ? timerAt : Math.min(timerAt, taskAt);
      },
      { readOnly: true },
    );
  const env: Env = {
    client,
    lines,
    async driveUntil(workflowId, done) {
      for (let step = 0; step < 200; step++) {
        await settle();
        const events = (await client.getHandle(workflowId).fetchHistory()).events;
        if (done(events)) return events;
        const due = await nextDue();
        if (due === undefined) throw new Error(`${workflowId} waits for nothing that will come`);
        clock.ms = Math.max(clock.ms, due);
        await service.tick();
      }
      throw new Error(`${workflowId} never reached the expected state`);
    },
    async close() {
      worker.shutdown();
      await running;
      await service.close();
    },
  };
  t.teardown(() => env.close());
  return env;
}

const failedTasks = (events: HistoryEvent[]) => events.filter((e): e is EventOf<'workflowTaskFailed'> => e.type === 'workflowTaskFailed');
const linesOf = (env: Env, workflowId: string) => env.lines.filter((l) => l.workflowId === workflowId);

t.test('a failed workflow task is logged once, with its ids, cause and a stack in the source file', async (t) => {
  const env = await startEnv(t);
  const workflowId = `broken-${randomUUID()}`;
  const handle = await env.client.start('brokenOrder', { taskQueue: 'failures', workflowId, args: [{}] });
  const events = await env.driveUntil(workflowId, (es) => failedTasks(es).length >= 4);

  const logged = linesOf(env, workflowId);
  t.equal(logged.length, 1, `one line across ${failedTasks(events).length} failed attempts: ${JSON.stringify(logged.map((l) => l.message))}`);
  const line = logged[0]!;
  t.equal(line.level, 'error');
  t.match(line, { runId: handle.firstExecutionRunId, workflowType: 'brokenOrder', cause: 'workflowError', attempt: 1 });
  for (const part of [workflowId, handle.firstExecutionRunId, 'brokenOrder', 'workflowError', "TypeError: Cannot read properties of undefined (reading 'length')"]) {
    t.ok(line.message.includes(part!), `the message names ${part}`);
  }
  const frames = (line.stack ?? '').split('\n');
  t.match(frames[0], new RegExp(`^ {4}at countItems \\(${escape(SHOWN)}:${lineOf('countItems throws')}:\\d+\\)$`), 'the throw, at its source line');
  // An async function's body runs as a generator (the bundle lowers async functions, so that the
  // cancellation scope follows await); the frame still bears the function's own name.
  t.match(frames[1], new RegExp(`^ {4}at brokenOrder \\(${escape(SHOWN)}:${lineOf('brokenOrder calls countItems')}:\\d+\\)$`), 'its caller, by name, at its source line');
  t.notMatch(line.stack, /deja-bundle/, 'no frame points at the bundle');
  t.notMatch(line.stack, /TypeError/, 'the frames only: the message is in the message');

  // History keeps the mapped stack of every attempt, with the message's own first line.
  for (const failed of failedTasks(events)) {
    t.match(failed.failure.stack, new RegExp(`^TypeError: .*\\n {4}at countItems \\(${escape(SHOWN)}:${lineOf('countItems throws')}:\\d+\\)`));
    t.notMatch(failed.failure.stack, /deja-bundle/);
  }
  t.equal((await handle.describe()).status.name, 'RUNNING', 'a bug fails the task, not the workflow');
});

t.test('a streak ends when a task completes: the same failure is logged again after that', async (t) => {
  const env = await startEnv(t);
  const workflowId = `relapsing-${randomUUID()}`;
  await env.client.start('relapsing', { taskQueue: 'failures', workflowId, args: [] });
  // First streak: the first task fails until 5 s have passed, then completes (a timer starts).
  let events = await env.driveUntil(workflowId, (es) => es.some((e) => e.type === 'timerStarted'));
  const firstStreak = failedTasks(events).length;
  t.ok(firstStreak >= 3, `the first task failed ${firstStreak} times before it completed`);
  t.equal(linesOf(env, workflowId).length, 1, 'logged once');
  // Second streak: after the timer, every task fails with the same error again.
  events = await env.driveUntil(workflowId, (es) => failedTasks(es).length >= firstStreak + 3);
  const logged = linesOf(env, workflowId);
  t.equal(logged.length, 2, 'logged once more, for the new streak');
  t.same(
    logged.map((l) => l.attempt),
    [1, 1],
    'each at the first attempt of its streak',
  );
  t.match(logged[1]!.stack, new RegExp(`^ {4}at relapsing \\(${escape(SHOWN)}:\\d+:\\d+\\)$`, 'm'));
  t.notMatch(logged[1]!.stack, /Generator\.next|async-context/, 'the async driver’s frames are left out');
});

t.test('a failure whose message changes on every retry is logged at most a few times per streak', async (t) => {
  const env = await startEnv(t);
  const workflowId = `changing-${randomUUID()}`;
  await env.client.start('changingFailure', { taskQueue: 'failures', workflowId, args: [] });
  const events = await env.driveUntil(workflowId, (es) => failedTasks(es).length >= MAX_LOGGED_FAILURES_PER_STREAK + 3);
  const messages = new Set(failedTasks(events).map((e) => e.failure.message));
  t.equal(messages.size, failedTasks(events).length, 'every attempt failed with another message');
  const logged = linesOf(env, workflowId);
  t.equal(logged.length, MAX_LOGGED_FAILURES_PER_STREAK);
  t.match(logged[logged.length - 1]!.message, /no further failure of this run is logged until one of its tasks completes/, 'the last one says so');
});

t.test('a workflow type the module does not export fails the task, naming it and the exported ones', async (t) => {
  const env = await startEnv(t);
  const workflowId = `unknown-${randomUUID()}`;
  const handle = await env.client.start('noSuchWorkflow', { taskQueue: 'failures', workflowId, args: [] });
  const events = await env.driveUntil(workflowId, (es) => failedTasks(es).length >= 3);
  const expected = 'workflow type "noSuchWorkflow" is not exported by the workflows module; it exports: brokenOrder, changingFailure, relapsing, spinning';
  for (const failed of failedTasks(events)) t.match(failed, { cause: 'workflowError', failure: { type: 'TypeError', message: expected } });
  const logged = linesOf(env, workflowId);
  t.equal(logged.length, 1, 'logged once across the retries');
  t.match(logged[0], { level: 'error', cause: 'workflowError', workflowType: 'noSuchWorkflow', runId: handle.firstExecutionRunId });
  t.ok(logged[0]!.message.includes(expected), 'the log names the type and the exported ones');
  t.match(logged[0]!.stack, /at .*\(deja:runtime\/internals\.ts:\d+:\d+\)/, "the frames are deja's runtime, shown as such");
});

t.test('the default logger prints the failure as one block: the message, then one line per frame', async (t) => {
  const written: string[] = [];
  const original = console.error;
  console.error = (text: string) => void written.push(text);
  t.teardown(() => {
    console.error = original;
  });
  const env = await startEnv(t, { logger: false });
  const workflowId = `printed-${randomUUID()}`;
  await env.client.start('brokenOrder', { taskQueue: 'failures', workflowId, args: [{}] });
  await env.driveUntil(workflowId, (es) => failedTasks(es).length >= 2);
  console.error = original;
  const blocks = written.filter((w) => w.startsWith(`[${workflowId}] workflow task failed (workflowError): TypeError`));
  t.equal(blocks.length, 1, 'printed once');
  const printed = blocks[0]!.split('\n');
  t.match(printed[0], /\[workflow printed-.*, run .*, type brokenOrder, attempt 1\]/);
  t.match(printed[1], new RegExp(`^ {4}at countItems \\(${escape(SHOWN)}:${lineOf('countItems throws')}:\\d+\\)$`));
  t.ok(printed.slice(1).every((l) => l.startsWith('    at ')), 'every other line is a frame');
});

t.test('a workflows module that throws while it loads: the log shows the line at its top level', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-failures-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'workflows.ts');
  fs.writeFileSync(file, 'const config: { retries?: number } = {};\nexport const retries = config.retries!.toFixed(0);\nexport async function w(): Promise<string> {\n  return retries;\n}\n');
  const env = await startEnv(t, { workflowBundle: await bundleWorkflowCode({ workflowsPath: file, cacheDir: path.join(dir, 'cache') }) });
  const workflowId = `loading-${randomUUID()}`;
  await env.client.start('w', { taskQueue: 'failures', workflowId, args: [] });
  const events = await env.driveUntil(workflowId, (es) => failedTasks(es).length >= 2);
  const failed = failedTasks(events)[0]!;
  t.match(failed, { cause: 'workflowError', failure: { message: /loading the workflows module for workflow loading-.* failed: Cannot read properties of undefined/ } });
  t.match(failed.failure.cause?.stack, new RegExp(`${escape(file)}:2:\\d+`), "history keeps the isolate's failure as the cause, its stack mapped");
  const logged = linesOf(env, workflowId);
  t.equal(logged.length, 1);
  t.match(logged[0]!.stack, new RegExp(`^ {4}at .*${escape(file)}:2:\\d+\\)?$`, 'm'), 'the frame of the top level');
});

t.test("a deja error raised on the host is logged once with its message, without deja's host frames", async (t) => {
  const env = await startEnv(t, { activationTimeoutMs: 100 });
  const workflowId = `spinning-${randomUUID()}`;
  await env.client.start('spinning', { taskQueue: 'failures', workflowId, args: [] });
  await env.driveUntil(workflowId, (es) => failedTasks(es).length >= 2);
  const logged = linesOf(env, workflowId);
  t.equal(logged.length, 1);
  t.match(logged[0], { cause: 'deadlineExceeded', message: /ran past its 100 ms CPU deadline \(activationTimeoutMs\)/ });
  t.equal(logged[0]!.stack, undefined, 'the message says it all; the frames would be the sandbox');
});
