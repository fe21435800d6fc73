/**
 * `deja/workflow`: the API for workflow authors (the bundler also aliases `@temporalio/workflow`
 * and `@temporalio/common` here). Importing it has no side effects, so host code may import the
 * definitions too; the deterministic globals are installed only by the bundle's entry.
 */
export {
  proxyActivities,
  createActivityHandle,
  sleep,
  condition,
  defineSignal,
  defineQuery,
  setHandler,
  workflowInfo,
  uuid4,
  isReplaying,
  log,
  ActivityCancellationType,
} from './workflow';
export type { ActivityOptions, RetryOptions, ActivityInterfaceFor, SignalDefinition, QueryDefinition } from './workflow';
export { CancellationScope } from './cancellation-scope';
export type { CancellationScopeOptions } from './cancellation-scope';
export {
  startChild,
  executeChild,
  getExternalWorkflowHandle,
  createExternalWorkflowHandle,
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
} from './children';
export type { ChildWorkflowOptions, ChildWorkflowHandle, ExternalWorkflowHandle } from './children';
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
  WorkflowExecutionAlreadyStartedError,
  isTemporalFailure,
  isCancellation,
  rootCause,
} from './failure';
export type { ApplicationFailureOptions, WorkflowExecution } from './failure';
export { continueAsNew, makeContinueAsNewFunc, ContinueAsNew } from './continue-as-new';
export type { ContinueAsNewOptions } from './continue-as-new';
export { DeterminismViolationError, IllegalStateError } from './errors';
export {
  defineUpdate,
  setDefaultSignalHandler,
  setDefaultQueryHandler,
  setDefaultUpdateHandler,
  allHandlersFinished,
  currentUpdateInfo,
} from './update-api';
export type { UpdateDefinition, UpdateInfo, UpdateHandlerOptions } from './update-api';
export { patched, deprecatePatch } from './patches';
export { proxyLocalActivities } from './local-activities';
export type { LocalActivityOptions } from './local-activities';
export { proxySinks } from './sinks';
export type { Sink, Sinks } from './sinks';
export type { Duration } from './time';
export type {
  Workflow,
  WorkflowReturnType,
  WorkflowResultType,
  ActivityFunction,
  ActivityInterface,
  UntypedActivities,
  RetryPolicy,
  WorkflowQueryType,
  WorkflowSignalType,
  Payload,
} from './types';
export type { ActivityInterfaceFor as LocalActivityInterfaceFor } from './workflow';
export { upsertSearchAttributes, upsertMemo } from './upserts';
export { SearchAttributeType, TypedSearchAttributes, defineSearchAttributeKey } from './search-attributes';
export type {
  WorkflowInfoView as WorkflowInfo,
  SearchAttributeKey,
  SearchAttributePair,
  SearchAttributeUpdatePair,
  LegacySearchAttributes as SearchAttributes,
  SearchAttributeValueLegacy as SearchAttributeValue,
  IndexedValueTypeMapping,
} from './search-attributes';
export type {
  WorkflowInterceptors,
  WorkflowInterceptorsFactory,
  WorkflowInboundCallsInterceptor,
  WorkflowOutboundCallsInterceptor,
  WorkflowInternalsInterceptor,
  WorkflowExecuteInput,
  SignalInput,
  QueryInput,
  UpdateInput,
  TimerInput,
  ActivityInput,
  LocalActivityInput,
  StartChildWorkflowExecutionInput,
  SignalWorkflowInput,
  ContinueAsNewInput,
  ContinueAsNewInputOptions,
  GetLogAttributesInput,
  ActivateInput,
  ConcludeActivationInput,
  ConcludeActivationOutput,
  DisposeInput,
  Headers,
  Next,
} from './interceptors';
export { Trigger } from './trigger';
export { metricMeter } from './metrics';
export type { MetricMeter, MetricCounter, MetricHistogram, MetricGauge, MetricUpDownCounter, MetricTags, NumericMetricValueType } from './metrics';
export { ValueError, PayloadConverterError, NamespaceNotFoundError, WorkflowError, CompleteAsyncError, WorkflowNotFoundError } from './common-errors';
export {
  WorkflowIdConflictPolicy,
  encodeWorkflowIdReusePolicy,
  decodeWorkflowIdReusePolicy,
  encodeWorkflowIdConflictPolicy,
  decodeWorkflowIdConflictPolicy,
} from './common';
export {
  NotAnActivityMethod,
  scheduleActivity,
  scheduleLocalActivity,
  inWorkflowContext,
  getCurrentDetails,
  setCurrentDetails,
  extractWorkflowType,
  addDefaultWorkflowOptions,
  stackTraceQuery,
  enhancedStackTraceQuery,
  workflowMetadataQuery,
  workflowRandom,
} from './temporal-api';
export type { EnhancedStackTrace, StackTrace, StackTraceFileLocation, StackTraceFileSlice, StackTraceSDKInfo, WorkflowRandomStream, WorkflowMetadata } from './temporal-api';
export type {
  ActivityProxyOptions,
  LocalActivityProxyOptions,
  ActivityFunctionWithOptions,
  LocalActivityFunctionWithOptions,
  TimerOptions,
  ParentWorkflowInfo,
  RootWorkflowInfo,
  SinkCall,
  SinkFunction,
  LoggerSinks,
  WorkflowLogger,
  GetMetricTagsInput,
  BaseWorkflowHandle,
  WorkflowSignalOptions,
  WorkflowQueryOptions,
  BaseWorkflowOptions,
  WorkflowDurationOptions,
  CommonWorkflowOptions,
  WithWorkflowArgs,
  WorkflowTypeOptions,
  ActivityTypeInfoMap,
} from './temporal-types';
