/**
 * What `@temporalio/common` resolves to in activity code under deja's worker (host side; see
 * ./aliases.ts): the names an activity imports from it. The failure classes are deja's own, the
 * ones the worker turns into wire failures (a real Temporal ApplicationFailure would reach it as
 * a plain Error, and lose its type and nonRetryable flag). Workflow code gets `@temporalio/common`
 * from the bundler (deja/workflow) instead.
 */
export {
  TemporalFailure,
  ApplicationFailure,
  ActivityFailure,
  TimeoutFailure,
  CancelledFailure,
  TerminatedFailure,
  ServerFailure,
  isTemporalFailure,
} from '../../runtime/failure';
export type { ApplicationFailureOptions } from '../../runtime/failure';
export { IllegalStateError } from '../../runtime/errors';
export { CompleteAsyncError } from './index';
export type { Duration } from '../../runtime/time';
