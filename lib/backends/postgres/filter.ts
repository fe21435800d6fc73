/**
 * The list filter (lib/visibility/ast.ts) as SQL over the `runs` table (host side), with the
 * semantics of lib/visibility/evaluate.ts (the reference; the conformance suite checks that both
 * agree on random runs and filters). System fields are indexed columns; custom search attributes
 * are read from the `search_attributes` jsonb column, where an equality with a string is a
 * containment (`@>`) that its GIN index answers.
 *
 * - A field has zero or more cells (evaluate.ts): a custom attribute's are spelled as the rows of
 *   a subquery over its jsonb (`cellsSql`: one per value, one per element of a KEYWORD_LIST, with
 *   its type `t`, its number `n` (INT, DOUBLE, BOOL as 0/1, DATETIME as ms) or its text `s`).
 *   A DATETIME's ms is written beside it by runs.insert/update (`searchAttributesJson`), as
 *   Date.parse reads it; a row written without one falls back to PostgreSQL's timestamptz input.
 * - Logic is two-valued. An atom's SQL is true exactly when the atom holds, and otherwise false or
 *   NULL; NOT is pushed down to the atoms (De Morgan), where the negation of an atom P is
 *   `(P) IS NOT TRUE`. In a WHERE clause NULL and false mean the same, and AND and OR are true
 *   exactly when evaluate.ts's are, so this agrees with it while the positive atoms keep the
 *   forms an index answers (a NULL search_attributes makes `@>` NULL, never true).
 * - Strings compare by code point (COLLATE "C": UTF-8 byte order). Equality needs no collation
 *   (every collation PostgreSQL creates by default is deterministic), so it stays index-backed.
 * - ORDER BY: each field becomes non-NULL keys (a kind rank: 0 null, 1 number, 2 string; then the
 *   number; then the text), so null < numbers < strings and keyset paging needs no NULL cases.
 * Every value goes in as a parameter; attribute names too (`->` with a parameter).
 */
import type { SearchAttributes } from '../../../runtime/protocol';
import type { Field, FilterExpr, FilterValue, ListQuery, SystemField } from '../../visibility/ast';
import { parseTime } from '../../visibility/parse';

/** Parameters in order; `add` returns the placeholder of a new one. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

const COLUMNS: Record<SystemField, { column: string; text: boolean; nullable: boolean }> = {
  workflowId: { column: 'workflow_id', text: true, nullable: false },
  runId: { column: 'run_id', text: true, nullable: false },
  workflowType: { column: 'workflow_type', text: true, nullable: false },
  taskQueue: { column: 'task_queue', text: true, nullable: false },
  status: { column: 'status', text: true, nullable: false },
  startTime: { column: 'start_time', text: false, nullable: false },
  closeTime: { column: 'close_time', text: false, nullable: true },
  executionTime: { column: 'execution_time', text: false, nullable: false },
  historyLength: { column: 'history_length', text: false, nullable: false },
  parentWorkflowId: { column: 'parent_workflow_id', text: true, nullable: true },
  firstExecutionRunId: { column: 'first_execution_run_id', text: true, nullable: false },
};

/**
 * The jsonb written to `runs.search_attributes`: the record's attributes, each DATETIME with its
 * instant as Date.parse reads it (`ms`, null when it reads none), so a filter compares the
 * instants the reference evaluator compares.
 */
export function searchAttributesJson(attributes: SearchAttributes | undefined): string | null {
  if (attributes === undefined) return null;
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(attributes)) {
    if (v.type !== 'DATETIME') out[name] = v;
    else {
      const ms = Date.parse(v.value);
      out[name] = { ...v, ms: Number.isNaN(ms) ? null : ms };
    }
  }
  return JSON.stringify(out);
}

type Cmp = '=' | '>' | '>=' | '<' | '<=';
type Custom = Extract<Field, { kind: 'custom' }>;
type Atom = Exclude<FilterExpr, { op: 'and' | 'or' | 'not' }>;

/** A number literal's placeholder: bigint when it is an integer (the columns' own type, so their indexes serve), else float8. */
const numberParam = (value: number, p: Params) => `${p.add(value)}::${Number.isSafeInteger(value) ? 'bigint' : 'float8'}`;

/** The attribute's jsonb (`{ type, value[, ms] }` or NULL), for the row of `runs` at hand. */
const attributeSql = (field: Custom, p: Params) => `(runs.search_attributes -> ${p.add(field.name)}::text)`;

/** A DATETIME's instant in ms from its jsonb `sa` (NULL when it has none). */
const datetimeMs = (sa: string) =>
  `(CASE WHEN ${sa} ? 'ms' THEN (${sa} ->> 'ms')::float8 ELSE extract(epoch FROM (${sa} ->> 'value')::timestamptz)::float8 * 1000 END)`;

/** The cells of a custom attribute as rows (t, n, s); only those of `field.type` when it names one. */
function cellsSql(field: Custom, p: Params): string {
  const sa = attributeSql(field, p);
  const typed = field.type === undefined ? '' : ` AND c.t = ${p.add(field.type)}::text`;
  const scalar = `SELECT ${sa} ->> 'type' AS t,
      CASE ${sa} ->> 'type' WHEN 'INT' THEN (${sa} ->> 'value')::float8 WHEN 'DOUBLE' THEN (${sa} ->> 'value')::float8
        WHEN 'BOOL' THEN CASE WHEN ${sa} -> 'value' = 'true'::jsonb THEN 1 ELSE 0 END WHEN 'DATETIME' THEN ${datetimeMs(sa)} END AS n,
      CASE WHEN ${sa} ->> 'type' IN ('KEYWORD', 'TEXT') THEN ${sa} ->> 'value' END AS s
    WHERE ${sa} ->> 'type' <> 'KEYWORD_LIST'`;
  const list = `SELECT 'KEYWORD_LIST', NULL::float8, e FROM jsonb_array_elements_text(CASE WHEN ${sa} ->> 'type' = 'KEYWORD_LIST' THEN ${sa} -> 'value' END) e`;
  // A DATETIME that reads as no instant has no cell (evaluate.ts).
  return `(SELECT c.t, c.n, c.s FROM (${scalar} UNION ALL ${list}) c WHERE NOT (c.t = 'DATETIME' AND c.n IS NULL)${typed})`;
}

/** A custom cell (columns t, n, s) compared with a literal under op (false when their kinds do not meet). */
function cellCondition(op: Cmp, value: FilterValue, p: Params): string {
  if (typeof value === 'string') {
    const at = parseTime(value);
    const str = `(s COLLATE "C" ${op} ${p.add(value)}::text)`;
    return at === undefined ? str : `(${str} OR (t = 'DATETIME' AND n ${op} ${p.add(at)}::float8))`;
  }
  if (typeof value === 'number') return `(t IN ('INT', 'DOUBLE') AND n ${op} ${p.add(value)}::float8)`;
  return `(t = 'BOOL' AND n ${op} ${value ? 1 : 0})`;
}

const has = (field: Custom, cond: string | undefined, p: Params) => `EXISTS (SELECT 1 FROM ${cellsSql(field, p)} c${cond === undefined ? '' : ` WHERE ${cond}`})`;

/** `field = value` on a custom attribute: a string by containment (the GIN index), for each type a string cell may have. */
function customEquals(field: Custom, value: FilterValue, p: Params): string {
  if (typeof value !== 'string') return has(field, cellCondition('=', value, p), p);
  const ofType = (t: string) => field.type === undefined || field.type === t;
  const contains = (obj: unknown) => `runs.search_attributes @> ${p.add(JSON.stringify({ [field.name]: obj }))}::jsonb`;
  const parts: string[] = [];
  if (ofType('KEYWORD')) parts.push(contains({ type: 'KEYWORD', value }));
  if (ofType('TEXT')) parts.push(contains({ type: 'TEXT', value }));
  if (ofType('KEYWORD_LIST')) parts.push(contains({ type: 'KEYWORD_LIST', value: [value] }));
  const at = parseTime(value);
  if (at !== undefined && ofType('DATETIME')) parts.push(has(field, `t = 'DATETIME' AND n = ${p.add(at)}::float8`, p));
  return parts.length === 0 ? 'FALSE' : `(${parts.join(' OR ')})`;
}

/** The positive form of an atom on a custom attribute: true when some cell satisfies it. */
function customPositive(e: Atom & { field: Custom }, p: Params): string {
  const field = e.field;
  switch (e.op) {
    case 'in':
      return e.values.length === 0 ? 'FALSE' : `(${e.values.map((v) => customEquals(field, v, p)).join(' OR ')})`;
    case 'between':
      return has(field, `${cellCondition('>=', e.low, p)} AND ${cellCondition('<=', e.high, p)}`, p);
    case 'startsWith':
      return has(field, `starts_with(s, ${p.add(e.prefix)}::text)`, p);
    case 'isNull':
      return presentSql(field, p);
    case '=':
    case '!=':
      return customEquals(field, e.value, p);
    default:
      return has(field, cellCondition(e.op, e.value, p), p);
  }
}

/** A system column compared with a literal under op (FALSE when their kinds do not meet; NULL for a NULL column). */
function columnCondition(name: SystemField, op: Cmp, value: FilterValue, p: Params): string {
  const { column, text } = COLUMNS[name];
  if (text && typeof value === 'string') return op === '=' ? `(${column} = ${p.add(value)}::text)` : `(${column} COLLATE "C" ${op} ${p.add(value)}::text)`;
  if (!text && typeof value === 'number') return `(${column} ${op} ${numberParam(value, p)})`;
  return 'FALSE';
}

function systemPositive(e: Atom & { field: { kind: 'system' } }, p: Params): string {
  const name = e.field.name;
  const { column, text } = COLUMNS[name];
  switch (e.op) {
    case 'in':
      return e.values.length === 0 ? 'FALSE' : `(${e.values.map((v) => columnCondition(name, '=', v, p)).join(' OR ')})`;
    case 'between':
      return `(${columnCondition(name, '>=', e.low, p)} AND ${columnCondition(name, '<=', e.high, p)})`;
    case 'startsWith':
      return text ? `starts_with(${column}, ${p.add(e.prefix)}::text)` : 'FALSE';
    case 'isNull':
      return presentSql(e.field, p);
    case '=':
    case '!=':
      return columnCondition(name, '=', e.value, p);
    default:
      return columnCondition(name, e.op, e.value, p);
  }
}

/** Whether the field has a cell (IS NOT NULL). */
function presentSql(field: Field, p: Params): string {
  if (field.kind === 'custom') return has(field, undefined, p);
  const { column, nullable } = COLUMNS[field.name];
  return nullable ? `(${column} IS NOT NULL)` : 'TRUE';
}

/** An atom's SQL: true when it holds (evaluate.ts's `matches`), else false or NULL. */
function atomSql(e: Atom, p: Params): string {
  const positive = (x: Atom) => (x.field.kind === 'custom' ? customPositive(x as Atom & { field: Custom }, p) : systemPositive(x as Atom & { field: { kind: 'system' } }, p));
  const present = () => presentSql(e.field, p);
  if (e.op === 'isNull') return e.negated ? present() : `(NOT ${present()})`;
  const negated = e.op === '!=' || ((e.op === 'in' || e.op === 'between' || e.op === 'startsWith') && e.negated);
  if (!negated) return positive(e);
  // The negated forms need a cell: present, and the positive form does not hold.
  return `(${present()} AND (${positive(e)}) IS NOT TRUE)`;
}

/** The SQL of a filter expression: true when it holds, else false or NULL (fit for WHERE only; see the header). */
export function whereSql(expr: FilterExpr, p: Params, negate = false): string {
  switch (expr.op) {
    case 'and':
    case 'or': {
      const op = (expr.op === 'and') !== negate ? 'AND' : 'OR';
      return `(${whereSql(expr.left, p, negate)} ${op} ${whereSql(expr.right, p, negate)})`;
    }
    case 'not':
      return whereSql(expr.expr, p, !negate);
    default: {
      const atom = atomSql(expr, p);
      return negate ? `((${atom}) IS NOT TRUE)` : atom;
    }
  }
}

/** One key of an ORDER BY: a non-NULL SQL expression, its direction, and the type its anchor value is passed back in as. */
export interface OrderKey {
  sql: string;
  descending: boolean;
  cast: 'int' | 'bigint' | 'float8' | 'text';
}

/** A field's sort keys (evaluate.ts's sortValue, null < numbers < strings), non-NULL. */
function fieldKeys(field: Field, descending: boolean, p: Params): OrderKey[] {
  if (field.kind === 'system') {
    const { column, text, nullable } = COLUMNS[field.name];
    const value: OrderKey = text
      ? { sql: nullable ? `coalesce(${column}, '') COLLATE "C"` : `${column} COLLATE "C"`, descending, cast: 'text' }
      : { sql: nullable ? `coalesce(${column}, 0)` : column, descending, cast: 'bigint' };
    return nullable ? [{ sql: `(CASE WHEN ${column} IS NULL THEN 0 ELSE 1 END)`, descending, cast: 'int' }, value] : [value];
  }
  // The one cell of an attribute that is not a KEYWORD_LIST (evaluate.ts: a KEYWORD_LIST sorts as null).
  const n = `(SELECT c.n FROM ${cellsSql(field, p)} c WHERE c.t <> 'KEYWORD_LIST')`;
  const s = `(SELECT c.s FROM ${cellsSql(field, p)} c WHERE c.t <> 'KEYWORD_LIST')`;
  return [
    { sql: `(CASE WHEN ${s} IS NOT NULL THEN 2 WHEN ${n} IS NOT NULL THEN 1 ELSE 0 END)`, descending, cast: 'int' },
    { sql: `coalesce(${n}, 0)`, descending, cast: 'float8' },
    { sql: `coalesce(${s}, '') COLLATE "C"`, descending, cast: 'text' },
  ];
}

export function orderKeys(query: ListQuery | undefined, p: Params): OrderKey[] {
  const keys = (query?.orderBy ?? []).flatMap((o) => fieldKeys(o.field, o.descending, p));
  // Ties (and no ORDER BY): the default order, newest start first, then the later inserted.
  keys.push({ sql: 'start_time', descending: true, cast: 'bigint' }, { sql: 'seq', descending: true, cast: 'bigint' });
  return keys;
}

export const orderBySql = (keys: OrderKey[]): string => keys.map((k) => `${k.sql}${k.descending ? ' DESC' : ''}`).join(', ');

/**
 * The rows after an anchor row in this order (keyset paging), given the anchor's value of each
 * key. The keys are never NULL and the last (seq) is unique, so "after" is strict. Consecutive
 * keys of one direction compare as a row, which a matching index answers as a range (the default
 * order: `(start_time, seq) < (…)` on runs_list).
 */
export function afterSql(keys: OrderKey[], anchor: unknown[], p: Params): string {
  const groups: { keys: OrderKey[]; values: string[] }[] = [];
  keys.forEach((k, i) => {
    const value = `${p.add(anchor[i])}::${k.cast}`;
    const last = groups[groups.length - 1];
    if (last !== undefined && last.keys[0].descending === k.descending) {
      last.keys.push(k);
      last.values.push(value);
    } else groups.push({ keys: [k], values: [value] });
  });
  const row = (xs: string[]) => (xs.length === 1 ? xs[0] : `ROW(${xs.join(', ')})`);
  const build = (i: number): string => {
    const g = groups[i];
    const lhs = row(g.keys.map((k) => k.sql));
    const rhs = row(g.values);
    const after = `(${lhs} ${g.keys[0].descending ? '<' : '>'} ${rhs})`;
    return i === groups.length - 1 ? after : `(${after} OR (${lhs} = ${rhs} AND ${build(i + 1)}))`;
  };
  return build(0);
}
