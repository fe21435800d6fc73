/**
 * Workflows for test/language.test.ts (they run inside the isolate): cancellation, termination,
 * child and external workflows, end to end with a real worker.
 */
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ChildWorkflowFailure,
  ParentClosePolicy,
  WorkflowExecutionAlreadyStartedError,
  condition,
  defineQuery,
  defineSignal,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
} from 'deja/workflow';
import type * as activities from './language-activities';

type CancelType = keyof typeof ActivityCancellationType;

const acts = (cancellationType: CancelType = 'TRY_CANCEL') =>
  proxyActivities<typeof activities>({
    startToCloseTimeout: '1 minute',
    heartbeatTimeout: '5 seconds',
    retry: { maximumAttempts: 1 },
    cancellationType: ActivityCancellationType[cancellationType],
  });

export const poke = defineSignal<[string]>('poke');
export const state = defineQuery<string>('state');

/** Sleeps a day; on cancellation, two cleanup activities run in a non-cancellable scope, then it ends cancelled. */
export async function sleepThenCleanup(): Promise<string> {
  const { cleanup } = acts();
  try {
    await sleep('1 day');
    return 'slept';
  } finally {
    await CancellationScope.nonCancellable(async () => {
      await cleanup('first');
      await cleanup('second');
    });
  }
}

/** Catches its cancellation and completes. */
export async function catchesCancel(): Promise<string> {
  try {
    await sleep('1 day');
    return 'slept';
  } catch (err) {
    if (isCancellation(err)) return 'caught';
    throw err;
  }
}

/** An activity that runs until cancelled, under the given cancellation type; the workflow reports what it saw. */
export async function cancelDuringActivity(type: CancelType, tag: string): Promise<string> {
  const { waitForCancel } = acts(type);
  try {
    await waitForCancel(tag);
    return 'finished';
  } catch (err) {
    if (isCancellation(err)) return `cancelled ${String(type)}`;
    throw err;
  }
}

/** Runs an activity until something stops it (termination). */
export async function runsActivity(tag: string): Promise<string> {
  return acts().waitForCancel(tag);
}

/** A scope with a timeout covers both of its activities, the second started after an await. */
export async function scopeTimeout(tag: string): Promise<string> {
  const { quick, waitForCancel } = acts('WAIT_CANCELLATION_COMPLETED');
  try {
    await CancellationScope.withTimeout('300 ms', async () => {
      await quick();
      await waitForCancel(tag);
    });
    return 'no timeout';
  } catch (err) {
    return isCancellation(err) ? 'timed out' : `other: ${String(err)}`;
  }
}

export async function childSleeper(): Promise<string> {
  try {
    await sleep('1 day');
    return 'woke';
  } catch (err) {
    if (isCancellation(err)) throw err;
    throw err;
  }
}

/** Starts a child that sleeps, with a parent close policy, and waits for it; the child is abandoned when the parent is cancelled. */
export async function parentWithPolicy(policy: keyof typeof ParentClosePolicy, childId: string): Promise<string> {
  const child = await startChild(childSleeper, {
    workflowId: childId,
    parentClosePolicy: ParentClosePolicy[policy],
    cancellationType: ChildWorkflowCancellationType.ABANDON,
  });
  return child.result();
}

/** Waits for its child; cancelling the parent cancels the child (the default: wait until it ends cancelled). */
export async function parentWaitsForCancelledChild(childId: string): Promise<string> {
  const child = await startChild(childSleeper, { workflowId: childId });
  return child.result();
}

export async function failingChild(message: string): Promise<never> {
  throw ApplicationFailure.nonRetryable(message, 'KidError');
}

/** A child that fails reaches the parent as a ChildWorkflowFailure with the cause. */
export async function parentOfFailingChild(): Promise<string> {
  try {
    await executeChild(failingChild, { args: ['kid broke'], workflowId: `${workflowInfo().workflowId}-kid` });
    return 'no failure';
  } catch (err: unknown) {
    if (err instanceof ChildWorkflowFailure) return `${err.message} | ${(err.cause as Error).message} | ${(err.cause as ApplicationFailure).type}`;
    throw err;
  }
}

/** Waits for a poke; returns it with what it knows of its parent. */
export async function pokedChild(): Promise<{ poked: string; parent: unknown }> {
  let poked = '';
  setHandler(poke, (value: string) => void (poked = value));
  setHandler(state, () => poked || 'waiting');
  await condition(() => poked !== '');
  return { poked, parent: workflowInfo().parent };
}

/** Starts a child by type name, signals it through its handle, and returns its result. */
export async function parentSignalsChild(): Promise<unknown> {
  const child = await startChild('pokedChild', { workflowId: `${workflowInfo().workflowId}-kid` });
  await child.signal(poke, 'from parent');
  return { result: await child.result(), hasRunId: typeof child.firstExecutionRunId === 'string' };
}

/** A child whose workflow id is taken: the start fails with WorkflowExecutionAlreadyStartedError. */
export async function childIdTaken(takenId: string): Promise<string> {
  try {
    await startChild(childSleeper, { workflowId: takenId });
    return 'started';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'taken';
    throw err;
  }
}

/** Signals a workflow by id, then one that does not exist (the failure is catchable). */
export async function signaller(targetId: string): Promise<string> {
  await getExternalWorkflowHandle(targetId).signal(poke, 'from outside');
  try {
    await getExternalWorkflowHandle(`${targetId}-missing`).signal(poke, 'nobody');
    return 'delivered to nobody';
  } catch (err) {
    return `missing: ${(err as Error).message}`;
  }
}

/** Cancels a workflow by id. */
export async function canceller(targetId: string): Promise<string> {
  await getExternalWorkflowHandle(targetId).cancel();
  return 'requested';
}

/** Counts signals; a query right after a signal must see it. */
export async function counter(): Promise<number> {
  let count = 0;
  setHandler(poke, (_value: string) => void count++);
  setHandler(state, () => String(count));
  await condition(() => count >= 3);
  return count;
}

/** A recursive async function: its lowered body is named apart from it, so the call still reaches the function. */
async function countdown(n: number): Promise<number> {
  if (n === 0) return 0;
  await sleep(1);
  return 1 + (await countdown(n - 1));
}
const countdownArrow = async (n: number): Promise<number> => (n === 0 ? 0 : 1 + (await countdownArrow(n - 1)));
class Counter {
  async count(n: number): Promise<number> {
    return n === 0 ? 0 : 1 + (await this.count(n - 1));
  }
}
export async function recursion(n: number): Promise<number[]> {
  return [await countdown(n), await countdownArrow(n), await new Counter().count(n)];
}
