/**
 * Connection (host side): picks the WorkflowService that a client and a worker speak to, from its
 * options or from DEJA_BACKEND, read once here at the edge. In-process services are shared per
 * backend string through a registry, so a worker and a client created separately in one process
 * meet in one store; the last Connection to close a backend closes its service.
 */
import { MemoryStore } from '../backends/memory';
import { LocalWorkflowService } from '../engine';
import { checkKnownKeys, describe, InvalidArgumentError } from '../errors';
import type { WorkflowService } from '../service';

export interface ConnectionOptions {
  /**
   * `memory:` or `memory:<name>` (one in-memory store per name in this process), or a
   * WorkflowService to use as it is. Default: `process.env.DEJA_BACKEND`, else `memory:`.
   */
  backend?: string | WorkflowService;
}

interface Shared {
  service: LocalWorkflowService;
  connections: number;
}

const registry = new Map<string, Shared>();

/** What a client calls on its service; a WorkflowClient checks for these. */
export const CLIENT_METHODS = ['startWorkflow', 'signalWorkflow', 'queryWorkflow', 'describeWorkflow', 'getWorkflowOutcome', 'getHistory'] as const;
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

/** `from` says where the string came from when the caller did not write it (DEJA_BACKEND). */
function openBackend(backend: string, from: string): Shared {
  const memory = /^memory:(.*)$/s.exec(backend);
  if (!memory) {
    if (/^sqlite:/.test(backend) || /^postgres(ql)?:\/\//.test(backend)) {
      const kind = backend.startsWith('sqlite:') ? 'sqlite' : 'postgres';
      throw new InvalidArgumentError(`Connection: the ${kind} backend is not available yet (backend "${backend}"${from}); use "memory:" or "memory:<name>"`);
    }
    throw new InvalidArgumentError(`Connection: unknown backend "${backend}"${from}; expected "memory:" or "memory:<name>"`);
  }
  const key = `memory:${memory[1]}`;
  let shared = registry.get(key);
  if (!shared) registry.set(key, (shared = { service: new LocalWorkflowService({ store: new MemoryStore() }), connections: 0 }));
  shared.connections++;
  return shared;
}

export class Connection {
  readonly service: WorkflowService;
  /** The registry entry this connection holds, when it opened a backend by name. */
  private shared: Shared | undefined;

  /** Temporal's spelling: `await Connection.connect(options)`. */
  static async connect(options?: ConnectionOptions): Promise<Connection> {
    return new Connection(options);
  }

  constructor(options?: ConnectionOptions) {
    checkOptions('Connection', options, ['backend']);
    // Only an absent backend (or undefined) means the default: null is a mistake, not a choice.
    const given = options?.backend;
    if (given === undefined) {
      const env = process.env.DEJA_BACKEND || undefined;
      this.shared = env === undefined ? openBackend('memory:', '') : openBackend(env, ' (from DEJA_BACKEND)');
      this.service = this.shared.service;
    } else if (typeof given === 'string') {
      this.shared = openBackend(given, '');
      this.service = this.shared.service;
    } else if (missingMethods(given, SERVICE_METHODS).length === 0 && !Array.isArray(given)) {
      this.service = given;
    } else {
      throw new InvalidArgumentError(
        `Connection: backend must be a backend string ("memory:" or "memory:<name>") or a WorkflowService, got ${describeNonService(given, SERVICE_METHODS)}; ` +
          'leave backend out for the default (DEJA_BACKEND, else "memory:")',
      );
    }
  }

  /** Releases this connection's hold on its backend; a given WorkflowService is left open. */
  async close(): Promise<void> {
    const shared = this.shared;
    if (!shared) return;
    this.shared = undefined;
    if (--shared.connections > 0) return;
    for (const [key, entry] of registry) if (entry === shared) registry.delete(key);
    await shared.service.close();
  }
}
