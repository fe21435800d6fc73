// The list filter on a Store (host side): runs.list and runs.count with a parsed filter, on a
// fixed set of runs (every operator, ORDER BY, paging through afterRunId) and on random runs and
// random filters against the reference evaluator (lib/visibility/evaluate.ts). Called from
// storeConformance, so every backend runs the same cases.
import fc from 'fast-check';
import type { RunRecord, Store, StoreTx } from '../lib/backends/store';
import type { Field, FilterExpr, FilterValue, ListQuery, OrderBy, SystemField } from '../lib/visibility/ast';
import { matches, runOrder } from '../lib/visibility/evaluate';
import { formatListQuery, parseListQuery } from '../lib/visibility/parse';
import type { SearchAttributes } from '../runtime/protocol';

const base = (runId: string, over: Partial<RunRecord>): RunRecord => ({
  workflowId: `wf-${runId}`,
  runId,
  workflowType: 'order',
  taskQueue: 'main',
  status: 'running',
  startTime: 1000,
  nextEventId: 1,
  lastEventTime: 1000,
  historyBytes: 0,
  historySizeWarned: false,
  workflowTaskTimeoutMs: 10_000,
  workflowTaskPending: false,
  ...over,
});

/** The fixed runs, in insertion order. Default order (newest start, later inserted first): r4 r3 r2 r1 r5. */
export const FIXED_RUNS: RunRecord[] = [
  base('r1', {
    searchAttributes: {
      CustomKeywordField: { type: 'KEYWORD', value: 'blue' },
      Priority: { type: 'INT', value: 3 },
      Tags: { type: 'KEYWORD_LIST', value: ['x', 'y'] },
      Paid: { type: 'BOOL', value: true },
      Due: { type: 'DATETIME', value: '2026-01-02T00:00:00.000Z' },
    },
  }),
  base('r2', {
    status: 'completed',
    startTime: 2000,
    closeTime: 2500,
    searchAttributes: { CustomKeywordField: { type: 'KEYWORD', value: 'red' }, Priority: { type: 'INT', value: 1 }, Score: { type: 'DOUBLE', value: 2.5 } },
  }),
  base('r3', {
    workflowType: 'ship',
    status: 'failed',
    startTime: 3000,
    closeTime: 3100,
    parent: { workflowId: 'wf-r1', runId: 'r1', initiatedEventId: 5, parentClosePolicy: 'terminate' },
    searchAttributes: { CustomKeywordField: { type: 'KEYWORD', value: 'blue-green' }, Priority: { type: 'INT', value: 5 }, Tags: { type: 'KEYWORD_LIST', value: ['y'] } },
  }),
  base('r4', { workflowType: 'ship', taskQueue: 'other', startTime: 3000 }),
  base('r5', {
    status: 'timedOut',
    startTime: 500,
    nextEventId: 10,
    searchAttributes: { Paid: { type: 'BOOL', value: false }, Due: { type: 'DATETIME', value: '2025-12-31T00:00:00Z' } },
  }),
];

/** Filters over FIXED_RUNS and the run ids they list, in order. */
export const FIXED_CASES: [string, string[]][] = [
  ['', ['r4', 'r3', 'r2', 'r1', 'r5']],
  ["WorkflowType = 'order'", ['r2', 'r1', 'r5']],
  ["ExecutionStatus = 'Running'", ['r4', 'r1']],
  ["ExecutionStatus IN ('Completed', 'TimedOut')", ['r2', 'r5']],
  ["StartTime > '1970-01-01T00:00:01Z'", ['r4', 'r3', 'r2']],
  ["StartTime >= '1970-01-01T00:00:01Z'", ['r4', 'r3', 'r2', 'r1']],
  ["StartTime BETWEEN '1970-01-01T00:00:00.500Z' AND '1970-01-01T00:00:02Z'", ['r2', 'r1', 'r5']],
  ["TaskQueue = 'other'", ['r4']],
  ["WorkflowId STARTS_WITH 'wf-r'", ['r4', 'r3', 'r2', 'r1', 'r5']],
  ["RunId <= 'r2'", ['r2', 'r1']],
  ["CustomKeywordField = 'blue'", ['r1']],
  ["CustomKeywordField != 'blue'", ['r3', 'r2']],
  ["NOT CustomKeywordField = 'blue'", ['r4', 'r3', 'r2', 'r5']],
  ["CustomKeywordField > 'blue'", ['r3', 'r2']],
  ['Priority IN (1, 5)', ['r3', 'r2']],
  ['Priority NOT IN (1, 5)', ['r1']],
  ['Priority BETWEEN 2 AND 5', ['r3', 'r1']],
  ['Priority NOT BETWEEN 2 AND 5', ['r2']],
  ['Priority < 3', ['r2']],
  ["Priority = '3'", []],
  ["CustomKeywordField STARTS_WITH 'blue'", ['r3', 'r1']],
  ["CustomKeywordField NOT STARTS_WITH 'blue'", ['r2']],
  ["Tags = 'y'", ['r3', 'r1']],
  ["Tags = 'x'", ['r1']],
  ["Tags IN ('x', 'z')", ['r1']],
  ['Paid = true', ['r1']],
  ['Paid = false', ['r5']],
  ["Due > '2026-01-01T00:00:00Z'", ['r1']],
  ["Due < '2026-01-01'", ['r5']],
  ['CloseTime IS NULL', ['r4', 'r1', 'r5']],
  ['CloseTime IS NOT NULL', ['r3', 'r2']],
  ["ParentWorkflowId = 'wf-r1'", ['r3']],
  ['ParentWorkflowId IS NULL', ['r4', 'r2', 'r1', 'r5']],
  ['HistoryLength >= 9', ['r5']],
  ['Score > 2', ['r2']],
  ['Score < 2.5', []],
  ['Missing IS NULL', ['r4', 'r3', 'r2', 'r1', 'r5']],
  ["(WorkflowType = 'ship' OR Priority < 2) AND ExecutionStatus != 'Failed'", ['r4', 'r2']],
  ["NOT (WorkflowType = 'ship' OR Priority < 2)", ['r1', 'r5']],
  ['ORDER BY StartTime ASC', ['r5', 'r1', 'r2', 'r4', 'r3']],
  ['ORDER BY Priority DESC', ['r3', 'r1', 'r2', 'r4', 'r5']],
  ['ORDER BY CustomKeywordField ASC, StartTime DESC', ['r4', 'r5', 'r1', 'r3', 'r2']],
  ["WorkflowType = 'order' ORDER BY CloseTime DESC", ['r2', 'r1', 'r5']],
  ['ORDER BY Due DESC, RunId', ['r1', 'r5', 'r2', 'r3', 'r4']],
];

type Tx = <T>(fn: (tx: StoreTx) => Promise<T>) => Promise<T>;

/** Every run the filter lists, a page of `pageSize` at a time (afterRunId = the page's last run). */
export async function listAll(tx: Tx, query: ListQuery, pageSize: number): Promise<string[]> {
  const ids: string[] = [];
  let afterRunId: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await tx((x) => x.runs.list({ limit: pageSize, query, ...(afterRunId === undefined ? {} : { afterRunId }) }));
    ids.push(...page.map((r) => r.runId));
    if (page.length < pageSize) return ids;
    afterRunId = page[page.length - 1].runId;
  }
  throw new Error('listAll: too many pages');
}

/** The reference answer: matches and runOrder over the runs in insertion order. */
export function reference(runs: RunRecord[], query: ListQuery): string[] {
  const inserted = new Map(runs.map((r, i) => [r.runId, i]));
  return runs
    .filter((r) => query.where === undefined || matches(r, query.where))
    .sort(runOrder(query.orderBy, (r) => inserted.get(r.runId)!))
    .map((r) => r.runId);
}

// ── random runs and filters ─────────────────────────────────────────────────────────────────

const NAMES = ['A', 'B', 'C'];
const STRINGS = ['', 'a', 'ab', 'b', 'é', 'Z'];
const TIMES = ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00.000Z', '2025-06-01T12:30:00Z'];

const attrValue = fc.oneof(
  fc.constantFrom(...STRINGS).map((value) => ({ type: 'KEYWORD' as const, value })),
  fc.constantFrom(...STRINGS).map((value) => ({ type: 'TEXT' as const, value })),
  fc.array(fc.constantFrom(...STRINGS), { maxLength: 3 }).map((value) => ({ type: 'KEYWORD_LIST' as const, value })),
  fc.integer({ min: -3, max: 3 }).map((value) => ({ type: 'INT' as const, value })),
  fc.constantFrom(-1.5, 0.5, 2, 2.5).map((value) => ({ type: 'DOUBLE' as const, value })),
  fc.boolean().map((value) => ({ type: 'BOOL' as const, value })),
  fc.constantFrom(...TIMES).map((value) => ({ type: 'DATETIME' as const, value })),
);

export const arbRuns = fc
  .array(
    fc.record({
      workflowType: fc.constantFrom('x', 'y'),
      status: fc.constantFrom('running', 'completed', 'failed') as fc.Arbitrary<RunRecord['status']>,
      startTime: fc.integer({ min: 0, max: 4 }).map((n) => n * 1000),
      closed: fc.option(fc.integer({ min: 0, max: 4 }).map((n) => n * 1000 + 500), { nil: undefined }),
      parent: fc.option(fc.constantFrom('p1', 'p2'), { nil: undefined }),
      events: fc.integer({ min: 1, max: 5 }),
      attrs: fc.dictionary(fc.constantFrom(...NAMES), attrValue, { maxKeys: 3 }),
    }),
    { maxLength: 10 },
  )
  .map((specs) =>
    specs.map((s, i) =>
      base(`run${i}`, {
        workflowId: `wf${i % 3}`,
        workflowType: s.workflowType,
        status: s.status,
        startTime: s.startTime,
        ...(s.closed === undefined ? {} : { closeTime: s.closed }),
        ...(s.parent === undefined ? {} : { parent: { workflowId: s.parent, runId: 'pr', initiatedEventId: 5, parentClosePolicy: 'terminate' as const } }),
        nextEventId: s.events,
        ...(Object.keys(s.attrs).length === 0 ? {} : { searchAttributes: s.attrs as SearchAttributes }),
      }),
    ),
  );

const SYSTEM_FIELDS: [SystemField, fc.Arbitrary<FilterValue>][] = [
  ['workflowId', fc.constantFrom('wf0', 'wf1', 'wf', '')],
  ['runId', fc.constantFrom('run0', 'run3', 'run')],
  ['workflowType', fc.constantFrom('x', 'y', 'z')],
  ['status', fc.constantFrom('running', 'completed', 'failed', 'timedOut')],
  ['startTime', fc.integer({ min: 0, max: 4 }).map((n) => n * 1000)],
  ['closeTime', fc.integer({ min: 0, max: 4 }).map((n) => n * 1000 + 500)],
  ['executionTime', fc.integer({ min: 0, max: 4 }).map((n) => n * 1000)],
  ['historyLength', fc.integer({ min: 0, max: 4 })],
  ['parentWorkflowId', fc.constantFrom('p1', 'p2')],
  ['firstExecutionRunId', fc.constantFrom('run0', 'run1')],
  ['taskQueue', fc.constantFrom('main', 'q')],
];

const customValue: fc.Arbitrary<FilterValue> = fc.oneof(
  fc.constantFrom(...STRINGS, ...TIMES, '2026-01-01'),
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(0.5, 2.5),
  fc.boolean(),
);

const arbFieldAndValue: fc.Arbitrary<{ field: Field; value: fc.Arbitrary<FilterValue> }> = fc.oneof(
  fc.constantFrom(...SYSTEM_FIELDS).map(([name, value]) => ({ field: { kind: 'system' as const, name }, value })),
  fc.constantFrom(...NAMES).map((name) => ({ field: { kind: 'custom' as const, name }, value: customValue })),
);

const STRING_SYSTEM = new Set<SystemField>(['workflowId', 'runId', 'workflowType', 'taskQueue', 'parentWorkflowId', 'firstExecutionRunId']);

const arbAtom: fc.Arbitrary<FilterExpr> = arbFieldAndValue.chain(({ field, value }) =>
  fc.oneof(
    fc.record({ op: fc.constantFrom('=', '!=', '>', '>=', '<', '<=' as const), value }).map((r) => ({ ...r, field }) as FilterExpr),
    fc.record({ values: fc.array(value, { minLength: 1, maxLength: 3 }), negated: fc.boolean() }).map((r) => ({ op: 'in' as const, field, ...r })),
    fc.record({ low: value, high: value, negated: fc.boolean() }).map((r) => ({ op: 'between' as const, field, ...r })),
    fc.boolean().map((negated) => ({ op: 'isNull' as const, field, negated })),
    ...(field.kind === 'custom' || STRING_SYSTEM.has(field.name)
      ? [fc.record({ prefix: fc.constantFrom('', 'a', 'wf', 'run', 'é'), negated: fc.boolean() }).map((r) => ({ op: 'startsWith' as const, field, ...r }))]
      : []),
  ),
);

export const arbExpr: fc.Arbitrary<FilterExpr> = fc.letrec<{ expr: FilterExpr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    arbAtom,
    fc.record({ op: fc.constantFrom('and' as const, 'or' as const), left: tie('expr'), right: tie('expr') }),
    tie('expr').map((expr) => ({ op: 'not' as const, expr })),
  ),
})).expr;

const arbOrderBy: fc.Arbitrary<OrderBy[]> = fc.array(
  fc.record({ field: arbFieldAndValue.map((f) => f.field), descending: fc.boolean() }),
  { maxLength: 2 },
);

export const arbQuery: fc.Arbitrary<ListQuery> = fc
  .record({ where: fc.option(arbExpr, { nil: undefined }), orderBy: fc.option(arbOrderBy, { nil: undefined }) })
  .map((q) => {
    const out: ListQuery = {};
    if (q.where !== undefined) out.where = q.where;
    if (q.orderBy !== undefined && q.orderBy.length > 0) out.orderBy = q.orderBy;
    return out;
  });

export const fcSeed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);

export function visibilityConformance(t: tap.Test, makeStore: () => Promise<Store>): void {
  t.test('runs: list and count with a list filter (every operator, ORDER BY, paging)', async (t) => {
    const store = await makeStore();
    t.teardown(() => store.close());
    const tx: Tx = (fn) => store.transaction(fn);
    await tx(async (x) => {
      for (const run of FIXED_RUNS) await x.runs.insert(run);
    });
    for (const [text, expected] of FIXED_CASES) {
      const query = parseListQuery('test', text);
      t.same(await listAll(tx, query, 100), expected, `${text || '(no filter)'}: listed in order`);
      t.same(await listAll(tx, query, 2), expected, `${text || '(no filter)'}: the same two at a time`);
      if (!query.orderBy) t.equal(await tx((x) => x.runs.count(query.where)), expected.length, `${text || '(no filter)'}: counted`);
    }
    // The filter combines with the older filters of runs.list.
    const q = parseListQuery('test', 'Priority >= 1');
    t.same((await tx((x) => x.runs.list({ limit: 10, query: q, workflowType: 'order' }))).map((r) => r.runId), ['r2', 'r1']);
    // An update changes what the filter sees: a new value, a removed attribute, a closed run.
    await tx(async (x) => {
      const r1 = (await x.runs.get('r1'))!;
      await x.runs.update({ ...r1, status: 'completed', closeTime: 4000, searchAttributes: { CustomKeywordField: { type: 'KEYWORD', value: 'red' } } });
    });
    t.same(await listAll(tx, parseListQuery('test', "CustomKeywordField = 'red'"), 1), ['r2', 'r1'], 'an updated attribute is found');
    t.same(await listAll(tx, parseListQuery('test', 'Priority IS NULL'), 5), ['r4', 'r1', 'r5'], 'a removed attribute is gone');
    t.same(await listAll(tx, parseListQuery('test', "CloseTime > '1970-01-01T00:00:03Z'"), 5), ['r3', 'r1']);
    t.equal(await tx((x) => x.runs.count(parseListQuery('test', "ExecutionStatus = 'Running'").where)), 1);
    t.equal(await tx((x) => x.runs.count()), 5, 'count with no filter: every run');
    t.same(await tx((x) => x.runs.list({ limit: 5, query: {}, afterRunId: 'nope' })), [], 'after an unknown run: nothing');
  });

  t.test('runs: list and count agree with the reference evaluator on random runs and filters', async (t) => {
    t.comment(`fast-check seed ${fcSeed} (rerun with FC_SEED=${fcSeed})`);
    await fc.assert(
      fc.asyncProperty(arbRuns, arbQuery, fc.integer({ min: 1, max: 4 }), async (runs, query, pageSize) => {
        const store = await makeStore();
        try {
          const tx: Tx = (fn) => store.transaction(fn);
          await tx(async (x) => {
            for (const run of runs) await x.runs.insert(run);
          });
          const expected = reference(runs, query);
          const all = await listAll(tx, query, 100);
          if (JSON.stringify(all) !== JSON.stringify(expected)) throw new Error(`${formatListQuery(query)}: listed ${all.join(',')}, expected ${expected.join(',')}`);
          const paged = await listAll(tx, query, pageSize);
          if (JSON.stringify(paged) !== JSON.stringify(expected)) throw new Error(`${formatListQuery(query)}: paged by ${pageSize}: ${paged.join(',')}, expected ${expected.join(',')}`);
          if (query.orderBy === undefined) {
            const count = await tx((x) => x.runs.count(query.where));
            if (count !== expected.length) throw new Error(`${formatListQuery(query)}: counted ${count}, expected ${expected.length}`);
          }
        } finally {
          await store.close();
        }
      }),
      { seed: fcSeed, numRuns: 60 },
    );
    t.pass('agreed on every case');
  });
}
