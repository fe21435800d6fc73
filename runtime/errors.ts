/**
 * Errors raised inside the isolate that are bugs, not workflow failures: throwing one fails the
 * workflow task (which is retried after the code is fixed), never the workflow.
 */
import { Error, ObjectDefineProperty, dataProperty } from './primordials';

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

// The bundler may rename the classes (`DeterminismViolationError2`): fix the constructors' names too.
ObjectDefineProperty(DeterminismViolationError, 'name', dataProperty('DeterminismViolationError', false, false, true));
ObjectDefineProperty(IllegalStateError, 'name', dataProperty('IllegalStateError', false, false, true));
