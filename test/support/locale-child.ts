// A child process for the time zone and locale test (test/runtime-hardening.test.ts): the parent
// runs it under different TZ and LANG. `record` runs localeWorkflow on an in-memory worker and
// prints its result and history; `replay` replays the history given on stdin with replayHistory,
// runs the workflow afresh, and prints the fresh result. Both print what the host itself sees of
// its zone and locale, so the parent can check the environment really differed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { bundleWorkflowCode } from '../../lib/bundler';
import { Connection, WorkflowClient } from '../../lib/client';
import { Worker } from '../../lib/worker';
import { replayHistory } from '../../lib/testing/replay';

const workflowsPath = path.join(__dirname, '..', 'workflows', 'hostile.ts');
const cacheDir = path.join(os.tmpdir(), 'deja-test-hardening-cache');

async function run(): Promise<{ result: unknown; history: unknown }> {
  const connection = new Connection({ backend: `memory:locale-${randomUUID()}` });
  const worker = await Worker.create({
    connection,
    taskQueue: 'locale',
    workflowBundle: await bundleWorkflowCode({ workflowsPath, cacheDir }),
    activities: { echo: async (value: string) => `echo ${value}` },
    logger: () => undefined,
  });
  const client = new WorkflowClient(connection.service);
  try {
    return await worker.runUntil(async () => {
      const handle = await client.start('localeWorkflow', { taskQueue: 'locale', workflowId: `locale-${randomUUID()}`, args: [] });
      const result = await handle.result();
      return { result, history: await handle.fetchHistory() };
    });
  } finally {
    await connection.close();
  }
}

async function main(mode: string): Promise<unknown> {
  const resolved = new Intl.DateTimeFormat().resolvedOptions();
  const host = { timeZone: resolved.timeZone, locale: resolved.locale, number: (1234.5).toLocaleString(), hours: new Date(0).getHours() };
  if (mode === 'record') return { host, ...(await run()) };
  const history = JSON.parse(fs.readFileSync(0, 'utf8')) as Parameters<typeof replayHistory>[1];
  await replayHistory({ workflowsPath, bundleCacheDir: cacheDir }, history);
  const { result } = await run();
  return { host, replayed: true, result };
}

main(process.argv[process.argv.length - 1] === 'replay' ? 'replay' : 'record').then(
  (output) => process.stdout.write(JSON.stringify(output)),
  (error: unknown) => {
    process.stdout.write(JSON.stringify({ error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }));
    process.exitCode = 1;
  },
);
