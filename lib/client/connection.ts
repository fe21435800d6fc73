/**
 * Connection (host side): the WorkflowService that a client and a worker speak to: one given as
 * it is, or a backend opened by name through the wiring module (lib/wiring), which reads
 * DEJA_BACKEND when no backend is given and shares in-process services per backend string. The
 * last Connection to close a backend closes its service.
 *
 * Temporal's ConnectionOptions are accepted too. `address` picks the backend by one rule (see
 * backendForAddress in lib/wiring): absent or `localhost:7233` is the default backend, a backend
 * string is that backend, another host:port is refused (deja has no server). The network options
 * (tls, apiKey, metadata, …) are accepted and named once per process in a DejaWarning.
 */
import { checkKnownKeys, describe, InvalidArgumentError, warnIgnoredOptions } from '../errors';
import type { WorkflowService } from '../service';
import { type BackendHold, type ServiceOptions, openConnectionBackend } from '../wiring';

export interface ConnectionOptions {
  /**
   * `sqlite:<path>` (a database file, relative to the working directory; `sqlite:` alone is
   * `./.deja/deja.db`), `memory:` or `memory:<name>` (one in-memory store per name in this
   * process, for tests), or a WorkflowService to use as it is. Default:
   * `process.env.DEJA_BACKEND`, else SQLite at `./.deja/deja.db` (its folder is created).
   */
  backend?: string | WorkflowService;
  /**
   * The service limits of a backend this Connection opens by name (payload size and depth,
   * commands per task, history length and size; see `DEFAULT_LIMITS`). Every Connection that
   * opens the same backend in a process must give the same limits, or none.
   */
  limits?: ServiceOptions['limits'];
  /** Called once per run whose history passes a warning threshold. Default: process.emitWarning. */
  onWarning?: ServiceOptions['onWarning'];
  /**
   * Temporal's server address, read as a backend: absent, `localhost:7233` (or `127.0.0.1:7233`,
   * `[::1]:7233`) is the default backend; `sqlite:…`, `memory:…` or `postgres://…` is that
   * backend; any other address is refused. Give `backend` or `address`, not both.
   */
  address?: string;
  /** Temporal's network options: accepted, not acted on (deja has no server to dial), and named once in a warning. */
  tls?: unknown;
  credentials?: unknown;
  callCredentials?: unknown;
  channelArgs?: unknown;
  interceptors?: unknown;
  metadata?: Record<string, string>;
  apiKey?: string | (() => string);
  connectTimeout?: number | string;
  plugins?: unknown[];
}

/** Temporal's ConnectionOptions that mean nothing without a server: accepted and warned about. */
export const IGNORED_CONNECTION_OPTIONS = ['tls', 'credentials', 'callCredentials', 'channelArgs', 'interceptors', 'metadata', 'apiKey', 'connectTimeout', 'plugins'] as const;

/** What a client calls on its service; a WorkflowClient checks for these. */
export const CLIENT_METHODS = [
  'startWorkflow',
  'signalWorkflow',
  'signalWithStartWorkflow',
  'requestCancelWorkflow',
  'terminateWorkflow',
  'queryWorkflow',
  'describeWorkflow',
  'listWorkflows',
  'getWorkflowOutcome',
  'getHistory',
] as const;
/** All of WorkflowService: a Connection's service serves clients and workers. */
const SERVICE_METHODS = [
  ...CLIENT_METHODS,
  'pollWorkflowTask',
  'completeWorkflowTask',
  'failWorkflowTask',
  'respondQueryTask',
  'pollActivityTask',
  'completeActivityTask',
  'failActivityTask',
  'heartbeatActivityTask',
  'activityTaskToken',
  'close',
] as const;

/** The methods of `names` that `value` lacks (all of them when it is not an object). */
export function missingMethods(value: unknown, names: readonly string[]): string[] {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return [...names];
  return names.filter((name) => typeof (value as Record<string, unknown>)[name] !== 'function');
}

/** `got …` for a value that should have been a service: names the missing methods of an object. */
export function describeNonService(value: unknown, names: readonly string[]): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return describe(value);
  const missing = missingMethods(value, names);
  if (missing.length === names.length) return `an object with none of its methods (${names.slice(0, 3).join(', ')}, …)`;
  return `an object without ${missing.join(', ')}`;
}

/** An options argument: undefined, or a plain object with only `known` keys. */
export function checkOptions(where: string, options: unknown, known: readonly string[]): void {
  if (Array.isArray(options)) throw new InvalidArgumentError(`${where}: expected an options object, got an array`);
  checkKnownKeys(where, options as object | undefined, known);
}

export class Connection {
  readonly service: WorkflowService;
  /** This connection's hold on a backend it opened by name. */
  private hold: BackendHold | undefined;

  /** Temporal's spelling: `await Connection.connect(options)` (same options as the constructor). */
  static async connect(options?: ConnectionOptions): Promise<Connection> {
    return new Connection(options, 'Connection.connect');
  }

  constructor(options?: ConnectionOptions, where = 'Connection') {
    checkOptions(where, options, ['backend', 'address', 'limits', 'onWarning', ...IGNORED_CONNECTION_OPTIONS]);
    // Only an absent backend (or undefined) means the default: null is a mistake, not a choice.
    const given = options?.backend;
    const serviceOptions: ServiceOptions = {
      ...(options?.limits !== undefined ? { limits: options.limits } : {}),
      ...(options?.onWarning !== undefined ? { onWarning: options.onWarning } : {}),
    };
    if (given === undefined || typeof given === 'string') {
      this.hold = openConnectionBackend(where, given, options?.address, serviceOptions);
      this.service = this.hold.service;
    } else if (missingMethods(given, SERVICE_METHODS).length === 0 && !Array.isArray(given)) {
      if (options?.limits !== undefined || options?.onWarning !== undefined) {
        throw new InvalidArgumentError(`${where}: limits and onWarning configure a backend the Connection opens by name; a WorkflowService given as backend is configured where it is created`);
      }
      if (options?.address !== undefined) throw new InvalidArgumentError(`${where}: give backend or address, not both`);
      this.service = given;
    } else {
      throw new InvalidArgumentError(
        `${where}: backend must be a backend string ("sqlite:<path>", "sqlite:", "memory:", "memory:<name>" or "postgres://…") or a WorkflowService, got ${describeNonService(given, SERVICE_METHODS)}; ` +
          'leave backend out for the default (DEJA_BACKEND, else "sqlite:./.deja/deja.db")',
      );
    }
    // Named only once the connection is made: a refused one has a better message to give.
    warnIgnoredTemporalOptions(where, options, IGNORED_CONNECTION_OPTIONS);
  }

  /** Temporal's: resolves at once, since the backend is opened when the Connection is made. */
  async ensureConnected(): Promise<void> {}

  /** Releases this connection's hold on its backend; a given WorkflowService is left open. */
  async close(): Promise<void> {
    const hold = this.hold;
    this.hold = undefined;
    await hold?.release();
  }
}

/** Names once per process, in a DejaWarning, the given options of `ignored` (those set to undefined do not count). */
export function warnIgnoredTemporalOptions(where: string, options: object | undefined, ignored: readonly string[]): void {
  if (options === undefined || options === null) return;
  const given = ignored.filter((name) => (options as Record<string, unknown>)[name] !== undefined);
  if (given.length > 0) warnIgnoredOptions(where, given, 'deja has no server to dial; the backend is chosen by address or backend');
}

/** Temporal's client options that deja accepts and does not act on, with what deja does instead. */
const IGNORED_CLIENT_OPTIONS: Record<string, string> = {
  dataConverter: 'payloads are JSON; custom payload converters and codecs are not applied',
  interceptors: 'client interceptors are not applied yet',
  plugins: 'client plugins are not supported',
  queryRejectCondition: 'queries are answered whatever the run\'s status',
};

/**
 * The Temporal options every client takes (`namespace`, `dataConverter`, `interceptors`, …): a
 * namespace other than 'default' and the options deja does not act on are named once per process
 * in a DejaWarning, never refused. `names` are the ones this client's Temporal counterpart has.
 */
export function warnTemporalClientOptions(where: string, options: Record<string, unknown>, names: readonly string[]): void {
  const namespace = options.namespace;
  if (namespace !== undefined) {
    if (typeof namespace !== 'string' || namespace === '') throw new InvalidArgumentError(`${where}: namespace must be a non-empty string, got ${describe(namespace)}`);
    if (namespace !== 'default') warnIgnoredOptions(where, ['namespace'], `deja has one namespace, 'default', and uses it (got ${describe(namespace)})`);
  }
  // A payload codec encrypts or compresses what is stored: deja applies none, so taking one quietly
  // would store in the clear what its user meant to encrypt. Refused, unlike the other options.
  const codecs = (options.dataConverter as { payloadCodecs?: unknown } | undefined)?.payloadCodecs;
  if (codecs !== undefined && !(Array.isArray(codecs) && codecs.length === 0)) {
    throw new InvalidArgumentError(
      `${where}: dataConverter.payloadCodecs is not offered: deja stores payloads as plain JSON and applies no payload codec, ` +
        'so what your codec would encrypt or compress would be stored as it is; remove payloadCodecs to run without it',
    );
  }
  const given = names.filter((name) => name !== 'namespace' && options[name] !== undefined);
  if (given.length > 0) warnIgnoredOptions(where, given, (name) => IGNORED_CLIENT_OPTIONS[name] ?? 'not supported');
}
