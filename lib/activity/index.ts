/**
 * `deja/activity`: the context of a running activity (host side), with the names of Temporal's
 * `@temporalio/activity`. Under deja's worker that import resolves here (see ./aliases.ts), so
 * unchanged activity files work. Inside an activity, `Context.current()` (or the helpers below)
 * gives its info, a logger, heartbeats, a cancellable sleep, and the promise and signal that
 * report its cancellation.
 *
 * The context store is the AsyncLocalStorage that Temporal's own package keeps on `globalThis`
 * under `Symbol.for('__temporal_activity_context_storage__')`: a copy of the real
 * `@temporalio/activity` (≥ 1.11) loaded before the aliases were installed finds deja's Context
 * there too, and every copy of this module (source and dist) shares it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Payload } from '../../runtime/protocol';
import { CancelledFailure } from '../../runtime/failure';
import { IllegalStateError } from '../../runtime/errors';
import { durationToMs, type Duration } from '../../runtime/time';
import { InvalidArgumentError } from '../errors';
import { findNonJson } from './json';
import { ActivityCancellationDetails } from './cancellation-details';
import { metricMeter, type MetricMeter } from '../../runtime/metrics';

/**
 * Temporal's `activity.Info`, with the fields deja knows. Differences: `taskToken` is a string
 * (Temporal's is a Uint8Array; deja's clients accept either), there is no `priority` or
 * `retryPolicy` yet, and deja adds `workflowId`, `runId` and `deadline`.
 */
export interface Info {
  /** Completes or fails this attempt from outside (see AsyncCompletionClient). */
  readonly taskToken: string;
  /** The task token's UTF-8 bytes in base64 (Temporal's name). */
  readonly base64TaskToken: string;
  readonly activityId: string;
  readonly activityType: string;
  readonly workflowExecution: { readonly workflowId: string; readonly runId: string };
  readonly workflowType: string;
  /** deja has one namespace. */
  readonly workflowNamespace: 'default';
  readonly activityNamespace: 'default';
  readonly namespace: 'default';
  readonly taskQueue: string;
  /** 1 for the first try. */
  readonly attempt: number;
  /** True for a local activity (proxyLocalActivities), run by the worker inside a workflow task. */
  readonly isLocal: boolean;
  /** Every deja activity is scheduled by a workflow. */
  readonly inWorkflow: true;
  /** The last heartbeat's details from an earlier attempt (undefined if none): resume from here. */
  readonly heartbeatDetails: any;
  readonly heartbeatTimeoutMs?: number;
  /** The limit of one attempt. 0 when the service did not say. */
  readonly startToCloseTimeoutMs: number;
  /** The limit of all attempts; 0 when there is none (Temporal's "unset"). */
  readonly scheduleToCloseTimeoutMs: number;
  /** When the activity was scheduled (ms since the epoch; 0 when the service did not say). */
  readonly scheduledTimestampMs: number;
  /** When this attempt was scheduled: the schedule time, or the end of a retry's backoff. */
  readonly currentAttemptScheduledTimestampMs: number;
  /** When this worker claimed this attempt (deja's addition). */
  readonly startedTimestampMs: number;
  /** deja's: the same as `workflowExecution.workflowId`. */
  readonly workflowId: string;
  /** deja's: the same as `workflowExecution.runId`. */
  readonly runId: string;
  /** deja's: the attempt's absolute deadline (ms since the epoch), when one is set. */
  readonly deadline?: number;
}

/** deja's former name of Info. */
export type ActivityInfo = Info;

export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
export type LogMetadata = Record<string | symbol, any>;

/** Temporal's Logger: each line names the activity and its workflow, and goes where the worker logs. */
export interface Logger {
  log(level: LogLevel, message: string, meta?: LogMetadata): void;
  trace(message: string, meta?: LogMetadata): void;
  debug(message: string, meta?: LogMetadata): void;
  info(message: string, meta?: LogMetadata): void;
  warn(message: string, meta?: LogMetadata): void;
  error(message: string, meta?: LogMetadata): void;
}

/** What the worker gives a Context. */
export interface ContextHooks {
  /** Records details (throttled by the worker); never throws. */
  heartbeat(details?: Payload): void;
  /** Writes one log line where the worker logs. */
  log(level: LogLevel, message: string): void;
  /** Why the activity was cancelled, once it was (undefined: not cancelled, or not known). */
  cancellationDetails?(): ActivityCancellationDetails | undefined;
}

const STORAGE_KEY = Symbol.for('__temporal_activity_context_storage__');

/** Thrown by an activity that will be completed from outside (the class is shared with the runtime: runtime/common-errors.ts). */
export { CompleteAsyncError } from '../../runtime/common-errors';

export class Context {
  /** One store per process, shared with Temporal's package and every copy of this module. */
  private static readonly storage: AsyncLocalStorage<Context> = ((globalThis as Record<symbol, unknown>)[STORAGE_KEY] ??= new AsyncLocalStorage<Context>()) as AsyncLocalStorage<Context>;

  /** @internal Used by the worker to run an activity inside its context. */
  static run<T>(context: Context, fn: () => T): T {
    return Context.storage.run(context, fn);
  }

  /** @internal The store itself (Temporal's `asyncLocalStorage`). */
  static get asyncLocalStorage(): AsyncLocalStorage<Context> {
    return Context.storage;
  }

  /** The context of the activity running now; throws outside an activity. */
  static current(): Context {
    const context = Context.storage.getStore();
    if (!context) throw new IllegalStateError('Context.current() can only be called inside an activity');
    return context;
  }

  private _signal: AbortSignal | undefined;
  private readonly makeSignal: (() => AbortSignal) | undefined;
  private _cancelled: Promise<never> | undefined;
  private _log: Logger | undefined;

  /**
   * @internal Built by the worker. `cancellationSignal` may be given as a function that makes it:
   * it is then called once, when the signal is first needed (most activities never look at it).
   */
  constructor(
    readonly info: Info,
    cancellationSignal: AbortSignal | (() => AbortSignal),
    private readonly hooks: ContextHooks,
  ) {
    if (typeof cancellationSignal === 'function') this.makeSignal = cancellationSignal;
    else this._signal = cancellationSignal;
  }

  /** Aborts when the activity is cancelled; its reason is a CancelledFailure. */
  get cancellationSignal(): AbortSignal {
    return (this._signal ??= this.makeSignal!());
  }

  /**
   * Never resolves; rejects with a CancelledFailure once the activity is cancelled (a cancel
   * request or a lost task, learned at a heartbeat; its deadline; the worker's shutdown). It is
   * marked handled: an activity that never looks at it causes no unhandled rejection.
   */
  get cancelled(): Promise<never> {
    if (this._cancelled === undefined) {
      const signal = this.cancellationSignal;
      this._cancelled = new Promise<never>((_, reject) => {
        const fire = () => reject(cancelledFailure(signal));
        if (signal.aborted) fire();
        else signal.addEventListener('abort', fire, { once: true });
      });
      this._cancelled.catch(() => undefined);
    }
    return this._cancelled;
  }

  /** The activity's logger: each line names the activity and its workflow. */
  get log(): Logger {
    if (this._log === undefined) {
      const hooks = this.hooks;
      const write = (level: LogLevel, message: string, meta?: LogMetadata) => hooks.log(level, withMeta(message, meta));
      this._log = {
        log: write,
        trace: (message, meta) => write('TRACE', message, meta),
        debug: (message, meta) => write('DEBUG', message, meta),
        info: (message, meta) => write('INFO', message, meta),
        warn: (message, meta) => write('WARN', message, meta),
        error: (message, meta) => write('ERROR', message, meta),
      };
    }
    return this._log;
  }

  /**
   * Why the activity was cancelled: undefined until it is. A cancel request (or a task the service
   * no longer gives this worker) is `cancelRequested`, its deadline `timedOut`, the worker's
   * shutdown `workerShutdown`.
   */
  get cancellationDetails(): ActivityCancellationDetails | undefined {
    if (!this.cancellationSignal.aborted) return undefined;
    return this.hooks.cancellationDetails?.() ?? new ActivityCancellationDetails({ cancelRequested: true });
  }

  /** Temporal's metric meter; deja's records nothing (see runtime/metrics.ts). */
  get metricMeter(): MetricMeter {
    return metricMeter;
  }

  /**
   * Records progress; the latest details reach the next attempt, and a heartbeat keeps a heartbeat
   * timeout away. The worker sends heartbeats throttled (at most one in flight, about every 80% of
   * the heartbeat timeout, the latest details winning); an answer that the activity is cancelled
   * aborts `cancellationSignal` and rejects `cancelled` and `sleep`. Throws an InvalidArgumentError
   * (DEJA_INVALID_ARGUMENT) when `details` is not a JSON value: dropping it silently would end in a
   * heartbeat timeout instead. An arrow, as Temporal's: `const { heartbeat } = Context.current()` works.
   */
  readonly heartbeat = (details?: unknown): void => {
    const problem = findNonJson(details);
    if (problem !== undefined) throw new InvalidArgumentError(`heartbeat: details${problem}; heartbeat details must be a JSON value`);
    this.hooks.heartbeat(details as Payload);
  };

  /**
   * Sleeps for `ms` (milliseconds or a duration string such as '5s'); rejects with the
   * CancelledFailure if the activity is cancelled first. An arrow, as Temporal's.
   */
  readonly sleep = (ms: Duration): Promise<void> => {
    let delay: number;
    try {
      delay = durationToMs(ms, 'sleep');
    } catch (error) {
      return Promise.reject(new InvalidArgumentError((error as Error).message));
    }
    const signal = this.cancellationSignal;
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(cancelledFailure(signal));
      const onAbort = () => {
        clearTimeout(timer);
        reject(cancelledFailure(signal));
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, Math.min(delay, 2 ** 31 - 1));
      signal.addEventListener('abort', onAbort, { once: true });
    });
  };
}

/** The signal's reason when it is a CancelledFailure (the worker's are), else one made from it. */
function cancelledFailure(signal: AbortSignal): CancelledFailure {
  const reason: unknown = signal.reason;
  if (reason instanceof CancelledFailure) return reason;
  return new CancelledFailure(reason instanceof Error ? reason.message : 'activity cancelled');
}

function withMeta(message: string, meta: LogMetadata | undefined): string {
  const text = String(message);
  if (meta === undefined || meta === null || typeof meta !== 'object' || Object.keys(meta).length === 0) return text;
  try {
    return `${text} ${JSON.stringify(meta)}`;
  } catch {
    return `${text} (metadata that cannot be printed)`;
  }
}

/** The running activity's info. */
export function activityInfo(): Info {
  return Context.current().info;
}
/** `Context.current().heartbeat(details)`. */
export function heartbeat(details?: unknown): void {
  Context.current().heartbeat(details);
}
/** `Context.current().sleep(ms)`. */
export function sleep(ms: Duration): Promise<void> {
  return Context.current().sleep(ms);
}
/** `Context.current().cancelled`. */
export function cancelled(): Promise<never> {
  return Context.current().cancelled;
}
/** `Context.current().cancellationDetails`: why the running activity was cancelled, or undefined. */
export function cancellationDetails(): ActivityCancellationDetails | undefined {
  return Context.current().cancellationDetails;
}
/** The store that holds the running activity's Context (Temporal's `asyncLocalStorage`, shared with Temporal's own package). */
export const asyncLocalStorage: AsyncLocalStorage<Context> = Context.asyncLocalStorage;
/** Temporal's activity metric meter: a no-op meter in deja (it exports no metrics). */
export { metricMeter } from '../../runtime/metrics';
export type { MetricMeter } from '../../runtime/metrics';
export { ActivityCancellationDetails } from './cancellation-details';
export type { ActivityCancellationDetailsOptions } from './cancellation-details';
/** Temporal's per-activity definition options: payload type info, which deja's JSON payloads do not use. */
export interface ActivityDefinitionOptions {
  typeInfo?: unknown;
}
/**
 * Attaches definition options to an activity function, as Temporal does (`fn.activityDefinitionOptions`).
 * Their one field, `typeInfo`, informs Temporal's payload converters; deja's payloads are JSON, so
 * the worker does not read it.
 */
export function setActivityOptions<Args extends any[], R>(options: ActivityDefinitionOptions, fn: ActivityFunction<Args, R>): void {
  if (typeof fn !== 'function') throw new InvalidArgumentError(`setActivityOptions: expected an activity function, got ${typeof fn}`);
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`setActivityOptions: expected an options object, got ${options === null ? 'null' : typeof options}`);
  Object.assign(fn, { activityDefinitionOptions: options });
}
/** Temporal's payload type info per activity of `A` (accepted in types only; deja's payloads are JSON). */
export type ActivityTypeInfoMap<A> = Partial<Record<{ [K in keyof A & string]: A[K] extends ActivityFunction ? K : never }[keyof A & string], unknown>>;

/** `Context.current().cancellationSignal`. */
export function cancellationSignal(): AbortSignal {
  return Context.current().cancellationSignal;
}

/** The running activity's logger, looked up at each call (as Temporal's `log`). */
export const log: Logger = {
  log: (level, message, meta) => Context.current().log.log(level, message, meta),
  trace: (message, meta) => Context.current().log.trace(message, meta),
  debug: (message, meta) => Context.current().log.debug(message, meta),
  info: (message, meta) => Context.current().log.info(message, meta),
  warn: (message, meta) => Context.current().log.warn(message, meta),
  error: (message, meta) => Context.current().log.error(message, meta),
};

export { ApplicationFailure, CancelledFailure } from '../../runtime/failure';
export type { Duration } from '../../runtime/time';

/** An activity function (as a worker registers it). */
export type ActivityFunction<P extends any[] = any[], R = any> = (...args: P) => Promise<R>;
/** An object of activity functions. */
export type ActivityInterface = Record<string, ActivityFunction>;
/** Activities without declared types: any name, any arguments. */
export type UntypedActivities = Record<string, ActivityFunction>;
