/**
 * Workflows for test/cancellation.test.ts (they run inside the isolate): cancellation scopes,
 * activity and child cancellation types, child and external workflows, and the workflow's own
 * cancellation. Each returns what it saw, so the tests can assert it.
 */
import {
  ActivityCancellationType,
  CancellationScope,
  CancelledFailure,
  ChildWorkflowFailure,
  WorkflowExecutionAlreadyStartedError,
  condition,
  createExternalWorkflowHandle,
  defineSignal,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  rootCause,
  sleep,
  startChild,
  workflowInfo,
  type ChildWorkflowCancellationType,
} from 'deja/workflow';
import type * as activities from './activities';

const { greet } = proxyActivities<typeof activities>({ startToCloseTimeout: '10s' });

/** What an error is, in a form a test can compare. */
function describe(error: unknown): Record<string, unknown> {
  const e = error as { name?: string; message?: string; cause?: { name?: string; message?: string } };
  return { name: e.name, message: e.message, cause: e.cause?.name, causeMessage: e.cause?.message, cancellation: isCancellation(error), root: rootCause(error) };
}

/** Timers and conditions in cancelled scopes. */
export async function timerCancelWorkflow(): Promise<unknown[]> {
  // Cancelled in the activation that started it: the startTimer never leaves the isolate.
  const s1 = new CancellationScope();
  const p1 = s1.run(() => sleep(1000));
  s1.cancel();
  const e1 = await p1.catch(describe);
  // Started in an earlier activation: cancelTimer.
  const s2 = new CancellationScope();
  const p2 = s2.run(() => sleep(2000));
  await sleep(10);
  s2.cancel();
  const e2 = await p2.catch(describe);
  // A condition in a scope cancelled before it: rejects at once.
  const s3 = new CancellationScope();
  s3.cancel();
  const e3 = await s3.run(() => condition(() => false)).catch(describe);
  return [e1, e2, e3, s2.consideredCancelled];
}

/**
 * An activity whose scope is cancelled one activation after it was scheduled; then a timer, so
 * that a late resolution of the activity still reaches the workflow.
 */
export async function activityCancelWorkflow(cancellationType?: ActivityCancellationType): Promise<unknown> {
  const acts = proxyActivities<typeof activities>({ startToCloseTimeout: '10s', ...(cancellationType ? { cancellationType } : {}) });
  const scope = new CancellationScope();
  const p = scope.run(() => acts.greet('a'));
  await sleep(1);
  scope.cancel();
  let outcome: unknown;
  try {
    outcome = { result: await p };
  } catch (error) {
    outcome = describe(error);
  }
  await sleep(1);
  return outcome;
}

/** An activity cancelled in the activation that scheduled it: dropped, rejected at once. */
export async function activityDropWorkflow(): Promise<unknown> {
  const scope = new CancellationScope();
  const p = scope.run(() => greet('a'));
  scope.cancel();
  return p.catch(describe);
}

/** proxyActivities refuses a cancellation type it does not know. */
export async function badCancellationTypeWorkflow(): Promise<string> {
  try {
    proxyActivities({ startToCloseTimeout: '1s', cancellationType: 'SOMETIMES' as never });
    return 'accepted';
  } catch (error) {
    return (error as Error).message;
  }
}

/** Two activities in a non-cancellable scope, then one in the (cancelled) root, with cleanup. */
export async function nonCancellableWorkflow(): Promise<void> {
  const ab = await CancellationScope.nonCancellable(async () => {
    const a = await greet('a');
    const b = await greet('b');
    return `${a}${b}`;
  });
  try {
    await greet(ab);
  } finally {
    await CancellationScope.nonCancellable(() => greet('cleanup'));
  }
}

/** Two activities under one timeout. */
export async function withTimeoutWorkflow(): Promise<string> {
  try {
    return await CancellationScope.withTimeout(1000, async () => {
      const a = await greet('a');
      const b = await greet('b');
      return `${a}${b}`;
    });
  } catch (error) {
    return `timed out: ${isCancellation(error)}`;
  }
}

/** `.then` callbacks run in the scope they were registered in, across activations. */
export async function thenScopeWorkflow(): Promise<boolean[]> {
  const scope = new CancellationScope({ cancellable: false });
  const seen: boolean[] = [];
  await scope.run(() =>
    greet('a').then(() => {
      seen.push(CancellationScope.current() === scope);
      return greet('b');
    }),
  );
  seen.push(CancellationScope.current() === scope);
  return seen;
}

/** Waits; catches the workflow's cancellation and completes after a cleanup activity. */
export async function catchCancelWorkflow(): Promise<string> {
  try {
    await sleep(10_000);
    return 'slept';
  } catch (error) {
    if (!isCancellation(error)) throw error;
    return await CancellationScope.nonCancellable(() => greet('after'));
  }
}

/** Waits; lets the workflow's cancellation escape. */
export async function sleepWorkflow(): Promise<void> {
  await sleep(10_000);
}

/** Cancels a scope of its own and lets the CancelledFailure escape: a failure, not a cancellation. */
export async function ownCancelWorkflow(): Promise<void> {
  const scope = new CancellationScope();
  scope.cancel();
  await scope.run(() => sleep(1));
}

/** Scope options are checked; the scope tree links as Temporal's does. */
export async function scopeTreeWorkflow(): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const bad of [{ cancellable: 'yes' }, { timeot: 5 }, { parent: {} }]) {
    try {
      new CancellationScope(bad as never);
      out.push('accepted');
    } catch (error) {
      out.push((error as Error).message);
    }
  }
  const parent = new CancellationScope();
  const shield = new CancellationScope({ parent, cancellable: false });
  const below = new CancellationScope({ parent: shield });
  const child = new CancellationScope({ parent });
  parent.cancel();
  out.push(parent.consideredCancelled, child.consideredCancelled, shield.consideredCancelled, below.consideredCancelled);
  // A scope made under a cancelled one is cancelled from the start.
  out.push(new CancellationScope({ parent }).consideredCancelled);
  // The non-cancellable scope got the request, though: its cancelRequested rejected.
  out.push(await shield.cancelRequested.then(() => 'resolved', (e: unknown) => (e as Error).name));
  out.push(CancellationScope.current() === CancellationScope.current().parent, CancellationScope.current().parent === undefined);
  return out;
}

export const childSignal = defineSignal<[string]>('childSignal');

/** A child started in a scope that is cancelled after a signal to it went through. */
export async function childCancelWorkflow(cancellationType: ChildWorkflowCancellationType): Promise<unknown> {
  const scope = new CancellationScope();
  const handle = await scope.run(() => startChild('childFn', { workflowId: 'child-1', args: [1], cancellationType }));
  await handle.signal(childSignal, 'hi');
  scope.cancel();
  try {
    return { result: await handle.result(), runId: handle.firstExecutionRunId };
  } catch (error) {
    const e = error as ChildWorkflowFailure;
    return { ...describe(error), execution: e.execution, workflowType: e.workflowType, retryState: e.retryState };
  }
}

/** A child cancelled before its start was sent; then one whose id is taken. */
export async function childStartWorkflow(): Promise<unknown[]> {
  const out: unknown[] = [];
  const scope = new CancellationScope();
  const p = scope.run(() => startChild('childFn', { workflowId: 'never' }));
  scope.cancel();
  out.push(await p.then(() => 'started', describe));
  try {
    await executeChild('childFn', {
      workflowId: 'taken',
      taskQueue: 'kids',
      parentClosePolicy: 'PARENT_CLOSE_POLICY_ABANDON',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowTaskTimeout: '5s',
    });
  } catch (error) {
    const e = error as WorkflowExecutionAlreadyStartedError;
    out.push({ name: e.name, taken: error instanceof WorkflowExecutionAlreadyStartedError, workflowId: e.workflowId, workflowType: e.workflowType, message: e.message });
  }
  return out;
}

/** Child options that deja refuses, each with its message. */
export async function childOptionsWorkflow(): Promise<string[]> {
  const out: string[] = [];
  const tries: Record<string, unknown>[] = [{ workflowRunTimeout: 'forever' }, { retry: { maximumAttempts: -1 } }, { workflowIdReusePolicy: 'TERMINATE_IF_RUNNING' }, { color: 'red' }, { cancellationType: 'NEVER' }];
  for (const options of tries) {
    try {
      await startChild('childFn', options as never);
      out.push('accepted');
    } catch (error) {
      out.push((error as Error).message);
    }
  }
  return out;
}

/** executeChild in the root scope; the workflow is cancelled while the start is in flight. */
export async function childRootCancelWorkflow(): Promise<unknown> {
  return executeChild(childFn, { workflowId: 'kid' });
}

/** The child itself (its type name is what the parent's commands carry). */
export async function childFn(n: number): Promise<number> {
  return n + 1;
}

/** Signals and a cancel request to another workflow, and a signal dropped with its scope. */
export async function externalWorkflow(): Promise<unknown[]> {
  const handle = getExternalWorkflowHandle('other', 'run-o');
  const signalled = await handle.signal('poke', 1).then(
    () => 'delivered',
    (e: { name: string; type?: string; message: string }) => `${e.name}/${e.type}: ${e.message}`,
  );
  const cancelled = await handle.cancel().then(
    () => 'requested',
    (e: Error) => e.name,
  );
  const scope = new CancellationScope();
  const p = scope.run(() => createExternalWorkflowHandle('x').signal(childSignal, 'lost'));
  scope.cancel();
  const dropped = await p.then(() => 'sent', (e: Error) => (e instanceof CancelledFailure ? 'CancelledFailure' : e.name));
  return [signalled, cancelled, dropped, handle.workflowId, handle.runId];
}

/** What a child sees of its parent. */
export async function parentInfoWorkflow(): Promise<unknown> {
  return workflowInfo().parent ?? null;
}
