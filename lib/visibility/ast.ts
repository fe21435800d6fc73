/**
 * The parsed form of Temporal's list filter (host side, types only): what `parseListQuery`
 * (parse.ts) returns and what every Store backend's `runs.list` / `runs.count` evaluate (the
 * memory store by `matches` in evaluate.ts, SQLite by translating it to SQL). The parser has
 * already resolved names and normalized values, so a backend never parses text:
 * - system attributes have their deja field (`ExecutionStatus` → `status`, with deja's status
 *   names as values; `StartTime` → `startTime`, with times as ms since the epoch);
 * - a custom attribute's values are compared as the type its literal has (a quoted string as
 *   KEYWORD/TEXT, or as DATETIME when it reads as an ISO-8601 time and the attribute is stored as
 *   one; a number as INT/DOUBLE; true/false as BOOL), since deja keeps no attribute registry.
 */
import type { SearchAttributeType } from '../../runtime/protocol';

/** A run field a filter may name (Temporal's system search attributes, in deja's terms). */
export type SystemField =
  | 'workflowId'
  | 'runId'
  | 'workflowType'
  | 'taskQueue'
  | 'status'
  | 'startTime'
  | 'closeTime'
  | 'executionTime'
  | 'historyLength'
  | 'parentWorkflowId'
  | 'firstExecutionRunId';

export type Field = { kind: 'system'; name: SystemField } | { kind: 'custom'; name: string; type?: SearchAttributeType };

/** Times are ms since the epoch; statuses are deja's names ('running', …). */
export type FilterValue = string | number | boolean;

export type FilterExpr =
  | { op: 'and' | 'or'; left: FilterExpr; right: FilterExpr }
  | { op: 'not'; expr: FilterExpr }
  | { op: '=' | '!=' | '>' | '>=' | '<' | '<='; field: Field; value: FilterValue }
  | { op: 'in'; field: Field; values: FilterValue[]; negated: boolean }
  | { op: 'between'; field: Field; low: FilterValue; high: FilterValue; negated: boolean }
  | { op: 'startsWith'; field: Field; prefix: string; negated: boolean }
  | { op: 'isNull'; field: Field; negated: boolean };

export interface OrderBy {
  field: Field;
  descending: boolean;
}

export interface ListQuery {
  /** Absent: every run. */
  where?: FilterExpr;
  /** Absent: newest start first, then the later inserted first (the default order of runs.list). */
  orderBy?: OrderBy[];
}
