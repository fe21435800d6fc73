// The README's examples, run as tests: the hello example end to end, the README's code blocks
// kept identical to the example files, and the `deja` command as a user types it.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { run } from '../examples/hello/main';

const root = path.join(__dirname, '..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

t.test('npm start: the hello example runs end to end on the default backend, twice on one file', async (t) => {
  // In a scratch working directory: the default backend writes ./.deja/deja.db there.
  const cwd = process.cwd();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-hello-'));
  t.teardown(() => fs.rmSync(scratch, { recursive: true, force: true }));
  const saved = process.env.DEJA_BACKEND;
  delete process.env.DEJA_BACKEND;
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => void lines.push(args.join(' '));
  process.chdir(scratch);
  try {
    t.equal(await run(), 'reserved items for A-1001; charged $42.50 for A-1001');
    t.equal(await run(), 'reserved items for A-1001; charged $42.50 for A-1001', 'a second run on the same file');
  } finally {
    console.log = log;
    process.chdir(cwd);
    if (saved !== undefined) process.env.DEJA_BACKEND = saved;
  }
  t.match(lines.join('\n'), /started order-\d+; status: \w+/);
  t.ok(fs.statSync(path.join(scratch, '.deja', 'deja.db')).isFile(), 'the workflows are in ./.deja/deja.db');
});

t.test('the cancel-order example: the client cancels an order; cleanup runs, the child is cancelled with it', async (t) => {
  const cwd = process.cwd();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-cancel-order-'));
  t.teardown(() => fs.rmSync(scratch, { recursive: true, force: true }));
  const saved = process.env.DEJA_BACKEND;
  delete process.env.DEJA_BACKEND;
  const log = console.log;
  console.log = () => undefined;
  process.chdir(scratch);
  try {
    const { run: cancelOrder } = await import('../examples/cancel-order/main');
    t.same(await cancelOrder(), {
      order: 'CANCELLED',
      shipping: 'CANCELLED',
      activities: ['reserved stock for A-1002', 'released stock for A-1002', 'told A-1002: your order was cancelled'],
    });
  } finally {
    console.log = log;
    process.chdir(cwd);
    if (saved !== undefined) process.env.DEJA_BACKEND = saved;
  }
});

t.test("the README's tour shows the example's code", async (t) => {
  for (const file of ['workflows.ts', 'activities.ts']) {
    const code = fs.readFileSync(path.join(root, 'examples', 'hello', file), 'utf8');
    for (const line of code.split('\n')) {
      if (line.trim() === '' || line.trim().startsWith('//')) continue;
      t.ok(readme.includes(line), `README has: ${line.trim()}`);
    }
  }
});

t.test('the deja command: replay the fixtures as the README shows', async (t) => {
  const fixtures = fs.readdirSync(path.join(root, 'replay-fixtures')).filter((f) => f.endsWith('.json')).map((f) => path.join('replay-fixtures', f));
  const ok = spawnSync(process.execPath, ['bin/deja.js', 'replay', ...fixtures, '--workflows', 'test/workflows/index.ts'], { cwd: root, encoding: 'utf8' });
  t.equal(ok.status, 0, ok.stderr);
  t.match(ok.stdout, new RegExp(`${fixtures.length} histories: ${fixtures.length} replayed cleanly, 0 failed`));
  const bad = spawnSync(process.execPath, ['bin/deja.js', 'replay', fixtures[0], '--workflows', 'test/workflows/changed.ts'], { cwd: root, encoding: 'utf8' });
  t.equal(bad.status, 1);
  t.match(bad.stderr, /DeterminismViolationError: nondeterminism at event \d+/);
  const usage = spawnSync(process.execPath, ['bin/deja.js'], { cwd: root, encoding: 'utf8' });
  t.equal(usage.status, 2);
  t.match(usage.stderr, /Usage:/);
});

t.test('embedding the replay engine: the next commands of an open history', async (t) => {
  const { nextCommands } = await import('../examples/embed/drive');
  const { makeHistory } = await import('../lib/history');
  const t0 = Date.UTC(2026, 0, 1);
  const at = (ms: number) => new Date(t0 + ms).toISOString();
  const events = makeHistory('order-1', 'run-1', [
    { eventId: 1, eventTime: at(0), type: 'workflowExecutionStarted', workflowType: 'processOrder', workflowId: 'order-1', runId: 'run-1', firstExecutionRunId: 'run-1', taskQueue: 'orders', input: ['A-1', 5], attempt: 1, randomnessSeed: 's', workflowTaskTimeoutMs: 10_000 },
    { eventId: 2, eventTime: at(1), type: 'workflowTaskScheduled', taskQueue: 'orders', attempt: 1 },
    { eventId: 3, eventTime: at(2), type: 'workflowTaskStarted', scheduledEventId: 2 },
  ]).events;
  const commands = await nextCommands(path.join(root, 'examples', 'hello', 'workflows.ts'), [...events]);
  t.match(commands, [{ type: 'scheduleActivity', seq: 1, activityType: 'reserveInventory', args: ['A-1'], startToCloseTimeoutMs: 10_000 }]);
});
