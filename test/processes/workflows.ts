/**
 * Workflows for the tests that run deja in several processes on one SQLite file (they run inside
 * the isolate): a workflow of activities and durable timers that a crash may interrupt anywhere,
 * and the reference page's signal-collecting workflow.
 */
import { proxyActivities, sleep, condition, defineSignal, setHandler, workflowInfo } from 'deja/workflow';

interface Activities {
  step(key: string): Promise<string>;
}

const { step } = proxyActivities<Activities>({
  startToCloseTimeout: '1 second',
  retry: { initialInterval: '50 milliseconds', backoffCoefficient: 1, maximumInterval: '50 milliseconds' },
});

/** `steps` activities, each followed by a durable timer of `sleepMs`. */
export async function crashable(steps: number, sleepMs: number): Promise<string> {
  const done: string[] = [];
  for (let i = 0; i < steps; i++) {
    done.push(await step(`${workflowInfo().workflowId}/${i}`));
    await sleep(sleepMs);
  }
  return done.join(',');
}

export const addSignal = defineSignal<[string]>('add');

/** Collects `count` signals, then returns them in the order they arrived. */
export async function collect(count: number): Promise<string[]> {
  const items: string[] = [];
  setHandler(addSignal, (item: string) => void items.push(item));
  await condition(() => items.length >= count);
  return items;
}
