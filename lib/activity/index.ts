/**
 * `deja/activity`: the context of a running activity (host side). Activities are plain async
 * functions registered on a Worker; inside one, `Context.current()` (or the helpers below) gives
 * its info, heartbeats and the signal that aborts when it is cancelled or times out.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Payload } from '../../runtime/protocol';
import { CancelledFailure } from '../../runtime/failure';
import { IllegalStateError } from '../../runtime/errors';
import { InvalidArgumentError } from '../errors';
import { findNonJson } from './json';

export interface ActivityInfo {
  activityId: string;
  activityType: string;
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  /** 1 for the first try. */
  attempt: number;
  /** Absolute deadline in ms since the epoch, when one is set. */
  deadline?: number;
  heartbeatTimeoutMs?: number;
  /** Details of the last heartbeat of an earlier attempt: resume from here. */
  heartbeatDetails?: Payload;
}

export class Context {
  /** One store per process, even when two copies of this module are loaded (source and dist). */
  private static readonly storage: AsyncLocalStorage<Context> = ((globalThis as Record<symbol, unknown>)[Symbol.for('deja.activity.context')] ??=
    new AsyncLocalStorage<Context>()) as AsyncLocalStorage<Context>;

  /** @internal Used by the worker to run an activity inside its context. */
  static run<T>(context: Context, fn: () => T): T {
    return Context.storage.run(context, fn);
  }

  /** The context of the activity running now; throws outside an activity. */
  static current(): Context {
    const context = Context.storage.getStore();
    if (!context) throw new IllegalStateError('Context.current() can only be called inside an activity');
    return context;
  }

  /** Resolves never; rejects with a CancelledFailure once the activity is cancelled. */
  readonly cancelled: Promise<never>;

  constructor(
    readonly info: ActivityInfo,
    readonly cancellationSignal: AbortSignal,
    private readonly onHeartbeat: (details?: Payload) => void,
  ) {
    this.cancelled = new Promise<never>((_, reject) => {
      const fire = () => reject(new CancelledFailure(String(cancellationSignal.reason ?? 'activity cancelled')));
      if (cancellationSignal.aborted) fire();
      else cancellationSignal.addEventListener('abort', fire, { once: true });
    });
    this.cancelled.catch(() => undefined); // observed by whoever awaits it
  }

  /**
   * Records progress; the details reach the next attempt. Also keeps a heartbeat timeout away.
   * Throws an InvalidArgumentError (DEJA_INVALID_ARGUMENT), naming what is wrong, when `details` is not a JSON value: it could not be
   * recorded, and dropping it silently would end in a heartbeat timeout instead.
   */
  heartbeat(details?: Payload): void {
    const problem = findNonJson(details);
    if (problem !== undefined) throw new InvalidArgumentError(`heartbeat: details${problem}; heartbeat details must be a JSON value`);
    this.onHeartbeat(details);
  }

  /** Sleeps, but rejects with CancelledFailure if the activity is cancelled meanwhile. */
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.cancellationSignal.aborted) return reject(new CancelledFailure('activity cancelled'));
      const timer = setTimeout(() => {
        this.cancellationSignal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(new CancelledFailure('activity cancelled'));
      };
      this.cancellationSignal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

export function activityInfo(): ActivityInfo {
  return Context.current().info;
}
export function heartbeat(details?: Payload): void {
  Context.current().heartbeat(details);
}
export function sleep(ms: number): Promise<void> {
  return Context.current().sleep(ms);
}
export function cancellationSignal(): AbortSignal {
  return Context.current().cancellationSignal;
}
export { ApplicationFailure, CancelledFailure } from '../../runtime/failure';
