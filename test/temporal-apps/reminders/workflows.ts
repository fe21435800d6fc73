// A reminder loop: every `everyMs` it records a reminder; an update snoozes the next one; after three
// reminders a run continues as new with its count carried over; a cancel request stops it, and a
// non-cancellable scope writes the closing note.
import {
  CancellationScope,
  continueAsNew,
  defineQuery,
  defineUpdate,
  isCancellation,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type * as activities from './activities';

export const snooze = defineUpdate<number, [ms: number]>('snooze');
export const sent = defineQuery<number>('sent');

const { remind, closeReminders } = proxyActivities<typeof activities>({ startToCloseTimeout: '10 seconds' });

export async function reminderLoop(topic: string, everyMs: number, sentBefore = 0): Promise<string> {
  let count = sentBefore;
  let extraMs = 0;
  setHandler(sent, () => count);
  setHandler(
    snooze,
    (ms) => {
      extraMs += ms;
      return extraMs;
    },
    {
      validator: (ms) => {
        if (!Number.isInteger(ms) || ms <= 0) throw new Error(`snooze needs a positive whole number of milliseconds, got ${ms}`);
      },
    },
  );
  try {
    for (let i = 0; i < 3; i++) {
      await sleep(everyMs + extraMs);
      extraMs = 0;
      count = await remind(topic, count + 1);
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
    await CancellationScope.nonCancellable(() => closeReminders(topic, count));
    throw err;
  }
  if (count >= 9) return `${topic}: ${count} reminders over ${workflowInfo().runId === workflowInfo().firstExecutionRunId ? 1 : 'several'} run(s)`;
  return continueAsNew<typeof reminderLoop>(topic, everyMs, count);
}
