/**
 * Client requests on runs (host side): start a run under the id-reuse policy, signal one, and the
 * pure reads (describe, outcome, history), which run in read-only transactions.
 */
import { DejaError } from '../errors';
import type { RunRecord } from '../backends/store';
import type { HistoryEvent } from '../history/events';
import type { ExecutionRef, WorkflowDescription, WorkflowOutcome } from '../service';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '../service-errors';
import { compact, type Op } from './op';
import type { SignalRequest, StartRequest } from './requests';
import { needWorkflowTask, scheduleWorkflowTask } from './runs';

export async function startWorkflow(op: Op, newId: () => string, request: StartRequest): Promise<{ runId: string }> {
  const { workflowId, workflowType, taskQueue, args, policy, workflowTaskTimeoutMs } = request;
  const latest = await op.tx.runs.latest(workflowId);
  if (latest?.status === 'running') {
    throw new WorkflowExecutionAlreadyStartedError(`workflow "${workflowId}" is already running (run ${latest.runId})`, workflowId, workflowType);
  }
  if (latest && (policy === 'rejectDuplicate' || (policy === 'allowDuplicateFailedOnly' && latest.status !== 'failed'))) {
    throw new WorkflowExecutionAlreadyStartedError(
      `workflow "${workflowId}" already ran (run ${latest.runId}, ${latest.status}) and workflowIdReusePolicy "${policy}" forbids another run`,
      workflowId,
      workflowType,
    );
  }
  const runId = newId();
  const run: RunRecord = {
    workflowId,
    runId,
    workflowType,
    taskQueue,
    status: 'running',
    startTime: op.now,
    nextEventId: 1,
    lastEventTime: op.now,
    historyBytes: 0,
    historySizeWarned: false,
    workflowTaskTimeoutMs,
    workflowTaskPending: false,
  };
  op.newRun(run);
  op.append(run, {
    type: 'workflowExecutionStarted',
    workflowType,
    workflowId,
    runId,
    firstExecutionRunId: runId,
    taskQueue,
    input: args,
    attempt: 1,
    randomnessSeed: newId().replace(/-/g, ''),
    workflowTaskTimeoutMs,
  });
  await scheduleWorkflowTask(op, run, 1, op.now);
  return { runId };
}

export async function signalWorkflow(op: Op, { ref, signalName, args, identity }: SignalRequest): Promise<void> {
  const run = await op.resolve(ref);
  if (run.status !== 'running') {
    throw new WorkflowNotFoundError(`workflow "${run.workflowId}" (run ${run.runId}) has already closed (${run.status})`, run.workflowId, run.runId);
  }
  op.append(run, { type: 'workflowExecutionSignaled', signalName, input: args, identity });
  await needWorkflowTask(op, run);
}

export async function describeWorkflow(op: Op, ref: ExecutionRef): Promise<WorkflowDescription> {
  const run = await op.resolve(ref);
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
  });
}

/** The run a ref names, with its outcome once it has closed. */
export async function workflowOutcome(op: Op, ref: ExecutionRef): Promise<{ workflowId: string; runId: string; outcome?: WorkflowOutcome }> {
  const run = await op.resolve(ref);
  const { workflowId, runId } = run;
  if (run.status === 'running') return { workflowId, runId };
  const [last] = await op.tx.history.read(runId, run.nextEventId - 2);
  if (last?.type === 'workflowExecutionCompleted') {
    return { workflowId, runId, outcome: compact({ status: 'completed' as const, runId, result: last.result }) };
  }
  if (last?.type === 'workflowExecutionFailed') {
    return { workflowId, runId, outcome: { status: 'failed', runId, failure: last.failure } };
  }
  throw new DejaError('DEJA_INTERNAL', `deja engine invariant broken: closed run ${runId} does not end with a closing event`);
}

export async function getHistory(op: Op, ref: ExecutionRef, afterEventId: number | undefined): Promise<HistoryEvent[]> {
  return op.tx.history.read((await op.resolve(ref)).runId, afterEventId);
}
