/**
 * What `@temporalio/worker` resolves to under `deja/register` (host side): deja's worker,
 * NativeConnection and bundler under Temporal's names, with Temporal's `Runtime` and
 * `DefaultLogger`. `Worker.create` here sends the worker's lines to `Runtime.install({ logger })`'s
 * logger when one was installed and the options name none, and defaults the shutdown grace time
 * to Temporal's 0; `bundleWorkflowCode` accepts Temporal's
 * bundler options (those deja does not act on are named once in a warning).
 */
import { Worker as DejaWorker, bundleWorkflowCode as dejaBundleWorkflowCode } from '../worker';
import type { BundleOptions as DejaBundleOptions, WorkerOptions as DejaWorkerOptions, WorkflowBundle } from '../worker';
import { loadBundle } from '../worker';
import { describe, InvalidArgumentError, warnIgnoredOptions } from '../errors';
import { runtimeWorkerLogger, type Logger } from './runtime';
import { runReplayHistory, runReplayHistories } from './replay';
export { ReplayError, historyFromJSON } from './replay';
export type { ReplayWorkerOptions, ReplayResult, HistoryAndWorkflowId } from './replay';

export { NativeConnection, WorkflowBundleError } from '../worker';
export type { NativeConnectionOptions, ActivityFunction, WorkflowBundle } from '../worker';

/** Temporal's form of a bundle written to a file: `{ codePath }` (the file must hold a bundle deja's bundleWorkflowCode made). */
export interface WorkflowBundlePath {
  codePath: string;
  /** Temporal's; deja reads the map from `<codePath>.map` when it is there. */
  sourceMapPath?: string;
}

/** deja's worker options, whose `workflowBundle` may also be Temporal's `{ codePath }`. */
export type WorkerOptions = Omit<DejaWorkerOptions, 'workflowBundle'> & { workflowBundle?: WorkflowBundle | WorkflowBundlePath };

/**
 * Temporal's `{ codePath }` bundle form, read as a deja bundle file (loadBundle refuses, with a
 * message, a file that deja's bundler did not write). Anything else is passed on unchanged.
 */
function resolveBundle(bundle: unknown): unknown {
  if (typeof bundle !== 'object' || bundle === null || 'hash' in bundle || !('codePath' in bundle)) return bundle;
  const { codePath } = bundle as { codePath: unknown };
  if (typeof codePath !== 'string' || codePath === '') {
    throw new InvalidArgumentError(`Worker.create: workflowBundle.codePath must be the path of a bundle file, got ${describe(codePath)}`);
  }
  return loadBundle(codePath);
}
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
export { Runtime, DefaultLogger, makeTelemetryFilterString } from './runtime';
export type { Logger, LogLevel, LogMetadata, LogEntry, RuntimeOptions, MakeTelemetryFilterStringOptions } from './runtime';

/** Temporal's name for a bundle made by bundleWorkflowCode. */
export type WorkflowBundleWithSourceMap = WorkflowBundle;

/**
 * A payload codec (Temporal's encryption or compression of every payload) is refused, not ignored
 * with a warning as other options are: deja stores payloads as plain JSON, so accepting one would
 * leave in the store, unencrypted, data the application means to be encrypted.
 */
function refusePayloadCodecs(dataConverter: unknown): void {
  if (typeof dataConverter !== 'object' || dataConverter === null) return;
  const codecs = (dataConverter as { payloadCodecs?: unknown }).payloadCodecs;
  if (codecs === undefined || (Array.isArray(codecs) && codecs.length === 0)) return;
  throw new InvalidArgumentError(
    'Worker.create: dataConverter.payloadCodecs is not offered: deja stores payloads as plain JSON and applies no payload codec, ' +
      'so what your codec would encrypt or compress would be stored as it is; remove payloadCodecs to run without it',
  );
}

async function createWorker(options: WorkerOptions): Promise<DejaWorker> {
  if (options === null || typeof options !== 'object') return DejaWorker.create(options as DejaWorkerOptions);
  refusePayloadCodecs((options as { dataConverter?: unknown }).dataConverter);
  const extra: Partial<DejaWorkerOptions> = {};
  if (options.workflowBundle !== undefined) extra.workflowBundle = resolveBundle(options.workflowBundle) as WorkflowBundle;
  const logger = options.logger === undefined ? runtimeWorkerLogger() : undefined;
  if (logger !== undefined) extra.logger = logger;
  // Temporal's default: activities still running at shutdown are cancelled at once (deja's own default waits 10 s).
  if (options.shutdownGraceTime === undefined && options.shutdownGraceTimeMs === undefined) extra.shutdownGraceTime = 0;
  return DejaWorker.create({ ...(options as DejaWorkerOptions), ...extra });
}

/**
 * deja's Worker class (so `instanceof Worker` holds), with Temporal's static replay methods
 * (`runReplayHistory`, `runReplayHistories`), whose `create` has Temporal's defaults: the
 * installed Runtime's logger unless the options give a `logger`, and a shutdown grace time of 0
 * (activities in flight at shutdown are cancelled at once) unless the options give one.
 */
const STATICS: Record<PropertyKey, unknown> = { create: createWorker, runReplayHistory, runReplayHistories };

export const Worker = new Proxy(DejaWorker, {
  get: (target, property, receiver) => (Object.prototype.hasOwnProperty.call(STATICS, property) ? STATICS[property] : Reflect.get(target, property, receiver)),
}) as unknown as typeof DejaWorker & { create: typeof createWorker; runReplayHistory: typeof runReplayHistory; runReplayHistories: typeof runReplayHistories };
export type Worker = DejaWorker;

/** Temporal's bundler options: deja's, and Temporal's that deja accepts without acting on them. */
export interface BundleOptions extends DejaBundleOptions {
  /** deja's bundler writes no log lines, so there is nothing to send here. */
  logger?: Logger;
  ignoreModules?: string[];
  webpackConfigHook?: unknown;
  payloadConverterPath?: string;
  failureConverterPath?: string;
}

const TEMPORAL_BUNDLE_OPTIONS: Record<string, string> = {
  ignoreModules: "deja's bundler refuses Node built-ins wherever they are imported; remove those imports from workflow code",
  webpackConfigHook: 'deja bundles with esbuild, not webpack',
  payloadConverterPath: "deja's payloads are JSON",
  failureConverterPath: "deja's failures use its own converter",
};

/** Bundles workflow code as deja's bundleWorkflowCode does, accepting Temporal's extra options. */
export function bundleWorkflowCode(options: BundleOptions): Promise<WorkflowBundle> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    return Promise.reject(new InvalidArgumentError(`bundleWorkflowCode: expected an options object ({ workflowsPath }), got ${describe(options)}`));
  }
  const rest: Record<string, unknown> = { ...options };
  delete rest.logger;
  const ignored = Object.keys(TEMPORAL_BUNDLE_OPTIONS).filter((name) => rest[name] !== undefined);
  for (const name of Object.keys(TEMPORAL_BUNDLE_OPTIONS)) delete rest[name];
  if (ignored.length > 0) warnIgnoredOptions('bundleWorkflowCode', ignored, (name) => TEMPORAL_BUNDLE_OPTIONS[name]!);
  return dejaBundleWorkflowCode(rest as unknown as DejaBundleOptions);
}
