// Recorded workflows for the tests of `deja ui`: one in-memory environment running the test
// workflows, with runs that cover every lane kind, a retried activity, a failure with a cause, a
// signal whose payload is HTML, and a run left running for the actions.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startEnv, type TestEnv } from './env';
import { writeHistoryFile, type History } from '../../lib/history';

/** A payload that would run script if a page ever put it into markup. */
export const HTML_PAYLOAD = '<img src=x onerror="window.__dejaInjected=1"><b id="injected">bold</b><script>window.__dejaInjected=2</script>';

export interface UiRecordings {
  env: TestEnv;
  order: History;
  retry: History;
  failing: History;
  cart: History;
  scripted: History;
  /** An update accepted and completed, then a signal. */
  updated: History;
  /** An approvalWorkflow waiting an hour for its signal. */
  running: { workflowId: string; runId: string };
  /** A folder for history files and screenshots, removed by close(). */
  dir: string;
  /** order's history as a file. */
  orderFile: string;
  close(): Promise<void>;
}

export async function recordForUi(): Promise<UiRecordings> {
  const env = await startEnv();
  const order = await env.record('orderWorkflow', ['Ann', 42]);
  const retry = await env.record('retryWorkflow', []);
  const failing = await env.record('failingWorkflow', []);
  const cart = await env.record('cartWorkflow', [], [
    { name: 'addItem', args: [HTML_PAYLOAD], afterMs: 5 },
    { name: 'checkout', afterMs: 40 },
  ]);
  const scripted = await env.record('scriptedWorkflow', [[
    { kind: 'activity', arg: 'one' },
    { kind: 'timer', ms: 5 },
    { kind: 'child', arg: 'kid' },
    { kind: 'activity', arg: 'two' },
    { kind: 'timer', ms: 3 },
    { kind: 'signal', name: 'go' },
    { kind: 'upsert', value: 'blue' },
  ]], [{ name: 'go', args: ['now'], afterMs: 5 }]);
  const updated = await env.record('updateCounter', [], [
    { name: 'increment', args: [2], afterMs: 5, action: 'update' },
    { name: 'finish', afterMs: 60 },
  ]);
  const handle = await env.client.start('approvalWorkflow', { taskQueue: env.taskQueue, workflowId: 'approval-running', args: [3_600_000] });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-ui-test-'));
  const orderFile = path.join(dir, 'order.json');
  writeHistoryFile(orderFile, order);
  return {
    env,
    order,
    retry,
    failing,
    cart,
    scripted,
    updated,
    running: { workflowId: handle.workflowId, runId: handle.runId! },
    dir,
    orderFile,
    async close() {
      await handle.terminate('test over').catch(() => undefined);
      await env.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
