// The `deja` command. First as users run it: bin/deja.js in a child process (which re-executes
// Node with --no-node-snapshot when it is missing). Bad input of every kind is one line on stderr,
// never a stack, and exit status 2; DEJA_DEBUG=1 or --debug adds the stack. Then every command in
// this process through main(argv, out), against a worker (itself `deja worker`) on a memory
// backend the test shares; and across processes on SQLite once that backend is available.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main, type Out, type ProgressStream } from '../lib/cli/main';
import { createProgress } from '../lib/cli/progress';
import { Connection } from '../lib/client';
import { parseHistory, readHistoryFile } from '../lib/history';
import { replayHistory } from '../lib/testing/replay';

const root = path.join(__dirname, '..');
const bin = path.join(root, 'bin', 'deja.js');
const fixture = path.join(root, 'replay-fixtures', 'timers_deja_0_1_0.json');
const testWorkflows = path.join(root, 'test', 'workflows', 'index.ts');

// bin/deja.js runs the compiled CLI: an old build would test old code.
for (const file of fs.readdirSync(path.join(root, 'lib', 'cli')).filter((f) => f.endsWith('.ts'))) {
  const built = path.join(root, 'dist', 'lib', 'cli', file.replace(/\.ts$/, '.js'));
  if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < fs.statSync(path.join(root, 'lib', 'cli', file)).mtimeMs) {
    throw new Error(`dist/lib/cli/${path.basename(built)} is missing or older than lib/cli/${file}: run "npm run build" (node scripts/test.js does)`);
  }
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `deja args` in `cwd`. NODE_OPTIONS is cleared unless given, so bin/deja.js takes its
 * re-exec path; DEJA_DEBUG is cleared unless given.
 */
function deja(cwd: string, args: string[], env: Record<string, string> = {}): Run {
  const { NODE_OPTIONS: _n, DEJA_DEBUG: _d, ...rest } = process.env;
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...rest, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const STACK_LINE = /^\s+at /m;

/** Exit 2, and stderr is exactly one line `deja: …; expected …` with no stack. */
function usageError(tt: Tap, run: Run, message: RegExp, what: string): void {
  tt.equal(run.status, 2, `${what}: exit 2 (stderr: ${run.stderr})`);
  tt.notMatch(run.stderr, STACK_LINE, `${what}: no stack`);
  const lines = run.stderr.trimEnd().split('\n');
  tt.equal(lines.length, 1, `${what}: one line`);
  tt.match(lines[0], /^deja: .+; .+$/, `${what}: "deja: <what went wrong>; <what was expected>"`);
  tt.match(lines[0], message, what);
}
type Tap = tap.Test;

function workspace(tt: Tap): string {
  return tt.testdir({
    'workflows.ts': 'export async function hello(name: string): Promise<string> {\n  return `hello ${name}`;\n}\n',
    'uses-fs.ts': "import * as fs from 'node:fs';\nexport async function reads(): Promise<string> {\n  return fs.readFileSync('x', 'utf8');\n}\n",
    'a-file': 'not a folder',
    histories: {},
  });
}

t.test('replay: a directory, a missing file, an unreadable path: one line, exit 2', async (t) => {
  const dir = workspace(t);
  usageError(t, deja(dir, ['replay', 'histories', '-w', 'workflows.ts']), /^deja: replay: cannot read history file histories: it is a directory, not a file; expected history files/, 'a directory');
  usageError(t, deja(dir, ['replay', 'missing.json', '-w', 'workflows.ts']), /cannot read history file missing\.json: file not found;/, 'a missing file');
  usageError(t, deja(dir, ['replay', 'missing.json', 'histories', '-w', 'workflows.ts']), /missing\.json: file not found \(and 1 more that cannot be read\);/, 'none readable');
  usageError(t, deja(dir, ['replay', 'a-file/h.json', '-w', 'workflows.ts']), /cannot read history file a-file\/h\.json: a part of its path is not a directory;/, 'a path through a file');
  if (process.getuid?.() !== 0) {
    fs.writeFileSync(path.join(dir, 'secret.json'), '{}', { mode: 0o000 });
    usageError(t, deja(dir, ['replay', 'secret.json', '-w', 'workflows.ts']), /secret\.json: permission denied;/, 'an unreadable file');
  }
});

t.test('replay: with readable histories beside it, an unreadable one is a failure by name', async (t) => {
  const dir = workspace(t);
  const run = deja(dir, ['replay', 'histories', fixture, '-w', testWorkflows]);
  t.equal(run.status, 1, run.stderr);
  t.notMatch(run.stderr, STACK_LINE);
  t.match(run.stderr, /^✗ histories\n {4}it is a directory, not a file$/m);
  t.match(run.stdout, /2 histories: 1 replayed cleanly, 1 failed/);
});

t.test('replay: the workflows module is checked first', async (t) => {
  const dir = workspace(t);
  usageError(t, deja(dir, ['replay', fixture]), /--workflows <path> is required; expected the workflows module/, 'no --workflows');
  usageError(t, deja(dir, ['replay', '-w', 'workflows.ts']), /no history file given; expected one or more history files/, 'no history');
  usageError(t, deja(dir, ['replay', fixture, '-w', 'missing.ts']), /cannot use workflows module missing\.ts: file not found; expected --workflows to name a TypeScript or JavaScript module/, 'a missing module');
  usageError(t, deja(dir, ['replay', fixture, '-w', 'histories']), /workflows module histories is not a file;/, 'a directory as module');
});

t.test('bundle: a missing --out folder, a directory as --out, a missing module: one line, exit 2', async (t) => {
  const dir = workspace(t);
  usageError(
    t,
    deja(dir, ['bundle', 'workflows.ts', '--out', 'missing/dir/out.js']),
    /^deja: bundle: cannot write the bundle to missing\/dir\/out\.js: its folder missing\/dir does not exist; expected --out to name a file in an existing folder/,
    'ENOENT',
  );
  t.notOk(fs.existsSync(path.join(dir, 'missing')), 'nothing created');
  usageError(t, deja(dir, ['bundle', 'workflows.ts', '--out', 'histories']), /cannot write the bundle to histories: it is a directory;/, 'EISDIR');
  usageError(t, deja(dir, ['bundle', 'workflows.ts', '--out', 'a-file/out.js']), /cannot write the bundle to a-file\/out\.js: a-file is not a folder;/, 'ENOTDIR');
  usageError(t, deja(dir, ['bundle', 'missing.ts']), /cannot use workflows module missing\.ts: file not found; expected the path of a TypeScript or JavaScript module/, 'a missing module');
  usageError(t, deja(dir, ['bundle', 'histories']), /workflows module histories is not a file;/, 'a directory as module');
  usageError(t, deja(dir, ['bundle']), /no workflows module given; expected exactly one/, 'no module');
  usageError(t, deja(dir, ['bundle', 'a.ts', 'b.ts']), /2 workflows modules given; expected exactly one/, 'two modules');
});

t.test('bad flags and commands: one line, exit 2', async (t) => {
  const dir = workspace(t);
  usageError(t, deja(dir, ['bundle', 'workflows.ts', '--bogus']), /^deja: bundle: unknown option --bogus; expected --out <value>/, 'unknown option');
  usageError(t, deja(dir, ['replay', fixture, '--workflows']), /option --workflows needs a value; expected --workflows <value>/, 'missing value');
  usageError(t, deja(dir, ['replay', fixture, '-w', 'workflows.ts', '--quiet=yes']), /option --quiet takes no value/, 'value for a switch');
  usageError(t, deja(dir, ['frobnicate']), /unknown command "frobnicate"; expected one of: worker, start, list, count, describe, history, signal, query, cancel, terminate, result, schedule, ui, replay, bundle, migrate, help/, 'unknown command');
});

t.test('DEJA_DEBUG=1 or --debug adds the stack', async (t) => {
  const dir = workspace(t);
  for (const [what, args, env] of [
    ['DEJA_DEBUG=1', ['replay', 'histories', '-w', 'workflows.ts'], { DEJA_DEBUG: '1' }],
    ['--debug', ['replay', '--debug', 'histories', '-w', 'workflows.ts'], {}],
  ] as const) {
    const run = deja(dir, [...args], env);
    t.equal(run.status, 2, what);
    t.match(run.stderr, /^deja: replay: cannot read history file histories: it is a directory/, what);
    t.match(run.stderr, STACK_LINE, `${what}: the stack`);
  }
});

t.test('what the job finds exits 1, still without a stack', async (t) => {
  const dir = workspace(t);
  const run = deja(dir, ['bundle', 'uses-fs.ts']);
  t.equal(run.status, 1);
  t.notMatch(run.stderr, STACK_LINE);
  t.match(run.stderr, /^deja: WorkflowBundleError: Cannot bundle workflows uses-fs\.ts: 1 problem\n {2}uses-fs\.ts:1:\d+ imports Node built-in "node:fs"/);
});

t.test('working commands, with and without --no-node-snapshot already given', async (t) => {
  const dir = workspace(t);
  const bundled = deja(dir, ['bundle', 'workflows.ts', '--out', 'out.js']);
  t.equal(bundled.status, 0, bundled.stderr);
  t.match(bundled.stdout, /^bundle [0-9a-f]{16} .* out\.js$/m);
  t.match(fs.readFileSync(path.join(dir, 'out.js'), 'utf8'), /^\/\* deja-bundle protocol=/);
  for (const env of [{}, { NODE_OPTIONS: '--no-node-snapshot' }] as Record<string, string>[]) {
    const run = deja(dir, ['replay', fixture, '-w', testWorkflows], env);
    t.equal(run.status, 0, `${JSON.stringify(env)}: ${run.stderr}`);
    t.match(run.stdout, /1 history: 1 replayed cleanly, 0 failed/);
  }
  const help = deja(dir, ['bundle', '--help']);
  t.equal(help.status, 0);
  t.match(help.stdout, /^Usage:/);
});

// ── Every command in this process, through main(argv, out) ───────────────────────────────────

/** An Out that keeps the lines, and can wait for one. */
class Recorder implements Out {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  private waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  constructor(readonly progress?: ProgressStream) {}
  log = (line: string) => {
    this.stdout.push(line);
    for (const w of [...this.waiters]) {
      if (w.pattern.test(line)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  error = (line: string) => void this.stderr.push(line);
  /** The first stdout line (already printed or to come) that matches. */
  waitFor(pattern: RegExp): Promise<string> {
    const seen = this.stdout.find((l) => pattern.test(l));
    return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => this.waiters.push({ pattern, resolve }));
  }
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  out: Recorder;
}

const backend = `memory:cli-test-${process.pid}`;
const queue = 'cli';

/** Runs `deja args --backend <the shared backend>` in this process. */
async function cli(args: string[], { withBackend = true, progress }: { withBackend?: boolean; progress?: ProgressStream } = {}): Promise<Result> {
  const out = new Recorder(progress);
  const code = await main(withBackend ? [...args, '--backend', backend] : args, out);
  return { code, stdout: out.stdout.join('\n'), stderr: out.stderr.join('\n'), out };
}

/** Exit `code`, and stderr is one line `deja: …; …` matching `pattern`, with no stack. */
function oneLine(tt: Tap, r: Result, code: number, pattern: RegExp, what: string): void {
  tt.equal(r.code, code, `${what}: exit ${code} (stderr: ${r.stderr})`);
  tt.notMatch(r.stderr, STACK_LINE, `${what}: no stack`);
  tt.equal(r.out.stderr.length, 1, `${what}: one error line`);
  tt.match(r.stderr, /^deja: .+; .+$/, `${what}: "deja: <what went wrong>; <what was expected>"`);
  tt.match(r.stderr, pattern, what);
}

const held = new Connection({ backend });
const stopWorker = new AbortController();
const workerOut = new Recorder();
let workerDone: Promise<number>;

t.before(async () => {
  // The worker is `deja worker` itself, with the test workflows and their (TypeScript) activities:
  // tap loads TypeScript, so require() takes the .ts module here.
  workerDone = main(['worker', '-q', queue, '-w', testWorkflows, '-a', path.join(root, 'test', 'workflows', 'activities.ts'), '--backend', backend], workerOut, { stop: stopWorker.signal });
  const started = await Promise.race([workerOut.waitFor(/polling/), workerDone.then((code) => Promise.reject(new Error(`deja worker exited ${code}: ${workerOut.stderr.join('\n')}`)))]);
  t.comment(started);
});

t.teardown(async () => {
  stopWorker.abort();
  await workerDone;
  await held.close();
});

t.test('deja worker: one line when it starts, one when it stops, exit 0', async (t) => {
  // The shared worker is stopped in the teardown; this one is started and stopped here, with --json.
  const stop = new AbortController();
  const out = new Recorder();
  const done = main(['worker', '-q', 'json-queue', '-w', testWorkflows, '--backend', backend, '--json'], out, { stop: stop.signal });
  const started = JSON.parse(await out.waitFor(/"event":"started"/));
  t.match(started, { event: 'started', taskQueue: 'json-queue', backend, workflows: testWorkflows, activities: [] });
  stop.abort();
  t.equal(await done, 0);
  t.same(out.stdout.map((l) => JSON.parse(l).event), ['started', 'stopping', 'stopped']);
  t.same(out.stderr, []);
  // The functions the activities module exports, counted here so that a new one does not break this.
  const activityCount = Object.values(await import('./workflows/activities')).filter((v) => typeof v === 'function').length;
  t.match(workerOut.stdout[0], new RegExp(`^worker \\S+ polling task queue "${queue}" on backend "${backend}", workflows .*index\\.ts, ${activityCount} activities; stop with Ctrl-C or SIGTERM$`));
});

t.test('deja worker: bad usage and bad activity modules', async (t) => {
  const dir = t.testdir({
    'throws.js': "throw new Error('no database configured');\n",
    'constants.js': 'exports.RETRIES = 3;\n',
    'esm.mjs': "export async function greet(name) { return `esm says hi to ${name}`; }\nexport async function charge() { return 'esm charged'; }\n",
  });
  oneLine(t, await cli(['worker', '-w', testWorkflows]), 2, /^deja: worker: --task-queue is required; expected --task-queue <queue>/, 'no queue');
  oneLine(t, await cli(['worker', '-q', 'x']), 2, /neither --workflows nor --activities given; expected --workflows <path>, --activities <path>, or both/, 'nothing to run');
  oneLine(t, await cli(['worker', '-q', 'x', '-w', path.join(dir, 'missing.ts')]), 2, /cannot use workflows module .*missing\.ts: file not found;/, 'a missing workflows module');
  oneLine(t, await cli(['worker', '-q', 'x', '-a', path.join(dir, 'throws.js')]), 1, /the activities module .*throws\.js threw while loading: no database configured; expected a module that loads/, 'a module that throws');
  t.notMatch((await cli(['worker', '-q', 'x', '-a', path.join(dir, 'throws.js')])).stderr, /see "deja help"/, 'a module that throws is not bad usage');
  oneLine(t, await cli(['worker', '-q', 'x', '-a', path.join(dir, 'constants.js')]), 2, /exports no functions; expected a module whose exports are the activity functions/, 'no functions');
  oneLine(t, await cli(['worker', '-q', 'x', '-a', path.join(dir, 'constants.js'), '--max-cached-workflows', '0']), 2, /--max-cached-workflows "0" is not a count; expected a whole number from 1 to/, 'a bad count');
  oneLine(t, await cli(['worker', '-q', 'x', '-w', testWorkflows, '--backend', 'nope:'], { withBackend: false }), 2, /^deja: worker: unknown backend "nope:"; expected "sqlite:<path>", "sqlite:" \(for \.\/\.deja\/deja\.db\), "memory:"/, 'a bad backend');

  // ESM activities are imported: a workflow on their queue runs them.
  const stop = new AbortController();
  const out = new Recorder();
  const done = main(['worker', '-q', 'esm', '-w', testWorkflows, '-a', path.join(dir, 'esm.mjs'), '--backend', backend], out, { stop: stop.signal });
  t.match(await out.waitFor(/polling/), /2 activities/);
  t.equal((await cli(['start', 'orderWorkflow', '-q', 'esm', '--workflow-id', 'esm-order', '--args', '["Bo", 1]'])).code, 0);
  const result = await cli(['result', 'esm-order', '--json']);
  t.equal(result.code, 0, result.stderr);
  t.equal(JSON.parse(result.stdout).result, 'esm says hi to Bo | esm charged | esm says hi to Bo (again)');
  stop.abort();
  t.equal(await done, 0);
});

t.test('deja start: human and --json; its errors', async (t) => {
  const human = await cli(['start', 'orderWorkflow', '--task-queue', queue, '--workflow-id', 'order-1', '--args', '["Ann", 5]']);
  t.equal(human.code, 0, human.stderr);
  t.match(human.stdout, /^started orderWorkflow on task queue cli\nworkflow id  order-1\nrun id       [0-9a-f-]{36}$/);
  const json = await cli(['start', 'cartWorkflow', '-q', queue, '--workflow-id', 'cart-1', '--json']);
  t.equal(json.code, 0, json.stderr);
  const started = JSON.parse(json.stdout);
  t.match(started, { workflowId: 'cart-1', runId: /^[0-9a-f-]{36}$/, workflowType: 'cartWorkflow', taskQueue: queue });
  const generated = JSON.parse((await cli(['start', 'orderWorkflow', '-q', queue, '--args', '["Gen", 1]', '--json'])).stdout);
  t.match(generated.workflowId, /^orderWorkflow-[0-9a-f-]{36}$/, 'a generated workflow id');

  const dir = t.testdir({ 'args.json': '["Fay", 7]', 'bad.json': '{"customer": "Fay"}' });
  const fromFile = await cli(['start', 'orderWorkflow', '-q', queue, '--workflow-id', 'order-file', '--input-file', path.join(dir, 'args.json'), '--json']);
  t.equal(fromFile.code, 0, fromFile.stderr);
  t.match((await cli(['result', 'order-file'])).stdout, /Hello, Fay!/, 'the arguments came from the file');

  oneLine(t, await cli(['start', 'cartWorkflow', '-q', queue, '--workflow-id', 'cart-1']), 1, /^deja: start: workflow "cart-1" is already running .*; expected a workflow id with no running run/, 'a running workflow id');
  oneLine(t, await cli(['start', 'orderWorkflow', '-q', queue, '--args', '["Ann", 5']), 2, /^deja: start: --args is not valid JSON \(.+\); expected a JSON array of arguments, such as '\["Ann", 42\]'/, 'bad JSON');
  oneLine(t, await cli(['start', 'orderWorkflow', '-q', queue, '--args', '"Ann"']), 2, /--args is JSON string "Ann", not an array; expected a JSON array of arguments.*\(one argument: '\["Ann"\]'\)/, 'not an array');
  oneLine(t, await cli(['start', 'orderWorkflow', '-q', queue, '--input-file', path.join(dir, 'bad.json')]), 2, /--input-file .*bad\.json is JSON an object, not an array;/, 'a file of an object');
  oneLine(t, await cli(['start', 'orderWorkflow', '-q', queue, '--input-file', path.join(dir, 'missing.json')]), 2, /cannot read --input-file .*missing\.json: file not found; expected a file holding a JSON array/, 'a missing file');
  oneLine(t, await cli(['start', 'orderWorkflow', '-q', queue, '--args', '[]', '--input-file', path.join(dir, 'args.json')]), 2, /both --args and --input-file given; expected one of them/, 'both');
  oneLine(t, await cli(['start', 'orderWorkflow']), 2, /^deja: start: --task-queue is required; expected --task-queue <queue>/, 'no queue');
  oneLine(t, await cli(['start', '-q', queue]), 2, /^deja: start: no workflowType given; expected deja start <workflowType>/, 'no type');
  oneLine(t, await cli(['start', 'a', 'b', '-q', queue]), 2, /unexpected argument "b"; expected deja start <workflowType>/, 'two types');
  oneLine(t, await cli(['start', 'orderWorkflow', '-q', queue, '--id-reuse-policy', 'sometimes']), 2, /unknown --id-reuse-policy "sometimes"; expected one of ALLOW_DUPLICATE, ALLOW_DUPLICATE_FAILED_ONLY, REJECT_DUPLICATE/, 'a bad policy');
  t.equal((await cli(['result', 'order-1'])).code, 0, 'order-1 completed');
  oneLine(t, await cli(['start', 'orderWorkflow', '-q', queue, '--workflow-id', 'order-1', '--id-reuse-policy', 'reject-duplicate']), 1, /^deja: start: workflow "order-1" already ran .*forbids another run; expected/, 'REJECT_DUPLICATE refuses a closed id');
  oneLine(t, await cli(['start', 'orderWorkflow', '-q', queue, '--bogus']), 2, /^deja: start: unknown option --bogus; expected --backend <value>, --json, --task-queue <value>/, 'an unknown flag');
});

t.test('deja result: the value as JSON, exit 1 with the failure, a timeout', async (t) => {
  const done = await cli(['result', 'order-1']);
  t.equal(done.code, 0, done.stderr);
  t.equal(done.stdout, JSON.stringify('Hello, Ann! | charged Ann 5.00 | Hello, Ann (again)!'));
  const json = await cli(['result', 'order-1', '--json']);
  t.match(JSON.parse(json.stdout), { workflowId: 'order-1', runId: /^[0-9a-f-]{36}$/, status: 'COMPLETED', result: 'Hello, Ann! | charged Ann 5.00 | Hello, Ann (again)!' });

  t.equal((await cli(['start', 'failingWorkflow', '-q', queue, '--workflow-id', 'fail-1'])).code, 0);
  const failed = await cli(['result', 'fail-1']);
  t.equal(failed.code, 1);
  t.equal(failed.stdout, '', 'no result on stdout');
  t.equal(failed.stderr, 'deja: result: workflow "fail-1" failed: ApplicationFailure: payment failed: Activity task failed');
  const failedJson = await cli(['result', 'fail-1', '--json']);
  t.equal(failedJson.code, 1);
  t.match(JSON.parse(failedJson.stdout), { workflowId: 'fail-1', status: 'FAILED', failure: { name: 'ApplicationFailure', message: 'payment failed: Activity task failed', type: 'PaymentError' } });
  t.match(failedJson.stderr, /^deja: result: workflow "fail-1" failed:/);

  // cart-1 waits for a checkout signal that never comes.
  oneLine(t, await cli(['result', 'cart-1', '--timeout', '1ms']), 1, /^deja: result: workflow "cart-1" is still running after 1ms; expected it to close within --timeout/, 'a timeout');
  oneLine(t, await cli(['result', 'cart-1', '--timeout', '30']), 2, /--timeout "30" is not a duration; expected a duration with a unit, such as 500ms, 30s, 5m or 1h/, 'no unit');
  oneLine(t, await cli(['result', 'cart-1', '--timeout', '99d']), 2, /--timeout 99d is out of range;/, 'too long');
});

t.test('deja signal and query: human and --json', async (t) => {
  const signalled = await cli(['signal', 'cart-1', 'addItem', '--args', '["apples"]']);
  t.equal(signalled.code, 0, signalled.stderr);
  t.equal(signalled.stdout, 'signalled cart-1: addItem');
  const json = await cli(['signal', 'cart-1', 'addItem', '--args', '["pears"]', '--json']);
  t.same(JSON.parse(json.stdout), { workflowId: 'cart-1', signal: 'addItem' });
  const answer = await cli(['query', 'cart-1', 'items']);
  t.equal(answer.code, 0, answer.stderr);
  t.equal(answer.stdout, JSON.stringify(['apples', 'pears'], null, 2));
  t.equal((await cli(['query', 'cart-1', 'items', '--json'])).stdout, '["apples","pears"]');

  const noHandler = await cli(['query', 'cart-1', 'nope']);
  t.equal(noHandler.code, 1, 'a query that fails exits 1');
  t.match(noHandler.stderr, /^deja: query: query "nope" on workflow "cart-1" failed: .*; expected a query the workflow handles, with arguments it accepts$/);
  t.equal(noHandler.out.stderr.length, 1, 'one line');
  oneLine(t, await cli(['signal', 'cart-1', 'addItem', '--args', '{"item": "x"}']), 2, /^deja: signal: --args is JSON an object, not an array; expected a JSON array of arguments/, 'bad signal args');
  oneLine(t, await cli(['signal', 'cart-1']), 2, /^deja: signal: no signalName given; expected deja signal <workflowId> <signalName>/, 'no signal name');
  oneLine(t, await cli(['query', 'cart-1', 'items', '--args', 'nope']), 2, /^deja: query: --args is not valid JSON/, 'bad query args');
});

t.test('deja describe: human and --json', async (t) => {
  const human = await cli(['describe', 'order-1']);
  t.equal(human.code, 0, human.stderr);
  const fields = Object.fromEntries(human.out.stdout.map((l) => [l.slice(0, 12).trim(), l.slice(13)]));
  t.match(fields, { 'workflow id': 'order-1', 'run id': /^[0-9a-f-]{36}$/, type: 'orderWorkflow', status: 'COMPLETED', 'task queue': queue, started: /^\d{4}-\d\d-\d\dT/, closed: /^\d{4}-\d\d-\d\dT/, history: /^23 events, [\d.]+ KB$/ });
  const json = JSON.parse((await cli(['describe', 'cart-1', '--json'])).stdout);
  t.match(json, { workflowId: 'cart-1', type: 'cartWorkflow', status: 'RUNNING', taskQueue: queue, startTime: /^\d{4}-/, historyLength: Number, historySize: Number });
  t.notOk('closeTime' in json, 'a running workflow has no close time');
  const byRun = JSON.parse((await cli(['describe', 'cart-1', '--run-id', json.runId, '--json'])).stdout);
  t.equal(byRun.runId, json.runId);
});

t.test('deja cancel and terminate: human and --json', async (t) => {
  t.equal((await cli(['start', 'cartWorkflow', '-q', queue, '--workflow-id', 'cart-cancel'])).code, 0);
  const cancelled = await cli(['cancel', 'cart-cancel', '--reason', 'changed my mind']);
  t.equal(cancelled.code, 0, cancelled.stderr);
  t.equal(cancelled.stdout, 'cancellation requested for cart-cancel');
  t.same(JSON.parse((await cli(['cancel', 'cart-cancel', '--json'])).stdout), { workflowId: 'cart-cancel', cancelRequested: true });
  const history = parseHistory((await cli(['history', 'cart-cancel', '--json'])).stdout);
  t.match(
    history.events.find((e) => e.type === 'workflowExecutionCancelRequested'),
    { cause: 'changed my mind', identity: /^deja-cli:\d+@/ },
    'the request and its reason are in the history',
  );

  t.equal((await cli(['start', 'cartWorkflow', '-q', queue, '--workflow-id', 'cart-end'])).code, 0);
  const terminated = await cli(['terminate', 'cart-end', '--reason', 'enough']);
  t.equal(terminated.code, 0, terminated.stderr);
  t.equal(terminated.stdout, 'terminated cart-end');
  t.equal(JSON.parse((await cli(['describe', 'cart-end', '--json'])).stdout).status, 'TERMINATED');
  const result = await cli(['result', 'cart-end']);
  t.equal(result.code, 1);
  t.equal(result.stderr, 'deja: result: workflow "cart-end" was terminated: TerminatedFailure: enough');
  t.match(JSON.parse((await cli(['result', 'cart-end', '--json'])).stdout), { status: 'TERMINATED', failure: { message: 'enough' } });
  t.equal((await cli(['start', 'cartWorkflow', '-q', queue, '--workflow-id', 'cart-end-2'])).code, 0);
  t.same(JSON.parse((await cli(['terminate', 'cart-end-2', '--json'])).stdout), { workflowId: 'cart-end-2', terminated: true });

  oneLine(t, await cli(['terminate', 'cart-end']), 3, /^deja: terminate: workflow "cart-end" \(run [0-9a-f-]+\) has already closed \(terminated\) on backend "memory:cli-test-\d+"; expected a running workflow$/, 'closed: terminate');
  oneLine(t, await cli(['cancel', 'cart-end']), 3, /^deja: cancel: workflow "cart-end" .*has already closed/, 'closed: cancel');
  oneLine(t, await cli(['signal', 'cart-end', 'addItem']), 3, /^deja: signal: workflow "cart-end" .*has already closed/, 'closed: signal');
});

t.test('deja list: a table, --json, filters', async (t) => {
  const human = await cli(['list']);
  t.equal(human.code, 0, human.stderr);
  const [header, ...rows] = human.out.stdout;
  t.match(header, /^WORKFLOW ID +RUN ID +TYPE +STATUS +TASK QUEUE +STARTED +CLOSED$/);
  const columns = (line: string) => line.split(/ {2,}/);
  t.ok(rows.some((r) => columns(r)[0] === 'order-1' && columns(r)[3] === 'COMPLETED'), 'order-1 COMPLETED');
  t.ok(rows.some((r) => columns(r)[0] === 'cart-1' && columns(r)[3] === 'RUNNING' && columns(r)[6] === '-'), 'cart-1 RUNNING, not closed');

  const all = JSON.parse((await cli(['list', '--json'])).stdout) as { workflowId: string; status: string; type: string; taskQueue: string }[];
  t.equal(all.length, rows.length, 'the same runs');
  const running = JSON.parse((await cli(['list', '--status', 'running', '--json'])).stdout) as typeof all;
  t.ok(running.length > 0 && running.every((r) => r.status === 'RUNNING'), '--status (any case)');
  t.same(running.map((r) => r.workflowId).sort(), all.filter((r) => r.status === 'RUNNING').map((r) => r.workflowId).sort());
  const carts = JSON.parse((await cli(['list', '--type', 'cartWorkflow', '--json'])).stdout) as typeof all;
  t.ok(carts.length >= 3 && carts.every((r) => r.type === 'cartWorkflow'), '--type');
  t.same(JSON.parse((await cli(['list', '--workflow-id', 'fail-1', '--json'])).stdout).map((r: { status: string }) => r.status), ['FAILED'], '--workflow-id');
  t.ok(JSON.parse((await cli(['list', '--task-queue', 'esm', '--json'])).stdout).every((r: { taskQueue: string }) => r.taskQueue === 'esm'), '--task-queue');
  t.equal(JSON.parse((await cli(['list', '--limit', '2', '--json'])).stdout).length, 2, '--limit');
  t.equal((await cli(['list', '--limit', '1'])).out.stdout.length, 2, '--limit: the header and one row');
  const none = await cli(['list', '--workflow-id', 'nobody']);
  t.equal(none.code, 0);
  t.equal(none.stdout, 'no workflow runs found');
  t.equal((await cli(['list', '--workflow-id', 'nobody', '--json'])).stdout, '[]');

  oneLine(t, await cli(['list', '--status', 'DONE']), 2, /^deja: list: unknown status "DONE"; expected one of RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, CONTINUED_AS_NEW, TIMED_OUT/, 'a bad status');
  oneLine(t, await cli(['list', '--limit', 'ten']), 2, /--limit "ten" is not a count; expected a whole number from 1 to 100000/, 'a bad limit');
  oneLine(t, await cli(['list', 'extra']), 2, /^deja: list: unexpected argument "extra"/, 'a positional');
});

t.test('deja history: one line per event, --json is the history file, --out round-trips through replay', async (t) => {
  const human = await cli(['history', 'order-1']);
  t.equal(human.code, 0, human.stderr);
  const [title, ...events] = human.out.stdout;
  t.match(title, /^order-1 \(run [0-9a-f-]{36}\): 23 events$/);
  t.equal(events.length, 23);
  t.match(events[0], /^ 1 {2}\d{4}-\d\d-\d\dT[\d:.]+Z {2}workflowExecutionStarted {2}workflowType=orderWorkflow workflowId=order-1 .*taskQueue=cli input=\["Ann",5\]/);
  t.match(events[4], /^ 5 .* activityTaskScheduled {2}activityId=1 activityType=greet /);
  t.match(events[22], /^23 .* workflowExecutionCompleted {2}result="Hello, Ann! \| charged Ann 5\.00 \| Hello, Ann \(again\)!"/);

  const json = await cli(['history', 'order-1', '--json']);
  const history = parseHistory(json.stdout);
  t.equal(history.events.length, 23);
  t.equal(history.workflowId, 'order-1');

  const dir = t.testdir({});
  const file = path.join(dir, 'order-1.json');
  const written = await cli(['history', 'order-1', '--out', file]);
  t.equal(written.code, 0, written.stderr);
  t.match(written.stdout, new RegExp(`^wrote 23 events of order-1 \\(run ${history.runId}\\) to .*order-1\\.json$`));
  t.same(readHistoryFile(file), history, 'the file is the --json history');
  t.equal(fs.readFileSync(file, 'utf8'), `${json.stdout}\n`, 'byte for byte');
  const replayed = await cli(['replay', file, '--workflows', testWorkflows], { withBackend: false });
  t.equal(replayed.code, 0, replayed.stderr);
  t.match(replayed.stdout, /1 history: 1 replayed cleanly, 0 failed/);
  await t.resolves(replayHistory({ workflowsPath: testWorkflows }, readHistoryFile(file)), 'replayHistory accepts it');
  const changed = await cli(['replay', file, '--workflows', path.join(root, 'test', 'workflows', 'changed.ts')], { withBackend: false });
  t.equal(changed.code, 1, 'and changed code fails on it');
  t.match(JSON.parse((await cli(['history', 'order-1', '--out', file, '--json'])).stdout), { workflowId: 'order-1', events: 23 });

  // --format temporal: Temporal's proto3 JSON, which the import reads back as the same history.
  const temporalFile = path.join(dir, 'order-1.temporal.json');
  const wroteTemporal = await cli(['history', 'order-1', '--out', temporalFile, '--format', 'temporal']);
  t.equal(wroteTemporal.code, 0, wroteTemporal.stderr);
  t.match(wroteTemporal.stdout, /^wrote 23 events of order-1 .* in Temporal's format$/);
  const temporal = JSON.parse(fs.readFileSync(temporalFile, 'utf8')) as { events: { eventId: string; eventType: string }[] };
  t.same(temporal.events.slice(0, 2).map((e) => [e.eventId, e.eventType]), [['1', 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED'], ['2', 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED']]);
  t.same(readHistoryFile(temporalFile), history, 'read back: the same history');
  t.equal((await cli(['history', 'order-1', '--format', 'temporal'])).stdout, fs.readFileSync(temporalFile, 'utf8').trimEnd(), 'without --out: printed');
  const replayedTemporal = await cli(['replay', temporalFile, '--workflows', testWorkflows], { withBackend: false });
  t.equal(replayedTemporal.code, 0, replayedTemporal.stderr);
  oneLine(t, await cli(['history', 'order-1', '--format', 'tctl']), 2, /^deja: history: --format "tctl" is not a history format; expected deja or temporal/, 'a bad format');

  oneLine(t, await cli(['history', 'order-1', '--out', path.join(dir, 'missing', 'h.json')]), 2, /^deja: history: cannot write the history to .*h\.json: its folder .*missing does not exist; expected --out to name a file in an existing folder/, 'a missing folder');
});

t.test('an unknown workflow: exit 3, one line naming it and the backend', async (t) => {
  const commands: string[][] = [
    ['describe', 'ghost'],
    ['history', 'ghost'],
    ['signal', 'ghost', 'addItem'],
    ['query', 'ghost', 'items'],
    ['cancel', 'ghost'],
    ['terminate', 'ghost'],
    ['result', 'ghost'],
  ];
  for (const args of commands) {
    oneLine(t, await cli(args), 3, new RegExp(`^deja: ${args[0]}: workflow "ghost" not found on backend "${backend}"; expected the id of an existing workflow \\("deja list" shows them\\)$`), args[0]!);
  }
  oneLine(t, await cli(['describe', 'order-1', '--run-id', 'no-such-run']), 3, /^deja: describe: workflow "order-1" has no run "no-such-run" on backend/, 'an unknown run');
  // Without --backend: DEJA_BACKEND, named as such.
  const saved = process.env.DEJA_BACKEND;
  process.env.DEJA_BACKEND = backend;
  try {
    oneLine(t, await cli(['describe', 'ghost'], { withBackend: false }), 3, new RegExp(`not found on backend "${backend}" \\(from DEJA_BACKEND\\);`), 'DEJA_BACKEND');
    t.equal((await cli(['describe', 'order-1'], { withBackend: false })).code, 0, 'DEJA_BACKEND is used');
  } finally {
    if (saved === undefined) delete process.env.DEJA_BACKEND;
    else process.env.DEJA_BACKEND = saved;
  }
  // A folder where the database file should be: SQLite refuses it, naming the path.
  const folder = t.testdir({});
  oneLine(t, await cli(['describe', 'x', '--backend', `sqlite:${folder}`], { withBackend: false }), 2, /^deja: describe: .*sqlite.*; /, 'a backend that cannot be opened');
});

t.test('help: every command, its options and the exit statuses', async (t) => {
  const top = await cli(['help'], { withBackend: false });
  t.equal(top.code, 0);
  for (const command of ['worker', 'start', 'list', 'describe', 'history', 'signal', 'query', 'cancel', 'terminate', 'result', 'schedule', 'replay', 'bundle']) {
    t.match(top.stdout, new RegExp(`^  deja ${command} `, 'm'), `deja help names ${command}`);
    const own = await cli([command, '--help'], { withBackend: false });
    t.equal(own.code, 0, `${command} --help`);
    t.match(own.stdout, new RegExp(`^Usage: deja ${command} `), `${command} --help is its own`);
    t.match(own.stdout, /Exit status: 0 /, `${command} --help gives the exit statuses`);
    t.equal((await cli(['help', command], { withBackend: false })).stdout, own.stdout, `deja help ${command}`);
  }
  t.match(top.stdout, /Exit status:\n {2}0 {2}success\n {2}1 {2}the job found a problem[^]*\n {2}2 {2}bad usage[^]*\n {2}3 {2}not found/);
});

// ── Progress ───────────────────────────────────────────────────────────────────────────────────

/** A stream that records what is written, a terminal or not. */
function fakeStream(isTTY: boolean): ProgressStream & { text: string } {
  return {
    isTTY,
    columns: 60,
    text: '',
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  };
}

t.test('progress: a bar only on a terminal', async (t) => {
  const tty = fakeStream(true);
  const lines: string[] = [];
  const p = createProgress(tty, 3, 'replay', 'histories', {});
  t.ok(p.bar);
  t.match(tty.text, /^\r\x1b\[2Kreplay \[░+\] 0\/3 histories$/);
  p.step();
  p.line(() => lines.push('✓ one'));
  p.step();
  p.step();
  t.match(tty.text, /\r\x1b\[2Kreplay \[█+\] 3\/3 histories$/, 'the last frame is full');
  t.match(tty.text, /1\/3 histories\r\x1b\[2K\r\x1b\[2Kreplay \[█+░+\] 1\/3/, 'a line clears the bar, which is redrawn after it');
  p.done();
  t.match(tty.text, /3\/3 histories\r\x1b\[2K$/, 'done clears the bar');
  t.same(lines, ['✓ one']);

  for (const [what, stream, total, env] of [
    ['not a terminal', fakeStream(false), 3, {}],
    ['TERM=dumb', fakeStream(true), 3, { TERM: 'dumb' }],
    ['one unit of work', fakeStream(true), 1, {}],
  ] as const) {
    const plain = createProgress(stream, total, 'replay', 'histories', env);
    t.notOk(plain.bar, what);
    plain.step();
    plain.line(() => lines.push(what));
    plain.done();
    t.equal(stream.text, '', `${what}: nothing drawn`);
    t.equal(lines.at(-1), what, `${what}: the line is printed`);
  }
  t.notOk(createProgress(undefined, 3, 'replay', 'histories', {}).bar, 'no stream');
});

t.test('deja replay: plain lines off a terminal, a bar on one', async (t) => {
  const fixtures = fs.readdirSync(path.join(root, 'replay-fixtures')).filter((f) => f.endsWith('.json')).map((f) => path.join(root, 'replay-fixtures', f));
  const pipe = fakeStream(false);
  const plain = await cli(['replay', ...fixtures, '-w', testWorkflows], { withBackend: false, progress: pipe });
  t.equal(plain.code, 0, plain.stderr);
  t.equal(pipe.text, '', 'nothing drawn');
  t.equal(plain.out.stdout.length, fixtures.length + 1, 'a line per history and the summary');
  t.ok(plain.out.stdout.slice(0, -1).every((l) => /^✓ .* replays deterministically$/.test(l)));
  t.notMatch(plain.stdout, /[\r\x1b]/, 'no carriage returns or escape codes');

  const tty = fakeStream(true);
  const drawn = await cli(['replay', ...fixtures, '-w', testWorkflows], { withBackend: false, progress: tty });
  t.equal(drawn.code, 0, drawn.stderr);
  t.same(drawn.out.stdout, plain.out.stdout, 'the same lines');
  t.match(tty.text, new RegExp(`replay \\[█+\\] ${fixtures.length}/${fixtures.length} histories\\r\\x1b\\[2K$`), 'the bar reached the end and was cleared');
  for (let i = 0; i <= fixtures.length; i++) t.match(tty.text, new RegExp(` ${i}/${fixtures.length} histories`), `frame ${i}`);
});

// ── Across processes ───────────────────────────────────────────────────────────────────────────

/** Spawns `deja args` and resolves once a stdout line matches, with the child and its output so far. */
function spawnDeja(cwd: string, args: string[]) {
  const { NODE_OPTIONS: _n, DEJA_DEBUG: _d, ...env } = process.env;
  const child = spawn(process.execPath, [bin, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  const line = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = stdout.split('\n').find((l) => pattern.test(l));
        if (found !== undefined) {
          child.stdout.off('data', check);
          resolve(found);
        }
      };
      child.stdout.on('data', check);
      check();
      void exited.then((r) => reject(new Error(`deja ${args.join(' ')} exited ${r.code} before printing ${pattern}: ${r.stderr}`)));
    });
  return { child, exited, line };
}

t.test('bin/deja.js worker: SIGTERM to the deja process stops the worker gracefully', async (t) => {
  const dir = t.testdir({ 'activities.js': 'exports.greet = async (name) => `hi ${name}`;\n' });
  const worker = spawnDeja(dir, ['worker', '-q', 'q', '-w', testWorkflows, '-a', 'activities.js', '--backend', 'memory:']);
  t.match(await worker.line(/polling/), /^worker \S+ polling task queue "q" on backend "memory:", workflows .*, 1 activity; stop with Ctrl-C or SIGTERM$/);
  // bin/deja.js re-executes Node with --no-node-snapshot: the signal must reach that child.
  worker.child.kill('SIGTERM');
  const r = await worker.exited;
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /worker stopping \(SIGTERM\): finishing the tasks in flight\nworker stopped: 0 workflow tasks, 0 activities, 0 queries\n$/);
  t.equal(r.stderr, '');
});

t.test('bin/deja.js worker: TypeScript activities in a plain Node are bad usage, said so', async (t) => {
  const r = deja(root, ['worker', '-q', 'q', '-a', 'test/workflows/activities.ts', '--backend', 'memory:']);
  usageError(t, r, /^deja: worker: cannot load TypeScript activities test\/workflows\/activities\.ts in Node v[\d.]+; expected a JavaScript module \(compile it first\)/, 'TypeScript activities');
});

/** The sqlite backend, when this build has it: opening one says "not available yet" until then. */
function sqliteAvailable(): string | undefined {
  const file = path.join(os.tmpdir(), `deja-cli-probe-${process.pid}.db`);
  try {
    const connection = new Connection({ backend: `sqlite:${file}` });
    void connection.close().finally(() => fs.rmSync(file, { force: true }));
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const noSqlite = sqliteAvailable();
t.test('across processes on sqlite: deja worker, then start, signal, query, result, history and replay', { skip: noSqlite && `needs the sqlite backend (${noSqlite})` }, async (t) => {
  const dir = t.testdir({ 'activities.js': 'exports.greet = async (n) => `Hello, ${n}!`;\nexports.charge = async (c, a) => `charged ${c} ${a.toFixed(2)}`;\n' });
  const db = `sqlite:${path.join(dir, 'deja.db')}`;
  const worker = spawnDeja(dir, ['worker', '-q', 'x', '-w', testWorkflows, '-a', 'activities.js', '--backend', db]);
  t.teardown(() => void worker.child.kill('SIGKILL'));
  await worker.line(/polling/);
  const run = (args: string[]) => deja(dir, [...args, '--backend', db]);
  t.equal(run(['start', 'orderWorkflow', '-q', 'x', '--workflow-id', 'o', '--args', '["Ann", 5]']).status, 0);
  const result = run(['result', 'o', '--json']);
  t.equal(result.status, 0, result.stderr);
  t.equal(JSON.parse(result.stdout).result, 'Hello, Ann! | charged Ann 5.00 | Hello, Ann (again)!');
  t.equal(run(['start', 'cartWorkflow', '-q', 'x', '--workflow-id', 'c']).status, 0);
  t.equal(run(['signal', 'c', 'addItem', '--args', '["tea"]']).status, 0);
  t.equal(run(['query', 'c', 'items', '--json']).stdout.trim(), '["tea"]');
  t.equal(run(['signal', 'c', 'checkout']).status, 0);
  t.equal(run(['result', 'c', '--json', '--timeout', '60s']).status, 0);
  t.match(run(['list', '--json']).stdout, /"workflowId":"c"/);
  t.equal(run(['describe', 'ghost']).status, 3);
  t.equal(run(['history', 'o', '--out', 'o.json']).status, 0);
  const replayed = deja(dir, ['replay', 'o.json', '-w', testWorkflows]);
  t.equal(replayed.status, 0, replayed.stderr);
  worker.child.kill('SIGTERM');
  t.equal((await worker.exited).code, 0);
});

t.test("the README's CLI section names every command and the exit statuses deja help gives", async (t) => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The deja command'), readme.indexOf('## Replay histories before a deploy'));
  t.ok(section.length > 0, 'the section exists');
  for (const command of ['worker', 'start', 'list', 'count', 'describe', 'history', 'signal', 'query', 'cancel', 'terminate', 'result', 'schedule', 'replay', 'bundle', 'ui']) {
    t.match(section, new RegExp(`^\\| \`deja ${command}[ \`]`, 'm'), `the table has deja ${command}`);
  }
  const help = (await cli(['help'], { withBackend: false })).stdout;
  for (const [status, word] of [
    ['0', 'success'],
    ['1', 'the job found a problem'],
    ['2', 'bad usage'],
    ['3', 'not found'],
  ]) {
    t.match(section, new RegExp(`^\\| ${status} \\| ${word}`, 'm'), `README: ${status} ${word}`);
    t.match(help, new RegExp(`^ {2}${status} {2}${word}`, 'm'), `deja help: ${status} ${word}`);
  }
});
