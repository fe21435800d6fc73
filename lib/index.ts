/**
 * `deja`: the host-side entry point — client, worker, replay and testing. Exports by name only.
 * Workflow code imports `deja/workflow`; activity code may import `deja/activity`.
 */
export {
  Client,
  ActivityClient,
  Connection,
  WorkflowClient,
  WorkflowHandle,
  WorkflowFailedError,
  WorkflowExecutionFailedError,
  AsyncCompletionClient,
  ActivityCancelledError,
  ActivityNotFoundError,
} from './client';
export type {
  ClientOptions,
  ConnectionOptions,
  WorkflowStartOptions,
  WorkflowExecutionDescription,
  WorkflowExecutionInfo,
  ListOptions,
  WorkflowSignalWithStartOptions,
  AsyncCompletionClientOptions,
  FullActivityId,
} from './client';
export {
  WorkflowUpdateStage,
  WorkflowUpdateFailedError,
  WorkflowUpdateHandle,
  WithStartWorkflowOperation,
  WorkflowUpdateNotFoundError,
} from './client';
export type { WorkflowUpdateOptions, WithStartWorkflowOperationOptions } from './client';
export type { UpdateDefinition } from '../runtime/protocol';
export { ScheduleClient, ScheduleHandle, ScheduleOverlapPolicy, ScheduleAlreadyRunningError, ScheduleNotFoundError } from './client';
export type { ScheduleOptions, ScheduleDescription, ScheduleSummary, ScheduleUpdateOptions, ScheduleClientOptions } from './client';
export { Worker, NativeConnection } from './worker';
export type { NativeConnectionOptions } from './worker';
export { CompleteAsyncError } from './activity';
export type { WorkerOptions, WorkerLogLine, WorkerState, WorkerStats, ActivityFunction } from './worker';
export type { InjectedSinks, InjectedSinkFunction } from './worker/sinks';
export type {
  WorkerInterceptors,
  ActivityInterceptorsFactory,
  ActivityInterceptors,
  ActivityInboundCallsInterceptor,
  ActivityOutboundCallsInterceptor,
  ActivityInboundCallsInterceptorFactory,
  ActivityExecuteInput,
} from './worker/interceptors';
export { LOCAL_ACTIVITY_LEASE_MARGIN, MAX_LOCAL_ACTIVITY_ROUNDS } from './worker/local-activities';
export type { SinkCall, LocalActivityOutcome } from '../runtime/protocol';
export { replayHistory, replayHistories, disposeIdleReplayPools } from './testing/replay';
export { MockActivityEnvironment } from './testing/mock-activity-environment';
export type { MockActivityEnvironmentOptions } from './testing/mock-activity-environment';
export { TestWorkflowEnvironment } from './testing/test-workflow-environment';
export type {
  TestWorkflowEnvironmentOptions,
  TimeSkippingTestWorkflowEnvironmentOptions,
  LocalTestWorkflowEnvironmentOptions,
  ExistingServerTestWorkflowEnvironmentOptions,
} from './testing/test-workflow-environment';
export type { ReplayInput, ReplayOptions, ReplayResult } from './testing/replay';
export { bundleWorkflowCode, WorkflowBundleError } from './bundler';
export type { WorkflowBundle, BundleOptions, BundleProblem } from './bundler';
export { parseHistory, serializeHistory, readHistoryFile, writeHistoryFile, makeHistory, EVENT_TYPES, SUPPORTED_HISTORY_VERSIONS } from './history';
export { fromTemporalHistory, toTemporalHistory, serializeTemporalHistory, writeTemporalHistoryFile } from './history';
export type { History, HistoryEvent, EventType, PayloadCodec, CodecPayload, FromTemporalOptions, TemporalHistoryJson } from './history';
export { ReplayMachine, initFromStart } from './replay';
export type { ActivationRunner, LiveTask } from './replay';
export { IsolatePool, SandboxTimeoutError, SandboxMemoryError, SandboxDisposedError, SandboxProtocolError, UnhandledRejectionError, MAX_CONCLUDE_ROUNDS } from './sandbox';
export type { SandboxOptions, SandboxBundle } from './sandbox';
export { LocalWorkflowService, QueryFailedError, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, StaleTaskError, DEFAULT_LIMITS } from './engine';
export type { Store, Clock, Limits, HistoryWarning } from './engine';
export type { WorkflowService } from './service';
export { IGNORED_OPTIONS_WARNING } from './errors';
export { DejaError, InvalidArgumentError, InvalidHistoryError, DeterminismViolationError, WorkflowTaskFailedError, LimitExceededError, StoreError } from './errors';
export type { StoreErrorReason } from './errors';
export type { DejaErrorCode } from './errors';
export {
  ApplicationFailure,
  ActivityFailure,
  TimeoutFailure,
  CancelledFailure,
  TerminatedFailure,
  TemporalFailure,
} from '../runtime/failure';
export type {
  Activation,
  ActivationJob,
  ActivationCompletion,
  Command,
  InitMessage,
  Payload,
  WireFailure,
  WorkflowInfo,
} from '../runtime/protocol';
export { PROTOCOL_VERSION } from '../runtime/protocol';
export { WorkflowContinuedAsNewError, WorkflowIdConflictPolicy } from './client';
export type { ChainStartOptions, WorkflowRetryPolicy, GetWorkflowHandleOptions } from './client';
export { SearchAttributeType, TypedSearchAttributes, defineSearchAttributeKey } from '../runtime/search-attributes';
export type {
  SearchAttributeKey,
  SearchAttributePair,
  SearchAttributeUpdatePair,
  LegacySearchAttributes as SearchAttributes,
  SearchAttributeValueLegacy as SearchAttributeValue,
  IndexedValueTypeMapping,
} from '../runtime/search-attributes';
