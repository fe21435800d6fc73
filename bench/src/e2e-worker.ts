/**
 * A worker process for measures 9 and 10 (host side): `e2e-worker.ts <file> <taskQueue>` runs a Worker on
 * SQLite at <file> (or on the backend <file> names, postgres://…) with the bench's workflows and activities until SIGTERM. `e2e-worker.ts <file>
 * --echo` answers every change another process commits with a write of its own (the feed's
 * wake-up measure). Prints "ready" once it polls.
 */
import { Connection, Worker } from './deja';
import { SqliteStore } from '../../lib/backends/sqlite';
import { activities } from './record';
import { dejaBundle } from './setup';

async function main(): Promise<void> {
  const [file, taskQueue] = process.argv.slice(2);
  if (taskQueue === '--echo') {
    const store = new SqliteStore(file);
    let n = 0;
    store.changes.subscribe((change) => {
      if (change.type !== 'any') return;
      void store.transaction((tx) => tx.queries.insert({ queryId: `pong-${process.pid}-${++n}`, workflowId: 'w', runId: 'r', workflowType: 't', taskQueue: 'pong', queryType: 'p', args: [] }));
    });
    setInterval(() => undefined, 1 << 30);
    process.on('SIGTERM', () => void store.close().then(() => process.exit(0)));
    process.stdout.write('ready\n');
    return;
  }
  // A backend string (postgres://…) as it is; a path as its SQLite file.
  const connection = new Connection({ backend: /^[a-z]+:/.test(file) ? file : `sqlite:${file}` });
  const worker = await Worker.create({ connection, taskQueue, workflowBundle: await dejaBundle('workflows'), activities, logger: () => undefined });
  process.on('SIGTERM', () => worker.shutdown());
  const running = worker.run();
  process.stdout.write('ready\n');
  await running;
  await connection.close();
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
