// Search attributes and memo: the converters between Temporal's legacy and typed forms and the
// wire form (bad values refused with a TypeError that says what was expected), then end to end on
// the in-memory store and on SQLite: start options in both forms, upserts in the workflow seen by
// workflowInfo() at once and by describe(), list({ query }) and count(), a child's memo and search
// attributes, and bad values refused in the workflow and at the client.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  SearchAttributeType,
  TypedSearchAttributes,
  defineSearchAttributeKey,
  legacyToWire,
  legacyToWireUpserts,
  startSearchAttributesToWire,
  typedToWire,
  typedToWireUpserts,
  wireToLegacy,
  wireToTyped,
} from '../runtime/search-attributes';
import { Connection, WorkflowClient } from '../lib/client';
import { InvalidArgumentError } from '../lib/errors';
import { Worker } from '../lib/worker';
import { testBundle } from './support/env';
import { main } from '../lib/cli/main';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-search-attributes-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

const plain = (v: unknown) => JSON.parse(JSON.stringify(v));

t.test('converters: the legacy form, types inferred as Temporal infers them (a string is a KEYWORD)', async (t) => {
  const when = new Date('2026-01-31T12:00:00.000Z');
  t.same(plain(legacyToWire('start', { K: ['a'], L: ['a', 'b'], I: [3], D: [2.5], B: [false], T: [when], Gone: [], Nothing: undefined })), {
    K: { type: 'KEYWORD', value: 'a' },
    L: { type: 'KEYWORD_LIST', value: ['a', 'b'] },
    I: { type: 'INT', value: 3 },
    D: { type: 'DOUBLE', value: 2.5 },
    B: { type: 'BOOL', value: false },
    T: { type: 'DATETIME', value: '2026-01-31T12:00:00.000Z' },
  });
  t.same(plain(legacyToWireUpserts('upsert', { K: ['a'], Gone: [], Null: null as never, Undef: undefined })), { K: { type: 'KEYWORD', value: 'a' }, Gone: null, Null: null, Undef: null });
  const back = wireToLegacy({ K: { type: 'KEYWORD', value: 'a' }, L: { type: 'KEYWORD_LIST', value: ['x'] }, T: { type: 'DATETIME', value: '2026-01-31T12:00:00Z' }, I: { type: 'INT', value: 1 } });
  t.same(back.K, ['a']);
  t.same(back.L, ['x']);
  t.same(back.I, [1]);
  t.ok(back.T![0] instanceof Date && (back.T![0] as Date).getTime() === when.getTime(), 'a DATETIME reads back as a Date');

  const bad: [unknown, RegExp][] = [
    [{ X: 'a' }, /start: X: expected an array of values \(Temporal's legacy form, such as \['blue'\] or \[42\]\), got "a"; or use typed search attributes/],
    [{ X: [1, 2] }, /start: X: only strings \(a KEYWORD_LIST\) may have several values; got 2 values of type number/],
    [{ X: ['a', 1] }, /start: X: the values must all be of one type, got "a" and 1/],
    [{ X: [{}] }, /start: X: a value must be a string, a number, a boolean or a Date, got object/],
    [{ X: [Infinity] }, /start: X: a number must be finite, got Infinity/],
    [{ X: [new Date(NaN)] }, /start: X: expected a valid Date, got an invalid Date/],
    [{ '': ['a'] }, /start: a search attribute name must be a non-empty string, got ""/],
    [['a'], /start: expected an object of search attributes \(\{ Name: \[values\] \}\), got an array/],
    [null, /start: expected an object of search attributes/],
  ];
  for (const [value, message] of bad) t.throws(() => legacyToWire('start', value), { name: 'TypeError', message }, String(message));
});

t.test('converters: the typed form, TypedSearchAttributes', async (t) => {
  const kw = defineSearchAttributeKey('Color', SearchAttributeType.KEYWORD);
  const n = defineSearchAttributeKey('Count', SearchAttributeType.INT);
  const d = defineSearchAttributeKey('At', SearchAttributeType.DATETIME);
  const list = defineSearchAttributeKey('Tags', SearchAttributeType.KEYWORD_LIST);
  const text = defineSearchAttributeKey('Text', 'TEXT');
  const at = new Date(Date.UTC(2026, 0, 1));
  const typed = new TypedSearchAttributes([
    { key: kw, value: 'red' },
    { key: n, value: 3 },
    { key: d, value: at },
    { key: list, value: ['a'] },
    { key: text, value: 'some words' },
  ]);
  t.equal(typed.get(kw), 'red');
  t.equal(typed.get(n), 3);
  t.equal(typed.get(d)?.getTime(), at.getTime());
  t.same(typed.get(list), ['a']);
  t.equal(typed.get(defineSearchAttributeKey('Count', SearchAttributeType.DOUBLE)), undefined, 'a key of another type reads nothing');
  t.equal(typed.get(defineSearchAttributeKey('Missing', SearchAttributeType.KEYWORD)), undefined);
  const updated = typed.updateCopy([
    { key: n, value: null },
    { key: kw, value: 'blue' },
  ]);
  t.equal(updated.get(n), undefined, 'updateCopy: null removes');
  t.equal(updated.get(kw), 'blue');
  t.equal(typed.get(kw), 'red', 'the original is unchanged');
  t.same(plain(updated.getAll()).map((p: { key: { name: string } }) => p.key.name), ['Color', 'At', 'Tags', 'Text']);
  t.same(plain(typedToWire('start', typed)), plain(typed.toWire()), 'a TypedSearchAttributes as start attributes');
  t.same(plain(wireToTyped(typed.toWire()).getAll()), plain(typed.getAll()), 'the wire form round-trips');
  t.same(plain(startSearchAttributesToWire('start', { Color: ['legacy'], Other: [1] }, [{ key: kw, value: 'typed' }])), {
    Color: { type: 'KEYWORD', value: 'typed' },
    Other: { type: 'INT', value: 1 },
  }, 'both forms at a start: the typed value wins');
  t.same(plain(typedToWireUpserts('upsert', [{ key: kw, value: null }])), { Color: null });

  const bad: [() => unknown, RegExp][] = [
    [() => defineSearchAttributeKey('', 'KEYWORD'), /defineSearchAttributeKey: a search attribute name must be a non-empty string/],
    [() => defineSearchAttributeKey('X', 'STRING' as never), /defineSearchAttributeKey: type must be one of TEXT, KEYWORD, INT, DOUBLE, BOOL, DATETIME, KEYWORD_LIST, got "STRING"/],
    [() => typedToWire('start', [{ key: n, value: 1.5 }]), /start: Count: an INT value must be a safe integer, got 1.5/],
    [() => typedToWire('start', [{ key: kw, value: 1 }]), /start: Color: a KEYWORD value must be a string, got 1/],
    [() => typedToWire('start', [{ key: d, value: '2026-01-01' }]), /start: At: a DATETIME value must be a Date, got "2026-01-01"/],
    [() => typedToWire('start', [{ key: list, value: ['a', 2] }]), /start: Tags: a KEYWORD_LIST value must be an array of strings, got 2 at index 1/],
    [() => typedToWire('start', [{ key: defineSearchAttributeKey('F', 'DOUBLE'), value: NaN }]), /start: F: a DOUBLE value must be a finite number, got NaN/],
    [() => typedToWire('start', [{ key: defineSearchAttributeKey('F', 'BOOL'), value: 'yes' }]), /start: F: a BOOL value must be a boolean, got "yes"/],
    [() => typedToWire('start', [{ value: 1 }]), /start: pair 0 has no key \(make one with defineSearchAttributeKey\(name, type\)\)/],
    [() => typedToWire('start', [{ key: kw, value: 'a' }, { key: kw, value: 'b' }]), /start: Color is given twice/],
    [() => typedToWire('start', { Color: 'x' }), /start: expected an array of \{ key, value \} pairs or a TypedSearchAttributes, got object/],
    [() => new TypedSearchAttributes([{ key: n, value: 'x' as never }]), /TypedSearchAttributes: Count: an INT value must be a safe integer, got "x"/],
  ];
  for (const [f, message] of bad) t.throws(f, { name: 'TypeError', message }, String(message));
});

// ── end to end ────────────────────────────────────────────────────────────────────────────────

for (const backend of ['memory', 'sqlite'] as const) {
  t.test(`${backend}: start options, upserts, workflowInfo, describe, list({ query }) and count()`, async (t) => {
    const backendString = backend === 'memory' ? `memory:sa-${randomUUID()}` : `sqlite:${path.join(dir, `${randomUUID()}.db`)}`;
    const connection = new Connection({ backend: backendString });
    const taskQueue = `sa-${backend}`;
    const worker = await Worker.create({ connection, taskQueue, workflowBundle: await testBundle(), activities: {}, logger: () => undefined });
    const running = worker.run();
    const client = new WorkflowClient({ connection });
    t.teardown(async () => {
      worker.shutdown();
      await running;
      await connection.close();
    });
    const id = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
    const tag = randomUUID().slice(0, 8);

    // The fixture's workflow: upserts seen by workflowInfo() at once, in both forms.
    const seen = (await client.execute('upsertWorkflow', { taskQueue, workflowId: id('upsert') })) as Record<string, unknown>[];
    t.same(seen[0], { legacy: {}, typed: [], priority: null, priorityAsKeyword: null, memo: null }, 'nothing at the start');
    t.same(seen[1], {
      legacy: { CustomKeywordField: ['updated'], Priority: [7] },
      typed: [['CustomKeywordField', 'KEYWORD', 'updated'], ['Priority', 'INT', 7]],
      priority: 7,
      priorityAsKeyword: null,
      memo: { note: 'hello', nested: { a: [1, 2] } },
    }, 'after the upserts: both forms and the memo (a null field is not set)');
    t.match(seen[2], { legacy: { CustomKeywordField: ['updated'], Tags: ['a', 'b'] }, priority: null, memo: { note: 'hello' } }, 'after typed upserts and removals');
    t.match((seen[2].legacy as Record<string, string[]>).Due[0], /^\d{4}-\d\d-\d\dT/, 'a DATETIME from the typed form');

    // A run started with memo and search attributes in both forms, which upserts more and waits.
    const workflowId = id('wait');
    const handle = await client.start('upsertAndWaitWorkflow', {
      taskQueue,
      workflowId,
      args: [{ Stage: ['two'], Tag: [tag] }, { step: 2, start: null }],
      memo: { start: 'yes', owner: { name: 'ann' } },
      searchAttributes: { Tag: [tag], Stage: ['one'], Amount: [12.5] },
      typedSearchAttributes: [{ key: defineSearchAttributeKey('Big', SearchAttributeType.BOOL), value: true }],
    });
    let described = await handle.describe();
    t.same(described.memo, { start: 'yes', owner: { name: 'ann' } }, 'describe: the memo as started');
    t.same(described.searchAttributes, { Tag: [tag], Stage: ['one'], Amount: [12.5], Big: [true] }, 'describe: the legacy form');
    t.equal(described.typedSearchAttributes.get(defineSearchAttributeKey('Amount', SearchAttributeType.DOUBLE)), 12.5, 'describe: the typed form');
    for (let i = 0; i < 500 && (await handle.describe()).searchAttributes.Stage?.[0] !== 'two'; i++) await new Promise((r) => setTimeout(r, 10));
    described = await handle.describe();
    t.same(described.searchAttributes, { Tag: [tag], Stage: ['two'], Amount: [12.5], Big: [true] }, 'the upsert reached the run');
    t.same(described.memo, { owner: { name: 'ann' }, step: 2 }, 'the memo upsert too (null removed "start")');

    const list = async (query: string) => {
      const ids: string[] = [];
      for await (const r of client.list({ query, pageSize: 1 })) ids.push(r.workflowId);
      return ids;
    };
    t.same(await list(`Tag = '${tag}' AND Stage = 'two' AND ExecutionStatus = 'Running'`), [workflowId], 'list({ query }) finds it by its upserted attributes');
    t.same(await list(`Tag = '${tag}' AND Stage = 'one'`), [], 'and no longer by the old value');
    t.same(await list(`Tag = '${tag}' AND Amount > 12 AND Big = true AND WorkflowType = 'upsertAndWaitWorkflow'`), [workflowId]);
    t.same(await client.count(`Tag = '${tag}'`), { count: 1 }, "count() in Temporal's shape");
    await handle.signal('finish');
    const result = (await handle.result()) as { legacy: unknown; memo: unknown };
    t.same(result.legacy, { Tag: [tag], Stage: ['two'], Amount: [12.5], Big: [true] }, 'workflowInfo(): start attributes and upserts together');
    t.same(result.memo, { owner: { name: 'ann' }, step: 2 });
    t.same(await list(`Tag = '${tag}' AND ExecutionStatus = 'Completed'`), [workflowId], 'closed: found as Completed');
    t.same(await list(`Tag = '${tag}' AND CloseTime IS NOT NULL ORDER BY StartTime DESC`), [workflowId]);

    // Several runs, paged in the ORDER BY order.
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const wid = id(`many-${i}`);
      ids.push(wid);
      await client.start('searchChildWorkflow', { taskQueue, workflowId: wid, searchAttributes: { Batch: [tag], Rank: [(i * 2) % 5] } });
    }
    t.same(await list(`Batch = '${tag}' ORDER BY Rank ASC`), [ids[0], ids[3], ids[1], ids[4], ids[2]], 'pages in the ORDER BY order');
    t.same(await client.count(`Batch = '${tag}' AND Rank >= 2`), { count: 3 });

    // A child started with memo and search attributes.
    const parentId = id('parent');
    const child = (await client.execute('searchParentWorkflow', { taskQueue, workflowId: parentId })) as Record<string, unknown>;
    t.same(child.legacy, { CustomKeywordField: ['legacy'], Tags: ['p', 'q'], Priority: [9] }, "the child's search attributes, both forms");
    t.same(child.memo, { from: 'parent' }, "the child's memo");
    t.same(await list(`ParentWorkflowId = '${parentId}' AND Priority = 9`), [`${parentId}-child`], 'the child is found by its parent and its attributes');

    // Bad values: refused in the workflow (a TypeError it can catch) and at the client.
    const messages = (await client.execute('badUpsertWorkflow', { taskQueue, workflowId: id('bad') })) as string[];
    t.equal(messages.length, 12);
    t.notOk(messages.includes('accepted'), 'every bad upsert was refused');
    t.match(messages[0], /^TypeError: upsertSearchAttributes: X: expected an array of values/);
    t.match(messages[6], /^TypeError: upsertSearchAttributes: Priority: an INT value must be a safe integer, got 1.5/);
    t.match(messages[9], /^TypeError: upsertSearchAttributes: CustomKeywordField is given twice/);
    t.match(messages[10], /^TypeError: upsertMemo: field "x": a memo value must be JSON-serializable, got a function/);
    t.match(messages[11], /^TypeError: upsertMemo: expected an object of memo fields, got string/);
    await t.rejects(client.start('searchChildWorkflow', { taskQueue, workflowId: id('x'), searchAttributes: { X: 'a' as never } }), {
      name: 'InvalidArgumentError',
      message: /^WorkflowClient.start searchAttributes: X: expected an array of values/,
    });
    await t.rejects(client.start('searchChildWorkflow', { taskQueue, workflowId: id('x'), memo: [] as never }), { message: /WorkflowClient.start: memo must be an object of memo fields/ });
    await t.rejects(client.count('Rank ORDER BY Rank'), InvalidArgumentError);
    t.throws(() => client.list({ query: 1 as never, nope: 1 } as never), { message: /WorkflowClient.list: unknown option/ });
  });
}

t.test('deja list --query and deja count', async (t) => {
  const backend = `memory:sa-cli-${randomUUID()}`;
  const connection = new Connection({ backend });
  const client = new WorkflowClient({ connection });
  t.teardown(() => connection.close());
  const tag = randomUUID().slice(0, 8);
  for (let i = 0; i < 3; i++) await client.start('searchChildWorkflow', { taskQueue: 'nobody', workflowId: `cli-${tag}-${i}`, searchAttributes: { CliTag: [tag], N: [i] } });
  const lines: string[] = [];
  const out = { log: (l: string) => lines.push(l), error: (l: string) => lines.push(l) };
  t.equal(await main(['list', '--backend', backend, '--query', `CliTag = '${tag}' AND N >= 1 ORDER BY N ASC`, '--json'], out), 0);
  t.same(JSON.parse(lines.join('\n')).map((r: { workflowId: string }) => r.workflowId), [`cli-${tag}-1`, `cli-${tag}-2`]);
  t.same(JSON.parse(lines.join('\n'))[0].searchAttributes, { CliTag: [tag], N: [1] }, 'the JSON carries the search attributes');
  lines.length = 0;
  t.equal(await main(['count', '--backend', backend, '--query', `CliTag = '${tag}'`], out), 0);
  t.same(lines, ['3']);
  lines.length = 0;
  t.equal(await main(['count', '--backend', backend, '--json'], out), 0);
  t.same(JSON.parse(lines[0]), { count: 3 });
  lines.length = 0;
  t.equal(await main(['list', '--backend', backend, '--query', 'CliTag = AND N = 1'], out), 2, 'a syntax error is bad usage');
  t.match(lines.join('\n'), /^deja: list: --query: expected a value after "=", got "AND" at position 10:\n {2}CliTag = AND N = 1\n {11}\^/);
  lines.length = 0;
  t.equal(await main(['count', '--backend', backend, '--query', 'N = 1 ORDER BY N'], out), 2, 'an ORDER BY in a count is bad usage');
  t.match(lines.join('\n'), /count: --query: a count takes no ORDER BY/);
  lines.length = 0;
  t.equal(await main(['help', 'count'], out), 0);
  t.match(lines.join('\n'), /Usage: deja count \[--query <filter>\]/);
});
