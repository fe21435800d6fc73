// Places two orders against the running worker: one approved, one whose card is declined.
import { ActivityFailure, ApplicationFailure, Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { approveOrder, orderStatus, placeOrder } from './workflows';

async function main(): Promise<void> {
  const config = loadClientConnectConfig();
  const connection = await Connection.connect(config.connectionOptions);
  const client = new Client({ connection, namespace: config.namespace });

  const handle = await client.workflow.start(placeOrder, {
    taskQueue: 'orders',
    workflowId: 'order-1001',
    args: ['order-1001', [{ sku: 'kettle', quantity: 2 }, { sku: 'teapot', quantity: 1 }], 4_250],
  });
  let status = await handle.query(orderStatus);
  while (status !== 'awaiting approval') {
    await new Promise((resolve) => setTimeout(resolve, 20));
    status = await handle.query(orderStatus);
  }
  console.log(`status: ${status}`);
  await handle.signal(approveOrder, 'maria');
  console.log(`result: ${await handle.result()}`);

  const declined = await client.workflow.start(placeOrder, {
    taskQueue: 'orders',
    workflowId: 'order-1002',
    args: ['order-1002', [{ sku: 'kettle', quantity: 1 }], 250_000],
  });
  await declined.signal(approveOrder, 'li');
  try {
    await declined.result();
    console.log('declined: no error');
  } catch (err) {
    if (err instanceof WorkflowFailedError && err.cause instanceof ActivityFailure && err.cause.cause instanceof ApplicationFailure) {
      console.log(`declined: ${err.cause.cause.type}: ${err.cause.cause.message}`);
    } else {
      throw err;
    }
  }
  const { count } = await client.workflow.count('WorkflowType = "placeOrder"');
  console.log(`orders: ${count}`);
  await connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
