// The in-memory Store against the backend conformance suite, its ordered index against a sorted
// array, the whole store against a naive model that scans (the obvious implementation), and the
// work a claim or a due check does as the queue grows, counted (never timed).
import t from 'tap';
import fc from 'fast-check';
import { MemoryStore } from '../lib/backends/memory';
import { SortedSet, sortedSetWork } from '../lib/backends/memory/sorted-set';
import { cloneData } from '../lib/backends/memory/clone';
import { isDeepStrictEqual } from 'node:util';
import type { QueryRecord, Store, StoreTx, TaskKind, TaskRecord, TimerKind, TimerRecord } from '../lib/backends/store';
import { storeConformance } from './store-conformance';
import { scheduleStoreConformance } from './schedule-store-conformance';

const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
const numRuns = Number(process.env.DEJA_PROPERTY_RUNS ?? 60);

storeConformance(t, async () => new MemoryStore());
scheduleStoreConformance(t, async () => new MemoryStore());

t.test('SortedSet: insert, delete, min and first agree with a sorted array', async (t) => {
  t.comment(`fast-check seed ${seed} (rerun with FC_SEED=${seed})`);
  const op = fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), n: fc.integer({ min: 0, max: 60 }) }),
    fc.record({ kind: fc.constant('delete' as const), n: fc.integer({ min: 0, max: 60 }) }),
    fc.record({ kind: fc.constant('first' as const), n: fc.integer({ min: -1, max: 61 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const set = new SortedSet<number>((a, b) => a - b);
      let model: number[] = [];
      for (const o of ops) {
        if (o.kind === 'insert' && !model.includes(o.n)) {
          set.insert(o.n);
          model = [...model, o.n].sort((a, b) => a - b);
        } else if (o.kind === 'delete') {
          if (set.delete(o.n) !== model.includes(o.n)) return false;
          model = model.filter((x) => x !== o.n);
        } else if (o.kind === 'first') {
          if (set.first((x) => x > o.n) !== model.find((x) => x > o.n)) return false;
        }
        if (set.min() !== model[0] || set.size !== model.length) return false;
      }
      return JSON.stringify([...set]) === JSON.stringify(model);
    }),
    { seed, numRuns: numRuns * 5 },
  );
  t.pass('agrees');
});

// ---- a naive model of the task, timer and query stores: scans, as the contract reads ----

interface Model {
  seq: number;
  tasks: Record<string, { task: TaskRecord; seq: number }>;
  timers: Record<string, { timer: TimerRecord; seq: number }>;
  queries: Record<string, { query: QueryRecord; seq: number }>;
}
const byAtSeq = <E extends { seq: number }>(at: (e: E) => number) => (a: E, b: E) => at(a) - at(b) || a.seq - b.seq;
const timerId = (runId: string, kind: TimerKind, ref: number) => `${runId}/${kind}/${ref}`;

type Op =
  | { op: 'putTask'; id: string; kind: TaskKind; queue: string; runId: string; visibleAt: number; leaseMs: number }
  | { op: 'claim'; kind: TaskKind; queue: string; now: number }
  | { op: 'expire'; now: number; limit: number }
  | { op: 'deleteTask'; id: string }
  | { op: 'deleteRunTasks'; runId: string }
  | { op: 'nextDueAt'; now: number }
  | { op: 'byToken'; pick: number }
  | { op: 'putTimer'; runId: string; kind: TimerKind; ref: number; fireAt: number }
  | { op: 'deleteTimer'; runId: string; kind: TimerKind; ref: number }
  | { op: 'takeDue'; now: number; limit: number }
  | { op: 'deleteRunTimers'; runId: string }
  | { op: 'nextFireAt' }
  | { op: 'insertQuery'; id: string; queue: string }
  | { op: 'claimQuery'; queue: string }
  | { op: 'answerQuery'; id: string }
  | { op: 'deleteQuery'; id: string };

const id = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
const kind = fc.constantFrom<TaskKind>('workflow', 'activity');
const queue = fc.constantFrom('q', 'q2');
const runId = fc.constantFrom('r1', 'r2');
const time = fc.integer({ min: 0, max: 40 });
const timerKind = fc.constantFrom<TimerKind>('timer', 'activityDeadline');
const ref = fc.integer({ min: 0, max: 3 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('putTask' as const), id, kind, queue, runId, visibleAt: time, leaseMs: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ op: fc.constant('claim' as const), kind, queue, now: time }),
  fc.record({ op: fc.constant('expire' as const), now: fc.integer({ min: 0, max: 80 }), limit: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ op: fc.constant('deleteTask' as const), id }),
  fc.record({ op: fc.constant('deleteRunTasks' as const), runId }),
  fc.record({ op: fc.constant('nextDueAt' as const), now: time }),
  fc.record({ op: fc.constant('byToken' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('putTimer' as const), runId, kind: timerKind, ref, fireAt: time }),
  fc.record({ op: fc.constant('deleteTimer' as const), runId, kind: timerKind, ref }),
  fc.record({ op: fc.constant('takeDue' as const), now: time, limit: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ op: fc.constant('deleteRunTimers' as const), runId }),
  fc.record({ op: fc.constant('nextFireAt' as const) }),
  fc.record({ op: fc.constant('insertQuery' as const), id, queue }),
  fc.record({ op: fc.constant('claimQuery' as const), queue }),
  fc.record({ op: fc.constant('answerQuery' as const), id }),
  fc.record({ op: fc.constant('deleteQuery' as const), id }),
);

/** One op on the model; throws where the store must throw. */
function applyModel(m: Model, o: Op, token: string, tokens: string[]): unknown {
  const tasks = Object.values(m.tasks);
  switch (o.op) {
    case 'putTask': {
      const old = m.tasks[o.id];
      const base = { taskId: o.id, taskQueue: o.queue, runId: o.runId, visibleAt: o.visibleAt, leaseMs: o.leaseMs, attempt: 1 };
      const task = (o.kind === 'workflow' ? { ...base, kind: 'workflow' } : { ...base, kind: 'activity', activity: { scheduledEventId: 1, activityId: o.id, activityType: 't', args: [], scheduledAt: 0, startToCloseTimeoutMs: 5 } }) as TaskRecord;
      m.tasks[o.id] = { task, seq: old ? old.seq : m.seq++ };
      return null;
    }
    case 'claim': {
      const best = tasks
        .filter((e) => e.task.kind === o.kind && e.task.taskQueue === o.queue && !e.task.lease && e.task.visibleAt <= o.now)
        .sort(byAtSeq((e) => e.task.visibleAt))[0];
      if (!best) return null;
      best.task.lease = { token, identity: 'w', claimedAt: o.now, expiresAt: o.now + best.task.leaseMs };
      tokens.push(token);
      return best.task.taskId;
    }
    case 'expire': {
      const ended = tasks.filter((e) => e.task.lease && e.task.lease.expiresAt <= o.now).sort(byAtSeq((e) => e.task.lease!.expiresAt)).slice(0, o.limit);
      return ended.map((e) => {
        const was = `${e.task.taskId}:${e.task.lease!.token}`;
        delete e.task.lease;
        return was;
      });
    }
    case 'deleteTask':
      delete m.tasks[o.id];
      return null;
    case 'deleteRunTasks':
      for (const e of tasks) if (e.task.runId === o.runId) delete m.tasks[e.task.taskId];
      return null;
    case 'nextDueAt': {
      const ats = tasks.map((e) => (e.task.lease ? e.task.lease.expiresAt : e.task.visibleAt > o.now ? e.task.visibleAt : Infinity));
      const min = Math.min(...ats);
      return min === Infinity ? null : min;
    }
    case 'byToken': {
      const wanted = tokens[o.pick % Math.max(tokens.length, 1)];
      if (wanted === undefined) return null;
      return tasks.find((e) => e.task.lease?.token === wanted)?.task.taskId ?? null;
    }
    case 'putTimer': {
      const key = timerId(o.runId, o.kind, o.ref);
      const old = m.timers[key];
      m.timers[key] = { timer: { runId: o.runId, kind: o.kind, ref: o.ref, fireAt: o.fireAt, eventId: 1 }, seq: old ? old.seq : m.seq++ };
      return null;
    }
    case 'deleteTimer':
      delete m.timers[timerId(o.runId, o.kind, o.ref)];
      return null;
    case 'takeDue': {
      const due = Object.entries(m.timers).filter(([, e]) => e.timer.fireAt <= o.now).sort(([, a], [, b]) => byAtSeq<typeof a>((e) => e.timer.fireAt)(a, b)).slice(0, o.limit);
      return due.map(([key]) => {
        delete m.timers[key];
        return key;
      });
    }
    case 'deleteRunTimers':
      for (const [key, e] of Object.entries(m.timers)) if (e.timer.runId === o.runId) delete m.timers[key];
      return null;
    case 'nextFireAt': {
      const min = Math.min(...Object.values(m.timers).map((e) => e.timer.fireAt));
      return min === Infinity ? null : min;
    }
    case 'insertQuery':
      if (m.queries[o.id]) throw new Error('exists');
      m.queries[o.id] = { query: { queryId: o.id, workflowId: 'w', runId: 'r1', workflowType: 't', taskQueue: o.queue, queryType: 'x', args: [] }, seq: m.seq++ };
      return null;
    case 'claimQuery': {
      const first = Object.values(m.queries)
        .filter((e) => e.query.taskQueue === o.queue && e.query.token === undefined && e.query.answer === undefined)
        .sort((a, b) => a.seq - b.seq)[0];
      if (!first) return null;
      first.query.token = token;
      return first.query.queryId;
    }
    case 'answerQuery': {
      const e = m.queries[o.id];
      if (!e) throw new Error('no query');
      e.query.answer = { ok: true };
      return null;
    }
    case 'deleteQuery':
      delete m.queries[o.id];
      return null;
  }
}

/** The same op on the store. */
async function applyStore(x: StoreTx, o: Op, token: string, tokens: string[]): Promise<unknown> {
  switch (o.op) {
    case 'putTask': {
      const base = { taskId: o.id, taskQueue: o.queue, runId: o.runId, visibleAt: o.visibleAt, leaseMs: o.leaseMs, attempt: 1 };
      const task = (o.kind === 'workflow' ? { ...base, kind: 'workflow' } : { ...base, kind: 'activity', activity: { scheduledEventId: 1, activityId: o.id, activityType: 't', args: [], scheduledAt: 0, startToCloseTimeoutMs: 5 } }) as TaskRecord;
      await x.tasks.put(task);
      return null;
    }
    case 'claim': {
      const task = await x.tasks.claim(o.kind, o.queue, 'w', token, o.now);
      if (task) tokens.push(token);
      return task?.taskId ?? null;
    }
    case 'expire':
      return (await x.tasks.expireLeases(o.now, o.limit)).map((task) => `${task.taskId}:${task.lease!.token}`);
    case 'deleteTask':
      await x.tasks.delete(o.id);
      return null;
    case 'deleteRunTasks':
      await x.tasks.deleteRun(o.runId);
      return null;
    case 'nextDueAt':
      return (await x.tasks.nextDueAt(o.now)) ?? null;
    case 'byToken':
      return (await x.tasks.byToken(tokens[o.pick % Math.max(tokens.length, 1)] ?? 'none'))?.taskId ?? null;
    case 'putTimer':
      await x.timers.put({ runId: o.runId, kind: o.kind, ref: o.ref, fireAt: o.fireAt, eventId: 1 });
      return null;
    case 'deleteTimer':
      await x.timers.delete(o.runId, o.kind, o.ref);
      return null;
    case 'takeDue':
      return (await x.timers.takeDue(o.now, o.limit)).map((tm) => timerId(tm.runId, tm.kind, tm.ref));
    case 'deleteRunTimers':
      await x.timers.deleteRun(o.runId);
      return null;
    case 'nextFireAt':
      return (await x.timers.nextFireAt()) ?? null;
    case 'insertQuery':
      await x.queries.insert({ queryId: o.id, workflowId: 'w', runId: 'r1', workflowType: 't', taskQueue: o.queue, queryType: 'x', args: [] });
      return null;
    case 'claimQuery':
      return (await x.queries.claim(o.queue, token))?.queryId ?? null;
    case 'answerQuery': {
      const q = await x.queries.get(o.id);
      if (!q) throw new Error('no query');
      await x.queries.update({ ...q, answer: { ok: true } });
      return null;
    }
    case 'deleteQuery':
      await x.queries.delete(o.id);
      return null;
  }
}

t.test('property: the indexed store answers as a naive scan does, across commits and rollbacks', async (t) => {
  t.comment(`fast-check seed ${seed} (rerun with FC_SEED=${seed})`);
  const txArb = fc.record({ ops: fc.array(opArb, { minLength: 1, maxLength: 8 }), rollBack: fc.boolean() });
  await fc.assert(
    fc.asyncProperty(fc.array(txArb, { minLength: 1, maxLength: 12 }), async (txs) => {
      const store: Store = new MemoryStore();
      let model: Model = { seq: 0, tasks: {}, timers: {}, queries: {} };
      let tokens: string[] = [];
      let n = 0;
      try {
        for (const { ops, rollBack } of txs) {
          const draft: Model = structuredClone(model);
          const draftTokens = [...tokens];
          const expected: unknown[] = [];
          let modelThrew = false;
          for (const o of ops) {
            try {
              expected.push(applyModel(draft, o, `tok-${n + expected.length}`, draftTokens));
            } catch {
              modelThrew = true;
              break;
            }
          }
          const got: unknown[] = [];
          const storeTokens = [...tokens];
          const abort = new Error('roll back');
          let storeThrew = false;
          await store
            .transaction(async (x) => {
              for (const o of ops) got.push(await applyStore(x, o, `tok-${n + got.length}`, storeTokens));
              if (rollBack) throw abort;
            })
            .catch((err: unknown) => {
              if (err !== abort) storeThrew = true;
            });
          if (storeThrew !== modelThrew) throw new Error(`store threw: ${storeThrew}, model threw: ${modelThrew}`);
          if (!modelThrew && JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`store ${JSON.stringify(got)} ≠ model ${JSON.stringify(expected)}`);
          n += ops.length;
          if (!rollBack && !modelThrew) {
            model = draft;
            tokens = draftTokens;
          }
        }
      } finally {
        await store.close();
      }
    }),
    { seed, numRuns: numRuns * 2 },
  );
  t.pass('agrees');
});

t.test('claims and due checks do the same bounded work with 1 or 40,000 tasks queued (index steps counted)', async (t) => {
  const N = 40_000;
  const store = new MemoryStore();
  t.teardown(() => store.close());
  const work = async (fn: () => Promise<unknown>) => {
    const before = sortedSetWork.steps;
    await fn();
    return sortedSetWork.steps - before;
  };
  const task = (i: number): TaskRecord => ({ taskId: `t${i}`, kind: 'activity', taskQueue: 'q', runId: `r${i % 100}`, visibleAt: 0, leaseMs: 60_000, attempt: 1, activity: { scheduledEventId: i, activityId: `${i}`, activityType: 'x', args: [], scheduledAt: 0, startToCloseTimeoutMs: 60_000 } });
  const claim = (i: number) => store.transaction((x) => x.tasks.claim('activity', 'q', 'w', `tok-${i}`, 1));

  await store.transaction((x) => x.tasks.put(task(0)));
  const alone = await work(() => claim(0));
  await store.transaction(async (x) => {
    await x.tasks.delete('t0');
    for (let i = 1; i <= N; i++) await x.tasks.put(task(i));
    for (let i = 1; i <= N; i++) await x.timers.put({ runId: `r${i % 100}`, kind: 'timer', ref: i, fireAt: 1_000_000 + i, eventId: i });
  });
  const nextVisible = await work(() => store.transaction((x) => x.tasks.nextDueAt(1)));
  const firstOfMany = await work(() => claim(1));
  for (let i = 2; i < N; i++) await claim(i);
  const lastOfMany = await work(() => claim(N));
  const nextLeaseEnd = await work(() => store.transaction((x) => x.tasks.nextDueAt(1)));
  const noTimerDue = await work(() => store.transaction((x) => x.timers.takeDue(1, 100)));
  const nextFire = await work(() => store.transaction((x) => x.timers.nextFireAt()));
  const expiry = await work(() => store.transaction((x) => x.tasks.expireLeases(1, 100)));
  const runGone = await work(() => store.transaction(async (x) => {
    await x.tasks.deleteRun('r7');
    await x.timers.deleteRun('r7');
  }));

  // A treap of 40,000 keys is about 2·ln(40,000) ≈ 21 deep; a claim moves a key between three
  // of them. A scan would visit 40,000.
  const bound = 10 * Math.log2(N);
  t.comment(
    `index steps: a claim alone ${alone}, the first of ${N} ${firstOfMany}, the last ${lastOfMany}; nextDueAt ${nextVisible} and ${nextLeaseEnd}, ` +
      `takeDue ${noTimerDue}, nextFireAt ${nextFire}, expireLeases ${expiry}; deleting a run of 800 records ${runGone}`,
  );
  t.ok(firstOfMany <= bound, `the first claim of ${N}: ${firstOfMany} steps ≤ ${Math.round(bound)}`);
  t.ok(lastOfMany <= bound, `the last claim of ${N}: ${lastOfMany} steps ≤ ${Math.round(bound)}`);
  for (const [what, steps] of [['nextDueAt (a future visibleAt)', nextVisible], ['nextDueAt (a lease end)', nextLeaseEnd], ['takeDue', noTimerDue], ['nextFireAt', nextFire], ['expireLeases', expiry]] as const) {
    t.ok(steps <= bound, `${what} over ${N}: ${steps} steps ≤ ${Math.round(bound)}`);
  }
  t.ok(runGone <= 800 * bound, 'deleting a run costs its own 800 records, not the store’s 80,000');
  t.ok((await store.transaction((x) => x.tasks.byToken(`tok-${N}`)))?.taskId === `t${N}`, 'the claims did claim');
});

t.test('cloneData: the same as structuredClone, sharing no object with its input', async (t) => {
  t.comment(`fast-check seed ${seed} (rerun with FC_SEED=${seed})`);
  const objectsOf = (value: unknown, into = new Set<object>()): Set<object> => {
    if (typeof value === 'object' && value !== null && !into.has(value)) {
      into.add(value);
      for (const v of value instanceof Map ? [...value.keys(), ...value.values()] : value instanceof Set ? [...value] : Object.values(value)) objectsOf(v, into);
    }
    return into;
  };
  const check = (value: unknown): boolean => {
    const copy = cloneData(value);
    if (!isDeepStrictEqual(copy, structuredClone(value))) return false;
    const mine = objectsOf(value);
    for (const o of objectsOf(copy)) if (mine.has(o)) return false;
    return true;
  };
  // Plain data (the walk), and everything structuredClone accepts beside it (the fallback).
  const plain = fc.anything({ withNullPrototype: true, maxDepth: 4, key: fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', '0', '-1', 'length')) });
  const other = fc.anything({ withNullPrototype: true, withMap: true, withSet: true, withDate: true, withTypedArray: true, withSparseArray: true, withBigInt: true, withBoxedValues: true, maxDepth: 3 });
  fc.assert(fc.property(fc.oneof(plain, other), check), { seed, numRuns: numRuns * 10 });

  // The walk's own cases, named: undefined members, -0 and NaN, an own __proto__ key, order.
  const special = JSON.parse('{"__proto__":{"x":1},"b":2,"a":[1,null]}') as Record<string, unknown>;
  special.u = undefined;
  special.z = -0;
  special.n = NaN;
  t.ok(check(special));
  const copied = cloneData(special);
  t.equal(Object.getPrototypeOf(copied), Object.prototype, 'a __proto__ key stays an own property');
  t.same(Object.keys(copied), ['__proto__', 'b', 'a', 'u', 'z', 'n']);
  t.ok(Object.is(copied.z, -0));
  // What the walk hands to structuredClone: an array with a named property, a cycle, deep nesting.
  const named = Object.assign([1, 2], { extra: true });
  t.ok(check(named));
  t.equal((cloneData(named) as unknown as { extra?: boolean }).extra, structuredClone(named as unknown as { extra?: boolean }).extra);
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const cycle = cloneData(cyclic);
  t.equal(cycle.self, cycle, 'a cycle is kept, as structuredClone keeps it');
  let deep: unknown = 'leaf';
  for (let i = 0; i < 1000; i++) deep = { d: deep };
  t.ok(check(deep));
  // What structuredClone refuses, it still refuses.
  t.throws(() => cloneData({ f: () => 1 }), { name: 'DataCloneError' });
  t.throws(() => cloneData([Symbol('s')]), { name: 'DataCloneError' });
});

t.test('transactions take turns in the order they were asked for; one that throws, even at once, rolls back and hands on its turn; close waits for those queued', async (t) => {
  const store = new MemoryStore();
  const order: string[] = [];
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const first = store.transaction(async () => {
    order.push('first starts');
    await held;
    order.push('first ends');
  });
  const second = store.transaction((tx) => {
    order.push('second');
    void tx;
    throw new Error('thrown at once');
  });
  const third = store.transaction(async (tx) => {
    order.push('third');
    return tx.runs.get('nope');
  });
  await new Promise((resolve) => setImmediate(resolve));
  t.same(order, ['first starts'], 'the others wait for the first');
  release();
  await first;
  await t.rejects(second, { message: 'thrown at once' });
  t.equal(await third, undefined);
  t.same(order, ['first starts', 'first ends', 'second', 'third']);
  let leaked: StoreTx | undefined;
  await store.transaction(async (tx) => {
    leaked = tx;
  });
  await t.rejects(leaked!.runs.get('x'), { message: /transaction has ended/ }, 'a tx used after it ended refuses');
  const last = store.transaction(async () => {
    await new Promise((resolve) => setImmediate(resolve));
    order.push('last');
  });
  await store.close();
  t.equal(order.at(-1), 'last', 'close waited for the transaction queued before it');
  await last;
  await t.rejects(store.transaction(async () => undefined), { message: /closed/ });
});
