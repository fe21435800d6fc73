// Activities: plain async functions on the host, free to do I/O.
export async function reserveInventory(orderId: string): Promise<string> {
  return `reserved items for ${orderId}`;
}

export async function chargeCard(orderId: string, amount: number): Promise<string> {
  return `charged $${amount.toFixed(2)} for ${orderId}`;
}
