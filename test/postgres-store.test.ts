// The PostgreSQL Store (lib/backends/postgres) on a real server (test/support/postgres.ts): the
// backend conformance suite and the engine suite, unchanged; then what is PostgreSQL's own: the
// schema's mark, version and migration; bad input; retries of deadlocks and lost connections;
// a server restart; the LISTEN/NOTIFY feed; list filters and counts as SQL; schedules.
import t from 'tap';
import { Client } from 'pg';
import { PostgresStore, SCHEMA_VERSION, MIGRATIONS } from '../lib/backends/postgres';
import type { Change, ScheduleRecord, StoreTx } from '../lib/backends/store';
import type { FilterExpr, ListQuery } from '../lib/visibility/ast';
import { Connection } from '../lib/client';
import { migrateBackend } from '../lib/wiring';
import { main } from '../lib/cli/main';
import { Params, whereSql } from '../lib/backends/postgres/filter';
import { runRecord, storeConformance } from './store-conformance';
import { engineSuite } from './engine-suite';
import { testDatabase, type TestDatabase } from './support/postgres';

void (async () => {
  const db = await testDatabase(t, 'store');
  if (!db) {
    t.test('PostgreSQL', { skip: 'PostgreSQL is not installed and cannot be installed here (see scripts/postgres.js): the PostgreSQL tests are skipped' }, async () => undefined);
    return;
  }
  const stores = (options = {}) => async () => new PostgresStore(db.freshSchemaUrl(), options);
  t.test('conformance', async (t) => storeConformance(t, stores()));
  t.test('engine suite', async (t) => engineSuite(t, stores()));
  specific(db);
})();

/** A store on a schema of its own, closed when the test ends. */
function open(t: tap.Test, url: string, options: ConstructorParameters<typeof PostgresStore>[1] = {}, migrations?: readonly string[]): PostgresStore {
  const store = new PostgresStore(url, options, migrations);
  t.teardown(() => store.close());
  return store;
}

async function sql(url: string, text: string, values?: unknown[]) {
  const client = new Client({ connectionString: url.replace(/\?.*$/, '') });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

const runRow = (runId: string, over = {}) => runRecord(runId, { workflowId: `wf-${runId}`, ...over });

function specific(db: TestDatabase): void {
  t.test('schema: a new schema is created, marked and versioned; reopened, it keeps its data; deja migrate says so', async (t) => {
    const url = `${db.url}?schema=marked`;
    const store = open(t, url);
    await store.transaction((tx) => tx.runs.insert(runRow('kept')));
    await store.close();
    const mark = await sql(db.url, 'SELECT application, version FROM marked.deja_schema');
    t.same(mark.rows, [{ application: 'deja', version: SCHEMA_VERSION }], 'the schema carries the deja mark and its version');
    const again = open(t, url);
    t.equal((await again.transaction((tx) => tx.runs.get('kept')))?.runId, 'kept', 'reopened with its data');
    t.equal(await migrateBackend(url), `${db.url.replace(/\/[^/]*$/, '')}/${new URL(db.url).pathname.slice(1)} (schema "marked"): at schema version ${SCHEMA_VERSION}; nothing to do`);
    t.match(await migrateBackend(`${db.url}?schema=created_by_migrate`), /\(schema "created_by_migrate"\): created, at schema version \d+$/, 'deja migrate creates a schema');
  });

  t.test('deja migrate: creates the schema, then finds it current; a server that is down is bad usage, said so', async (t) => {
    const lines: string[] = [];
    const errors: string[] = [];
    const out = { log: (l: string) => lines.push(l), error: (l: string) => errors.push(l) };
    const url = `${db.url}?schema=by_cli`;
    t.equal(await main(['migrate', '--backend', url], out), 0, 'exit 0');
    t.match(lines[0], /\(schema "by_cli"\): created, at schema version \d+$/);
    t.equal(await main(['migrate', '--backend', url], out), 0, 'exit 0 again');
    t.match(lines[1], /\(schema "by_cli"\): at schema version \d+; nothing to do$/);
    t.equal(await main(['migrate', '--backend', 'postgres://postgres@127.0.0.1:1/x?schema=s'], out), 2, 'exit 2 for a server that is down');
    t.match(errors[0], /^deja: migrate: cannot migrate the backend: deja postgres store: cannot reach the PostgreSQL server at postgres:\/\/postgres@127\.0\.0\.1:1\/x/);
    t.equal(await main(['migrate', '--backend', 'postgres:nohost'], out), 2, 'exit 2 for a malformed URL');
    t.match(errors[1], /^deja: migrate: backend "postgres:nohost" is not a PostgreSQL URL; expected "postgres:\/\/user:password@host:port\/database"/);
  });

  t.test("time: the store's clock is the server's, whatever this machine's clock says", async (t) => {
    const real = Date.now;
    const skewMs = 120_000;
    Date.now = () => real() + skewMs;
    let store: PostgresStore;
    try {
      store = open(t, db.freshSchemaUrl());
      await store.migrate();
      const server = Number((await sql(db.url, 'SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now')).rows[0].now);
      const ours = store.clock.now();
      // This machine's clock is 2 minutes ahead; the store's reads the server's (this machine's real one, give or take a round trip).
      t.ok(Math.abs(ours - server) < skewMs / 4, `the store's clock (${ours}) follows the server's (${server}), not this machine's (${Date.now()})`);
      t.ok(store.clock.now() >= ours, 'and never goes backwards');
    } finally {
      Date.now = real;
    }
  });

  t.test('schema: migrated forward; a failed migration leaves it at its version; a newer one is refused untouched', async (t) => {
    const url = `${db.url}?schema=migrating`;
    const v1 = open(t, url);
    await v1.transaction((tx) => tx.runs.insert(runRow('old')));
    await v1.close();
    const failing = open(t, url, { retryForMs: 0 }, [...MIGRATIONS, 'CREATE TABLE half_done (id integer)', 'THIS IS NOT SQL']);
    await t.rejects(failing.transaction((tx) => tx.runs.get('old')), { code: 'DEJA_STORE', reason: 'io', message: /opening the store failed: syntax error/ }, 'a migration that fails is an error naming the server');
    t.same((await sql(db.url, 'SELECT version FROM migrating.deja_schema')).rows, [{ version: SCHEMA_VERSION }], 'still at its version');
    t.equal((await sql(db.url, "SELECT to_regclass('migrating.half_done') AS t")).rows[0].t, null, 'no half-applied migration');
    const v2 = open(t, url, {}, [...MIGRATIONS, 'CREATE TABLE later_feature (id integer)']);
    t.same(await v2.migrate(), { from: SCHEMA_VERSION, to: SCHEMA_VERSION + 1 }, 'migrated one version forward');
    t.equal((await v2.transaction((tx) => tx.runs.get('old')))?.runId, 'old', 'the data survived the migration');
    await v2.close();
    const newer = open(t, url, { retryForMs: 0 });
    await t.rejects(
      newer.transaction((tx) => tx.runs.get('old')),
      { code: 'DEJA_STORE', reason: 'newer', message: new RegExp(`was written by a newer deja \\(schema version ${SCHEMA_VERSION + 1}; this deja reads versions up to ${SCHEMA_VERSION}\\)`) },
      'this deja refuses the newer schema',
    );
    t.same((await sql(db.url, 'SELECT version FROM migrating.deja_schema')).rows, [{ version: SCHEMA_VERSION + 1 }], 'and left it as it was');
  });

  t.test('schema: many stores opening one new schema at once migrate it once', async (t) => {
    const url = `${db.url}?schema=racing`;
    const many = Array.from({ length: 6 }, () => open(t, url));
    const found = await Promise.all(many.map((s) => s.migrate()));
    t.equal(found.filter((f) => f.from === 0).length, 1, 'one of them created it');
    t.equal(found.filter((f) => f.from === SCHEMA_VERSION).length, 5, 'the others found it current');
  });

  t.test("bad input: another program's schema, a malformed URL, an unreachable server, a missing database, unknown options", async (t) => {
    await sql(db.url, 'CREATE SCHEMA crm; CREATE TABLE crm.contacts (name text); INSERT INTO crm.contacts VALUES ($$Ada$$)');
    const other = open(t, `${db.url}?schema=crm`, { retryForMs: 0 });
    await t.rejects(other.transaction((tx) => tx.runs.get('x')), { code: 'DEJA_STORE', reason: 'not-deja', message: /the schema "crm" holds another program's tables \(contacts\) and no deja mark; expected a deja schema or an empty one\. It was not changed/ });
    t.same((await sql(db.url, 'SELECT name FROM crm.contacts')).rows, [{ name: 'Ada' }], "the other program's data is untouched");
    t.equal((await sql(db.url, "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'crm'")).rows[0].n, 1, 'no deja table was added');

    t.throws(() => new Connection({ backend: 'postgres://' }), { code: 'DEJA_INVALID_ARGUMENT', message: /is not a valid URL|names no host/ }, 'a URL with no host');
    t.throws(() => new Connection({ backend: 'postgres://h:99999999/x' }), { code: 'DEJA_INVALID_ARGUMENT', message: /not a valid URL; expected postgres:\/\/user:password@host:port\/database/ }, 'a malformed URL');
    t.throws(() => new PostgresStore(db.url, { poolSize: 0 }), { code: 'DEJA_INVALID_ARGUMENT', message: /poolSize must be an integer ≥ 1, got 0/ });
    t.throws(() => new PostgresStore(db.url, { pool: 3 } as never), { code: 'DEJA_INVALID_ARGUMENT', message: /unknown option "pool"/ });
    t.throws(() => new PostgresStore(`${db.url}?schema=a-b`), { code: 'DEJA_INVALID_ARGUMENT', message: /schema "a-b" is not a plain identifier/ });

    const port = new URL(db.url).port;
    const down = open(t, `postgres://deja:secret@127.0.0.1:1/deja`, { retryForMs: 300 });
    await t.rejects(
      down.transaction((tx) => tx.runs.get('x')),
      { code: 'DEJA_STORE', reason: 'unavailable', file: 'postgres://deja:***@127.0.0.1:1/deja', message: /^deja postgres store: cannot reach the PostgreSQL server at postgres:\/\/deja:\*\*\*@127\.0\.0\.1:1\/deja while opening the store: .*ECONNREFUSED.*; is it running and reachable, and is the URL right\?/ },
      'a server that is down: a StoreError that says so, without the password',
    );
    const missing = open(t, `postgres://postgres@127.0.0.1:${port}/no_such_database`, { retryForMs: 0 });
    await t.rejects(missing.transaction((tx) => tx.runs.get('x')), { code: 'DEJA_STORE', reason: 'unavailable', message: /database "no_such_database" does not exist .*create the database/ }, 'a database that does not exist');
    // Through the CLI's path too: a StoreError, not a crash.
    await t.rejects(migrateBackend('postgres://postgres@127.0.0.1:1/x'), { code: 'DEJA_STORE', reason: 'unavailable' });
  });

  t.test('retries: a deadlock is retried (fn runs again) and both transactions land', async (t) => {
    const store = open(t, db.freshSchemaUrl());
    await store.transaction(async (tx) => {
      await tx.runs.insert(runRow('r1'));
      await tx.runs.insert(runRow('r2'));
    });
    let runs = 0;
    let arrived = 0;
    let release!: () => void;
    const both = new Promise<void>((resolve) => (release = resolve));
    const crossing = (first: string, second: string) =>
      store.transaction(async (tx) => {
        runs++;
        const a = (await tx.runs.get(first))!;
        if (++arrived === 2) release();
        await both; // each holds its first row, then asks for the other's
        const b = (await tx.runs.get(second))!;
        await tx.runs.update({ ...a, nextEventId: a.nextEventId + 1 });
        await tx.runs.update({ ...b, nextEventId: b.nextEventId + 10 });
      });
    await Promise.all([crossing('r1', 'r2'), crossing('r2', 'r1')]);
    t.equal(runs, 3, 'one of the two ran again after PostgreSQL broke the deadlock');
    const [r1, r2] = await store.transaction(async (tx) => [await tx.runs.get('r1'), await tx.runs.get('r2')]);
    t.same([r1!.nextEventId, r2!.nextEventId], [12, 12], 'both landed, each once');
  });

  t.test('retries: a connection terminated inside a transaction (pg_terminate_backend) runs fn again; nothing lands twice', async (t) => {
    const store = open(t, db.freshSchemaUrl());
    await store.transaction((tx) => tx.runs.insert(runRow('counter')));
    let runs = 0;
    await store.transaction(async (tx) => {
      runs++;
      const run = (await tx.runs.get('counter'))!;
      await tx.runs.update({ ...run, nextEventId: run.nextEventId + 1 });
      if (runs === 1) {
        const killed = await db.admin("SELECT pg_terminate_backend(pid) AS k FROM pg_stat_activity WHERE state = 'idle in transaction' AND application_name = 'deja'");
        t.equal(killed.rows.length, 1, 'the server ended the transaction’s connection');
      }
      await tx.history.append('counter', [{ eventId: run.nextEventId, eventTime: new Date(0).toISOString(), type: 'workflowExecutionSignaled', signalName: 's', input: [] }]);
    });
    t.equal(runs, 2, 'fn ran again on a fresh connection');
    t.equal((await store.transaction((tx) => tx.runs.get('counter')))!.nextEventId, 2, 'the update landed once');
    t.equal((await store.transaction((tx) => tx.history.read('counter'))).length, 1, 'the event was appended once');
  });

  t.test('faults: the server restarts; transactions wait for it and go on; the feed says { type: "any" } once it listens again', async (t) => {
    const url = db.freshSchemaUrl();
    const store = open(t, url, { feed: { pollMs: 50 } });
    const seen: Change[] = [];
    const unsubscribe = store.changes.subscribe((change) => seen.push(change));
    t.teardown(unsubscribe);
    await store.transaction((tx) => tx.runs.insert(runRow('before')));
    await waitFor(() => (store.changes as unknown as { listening: boolean }).listening, 'the feed listens');
    db.restart();
    // Idle pooled connections are dead now: the next transaction meets one, and retries.
    await store.transaction((tx) => tx.runs.insert(runRow('after')));
    t.same((await store.transaction((tx) => tx.runs.list({ limit: 10 }))).map((r) => r.runId).sort(), ['after', 'before'], 'the committed run survived, the new one landed');
    await waitFor(() => seen.some((c) => c.type === 'any'), 'the feed told every waiter to look again');
    await waitFor(() => (store.changes as unknown as { listening: boolean }).listening, 'and listens again');
    const other = open(t, url);
    seen.length = 0;
    other.changes.publish([{ type: 'runClosed', runId: 'after' }]);
    await waitFor(() => seen.some((c) => c.type === 'runClosed'), 'a change published by another store arrives after the restart');
  });

  t.test('feed: NOTIFY reaches another store on the same schema, not one on another; its own come back once', async (t) => {
    const url = db.freshSchemaUrl();
    const a = open(t, url);
    const b = open(t, url);
    const elsewhere = open(t, db.freshSchemaUrl());
    const seenA: Change[] = [];
    const seenB: Change[] = [];
    const seenElsewhere: Change[] = [];
    t.teardown(a.changes.subscribe((c) => seenA.push(c)));
    t.teardown(b.changes.subscribe((c) => seenB.push(c)));
    t.teardown(elsewhere.changes.subscribe((c) => seenElsewhere.push(c)));
    for (const s of [a, b, elsewhere]) await waitFor(() => (s.changes as unknown as { listening: boolean }).listening, 'listening');
    a.changes.publish([{ type: 'workflowTask', taskQueue: 'q' }, { type: 'due', at: 5 }]);
    t.same(seenA, [{ type: 'workflowTask', taskQueue: 'q' }, { type: 'due', at: 5 }], 'the publisher’s own subscribers hear it at once');
    await waitFor(() => seenB.length >= 2, 'the other store hears it');
    t.same(seenB, [{ type: 'workflowTask', taskQueue: 'q' }, { type: 'due', at: 5 }]);
    b.changes.publish([{ type: 'answer', queryId: 'x' }]);
    await waitFor(() => seenA.length >= 3, 'and back');
    // A round trip on `elsewhere`'s channel after both: had it heard either, it would have by now.
    elsewhere.changes.publish([{ type: 'query', taskQueue: 'mine' }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    t.same(seenElsewhere, [{ type: 'query', taskQueue: 'mine' }], 'a store on another schema hears only its own');
    t.equal(seenA.filter((c) => c.type === 'workflowTask').length, 1, 'a store does not hear its own NOTIFY a second time');
    const big = Array.from({ length: 400 }, (_, i) => ({ type: 'runClosed' as const, runId: `a-long-run-id-${i}` }));
    a.changes.publish(big);
    await waitFor(() => seenB.some((c) => c.type === 'any'), 'a batch too big for NOTIFY arrives as { type: "any" }');
  });

  t.test('runs.list with a query and runs.count: the filter as SQL', async (t) => {
    const store = open(t, db.freshSchemaUrl());
    const sa = (attrs: Record<string, unknown>) => ({ searchAttributes: attrs as never });
    await store.transaction(async (tx) => {
      await tx.runs.insert(runRow('a', { startTime: 1000, workflowType: 'order', ...sa({ Customer: { type: 'KEYWORD', value: 'ada' }, Amount: { type: 'INT', value: 10 }, Tags: { type: 'KEYWORD_LIST', value: ['vip', 'eu'] } }) }));
      await tx.runs.insert(runRow('b', { startTime: 2000, workflowType: 'order', status: 'completed', closeTime: 2500, ...sa({ Customer: { type: 'KEYWORD', value: 'bob' }, Amount: { type: 'DOUBLE', value: 99.5 }, Due: { type: 'DATETIME', value: '2026-01-02T00:00:00.000Z' } }) }));
      await tx.runs.insert(runRow('c', { startTime: 3000, workflowType: 'refund', ...sa({ Customer: { type: 'KEYWORD', value: 'ada' }, Urgent: { type: 'BOOL', value: true } }) }));
      await tx.runs.insert(runRow('d', { startTime: 3000, workflowType: 'order', parent: { workflowId: 'wf-a', runId: 'a', initiatedEventId: 5, parentClosePolicy: 'terminate' } }));
    });
    const sys = (name: string) => ({ kind: 'system' as const, name: name as never });
    const custom = (name: string) => ({ kind: 'custom' as const, name });
    const ids = async (query: ListQuery, extra = {}) => (await store.transaction((tx: StoreTx) => tx.runs.list({ limit: 10, query, ...extra }))).map((r) => r.runId);
    const count = (where?: FilterExpr) => store.transaction((tx) => tx.runs.count(where), { readOnly: true });
    t.same(await ids({}), ['d', 'c', 'b', 'a'], 'no filter: newest start first, the later inserted first');
    t.same(await ids({ where: { op: '=', field: custom('Customer'), value: 'ada' } }), ['c', 'a'], 'a keyword equality');
    t.same(await ids({ where: { op: '=', field: custom('Tags'), value: 'vip' } }), ['a'], 'a keyword list holds the value');
    t.same(await ids({ where: { op: '>', field: custom('Amount'), value: 10 } }), ['b'], 'a number compared as a number, INT or DOUBLE');
    t.same(await ids({ where: { op: '=', field: custom('Urgent'), value: true } }), ['c'], 'a boolean');
    t.same(await ids({ where: { op: '<', field: custom('Due'), value: '2026-01-02T01:00:00+01:00' } }), [], 'a DATETIME compared as an instant (00:00Z is not before 01:00+01:00)');
    t.same(await ids({ where: { op: '<=', field: custom('Due'), value: '2026-01-02T01:00:00+01:00' } }), ['b'], 'and equal to it');
    t.same(await ids({ where: { op: '!=', field: custom('Customer'), value: 'ada' } }), ['b'], '!= matches only runs that have the attribute');
    t.same(await ids({ where: { op: 'not', expr: { op: '=', field: custom('Customer'), value: 'ada' } } }), ['d', 'b'], 'not is the negation of the two-valued result: a run without the attribute matches it');
    t.same(await ids({ where: { op: 'isNull', field: custom('Customer'), negated: false } }), ['d'], 'is null finds it');
    t.same(await ids({ where: { op: 'and', left: { op: '=', field: sys('workflowType'), value: 'order' }, right: { op: '=', field: sys('status'), value: 'running' } } }), ['d', 'a'], 'system fields, and');
    t.same(await ids({ where: { op: 'in', field: sys('workflowId'), values: ['wf-b', 'wf-c'], negated: false } }), ['c', 'b'], 'in');
    t.same(await ids({ where: { op: 'between', field: sys('startTime'), low: 1500, high: 3000, negated: true } }), ['a'], 'not between');
    t.same(await ids({ where: { op: 'startsWith', field: sys('workflowType'), prefix: 'ref', negated: false } }), ['c'], 'starts with');
    t.same(await ids({ where: { op: '=', field: sys('parentWorkflowId'), value: 'wf-a' } }), ['d'], 'parentWorkflowId');
    t.same(await ids({ where: { op: 'isNull', field: sys('closeTime'), negated: true } }), ['b'], 'closeTime is not null');
    const byAmount: ListQuery = { orderBy: [{ field: custom('Amount'), descending: false }] };
    t.same(await ids(byAmount), ['d', 'c', 'a', 'b'], 'ORDER BY a custom attribute, missing ones first (null < numbers), ties in the default order');
    t.same(await ids(byAmount, { limit: 2, afterRunId: 'c' }), ['a', 'b'], 'a page continues after its anchor in that order, across NULLs');
    t.same(await ids({ orderBy: [{ field: sys('workflowType'), descending: true }] }, { afterRunId: 'c' }), ['d', 'b', 'a'], 'ORDER BY a system field, descending, paged');
    t.equal(await count(), 4, 'count all');
    t.equal(await count({ op: '=', field: custom('Customer'), value: 'ada' }), 2, 'count a filter');
    // Scan-free where an index can answer: the plan of a keyword equality, with sequential scans priced out.
    const p = new Params();
    const where = whereSql({ op: '=', field: custom('Customer'), value: 'ada' }, p);
    const schema = store.schema;
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('SET enable_seqscan = off');
      const plan = (await client.query(`EXPLAIN SELECT record FROM ${schema}.runs WHERE ${where}`, p.values)).rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
      t.match(plan, /runs_search_attributes/, 'a keyword equality uses the GIN index on search attributes');
    } finally {
      await client.end();
    }
  });

  t.test('schedules: insert, get, update, delete, list by id', async (t) => {
    const store = open(t, db.freshSchemaUrl());
    const schedule = (scheduleId: string, note = ''): ScheduleRecord =>
      ({ scheduleId, definition: { spec: {}, action: {}, policies: {}, state: { paused: false, note } } as never, info: { numActionsTaken: 0, numActionsMissedCatchupWindow: 0, numActionsSkippedOverlap: 0, runningWorkflows: [], recentActions: [] }, createdAt: 1, buffered: [] }) as ScheduleRecord;
    await store.transaction(async (tx) => {
      for (const id of ['b', 'a', 'c', 'B']) await tx.schedules.insert(schedule(id));
    });
    await t.rejects(store.transaction((tx) => tx.schedules.insert(schedule('a'))), { message: /schedule a exists/ }, 'an id that exists is refused');
    await store.transaction(async (tx) => tx.schedules.update({ ...(await tx.schedules.get('a'))!, lastActionAt: 42, buffered: [1, 2] }));
    t.match(await store.transaction((tx) => tx.schedules.get('a')), { scheduleId: 'a', lastActionAt: 42, buffered: [1, 2] }, 'updated');
    await t.rejects(store.transaction((tx) => tx.schedules.update(schedule('zzz'))), { message: /no schedule zzz to update/ });
    const list = (o: { limit: number; afterScheduleId?: string }) => store.transaction(async (tx) => (await tx.schedules.list(o)).map((s) => s.scheduleId), { readOnly: true });
    t.same(await list({ limit: 10 }), ['B', 'a', 'b', 'c'], 'by id ascending, in code-point order');
    t.same(await list({ limit: 2, afterScheduleId: 'a' }), ['b', 'c'], 'paged');
    await store.transaction((tx) => tx.schedules.delete('b'));
    t.same(await list({ limit: 10 }), ['B', 'a', 'c'], 'deleted');
  });
}

/** Waits (real time, bounded) until `ready()` holds; fails naming `what` otherwise. */
async function waitFor(ready: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
