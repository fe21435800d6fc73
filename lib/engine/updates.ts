/**
 * Workflow updates (host side): admitting an update to a running run, handing it to a workflow
 * task, turning the task's acceptUpdate, rejectUpdate and completeUpdate commands into events and
 * outcomes, and ending the updates in flight when the run closes. The run keeps its updates in
 * `RunRecord.updates`; an accepted or completed update is also in history.
 *
 * Life of an update: `admitted` (waiting; `deliveredAt` while a started task holds it) →
 * `accepted` (workflowExecutionUpdateAccepted) → `completed` (workflowExecutionUpdateCompleted);
 * or `admitted` → `rejected` (its validator threw: no event). A delivered update the task did not
 * answer, or whose task failed or timed out, goes back to wait for the next task. When the run
 * closes, an admitted update ends `rejected` and an accepted one `completed`, both with a failure
 * and no event (`completedEventId` absent). Every stage change wakes `{ type: 'update', runId }`.
 */
import type { Command, WireFailure } from '../../runtime/protocol';
import type { RunRecord, UpdateState } from '../backends/store';
import { InvalidArgumentError, LimitExceededError } from '../errors';
import type { ExecutionRef, UpdateOutcome, UpdateWorkflowResponse, WorkflowTask } from '../service';
import { WorkflowNotFoundError, WorkflowExecutionAlreadyStartedError, WorkflowUpdateNotFoundError } from '../service-errors';
import { compact, type Op } from './op';
import { needWorkflowTask } from './runs';
import { startRun } from './executions';
import type { UpdateRequest, UpdateWithStartRequest } from './update-requests';

/** Temporal's defaults (history.maxInFlightUpdates, history.maxTotalUpdates): per run. */
export const MAX_UPDATES_IN_FLIGHT = 10;
export const MAX_UPDATES_PER_RUN = 2000;

/** An update admitted but not accepted when the run closed (Temporal's NotFound wording). */
export const closedBeforeAccepted = (): WireFailure => ({ kind: 'server', type: 'WorkflowExecutionAlreadyCompleted', message: 'workflow execution already completed' });
/** An accepted update whose run closed before its handler finished (Temporal's wording). */
export const closedBeforeCompleted = (): WireFailure => ({
  kind: 'server',
  type: 'AcceptedUpdateCompletedWorkflow',
  message: 'Workflow Update failed because the Workflow completed before the Update completed.',
});

/** Where an update stands, for a caller waiting for it. */
export interface UpdateView {
  workflowId: string;
  runId: string;
  updateId: string;
  stage: UpdateState['stage'];
  outcome?: UpdateOutcome;
}

function updatesOf(run: RunRecord): Record<string, UpdateState> {
  run.updates ??= {};
  return run.updates;
}

function changedStage(op: Op, run: RunRecord): void {
  op.changed(run);
  op.wake({ type: 'update', runId: run.runId });
}

/**
 * Admits an update to a running run: one with the same id is joined, not admitted twice. A run
 * with MAX_UPDATES_IN_FLIGHT updates not yet completed, or MAX_UPDATES_PER_RUN in all, refuses more.
 */
export async function admitUpdate(op: Op, run: RunRecord, u: Omit<UpdateRequest, 'ref'>): Promise<void> {
  const updates = updatesOf(run);
  if (Object.hasOwn(updates, u.updateId)) return;
  const all = Object.values(updates);
  const inFlight = all.filter((s) => s.stage === 'admitted' || s.stage === 'accepted').length;
  if (inFlight >= MAX_UPDATES_IN_FLIGHT) {
    throw new LimitExceededError(
      'DEJA_LIMIT_EXCEEDED',
      `updateWorkflow: workflow "${run.workflowId}" (run ${run.runId}) has ${inFlight} updates in flight, the most a run may have (${MAX_UPDATES_IN_FLIGHT}); wait for one to complete`,
      'maxUpdatesInFlight',
      inFlight + 1,
      MAX_UPDATES_IN_FLIGHT,
    );
  }
  if (all.length >= MAX_UPDATES_PER_RUN) {
    throw new LimitExceededError(
      'DEJA_LIMIT_EXCEEDED',
      `updateWorkflow: workflow "${run.workflowId}" (run ${run.runId}) has had ${all.length} updates, the most a run may have (${MAX_UPDATES_PER_RUN}); continue as new to take more`,
      'maxUpdatesPerRun',
      all.length + 1,
      MAX_UPDATES_PER_RUN,
    );
  }
  updates[u.updateId] = compact({ name: u.name, stage: 'admitted' as const, args: u.args, identity: u.identity, arrival: all.length });
  changedStage(op, run);
  await needWorkflowTask(op, run);
}

/** The running run a ref names, else WorkflowNotFoundError (an update needs a running run). */
async function runningRun(op: Op, ref: ExecutionRef): Promise<RunRecord> {
  const run = await op.resolve(ref);
  if (run.status !== 'running') {
    throw new WorkflowNotFoundError(`workflow "${run.workflowId}" (run ${run.runId}) has already closed (${run.status}); an update needs a running workflow`, run.workflowId, run.runId);
  }
  return run;
}

/** updateWorkflow: admits the update (or joins the one with its id) and says where it stands. */
export async function updateWorkflow(op: Op, request: UpdateRequest): Promise<UpdateView> {
  const found = await op.resolve(request.ref);
  // An update the run has is joined even after the run closed: its outcome is known.
  const run = found.updates?.[request.updateId] !== undefined ? found : await runningRun(op, request.ref);
  await admitUpdate(op, run, request);
  return viewOf(op, run, request.updateId);
}

/** Starts the workflow unless it runs (conflict policy useExisting; fail refuses), then admits the update. */
export async function updateWithStart(op: Op, newId: () => string, request: UpdateWithStartRequest): Promise<{ started: boolean; view: UpdateView }> {
  const { start, update } = request;
  const latest = await op.tx.runs.latest(start.workflowId);
  let run: RunRecord;
  let started = false;
  if (latest?.status === 'running') {
    if (start.conflictPolicy !== 'useExisting') {
      throw new WorkflowExecutionAlreadyStartedError(
        `workflow "${start.workflowId}" is already running (run ${latest.runId}); give workflowIdConflictPolicy "useExisting" to send the update to it`,
        start.workflowId,
        start.workflowType,
      );
    }
    run = (await op.run(latest.runId))!;
  } else {
    run = await startRun(op, newId, start);
    started = true;
  }
  await admitUpdate(op, run, update);
  return { started, view: await viewOf(op, run, update.updateId) };
}

/** Where an update of the run a ref names stands; WorkflowUpdateNotFoundError if the run has none with that id. */
export async function updateView(op: Op, ref: ExecutionRef, updateId: string): Promise<UpdateView> {
  const run = await op.resolve(ref);
  if (run.updates?.[updateId] === undefined) {
    throw new WorkflowUpdateNotFoundError(`workflow "${run.workflowId}" (run ${run.runId}) has no update "${updateId}"`, run.workflowId, updateId);
  }
  return viewOf(op, run, updateId);
}

async function viewOf(op: Op, run: RunRecord, updateId: string): Promise<UpdateView> {
  const state = run.updates![updateId];
  const view: UpdateView = { workflowId: run.workflowId, runId: run.runId, updateId, stage: state.stage };
  if (state.stage === 'rejected') view.outcome = { status: 'failed', failure: state.failure! };
  else if (state.stage === 'completed') {
    if (state.completedEventId === undefined) view.outcome = { status: 'failed', failure: state.failure! };
    else {
      const [event] = await op.tx.history.read(run.runId, state.completedEventId - 1);
      if (event?.type !== 'workflowExecutionUpdateCompleted') throw new Error(`deja engine invariant broken: event ${state.completedEventId} of run ${run.runId} is not update ${updateId}'s completion`);
      view.outcome = event.failure !== undefined ? { status: 'failed', failure: event.failure } : compact({ status: 'completed' as const, result: event.result });
    }
  }
  return view;
}

/** The response of updateWorkflow for a view at or past the stage waited for. */
export function responseOf(view: UpdateView): UpdateWorkflowResponse {
  const { updateId, workflowId, runId } = view;
  if (view.outcome !== undefined) return { updateId, workflowId, runId, stage: 'completed', outcome: view.outcome };
  return { updateId, workflowId, runId, stage: 'accepted' };
}

/** Whether the update has reached `stage` (a rejection counts as completed). */
export function reached(view: UpdateView, stage: 'accepted' | 'completed'): boolean {
  return view.outcome !== undefined || (stage === 'accepted' && view.stage === 'accepted');
}

/** The updates waiting for a task, handed to the one just started: marked delivered with it. */
export function deliverUpdates(op: Op, run: RunRecord, startedEventId: number): NonNullable<WorkflowTask['updates']> {
  const out: NonNullable<WorkflowTask['updates']> = [];
  // In arrival order: an object's integer-like keys (update ids "7", "12") come first, in numeric order.
  const waiting = Object.entries(run.updates ?? {}).filter(([, state]) => state.stage === 'admitted');
  waiting.sort(([, a], [, b]) => (a.arrival ?? 0) - (b.arrival ?? 0));
  for (const [updateId, state] of waiting) {
    state.deliveredAt = startedEventId;
    out.push({ updateId, name: state.name, args: state.args ?? [] });
  }
  if (out.length > 0) op.changed(run);
  return out;
}

/**
 * The task started at `startedEventId` ended: the updates it held and did not answer go back to
 * wait, and another task is asked for (a failed or timed-out task is retried anyway).
 */
export function updatesAfterTask(op: Op, run: RunRecord, startedEventId: number): void {
  let back = false;
  for (const state of Object.values(run.updates ?? {})) {
    if (state.deliveredAt !== startedEventId) continue;
    state.deliveredAt = undefined;
    delete state.deliveredAt;
    if (state.stage === 'admitted') back = true;
  }
  if (!back) return;
  op.changed(run);
  if (run.status === 'running') run.workflowTaskPending = true;
}

/** The update a command names, in the stage it must be in; else the completion is refused (badCommand). */
function updateFor(run: RunRecord, c: Extract<Command, { updateId: string }>, stage: UpdateState['stage'], where: string): UpdateState {
  const state = run.updates?.[c.updateId];
  if (state === undefined) throw new InvalidArgumentError(`${where}: ${c.type} names update "${c.updateId}", which this run does not have`);
  if (state.stage !== stage) throw new InvalidArgumentError(`${where}: ${c.type} names update "${c.updateId}", which is ${state.stage}, not ${stage}`);
  return state;
}

export function acceptUpdate(op: Op, run: RunRecord, c: Extract<Command, { type: 'acceptUpdate' }>, completedId: number, where: string): void {
  const state = updateFor(run, c, 'admitted', where);
  const accepted = op.append(run, {
    type: 'workflowExecutionUpdateAccepted',
    updateId: c.updateId,
    name: state.name,
    input: state.args ?? [],
    identity: state.identity,
    workflowTaskCompletedEventId: completedId,
  });
  state.stage = 'accepted';
  state.acceptedEventId = accepted.eventId;
  delete state.args;
  delete state.deliveredAt;
  changedStage(op, run);
}

export function rejectUpdate(op: Op, run: RunRecord, c: Extract<Command, { type: 'rejectUpdate' }>, where: string): void {
  const state = updateFor(run, c, 'admitted', where);
  state.stage = 'rejected';
  state.failure = c.failure;
  delete state.args;
  delete state.deliveredAt;
  changedStage(op, run);
}

export function completeUpdate(op: Op, run: RunRecord, c: Extract<Command, { type: 'completeUpdate' }>, completedId: number, where: string): void {
  const state = updateFor(run, c, 'accepted', where);
  if (c.result !== undefined && c.failure !== undefined) throw new InvalidArgumentError(`${where}: completeUpdate of "${c.updateId}" has both a result and a failure`);
  const completed = op.append(run, {
    type: 'workflowExecutionUpdateCompleted',
    updateId: c.updateId,
    acceptedEventId: state.acceptedEventId!,
    result: c.result,
    failure: c.failure,
    workflowTaskCompletedEventId: completedId,
  });
  state.stage = 'completed';
  state.completedEventId = completed.eventId;
  changedStage(op, run);
}

/** The run is closing: updates not yet completed end with a failure saying so. */
export async function closeUpdates(op: Op, run: RunRecord): Promise<void> {
  let changed = false;
  for (const state of Object.values(run.updates ?? {})) {
    if (state.stage === 'admitted') {
      state.stage = 'rejected';
      state.failure = closedBeforeAccepted();
    } else if (state.stage === 'accepted') {
      state.stage = 'completed';
      state.failure = closedBeforeCompleted();
    } else continue;
    delete state.args;
    delete state.deliveredAt;
    changed = true;
  }
  if (changed) changedStage(op, run);
}
