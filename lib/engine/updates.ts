/**
 * Workflow updates (host side): admitting an update to a running run, handing it to a workflow
 * task, turning the task's acceptUpdate, rejectUpdate and completeUpdate commands into events and
 * outcomes, and ending the updates in flight when the run closes. The run keeps its updates in
 * `RunRecord.updates`; an accepted or completed update is also in history.
 */
import type { RunRecord } from '../backends/store';
import type { Op } from './op';

/** The run is closing: updates not yet completed end with a failure saying so. */
export async function closeUpdates(op: Op, run: RunRecord): Promise<void> {
  void op, run; // Not built yet.
}
