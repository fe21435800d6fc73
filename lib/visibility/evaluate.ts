/**
 * A parsed list filter evaluated on a run record (host side): what the in-memory store runs, and
 * the reference the SQL translation (backends/sqlite/visibility.ts) must agree with (the
 * conformance suite checks both on random filters).
 *
 * The semantics, which every backend follows:
 * - A field has zero or more values ("cells"): a system field one (none for an absent CloseTime or
 *   ParentWorkflowId), a custom attribute one, or one per element of a KEYWORD_LIST (none for an
 *   empty list or a missing attribute).
 * - `=`, `>`, `>=`, `<`, `<=`, IN, BETWEEN and STARTS_WITH hold when some cell satisfies them;
 *   `!=`, NOT IN, NOT BETWEEN and NOT STARTS_WITH hold when the field has a cell and the positive
 *   form does not hold; IS NULL holds when it has none. So a run without the attribute matches
 *   only IS NULL (and NOT of a predicate). Logic is two-valued.
 * - A custom cell compares with a literal of its own kind: a string with KEYWORD, TEXT and
 *   KEYWORD_LIST values (and with a DATETIME value when the string reads as a time); a number
 *   with INT and DOUBLE values; true/false with BOOL values. Other pairs never match.
 * - Strings compare by code point (SQLite's BINARY order of UTF-8).
 * - ORDER BY: a field's sort value is null (absent, a KEYWORD_LIST), a number (INT, DOUBLE, BOOL as
 *   0/1, DATETIME and system times as ms) or a string; null < numbers < strings (SQLite's order).
 *   Ties: newer start first, then the later inserted first.
 */
import type { SearchAttributes, SearchAttributeType } from '../../runtime/protocol';
import type { Field, FilterExpr, FilterValue, OrderBy } from './ast';
import { parseTime } from './parse';

/** The fields of a run record (backends/store.ts's RunRecord) a filter reads. */
export interface RunRecord {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  status: string;
  startTime: number;
  closeTime?: number;
  executionTime?: number;
  nextEventId: number;
  parent?: { workflowId: string };
  firstExecutionRunId?: string;
  searchAttributes?: SearchAttributes;
}

/** One value of a field: a number (`num`) or a string (`str`), with its type for a custom one. */
interface Cell {
  type?: SearchAttributeType;
  num?: number;
  str?: string;
}

/** Compares strings by code point (UTF-8 byte order). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

function systemCells(run: RunRecord, name: string): Cell[] {
  switch (name) {
    case 'workflowId':
      return [{ str: run.workflowId }];
    case 'runId':
      return [{ str: run.runId }];
    case 'workflowType':
      return [{ str: run.workflowType }];
    case 'taskQueue':
      return [{ str: run.taskQueue }];
    case 'status':
      return [{ str: run.status }];
    case 'startTime':
      return [{ num: run.startTime }];
    case 'closeTime':
      return run.closeTime === undefined ? [] : [{ num: run.closeTime }];
    case 'executionTime':
      return [{ num: run.executionTime ?? run.startTime }];
    case 'historyLength':
      return [{ num: run.nextEventId - 1 }];
    case 'parentWorkflowId':
      return run.parent === undefined ? [] : [{ str: run.parent.workflowId }];
    case 'firstExecutionRunId':
      return [{ str: run.firstExecutionRunId ?? run.runId }];
    default:
      return [];
  }
}

/** The cells of a custom attribute, as the SQLite store keeps them (one row per cell). */
export function attributeCells(v: NonNullable<RunRecord['searchAttributes']>[string]): Cell[] {
  switch (v.type) {
    case 'KEYWORD':
    case 'TEXT':
      return [{ type: v.type, str: v.value }];
    case 'KEYWORD_LIST':
      return v.value.map((str) => ({ type: v.type, str }));
    case 'INT':
    case 'DOUBLE':
      return [{ type: v.type, num: v.value }];
    case 'BOOL':
      return [{ type: v.type, num: v.value ? 1 : 0 }];
    case 'DATETIME': {
      const ms = Date.parse(v.value);
      return Number.isNaN(ms) ? [] : [{ type: v.type, num: ms }];
    }
  }
}

function cells(run: RunRecord, field: Field): Cell[] {
  if (field.kind === 'system') return systemCells(run, field.name);
  const v = run.searchAttributes?.[field.name];
  if (v === undefined || (field.type !== undefined && v.type !== field.type)) return [];
  return attributeCells(v);
}

type Cmp = '=' | '>' | '>=' | '<' | '<=';

function holds(c: number, op: Cmp): boolean {
  switch (op) {
    case '=':
      return c === 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
  }
}

/** Whether a cell compares with the literal under op (false when their kinds do not meet). */
function cellHolds(cell: Cell, op: Cmp, value: FilterValue, system: boolean): boolean {
  if (system) {
    if (typeof value === 'number' && cell.num !== undefined) return holds(cell.num - value, op);
    if (typeof value === 'string' && cell.str !== undefined) return holds(compareStrings(cell.str, value), op);
    return false;
  }
  if (typeof value === 'string') {
    if (cell.str !== undefined) return holds(compareStrings(cell.str, value), op);
    if (cell.type === 'DATETIME') {
      const at = parseTime(value);
      return at !== undefined && holds(cell.num! - at, op);
    }
    return false;
  }
  if (typeof value === 'number') return (cell.type === 'INT' || cell.type === 'DOUBLE') && holds(cell.num! - value, op);
  return cell.type === 'BOOL' && holds(cell.num! - (value ? 1 : 0), op);
}

export function matches(run: RunRecord, e: FilterExpr): boolean {
  switch (e.op) {
    case 'and':
      return matches(run, e.left) && matches(run, e.right);
    case 'or':
      return matches(run, e.left) || matches(run, e.right);
    case 'not':
      return !matches(run, e.expr);
    default:
      break;
  }
  const cs = cells(run, e.field);
  const system = e.field.kind === 'system';
  const some = (f: (c: Cell) => boolean) => cs.some(f);
  const negatable = (negated: boolean, positive: boolean) => (negated ? cs.length > 0 && !positive : positive);
  switch (e.op) {
    case '!=':
      return cs.length > 0 && !some((c) => cellHolds(c, '=', e.value, system));
    case 'in':
      return negatable(e.negated, some((c) => e.values.some((v) => cellHolds(c, '=', v, system))));
    case 'between':
      return negatable(e.negated, some((c) => cellHolds(c, '>=', e.low, system) && cellHolds(c, '<=', e.high, system)));
    case 'startsWith':
      return negatable(e.negated, some((c) => c.str !== undefined && c.str.startsWith(e.prefix)));
    case 'isNull':
      return e.negated ? cs.length > 0 : cs.length === 0;
    default:
      return some((c) => cellHolds(c, e.op as Cmp, e.value, system));
  }
}

/** A field's sort value (see the header). */
export function sortValue(run: RunRecord, field: Field): number | string | null {
  if (field.kind === 'custom') {
    const v = run.searchAttributes?.[field.name];
    if (v === undefined || v.type === 'KEYWORD_LIST' || (field.type !== undefined && v.type !== field.type)) return null;
  }
  const [cell] = cells(run, field);
  if (cell === undefined) return null;
  return cell.num ?? cell.str ?? null;
}

/** null < numbers < strings. */
export function compareSortValues(a: number | string | null, b: number | string | null): number {
  const rank = (v: number | string | null) => (v === null ? 0 : typeof v === 'number' ? 1 : 2);
  const r = rank(a) - rank(b);
  if (r !== 0) return r;
  if (typeof a === 'number') return a - (b as number);
  if (typeof a === 'string') return compareStrings(a, b as string);
  return 0;
}

/**
 * A comparator of runs in a filter's order (the default order after its ORDER BY fields);
 * `inserted` gives a run's insertion rank (later inserted: larger).
 */
export function runOrder<R extends RunRecord>(orderBy: OrderBy[] | undefined, inserted: (run: R) => number): (a: R, b: R) => number {
  return (a, b) => {
    for (const o of orderBy ?? []) {
      const c = compareSortValues(sortValue(a, o.field), sortValue(b, o.field));
      if (c !== 0) return o.descending ? -c : c;
    }
    if (a.startTime !== b.startTime) return b.startTime - a.startTime;
    return inserted(b) - inserted(a);
  };
}
