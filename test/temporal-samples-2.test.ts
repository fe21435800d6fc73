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
import { spawnSync } from 'node:child_process';
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

// The documented `paths` block pointed at `.d.ts` files: tsx (and other runtimes that honour tsconfig
// `paths`, like the fetch-esm sample's) then load the declaration file at run time and find no
// exports. Extensionless targets serve both: tsc picks the `.d.ts`, a runtime mapper the `.js`.
const PATHS: Record<string, string> = {
  '@temporalio/client': 'dist/lib/compat/client',
  '@temporalio/worker': 'dist/lib/compat/worker',
  '@temporalio/activity': 'dist/lib/activity/index',
  '@temporalio/workflow': 'dist/runtime/index',
  '@temporalio/common': 'dist/lib/compat/common',
  '@temporalio/testing': 'dist/lib/compat/testing',
  '@temporalio/envconfig': 'dist/lib/compat/envconfig',
  '@temporalio/nyc-test-coverage': 'dist/lib/compat/nyc-test-coverage',
};

t.test('a paths block with extensionless targets type-checks under nodenext, and each target has its .js', async (t) => {
  const root = path.join(__dirname, '..');
  for (const [name, target] of Object.entries(PATHS)) {
    t.ok(fs.existsSync(path.join(root, `${target}.d.ts`)), `${name}: ${target}.d.ts for tsc (dist/ is built)`);
    t.ok(fs.existsSync(path.join(root, `${target}.js`)), `${name}: ${target}.js for a runtime that maps paths`);
  }
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-paths-'));
  t.teardown(() => fs.rmSync(project, { recursive: true, force: true }));
  fs.mkdirSync(path.join(project, 'src'));
  fs.writeFileSync(
    path.join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'es2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [path.join(root, 'node_modules', '@types')],
        paths: Object.fromEntries(Object.entries(PATHS).map(([name, target]) => [name, [path.join(root, target)]])),
      },
      include: ['src/**/*.ts'],
    }),
  );
  fs.writeFileSync(
    path.join(project, 'src', 'main.ts'),
    `import { Worker, Runtime, DefaultLogger, makeTelemetryFilterString } from '@temporalio/worker';
import { Client } from '@temporalio/client';
import { proxyActivities } from '@temporalio/workflow';
import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { WorkflowCoverage } from '@temporalio/nyc-test-coverage';

export async function main(): Promise<unknown> {
  Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'DEBUG' }) } } });
  const worker = await Worker.create({ taskQueue: 'q', workflowBundle: { codePath: '/somewhere/workflow-bundle.js' } });
  // @ts-expect-error: not a level
  makeTelemetryFilterString({ core: 'LOUD' });
  return [worker, Client, proxyActivities, log, ApplicationFailure, TestWorkflowEnvironment, loadClientConnectConfig, WorkflowCoverage];
}
`,
  );
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', project], { cwd: project, encoding: 'utf8', timeout: 120_000 });
  t.equal(r.status, 0, r.stdout + r.stderr);
  t.equal(r.stdout.trim(), '', 'no errors (and the @ts-expect-error line did fail: the types are real)');
});

t.test('Worker.create refuses a payload codec (deja would store its payloads unencoded) and names the way out', async (t) => {
  const connection = await NativeConnection.connect({ address: `memory:samples-2-${randomUUID()}` });
  t.teardown(() => connection.close());
  const codec = { encode: async (p: unknown[]) => p, decode: async (p: unknown[]) => p };
  const base = { connection, taskQueue: 'codec', activities: { a: async () => 1 }, logger: () => undefined };
  await t.rejects(Worker.create({ ...base, dataConverter: { payloadCodecs: [codec] } }), {
    name: 'InvalidArgumentError',
    message: /^Worker\.create: dataConverter\.payloadCodecs is not offered: deja stores payloads as plain JSON and applies no payload codec, .*remove payloadCodecs to run without it$/,
  });
  await t.rejects(Worker.create({ ...base, dataConverter: { payloadCodecs: 'x' } }), /payloadCodecs is not offered/, 'anything but an empty list');
  const worker = await Worker.create({ ...base, dataConverter: { payloadCodecs: [] } });
  t.equal(worker.taskQueue, 'codec', 'an empty list is no codec: accepted');
});

t.test("ApplicationFailureCategory: Temporal's BENIGN category is kept on the failure create() makes, from @temporalio/common and the workflow API", async (t) => {
  const common = await import('../lib/compat/common');
  const workflowApi = await import('../runtime/index');
  t.same(common.ApplicationFailureCategory, { BENIGN: 'BENIGN' });
  t.equal(workflowApi.ApplicationFailureCategory, common.ApplicationFailureCategory, 'one object on both sides');
  const f = common.ApplicationFailure.create({ message: 'not there yet', category: common.ApplicationFailureCategory.BENIGN });
  t.equal(f.category, 'BENIGN');
  t.equal(f.message, 'not there yet');
  t.equal(common.ApplicationFailure.create({ message: 'x' }).category, undefined, 'no category unless given');
});
