/**
 * Backend wiring (host side): the one module that knows both the engine and the backends. It
 * turns a backend string (a Connection's option, else DEJA_BACKEND, read here at the edge) into a
 * WorkflowService: the engine's LocalWorkflowService over the named Store. Backends that need a
 * database driver are loaded here, lazily (`require` inside the function), when their backend is
 * asked for: no layer below imports a driver, and a process that never opens SQLite never loads
 * better-sqlite3.
 *
 * Backend strings: `sqlite:<path>` (relative to the working directory), `sqlite:` alone for
 * DEFAULT_SQLITE_PATH, `memory:` or `memory:<name>`. With none given and no DEJA_BACKEND, SQLite
 * at DEFAULT_SQLITE_PATH: durable by default.
 *
 * In-process services are shared per backend through a registry (a SQLite file by its absolute
 * path), so a worker and a client created separately in one process meet in one store; the last
 * holder to release a backend closes its service. The client and the worker reach storage only
 * through here.
 */
import * as path from 'node:path';
import { MemoryStore } from '../backends/memory';
import type { Store } from '../backends/store';
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

/** Where the default backend keeps its file, relative to the working directory. */
export const DEFAULT_SQLITE_PATH = './.deja/deja.db';

/** The backend strings openBackend accepts, for messages. */
const EXPECTED = '"sqlite:<path>", "sqlite:" (for ./.deja/deja.db), "memory:" or "memory:<name>"';

/** The registry key of a backend string, and how to make its store; undefined for an unknown one. */
function parseBackend(backend: string): { key: string; makeStore: () => Store } | undefined {
  const memory = /^memory:(.*)$/s.exec(backend);
  if (memory) return { key: `memory:${memory[1]}`, makeStore: () => new MemoryStore() };
  const sqlite = /^sqlite:(.*)$/s.exec(backend);
  if (sqlite) {
    const file = path.resolve(sqlite[1] === '' ? DEFAULT_SQLITE_PATH : sqlite[1]);
    return {
      key: `sqlite:${file}`,
      makeStore: () => {
        // Loaded here and only here: a process that never opens SQLite never loads the driver.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { SqliteStore } = require('../backends/sqlite') as typeof import('../backends/sqlite');
        return new SqliteStore(file);
      },
    };
  }
  return undefined;
}

/**
 * Opens (or joins) the backend a string names. `from` says where the string came from when the
 * caller did not write it (` (from DEJA_BACKEND)`). A SQLite file that cannot be used throws its
 * StoreError (naming the file) from here.
 */
export function openBackend(backend: string, from = '', options: ServiceOptions = {}): BackendHold {
  const parsed = parseBackend(backend);
  if (!parsed) {
    if (/^postgres(ql)?:\/\//.test(backend)) {
      throw new InvalidArgumentError(`Connection: the postgres backend is not available yet (backend "${backend}"${from}); use ${EXPECTED}`);
    }
    throw new InvalidArgumentError(`Connection: unknown backend "${backend}"${from}; expected ${EXPECTED}`);
  }
  const { key } = parsed;
  const limits = JSON.stringify(options.limits ?? {});
  let shared = registry.get(key);
  if (!shared) {
    // The service checks the options (ranges, unknown keys) as it is created; when it refuses
    // them, the store opened for it is closed again.
    const store = parsed.makeStore();
    let service: LocalWorkflowService;
    try {
      service = new LocalWorkflowService({
        store,
        ...(options.limits !== undefined ? { limits: options.limits } : {}),
        ...(options.onWarning !== undefined ? { onWarning: options.onWarning } : {}),
      });
    } catch (err) {
      void store.close();
      throw err;
    }
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

/** The default backend: DEJA_BACKEND when set (and not empty), else SQLite at DEFAULT_SQLITE_PATH. */
export function openDefaultBackend(options: ServiceOptions = {}): BackendHold {
  const env = process.env.DEJA_BACKEND || undefined;
  return env === undefined ? openBackend('sqlite:', ' (the default)', options) : openBackend(env, ' (from DEJA_BACKEND)', options);
}
