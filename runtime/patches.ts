/**
 * Versioning (inside the isolate): `patched` and `deprecatePatch`, with Temporal's semantics.
 *
 * Not replaying, `patched(id)` is true and its first call records a patch marker in history.
 * Replaying, it is true only where history recorded the marker (the replay engine delivers a
 * notifyHasPatch job first in the activation of that task); else false, and the old code runs.
 * The answer is memoized per id for the run, so one run never takes both branches.
 */
import { TypeError } from './primordials';
import { getState } from './internals';

function checkId(where: string, patchId: unknown): string {
  if (typeof patchId !== 'string' || patchId === '') throw new TypeError(`${where}: expected a non-empty patch id (a string), got ${typeof patchId === 'string' ? 'an empty string' : typeof patchId}`);
  return patchId;
}

/**
 * Whether the workflow should run its new code for `patchId`: true for a run that reaches this
 * call for the first time with this code (a marker is recorded), and on replay of a history that
 * has the marker; false on replay of a history recorded before the patch.
 */
export function patched(patchId: string): boolean {
  return getState('patched').patch(checkId('patched', patchId), false);
}

/**
 * Marks `patchId` as deprecated: call it once every run that took the old branch has closed, with
 * the old branch removed. It records a deprecated marker, which replay accepts where history has
 * the patch's marker and where it has none.
 */
export function deprecatePatch(patchId: string): void {
  getState('deprecatePatch').patch(checkId('deprecatePatch', patchId), true);
}
