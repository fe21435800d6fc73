/**
 * Client requests on runs (host side): start a run under the id-reuse policy, signal one, and the
 * pure reads (describe, outcome, history), which run in read-only transactions.
 */
import { DejaError, InvalidArgumentError } from '../errors';
import type { RunRecord } from '../backends/store';
import type { HistoryEvent } from '../history/events';
import type { WireFailure } from '../../runtime/protocol';
import type { ExecutionRef, ListWorkflowsPage, WorkflowDescription, WorkflowOutcome } from '../service';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '../service-errors';
import { requestCancelRun, terminateRun } from './cancellation';
import { compact, type Op } from './op';
import type { CancelRequest, ListRequest, SignalRequest, SignalWithStartRequest, StartRequest, TerminateRequest } from './requests';
import { needWorkflowTask, scheduleWorkflowTask } from './runs';
import { createRun, RUN_TIMEOUT_FAILURE } from './chain';
import { parseCron } from '../cron';
import { pageToken } from './visibility';

export async function startWorkflow(op: Op, newId: () => string, request: StartRequest): Promise<{ runId: string; started: boolean }> {
  const { run, started } = await startOrUse(op, newId, request);
  return { runId: run.runId, started };
}

/**
 * Starts a run under the id conflict policy (a running run with the id: fail, use it, or
 * terminate it) and the id-reuse policy (closed runs with the id), a child's with its parent
 * link, and schedules its first task: now, or after the start delay or at the cron's first fire
 * time (chain.ts). With 'useExisting' it returns the running run.
 */
export async function startRun(op: Op, newId: () => string, request: StartRequest, parent?: RunRecord['parent']): Promise<RunRecord> {
  return (await startOrUse(op, newId, request, parent)).run;
}

async function startOrUse(op: Op, newId: () => string, request: StartRequest, parent?: RunRecord['parent']): Promise<{ run: RunRecord; started: boolean }> {
  const { workflowId, workflowType, taskQueue, args, policy, workflowTaskTimeoutMs } = request;
  const latest = await op.tx.runs.latest(workflowId);
  if (latest?.status === 'running') {
    const conflict = request.conflictPolicy ?? 'fail';
    if (conflict === 'useExisting') return { run: (await op.run(latest.runId))!, started: false };
    if (conflict === 'terminateExisting') {
      const existing = (await op.run(latest.runId))!;
      await terminateRun(op, existing, { reason: 'terminated by a new start (workflowIdConflictPolicy TERMINATE_EXISTING)', identity: request.identity });
    } else {
      throw new WorkflowExecutionAlreadyStartedError(`workflow "${workflowId}" is already running (run ${latest.runId})`, workflowId, workflowType);
    }
  } else if (latest && (policy === 'rejectDuplicate' || (policy === 'allowDuplicateFailedOnly' && latest.status !== 'failed'))) {
    throw new WorkflowExecutionAlreadyStartedError(
      `workflow "${workflowId}" already ran (run ${latest.runId}, ${latest.status}) and workflowIdReusePolicy "${policy}" forbids another run`,
      workflowId,
      workflowType,
    );
  }
  const cronAt = request.cronSchedule === undefined ? undefined : parseCron('cronSchedule', request.cronSchedule).next(op.now);
  const backoffMs = cronAt !== undefined ? cronAt - op.now : (request.startDelayMs ?? 0);
  const run = await createRun(
    op,
    newId,
    compact({
      workflowId,
      workflowType,
      taskQueue,
      args,
      workflowTaskTimeoutMs,
      attempt: 1,
      backoffMs,
      cronSchedule: request.cronSchedule,
      retryPolicy: request.retryPolicy,
      workflowExecutionTimeoutMs: request.workflowExecutionTimeoutMs,
      workflowRunTimeoutMs: request.workflowRunTimeoutMs,
      memo: request.memo,
      searchAttributes: request.searchAttributes,
      parent,
      identity: request.identity,
    }),
  );
  return { run, started: true };
}

/**
 * Signals the id's running run; if none runs, starts one (under the id-reuse policy) and signals
 * it, so that its first workflow task sees the signal.
 */
export async function signalWithStart(op: Op, newId: () => string, request: SignalWithStartRequest): Promise<{ runId: string }> {
  const latest = await op.tx.runs.latest(request.start.workflowId);
  const run = latest?.status === 'running' ? (await op.run(latest.runId))! : await startRun(op, newId, request.start);
  op.append(run, { type: 'workflowExecutionSignaled', signalName: request.signalName, input: request.signalArgs, identity: request.identity });
  await needWorkflowTask(op, run);
  return { runId: run.runId };
}

/** The running run a client names, or WorkflowNotFoundError saying it has closed. */
async function runningRun(op: Op, ref: ExecutionRef): Promise<RunRecord> {
  const run = await op.resolve(ref);
  if (run.status !== 'running') {
    throw new WorkflowNotFoundError(`workflow "${run.workflowId}" (run ${run.runId}) has already closed (${run.status})`, run.workflowId, run.runId);
  }
  return run;
}

export async function requestCancelWorkflow(op: Op, { ref, reason, identity }: CancelRequest): Promise<void> {
  await requestCancelRun(op, await runningRun(op, ref), { reason, identity });
}

export async function terminateWorkflow(op: Op, { ref, reason, details, identity }: TerminateRequest): Promise<void> {
  await terminateRun(op, await runningRun(op, ref), { reason, details, identity });
}

/** A page of runs, newest first; the page token is the last run's id. */
export async function listWorkflows(op: Op, request: ListRequest): Promise<ListWorkflowsPage> {
  if (request.afterRunId !== undefined && (await op.tx.runs.get(request.afterRunId)) === undefined) {
    throw new InvalidArgumentError(`listWorkflows: nextPageToken names no run (run ${request.afterRunId}); it is not a page token from a previous listWorkflows page`);
  }
  const runs = await op.tx.runs.list(compact({ ...request.filter, limit: request.pageSize + 1, afterRunId: request.afterRunId, query: request.query }));
  const page = runs.slice(0, request.pageSize);
  return compact({
    executions: page.map(description),
    nextPageToken: runs.length > request.pageSize ? pageToken(page[page.length - 1].runId, request.query) : undefined,
  });
}

export async function signalWorkflow(op: Op, { ref, signalName, args, identity }: SignalRequest): Promise<void> {
  const run = await runningRun(op, ref);
  op.append(run, { type: 'workflowExecutionSignaled', signalName, input: args, identity });
  await needWorkflowTask(op, run);
}

export async function describeWorkflow(op: Op, ref: ExecutionRef): Promise<WorkflowDescription> {
  return description(await op.resolve(ref));
}

function description(run: RunRecord): WorkflowDescription {
  return compact({
    workflowId: run.workflowId,
    runId: run.runId,
    workflowType: run.workflowType,
    taskQueue: run.taskQueue,
    status: run.status,
    startTime: new Date(run.startTime).toISOString(),
    closeTime: run.closeTime === undefined ? undefined : new Date(run.closeTime).toISOString(),
    historyLength: run.nextEventId - 1,
    historySizeBytes: run.historyBytes,
    parent: run.parent && { workflowId: run.parent.workflowId, runId: run.parent.runId },
    executionTime: run.executionTime === undefined ? undefined : new Date(run.executionTime).toISOString(),
    firstExecutionRunId: run.firstExecutionRunId,
    continuedFromExecutionRunId: run.continuedFromRunId,
    cronSchedule: run.cronSchedule,
    memo: run.memo,
    searchAttributes: run.searchAttributes,
  });
}

/** The run a ref names, with its outcome once it has closed. */
export async function workflowOutcome(op: Op, ref: ExecutionRef): Promise<{ workflowId: string; runId: string; outcome?: WorkflowOutcome }> {
  const run = await op.resolve(ref);
  const { workflowId, runId } = run;
  if (run.status === 'running') return { workflowId, runId };
  const [last] = await op.tx.history.read(runId, run.nextEventId - 2);
  if (last?.type === 'workflowExecutionCompleted') {
    return { workflowId, runId, outcome: compact({ status: 'completed' as const, runId, result: last.result, newRunId: last.newExecutionRunId }) };
  }
  if (last?.type === 'workflowExecutionFailed') {
    return { workflowId, runId, outcome: compact({ status: 'failed' as const, runId, failure: last.failure, newRunId: last.newExecutionRunId }) };
  }
  if (last?.type === 'workflowExecutionTimedOut') {
    return { workflowId, runId, outcome: compact({ status: 'timedOut' as const, runId, failure: { ...RUN_TIMEOUT_FAILURE }, newRunId: last.newExecutionRunId }) };
  }
  if (last?.type === 'workflowExecutionContinuedAsNew') {
    return { workflowId, runId, outcome: { status: 'continuedAsNew', runId, newRunId: last.newExecutionRunId } };
  }
  if (last?.type === 'workflowExecutionCanceled') {
    const failure: WireFailure = compact({ kind: 'cancelled' as const, message: 'Workflow execution cancelled', details: last.details });
    return { workflowId, runId, outcome: { status: 'cancelled', runId, failure } };
  }
  if (last?.type === 'workflowExecutionTerminated') {
    const failure: WireFailure = compact({ kind: 'terminated' as const, message: last.reason ?? 'Workflow execution terminated', details: last.details });
    return { workflowId, runId, outcome: { status: 'terminated', runId, failure } };
  }
  throw new DejaError('DEJA_INTERNAL', `deja engine invariant broken: closed run ${runId} does not end with a closing event`);
}

export async function getHistory(op: Op, ref: ExecutionRef, afterEventId: number | undefined): Promise<HistoryEvent[]> {
  return op.tx.history.read((await op.resolve(ref)).runId, afterEventId);
}
