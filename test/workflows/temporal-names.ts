// Workflows for test/temporal-names.test.ts: the @temporalio/workflow names added for issue 12
// item 5, used as a Temporal workflow author would.
import {
  Trigger,
  CancellationScope,
  isCancellation,
  defineSignal,
  defineQuery,
  defineUpdate,
  setHandler,
  condition,
  sleep,
  scheduleActivity,
  scheduleLocalActivity,
  proxyActivities,
  getCurrentDetails,
  setCurrentDetails,
  inWorkflowContext,
  extractWorkflowType,
  addDefaultWorkflowOptions,
  metricMeter,
  workflowRandom,
  uuid4,
  ValueError,
  WorkflowError,
  DeterminismViolationError,
  encodeWorkflowIdReusePolicy,
  decodeWorkflowIdConflictPolicy,
} from '@temporalio/workflow';

export const release = defineSignal<[string]>('release');
export const stepQuery = defineQuery<string>('step');

/** Waits on a Trigger that a signal resolves; a second trigger is cancelled with its scope. */
export async function triggered(): Promise<{ value: string; cancelled: boolean; again: string }> {
  const trigger = new Trigger<string>();
  setHandler(release, (value) => trigger.resolve(value));
  setHandler(stepQuery, () => 'waiting', { description: 'where the workflow is' });
  const value = await trigger;
  let cancelled = false;
  await CancellationScope.cancellable(async () => {
    const inner = new Trigger<void>();
    CancellationScope.current().cancel();
    try {
      await inner;
    } catch (e) {
      cancelled = isCancellation(e);
    }
  });
  // A trigger in the root scope resolves when it is told to (sleep takes Temporal's TimerOptions).
  const again = new Trigger<string>();
  await sleep(10, { summary: 'a pause' });
  again.resolve('late');
  return { value, cancelled, again: await again };
}

/** The function forms of activity scheduling, and executeWithOptions. */
export async function scheduling(): Promise<unknown[]> {
  const a = await scheduleActivity<string>('echo', ['one'], { startToCloseTimeout: '1m' });
  const b = await scheduleLocalActivity<string>('echo', ['two'], { startToCloseTimeout: '1m' });
  const { echo } = proxyActivities<{ echo(s: string): Promise<string> }>({ startToCloseTimeout: '1m' });
  const c = await echo.executeWithOptions({ startToCloseTimeout: '2m', retry: { maximumAttempts: 2 } }, ['three']);
  return [a, b, c];
}

export const finish = defineSignal('finish');
export const bump = defineUpdate<number, [number]>('bump');

/** Sets its current details, which the metadata query reads; registers a signal, query and update. */
export async function detailed(): Promise<string> {
  setCurrentDetails('starting');
  let done = false;
  let total = 0;
  setHandler(finish, () => void (done = true), { description: 'ends the workflow' });
  setHandler(stepQuery, () => getCurrentDetails());
  setHandler(bump, (n) => (total += n), { description: 'adds n' });
  setCurrentDetails(`waiting (total ${total})`);
  await condition(() => done);
  return getCurrentDetails();
}

/** The pure helpers, the error classes and the no-op meter, inside the isolate. */
export async function helpers(): Promise<Record<string, unknown>> {
  const counter = metricMeter.createCounter('calls', 'count', 'calls made');
  counter.add(1);
  metricMeter.withTags({ a: 1 }).createHistogram('h', 'float').record(1.5);
  const options = addDefaultWorkflowOptions({ taskQueue: 'q' });
  const before = workflowRandom.random();
  const bytes = Array.from(workflowRandom.fill(new Uint8Array(4)));
  let valueError = false;
  try {
    encodeWorkflowIdReusePolicy('NOPE' as never);
  } catch (e) {
    valueError = e instanceof ValueError && (e as Error).name === 'ValueError';
  }
  return {
    inWorkflowContext: inWorkflowContext(),
    type: extractWorkflowType(helpers),
    options: { ...options, workflowIdLength: options.workflowId.length, workflowId: undefined },
    counter: { name: counter.name, kind: counter.kind },
    before,
    bytes,
    uuid: uuid4(),
    random: workflowRandom.random(),
    valueError,
    determinismIsWorkflowError: new DeterminismViolationError('x') instanceof WorkflowError,
    reuse: encodeWorkflowIdReusePolicy('WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE'),
    conflict: decodeWorkflowIdConflictPolicy(2),
  };
}
