/**
 * Connection (host side): the WorkflowService that a client and a worker speak to: one given as
 * it is, or a backend opened by name through the wiring module (lib/wiring), which reads
 * DEJA_BACKEND when no backend is given and shares in-process services per backend string. The
 * last Connection to close a backend closes its service.
 */
import { checkKnownKeys, describe, InvalidArgumentError } from '../errors';
import type { WorkflowService } from '../service';
import { type BackendHold, type ServiceOptions, openBackend, openDefaultBackend } from '../wiring';

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
}

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

  /** Temporal's spelling: `await Connection.connect(options)`. */
  static async connect(options?: ConnectionOptions): Promise<Connection> {
    return new Connection(options);
  }

  constructor(options?: ConnectionOptions) {
    checkOptions('Connection', options, ['backend', 'limits', 'onWarning']);
    // Only an absent backend (or undefined) means the default: null is a mistake, not a choice.
    const given = options?.backend;
    const serviceOptions: ServiceOptions = {
      ...(options?.limits !== undefined ? { limits: options.limits } : {}),
      ...(options?.onWarning !== undefined ? { onWarning: options.onWarning } : {}),
    };
    if (given === undefined) {
      this.hold = openDefaultBackend(serviceOptions);
      this.service = this.hold.service;
    } else if (typeof given === 'string') {
      this.hold = openBackend(given, '', serviceOptions);
      this.service = this.hold.service;
    } else if (missingMethods(given, SERVICE_METHODS).length === 0 && !Array.isArray(given)) {
      if (options?.limits !== undefined || options?.onWarning !== undefined) {
        throw new InvalidArgumentError('Connection: limits and onWarning configure a backend the Connection opens by name; a WorkflowService given as backend is configured where it is created');
      }
      this.service = given;
    } else {
      throw new InvalidArgumentError(
        `Connection: backend must be a backend string ("sqlite:<path>", "sqlite:", "memory:", "memory:<name>" or "postgres://…") or a WorkflowService, got ${describeNonService(given, SERVICE_METHODS)}; ` +
          'leave backend out for the default (DEJA_BACKEND, else "sqlite:./.deja/deja.db")',
      );
    }
  }

  /** Releases this connection's hold on its backend; a given WorkflowService is left open. */
  async close(): Promise<void> {
    const hold = this.hold;
    this.hold = undefined;
    await hold?.release();
  }
}
