/**
 * Workflows equivalent to those that recorded the Temporal histories in
 * ../shared/temporal-histories/ (see its INDEX.md), written here from their descriptions
 * (they run inside the isolate). test/temporal-history.test.ts replays those recordings against
 * them. The activities are named only: replay never runs them.
 */
import {
  ActivityCancellationType,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  uuid4,
} from 'deja/workflow';

interface CompatActivities {
  fakeProgress(): Promise<void>;
}

const { fakeProgress } = proxyActivities<CompatActivities>({
  startToCloseTimeout: '200s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

export const activityStartedSignal = defineSignal('activityStarted');

/**
 * cancel_fake_progress_history: starts an activity in a cancellable scope, waits for the signal
 * that says it started, cancels the scope, and expects the activity to end cancelled.
 */
export async function cancelFakeProgress(): Promise<void> {
  let started = false;
  setHandler(activityStartedSignal, () => {
    started = true;
  });
  try {
    await CancellationScope.cancellable(async () => {
      const running = fakeProgress();
      await condition(() => started);
      CancellationScope.current().cancel();
      await running;
    });
  } catch (error) {
    if (isCancellation(error)) return;
    throw error;
  }
  throw new Error('fakeProgress completed, though it was cancelled');
}

export const approveSignal = defineSignal('approve');

/** signal_workflow_1_13_1 / otel_v2_signal_workflow_1_18_1: the child waits for approval. */
export async function topSecretGreetingChild(name: string): Promise<string> {
  let approved = false;
  setHandler(approveSignal, () => {
    approved = true;
  });
  await condition(() => approved);
  return `Hello ${name}`;
}

/** Starts the child (default options: its id comes from the PRNG), approves it while sleeping 1 ms, returns its result. */
export async function topSecretGreeting(name: string): Promise<string> {
  const child = await startChild(topSecretGreetingChild, { args: [name] });
  await Promise.all([child.signal(approveSignal), sleep('1ms')]);
  return await child.result();
}

export const randomStreamResetUnblock = defineSignal('randomStreamResetUnblock');

export interface RandomCapture {
  random: number;
  uuid: string;
  childWorkflowId: string;
}

export const randomStreamResetCaptures = defineQuery<RandomCapture[]>('randomStreamResetCaptures');

/** random-replay-1.17.2's child: nothing to do (replay never runs it). */
export async function randomStreamResetChild(): Promise<void> {}

/**
 * random-replay-1.17.2: four times, a Math.random(), a uuid4() and a child started with default
 * options (its workflow id a uuid4 from the PRNG), recorded, then a 1 ms sleep; then it waits for
 * the unblock signal and returns what it recorded. The recording has a workflow reset after the
 * first child started, which re-seeds the PRNG from the new run id.
 */
export async function directRandomAndUuidResetWorkflow(): Promise<RandomCapture[]> {
  return await randomStreamReset(false);
}

/** The same with one more Math.random() before the loop: changed code, which replay must refuse. */
export async function directRandomAndUuidResetWorkflowChanged(): Promise<RandomCapture[]> {
  return await randomStreamReset(true);
}

async function randomStreamReset(extraDraw: boolean): Promise<RandomCapture[]> {
  const captures: RandomCapture[] = [];
  let unblocked = false;
  setHandler(randomStreamResetCaptures, () => captures);
  setHandler(randomStreamResetUnblock, () => {
    unblocked = true;
  });
  if (extraDraw) Math.random();
  for (let i = 0; i < 4; i++) {
    const random = Math.random();
    const uuid = uuid4();
    const child = await startChild(randomStreamResetChild);
    captures.push({ random, uuid, childWorkflowId: child.workflowId });
    await sleep(1);
  }
  await condition(() => unblocked);
  return captures;
}
