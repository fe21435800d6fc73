// Cancelling a running order from the client: `node --no-node-snapshot dist/examples/cancel-order/main.js`.
// The workflow's cleanup runs, its child is cancelled with it, and both end CANCELLED.
import { CancelledFailure, Connection, WorkflowClient, WorkflowFailedError, Worker } from 'deja';
import * as activities from './activities';
import { placeOrder } from './workflows';

export interface Outcome {
  order: string;
  shipping: string;
  activities: string[];
}

export async function run(): Promise<Outcome> {
  const connection = new Connection();
  const worker = await Worker.create({ connection, taskQueue: 'cancel-order', workflowsPath: require.resolve('./workflows'), activities });
  const client = new WorkflowClient({ connection });
  try {
    return await worker.runUntil(async () => {
      const handle = await client.start(placeOrder, { taskQueue: 'cancel-order', workflowId: `order-${Date.now()}`, args: ['A-1002'] });
      const shipping = client.getHandle(`${handle.workflowId}-shipping`);
      // Wait until the shipping child is under way (it has started and is sleeping).
      for (;;) {
        const started = await shipping.describe().then(
          (d) => d.historyLength > 4,
          () => false,
        );
        if (started) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await handle.cancel();
      const order = await handle.result().then(
        () => 'COMPLETED',
        (err: unknown) => (err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure ? 'CANCELLED' : `failed: ${String(err)}`),
      );
      const history = await handle.fetchHistory();
      const ran = history.events.flatMap((e) => (e.type === 'activityTaskCompleted' ? [String(e.result)] : []));
      const outcome = { order, shipping: (await shipping.describe()).status.name, activities: ran };
      console.log(JSON.stringify(outcome, null, 2));
      return outcome;
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
