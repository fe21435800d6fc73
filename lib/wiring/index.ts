/**
 * Backend wiring (host side): the one module that knows both the engine and the backends. It
 * turns a backend string (a Connection's option, else DEJA_BACKEND, read here at the edge) into a
 * WorkflowService: the engine's LocalWorkflowService over the named Store. Database drivers will
 * be loaded here, lazily, when their backend is asked for, so no layer below imports a driver and
 * a process that never opens SQLite never loads it.
 *
 * In-process services are shared per backend string through a registry, so a worker and a client
 * created separately in one process meet in one store; the last holder to release a backend
 * closes its service. The client and the worker reach storage only through here.
 */
import { MemoryStore } from '../backends/memory';
import { LocalWorkflowService, type HistoryWarning, type Limits } from '../engine';
import { InvalidArgumentError } from '../errors';
import type { WorkflowService } from '../service';

/** A hold on a shared backend's service; `release` gives it back (the last one closes it). */
export interface BackendHold {
  readonly service: WorkflowService;
  release(): Promise<void>;
}

/** What a backend's service is configured with, beyond its store. */
export interface ServiceOptions {
  limits?: Partial<Limits>;
  onWarning?: (warning: HistoryWarning) => void;
}

interface Shared {
  service: LocalWorkflowService;
  holds: number;
  /** The options it was opened with, to refuse a later opener that asks for others. */
  limits: string;
  onWarning: ServiceOptions['onWarning'];
}

const registry = new Map<string, Shared>();

/**
 * Opens (or joins) the backend a string names. `from` says where the string came from when the
 * caller did not write it (` (from DEJA_BACKEND)`).
 */
export function openBackend(backend: string, from = '', options: ServiceOptions = {}): BackendHold {
  const memory = /^memory:(.*)$/s.exec(backend);
  if (!memory) {
    if (/^sqlite:/.test(backend) || /^postgres(ql)?:\/\//.test(backend)) {
      const kind = backend.startsWith('sqlite:') ? 'sqlite' : 'postgres';
      throw new InvalidArgumentError(`Connection: the ${kind} backend is not available yet (backend "${backend}"${from}); use "memory:" or "memory:<name>"`);
    }
    throw new InvalidArgumentError(`Connection: unknown backend "${backend}"${from}; expected "memory:" or "memory:<name>"`);
  }
  const key = `memory:${memory[1]}`;
  const limits = JSON.stringify(options.limits ?? {});
  let shared = registry.get(key);
  if (!shared) {
    // The service checks the options (ranges, unknown keys) as it is created.
    const service = new LocalWorkflowService({
      store: new MemoryStore(),
      ...(options.limits !== undefined ? { limits: options.limits } : {}),
      ...(options.onWarning !== undefined ? { onWarning: options.onWarning } : {}),
    });
    registry.set(key, (shared = { service, holds: 0, limits, onWarning: options.onWarning }));
  } else if ((options.limits !== undefined && limits !== shared.limits) || (options.onWarning !== undefined && options.onWarning !== shared.onWarning)) {
    // One service per backend in a process: a second opener cannot give it other settings.
    throw new InvalidArgumentError(
      `Connection: backend "${backend}"${from} is already open in this process with other limits or another onWarning; ` +
        'give the same ones (or none) to every Connection that opens it',
    );
  }
  shared.holds++;
  const held = shared;
  let released = false;
  return {
    service: held.service,
    async release() {
      if (released) return;
      released = true;
      if (--held.holds > 0) return;
      if (registry.get(key) === held) registry.delete(key);
      await held.service.close();
    },
  };
}

/** The default backend: DEJA_BACKEND when set (and not empty), else `memory:`. */
export function openDefaultBackend(options: ServiceOptions = {}): BackendHold {
  const env = process.env.DEJA_BACKEND || undefined;
  return env === undefined ? openBackend('memory:', '', options) : openBackend(env, ' (from DEJA_BACKEND)', options);
}
