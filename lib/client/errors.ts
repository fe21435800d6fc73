/** Errors the client raises (host side), with Temporal's class names. */
import { DejaError } from '../errors';

/**
 * The workflow did not complete; `cause` says how, rebuilt as an error: its failure
 * (ApplicationFailure, ActivityFailure, …) for a run that failed, a CancelledFailure for one that
 * ended cancelled, a TerminatedFailure for one that was terminated. Temporal's current name.
 */
export class WorkflowFailedError extends DejaError {
  /** Why the workflow failed (an ApplicationFailure, a CancelledFailure, …); declared for code compiled without ES2022's lib. */
  declare readonly cause: Error;
  constructor(
    message: string,
    readonly workflowId: string,
    readonly runId: string,
    cause: Error,
  ) {
    super('DEJA_WORKFLOW_FAILED', message, { cause });
  }
}

/** The seed-era name of WorkflowFailedError: the same class, so `instanceof` works with either. */
export const WorkflowExecutionFailedError = WorkflowFailedError;
export type WorkflowExecutionFailedError = WorkflowFailedError;

/**
 * AsyncCompletionClient.heartbeat: the activity was cancelled, or its attempt is no longer running
 * (Temporal's name). Stop its work, and report it with `reportCancellation` if the service still holds it.
 */
export class ActivityCancelledError extends DejaError {
  constructor(message: string) {
    super('DEJA_ACTIVITY_CANCELLED', message);
  }
}

/**
 * `handle.result()` of a handle made with `followRuns: false`: the run continued as new, in run
 * `newExecutionRunId` (Temporal's class).
 */
export class WorkflowContinuedAsNewError extends DejaError {
  constructor(
    message: string,
    readonly newExecutionRunId: string,
  ) {
    super('DEJA_WORKFLOW_FAILED', message);
  }
}
