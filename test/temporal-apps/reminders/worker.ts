// The reminders worker, started with `node -r deja/register` (or `--import deja/register`).
import { NativeConnection, Worker } from '@temporalio/worker';
import * as activities from './activities';

async function main(): Promise<void> {
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
  const worker = await Worker.create({ connection, taskQueue: 'reminders', workflowsPath: require.resolve('./workflows'), activities });
  console.log('worker ready');
  await worker.run();
  await connection.close();
  console.log('worker stopped');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
