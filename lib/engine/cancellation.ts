/**
 * Cancelling and terminating runs (host side). A cancel request is an event the workflow's code
 * sees (`cancelWorkflow` job: its root scope is cancelled; the code decides what happens). A
 * termination closes the run at once, with no workflow code run: its workflow task, activities and
 * timers go with it (a worker running one of its activities learns it at the next heartbeat).
 */
import type { Payload } from '../../runtime/protocol';
import type { RunRecord } from '../backends/store';
import type { Op } from './op';
import { closeRun, needWorkflowTask } from './runs';

/** Who asked for a cancel: a client (identity), or another workflow (its initiating event). */
export interface CancelOrigin {
  reason?: string;
  identity?: string;
  external?: { workflowId: string; runId: string; initiatedEventId: number };
}

/**
 * Records a cancel request on a running run and asks for a workflow task. A run that already has
 * one gets nothing more: its code has been told (Temporal dedups repeated requests too).
 */
export async function requestCancelRun(op: Op, run: RunRecord, origin: CancelOrigin): Promise<void> {
  if (run.cancelRequested) return;
  run.cancelRequested = true;
  op.append(run, {
    type: 'workflowExecutionCancelRequested',
    cause: origin.reason,
    identity: origin.identity,
    externalInitiatedEventId: origin.external?.initiatedEventId,
    externalWorkflowId: origin.external?.workflowId,
    externalRunId: origin.external?.runId,
  });
  await needWorkflowTask(op, run);
}

/** Closes a running run at once: workflowExecutionTerminated, status terminated. */
export async function terminateRun(op: Op, run: RunRecord, termination: { reason?: string; details?: Payload[]; identity?: string }): Promise<void> {
  // A started workflow task's completion will find its token stale: the run has closed.
  op.append(run, { type: 'workflowExecutionTerminated', reason: termination.reason, details: termination.details, identity: termination.identity });
  await closeRun(op, run, { status: 'terminated', reason: termination.reason });
}
