/**
 * What `@temporalio/common` resolves to under `deja/register` (host side): the failure classes
 * (deja's own, which the worker turns into wire failures), the search attribute helpers and the
 * workflow id policies. Temporal's converters and codecs are not here: deja's payloads are JSON.
 */
export {
  TemporalFailure,
  ApplicationFailure,
  ApplicationFailureCategory,
  ActivityFailure,
  TimeoutFailure,
  CancelledFailure,
  TerminatedFailure,
  ServerFailure,
  ChildWorkflowFailure,
  isTemporalFailure,
  isCancellation,
  rootCause,
} from '../../runtime/failure';
export type { ApplicationFailureOptions, WorkflowExecution } from '../../runtime/failure';
export { IllegalStateError, DeterminismViolationError } from '../../runtime/errors';
export { CompleteAsyncError } from '../activity';
export type { Duration } from '../../runtime/time';
export { SearchAttributeType, TypedSearchAttributes, defineSearchAttributeKey } from '../../runtime/search-attributes';
export type { SearchAttributeKey, SearchAttributePair, SearchAttributeUpdatePair } from '../../runtime/search-attributes';
export { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '../client';
export type { WorkflowRetryPolicy as RetryPolicy } from '../client';
