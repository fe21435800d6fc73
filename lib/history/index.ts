/**
 * The history layer's entry point (host side): the versioned event schema, validation on read,
 * canonical serialization, and history files on disk. Exports by name only.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HISTORY_FORMAT, HISTORY_VERSION } from './events';
import type { History, HistoryEvent } from './events';
import { parseHistory, serializeHistoryAs } from './validate';
import { toTemporalHistory } from './temporal';

export { HISTORY_FORMAT, HISTORY_VERSION } from './events';
export type {
  ActivityTaskCompletedEvent,
  ActivityTaskFailedEvent,
  ActivityTaskScheduledEvent,
  ActivityTaskStartedEvent,
  ActivityTaskTimedOutEvent,
  EventOf,
  EventType,
  History,
  HistoryEvent,
  NewEvent,
  TimerCanceledEvent,
  TimerFiredEvent,
  TimerStartedEvent,
  WorkflowExecutionCompletedEvent,
  WorkflowExecutionFailedEvent,
  WorkflowExecutionSignaledEvent,
  WorkflowExecutionStartedEvent,
  WorkflowTaskCompletedEvent,
  WorkflowTaskFailedEvent,
  WorkflowTaskScheduledEvent,
  WorkflowTaskStartedEvent,
  WorkflowTaskTimedOutEvent,
} from './events';
export { EVENT_TYPES, SUPPORTED_HISTORY_VERSIONS, parseHistory, serializeHistory } from './validate';
export { fromTemporalHistory, toTemporalHistory } from './temporal';
export type { CodecPayload, FromTemporalOptions, PayloadCodec, TemporalHistoryJson } from './temporal';

/**
 * Wraps events in a history envelope and validates the result like a file read from disk, so a
 * `History` value is always a valid one. Throws `InvalidHistoryError`.
 */
export function makeHistory(workflowId: string, runId: string, events: readonly HistoryEvent[]): History {
  return parseHistory(
    { format: HISTORY_FORMAT, version: HISTORY_VERSION, workflowId, runId, events: [...events] },
    'makeHistory',
  );
}

/**
 * Reads and validates a history file. File-system errors (ENOENT, EACCES) are thrown as they come
 * from Node; a file that is not a valid history throws `InvalidHistoryError` naming the path.
 */
export function readHistoryFile(file: string): History {
  return parseHistory(fs.readFileSync(file), file);
}

/**
 * Writes a history file atomically: the history is validated and serialized first, written to a
 * temporary file beside the target, flushed to disk, then renamed over the target. A reader sees
 * the old file or the new one, never a part of either; on failure the target is untouched and
 * the temporary file is removed.
 */
export function writeHistoryFile(file: string, history: History): void {
  writeAtomically(file, serializeHistoryAs(history, `writeHistoryFile(${file})`));
}

/** Temporal's proto3 JSON text of a history (2-space indent, a final newline); validates first. */
export function serializeTemporalHistory(history: History): string {
  return `${JSON.stringify(toTemporalHistory(history), null, 2)}\n`;
}

/**
 * Writes a history as Temporal's proto3 JSON, atomically as writeHistoryFile does. Temporal's
 * replayer reads the file; so do readHistoryFile and `deja replay`.
 */
export function writeTemporalHistoryFile(file: string, history: History): void {
  writeAtomically(file, serializeTemporalHistory(history));
}

function writeAtomically(file: string, text: string): void {
  // Same directory, so the rename never crosses file systems (which would make it a copy).
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = fs.openSync(tmp, 'wx');
    try {
      fs.writeFileSync(fd, text);
      // Flush before the rename: otherwise a crash could leave the new name on empty content.
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
