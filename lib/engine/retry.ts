/**
 * Retry arithmetic (host side, pure): when a failed activity attempt or workflow task runs again.
 */
import type { RetryPolicy, RetryState, WireFailure } from '../../runtime/protocol';

/**
 * A failed or timed-out workflow task is retried after 1 s, doubling per attempt, capped at
 * 10 min. Its failure is a bug (nondeterminism, a crash): retrying at once would spin, and a
 * 10 min ceiling means a deployed fix is picked up soon without polling hot.
 */
export function workflowTaskBackoffMs(failedAttempt: number): number {
  return Math.min(1000 * 2 ** (failedAttempt - 1), 10 * 60 * 1000);
}

export type RetryDecision = { retryAt: number } | { retryState: RetryState };

/**
 * After attempt `failedAttempt` failed at `now`: when to try again, or why not. Temporal's defaults
 * fill the policy (initial 1 s, coefficient 2, maximum interval 100 × initial, unlimited attempts).
 * An attempt that would start at or after the schedule-to-close `deadline` is not made.
 */
export function activityRetry(
  policy: RetryPolicy | undefined,
  failedAttempt: number,
  failure: WireFailure,
  now: number,
  deadline: number | undefined,
): RetryDecision {
  const initial = policy?.initialIntervalMs ?? 1000;
  const coefficient = policy?.backoffCoefficient ?? 2;
  const maxInterval = policy?.maximumIntervalMs ?? 100 * initial;
  const maxAttempts = policy?.maximumAttempts ?? 0;
  if (failure.nonRetryable || (failure.type !== undefined && policy?.nonRetryableErrorTypes?.includes(failure.type))) {
    return { retryState: 'nonRetryableFailure' };
  }
  if (maxAttempts > 0 && failedAttempt >= maxAttempts) return { retryState: 'maximumAttemptsReached' };
  const retryAt = now + Math.round(Math.min(initial * coefficient ** (failedAttempt - 1), maxInterval));
  if (deadline !== undefined && retryAt >= deadline) return { retryState: 'timeout' };
  return { retryAt };
}
