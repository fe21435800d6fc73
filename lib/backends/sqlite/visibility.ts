/**
 * The list filter on SQLite (host side): the columns and the table that index what a filter can
 * use, kept in step with runs.insert and runs.update, and the translation of a parsed filter
 * (lib/visibility/ast.ts) to SQL with the semantics of lib/visibility/evaluate.ts (the reference;
 * the conformance suite checks both agree on random filters).
 *
 * - System attributes are columns of `runs` (schema.ts, migration 1 → 2): start_time, close_time,
 *   execution_time (the start when absent), history_length, parent_workflow_id,
 *   first_execution_run_id (the run's own id when absent), besides the first schema's ones.
 * - Custom attributes are rows of `run_search_attributes`: one per value (one per element of a
 *   KEYWORD_LIST), its number in `num` (INT, DOUBLE, BOOL as 0/1, DATETIME as ms) or its text in
 *   `str`, indexed by (name, num) and (name, str). A predicate on one becomes
 *   `run_id IN (SELECT run_id FROM run_search_attributes WHERE name = ? AND …)`, which SQLite
 *   answers from those indexes. `runs.search_attributes` keeps the JSON the rows were written
 *   from, so an update that did not change the attributes does not rewrite them.
 * - Every predicate is two-valued (no NULL escapes a comparison), so NOT means what it means in
 *   evaluate.ts.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { ListRunsOptions, RunRecord } from '../store';
import type { Field, FilterExpr, FilterValue, ListQuery, SystemField } from '../../visibility/ast';
import { attributeCells } from '../../visibility/evaluate';
import { parseTime } from '../../visibility/parse';

/** Migration 1 → 2: the columns, the table and their indexes, filled from the stored records. */
export const VISIBILITY_MIGRATION = `
  ALTER TABLE runs ADD COLUMN close_time INTEGER;
  ALTER TABLE runs ADD COLUMN execution_time INTEGER;
  ALTER TABLE runs ADD COLUMN history_length INTEGER;
  ALTER TABLE runs ADD COLUMN parent_workflow_id TEXT;
  ALTER TABLE runs ADD COLUMN first_execution_run_id TEXT;
  -- The JSON of the record's searchAttributes that run_search_attributes was written from.
  ALTER TABLE runs ADD COLUMN search_attributes TEXT;
  UPDATE runs SET
    close_time = json_extract(record, '$.closeTime'),
    execution_time = coalesce(json_extract(record, '$.executionTime'), start_time),
    history_length = json_extract(record, '$.nextEventId') - 1,
    parent_workflow_id = json_extract(record, '$.parent.workflowId'),
    first_execution_run_id = coalesce(json_extract(record, '$.firstExecutionRunId'), run_id),
    search_attributes = json_extract(record, '$.searchAttributes');
  -- runs.list and runs.count with a filter on a system attribute.
  CREATE INDEX runs_workflow_type ON runs (workflow_type, start_time, seq);
  CREATE INDEX runs_task_queue ON runs (task_queue, start_time, seq);
  CREATE INDEX runs_close_time ON runs (close_time);
  CREATE INDEX runs_execution_time ON runs (execution_time);
  CREATE INDEX runs_history_length ON runs (history_length);
  CREATE INDEX runs_parent_workflow_id ON runs (parent_workflow_id);
  CREATE INDEX runs_first_execution_run_id ON runs (first_execution_run_id);

  CREATE TABLE run_search_attributes (
    run_id TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    -- INT, DOUBLE, BOOL (0/1), DATETIME (ms since the epoch); NULL for text.
    num,
    -- KEYWORD, TEXT, one element of a KEYWORD_LIST; NULL for numbers.
    str TEXT
  );
  -- A filter on a custom attribute: by name and value.
  CREATE INDEX run_search_attributes_num ON run_search_attributes (name, num);
  CREATE INDEX run_search_attributes_str ON run_search_attributes (name, str);
  -- Rewriting one run's rows, and ORDER BY a custom attribute.
  CREATE INDEX run_search_attributes_run ON run_search_attributes (run_id, name);
  INSERT INTO run_search_attributes (run_id, name, type, num, str)
    SELECT r.run_id, a.key, json_extract(a.value, '$.type'),
      CASE json_extract(a.value, '$.type')
        WHEN 'DATETIME' THEN CAST(round((julianday(json_extract(a.value, '$.value')) - 2440587.5) * 86400000) AS INTEGER)
        WHEN 'INT' THEN json_extract(a.value, '$.value')
        WHEN 'DOUBLE' THEN json_extract(a.value, '$.value')
        WHEN 'BOOL' THEN json_extract(a.value, '$.value')
      END,
      CASE WHEN json_extract(a.value, '$.type') IN ('KEYWORD', 'TEXT') THEN json_extract(a.value, '$.value') END
    FROM runs r, json_each(r.record, '$.searchAttributes') a
    WHERE json_extract(a.value, '$.type') != 'KEYWORD_LIST';
  INSERT INTO run_search_attributes (run_id, name, type, num, str)
    SELECT r.run_id, a.key, 'KEYWORD_LIST', NULL, e.value
    FROM runs r, json_each(r.record, '$.searchAttributes') a, json_each(a.value, '$.value') e
    WHERE json_extract(a.value, '$.type') = 'KEYWORD_LIST';
`;

/** The system attributes' columns. */
const COLUMN: Record<SystemField, { sql: string; nullable: boolean }> = {
  workflowId: { sql: 'workflow_id', nullable: false },
  runId: { sql: 'run_id', nullable: false },
  workflowType: { sql: 'workflow_type', nullable: false },
  taskQueue: { sql: 'task_queue', nullable: false },
  status: { sql: 'status', nullable: false },
  startTime: { sql: 'start_time', nullable: false },
  closeTime: { sql: 'close_time', nullable: true },
  executionTime: { sql: 'execution_time', nullable: false },
  historyLength: { sql: 'history_length', nullable: false },
  parentWorkflowId: { sql: 'parent_workflow_id', nullable: true },
  firstExecutionRunId: { sql: 'first_execution_run_id', nullable: false },
};

/** The values of the visibility columns of a run, in the order of VISIBILITY_COLUMNS. */
export const VISIBILITY_COLUMNS = ['close_time', 'execution_time', 'history_length', 'parent_workflow_id', 'first_execution_run_id', 'search_attributes'];
export function visibilityValues(run: RunRecord): unknown[] {
  return [
    run.closeTime ?? null,
    run.executionTime ?? run.startTime,
    run.nextEventId - 1,
    run.parent?.workflowId ?? null,
    run.firstExecutionRunId ?? run.runId,
    attributesJson(run),
  ];
}

function attributesJson(run: RunRecord): string | null {
  return run.searchAttributes === undefined ? null : JSON.stringify(run.searchAttributes);
}

type SqlPart = { sql: string; params: unknown[] };

interface Prepared {
  attrsOf: BetterSqlite3.Statement;
  attrsDelete: BetterSqlite3.Statement;
  attrInsert: BetterSqlite3.Statement;
  cache: Map<string, BetterSqlite3.Statement>;
}

const prepared = new WeakMap<BetterSqlite3.Database, Prepared>();
const MAX_CACHED = 256;

function statements(db: BetterSqlite3.Database): Prepared {
  let p = prepared.get(db);
  if (!p) {
    p = {
      attrsOf: db.prepare('SELECT search_attributes FROM runs WHERE run_id = ?').pluck(),
      attrsDelete: db.prepare('DELETE FROM run_search_attributes WHERE run_id = ?'),
      attrInsert: db.prepare('INSERT INTO run_search_attributes (run_id, name, type, num, str) VALUES (?, ?, ?, ?, ?)'),
      cache: new Map(),
    };
    prepared.set(db, p);
  }
  return p;
}

function statement(db: BetterSqlite3.Database, sql: string): BetterSqlite3.Statement {
  const p = statements(db);
  let s = p.cache.get(sql);
  if (!s) {
    if (p.cache.size >= MAX_CACHED) p.cache.clear();
    s = db.prepare(sql);
    p.cache.set(sql, s);
  }
  return s;
}

/** The search attributes as they were before this write (call before the runs row changes); undefined: no row. */
export function storedAttributes(db: BetterSqlite3.Database, runId: string): string | null | undefined {
  return statements(db).attrsOf.get(runId) as string | null | undefined;
}

/** Rewrites a run's rows of run_search_attributes when its attributes changed since `before`. */
export function writeAttributes(db: BetterSqlite3.Database, run: RunRecord, before: string | null | undefined): void {
  const now = attributesJson(run);
  if (before === now) return;
  const p = statements(db);
  if (before !== undefined && before !== null) p.attrsDelete.run(run.runId);
  for (const [name, value] of Object.entries(run.searchAttributes ?? {})) {
    for (const cell of attributeCells(value)) p.attrInsert.run(run.runId, name, value.type, cell.num ?? null, cell.str ?? null);
  }
}

// ── translation ───────────────────────────────────────────────────────────────────────────────

type Cmp = '=' | '>' | '>=' | '<' | '<=';

/** A custom value's condition on one row of run_search_attributes (`a`), for a literal. */
function cellCondition(op: Cmp, value: FilterValue): SqlPart {
  if (typeof value === 'string') {
    const at = parseTime(value);
    if (at === undefined) return { sql: `str ${op} ?`, params: [value] };
    return { sql: `(str ${op} ? OR (type = 'DATETIME' AND num ${op} ?))`, params: [value, at] };
  }
  if (typeof value === 'number') return { sql: `(type IN ('INT', 'DOUBLE') AND num ${op} ?)`, params: [value] };
  return { sql: `(type = 'BOOL' AND num ${op} ?)`, params: [value ? 1 : 0] };
}

/** A custom value among literals: one IN per kind of literal (a flat OR of 1000 terms is too deep for SQLite). */
function inCondition(values: FilterValue[]): SqlPart {
  const strings = values.filter((v): v is string => typeof v === 'string');
  const times = strings.map(parseTime).filter((v): v is number => v !== undefined);
  const numbers = values.filter((v): v is number => typeof v === 'number');
  const bools = values.filter((v): v is boolean => typeof v === 'boolean').map((v) => (v ? 1 : 0));
  const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');
  const parts: SqlPart[] = [];
  if (strings.length) parts.push({ sql: `str IN (${marks(strings.length)})`, params: strings });
  if (times.length) parts.push({ sql: `(type = 'DATETIME' AND num IN (${marks(times.length)}))`, params: times });
  if (numbers.length) parts.push({ sql: `(type IN ('INT', 'DOUBLE') AND num IN (${marks(numbers.length)}))`, params: numbers });
  if (bools.length) parts.push({ sql: `(type = 'BOOL' AND num IN (${marks(bools.length)}))`, params: bools });
  return or(parts);
}

/** `run_id IN (rows of the attribute where cond)`. */
function customHas(field: Extract<Field, { kind: 'custom' }>, cond?: SqlPart): SqlPart {
  const typed = field.type === undefined ? '' : ' AND type = ?';
  const params: unknown[] = [field.name, ...(field.type === undefined ? [] : [field.type])];
  // A DATETIME the record holds but Date.parse could not read has no row (evaluate.ts: no cell).
  return {
    sql: `run_id IN (SELECT run_id FROM run_search_attributes WHERE name = ?${typed}${cond ? ` AND ${cond.sql}` : ''})`,
    params: [...params, ...(cond?.params ?? [])],
  };
}

function or(parts: SqlPart[]): SqlPart {
  return { sql: `(${parts.map((p) => p.sql).join(' OR ')})`, params: parts.flatMap((p) => p.params) };
}

function and(parts: SqlPart[]): SqlPart {
  return { sql: `(${parts.map((p) => p.sql).join(' AND ')})`, params: parts.flatMap((p) => p.params) };
}

function not(p: SqlPart): SqlPart {
  return { sql: `NOT ${p.sql}`, params: p.params };
}

/** The positive form of an atom, and the "has a value" condition its negations need. */
function atom(e: Exclude<FilterExpr, { op: 'and' | 'or' | 'not' }>): { positive: SqlPart; present: SqlPart } {
  const field = e.field;
  if (field.kind === 'custom') {
    const present = customHas(field);
    const has = (cond: SqlPart) => customHas(field, cond);
    switch (e.op) {
      case 'in':
        return { positive: has(inCondition(e.values)), present };
      case 'between':
        return { positive: has(and([cellCondition('>=', e.low), cellCondition('<=', e.high)])), present };
      case 'startsWith':
        return { positive: has({ sql: '(str >= ? AND substr(str, 1, length(?)) = ?)', params: [e.prefix, e.prefix, e.prefix] }), present };
      case 'isNull':
        return { positive: present, present };
      case '!=':
        return { positive: has(cellCondition('=', e.value)), present };
      default:
        return { positive: has(cellCondition(e.op, e.value)), present };
    }
  }
  const { sql: col, nullable } = COLUMN[field.name];
  const present: SqlPart = { sql: nullable ? `(${col} IS NOT NULL)` : '1', params: [] };
  const guard = (p: SqlPart): SqlPart => (nullable ? { sql: `(${col} IS NOT NULL AND ${p.sql})`, params: p.params } : p);
  switch (e.op) {
    case 'in':
      return { positive: guard({ sql: `${col} IN (${e.values.map(() => '?').join(', ')})`, params: e.values }), present };
    case 'between':
      return { positive: guard({ sql: `${col} BETWEEN ? AND ?`, params: [e.low, e.high] }), present };
    case 'startsWith':
      return { positive: guard({ sql: `(${col} >= ? AND substr(${col}, 1, length(?)) = ?)`, params: [e.prefix, e.prefix, e.prefix] }), present };
    case 'isNull':
      return { positive: present, present };
    case '!=':
      return { positive: guard({ sql: `${col} = ?`, params: [e.value] }), present };
    default:
      return { positive: guard({ sql: `${col} ${e.op} ?`, params: [e.value] }), present };
  }
}

export function whereSql(e: FilterExpr): SqlPart {
  switch (e.op) {
    case 'and':
      return and([whereSql(e.left), whereSql(e.right)]);
    case 'or':
      return or([whereSql(e.left), whereSql(e.right)]);
    case 'not':
      return not(whereSql(e.expr));
    default: {
      const { positive, present } = atom(e);
      const negated = e.op === '!=' || ((e.op === 'in' || e.op === 'between' || e.op === 'startsWith') && e.negated);
      if (e.op === 'isNull') return e.negated ? present : not(present);
      return negated ? and([present, not(positive)]) : positive;
    }
  }
}

/** A field's sort value as SQL (evaluate.ts's sortValue): NULL, a number or a text. */
function sortSql(field: Field): SqlPart {
  if (field.kind === 'system') return { sql: COLUMN[field.name].sql, params: [] };
  const typed = field.type === undefined ? '' : ' AND type = ?';
  return {
    sql: `(SELECT CASE WHEN type = 'KEYWORD_LIST' THEN NULL ELSE coalesce(num, str) END FROM run_search_attributes WHERE run_id = runs.run_id AND name = ?${typed} LIMIT 1)`,
    params: [field.name, ...(field.type === undefined ? [] : [field.type])],
  };
}

/** Equality and "after" (in a direction) against an anchor value, NULL-aware (NULL sorts first). */
function eqAnchor(key: SqlPart, a: unknown): SqlPart {
  return a === null ? { sql: `${key.sql} IS NULL`, params: key.params } : { sql: `${key.sql} = ?`, params: [...key.params, a] };
}
function afterAnchor(key: SqlPart, a: unknown, descending: boolean): SqlPart {
  if (!descending) return a === null ? { sql: `${key.sql} IS NOT NULL`, params: key.params } : { sql: `${key.sql} > ?`, params: [...key.params, a] };
  return a === null ? { sql: '0', params: [] } : { sql: `(${key.sql} IS NULL OR ${key.sql} < ?)`, params: [...key.params, ...key.params, a] };
}

/** The filtered list: runs.list with `query`. */
export function listByQuery(db: BetterSqlite3.Database, options: ListRunsOptions, query: ListQuery): RunRecord[] {
  const conds: SqlPart[] = [];
  for (const [column, value] of [
    ['workflow_id', options.workflowId],
    ['workflow_type', options.workflowType],
    ['task_queue', options.taskQueue],
    ['status', options.status],
  ] as const) {
    if (value !== undefined) conds.push({ sql: `${column} = ?`, params: [value] });
  }
  if (query.where) conds.push(whereSql(query.where));
  const keys = [
    ...(query.orderBy ?? []).map((o) => ({ key: sortSql(o.field), descending: o.descending })),
    { key: { sql: 'start_time', params: [] }, descending: true },
    { key: { sql: 'seq', params: [] }, descending: true },
  ];
  if (options.afterRunId !== undefined) {
    const select = keys.map((k, i) => `${k.key.sql} AS k${i}`).join(', ');
    const row = statement(db, `SELECT ${select} FROM runs WHERE run_id = ?`).get(...keys.flatMap((k) => k.key.params), options.afterRunId) as
      | Record<string, unknown>
      | undefined;
    if (row === undefined) return [];
    const anchors = keys.map((_, i) => row[`k${i}`] ?? null);
    // After the anchor in the order: equal on the first i keys, after it on key i.
    const branches: SqlPart[] = keys.map((k, i) => and([...keys.slice(0, i).map((p, j) => eqAnchor(p.key, anchors[j])), afterAnchor(k.key, anchors[i], k.descending)]));
    conds.push(or(branches));
  }
  const where = conds.length ? `WHERE ${conds.map((c) => c.sql).join(' AND ')}` : '';
  const order = keys.map((k) => `${k.key.sql} ${k.descending ? 'DESC' : 'ASC'}`).join(', ');
  const sql = `SELECT record FROM runs ${where} ORDER BY ${order} LIMIT ?`;
  const params = [...conds.flatMap((c) => c.params), ...keys.flatMap((k) => k.key.params), options.limit];
  return (statement(db, sql).pluck().all(...params) as string[]).map((text) => JSON.parse(text) as RunRecord);
}

/** runs.count. */
export function countByQuery(db: BetterSqlite3.Database, where: FilterExpr | undefined): number {
  const w = where === undefined ? undefined : whereSql(where);
  return statement(db, `SELECT count(*) FROM runs${w ? ` WHERE ${w.sql}` : ''}`).pluck().get(...(w?.params ?? [])) as number;
}
