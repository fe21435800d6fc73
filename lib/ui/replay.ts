/**
 * The replay verdict `deja ui history.json --workflows <path>` shows (host side): the history
 * replayed against the workflow code, and on a divergence the event where it happened, what
 * history recorded there and what the code emitted instead (DeterminismViolationError's fields).
 */
import type { History } from '../history';
import { replayHistory } from '../testing/replay';
import type { ReplayVerdict } from './server';

/** Replays `history` against the workflows module; never throws for a failed replay, only reports it. */
export async function replayVerdict(history: History, workflowsPath: string): Promise<ReplayVerdict> {
  try {
    await replayHistory({ workflowsPath }, history);
    return { ok: true, workflowsPath };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    const fields = e as Error & { eventId?: unknown; recorded?: unknown; emitted?: unknown };
    return {
      ok: false,
      workflowsPath,
      error: { name: e.name, message: e.message },
      ...(typeof fields.eventId === 'number' ? { eventId: fields.eventId } : {}),
      ...(fields.recorded !== undefined ? { recorded: jsonSafe(fields.recorded) } : {}),
      ...(fields.emitted !== undefined ? { emitted: jsonSafe(fields.emitted) } : {}),
    };
  }
}

/** A value as JSON would carry it (a recorded event or an emitted command), or its text. */
function jsonSafe(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch {
    return String(value);
  }
}
