/**
 * The test workflows after an incompatible change: each keeps its name but emits other commands.
 * Replaying replay-fixtures/ against this module must fail with DeterminismViolationError.
 */
import { defineUpdate, allHandlersFinished } from 'deja/workflow';
import { proxyActivities, sleep, condition, defineSignal, setHandler, startChild, getExternalWorkflowHandle, workflowInfo, makeContinueAsNewFunc } from 'deja/workflow';
import { upsertMemo, upsertSearchAttributes } from 'deja/workflow';
import type * as activities from './activities';

const { greet, charge, fail } = proxyActivities<typeof activities>({ startToCloseTimeout: '10s' });

/** Charges before greeting. */
export async function orderWorkflow(customer: string, amount: number): Promise<string> {
  const receipt = await charge(customer, amount);
  const hello = await greet(customer);
  return `${hello} | ${receipt}`;
}

/** Sleeps longer first and then calls an activity instead of the second sleep. */
export async function timersWorkflow(): Promise<number> {
  await sleep(20);
  await greet('timer');
  return 0;
}

/** Greets every item as it arrives. */
export async function cartWorkflow(): Promise<string[]> {
  const cart: string[] = [];
  let done = false;
  setHandler(defineSignal<[string]>('addItem'), (item: string) => void cart.push(item));
  setHandler(defineSignal('checkout'), () => void (done = true));
  await condition(() => done || cart.length > 0);
  await greet(cart[0] ?? 'nobody');
  await condition(() => done);
  return cart;
}

/** Swallows the payment failure and completes. */
export async function failingWorkflow(): Promise<void> {
  try {
    await fail('card declined');
  } catch {
    return;
  }
}

/** Waits without a timeout. */
export async function approvalWorkflow(): Promise<string> {
  let approved = false;
  setHandler(defineSignal('approve'), () => void (approved = true));
  await condition(() => approved);
  return 'approved';
}

/** Cleans up without a non-cancellable scope: its greet is cancelled too (no activity at all). */
export async function cancellationWorkflow(): Promise<string> {
  await sleep('1 hour');
  return 'slept';
}

/** Sleeps before the activity. */
export async function terminationWorkflow(): Promise<void> {
  await sleep('1 hour');
  await greet('before');
}

/** Starts the child under another workflow id. */
export async function childWorkflowParent(name: string): Promise<string> {
  const child = await startChild(approvalWorkflow, { args: [], workflowId: `${workflowInfo().workflowId}-kid` });
  await getExternalWorkflowHandle(child.workflowId).signal(defineSignal('approve'));
  return `${name}: ${await child.result()}`;
}

/** Cancels the child first, then the activity. */
export async function cancelRequestsWorkflow(): Promise<string> {
  const child = await startChild(approvalWorkflow, { args: [], workflowId: `${workflowInfo().workflowId}-child` });
  await getExternalWorkflowHandle(child.workflowId).cancel();
  return 'changed';
}

/** Charges in its update handler instead of greeting. */
export async function updateFixtureWorkflow(): Promise<string[]> {
  const log: string[] = [];
  let done = false;
  setHandler(defineUpdate<string, [string]>('greet'), async (name: string) => {
    const receipt = await charge(name, 1);
    log.push(receipt);
    return receipt;
  });
  setHandler(defineSignal('finish'), () => void (done = true));
  await condition(() => done);
  await condition(allHandlersFinished);
  return log;
}

/** Continues as new under another workflow type. */
export async function countdownWorkflow(n: number, seen: number[] = []): Promise<unknown> {
  if (n > 0) {
    await greet(`run ${n}`);
    await makeContinueAsNewFunc({ workflowType: 'chainInfoWorkflow' })(n - 1, [...seen, n]);
  }
  return seen;
}

/** The cron's first run no longer fails. */
export async function cronWorkflow(): Promise<string> {
  return `no failure at ${new Date().toISOString()}`;
}

/** Upserts the memo before the search attributes. */
export async function upsertWorkflow(): Promise<void> {
  upsertMemo({ note: 'hello' });
  upsertSearchAttributes({ CustomKeywordField: ['updated'] });
  await sleep(10);
}

/** Greets and charges whatever the patch says, without waiting (patch_before and patch_after against changed code). */
export async function patchWorkflow(name: string): Promise<string> {
  return `${await greet(name)} ${await charge(name, 1)}`;
}

/** Its local activities are plain activities now. */
export async function localActivityWorkflow(name: string): Promise<string> {
  return greet(name);
}
