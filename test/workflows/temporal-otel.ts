/**
 * Workflows equivalent to those that recorded the OpenTelemetry histories in
 * ../shared/temporal-histories/ (see its INDEX.md): Temporal's `signalStartOtel`, `smorgasbord`
 * and `signalTarget`, written here from their descriptions, with `@temporalio/workflow` imports
 * (they run inside the isolate). test/temporal-otel.test.ts replays the recordings against them,
 * with the interceptor modules of test/workflows/otel/. The `…Changed` ones differ in one command,
 * for the nondeterminism checks. Activities are named only: replay never runs them.
 */
import {
  ActivityCancellationType,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  startChild,
} from '@temporalio/workflow';

import { approveSignal, topSecretGreetingChild } from './temporal-compat';

export { topSecretGreeting, topSecretGreetingChild } from './temporal-compat';

export const startSignal = defineSignal('startSignal');

const { a, b, c } = proxyLocalActivities<{ a(): Promise<string>; b(): Promise<string>; c(): Promise<string> }>({
  scheduleToCloseTimeout: '1m',
});

/** otel_1_11_3 / otel_1_13_1: started by signal-with-start; its handler runs `b` between `a` and `c`. */
export async function signalStartOtel(): Promise<string> {
  const order: string[] = [];
  order.push(await a());
  setHandler(startSignal, async () => {
    order.push(await b());
  });
  order.push(await c());
  return order.join('');
}

/** signalStartOtel with `c` first. */
export async function signalStartOtelChanged(): Promise<string> {
  const order: string[] = [];
  order.push(await c());
  setHandler(startSignal, async () => {
    order.push(await b());
  });
  order.push(await a());
  return order.join('');
}

export const activityStartedSignal = defineSignal('activityStarted');
export const unblockSignal = defineSignal('unblock');
export const stepQuery = defineQuery<number>('step');

interface SmorgasbordActivities {
  fakeProgress(sleepIntervalMs: number, numIters: number): Promise<void>;
  queryOwnWf(query: unknown): Promise<void>;
  echo(message: string): Promise<string>;
}

const { fakeProgress, queryOwnWf } = proxyActivities<SmorgasbordActivities>({
  startToCloseTimeout: '1m',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

const { echo } = proxyLocalActivities<SmorgasbordActivities>({
  startToCloseTimeout: '1m',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

/** The child of smorgasbord: waits for `unblock`. */
export async function signalTarget(): Promise<void> {
  let unblocked = false;
  setHandler(unblockSignal, () => void (unblocked = true));
  await condition(() => unblocked);
}

/** otel_smorgasbord_1_13_1, _1_13_2, otel_v2_smorgasbord_1_18_1: a little of everything. */
export async function smorgasbord(iteration = 0): Promise<void> {
  return smorgasbordOf(iteration, false);
}

/** smorgasbord without its timer. */
export async function smorgasbordChanged(iteration = 0): Promise<void> {
  return smorgasbordOf(iteration, true);
}

async function smorgasbordOf(iteration: number, changed: boolean): Promise<void> {
  let unblocked = false;
  setHandler(stepQuery, () => iteration);
  setHandler(activityStartedSignal, () => void (unblocked = true));
  try {
    await CancellationScope.cancellable(async () => {
      const activityPromise = fakeProgress(100, 10);
      const queryActPromise = queryOwnWf(stepQuery);
      const timerPromise = changed ? Promise.resolve() : sleep(1000);
      const childWfPromise = (async () => {
        const childWf = await startChild(signalTarget, {});
        await childWf.signal(unblockSignal);
        await childWf.result();
      })();
      const localActivityPromise = echo('local-activity');
      if (iteration === 0) CancellationScope.current().cancel();
      await Promise.all([activityPromise, queryActPromise, timerPromise, childWfPromise, localActivityPromise, condition(() => unblocked)]);
    });
  } catch (e) {
    if (iteration !== 0 || !isCancellation(e)) throw e;
  }
  if (iteration < 2) await continueAsNew<typeof smorgasbord>(iteration + 1);
}

/** topSecretGreeting without its 1 ms sleep. */
export async function topSecretGreetingChanged(name: string): Promise<string> {
  const child = await startChild(topSecretGreetingChild, { args: [name] });
  await child.signal(approveSignal);
  return await child.result();
}
