/**
 * Versioning, local activities and sinks (inside the isolate). `patchWorkflow` is the patched
 * code; test/workflows/patch-versions/ holds the same workflow before the patch, with the patch
 * deprecated, and with the patch removed, for the replays that compare them.
 */
import {
  proxyActivities,
  proxyLocalActivities,
  proxySinks,
  patched,
  deprecatePatch,
  sleep,
  condition,
  defineSignal,
  setHandler,
  isReplaying,
  CancellationScope,
  ActivityFailure,
  TimeoutFailure,
  type Sinks,
} from 'deja/workflow';
import type * as activities from './activities';

const { greet, charge } = proxyActivities<typeof activities>({ startToCloseTimeout: '10s' });
export const go = defineSignal('go');

/** Charges instead of greeting since the patch "charge-first"; then waits for `go`. */
export async function patchWorkflow(name: string): Promise<string> {
  let going = false;
  setHandler(go, () => void (going = true));
  const path = patched('charge-first') ? await charge(name, 1) : await greet(name);
  await condition(() => going);
  // The answer is memoized: asked again, the same.
  return `${path} (patched: ${patched('charge-first')})`;
}

const local = proxyLocalActivities<typeof activities>({ startToCloseTimeout: '10s' });

/**
 * Two local activities in one task, a third once the first has resolved (a follow-up activation
 * of the same task), then a timer and one more.
 */
export async function localActivityWorkflow(name: string): Promise<string> {
  const [a, b] = await Promise.all([local.greet(name), local.charge(name, 2)]);
  const c = await local.echo(a);
  await sleep(5);
  const d = await local.greet('after the timer');
  return [a, b, c, d].join(' | ');
}

/** Local activities by name from the test's own activities (counted there). */
type Counted = Record<string, (...args: any[]) => Promise<any>>;

function describeFailure(error: unknown): string {
  if (!(error instanceof ActivityFailure)) return `not an ActivityFailure: ${String(error)}`;
  const cause = error.cause;
  const timeout = cause instanceof TimeoutFailure ? ` ${cause.timeoutType}` : '';
  return `failed (${error.retryState}): ${(cause as Error | undefined)?.name}${timeout}: ${(cause as Error | undefined)?.message}`;
}

/**
 * Calls local activity `type` with the given options (retry, timeouts) and describes the outcome;
 * then waits for `go`, so a test can hand the run to another worker that replays it.
 */
export async function localOutcomeWorkflow(type: string, options: { startToCloseTimeout?: string | number; scheduleToCloseTimeout?: string | number; maximumAttempts?: number }, waitForGo = false): Promise<string> {
  const acts = proxyLocalActivities<Counted>({
    ...(options.startToCloseTimeout !== undefined ? { startToCloseTimeout: options.startToCloseTimeout } : {}),
    ...(options.scheduleToCloseTimeout !== undefined ? { scheduleToCloseTimeout: options.scheduleToCloseTimeout } : {}),
    retry: { initialInterval: 1, backoffCoefficient: 1, ...(options.maximumAttempts !== undefined ? { maximumAttempts: options.maximumAttempts } : {}) },
  });
  let outcome: string;
  try {
    outcome = `completed: ${await acts[type]()}`;
  } catch (error) {
    outcome = describeFailure(error);
  }
  if (waitForGo) {
    let going = false;
    setHandler(go, () => void (going = true));
    await condition(() => going);
  }
  return outcome;
}

/** A local activity whose scope is cancelled before its command is sent: it never runs. */
export async function localCancelledWorkflow(): Promise<string> {
  const acts = proxyLocalActivities<Counted>({ startToCloseTimeout: '10s' });
  let outcome = 'not settled';
  await CancellationScope.cancellable(async () => {
    const pending = acts.counted();
    CancellationScope.current().cancel();
    try {
      await pending;
      outcome = 'completed';
    } catch (error) {
      outcome = describeFailure(error);
    }
  });
  return outcome;
}

/** Bad options, each caught: the messages, one per line. */
export async function localBadOptionsWorkflow(): Promise<string> {
  const messages: string[] = [];
  const attempts: (() => unknown)[] = [
    () => proxyLocalActivities({}),
    () => proxyLocalActivities({ startToCloseTimeout: '1s', taskQueue: 'elsewhere' } as never),
    () => proxyLocalActivities({ startToCloseTimeout: '1s', cancellationType: 'SOMETIMES' as never }),
    () => proxyLocalActivities(null as never),
    () => patched(''),
    () => deprecatePatch(42 as never),
  ];
  for (const attempt of attempts) {
    try {
      attempt();
      messages.push('no error');
    } catch (error) {
      messages.push(`${(error as Error).name}: ${(error as Error).message}`);
    }
  }
  return messages.join('\n');
}

export interface TestSinks extends Sinks {
  audit: { record(event: string, n: number): void; replayed(event: string): void };
  broken: { throws(): void; rejects(): void };
  missing: { nobodyHome(): void };
}
const sinks = proxySinks<TestSinks>();
const localSink = proxyLocalActivities<Counted>({ startToCloseTimeout: '10s' });

/**
 * Calls sinks in its first activation, in a local activity's follow-up activation, and after a
 * signal; `audit.replayed` is the sink that asks to be called during replay.
 */
export async function sinkWorkflow(): Promise<string> {
  let going = false;
  setHandler(go, () => void (going = true));
  sinks.audit.record('start', 1);
  sinks.audit.replayed(`start replaying=${isReplaying()}`);
  sinks.broken.throws();
  sinks.broken.rejects();
  sinks.missing.nobodyHome();
  sinks.missing.nobodyHome();
  await localSink.counted();
  sinks.audit.record('after local activity', 2);
  await condition(() => going);
  sinks.audit.record('after go', 3);
  sinks.audit.replayed(`after go replaying=${isReplaying()}`);
  return 'done';
}
