// The behaviour every Store backend must show for schedules (host side): `StoreTx.schedules`.
// A backend's test file calls `scheduleStoreConformance(t, makeStore)`; each subtest gets a fresh,
// empty store and closes it.
import type { ScheduleRecord, Store, StoreTx } from '../lib/backends/store';

export const scheduleRecord = (scheduleId: string, over: Partial<ScheduleRecord> = {}): ScheduleRecord => ({
  scheduleId,
  definition: {
    spec: { cronExpressions: ['*/5 * * * *'], intervals: [{ everyMs: 60_000, offsetMs: 1000 }], startAt: 0 },
    action: { workflowId: 'wf', workflowType: 'greet', taskQueue: 'q', args: [{ deep: [1, 'two', null] }], memo: { m: 1 } },
    policies: { overlap: 'skip', catchupWindowMs: 60_000, pauseOnFailure: false },
    state: { paused: false, note: 'ünïcode ✓', remainingActions: 3 },
  },
  info: { numActionsTaken: 0, numActionsMissedCatchupWindow: 0, numActionsSkippedOverlap: 0, runningWorkflows: [], recentActions: [] },
  createdAt: 1000,
  buffered: [],
  lastActionAt: 1000,
  ...over,
});

export function scheduleStoreConformance(t: tap.Test, makeStore: () => Promise<Store>): void {
  const withStore = (name: string, body: (tx: <T>(fn: (tx: StoreTx) => Promise<T>) => Promise<T>, t: tap.Test) => Promise<void>) =>
    t.test(name, async (t) => {
      const store = await makeStore();
      t.teardown(() => store.close());
      await body((fn) => store.transaction(fn), t);
    });

  withStore('schedules: insert, get, update, delete; records are copies', async (tx, t) => {
    const s1 = scheduleRecord('s1');
    await tx((x) => x.schedules.insert(s1));
    t.same(await tx((x) => x.schedules.get('s1')), s1, 'get returns what was inserted, nested fields intact');
    t.equal(await tx((x) => x.schedules.get('missing')), undefined, 'an unknown id is undefined');
    await t.rejects(tx((x) => x.schedules.insert(scheduleRecord('s1'))), 'a taken id is refused');
    await t.rejects(tx((x) => x.schedules.update(scheduleRecord('missing'))), 'updating an unknown schedule is refused');

    const got = (await tx((x) => x.schedules.get('s1')))!;
    got.definition.state.paused = true;
    t.equal((await tx((x) => x.schedules.get('s1')))!.definition.state.paused, false, 'changing a returned record changes nothing stored');
    s1.buffered.push(5);
    t.same((await tx((x) => x.schedules.get('s1')))!.buffered, [], 'changing an inserted object changes nothing stored');

    const changed = scheduleRecord('s1', {
      buffered: [7, 8],
      lastUpdatedAt: 2000,
      info: {
        numActionsTaken: 2,
        numActionsMissedCatchupWindow: 1,
        numActionsSkippedOverlap: 4,
        runningWorkflows: [{ workflowId: 'wf-x', runId: 'r9' }],
        recentActions: [{ scheduledAt: '2026-01-01T00:00:00.000Z', takenAt: '2026-01-01T00:00:01.000Z', workflowId: 'wf-x', runId: 'r9' }],
      },
    });
    await tx((x) => x.schedules.update(changed));
    t.same(await tx((x) => x.schedules.get('s1')), changed, 'update replaces the record');

    await tx((x) => x.schedules.delete('s1'));
    t.equal(await tx((x) => x.schedules.get('s1')), undefined, 'delete removes it');
    await tx((x) => x.schedules.delete('s1'));
    t.pass('deleting an unknown id is a no-op');
    await tx((x) => x.schedules.insert(scheduleRecord('s1')));
    t.ok(await tx((x) => x.schedules.get('s1')), 'a deleted id can be used again');
  });

  withStore('schedules: list by id ascending, in pages', async (tx, t) => {
    const ids = ['b', 'a-2', 'a-10', 'c', 'a', 'B'];
    await tx(async (x) => {
      for (const id of ids) await x.schedules.insert(scheduleRecord(id));
    });
    const sorted = [...ids].sort();
    const all = await tx((x) => x.schedules.list({ limit: 100 }));
    t.same(
      all.map((s) => s.scheduleId),
      sorted,
      'every schedule, by id',
    );
    t.same(all[0], scheduleRecord(sorted[0]), 'whole records');
    const pages: string[][] = [];
    let after: string | undefined;
    for (;;) {
      const page = await tx((x) => x.schedules.list({ limit: 4, afterScheduleId: after }));
      if (page.length === 0) break;
      pages.push(page.map((s) => s.scheduleId));
      after = page[page.length - 1].scheduleId;
    }
    t.same(pages, [sorted.slice(0, 4), sorted.slice(4)], 'pages continue after the given id');
    t.same(
      (await tx((x) => x.schedules.list({ limit: 10, afterScheduleId: 'a-5' }))).map((s) => s.scheduleId),
      sorted.filter((id) => id > 'a-5'),
      'after an id that does not exist: the ids after it',
    );
    await tx((x) => x.schedules.delete('b'));
    t.notOk((await tx((x) => x.schedules.list({ limit: 100 }))).some((s) => s.scheduleId === 'b'), 'a deleted schedule is not listed');
    t.same(await tx((x) => x.schedules.list({ limit: 0 })), [], 'limit 0 lists nothing');
  });

  withStore('schedules: a rolled-back transaction leaves nothing', async (tx, t) => {
    await tx((x) => x.schedules.insert(scheduleRecord('keep')));
    const boom = new Error('boom');
    await t.rejects(
      tx(async (x) => {
        await x.schedules.insert(scheduleRecord('gone'));
        await x.schedules.update(scheduleRecord('keep', { buffered: [1] }));
        await x.schedules.delete('keep');
        throw boom;
      }),
      boom,
    );
    t.same(
      (await tx((x) => x.schedules.list({ limit: 10 }))).map((s) => s.scheduleId),
      ['keep'],
      'the insert and the delete were undone',
    );
    t.same((await tx((x) => x.schedules.get('keep')))!.buffered, [], 'and the update');
  });

  t.test('schedules: reads in a read-only transaction, writes refused', async (t) => {
    const store = await makeStore();
    t.teardown(() => store.close());
    await store.transaction((x) => x.schedules.insert(scheduleRecord('s')));
    const seen = await store.transaction(async (x) => [await x.schedules.get('s'), await x.schedules.list({ limit: 5 })], { readOnly: true });
    t.same(seen, [scheduleRecord('s'), [scheduleRecord('s')]]);
    for (const write of [
      (x: StoreTx) => x.schedules.insert(scheduleRecord('t')),
      (x: StoreTx) => x.schedules.update(scheduleRecord('s')),
      (x: StoreTx) => x.schedules.delete('s'),
    ]) {
      await t.rejects(store.transaction(write, { readOnly: true }), /read-only/);
    }
    t.ok(await store.transaction((x) => x.schedules.get('s')), 'nothing was written');
  });
}
