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

function openBackend(backend: string): Shared {
  const memory = /^memory:(.*)$/s.exec(backend);
  if (!memory) {
    if (/^sqlite:/.test(backend) || /^postgres(ql)?:\/\//.test(backend)) {
      const kind = backend.startsWith('sqlite:') ? 'sqlite' : 'postgres';
      throw new InvalidArgumentError(`Connection: the ${kind} backend is not available yet (backend "${backend}"); use "memory:" or "memory:<name>"`);
    }
    throw new InvalidArgumentError(`Connection: unknown backend "${backend}"; expected "memory:" or "memory:<name>"`);
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
    checkKnownKeys('Connection', options, ['backend']);
    const backend = options?.backend ?? (process.env.DEJA_BACKEND || 'memory:');
    if (typeof backend === 'string') {
      this.shared = openBackend(backend);
      this.service = this.shared.service;
    } else if (typeof backend === 'object' && backend !== null && typeof (backend as WorkflowService).startWorkflow === 'function') {
      this.service = backend;
    } else {
      throw new InvalidArgumentError(`Connection: backend must be a backend string or a WorkflowService, got ${describe(backend)}`);
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
