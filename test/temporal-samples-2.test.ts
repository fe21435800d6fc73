// Second round of Temporal's sample applications (issue 12 item 4): the small gaps they showed in
// deja's `@temporalio/worker`, each with a minimal case of our own (no sample code here).
// - `makeTelemetryFilterString`, which a custom-logger worker passes to `Runtime.install`;
// - `Worker.create({ workflowBundle: { codePath } })`, Temporal's form for a bundle written to a
//   file at build time (a production worker), read as a deja bundle file.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Worker, bundleWorkflowCode, makeTelemetryFilterString } from '../lib/compat/worker';
import { NativeConnection } from '../lib/worker';
import { Client } from '../lib/client';
import { InvalidArgumentError } from '../lib/errors';

const app = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-samples-2-'));
t.teardown(() => fs.rmSync(app, { recursive: true, force: true }));
fs.writeFileSync(
  path.join(app, 'workflows.ts'),
  `import { proxyActivities } from '@temporalio/workflow';

const { shout } = proxyActivities<{ shout(s: string): Promise<string> }>({ startToCloseTimeout: '1 minute' });

export async function loud(s: string): Promise<string> {
  return 'said ' + (await shout(s));
}
`,
);

t.test('makeTelemetryFilterString: the filter string, with ERROR for the rest by default; bad levels refused', async (t) => {
  t.equal(makeTelemetryFilterString({ core: 'DEBUG' }), 'ERROR,temporal_sdk_core=DEBUG,temporal_client=DEBUG,temporal_sdk=DEBUG');
  t.equal(makeTelemetryFilterString({ core: 'WARN', other: 'INFO' }), 'INFO,temporal_sdk_core=WARN,temporal_client=WARN,temporal_sdk=WARN');
  t.throws(() => makeTelemetryFilterString({ core: 'LOUD' as never }), { name: 'InvalidArgumentError', message: /core: level must be one of 'TRACE', 'DEBUG'/ });
  t.throws(() => makeTelemetryFilterString({ core: 'INFO', other: 3 as never }), /other: level must be one of/);
  t.throws(() => makeTelemetryFilterString(undefined as never), /expected an options object \(\{ core, other\? \}\), got undefined/);
  t.throws(() => makeTelemetryFilterString({ core: 'INFO', level: 'INFO' } as never), /unknown option "level"/);
});

t.test("Worker.create runs a bundle written to a file and given as Temporal's { codePath }", async (t) => {
  const { code } = await bundleWorkflowCode({ workflowsPath: path.join(app, 'workflows.ts') });
  const codePath = path.join(app, 'workflow-bundle.js');
  fs.writeFileSync(codePath, code);
  const connection = await NativeConnection.connect({ address: `memory:samples-2-${randomUUID()}` });
  const worker = await Worker.create({
    connection,
    taskQueue: 'bundled',
    workflowBundle: { codePath },
    activities: { shout: async (s: string) => s.toUpperCase() },
    logger: () => undefined,
  });
  const running = worker.run();
  t.teardown(async () => {
    worker.shutdown();
    await running;
    await connection.close();
  });
  const client = new Client({ connection });
  t.equal(await client.workflow.execute('loud', { taskQueue: 'bundled', workflowId: 'loud-1', args: ['hi'] }), 'said HI');
});

t.test('Worker.create: a { codePath } that is not a deja bundle, or not a path, is refused with a message', async (t) => {
  const connection = await NativeConnection.connect({ address: `memory:samples-2-${randomUUID()}` });
  t.teardown(() => connection.close());
  const foreign = path.join(app, 'temporal-bundle.js');
  fs.writeFileSync(foreign, '(function () { /* a bundle made by another bundler */ })();\n');
  await t.rejects(Worker.create({ connection, taskQueue: 'x', workflowBundle: { codePath: foreign } }), {
    code: 'DEJA_BUNDLE',
    message: /temporal-bundle\.js is not a deja workflow bundle: it does not start with a "\/\* deja-bundle protocol=… \*\/" header/,
  });
  await t.rejects(Worker.create({ connection, taskQueue: 'x', workflowBundle: { codePath: path.join(app, 'missing.js') } }), { message: /cannot read bundle .*missing\.js/ });
  await t.rejects(Worker.create({ connection, taskQueue: 'x', workflowBundle: { codePath: 7 as never } }), InvalidArgumentError);
  await t.rejects(Worker.create({ connection, taskQueue: 'x', workflowBundle: { codePath: 7 as never } }), /workflowBundle\.codePath must be the path of a bundle file, got number 7/);
});
