/**
 * The checks of the update requests (host side), run at the service edge before the engine sees
 * them, as requests.ts does for the others: the engine takes only the checked, copied values.
 */
import { randomUUID } from 'node:crypto';
import type { Payload } from '../../runtime/protocol';
import { InvalidArgumentError } from '../errors';
import type { ExecutionRef } from '../service';
import type { Limits } from './limits';
import { compact } from './op';
import { checkStart, type StartRequest } from './requests';
import { edge, type Edge } from './validate';

export interface UpdateRequest {
  ref: ExecutionRef;
  updateId: string;
  name: string;
  args: Payload[];
  waitForStage: 'accepted' | 'completed';
  identity?: string;
}

export interface UpdateWithStartRequest {
  start: StartRequest;
  update: Omit<UpdateRequest, 'ref'>;
}

const UPDATE_KEYS = ['updateId', 'name', 'args', 'waitForStage', 'identity'];

function updateFields(e: Edge, r: Record<string, unknown>): Omit<UpdateRequest, 'ref'> {
  return compact({
    updateId: r.updateId === undefined ? randomUUID() : e.string('updateId', r.updateId),
    name: e.string('name', r.name),
    args: e.args('args', r.args),
    waitForStage: e.oneOf<'accepted' | 'completed'>('waitForStage', r.waitForStage, ['accepted', 'completed']),
    identity: e.optionalString('identity', r.identity),
  });
}

export function checkUpdate(limits: Limits, request: unknown): UpdateRequest {
  return edge('updateWorkflow', limits, (e) => {
    const r = e.record('the request', request);
    e.knownKeys(r, ['workflowId', 'runId', ...UPDATE_KEYS]);
    return { ref: e.ref({ workflowId: r.workflowId, runId: r.runId }), ...updateFields(e, r) };
  });
}

export function checkUpdateRef(limits: Limits, ref: unknown): { ref: ExecutionRef; updateId: string } {
  return edge('pollWorkflowUpdate', limits, (e) => {
    const r = e.record('the update', ref);
    e.knownKeys(r, ['workflowId', 'runId', 'updateId'], 'the update');
    return { ref: e.ref({ workflowId: r.workflowId, runId: r.runId }), updateId: e.string('updateId', r.updateId) };
  });
}

/** Temporal's rule: update-with-start needs the conflict policy USE_EXISTING, or FAIL (the default). */
export function checkUpdateWithStart(limits: Limits, request: unknown): UpdateWithStartRequest {
  const where = 'updateWithStartWorkflow';
  const { start, update } = edge(where, limits, (e) => {
    const r = e.record('the request', request);
    e.knownKeys(r, ['start', 'update']);
    const u = e.at('update').record('update', r.update);
    e.at('update').knownKeys(u, UPDATE_KEYS);
    return { start: r.start, update: updateFields(e.at('update'), u) };
  });
  let checked: StartRequest;
  try {
    checked = checkStart(limits, start);
  } catch (err) {
    if (err instanceof InvalidArgumentError) err.message = `${where}: start: ${err.message}`;
    throw err;
  }
  if (checked.conflictPolicy === 'terminateExisting') {
    throw new InvalidArgumentError(`${where}: start.workflowIdConflictPolicy must be "useExisting" or "fail" for update-with-start (Temporal's rule), got "terminateExisting"`);
  }
  return { start: checked, update };
}
