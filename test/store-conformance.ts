// The behaviour every Store backend must show (host side). A backend's test file calls
// `storeConformance(t, makeStore)`; each subtest gets a fresh, empty store and closes it.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { HistoryEvent } from '../lib/history/events';
import { DEFAULT_LIMITS, DEFAULT_MAX_PAYLOAD_DEPTH, MAX_PAYLOAD_DEPTH_ALLOWED } from '../lib/engine/limits';
import type { QueryRecord, RunRecord, Store, StoreTx, TaskRecord, TimerRecord } from '../lib/backends/store';
import { edge } from '../lib/engine/validate';
import { LocalWorkflowService } from '../lib/engine';
import { cmd, failure, ManualClock, pollNow } from './support/service';
import { spyStore } from './support/store-spy';
import { visibilityConformance } from './visibility-conformance';

// ---- builders ----

export const runRecord = (runId: string, over: Partial<RunRecord> = {}): RunRecord => ({
  workflowId: 'wf',
  runId,
  workflowType: 'greet',
  taskQueue: 'q',
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

const event = (eventId: number, signalName = `s${eventId}`): HistoryEvent => ({
  eventId,
  eventTime: new Date(1000 + eventId).toISOString(),
  type: 'workflowExecutionSignaled',
  signalName,
  input: [{ n: eventId }],
});

const workflowTask = (taskId: string, over: Partial<TaskRecord> = {}): TaskRecord =>
  ({ taskId, kind: 'workflow', taskQueue: 'q', runId: 'r1', visibleAt: 0, leaseMs: 100, attempt: 1, ...over }) as TaskRecord;

const activityTask = (taskId: string, over: Partial<TaskRecord> = {}): TaskRecord =>
  ({
    taskId,
    kind: 'activity',
    taskQueue: 'q',
    runId: 'r1',
    visibleAt: 0,
    leaseMs: 100,
    attempt: 1,
    activity: { scheduledEventId: 5, activityId: '1', activityType: 'work', args: [1], scheduledAt: 0, startToCloseTimeoutMs: 100 },
    ...over,
  }) as TaskRecord;

const timer = (ref: number, fireAt: number, over: Partial<TimerRecord> = {}): TimerRecord => ({
  runId: 'r1',
  kind: 'timer',
  ref,
  fireAt,
  eventId: ref + 10,
  ...over,
});

const query = (queryId: string, over: Partial<QueryRecord> = {}): QueryRecord => ({
  queryId,
  workflowId: 'wf',
  runId: 'r1',
  workflowType: 'greet',
  taskQueue: 'q',
  queryType: 'status',
  args: [],
  ...over,
});

/** A payload nested exactly `depth` levels: objects and arrays in turn, a string at the bottom. */
export function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let level = depth; level >= 1; level--) value = level % 2 ? { level, inner: value } : [level, value];
  return value;
}

/**
 * What a store shows of its indexes, from inside a transaction that then rolls back: the order
 * claims, lease ends, due timers and query claims come out in, and the next due instants.
 */
async function observe(store: Store, now: number): Promise<unknown> {
  const rollback = new Error('observe: roll back');
  let seen: unknown;
  await store
    .transaction(async (x) => {
      const claims: string[] = [];
      for (const [kind, queue] of [['workflow', 'q'], ['activity', 'q'], ['workflow', 'q2']] as const) {
        for (let task; (task = await x.tasks.claim(kind, queue, 'probe', `probe-${kind}-${queue}-${claims.length}`, now)); ) claims.push(task.taskId);
      }
      const queries: string[] = [];
      for (let q; (q = await x.queries.claim('q', `probe-q-${queries.length}`)); ) queries.push(q.queryId);
      seen = {
        nextDueAt: await x.tasks.nextDueAt(now),
        nextFireAt: await x.timers.nextFireAt(),
        claims,
        expired: (await x.tasks.expireLeases(Number.MAX_SAFE_INTEGER, 1000)).map((task) => task.taskId),
        due: (await x.timers.takeDue(Number.MAX_SAFE_INTEGER, 1000)).map((timer) => `${timer.runId}/${timer.ref}`),
        queries,
      };
      throw rollback;
    })
    .catch((err: unknown) => {
      if (err !== rollback) throw err;
    });
  return seen;
}

function listRuns(tx: <T>(fn: (tx: StoreTx) => Promise<T>) => Promise<T>, options: Parameters<StoreTx['runs']['list']>[0]): Promise<RunRecord[]> {
  return tx((x) => x.runs.list(options));
}

export function storeConformance(t: tap.Test, makeStore: () => Promise<Store>): void {
  visibilityConformance(t, makeStore);
  /** A subtest with a fresh store; `tx(fn)` runs one transaction on it. */
  const withStore = (name: string, body: (tx: <T>(fn: (tx: StoreTx) => Promise<T>) => Promise<T>, store: Store, t: tap.Test) => Promise<void>) =>
    t.test(name, async (t) => {
      const store = await makeStore();
      t.teardown(() => store.close());
      await body((fn) => store.transaction(fn), store, t);
    });

  withStore('runs: insert, get, latest, update; records are copies', async (tx, _store, t) => {
    await tx(async (x) => {
      await x.runs.insert(runRecord('r1'));
      await x.runs.insert(runRecord('r2'));
      await x.runs.insert(runRecord('other', { workflowId: 'wf-other' }));
    });
    t.equal((await tx((x) => x.runs.latest('wf')))?.runId, 'r2', 'latest is the run inserted last for the workflow id');
    t.equal(await tx((x) => x.runs.latest('nope')), undefined);
    t.equal(await tx((x) => x.runs.get('missing')), undefined);
    await t.rejects(tx((x) => x.runs.insert(runRecord('r1'))), 'a duplicate runId is refused');
    await t.rejects(tx((x) => x.runs.update(runRecord('missing'))), 'updating an unknown run is refused');

    const r1 = (await tx((x) => x.runs.get('r1')))!;
    r1.status = 'completed';
    t.equal((await tx((x) => x.runs.get('r1')))!.status, 'running', 'changing a returned record changes nothing stored');
    await tx((x) => x.runs.update({ ...r1, workflowTask: { scheduledEventId: 2, attempt: 1 } }));
    t.same(await tx((x) => x.runs.get('r1')), { ...r1, workflowTask: { scheduledEventId: 2, attempt: 1 } }, 'update replaces the record');
  });

  withStore('runs: list, newest first, filtered and paged', async (tx, _store, t) => {
    await tx(async (x) => {
      await x.runs.insert(runRecord('a', { workflowId: 'w1', startTime: 1000 }));
      await x.runs.insert(runRecord('b', { workflowId: 'w2', startTime: 3000, workflowType: 'other' }));
      await x.runs.insert(runRecord('c', { workflowId: 'w3', startTime: 2000, status: 'completed' }));
      await x.runs.insert(runRecord('d', { workflowId: 'w1', startTime: 2000, taskQueue: 'q2' }));
    });
    const ids = (runs: RunRecord[]) => runs.map((r) => r.runId);
    const list = (o: Parameters<StoreTx['runs']['list']>[0]) => listRuns(tx, o);
    t.same(ids(await list({ limit: 10 })), ['b', 'd', 'c', 'a'], 'newest start first; of two equal starts, the later inserted first');
    t.same(ids(await list({ limit: 2 })), ['b', 'd'], 'at most limit');
    t.same(ids(await list({ limit: 2, afterRunId: 'd' })), ['c', 'a'], 'the next page continues after the given run');
    t.same(ids(await list({ limit: 2, afterRunId: 'missing' })), [], 'an unknown cursor gives an empty page');
    t.same(ids(await list({ limit: 10, workflowId: 'w1' })), ['d', 'a'], 'by workflow id');
    t.same(ids(await list({ limit: 10, workflowType: 'other' })), ['b'], 'by workflow type');
    t.same(ids(await list({ limit: 10, status: 'completed' })), ['c'], 'by status');
    t.same(ids(await list({ limit: 10, taskQueue: 'q2' })), ['d'], 'by task queue');
    t.same(ids(await list({ limit: 1, status: 'running', afterRunId: 'd' })), ['a'], 'filters and paging together');
    await tx(async (x) => x.runs.update({ ...(await x.runs.get('a'))!, status: 'cancelled' }));
    t.same(ids(await list({ limit: 10, status: 'cancelled' })), ['a'], 'a status change is seen by the filter');
    const ro = await _store.transaction((x) => x.runs.list({ limit: 1 }), { readOnly: true });
    t.same(ids(ro), ['b'], 'allowed in a read-only transaction');
    const [first] = await list({ limit: 1 });
    first.status = 'failed';
    t.equal((await list({ limit: 1 }))[0].status, 'running', 'list returns copies');
  });

  withStore('queries: a blocked query is not claimable until it is unblocked', async (tx, _store, t) => {
    await tx((x) => x.runs.insert(runRecord('r1')));
    await tx(async (x) => {
      await x.queries.insert(query('q1', { blocked: true }));
      await x.queries.insert(query('q2'));
    });
    t.equal((await tx((x) => x.queries.claim('q', 't2')))?.queryId, 'q2', 'the blocked one is skipped');
    t.equal(await tx((x) => x.queries.claimable('q')), false, 'nothing claimable while q1 is blocked');
    t.equal(await tx((x) => x.queries.claim('q', 't1')), undefined);
    await tx(async (x) => {
      const { blocked: _blocked, ...rest } = (await x.queries.get('q1'))!;
      await x.queries.update(rest);
    });
    t.equal(await tx((x) => x.queries.claimable('q')), true, 'claimable once unblocked');
    t.equal((await tx((x) => x.queries.claim('q', 't1')))?.queryId, 'q1');
  });

  withStore('history: appends in order, reads after an id, refuses gaps and repeats', async (tx, _store, t) => {
    await tx((x) => x.runs.insert(runRecord('r1')));
    const input = [event(1), event(2)];
    await tx((x) => x.history.append('r1', input));
    input[0].eventTime = 'mutated';
    await tx((x) => x.history.append('r1', [event(3)]));
    t.same(await tx((x) => x.history.read('r1')), [event(1), event(2), event(3)], 'all events, in order, unaffected by the caller changing its objects');
    t.same(await tx((x) => x.history.read('r1', 1)), [event(2), event(3)]);
    t.same(await tx((x) => x.history.read('r1', 3)), []);
    await t.rejects(tx((x) => x.history.append('r1', [event(5)])), 'a gap is refused');
    await t.rejects(tx((x) => x.history.append('r1', [event(3, 'again')])), 'a repeated id is refused');
    await t.rejects(tx((x) => x.history.append('r1', [event(4), event(6)])), 'a gap inside a batch is refused');
    t.equal((await tx((x) => x.history.read('r1'))).length, 3, 'refused appends left nothing');
    const read = await tx((x) => x.history.read('r1'));
    (read[0] as { signalName: string }).signalName = 'changed';
    t.equal(((await tx((x) => x.history.read('r1')))[0] as { signalName: string }).signalName, 's1', 'read returns copies');
  });

  withStore('transaction: returns fn’s value; a throw rolls back every resource', async (tx, store, t) => {
    t.equal(await tx(async () => 42), 42);
    await tx(async (x) => {
      await x.runs.insert(runRecord('r1'));
      await x.history.append('r1', [event(1)]);
      await x.tasks.put(workflowTask('keep'));
      await x.tasks.put(workflowTask('leased'));
      await x.timers.put(timer(1, 50));
      await x.queries.insert(query('q-keep'));
    });
    const leased = (await tx((x) => x.tasks.claim('workflow', 'q', 'w', 'tok-keep', 0)))!;
    const boom = new Error('boom');
    await t.rejects(
      tx(async (x) => {
        await x.runs.insert(runRecord('r2'));
        await x.runs.update(runRecord('r1', { status: 'failed', nextEventId: 3 }));
        await x.history.append('r1', [event(2)]);
        await x.tasks.put(workflowTask('new'));
        await x.tasks.delete('keep');
        await x.tasks.expireLeases(1000, 10);
        await x.tasks.claim('workflow', 'q', 'w2', 'tok-new', 1000);
        await x.timers.put(timer(2, 60));
        await x.timers.takeDue(1000, 10);
        await x.queries.insert(query('q-new'));
        await x.queries.claim('q', 'qtok');
        throw boom;
      }),
      boom,
      'the error propagates',
    );
    await tx(async (x) => {
      t.equal(await x.runs.get('r2'), undefined, 'inserted run gone');
      t.equal((await x.runs.latest('wf'))?.runId, 'r1', 'latest restored');
      t.equal((await x.runs.get('r1'))!.status, 'running', 'updated run restored');
      t.same(await x.history.read('r1'), [event(1)], 'appended events gone');
      t.equal(await x.tasks.get('new'), undefined, 'put task gone');
      t.ok(await x.tasks.get('keep'), 'deleted task restored');
      t.same(await x.tasks.byToken('tok-keep'), leased, 'expired lease restored with its token');
      t.equal(await x.tasks.byToken('tok-new'), undefined, 'the rolled-back claim left no token');
      t.same(await x.timers.get('r1', 'timer', 1), timer(1, 50), 'taken timer restored');
      t.equal(await x.timers.get('r1', 'timer', 2), undefined, 'put timer gone');
      t.equal(await x.queries.get('q-new'), undefined, 'inserted query gone');
      t.equal(await x.queries.byToken('qtok'), undefined, 'query claim undone');
    });
    t.equal((await tx((x) => x.queries.claim('q', 'qtok2')))?.queryId, 'q-keep', 'the query is claimable again');

    let leaked: StoreTx | undefined;
    await tx(async (x) => {
      leaked = x;
    });
    await t.rejects(leaked!.runs.get('r1'), 'a transaction object is unusable after it settled');
    await store.close();
    await t.rejects(tx(async () => 1), 'a closed store refuses transactions');
  });

  withStore('transactions are isolated: concurrent read-modify-writes do not interleave', async (tx, _store, t) => {
    await tx((x) => x.runs.insert(runRecord('r1')));
    await Promise.all(
      Array.from({ length: 20 }, () =>
        tx(async (x) => {
          const run = (await x.runs.get('r1'))!;
          await x.history.append('r1', [event(run.nextEventId)]);
          run.nextEventId++;
          await x.runs.update(run);
        }),
      ),
    );
    t.equal((await tx((x) => x.runs.get('r1')))!.nextEventId, 21, 'every increment landed');
    t.equal((await tx((x) => x.history.read('r1'))).length, 20);
  });

  withStore('tasks: claim honours kind, queue and visibility, earliest visible first', async (tx, _store, t) => {
    await tx(async (x) => {
      await x.tasks.put(workflowTask('late', { visibleAt: 30 }));
      await x.tasks.put(workflowTask('b', { visibleAt: 10 }));
      await x.tasks.put(workflowTask('a', { visibleAt: 10 }));
      await x.tasks.put(workflowTask('early', { visibleAt: 5 }));
      await x.tasks.put(workflowTask('other-queue', { taskQueue: 'q2' }));
      await x.tasks.put(activityTask('act'));
    });
    const claim = (now: number, token: string) => tx((x) => x.tasks.claim('workflow', 'q', 'me', token, now));
    const first = (await claim(20, 't1'))!;
    t.equal(first.taskId, 'early');
    t.same(first.lease, { token: 't1', identity: 'me', claimedAt: 20, expiresAt: 120 }, 'lease: claimedAt now, expiresAt now + leaseMs');
    t.same(await tx((x) => x.tasks.byToken('t1')), first, 'the token finds the claimed task');
    t.equal((await claim(20, 't2'))?.taskId, 'b', 'equal visibility: first inserted first');
    t.equal((await claim(20, 't3'))?.taskId, 'a');
    t.equal(await claim(20, 't4'), undefined, 'a task not yet visible is not claimed');
    t.equal((await claim(30, 't5'))?.taskId, 'late', 'visible at exactly visibleAt');
    t.equal((await tx((x) => x.tasks.claim('activity', 'q', 'me', 't6', 0)))?.taskId, 'act', 'kinds are separate');
    t.equal((await tx((x) => x.tasks.claim('workflow', 'q2', 'me', 't7', 0)))?.taskId, 'other-queue', 'queues are separate');
    const act = (await tx((x) => x.tasks.get('act')))!;
    t.same(act.kind === 'activity' && act.activity.args, [1], 'kind-specific data survives');
  });

  withStore('tasks: ofRun lists a run’s tasks, first inserted first, as copies', async (tx, store, t) => {
    await tx(async (x) => {
      await x.tasks.put(activityTask('r1/a2', { activity: { seq: 2, scheduledEventId: 7, activityId: 'b', activityType: 'work', args: [], scheduledAt: 0, startToCloseTimeoutMs: 100 } } as Partial<TaskRecord>));
      await x.tasks.put(workflowTask('r1/w'));
      await x.tasks.put(activityTask('other/a', { runId: 'other' }));
      await x.tasks.put(activityTask('r1/a1'));
    });
    const ids = async () => (await tx((x) => x.tasks.ofRun('r1'))).map((task) => task.taskId);
    t.same(await ids(), ['r1/a2', 'r1/w', 'r1/a1']);
    await tx((x) => x.tasks.claim('activity', 'q', 'w', 'tok', 0));
    t.same(await ids(), ['r1/a2', 'r1/w', 'r1/a1'], 'a claim keeps the order');
    const [first] = await store.transaction((x) => x.tasks.ofRun('r1'), { readOnly: true });
    t.match(first, { kind: 'activity', activity: { seq: 2, activityId: 'b' } }, 'the whole record, in a read-only transaction too');
    (first as { attempt: number }).attempt = 99;
    t.equal((await tx((x) => x.tasks.ofRun('r1')))[0].attempt, 1, 'copies');
    await tx((x) => x.tasks.delete('r1/w'));
    t.same(await ids(), ['r1/a2', 'r1/a1']);
    t.same(await tx((x) => x.tasks.ofRun('none')), []);
  });

  withStore('tasks: two concurrent claims never get the same task', async (tx, _store, t) => {
    await tx(async (x) => {
      for (let i = 0; i < 10; i++) await x.tasks.put(workflowTask(`task-${i}`));
    });
    const claims = await Promise.all(Array.from({ length: 25 }, (_, i) => tx((x) => x.tasks.claim('workflow', 'q', `w${i}`, `tok-${i}`, 0))));
    const got = claims.filter((c) => c !== undefined).map((c) => c!.taskId);
    t.equal(got.length, 10, 'every task claimed once');
    t.equal(new Set(got).size, 10, 'no task claimed twice');
    t.equal(claims.filter((c) => c === undefined).length, 15, 'the other claims found nothing');
  });

  withStore('tasks: lease expiry makes a task claimable again and its old token stale', async (tx, _store, t) => {
    await tx(async (x) => {
      await x.tasks.put(workflowTask('w1', { leaseMs: 100 }));
      await x.tasks.put(workflowTask('w2', { leaseMs: 200 }));
    });
    await tx((x) => x.tasks.claim('workflow', 'q', 'a', 'old1', 0));
    await tx((x) => x.tasks.claim('workflow', 'q', 'a', 'old2', 0));
    t.same(await tx((x) => x.tasks.expireLeases(99, 10)), [], 'nothing expires before expiresAt');
    t.equal(await tx((x) => x.tasks.claim('workflow', 'q', 'b', 'new', 50)), undefined, 'a leased task is not claimable');
    const expired = await tx((x) => x.tasks.expireLeases(250, 1));
    t.same(
      expired.map((e) => [e.taskId, e.lease?.token]),
      [['w1', 'old1']],
      'returned as it was, lease included, earliest first, up to the limit',
    );
    t.equal(await tx((x) => x.tasks.byToken('old1')), undefined, 'the expired token is stale');
    t.equal((await tx((x) => x.tasks.get('w1')))!.lease, undefined, 'the lease is gone');
    const again = (await tx((x) => x.tasks.claim('workflow', 'q', 'b', 'new', 250)))!;
    t.equal(again.taskId, 'w1', 'claimable again');
    t.equal(again.lease!.token, 'new');
    t.equal((await tx((x) => x.tasks.expireLeases(250, 10))).length, 1, 'the remaining expired lease');
  });

  withStore('tasks: put replaces (and drops the old token), delete and deleteRun remove', async (tx, _store, t) => {
    await tx(async (x) => {
      await x.tasks.put(workflowTask('w1'));
      await x.tasks.put(activityTask('a1', { runId: 'r2' }));
      await x.tasks.put(activityTask('a2', { runId: 'r2' }));
    });
    const claimed = (await tx((x) => x.tasks.claim('workflow', 'q', 'me', 'tok', 0)))!;
    await tx((x) => x.tasks.put({ ...claimed, lease: { ...claimed.lease!, token: 'tok2', expiresAt: 500 } }));
    t.equal(await tx((x) => x.tasks.byToken('tok')), undefined, 'the replaced token is stale');
    t.equal((await tx((x) => x.tasks.byToken('tok2')))?.lease?.expiresAt, 500, 'the new lease holds');
    const { lease: _, ...released } = (await tx((x) => x.tasks.get('w1')))!;
    await tx((x) => x.tasks.put(released as TaskRecord));
    t.equal(await tx((x) => x.tasks.byToken('tok2')), undefined, 'a put without a lease leaves no token');
    await tx((x) => x.tasks.delete('w1'));
    t.equal(await tx((x) => x.tasks.get('w1')), undefined);
    await tx((x) => x.tasks.delete('w1'));
    await tx((x) => x.tasks.deleteRun('r2'));
    t.equal(await tx((x) => x.tasks.claim('activity', 'q', 'me', 'x', 0)), undefined, 'deleteRun removed the run’s tasks');
  });

  withStore('tasks: nextDueAt is the earliest lease end or future visibility', async (tx, _store, t) => {
    t.equal(await tx((x) => x.tasks.nextDueAt(0)), undefined, 'no tasks, nothing due');
    await tx(async (x) => {
      await x.tasks.put(workflowTask('now', { visibleAt: 0 }));
      await x.tasks.put(workflowTask('later', { visibleAt: 300 }));
    });
    t.equal(await tx((x) => x.tasks.nextDueAt(10)), 300, 'already-visible tasks are not due work');
    await tx((x) => x.tasks.claim('workflow', 'q', 'me', 'tok', 10));
    t.equal(await tx((x) => x.tasks.nextDueAt(10)), 110, 'the lease end');
  });

  withStore('timers: takeDue removes due timers earliest first; get, delete, deleteRun, nextFireAt', async (tx, _store, t) => {
    await tx(async (x) => {
      await x.timers.put(timer(1, 30));
      await x.timers.put(timer(2, 10));
      await x.timers.put(timer(3, 20));
      await x.timers.put(timer(4, 20));
      await x.timers.put(timer(5, 5, { kind: 'activityDeadline', runId: 'r2' }));
    });
    t.equal(await tx((x) => x.timers.nextFireAt()), 5);
    t.same(
      (await tx((x) => x.timers.takeDue(25, 3))).map((x) => x.ref),
      [5, 2, 3],
      'due ones, by fireAt then insertion, up to the limit',
    );
    t.same(
      (await tx((x) => x.timers.takeDue(25, 10))).map((x) => x.ref),
      [4],
      'taken timers are gone',
    );
    t.equal(await tx((x) => x.timers.nextFireAt()), 30);
    t.same(await tx((x) => x.timers.get('r1', 'timer', 1)), timer(1, 30));
    t.equal(await tx((x) => x.timers.get('r1', 'activityDeadline', 1)), undefined, 'the kind is part of the key');
    await tx((x) => x.timers.put(timer(1, 40)));
    t.equal((await tx((x) => x.timers.get('r1', 'timer', 1)))!.fireAt, 40, 'put replaces');
    await tx((x) => x.timers.delete('r1', 'timer', 1));
    t.equal(await tx((x) => x.timers.get('r1', 'timer', 1)), undefined);
    await tx(async (x) => {
      await x.timers.put(timer(7, 1, { runId: 'r3' }));
      await x.timers.put(timer(8, 1, { runId: 'r4' }));
      await x.timers.deleteRun('r3');
    });
    t.same(
      (await tx((x) => x.timers.takeDue(100, 10))).map((x) => x.runId),
      ['r4'],
      'deleteRun removed only that run’s timers',
    );
    t.equal(await tx((x) => x.timers.nextFireAt()), undefined);
  });

  withStore('queries: claim in order, once; answer; byToken; delete', async (tx, _store, t) => {
    await tx(async (x) => {
      await x.queries.insert(query('q1'));
      await x.queries.insert(query('q2'));
      await x.queries.insert(query('elsewhere', { taskQueue: 'other' }));
    });
    await t.rejects(tx((x) => x.queries.insert(query('q1'))), 'a duplicate queryId is refused');
    await t.rejects(tx((x) => x.queries.update(query('nope'))), 'updating an unknown query is refused');
    const first = (await tx((x) => x.queries.claim('q', 'tok1')))!;
    t.equal(first.queryId, 'q1');
    t.equal(first.token, 'tok1');
    t.equal((await tx((x) => x.queries.claim('q', 'tok2')))?.queryId, 'q2', 'a claimed query is not claimed again');
    t.equal(await tx((x) => x.queries.claim('q', 'tok3')), undefined);
    t.same(await tx((x) => x.queries.byToken('tok1')), first);
    await tx((x) => x.queries.update({ ...first, answer: { ok: true, result: { n: 1 } } }));
    t.same((await tx((x) => x.queries.get('q1')))!.answer, { ok: true, result: { n: 1 } });
    await tx((x) => x.queries.delete('q1'));
    t.equal(await tx((x) => x.queries.get('q1')), undefined);
    t.equal(await tx((x) => x.queries.byToken('tok1')), undefined, 'a deleted query’s token is stale');
    await tx((x) => x.queries.insert(query('answered', { answer: { ok: true } })));
    t.equal(await tx((x) => x.queries.claim('q', 'tok4')), undefined, 'an answered query is never claimed');
    t.equal((await tx((x) => x.queries.claim('other', 'tok5')))?.queryId, 'elsewhere', 'queues are separate');
  });

  withStore('ties: equal instants come out in insertion order, which a replace or a lease does not change', async (tx, _store, t) => {
    await tx(async (x) => {
      for (const id of ['a', 'b', 'c', 'd']) await x.tasks.put(workflowTask(id, { visibleAt: 10 }));
      await x.tasks.put(workflowTask('b', { visibleAt: 10, attempt: 2 })); // replaced: keeps its place
    });
    const claim = (token: string, now = 10) => tx((x) => x.tasks.claim('workflow', 'q', 'me', token, now));
    t.equal((await claim('t1'))?.taskId, 'a');
    t.equal((await claim('t2'))?.taskId, 'b', 'a replaced task keeps its insertion order');
    t.equal((await tx((x) => x.tasks.get('b')))?.attempt, 2, 'and its new content');
    t.same(
      (await tx((x) => x.tasks.expireLeases(110, 10))).map((e) => e.taskId),
      ['a', 'b'],
      'equal lease ends: insertion order',
    );
    t.equal((await claim('t3', 110))?.taskId, 'a', 'a released task is back in its place, ahead of later ones');
    t.equal((await claim('t4', 110))?.taskId, 'b');
    t.equal((await claim('t5', 110))?.taskId, 'c');
    await tx(async (x) => {
      await x.tasks.put(workflowTask('e', { visibleAt: 5 }));
      await x.tasks.put(workflowTask('d', { visibleAt: 50 })); // moved later than e
    });
    t.equal((await claim('t6', 110))?.taskId, 'e', 'visibleAt first, insertion second');
    t.equal((await claim('t7', 110))?.taskId, 'd');

    await tx(async (x) => {
      await x.timers.put(timer(1, 10));
      await x.timers.put(timer(2, 10));
      await x.timers.put(timer(3, 10, { runId: 'r2' }));
      await x.timers.put(timer(1, 10, { eventId: 99 })); // replaced: keeps its place
    });
    t.same((await tx((x) => x.timers.takeDue(10, 10))).map((x) => [x.ref, x.eventId]), [[1, 99], [2, 12], [3, 13]], 'equal fireAt: insertion order');

    await tx(async (x) => {
      for (const id of ['q1', 'q2', 'q3']) await x.queries.insert(query(id));
    });
    await tx(async (x) => x.queries.update({ ...(await x.queries.get('q1'))!, args: [1] })); // an update keeps its place
    t.same(
      [(await tx((x) => x.queries.claim('q', 'k1')))?.queryId, (await tx((x) => x.queries.claim('q', 'k2')))?.queryId],
      ['q1', 'q2'],
      'queries: first inserted first',
    );
  });

  withStore('rollback restores every index: claims, leases, due timers, queries and due instants come out as before', async (tx, store, t) => {
    await tx(async (x) => {
      for (let i = 0; i < 6; i++) {
        await x.tasks.put(workflowTask(`w${i}`, { visibleAt: i % 3, runId: `r${i % 2}` }));
        await x.tasks.put(activityTask(`a${i}`, { visibleAt: 100 + (i % 2), runId: `r${i % 2}` }));
        await x.timers.put(timer(i, 50 + (i % 2), { runId: `r${i % 2}` }));
        await x.queries.insert(query(`q${i}`));
      }
      await x.tasks.put(workflowTask('other', { taskQueue: 'q2', visibleAt: 7 }));
    });
    await tx((x) => x.tasks.claim('workflow', 'q', 'w', 'held', 0));
    await tx((x) => x.queries.claim('q', 'held-q'));
    const before = await observe(store, 1000);
    t.same(await observe(store, 1000), before, 'observing changes nothing');
    const boom = new Error('boom');
    await t.rejects(
      tx(async (x) => {
        await x.tasks.claim('workflow', 'q', 'w', 'rolled-1', 5);
        await x.tasks.claim('activity', 'q', 'w', 'rolled-2', 200);
        await x.tasks.expireLeases(1000, 10);
        await x.tasks.put(workflowTask('w3', { visibleAt: 0 }));
        await x.tasks.put(workflowTask('new', { visibleAt: 0 }));
        await x.tasks.delete('a2');
        await x.tasks.deleteRun('r1');
        await x.timers.takeDue(50, 2);
        await x.timers.put(timer(0, 1, { runId: 'r0' }));
        await x.timers.deleteRun('r0');
        await x.queries.claim('q', 'rolled-q');
        await x.queries.delete('q3');
        await x.queries.insert(query('q-new'));
        throw boom;
      }),
      boom,
    );
    t.same(await observe(store, 1000), before, 'after the rollback, the same order and due instants');
    t.same(await observe(store, 0), await observe(store, 0), 'at another instant too');
    t.ok(await tx((x) => x.tasks.byToken('held')), 'the held lease is untouched');
  });

  withStore('payloads as deep as any configuration allows round-trip intact; the edge refuses one level more', async (tx, _store, t) => {
    for (const depth of [DEFAULT_MAX_PAYLOAD_DEPTH, MAX_PAYLOAD_DEPTH_ALLOWED]) {
      const limits = { ...DEFAULT_LIMITS, maxPayloadDepth: depth };
      // Through the edge, as the engine takes payloads in.
      const deep = edge('test', limits, (e) => e.payload('result', nested(depth)));
      const args = edge('test', limits, (e) => e.args('args', [nested(depth)]));
      const failure = edge('test', limits, (e) => e.failure('failure', { kind: 'application', message: 'deep', details: [nested(depth - 2)] }));
      const text = JSON.stringify(nested(depth));
      const runId = `deep-${depth}`;
      await tx(async (x) => {
        await x.runs.insert(runRecord(runId));
        await x.history.append(runId, [{ ...event(1), input: args } as HistoryEvent]);
        await x.tasks.put(
          activityTask(`act-${depth}`, {
            runId,
            activity: { scheduledEventId: 1, activityId: '1', activityType: 'work', args, scheduledAt: 0, startToCloseTimeoutMs: 100, heartbeatDetails: deep, lastFailure: failure },
          } as Partial<TaskRecord>),
        );
        await x.queries.insert(query(`query-${depth}`, { runId, args, answer: { ok: true, result: deep } }));
      });
      const [read] = await tx((x) => x.history.read(runId));
      t.equal(JSON.stringify((read as { input: unknown[] }).input[0]), text, `${depth} levels: history`);
      const task = (await tx((x) => x.tasks.get(`act-${depth}`)))!;
      if (task.kind !== 'activity') throw new Error('expected an activity task');
      t.equal(JSON.stringify(task.activity.args[0]), text, `${depth} levels: activity args`);
      t.equal(JSON.stringify(task.activity.heartbeatDetails), text, `${depth} levels: heartbeat details`);
      t.equal(JSON.stringify(task.activity.lastFailure), JSON.stringify(failure), `${depth} levels: a failure`);
      const q = (await tx((x) => x.queries.get(`query-${depth}`)))!;
      t.equal(JSON.stringify(q.args[0]), text, `${depth} levels: query args`);
      t.equal(JSON.stringify(q.answer), JSON.stringify({ ok: true, result: deep }), `${depth} levels: query answer`);
      t.throws(
        () => edge('completeActivityTask', limits, (e) => e.payload('result', nested(depth + 1))),
        { code: 'DEJA_PAYLOAD_TOO_LARGE', limit: 'maxPayloadDepth', message: new RegExp(`^completeActivityTask: result is nested more than ${depth} levels deep .*over maxPayloadDepth \\(${depth} levels\\)$`) },
        `${depth + 1} levels are refused at the edge`,
      );
    }
  });

  // ---- read-only transactions, claimable checks, heartbeats ----

  withStore('read-only transactions: reads work, every write is refused, nothing changes', async (tx, store, t) => {
    await tx(async (x) => {
      await x.runs.insert(runRecord('r1'));
      await x.history.append('r1', [event(1)]);
      await x.tasks.put(workflowTask('w1'));
      await x.tasks.put(activityTask('a1', { lease: { token: 'held', identity: 'w', claimedAt: 0, expiresAt: 100 } }));
      await x.timers.put(timer(1, 10));
      await x.queries.insert(query('q1'));
    });
    const before = await observe(store, 1000);
    const ro = <T>(fn: (x: StoreTx) => Promise<T>) => store.transaction(fn, { readOnly: true });
    t.equal((await ro((x) => x.runs.get('r1')))?.runId, 'r1', 'a read');
    t.same(await ro((x) => x.history.read('r1')), [event(1)]);
    t.equal(await ro((x) => x.tasks.claimable('workflow', 'q', 0)), true);
    const writes: [string, (x: StoreTx) => Promise<unknown>][] = [
      ['runs.insert', (x) => x.runs.insert(runRecord('r2'))],
      ['runs.update', (x) => x.runs.update(runRecord('r1', { status: 'failed' }))],
      ['history.append', (x) => x.history.append('r1', [event(2)])],
      ['tasks.put', (x) => x.tasks.put(workflowTask('w2'))],
      ['tasks.claim', (x) => x.tasks.claim('workflow', 'q', 'me', 'tok', 0)],
      ['tasks.setHeartbeat', (x) => x.tasks.setHeartbeat('a1', { details: 1, expiresAt: 50 })],
      ['tasks.expireLeases', (x) => x.tasks.expireLeases(1000, 10)],
      ['tasks.delete', (x) => x.tasks.delete('w1')],
      ['tasks.deleteRun', (x) => x.tasks.deleteRun('r1')],
      ['timers.put', (x) => x.timers.put(timer(2, 10))],
      ['timers.delete', (x) => x.timers.delete('r1', 'timer', 1)],
      ['timers.takeDue', (x) => x.timers.takeDue(1000, 10)],
      ['timers.deleteRun', (x) => x.timers.deleteRun('r1')],
      ['queries.insert', (x) => x.queries.insert(query('q2'))],
      ['queries.claim', (x) => x.queries.claim('q', 'qtok')],
      ['queries.update', (x) => x.queries.update({ ...query('q1'), answer: { ok: true } })],
      ['queries.delete', (x) => x.queries.delete('q1')],
    ];
    for (const [name, write] of writes) await t.rejects(ro(write), `${name} is refused`);
    t.same(await observe(store, 1000), before, 'the refused writes changed nothing');
    t.same(await tx((x) => x.history.read('r1')), [event(1)]);
    t.equal((await tx((x) => x.runs.get('r1')))?.status, 'running');
  });

  withStore('claimable agrees with claim: kind, queue, visibility, leases, answered queries', async (tx, _store, t) => {
    const claimable = (kind: 'workflow' | 'activity', queue: string, now: number) => tx((x) => x.tasks.claimable(kind, queue, now));
    t.equal(await claimable('workflow', 'q', 100), false, 'nothing queued');
    await tx(async (x) => {
      await x.tasks.put(workflowTask('w1', { visibleAt: 10 }));
      await x.tasks.put(activityTask('a1', { taskQueue: 'q2' }));
      await x.queries.insert(query('answered', { answer: { ok: true } }));
    });
    t.equal(await claimable('workflow', 'q', 9), false, 'not visible yet');
    t.equal(await claimable('workflow', 'q', 10), true, 'visible at visibleAt');
    t.equal(await claimable('activity', 'q', 10), false, 'kinds are separate');
    t.equal(await claimable('activity', 'q2', 0), true, 'queues are separate');
    await tx((x) => x.tasks.claim('workflow', 'q', 'me', 'tok', 10));
    t.equal(await claimable('workflow', 'q', 10), false, 'a leased task is not claimable');
    t.equal(await tx((x) => x.queries.claimable('q')), false, 'an answered query is not claimable');
    await tx((x) => x.queries.insert(query('open')));
    t.equal(await tx((x) => x.queries.claimable('q')), true);
    await tx((x) => x.queries.claim('q', 'qtok'));
    t.equal(await tx((x) => x.queries.claimable('q')), false, 'a claimed query is not claimable');
  });

  withStore('setHeartbeat: sets the details and the lease end only; the lease ends at the new time', async (tx, _store, t) => {
    await tx((x) => x.tasks.put(activityTask('a1', { leaseMs: 100 })));
    const claimed = (await tx((x) => x.tasks.claim('activity', 'q', 'me', 'tok', 0)))!;
    await tx((x) => x.tasks.setHeartbeat('a1', { details: { step: 1 }, expiresAt: 300 }));
    const after = (await tx((x) => x.tasks.get('a1')))!;
    if (after.kind !== 'activity' || claimed.kind !== 'activity') throw new Error('expected an activity task');
    t.same(after, { ...claimed, lease: { ...claimed.lease!, expiresAt: 300 }, activity: { ...claimed.activity, heartbeatDetails: { step: 1 } } }, 'nothing else changed');
    await tx((x) => x.tasks.setHeartbeat('a1', { expiresAt: 400 }));
    t.same(((await tx((x) => x.tasks.get('a1'))) as typeof after).activity.heartbeatDetails, { step: 1 }, 'absent details keep the last ones');
    t.equal(await tx((x) => x.tasks.nextDueAt(0)), 400, 'the lease end moved');
    t.same(await tx((x) => x.tasks.expireLeases(399, 10)), [], 'not expired before the new end');
    t.equal((await tx((x) => x.tasks.expireLeases(400, 10))).length, 1, 'expired at it');
    await t.rejects(tx((x) => x.tasks.setHeartbeat('a1', { expiresAt: 500 })), 'a task without a lease is refused');
    await t.rejects(tx((x) => x.tasks.setHeartbeat('missing', { expiresAt: 500 })), 'an unknown task is refused');
  });

  // ---- faults: a crash between steps, concurrent ticks, lease expiry, duplicate delivery ----

  withStore('faults: a transaction that crashes after any step leaves nothing of it', async (tx, store, t) => {
    await tx(async (x) => {
      await x.runs.insert(runRecord('r1', { nextEventId: 2 }));
      await x.history.append('r1', [event(1)]);
      await x.tasks.put(workflowTask('w1'));
      await x.tasks.put(activityTask('a1'));
      await x.timers.put(timer(1, 5));
      await x.queries.insert(query('q1'));
    });
    await tx((x) => x.tasks.claim('activity', 'q', 'me', 'held', 0));
    // One engine-like operation, step by step: a completion that closes a run.
    const steps: ((x: StoreTx) => Promise<unknown>)[] = [
      (x) => x.tasks.claim('workflow', 'q', 'me', 'tok', 0),
      (x) => x.history.append('r1', [event(2), event(3)]),
      (x) => x.runs.update(runRecord('r1', { nextEventId: 4, status: 'completed' })),
      (x) => x.tasks.setHeartbeat('a1', { details: 'x', expiresAt: 50 }),
      (x) => x.tasks.deleteRun('r1'),
      (x) => x.timers.takeDue(10, 10),
      (x) => x.timers.deleteRun('r1'),
      (x) => x.queries.claim('q', 'qtok'),
      (x) => x.runs.insert(runRecord('r2', { workflowId: 'wf-2' })),
    ];
    const snapshot = async () => ({
      observed: await observe(store, 1000),
      runs: await tx(async (x) => [await x.runs.get('r1'), await x.runs.get('r2'), await x.runs.latest('wf-2')]),
      history: await tx((x) => x.history.read('r1')),
      held: await tx((x) => x.tasks.byToken('held')),
    });
    const before = await snapshot();
    for (let crashAfter = 1; crashAfter <= steps.length; crashAfter++) {
      const crash = new Error(`crash after step ${crashAfter}`);
      await t.rejects(
        tx(async (x) => {
          for (const step of steps.slice(0, crashAfter)) await step(x);
          throw crash;
        }),
        crash,
      );
      t.same(await snapshot(), before, `a crash after step ${crashAfter} of ${steps.length} left nothing`);
    }
  });

  withStore('faults: concurrent ticks never both take one due timer or one ended lease', async (tx, _store, t) => {
    const n = 40;
    await tx(async (x) => {
      for (let i = 0; i < n; i++) {
        await x.timers.put(timer(i, i % 5, { runId: `r${i % 3}` }));
        await x.tasks.put(workflowTask(`w${i}`, { leaseMs: 1 + (i % 4), taskQueue: `q${i % 2}` }));
      }
    });
    for (let i = 0; i < n; i++) await tx((x) => x.tasks.claim('workflow', `q${i % 2}`, 'me', `tok-${i}`, 0));
    /** One process's tick loop: small batches, each in its own transaction, until one finds nothing. */
    const ticker = async () => {
      const timers: string[] = [];
      const leases: string[] = [];
      for (;;) {
        const [due, expired] = await tx(async (x) => [await x.timers.takeDue(100, 3), await x.tasks.expireLeases(100, 3)] as const);
        timers.push(...due.map((d) => `${d.runId}/${d.ref}`));
        leases.push(...expired.map((e) => e.taskId));
        if (due.length === 0 && expired.length === 0) return { timers, leases };
      }
    };
    const results = await Promise.all([ticker(), ticker(), ticker()]);
    const timers = results.flatMap((r) => r.timers);
    const leases = results.flatMap((r) => r.leases);
    t.equal(timers.length, n, 'every timer taken');
    t.equal(new Set(timers).size, n, 'no timer taken twice');
    t.equal(leases.length, n, 'every lease ended');
    t.equal(new Set(leases).size, n, 'no lease ended twice');
    t.ok(results.filter((r) => r.timers.length + r.leases.length > 0).length >= 2, 'the ticks ran interleaved: more than one took a share');
  });

  withStore('faults through the engine: duplicate delivery is refused as stale and changes nothing', async (_tx, store, t) => {
    const clock = new ManualClock();
    const service = new LocalWorkflowService({ store, clock });
    t.teardown(() => service.close());
    const run = { workflowId: 'dup', runId: (await service.startWorkflow({ workflowId: 'dup', workflowType: 'greet', taskQueue: 'q', args: [] })).runId };
    const task = (await pollNow((s) => service.pollWorkflowTask('q', 'w', s)))!;
    const commands = [cmd.activity(1)];
    await service.completeWorkflowTask(task.taskToken, commands);
    let history = await service.getHistory(run);
    await t.rejects(service.completeWorkflowTask(task.taskToken, commands), { code: 'DEJA_STALE_TASK' }, 'the same completion again');
    await t.rejects(service.failWorkflowTask(task.taskToken, 'workflowError', failure('late')), { code: 'DEJA_STALE_TASK' }, 'a failure after the completion');
    t.same(await service.getHistory(run), history, 'history unchanged');
    const activity = (await pollNow((s) => service.pollActivityTask('q', 'w', s)))!;
    await service.completeActivityTask(activity.taskToken, 'once');
    history = await service.getHistory(run);
    await t.rejects(service.completeActivityTask(activity.taskToken, 'once'), { code: 'DEJA_STALE_TASK' }, 'the same activity result again');
    await t.rejects(service.failActivityTask(activity.taskToken, failure('late')), { code: 'DEJA_STALE_TASK' }, 'a failure after the result');
    t.same(await service.heartbeatActivityTask(activity.taskToken, 'late'), { cancelRequested: true }, 'a heartbeat after the result is told to stop');
    t.same(await service.getHistory(run), history, 'history unchanged');
    t.equal(history.filter((e) => e.type === 'activityTaskCompleted').length, 1);
  });

  withStore('faults through the engine: lease expiry returns the task to another worker; the first one is stale', async (_tx, store, t) => {
    const clock = new ManualClock();
    const service = new LocalWorkflowService({ store, clock });
    t.teardown(() => service.close());
    const { runId } = await service.startWorkflow({ workflowId: 'lease', workflowType: 'greet', taskQueue: 'q', args: [], workflowTaskTimeoutMs: 1000 });
    const first = (await pollNow((s) => service.pollWorkflowTask('q', 'dead-worker', s)))!;
    t.equal(await pollNow((s) => service.pollWorkflowTask('q', 'other', s)), null, 'held while the lease lasts');
    clock.advance(1000);
    await service.tick();
    clock.advance(1000); // the retry's backoff
    await service.tick();
    const second = await pollNow((s) => service.pollWorkflowTask('q', 'live-worker', s));
    t.match(second, { kind: 'workflow', attempt: 2 }, 'the task came back, next attempt');
    await t.rejects(service.completeWorkflowTask(first.taskToken, [cmd.complete()]), { code: 'DEJA_STALE_TASK' }, 'the dead worker’s token is stale');
    await service.completeWorkflowTask(second!.taskToken, [cmd.complete('ok')]);
    const types = (await service.getHistory({ workflowId: 'lease', runId })).map((e) => e.type);
    t.same(types.filter((type) => type === 'workflowTaskTimedOut' || type === 'workflowExecutionCompleted'), ['workflowTaskTimedOut', 'workflowExecutionCompleted']);
  });

  withStore('faults through the engine: a crash at any store call of a completion leaves history as it was, and the task completable', async (_tx, inner, t) => {
    let crashAt = 0;
    let calls = 0;
    // Only the completion's own store calls count: the service's background loop (a tick at start)
    // may call the store at the same time, on a slower backend.
    const inCompletion = new AsyncLocalStorage<boolean>();
    const store = spyStore(inner, {
      beforeCall: (call) => {
        if (crashAt > 0 && inCompletion.getStore() === true && ++calls === crashAt) throw new Error(`injected crash at call ${calls} (${call.method})`);
      },
    });
    const clock = new ManualClock();
    const service = new LocalWorkflowService({ store, clock });
    t.teardown(() => service.close());
    const run = { workflowId: 'crash', runId: (await service.startWorkflow({ workflowId: 'crash', workflowType: 'greet', taskQueue: 'q', args: [] })).runId };
    const task = (await pollNow((s) => service.pollWorkflowTask('q', 'w', s)))!;
    const before = await service.getHistory(run);
    const describe = await service.describeWorkflow(run);
    const commands = [cmd.activity(1, { scheduleToCloseTimeoutMs: 60_000 }), cmd.timer(2, 1000), cmd.complete('done')];
    let crashes = 0;
    for (crashAt = 1; ; crashAt++) {
      calls = 0;
      const done = await inCompletion.run(true, () => service.completeWorkflowTask(task.taskToken, commands)).then(
        () => true,
        (err: Error) => {
          if (!/injected crash/.test(err.message)) throw err;
          return false;
        },
      );
      if (done) break;
      crashes++;
      const at = crashAt;
      crashAt = 0; // no crash while looking; the next attempt crashes one call later

      t.same(await service.getHistory(run), before, `crash at call ${at}: history as it was`);
      t.same(await service.describeWorkflow(run), describe, `crash at call ${at}: the run as it was`);
      crashAt = at;
    }
    t.ok(crashes >= 5, `${crashes} crashes injected, one at each store call of the completion`);
    crashAt = 0;
    t.match(await service.getWorkflowOutcome(run), { status: 'completed', result: 'done' }, 'the completion landed whole once nothing crashed');
  });
}
