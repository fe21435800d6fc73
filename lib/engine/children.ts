/**
 * Child and external workflows (host side). A workflow's commands reach other runs inside the
 * same transaction as the workflow task that emitted them: a child is started (or refused) at
 * once, a signal or cancel request is delivered (or fails) at once, and the outcome is appended to
 * the emitting run right after its initiating event, for the next workflow task to see. A child
 * that closes tells its parent (one event in the parent's history); a parent that closes applies
 * each open child's parent close policy.
 */
import type { RequestCancelExternalWorkflowCommand, SignalExternalWorkflowCommand, StartChildWorkflowCommand } from '../../runtime/protocol';
import type { RunRecord } from '../backends/store';
import { assertNever } from '../errors';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '../service-errors';
import { requestCancelRun, terminateRun } from './cancellation';
import { startRun } from './executions';
import { compact, type Op } from './op';
import { DEFAULT_WORKFLOW_TASK_TIMEOUT_MS } from './requests';
import { needWorkflowTask, type Closing } from './runs';

/** Starts the child a startChildWorkflow command asks for, or records why it could not start. */
export async function startChild(op: Op, newId: () => string, parent: RunRecord, c: StartChildWorkflowCommand, completedId: number): Promise<void> {
  const taskQueue = c.taskQueue ?? parent.taskQueue;
  const workflowTaskTimeoutMs = c.workflowTaskTimeoutMs ?? DEFAULT_WORKFLOW_TASK_TIMEOUT_MS;
  const initiated = op.append(parent, {
    type: 'startChildWorkflowExecutionInitiated',
    workflowId: c.workflowId,
    workflowType: c.workflowType,
    taskQueue,
    input: c.args,
    parentClosePolicy: c.parentClosePolicy,
    workflowIdReusePolicy: c.workflowIdReusePolicy,
    workflowTaskTimeoutMs,
    workflowExecutionTimeoutMs: c.workflowExecutionTimeoutMs,
    workflowRunTimeoutMs: c.workflowRunTimeoutMs,
    retryPolicy: c.retryPolicy,
    cronSchedule: c.cronSchedule,
    memo: c.memo,
    searchAttributes: c.searchAttributes,
    workflowTaskCompletedEventId: completedId,
  });
  try {
    const child = await startRun(
      op,
      newId,
      {
        workflowId: c.workflowId,
        workflowType: c.workflowType,
        taskQueue,
        args: c.args,
        policy: c.workflowIdReusePolicy ?? 'allowDuplicate',
        workflowTaskTimeoutMs,
        ...compact({
          workflowExecutionTimeoutMs: c.workflowExecutionTimeoutMs,
          workflowRunTimeoutMs: c.workflowRunTimeoutMs,
          retryPolicy: c.retryPolicy,
          cronSchedule: c.cronSchedule,
        }),
        memo: c.memo,
        searchAttributes: c.searchAttributes,
      },
      { workflowId: parent.workflowId, runId: parent.runId, initiatedEventId: initiated.eventId, parentClosePolicy: c.parentClosePolicy },
    );
    const started = op.append(parent, {
      type: 'childWorkflowExecutionStarted',
      workflowId: c.workflowId,
      runId: child.runId,
      workflowType: c.workflowType,
      initiatedEventId: initiated.eventId,
    });
    parent.children = {
      ...parent.children,
      [initiated.eventId]: {
        seq: c.seq,
        workflowId: c.workflowId,
        runId: child.runId,
        workflowType: c.workflowType,
        startedEventId: started.eventId,
        parentClosePolicy: c.parentClosePolicy,
      },
    };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    op.append(parent, {
      type: 'startChildWorkflowExecutionFailed',
      workflowId: c.workflowId,
      workflowType: c.workflowType,
      cause: 'workflowAlreadyExists',
      initiatedEventId: initiated.eventId,
    });
  }
  await needWorkflowTask(op, parent);
}

/**
 * The run an external command names, if it can take it: it exists, is running, and, for a
 * child-only command, is a child of `source`.
 */
async function externalTarget(op: Op, source: RunRecord, c: { workflowId: string; runId?: string; childWorkflowOnly?: boolean }): Promise<RunRecord | undefined> {
  let target: RunRecord;
  try {
    target = await op.resolve({ workflowId: c.workflowId, runId: c.runId });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
  if (target.status !== 'running') return undefined;
  if (c.childWorkflowOnly && target.parent?.runId !== source.runId) return undefined;
  return target;
}

export async function signalExternal(op: Op, run: RunRecord, c: SignalExternalWorkflowCommand, completedId: number): Promise<void> {
  const initiated = op.append(run, {
    type: 'signalExternalWorkflowExecutionInitiated',
    workflowId: c.workflowId,
    runId: c.runId,
    signalName: c.signalName,
    input: c.args,
    childWorkflowOnly: c.childWorkflowOnly ?? false,
    workflowTaskCompletedEventId: completedId,
  });
  const target = await externalTarget(op, run, c);
  if (target) {
    op.append(target, { type: 'workflowExecutionSignaled', signalName: c.signalName, input: c.args, identity: `workflow ${run.workflowId}` });
    await needWorkflowTask(op, target);
    op.append(run, { type: 'externalWorkflowExecutionSignaled', initiatedEventId: initiated.eventId, workflowId: target.workflowId, runId: target.runId });
  } else {
    op.append(run, {
      type: 'signalExternalWorkflowExecutionFailed',
      initiatedEventId: initiated.eventId,
      workflowId: c.workflowId,
      runId: c.runId,
      cause: 'externalWorkflowExecutionNotFound',
    });
  }
  await needWorkflowTask(op, run);
}

export async function requestCancelExternal(op: Op, run: RunRecord, c: RequestCancelExternalWorkflowCommand, completedId: number): Promise<void> {
  const initiated = op.append(run, {
    type: 'requestCancelExternalWorkflowExecutionInitiated',
    workflowId: c.workflowId,
    runId: c.runId,
    childWorkflowOnly: c.childWorkflowOnly ?? false,
    workflowTaskCompletedEventId: completedId,
  });
  const target = await externalTarget(op, run, c);
  if (target) {
    await requestCancelRun(op, target, { external: { workflowId: run.workflowId, runId: run.runId, initiatedEventId: initiated.eventId } });
    op.append(run, { type: 'externalWorkflowExecutionCancelRequested', initiatedEventId: initiated.eventId, workflowId: target.workflowId, runId: target.runId });
  } else {
    op.append(run, {
      type: 'requestCancelExternalWorkflowExecutionFailed',
      initiatedEventId: initiated.eventId,
      workflowId: c.workflowId,
      runId: c.runId,
      cause: 'externalWorkflowExecutionNotFound',
    });
  }
  await needWorkflowTask(op, run);
}

/** A child closed: its parent, if still running and still waiting for it, gets one event. */
export async function reportToParent(op: Op, child: RunRecord, closing: Closing): Promise<void> {
  const link = child.parent;
  if (!link) return;
  const parent = await op.run(link.runId);
  if (!parent || parent.status !== 'running') return;
  const open = parent.children?.[link.initiatedEventId];
  if (!open || open.runId !== child.runId) return;
  const { [link.initiatedEventId]: _closed, ...rest } = parent.children!;
  parent.children = Object.keys(rest).length > 0 ? rest : undefined;
  op.changed(parent);
  const base = {
    workflowId: child.workflowId,
    runId: child.runId,
    workflowType: child.workflowType,
    initiatedEventId: link.initiatedEventId,
    startedEventId: open.startedEventId,
  };
  switch (closing.status) {
    case 'completed':
      op.append(parent, { type: 'childWorkflowExecutionCompleted', ...base, result: closing.result });
      break;
    case 'failed':
      op.append(parent, { type: 'childWorkflowExecutionFailed', ...base, failure: closing.failure, retryState: closing.retryState ?? 'retryPolicyNotSet' });
      break;
    case 'cancelled':
      op.append(parent, { type: 'childWorkflowExecutionCanceled', ...base, details: closing.details });
      break;
    case 'terminated':
      op.append(parent, { type: 'childWorkflowExecutionTerminated', ...base, reason: closing.reason });
      break;
    case 'timedOut':
      op.append(parent, { type: 'childWorkflowExecutionTimedOut', ...base, retryState: closing.retryState ?? 'timeout' });
      break;
    case 'continuedAsNew':
      return; // its parent's entry points at the successor (chain.ts); not reached

    default:
      return assertNever(closing, 'closing');
  }
  await needWorkflowTask(op, parent);
}

/** A parent closed: each child still running gets its parent close policy. */
export async function applyParentClosePolicy(op: Op, parent: RunRecord): Promise<void> {
  const children = parent.children;
  if (!children) return;
  parent.children = undefined;
  for (const [initiatedEventId, open] of Object.entries(children)) {
    const child = await op.run(open.runId);
    if (!child || child.status !== 'running') continue;
    const why = `parent workflow "${parent.workflowId}" (run ${parent.runId}) closed (${parent.status})`;
    switch (open.parentClosePolicy) {
      case 'terminate':
        await terminateRun(op, child, { reason: `${why}: parent close policy TERMINATE` });
        break;
      case 'requestCancel':
        await requestCancelRun(op, child, {
          reason: `${why}: parent close policy REQUEST_CANCEL`,
          external: { workflowId: parent.workflowId, runId: parent.runId, initiatedEventId: Number(initiatedEventId) },
        });
        break;
      case 'abandon':
        break;
      default:
        assertNever(open.parentClosePolicy, 'parent close policy');
    }
  }
}
