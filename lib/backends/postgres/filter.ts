/**
 * The list filter (lib/visibility/ast.ts) as SQL over the `runs` table (host side). System fields
 * are indexed columns; custom search attributes are read from the `search_attributes` jsonb
 * column, where an equality on a keyword is a containment (`@>`) that its GIN index answers.
 *
 * Semantics, as the AST's header states them, in SQL terms:
 * - a custom attribute is compared as the type its literal has (a number as INT/DOUBLE, true/false
 *   as BOOL, a string as KEYWORD/TEXT, or as DATETIME when the string reads as an ISO-8601 time and
 *   the attribute is stored as one, compared as instants); a KEYWORD_LIST equals a string it holds;
 * - a comparison with a missing attribute (or one of another type) is unknown, as SQL's NULL: it
 *   matches neither the comparison nor its negation (`!=`, `not`); only `is null` finds it;
 * - strings order by code point (COLLATE "C"), as JavaScript compares them.
 * Every value goes in as a parameter; attribute names too (`->` with a parameter).
 */
import type { Field, FilterExpr, FilterValue, ListQuery, OrderBy, SystemField } from '../../visibility/ast';

/** Parameters in order; `add` returns the placeholder of a new one. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

const COLUMNS: Record<SystemField, { column: string; text: boolean }> = {
  workflowId: { column: 'workflow_id', text: true },
  runId: { column: 'run_id', text: true },
  workflowType: { column: 'workflow_type', text: true },
  taskQueue: { column: 'task_queue', text: true },
  status: { column: 'status', text: true },
  startTime: { column: 'start_time', text: false },
  closeTime: { column: 'close_time', text: false },
  executionTime: { column: 'execution_time', text: false },
  historyLength: { column: 'history_length', text: false },
  parentWorkflowId: { column: 'parent_workflow_id', text: true },
  firstExecutionRunId: { column: 'first_execution_run_id', text: true },
};

type Comparison = '=' | '!=' | '>' | '>=' | '<' | '<=';
const SQL_OP: Record<Comparison, string> = { '=': '=', '!=': '<>', '>': '>', '>=': '>=', '<': '<', '<=': '<=' };

/** A string that reads as an ISO-8601 time: its instant in ms, else undefined. */
function isoTime(value: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function compareSystem(name: SystemField, op: Comparison, value: FilterValue, p: Params): string {
  const { column, text } = COLUMNS[name];
  if (text) return `(${column} COLLATE "C" ${SQL_OP[op]} ${p.add(String(value))})`;
  if (typeof value !== 'number') return 'NULL'; // a time or count compared with a non-number: unknown
  return `(${column} ${SQL_OP[op]} ${p.add(value)})`;
}

function compareCustom(name: string, op: Comparison, value: FilterValue, p: Params): string {
  if (op === '=' && typeof value === 'string' && isoTime(value) === undefined) {
    // An equality the GIN index can answer: containment, for each type a string may be stored as.
    const contains = (obj: unknown) => `search_attributes @> ${p.add(JSON.stringify({ [name]: obj }))}::jsonb`;
    return `(${contains({ type: 'KEYWORD', value })} OR ${contains({ type: 'TEXT', value })} OR ${contains({ type: 'KEYWORD_LIST', value: [value] })})`;
  }
  // Every parameter added below is used: PostgreSQL must infer each one's type.
  const n = `${p.add(name)}::text`;
  const sa = `(search_attributes -> ${n})`;
  const type = `(${sa} ->> 'type')`;
  if (typeof value === 'number') {
    return `(CASE WHEN ${type} IN ('INT', 'DOUBLE') THEN (${sa} ->> 'value')::float8 ${SQL_OP[op]} ${p.add(value)}::float8 END)`;
  }
  if (typeof value === 'boolean') {
    return `(CASE WHEN ${type} = 'BOOL' THEN (${sa} ->> 'value')::boolean ${SQL_OP[op]} ${p.add(value)}::boolean END)`;
  }
  const v = `${p.add(value)}::text`;
  const ms = isoTime(value);
  const time = ms === undefined ? '' : ` WHEN ${type} = 'DATETIME' THEN (extract(epoch FROM (${sa} ->> 'value')::timestamptz) * 1000) ${SQL_OP[op]} ${p.add(ms)}::numeric`;
  const list = op === '=' || op === '!=' ? ` WHEN ${type} = 'KEYWORD_LIST' THEN ${op === '!=' ? 'NOT ' : ''}((${sa} -> 'value') ? ${v})` : '';
  return `(CASE WHEN ${type} IN ('KEYWORD', 'TEXT') THEN (${sa} ->> 'value') COLLATE "C" ${SQL_OP[op]} ${v}${time}${list} END)`;
}

function compare(field: Field, op: Comparison, value: FilterValue, p: Params): string {
  return field.kind === 'system' ? compareSystem(field.name, op, value, p) : compareCustom(field.name, op, value, p);
}

/** The SQL of a filter expression (a boolean that may be NULL: unknown). */
export function whereSql(expr: FilterExpr, p: Params): string {
  switch (expr.op) {
    case 'and':
    case 'or':
      return `(${whereSql(expr.left, p)} ${expr.op.toUpperCase()} ${whereSql(expr.right, p)})`;
    case 'not':
      return `(NOT ${whereSql(expr.expr, p)})`;
    case '=':
    case '!=':
    case '>':
    case '>=':
    case '<':
    case '<=':
      return compare(expr.field, expr.op, expr.value, p);
    case 'in': {
      const any = expr.values.length === 0 ? 'FALSE' : `(${expr.values.map((v) => compare(expr.field, '=', v, p)).join(' OR ')})`;
      return expr.negated ? `(NOT ${any})` : any;
    }
    case 'between': {
      const within = `(${compare(expr.field, '>=', expr.low, p)} AND ${compare(expr.field, '<=', expr.high, p)})`;
      return expr.negated ? `(NOT ${within})` : within;
    }
    case 'startsWith': {
      const e = expr.field.kind === 'system' ? COLUMNS[expr.field.name].column : `(CASE WHEN (search_attributes -> ${p.add(expr.field.name)}::text ->> 'type') IN ('KEYWORD', 'TEXT') THEN search_attributes -> ${p.add(expr.field.name)}::text ->> 'value' END)`;
      const starts = `starts_with(${e}::text, ${p.add(expr.prefix)}::text)`;
      return expr.negated ? `(NOT ${starts})` : starts;
    }
    case 'isNull': {
      const e = expr.field.kind === 'system' ? COLUMNS[expr.field.name].column : `(search_attributes -> ${p.add(expr.field.name)}::text)`;
      return `(${e} IS ${expr.negated ? 'NOT ' : ''}NULL)`;
    }
  }
}

/** One key of an ORDER BY: its SQL expression and direction. PostgreSQL's defaults: NULLS LAST ascending, FIRST descending. */
export interface OrderKey {
  sql: string;
  descending: boolean;
  /** How to pass an anchor's value back in as a parameter (a cast). */
  cast: string;
}

export function orderKeys(query: ListQuery | undefined, p: Params): OrderKey[] {
  const keys: OrderKey[] = (query?.orderBy ?? []).map((o: OrderBy) => {
    if (o.field.kind === 'system') {
      const { column, text } = COLUMNS[o.field.name];
      return { sql: text ? `${column} COLLATE "C"` : column, descending: o.descending, cast: text ? 'text' : 'bigint' };
    }
    return { sql: `(search_attributes -> ${p.add(o.field.name)}::text -> 'value')`, descending: o.descending, cast: 'jsonb' };
  });
  // Ties (and no ORDER BY): the default order, newest start first, then the later inserted.
  keys.push({ sql: 'start_time', descending: true, cast: 'bigint' }, { sql: 'seq', descending: true, cast: 'bigint' });
  return keys;
}

export const orderBySql = (keys: OrderKey[]): string => keys.map((k) => `${k.sql}${k.descending ? ' DESC' : ''}`).join(', ');

/**
 * The rows after an anchor row in this order (keyset paging), given the anchor's values of each
 * key (null for NULL). The last key (seq) is unique, so "after" is strict.
 */
export function afterSql(keys: OrderKey[], anchor: unknown[], p: Params): string {
  const build = (i: number): string => {
    const k = keys[i];
    const a = anchor[i];
    const param = a === null ? undefined : `${p.add(k.cast === 'jsonb' ? JSON.stringify(a) : a)}::${k.cast}`;
    // Strictly after the anchor on this key alone.
    let gt: string;
    if (!k.descending) gt = param === undefined ? 'FALSE' : `(${k.sql} > ${param} OR ${k.sql} IS NULL)`;
    else gt = param === undefined ? `(${k.sql} IS NOT NULL)` : `(${k.sql} < ${param})`;
    if (i === keys.length - 1) return gt;
    const eq = param === undefined ? `(${k.sql} IS NULL)` : `(${k.sql} = ${param})`;
    return `(${gt} OR (${eq} AND ${build(i + 1)}))`;
  };
  return build(0);
}
