/** Activities for the test workflows (host side, plain async functions). */
import { ApplicationFailure } from 'deja/activity';

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
