/**
 * History limits (host side): each run keeps its history's length and byte size, so no check
 * reads history. Before a transaction's runs are written, `checkHistoryLimits` refuses one that
 * would take a run past maxHistoryEvents or maxHistoryBytes (HistoryLimitHit: the transaction
 * rolls back, and the engine closes the run in a transaction of its own, `closeOverHistoryLimit`),
 * and records a warning, once per run, for one that passes a warning threshold.
 */
import type { WireFailure } from '../../runtime/protocol';
import type { RunRecord } from '../backends/store';
import { formatInt, type Limits } from './limits';
import { workflowTaskId, type Op } from './op';
import { closeRun } from './runs';

/** A run's history passed warnHistoryEvents or warnHistoryBytes. Reported once per run. */
export interface HistoryWarning {
  code: 'DEJA_HISTORY_LARGE';
  message: string;
  workflowId: string;
  runId: string;
  /** The threshold passed. */
  limit: 'warnHistoryEvents' | 'warnHistoryBytes';
  threshold: number;
  historyEvents: number;
  historyBytes: number;
}

/**
 * A transaction would take a run's history past maxHistoryEvents or maxHistoryBytes. Thrown
 * before the runs are written, so the transaction rolls back; `Engine.write` then closes the run
 * (unless it is new) and refuses the request, or retries it.
 */
export class HistoryLimitHit extends Error {
  constructor(
    readonly run: RunRecord,
    readonly isNew: boolean,
    readonly limit: 'maxHistoryEvents' | 'maxHistoryBytes',
    readonly actual: number,
    readonly max: number,
  ) {
    super(`history limit ${limit} hit by run ${run.runId}`);
  }

  /** What happened, for the failure that closes the run and for the refusal. */
  get what(): string {
    const unit = this.limit === 'maxHistoryEvents' ? 'events' : 'bytes';
    return `the history of workflow "${this.run.workflowId}" (run ${this.run.runId}) would grow to ${formatInt(this.actual)} ${unit}, over ${this.limit} (${formatInt(this.max)} ${unit})`;
  }
}

/** Throws HistoryLimitHit for a run past a maximum; adds a warning for one past a threshold. */
export function checkHistoryLimits(op: Op, limits: Limits): void {
  const { maxHistoryEvents, maxHistoryBytes, warnHistoryEvents, warnHistoryBytes } = limits;
  for (const { run, events, isNew } of op.changedRuns()) {
    if (events.length === 0 || op.closingOverLimit.has(run.runId)) continue;
    const count = run.nextEventId - 1;
    if (count > maxHistoryEvents) throw new HistoryLimitHit(run, isNew, 'maxHistoryEvents', count, maxHistoryEvents);
    if (run.historyBytes > maxHistoryBytes) throw new HistoryLimitHit(run, isNew, 'maxHistoryBytes', run.historyBytes, maxHistoryBytes);
    if (!run.historySizeWarned && (count > warnHistoryEvents || run.historyBytes > warnHistoryBytes)) {
      run.historySizeWarned = true;
      const [limit, threshold, actual, unit] =
        count > warnHistoryEvents
          ? (['warnHistoryEvents', warnHistoryEvents, count, 'events'] as const)
          : (['warnHistoryBytes', warnHistoryBytes, run.historyBytes, 'bytes'] as const);
      const max = limit === 'warnHistoryEvents' ? maxHistoryEvents : maxHistoryBytes;
      op.warnings.push({
        code: 'DEJA_HISTORY_LARGE',
        message:
          `the history of workflow "${run.workflowId}" (run ${run.runId}) has ${formatInt(actual)} ${unit}, past ${limit} (${formatInt(threshold)}); ` +
          `at ${formatInt(max)} ${unit} the run will be closed`,
        workflowId: run.workflowId,
        runId: run.runId,
        limit,
        threshold,
        historyEvents: count,
        historyBytes: run.historyBytes,
      });
    }
  }
}

/**
 * Closes a run whose history reached a limit: fails its started workflow task, if any, and fails
 * the run with a non-retryable server failure. Only these closing events may pass the limit.
 */
export async function closeOverHistoryLimit(op: Op, hit: HistoryLimitHit): Promise<void> {
  op.closingOverLimit.add(hit.run.runId);
  const run = await op.run(hit.run.runId);
  if (!run || run.status !== 'running') return; // closed meanwhile
  const failure: WireFailure = {
    kind: 'server',
    type: 'HistoryLimitExceeded',
    message: `${hit.what}: deja closed the run, as Temporal terminates a workflow whose history is too large`,
    nonRetryable: true,
  };
  const wft = run.workflowTask;
  if (wft?.startedEventId !== undefined) {
    const task = await op.tx.tasks.get(workflowTaskId(run.runId));
    op.append(run, {
      type: 'workflowTaskFailed',
      scheduledEventId: wft.scheduledEventId,
      startedEventId: wft.startedEventId,
      cause: 'historyLimitExceeded',
      failure,
      identity: task?.lease?.identity,
    });
  }
  // No workflow task completed this: the event has no workflowTaskCompletedEventId.
  op.append(run, { type: 'workflowExecutionFailed', failure });
  await closeRun(op, run, { status: 'failed', failure });
}
