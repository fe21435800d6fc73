/** Errors the client raises (host side), with Temporal's class names. */
import { DejaError } from '../errors';

/** The workflow failed; `cause` is its failure rebuilt as an error (ApplicationFailure, ActivityFailure, …). */
export class WorkflowExecutionFailedError extends DejaError {
  constructor(
    message: string,
    readonly workflowId: string,
    readonly runId: string,
    cause: Error,
  ) {
    super('DEJA_WORKFLOW_FAILED', message, { cause });
  }
}

/**
 * AsyncCompletionClient.heartbeat: the activity was cancelled, or its attempt is no longer running
 * (Temporal's name). Stop its work, and report it with `reportCancellation` if the service still holds it.
 */
export class ActivityCancelledError extends DejaError {
  constructor(message: string) {
    super('DEJA_ACTIVITY_CANCELLED', message);
  }
}
