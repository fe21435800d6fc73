// The OpenTelemetry histories of ../shared/temporal-histories (issue 12, item 3): each replays
// cleanly against the equivalent workflows (test/workflows/temporal-otel.ts) with the equivalent
// of the OpenTelemetry interceptors that recorded it (test/workflows/otel/), installed as
// Temporal's replayer installs them (interceptors.workflowModules, or a bundle's
// workflowInterceptorModules). Each one needs them: without, or with another version's, it
// diverges; and a changed workflow gives a DeterminismViolationError. Skipped without the folder.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DeterminismViolationError } from '../lib/errors';
import { readHistoryFile } from '../lib/history';
import type { History } from '../lib/history/events';
import { replayHistory } from '../lib/testing/replay';
import { bundleWorkflowCode } from '../lib/bundler';

const root = path.join(__dirname, '..');
const recorded = path.join(root, '..', 'shared', 'temporal-histories');
const skip = fs.existsSync(recorded) ? false : `no recorded Temporal histories at ${recorded} (the shared conformance folder is absent)`;
const workflowsPath = path.join(root, 'test', 'workflows', 'temporal-otel.ts');
const otel = (name: string) => path.join(root, 'test', 'workflows', 'otel', `${name}.ts`);

/** Each history, the interceptor module equivalent to what recorded it, and how it diverges without. */
const CASES = [
  { file: 'otel_1_11_3.json', module: 'v1_11_3', changed: 'signalStartOtelChanged', wrong: undefined },
  { file: 'otel_1_13_1.json', module: 'v1_13_1', changed: 'signalStartOtelChanged', wrong: 'v1_11_3' },
  { file: 'otel_smorgasbord_1_13_1.json', module: 'v1_13_1_traced', changed: 'smorgasbordChanged', wrong: 'v1_13_2_traced' },
  { file: 'otel_smorgasbord_1_13_2.json', module: 'v1_13_2_traced', changed: 'smorgasbordChanged', wrong: 'v2_1_18_1' },
  { file: 'otel_v2_smorgasbord_1_18_1.json', module: 'v2_1_18_1', changed: 'smorgasbordChanged', wrong: 'v1_13_2_traced' },
  { file: 'signal_workflow_1_13_1.json', module: 'v1_13_1', changed: 'topSecretGreetingChanged', wrong: 'v2_1_18_1' },
] as const;

/** `history` with its workflow type renamed (a changed workflow, in memory). */
function renamed(history: History, workflowType: string): History {
  const [first, ...rest] = history.events;
  return { ...history, events: [{ ...first!, workflowType } as History['events'][number], ...rest] };
}

for (const c of CASES) {
  t.test(`${c.file} replays with its OpenTelemetry interceptors`, { skip }, async (t) => {
    const history = readHistoryFile(path.join(recorded, c.file));
    const options = { workflowsPath, interceptors: { workflowModules: [otel(c.module)] } };
    await t.resolves(replayHistory(options, history), `${c.file} replays cleanly with ${c.module}`);
    await t.rejects(replayHistory(options, renamed(history, c.changed)), DeterminismViolationError, `a changed workflow (${c.changed}) diverges`);
    if (c.wrong !== undefined) {
      await t.rejects(
        replayHistory({ workflowsPath, interceptors: { workflowModules: [otel(c.wrong)] } }, history),
        DeterminismViolationError,
        `another version's interceptors (${c.wrong}) diverge`,
      );
    }
  });
}

t.test('the 1.13.x histories need the interceptors: without them they diverge where the interceptors moved a command', { skip }, async (t) => {
  await t.rejects(replayHistory({ workflowsPath }, readHistoryFile(path.join(recorded, 'otel_1_13_1.json'))), {
    message: /nondeterminism at event 7: history recorded localActivityMarkerRecorded c \(activityId 2\) but the workflow emitted scheduleLocalActivity b/,
  });
  await t.rejects(replayHistory({ workflowsPath }, readHistoryFile(path.join(recorded, 'otel_smorgasbord_1_13_1.json'))), {
    message: /nondeterminism at event 5: history recorded timerStarted/,
  });
  // The span ids' 48 draws come before the child's id.
  await t.rejects(replayHistory({ workflowsPath }, readHistoryFile(path.join(recorded, 'otel_smorgasbord_1_13_2.json'))), {
    message: /nondeterminism at event 8: history recorded startChildWorkflowExecutionInitiated signalTarget/,
  });
});

t.test("a bundle built with workflowInterceptorModules replays them (Temporal's createTestWorkflowBundle form)", { skip }, async (t) => {
  const workflowBundle = await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: [otel('v1_13_1_traced')] });
  await t.resolves(replayHistory({ workflowBundle }, readHistoryFile(path.join(recorded, 'otel_smorgasbord_1_13_1.json'))));
});
