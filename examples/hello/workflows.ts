// Workflow code: runs inside a deterministic V8 isolate. Written against the Temporal API;
// `import … from '@temporalio/workflow'` works unchanged.
import { proxyActivities, sleep, defineQuery, setHandler } from 'deja/workflow';
import type * as activities from './activities';

const { reserveInventory, chargeCard } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});

export const statusQuery = defineQuery<string>('status');

export async function processOrder(orderId: string, amount: number): Promise<string> {
  let status = 'reserving';
  setHandler(statusQuery, () => status);
  const reservation = await reserveInventory(orderId);
  status = 'waiting';
  await sleep('100ms'); // a durable timer: recorded in history, not a timer of the host
  status = 'charging';
  const receipt = await chargeCard(orderId, amount);
  status = 'done';
  return `${reservation}; ${receipt}`;
}
