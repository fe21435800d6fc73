// Tests for lib/bundler (host side): bundling, what it refuses and where, hashes, the bundle and
// code cache files, and that a bundle really evaluates in a fresh context.
import t from 'tap';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import {
  bundleWorkflowCode,
  loadBundle,
  readCodeCache,
  writeCodeCache,
  WorkflowBundleError,
  type BundleProblem,
  type WorkflowBundle,
} from '../lib/bundler';
import { DejaError, InvalidArgumentError } from '../lib/errors';
import { ENTRY_POINTS, PROTOCOL_VERSION, type InitMessage } from '../runtime/protocol';

const FIXTURES = path.join(__dirname, 'fixtures', 'bundler');
const fixture = (name: string) => path.join(FIXTURES, name);
type Tap = tap.Test;

/** A tree of files and folders: a string is a file's contents. */
interface Tree {
  [name: string]: string | Tree;
}

/** A fresh directory holding `tree`, removed when the test ends. (t.testdir is one per test.) */
function tempDir(tt: Tap, tree: Tree = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-bundler-test-'));
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (at: string, node: Tree) => {
    for (const [name, value] of Object.entries(node)) {
      const target = path.join(at, name);
      if (typeof value === 'string') {
        fs.writeFileSync(target, value);
      } else {
        fs.mkdirSync(target);
        write(target, value);
      }
    }
  };
  write(dir, tree);
  return dir;
}

/** Bundles into a fresh cache directory, so tests never share cache files. */
function bundle(tt: Tap, workflowsPath: string, cacheDir = tempDir(tt)): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath, cacheDir });
}

async function bundleFailure(tt: Tap, workflowsPath: string): Promise<WorkflowBundleError> {
  try {
    await bundle(tt, workflowsPath);
  } catch (err) {
    if (err instanceof WorkflowBundleError) return err;
    throw err;
  }
  throw new Error(`expected bundling ${workflowsPath} to fail`);
}

/** The parts of a problem a test pins down exactly; `file` relative to the fixture's folder. */
function where(problems: readonly BundleProblem[], dir: string) {
  return problems.map((p) => ({ file: path.relative(dir, p.file), line: p.line, column: p.column, what: p.what }));
}

async function rejection(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/**
 * Runs a bundle the way the sandbox does, in a fresh node:vm context: evaluate the script, init,
 * one activation that starts `workflowType`, then conclude until it completes. `afterEvaluate`
 * drains the context's microtasks after each call, as isolated-vm does.
 */
function runWorkflow(code: string, workflowType: string, args: unknown[]) {
  const context = vm.createContext({}, { microtaskMode: 'afterEvaluate' });
  const call = (expression: string) => vm.runInContext(expression, context) as unknown;
  const evaluationsOf = () => call('globalThis.basicFixtureEvaluations');
  call(code);
  const installed = {
    protocolVersion: call(ENTRY_POINTS.protocolVersion),
    init: call(`typeof ${ENTRY_POINTS.init}`),
    evaluationsBeforeInit: evaluationsOf(),
  };
  const init: InitMessage = {
    protocolVersion: PROTOCOL_VERSION,
    info: {
      workflowId: 'wf-1',
      runId: 'run-1',
      workflowType,
      taskQueue: 'tests',
      firstExecutionRunId: 'run-1',
      attempt: 1,
      startTime: 1_700_000_000_000,
      historyLength: 1,
    },
    randomnessSeed: 'seed',
  };
  const json = (value: unknown) => JSON.stringify(JSON.stringify(value));
  const initResult = JSON.parse(call(`${ENTRY_POINTS.init}(${json(init)})`) as string) as unknown;
  const evaluationsAfterInit = evaluationsOf();
  call(
    `${ENTRY_POINTS.activate}(${json({
      timestamp: 1_700_000_000_000,
      isReplaying: false,
      historyLength: 3,
      jobs: [{ type: 'startWorkflow', workflowType, args }],
    })})`,
  );
  let completion: { again?: true; ok?: boolean; commands?: unknown[] } = { again: true };
  for (let i = 0; i < 10 && completion.again; i++) {
    completion = JSON.parse(call(`${ENTRY_POINTS.conclude}()`) as string) as typeof completion;
  }
  return { installed, initResult, evaluationsAfterInit, commands: completion.commands };
}

t.test('a TypeScript workflows module bundles, evaluates lazily, and runs', async (t) => {
  const b = await bundle(t, fixture('basic/workflows.ts'));
  t.equal(b.protocolVersion, PROTOCOL_VERSION);
  t.equal(b.workflowsPath, fixture('basic/workflows.ts'));
  t.match(b.code, /^\/\* deja-bundle protocol=1 workflows="[^"]+" \*\/\n\(\(\) => \{/, 'header, then one IIFE');
  t.notMatch(b.code, /sourceMappingURL/, 'no source map in the code');
  t.notMatch(b.code, /interface Greeting|: string/, 'types are stripped');

  const run = runWorkflow(b.code, 'greet', ['Ada']);
  t.same(run.installed, { protocolVersion: PROTOCOL_VERSION, init: 'function', evaluationsBeforeInit: undefined },
    'evaluating the script runs install() but not the user module');
  t.same(run.initResult, { ok: true });
  t.equal(run.evaluationsAfterInit, 1, 'init loads the user module exactly once');
  t.same(run.commands, [{ type: 'completeWorkflow', result: 'Hello, Ada!' }]);
});

t.test('CommonJS and ESM-only dependencies bundle and run', async (t) => {
  const b = await bundle(t, fixture('deps/workflows.js'));
  t.match(b.code, /cjs-dep\/lib\/index\.js/);
  t.match(b.code, /esm-only-dep\/index\.js/);
  const run = runWorkflow(b.code, 'sixTimes', [7]);
  t.same(run.commands, [{ type: 'completeWorkflow', result: 42 }],
    "the CommonJS dependency's guarded process use is allowed and harmless");
});

t.test('deja/workflow, @temporalio/workflow and @temporalio/common are one runtime module', async (t) => {
  const b = await bundle(t, fixture('aliases/workflows.js'));
  const copies = b.code.match(/^ {2}\/\/ \S*runtime\/index\.ts$/gm) ?? [];
  t.equal(copies.length, 1, 'runtime/index.ts is in the bundle once');
  const run = runWorkflow(b.code, 'sameRuntime', []);
  t.same(run.commands, [{ type: 'completeWorkflow', result: true }], 'the namespaces are the same object');
});

t.test('type-only imports of host modules are erased and fine', async (t) => {
  const b = await bundle(t, fixture('type-only/workflows.ts'));
  t.notMatch(b.code, /@temporalio\/client|deja\/activity/);
  t.same(runWorkflow(b.code, 'typesOnly', []).commands, [{ type: 'completeWorkflow', result: true }]);
});

t.test('Node built-ins and Node globals are all reported in one error', async (t) => {
  const err = await bundleFailure(t, fixture('forbidden/workflows.ts'));
  t.ok(err instanceof DejaError);
  t.equal(err.code, 'DEJA_BUNDLE');
  t.same(where(err.problems, fixture('forbidden')), [
    { file: 'workflows.ts', line: 1, column: 30, what: 'imports Node built-in "fs"' },
    { file: 'workflows.ts', line: 2, column: 23, what: 'imports Node built-in "node:path"' },
    { file: 'workflows.ts', line: 5, column: 16, what: 'uses Node global "process"' },
    { file: 'workflows.ts', line: 7, column: 10, what: 'uses Node global "Buffer"' },
  ]);
  for (const p of err.problems) {
    t.equal(path.isAbsolute(p.file), true, 'problem files are absolute');
    t.match(p.why, /deterministic sandbox with no Node APIs/);
    t.type(p.hint, 'string');
  }
  t.match(err.message, /4 problems/);
  t.match(err.message, /workflows\.ts:1:30 imports Node built-in "fs"/);
  t.match(err.message, /workflows\.ts:7:10 uses Node global "Buffer"/);
});

t.test('every free Node global in project files, and only free ones', async (t) => {
  const err = await bundleFailure(t, fixture('globals/workflows.js'));
  const dynamicRequire = "uses require other than as require('<string literal>')";
  t.same(where(err.problems, fixture('globals')), [
    { file: 'workflows.js', line: 3, column: 14, what: 'uses Node global "__dirname"' },
    { file: 'workflows.js', line: 4, column: 14, what: 'uses Node global "__filename"' },
    { file: 'workflows.js', line: 5, column: 11, what: 'uses Node global "global"' },
    { file: 'workflows.js', line: 6, column: 12, what: 'uses Node global "setImmediate"' },
    { file: 'workflows.js', line: 7, column: 1, what: 'uses Node global "clearImmediate"' },
    { file: 'workflows.js', line: 8, column: 15, what: dynamicRequire },
    { file: 'workflows.js', line: 10, column: 17, what: dynamicRequire },
    // After non-ASCII text: the column counts UTF-16 code units, as editors do.
    { file: 'workflows.js', line: 11, column: 43, what: 'uses Node global "process"' },
    // esbuild maps no position to shorthand property values: found from the nearest mapping.
    { file: 'workflows.js', line: 12, column: 21, what: 'uses Node global "global"' },
    { file: 'workflows.js', line: 12, column: 30, what: 'uses Node global "Buffer"' },
  ], 'literal require calls, shadowed names and property names are not reported');
});

t.test('a Node built-in inside a dependency is reported at the dependency', async (t) => {
  const err = await bundleFailure(t, fixture('dep-builtin/workflows.js'));
  t.same(where(err.problems, fixture('dep-builtin')), [
    {
      file: path.join('node_modules', 'needs-node', 'index.js'),
      line: 2,
      column: 18,
      what: 'imports Node built-in "os"',
    },
  ]);
  t.match(err.problems[0]!.hint, /dependency needs Node/);
});

t.test('host-only modules are refused with a reason', async (t) => {
  const err = await bundleFailure(t, fixture('host-only/workflows.js'));
  t.same(where(err.problems, fixture('host-only')), [
    { file: 'workflows.js', line: 1, column: 32, what: 'imports host-only module "@temporalio/client"' },
    { file: 'workflows.js', line: 2, column: 25, what: 'imports host-only module "deja/activity"' },
    { file: 'workflows.js', line: 4, column: 28, what: 'imports host-only module "deja"' },
    { file: 'workflows.js', line: 5, column: 27, what: 'imports "@temporalio/workflow/lib/internals"' },
  ], 'deja/workflow on line 3 is fine');
  for (const p of err.problems.slice(0, 3)) t.match(p.why, /^host-only: /);
  t.match(err.problems[3]!.why, /only the package root "@temporalio\/workflow" is mapped/);
});

t.test('resolution and syntax errors become problems with file and line', async (t) => {
  const err = await bundleFailure(t, fixture('compile-errors/workflows.js'));
  t.same(where(err.problems, fixture('compile-errors')), [
    { file: 'syntax-error.js', line: 2, column: 8, what: 'Expected identifier but found ","' },
    // esbuild counts bytes; after non-ASCII text the column must still count UTF-16 code units.
    { file: 'workflows.js', line: 1, column: 39, what: 'Could not resolve "./does-not-exist"' },
  ]);
  t.notMatch(err.message, /external|platform/, "esbuild's notes about its own options are dropped");
});

t.test('a Temporal API deja does not offer yet is named as such', async (t) => {
  const dir = tempDir(t, {
    'workflows.ts': "import { CancellationScope, sleep } from '@temporalio/workflow';\nexport async function w(): Promise<void> {\n  await CancellationScope.cancellable(() => sleep(1));\n}\n",
  });
  const err = await bundleFailure(t, path.join(dir, 'workflows.ts'));
  t.same(where(err.problems, dir), [{ file: 'workflows.ts', line: 1, column: 10, what: '"CancellationScope" is not part of deja\'s workflow API' }]);
  t.match(err.problems[0]!.why, /subset of @temporalio\/workflow/);
});

t.test('the hash is stable for identical input and changes with the source', async (t) => {
  const dir = tempDir(t, { 'workflows.ts': 'export async function a(): Promise<number> { return 1; }\n' });
  const cacheDir = tempDir(t);
  const file = path.join(dir, 'workflows.ts');
  const first = await bundleWorkflowCode({ workflowsPath: file, cacheDir });
  const inode = fs.statSync(first.bundlePath).ino;
  const second = await bundleWorkflowCode({ workflowsPath: file, cacheDir });
  t.equal(second.hash, first.hash);
  t.equal(second.code, first.code);
  t.equal(fs.statSync(second.bundlePath).ino, inode, 'an identical bundle file is not rewritten');
  t.equal(first.hash, createHash('sha256').update(first.code).digest('hex'), 'hash is sha256 of code');
  t.equal(first.bundlePath, path.join(cacheDir, `${first.hash}.js`));
  t.equal(fs.readFileSync(first.bundlePath, 'utf8'), first.code);
  t.equal(first.codeCachePath, path.join(cacheDir, `${first.hash}-v8-${process.versions.v8}.cache`));

  fs.writeFileSync(file, 'export async function a(): Promise<number> { return 2; }\n');
  const changed = await bundleWorkflowCode({ workflowsPath: file, cacheDir });
  t.not(changed.hash, first.hash);
  t.not(changed.codeCachePath, first.codeCachePath);
  t.equal(fs.existsSync(first.bundlePath), true, 'the older bundle file stays');
});

t.test('default cacheDir: node_modules/.cache/deja, else the temporary directory', async (t) => {
  const source = 'export async function a() { return 1; }\n';
  const withModules = tempDir(t, { 'workflows.js': source, node_modules: {} });
  t.chdir(withModules);
  const inProject = await bundleWorkflowCode({ workflowsPath: 'workflows.js' });
  t.equal(inProject.workflowsPath, path.join(withModules, 'workflows.js'), 'relative to the working directory');
  t.equal(path.dirname(inProject.bundlePath), path.join(withModules, 'node_modules', '.cache', 'deja'));

  const bare = path.join(withModules, 'bare');
  fs.mkdirSync(bare);
  t.chdir(bare);
  const inTmp = await bundleWorkflowCode({ workflowsPath: '../workflows.js' });
  t.equal(path.dirname(inTmp.bundlePath), path.join(os.tmpdir(), 'deja-cache'));
  t.equal(path.dirname(inTmp.codeCachePath), path.join(os.tmpdir(), 'deja-cache'), 'code cache beside the bundle');

  // An unwritable default (here .cache is a file) falls back to the temporary directory.
  const blocked = tempDir(t, { 'workflows.js': source, node_modules: { '.cache': 'not a directory' } });
  t.chdir(blocked);
  const fallback = await bundleWorkflowCode({ workflowsPath: 'workflows.js' });
  t.equal(path.dirname(fallback.bundlePath), path.join(os.tmpdir(), 'deja-cache'));

  // Content-addressed, so removing them cannot hurt another user of the shared directory.
  for (const file of [inTmp.bundlePath, fallback.bundlePath]) fs.rmSync(file, { force: true });
});

t.test('an explicit cacheDir that cannot be written is an error, not a fallback', async (t) => {
  const dir = tempDir(t, { 'workflows.js': 'export async function a() { return 1; }\n', 'a-file': '' });
  const err = await rejection(() =>
    bundleWorkflowCode({ workflowsPath: path.join(dir, 'workflows.js'), cacheDir: path.join(dir, 'a-file', 'cache') }),
  );
  t.ok(err instanceof DejaError);
  t.equal((err as DejaError).code, 'DEJA_BUNDLE');
  t.match((err as Error).message, /cannot write the workflow bundle to .*a-file/);
});

t.test('code cache: absent, round trip, atomic replace, unwritable directory', async (t) => {
  const b = await bundle(t, fixture('basic/workflows.ts'));
  t.equal(readCodeCache(b), undefined, 'no cache yet');

  const data = Buffer.from('pretend V8 code cache');
  writeCodeCache(b, data);
  t.same(readCodeCache(b), data);

  const before = fs.statSync(b.codeCachePath).ino;
  const newer = Buffer.from('a newer code cache');
  writeCodeCache(b, newer);
  t.same(readCodeCache(b), newer);
  t.not(fs.statSync(b.codeCachePath).ino, before, 'replaced by rename, not rewritten in place');
  const leftovers = fs.readdirSync(path.dirname(b.codeCachePath)).filter((f) => f.endsWith('.tmp'));
  t.same(leftovers, [], 'no temporary files left');

  // A parent that is a regular file makes the directory unwritable, even for root.
  const file = path.join(tempDir(t, { 'a-file': '' }), 'a-file');
  const unwritable = { ...b, codeCachePath: path.join(file, 'x.cache') };
  t.doesNotThrow(() => writeCodeCache(unwritable, data));
  t.equal(readCodeCache(unwritable), undefined);

  t.throws(() => writeCodeCache(b, 'not a buffer' as unknown as Buffer), InvalidArgumentError);
});

t.test('loadBundle reads a bundle back and checks its protocol version', async (t) => {
  // `*/` in the path would close the header comment if it were not escaped.
  const dir = tempDir(t, { 'odd*': { 'workflows.ts': 'export async function a(): Promise<number> { return 1; }\n' } });
  const b = await bundle(t, path.join(dir, 'odd*', 'workflows.ts'));
  t.same(loadBundle(b.bundlePath), b, 'every field round-trips');

  const other = path.join(tempDir(t), 'other.js');
  fs.writeFileSync(other, b.code.replace('protocol=1 ', `protocol=${PROTOCOL_VERSION + 98} `));
  const mismatch = await rejection(() => loadBundle(other));
  t.ok(mismatch instanceof DejaError);
  t.equal((mismatch as DejaError).code, 'DEJA_PROTOCOL_MISMATCH');
  t.match((mismatch as Error).message, new RegExp(`version ${PROTOCOL_VERSION + 98}.*version ${PROTOCOL_VERSION}`));

  fs.writeFileSync(other, '(() => {})();\n');
  const notBundle = await rejection(() => loadBundle(other));
  t.equal((notBundle as DejaError).code, 'DEJA_BUNDLE');
  t.match((notBundle as Error).message, /not a deja workflow bundle/);

  const missing = path.join(path.dirname(other), 'missing.js');
  const err = await rejection(() => loadBundle(missing));
  t.ok(err instanceof InvalidArgumentError);
  t.ok((err as Error).message.includes(missing), 'names the path');
});

t.test('options are validated at the edge', async (t) => {
  const file = fixture('basic/workflows.ts');
  const cases: Array<[unknown, RegExp]> = [
    [undefined, /expected an options object, got undefined/],
    ['workflows.ts', /expected an options object/],
    [{ workflowsPath: file, cachedir: '/tmp' }, /unknown option "cachedir"/],
    [{}, /expected workflowsPath to be a file path, got undefined/],
    [{ workflowsPath: file, cacheDir: 7 }, /expected cacheDir to be a directory path, got number 7/],
    [{ workflowsPath: path.join(FIXTURES, 'nope.ts') }, /workflowsPath .*nope\.ts does not exist/],
    [{ workflowsPath: FIXTURES }, /is not a file/],
  ];
  for (const [options, message] of cases) {
    const err = await rejection(() => bundleWorkflowCode(options as never));
    t.ok(err instanceof InvalidArgumentError, `rejects ${JSON.stringify(options)}`);
    t.match((err as Error).message, message);
  }
});
