// A test environment: one in-memory service per environment, a worker running the test
// workflows, and a client. Records real runs for the replay and property tests.
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Connection, WorkflowClient } from '../../lib/client';
import { Worker, type WorkerOptions } from '../../lib/worker';
import { bundleWorkflowCode, type WorkflowBundle } from '../../lib/bundler';
import type { History } from '../../lib/history/events';
import * as activities from '../workflows/activities';

export const workflowsPath = path.join(__dirname, '..', 'workflows', 'index.ts');

let sharedBundle: Promise<WorkflowBundle> | undefined;
/** The test workflows, bundled once per test process. */
export function testBundle(): Promise<WorkflowBundle> {
  return (sharedBundle ??= bundleWorkflowCode({ workflowsPath }));
}

/** Something a recording does to its run after `afterMs`: a signal (the default), a cancel, or a termination (reason: `name`). */
export interface RecordAction {
  name: string;
  args?: unknown[];
  afterMs: number;
  /** 'update': executeUpdate `name` with `args` (a rejected or failed update is recorded too). */
  action?: 'signal' | 'cancel' | 'terminate' | 'update';
}

export interface TestEnv {
  connection: Connection;
  client: WorkflowClient;
  worker: Worker;
  taskQueue: string;
  /** Starts a workflow, sends the given signals after their delays, and returns its history. */
  record(workflowType: string, args: unknown[], signals?: RecordAction[], startOptions?: Record<string, unknown>): Promise<History>;
  close(): Promise<void>;
}

export async function startEnv(options: Partial<WorkerOptions> = {}): Promise<TestEnv> {
  const connection = new Connection({ backend: `memory:test-${randomUUID()}` });
  const taskQueue = 'test';
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: await testBundle(),
    activities,
    logger: () => undefined,
    ...options,
  });
  const running = worker.run();
  const client = new WorkflowClient(connection.service);
  return {
    connection,
    client,
    worker,
    taskQueue,
    async record(workflowType, args, signals = [], startOptions = {}) {
      const handle = await client.start(workflowType, { taskQueue, workflowId: `${workflowType}-${randomUUID()}`, args, ...startOptions });
      await Promise.all(
        // A signal to a run that has already closed is refused (WorkflowNotFoundError): expected
        // when the script finished without waiting for it.
        signals.map((s) =>
          new Promise<void>((resolve, reject) =>
            setTimeout(() => {
              const done =
                s.action === 'cancel'
                  ? handle.cancel()
                  : s.action === 'terminate'
                    ? handle.terminate(s.name)
                    : s.action === 'update'
                      ? handle.executeUpdate(s.name, { args: s.args ?? [] }).then(() => undefined)
                      : handle.signal(s.name, ...(s.args ?? []));
              done.then(resolve, (e: Error) => (e.name === 'WorkflowNotFoundError' || e.name === 'WorkflowUpdateFailedError' ? resolve() : reject(e)));
            }, s.afterMs),
          ),
        ),
      );
      try {
        await handle.result();
      } catch {
        // a failing workflow is recorded too
      }
      return handle.fetchHistory();
    },
    async close() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
