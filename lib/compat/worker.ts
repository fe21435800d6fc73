/**
 * What `@temporalio/worker` resolves to under `deja/register` (host side): deja's worker,
 * NativeConnection and bundler under Temporal's names.
 */
export { Worker, NativeConnection, bundleWorkflowCode, WorkflowBundleError } from '../worker';
export type { WorkerOptions, NativeConnectionOptions, ActivityFunction, BundleOptions, WorkflowBundle } from '../worker';
export type { InjectedSinks, InjectedSinkFunction } from '../worker/sinks';
export type {
  WorkerInterceptors,
  ActivityInterceptorsFactory,
  ActivityInterceptors,
  ActivityInboundCallsInterceptor,
  ActivityOutboundCallsInterceptor,
  ActivityInboundCallsInterceptorFactory,
  ActivityExecuteInput,
} from '../worker/interceptors';
export { CompleteAsyncError } from '../activity';
export { DeterminismViolationError } from '../../runtime/errors';
