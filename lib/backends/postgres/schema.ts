/**
 * The PostgreSQL schema and how a database is opened (host side). deja keeps its tables in one
 * PostgreSQL schema (`deja` unless told otherwise), marked by the table `deja_schema`: one row
 * with the application name ('deja') and the schema version. Opening checks the mark before
 * anything is written: a schema that has tables but no mark (another program's) is refused, one
 * from a newer deja is refused, never changed. An older or new one is migrated forward in one
 * transaction (DDL is transactional in PostgreSQL: all of it lands, or nothing), under a
 * transaction-level advisory lock, so that many workers starting at once migrate it once.
 *
 * Records are JSON text (the `record` columns, `text` rather than `jsonb`: any JSON string,
 * `\u0000` included, round-trips byte for byte, and nothing is parsed on the server). Beside each
 * record sit the plain columns its indexes need; a task's lease and heartbeat details live in
 * columns of their own so that a claim or a heartbeat is one UPDATE. Every query the store makes
 * has its index (named after the query); `seq`, a bigserial kept when a row is replaced, is the
 * first-insertion order that breaks ties as the memory store's does.
 */
import type { PoolClient } from 'pg';
import { StoreError } from '../../errors';

/** `MIGRATIONS[i]` takes a schema from version i to i + 1. Append only; never edit one. Unqualified names: run with the schema as search_path. */
export const MIGRATIONS: readonly string[] = [
  // 0 → 1: the first schema.
  `
  CREATE TABLE runs (
    seq bigserial PRIMARY KEY,
    run_id text NOT NULL UNIQUE,
    workflow_id text NOT NULL,
    workflow_type text NOT NULL,
    task_queue text NOT NULL,
    status text NOT NULL,
    start_time bigint NOT NULL,
    close_time bigint,
    execution_time bigint NOT NULL,
    history_length bigint NOT NULL,
    parent_workflow_id text,
    first_execution_run_id text NOT NULL,
    -- The run's search attributes (as RunRecord.searchAttributes), for list filters.
    search_attributes jsonb,
    record text NOT NULL
  );
  -- runs.latest: the last inserted run of a workflow id (and list filters on the workflow id).
  CREATE INDEX runs_latest ON runs (workflow_id, seq);
  -- runs.list: newest start first, then the later inserted; and the same per status, type and queue.
  CREATE INDEX runs_list ON runs (start_time, seq);
  CREATE INDEX runs_list_status ON runs (status, start_time, seq);
  CREATE INDEX runs_list_type ON runs (workflow_type, start_time, seq);
  CREATE INDEX runs_list_queue ON runs (task_queue, start_time, seq);
  -- list filters on the other system fields, and on custom search attributes (containment).
  CREATE INDEX runs_close_time ON runs (close_time);
  CREATE INDEX runs_execution_time ON runs (execution_time);
  CREATE INDEX runs_parent ON runs (parent_workflow_id) WHERE parent_workflow_id IS NOT NULL;
  CREATE INDEX runs_first_run ON runs (first_execution_run_id);
  CREATE INDEX runs_search_attributes ON runs USING gin (search_attributes jsonb_path_ops);

  -- history.append and history.read: one run's events by id.
  CREATE TABLE history (
    run_id text NOT NULL,
    event_id bigint NOT NULL,
    event text NOT NULL,
    PRIMARY KEY (run_id, event_id)
  );

  CREATE TABLE tasks (
    seq bigserial PRIMARY KEY,
    task_id text NOT NULL UNIQUE,
    kind text NOT NULL,
    task_queue text NOT NULL,
    run_id text NOT NULL,
    visible_at bigint NOT NULL,
    lease_ms bigint NOT NULL,
    -- The lease while claimed (all four NULL while not).
    lease_end bigint,
    token text,
    lease_identity text,
    claimed_at bigint,
    -- An activity's heartbeat details (JSON text), when it has any.
    heartbeat text,
    -- The record without its lease and heartbeat details.
    record text NOT NULL
  );
  -- tasks.claim and tasks.claimable: a queue's unleased tasks, earliest visible first.
  CREATE INDEX tasks_claim ON tasks (kind, task_queue, visible_at, seq) WHERE lease_end IS NULL;
  -- tasks.nextDueAt: the next unleased task to become visible.
  CREATE INDEX tasks_visible ON tasks (visible_at) WHERE lease_end IS NULL;
  -- tasks.expireLeases and tasks.nextDueAt: leases by their end.
  CREATE INDEX tasks_lease ON tasks (lease_end, seq) WHERE lease_end IS NOT NULL;
  -- tasks.byToken.
  CREATE INDEX tasks_token ON tasks (token) WHERE token IS NOT NULL;
  -- tasks.deleteRun and tasks.ofRun.
  CREATE INDEX tasks_run ON tasks (run_id, seq);

  CREATE TABLE timers (
    seq bigserial PRIMARY KEY,
    run_id text NOT NULL,
    kind text NOT NULL,
    ref bigint NOT NULL,
    fire_at bigint NOT NULL,
    record text NOT NULL,
    -- timers.get, put, delete, and deleteRun (its prefix).
    UNIQUE (run_id, kind, ref)
  );
  -- timers.takeDue and timers.nextFireAt.
  CREATE INDEX timers_due ON timers (fire_at, seq);

  CREATE TABLE queries (
    seq bigserial PRIMARY KEY,
    query_id text NOT NULL UNIQUE,
    task_queue text NOT NULL,
    token text,
    -- true when it has no token, no answer and is not blocked.
    claimable boolean NOT NULL,
    record text NOT NULL
  );
  -- queries.claim and queries.claimable: a queue's claimable queries, first inserted first.
  CREATE INDEX queries_claim ON queries (task_queue, seq) WHERE claimable;
  -- queries.byToken.
  CREATE INDEX queries_token ON queries (token) WHERE token IS NOT NULL;

  -- schedules.list pages by id (byte order, as JavaScript compares ASCII ids).
  CREATE TABLE schedules (
    schedule_id text COLLATE "C" PRIMARY KEY,
    record text NOT NULL
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** The application name in `deja_schema`: the mark of a deja schema. */
export const DEJA_APPLICATION = 'deja';

/** A quoted SQL identifier. */
export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** A 64-bit key for the advisory lock that serializes migrations of one schema (as a decimal string). */
function migrationLockKey(schema: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(`deja-migrate:${schema}`)) h = BigInt.asIntN(64, (h ^ BigInt(byte)) * 0x100000001b3n);
  return h.toString();
}

/**
 * Checks the schema's mark and migrates it forward, on `client` (a connection of the store's pool).
 * Throws a StoreError naming `where` (the URL without password and the schema) for a schema of
 * another program or of a newer deja, having changed nothing. Returns the version found before.
 */
export async function migrate(client: PoolClient, where: string, schema: string, migrations: readonly string[] = MIGRATIONS): Promise<number> {
  const S = ident(schema);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [migrationLockKey(schema)]);
    const exists = (await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount! > 0;
    let version = 0;
    if (exists) {
      const marked = (await client.query('SELECT to_regclass($1) AS t', [`${S}.deja_schema`])).rows[0].t !== null;
      if (marked) {
        const row = (await client.query(`SELECT application, version FROM ${S}.deja_schema`)).rows[0] as { application: string; version: number } | undefined;
        if (row?.application !== DEJA_APPLICATION) {
          throw new StoreError(`deja postgres store: ${where}: the schema ${S} belongs to another program (its deja_schema table names ${JSON.stringify(row?.application ?? null)}); expected a deja schema or none. It was not changed`, where, 'not-deja');
        }
        version = row.version;
      } else {
        const tables = (await client.query(`SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename LIMIT 6`, [schema])).rows.map((r: { tablename: string }) => r.tablename);
        if (tables.length > 0) {
          throw new StoreError(
            `deja postgres store: ${where}: the schema ${S} holds another program's tables (${tables.slice(0, 5).join(', ')}${tables.length > 5 ? ', …' : ''}) and no deja mark; ` +
              'expected a deja schema or an empty one. It was not changed; give deja a schema of its own (?schema=<name> in the URL)',
            where,
            'not-deja',
          );
        }
      }
      if (version > migrations.length) {
        throw new StoreError(
          `deja postgres store: ${where} was written by a newer deja (schema version ${version}; this deja reads versions up to ${migrations.length}). Upgrade deja to use it; it was not changed`,
          where,
          'newer',
        );
      }
    } else {
      await client.query(`CREATE SCHEMA ${S}`);
    }
    if (version < migrations.length) {
      await client.query(`SET LOCAL search_path TO ${S}`);
      if (version === 0) await client.query(`CREATE TABLE deja_schema (application text NOT NULL, version integer NOT NULL)`);
      for (let v = version; v < migrations.length; v++) await client.query(migrations[v]);
      await client.query('DELETE FROM deja_schema');
      await client.query('INSERT INTO deja_schema (application, version) VALUES ($1, $2)', [DEJA_APPLICATION, migrations.length]);
    }
    await client.query('COMMIT');
    return version;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
