/**
 * What `@temporalio/common/lib/proto-utils` resolves to under `deja/register` (host side):
 * Temporal's helpers for history files, over deja's history reader and writer.
 */
import { serializeTemporalHistory } from '../history';
import type { History } from '../history/events';
export { historyFromJSON } from './replay';

/** Temporal's `historyToJSON`: a history as Temporal's proto3 JSON text (what `tctl`/`temporal` export). */
export function historyToJSON(history: History): string {
  return serializeTemporalHistory(history);
}
