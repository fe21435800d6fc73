// An order that ships through a child workflow, and cleans up when it is cancelled. Written
// against the Temporal API (`'@temporalio/workflow'` works unchanged in a workflow bundle).
import { CancellationScope, executeChild, isCancellation, proxyActivities, sleep, workflowInfo } from 'deja/workflow';
import type * as activities from './activities';

const { reserveStock, releaseStock, notifyCustomer } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10 seconds',
});

/** Waits for a courier (a day here), then ships. */
export async function shipOrder(orderId: string): Promise<string> {
  await sleep('1 day');
  return `shipped ${orderId}`;
}

/** Reserves stock and ships; cancelled, it gives the stock back and tells the customer. */
export async function placeOrder(orderId: string): Promise<string> {
  await reserveStock(orderId);
  try {
    // Cancelling this workflow cancels the child too, and waits until it has ended cancelled.
    return await executeChild(shipOrder, { args: [orderId], workflowId: `${workflowInfo().workflowId}-shipping` });
  } catch (err) {
    if (!isCancellation(err)) throw err;
    // Cleanup that the cancellation does not interrupt, two activities long.
    await CancellationScope.nonCancellable(async () => {
      await releaseStock(orderId);
      await notifyCustomer(orderId, 'your order was cancelled');
    });
    throw err; // the run ends CANCELLED
  }
}
