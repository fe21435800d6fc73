/**
 * The bench workloads with their last step changed (inside the sandbox). Replaying a history of
 * workflows.ts against these must fail with each engine's nondeterminism error: that is how the
 * bench proves the generated Temporal histories are checked command by command, not skimmed.
 */
import { proxyActivities, sleep, condition, defineSignal, setHandler } from '@temporalio/workflow';
import type { BenchActivities } from './workflows';

const { step, stepChanged } = proxyActivities<BenchActivities>({ startToCloseTimeout: '10s' });

/** The last activity is another activity type. */
export async function seqActivities(n: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += i === n - 1 ? await stepChanged(i) : await step(i);
  return sum;
}

/** The last timer is an activity instead. */
export async function timerLoop(n: number): Promise<number> {
  for (let i = 0; i < n; i++) {
    if (i === n - 1) await step(i);
    else await sleep('1s');
  }
  return n;
}

export const tick = defineSignal<[number]>('tick');

/** After the last signal it sleeps before returning. */
export async function signalLoop(n: number): Promise<number> {
  let received = 0;
  let sum = 0;
  setHandler(tick, (value: number) => {
    received++;
    sum += value;
  });
  for (let i = 0; i < n; i++) await condition(() => received > i);
  await sleep('1s');
  return sum;
}
