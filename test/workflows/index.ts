/**
 * Workflows used by the tests and by replay-fixtures/ (they run inside the isolate).
 * Changing one changes what the recorded fixtures replay against: re-record them with
 * `node scripts/record-fixtures.js` instead of editing a fixture by hand.
 */
import {
  proxyActivities,
  sleep,
  condition,
  defineSignal,
  defineQuery,
  setHandler,
  workflowInfo,
  uuid4,
  ApplicationFailure,
  log,
  CancellationScope,
  isCancellation,
  executeChild,
  startChild,
  getExternalWorkflowHandle,
  ActivityCancellationType,
  patched,
  proxyLocalActivities,
  upsertSearchAttributes,
  upsertMemo,
} from 'deja/workflow';
import type * as activities from './activities';

const { greet, charge, flaky, fail } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: 5, maximumAttempts: 3 },
});

/** Three activities in sequence. */
export async function orderWorkflow(customer: string, amount: number): Promise<string> {
  const hello = await greet(customer);
  const receipt = await charge(customer, amount);
  const again = await greet(`${customer} (again)`);
  return `${hello} | ${receipt} | ${again}`;
}

/** An activity that fails twice, then succeeds on its third attempt (retry initial interval 5 ms). */
export async function retryWorkflow(): Promise<string> {
  return flaky();
}

/** Timers: sleeps given in ms and as a string, and a setTimeout. */
export async function timersWorkflow(): Promise<number> {
  const t0 = Date.now();
  await sleep(20);
  await sleep('30ms');
  await new Promise<void>((resolve) => setTimeout(resolve, 10));
  return Date.now() - t0;
}

export const addItem = defineSignal<[string]>('addItem');
export const checkout = defineSignal('checkout');
export const items = defineQuery<string[]>('items');

/** Signals with queries: collects items until checkout. */
export async function cartWorkflow(): Promise<string[]> {
  const cart: string[] = [];
  let done = false;
  setHandler(addItem, (item: string) => void cart.push(item));
  setHandler(checkout, () => void (done = true));
  setHandler(items, () => [...cart]);
  await condition(() => done);
  return cart;
}

/** Fails the workflow after an activity failure it cannot handle. */
export async function failingWorkflow(): Promise<void> {
  try {
    await fail('card declined');
  } catch (error) {
    throw ApplicationFailure.create({ message: `payment failed: ${(error as Error).message}`, type: 'PaymentError', nonRetryable: true, cause: error as Error });
  }
}

/** A condition with a timeout: approved within the timeout, or not. */
export const approve = defineSignal('approve');
export async function approvalWorkflow(timeoutMs: number): Promise<string> {
  let approved = false;
  setHandler(approve, () => void (approved = true));
  const inTime = await condition(() => approved, timeoutMs);
  return inTime ? 'approved' : 'timed out';
}

/** Every random source, drawn before and after a 1 ms sleep (an updateRandomSeed job may come between). */
export async function reseedWorkflow(): Promise<unknown> {
  const draw = () => {
    const bytes = new Uint8Array(2);
    crypto.getRandomValues(bytes);
    return { random: Math.random(), uuid: uuid4(), randomUUID: crypto.randomUUID(), bytes: [...bytes] };
  };
  const before = draw();
  await sleep(1);
  return { before, after: draw() };
}

/** Deterministic globals as the workflow sees them. */
export async function globalsWorkflow(): Promise<unknown> {
  const bytes = new Uint8Array(4);
  crypto.getRandomValues(bytes);
  return {
    random: [Math.random(), Math.random()],
    uuid: uuid4(),
    randomUUID: crypto.randomUUID(),
    bytes: [...bytes],
    now: Date.now(),
    date: new Date().toISOString(),
    hours: new Date(0).getHours(),
    offset: new Date().getTimezoneOffset(),
    localComponents: new Date(2020, 0, 2, 3, 4, 5).toISOString(),
    string: new Date(0).toString(),
    info: workflowInfo().workflowType,
  };
}

/** Mutates globals; another execution must not see it. */
export async function mutateGlobalsWorkflow(): Promise<string> {
  (Array.prototype as unknown as Record<string, unknown>).polluted = 'yes';
  (globalThis as Record<string, unknown>).leaked = 'yes';
  Math.max = () => 42;
  return 'mutated';
}

/** Reads what a polluting execution might have left behind. */
export async function observeGlobalsWorkflow(): Promise<unknown> {
  return {
    polluted: (Array.prototype as unknown as Record<string, unknown>).polluted ?? null,
    leaked: (globalThis as Record<string, unknown>).leaked ?? null,
    max: Math.max(1, 2),
  };
}

export async function weakRefWorkflow(): Promise<void> {
  new WeakRef({});
}

export async function infiniteLoopWorkflow(): Promise<void> {
  for (;;) {
    /* never yields */
  }
}

export async function memoryBombWorkflow(): Promise<number> {
  const hog: string[][] = [];
  // 8 MB a step: the isolate's memory limit is reached in a few steps, long before any deadline.
  for (;;) hog.push(new Array(1_000_000).fill('x'));
}

/** A plain Error (not an ApplicationFailure) is a bug: it fails the task, not the workflow. */
export async function buggyWorkflow(): Promise<void> {
  await sleep(1);
  throw new TypeError('oops');
}

/** One step of a scripted workflow (used by the property tests). */
export type Step =
  | { kind: 'activity'; arg: string }
  | { kind: 'timer'; ms: number }
  | { kind: 'signal'; name: string }
  | { kind: 'condition'; name: string; timeoutMs: number }
  | { kind: 'random' }
  /** A scope cancelled by hand around a timer, or one with a timeout around a timer (which wins decides the trace). */
  | { kind: 'scope'; mode: 'cancel' | 'timeout'; ms: number; timeoutMs: number }
  /** A non-cancellable scope inside a cancelled one: its activity runs to the end. */
  | { kind: 'shielded'; arg: string }
  /** A child workflow run to its result. */
  | { kind: 'child'; arg: string }
  /** A signal to this workflow itself through an external handle, or to a workflow that does not exist. */
  | { kind: 'external'; target: 'self' | 'missing' }
  /** `patched(id)`: true live, and true again on replay from its marker (the first call per id records it). */
  | { kind: 'patch'; id: string }
  /** A search attribute and a memo field upserted; the trace shows what workflowInfo() says after. */
  | { kind: 'upsert'; value: string }
  /** A local activity, run by the worker inside the task and replayed from its marker. */
  | { kind: 'local'; arg: string };

/** Runs a script of steps; returns a trace that depends on every result, time and random value. */
export async function scriptedWorkflow(steps: Step[]): Promise<string[]> {
  const trace: string[] = [];
  const received = new Map<string, number>();
  const seen = new Map<string, number>();
  for (const name of new Set(steps.filter((s) => s.kind === 'signal' || s.kind === 'condition').map((s) => (s as { name: string }).name))) {
    setHandler(defineSignal(name), () => void received.set(name, (received.get(name) ?? 0) + 1));
  }
  setHandler(defineQuery<string[]>('trace'), () => trace);
  let selfSignals = 0;
  setHandler(defineSignal('self'), () => void selfSignals++);
  const { echo } = proxyActivities<typeof activities>({ startToCloseTimeout: '10s' });
  const { echo: localEcho } = proxyLocalActivities<typeof activities>({ startToCloseTimeout: '5s' });
  let n = 0;
  for (const step of steps) {
    n++;
    switch (step.kind) {
      case 'activity':
        trace.push(await echo(step.arg));
        break;
      case 'timer':
        await sleep(step.ms);
        trace.push(`slept ${step.ms} at ${Date.now()}`);
        break;
      case 'signal': {
        const want = (seen.get(step.name) ?? 0) + 1;
        await condition(() => (received.get(step.name) ?? 0) >= want);
        seen.set(step.name, want);
        trace.push(`signal ${step.name} #${want}`);
        break;
      }
      case 'condition': {
        const want = (seen.get(step.name) ?? 0) + 1;
        const held = await condition(() => (received.get(step.name) ?? 0) >= want, step.timeoutMs);
        if (held) seen.set(step.name, want);
        trace.push(`condition ${step.name} ${held}`);
        break;
      }
      case 'random':
        trace.push(`random ${Math.random()} ${uuid4()}`);
        break;
      case 'scope': {
        try {
          if (step.mode === 'cancel') {
            await CancellationScope.cancellable(async () => {
              const slept = sleep(step.ms);
              if (step.timeoutMs % 2 === 0) CancellationScope.current().cancel();
              await slept;
            });
          } else {
            await CancellationScope.withTimeout(step.timeoutMs, () => sleep(step.ms));
          }
          trace.push(`scope ${step.mode} finished at ${Date.now()}`);
        } catch (err) {
          trace.push(`scope ${step.mode} ${isCancellation(err) ? 'cancelled' : 'failed'} at ${Date.now()}`);
        }
        break;
      }
      case 'shielded': {
        const scope = new CancellationScope();
        const run = scope.run(() => CancellationScope.nonCancellable(async () => [await echo(step.arg), await echo(`${step.arg}!`)]));
        scope.cancel();
        trace.push(`shielded ${(await run).join(' ')}`);
        break;
      }
      case 'child':
        trace.push(await executeChild(childEcho, { args: [step.arg], workflowId: `${workflowInfo().workflowId}-child-${n}` }));
        break;
      case 'external': {
        const target = step.target === 'self' ? workflowInfo().workflowId : `${workflowInfo().workflowId}-nobody`;
        try {
          await getExternalWorkflowHandle(target).signal(defineSignal('self'));
          await condition(() => selfSignals > 0);
          selfSignals--;
          trace.push('external signal to self arrived');
        } catch (err) {
          trace.push(`external signal failed: ${(err as Error).message}`);
        }
        break;
      }
      case 'patch':
        trace.push(`patched ${step.id} ${patched(step.id)}`);
        break;
      case 'upsert': {
        upsertSearchAttributes({ CustomKeywordField: [step.value] });
        upsertMemo({ last: step.value, n });
        const info = workflowInfo();
        trace.push(`upsert ${JSON.stringify(info.searchAttributes.CustomKeywordField)} ${JSON.stringify(info.memo)}`);
        break;
      }
      case 'local':
        trace.push(`local ${await localEcho(step.arg)}`);
        break;
    }
  }
  return trace;
}

/** A child for scriptedWorkflow: sleeps a little and echoes. */
export async function childEcho(arg: string): Promise<string> {
  await sleep(3);
  return `child ${arg} at ${Date.now()}`;
}

/**
 * For replay-fixtures/: sleeps an hour; cancelled, it greets in a non-cancellable scope, then
 * lets the cancellation escape (the run ends cancelled).
 */
export async function cancellationWorkflow(): Promise<string> {
  try {
    await sleep('1 hour');
    return 'slept';
  } finally {
    await CancellationScope.nonCancellable(() => greet('cleanup'));
  }
}

/**
 * For replay-fixtures/: an activity cancelled through its scope (and waited for until it confirms),
 * and a child cancelled through an external handle.
 */
export async function cancelRequestsWorkflow(): Promise<string> {
  const { untilCancelled } = proxyActivities<typeof activities>({
    startToCloseTimeout: '10s',
    heartbeatTimeout: '2s',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  });
  const scope = new CancellationScope();
  const running = scope.run(() => untilCancelled());
  await sleep(20);
  scope.cancel();
  const activity = await running.then(
    () => 'finished',
    (err) => (isCancellation(err) ? 'activity cancelled' : 'activity failed'),
  );
  const child = await startChild(approvalWorkflow, { args: [60_000], workflowId: `${workflowInfo().workflowId}-child` });
  await getExternalWorkflowHandle(child.workflowId).cancel();
  const kid = await child.result().then(
    (r) => r,
    (err) => (isCancellation(err) ? 'child cancelled' : 'child failed'),
  );
  return `${activity}; ${kid}`;
}

/** For replay-fixtures/: an activity, then a long sleep that a termination ends. */
export async function terminationWorkflow(): Promise<void> {
  await greet('before');
  await sleep('1 hour');
}

/** For replay-fixtures/: a child workflow, signalled through an external handle, and its result. */
export async function childWorkflowParent(name: string): Promise<string> {
  const child = await startChild(approvalWorkflow, { args: [60_000], workflowId: `${workflowInfo().workflowId}-child` });
  await getExternalWorkflowHandle(child.workflowId).signal(approve);
  const result = await child.result();
  try {
    await getExternalWorkflowHandle(`${workflowInfo().workflowId}-nobody`).signal(approve);
  } catch (err) {
    return `${name}: ${result}; ${(err as Error).message}`;
  }
  return `${name}: ${result}`;
}

/** A rejected promise nobody handles: a bug, it fails the workflow task. */
export async function unhandledRejectionWorkflow(): Promise<void> {
  void Promise.reject(new Error('forgotten'));
  await sleep(1);
}

/** Logs around a timer; the worker must print each line once, however often it is replayed. */
export async function loggingWorkflow(name: string): Promise<void> {
  console.log(`${name}: before`);
  await sleep(5);
  log.info(`${name}: after`);
}

/** Calls an activity whose result cannot be serialized. */
export async function badResultWorkflow(): Promise<string> {
  const { bigint } = proxyActivities<typeof activities>({ startToCloseTimeout: '10s' });
  try {
    await bigint();
    return 'no error';
  } catch (error) {
    return `${((error as Error).cause as Error).message}`;
  }
}
export * from './updates';
export * from './continue-as-new';
export * from './search-attributes';
export * from './patches';
export * from './temporal-compat';
