/**
 * Workflows for test/continue-as-new.test.ts, test/cron-timeouts.test.ts and replay-fixtures/
 * (they run inside the isolate): continue-as-new, cron runs, workflow retries and timeouts.
 */
import {
  ApplicationFailure,
  ContinueAsNew,
  continueAsNew,
  defineSignal,
  executeChild,
  makeContinueAsNewFunc,
  proxyActivities,
  setHandler,
  sleep,
  condition,
  workflowInfo,
} from 'deja/workflow';
import type * as activities from './activities';

/** What a run knows of its place in the chain. */
function chainInfo() {
  const i = workflowInfo();
  return {
    runId: i.runId,
    firstExecutionRunId: i.firstExecutionRunId,
    continuedFromExecutionRunId: i.continuedFromExecutionRunId ?? null,
    attempt: i.attempt,
    cronSchedule: i.cronSchedule ?? null,
    executionTimeoutMs: i.executionTimeoutMs ?? null,
    executionExpirationTime: i.executionExpirationTime ?? null,
    runTimeoutMs: i.runTimeoutMs ?? null,
    taskTimeoutMs: i.taskTimeoutMs,
    retryPolicy: i.retryPolicy ?? null,
    lastResult: i.lastResult ?? null,
    lastFailure: i.lastFailure?.message ?? null,
    historyLength: i.historyLength,
  };
}

/** Counts down through continue-as-new; the last run returns what each run added, and its info. */
export async function countdownWorkflow(n: number, seen: number[] = []): Promise<{ seen: number[]; info: ReturnType<typeof chainInfo> }> {
  const { greet } = proxyActivities<typeof activities>({ startToCloseTimeout: '10s' });
  if (n > 0) {
    await greet(`run ${n}`);
    await continueAsNew<typeof countdownWorkflow>(n - 1, [...seen, n]);
  }
  return { seen, info: chainInfo() };
}

/** The workflow that makeContinueAsNewFunc switches to. */
export async function chainInfoWorkflow(tag: string): Promise<unknown> {
  return { tag, info: chainInfo() };
}

export const next = defineSignal<[string]>('next');

/** Continues as another workflow type, from a signal handler, with new timeouts. */
export async function continueFromSignalWorkflow(): Promise<never> {
  setHandler(next, async (tag: string) => {
    await makeContinueAsNewFunc<typeof chainInfoWorkflow>({ workflowType: 'chainInfoWorkflow', workflowRunTimeout: '1 hour', workflowTaskTimeout: '20s' })(tag);
  });
  await condition(() => false);
  throw new Error('unreachable');
}

/** makeContinueAsNewFunc with an unknown option: a TypeError, a bug in the workflow (its task fails). */
export async function badContinueAsNewOptionsWorkflow(): Promise<string> {
  try {
    makeContinueAsNewFunc({ workflowTimeout: '1s' } as never);
    return 'accepted';
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
}

/** Catches the ContinueAsNew and inspects it, then rethrows it (it must escape to continue). */
export async function catchContinueAsNewWorkflow(again: boolean): Promise<string> {
  if (!again) return 'second run';
  try {
    await continueAsNew<typeof catchContinueAsNewWorkflow>(false);
  } catch (err) {
    if (err instanceof ContinueAsNew && err.command.workflowType === 'catchContinueAsNewWorkflow' && err.name === 'ContinueAsNew') throw err;
    return 'not a ContinueAsNew';
  }
  return 'unreachable';
}

/** Sleeps until the service suggests continuing as new, then does; the next run reports. */
export async function untilSuggestedWorkflow(continued: boolean): Promise<unknown> {
  if (continued) return { continued, suggested: workflowInfo().continueAsNewSuggested, historyLength: workflowInfo().historyLength };
  let sleeps = 0;
  while (!workflowInfo().continueAsNewSuggested) {
    await sleep(1);
    sleeps++;
  }
  const { historyLength, historySize } = workflowInfo();
  if (!(historySize > 0)) throw ApplicationFailure.nonRetryable(`historySize is ${historySize}`);
  if (sleeps < 2) throw ApplicationFailure.nonRetryable(`suggested after ${sleeps} sleeps (history ${historyLength})`);
  return continueAsNew<typeof untilSuggestedWorkflow>(true);
}

/**
 * A cron's run: the first run fails, the next recovers (lastFailure), the later ones add to the
 * last result (lastResult).
 */
export async function cronWorkflow(): Promise<string> {
  const { lastResult, lastFailure } = workflowInfo();
  if (lastFailure !== undefined) return `recovered from: ${lastFailure.message} at ${new Date().toISOString()}`;
  if (lastResult === undefined) throw ApplicationFailure.create({ message: 'first run fails', type: 'CronFailure' });
  return `${String(lastResult).split(' at ')[0]}+ at ${new Date().toISOString()}`;
}

/** A cron run that sleeps longer than its fire interval. */
export async function slowCronWorkflow(): Promise<string> {
  await sleep('1 hour');
  return 'slept';
}

/** Fails until attempt `succeedOn`; the failure is non-retryable when asked. */
export async function retryingWorkflow(succeedOn: number, nonRetryable = false): Promise<string> {
  const { attempt, lastFailure } = workflowInfo();
  if (attempt < succeedOn) throw ApplicationFailure.create({ message: `attempt ${attempt} failed`, type: 'Flaky', nonRetryable });
  return `attempt ${attempt} succeeded after: ${lastFailure?.message ?? 'nothing'}`;
}

/** A parent of a retrying child: it sees only the child chain's last run. */
export async function parentOfRetryingChild(succeedOn: number): Promise<string> {
  return executeChild(retryingWorkflow, {
    args: [succeedOn],
    workflowId: `${workflowInfo().workflowId}-child`,
    retry: { initialInterval: '1s', maximumAttempts: 5 },
    workflowRunTimeout: '1 hour',
    workflowExecutionTimeout: '1 day',
  });
}

/** Runs an activity that heartbeats until cancelled: a run timeout ends the run first. */
export async function activityUntilTimeoutWorkflow(): Promise<string> {
  const { untilCancelled } = proxyActivities<typeof activities>({ startToCloseTimeout: '1 day', heartbeatTimeout: '2s' });
  return untilCancelled();
}

/** Sleeps, continuing as new after each sleep, until an execution timeout ends the chain. */
export async function sleepForeverWorkflow(round: number): Promise<never> {
  await sleep('10 minutes');
  return continueAsNew<typeof sleepForeverWorkflow>(round + 1);
}
