/**
 * Local activity markers (host side, the engine): a scheduleLocalActivity command, which the
 * worker ran inside the workflow task, becomes the localActivityMarkerRecorded event that records
 * its outcome. The service never runs a local activity: a command without `outcome` is refused.
 */
import type { ScheduleLocalActivityCommand } from '../../runtime/protocol';
import type { EventOf } from '../history/events';
import { InvalidArgumentError } from '../errors';

/** The marker event (without id and time) for a command that carries its outcome. */
export function localActivityMarker(c: ScheduleLocalActivityCommand, completedId: number, where: string): Omit<EventOf<'localActivityMarkerRecorded'>, 'eventId' | 'eventTime'> {
  const outcome = c.outcome as ScheduleLocalActivityCommand['outcome'] | null;
  if (outcome === undefined || outcome === null || typeof outcome !== 'object') {
    throw new InvalidArgumentError(
      `${where}: scheduleLocalActivity ${c.activityType} (seq ${c.seq}) has no outcome; a local activity runs in the worker, which must run it and send the command with its outcome`,
    );
  }
  if (!Number.isInteger(outcome.attempt) || outcome.attempt < 1) {
    throw new InvalidArgumentError(`${where}: scheduleLocalActivity ${c.activityType} (seq ${c.seq}): outcome.attempt must be an integer ≥ 1, got ${String(outcome.attempt)}`);
  }
  const base = { type: 'localActivityMarkerRecorded' as const, seq: c.seq, activityId: c.activityId, activityType: c.activityType, attempt: outcome.attempt, workflowTaskCompletedEventId: completedId };
  if (outcome.status === 'completed') return outcome.result === undefined ? base : { ...base, result: outcome.result };
  if (outcome.status === 'failed' && typeof outcome.failure === 'object' && outcome.failure !== null) return { ...base, failure: outcome.failure };
  throw new InvalidArgumentError(`${where}: scheduleLocalActivity ${c.activityType} (seq ${c.seq}): outcome.status must be "completed" or "failed" (with a failure)`);
}
