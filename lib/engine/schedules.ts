/**
 * Schedules (host side): Temporal's schedules, kept by the engine. A schedule is a record in
 * `StoreTx.schedules` and one durable timer (kind 'schedule', owner `scheduleTimerOwner(id)`) at
 * its next action; when the timer fires the engine starts the action's workflow under the
 * schedule's overlap policy and arms the timer again. A run a schedule started carries its
 * `scheduleId`, so its close can start a buffered action.
 */
import type { RunRecord, TimerRecord } from '../backends/store';
import type { Op } from './op';
import type { Closing } from './runs';

/** A schedule's timer fired: take its action (under its overlap policy) and arm the next one. */
export async function fireSchedule(op: Op, timer: TimerRecord): Promise<void> {
  void op, timer; // Not built yet.
}

/** A run a schedule started closed: the schedule may take a buffered action now. */
export async function scheduledRunClosed(op: Op, run: RunRecord, closing: Closing): Promise<void> {
  void op, run, closing; // Not built yet.
}
