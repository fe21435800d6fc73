/**
 * Types of `@temporalio/client` that authors write in annotations (host side, types only), shaped
 * to deja's values. The interceptor types describe Temporal's client interceptors: deja's clients
 * accept an `interceptors` option and name it in a warning, but do not run them yet, so these serve
 * code that declares interceptors, not a running chain.
 */
import type { WorkflowExecution } from '../../runtime/failure';
import type { Payload, SignalDefinition } from '../../runtime/protocol';
import type { Duration } from '../../runtime/time';
import type { Workflow, WorkflowResultType, WorkflowStartOptions, WorkflowExecutionDescription, WorkflowClientOptions } from './client';
import type { WorkflowUpdateOptions } from './updates';
import type { ScheduleOptions, ScheduleClientOptions, ScheduleSummary, ScheduleExecutionResult } from './schedules';
import type { AsyncCompletionClientOptions } from './async-completion';
import type { ConnectionOptions } from './connection';
import type { HandlerUnfinishedPolicy } from './temporal-names';

/** Temporal's header map (always empty in deja: it sends no headers). */
export type Headers = Record<string, Payload>;
type AnyFunc = (...args: any[]) => any;
type OmitLast<T> = T extends [...infer REST, any] ? REST : never;
/** The `next` of an interceptor method: the same function without its last parameter. */
export type Next<IF, FN extends keyof IF> = Required<IF>[FN] extends AnyFunc ? (...args: OmitLast<Parameters<Required<IF>[FN]>>) => ReturnType<Required<IF>[FN]> : never;

export type WorkflowReturnType = Promise<any>;
export type WorkflowQueryType = (...args: any[]) => any;
export type WorkflowSignalType = (...args: any[]) => Promise<void> | void;

/** A handle's common part: its result, its signals, its workflow id. */
export interface BaseWorkflowHandle<T extends Workflow> {
  result(): Promise<WorkflowResultType<T>>;
  signal<Args extends any[] = []>(def: SignalDefinition<Args> | string, ...args: Args): Promise<void>;
  readonly workflowId: string;
}
/** Arguments of a signal given as options (Temporal's; deja's handles take the arguments directly). */
export interface WorkflowSignalOptions<Args extends any[] = []> {
  args?: Args;
}
/** Arguments of a query given as options (Temporal's; deja's handles take the arguments directly). */
export interface WorkflowQueryOptions<Args extends any[] = []> {
  args?: Args;
}
/** The start options shared with child workflows. */
export type BaseWorkflowOptions = Pick<WorkflowStartOptions, 'workflowIdReusePolicy' | 'workflowIdConflictPolicy' | 'retry' | 'cronSchedule' | 'memo' | 'searchAttributes' | 'typedSearchAttributes'>;
export interface WorkflowDurationOptions {
  workflowRunTimeout?: Duration;
  workflowExecutionTimeout?: Duration;
  workflowTaskTimeout?: Duration;
}
export type CommonWorkflowOptions = BaseWorkflowOptions & WorkflowDurationOptions;
/** Options with `args`, required when the workflow takes arguments. */
export type WithWorkflowArgs<W extends Workflow, T> = T &
  (Parameters<W> extends [any, ...any[]] ? { args: Parameters<W> | Readonly<Parameters<W>> } : { args?: Parameters<W> | Readonly<Parameters<W>> });
/** A workflow's type name (deja has no payload type info). */
export interface WorkflowTypeOptions {
  type: string;
}

/** Start options after the client filled them in (deja's are the options as given). */
export type CompiledWorkflowOptions = WorkflowStartOptions;
export type WithCompiledWorkflowOptions<T extends WorkflowStartOptions> = T;
export type CompiledScheduleOptions = ScheduleOptions;
export type LoadedWorkflowClientOptions = WorkflowClientOptions;
export type LoadedScheduleClientOptions = ScheduleClientOptions;
export type LoadedAsyncCompletionClientOptions = AsyncCompletionClientOptions;
export type ConnectionOptionsWithDefaults = ConnectionOptions;

export interface WorkflowStartInput {
  readonly workflowType: string;
  readonly headers: Headers;
  readonly options: CompiledWorkflowOptions;
}
export interface WorkflowStartOutput {
  readonly runId: string;
  readonly eagerlyStarted: boolean;
}
export interface WorkflowStartUpdateInput {
  readonly updateName: string;
  readonly args: unknown[];
  readonly workflowExecution: WorkflowExecution;
  readonly firstExecutionRunId?: string;
  readonly headers: Headers;
  readonly options: WorkflowUpdateOptions;
}
export interface WorkflowStartUpdateOutput {
  readonly updateId: string;
  readonly workflowRunId: string;
}
export interface WorkflowStartUpdateWithStartInput {
  readonly workflowType: string;
  readonly workflowStartOptions: CompiledWorkflowOptions;
  readonly workflowStartHeaders: Headers;
  readonly updateName: string;
  readonly updateArgs: unknown[];
  readonly updateOptions: WorkflowUpdateOptions;
  readonly updateHeaders: Headers;
}
export interface WorkflowStartUpdateWithStartOutput {
  readonly workflowExecution: WorkflowExecution;
  readonly updateId: string;
}
export interface WorkflowSignalInput {
  readonly signalName: string;
  readonly args: unknown[];
  readonly workflowExecution: WorkflowExecution;
  readonly headers: Headers;
}
export interface WorkflowSignalWithStartInput {
  readonly workflowType: string;
  readonly signalName: string;
  readonly signalArgs: unknown[];
  readonly headers: Headers;
  readonly options: CompiledWorkflowOptions;
}
export interface WorkflowQueryInput {
  readonly queryType: string;
  readonly args: unknown[];
  readonly workflowExecution: WorkflowExecution;
  readonly headers: Headers;
}
export interface WorkflowTerminateInput {
  readonly workflowExecution: WorkflowExecution;
  readonly reason?: string;
  readonly details?: unknown[];
  readonly firstExecutionRunId?: string;
}
export interface WorkflowCancelInput {
  readonly workflowExecution: WorkflowExecution;
  readonly firstExecutionRunId?: string;
}
export interface WorkflowDescribeInput {
  readonly workflowExecution: WorkflowExecution;
}
export interface WorkflowClientInterceptor {
  start?: (input: WorkflowStartInput, next: Next<this, 'start'>) => Promise<string>;
  startWithDetails?: (input: WorkflowStartInput, next: Next<this, 'startWithDetails'>) => Promise<WorkflowStartOutput>;
  startUpdate?: (input: WorkflowStartUpdateInput, next: Next<this, 'startUpdate'>) => Promise<WorkflowStartUpdateOutput>;
  startUpdateWithStart?: (input: WorkflowStartUpdateWithStartInput, next: Next<this, 'startUpdateWithStart'>) => Promise<WorkflowStartUpdateWithStartOutput>;
  signal?: (input: WorkflowSignalInput, next: Next<this, 'signal'>) => Promise<void>;
  signalWithStart?: (input: WorkflowSignalWithStartInput, next: Next<this, 'signalWithStart'>) => Promise<string>;
  query?: (input: WorkflowQueryInput, next: Next<this, 'query'>) => Promise<unknown>;
  terminate?: (input: WorkflowTerminateInput, next: Next<this, 'terminate'>) => Promise<unknown>;
  cancel?: (input: WorkflowCancelInput, next: Next<this, 'cancel'>) => Promise<unknown>;
  describe?: (input: WorkflowDescribeInput, next: Next<this, 'describe'>) => Promise<WorkflowExecutionDescription>;
}
export type WorkflowClientCallsInterceptor = WorkflowClientInterceptor;
export interface WorkflowClientCallsInterceptorFactoryInput {
  workflowId: string;
  runId?: string;
}
export interface WorkflowClientCallsInterceptorFactory {
  (input: WorkflowClientCallsInterceptorFactoryInput): WorkflowClientCallsInterceptor;
}
export interface WorkflowClientInterceptors {
  calls?: WorkflowClientCallsInterceptorFactory[];
}
export interface CreateScheduleInput {
  readonly headers: Headers;
  readonly options: CompiledScheduleOptions;
}
export type CreateScheduleOutput = { readonly conflictToken: Uint8Array };
export interface ScheduleClientInterceptor {
  create?: (input: CreateScheduleInput, next: Next<this, 'create'>) => Promise<CreateScheduleOutput>;
}
export interface ClientInterceptors {
  workflow?: WorkflowClientInterceptors | WorkflowClientInterceptor[];
  schedule?: ScheduleClientInterceptor[];
}

/** Temporal's handler shapes for workflow code declared as maps (types only). */
export type WorkflowUpdateType = (...args: any[]) => Promise<any> | any;
export type WorkflowUpdateValidatorType = (...args: any[]) => void;
export type WorkflowUpdateAnnotatedType = { handler: WorkflowUpdateType; unfinishedPolicy: HandlerUnfinishedPolicy; validator?: WorkflowUpdateValidatorType; description?: string };
export type WorkflowSignalAnnotatedType = { handler: (...args: any[]) => Promise<void> | void; unfinishedPolicy: HandlerUnfinishedPolicy; description?: string };
export type WorkflowQueryAnnotatedType = { handler: (...args: any[]) => any; description?: string };

/** Temporal's TLS options: accepted by Connection options and named in a warning; deja's backends are local or PostgreSQL URLs. */
export interface TLSConfig {
  serverNameOverride?: string;
  serverRootCACertificate?: Buffer;
  clientCertPair?: { crt: Buffer; key: Buffer };
}
/** Temporal's data converter option: accepted and named in a warning; deja's payloads are JSON. */
export interface DataConverter {
  payloadConverterPath?: string;
  failureConverterPath?: string;
  payloadCodecs?: unknown[];
}

/** signalWithStart's options when the signal takes arguments. */
export interface WorkflowSignalWithStartOptionsWithArgs<SignalArgs extends any[]> extends WorkflowStartOptions {
  signal: SignalDefinition<SignalArgs> | string;
  signalArgs: SignalArgs;
}
/** signalWithStart's options when the signal takes none. */
export interface WorkflowSignalWithStartOptionsWithoutArgs<SignalArgs extends any[]> extends WorkflowStartOptions {
  signal: SignalDefinition<SignalArgs> | string;
  signalArgs?: SignalArgs;
}
/** A schedule's action as given to create(). */
export type ScheduleOptionsAction = ScheduleOptions['action'];
/** A listed schedule's action. */
export type ScheduleSummaryAction = ScheduleSummary['action'];
export type ScheduleSummaryStartWorkflowAction = ScheduleSummary['action'];
/** What one of a schedule's recent actions started. */
export type ScheduleExecutionActionResult = ScheduleExecutionResult['action'];
export type ScheduleExecutionStartWorkflowActionResult = ScheduleExecutionResult['action'];
