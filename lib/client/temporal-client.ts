/**
 * Client and ActivityClient (host side): Temporal's current client surface over deja's clients.
 * `new Client({ connection?, namespace?, identity?, … })` gathers a WorkflowClient
 * (`client.workflow`), a ScheduleClient (`client.schedule`) and an ActivityClient
 * (`client.activity`, async completion) on one connection and identity. Temporal's options deja
 * does not act on are accepted and named once per process in a DejaWarning; unknown names are
 * refused with the known ones listed.
 */
import { hostname } from 'node:os';
import { checkKnownKeys, describe, InvalidArgumentError, warnIgnoredOptions } from '../errors';
import type { WorkflowService } from '../service';
import { AsyncCompletionClient, type AsyncCompletionClientOptions } from './async-completion';
import { WorkflowClient } from './client';
import { CLIENT_METHODS, Connection, missingMethods, warnTemporalClientOptions } from './connection';
import { ScheduleClient } from './schedules';

/** What `client.connection` is: the Connection given (or made), with `close` and `ensureConnected`. */
export interface ConnectionLike {
  service: WorkflowService;
  close(): Promise<void>;
  ensureConnected(): Promise<void>;
}

export interface ClientOptions {
  /** A Connection (`await Connection.connect(…)`), or anything with a WorkflowService as `service`. Default: `new Connection()`. */
  connection?: { service: WorkflowService };
  /** deja has one namespace, 'default'; another is accepted with a warning and 'default' is used. */
  namespace?: string;
  /** Recorded on signals, cancellations and schedule changes. Default `<pid>@<hostname>`. */
  identity?: string;
  /** Temporal's: accepted, not acted on (payloads are JSON), named once in a warning. */
  dataConverter?: unknown;
  /** Temporal's: accepted, not applied yet, named once in a warning. */
  interceptors?: unknown;
  /** Temporal's: accepted, not supported, named once in a warning. */
  plugins?: unknown[];
  /** Temporal's `{ queryRejectCondition }`: accepted, not acted on, named once in a warning. */
  workflow?: { queryRejectCondition?: unknown };
}

/** What `client.options` holds: the options as given, with the defaults filled in. */
export interface LoadedClientOptions extends ClientOptions {
  connection: ConnectionLike;
  namespace: string;
  identity: string;
}

const CLIENT_OPTION_KEYS = ['connection', 'namespace', 'identity', 'dataConverter', 'interceptors', 'plugins', 'workflow'] as const;

/** Temporal's ActivityClient, for async completion: complete, fail, heartbeat, reportCancellation by task token or by ids. */
export class ActivityClient extends AsyncCompletionClient {
  constructor(options?: AsyncCompletionClientOptions | WorkflowService) {
    super(options);
  }
}

export class Client {
  /** The connection given (a bare `{ service }` gets no-op `close` and `ensureConnected`), or a new Connection. */
  readonly connection: ConnectionLike;
  readonly options: Readonly<LoadedClientOptions>;
  /** Start, signal, query, update, list and count workflows. */
  readonly workflow: WorkflowClient;
  /** Create and operate schedules. */
  readonly schedule: ScheduleClient;
  /** Complete, fail, heartbeat or cancel activities that threw CompleteAsyncError. */
  readonly activity: ActivityClient;

  constructor(options?: ClientOptions) {
    const where = 'Client';
    if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
      throw new InvalidArgumentError(`${where}: expected an options object ({ connection?, namespace?, identity? }) or nothing, got ${describe(options)}`);
    }
    checkKnownKeys(where, options, CLIENT_OPTION_KEYS);
    const o = (options ?? {}) as Record<string, unknown>;
    warnTemporalClientOptions(where, o, ['namespace', 'dataConverter', 'interceptors', 'plugins']);
    const workflowOptions = o.workflow;
    if (workflowOptions !== undefined) {
      if (typeof workflowOptions !== 'object' || workflowOptions === null || Array.isArray(workflowOptions)) {
        throw new InvalidArgumentError(`${where}: workflow must be an options object ({ queryRejectCondition? }), got ${describe(workflowOptions)}`);
      }
      checkKnownKeys(`${where}: workflow`, workflowOptions, ['queryRejectCondition']);
      if ((workflowOptions as Record<string, unknown>).queryRejectCondition !== undefined) {
        warnIgnoredOptions(where, ['workflow.queryRejectCondition'], "queries are answered whatever the run's status");
      }
    }
    const connection = o.connection === undefined ? new Connection() : o.connection;
    const service = typeof connection === 'object' && connection !== null ? (connection as { service?: unknown }).service : undefined;
    if (missingMethods(service, CLIENT_METHODS).length > 0) {
      throw new InvalidArgumentError(`${where}: connection must be a Connection (or have a WorkflowService as its service), got ${describe(connection)}`);
    }
    const identity = o.identity === undefined ? `${process.pid}@${hostname()}` : o.identity;
    if (typeof identity !== 'string' || identity === '') throw new InvalidArgumentError(`${where}: identity must be a non-empty string, got ${describe(identity)}`);
    const given = connection as Partial<ConnectionLike> & { service: WorkflowService };
    this.connection =
      typeof given.close === 'function' && typeof given.ensureConnected === 'function'
        ? (given as ConnectionLike)
        : { service: given.service, close: () => Promise.resolve(), ensureConnected: () => Promise.resolve() };
    this.options = Object.freeze({ ...(options ?? {}), connection: this.connection, namespace: (o.namespace as string | undefined) ?? 'default', identity });
    this.workflow = new WorkflowClient({ connection: this.connection, identity });
    this.schedule = new ScheduleClient({ connection: this.connection, identity });
    this.activity = new ActivityClient({ connection: this.connection, identity });
  }

  /** The connection's WorkflowService (deja's interface, not Temporal's gRPC one). */
  get workflowService(): WorkflowService {
    return this.connection.service;
  }

  /**
   * Runs `fn`, and rejects once `deadline` (ms since the epoch, or a Date) passes first. deja's
   * calls are in-process and are not interrupted: the caller stops waiting.
   */
  withDeadline<R>(deadline: number | Date, fn: () => Promise<R>): Promise<R> {
    const at = deadline instanceof Date ? deadline.getTime() : deadline;
    if (typeof at !== 'number' || !Number.isFinite(at)) {
      return Promise.reject(new InvalidArgumentError(`Client.withDeadline: deadline must be a Date or ms since the epoch, got ${describe(deadline)}`));
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new InvalidArgumentError('Client.withDeadline: the deadline passed before the call finished')), Math.max(0, Math.min(at - Date.now(), 2 ** 31 - 1)));
    return this.withAbortSignal(controller.signal, fn).finally(() => clearTimeout(timer));
  }

  /** Runs `fn`, and rejects with the signal's reason once it aborts first (the call itself is not interrupted). */
  withAbortSignal<R>(signal: AbortSignal, fn: () => Promise<R>): Promise<R> {
    if (typeof fn !== 'function') return Promise.reject(new InvalidArgumentError(`Client.withAbortSignal: expected a function, got ${describe(fn)}`));
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<R>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      Promise.resolve()
        .then(fn)
        .then(resolve, reject)
        .finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** Runs `fn`; gRPC metadata means nothing without a server (named once in a warning). */
  withMetadata<R>(metadata: Record<string, string>, fn: () => Promise<R>): Promise<R> {
    warnIgnoredOptions('Client.withMetadata', ['metadata'], 'deja has no server to send it to');
    void metadata;
    return Promise.resolve().then(fn);
  }
}
