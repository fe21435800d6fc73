/**
 * Workflows equivalent to those that recorded the SDK-flag histories of
 * ../shared/temporal-histories/ (see its INDEX.md), written here from their descriptions with
 * Temporal's imports (the bundler aliases them to deja). test/temporal-flags.test.ts replays the
 * recordings against them, and runs them live to record deja's own. The activity is named only
 * for replay; the live test passes one.
 */
import { CancellationScope, condition, defineUpdate, patched, proxyActivities, setHandler, sleep } from '@temporalio/workflow';

interface FlagActivities {
  noopActivity(): Promise<void>;
}

const { noopActivity } = proxyActivities<FlagActivities>({ scheduleToCloseTimeout: '10s' });

/**
 * lang_flags_replay_correctly_*: the activity runs in a scope with a 10 s timeout, whose timer
 * starts first. When the activity completes first, the timer is cancelled under lang flag 1
 * (Temporal 1.11 and later) and left to run without it (1.9.3).
 */
export async function langFlagsReplayCorrectly(): Promise<void> {
  await CancellationScope.withTimeout('10s', () => noopActivity());
}

/** Changed code: the activity without the timeout scope (history starts with the timer). */
export async function langFlagsReplayCorrectlyChanged(): Promise<void> {
  await noopActivity();
}

/**
 * A non-cancellable scope asked to cancel, with a cancellable scope made inside it that sleeps:
 * under lang flag 1 the inner scope is shielded and its timer fires (the workflow returns
 * 'shielded'); without it the cancellation reaches the inner scope, whose timer is cancelled
 * (it returns 'reached').
 */
export async function nonCancellableShield(): Promise<string> {
  return await CancellationScope.nonCancellable(async () => {
    const outer = CancellationScope.current();
    const inner = new CancellationScope();
    const slept = inner.run(() => sleep('1s'));
    outer.cancel();
    try {
      await slept;
      return 'shielded';
    } catch {
      return 'reached';
    }
  });
}

export const doneUpdate = defineUpdate<string>('doneUpdate');

/**
 * complete_update_after_workflow_returns_pre1488: the update handler waits until the main
 * function has returned, then completes. Its completion comes after the workflow's closing
 * command: kept (and sent first) under core flag 3, dropped without it (the recording's case).
 */
export async function canCompleteUpdateAfterWorkflowReturns(): Promise<void> {
  let gotUpdate = false;
  let mainReturned = false;
  setHandler(doneUpdate, async () => {
    gotUpdate = true;
    await condition(() => mainReturned);
    return 'completed';
  });
  await condition(() => gotUpdate);
  mainReturned = true;
}

/** Changed code: it sleeps before it waits for the update (history has no timer). */
export async function canCompleteUpdateAfterWorkflowReturnsChanged(): Promise<void> {
  setHandler(doneUpdate, () => 'completed');
  await sleep('1s');
}

/**
 * Two patches. Replaying a Temporal history that recorded core flag 2, each marker is followed by
 * the TemporalChangeVersion upsert Temporal's core adds.
 */
export async function twoPatches(): Promise<string> {
  const b = patched('b-change') ? 'B' : 'b';
  const a = patched('a-change') ? 'A' : 'a';
  return b + a;
}
