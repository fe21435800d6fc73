/**
 * Type names that workflow and host code share, as Temporal's packages spell them (types only:
 * nothing here runs). Exported from `deja/workflow`, and by lib/compat for host code.
 */
import type { Payload, QueryDefinition, SignalDefinition } from './protocol';
import type { RetryOptions } from './workflow';

/** A workflow function: its `.name` is the workflow type. */
export type Workflow = (...args: any[]) => WorkflowReturnType;
/** What a workflow function returns. */
export type WorkflowReturnType = Promise<any>;
/** The value a workflow function's promise resolves to. */
export type WorkflowResultType<W extends Workflow> = ReturnType<W> extends Promise<infer R> ? R : never;
/** An activity function (as a worker registers it). */
export type ActivityFunction<P extends any[] = any[], R = any> = (...args: P) => Promise<R>;
/** An object of activity functions. */
export type ActivityInterface = Record<string, ActivityFunction>;
/** Activities without declared types: any name, any arguments. */
export type UntypedActivities = Record<string, ActivityFunction>;
/** Temporal's name of the retry options of an activity or a workflow. */
export type RetryPolicy = RetryOptions;
/** The handler type of a query definition. */
export type WorkflowQueryType = (...args: any[]) => any;
/** The handler type of a signal definition. */
export type WorkflowSignalType = (...args: any[]) => Promise<void> | void;

export type { Payload, QueryDefinition, SignalDefinition };
