// Many worker processes on one PostgreSQL database, under faults (host side; the workers run
// test/processes/child.js on the built dist/): workers SIGKILLed at random (seeded) instants,
// every deja connection cut from the server side (pg_terminate_backend), and the server itself
// restarted, while workflows of activities and durable timers run. Then every workflow must have
// completed once with every step, every timer fired once, no activity attempt ran twice, and every
// history reads back valid (checkCrashRun). And workers on machines whose clocks are seconds apart
// (a skewed Date.now) keep every history's event order and fire no timer early.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Connection, WorkflowClient } from '../lib/client';
import { makeHistory } from '../lib/history';
import { crashRun, spawnChild } from './processes/crash';
import { testDatabase } from './support/postgres';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-pg-faults-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

void (async () => {
  const db = await testDatabase(t, 'faults');
  if (!db) {
    t.test('PostgreSQL', { skip: 'PostgreSQL is not installed and cannot be installed here (see scripts/postgres.js): the PostgreSQL tests are skipped' }, async () => undefined);
    return;
  }

  t.test('workers SIGKILLed, connections cut by the server, the server restarted: nothing lost, nothing done twice', async (t) => {
    const seed = Number(process.env.DEJA_CRASH_SEED ?? Date.now() % 2 ** 31);
    t.comment(`crash seed ${seed} (rerun with DEJA_CRASH_SEED=${seed})`);
    const kills = Number(process.env.DEJA_CRASH_KILLS ?? 10);
    let terminated = 0;
    let restarts = 0;
    const result = await crashRun({
      file: db.freshSchemaUrl(),
      log: path.join(dir, `crash-${seed}.log`),
      seed,
      kills,
      workflows: 3,
      steps: 3,
      sleepMs: 300,
      lifeMs: [200, 1000],
      chaos: async (k) => {
        if (k % 3 === 1) {
          // Every deja connection, the living workers' and this process's: pools, listeners, transactions in flight.
          const cut = await db.admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'deja' AND pid <> pg_backend_pid()");
          terminated += cut.rows.length;
        }
        if (k === Math.ceil(kills / 2)) {
          db.restart();
          restarts++;
        }
      },
    });
    t.comment(JSON.stringify({ ...result, terminated, restarts }));
    t.ok(result.kills >= kills, `${result.kills} workers killed`);
    t.ok(terminated > 0, `${terminated} connections cut from the server side`);
    t.equal(restarts, 1, 'the server was restarted once, mid-run');
    t.equal(result.completed, result.workflows, 'every workflow completed, once, with every step (checkCrashRun)');
    t.equal(result.timersFired, 3 * result.workflows, 'every timer fired once');
    t.ok(result.activityExecutions >= 3 * result.workflows, 'every activity ran at least once');
    t.ok(result.openAfterKills > 0, `work was in flight at the last kill (${result.openAfterKills} workflows open)`);
  });

  t.test('workers whose clocks are 4 s ahead and 4 s behind: event order holds, no timer fires early', async (t) => {
    const url = db.freshSchemaUrl();
    const log = path.join(dir, 'skew.log');
    const workers = [spawnChild(['worker', url, 'crash', log], { DEJA_CLOCK_SKEW_MS: '4000' }), spawnChild(['worker', url, 'crash', log], { DEJA_CLOCK_SKEW_MS: '-4000' })];
    t.teardown(async () => {
      for (const w of workers) w.process.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.exited));
    });
    await Promise.all(workers.map((w) => w.waitFor('ready')));
    const connection = new Connection({ backend: url });
    t.teardown(() => connection.close());
    const client = new WorkflowClient(connection.service);
    const sleepMs = 1500;
    const runs = await Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        const handle = await client.start('crashable', { taskQueue: 'crash', workflowId: `skew-${i}`, args: [2, sleepMs] });
        return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId! };
      }),
    );
    for (const run of runs) t.equal(await client.getHandle(run.workflowId).result(), `${run.workflowId}/0,${run.workflowId}/1`, `${run.workflowId} completed`);
    const begins = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('begin '));
    t.ok(new Set(begins.map((l) => l.split(' ')[3])).size >= 1, 'the skewed workers ran the activities');
    for (const run of runs) {
      const events = await connection.service.getHistory(run);
      makeHistory(run.workflowId, run.runId, events);
      const times = events.map((e) => Date.parse(e.eventTime));
      t.ok(times.every((time, i) => i === 0 || time >= times[i - 1]), `${run.workflowId}: event times never go backwards`);
      for (const fired of events.filter((e) => e.type === 'timerFired')) {
        const started = events.find((e) => e.eventId === (fired as { startedEventId: number }).startedEventId)!;
        t.ok(Date.parse(fired.eventTime) - Date.parse(started.eventTime) >= sleepMs, `${run.workflowId}: a timer of ${sleepMs} ms fired ${Date.parse(fired.eventTime) - Date.parse(started.eventTime)} ms after it started, not early`);
      }
    }
  });
})();
