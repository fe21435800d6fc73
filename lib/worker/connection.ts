/**
 * NativeConnection (host side): Temporal's worker-side connection, here a hold on a backend (the
 * same wiring as the client's Connection). `address` is read by backendForAddress's rule (absent or
 * `localhost:7233`: the default backend; a backend string: that backend; another host:port:
 * refused). Temporal's network options are accepted and named once per process in a DejaWarning.
 */
import { checkKnownKeys, describe, InvalidArgumentError, warnIgnoredOptions } from '../errors';
import type { WorkflowService } from '../service';
import { type BackendHold, type ServiceOptions, openConnectionBackend } from '../wiring';

export interface NativeConnectionOptions {
  /** A backend string (`sqlite:<path>`, `memory:`, `postgres://…`); default DEJA_BACKEND, else SQLite at `./.deja/deja.db`. */
  backend?: string;
  /** Temporal's server address, read as a backend (see the module comment). Give backend or address, not both. */
  address?: string;
  /** The service limits of the backend this connection opens (as ConnectionOptions.limits). */
  limits?: ServiceOptions['limits'];
  onWarning?: ServiceOptions['onWarning'];
  /** Temporal's network options: accepted, not acted on, named once in a warning. */
  tls?: unknown;
  proxy?: unknown;
  dnsLoadBalancingConfig?: unknown;
  grpcCompression?: unknown;
  metadata?: Record<string, string>;
  apiKey?: string;
  disableErrorCodeMetricTags?: boolean;
  payloadLimits?: unknown;
  plugins?: unknown[];
}

/** Temporal's NativeConnectionOptions that mean nothing without a server. */
export const IGNORED_NATIVE_CONNECTION_OPTIONS = [
  'tls',
  'proxy',
  'dnsLoadBalancingConfig',
  'grpcCompression',
  'metadata',
  'apiKey',
  'disableErrorCodeMetricTags',
  'payloadLimits',
  'plugins',
] as const;

export class NativeConnection {
  readonly service: WorkflowService;
  private hold: BackendHold | undefined;

  /** `await NativeConnection.connect(options)`: opens (or joins) the backend the options name. */
  static async connect(options?: NativeConnectionOptions): Promise<NativeConnection> {
    return new NativeConnection(options);
  }

  private constructor(options: NativeConnectionOptions | undefined, over?: WorkflowService) {
    if (over !== undefined) {
      // A connection to a service made elsewhere (nativeConnectionOver): no hold, nothing to release.
      this.service = over;
      return;
    }
    const where = 'NativeConnection.connect';
    if (Array.isArray(options)) throw new InvalidArgumentError(`${where}: expected an options object, got an array`);
    checkKnownKeys(where, options, ['backend', 'address', 'limits', 'onWarning', ...IGNORED_NATIVE_CONNECTION_OPTIONS]);
    const backend = options?.backend;
    if (backend !== undefined && typeof backend !== 'string') {
      throw new InvalidArgumentError(`${where}: backend must be a backend string ("sqlite:<path>", "memory:", "postgres://…"), got ${describe(backend)}`);
    }
    this.hold = openConnectionBackend(where, backend, options?.address, {
      ...(options?.limits !== undefined ? { limits: options.limits } : {}),
      ...(options?.onWarning !== undefined ? { onWarning: options.onWarning } : {}),
    });
    this.service = this.hold.service;
    // Named only once the connection is made: a refused one has a better message to give.
    const given = IGNORED_NATIVE_CONNECTION_OPTIONS.filter((name) => options?.[name] !== undefined);
    if (given.length > 0) warnIgnoredOptions(where, given, 'deja has no server to dial; the backend is chosen by address or backend');
  }

  /** Temporal's: resolves at once (the backend is opened by connect). */
  async ensureConnected(): Promise<void> {}

  /** Releases this connection's hold on its backend (the last hold closes it). */
  async close(): Promise<void> {
    const hold = this.hold;
    this.hold = undefined;
    await hold?.release();
  }
}

/**
 * A NativeConnection to a service its caller made and owns (a TestWorkflowEnvironment's): a worker
 * accepts it like any other; its close() leaves the service alone.
 */
export function nativeConnectionOver(service: WorkflowService): NativeConnection {
  const make = NativeConnection as unknown as new (options: undefined, over: WorkflowService) => NativeConnection;
  return new make(undefined, service);
}
