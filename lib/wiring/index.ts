/**
 * Backend wiring (host side): the one module that knows both the engine and the backends. It
 * turns a backend string (a Connection's option, else DEJA_BACKEND, read here at the edge) into a
 * WorkflowService: the engine's LocalWorkflowService over the named Store. Backends that need a
 * database driver are loaded here, lazily (`require` inside the function), when their backend is
 * asked for: no layer below imports a driver, and a process that never opens SQLite never loads
 * better-sqlite3.
 *
 * Backend strings: `sqlite:<path>` (relative to the working directory), `sqlite:` alone for
 * DEFAULT_SQLITE_PATH, `memory:` or `memory:<name>`, `postgres://user:password@host:port/database`
 * (or `postgresql://`; `?schema=<name>` picks the schema, default `deja`). A PostgreSQL service
 * runs on the database server's clock (see lib/backends/postgres), so that workers on machines
 * whose clocks disagree still agree on when timers fire and leases end. With none given and no DEJA_BACKEND, SQLite
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
import { LocalWorkflowService, type Clock, type HistoryWarning, type Limits } from '../engine';
import { describe, InvalidArgumentError } from '../errors';
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
const EXPECTED = '"sqlite:<path>", "sqlite:" (for ./.deja/deja.db), "memory:", "memory:<name>" or "postgres://user:password@host:port/database"';

/** The registry key of a backend string, and how to make its store (and the clock to run it on); undefined for an unknown one. */
function parseBackend(backend: string, from: string): { key: string; makeStore: () => Store & { clock?: Clock } } | undefined {
  const memory = /^memory:(.*)$/s.exec(backend);
  if (memory) return { key: `memory:${memory[1]}`, makeStore: () => new MemoryStore() };
  if (/^postgres(ql)?:/i.test(backend)) {
    if (!/^postgres(ql)?:\/\//i.test(backend)) {
      throw new InvalidArgumentError(`Connection: backend "${backend}"${from} is not a PostgreSQL URL; expected "postgres://user:password@host:port/database"`);
    }
    // Loaded here and only here: a process that never opens PostgreSQL never loads pg.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { PostgresStore, parseUrl } = require('../backends/postgres') as typeof import('../backends/postgres');
    let checked: string;
    try {
      const { connectionString, schema } = parseUrl(backend);
      checked = `${connectionString}#${schema ?? 'deja'}`;
    } catch (err) {
      throw new InvalidArgumentError(`Connection: backend${from}: ${(err as Error).message}`);
    }
    return { key: `postgres:${checked}`, makeStore: () => new PostgresStore(backend) };
  }
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
  const parsed = parseBackend(backend, from);
  if (!parsed) {
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
        ...(store.clock !== undefined ? { clock: store.clock } : {}),
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

/** Temporal's default server address: deja reads it as "the default backend". */
const LOCAL_ADDRESSES = new Set(['localhost:7233', '127.0.0.1:7233', '[::1]:7233']);

/**
 * The backend a Temporal `address` (Connection.connect, NativeConnection.connect) stands for, by
 * one rule: absent, empty or Temporal's local default (`localhost:7233`, `127.0.0.1:7233`,
 * `[::1]:7233`) is the default backend (undefined: DEJA_BACKEND, else SQLite); a backend string
 * (`sqlite:…`, `memory:…`, `postgres://…`, `postgresql://…`) is that backend; anything else
 * (another host:port) is refused, since deja has no server to dial.
 */
export function backendForAddress(where: string, address: unknown): string | undefined {
  if (address === undefined || address === '') return undefined;
  if (typeof address !== 'string') throw new InvalidArgumentError(`${where}: address must be a string, got ${describe(address)}`);
  if (LOCAL_ADDRESSES.has(address.trim().toLowerCase())) return undefined;
  if (/^(sqlite:|memory:|postgres(ql)?:)/i.test(address)) return address;
  throw new InvalidArgumentError(
    `${where}: address "${address.length > 80 ? address.slice(0, 80) + '…' : address}" names a server, and deja has none: its engine runs in this process over a store. ` +
      `Leave address out (or give "localhost:7233") for the default backend (DEJA_BACKEND, else "sqlite:${DEFAULT_SQLITE_PATH}"), ` +
      `or give a backend string as the address: ${EXPECTED}`,
  );
}

/**
 * The hold a Connection (or NativeConnection) takes from its options: `backend` given as a string
 * opens it; else `address` by backendForAddress's rule; else the default backend. Both given is a
 * mistake, refused. A `backend` that is not a string is the caller's to handle (a WorkflowService).
 */
export function openConnectionBackend(where: string, backend: string | undefined, address: unknown, options: ServiceOptions = {}): BackendHold {
  if (backend !== undefined && address !== undefined) {
    throw new InvalidArgumentError(`${where}: give backend or address, not both (address is Temporal's spelling; a backend string works in either)`);
  }
  if (backend !== undefined) return openBackend(backend, '', options);
  const fromAddress = backendForAddress(where, address);
  return fromAddress === undefined ? openDefaultBackend(options) : openBackend(fromAddress, ' (from address)', options);
}

/**
 * Creates or migrates the schema of the backend a string names, and says what it did (`deja
 * migrate`). Workers migrate on first use too; this lets an operator do it ahead of a deploy.
 * Throws InvalidArgumentError for a bad string and the backend's StoreError when it cannot be used.
 */
export async function migrateBackend(backend: string, from = ''): Promise<string> {
  if (/^memory:/.test(backend)) return `${backend}: an in-memory backend keeps nothing between processes; nothing to migrate`;
  const sqlite = /^sqlite:(.*)$/s.exec(backend);
  if (sqlite) {
    const file = path.resolve(sqlite[1] === '' ? DEFAULT_SQLITE_PATH : sqlite[1]);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { SqliteStore, SCHEMA_VERSION } = require('../backends/sqlite') as typeof import('../backends/sqlite');
    await new SqliteStore(file).close();
    return `${file}: SQLite schema at version ${SCHEMA_VERSION}`;
  }
  const parsed = parseBackend(backend, from);
  if (!parsed || !parsed.key.startsWith('postgres:')) throw new InvalidArgumentError(`Connection: unknown backend "${backend}"${from}; expected ${EXPECTED}`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PostgresStore } = require('../backends/postgres') as typeof import('../backends/postgres');
  const store = new PostgresStore(backend);
  try {
    const { from: found, to } = await store.migrate();
    const where = `${store.url} (schema "${store.schema}")`;
    if (found === to) return `${where}: at schema version ${to}; nothing to do`;
    return found === 0 ? `${where}: created, at schema version ${to}` : `${where}: migrated from schema version ${found} to ${to}`;
  } finally {
    await store.close();
  }
}
