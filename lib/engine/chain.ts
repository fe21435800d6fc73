/**
 * Chains of runs under one workflow id (host side): continue-as-new, cron workflows, a workflow's
 * own retry policy, and the run and execution timeouts. A chain starts with one run; each run that
 * closes may start the next (its successor) in the same transaction, and the closing event names
 * it (newExecutionRunId). What a successor keeps: the workflow id, the chain's first run id, the
 * execution deadline, the parent link (the parent's `children` entry moves to the successor, so
 * the parent hears only of the chain's last run), the cron schedule, the retry policy.
 *
 * Which successor, after a run closed:
 * - continue-as-new: the command's (initiator 'workflow');
 * - failed or run timeout, with a retry policy that allows another attempt before the execution
 *   deadline: a retry after its backoff (initiator 'retryPolicy'); this takes precedence;
 * - otherwise completed, failed or run timeout with a cron schedule: the run at the next fire time
 *   before the deadline (initiator 'cronSchedule');
 * - cancelled, terminated and the execution timeout end the chain.
 */
import type { Payload, RetryPolicy, RetryState, WireFailure } from '../../runtime/protocol';
import type { RunRecord } from '../backends/store';
import type { NewEvent } from '../history/events';
import { parseCron } from '../cron';
import { DejaError } from '../errors';
import { compact, type Op } from './op';
import { activityRetry } from './retry';
import { closeRun, scheduleWorkflowTask } from './runs';

/** What a new run of a chain is made of. */
export interface RunSpec {
  workflowId: string;
  workflowType: string;
  taskQueue: string;
  args: Payload[];
  workflowTaskTimeoutMs: number;
  /** Absent: the new run is the chain's first. */
  firstExecutionRunId?: string;
  continuedFromRunId?: string;
  initiator?: 'workflow' | 'retryPolicy' | 'cronSchedule';
  attempt: number;
  /** How long its first workflow task waits (cron, retry backoff, start delay); 0: none. */
  backoffMs: number;
  cronSchedule?: string;
  retryPolicy?: RetryPolicy;
  workflowExecutionTimeoutMs?: number;
  /** Absent on a chain's first run: then now + backoff + workflowExecutionTimeoutMs. */
  executionDeadline?: number;
  workflowRunTimeoutMs?: number;
  memo?: Record<string, Payload>;
  searchAttributes?: RunRecord['searchAttributes'];
  parent?: RunRecord['parent'];
  scheduleId?: string;
  lastCompletionResult?: Payload;
  continuedFailure?: WireFailure;
  identity?: string;
}

/**
 * Creates a run, appends its workflowExecutionStarted, and either schedules its first workflow
 * task or, with a backoff, a 'workflowBackoff' timer that will. Sets its run and execution
 * timeout timers.
 */
export async function createRun(op: Op, newId: () => string, spec: RunSpec): Promise<RunRecord> {
  const runId = newId();
  const executionTime = op.now + spec.backoffMs;
  const executionDeadline =
    spec.executionDeadline ?? (spec.workflowExecutionTimeoutMs === undefined ? undefined : executionTime + spec.workflowExecutionTimeoutMs);
  const run: RunRecord = compact({
    workflowId: spec.workflowId,
    runId,
    workflowType: spec.workflowType,
    taskQueue: spec.taskQueue,
    status: 'running' as const,
    startTime: op.now,
    nextEventId: 1,
    lastEventTime: op.now,
    historyBytes: 0,
    historySizeWarned: false,
    workflowTaskTimeoutMs: spec.workflowTaskTimeoutMs,
    workflowTaskPending: false,
    parent: spec.parent,
    // Absent where the store's defaults say it (this run's id, attempt 1, no backoff).
    firstExecutionRunId: spec.firstExecutionRunId,
    continuedFromRunId: spec.continuedFromRunId,
    attempt: spec.attempt > 1 ? spec.attempt : undefined,
    executionTime: spec.backoffMs > 0 ? executionTime : undefined,
    cronSchedule: spec.cronSchedule,
    retryPolicy: spec.retryPolicy,
    workflowExecutionTimeoutMs: spec.workflowExecutionTimeoutMs,
    executionDeadline,
    workflowRunTimeoutMs: spec.workflowRunTimeoutMs,
    memo: spec.memo,
    searchAttributes: spec.searchAttributes,
    scheduleId: spec.scheduleId,
  });
  op.newRun(run);
  const started = op.append(run, {
    type: 'workflowExecutionStarted',
    workflowType: spec.workflowType,
    workflowId: spec.workflowId,
    runId,
    firstExecutionRunId: spec.firstExecutionRunId ?? runId,
    taskQueue: spec.taskQueue,
    input: spec.args,
    attempt: spec.attempt,
    randomnessSeed: newId().replace(/-/g, ''),
    workflowTaskTimeoutMs: spec.workflowTaskTimeoutMs,
    parent: spec.parent && { workflowId: spec.parent.workflowId, runId: spec.parent.runId, initiatedEventId: spec.parent.initiatedEventId },
    continuedFromExecutionRunId: spec.continuedFromRunId,
    initiator: spec.initiator,
    cronSchedule: spec.cronSchedule,
    firstWorkflowTaskBackoffMs: spec.backoffMs > 0 ? spec.backoffMs : undefined,
    workflowExecutionTimeoutMs: spec.workflowExecutionTimeoutMs,
    workflowExecutionExpirationTime: executionDeadline === undefined ? undefined : new Date(executionDeadline).toISOString(),
    workflowRunTimeoutMs: spec.workflowRunTimeoutMs,
    retryPolicy: spec.retryPolicy,
    memo: spec.memo,
    searchAttributes: spec.searchAttributes,
    lastCompletionResult: spec.lastCompletionResult,
    continuedFailure: spec.continuedFailure,
    identity: spec.identity,
  } satisfies NewEvent);
  if (spec.backoffMs > 0) {
    await op.tx.timers.put({ runId, kind: 'workflowBackoff', ref: 0, fireAt: executionTime, eventId: started.eventId });
    op.due(executionTime);
  } else {
    await scheduleWorkflowTask(op, run, 1, op.now);
  }
  // The run's limit counts from its first workflow task; the chain's is one instant for all runs.
  if (spec.workflowRunTimeoutMs !== undefined) {
    const fireAt = executionTime + spec.workflowRunTimeoutMs;
    await op.tx.timers.put({ runId, kind: 'workflowRunTimeout', ref: 0, fireAt, eventId: started.eventId });
    op.due(fireAt);
  }
  if (executionDeadline !== undefined) {
    await op.tx.timers.put({ runId, kind: 'workflowExecutionTimeout', ref: 0, fireAt: executionDeadline, eventId: started.eventId });
    op.due(executionDeadline);
  }
  return run;
}

/** The spec of `run`'s successor, before the fields that differ by why it follows. */
function successorBase(run: RunRecord, args: Payload[]): RunSpec {
  return compact({
    workflowId: run.workflowId,
    workflowType: run.workflowType,
    taskQueue: run.taskQueue,
    args,
    workflowTaskTimeoutMs: run.workflowTaskTimeoutMs,
    firstExecutionRunId: run.firstExecutionRunId ?? run.runId,
    continuedFromRunId: run.runId,
    attempt: 1,
    backoffMs: 0,
    cronSchedule: run.cronSchedule,
    retryPolicy: run.retryPolicy,
    workflowExecutionTimeoutMs: run.workflowExecutionTimeoutMs,
    executionDeadline: run.executionDeadline,
    workflowRunTimeoutMs: run.workflowRunTimeoutMs,
    memo: run.memo,
    searchAttributes: run.searchAttributes,
    parent: run.parent,
    scheduleId: run.scheduleId,
  });
}

/**
 * Starts `run`'s successor and moves the parent's `children` entry to it, so that the parent
 * hears of the chain only when its last run closes.
 */
async function startSuccessor(op: Op, newId: () => string, run: RunRecord, spec: RunSpec): Promise<RunRecord> {
  const next = await createRun(op, newId, spec);
  run.newRunId = next.runId;
  op.changed(run);
  if (run.parent) {
    const parent = await op.run(run.parent.runId);
    const open = parent?.children?.[run.parent.initiatedEventId];
    if (parent && open && open.runId === run.runId) {
      parent.children = { ...parent.children, [run.parent.initiatedEventId]: { ...open, runId: next.runId } };
      op.changed(parent);
    }
  }
  return next;
}

/** What the continueAsNew command may change; the rest is the closing run's. */
export interface ContinueAsNewFields {
  workflowType: string;
  args: Payload[];
  taskQueue?: string;
  workflowRunTimeoutMs?: number;
  workflowTaskTimeoutMs?: number;
  memo?: Record<string, Payload>;
  searchAttributes?: RunRecord['searchAttributes'];
  retryPolicy?: RetryPolicy;
}

/** The continueAsNew command: the run closes continued-as-new and the next run starts at once. */
export async function continueAsNew(op: Op, newId: () => string, run: RunRecord, c: ContinueAsNewFields, completedId: number): Promise<void> {
  const spec: RunSpec = {
    ...successorBase(run, c.args),
    initiator: 'workflow',
    workflowType: c.workflowType,
    taskQueue: c.taskQueue ?? run.taskQueue,
    workflowTaskTimeoutMs: c.workflowTaskTimeoutMs ?? run.workflowTaskTimeoutMs,
  };
  if (c.workflowRunTimeoutMs !== undefined) spec.workflowRunTimeoutMs = c.workflowRunTimeoutMs;
  if (c.memo !== undefined) spec.memo = c.memo;
  if (c.searchAttributes !== undefined) spec.searchAttributes = c.searchAttributes;
  if (c.retryPolicy !== undefined) spec.retryPolicy = c.retryPolicy;
  const next = await startSuccessor(op, newId, run, spec);
  op.append(run, {
    type: 'workflowExecutionContinuedAsNew',
    newExecutionRunId: next.runId,
    workflowType: spec.workflowType,
    taskQueue: spec.taskQueue,
    input: c.args,
    workflowRunTimeoutMs: spec.workflowRunTimeoutMs,
    workflowTaskTimeoutMs: spec.workflowTaskTimeoutMs,
    workflowTaskCompletedEventId: completedId,
  });
  await closeRun(op, run, { status: 'continuedAsNew', newRunId: next.runId });
}

/** The failure a run that passed its run timeout closes with (what result() throws). */
export const RUN_TIMEOUT_FAILURE: WireFailure = { kind: 'timeout', timeoutType: 'startToClose', message: 'Workflow execution timed out' };

type Decision = { retryAt: number } | { retryState: RetryState };

/** Whether a failed (or run-timed-out) run is retried under its retry policy, and when. */
function retryDecision(op: Op, run: RunRecord, failure: WireFailure): Decision {
  if (run.retryPolicy === undefined) return { retryState: 'retryPolicyNotSet' };
  // Temporal's rule for a workflow: a policy with no maximumAttempts retries without end, within
  // the execution timeout. The first run is attempt 1.
  return activityRetry(run.retryPolicy, run.attempt ?? 1, failure, op.now, run.executionDeadline);
}

/** The next fire time of the run's cron, if there is one before the execution deadline. */
function nextCronTime(op: Op, run: RunRecord): number | undefined {
  if (run.cronSchedule === undefined) return undefined;
  const next = parseCron('cronSchedule', run.cronSchedule).next(op.now);
  if (next === undefined) return undefined;
  if (run.executionDeadline !== undefined && next >= run.executionDeadline) return undefined;
  return next;
}

/**
 * The run's workflowExecutionStarted: its input (a cron's and a retry's runs all get the chain's
 * input) and the last successful result it was given. Read once per closing that starts a run.
 */
async function startEventOf(op: Op, run: RunRecord): Promise<{ input: Payload[]; lastCompletionResult?: Payload }> {
  const [start] = await op.tx.history.read(run.runId, 0);
  if (start?.type !== 'workflowExecutionStarted') throw new DejaError('DEJA_INTERNAL', `deja engine invariant broken: run ${run.runId} does not begin with workflowExecutionStarted`);
  return start;
}

/**
 * A run's workflow completed (its completeWorkflow command): the closing event, and the next cron
 * run if it has a cron schedule.
 */
export async function completeRun(op: Op, newId: () => string, run: RunRecord, result: Payload | undefined, completedId: number): Promise<void> {
  const cronAt = nextCronTime(op, run);
  let next: RunRecord | undefined;
  if (cronAt !== undefined) {
    next = await startSuccessor(op, newId, run, {
      ...successorBase(run, (await startEventOf(op, run)).input),
      initiator: 'cronSchedule',
      backoffMs: cronAt - op.now,
      lastCompletionResult: result,
    });
  }
  op.append(run, { type: 'workflowExecutionCompleted', result, workflowTaskCompletedEventId: completedId, newExecutionRunId: next?.runId });
  await closeRun(op, run, compact({ status: 'completed' as const, result, newRunId: next?.runId }));
}

/**
 * A run failed (its failWorkflow command, with `completedId`) or passed its run timeout (no
 * `completedId`): a retry if its policy allows one, else its cron's next run, else the chain ends.
 */
export async function failRun(op: Op, newId: () => string, run: RunRecord, failure: WireFailure, completedId: number | undefined): Promise<void> {
  const decision = retryDecision(op, run, failure);
  let next: RunRecord | undefined;
  let retryState: RetryState;
  if ('retryAt' in decision) {
    retryState = 'inProgress';
    const started = await startEventOf(op, run);
    next = await startSuccessor(op, newId, run, {
      ...successorBase(run, started.input),
      initiator: 'retryPolicy',
      attempt: (run.attempt ?? 1) + 1,
      backoffMs: decision.retryAt - op.now,
      lastCompletionResult: started.lastCompletionResult,
      continuedFailure: failure,
    });
  } else {
    retryState = decision.retryState;
    const cronAt = nextCronTime(op, run);
    if (cronAt !== undefined) {
      const started = await startEventOf(op, run);
      next = await startSuccessor(op, newId, run, {
        ...successorBase(run, started.input),
        initiator: 'cronSchedule',
        backoffMs: cronAt - op.now,
        lastCompletionResult: started.lastCompletionResult,
        continuedFailure: failure,
      });
    }
  }
  if (completedId === undefined) {
    op.append(run, { type: 'workflowExecutionTimedOut', retryState, newExecutionRunId: next?.runId });
    await closeRun(op, run, compact({ status: 'timedOut' as const, retryState, newRunId: next?.runId }));
  } else {
    op.append(run, { type: 'workflowExecutionFailed', failure, workflowTaskCompletedEventId: completedId, retryState, newExecutionRunId: next?.runId });
    await closeRun(op, run, compact({ status: 'failed' as const, failure, retryState, newRunId: next?.runId }));
  }
}

/** The chain's execution timeout: the run closes timed out, and the chain ends. */
export async function executionTimedOut(op: Op, run: RunRecord): Promise<void> {
  op.append(run, { type: 'workflowExecutionTimedOut', retryState: 'timeout' });
  await closeRun(op, run, { status: 'timedOut', retryState: 'timeout' });
}

/** A waiting first workflow task (cron, retry backoff, start delay) is due. */
export async function backoffEnded(op: Op, run: RunRecord): Promise<void> {
  if (!run.workflowTask) await scheduleWorkflowTask(op, run, 1, op.now);
}
