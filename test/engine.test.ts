// The engine suite (test/engine-suite.ts) on the memory store, and the engine's transaction
// working set (Op) on its own.
import t from 'tap';
import { MemoryStore } from '../lib/backends/memory';
import { Op } from '../lib/engine/op';
import { engineSuite } from './engine-suite';
import { runRecord } from './store-conformance';
import { spyStore, type StoreCall } from './support/store-spy';

engineSuite(t, async () => new MemoryStore());

t.test('Op: a run changed without a new event is written back; an untouched one is not', async (t) => {
  const calls: StoreCall[] = [];
  const store = spyStore(new MemoryStore(), { beforeCall: (call) => calls.push(call) });
  t.teardown(() => store.close());
  await store.transaction(async (tx) => {
    await tx.runs.insert(runRecord('changed'));
    await tx.runs.insert(runRecord('untouched', { workflowId: 'other' }));
  });
  calls.length = 0;
  await store.transaction(async (tx) => {
    const op = new Op(tx, 2000);
    const run = (await op.run('changed'))!;
    await op.run('untouched');
    run.workflowTaskPending = true; // a change that brings no event
    op.changed(run);
    await op.flush();
  });
  t.equal((await store.transaction((tx) => tx.runs.get('changed')))!.workflowTaskPending, true, 'the change landed');
  t.same(
    calls.filter((c) => c.method !== 'runs.get').map((c) => [c.method, (c.args[0] as { runId: string }).runId]),
    [['runs.update', 'changed']],
    'only the changed run was written, and no history',
  );
  await t.rejects(
    store.transaction(async (tx) => new Op(tx, 0).changed(runRecord('stray'))),
    /was not loaded by this transaction/,
    'a run from outside the transaction cannot be marked',
  );
});
