/**
 * Errors raised inside the isolate that are bugs, not workflow failures: throwing one fails the
 * workflow task (which is retried after the code is fixed), never the workflow.
 */

/** The workflow did something that cannot be replayed deterministically. */
export class DeterminismViolationError extends Error {
  override get name(): string {
    return 'DeterminismViolationError';
  }
}

/** A workflow API was called outside a workflow (on the host, or in a query that emits commands). */
export class IllegalStateError extends Error {
  override get name(): string {
    return 'IllegalStateError';
  }
}
