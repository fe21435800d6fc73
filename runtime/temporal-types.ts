/**
 * Types of `@temporalio/workflow` (and of `@temporalio/common`, which it re-exports) that workflow
 * authors write in annotations, with Temporal's shapes narrowed to what deja's values have. Types
 * only: nothing here exists at run time.
 */
import type { ActivityOptions, ActivityFunctionWithOptions } from './workflow';
import type { LocalActivityOptions } from './local-activities';
import type { ChildWorkflowOptions } from './children';
import type { ParentInfo, SignalDefinition } from './protocol';
import type { Workflow, WorkflowResultType, UntypedActivities } from './types';
import type { Duration } from './time';
import type { WorkflowInfoView } from './search-attributes';
import type { MetricTags } from './metrics';
import type { Sink, Sinks } from './sinks';

/** proxyActivities' options (Temporal's name). deja has no per-activity payload type info. */
export type ActivityProxyOptions<_A = UntypedActivities> = ActivityOptions;
/** proxyLocalActivities' options (Temporal's name). */
export type LocalActivityProxyOptions<_A = UntypedActivities> = LocalActivityOptions;
/** A local activity of a proxy, with `executeWithOptions` taking local activity options. */
export type LocalActivityFunctionWithOptions<T extends (...args: any[]) => Promise<any>> = T & {
  executeWithOptions(options: LocalActivityOptions, args: Parameters<T>): Promise<Awaited<ReturnType<T>>>;
};
export type { ActivityFunctionWithOptions };

/** `sleep`'s options. deja records no timer summaries: a summary is accepted and not stored. */
export interface TimerOptions {
  readonly summary?: string;
}

/** The parent of a child workflow, as `workflowInfo().parent` gives it. */
export type ParentWorkflowInfo = ParentInfo;
/** The root of a workflow's chain of parents (Temporal's shape). */
export interface RootWorkflowInfo {
  workflowId: string;
  runId: string;
}

/** One buffered sink call, as the worker hands it to a sink function. */
export interface SinkCall {
  ifaceName: string;
  fnName: string;
  args: any[];
  workflowInfo: WorkflowInfoView;
}
export type SinkFunction = (...args: any[]) => void;
/** Temporal's logger sink interface (deprecated there: use `log`). */
export interface WorkflowLogger extends Sink {
  trace(message: string, attrs?: Record<string, unknown>): void;
  debug(message: string, attrs?: Record<string, unknown>): void;
  info(message: string, attrs?: Record<string, unknown>): void;
  warn(message: string, attrs?: Record<string, unknown>): void;
  error(message: string, attrs?: Record<string, unknown>): void;
}
/** @deprecated As in Temporal: log with `log` instead. */
export interface LoggerSinks extends Sinks {
  defaultWorkerLogger: WorkflowLogger;
}

/** What an interceptor's `getMetricTags` receives and returns. */
export type GetMetricTagsInput = MetricTags;

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

/** The options shared by starting a workflow and a child workflow. */
export type BaseWorkflowOptions = Pick<ChildWorkflowOptions, 'workflowIdReusePolicy' | 'retry' | 'cronSchedule' | 'memo' | 'searchAttributes' | 'typedSearchAttributes'>;
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

/** Temporal's payload type info per activity of `A`: accepted in types only (deja's payloads are JSON, and proxyActivities takes no activityTypeInfo). */
export type ActivityTypeInfoMap<A> = Partial<Record<{ [K in keyof A & string]: A[K] extends (...args: any[]) => Promise<any> ? K : never }[keyof A & string], unknown>>;
