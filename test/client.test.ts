// The client (host side) against LocalWorkflowService, with a fake worker that "runs" workflows by
// reading their history and answering with hand-written commands and query answers.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryStore } from '../lib/backends/memory';
import {
  Connection,
  QueryFailedError,
  WorkflowClient,
  WorkflowExecutionAlreadyStartedError,
  WorkflowExecutionFailedError,
  WorkflowNotFoundError,
} from '../lib/client';
import { LocalWorkflowService } from '../lib/engine';
import { makeHistory } from '../lib/history';
import type { HistoryEvent } from '../lib/history';
import type { WorkflowService } from '../lib/service';
import { ActivityFailure, ApplicationFailure } from '../runtime/failure';
import type { Command, WireFailure } from '../runtime/protocol';
import { defineQuery, defineSignal } from '../runtime/workflow';

// ---- the fake worker and its workflows ----

const declined: WireFailure = {
  kind: 'activity',
  message: 'activity failed',
  activityType: 'charge',
  activityId: '1',
  retryState: 'nonRetryableFailure',
  cause: { kind: 'application', message: 'card declined', type: 'CardError', nonRetryable: true, details: [{ last4: '4242' }] },
};

/** Workflow type → the commands of its next task, given the history so far. */
const scripts: Record<string, (input: unknown[], events: HistoryEvent[]) => Command[]> = {
  greet: (input) => [{ type: 'completeWorkflow', result: `Hello, ${input[0]}!` }],
  fails: () => [{ type: 'failWorkflow', failure: declined }],
  waitsForSignal: (_input, events) => {
    const finish = events.find((e) => e.type === 'workflowExecutionSignaled' && e.signalName === 'finish');
    return finish?.type === 'workflowExecutionSignaled' ? [{ type: 'completeWorkflow', result: finish.input }] : [];
  },
};

// Host-side stand-ins for workflow functions: only their names matter to the client.
async function greet(name: string): Promise<string> {
  return name;
}
async function waitsForSignal(): Promise<unknown[]> {
  return [];
}
const finishSignal = defineSignal<[string, number]>('finish');
const statusQuery = defineQuery<string, [string]>('status');

function fakeWorker(t: tap.Test, service: WorkflowService, taskQueue = 'q'): void {
  const stop = new AbortController();
  const running = (async () => {
    for (;;) {
      const task = await service.pollWorkflowTask(taskQueue, 'fake-worker', stop.signal);
      if (!task) return;
      if (task.kind === 'query') {
        await service.respondQueryTask(
          task.taskToken,
          task.queryType === 'status'
            ? { ok: true, result: `${task.workflowType} is fine, ${task.args[0]}` }
            : { ok: false, failure: { kind: 'application', message: `no query handler for "${task.queryType}"`, type: 'QueryNotRegisteredError' } },
        );
        continue;
      }
      const events = await service.getHistory({ workflowId: task.workflowId, runId: task.runId });
      const started = events[0];
      const input = started.type === 'workflowExecutionStarted' ? started.input : [];
      await service.completeWorkflowTask(task.taskToken, scripts[task.workflowType](input, events));
    }
  })();
  t.teardown(async () => {
    stop.abort();
    await running;
  });
}

let backends = 0;
function setup(t: tap.Test, options?: { identity?: string }) {
  const connection = new Connection({ backend: `memory:client-test-${++backends}` });
  t.teardown(() => connection.close());
  fakeWorker(t, connection.service);
  return { connection, client: new WorkflowClient(connection.service, options) };
}

// ---- tests ----

t.test('start, result, execute (current API)', async (t) => {
  const { client } = setup(t);
  const handle = await client.start(greet, { taskQueue: 'q', workflowId: 'g-1', args: ['Ada'] });
  t.equal(handle.workflowId, 'g-1');
  t.match(handle.runId, /^[0-9a-f-]{36}$/);
  t.equal(handle.firstExecutionRunId, handle.runId);
  t.equal(await handle.result(), 'Hello, Ada!');
  t.equal(await client.execute(greet, { taskQueue: 'q', workflowId: 'g-2', args: ['Bo'] }), 'Hello, Bo!');
  t.equal(await client.execute('greet', { taskQueue: 'q', workflowId: 'g-3', args: ['Cy'] }), 'Hello, Cy!', 'by type name');
  t.equal(await client.getHandle('g-1').result(), 'Hello, Ada!', 'getHandle without a runId: the latest run');
  t.equal(await client.getHandle('g-1', handle.runId).result(), 'Hello, Ada!');
});

t.test('createWorkflowHandle, start, execute (seed-era API)', async (t) => {
  const { client } = setup(t);
  const handle = client.createWorkflowHandle(greet, { taskQueue: 'q' });
  t.match(handle.workflowId, /^[0-9a-f-]{36}$/, 'a missing workflow id is generated');
  t.equal(handle.runId, undefined, 'no run before start');
  const runId = await handle.start('Dee');
  t.equal(handle.runId, runId);
  t.equal(await handle.result(), 'Hello, Dee!');
  t.equal(await client.createWorkflowHandle('greet', { taskQueue: 'q', workflowId: 'seed-1' }).execute('Eve'), 'Hello, Eve!');
  const existing = client.createWorkflowHandle({ workflowId: 'seed-1' });
  t.equal(await existing.result(), 'Hello, Eve!', 'a handle to an existing workflow');
  await t.rejects(existing.start(), { code: 'DEJA_INVALID_ARGUMENT', message: /names the existing workflow "seed-1"/ });
  await t.rejects(
    client.createWorkflowHandle(greet, { taskQueue: 'q', workflowId: 'seed-1', workflowIdReusePolicy: 'REJECT_DUPLICATE' }).start('again'),
    WorkflowExecutionAlreadyStartedError,
    'Temporal’s policy names are accepted',
  );
  t.ok(await client.createWorkflowHandle(greet, { taskQueue: 'q', workflowId: 'seed-1', workflowIdReusePolicy: 'WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE' }).start('again'));
});

t.test('a failed workflow: WorkflowExecutionFailedError with the cause chain rebuilt', async (t) => {
  const { client } = setup(t);
  const handle = await client.start('fails', { taskQueue: 'q', workflowId: 'f-1' });
  const error = await handle.result().catch((e: unknown) => e);
  t.ok(error instanceof WorkflowExecutionFailedError);
  t.match(error, { name: 'WorkflowFailedError', code: 'DEJA_WORKFLOW_FAILED', workflowId: 'f-1', runId: handle.runId, message: /"f-1" failed: activity failed/ });
  const cause = (error as Error).cause;
  t.ok(cause instanceof ActivityFailure, 'cause: an ActivityFailure');
  t.match(cause, { message: 'activity failed', activityType: 'charge', activityId: '1', retryState: 'nonRetryableFailure' });
  const root = (cause as Error).cause;
  t.ok(root instanceof ApplicationFailure, 'its cause: an ApplicationFailure');
  t.match(root, { message: 'card declined', type: 'CardError', nonRetryable: true, details: [{ last4: '4242' }] });
  await t.rejects(client.execute('fails', { taskQueue: 'q', workflowId: 'f-2' }), { code: 'DEJA_WORKFLOW_FAILED' });
});

t.test('signal and query, by definition or name', async (t) => {
  const { client, connection } = setup(t, { identity: 'client-7' });
  const handle = await client.start(waitsForSignal, { taskQueue: 'q', workflowId: 's-1' });
  t.equal(await handle.query(statusQuery, 'thanks'), 'waitsForSignal is fine, thanks');
  t.equal(await handle.query('status', 'by name'), 'waitsForSignal is fine, by name');
  const error = await handle.query('nope').catch((e: unknown) => e);
  t.ok(error instanceof QueryFailedError);
  t.match(error, { code: 'DEJA_QUERY_FAILED', failure: { message: 'no query handler for "nope"', type: 'QueryNotRegisteredError' } });
  await t.rejects(handle.signal(statusQuery as never, 'x'), { code: 'DEJA_INVALID_ARGUMENT', message: /expected a signal definition or name, got the query definition "status"/ });
  await t.rejects(handle.query(finishSignal as never), { message: /expected a query definition or name, got the signal definition "finish"/ });
  await t.rejects(handle.signal({ name: 'finish' } as never), { message: /expected a signal definition \(from defineSignal\) or a signal name, got an object/ });
  await handle.signal('unrelated');
  await handle.signal(finishSignal, 'done', 2);
  t.same(await handle.result(), ['done', 2]);
  const signaled = (await connection.service.getHistory({ workflowId: 's-1' })).find((e) => e.type === 'workflowExecutionSignaled');
  t.match(signaled, { signalName: 'unrelated', identity: 'client-7' }, 'the client identity is recorded');
  await t.rejects(handle.signal(finishSignal, 'late', 3), WorkflowNotFoundError, 'a closed workflow takes no signals');
});

t.test('describe names every status as Temporal does, including the ones part 2 of the language brings', async (t) => {
  const store = new MemoryStore();
  const service = new LocalWorkflowService({ store });
  t.teardown(() => service.close());
  const client = new WorkflowClient(service);
  const handle = await client.start('greet', { taskQueue: 'q', workflowId: 'statuses', args: ['x'] });
  const names = {
    running: 'RUNNING',
    completed: 'COMPLETED',
    failed: 'FAILED',
    cancelled: 'CANCELLED',
    terminated: 'TERMINATED',
    continuedAsNew: 'CONTINUED_AS_NEW',
    timedOut: 'TIMED_OUT',
  } as const;
  for (const [status, name] of Object.entries(names)) {
    // The stored status set directly: continue-as-new and timeouts have no command yet.
    await store.transaction(async (tx) => tx.runs.update({ ...(await tx.runs.get(handle.runId!))!, status: status as keyof typeof names }));
    t.equal((await handle.describe()).status.name, name, `${status} → ${name}`);
  }
});

t.test('describe and fetchHistory', async (t) => {
  const { client } = setup(t);
  const handle = await client.start(waitsForSignal, { taskQueue: 'q', workflowId: 'd-1' });
  const running = await handle.describe();
  t.match(running, { workflowId: 'd-1', runId: handle.runId, type: 'waitsForSignal', taskQueue: 'q', status: { name: 'RUNNING' } });
  t.ok(running.startTime instanceof Date);
  t.equal(running.closeTime, undefined);
  await handle.signal(finishSignal, 'x', 1);
  await handle.result();
  const closed = await client.getHandle('d-1').describe();
  t.equal(closed.status.name, 'COMPLETED');
  t.ok(closed.closeTime instanceof Date);

  const history = await client.getHandle('d-1').fetchHistory();
  t.match(history, { format: 'deja.history', version: 1, workflowId: 'd-1', runId: handle.runId });
  t.equal(history.events.length, closed.historyLength);
  t.equal(history.events[0].type, 'workflowExecutionStarted');
  t.equal(history.events.at(-1)?.type, 'workflowExecutionCompleted');
  t.same(makeHistory(history.workflowId, history.runId, history.events), history, 'a valid history file');
  const failed = await client.start('fails', { taskQueue: 'q', workflowId: 'd-2' });
  await failed.result().catch(() => undefined);
  t.equal((await failed.describe()).status.name, 'FAILED');
  await t.rejects(client.getHandle('nope').describe(), { code: 'DEJA_NOT_FOUND', message: /"nope" not found/ });
});

t.test('bad client input is rejected with clear errors', async (t) => {
  const { client } = setup(t);
  const opts = { taskQueue: 'q', workflowId: 'b-1' };
  await t.rejects(
    client.start(async function () {
      return 1;
    }, opts),
    { code: 'DEJA_INVALID_ARGUMENT', message: /WorkflowClient.start: the workflow function is anonymous; pass a named function or the workflow type name/ },
  );
  await t.rejects(client.start(42 as never, opts), { message: /expected a workflow function or a workflow type name, got number 42/ });
  await t.rejects(client.start(greet, { ...opts, workflowTimeout: '1h' } as never), { message: /WorkflowClient.start: unknown option "workflowTimeout"/ });
  await t.rejects(client.start(greet, { taskQueue: 'q' } as never), { message: /workflowId must be a non-empty string, got undefined/ });
  await t.rejects(client.start(greet, { ...opts, args: 'Ada' } as never), { message: /args must be an array/ });
  await t.rejects(client.start(greet, { ...opts, args: [() => 1] } as never), { message: /startWorkflow: args\[0\] is a function/ });
  await t.rejects(client.start(greet, { ...opts, workflowIdReusePolicy: 'SOMETIMES' } as never), { message: /workflowIdReusePolicy must be one of "ALLOW_DUPLICATE"/ });
  await t.rejects(client.start(greet, undefined as never), { message: /expected an options object, got undefined/ });
  t.throws(() => client.createWorkflowHandle(greet), { message: /createWorkflowHandle: expected options with a taskQueue to start "greet"/ });
  t.throws(() => client.getHandle(''), { message: /getHandle: workflowId must be a non-empty string/ });
  t.throws(() => new WorkflowClient(undefined, { namespace: 'default' } as never), { message: /WorkflowClient: unknown option "namespace"/ });
});

t.test('Connection: backends, sharing by name, env default, errors, close', async (t) => {
  const a1 = new Connection({ backend: 'memory:shared-a' });
  const a2 = await Connection.connect({ backend: 'memory:shared-a' });
  const b = new Connection({ backend: 'memory:shared-b' });
  t.equal(a1.service, a2.service, 'one service per name in the process');
  t.not(a1.service, b.service, 'names are separate stores');
  fakeWorker(t, a2.service);
  t.equal(await new WorkflowClient(a1.service).execute(greet, { taskQueue: 'q', workflowId: 'c-1', args: ['Fay'] }), 'Hello, Fay!', 'a client and a worker meet through the name');
  await t.rejects(new WorkflowClient(b.service).getHandle('c-1').result(), { code: 'DEJA_NOT_FOUND' });

  const saved = process.env.DEJA_BACKEND;
  t.teardown(() => {
    if (saved === undefined) delete process.env.DEJA_BACKEND;
    else process.env.DEJA_BACKEND = saved;
  });
  process.env.DEJA_BACKEND = 'memory:shared-a';
  const fromEnv = new Connection();
  t.equal(fromEnv.service, a1.service, 'DEJA_BACKEND is the default');
  process.env.DEJA_BACKEND = 'memory:env-client';
  const envConnection = new Connection();
  t.equal(new WorkflowClient().workflowService, envConnection.service, 'WorkflowClient() connects the same way');
  await envConnection.close();
  delete process.env.DEJA_BACKEND;
  // No env: SQLite at ./.deja/deja.db, in a scratch working directory (never the repository's).
  const cwd = process.cwd();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-default-'));
  process.chdir(scratch);
  t.teardown(() => fs.rmSync(scratch, { recursive: true, force: true }));
  let plain: Connection, explicit: Connection, sqliteDefault: Connection;
  try {
    plain = new Connection();
    explicit = new Connection({ backend: 'sqlite:./.deja/deja.db' });
    sqliteDefault = new Connection({ backend: 'sqlite:' });
  } finally {
    process.chdir(cwd);
  }
  t.equal(plain.service, explicit.service, 'no env: SQLite at ./.deja/deja.db');
  t.equal(sqliteDefault.service, plain.service, '"sqlite:" alone is the same file');
  const absolute = new Connection({ backend: `sqlite:${path.join(scratch, '.deja', 'deja.db')}` });
  t.equal(absolute.service, plain.service, 'one service per file, by its absolute path');
  t.ok(fs.statSync(path.join(scratch, '.deja', 'deja.db')).isFile(), 'the default file and its folder were created');
  t.equal(fs.statSync(path.join(scratch, '.deja')).mode & 0o777, 0o700, 'the folder is private');
  const memory = new Connection({ backend: 'memory:' });
  t.not(memory.service, plain.service, 'memory: is another backend');

  t.throws(() => new Connection({ backend: 'postgres:localhost/deja' }), { code: 'DEJA_INVALID_ARGUMENT', message: /backend "postgres:localhost\/deja" is not a PostgreSQL URL; expected "postgres:\/\/user:password@host:port\/database"/ });
  t.throws(() => new Connection({ backend: 'postgres:///deja' }), { code: 'DEJA_INVALID_ARGUMENT', message: /names no host; expected postgres:\/\/user:password@host:port\/database/ });
  t.throws(() => new Connection({ backend: 'redis://x' }), { message: /unknown backend "redis:\/\/x"; expected "sqlite:<path>", "sqlite:" \(for \.\/\.deja\/deja\.db\), "memory:", "memory:<name>" or "postgres:\/\/user:password@host:port\/database"/ });
  t.throws(() => new Connection({ backend: 42 } as never), { message: /backend must be a backend string \("sqlite:<path>", "sqlite:", "memory:", "memory:<name>" or "postgres:\/\/…"\) or a WorkflowService, got number 42/ });
  t.throws(() => new Connection({ url: 'memory:' } as never), { message: /unknown option "url"/ });

  const own = new LocalWorkflowService({ store: new MemoryStore() });
  t.teardown(() => own.close());
  const given = new Connection({ backend: own });
  t.equal(given.service, own, 'a given service is used as it is');
  await given.close();
  t.ok(await own.startWorkflow({ workflowId: 'x', workflowType: 'greet', taskQueue: 'q', args: [] }), 'and left open by close()');

  const first = a1.service;
  await a1.close();
  await a1.close();
  t.ok(await a2.service.describeWorkflow({ workflowId: 'c-1' }), 'open while another connection holds the name');
  await a2.close();
  await fromEnv.close();
  await t.rejects(first.describeWorkflow({ workflowId: 'c-1' }), { message: /closed/ }, 'the last close closes the service');
  const again = new Connection({ backend: 'memory:shared-a' });
  t.not(again.service, first, 'a new connection to the name gets a fresh service');
  await t.rejects(again.service.describeWorkflow({ workflowId: 'c-1' }), { code: 'DEJA_NOT_FOUND' });
  await again.close();
  await b.close();
  await memory.close();
  await Promise.all([plain.close(), explicit.close(), sqliteDefault.close(), absolute.close()]);
  await t.rejects(plain.service.describeWorkflow({ workflowId: 'c-1' }), { message: /closed/ }, 'the last close of the file closes its service');
});

t.test('Connection: null, arrays and non-services are refused, not replaced by the default', async (t) => {
  const refused: Array<[string, unknown, RegExp]> = [
    ['backend: null', { backend: null }, /^Connection: backend must be a backend string \("sqlite:<path>", "sqlite:", "memory:", "memory:<name>" or "postgres:\/\/…"\) or a WorkflowService, got null; leave backend out for the default/],
    ['backend: {}', { backend: {} }, /got an object with none of its methods \(startWorkflow, signalWorkflow, signalWithStartWorkflow, …\)/],
    ['backend: a client-only service', { backend: { startWorkflow() {}, signalWorkflow() {}, queryWorkflow() {}, describeWorkflow() {}, getWorkflowOutcome() {}, getHistory() {} } }, /got an object without signalWithStartWorkflow, .*pollWorkflowTask, completeWorkflowTask, .*heartbeatActivityTask, activityTaskToken, close;/],
    ['backend: []', { backend: [] }, /got an array/],
    ['backend: true', { backend: true }, /got boolean true/],
    ['options null', null, /^Connection: expected an options object, got null$/],
    ['options []', [], /^Connection: expected an options object, got an array$/],
    ['options a string', 'memory:', /^Connection: expected an options object/],
  ];
  for (const [what, options, message] of refused) {
    t.throws(() => new Connection(options as never), { code: 'DEJA_INVALID_ARGUMENT', message }, what);
  }
  await t.rejects(Connection.connect({ backend: null } as never), { message: /got null/ }, 'connect() too');

  const saved = process.env.DEJA_BACKEND;
  t.teardown(() => {
    if (saved === undefined) delete process.env.DEJA_BACKEND;
    else process.env.DEJA_BACKEND = saved;
  });
  process.env.DEJA_BACKEND = 'memory:edge-default';
  const byUndefined = new Connection({ backend: undefined });
  const byDefault = new Connection();
  t.equal(byUndefined.service, byDefault.service, 'backend: undefined is the default, as if left out');
  await byUndefined.close();
  await byDefault.close();
  process.env.DEJA_BACKEND = 'memroy:';
  t.throws(() => new Connection(), { message: /^Connection: unknown backend "memroy:" \(from DEJA_BACKEND\); expected "sqlite:<path>"/ }, 'a bad DEJA_BACKEND is named as such');
});

t.test('WorkflowClient: every accepted form works; anything else is refused at construction', async (t) => {
  const connection = new Connection({ backend: `memory:client-forms-${++backends}` });
  t.teardown(() => connection.close());
  fakeWorker(t, connection.service);
  const saved = process.env.DEJA_BACKEND;
  t.teardown(() => {
    if (saved === undefined) delete process.env.DEJA_BACKEND;
    else process.env.DEJA_BACKEND = saved;
  });
  process.env.DEJA_BACKEND = `memory:client-forms-${backends}`;
  const forms: Array<[string, () => WorkflowClient, string | undefined]> = [
    ['new WorkflowClient()', () => new WorkflowClient(), undefined],
    ['new WorkflowClient(undefined, { identity })', () => new WorkflowClient(undefined, { identity: 'id-1' }), 'id-1'],
    ['new WorkflowClient(service)', () => new WorkflowClient(connection.service), undefined],
    ['new WorkflowClient(service, { identity })', () => new WorkflowClient(connection.service, { identity: 'id-2' }), 'id-2'],
    ['new WorkflowClient({ connection })', () => new WorkflowClient({ connection }), undefined],
    ['new WorkflowClient({ connection, identity })', () => new WorkflowClient({ connection, identity: 'id-3' }), 'id-3'],
  ];
  let n = 0;
  for (const [what, make, identity] of forms) {
    const client = make();
    t.equal(client.workflowService, connection.service, `${what}: the connection's service`);
    const handle = await client.start(waitsForSignal, { taskQueue: 'q', workflowId: `form-${++n}` });
    await handle.signal(finishSignal, what, n);
    t.same(await handle.result(), [what, n], `${what}: works`);
    const signaled = (await connection.service.getHistory({ workflowId: `form-${n}` })).find((e) => e.type === 'workflowExecutionSignaled');
    t.match(signaled, { identity: identity ?? `${process.pid}@` }, `${what}: identity`);
  }

  const FORMS = 'expected a WorkflowService \\(connection.service\\), \\{ connection \\}, or nothing for the default connection';
  const refused: Array<[string, () => unknown, RegExp]> = [
    ['{}', () => new WorkflowClient({} as never), new RegExp(`^WorkflowClient: ${FORMS}, got an object with none of its methods`)],
    ['null', () => new WorkflowClient(null as never), new RegExp(`^WorkflowClient: ${FORMS}, got null$`)],
    ['a number', () => new WorkflowClient(42 as never), /got number 42$/],
    ['a string', () => new WorkflowClient('memory:' as never), /got the string "memory:"$/],
    ['an array', () => new WorkflowClient([] as never), /got an array$/],
    ['a partial service', () => new WorkflowClient({ startWorkflow() {} } as never), /got an object without signalWorkflow, signalWithStartWorkflow, requestCancelWorkflow, terminateWorkflow, queryWorkflow, describeWorkflow, listWorkflows, getWorkflowOutcome, getHistory$/],
    ['a Connection itself', () => new WorkflowClient(connection as never), /^WorkflowClient: got a Connection, not its service; pass connection.service, or \{ connection \}$/],
    ['{ connection: null }', () => new WorkflowClient({ connection: null } as never), /^WorkflowClient: connection must be a Connection \(or have a WorkflowService as its service\), got null$/],
    ['{ connection: {} }', () => new WorkflowClient({ connection: {} } as never), /connection must be a Connection .*got an object$/],
    ['{ connection, namespaces }', () => new WorkflowClient({ connection, namespaces: 'default' } as never), /^WorkflowClient: unknown option "namespaces"; expected one of: "connection", "identity", "namespace", "dataConverter", "interceptors", "queryRejectCondition"$/],
    ['{ connection, namespace: 42 }', () => new WorkflowClient({ connection, namespace: 42 } as never), /^WorkflowClient: namespace must be a non-empty string, got number 42$/],
    ['{ connection } and options', () => new WorkflowClient({ connection } as never, { identity: 'x' }), /with \{ connection \}, give identity beside it, not as a second argument/],
    ['service, null', () => new WorkflowClient(connection.service, null as never), /^WorkflowClient: expected an options object, got null$/],
    ['service, []', () => new WorkflowClient(connection.service, [] as never), /^WorkflowClient: expected an options object, got an array$/],
    ['identity too long', () => new WorkflowClient(connection.service, { identity: 'i'.repeat(1001) }), /identity must be at most 1000 characters, got 1001/],
  ];
  for (const [what, make, message] of refused) t.throws(make, { code: 'DEJA_INVALID_ARGUMENT', message }, what);
});

t.test('client options: shapes and bounds at the edge', async (t) => {
  const { client } = setup(t);
  const long = 'x'.repeat(1001);
  await t.rejects(client.start(greet, [] as never), { message: /^WorkflowClient.start: expected an options object, got an array$/ });
  await t.rejects(client.start(greet, { taskQueue: 'q', workflowId: long }), { message: /workflowId must be at most 1000 characters, got 1001/ });
  await t.rejects(client.start(greet, { taskQueue: long, workflowId: 'w' }), { message: /taskQueue must be at most 1000 characters/ });
  await t.rejects(client.start(long, { taskQueue: 'q', workflowId: 'w' }), { message: /the workflow type must be at most 1000 characters/ });
  t.ok(await client.start(greet, { taskQueue: 'q', workflowId: 'x'.repeat(1000) }), '1000 characters is fine');
  t.throws(() => client.getHandle('w', long), { message: /getHandle: runId must be at most 1000 characters/ });
  t.throws(() => client.createWorkflowHandle([] as never), { message: /^WorkflowClient.createWorkflowHandle: the execution: expected \{ workflowId, runId\? \}, got an array$/ });
  t.throws(() => client.createWorkflowHandle({} as never), { message: /^WorkflowClient.createWorkflowHandle: workflowId must be a non-empty string/ });
  t.throws(() => client.createWorkflowHandle({ workflowId: 'w' }, { taskQueue: 'q' }), {
    message: /^WorkflowClient.createWorkflowHandle: a handle to an existing workflow takes no options \(they are for starting one\), got an object$/,
  });
  t.throws(() => client.createWorkflowHandle(greet, [] as never), { message: /expected options with a taskQueue to start "greet", got an array$/ });
  const handle = client.getHandle('w');
  await t.rejects(handle.signal(long), { message: /WorkflowHandle.signal: the signal name must be at most 1000 characters/ });
  await t.rejects(handle.query({ type: 'query', name: long } as never), { message: /WorkflowHandle.query: the query name must be at most 1000 characters/ });
});

t.test('fifty result() waiters on one workflow: no MaxListenersExceededWarning, all get the result', async (t) => {
  const { client, connection } = setup(t);
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  t.teardown(() => void process.off('warning', onWarning));

  const handle = await client.start(waitsForSignal, { taskQueue: 'q', workflowId: 'many-waiters' });
  const results = Array.from({ length: 50 }, () => handle.result());
  // Let every waiter reach its wait (the in-memory store answers within a turn of the loop).
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  t.equal((await connection.service.describeWorkflow({ workflowId: 'many-waiters' })).status, 'running', 'they are all waiting');
  await handle.signal(finishSignal, 'all', 50);
  t.same(await Promise.all(results), Array.from({ length: 50 }, () => ['all', 50]), 'every waiter gets the result');

  // And when the service closes under them, each of fifty waiters is woken (one listener wakes all).
  const open = await client.start(waitsForSignal, { taskQueue: 'q', workflowId: 'many-waiters-2' });
  const pending = Array.from({ length: 50 }, () => open.result().then(() => 'resolved', (e: Error) => e.message));
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  await connection.close();
  t.same(new Set(await Promise.all(pending)), new Set(['deja: the workflow service was closed']), 'every waiter is released by close');
  // Warnings are emitted on the next tick.
  await new Promise((resolve) => setImmediate(resolve));
  // Only warnings about listeners count: newer Nodes also warn about the test runner's own loader
  // (`module.register()` is deprecated on Node 26), which is none of deja's doing.
  const ours = warnings.filter((w) => w.name === 'MaxListenersExceededWarning' || /listener/i.test(w.message));
  t.same(ours.map((w) => `${w.name}: ${w.message}`), [], 'no listener warnings');
});

t.test('Connection limits and onWarning configure the backend it opens by name', async (t) => {
  const warnings: unknown[] = [];
  const name = `memory:limits-${Date.now()}`;
  const first = new Connection({ backend: name, limits: { maxPayloadBytes: 1024, warnHistoryBytes: 100 }, onWarning: (w) => void warnings.push(w) });
  t.teardown(() => first.close());
  const client = new WorkflowClient(first.service);
  await t.rejects(client.start('greet', { taskQueue: 'q', workflowId: 'too-big', args: ['x'.repeat(2048)] }), { code: 'DEJA_PAYLOAD_TOO_LARGE', message: /maxPayloadBytes/ }, 'the limit is in force');
  await client.start('greet', { taskQueue: 'q', workflowId: 'small', args: ['x'.repeat(200)] });
  t.equal(warnings.length, 1, 'onWarning heard the history pass warnHistoryBytes');

  // Another Connection to the same backend: the same settings (or none) join it; others are refused.
  const same = new Connection({ backend: name, limits: { maxPayloadBytes: 1024, warnHistoryBytes: 100 } });
  const none = new Connection({ backend: name });
  t.equal(same.service, first.service);
  t.equal(none.service, first.service);
  await same.close();
  await none.close();
  t.throws(() => new Connection({ backend: name, limits: { maxPayloadBytes: 4096 } }), { code: 'DEJA_INVALID_ARGUMENT', message: /already open in this process with other limits/ });
  t.throws(() => new Connection({ backend: `memory:bad-${Date.now()}`, limits: { maxPayloadBytes: -1 } }), { code: 'DEJA_INVALID_ARGUMENT', message: /limits\.maxPayloadBytes/ });
  t.throws(() => new Connection({ backend: first.service, limits: { maxPayloadBytes: 4096 } }), { message: /configured where it is created/ });
});
