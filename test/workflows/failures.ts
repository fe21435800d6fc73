/**
 * Workflows whose tasks fail, for test/failures.test.ts (they run inside the isolate). The test
 * finds the lines it expects by the `// at:` markers, so a marker must stay on the line it names.
 * The namespace import of the workflow API is deliberate: it must keep working.
 */
import * as wf from 'deja/workflow';
import type * as activities from './activities';

const { greet } = wf.proxyActivities<typeof activities>({ startToCloseTimeout: '10s' });

interface Order {
  items?: string[];
}

/** A bug in workflow code: a TypeError in a helper, after an activity and a timer. */
export async function brokenOrder(order: Order): Promise<number> {
  await greet('broken');
  await wf.sleep(10);
  return countItems(order); // at: brokenOrder calls countItems
}

function countItems(order: Order): number {
  return order.items!.length; // at: countItems throws
}

/**
 * Fails its first task (the same error) until 5 s of workflow time have passed, then completes
 * it and sleeps a minute; then fails every task with the same error again: two failure streaks.
 */
export async function relapsing(): Promise<void> {
  const ready = () => Date.now() - wf.workflowInfo().startTime >= 5000;
  if (!ready()) throw new Error('not ready yet');
  await wf.sleep(60_000);
  throw new Error('not ready yet');
}

/** Fails every task, each time with another message (it names the task's time). */
export async function changingFailure(): Promise<void> {
  throw new Error(`failed at ${Date.now()}`);
}

/** Never yields: its task runs past the CPU deadline every time. */
export async function spinning(): Promise<void> {
  for (;;);
}
