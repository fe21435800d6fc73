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
