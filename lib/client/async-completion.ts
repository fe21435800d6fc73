/**
 * AsyncCompletionClient (host side): completes, fails, cancels or heartbeats an activity from
 * outside the worker, after the activity threw CompleteAsyncError. Temporal's class and methods;
 * an activity is named by its task token (`Context.current().info.taskToken`) or by its ids
 * (`{ workflowId, runId?, activityId }`, looked up with the service's `activityTaskToken`).
 */
import { hostname } from 'node:os';
import type { Payload } from '../../runtime/protocol';
import { CancelledFailure, errorToFailure } from '../../runtime/failure';
import { checkKnownKeys, DejaError, describe, InvalidArgumentError } from '../errors';
import type { ActivityRef, WorkflowService } from '../service';
import { ActivityNotFoundError } from '../service-errors';
import { Connection, describeNonService, missingMethods, warnTemporalClientOptions } from './connection';
import { ActivityCancelledError } from './errors';

/** An activity named by ids (Temporal's FullActivityId); without `runId`, the workflow id's latest run. */
export interface FullActivityId {
  workflowId: string;
  runId?: string;
  activityId: string;
}

/** A task token as deja gives it (a string), or its UTF-8 bytes (what Temporal's code passes around). */
export type TaskToken = string | Uint8Array;

export interface AsyncCompletionClientOptions {
  /** A Connection (or anything with a `service`). Default: `new Connection()` (DEJA_BACKEND, else SQLite at `./.deja/deja.db`). */
  connection?: { service: WorkflowService };
  /** Temporal's option; deja has one namespace, `'default'` (another is accepted with a warning). */
  namespace?: string;
  /** Temporal's options: accepted, not acted on, named once in a warning. */
  dataConverter?: unknown;
  interceptors?: unknown;
  identity?: string;
}

const ACTIVITY_METHODS = ['completeActivityTask', 'failActivityTask', 'heartbeatActivityTask', 'activityTaskToken'] as const;
const MAX_ID_LENGTH = 1000;

export class AsyncCompletionClient {
  readonly workflowService: WorkflowService;
  readonly identity: string;

  /** `new AsyncCompletionClient({ connection? })` (Temporal's form), or `new AsyncCompletionClient(connection.service)`. */
  constructor(options?: AsyncCompletionClientOptions | WorkflowService) {
    const where = 'AsyncCompletionClient';
    let service: unknown;
    let identity: unknown;
    if (options === undefined) {
      service = new Connection().service;
    } else if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new InvalidArgumentError(`${where}: expected { connection }, a WorkflowService, or nothing for the default connection, got ${describe(options)}`);
    } else if (missingMethods(options, ACTIVITY_METHODS).length === 0) {
      service = options;
    } else {
      checkKnownKeys(where, options, ['connection', 'namespace', 'identity', 'dataConverter', 'interceptors']);
      const o = options as AsyncCompletionClientOptions;
      warnTemporalClientOptions(where, o as Record<string, unknown>, ['namespace', 'dataConverter', 'interceptors']);
      service = o.connection === undefined ? new Connection().service : (o.connection as { service?: unknown } | null)?.service;
      if (missingMethods(service, ACTIVITY_METHODS).length > 0) {
        throw new InvalidArgumentError(`${where}: connection must be a Connection (or have a WorkflowService as its service), got ${describeNonService(service, ACTIVITY_METHODS)}`);
      }
      identity = o.identity;
    }
    if (identity !== undefined && (typeof identity !== 'string' || identity === '')) {
      throw new InvalidArgumentError(`${where}: identity must be a non-empty string, got ${describe(identity)}`);
    }
    this.workflowService = service as WorkflowService;
    this.identity = (identity as string | undefined) ?? `${process.pid}@${hostname()}`;
  }

  /** Completes the activity with `result` (a JSON value). */
  async complete(taskTokenOrFullActivityId: TaskToken | FullActivityId, result?: unknown): Promise<void> {
    const token = await this.tokenOf('complete', taskTokenOrFullActivityId);
    await notFoundIfStale('complete', () => this.workflowService.completeActivityTask(token, result as Payload));
  }

  /** Fails the activity's attempt with `err`; the activity's retry policy decides what follows. */
  async fail(taskTokenOrFullActivityId: TaskToken | FullActivityId, err: unknown): Promise<void> {
    const token = await this.tokenOf('fail', taskTokenOrFullActivityId);
    await notFoundIfStale('fail', () => this.workflowService.failActivityTask(token, errorToFailure(err)));
  }

  /** Reports that the activity gave in to a cancellation (a CancelledFailure with `details`). */
  async reportCancellation(taskTokenOrFullActivityId: TaskToken | FullActivityId, details?: unknown): Promise<void> {
    const token = await this.tokenOf('reportCancellation', taskTokenOrFullActivityId);
    const failure = errorToFailure(new CancelledFailure('activity cancelled', details === undefined ? [] : [details as Payload]));
    await notFoundIfStale('reportCancellation', () => this.workflowService.failActivityTask(token, failure));
  }

  /**
   * Records a heartbeat (its details reach a later attempt). Throws ActivityCancelledError when the
   * service answers that the activity is cancelled or its attempt is no longer running.
   */
  async heartbeat(taskTokenOrFullActivityId: TaskToken | FullActivityId, details?: unknown): Promise<void> {
    const token = await this.tokenOf('heartbeat', taskTokenOrFullActivityId);
    const { cancelRequested } = await this.workflowService.heartbeatActivityTask(token, details as Payload);
    if (cancelRequested) throw new ActivityCancelledError('AsyncCompletionClient.heartbeat: the activity was cancelled, or its attempt is no longer running');
  }

  private async tokenOf(method: string, id: unknown): Promise<string> {
    const where = `AsyncCompletionClient.${method}`;
    if (typeof id === 'string') {
      if (id === '') throw new InvalidArgumentError(`${where}: the task token is empty`);
      return id;
    }
    if (id instanceof Uint8Array) {
      if (id.length === 0) throw new InvalidArgumentError(`${where}: the task token is empty`);
      return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('utf8');
    }
    if (typeof id !== 'object' || id === null || Array.isArray(id)) {
      throw new InvalidArgumentError(`${where}: expected a task token (a string or its bytes) or { workflowId, runId?, activityId }, got ${describe(id)}`);
    }
    checkKnownKeys(`${where}: the activity id`, id, ['workflowId', 'runId', 'activityId']);
    const { workflowId, runId, activityId } = id as Partial<FullActivityId>;
    const ref: ActivityRef = { workflowId: idString(where, 'workflowId', workflowId), activityId: idString(where, 'activityId', activityId) };
    if (runId !== undefined) ref.runId = idString(where, 'runId', runId);
    return this.workflowService.activityTaskToken(ref);
  }
}

function idString(where: string, name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new InvalidArgumentError(`${where}: ${name} must be a non-empty string, got ${describe(value)}`);
  if (value.length > MAX_ID_LENGTH) throw new InvalidArgumentError(`${where}: ${name} must be at most ${MAX_ID_LENGTH} characters, got ${value.length}`);
  return value;
}

/** A token the service no longer holds (completed, timed out, run closed) is Temporal's ActivityNotFoundError. */
async function notFoundIfStale(method: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof DejaError && error.code === 'DEJA_STALE_TASK') {
      throw new ActivityNotFoundError(`AsyncCompletionClient.${method}: no running activity attempt holds this task token (it was completed, timed out, or its run closed)`, {
        cause: error,
      });
    }
    throw error;
  }
}
