// Finding workflows: Temporal's list filter. The parser (syntax errors that point at the position,
// every operator, system attributes checked, printing and parsing back random filters), the
// memory and SQLite stores agreeing on random filters over random runs, SQLite's indexes (the query
// plan of a custom attribute filter) and its migration of a file from the previous schema, and the
// service: listWorkflows with a query paged across pages, page tokens bound to their query,
// countWorkflows.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import Database from 'better-sqlite3';
import { parseListQuery, formatListQuery, parseTime } from '../lib/visibility/parse';
import { MemoryStore } from '../lib/backends/memory';
import { DEJA_APPLICATION_ID, SqliteStore } from '../lib/backends/sqlite';
import { MIGRATIONS } from '../lib/backends/sqlite/schema';
import { whereSql } from '../lib/backends/sqlite/visibility';
import { InvalidArgumentError } from '../lib/errors';
import { LocalWorkflowService } from '../lib/engine';
import type { Store, StoreTx } from '../lib/backends/store';
import { FIXED_CASES, FIXED_RUNS, arbQuery, arbRuns, fcSeed, listAll } from './visibility-conformance';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-visibility-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newFile = (name: string) => path.join(dir, `${name}-${++files}.db`);

/** JSON with sorted keys (types kept: 1 and '1' differ). */
const canon = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));

// ── the parser ────────────────────────────────────────────────────────────────────────────────

/** The message of the error parsing `text` throws. */
function syntaxError(text: string): string {
  try {
    parseListQuery('listWorkflows', text);
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    return err.message;
  }
  throw new Error(`parsed: ${text}`);
}

t.test('a filter the parser does not accept: an InvalidArgumentError naming the position, with a caret under it', async (t) => {
  const cases: [string, RegExp, number][] = [
    ["WorkflowType = AND ExecutionStatus = 'Running'", /expected a value after "=", got "AND"/, 16],
    ["WorkflowType = 'x' AND", /expected an attribute name, got the end of the query/, 23],
    ["WorkflowType 'x'", /expected an operator \(=, !=, >, >=, <, <=, IN, NOT IN, BETWEEN, STARTS_WITH, IS NULL\) after WorkflowType, got the string 'x'/, 14],
    ["WorkflowType = 'x", /this string has no closing '/, 16],
    ["(WorkflowType = 'x'", /expected "\)" to close the "\(" at position 1, got the end of the query/, 20],
    ["WorkflowType = 'x')", /expected AND, OR, ORDER BY or the end of the query, got "\)"/, 19],
    ['Priority IN (1, 2', /expected "," or "\)" in the IN list, got the end of the query/, 18],
    ['Priority IN 1', /expected "\(" after IN, got "1"/, 13],
    ['Priority BETWEEN 1 OR 2', /expected AND after BETWEEN and its first value, got "OR"/, 20],
    ['Priority NOT = 1', /expected IN, BETWEEN or STARTS_WITH after NOT, got "="/, 14],
    ['Priority IS 1', /expected NULL after IS, got "1"/, 13],
    ["ExecutionStatus = 'Sleeping'", /ExecutionStatus takes one of 'Running', 'Completed', 'Failed', 'Canceled', 'Terminated', 'ContinuedAsNew', 'TimedOut', got 'Sleeping'/, 19],
    ["StartTime > 'yesterday'", /StartTime takes a time such as '2026-01-31T12:00:00Z', got 'yesterday'/, 13],
    ["StartTime > '2026-02-30T00:00:00Z'", /StartTime takes a time/, 13],
    ['WorkflowId = 42', /WorkflowId takes a string, got 42/, 14],
    ["HistoryLength > '3'", /HistoryLength takes an integer, got '3'/, 17],
    ['StartTime STARTS_WITH 2', /STARTS_WITH needs a text attribute; StartTime is not one/, 11],
    ["X STARTS_WITH 1", /expected a string after STARTS_WITH, got "1"/, 15],
    ["BuildIds = 'x'", /BuildIds is a Temporal system attribute that deja does not keep/, 1],
    ['Priority = 3 ORDER StartTime', /expected BY after ORDER, got "StartTime"/, 20],
    ['ORDER BY', /expected an attribute name after ORDER BY, got the end of the query/, 9],
    ["X = 'a' ; DROP TABLE runs", /unexpected character ";"/, 9],
    ['`Name = 1', /this `quoted name has no closing backquote/, 1],
    ['X = 12abc', /expected a number, got "12a"/, 5],
    // A sign and a point that start no number (found by the property below, seed 475417017).
    ['X = +.', /expected a number, got "\+\."/, 5],
    ['AND = 1', /expected an attribute name, got "AND" \(quote it with backquotes to use a keyword as a name\)/, 1],
  ];
  for (const [text, message, position] of cases) {
    const error = syntaxError(text);
    t.match(error, /^listWorkflows: query: /, `${text}: says where and what`);
    t.match(error, message, `${text}: ${message.source}`);
    t.match(error, new RegExp(` at position ${position}:\\n`), `${text}: at position ${position}`);
    const [, shown, caret] = error.split('\n');
    t.equal(caret.indexOf('^') - 2, position - 1, `${text}: the caret is under position ${position}`);
    t.equal(shown.slice(2), text, `${text}: the filter is shown`);
  }
  // Limits that keep evaluation bounded on every backend.
  t.match(syntaxError('('.repeat(40) + 'X = 1' + ')'.repeat(40)), /nests NOT and parentheses more than 32 deep at position 33/);
  t.match(syntaxError('NOT '.repeat(40) + 'X = 1'), /nests NOT and parentheses more than 32 deep/);
  t.match(syntaxError(Array.from({ length: 201 }, (_, i) => `X = ${i}`).join(' OR ')), /the filter has more than 200 conditions/);
  t.match(syntaxError(`X IN (${Array.from({ length: 1001 }, (_, i) => i).join(', ')})`), /an IN list takes at most 1000 values/);
  // A long filter is shown around the position.
  const long = `${"WorkflowType = 'x' AND ".repeat(10)}Priority = AND`;
  const [, shown, caret] = syntaxError(long).split('\n');
  t.ok(shown.length < 100 && shown.startsWith('  …'), 'a long filter is cut around the position');
  t.equal(shown[caret.indexOf('^')], 'A', 'and the caret still points at the token');
});

t.test('the parser: every operator, both quotes, keywords in any case, backquoted names, system attributes resolved', async (t) => {
  t.same(parseListQuery('w', ''), {}, 'an empty filter: every run');
  t.same(parseListQuery('w', '   '), {});
  t.same(parseListQuery('w', "WorkflowType = 'order' and ExecutionStatus = \"Running\" Or not Priority >= -2.5"), {
    where: {
      op: 'or',
      left: {
        op: 'and',
        left: { op: '=', field: { kind: 'system', name: 'workflowType' }, value: 'order' },
        right: { op: '=', field: { kind: 'system', name: 'status' }, value: 'running' },
      },
      right: { op: 'not', expr: { op: '>=', field: { kind: 'custom', name: 'Priority' }, value: -2.5 } },
    },
  });
  t.same(parseListQuery('w', "StartTime > '2026-01-01T00:00:00Z' ORDER BY StartTime DESC, `My Field`, CloseTime asc"), {
    where: { op: '>', field: { kind: 'system', name: 'startTime' }, value: Date.UTC(2026, 0, 1) },
    orderBy: [
      { field: { kind: 'system', name: 'startTime' }, descending: true },
      { field: { kind: 'custom', name: 'My Field' }, descending: false },
      { field: { kind: 'system', name: 'closeTime' }, descending: false },
    ],
  });
  const atoms: [string, unknown][] = [
    ['X != 1', { op: '!=', field: { kind: 'custom', name: 'X' }, value: 1 }],
    ['X <> 1', { op: '!=', field: { kind: 'custom', name: 'X' }, value: 1 }],
    ['X < true', { op: '<', field: { kind: 'custom', name: 'X' }, value: true }],
    ['X <= FALSE', { op: '<=', field: { kind: 'custom', name: 'X' }, value: false }],
    ["X IN ('a', \"b\", 3)", { op: 'in', field: { kind: 'custom', name: 'X' }, values: ['a', 'b', 3], negated: false }],
    ['X NOT IN (1)', { op: 'in', field: { kind: 'custom', name: 'X' }, values: [1], negated: true }],
    ['X BETWEEN 1 AND 2', { op: 'between', field: { kind: 'custom', name: 'X' }, low: 1, high: 2, negated: false }],
    ['X not between 1 and 2', { op: 'between', field: { kind: 'custom', name: 'X' }, low: 1, high: 2, negated: true }],
    ["X STARTS_WITH 'it''s'", { op: 'startsWith', field: { kind: 'custom', name: 'X' }, prefix: "it's", negated: false }],
    ["X NOT STARTS_WITH 'a\\'b'", { op: 'startsWith', field: { kind: 'custom', name: 'X' }, prefix: "a'b", negated: true }],
    ['X IS NULL', { op: 'isNull', field: { kind: 'custom', name: 'X' }, negated: false }],
    ['X is not null', { op: 'isNull', field: { kind: 'custom', name: 'X' }, negated: true }],
    ["ExecutionStatus IN ('Canceled', 'ContinuedAsNew')", { op: 'in', field: { kind: 'system', name: 'status' }, values: ['cancelled', 'continuedAsNew'], negated: false }],
    ["ParentWorkflowId = 'p'", { op: '=', field: { kind: 'system', name: 'parentWorkflowId' }, value: 'p' }],
    ['HistoryLength BETWEEN 1 AND 1e3', { op: 'between', field: { kind: 'system', name: 'historyLength' }, low: 1, high: 1000, negated: false }],
    ["ExecutionTime <= '2026-01-01 10:00'", { op: '<=', field: { kind: 'system', name: 'executionTime' }, value: Date.UTC(2026, 0, 1, 10) }],
    ["CloseTime < '2026-01-01T10:00:00.123456789+02:00'", { op: '<', field: { kind: 'system', name: 'closeTime' }, value: Date.UTC(2026, 0, 1, 8, 0, 0, 123) }],
  ];
  for (const [text, where] of atoms) t.same(parseListQuery('w', text), { where }, text);
  t.equal(parseTime('2026-01-31'), Date.UTC(2026, 0, 31));
  t.equal(parseTime('2026-01-31T12:00:00-0130'), Date.UTC(2026, 0, 31, 13, 30));
  t.equal(parseTime('2026-13-01'), undefined);
  t.equal(parseTime('Jan 1 2026'), undefined);
});

t.test('property: a printed filter parses back to itself; any text parses or is refused with a position', async (t) => {
  t.comment(`fast-check seed ${fcSeed} (rerun with FC_SEED=${fcSeed})`);
  fc.assert(
    fc.property(arbQuery, (query) => {
      const text = formatListQuery(query);
      const back = canon(parseListQuery('w', text));
      if (back !== canon(query)) throw new Error(`${text}\n parsed ${back}\n wanted ${canon(query)}`);
    }),
    { seed: fcSeed, numRuns: 300 },
  );
  const pieces = fc.constantFrom('X', 'WorkflowType', 'StartTime', '=', '!=', '>', 'IN', '(', ')', ',', "'a'", '"b"', '1', '-2.5', 'AND', 'OR', 'NOT', 'BETWEEN', 'IS', 'NULL', 'ORDER', 'BY', 'DESC', 'STARTS_WITH', '`q`', "'", '`', ';');
  fc.assert(
    fc.property(fc.array(pieces, { maxLength: 12 }), fc.string({ maxLength: 3 }), (words, noise) => {
      const text = words.join(' ') + noise;
      try {
        parseListQuery('w', text);
      } catch (err) {
        if (!(err instanceof InvalidArgumentError) || !/ at position \d+:\n/.test(err.message)) throw err;
      }
    }),
    { seed: fcSeed, numRuns: 2000 },
  );
  t.pass('every printed filter parsed back; every text was parsed or refused with a position');
});

// ── the stores ────────────────────────────────────────────────────────────────────────────────

type Tx = <T>(fn: (tx: StoreTx) => Promise<T>) => Promise<T>;

t.test('property: the memory store and SQLite list and count the same runs on random filters', async (t) => {
  t.comment(`fast-check seed ${fcSeed} (rerun with FC_SEED=${fcSeed})`);
  await fc.assert(
    fc.asyncProperty(arbRuns, fc.array(arbQuery, { minLength: 1, maxLength: 5 }), async (runs, queries) => {
      const stores: Store[] = [new MemoryStore(), new SqliteStore(newFile('agree'))];
      try {
        const answers: unknown[] = [];
        for (const store of stores) {
          const tx: Tx = (fn) => store.transaction(fn);
          await tx(async (x) => {
            for (const run of runs) await x.runs.insert(run);
          });
          const answer = [];
          for (const query of queries) {
            answer.push(await listAll(tx, query, 3));
            answer.push(await tx((x) => x.runs.count(query.where)));
          }
          answers.push(answer);
        }
        if (JSON.stringify(answers[0]) !== JSON.stringify(answers[1])) {
          throw new Error(`memory ${JSON.stringify(answers[0])}\nsqlite ${JSON.stringify(answers[1])}\nfor ${queries.map(formatListQuery).join(' | ')}`);
        }
      } finally {
        for (const store of stores) await store.close();
      }
    }),
    { seed: fcSeed, numRuns: 40 },
  );
  t.pass('they agreed');
});

t.test('SQLite: a filter on a custom attribute is answered from its index (EXPLAIN QUERY PLAN)', async (t) => {
  const file = newFile('plan');
  const store = new SqliteStore(file);
  await store.transaction(async (x) => {
    for (const run of FIXED_RUNS) await x.runs.insert(run);
  });
  await store.close();
  const db = new Database(file, { readonly: true });
  t.teardown(() => db.close());
  const plan = (text: string) => {
    const { sql, params } = whereSql(parseListQuery('w', text).where!);
    return (db.prepare(`EXPLAIN QUERY PLAN SELECT record FROM runs WHERE ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join('\n');
  };
  t.match(plan("CustomKeywordField = 'blue'"), /USING (COVERING )?INDEX run_search_attributes_str \(name=\? AND str=\?\)/, 'a keyword: its (name, str) index');
  t.match(plan('Priority > 2'), /USING (COVERING )?INDEX run_search_attributes_num \(name=\? AND num>\?\)/, 'a number range: its (name, num) index');
  t.match(plan("CustomKeywordField STARTS_WITH 'bl'"), /USING (COVERING )?INDEX run_search_attributes_str \(name=\? AND str>\?\)/, 'a prefix: a range of the (name, str) index');
  t.match(plan("CloseTime > '2026-01-01T00:00:00Z'"), /USING INDEX runs_close_time \(close_time>\?\)/, 'a system time: its column index');
  t.match(plan("WorkflowType = 'order'"), /USING INDEX runs_workflow_type \(workflow_type=\?\)/, 'the workflow type: its index');
  t.notMatch(plan("CustomKeywordField = 'blue'"), /SCAN run_search_attributes/, 'no scan of the attributes table');
});

t.test('the largest filters the parser takes run on both stores', async (t) => {
  const big = [
    Array.from({ length: 200 }, (_, i) => `Priority = ${i}`).join(' OR '),
    Array.from({ length: 200 }, (_, i) => `NOT CustomKeywordField = 'v${i}'`).join(' AND '),
    `${'('.repeat(31)}Priority IN (${Array.from({ length: 1000 }, (_, i) => i).join(', ')})${')'.repeat(31)}`,
  ];
  for (const store of [new MemoryStore(), new SqliteStore(newFile('big'))]) {
    const tx: Tx = (fn) => store.transaction(fn);
    await tx(async (x) => {
      for (const run of FIXED_RUNS) await x.runs.insert(run);
    });
    t.same(await listAll(tx, parseListQuery('w', big[0]), 10), ['r3', 'r2', 'r1']);
    t.same(await listAll(tx, parseListQuery('w', big[1]), 10), ['r4', 'r3', 'r2', 'r1', 'r5']);
    t.equal(await tx((x) => x.runs.count(parseListQuery('w', big[2]).where)), 3);
    await store.close();
  }
});

t.test('SQLite: a file of the previous schema is migrated, its runs filled into the new columns and table', async (t) => {
  const file = newFile('previous');
  const old = new Database(file);
  old.pragma('journal_mode = WAL');
  old.exec(MIGRATIONS[0]);
  old.pragma(`application_id = ${DEJA_APPLICATION_ID}`);
  old.pragma('user_version = 1');
  const insert = old.prepare('INSERT INTO runs (run_id, workflow_id, workflow_type, task_queue, status, start_time, record) VALUES (?, ?, ?, ?, ?, ?, ?)');
  for (const run of FIXED_RUNS) insert.run(run.runId, run.workflowId, run.workflowType, run.taskQueue, run.status, run.startTime, JSON.stringify(run));
  old.close();

  const store = new SqliteStore(file);
  t.teardown(() => store.close());
  const tx: Tx = (fn) => store.transaction(fn);
  for (const [text, expected] of FIXED_CASES) {
    t.same(await listAll(tx, parseListQuery('w', text), 2), expected, `migrated: ${text || '(no filter)'}`);
  }
  t.same(await tx((x) => x.runs.get('r1')), FIXED_RUNS[0], 'the records themselves are unchanged');
  // Updates after the migration keep the rows in step.
  await tx(async (x) => x.runs.update({ ...FIXED_RUNS[1], searchAttributes: { CustomKeywordField: { type: 'KEYWORD', value: 'blue' } } }));
  t.same(await listAll(tx, parseListQuery('w', "CustomKeywordField = 'blue'"), 5), ['r2', 'r1']);
  t.same(await listAll(tx, parseListQuery('w', 'Priority = 1'), 5), []);
});

// ── the service ───────────────────────────────────────────────────────────────────────────────

for (const [backend, makeStore] of [
  ['memory', () => new MemoryStore()],
  ['sqlite', () => new SqliteStore(newFile('service'))],
] as const) {
  t.test(`${backend}: listWorkflows with a query, paged; page tokens bound to their query; countWorkflows`, async (t) => {
    const service = new LocalWorkflowService({ store: makeStore() });
    t.teardown(() => service.close());
    const started: string[] = [];
    for (let i = 0; i < 7; i++) {
      const { runId } = await service.startWorkflow({
        workflowId: `wf-${i}`,
        workflowType: i % 2 ? 'odd' : 'even',
        taskQueue: 'q',
        args: [],
        searchAttributes: { Rank: { type: 'INT', value: (i * 3) % 7 }, Color: { type: 'KEYWORD', value: i < 3 ? 'red' : 'blue' } },
        memo: { i },
      });
      started.push(runId);
    }
    const pages: string[][] = [];
    let nextPageToken: string | undefined;
    const query = "Color = 'blue' OR Rank < 2 ORDER BY Rank DESC";
    do {
      const page = await service.listWorkflows({ query, pageSize: 2, ...(nextPageToken ? { nextPageToken } : {}) });
      pages.push(page.executions.map((e) => e.workflowId));
      nextPageToken = page.nextPageToken;
      if (pages.length === 1) {
        t.same(page.executions[0].searchAttributes, { Rank: { type: 'INT', value: 5 }, Color: { type: 'KEYWORD', value: 'blue' } }, 'a description carries the search attributes');
        t.same(page.executions[0].memo, { i: 4 }, 'and the memo');
      }
    } while (nextPageToken !== undefined);
    // Ranks: wf-0 0, wf-1 3, wf-2 6, wf-3 2, wf-4 5, wf-5 1, wf-6 4; blue: wf-3..6; rank < 2: wf-0, wf-5.
    t.same(pages, [['wf-4', 'wf-6'], ['wf-3', 'wf-5'], ['wf-0']], 'pages follow the ORDER BY');
    t.same(await service.countWorkflows({ query: "Color = 'blue' OR Rank < 2" }), { count: 5 });
    t.same(await service.countWorkflows(), { count: 7 });
    t.same(await service.countWorkflows({ query: "WorkflowType = 'odd' AND ExecutionStatus = 'Running'" }), { count: 3 });
    // The older filters still work, alone and with a query.
    t.same((await service.listWorkflows({ workflowType: 'odd' })).executions.map((e) => e.workflowId), ['wf-5', 'wf-3', 'wf-1']);
    t.same((await service.listWorkflows({ workflowType: 'odd', query: 'Rank >= 2' })).executions.map((e) => e.workflowId), ['wf-3', 'wf-1']);

    const first = await service.listWorkflows({ query, pageSize: 2 });
    await t.rejects(service.listWorkflows({ query: 'Rank > 0', nextPageToken: first.nextPageToken }), { name: 'InvalidArgumentError', message: /nextPageToken belongs to another query/ });
    await t.rejects(service.listWorkflows({ nextPageToken: first.nextPageToken }), { message: /token of a filtered list; pass the same query/ });
    const plain = await service.listWorkflows({ pageSize: 2 });
    await t.rejects(service.listWorkflows({ query, nextPageToken: plain.nextPageToken }), { message: /token of an unfiltered list/ });
    const tampered = Buffer.from(JSON.stringify({ after: 'no-such-run', query: JSON.parse(Buffer.from(first.nextPageToken!, 'base64url').toString()).query })).toString('base64url');
    await t.rejects(service.listWorkflows({ query, nextPageToken: tampered }), { message: /nextPageToken names no run/ });
    await t.rejects(service.listWorkflows({ query, nextPageToken: 'not a token!' }), { message: /is not a page token from a previous listWorkflows page/ });
    await t.rejects(service.listWorkflows({ query: "WorkflowType = AND ExecutionStatus = 'Running'" }), {
      name: 'InvalidArgumentError',
      message: /^listWorkflows: query: expected a value after "=", got "AND" at position 16:\n {2}WorkflowType = AND ExecutionStatus = 'Running'\n {17}\^$/,
    });
    await t.rejects(service.countWorkflows({ query: 'Rank > 1 ORDER BY Rank' }), { message: /^countWorkflows: query: a count takes no ORDER BY/ });
    await t.rejects(service.countWorkflows({ query: 'Rank >' }), { message: /^countWorkflows: query: expected a value after ">", got the end of the query at position 7/ });
    await t.rejects(service.countWorkflows({ filter: 'x' } as never), { message: /countWorkflows: .*filter/ });
    await t.rejects(service.listWorkflows({ query: 42 } as never), { message: /listWorkflows: query must be a string \(Temporal's list filter\), got number 42/ });
    t.same(await service.countWorkflows({ query: '' }), { count: 7 }, 'an empty filter: every run');
    t.equal((await service.listWorkflows({ query: '', pageSize: 1000 })).executions.length, 7);
    t.ok(started.length === 7);
  });
}
