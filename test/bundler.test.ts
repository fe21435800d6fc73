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
  mapBundleStack,
  readCodeCache,
  writeCodeCache,
  WorkflowBundleError,
  type BundleProblem,
  type WorkflowBundle,
} from '../lib/bundler';
import { UNSAFE_CACHE_DIR_WARNING } from '../lib/bundler';
import { DejaError, InvalidArgumentError } from '../lib/errors';
import { IsolatePool } from '../lib/sandbox';
import { ENTRY_POINTS, PROTOCOL_VERSION, type InitMessage } from '../runtime/protocol';
import ivm from 'isolated-vm';

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

/**
 * Points os.tmpdir(), and so the per-user fallback cache folder, at a fresh folder for this test,
 * so no test sees another's cache files.
 */
function privateTmp(tt: Tap): string {
  const dir = tempDir(tt);
  const before = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  tt.teardown(() => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
  });
  return dir;
}

const modeOf = (file: string) => fs.lstatSync(file).mode & 0o777;

/** The process warnings emitted from now until the test ends; read them after `settle()`. */
function captureWarnings(tt: Tap): Error[] {
  const seen: Error[] = [];
  const listener = (warning: Error) => seen.push(warning);
  process.on('warning', listener);
  tt.teardown(() => void process.off('warning', listener));
  return seen;
}
/** Node emits warnings on the next tick. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
const cacheWarnings = (seen: Error[]) => seen.filter((w) => (w as { code?: string }).code === UNSAFE_CACHE_DIR_WARNING).map((w) => w.message);

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
      historySize: 0,
      continueAsNewSuggested: false,
      searchAttributes: {},
      taskTimeoutMs: 10_000,
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
  t.match(b.code, new RegExp(`^/\\* deja-bundle protocol=${PROTOCOL_VERSION} workflows="[^"]+" \\*/\\n\\(\\(\\) => \\{`), 'header, then one IIFE');
  t.notMatch(b.code, /sourceMappingURL/, 'no source map in the code');
  t.notMatch(b.code, /interface Greeting|: string/, 'types are stripped');

  const run = runWorkflow(b.code, 'greet', ['Ada']);
  t.same(run.installed, { protocolVersion: PROTOCOL_VERSION, init: 'function', evaluationsBeforeInit: undefined },
    'evaluating the script runs install() but not the user module');
  t.same(run.initResult, { ok: true });
  t.equal(run.evaluationsAfterInit, 1, 'init loads the user module exactly once');
  t.same(run.commands, [{ type: 'completeWorkflow', result: 'Hello, Ada!' }]);
});

t.test("runtime modules get one self-replacing initialiser each; the project's modules keep esbuild's", async (t) => {
  // A workflows module that imports the runtime: esbuild would wrap every runtime module.
  const b = await bundle(t, fixture('tree-shaken/workflows.ts'));
  t.notMatch(b.code, /__esm\(\{\n\s*"[^"\n]*runtime\//, 'no runtime module is wrapped by esbuild');
  t.match(b.code, /^ {2}var init_workflows = __esm\(\{$/m, 'the workflows module is');
  t.match(b.code, /^ {2}var init_errors = \(\) => \{\n {4}"use strict";\n {6}init_errors = __dejaInitDone;$/m, 'a strict module stays strict');
  t.ok((b.code.match(/^ {6}init_[\w$]+ = __dejaInitDone;$/gm) ?? []).length >= 10, 'the runtime modules the workflows module reaches have one each');
  t.equal(runWorkflow(b.code, 'usesSome', []).commands?.length, 1, 'and the workflow runs');
});

t.test('module-level values of the runtime that the workflow never names are left out of the bundle', async (t) => {
  const basic = await bundle(t, fixture('basic/workflows.ts'));
  for (const name of ['ValueError', 'WorkflowNotFoundError', 'encodeWorkflowIdReusePolicy', 'metricMeter', 'workflowRandom', 'stackTraceQuery']) {
    t.notMatch(basic.code, new RegExp(`\\b${name} = `), `${name} is not built in a bundle that does not use it`);
  }
  const some = await bundle(t, fixture('tree-shaken/workflows.ts'));
  t.match(some.code, /\bValueError = /);
  t.notMatch(some.code, /\bNamespaceNotFoundError = |\bdecodeWorkflowIdReusePolicy = /, 'only what is named');
  t.same(runWorkflow(some.code, 'usesSome', []).commands, [
    { type: 'completeWorkflow', result: { encoded: 3, isValueError: true, name: 'ValueError', errorName: 'ValueError', marked: true } },
  ], 'what is kept works as before: its name, its marker, instanceof');
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
    'workflows.ts': "import { getRandomStream, sleep } from '@temporalio/workflow';\nexport async function w(): Promise<void> {\n  getRandomStream('x');\n  await sleep(1);\n}\n",
  });
  const err = await bundleFailure(t, path.join(dir, 'workflows.ts'));
  t.same(where(err.problems, dir), [{ file: 'workflows.ts', line: 1, column: 10, what: '"getRandomStream" is not part of deja\'s workflow API' }]);
  t.match(err.problems[0]!.why, /subset of @temporalio\/workflow/);
});

t.test('a missing API reached through a namespace import is named as such, with file and line', async (t) => {
  const dir = tempDir(t, {
    'workflows.ts': [
      "import * as wf from '@temporalio/workflow';",
      "import * as dw from 'deja/workflow';",
      "import * as common from '@temporalio/common';",
      "import { helper } from './helper';",
      'export async function w(): Promise<void> {',
      '  await wf.sleep(1);',
      "  const handle = wf.noSuchApi('x');",
      "  wf['alsoMissing']();",
      '  void [handle, dw.stillMissing, common.notThereEither];',
      '  helper();',
      '}',
      '',
    ].join('\n'),
    'helper.ts': "import * as workflow from '@temporalio/workflow';\nexport function helper(): unknown {\n  return workflow.fromAHelper;\n}\n",
  });
  const err = await bundleFailure(t, path.join(dir, 'workflows.ts'));
  const what = (name: string) => `"${name}" is not part of deja's workflow API`;
  t.same(where(err.problems, dir), [
    { file: 'helper.ts', line: 3, column: 19, what: what('fromAHelper') },
    { file: 'workflows.ts', line: 7, column: 21, what: what('noSuchApi') },
    { file: 'workflows.ts', line: 8, column: 6, what: what('alsoMissing') },
    { file: 'workflows.ts', line: 9, column: 20, what: what('stillMissing') },
    { file: 'workflows.ts', line: 9, column: 41, what: what('notThereEither') },
  ], 'every missing name, at the name, in every file, through every alias; wf.sleep is fine');
  t.match(err.problems[0]!.why, /subset of @temporalio\/workflow/);
  t.match(err.message, /workflows\.ts:7:21 "noSuchApi" is not part of deja's workflow API/);
});

t.test('namespace imports of existing names, computed access with a non-literal key, and dependencies bundle', async (t) => {
  const dir = tempDir(t, {
    'workflows.ts': [
      "import * as wf from '@temporalio/workflow';",
      "import { hasUpdates } from 'feature-detect';",
      'export async function w(name: string): Promise<string> {',
      '  await wf.sleep(1);',
      "  const acts = wf.proxyActivities<{ a(): Promise<void> }>({ startToCloseTimeout: '1 minute' });",
      "  const api = wf as unknown as Record<string, unknown>;",
      '  // Not checked at build time: the key is known only when it runs.',
      "  return `${typeof acts.a} ${typeof api[name]} ${hasUpdates}`;",
      '}',
      '',
    ].join('\n'),
    // esbuild does not report an undefined import inside node_modules, where feature detection
    // of an API across versions is common: a dependency is not checked.
    node_modules: {
      'feature-detect': {
        'package.json': '{"name":"feature-detect","main":"index.js"}',
        'index.js': "import * as wf from '@temporalio/workflow';\nexport const hasUpdates = typeof wf.noSuchApi === 'function';\n",
      },
    },
  });
  const b = await bundle(t, path.join(dir, 'workflows.ts'));
  t.match(b.code, /proxyActivities/);
});

t.test("process.env.NODE_ENV is 'development', as in Temporal's webpack bundle, so libraries that read it load", async (t) => {
  const dir = tempDir(t, {
    'workflows.ts': "import { mode } from 'reads-node-env';\nexport async function w(): Promise<string> {\n  return mode();\n}\n",
    node_modules: {
      'reads-node-env': {
        'package.json': '{"name":"reads-node-env","main":"index.js"}',
        'index.js': "export function mode() { return process.env.NODE_ENV === 'production' ? 'prod' : 'dev:' + process.env.NODE_ENV; }\n",
      },
    },
  });
  const b = await bundle(t, path.join(dir, 'workflows.ts'));
  t.notMatch(b.code, /process\.env/, 'no reference to process is left');
  t.match(b.code, /"dev:development"/, 'the value is inlined (and folded)');
});

t.test('the bundle has a source map beside it that maps stack positions to the sources', async (t) => {
  const dir = tempDir(t, {
    'workflows.ts': "import { sleep } from '@temporalio/workflow';\nimport { fail } from './lib/fail';\nexport async function w(): Promise<void> {\n  await sleep(1);\n  fail();\n}\n",
    lib: { 'fail.ts': "// a comment line\nexport function fail(): never {\n  throw new TypeError('marker-error');\n}\n" },
  });
  const b = await bundle(t, path.join(dir, 'workflows.ts'));
  t.type(b.sourceMap, 'string');
  t.equal(fs.readFileSync(`${b.bundlePath}.map`, 'utf8'), b.sourceMap, 'written beside the bundle file');
  t.same(loadBundle(b.bundlePath).sourceMap, b.sourceMap, 'loadBundle reads it back');
  const map = JSON.parse(b.sourceMap!) as { sourcesContent?: unknown; sources: string[] };
  t.notOk(map.sourcesContent, 'positions only: no copy of the sources');

  // The stack V8 gives for the throw and its caller, positions in the bundle's code (1-based).
  const position = (needle: string) => {
    const offset = b.code.indexOf(needle);
    const before = b.code.slice(0, offset).split('\n');
    return `${before.length}:${before[before.length - 1]!.length + 1}`;
  };
  const script = 'file:///deja-bundle/abc.js';
  const stack = [
    'TypeError: marker-error',
    `    at fail (${script}:${position('new TypeError("marker-error")')})`,
    `    at w (${script}:${position('fail();')})`,
    `    at whenSettled (${script}:${position('function install')})`,
    `    at elsewhere (${script}:99999:1)`,
  ].join('\n');
  const mapped = mapBundleStack(b, stack, script).split('\n');
  t.equal(mapped[0], 'TypeError: marker-error');
  t.equal(mapped[1], `    at fail (${path.join(dir, 'lib', 'fail.ts')}:3:9)`, 'the throw, in its own file');
  t.equal(mapped[2], `    at w (${path.join(dir, 'workflows.ts')}:5:3)`, 'the caller');
  t.match(mapped[3], /^ {4}at whenSettled \(deja:runtime\/\w+\.ts:\d+:\d+\)$/, "deja's runtime is shown as such");
  t.equal(mapped[4], `    at elsewhere (${script}:99999:1)`, 'a position the map does not cover is left alone');
  t.equal(mapBundleStack({ ...b, sourceMap: 'not json' }, stack, script), stack, 'a broken map maps nothing');
  t.equal(mapBundleStack({ ...b, sourceMap: undefined }, stack, script), stack, 'no map: nothing is mapped');
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

t.test('default cacheDir: node_modules/.cache/deja, else a per-user temporary folder, both private', async (t) => {
  const tmp = privateTmp(t);
  const perUser = path.join(tmp, `deja-cache-${process.getuid!()}`);
  const source = 'export async function a() { return 1; }\n';
  const withModules = tempDir(t, { 'workflows.js': source, node_modules: {} });
  t.chdir(withModules);
  const inProject = await bundleWorkflowCode({ workflowsPath: 'workflows.js' });
  t.equal(inProject.workflowsPath, path.join(withModules, 'workflows.js'), 'relative to the working directory');
  t.equal(path.dirname(inProject.bundlePath), path.join(withModules, 'node_modules', '.cache', 'deja'));
  t.equal(modeOf(path.dirname(inProject.bundlePath)), 0o700, 'created private to the user');

  const bare = path.join(withModules, 'bare');
  fs.mkdirSync(bare);
  t.chdir(bare);
  const inTmp = await bundleWorkflowCode({ workflowsPath: '../workflows.js' });
  t.equal(path.dirname(inTmp.bundlePath), perUser);
  t.equal(path.dirname(inTmp.codeCachePath), perUser, 'code cache beside the bundle');
  t.equal(modeOf(perUser), 0o700, 'created private to the user');

  // An unwritable default (here .cache is a file) falls back to the temporary directory.
  const blocked = tempDir(t, { 'workflows.js': source, node_modules: { '.cache': 'not a directory' } });
  t.chdir(blocked);
  const fallback = await bundleWorkflowCode({ workflowsPath: 'workflows.js' });
  t.equal(path.dirname(fallback.bundlePath), perUser);
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
  fs.writeFileSync(other, b.code.replace(`protocol=${PROTOCOL_VERSION} `, `protocol=${PROTOCOL_VERSION + 98} `));
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
    [[], /expected an options object, got an array/],
    [{ workflowsPath: 'a\0b.ts' }, /workflowsPath contains a NUL character: "a\\u0000b\.ts"/],
    [{ workflowsPath: file, cacheDir: 'cache\0' }, /cacheDir contains a NUL character/],
    [{ workflowsPath: path.join(__dirname, '..', 'package.json') }, /package\.json is not a JavaScript or TypeScript module; expected a file ending in \.ts, .*\.jsx/],
  ];
  for (const [options, message] of cases) {
    const err = await rejection(() => bundleWorkflowCode(options as never));
    t.ok(err instanceof InvalidArgumentError, `rejects ${JSON.stringify(options)}`);
    t.match((err as Error).message, message);
  }

  const aFile = path.join(tempDir(t, { 'a-file': '' }), 'a-file');
  const notDir = await rejection(() => bundleWorkflowCode({ workflowsPath: file, cacheDir: aFile }));
  t.equal((notDir as DejaError).code, 'DEJA_BUNDLE');
  t.match((notDir as Error).message, /cannot write the workflow bundle to .*a-file: it is not a directory$/, 'a cacheDir that is a file is named as such');

  t.throws(() => loadBundle('a\0.js'), { code: 'DEJA_INVALID_ARGUMENT', message: /bundlePath contains a NUL character/ });
  for (const bad of [{}, { codeCachePath: '/tmp/x.cache' }, { code: 'x', codeCachePath: '' }, { code: 'x', codeCachePath: '/tmp/x\0' }]) {
    t.throws(() => readCodeCache(bad as never), { code: 'DEJA_INVALID_ARGUMENT', message: /readCodeCache: expected a WorkflowBundle/ }, JSON.stringify(bad));
    t.throws(() => writeCodeCache(bad as never, Buffer.from('x')), { code: 'DEJA_INVALID_ARGUMENT', message: /writeCodeCache: expected a WorkflowBundle/ }, JSON.stringify(bad));
  }
});

// ---- the V8 code cache is trusted code ----

/** A workflow whose result shows whether code other than its bundle ran first. */
const PROBE = 'export async function probe(): Promise<string> {\n  return typeof (globalThis as { planted?: unknown }).planted;\n}\n';

/**
 * An attacker's script the length of `bundle.code` (all V8 checks): the bundle with its header
 * comment replaced by a statement, so the cache of it runs that statement before the workflow.
 */
function plantedScript(bundle: WorkflowBundle): string {
  const headerEnd = bundle.code.indexOf('*/\n') + 2;
  const statement = 'globalThis.planted=1;';
  const script = `${statement}/*${' '.repeat(headerEnd - statement.length - 4)}*/${bundle.code.slice(headerEnd)}`;
  if (script.length !== bundle.code.length) throw new Error('planted script length differs');
  return script;
}

/** V8 code cache data made by compiling `code` in a throwaway isolate. */
function v8CacheOf(code: string): Buffer {
  const isolate = new ivm.Isolate({ memoryLimit: 32 });
  try {
    const script = isolate.compileScriptSync(code, { produceCachedData: true }) as ivm.Script & { cachedData?: ivm.ExternalCopy<ArrayBuffer> };
    return Buffer.from(script.cachedData!.copy());
  } finally {
    isolate.dispose();
  }
}

/** A header as deja writes it, naming `bundle` and `data`: everything a forger can compute. */
function forgedHeader(bundle: WorkflowBundle, data: Buffer): Buffer {
  const dataHash = createHash('sha256').update(data).digest('hex');
  return Buffer.from(`deja-v8-code-cache/1 source-sha256=${bundle.hash} v8=${process.versions.v8} data-sha256=${dataHash}\n`, 'latin1');
}

/** Runs the probe workflow from `bundle` in a new pool: its result and the pool's cache counts. */
function runProbe(bundle: WorkflowBundle): { result: unknown; hits: number; misses: number } {
  const pool = new IsolatePool({ memoryLimitMb: 32 });
  try {
    const init: InitMessage = {
      protocolVersion: PROTOCOL_VERSION,
      randomnessSeed: 'seed',
      info: { workflowId: 'p', runId: 'r', workflowType: 'probe', taskQueue: 'q', firstExecutionRunId: 'r', attempt: 1, startTime: 1, historyLength: 1, historySize: 0, continueAsNewSuggested: false, searchAttributes: {}, taskTimeoutMs: 10_000 },
    };
    const execution = pool.createExecution(bundle, init, 'probe');
    const completion = execution.activate({ timestamp: 1, isReplaying: false, historyLength: 3, historySize: 0, continueAsNewSuggested: false, jobs: [{ type: 'startWorkflow', workflowType: 'probe', args: [] }] });
    execution.dispose();
    if (!completion.ok) throw new Error(`probe failed: ${completion.failure.message}`);
    const done = completion.commands.find((c) => c.type === 'completeWorkflow') as { result?: unknown } | undefined;
    const { codeCacheHits: hits, codeCacheMisses: misses } = pool.stats();
    return { result: done?.result, hits, misses };
  } finally {
    pool.dispose();
  }
}

async function probeBundle(tt: Tap, cacheDir = tempDir(tt)): Promise<WorkflowBundle> {
  const dir = tempDir(tt, { 'workflows.ts': PROBE });
  return bundleWorkflowCode({ workflowsPath: path.join(dir, 'workflows.ts'), cacheDir });
}

const REAL = { result: 'undefined', hits: 0, misses: 1 };

t.test('the planted cache is a working attack on V8 itself', async (t) => {
  // Without this, the tests below could pass because V8 refused the planted data on its own.
  const b = await probeBundle(t);
  const data = v8CacheOf(plantedScript(b));
  const isolate = new ivm.Isolate({ memoryLimit: 32 });
  t.teardown(() => isolate.dispose());
  const copy = new ivm.ExternalCopy(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer);
  const script = isolate.compileScriptSync(b.code, { cachedData: copy }) as ivm.Script & { cachedDataRejected?: boolean };
  t.equal(script.cachedDataRejected, false, 'V8 takes the cache of another script of the same length');
  const context = isolate.createContextSync();
  script.runSync(context);
  t.equal(context.evalSync('typeof globalThis.planted'), 'number', "and runs that script's code, not the source given");
});

t.test('a planted code cache never runs: no header, or a genuine header over other data', async (t) => {
  privateTmp(t);
  const b = await probeBundle(t);
  const planted = v8CacheOf(plantedScript(b));

  fs.writeFileSync(b.codeCachePath, planted);
  t.same(runProbe(b), REAL, 'raw V8 data: the real bundle runs, compiled from source (a miss)');
  t.same(runProbe(b), { result: 'undefined', hits: 1, misses: 0 }, 'the bad file was replaced by a good cache, which is used');

  // The header of a genuine cache of this very bundle, over the planted data.
  const genuine = fs.readFileSync(b.codeCachePath);
  const header = genuine.subarray(0, genuine.indexOf(0x0a) + 1);
  fs.writeFileSync(b.codeCachePath, Buffer.concat([header, planted]));
  t.equal(readCodeCache(b), undefined, 'refused: the data is not what the header names');
  t.equal(fs.existsSync(b.codeCachePath), false, 'and deleted');
  fs.writeFileSync(b.codeCachePath, Buffer.concat([header, planted]));
  t.same(runProbe(b), REAL, 'the sandbox compiles from source');
});

t.test('a code cache in a folder others can write, or behind a symlink, is not used', async (t) => {
  const tmp = privateTmp(t);
  const warnings = captureWarnings(t);
  // A forger can compute every field of the header: only the folder keeps them out.
  const plant = (b: WorkflowBundle) => {
    const data = v8CacheOf(plantedScript(b));
    fs.writeFileSync(b.codeCachePath, Buffer.concat([forgedHeader(b, data), data]));
  };

  const open = tempDir(t);
  const worldWritable = await probeBundle(t, open);
  fs.chmodSync(open, 0o777);
  plant(worldWritable);
  t.same(runProbe(worldWritable), REAL, 'world-writable folder: the real bundle runs (a miss)');
  const fallback = path.join(tmp, `deja-cache-${process.getuid!()}`, path.basename(worldWritable.codeCachePath));
  t.ok(fs.existsSync(fallback), 'the code cache went to the per-user temporary folder instead');
  t.equal(modeOf(path.dirname(fallback)), 0o700, 'which is private');
  t.same(runProbe(worldWritable), { result: 'undefined', hits: 1, misses: 0 }, 'and is used from there');

  const group = tempDir(t);
  const groupWritable = await probeBundle(t, group);
  fs.chmodSync(group, 0o770);
  plant(groupWritable);
  t.same(runProbe(groupWritable), REAL, 'group-writable folder: the real bundle runs');

  const real = tempDir(t);
  const link = path.join(tempDir(t), 'link');
  fs.symlinkSync(real, link);
  const linked = await probeBundle(t, link);
  plant(linked);
  t.same(runProbe(linked), REAL, 'symlinked folder: the real bundle runs');

  await settle();
  const said = cacheWarnings(warnings);
  t.match(said, [
    new RegExp(`^deja: the folder ${open} is not used for the V8 code cache: it is writable by its group and other users \\(mode 0777\\); using .*deja-cache-`),
    new RegExp(`^deja: the folder ${group} is not used .*writable by its group \\(mode 0770\\)`),
    new RegExp(`^deja: the folder ${link} is not used .*symbolic link`),
  ]);
  t.equal(said.length, 3, 'one warning per folder, however many reads and writes');
});

t.test('a code cache in a folder owned by another user is not used', { skip: process.getuid?.() !== 0 && 'needs root to chown' }, async (t) => {
  const tmp = privateTmp(t);
  const warnings = captureWarnings(t);
  const dir = tempDir(t);
  const b = await probeBundle(t, dir);
  const data = v8CacheOf(plantedScript(b));
  fs.writeFileSync(b.codeCachePath, Buffer.concat([forgedHeader(b, data), data]));
  fs.chownSync(dir, 4242, 4242);
  t.same(runProbe(b), REAL, 'the real bundle runs (a miss)');
  t.ok(fs.existsSync(path.join(tmp, 'deja-cache-0', path.basename(b.codeCachePath))), 'its cache went to the per-user folder');
  await settle();
  t.match(cacheWarnings(warnings), [new RegExp(`^deja: the folder ${dir} is not used for the V8 code cache: it belongs to user id 4242, not to this user \\(0\\)`)]);
});

t.test('a truncated or altered code cache file is not used, and is deleted', async (t) => {
  privateTmp(t);
  const b = await probeBundle(t);
  t.same(runProbe(b), REAL, 'first run writes the cache');
  const good = fs.readFileSync(b.codeCachePath);
  const nl = good.indexOf(0x0a);
  const header = good.subarray(0, nl).toString('latin1');
  const data = good.subarray(nl + 1);
  const variants: Array<[string, Buffer]> = [
    ['truncated data', good.subarray(0, good.length - 100)],
    ['cut inside the header', good.subarray(0, nl - 5)],
    ['header only', good.subarray(0, nl + 1)],
    ['a byte appended', Buffer.concat([good, Buffer.from([0])])],
    ['a flipped data byte', Buffer.concat([good.subarray(0, good.length - 1), Buffer.from([good[good.length - 1]! ^ 1])])],
    ['another source hash', Buffer.concat([Buffer.from(header.replace(/source-sha256=[0-9a-f]/, (m) => m.slice(0, -1) + (m.endsWith('0') ? '1' : '0')) + '\n', 'latin1'), data])],
    ['another V8 version', Buffer.concat([Buffer.from(header.replace(/ v8=\S+/, ' v8=1.2.3') + '\n', 'latin1'), data])],
    ['another format tag', Buffer.concat([Buffer.from(header.replace('deja-v8-code-cache/1', 'deja-v8-code-cache/2') + '\n', 'latin1'), data])],
    ['raw V8 data, as older deja wrote', Buffer.from(data)],
  ];
  for (const [what, bytes] of variants) {
    fs.writeFileSync(b.codeCachePath, bytes);
    t.equal(readCodeCache(b), undefined, `${what}: not used`);
    t.equal(fs.existsSync(b.codeCachePath), false, `${what}: deleted`);
  }
  fs.writeFileSync(b.codeCachePath, good.subarray(0, good.length - 100));
  t.same(runProbe(b), REAL, 'truncated: the sandbox compiles from source');
  t.same(runProbe(b), { result: 'undefined', hits: 1, misses: 0 }, 'and its fresh cache is used next time');
});

t.test('the header binds the code cache to the exact source, not to the hash field', async (t) => {
  const b = await probeBundle(t);
  writeCodeCache(b, Buffer.from('pretend V8 data'));
  t.same(readCodeCache(b), Buffer.from('pretend V8 data'));
  const edited = { ...b, code: b.code.replace('typeof', 'typeof ') };
  t.equal(readCodeCache(edited), undefined, 'code edited in memory with the old hash kept: not its cache');
});

t.test('default folders are made private: closed if readable, emptied if others could write', async (t) => {
  const tmp = privateTmp(t);
  const warnings = captureWarnings(t);
  const source = 'export async function a() { return 1; }\n';

  const readable = tempDir(t, { 'workflows.js': source, node_modules: { '.cache': { deja: { 'keep.js': 'mine' } } } });
  const readableCache = path.join(readable, 'node_modules', '.cache', 'deja');
  fs.chmodSync(readableCache, 0o755);
  t.chdir(readable);
  const b1 = await bundleWorkflowCode({ workflowsPath: 'workflows.js' });
  t.equal(path.dirname(b1.bundlePath), readableCache, 'used');
  t.equal(modeOf(readableCache), 0o700, 'closed to others');
  t.ok(fs.existsSync(path.join(readableCache, 'keep.js')), 'its files kept: only this user could have written them');

  const writable = tempDir(t, { 'workflows.js': source, node_modules: { '.cache': { deja: { 'planted.js': 'theirs' } } } });
  const writableCache = path.join(writable, 'node_modules', '.cache', 'deja');
  fs.chmodSync(writableCache, 0o777);
  t.chdir(writable);
  const b2 = await bundleWorkflowCode({ workflowsPath: 'workflows.js' });
  t.equal(path.dirname(b2.bundlePath), writableCache, 'used');
  t.equal(modeOf(writableCache), 0o700, 'closed to others');
  t.same(fs.readdirSync(writableCache).sort(), [path.basename(b2.bundlePath), `${path.basename(b2.bundlePath)}.map`], 'emptied before use');

  const elsewhere = tempDir(t);
  const linked = tempDir(t, { 'workflows.js': source, node_modules: { '.cache': {} } });
  fs.symlinkSync(elsewhere, path.join(linked, 'node_modules', '.cache', 'deja'));
  t.chdir(linked);
  const b3 = await bundleWorkflowCode({ workflowsPath: 'workflows.js' });
  t.equal(path.dirname(b3.bundlePath), path.join(tmp, `deja-cache-${process.getuid!()}`), 'a symlinked default folder: the per-user temporary one instead');
  t.same(fs.readdirSync(elsewhere), [], 'nothing written through the link');

  await settle();
  t.match(cacheWarnings(warnings), [
    new RegExp(`^deja: the cache folder ${writableCache} was writable by its group and other users \\(mode 0777\\); it is now private`),
    new RegExp(`^deja: the cache folder ${path.join(linked, 'node_modules', '.cache', 'deja')} is not used: it is a symbolic link; using .*deja-cache-`),
  ]);
});

t.test('a per-user temporary folder that is not this user\'s is not used', async (t) => {
  const tmp = privateTmp(t);
  const warnings = captureWarnings(t);
  const dir = tempDir(t, { 'workflows.js': 'export async function a() { return 1; }\n' });
  // Someone else got there first (here: a symlink to a folder of theirs).
  fs.symlinkSync(tempDir(t), path.join(tmp, `deja-cache-${process.getuid!()}`));
  t.chdir(dir);
  const err = await rejection(() => bundleWorkflowCode({ workflowsPath: 'workflows.js' }));
  t.equal((err as DejaError).code, 'DEJA_BUNDLE');
  t.match((err as Error).message, /cannot write the workflow bundle to .*deja-cache-\d+ \(it is a symbolic link\); pass cacheDir to choose a folder/);
  await settle();
  t.match(cacheWarnings(warnings), [/deja-cache-\d+ is not used: it is a symbolic link$/]);
});
