// The `deja` command as users run it: bin/deja.js in a child process (which re-executes Node with
// --no-node-snapshot when it is missing). Bad input of every kind is one line on stderr, never a
// stack, and exit status 2; DEJA_DEBUG=1 or --debug adds the stack.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
const bin = path.join(root, 'bin', 'deja.js');
const fixture = path.join(root, 'replay-fixtures', 'timers_deja_0_1_0.json');
const testWorkflows = path.join(root, 'test', 'workflows', 'index.ts');

// bin/deja.js runs the compiled CLI: an old build would test old code.
const built = path.join(root, 'dist', 'lib', 'cli', 'main.js');
if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < fs.statSync(path.join(root, 'lib', 'cli', 'main.ts')).mtimeMs) {
  throw new Error('dist/lib/cli/main.js is missing or older than lib/cli/main.ts: run "npm run build" (node scripts/test.js does)');
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
  usageError(t, deja(dir, ['frobnicate']), /unknown command "frobnicate"; expected one of: replay, bundle, help/, 'unknown command');
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
