/**
 * Records the bench histories with deja itself (host side): a real Worker and WorkflowClient on
 * an in-memory LocalWorkflowService. Time is virtual: when the only thing left to wait for is a
 * timer, the clock jumps 1 s and the service ticks, so timerLoop(1000) records in seconds, not a
 * quarter of an hour. Signals are sent one at a time, each after the workflow task of the previous
 * one has completed, so every signal has its own workflow task.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Connection, LocalWorkflowService, MemoryStore, Worker, WorkflowClient, type History, type HistoryEvent, type WorkflowBundle } from './deja';

export type WorkloadName = 'seqActivities' | 'timerLoop' | 'signalLoop';
export const WORKLOADS: WorkloadName[] = ['seqActivities', 'timerLoop', 'signalLoop'];

/** The bench activities: `step(i)` returns i. */
export const activities = {
  async step(i: number): Promise<number> {
    return i;
  },
  async stepChanged(i: number): Promise<number> {
    return i;
  },
};

class VirtualClock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

export interface Recorder {
  record(workload: WorkloadName, n: number): Promise<History>;
  close(): Promise<void>;
}

export async function startRecorder(bundle: WorkflowBundle): Promise<Recorder> {
  const clock = new VirtualClock();
  const service = new LocalWorkflowService({ store: new MemoryStore(), clock });
  const connection = new Connection({ backend: service });
  const taskQueue = 'bench';
  const worker = await Worker.create({ connection, taskQueue, workflowBundle: bundle, activities, logger: () => undefined });
  const running = worker.run();
  const client = new WorkflowClient(connection.service);
  let counter = 0;

  async function record(workload: WorkloadName, n: number): Promise<History> {
    const workflowId = `${workload}-${n}-${++counter}`;
    const handle = await client.start(workload, { taskQueue, workflowId, args: [n] });
    const ref = { workflowId, runId: handle.runId! };
    let done = false;
    const result = handle.result().finally(() => (done = true));
    let seen = 0;
    /** Waits for the next events; returns them (possibly none once the run is over). */
    const more = async (): Promise<HistoryEvent[]> => {
      for (;;) {
        const events = await service.getHistory(ref, seen);
        if (events.length > 0) {
          seen = events[events.length - 1].eventId;
          return events;
        }
        if (done) return [];
        await yieldToLoop();
      }
    };
    if (workload === 'timerLoop') {
      // Jump the clock whenever the workflow's last task ended by starting a timer.
      while (!done) {
        const events = await more();
        if (events.length > 0 && events[events.length - 1].type === 'timerStarted') {
          clock.offsetMs += 1000;
          await service.tick();
        }
      }
    } else if (workload === 'signalLoop') {
      const waitForCompletedTask = async () => {
        for (;;) {
          const events = await more();
          if (events.some((e) => e.type === 'workflowTaskCompleted') || (events.length === 0 && done)) return;
        }
      };
      await waitForCompletedTask(); // the first task registers the handler
      for (let i = 0; i < n; i++) {
        await handle.signal('tick', i);
        await waitForCompletedTask();
      }
    }
    await result;
    const history = await handle.fetchHistory();
    const last = history.events[history.events.length - 1];
    if (last.type !== 'workflowExecutionCompleted') throw new Error(`recording ${workflowId}: the run ended with ${last.type}`);
    return history;
  }

  return {
    record,
    async close() {
      worker.shutdown();
      await running;
      await connection.close();
      await service.close();
    },
  };
}

/** A copy of a history under another workflow id and run id (batches replay distinct runs). */
export function withIds(history: History, copy: number): History {
  const workflowId = `${history.workflowId}-c${copy}`;
  const runId = `${history.runId}-c${copy}`;
  const events = history.events.map((e) =>
    e.type === 'workflowExecutionStarted' ? { ...e, workflowId, runId, firstExecutionRunId: runId } : e,
  );
  return { ...history, workflowId, runId, events };
}
