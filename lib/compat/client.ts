/**
 * What `@temporalio/client` resolves to under `deja/register` (host side): deja's client under
 * Temporal's names. Only names deja implements are here; test/temporal-api.test.ts counts them
 * against Temporal's list.
 */
import type { Workflow, WorkflowHandle } from '../client';

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
  ConnectionLike,
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
  GetWorkflowUpdateHandleOptions,
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
  Backfill,
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

export type { ActivityFunction, ActivityInterface, UntypedActivities } from '../activity';

/** A handle from `start`: Temporal's name for it (deja's handles always know their first run's id once started). */
export type WorkflowHandleWithFirstExecutionRunId<T extends Workflow = Workflow> = WorkflowHandle<T>;
/** A handle from `signalWithStart`: it names the run that got the signal. */
export type WorkflowHandleWithSignaledRunId<T extends Workflow = Workflow> = WorkflowHandle<T> & { readonly signaledRunId: string };
/** What `client.workflow.count()` resolves to. */
export interface CountWorkflowExecution {
  count: number;
}
/** gRPC metadata: accepted by Connection options and Client.withMetadata, not sent anywhere. */
export type Metadata = Record<string, string>;

/**
 * Temporal's query reject conditions: accepted as `workflow.queryRejectCondition` (Client) and
 * `queryRejectCondition` (WorkflowClient), and named in a warning; deja answers queries whatever
 * the run's status.
 */
export const QueryRejectCondition = {
  NONE: 'NONE',
  NOT_OPEN: 'NOT_OPEN',
  NOT_COMPLETED_CLEANLY: 'NOT_COMPLETED_CLEANLY',
} as const;
export type QueryRejectCondition = (typeof QueryRejectCondition)[keyof typeof QueryRejectCondition];

/** Temporal's default server address; deja reads it as "the default backend" (see Connection). */
export const LOCAL_TARGET = 'localhost:7233';

export {
  QueryNotRegisteredError,
  QueryRejectedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  ActivityCompletionError,
  HandlerUnfinishedPolicy,
  MONTHS,
  DAYS_OF_WEEK,
} from '../client/temporal-names';
export type {
  Month,
  DayOfWeek,
  Range,
  LooseRange,
  CalendarSpec,
  CalendarSpecDescription,
  ScheduleSpecDescription,
  IntervalSpecDescription,
  ScheduleDescriptionAction,
  ScheduleDescriptionStartWorkflowAction,
  ListScheduleOptions,
  WorkflowResultOptions,
} from '../client/temporal-names';
export { ValueError, PayloadConverterError, NamespaceNotFoundError } from '../../runtime/common-errors';
export {
  PendingActivityState,
  encodePendingActivityState,
  decodePendingActivityState,
  encodeWorkflowIdReusePolicy,
  decodeWorkflowIdReusePolicy,
  encodeWorkflowIdConflictPolicy,
  decodeWorkflowIdConflictPolicy,
  encodeQueryRejectCondition,
  decodeQueryRejectCondition,
  encodeScheduleOverlapPolicy,
  decodeScheduleOverlapPolicy,
} from '../../runtime/common';
export { extractWorkflowType } from '../../runtime/common';
export type {
  Headers,
  Next,
  WorkflowReturnType,
  WorkflowQueryType,
  WorkflowSignalType,
  BaseWorkflowHandle,
  WorkflowSignalOptions,
  WorkflowQueryOptions,
  BaseWorkflowOptions,
  WorkflowDurationOptions,
  CommonWorkflowOptions,
  WithWorkflowArgs,
  WorkflowTypeOptions,
  CompiledWorkflowOptions,
  WithCompiledWorkflowOptions,
  CompiledScheduleOptions,
  LoadedWorkflowClientOptions,
  LoadedScheduleClientOptions,
  LoadedAsyncCompletionClientOptions,
  ConnectionOptionsWithDefaults,
  WorkflowStartInput,
  WorkflowStartOutput,
  WorkflowStartUpdateInput,
  WorkflowStartUpdateOutput,
  WorkflowStartUpdateWithStartInput,
  WorkflowStartUpdateWithStartOutput,
  WorkflowSignalInput,
  WorkflowSignalWithStartInput,
  WorkflowQueryInput,
  WorkflowTerminateInput,
  WorkflowCancelInput,
  WorkflowDescribeInput,
  WorkflowClientInterceptor,
  WorkflowClientCallsInterceptor,
  WorkflowClientCallsInterceptorFactoryInput,
  WorkflowClientCallsInterceptorFactory,
  WorkflowClientInterceptors,
  CreateScheduleInput,
  CreateScheduleOutput,
  ScheduleClientInterceptor,
  ClientInterceptors,
  WorkflowUpdateType,
  WorkflowUpdateValidatorType,
  WorkflowUpdateAnnotatedType,
  WorkflowSignalAnnotatedType,
  WorkflowQueryAnnotatedType,
  TLSConfig,
  DataConverter,
  WorkflowSignalWithStartOptionsWithArgs,
  WorkflowSignalWithStartOptionsWithoutArgs,
  ScheduleOptionsAction,
  ScheduleSummaryAction,
  ScheduleSummaryStartWorkflowAction,
  ScheduleExecutionActionResult,
  ScheduleExecutionStartWorkflowActionResult,
} from '../client/temporal-types';
