/**
 * What `@temporalio/client` resolves to under `deja/register` (host side): deja's client under
 * Temporal's names. Only names deja implements are here; test/temporal-api.test.ts counts them
 * against Temporal's list.
 */
export {
  Client,
  ActivityClient,
  AsyncCompletionClient,
  Connection,
  WorkflowClient,
  WorkflowHandle,
  ScheduleClient,
  ScheduleHandle,
  ScheduleOverlapPolicy,
  WorkflowUpdateStage,
  WorkflowUpdateHandle,
  WithStartWorkflowOperation,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  ActivityCancelledError,
  ActivityNotFoundError,
  QueryFailedError,
  ScheduleAlreadyRunningError,
  ScheduleAlreadyRunningError as ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  WorkflowContinuedAsNewError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '../client';
export type {
  ClientOptions,
  LoadedClientOptions,
  ConnectionOptions,
  Workflow,
  WorkflowClientOptions,
  WorkflowExecutionDescription,
  WorkflowExecutionInfo,
  ListOptions,
  WorkflowSignalWithStartOptions,
  WorkflowResultType,
  WorkflowStartOptions,
  WorkflowStartOptions as WorkflowOptions,
  GetWorkflowHandleOptions,
  WorkflowUpdateOptions,
  WithStartWorkflowOperationOptions,
  AsyncCompletionClientOptions,
  AsyncCompletionClientOptions as ActivityClientOptions,
  FullActivityId,
  ScheduleDescription,
  ScheduleOptions,
  ScheduleOptionsStartWorkflowAction,
  SchedulePolicies,
  ScheduleSpec,
  ScheduleSummary,
  ScheduleUpdateOptions,
  ScheduleClientOptions,
  IntervalSpec,
  ScheduleExecutionResult,
  WorkflowRetryPolicy as RetryPolicy,
} from '../client';
export type { WorkflowStatusName as WorkflowExecutionStatusName } from '../client/client';
export type { Payload, QueryDefinition, SignalDefinition, UpdateDefinition } from '../../runtime/protocol';
export type { WorkflowExecution } from '../../runtime/failure';
export { CompleteAsyncError } from '../activity';
export { IllegalStateError } from '../../runtime/errors';
export { TemporalFailure, ApplicationFailure, ActivityFailure, TimeoutFailure, CancelledFailure, TerminatedFailure, ServerFailure, ChildWorkflowFailure } from '../../runtime/failure';
export type { ApplicationFailureOptions } from '../../runtime/failure';
export type { Duration } from '../../runtime/time';
export { SearchAttributeType, TypedSearchAttributes, defineSearchAttributeKey } from '../../runtime/search-attributes';
export type { SearchAttributeKey, SearchAttributePair, LegacySearchAttributes as SearchAttributes, SearchAttributeValueLegacy as SearchAttributeValue } from '../../runtime/search-attributes';

/** Temporal's default server address; deja reads it as "the default backend" (see Connection). */
export const LOCAL_TARGET = 'localhost:7233';
