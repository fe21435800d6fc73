/**
 * Patch and local activity markers in replay (host side, pure): Temporal core's rules for them,
 * kept apart from the machine so that it stays one table of events.
 *
 * - Patches: the patches a recorded task's command events record are announced to it first
 *   (notifyHasPatch jobs), so `patched(id)` answers as when it was recorded. A deprecated marker
 *   history has and the code no longer emits is skipped; a deprecated marker the code emits and
 *   history lacks is dropped. Any other disagreement is nondeterminism, named by the machine.
 * - Local activities: a marker gives the outcome a replayed task's local activity had, as the
 *   resolveLocalActivity job the worker delivered live; both sides build it here.
 */
import type { ActivationJob, ActivityResolution, Command, LocalActivityOutcome, RetryState, WireFailure } from '../../runtime/protocol';
import type { EventOf, HistoryEvent } from '../history/events';

/** True when `c` is a deprecated patch marker that `e` (the next command event, if any) does not record: it is dropped. */
export function dropsDeprecatedPatch(c: Command, e: HistoryEvent | undefined): boolean {
  if (c.type !== 'setPatchMarker' || !c.deprecated) return false;
  return !(e !== undefined && e.type === 'patchMarkerRecorded' && e.patchId === c.patchId);
}

/** True when `e` is a deprecated patch marker that the next command `c` does not emit: it is skipped. */
export function skipsDeprecatedMarker(e: HistoryEvent, c: Command | undefined): boolean {
  if (e.type !== 'patchMarkerRecorded' || !e.deprecated) return false;
  return !(c !== undefined && c.type === 'setPatchMarker' && c.patchId === e.patchId);
}

/**
 * The retry state a local activity's failure had. The marker does not record it, so it is read
 * from the failure the same way live and on replay: a timeout, a non-retryable failure, or the
 * attempts (or the time) ran out.
 */
function localRetryState(failure: WireFailure): RetryState {
  if (failure.kind === 'timeout') return 'timeout';
  if (failure.nonRetryable === true) return 'nonRetryableFailure';
  return 'maximumAttemptsReached';
}

/** What workflow code sees for a local activity's outcome: its result, or an ActivityFailure wrapping its failure. */
export function localActivityResolution(activity: { activityType: string; activityId: string }, outcome: LocalActivityOutcome): ActivityResolution {
  if (outcome.status === 'completed') return outcome.result === undefined ? { status: 'completed' } : { status: 'completed', result: outcome.result };
  return {
    status: 'failed',
    failure: {
      kind: 'activity',
      message: 'Local Activity task failed',
      activityType: activity.activityType,
      activityId: activity.activityId,
      retryState: localRetryState(outcome.failure),
      cause: outcome.failure,
    },
  };
}

/** The resolveLocalActivity job a localActivityMarkerRecorded event gives. */
export function localActivityJobFromMarker(e: EventOf<'localActivityMarkerRecorded'>): ActivationJob {
  const outcome: LocalActivityOutcome =
    e.failure !== undefined
      ? { status: 'failed', failure: e.failure, attempt: e.attempt }
      : e.result === undefined
        ? { status: 'completed', attempt: e.attempt }
        : { status: 'completed', result: e.result, attempt: e.attempt };
  return { type: 'resolveLocalActivity', seq: e.seq, result: localActivityResolution(e, outcome) };
}
