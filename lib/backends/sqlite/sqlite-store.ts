/**
 * The SQLite Store (host side): one file, shared by any number of processes, on better-sqlite3
 * (synchronous calls) in WAL mode. Records are JSON text, so what the store returns is always a
 * fresh copy. Schema, version checks and pragmas: schema.ts. Cross-process wake-ups: change-feed.ts.
 *
 * Transactions. fn awaits between statements and the connection is shared by the whole process,
 * so transactions run one at a time per store (a promise-chain mutex), each inside BEGIN
 * IMMEDIATE … COMMIT (BEGIN, deferred, for a read-only one). BEGIN IMMEDIATE takes the file's
 * write lock up front, so a transaction never fails half-way for a lock another process holds:
 * it waits at BEGIN. That wait is SQLite's busy handler for a few milliseconds (it blocks the
 * thread), then an asynchronous back-off (the event loop keeps running) until `busyTimeoutMs` has
 * passed, then a StoreError `busy` naming the file. A busy error inside fn (a read-only one meeting
 * WAL recovery) rolls back and runs fn again, as the Store contract allows. A write method in a
 * read-only transaction is refused before it touches anything.
 *
 * Costs: every claim, due check and run deletion is one indexed lookup (schema.ts names each
 * query's index), O(log n) in the number of queued rows.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { DejaError, StoreError } from '../../errors';
import type { HistoryEvent } from '../../history/events';
import type { Payload } from '../../../runtime/protocol';
import type {
  ChangeFeed,
  HistoryStore,
  ListRunsOptions,
  QueryRecord,
  QueryStore,
  ScheduleStore,
  RunRecord,
  RunStore,
  Store,
  StoreTx,
  TaskKind,
  TaskRecord,
  TaskStore,
  TimerKind,
  TimerRecord,
  TimerStore,
  TransactionOptions,
} from '../store';
import { SqliteChangeFeed, type PollOptions } from './change-feed';
import { MIGRATIONS, openDatabase, storeError, type Synchronous } from './schema';
import { sqliteSchedules } from './schedules';
import { countByQuery, listByQuery, storedAttributes, VISIBILITY_COLUMNS, visibilityValues, writeAttributes } from './visibility';
import type { FilterExpr } from '../../visibility/ast';

export interface SqliteStoreOptions {
  /** How long a write transaction waits for another process's write lock, then fails (`busy`). Default 5000. */
  busyTimeoutMs?: number;
  /** `'normal'` (the default) or `'full'`: see schema.ts and the README's Backends section. */
  synchronous?: Synchronous;
  /** How the change feed polls for other processes' commits. */
  poll?: Partial<PollOptions>;
  /** Caps the file at this many pages; past it a write fails as on a full disk (tests of a full disk). */
  maxPageCount?: number;
}

const KNOWN_OPTIONS = ['busyTimeoutMs', 'synchronous', 'poll', 'maxPageCount'];

/** The part of busyTimeoutMs SQLite's own (thread-blocking) busy handler waits at each BEGIN. */
const SYNC_BUSY_MS = 20;
/** How many times a busy transaction runs fn before it gives up (each after a back-off). */
const MAX_BUSY_RUNS = 5;

const parse = <T>(text: string): T => JSON.parse(text) as T;
const json = (value: unknown): string => JSON.stringify(value);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const isBusy = (err: unknown) => err instanceof StoreError && err.reason === 'busy';

/** The prepared statements, made once per connection. */
function prepare(db: BetterSqlite3.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    runGet: p('SELECT record FROM runs WHERE run_id = ?').pluck(),
    runLatest: p('SELECT record FROM runs WHERE workflow_id = ? ORDER BY seq DESC LIMIT 1').pluck(),
    runExists: p('SELECT 1 FROM runs WHERE run_id = ?').pluck(),
    runInsert: p(
      `INSERT INTO runs (run_id, workflow_id, workflow_type, task_queue, status, start_time, record, ${VISIBILITY_COLUMNS.join(', ')}) VALUES (?, ?, ?, ?, ?, ?, ?, ${VISIBILITY_COLUMNS.map(() => '?').join(', ')})`,
    ),
    runUpdate: p(
      `UPDATE runs SET workflow_id = ?, workflow_type = ?, task_queue = ?, status = ?, start_time = ?, record = ?, ${VISIBILITY_COLUMNS.map((c) => `${c} = ?`).join(', ')} WHERE run_id = ?`,
    ),
    runKey: p('SELECT start_time, seq FROM runs WHERE run_id = ?'),

    historyLast: p('SELECT max(event_id) FROM history WHERE run_id = ?').pluck(),
    historyInsert: p('INSERT INTO history (run_id, event_id, event) VALUES (?, ?, ?)'),
    historyRead: p('SELECT event FROM history WHERE run_id = ? AND event_id > ? ORDER BY event_id').pluck(),

    taskGet: p('SELECT record FROM tasks WHERE task_id = ?').pluck(),
    taskPut: p(
      `INSERT INTO tasks (task_id, kind, task_queue, run_id, visible_at, lease_end, token, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (task_id) DO UPDATE SET kind = excluded.kind, task_queue = excluded.task_queue, run_id = excluded.run_id,
         visible_at = excluded.visible_at, lease_end = excluded.lease_end, token = excluded.token, record = excluded.record`,
    ),
    taskSetLease: p('UPDATE tasks SET lease_end = ?, token = ?, record = ? WHERE task_id = ?'),
    taskFirstClaimable: p(
      'SELECT task_id, record FROM tasks WHERE kind = ? AND task_queue = ? AND lease_end IS NULL AND visible_at <= ? ORDER BY visible_at, seq LIMIT 1',
    ),
    taskClaimable: p('SELECT 1 FROM tasks WHERE kind = ? AND task_queue = ? AND lease_end IS NULL AND visible_at <= ? ORDER BY visible_at, seq LIMIT 1').pluck(),
    taskByToken: p('SELECT record FROM tasks WHERE token = ? AND token IS NOT NULL').pluck(),
    taskExpired: p('SELECT task_id, record FROM tasks WHERE lease_end IS NOT NULL AND lease_end <= ? ORDER BY lease_end, seq LIMIT ?'),
    taskDelete: p('DELETE FROM tasks WHERE task_id = ?'),
    taskDeleteRun: p('DELETE FROM tasks WHERE run_id = ?'),
    taskOfRun: p('SELECT record FROM tasks WHERE run_id = ? ORDER BY seq').pluck(),
    taskNextLeaseEnd: p('SELECT min(lease_end) FROM tasks WHERE lease_end IS NOT NULL').pluck(),
    taskNextVisible: p('SELECT min(visible_at) FROM tasks WHERE lease_end IS NULL AND visible_at > ?').pluck(),

    timerPut: p(
      `INSERT INTO timers (run_id, kind, ref, fire_at, record) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (run_id, kind, ref) DO UPDATE SET fire_at = excluded.fire_at, record = excluded.record`,
    ),
    timerGet: p('SELECT record FROM timers WHERE run_id = ? AND kind = ? AND ref = ?').pluck(),
    timerDelete: p('DELETE FROM timers WHERE run_id = ? AND kind = ? AND ref = ?'),
    timerDue: p('SELECT seq, record FROM timers WHERE fire_at <= ? ORDER BY fire_at, seq LIMIT ?'),
    timerDeleteSeq: p('DELETE FROM timers WHERE seq = ?'),
    timerDeleteRun: p('DELETE FROM timers WHERE run_id = ?'),
    timerNext: p('SELECT min(fire_at) FROM timers').pluck(),

    queryInsert: p('INSERT INTO queries (query_id, task_queue, token, claimable, record) VALUES (?, ?, ?, ?, ?)'),
    queryUpdate: p('UPDATE queries SET task_queue = ?, token = ?, claimable = ?, record = ? WHERE query_id = ?'),
    queryGet: p('SELECT record FROM queries WHERE query_id = ?').pluck(),
    queryFirstClaimable: p('SELECT record FROM queries WHERE task_queue = ? AND claimable = 1 ORDER BY seq LIMIT 1').pluck(),
    queryByToken: p('SELECT record FROM queries WHERE token = ? AND token IS NOT NULL').pluck(),
    queryDelete: p('DELETE FROM queries WHERE query_id = ?'),
  };
}
type Statements = ReturnType<typeof prepare>;

/** Runs newest first, filtered: built per filter set, and cached. */
function listStatement(db: BetterSqlite3.Database, cache: Map<string, BetterSqlite3.Statement>, filters: string[], after: boolean) {
  const key = `${filters.join(',')}|${after}`;
  let statement = cache.get(key);
  if (!statement) {
    const where = [...filters.map((f) => `${f} = ?`), ...(after ? ['(start_time, seq) < (?, ?)'] : [])];
    statement = db.prepare(`SELECT record FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY start_time DESC, seq DESC LIMIT ?`).pluck();
    cache.set(key, statement);
  }
  return statement;
}

const queryClaimable = (query: QueryRecord) => (query.token === undefined && query.answer === undefined && query.blocked !== true ? 1 : 0);

class SqliteTx implements StoreTx {
  readonly runs: RunStore;
  readonly history: HistoryStore;
  readonly tasks: TaskStore;
  readonly timers: TimerStore;
  readonly queries: QueryStore;
  readonly schedules: ScheduleStore;
  /** Set when the transaction settles: a leaked tx must not run statements outside it. */
  done = false;

  constructor(file: string, db: BetterSqlite3.Database, listCache: Map<string, BetterSqlite3.Statement>, s: Statements, readOnly: boolean) {
    const live =
      <A extends unknown[], R>(name: string, f: (...args: A) => R) =>
      async (...args: A): Promise<Awaited<R>> => {
        if (this.done) throw new DejaError('DEJA_INTERNAL', `deja sqlite store: ${name} on a transaction that has ended`);
        try {
          return f(...args) as Awaited<R>;
        } catch (err) {
          throw storeError(file, err, name);
        }
      };
    /** A write method: refused in a read-only transaction, before it changes anything. */
    const write = <A extends unknown[], R>(name: string, f: (...args: A) => R) =>
      live(name, (...args: A): R => {
        if (readOnly) throw new DejaError('DEJA_INTERNAL', `deja sqlite store: ${name} is a write, refused in a read-only transaction`);
        return f(...args);
      });
    const optional = <T>(text: unknown): T | undefined => (text === undefined || text === null ? undefined : parse<T>(text as string));

    this.schedules = sqliteSchedules(db, live, write);
    this.runs = {
      count: live('runs.count', (where?: FilterExpr) => countByQuery(db, where)),
      get: live('runs.get', (runId: string) => optional<RunRecord>(s.runGet.get(runId))),
      latest: live('runs.latest', (workflowId: string) => optional<RunRecord>(s.runLatest.get(workflowId))),
      insert: write('runs.insert', (run: RunRecord) => {
        if (s.runExists.get(run.runId) !== undefined) throw new DejaError('DEJA_INTERNAL', `deja sqlite store: run ${run.runId} exists`);
        s.runInsert.run(run.runId, run.workflowId, run.workflowType, run.taskQueue, run.status, run.startTime, json(run), ...visibilityValues(run));
        writeAttributes(db, run, undefined);
      }),
      update: write('runs.update', (run: RunRecord) => {
        const before = storedAttributes(db, run.runId);
        const { changes } = s.runUpdate.run(run.workflowId, run.workflowType, run.taskQueue, run.status, run.startTime, json(run), ...visibilityValues(run), run.runId);
        if (changes === 0) throw new DejaError('DEJA_INTERNAL', `deja sqlite store: no run ${run.runId} to update`);
        writeAttributes(db, run, before);
      }),
      list: live('runs.list', (options: ListRunsOptions) => {
        if (options.query !== undefined) return listByQuery(db, options, options.query);
        const filters: string[] = [];
        const params: unknown[] = [];
        for (const [column, value] of [
          ['workflow_id', options.workflowId],
          ['workflow_type', options.workflowType],
          ['task_queue', options.taskQueue],
          ['status', options.status],
        ] as const) {
          if (value !== undefined) {
            filters.push(column);
            params.push(value);
          }
        }
        if (options.afterRunId !== undefined) {
          const key = s.runKey.get(options.afterRunId) as { start_time: number; seq: number } | undefined;
          if (key === undefined) return [];
          params.push(key.start_time, key.seq);
        }
        const statement = listStatement(db, listCache, filters, options.afterRunId !== undefined);
        return (statement.all(...params, options.limit) as string[]).map((text) => parse<RunRecord>(text));
      }),
    };

    this.history = {
      append: write('history.append', (runId: string, events: HistoryEvent[]) => {
        if (s.runExists.get(runId) === undefined) throw new DejaError('DEJA_INTERNAL', `deja sqlite store: no run ${runId} to append to`);
        const last = (s.historyLast.get(runId) as number | null) ?? 0;
        events.forEach((e, i) => {
          if (e.eventId !== last + 1 + i) {
            throw new DejaError('DEJA_INTERNAL', `deja sqlite store: run ${runId} expected event id ${last + 1 + i}, got ${e.eventId}`);
          }
        });
        for (const e of events) s.historyInsert.run(runId, e.eventId, json(e));
      }),
      read: live('history.read', (runId: string, afterEventId = 0) => {
        const rows = s.historyRead.all(runId, afterEventId) as string[];
        return rows.length === 0 ? [] : parse<HistoryEvent[]>(`[${rows.join(',')}]`);
      }),
    };

    const putTask = (task: TaskRecord) =>
      s.taskPut.run(task.taskId, task.kind, task.taskQueue, task.runId, task.visibleAt, task.lease?.expiresAt ?? null, task.lease?.token ?? null, json(task));

    this.tasks = {
      put: write('tasks.put', (task: TaskRecord) => void putTask(task)),
      get: live('tasks.get', (taskId: string) => optional<TaskRecord>(s.taskGet.get(taskId))),
      claim: write('tasks.claim', (kind: TaskKind, taskQueue: string, identity: string, token: string, now: number) => {
        const row = s.taskFirstClaimable.get(kind, taskQueue, now) as { task_id: string; record: string } | undefined;
        if (row === undefined) return undefined;
        const task = parse<TaskRecord>(row.record);
        task.lease = { token, identity, claimedAt: now, expiresAt: now + task.leaseMs };
        s.taskSetLease.run(task.lease.expiresAt, token, json(task), row.task_id);
        return task;
      }),
      claimable: live('tasks.claimable', (kind: TaskKind, taskQueue: string, now: number) => s.taskClaimable.get(kind, taskQueue, now) !== undefined),
      setHeartbeat: write('tasks.setHeartbeat', (taskId: string, heartbeat: { details?: Payload; expiresAt: number }) => {
        const task = optional<TaskRecord>(s.taskGet.get(taskId));
        if (task?.kind !== 'activity' || !task.lease) throw new DejaError('DEJA_INTERNAL', `deja sqlite store: no leased activity task ${taskId} to heartbeat`);
        task.lease.expiresAt = heartbeat.expiresAt;
        if (heartbeat.details !== undefined) task.activity.heartbeatDetails = heartbeat.details;
        s.taskSetLease.run(heartbeat.expiresAt, task.lease.token, json(task), taskId);
      }),
      byToken: live('tasks.byToken', (token: string) => optional<TaskRecord>(s.taskByToken.get(token))),
      expireLeases: write('tasks.expireLeases', (now: number, limit: number) => {
        const rows = s.taskExpired.all(now, limit) as { task_id: string; record: string }[];
        return rows.map((row) => {
          const released = parse<TaskRecord>(row.record);
          delete released.lease;
          s.taskSetLease.run(null, null, json(released), row.task_id);
          return parse<TaskRecord>(row.record);
        });
      }),
      delete: write('tasks.delete', (taskId: string) => void s.taskDelete.run(taskId)),
      deleteRun: write('tasks.deleteRun', (runId: string) => void s.taskDeleteRun.run(runId)),
      // tasks_run index.
      ofRun: live('tasks.ofRun', (runId: string) => (s.taskOfRun.all(runId) as string[]).map((record) => parse<TaskRecord>(record))),
      nextDueAt: live('tasks.nextDueAt', (now: number) => {
        const leaseEnd = (s.taskNextLeaseEnd.get() as number | null) ?? undefined;
        const visible = (s.taskNextVisible.get(now) as number | null) ?? undefined;
        if (leaseEnd === undefined) return visible;
        return visible === undefined ? leaseEnd : Math.min(leaseEnd, visible);
      }),
    };

    this.timers = {
      put: write('timers.put', (timer: TimerRecord) => void s.timerPut.run(timer.runId, timer.kind, timer.ref, timer.fireAt, json(timer))),
      get: live('timers.get', (runId: string, kind: TimerKind, ref: number) => optional<TimerRecord>(s.timerGet.get(runId, kind, ref))),
      delete: write('timers.delete', (runId: string, kind: TimerKind, ref: number) => void s.timerDelete.run(runId, kind, ref)),
      takeDue: write('timers.takeDue', (now: number, limit: number) => {
        const rows = s.timerDue.all(now, limit) as { seq: number; record: string }[];
        for (const row of rows) s.timerDeleteSeq.run(row.seq);
        return rows.map((row) => parse<TimerRecord>(row.record));
      }),
      deleteRun: write('timers.deleteRun', (runId: string) => void s.timerDeleteRun.run(runId)),
      nextFireAt: live('timers.nextFireAt', () => (s.timerNext.get() as number | null) ?? undefined),
    };

    const storeQuery = (query: QueryRecord, insert: boolean) => {
      const args = [query.taskQueue, query.token ?? null, queryClaimable(query), json(query)];
      if (insert) {
        if (s.queryGet.get(query.queryId) !== undefined) throw new DejaError('DEJA_INTERNAL', `deja sqlite store: query ${query.queryId} exists`);
        s.queryInsert.run(query.queryId, ...args);
      } else if (s.queryUpdate.run(...args, query.queryId).changes === 0) {
        throw new DejaError('DEJA_INTERNAL', `deja sqlite store: no query ${query.queryId} to update`);
      }
    };

    this.queries = {
      insert: write('queries.insert', (query: QueryRecord) => storeQuery(query, true)),
      get: live('queries.get', (queryId: string) => optional<QueryRecord>(s.queryGet.get(queryId))),
      claimable: live('queries.claimable', (taskQueue: string) => s.queryFirstClaimable.get(taskQueue) !== undefined),
      claim: write('queries.claim', (taskQueue: string, token: string) => {
        const text = s.queryFirstClaimable.get(taskQueue) as string | undefined;
        if (text === undefined) return undefined;
        const claimed = { ...parse<QueryRecord>(text), token };
        storeQuery(claimed, false);
        return claimed;
      }),
      byToken: live('queries.byToken', (token: string) => optional<QueryRecord>(s.queryByToken.get(token))),
      update: write('queries.update', (query: QueryRecord) => storeQuery(query, false)),
      delete: write('queries.delete', (queryId: string) => void s.queryDelete.run(queryId)),
    };
  }
}

export class SqliteStore implements Store {
  /** The absolute path of the database file. */
  readonly file: string;
  readonly changes: ChangeFeed;
  private readonly db: BetterSqlite3.Database;
  /** runs.list's statements, per filter set. */
  private readonly listCache = new Map<string, BetterSqlite3.Statement>();
  private readonly statements: Statements;
  private readonly busyTimeoutMs: number;
  private readonly feed: SqliteChangeFeed;
  /** Settles when the transaction last queued has; the next one starts after it. */
  private lock: Promise<unknown> = Promise.resolve();
  private closed = false;

  /**
   * Opens (creating it when missing, with its folder) the deja database at `file`, an absolute
   * path. Throws a StoreError naming the file when it cannot be used; see schema.ts.
   */
  constructor(file: string, options: SqliteStoreOptions = {}, migrations: readonly string[] = MIGRATIONS) {
    for (const key of Object.keys(options)) {
      if (!KNOWN_OPTIONS.includes(key)) throw new DejaError('DEJA_INVALID_ARGUMENT', `SqliteStore: unknown option "${key}"; expected one of: ${KNOWN_OPTIONS.join(', ')}`);
    }
    this.file = file;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.db = openDatabase(file, { busyTimeoutMs: this.busyTimeoutMs, synchronous: options.synchronous ?? 'normal', maxPageCount: options.maxPageCount }, migrations);
    // From here on SQLite's own busy handler waits only briefly; the rest of the wait is asynchronous.
    this.db.pragma(`busy_timeout = ${Math.min(SYNC_BUSY_MS, this.busyTimeoutMs)}`);
    this.statements = prepare(this.db);
    this.feed = new SqliteChangeFeed(this.db, options.poll);
    this.changes = this.feed;
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError(`deja sqlite store: ${this.file} is closed`, this.file, 'closed'));
    const result = this.lock.then(() => this.run(fn, options.readOnly === true));
    this.lock = result.catch(() => {});
    return result;
  }

  private async run<T>(fn: (tx: StoreTx) => Promise<T>, readOnly: boolean): Promise<T> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (let runs = 1; ; runs++) {
      await this.begin(readOnly, deadline);
      const tx = new SqliteTx(this.file, this.db, this.listCache, this.statements, readOnly);
      try {
        const result = await fn(tx);
        tx.done = true;
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        tx.done = true;
        this.rollback();
        const error = storeError(this.file, err, 'commit');
        if (isBusy(error) && runs < MAX_BUSY_RUNS && Date.now() < deadline) {
          await sleep(backoff(runs));
          continue;
        }
        throw error;
      }
    }
  }

  /** BEGIN, waiting (asynchronously) for another process's write lock until the deadline. */
  private async begin(readOnly: boolean, deadline: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        this.db.exec(readOnly ? 'BEGIN' : 'BEGIN IMMEDIATE');
        return;
      } catch (err) {
        const error = storeError(this.file, err, readOnly ? 'a read-only transaction' : 'a write transaction');
        if (!isBusy(error) || Date.now() >= deadline) {
          if (isBusy(error)) {
            throw new StoreError(
              `deja sqlite store: ${this.file} is locked (busy): another connection held its write lock for more than ${this.busyTimeoutMs} ms (busyTimeoutMs). ` +
                'Is a process stuck in a transaction on this file?',
              this.file,
              'busy',
              { cause: err },
            );
          }
          throw error;
        }
        await sleep(Math.min(backoff(attempt), Math.max(1, deadline - Date.now())));
      }
    }
  }

  private rollback(): void {
    try {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
    } catch {
      // SQLite already rolled back (after SQLITE_FULL, an I/O error): nothing of the transaction remains.
    }
  }

  async close(): Promise<void> {
    if (this.closed) return this.lock.then(() => undefined);
    this.closed = true;
    await this.lock;
    this.feed.stop();
    this.db.close();
  }
}

/** 1, 2, 4 … 50 ms, with jitter so that waiting processes do not retry in step. */
function backoff(attempt: number): number {
  const base = Math.min(50, 2 ** Math.min(attempt - 1, 6));
  return base / 2 + Math.random() * base;
}
