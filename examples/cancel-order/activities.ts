// Activities of the cancel-order example: plain async functions on the host.
export async function reserveStock(orderId: string): Promise<string> {
  return `reserved stock for ${orderId}`;
}
export async function releaseStock(orderId: string): Promise<string> {
  return `released stock for ${orderId}`;
}
export async function notifyCustomer(orderId: string, message: string): Promise<string> {
  return `told ${orderId}: ${message}`;
}
