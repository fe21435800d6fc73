// A test environment on a manual clock (host side): one in-memory service whose time moves only
// when the environment moves it, a worker running the test workflows, and a client. `record` is
// deterministic in its order of events: it lets the worker run until nothing is left to do
// (no task claimable, none in flight), then does exactly one thing (sends a due signal, or moves
// the clock to the next due instant and ticks), and repeats. The same scenario gives the same
// sequence of events, whatever the machine's speed, so a property test's seed reproduces a failure.
import { randomUUID } from 'node:crypto';
import { MemoryStore } from '../../lib/backends/memory';
import { WorkflowClient } from '../../lib/client';
import { LocalWorkflowService } from '../../lib/engine';
import type { History } from '../../lib/history/events';
import type { WorkflowService } from '../../lib/service';
import { Worker } from '../../lib/worker';
import * as activities from '../workflows/activities';
import { testBundle } from './env';
import { ManualClock } from './service';

export interface ManualEnv {
  clock: ManualClock;
  client: WorkflowClient;
  /** Starts a workflow, sends each signal `afterMs` (manual) ms after the start, returns its history. */
  record(workflowType: string, args: unknown[], signals?: { name: string; args?: unknown[]; afterMs: number }[]): Promise<History>;
  close(): Promise<void>;
}

const TASK_METHODS = ['completeWorkflowTask', 'failWorkflowTask', 'respondQueryTask', 'completeActivityTask', 'failActivityTask'] as const;

/** The service as the worker sees it, counting the tasks it holds (polled, not yet answered). */
export function countingService(service: WorkflowService, held: Set<string>): WorkflowService {
  const proxy = Object.create(service) as WorkflowService;
  proxy.pollWorkflowTask = async (...args) => {
    const task = await service.pollWorkflowTask(...args);
    if (task) held.add(task.taskToken);
    return task;
  };
  proxy.pollActivityTask = async (...args) => {
    const task = await service.pollActivityTask(...args);
    if (task) held.add(task.taskToken);
    return task;
  };
  for (const method of TASK_METHODS) {
    const original = (service[method] as (token: string, ...rest: unknown[]) => Promise<void>).bind(service);
    (proxy as unknown as Record<string, unknown>)[method] = (token: string, ...rest: unknown[]) => original(token, ...rest).finally(() => held.delete(token));
  }
  return proxy;
}

export async function startManualEnv(): Promise<ManualEnv> {
  // An hour ahead of the real clock: the worker measures activity deadlines against real time.
  const clock = new ManualClock(Math.ceil(Date.now() / 1000) * 1000 + 3_600_000);
  const store = new MemoryStore();
  const service = new LocalWorkflowService({ store, clock });
  const held = new Set<string>();
  const taskQueue = 'test';
  const worker = await Worker.create({
    connection: { service: countingService(service, held) },
    taskQueue,
    workflowBundle: await testBundle(),
    activities,
    logger: () => undefined,
  });
  const running = worker.run();
  const client = new WorkflowClient(service);

  /** Whether the worker has work: a task claimable now, or one it holds. */
  const busy = async () =>
    held.size > 0 ||
    (await store.transaction(
      async (tx) => (await tx.tasks.claimable('workflow', taskQueue, clock.now())) || (await tx.tasks.claimable('activity', taskQueue, clock.now())) || (await tx.queries.claimable(taskQueue)),
      { readOnly: true },
    ));
  /** Lets the worker run until it has nothing to do, seen twice across a turn of the event loop. */
  const settle = async () => {
    for (let quiet = 0; quiet < 2; ) {
      await new Promise((resolve) => setImmediate(resolve));
      quiet = (await busy()) ? 0 : quiet + 1;
    }
  };
  const nextDue = () =>
    store.transaction(
      async (tx) => {
        const [timerAt, taskAt] = [await tx.timers.nextFireAt(), await tx.tasks.nextDueAt(clock.now())];
        return timerAt === undefined ? taskAt : taskAt === undefined ? timerAt : Math.min(timerAt, taskAt);
      },
      { readOnly: true },
    );

  return {
    clock,
    client,
    async record(workflowType, args, signals = []) {
      const workflowId = `${workflowType}-${randomUUID()}`;
      const handle = await client.start(workflowType, { taskQueue, workflowId, args });
      const startAt = clock.now();
      // Signals in the order they are due; equal instants in the order given.
      const pending = signals.map((s, i) => ({ ...s, at: startAt + s.afterMs, i })).sort((a, b) => a.at - b.at || a.i - b.i);
      for (;;) {
        await settle();
        if ((await service.describeWorkflow({ workflowId })).status !== 'running') break;
        if (pending.length > 0 && pending[0].at <= clock.now()) {
          const s = pending.shift()!;
          await handle.signal(s.name, ...(s.args ?? []));
          continue;
        }
        const due = await nextDue();
        const next = Math.min(due ?? Infinity, pending[0]?.at ?? Infinity);
        if (next === Infinity) throw new Error(`${workflowId} waits for nothing that will come: no signal left, no timer`);
        clock.ms = Math.max(clock.ms, next);
        await service.tick();
      }
      // Signals still pending would be refused (the run closed), as a signal to a closed run is.
      return handle.fetchHistory();
    },
    async close() {
      worker.shutdown();
      await running;
      await service.close();
    },
  };
}
