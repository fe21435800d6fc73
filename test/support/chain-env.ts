// A worker, a client and an in-memory service on a manual clock (host side), for chains of runs:
// `until(check)` lets the worker run until it has nothing to do, then moves the clock to the next
// due instant and ticks, until `check` holds. Time never passes by waiting.
import { MemoryStore } from '../../lib/backends/memory';
import type { Store } from '../../lib/backends/store';
import { WorkflowClient } from '../../lib/client';
import { LocalWorkflowService, type Limits } from '../../lib/engine';
import { Worker } from '../../lib/worker';
import * as activities from '../workflows/activities';
import { testBundle } from './env';
import { countingService } from './manual-env';
import { ManualClock } from './service';

export interface ChainEnv {
  clock: ManualClock;
  client: WorkflowClient;
  service: LocalWorkflowService;
  taskQueue: string;
  /** The tasks the worker holds (polled, not yet answered). */
  held: Set<string>;
  /** Runs the worker and moves time (to each next due instant) until `check` gives a value. */
  until<T>(what: string, check: () => Promise<T | undefined | false>, maxSteps?: number): Promise<T>;
  /** Lets the worker finish what it can do now, without moving time. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function startChainEnv(options: { limits?: Partial<Limits>; store?: Store; start?: number } = {}): Promise<ChainEnv> {
  // Ahead of the real clock: the worker measures activity deadlines against real time.
  const clock = new ManualClock(options.start ?? Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 3_600_000);
  const store = options.store ?? new MemoryStore();
  const service = new LocalWorkflowService({ store, clock, limits: options.limits });
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
  const busy = async () =>
    held.size > 0 ||
    (await store.transaction(
      async (tx) => (await tx.tasks.claimable('workflow', taskQueue, clock.now())) || (await tx.tasks.claimable('activity', taskQueue, clock.now())) || (await tx.queries.claimable(taskQueue)),
      { readOnly: true },
    ));
  const settle = async () => {
    for (let quiet = 0; quiet < 3; ) {
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
    service,
    taskQueue,
    held,
    settle,
    async until(what, check, maxSteps = 200) {
      for (let step = 0; step < maxSteps; step++) {
        await settle();
        const value = await check();
        if (value !== undefined && value !== false) return value;
        const due = await nextDue();
        if (due === undefined) throw new Error(`never happened: ${what} (nothing is due)`);
        clock.ms = Math.max(clock.ms, due);
        await service.tick();
      }
      throw new Error(`never happened: ${what} (after ${maxSteps} steps)`);
    },
    async close() {
      worker.shutdown();
      await running;
      await service.close();
    },
  };
}
