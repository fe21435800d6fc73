/** The client's public surface (host side): Connection, WorkflowClient, WorkflowHandle, errors. */
export { Connection } from './connection';
export type { ConnectionOptions } from './connection';
export { WorkflowClient, WorkflowHandle } from './client';
export { Client, ActivityClient } from './temporal-client';
export type { ClientOptions, ConnectionLike, LoadedClientOptions } from './temporal-client';
export { ScheduleClient, ScheduleHandle, ScheduleOverlapPolicy } from './schedules';
export type {
  Duration as ScheduleDuration,
  IntervalSpec,
  ScheduleClientOptions,
  ScheduleDescription,
  ScheduleExecutionResult,
  ScheduleOptions,
  ScheduleOptionsStartWorkflowAction,
  SchedulePolicies,
  ScheduleSpec,
  Backfill,
  ScheduleState,
  ScheduleSummary,
  ScheduleUpdateOptions,
} from './schedules';
export type {
  Workflow,
  WorkflowClientOptions,
  WorkflowExecutionDescription,
  WorkflowExecutionInfo,
  ListOptions,
  WorkflowSignalWithStartOptions,
  WorkflowHandleOptions,
  WorkflowIdReusePolicyOption,
  WorkflowResultType,
  WorkflowStartOptions,
} from './client';
export { ActivityCancelledError, WorkflowFailedError, WorkflowExecutionFailedError } from './errors';
export { AsyncCompletionClient } from './async-completion';
export { WorkflowUpdateStage, WorkflowUpdateFailedError, WorkflowUpdateHandle, WithStartWorkflowOperation } from './updates';
export type { WorkflowUpdateOptions, UpdateCall, StartUpdateCall, WithStartWorkflowOperationOptions } from './updates';
export type { AsyncCompletionClientOptions, FullActivityId, TaskToken } from './async-completion';
export {
  ActivityNotFoundError,
  QueryFailedError,
  ScheduleAlreadyRunningError,
  ScheduleNotFoundError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '../service-errors';
export { WorkflowUpdateNotFoundError } from '../service-errors';
export { WorkflowContinuedAsNewError } from './errors';
export { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from './start-options';
export type { ChainStartOptions, WorkflowRetryPolicy } from './start-options';
export type { GetWorkflowHandleOptions, GetWorkflowUpdateHandleOptions } from './client';
