/** Activities for the test workflows (host side, plain async functions). */
import { ApplicationFailure, Context } from 'deja/activity';

export async function greet(name: string): Promise<string> {
  return `Hello, ${name}!`;
}
export async function charge(customer: string, amount: number): Promise<string> {
  return `charged ${customer} ${amount.toFixed(2)}`;
}
let flakyCalls = 0;
/** Fails twice, then succeeds. */
export async function flaky(): Promise<string> {
  flakyCalls++;
  if (flakyCalls % 3 !== 0) throw new Error(`flaky failure ${flakyCalls}`);
  return 'finally';
}
export async function fail(reason: string): Promise<never> {
  throw ApplicationFailure.nonRetryable(reason, 'CardError');
}
export async function echo(value: string): Promise<string> {
  return `echo ${value}`;
}
/** Returns a value that cannot be a payload. */
export async function bigint(): Promise<bigint> {
  return 10n;
}
/** Heartbeats until it is cancelled, then confirms the cancellation (replay-fixtures' cancel_requests). */
export async function untilCancelled(): Promise<string> {
  const ctx = Context.current();
  for (;;) {
    ctx.heartbeat();
    await ctx.sleep(10);
  }
}
