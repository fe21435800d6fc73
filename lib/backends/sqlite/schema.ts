/**
 * The SQLite file's schema and how a file is opened (host side). A deja file is marked twice in its
 * header: `PRAGMA application_id` is DEJA_APPLICATION_ID (so a SQLite file of another program is
 * refused, never written), and `PRAGMA user_version` is the schema version. Opening checks both
 * before anything is written; a file from a newer deja is refused with a message, never changed.
 * An older one is migrated forward in one write transaction (all of it lands, or the file stays
 * at its version), re-checked under the write lock since another process may have migrated it.
 *
 * Records are stored as JSON text (the `record` columns), so a field added to a record later needs
 * no migration. Beside each record sit only the plain columns the indexes need. Every query the
 * store makes has its index (named after the query); `seq`, an AUTOINCREMENT key kept when a row
 * is replaced, is the first-insertion order that breaks ties as the memory store's does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { StoreError } from '../../errors';
import { VISIBILITY_MIGRATION } from './visibility';

/** 'deja' in ASCII: the header mark of a deja file. */
export const DEJA_APPLICATION_ID = 0x64656a61;

/** `MIGRATIONS[i]` takes a file from schema version i to i + 1. Append only; never edit one. */
export const MIGRATIONS: readonly string[] = [
  // 0 → 1: the first schema.
  `
  CREATE TABLE runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL UNIQUE,
    workflow_id TEXT NOT NULL,
    workflow_type TEXT NOT NULL,
    task_queue TEXT NOT NULL,
    status TEXT NOT NULL,
    start_time INTEGER NOT NULL,
    record TEXT NOT NULL
  );
  -- runs.latest: the last inserted run of a workflow id.
  CREATE INDEX runs_latest ON runs (workflow_id, seq);
  -- runs.list: newest start first, then the later inserted; and the same per status.
  CREATE INDEX runs_list ON runs (start_time, seq);
  CREATE INDEX runs_list_status ON runs (status, start_time, seq);

  -- history.append and history.read: one run's events by id.
  CREATE TABLE history (
    run_id TEXT NOT NULL,
    event_id INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (run_id, event_id)
  ) WITHOUT ROWID;

  CREATE TABLE tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    task_queue TEXT NOT NULL,
    run_id TEXT NOT NULL,
    visible_at INTEGER NOT NULL,
    -- The lease's end and token while claimed, NULL while not.
    lease_end INTEGER,
    token TEXT,
    record TEXT NOT NULL
  );
  -- tasks.claim and tasks.claimable: a queue's unleased tasks, earliest visible first.
  CREATE INDEX tasks_claim ON tasks (kind, task_queue, visible_at, seq) WHERE lease_end IS NULL;
  -- tasks.nextDueAt: the next unleased task to become visible.
  CREATE INDEX tasks_visible ON tasks (visible_at) WHERE lease_end IS NULL;
  -- tasks.expireLeases and tasks.nextDueAt: leases by their end.
  CREATE INDEX tasks_lease ON tasks (lease_end, seq) WHERE lease_end IS NOT NULL;
  -- tasks.byToken.
  CREATE INDEX tasks_token ON tasks (token) WHERE token IS NOT NULL;
  -- tasks.deleteRun.
  CREATE INDEX tasks_run ON tasks (run_id);

  CREATE TABLE timers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    ref INTEGER NOT NULL,
    fire_at INTEGER NOT NULL,
    record TEXT NOT NULL,
    -- timers.get, put, delete, and deleteRun (its prefix).
    UNIQUE (run_id, kind, ref)
  );
  -- timers.takeDue and timers.nextFireAt.
  CREATE INDEX timers_due ON timers (fire_at, seq);

  CREATE TABLE queries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    query_id TEXT NOT NULL UNIQUE,
    task_queue TEXT NOT NULL,
    token TEXT,
    -- 1 when it has no token, no answer and is not blocked.
    claimable INTEGER NOT NULL,
    record TEXT NOT NULL
  );
  -- queries.claim and queries.claimable: a queue's claimable queries, first inserted first.
  CREATE INDEX queries_claim ON queries (task_queue, seq) WHERE claimable = 1;
  -- queries.byToken.
  CREATE INDEX queries_token ON queries (token) WHERE token IS NOT NULL;
  `,
  // 1 → 2: schedules: one row per schedule; its primary key orders schedules.list.
  `
  CREATE TABLE schedules (
    schedule_id TEXT PRIMARY KEY,
    record TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
  // 2 → 3: list filters (visibility.ts): system attribute columns, custom attributes' table.
  VISIBILITY_MIGRATION,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * `synchronous` in WAL mode. NORMAL (the default) syncs at checkpoints only: every commit that
 * returned survives a crash of any process (SIGKILL included), since it is in the WAL file the OS
 * holds; an OS crash or a power loss may lose the last commits, never the file's consistency.
 * FULL also syncs the WAL at every commit, so a commit survives a power loss too. Chosen by
 * measurement (bench measure 9, worker and client in one process): with FULL, SQLite ran at 0.54×
 * the in-memory end-to-end rate on this machine (0.42× when it was busier), near the goal of 0.5×;
 * with NORMAL at 0.67× (0.82×). Pass `synchronous: 'full'` to SqliteStore for the stronger promise.
 */
export type Synchronous = 'full' | 'normal';

export interface OpenOptions {
  /** How long a write waits for another connection's write lock before failing. Default 5000. */
  busyTimeoutMs: number;
  synchronous: Synchronous;
  /** Caps the file at this many pages (PRAGMA max_page_count): past it a write fails as a full disk. */
  maxPageCount?: number;
}

/** The better-sqlite3 constructor, loaded when a SQLite store is first opened. */
type Driver = typeof BetterSqlite3;
let driver: Driver | undefined;
function loadDriver(): Driver {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  driver ??= require('better-sqlite3') as Driver;
  return driver;
}

/**
 * Opens `file` (an absolute path) as a deja database: checks the path, the header marks and the
 * version, sets WAL and the pragmas, and migrates forward. Throws a StoreError naming the file,
 * having written nothing, for a directory, a read-only file, a file that is not deja's, or one
 * from a newer deja.
 */
export function openDatabase(file: string, options: OpenOptions, migrations: readonly string[] = MIGRATIONS): BetterSqlite3.Database {
  checkPath(file);
  const Database = loadDriver();
  let db: BetterSqlite3.Database;
  try {
    db = new Database(file, { timeout: options.busyTimeoutMs });
  } catch (err) {
    throw storeError(file, err, 'open');
  }
  try {
    // Reads first: a file that is not a database fails here, before anything is written.
    const applicationId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
    if (applicationId !== DEJA_APPLICATION_ID && (applicationId !== 0 || tables.length > 0)) {
      const what = applicationId !== 0 ? `its application id is ${applicationId}` : `it has tables (${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''}) and no deja mark`;
      throw new StoreError(
        `deja sqlite store: ${file} is a SQLite database of another program (${what}); expected a deja database or a new file. It was not changed`,
        file,
        'not-deja',
      );
    }
    checkVersion(file, version, migrations.length);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new StoreError(`deja sqlite store: ${file} could not be put in WAL mode (got journal_mode ${String(mode)})`, file, 'io');
    db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    if (options.maxPageCount !== undefined) db.pragma(`max_page_count = ${Math.floor(options.maxPageCount)}`);
    if (version < migrations.length) migrate(db, file, migrations);
    return db;
  } catch (err) {
    db.close();
    throw storeError(file, err, 'open');
  }
}

function checkVersion(file: string, version: number, known: number): void {
  if (version > known) {
    throw new StoreError(
      `deja sqlite store: ${file} was written by a newer deja (schema version ${version}; this deja reads versions up to ${known}). ` +
        'Upgrade deja to open it; the file was not changed',
      file,
      'newer',
    );
  }
}

/** Applies the missing migrations in one write transaction, after checking the version again under the lock. */
function migrate(db: BetterSqlite3.Database, file: string, migrations: readonly string[]): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    checkVersion(file, version, migrations.length);
    for (let v = version; v < migrations.length; v++) db.exec(migrations[v]);
    db.pragma(`application_id = ${DEJA_APPLICATION_ID}`);
    db.pragma(`user_version = ${migrations.length}`);
    db.exec('COMMIT');
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

/** Refuses a path deja cannot use as a database file, before SQLite touches it. */
function checkPath(file: string): void {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  const dir = path.dirname(file);
  if (stat?.isDirectory()) {
    throw new StoreError(`deja sqlite store: ${file} is a directory; expected the path of a database file (such as ${path.join(file, 'deja.db')})`, file, 'directory');
  }
  if (stat && !stat.isFile()) throw new StoreError(`deja sqlite store: ${file} is not a regular file; expected the path of a database file`, file, 'io');
  if (stat) {
    // A file without write permission is read-only for deja, even to a user (root) who could write it.
    if ((stat.mode & 0o222) === 0 || !accessible(file, fs.constants.W_OK)) {
      throw new StoreError(`deja sqlite store: ${file} is read-only (mode ${(stat.mode & 0o777).toString(8)}); deja needs to write its database. It was not changed`, file, 'read-only');
    }
  } else {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new StoreError(`deja sqlite store: cannot create the folder ${dir} for ${file}: ${(err as Error).message}`, file, 'io', { cause: err });
    }
  }
  const dirStat = fs.statSync(dir, { throwIfNoEntry: false });
  if (!dirStat?.isDirectory()) throw new StoreError(`deja sqlite store: the folder of ${file} is not a directory`, file, 'io');
  // WAL mode creates <file>-wal and <file>-shm beside the file.
  if ((dirStat.mode & 0o222) === 0 || !accessible(dir, fs.constants.W_OK)) {
    throw new StoreError(`deja sqlite store: the folder ${dir} is read-only; deja needs to create ${path.basename(file)}-wal and -shm beside ${file}`, file, 'read-only');
  }
}

function accessible(file: string, mode: number): boolean {
  try {
    fs.accessSync(file, mode);
    return true;
  } catch {
    return false;
  }
}

/**
 * A SQLite error as a StoreError naming the file (any other error as it is). `doing` says what
 * failed: `open`, or a store method's name.
 */
export function storeError(file: string, err: unknown, doing: string): unknown {
  if (err instanceof StoreError || !(err instanceof Error)) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return err;
  const at = doing === 'open' ? `opening ${file}` : `${doing} on ${file}`;
  if (code === 'SQLITE_NOTADB') {
    return new StoreError(`deja sqlite store: ${file} is not a SQLite database (SQLite: ${err.message}); expected a deja database or a new file. It was not changed`, file, 'not-deja', { cause: err });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(`deja sqlite store: ${file} is locked (busy): another connection held its write lock past the busy timeout while ${at}`, file, 'busy', { cause: err });
  }
  if (code === 'SQLITE_FULL') {
    return new StoreError(`deja sqlite store: ${file} is full (the disk, or the file's size cap) while ${at}; the transaction was rolled back, nothing of it was written. Free space and retry`, file, 'full', { cause: err });
  }
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM')) {
    return new StoreError(`deja sqlite store: cannot write ${file} while ${at} (SQLite: ${err.message}); expected a writable file in a writable folder`, file, 'read-only', { cause: err });
  }
  return new StoreError(`deja sqlite store: ${at} failed: ${err.message} (${code})`, file, 'io', { cause: err });
}
