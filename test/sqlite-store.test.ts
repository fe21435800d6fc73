// The SQLite Store (lib/backends/sqlite) on real files in a temporary folder: the backend
// conformance suite and the engine suite, unchanged; then what is SQLite's own: the schema's
// version and migration, refusals of bad input that leave the file untouched, locks, a full disk,
// and processes sharing one file.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { DEJA_APPLICATION_ID, SCHEMA_VERSION, SqliteStore } from '../lib/backends/sqlite';
import { MIGRATIONS } from '../lib/backends/sqlite/schema';
import { runRecord, storeConformance } from './store-conformance';
import { scheduleStoreConformance } from './schedule-store-conformance';
import { engineSuite } from './engine-suite';
import { Connection } from '../lib/client';
import { crashRun, spawnChild } from './processes/crash';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-sqlite-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newFile = (name = 'store') => path.join(dir, `${name}-${++files}.db`);

t.test('conformance', async (t) => storeConformance(t, async () => new SqliteStore(newFile('conformance'))));
t.test('schedule conformance', async (t) => scheduleStoreConformance(t, async () => new SqliteStore(newFile('schedules'))));
t.test('engine suite', async (t) => engineSuite(t, async () => new SqliteStore(newFile('engine'))));

// ---- several processes on one file (children run test/processes/child.js on the built dist/) ----

t.test("the reference page's scenario across processes: A starts and signals, B signals by id and waits", async (t) => {
  const file = newFile('reference');
  const worker = spawnChild(['worker', file, 'reference', path.join(dir, 'reference.log')]);
  t.teardown(async () => {
    worker.process.kill('SIGTERM');
    await worker.exited;
  });
  await worker.waitFor('ready');
  const a = spawnChild(['start-and-signal', file, 'reference', 'order-42']);
  t.match(await a.waitFor('started'), { started: 'order-42', runId: String }, 'process A started the workflow and signalled it');
  t.same(await a.exited, { code: 0, signal: null }, 'process A exited');
  const b = spawnChild(['signal-and-wait', file, 'order-42']);
  t.same(await b.waitFor('result'), { result: ['from A', 'from B'] }, 'process B found it by id alone, signalled it, and got its result');
  t.same(await b.exited, { code: 0, signal: null });
  // And this process (a third one) sees the same workflow, closed.
  const connection = new Connection({ backend: `sqlite:${file}` });
  t.teardown(() => connection.close());
  t.match(await connection.service.describeWorkflow({ workflowId: 'order-42' }), { status: 'completed' });
});

t.test('crash safety: workers SIGKILLed at random points lose nothing and do nothing twice', async (t) => {
  const seed = Number(process.env.DEJA_CRASH_SEED ?? Date.now() % 2 ** 31);
  t.comment(`crash seed ${seed} (rerun with DEJA_CRASH_SEED=${seed})`);
  const result = await crashRun({
    file: newFile('crash'),
    log: path.join(dir, `crash-${seed}.log`),
    seed,
    kills: Number(process.env.DEJA_CRASH_KILLS ?? 20),
    workflows: 4,
    steps: 4,
    // A workflow takes longer than a worker lives: the last one started is surely open at the last kill.
    sleepMs: 300,
    lifeMs: [100, 800],
    // scripts/crash-sqlite.js follows a long run through this file (one line per kill).
    onKill: process.env.DEJA_CRASH_PROGRESS ? (kills) => fs.appendFileSync(process.env.DEJA_CRASH_PROGRESS!, `${kills}\n`) : undefined,
  });
  t.comment(JSON.stringify(result));
  t.ok(result.kills >= 20, `${result.kills} workers killed`);
  t.ok(result.workflows > 4 + 10, `${result.workflows} workflows, one more with each new worker`);
  t.equal(result.completed, result.workflows, 'every workflow completed, once, with every step (checkCrashRun)');
  t.equal(result.timersFired, 4 * result.workflows, 'every timer fired once');
  t.ok(result.activityExecutions >= 4 * result.workflows, 'every activity ran at least once');
  t.ok(result.openAfterKills > 0, `work was in flight at the last kill (${result.openAfterKills} workflows open)`);
});

// ---- the file: schema version, migration, and bad input that must leave it untouched ----

const bytes = (file: string) => fs.readFileSync(file).toString('base64');
const runRow = (runId: string) => runRecord(runId, { workflowId: `wf-${runId}` });

t.test('schema: a new file is marked and versioned; a reopened one keeps its data', async (t) => {
  const file = newFile('schema');
  const store = new SqliteStore(file);
  await store.transaction((tx) => tx.runs.insert(runRow('kept')));
  await store.close();
  const raw = new Database(file, { readonly: true });
  t.equal(raw.pragma('application_id', { simple: true }), DEJA_APPLICATION_ID, 'the header carries the deja mark');
  t.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION, 'and the schema version');
  t.equal(raw.pragma('journal_mode', { simple: true }), 'wal', 'WAL mode is kept in the file');
  raw.close();
  const again = new SqliteStore(file);
  t.teardown(() => again.close());
  t.equal((await again.transaction((tx) => tx.runs.get('kept')))?.runId, 'kept', 'reopened with its data');
});

t.test('schema: an older file is migrated forward; a failed migration leaves it at its version; a newer one is refused untouched', async (t) => {
  const file = newFile('migrate');
  const v1 = new SqliteStore(file);
  await v1.transaction((tx) => tx.runs.insert(runRow('old')));
  await v1.close();
  // A deja with one more migration opens the version-1 file: migrated, data kept.
  const v2Migrations = [...MIGRATIONS, 'CREATE TABLE later_feature (id INTEGER PRIMARY KEY)'];
  const failing = [...MIGRATIONS, 'CREATE TABLE half_done (id INTEGER)', 'THIS IS NOT SQL'];
  const before = bytes(file);
  t.throws(() => new SqliteStore(file, {}, failing), { code: 'DEJA_STORE', reason: 'io', file }, 'a migration that fails is an error naming the file');
  t.equal(bytes(file), before, 'and it left the file as it was');
  const raw = () => new Database(file, { readonly: true });
  let db = raw();
  t.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION, 'still at its version');
  t.equal(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").pluck().get(), 0, 'no half-applied migration');
  db.close();
  const v2 = new SqliteStore(file, {}, v2Migrations);
  t.equal((await v2.transaction((tx) => tx.runs.get('old')))?.runId, 'old', 'the data survived the migration');
  await v2.close();
  db = raw();
  t.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION + 1, 'migrated to the new version');
  db.close();
  // This deja (one version less) meets the file a newer deja wrote.
  const newer = bytes(file);
  t.throws(
    () => new SqliteStore(file),
    { code: 'DEJA_STORE', reason: 'newer', file, message: new RegExp(`^deja sqlite store: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} was written by a newer deja \\(schema version ${SCHEMA_VERSION + 1}; this deja reads versions up to ${SCHEMA_VERSION}\\)`) },
    'refused, naming the file and both versions',
  );
  t.equal(bytes(file), newer, 'the newer file is untouched');
});

t.test('bad input: a directory, a read-only file or folder, not a database, another program’s database', async (t) => {
  const expectRefused = (target: string, reason: string, message: RegExp, what: string) => {
    const before = fs.existsSync(target) && fs.statSync(target).isFile() ? bytes(target) : undefined;
    t.throws(() => new SqliteStore(target), { code: 'DEJA_STORE', reason, file: target, message }, what);
    if (before !== undefined) t.equal(bytes(target), before, `${what}: the file is untouched`);
    t.notOk(fs.existsSync(`${target}-wal`), `${what}: no WAL was created beside it`);
  };
  const folder = path.join(dir, 'a-folder');
  fs.mkdirSync(folder);
  expectRefused(folder, 'directory', /is a directory; expected the path of a database file \(such as .*a-folder\/deja\.db\)/, 'a directory');

  const readOnly = newFile('read-only');
  await new SqliteStore(readOnly).close();
  fs.chmodSync(readOnly, 0o444);
  expectRefused(readOnly, 'read-only', /is read-only \(mode 444\); deja needs to write its database/, 'a read-only file');
  fs.chmodSync(readOnly, 0o644);

  const lockedFolder = path.join(dir, 'read-only-folder');
  fs.mkdirSync(lockedFolder, { mode: 0o555 });
  t.teardown(() => fs.chmodSync(lockedFolder, 0o755));
  expectRefused(path.join(lockedFolder, 'deja.db'), 'read-only', /the folder .*read-only-folder is read-only/, 'a file in a read-only folder');

  const text = path.join(dir, 'notes.txt');
  fs.writeFileSync(text, 'These are my notes, not a database. '.repeat(100));
  expectRefused(text, 'not-deja', /notes\.txt is not a SQLite database .*expected a deja database or a new file\. It was not changed/, 'a text file');

  const other = path.join(dir, 'other.sqlite');
  const db = new Database(other);
  db.exec("CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('Ada')");
  db.close();
  expectRefused(other, 'not-deja', /other\.sqlite is a SQLite database of another program \(it has tables \(contacts\) and no deja mark\)/, "another program's database");

  const otherId = path.join(dir, 'other-id.sqlite');
  const db2 = new Database(otherId);
  db2.pragma('application_id = 42');
  db2.close();
  expectRefused(otherId, 'not-deja', /its application id is 42/, 'a database marked by another program');

  t.throws(() => new SqliteStore(newFile(), { busyTimeout: 1 } as never), { code: 'DEJA_INVALID_ARGUMENT', message: /unknown option "busyTimeout"/ }, 'an unknown option');
});

t.test('bad input through a Connection: the error names the file', async (t) => {
  const folder = path.join(dir, 'connection-folder');
  fs.mkdirSync(folder);
  t.throws(() => new Connection({ backend: `sqlite:${folder}` }), { code: 'DEJA_STORE', file: folder, message: /is a directory/ });
});

t.test('a full disk: the write fails naming the file, and what was committed is intact', async (t) => {
  const file = newFile('full');
  const seed = new SqliteStore(file);
  await seed.transaction(async (tx) => {
    await tx.runs.insert(runRow('before'));
    await tx.history.append('before', [{ eventId: 1, eventTime: new Date(0).toISOString(), type: 'workflowExecutionSignaled', signalName: 's', input: [] }]);
  });
  await seed.close();
  const pages = (new Database(file, { readonly: true }).pragma('page_count', { simple: true }) as number) + 2;
  const store = new SqliteStore(file, { maxPageCount: pages });
  t.teardown(() => store.close());
  const big = 'x'.repeat(64 * 1024);
  await t.rejects(
    store.transaction(async (tx) => {
      await tx.runs.update({ ...runRow('before'), status: 'failed' });
      for (let i = 0; i < 20; i++) await tx.runs.insert(runRecord(`big-${i}`, { workflowId: big }));
    }),
    { code: 'DEJA_STORE', reason: 'full', file, message: new RegExp(`${path.basename(file)} is full .*the transaction was rolled back`) },
    'SQLITE_FULL as a clear error naming the file',
  );
  t.equal((await store.transaction((tx) => tx.runs.get('before')))?.status, 'running', 'the change made before the failure was rolled back');
  t.equal((await store.transaction((tx) => tx.history.read('before'))).length, 1, 'the history is intact');
  t.equal(await store.transaction((tx) => tx.runs.get('big-0')), undefined, 'nothing of the failed transaction remains');
  await store.transaction((tx) => tx.runs.update({ ...runRow('before'), status: 'completed' }));
  t.equal((await store.transaction((tx) => tx.runs.get('before')))?.status, 'completed', 'small writes still work');
});

t.test('a lock held by a live process: a clear busy error after the timeout; by a crashed one: recovered', async (t) => {
  const file = newFile('locked');
  const seed = new SqliteStore(file);
  await seed.transaction((tx) => tx.runs.insert(runRow('committed')));
  await seed.close();
  const holder = spawnChild(['hold-lock', file]);
  await holder.waitFor('locked');
  const store = new SqliteStore(file, { busyTimeoutMs: 300 });
  t.teardown(() => store.close());
  t.equal((await store.transaction((tx) => tx.runs.get('committed'), { readOnly: true }))?.runId, 'committed', 'reads go on while another process writes (WAL)');
  await t.rejects(
    store.transaction((tx) => tx.runs.insert(runRow('blocked'))),
    { code: 'DEJA_STORE', reason: 'busy', file, message: new RegExp(`${path.basename(file)} is locked \\(busy\\): another connection held its write lock for more than 300 ms`) },
    'a write waits busyTimeoutMs, then fails naming the file',
  );
  holder.process.kill('SIGKILL');
  t.equal((await holder.exited).signal, 'SIGKILL', 'the holder crashed holding the lock');
  await store.transaction((tx) => tx.runs.insert(runRow('after')));
  const runs = await store.transaction((tx) => tx.runs.list({ limit: 10 }));
  t.same(runs.map((r) => r.runId).sort(), ['after', 'committed'], "usable again; the crashed process's uncommitted write is gone");
});
