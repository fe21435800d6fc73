// The SQLite Store (lib/backends/sqlite) on real files in a temporary folder: the backend
// conformance suite and the engine suite, unchanged; then what is SQLite's own: the schema's
// version and migration, refusals of bad input that leave the file untouched, locks, a full disk,
// and processes sharing one file.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SqliteStore } from '../lib/backends/sqlite';
import { storeConformance } from './store-conformance';
import { engineSuite } from './engine-suite';
import { Connection } from '../lib/client';
import { crashRun, spawnChild } from './processes/crash';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-sqlite-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newFile = (name = 'store') => path.join(dir, `${name}-${++files}.db`);

t.test('conformance', async (t) => storeConformance(t, async () => new SqliteStore(newFile('conformance'))));
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
  });
  t.comment(JSON.stringify(result));
  t.ok(result.kills >= 20, `${result.kills} workers killed`);
  t.ok(result.workflows > 4 + 10, `${result.workflows} workflows, one more with each new worker`);
  t.equal(result.completed, result.workflows, 'every workflow completed, once, with every step (checkCrashRun)');
  t.equal(result.timersFired, 4 * result.workflows, 'every timer fired once');
  t.ok(result.activityExecutions >= 4 * result.workflows, 'every activity ran at least once');
  t.ok(result.openAfterKills > 0, `work was in flight at the last kill (${result.openAfterKills} workflows open)`);
});
