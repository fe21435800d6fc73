/**
 * The bench workloads (inside the sandbox). One file for both engines: written against
 * `@temporalio/workflow`, which Temporal's bundler resolves to its SDK and deja's bundler aliases
 * to `deja/workflow`. So the logic each engine replays is the same source, byte for byte.
 */
import { proxyActivities, sleep, condition, defineSignal, setHandler } from '@temporalio/workflow';

export interface BenchActivities {
  step(i: number): Promise<number>;
  stepChanged(i: number): Promise<number>;
}

const { step } = proxyActivities<BenchActivities>({ startToCloseTimeout: '10s' });

/** n sequential activities; returns the sum of their results. */
export async function seqActivities(n: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await step(i);
  return sum;
}

/** n sequential 1 s timers. */
export async function timerLoop(n: number): Promise<number> {
  for (let i = 0; i < n; i++) await sleep('1s');
  return n;
}

export const tick = defineSignal<[number]>('tick');

/** Waits for n `tick` signals, one at a time; returns the sum of their arguments. */
export async function signalLoop(n: number): Promise<number> {
  let received = 0;
  let sum = 0;
  setHandler(tick, (value: number) => {
    received++;
    sum += value;
  });
  for (let i = 0; i < n; i++) await condition(() => received > i);
  return sum;
}
