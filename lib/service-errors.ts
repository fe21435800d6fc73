/**
 * Errors a WorkflowService raises (host side). Class names are Temporal's where Temporal has one;
 * each carries one of the stable DejaError codes.
 */
import type { WireFailure } from '../runtime/protocol';
import { DejaError } from './errors';

/** No such workflow id or run, or the run has closed: the runtime's class, shared with workflow code. */
export { WorkflowNotFoundError } from '../runtime/common-errors';

/**
 * A run with this workflow id is running, or the id-reuse policy forbids a new one. The runtime's
 * class, so that the client's and a workflow's `startChild` throw the same one (as Temporal's do);
 * it answers as a DejaError with the code DEJA_ALREADY_STARTED.
 */
export { WorkflowExecutionAlreadyStartedError } from '../runtime/failure';

/** The query handler failed, or no worker answered in time (`failure.kind === 'timeout'`). */
export class QueryFailedError extends DejaError {
  constructor(
    message: string,
    readonly failure: WireFailure,
  ) {
    super('DEJA_QUERY_FAILED', message);
  }
}

/** The task token no longer holds its task (completed, timed out, run closed): log and move on. */
export class StaleTaskError extends DejaError {
  constructor(message: string) {
    super('DEJA_STALE_TASK', message);
  }
}

/**
 * No open activity has these ids, or none of its attempts is running (Temporal's name): from
 * `activityTaskToken`, and from the AsyncCompletionClient for a token the service no longer holds.
 */
export class ActivityNotFoundError extends DejaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DEJA_ACTIVITY_NOT_FOUND', message, options);
  }
}

/** The run has no update with this id (Temporal: a NotFound from PollWorkflowExecutionUpdate). */
export class WorkflowUpdateNotFoundError extends DejaError {
  constructor(
    message: string,
    readonly workflowId: string,
    readonly updateId: string,
  ) {
    super('DEJA_UPDATE_NOT_FOUND', message);
  }
}

/** Temporal's name: a schedule with this id exists already. */
export class ScheduleAlreadyRunningError extends DejaError {
  constructor(
    message: string,
    readonly scheduleId: string,
  ) {
    super('DEJA_SCHEDULE_EXISTS', message);
  }
}

/** Temporal's name: no schedule has this id. */
export class ScheduleNotFoundError extends DejaError {
  constructor(
    message: string,
    readonly scheduleId: string,
  ) {
    super('DEJA_SCHEDULE_NOT_FOUND', message);
  }
}
