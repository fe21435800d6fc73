/**
 * What `@temporalio/worker` resolves to under `deja/register` (host side): deja's worker,
 * NativeConnection and bundler under Temporal's names.
 */
export { Worker, NativeConnection } from '../worker';
export type { WorkerOptions, NativeConnectionOptions, ActivityFunction } from '../worker';
export type { InjectedSinks, InjectedSinkFunction } from '../worker/sinks';
export { bundleWorkflowCode, WorkflowBundleError } from '../bundler';
export type { WorkflowBundle, BundleOptions } from '../bundler';
export { CompleteAsyncError } from '../activity';
export { DeterminismViolationError } from '../../runtime/errors';
