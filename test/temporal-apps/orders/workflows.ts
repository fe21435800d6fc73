// An order: reserve stock for each line, wait (up to two days) for a manager's approval, then
// charge and ship in a child workflow; without approval, release the stock again.
import { condition, defineQuery, defineSignal, executeChild, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type * as activities from './activities';

export interface OrderLine {
  sku: string;
  quantity: number;
}

export type OrderStatus = 'reserving' | 'awaiting approval' | 'charging' | 'shipping' | 'done' | 'expired';

export const approveOrder = defineSignal<[approver: string]>('approveOrder');
export const orderStatus = defineQuery<OrderStatus>('orderStatus');

const { reserveStock, releaseStock, chargeCard } = proxyActivities<typeof activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 3, initialInterval: '10ms' },
});
const { bookCourier } = proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute' });

export async function shipParcel(orderId: string, lines: number): Promise<string> {
  const label = await bookCourier(orderId, lines);
  return `${label} (parent ${workflowInfo().parent?.workflowId ?? 'none'})`;
}

export async function placeOrder(orderId: string, lines: OrderLine[], amountCents: number): Promise<string> {
  let status: OrderStatus = 'reserving';
  let approvedBy: string | undefined;
  setHandler(orderStatus, () => status);
  setHandler(approveOrder, (approver) => {
    approvedBy = approver;
  });

  const reserved: OrderLine[] = [];
  for (const line of lines) {
    await reserveStock(line.sku, line.quantity);
    reserved.push(line);
  }
  log.info('stock reserved', { orderId, lines: reserved.length });

  status = 'awaiting approval';
  if (!(await condition(() => approvedBy !== undefined, '2 days'))) {
    for (const line of reserved.reverse()) await releaseStock(line.sku, line.quantity);
    status = 'expired';
    return `${orderId}: expired, ${reserved.length} line(s) released`;
  }

  status = 'charging';
  const receipt = await chargeCard(orderId, amountCents);
  status = 'shipping';
  const label = await executeChild(shipParcel, { args: [orderId, reserved.length], workflowId: `${orderId}-parcel` });
  status = 'done';
  return `${orderId}: approved by ${approvedBy}, ${receipt}, ${label}`;
}
