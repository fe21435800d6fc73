/**
 * MockActivityEnvironment (host side, for tests): runs an activity function inside an activity
 * Context without a worker or a service, as Temporal's `@temporalio/testing` class of that name
 * does. Heartbeats are emitted as 'heartbeat' events (with their details), log lines as 'log'
 * events; `cancel()` cancels the activity the way the worker would (its signal aborts, `cancelled`
 * and `sleep` reject with a CancelledFailure).
 */
import { EventEmitter } from 'node:events';
import type { Payload } from '../../runtime/protocol';
import { CancelledFailure } from '../../runtime/failure';
import { Context, type Info, type LogLevel } from '../activity';
import { checkKnownKeys, describe, InvalidArgumentError } from '../errors';
import { runActivityFunction, type ActivityInterceptorsFactory } from '../worker/interceptors';

/** The info an activity sees when the test gives none; override any field through the constructor. */
const DEFAULT_INFO: Info = Object.freeze({
  taskToken: 'test',
  base64TaskToken: Buffer.from('test').toString('base64'),
  activityId: 'test',
  activityType: 'unknown',
  workflowExecution: Object.freeze({ workflowId: 'test', runId: 'dead-beef' }),
  workflowType: 'test',
  workflowNamespace: 'default',
  activityNamespace: 'default',
  namespace: 'default',
  taskQueue: 'test',
  attempt: 1,
  isLocal: false,
  inWorkflow: true,
  heartbeatDetails: undefined,
  startToCloseTimeoutMs: 0,
  scheduleToCloseTimeoutMs: 0,
  scheduledTimestampMs: 1,
  currentAttemptScheduledTimestampMs: 1,
  startedTimestampMs: 1,
  workflowId: 'test',
  runId: 'dead-beef',
}) as Info;

export interface MockActivityEnvironmentOptions {
  /** Where the activity's log lines go; default: nowhere (they are 'log' events either way). */
  logger?: (level: LogLevel, message: string) => void;
  /** Temporal's: activity interceptor factories, run around each `run` as the worker runs them. */
  interceptors?: ActivityInterceptorsFactory[];
}

export class MockActivityEnvironment extends EventEmitter {
  /** The info used when the test gives none. */
  static readonly defaultInfo: Info = DEFAULT_INFO;
  readonly context: Context;
  private readonly controller = new AbortController();
  private readonly interceptors: ActivityInterceptorsFactory[];

  constructor(info?: Partial<Info>, options?: MockActivityEnvironmentOptions) {
    super();
    const where = 'MockActivityEnvironment';
    if (info !== undefined && (typeof info !== 'object' || info === null || Array.isArray(info))) {
      throw new InvalidArgumentError(`${where}: info must be an object of activity Info fields, got ${describe(info)}`);
    }
    checkKnownKeys(where, options, ['logger', 'interceptors']);
    if (options?.logger !== undefined && typeof options.logger !== 'function') throw new InvalidArgumentError(`${where}: logger must be a function, got ${describe(options.logger)}`);
    const interceptors = options?.interceptors ?? [];
    if (!Array.isArray(interceptors) || interceptors.some((f) => typeof f !== 'function')) {
      throw new InvalidArgumentError(`${where}: expected interceptors to be an array of activity interceptor factories (ctx) => ({ inbound?, outbound? }), got ${describe(interceptors)}`);
    }
    this.interceptors = interceptors;
    const full = { ...DEFAULT_INFO, ...info } as Info;
    // The ids deja keeps twice stay in agreement with what the test gave.
    const workflowExecution = info?.workflowExecution ?? { workflowId: info?.workflowId ?? full.workflowId, runId: info?.runId ?? full.runId };
    const merged: Info = { ...full, workflowExecution, workflowId: workflowExecution.workflowId, runId: workflowExecution.runId };
    const logger = options?.logger;
    this.context = new Context(merged, this.controller.signal, {
      heartbeat: (details?: Payload) => {
        this.emit('heartbeat', details);
      },
      log: (level, message) => {
        this.emit('log', level, message);
        logger?.(level, message);
      },
    });
  }

  /** Cancels the activity: its signal aborts with a CancelledFailure (`reason`, default 'CANCELLED'). */
  cancel(reason: string = 'CANCELLED', details?: unknown): void {
    if (this.controller.signal.aborted) return;
    this.controller.abort(new CancelledFailure(String(reason), details === undefined ? [] : [details as Payload]));
  }

  /** Runs `fn(...args)` inside this environment's Context; resolves or rejects as it does. */
  run<P extends any[], R>(fn: (...args: P) => R | Promise<R>, ...args: P): Promise<R> {
    if (typeof fn !== 'function') return Promise.reject(new InvalidArgumentError(`MockActivityEnvironment.run: expected an activity function, got ${describe(fn)}`));
    if (this.interceptors.length === 0) return Context.run(this.context, () => Promise.resolve().then(() => fn(...args)));
    return Promise.resolve().then(() => runActivityFunction(this.context, this.interceptors, fn as (...a: unknown[]) => unknown, args)) as Promise<R>;
  }
}
