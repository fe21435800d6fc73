// Worker and client in one process, on the embedded default backend (SQLite at ./.deja/deja.db,
// so the workflow outlives the process). `npm start` runs this.
import { Connection, WorkflowClient, Worker } from 'deja';
import * as activities from './activities';
import { processOrder, statusQuery } from './workflows';

export async function run(): Promise<string> {
  const connection = new Connection();
  const worker = await Worker.create({
    connection,
    taskQueue: 'orders',
    workflowsPath: require.resolve('./workflows'),
    activities,
  });
  const client = new WorkflowClient(connection.service);
  try {
    return await worker.runUntil(async () => {
      const handle = await client.start(processOrder, { taskQueue: 'orders', workflowId: `order-${Date.now()}`, args: ['A-1001', 42.5] });
      console.log(`started ${handle.workflowId}; status: ${await handle.query(statusQuery)}`);
      const result = await handle.result();
      console.log(`result: ${result}`);
      return result;
    });
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  run().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
