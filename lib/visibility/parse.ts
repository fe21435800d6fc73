/**
 * Temporal's list filter, parsed (host side): text → ListQuery (ast.ts), and back
 * (`formatListQuery`, for messages and tests). The grammar:
 *
 *   query     := [ expr ] [ ORDER BY field [ASC|DESC] { , field [ASC|DESC] } ]
 *   expr      := and { OR and }        and := not { AND not }        not := NOT not | primary
 *   primary   := ( expr ) | field predicate
 *   predicate := (= | != | <> | > | >= | < | <=) value | [NOT] IN ( value { , value } )
 *              | [NOT] BETWEEN value AND value | [NOT] STARTS_WITH string | IS [NOT] NULL
 *   value     := 'text' | "text" | number | true | false
 *   field     := a name ([A-Za-z_][A-Za-z0-9_]*) or a `backquoted` one
 *
 * Keywords are case-insensitive, attribute names are not. System attributes (WorkflowId,
 * ExecutionStatus, StartTime, …) are resolved to deja's run fields and their values checked and
 * normalized here (statuses to deja's names, times to ms); any other name is a custom search
 * attribute. A filter the parser does not accept is an InvalidArgumentError that names the
 * position (1-based, in characters) and shows it under a caret.
 */
import { InvalidArgumentError } from '../errors';
import type { Field, FilterExpr, FilterValue, ListQuery, OrderBy, SystemField } from './ast';

type FieldKind = 'string' | 'status' | 'time' | 'int';
/** deja's run statuses (lib/service.ts's WorkflowStatus). */
type WorkflowStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'continuedAsNew' | 'timedOut';

/** Temporal's system search attributes that deja keeps, with their run field and value kind. */
const SYSTEM: Record<string, { name: SystemField; kind: FieldKind }> = {
  WorkflowId: { name: 'workflowId', kind: 'string' },
  RunId: { name: 'runId', kind: 'string' },
  WorkflowType: { name: 'workflowType', kind: 'string' },
  TaskQueue: { name: 'taskQueue', kind: 'string' },
  ExecutionStatus: { name: 'status', kind: 'status' },
  StartTime: { name: 'startTime', kind: 'time' },
  CloseTime: { name: 'closeTime', kind: 'time' },
  ExecutionTime: { name: 'executionTime', kind: 'time' },
  HistoryLength: { name: 'historyLength', kind: 'int' },
  ParentWorkflowId: { name: 'parentWorkflowId', kind: 'string' },
  FirstExecutionRunId: { name: 'firstExecutionRunId', kind: 'string' },
};
const SYSTEM_NAME = new Map<SystemField, string>(Object.entries(SYSTEM).map(([name, f]) => [f.name, name]));
const KIND = new Map<SystemField, FieldKind>(Object.values(SYSTEM).map((f) => [f.name, f.kind]));

/** Temporal's system attributes deja does not keep: refused rather than read as (always absent) custom ones. */
const UNSUPPORTED = new Set([
  'ParentRunId',
  'RootWorkflowId',
  'RootRunId',
  'ExecutionDuration',
  'HistorySizeBytes',
  'StateTransitionCount',
  'BuildIds',
  'BatcherUser',
  'BatcherNamespace',
  'TemporalChangeVersion',
  'TemporalNamespaceDivision',
  'TemporalSchedulePaused',
  'TemporalScheduledStartTime',
  'TemporalScheduledById',
  'TemporalWorkerDeployment',
  'TemporalWorkerDeploymentVersion',
  'TemporalWorkflowVersioningBehavior',
  'TemporalPauseInfo',
  'TemporalReportedProblems',
]);

/** Temporal's ExecutionStatus names → deja's statuses. */
const STATUSES: Record<string, WorkflowStatus> = {
  Running: 'running',
  Completed: 'completed',
  Failed: 'failed',
  Canceled: 'cancelled',
  Terminated: 'terminated',
  ContinuedAsNew: 'continuedAsNew',
  TimedOut: 'timedOut',
};
const STATUS_NAME = new Map<string, string>(Object.entries(STATUSES).map(([name, status]) => [status, name]));

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'BETWEEN', 'IS', 'NULL', 'ORDER', 'BY', 'ASC', 'DESC', 'STARTS_WITH', 'TRUE', 'FALSE']);

/**
 * ISO-8601 / RFC 3339 times: a date, optionally a time (T or a space) with optional seconds and
 * fraction, and a zone (Z or ±hh:mm; none is UTC).
 */
const TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?([Zz]|[+-]\d{2}:?\d{2})?$/;

/** A time literal as ms since the epoch, or undefined when it does not read as one. */
export function parseTime(text: string): number | undefined {
  const m = TIME.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const ms = frac.padEnd(3, '0').slice(0, 3);
  const z = zone === 'z' ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
  const at = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}${z}`);
  if (Number.isNaN(at)) return undefined;
  // Date.parse rolls some impossible dates over (Feb 30): the day must read back the same.
  const local = new Date(at + (z === 'Z' ? 0 : offsetMs(z)));
  if (local.getUTCDate() !== Number(d) || local.getUTCMonth() + 1 !== Number(mo)) return undefined;
  return at;
}

function offsetMs(zone: string): number {
  const sign = zone[0] === '-' ? -1 : 1;
  return sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
}

// ── tokens ────────────────────────────────────────────────────────────────────────────────────

type Token =
  | { kind: 'word'; text: string; upper: string; pos: number }
  | { kind: 'name'; text: string; pos: number }
  | { kind: 'string'; value: string; pos: number; text: string }
  | { kind: 'number'; value: number; pos: number; text: string }
  | { kind: 'op'; text: string; pos: number }
  | { kind: 'end'; pos: number; text: string };

class Syntax {
  constructor(
    readonly where: string,
    readonly text: string,
  ) {}

  fail(message: string, pos: number): never {
    const line = this.text.replace(/[\r\n\t]/g, ' ');
    const from = Math.max(0, pos - 50);
    const to = Math.min(line.length, from + 100);
    const shown = `${from > 0 ? '…' : ''}${line.slice(from, to)}${to < line.length ? '…' : ''}`;
    const caret = ' '.repeat(pos - from + (from > 0 ? 1 : 0)) + '^';
    throw new InvalidArgumentError(`${this.where}: query: ${message} at position ${pos + 1}:\n  ${shown}\n  ${caret}`);
  }
}

function tokenize(s: Syntax): Token[] {
  const text = s.text;
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[A-Za-z_]/.test(c)) {
      while (i < text.length && /[A-Za-z0-9_]/.test(text[i])) i++;
      const word = text.slice(start, i);
      const upper = word.toUpperCase();
      tokens.push(KEYWORDS.has(upper) ? { kind: 'word', text: word, upper, pos: start } : { kind: 'name', text: word, pos: start });
    } else if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0) s.fail('this `quoted name has no closing backquote', start);
      const name = text.slice(i + 1, end);
      if (name === '') s.fail('expected an attribute name between the backquotes', start);
      tokens.push({ kind: 'name', text: name, pos: start });
      i = end + 1;
    } else if (c === "'" || c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) s.fail(`this string has no closing ${c}`, start);
        const ch = text[i];
        if (ch === '\\' && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
        } else if (ch === c && text[i + 1] === c) {
          value += c; // a doubled quote, as in SQL
          i += 2;
        } else if (ch === c) {
          i++;
          break;
        } else {
          value += ch;
          i++;
        }
      }
      tokens.push({ kind: 'string', value, pos: start, text: text.slice(start, i) });
    } else if (/[0-9]/.test(c) || ((c === '-' || c === '+' || c === '.') && /[0-9.]/.test(text[i + 1] ?? ''))) {
      const m = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(text.slice(i));
      // A sign or a point that starts no number ("+.", "-..5").
      if (m === null) s.fail(`expected a number, got ${JSON.stringify(text.slice(start, start + 3))}`, start);
      i += m[0].length;
      if (i < text.length && /[A-Za-z_]/.test(text[i])) s.fail(`expected a number, got ${JSON.stringify(text.slice(start, i + 1))}`, start);
      const value = Number(m[0]);
      if (!Number.isFinite(value)) s.fail(`the number ${m[0]} is too large`, start);
      tokens.push({ kind: 'number', value, pos: start, text: m[0] });
    } else {
      const two = text.slice(i, i + 2);
      if (two === '!=' || two === '<>' || two === '>=' || two === '<=') {
        tokens.push({ kind: 'op', text: two === '<>' ? '!=' : two, pos: start });
        i += 2;
      } else if ('=<>(),'.includes(c)) {
        tokens.push({ kind: 'op', text: c, pos: start });
        i++;
      } else s.fail(`unexpected character ${JSON.stringify(c)}`, start);
    }
  }
  tokens.push({ kind: 'end', pos: text.length, text: '' });
  return tokens;
}

function shown(t: Token): string {
  return t.kind === 'end' ? 'the end of the query' : t.kind === 'string' ? `the string ${t.text}` : `"${t.text}"`;
}

// ── parser ────────────────────────────────────────────────────────────────────────────────────

/** Limits that keep every backend's evaluation bounded (SQLite refuses expressions deeper than 1000). */
export const MAX_PREDICATES = 200;
export const MAX_NESTING = 32;
export const MAX_IN_VALUES = 1000;

class Parser {
  private i = 0;
  private predicates = 0;
  private depth = 0;
  constructor(
    private readonly s: Syntax,
    private readonly tokens: Token[],
  ) {}

  private get t(): Token {
    return this.tokens[this.i];
  }

  private isWord(upper: string, t = this.t): boolean {
    return t.kind === 'word' && t.upper === upper;
  }

  private isOp(text: string, t = this.t): boolean {
    return t.kind === 'op' && t.text === text;
  }

  private expectWord(upper: string, after: string): void {
    if (!this.isWord(upper)) this.s.fail(`expected ${upper} after ${after}, got ${shown(this.t)}`, this.t.pos);
    this.i++;
  }

  query(): ListQuery {
    const q: ListQuery = {};
    if (this.t.kind !== 'end' && !this.isWord('ORDER')) q.where = this.expr();
    if (this.isWord('ORDER')) {
      this.i++;
      this.expectWord('BY', 'ORDER');
      const orderBy: OrderBy[] = [];
      for (;;) {
        const field = this.field('ORDER BY');
        let descending = false;
        if (this.isWord('ASC')) this.i++;
        else if (this.isWord('DESC')) {
          descending = true;
          this.i++;
        }
        orderBy.push({ field, descending });
        if (!this.isOp(',')) break;
        this.i++;
      }
      q.orderBy = orderBy;
    }
    if (this.t.kind !== 'end') {
      const t = this.t;
      this.s.fail(q.where || q.orderBy ? `expected AND, OR, ORDER BY or the end of the query, got ${shown(t)}` : `expected a filter, got ${shown(t)}`, t.pos);
    }
    return q;
  }

  private expr(): FilterExpr {
    let left = this.and();
    while (this.isWord('OR')) {
      this.i++;
      left = { op: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): FilterExpr {
    let left = this.not();
    while (this.isWord('AND')) {
      this.i++;
      left = { op: 'and', left, right: this.not() };
    }
    return left;
  }

  private nest<T>(at: Token, f: () => T): T {
    if (++this.depth > MAX_NESTING) this.s.fail(`the filter nests NOT and parentheses more than ${MAX_NESTING} deep`, at.pos);
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private not(): FilterExpr {
    if (this.isWord('NOT')) {
      const at = this.t;
      this.i++;
      return this.nest(at, () => ({ op: 'not', expr: this.not() }));
    }
    if (this.isOp('(')) {
      const open = this.t;
      this.i++;
      const inner = this.nest(open, () => this.expr());
      if (!this.isOp(')')) this.s.fail(`expected ")" to close the "(" at position ${open.pos + 1}, got ${shown(this.t)}`, this.t.pos);
      this.i++;
      return inner;
    }
    return this.predicate();
  }

  /** An attribute name; system names resolved. */
  private field(context: string): Field & { kind: 'system' | 'custom' } {
    const t = this.t;
    if (t.kind !== 'name') {
      this.s.fail(`expected an attribute name${context === 'ORDER BY' ? ' after ORDER BY' : ''}, got ${shown(t)}${t.kind === 'word' ? ' (quote it with backquotes to use a keyword as a name)' : ''}`, t.pos);
    }
    this.i++;
    const system = Object.prototype.hasOwnProperty.call(SYSTEM, t.text) ? SYSTEM[t.text] : undefined;
    if (system) return { kind: 'system', name: system.name };
    if (UNSUPPORTED.has(t.text)) this.s.fail(`${t.text} is a Temporal system attribute that deja does not keep`, t.pos);
    return { kind: 'custom', name: t.text };
  }

  private predicate(): FilterExpr {
    const at = this.t.pos;
    if (++this.predicates > MAX_PREDICATES) this.s.fail(`the filter has more than ${MAX_PREDICATES} conditions`, at);
    const field = this.field('filter');
    const name = this.tokens[this.i - 1].text;
    const t = this.t;
    if (t.kind === 'op' && ['=', '!=', '>', '>=', '<', '<='].includes(t.text)) {
      this.i++;
      return { op: t.text as '=', field, value: this.value(field, name, `"${t.text}"`) };
    }
    if (this.isWord('IS')) {
      this.i++;
      let negated = false;
      if (this.isWord('NOT')) {
        negated = true;
        this.i++;
      }
      this.expectWord('NULL', negated ? 'IS NOT' : 'IS');
      return { op: 'isNull', field, negated };
    }
    let negated = false;
    if (this.isWord('NOT')) {
      negated = true;
      this.i++;
      if (!this.isWord('IN') && !this.isWord('BETWEEN') && !this.isWord('STARTS_WITH')) {
        this.s.fail(`expected IN, BETWEEN or STARTS_WITH after NOT, got ${shown(this.t)}`, this.t.pos);
      }
    }
    if (this.isWord('IN')) {
      this.i++;
      if (!this.isOp('(')) this.s.fail(`expected "(" after IN, got ${shown(this.t)}`, this.t.pos);
      this.i++;
      const values: FilterValue[] = [];
      for (;;) {
        if (values.length === MAX_IN_VALUES) this.s.fail(`an IN list takes at most ${MAX_IN_VALUES} values`, this.t.pos);
        values.push(this.value(field, name, values.length === 0 ? 'IN (' : '","'));
        if (this.isOp(',')) {
          this.i++;
          continue;
        }
        if (this.isOp(')')) {
          this.i++;
          break;
        }
        this.s.fail(`expected "," or ")" in the IN list, got ${shown(this.t)}`, this.t.pos);
      }
      return { op: 'in', field, values, negated };
    }
    if (this.isWord('BETWEEN')) {
      this.i++;
      const low = this.value(field, name, 'BETWEEN');
      this.expectWord('AND', 'BETWEEN and its first value');
      const high = this.value(field, name, 'BETWEEN … AND');
      return { op: 'between', field, low, high, negated };
    }
    if (this.isWord('STARTS_WITH')) {
      const kw = this.t;
      this.i++;
      if (field.kind === 'system' && KIND.get(field.name) !== 'string') this.s.fail(`STARTS_WITH needs a text attribute; ${name} is not one`, kw.pos);
      const v = this.t;
      if (v.kind !== 'string') this.s.fail(`expected a string after STARTS_WITH, got ${shown(v)}`, v.pos);
      this.i++;
      return { op: 'startsWith', field, prefix: v.value, negated };
    }
    void at;
    return this.s.fail(`expected an operator (=, !=, >, >=, <, <=, IN, NOT IN, BETWEEN, STARTS_WITH, IS NULL) after ${name}, got ${shown(t)}`, t.pos);
  }

  /** A literal, checked and normalized for a system attribute. */
  private value(field: Field, name: string, after: string): FilterValue {
    const t = this.t;
    let raw: FilterValue;
    if (t.kind === 'string' || t.kind === 'number') raw = t.value;
    else if (this.isWord('TRUE')) raw = true;
    else if (this.isWord('FALSE')) raw = false;
    else return this.s.fail(`expected a value after ${after}, got ${shown(t)}`, t.pos);
    this.i++;
    if (field.kind === 'custom') return raw;
    const kind = KIND.get(field.name)!;
    switch (kind) {
      case 'string':
        if (typeof raw !== 'string') this.s.fail(`${name} takes a string, got ${t.text}`, t.pos);
        return raw;
      case 'status': {
        const status = typeof raw === 'string' ? statusOf(raw) : undefined;
        if (status === undefined) this.s.fail(`${name} takes one of ${Object.keys(STATUSES).map((s) => `'${s}'`).join(', ')}, got ${t.text}`, t.pos);
        return status;
      }
      case 'time': {
        const at = typeof raw === 'string' ? parseTime(raw) : undefined;
        if (at === undefined) this.s.fail(`${name} takes a time such as '2026-01-31T12:00:00Z', got ${t.text}`, t.pos);
        return at;
      }
      case 'int':
        if (typeof raw !== 'number' || !Number.isSafeInteger(raw)) this.s.fail(`${name} takes an integer, got ${t.text}`, t.pos);
        return raw;
    }
  }
}

function statusOf(text: string): WorkflowStatus | undefined {
  for (const [name, status] of Object.entries(STATUSES)) if (name.toLowerCase() === text.toLowerCase()) return status;
  if (text.toLowerCase() === 'cancelled') return 'cancelled';
  return undefined;
}

/**
 * Parses a list filter. `where` names the request for the message (`listWorkflows`). An empty
 * filter is every run.
 */
export function parseListQuery(where: string, text: string): ListQuery {
  const s = new Syntax(where, text);
  return new Parser(s, tokenize(s)).query();
}

// ── printing ──────────────────────────────────────────────────────────────────────────────────

function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function formatField(f: Field): string {
  return f.kind === 'system' ? SYSTEM_NAME.get(f.name)! : `\`${f.name}\``;
}

function formatValue(f: Field, v: FilterValue): string {
  if (f.kind === 'system') {
    const kind = KIND.get(f.name);
    if (kind === 'time') return quote(new Date(v as number).toISOString());
    if (kind === 'status') return quote(STATUS_NAME.get(v as string) ?? String(v));
  }
  if (typeof v === 'string') return quote(v);
  return String(v);
}

function formatExpr(e: FilterExpr): string {
  switch (e.op) {
    case 'and':
    case 'or':
      return `(${formatExpr(e.left)} ${e.op.toUpperCase()} ${formatExpr(e.right)})`;
    case 'not':
      return `NOT ${formatExpr(e.expr)}`;
    case 'in':
      return `${formatField(e.field)} ${e.negated ? 'NOT IN' : 'IN'} (${e.values.map((v) => formatValue(e.field, v)).join(', ')})`;
    case 'between':
      return `${formatField(e.field)} ${e.negated ? 'NOT BETWEEN' : 'BETWEEN'} ${formatValue(e.field, e.low)} AND ${formatValue(e.field, e.high)}`;
    case 'startsWith':
      return `${formatField(e.field)} ${e.negated ? 'NOT STARTS_WITH' : 'STARTS_WITH'} ${quote(e.prefix)}`;
    case 'isNull':
      return `${formatField(e.field)} IS ${e.negated ? 'NOT NULL' : 'NULL'}`;
    default:
      return `${formatField(e.field)} ${e.op} ${formatValue(e.field, e.value)}`;
  }
}

/** A ListQuery as filter text that parses back to it (every AND and OR parenthesized). */
export function formatListQuery(q: ListQuery): string {
  const parts: string[] = [];
  if (q.where) parts.push(formatExpr(q.where));
  if (q.orderBy?.length) parts.push(`ORDER BY ${q.orderBy.map((o) => `${formatField(o.field)} ${o.descending ? 'DESC' : 'ASC'}`).join(', ')}`);
  return parts.join(' ');
}
