// Temporal's replay API under deja: Worker.runReplayHistory, Worker.runReplayHistories, ReplayError,
// historyFromJSON and historyToJSON (lib/compat/replay.ts), on deja's own fixtures, on Temporal's
// recorded histories where the shared folder is present, and through deja/register in a child
// process, as a Temporal project's replay test would call them.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Worker, ReplayError, historyFromJSON } from '../lib/compat/worker';
import { historyToJSON } from '../lib/compat/proto-utils';
import { DeterminismViolationError, InvalidArgumentError } from '../lib/errors';
import { readHistoryFile } from '../lib/history';
import type { History } from '../lib/history/events';

const root = path.join(__dirname, '..');
const fixtures = path.join(root, 'replay-fixtures');
const workflowsPath = path.join(__dirname, 'workflows', 'index.ts');
const changedPath = path.join(__dirname, 'workflows', 'changed.ts');
const recorded = path.join(root, '..', 'shared', 'temporal-histories');
const recordedSkip = fs.existsSync(path.join(recorded, 'INDEX.md')) ? false : `no recorded Temporal histories at ${recorded} (the shared conformance folder is absent)`;
const compatWorkflows = path.join(__dirname, 'workflows', 'temporal-compat.ts');

const fixture = (name: string) => path.join(fixtures, `${name}_deja_0_1_0.json`);
const json = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;

t.test('runReplayHistory: a clean replay resolves; changed code rejects with DeterminismViolationError', async (t) => {
  await t.resolves(Worker.runReplayHistory({ workflowsPath }, json(fixture('activities'))), 'a parsed history file');
  await t.resolves(Worker.runReplayHistory({ workflowsPath }, readHistoryFile(fixture('timers'))), 'a deja History');
  await t.resolves(Worker.runReplayHistory({ workflowsPath }, fs.readFileSync(fixture('signals_queries'), 'utf8')), 'its text');
  await t.rejects(Worker.runReplayHistory({ workflowsPath: changedPath }, json(fixture('activities'))), DeterminismViolationError);
});

t.test('runReplayHistory: any other failure is a ReplayError whose cause is deja’s error', async (t) => {
  const h = json(fixture('activities')) as { events: { workflowType?: string }[] };
  h.events[0]!.workflowType = 'noSuchWorkflow';
  const error = await Worker.runReplayHistory({ workflowsPath }, h).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(error instanceof ReplayError, `a ReplayError: ${String(error)}`);
  t.equal((error as ReplayError).name, 'ReplayError');
  t.match((error as Error).message, /^Replay failed: /);
  t.equal(((error as Error).cause as Error).name, 'WorkflowTaskFailedError', 'the cause is deja’s error');
  const unreadable = await Worker.runReplayHistory({ workflowsPath }, { events: 'nope' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(unreadable instanceof ReplayError, 'an unreadable history is a ReplayError too');
  t.equal(((unreadable as Error).cause as Error).name, 'InvalidHistoryError');
});

t.test('runReplayHistory: bad options are refused, and Temporal options deja does not use are named once', async (t) => {
  await t.rejects(Worker.runReplayHistory(null as never, json(fixture('activities'))), InvalidArgumentError);
  await t.rejects(Worker.runReplayHistory({ workflowsPath, bogus: 1 }, json(fixture('activities'))), { name: 'InvalidArgumentError', message: /bogus/ });
  await t.rejects(Worker.runReplayHistory({}, json(fixture('activities'))), /exactly one of workflowsPath or workflowBundle/);
  await t.rejects(Worker.runReplayHistory({ workflowsPath }, 42), { name: 'ReplayError', message: /expected a history/ });
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  try {
    await t.resolves(Worker.runReplayHistory({ workflowsPath, replayName: 'mine', debugMode: true }, json(fixture('activities'))));
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', onWarning);
  }
  t.ok(
    warnings.some((w) => /replayName/.test(w) && /debugMode/.test(w)),
    `one warning names the options: ${JSON.stringify(warnings)}`,
  );
});

t.test('runReplayHistories: a result per history, in order, failures included', async (t) => {
  const bad = json(fixture('activities')) as { events: { workflowType?: string }[] };
  bad.events[0]!.workflowType = 'noSuchWorkflow';
  async function* histories() {
    yield { workflowId: 'a', history: json(fixture('activities')) };
    yield { workflowId: 'b', history: { not: 'a history' } };
    yield { workflowId: 'c', history: bad };
    yield readHistoryFile(fixture('timers'));
  }
  const results = [];
  for await (const r of Worker.runReplayHistories({ workflowsPath }, histories())) results.push(r);
  t.equal(results.length, 4);
  t.equal(results[0]!.error, undefined, 'the first replays');
  t.equal(results[1]!.workflowId, 'b');
  t.ok(results[1]!.error instanceof ReplayError, 'the unreadable one is a ReplayError');
  t.ok(results[2]!.error instanceof ReplayError, 'the failing one is a ReplayError');
  t.equal(results[3]!.error, undefined, 'a history alone is taken too');
  const changed = [];
  for await (const r of Worker.runReplayHistories({ workflowsPath: changedPath }, [{ workflowId: 'x', history: json(fixture('activities')) }])) changed.push(r);
  t.ok(changed[0]!.error instanceof DeterminismViolationError, 'nondeterminism is a DeterminismViolationError');
  await t.rejects(Worker.runReplayHistories({ workflowsPath }, 5 as never).next(), InvalidArgumentError);
});

t.test("Temporal's recorded histories through Temporal's replay API", { skip: recordedSkip }, async (t) => {
  const file = path.join(recorded, 'cancel_fake_progress_history.json');
  const history = historyFromJSON(json(file));
  await t.resolves(Worker.runReplayHistory({ workflowsPath: compatWorkflows }, history, 'cancel-fake-progress'));
  await t.resolves(Worker.runReplayHistory({ workflowsPath: compatWorkflows }, json(file), 'wf-id-given'), 'a parsed export and a workflow id');
  const renamed = json(file) as { events: Record<string, unknown>[] };
  const attrs = renamed.events[0]!.workflowExecutionStartedEventAttributes as { workflowType: { name: string } };
  attrs.workflowType.name = 'topSecretGreeting';
  await t.rejects(Worker.runReplayHistory({ workflowsPath: compatWorkflows }, renamed), DeterminismViolationError);
});

t.test('historyToJSON writes Temporal JSON that historyFromJSON reads back as the same history', async (t) => {
  const h: History = readHistoryFile(fixture('activities'));
  const text = historyToJSON(h);
  t.match(text, /EVENT_TYPE_WORKFLOW_EXECUTION_STARTED/);
  const back = historyFromJSON(JSON.parse(text));
  t.same(
    back.events.map((e) => e.type),
    h.events.map((e) => e.type),
  );
  await t.resolves(Worker.runReplayHistory({ workflowsPath }, back));
});

t.test('through deja/register: @temporalio/worker and @temporalio/common/lib/proto-utils in a child process', async (t) => {
  const dist = path.join(root, 'dist', 'lib', 'compat', 'register.js');
  t.ok(fs.existsSync(dist), 'dist/ is built (npm test builds it first)');
  const script = `
    const { Worker, ReplayError } = require('@temporalio/worker');
    const { historyFromJSON } = require('@temporalio/common/lib/proto-utils');
    const { DeterminismViolationError } = require('@temporalio/workflow');
    const fs = require('node:fs');
    (async () => {
      const history = historyFromJSON(JSON.parse(fs.readFileSync(${JSON.stringify(fixture('activities'))}, 'utf8')));
      await Worker.runReplayHistory({ workflowsPath: ${JSON.stringify(workflowsPath)} }, history);
      console.log('clean');
      try {
        await Worker.runReplayHistory({ workflowsPath: ${JSON.stringify(changedPath)} }, history);
        console.log('no error');
      } catch (e) {
        console.log(e instanceof DeterminismViolationError ? 'nondeterminism' : 'other ' + e);
      }
      console.log(typeof ReplayError);
    })().catch((e) => { console.error(e); process.exit(1); });
  `;
  const r = spawnSync(process.execPath, ['--no-node-snapshot', '-r', dist, '-e', script], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  t.equal(r.status, 0, r.stderr);
  t.same(r.stdout.trim().split('\n'), ['clean', 'nondeterminism', 'function']);
});
