// The order's side effects. Stock is a map in this process; the card refuses amounts over 1000.00.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { stock } from './stock';

export async function reserveStock(sku: string, quantity: number): Promise<void> {
  const left = stock.get(sku) ?? 0;
  if (left < quantity) throw ApplicationFailure.nonRetryable(`only ${left} ${sku} left`, 'OutOfStock');
  stock.set(sku, left - quantity);
}

export async function releaseStock(sku: string, quantity: number): Promise<void> {
  stock.set(sku, (stock.get(sku) ?? 0) + quantity);
}

export async function chargeCard(orderId: string, amountCents: number): Promise<string> {
  if (amountCents > 100_000) throw ApplicationFailure.nonRetryable(`card declined for ${orderId}`, 'CardDeclined');
  return `charged ${(amountCents / 100).toFixed(2)} on attempt ${Context.current().info.attempt}`;
}

export async function bookCourier(orderId: string, lines: number): Promise<string> {
  return `label ${orderId}/${lines}`;
}
