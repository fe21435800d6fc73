/**
 * The PostgreSQL Store (host side): one database shared by workers on any number of machines, on
 * `pg` with a connection pool. Schema, its mark and migrations: schema.ts. Wake-ups across
 * processes: change-feed.ts (LISTEN/NOTIFY). List filters as SQL: filter.ts.
 *
 * Transactions. Each runs on one pooled connection, at READ COMMITTED, with the locks the Store
 * contract asks for: a read inside a write transaction locks what it returns (SELECT … FOR
 * UPDATE), so a read-modify-write never loses another's write; `runs.latest` also takes a
 * transaction-level advisory lock on the workflow id, so that two transactions that look a
 * workflow id up (to start it, say) take turns even when no row exists yet; claims and due work
 * take rows with FOR UPDATE SKIP LOCKED, so they never wait for and never take a row another
 * transaction holds; the (run_id, event_id) key refuses a second writer of one event id. A
 * read-only transaction is REPEATABLE READ READ ONLY (one consistent snapshot, no row locks).
 *
 * Retries. A serialization failure, a deadlock (PostgreSQL aborts one of the two), or a lost
 * connection rolls the transaction back and runs fn again on a fresh connection (the contract
 * allows it), with a jittered back-off, until `retryForMs` has passed; then a StoreError says why.
 * A connection lost during COMMIT leaves its outcome unknown: the transaction's id (taken at BEGIN)
 * is looked up with `txid_status` once the server answers again, so a commit that landed is
 * never run twice and one that did not is never reported as done.
 *
 * Time. `clock` is the database server's clock, sampled (at open, then every `clockSyncMs`) as
 * an offset from this machine's; the wiring gives it to the service. Workers on machines whose
 * clocks disagree by seconds then still agree on when a timer is due and a lease ends (a lease
 * set by one machine is judged by another), and the event times they write are on one clock.
 */
import { DejaError, StoreError } from '../../errors';
import type { HistoryEvent } from '../../history/events';
import type { Payload } from '../../../runtime/protocol';
import type { FilterExpr } from '../../visibility/ast';
import type {
  ChangeFeed,
  HistoryStore,
  ListRunsOptions,
  QueryRecord,
  QueryStore,
  RunRecord,
  RunStore,
  ScheduleRecord,
  ScheduleStore,
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
import type * as PG from 'pg';
import { PostgresChangeFeed, type FeedOptions } from './change-feed';
import { afterSql, orderBySql, orderKeys, Params, searchAttributesJson, whereSql } from './filter';
import { ident, migrate, MIGRATIONS } from './schema';

export interface PostgresStoreOptions {
  /** The PostgreSQL schema deja keeps its tables in. Default 'deja' (or the URL's `?schema=`). */
  schema?: string;
  /** Connections in the pool (besides the one that listens). Default 10. */
  poolSize?: number;
  /** How long a transaction keeps trying when the server is unreachable or connections drop. Default 10 000. */
  retryForMs?: number;
  /** How long one connection attempt may take. Default 5000. */
  connectTimeoutMs?: number;
  /** How often the database clock's offset is sampled again. Default 30 000. */
  clockSyncMs?: number;
  /** The change feed's fallback polling and reconnection. */
  feed?: Partial<FeedOptions>;
}

const KNOWN_OPTIONS = ['schema', 'poolSize', 'retryForMs', 'connectTimeoutMs', 'clockSyncMs', 'feed'];

/** The pg module, loaded when a PostgreSQL store is first opened. */
type Driver = typeof PG;
let driver: Driver | undefined;
function loadDriver(): Driver {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  driver ??= require('pg') as Driver;
  return driver;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** 5, 10, 20 … 500 ms, with jitter so that retrying workers do not move in step. */
const backoff = (attempt: number) => {
  const base = Math.min(500, 5 * 2 ** Math.min(attempt - 1, 7));
  return base / 2 + Math.random() * base;
};

/** The URL without its password, for messages. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

/** A lost or refused connection, or a server shutting down or starting: worth another try. */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (CONNECTION_CODES.has(code) || code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return true;
  }
  return /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Client was closed/i.test(err.message);
}

/** A conflict PostgreSQL resolved by aborting this transaction: run it again. */
const isConflict = (err: unknown) => err instanceof Error && ['40001', '40P01'].includes(String((err as { code?: unknown }).code));

const json = (value: unknown): string => JSON.stringify(value);
const parse = <T>(text: string): T => JSON.parse(text) as T;

interface TaskRow {
  seq: number;
  record: string;
  heartbeat: string | null;
  token: string | null;
  lease_identity: string | null;
  claimed_at: number | null;
  lease_end: number | null;
}
const TASK_COLUMNS = 'seq, record, heartbeat, token, lease_identity, claimed_at, lease_end';

function taskFrom(row: TaskRow): TaskRecord {
  const task = parse<TaskRecord>(row.record);
  if (row.heartbeat !== null && task.kind === 'activity') task.activity.heartbeatDetails = parse<Payload>(row.heartbeat);
  if (row.token !== null) task.lease = { token: row.token, identity: row.lease_identity!, claimedAt: Number(row.claimed_at), expiresAt: Number(row.lease_end) };
  return task;
}

/** A task's columns: the record without lease and heartbeat details, and those apart. */
function taskColumns(task: TaskRecord): unknown[] {
  const { lease, ...rest } = task;
  let heartbeat: string | null = null;
  if (rest.kind === 'activity' && rest.activity.heartbeatDetails !== undefined) {
    heartbeat = json(rest.activity.heartbeatDetails);
    const { heartbeatDetails: _, ...activity } = rest.activity;
    (rest as { activity: unknown }).activity = activity;
  }
  return [task.taskId, task.kind, task.taskQueue, task.runId, task.visibleAt, task.leaseMs, lease?.expiresAt ?? null, lease?.token ?? null, lease?.identity ?? null, lease?.claimedAt ?? null, heartbeat, json(rest)];
}

function runColumns(run: RunRecord): unknown[] {
  return [
    run.runId,
    run.workflowId,
    run.workflowType,
    run.taskQueue,
    run.status,
    run.startTime,
    run.closeTime ?? null,
    run.executionTime ?? run.startTime,
    run.nextEventId - 1,
    run.parent?.workflowId ?? null,
    run.firstExecutionRunId ?? run.runId,
    searchAttributesJson(run.searchAttributes),
    json(run),
  ];
}

const queryClaimable = (query: QueryRecord) => query.token === undefined && query.answer === undefined && query.blocked !== true;

/** The SQL of the store's fixed statements, for one schema. */
function statements(S: string) {
  return {
    runGet: `SELECT record FROM ${S}.runs WHERE run_id = $1`,
    runLatest: `SELECT record FROM ${S}.runs WHERE workflow_id = $1 ORDER BY seq DESC LIMIT 1`,
    workflowLock: `SELECT pg_advisory_xact_lock(hashtextextended($1::text, 7))`,
    runInsert: `INSERT INTO ${S}.runs (run_id, workflow_id, workflow_type, task_queue, status, start_time, close_time, execution_time, history_length, parent_workflow_id, first_execution_run_id, search_attributes, record)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13) ON CONFLICT (run_id) DO NOTHING`,
    runUpdate: `UPDATE ${S}.runs SET workflow_id = $2, workflow_type = $3, task_queue = $4, status = $5, start_time = $6, close_time = $7, execution_time = $8,
      history_length = $9, parent_workflow_id = $10, first_execution_run_id = $11, search_attributes = $12::jsonb, record = $13 WHERE run_id = $1`,

    historyAppend: `INSERT INTO ${S}.history (run_id, event_id, event) SELECT $1, e.id, e.ev FROM unnest($2::bigint[], $3::text[]) AS e(id, ev)
      WHERE EXISTS (SELECT 1 FROM ${S}.runs WHERE run_id = $1) AND (SELECT coalesce(max(event_id), 0) FROM ${S}.history WHERE run_id = $1) = $4`,
    historyLast: `SELECT (SELECT 1 FROM ${S}.runs WHERE run_id = $1) AS run, (SELECT coalesce(max(event_id), 0) FROM ${S}.history WHERE run_id = $1) AS last`,
    historyRead: `SELECT event FROM ${S}.history WHERE run_id = $1 AND event_id > $2 ORDER BY event_id`,

    taskPut: `INSERT INTO ${S}.tasks (task_id, kind, task_queue, run_id, visible_at, lease_ms, lease_end, token, lease_identity, claimed_at, heartbeat, record)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
      ON CONFLICT (task_id) DO UPDATE SET kind = excluded.kind, task_queue = excluded.task_queue, run_id = excluded.run_id, visible_at = excluded.visible_at,
        lease_ms = excluded.lease_ms, lease_end = excluded.lease_end, token = excluded.token, lease_identity = excluded.lease_identity,
        claimed_at = excluded.claimed_at, heartbeat = excluded.heartbeat, record = excluded.record`,
    taskGet: `SELECT ${TASK_COLUMNS} FROM ${S}.tasks WHERE task_id = $1`,
    taskClaim: `UPDATE ${S}.tasks SET lease_end = $3::bigint + lease_ms, token = $4, lease_identity = $5, claimed_at = $3
      WHERE seq = (SELECT seq FROM ${S}.tasks WHERE kind = $1 AND task_queue = $2 AND lease_end IS NULL AND visible_at <= $3
        ORDER BY visible_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING ${TASK_COLUMNS}`,
    taskClaimable: `SELECT 1 FROM ${S}.tasks WHERE kind = $1 AND task_queue = $2 AND lease_end IS NULL AND visible_at <= $3 LIMIT 1`,
    taskHeartbeat: `UPDATE ${S}.tasks SET lease_end = $2, heartbeat = coalesce($3, heartbeat) WHERE task_id = $1 AND kind = 'activity' AND lease_end IS NOT NULL`,
    taskByToken: `SELECT ${TASK_COLUMNS} FROM ${S}.tasks WHERE token = $1`,
    taskExpire: `WITH due AS (SELECT ${TASK_COLUMNS} FROM ${S}.tasks WHERE lease_end IS NOT NULL AND lease_end <= $1 ORDER BY lease_end, seq LIMIT $2 FOR UPDATE SKIP LOCKED)
      UPDATE ${S}.tasks t SET lease_end = NULL, token = NULL, lease_identity = NULL, claimed_at = NULL FROM due WHERE t.seq = due.seq
      RETURNING due.seq, due.record, due.heartbeat, due.token, due.lease_identity, due.claimed_at, due.lease_end`,
    taskDelete: `DELETE FROM ${S}.tasks WHERE task_id = $1`,
    taskDeleteRun: `DELETE FROM ${S}.tasks WHERE run_id = $1`,
    taskOfRun: `SELECT ${TASK_COLUMNS} FROM ${S}.tasks WHERE run_id = $1 ORDER BY seq`,
    taskNextDue: `SELECT LEAST((SELECT min(lease_end) FROM ${S}.tasks WHERE lease_end IS NOT NULL),
      (SELECT min(visible_at) FROM ${S}.tasks WHERE lease_end IS NULL AND visible_at > $1)) AS at`,

    timerPut: `INSERT INTO ${S}.timers (run_id, kind, ref, fire_at, record) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (run_id, kind, ref) DO UPDATE SET fire_at = excluded.fire_at, record = excluded.record`,
    timerGet: `SELECT record FROM ${S}.timers WHERE run_id = $1 AND kind = $2 AND ref = $3`,
    timerDelete: `DELETE FROM ${S}.timers WHERE run_id = $1 AND kind = $2 AND ref = $3`,
    timerTakeDue: `DELETE FROM ${S}.timers t USING (SELECT seq FROM ${S}.timers WHERE fire_at <= $1 ORDER BY fire_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED) due
      WHERE t.seq = due.seq RETURNING t.seq, t.fire_at, t.record`,
    timerDeleteRun: `DELETE FROM ${S}.timers WHERE run_id = $1`,
    timerNext: `SELECT min(fire_at) AS at FROM ${S}.timers`,

    queryInsert: `INSERT INTO ${S}.queries (query_id, task_queue, token, claimable, record) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (query_id) DO NOTHING`,
    queryUpdate: `UPDATE ${S}.queries SET task_queue = $2, token = $3, claimable = $4, record = $5 WHERE query_id = $1`,
    queryGet: `SELECT record FROM ${S}.queries WHERE query_id = $1`,
    queryClaimable: `SELECT 1 FROM ${S}.queries WHERE task_queue = $1 AND claimable LIMIT 1`,
    queryFirst: `SELECT record FROM ${S}.queries WHERE task_queue = $1 AND claimable ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED`,
    queryByToken: `SELECT record FROM ${S}.queries WHERE token = $1`,
    queryDelete: `DELETE FROM ${S}.queries WHERE query_id = $1`,

    scheduleGet: `SELECT record FROM ${S}.schedules WHERE schedule_id = $1`,
    scheduleInsert: `INSERT INTO ${S}.schedules (schedule_id, record) VALUES ($1, $2) ON CONFLICT (schedule_id) DO NOTHING`,
    scheduleUpdate: `UPDATE ${S}.schedules SET record = $2 WHERE schedule_id = $1`,
    scheduleDelete: `DELETE FROM ${S}.schedules WHERE schedule_id = $1`,
    scheduleList: `SELECT record FROM ${S}.schedules WHERE ($2::text IS NULL OR schedule_id > $2::text) ORDER BY schedule_id LIMIT $1`,
  };
}
type Statements = ReturnType<typeof statements>;
type StatementName = keyof Statements;

class PostgresTx implements StoreTx {
  readonly runs: RunStore;
  readonly history: HistoryStore;
  readonly tasks: TaskStore;
  readonly timers: TimerStore;
  readonly queries: QueryStore;
  readonly schedules: ScheduleStore;
  /** Set when the transaction settles: a leaked tx must not run statements outside it. */
  done = false;
  /** The first database error inside fn: the transaction is aborted, whatever fn did with it. */
  failure: unknown;
  /** Settles once every statement fn issued has (fn may have left one unawaited). */
  readonly idle: () => Promise<unknown>;

  constructor(client: PG.PoolClient, S: string, sql: Statements, names: Record<StatementName, string>, readOnly: boolean) {
    const lock = readOnly ? '' : ' FOR UPDATE';
    // One statement at a time on the connection, in the order fn issued them (fn may start several
    // reads at once; pg would queue them itself, but that use is deprecated).
    let queue: Promise<unknown> = Promise.resolve();
    const run = (what: string, config: PG.QueryConfig): Promise<PG.QueryResult> => {
      const next = queue.then(async () => {
        if (this.done) throw new DejaError('DEJA_INTERNAL', `deja postgres store: ${what} on a transaction that has ended`);
        if (this.failure !== undefined) throw this.failure;
        try {
          return await client.query(config);
        } catch (err) {
          this.failure = err;
          throw err;
        }
      });
      queue = next.catch(() => undefined);
      return next;
    };
    this.idle = () => queue;
    /** A fixed statement, prepared once per connection; `suffix` (a row lock) makes it another one. */
    const q = (name: StatementName, values: unknown[], suffix = '') =>
      run(name, suffix ? { name: `${names[name]}l`, text: sql[name] + suffix, values } : { name: names[name], text: sql[name], values });
    const live = <A extends unknown[], R>(name: string, f: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
      if (this.done) throw new DejaError('DEJA_INTERNAL', `deja postgres store: ${name} on a transaction that has ended`);
      return f(...args);
    };
    const write = <A extends unknown[], R>(name: string, f: (...args: A) => Promise<R>) =>
      live(name, async (...args: A): Promise<R> => {
        if (readOnly) throw new DejaError('DEJA_INTERNAL', `deja postgres store: ${name} is a write, refused in a read-only transaction`);
        return f(...args);
      });
    const one = <T>(result: PG.QueryResult, column = 'record'): T | undefined => (result.rows.length === 0 ? undefined : parse<T>(result.rows[0][column] as string));

    this.runs = {
      get: live('runs.get', async (runId: string) => one<RunRecord>(await q('runGet', [runId], lock))),
      latest: live('runs.latest', async (workflowId: string) => {
        // Turns with every other writer that looks this workflow id up, even while no run exists.
        if (!readOnly) await q('workflowLock', [workflowId]);
        return one<RunRecord>(await q('runLatest', [workflowId], lock));
      }),
      insert: write('runs.insert', async (record: RunRecord) => {
        if ((await q('runInsert', runColumns(record))).rowCount === 0) throw new DejaError('DEJA_INTERNAL', `deja postgres store: run ${record.runId} exists`);
      }),
      update: write('runs.update', async (record: RunRecord) => {
        if ((await q('runUpdate', runColumns(record))).rowCount === 0) throw new DejaError('DEJA_INTERNAL', `deja postgres store: no run ${record.runId} to update`);
      }),
      list: live('runs.list', async (options: ListRunsOptions) => {
        const p = new Params();
        const keys = orderKeys(options.query, p);
        const where: string[] = [];
        if (options.afterRunId !== undefined) {
          const anchorParams = [...p.values, options.afterRunId];
          const anchor = await run('runs.list', { text: `SELECT ${keys.map((k, i) => `${k.sql} AS k${i}`).join(', ')} FROM ${S}.runs WHERE run_id = $${anchorParams.length}`, values: anchorParams, rowMode: 'array' } as PG.QueryConfig);
          if (anchor.rows.length === 0) return [];
          where.push(afterSql(keys, anchor.rows[0] as unknown[], p));
        }
        for (const [column, value] of [
          ['workflow_id', options.workflowId],
          ['workflow_type', options.workflowType],
          ['task_queue', options.taskQueue],
          ['status', options.status],
        ] as const) {
          if (value !== undefined) where.push(`${column} = ${p.add(value)}::text`);
        }
        if (options.query?.where) where.push(whereSql(options.query.where, p));
        const text = `SELECT record FROM ${S}.runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${orderBySql(keys)} LIMIT ${p.add(options.limit)}::bigint`;
        const result = await run('runs.list', { text, values: p.values });
        return result.rows.map((row: { record: string }) => parse<RunRecord>(row.record));
      }),
      count: live('runs.count', async (filter?: FilterExpr) => {
        const p = new Params();
        const text = `SELECT count(*) AS n FROM ${S}.runs${filter ? ` WHERE ${whereSql(filter, p)}` : ''}`;
        return Number((await run('runs.count', { text, values: p.values })).rows[0].n);
      }),
    };

    this.history = {
      append: write('history.append', async (runId: string, events: HistoryEvent[]) => {
        if (events.length === 0) return;
        const first = events[0].eventId;
        const consecutive = events.every((e, i) => e.eventId === first + i);
        if (consecutive) {
          const result = await q('historyAppend', [runId, events.map((e) => e.eventId), events.map((e) => json(e)), first - 1]);
          if (result.rowCount === events.length) return;
        }
        const row = (await q('historyLast', [runId])).rows[0] as { run: number | null; last: number };
        if (row.run === null) throw new DejaError('DEJA_INTERNAL', `deja postgres store: no run ${runId} to append to`);
        const bad = events.findIndex((e, i) => e.eventId !== Number(row.last) + 1 + i);
        throw new DejaError('DEJA_INTERNAL', `deja postgres store: run ${runId} expected event id ${Number(row.last) + 1 + Math.max(bad, 0)}, got ${events[Math.max(bad, 0)].eventId}`);
      }),
      read: live('history.read', async (runId: string, afterEventId = 0) => {
        const rows = (await q('historyRead', [runId, afterEventId])).rows as { event: string }[];
        return rows.length === 0 ? [] : parse<HistoryEvent[]>(`[${rows.map((r) => r.event).join(',')}]`);
      }),
    };

    const taskOne = (result: PG.QueryResult) => (result.rows.length === 0 ? undefined : taskFrom(result.rows[0] as TaskRow));
    this.tasks = {
      put: write('tasks.put', async (task: TaskRecord) => void (await q('taskPut', taskColumns(task)))),
      get: live('tasks.get', async (taskId: string) => taskOne(await q('taskGet', [taskId], lock))),
      claim: write('tasks.claim', async (kind: TaskKind, taskQueue: string, identity: string, token: string, now: number) => taskOne(await q('taskClaim', [kind, taskQueue, now, token, identity]))),
      claimable: live('tasks.claimable', async (kind: TaskKind, taskQueue: string, now: number) => (await q('taskClaimable', [kind, taskQueue, now])).rows.length > 0),
      setHeartbeat: write('tasks.setHeartbeat', async (taskId: string, heartbeat: { details?: Payload; expiresAt: number }) => {
        const result = await q('taskHeartbeat', [taskId, heartbeat.expiresAt, heartbeat.details === undefined ? null : json(heartbeat.details)]);
        if (result.rowCount === 0) throw new DejaError('DEJA_INTERNAL', `deja postgres store: no leased activity task ${taskId} to heartbeat`);
      }),
      byToken: live('tasks.byToken', async (token: string) => taskOne(await q('taskByToken', [token], lock))),
      expireLeases: write('tasks.expireLeases', async (now: number, limit: number) => {
        const rows = (await q('taskExpire', [now, limit])).rows as TaskRow[];
        rows.sort((a, b) => Number(a.lease_end) - Number(b.lease_end) || Number(a.seq) - Number(b.seq));
        return rows.map(taskFrom);
      }),
      delete: write('tasks.delete', async (taskId: string) => void (await q('taskDelete', [taskId]))),
      deleteRun: write('tasks.deleteRun', async (runId: string) => void (await q('taskDeleteRun', [runId]))),
      ofRun: live('tasks.ofRun', async (runId: string) => ((await q('taskOfRun', [runId], lock)).rows as TaskRow[]).map(taskFrom)),
      nextDueAt: live('tasks.nextDueAt', async (now: number) => {
        const at = (await q('taskNextDue', [now])).rows[0].at as number | null;
        return at === null ? undefined : Number(at);
      }),
    };

    this.timers = {
      put: write('timers.put', async (timer: TimerRecord) => void (await q('timerPut', [timer.runId, timer.kind, timer.ref, timer.fireAt, json(timer)]))),
      get: live('timers.get', async (runId: string, kind: TimerKind, ref: number) => one<TimerRecord>(await q('timerGet', [runId, kind, ref], lock))),
      delete: write('timers.delete', async (runId: string, kind: TimerKind, ref: number) => void (await q('timerDelete', [runId, kind, ref]))),
      takeDue: write('timers.takeDue', async (now: number, limit: number) => {
        const rows = (await q('timerTakeDue', [now, limit])).rows as { seq: number; fire_at: number; record: string }[];
        rows.sort((a, b) => Number(a.fire_at) - Number(b.fire_at) || Number(a.seq) - Number(b.seq));
        return rows.map((row) => parse<TimerRecord>(row.record));
      }),
      deleteRun: write('timers.deleteRun', async (runId: string) => void (await q('timerDeleteRun', [runId]))),
      nextFireAt: live('timers.nextFireAt', async () => {
        const at = (await q('timerNext', [])).rows[0].at as number | null;
        return at === null ? undefined : Number(at);
      }),
    };

    const queryColumns = (query: QueryRecord) => [query.queryId, query.taskQueue, query.token ?? null, queryClaimable(query), json(query)];
    this.queries = {
      insert: write('queries.insert', async (query: QueryRecord) => {
        if ((await q('queryInsert', queryColumns(query))).rowCount === 0) throw new DejaError('DEJA_INTERNAL', `deja postgres store: query ${query.queryId} exists`);
      }),
      get: live('queries.get', async (queryId: string) => one<QueryRecord>(await q('queryGet', [queryId], lock))),
      claimable: live('queries.claimable', async (taskQueue: string) => (await q('queryClaimable', [taskQueue])).rows.length > 0),
      claim: write('queries.claim', async (taskQueue: string, token: string) => {
        const first = one<QueryRecord>(await q('queryFirst', [taskQueue]));
        if (first === undefined) return undefined;
        const claimed = { ...first, token };
        await q('queryUpdate', queryColumns(claimed));
        return claimed;
      }),
      byToken: live('queries.byToken', async (token: string) => one<QueryRecord>(await q('queryByToken', [token], lock))),
      update: write('queries.update', async (query: QueryRecord) => {
        if ((await q('queryUpdate', queryColumns(query))).rowCount === 0) throw new DejaError('DEJA_INTERNAL', `deja postgres store: no query ${query.queryId} to update`);
      }),
      delete: write('queries.delete', async (queryId: string) => void (await q('queryDelete', [queryId]))),
    };

    this.schedules = {
      get: live('schedules.get', async (scheduleId: string) => one<ScheduleRecord>(await q('scheduleGet', [scheduleId], lock))),
      insert: write('schedules.insert', async (schedule: ScheduleRecord) => {
        if ((await q('scheduleInsert', [schedule.scheduleId, json(schedule)])).rowCount === 0) throw new DejaError('DEJA_INTERNAL', `deja postgres store: schedule ${schedule.scheduleId} exists`);
      }),
      update: write('schedules.update', async (schedule: ScheduleRecord) => {
        if ((await q('scheduleUpdate', [schedule.scheduleId, json(schedule)])).rowCount === 0) throw new DejaError('DEJA_INTERNAL', `deja postgres store: no schedule ${schedule.scheduleId} to update`);
      }),
      delete: write('schedules.delete', async (scheduleId: string) => void (await q('scheduleDelete', [scheduleId]))),
      list: live('schedules.list', async (options: { limit: number; afterScheduleId?: string }) =>
        ((await q('scheduleList', [options.limit, options.afterScheduleId ?? null])).rows as { record: string }[]).map((row) => parse<ScheduleRecord>(row.record)),
      ),
    };
  }
}

/** The engine's Clock, structurally (a backend does not import the engine). */
export interface DatabaseClock {
  now(): number;
}

export class PostgresStore implements Store {
  /** The server's URL without its password. */
  readonly url: string;
  readonly schema: string;
  readonly changes: ChangeFeed;
  /** The database server's clock (see the header): give it to the service. */
  readonly clock: DatabaseClock;
  private readonly pool: PG.Pool;
  private readonly feed: PostgresChangeFeed;
  private readonly sql: Statements;
  private readonly names: Record<StatementName, string>;
  private readonly retryForMs: number;
  private readonly clockSyncMs: number;
  private readonly migrations: readonly string[];
  /** Settles once the schema is checked and migrated; reset after a failure worth retrying. */
  private ready: Promise<void> | undefined;
  /** The schema version found when the store was opened (0: none); set by open(). */
  private foundVersion: number | undefined;
  private offsetMs = 0;
  private synced = false;
  private lastNow = 0;
  private clockTimer: NodeJS.Timeout | undefined;
  private readonly running = new Set<Promise<unknown>>();
  private closed = false;

  /**
   * A store on the PostgreSQL server at `url` (postgres://user:password@host:port/database; a
   * `?schema=` parameter names the schema). Connects lazily: the first transaction connects,
   * checks the schema's mark and migrates it; a server that cannot be reached makes that
   * transaction (after `retryForMs`) reject with a StoreError `unavailable` naming the URL.
   */
  constructor(url: string, options: PostgresStoreOptions = {}, migrations: readonly string[] = MIGRATIONS) {
    for (const key of Object.keys(options)) {
      if (!KNOWN_OPTIONS.includes(key)) throw new DejaError('DEJA_INVALID_ARGUMENT', `PostgresStore: unknown option "${key}"; expected one of: ${KNOWN_OPTIONS.join(', ')}`);
    }
    const { connectionString, schema } = parseUrl(url);
    this.url = safeUrl(connectionString);
    this.schema = options.schema ?? schema ?? 'deja';
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(this.schema)) {
      throw new DejaError('DEJA_INVALID_ARGUMENT', `PostgresStore: schema ${JSON.stringify(this.schema)} is not a plain identifier; expected letters, digits and _ (at most 63, not starting with a digit)`);
    }
    const poolSize = options.poolSize ?? 10;
    for (const [name, value, min] of [['poolSize', poolSize, 1], ['retryForMs', options.retryForMs, 0], ['connectTimeoutMs', options.connectTimeoutMs, 1], ['clockSyncMs', options.clockSyncMs, 100]] as const) {
      if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) throw new DejaError('DEJA_INVALID_ARGUMENT', `PostgresStore: ${name} must be an integer ≥ ${min}, got ${String(value)}`);
    }
    this.retryForMs = options.retryForMs ?? 10_000;
    this.clockSyncMs = options.clockSyncMs ?? 30_000;
    this.migrations = migrations;
    const pg = loadDriver();
    // bigint columns come back as numbers: every one deja keeps (ms, counts, ids) is below 2^53.
    const types = { getTypeParser: ((oid: number, format?: string) => (oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser };
    const config: PG.PoolConfig = {
      connectionString,
      max: poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      keepAlive: true,
      application_name: 'deja',
      types,
    };
    this.pool = new pg.Pool(config);
    // An idle connection the server closed: the pool drops it; the next transaction gets another.
    this.pool.on('error', () => undefined);
    this.sql = statements(ident(this.schema));
    const prefix = `deja${MIGRATIONS.length}_`;
    this.names = Object.fromEntries(Object.keys(this.sql).map((k) => [k, prefix + k])) as Record<StatementName, string>;
    this.feed = new PostgresChangeFeed(
      `deja_changes_${this.schema}`.slice(0, 63),
      (extra) => new pg.Client({ ...config, ...extra }),
      (channel, payload) => this.pool.query('SELECT pg_notify($1, $2)', [channel, payload]),
      options.feed,
    );
    this.changes = this.feed;
    // Never backwards once synced (a later sample may move the offset back by a few ms: the clock
    // waits that out). Before the first sample (the store not opened yet) it is the local clock,
    // unclamped, so that an early reading cannot hold the server's clock back.
    this.clock = { now: () => (this.synced ? (this.lastNow = Math.max(this.lastNow, Date.now() + this.offsetMs)) : Date.now()) };
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (this.closed) return Promise.reject(new StoreError(`deja postgres store: ${this.url} is closed`, this.url, 'closed'));
    const result = this.run(fn, options.readOnly === true);
    this.running.add(result);
    const done = () => this.running.delete(result);
    result.then(done, done);
    return result;
  }

  /** Connects, checks and migrates the schema (once; again after a failure worth retrying). */
  open(): Promise<void> {
    this.ready ??= this.connect().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  /** Opens the store (connects, checks the mark, migrates): the schema version found, and the one it has now. */
  async migrate(): Promise<{ from: number; to: number }> {
    await this.open();
    return { from: this.foundVersion ?? this.migrations.length, to: this.migrations.length };
  }

  private async connect(): Promise<void> {
    const deadline = Date.now() + this.retryForMs;
    for (let attempt = 1; ; attempt++) {
      let client: PG.PoolClient | undefined;
      try {
        client = await this.pool.connect();
        client.on('error', () => undefined);
        this.foundVersion = await migrate(client, `${this.url} (schema ${this.schema})`, this.schema, this.migrations);
        await this.syncClock(client);
        client.release();
        break;
      } catch (err) {
        client?.release(true);
        if (isConnectionError(err) && Date.now() < deadline && !this.closed) {
          await sleep(Math.min(backoff(attempt + 3), Math.max(1, deadline - Date.now())));
          continue;
        }
        throw this.storeError(err, 'opening the store');
      }
    }
    clearInterval(this.clockTimer);
    this.clockTimer = setInterval(() => {
      this.pool
        .connect()
        .then(async (client) => {
          client.on('error', () => undefined);
          try {
            await this.syncClock(client);
            client.release();
          } catch (err) {
            client.release(err as Error);
          }
        })
        .catch(() => undefined);
    }, this.clockSyncMs);
    this.clockTimer.unref();
  }

  /** Samples the server's clock: offset = server time − the midpoint of the local round trip. */
  private async syncClock(client: PG.PoolClient): Promise<void> {
    const before = Date.now();
    const row = (await client.query('SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now')).rows[0] as { now: number };
    const after = Date.now();
    this.offsetMs = Math.round(Number(row.now) - (before + after) / 2);
    this.synced = true;
  }

  private async run<T>(fn: (tx: StoreTx) => Promise<T>, readOnly: boolean): Promise<T> {
    await this.open();
    const deadline = Date.now() + this.retryForMs;
    let lastError: unknown;
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) {
        if (Date.now() >= deadline || this.closed) throw this.storeError(lastError, 'a transaction', true);
        await sleep(Math.min(backoff(attempt), Math.max(1, deadline - Date.now())));
      }
      let client: PG.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        if (isConnectionError(err)) {
          lastError = err;
          continue;
        }
        throw this.storeError(err, 'connecting');
      }
      let lost: unknown;
      const onError = (err: unknown) => (lost ??= err);
      client.on('error', onError);
      let tx: PostgresTx | undefined;
      let xid: string | undefined;
      let committing = false;
      let result: T | undefined;
      try {
        if (readOnly) await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        else {
          const begun = (await client.query('BEGIN; SELECT txid_current()::text AS xid')) as unknown as PG.QueryResult[];
          xid = begun[1].rows[0].xid as string;
        }
        tx = new PostgresTx(client, ident(this.schema), this.sql, this.names, readOnly);
        result = await fn(tx);
        await tx.idle();
        tx.done = true;
        if (tx.failure !== undefined) throw tx.failure;
        committing = true;
        const commit = await client.query('COMMIT');
        if (commit.command === 'ROLLBACK') throw new StoreError(`deja postgres store: ${this.url}: the transaction was rolled back at COMMIT`, this.url, 'io');
        client.off('error', onError);
        client.release();
        return result;
      } catch (err) {
        if (tx) tx.done = true;
        const cause = tx?.failure ?? err;
        const broken = lost !== undefined || isConnectionError(cause) || isConnectionError(err);
        if (!broken) await client.query('ROLLBACK').catch(() => undefined);
        client.off('error', onError);
        client.on('error', () => undefined);
        client.release(broken ? true : undefined);
        if (broken && committing && xid !== undefined) {
          // The COMMIT was sent and its answer lost: ask the server what became of it.
          if ((await this.outcome(xid, deadline)) === 'committed') return result as T;
        }
        if (broken || isConflict(cause)) {
          lastError = lost ?? cause;
          continue;
        }
        // fn's own error goes out as it is; a database error (a statement's, BEGIN's, COMMIT's) names the server.
        throw tx !== undefined && !committing && err !== tx.failure ? err : this.storeError(err, 'a transaction');
      }
    }
  }

  /** What became of transaction `xid`: 'committed', 'aborted', or (the server not answering before the deadline) throws. */
  private async outcome(xid: string, deadline: number): Promise<'committed' | 'aborted'> {
    for (let attempt = 1; ; attempt++) {
      try {
        const status = (await this.pool.query('SELECT txid_status($1::bigint) AS s', [xid])).rows[0].s as string | null;
        if (status === 'committed') return 'committed';
        if (status !== 'in progress') return 'aborted';
      } catch (err) {
        if (!isConnectionError(err) || Date.now() >= deadline) {
          throw new StoreError(`deja postgres store: ${this.url}: the connection was lost during COMMIT and the server did not answer since, so whether the transaction committed is unknown`, this.url, 'unavailable', { cause: err });
        }
      }
      await sleep(backoff(attempt + 2));
    }
  }

  /** An error as a StoreError naming the server (DejaErrors as they are). */
  private storeError(err: unknown, doing: string, retried = false): unknown {
    if (err instanceof DejaError || !(err instanceof Error)) return err;
    const code = String((err as { code?: unknown }).code ?? '');
    const detail = `${err.message}${code ? ` (${code})` : ''}`;
    if (isConnectionError(err)) {
      return new StoreError(
        `deja postgres store: cannot reach the PostgreSQL server at ${this.url} while ${doing}: ${detail}; ` +
          `is it running and reachable, and is the URL right? ${retried ? `Kept trying for ${this.retryForMs} ms (retryForMs)` : ''}`.trim(),
        this.url,
        'unavailable',
        { cause: err },
      );
    }
    if (code === '28P01' || code === '28000') {
      return new StoreError(`deja postgres store: ${this.url} refused the login: ${detail}; expected a user and password it accepts in the URL`, this.url, 'unavailable', { cause: err });
    }
    if (code === '3D000') {
      return new StoreError(`deja postgres store: ${this.url}: ${detail}; create the database (createdb) or name an existing one in the URL`, this.url, 'unavailable', { cause: err });
    }
    if (code === '53100') return new StoreError(`deja postgres store: ${this.url} is out of disk space while ${doing}: ${detail}; nothing of the transaction was written`, this.url, 'full', { cause: err });
    if (code === '42501') return new StoreError(`deja postgres store: ${this.url}: permission denied while ${doing}: ${detail}; deja's user needs to create and write its schema ${this.schema}`, this.url, 'read-only', { cause: err });
    return new StoreError(`deja postgres store: ${this.url}: ${doing} failed: ${detail}`, this.url, 'io', { cause: err });
  }

  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      clearInterval(this.clockTimer);
    }
    await Promise.allSettled([...this.running]);
    await this.feed.stop();
    await this.pool.end().catch(() => undefined);
  }
}

/** Checks a postgres:// URL and takes deja's own `schema` parameter out of it. */
export function parseUrl(url: string): { connectionString: string; schema?: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DejaError('DEJA_INVALID_ARGUMENT', `deja postgres store: ${JSON.stringify(safeUrl(url))} is not a valid URL; expected postgres://user:password@host:port/database`);
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new DejaError('DEJA_INVALID_ARGUMENT', `deja postgres store: ${JSON.stringify(safeUrl(url))} is not a postgres:// URL; expected postgres://user:password@host:port/database`);
  }
  if (!u.hostname) throw new DejaError('DEJA_INVALID_ARGUMENT', `deja postgres store: ${JSON.stringify(safeUrl(url))} names no host; expected postgres://user:password@host:port/database`);
  const schema = u.searchParams.get('schema') ?? undefined;
  u.searchParams.delete('schema');
  return { connectionString: u.toString(), schema };
}
