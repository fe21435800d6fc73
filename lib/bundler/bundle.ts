/**
 * Bundles a workflows module with the deja runtime into one script for the isolate (host side;
 * the only module that runs esbuild). Everything that cannot work in the sandbox is refused here,
 * at build time, with the file and line that asked for it.
 */
import { build, type BuildFailure, type Message, type Plugin } from 'esbuild';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import { DejaError, InvalidArgumentError, checkKnownKeys, describe } from '../errors';
import { bundleHeader, bundleRecord, sha256, storeBundleFile, type WorkflowBundle } from './files';
import { SCRIPT_EXTENSIONS, findFreeGlobals, isScriptFile } from './free-globals';
import {
  type BundleProblem,
  type Explanation,
  HOST_ONLY_MODULES,
  WorkflowBundleError,
  compileError,
  hostOnlyImport,
  missingApi,
  nodeBuiltinImport,
  unsupportedSubpath,
} from './problems';

export interface BundleOptions {
  /** The module whose exported functions are the workflows. Relative to the working directory. */
  workflowsPath: string;
  /**
   * Where bundles and code caches are kept. Default: `node_modules/.cache/deja` in the working
   * directory, else `<os temp dir>/deja-cache-<uid>`, both private to the user (0700). The V8
   * code cache is kept here only if no other user can write the folder (a real directory owned by
   * this user, not group- or world-writable); otherwise in the per-user temporary folder.
   */
  cacheDir?: string;
  /**
   * Temporal's workflow interceptor modules: each exports `interceptors`, a factory of
   * `{ inbound, outbound, internals }` (runtime/interceptors.ts). Bundled with the workflows and
   * installed in this order when each execution starts, before the workflows module loads.
   */
  workflowInterceptorModules?: string[];
}

const OPTION_KEYS = ['workflowsPath', 'cacheDir', 'workflowInterceptorModules'] as const;
const ENTRY_NAME = '<deja entry>';
/** The bundle's name inside esbuild: only the source map's relative paths depend on it. */
const OUTPUT_NAME = 'deja-bundle.js';
/**
 * The entry names its two imports by these specifiers, which the plugin maps to paths. Absolute
 * paths written into the entry would be re-parsed by esbuild, which reads `*` in them as a glob.
 */
const ENTRY_RUNTIME = 'deja-entry:runtime';
const ENTRY_WORKFLOWS = 'deja-entry:workflows';
/** `deja-entry:interceptors:<i>`: the i-th workflow interceptor module. */
const ENTRY_INTERCEPTORS = 'deja-entry:interceptors:';

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** Every Node built-in, bare or with `node:`; any `node:` specifier is one, listed or not. */
const BUILTIN_FILTER = new RegExp(`^(?:node:.*|(?:${builtinModules.map(escapeRegExp).join('|')}))$`);
/** Module names the plugin maps or refuses, and their subpaths. */
const SPECIAL_FILTER = /^(?:deja|@temporalio\/(?:workflow|common|client|worker|activity))(?:\/.*)?$/;
const RUNTIME_ALIASES = new Set(['deja/workflow', '@temporalio/workflow', '@temporalio/common']);

export async function bundleWorkflowCode(options: BundleOptions): Promise<WorkflowBundle> {
  const { workflowsPath, cacheDir, interceptorModules } = resolveOptions(options);
  const runtime = runtimeDir();
  const workingDir = path.dirname(workflowsPath);
  // The plugin adds what it finds while esbuild loads files; esbuild's own errors join them below.
  const problems: BundleProblem[] = [];
  let output = '';
  let map = '';
  try {
    const result = await build({
      stdin: {
        // `require`, not `import`: esbuild then wraps the workflows module in a lazy initialiser,
        // so its top-level code runs only when the runtime calls the loader, after the
        // deterministic globals are in place.
        contents:
          `import { install } from ${JSON.stringify(ENTRY_RUNTIME)};\n` +
          `install(() => require(${JSON.stringify(ENTRY_WORKFLOWS)})${interceptorLoader(interceptorModules, workingDir)});\n`,
        loader: 'ts',
        resolveDir: workingDir,
        sourcefile: ENTRY_NAME,
      },
      // Module comments in the output name files relative to this, so they stay short and do
      // not spell out the machine's directory layout.
      absWorkingDir: workingDir,
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'neutral',
      // 'neutral' has no main fields of its own, and packages with only "main" would not resolve.
      // `conditions` is left alone: adding 'require' doubles typical bundles.
      mainFields: ['module', 'main'],
      target: 'es2022',
      // As Temporal's webpack bundle (mode 'development'): libraries that read it (immer, React's
      // builds) see a string instead of throwing "process is not defined" in the isolate.
      define: { 'process.env.NODE_ENV': '"development"' },
      // Async functions become generators driven by the runtime (see lowerAsync below), so that
      // the current CancellationScope follows workflow code across `await`.
      supported: { 'async-await': false, 'async-generator': false, 'for-await': false },
      // A map beside the bundle (never inside it: the isolate compiles only the code), with
      // positions only: the worker maps a failed task's stack back to the workflow's sources.
      // `outfile` only names the output for the map's relative `sources`; nothing is written.
      sourcemap: 'external',
      sourcesContent: false,
      outfile: path.join(workingDir, OUTPUT_NAME),
      legalComments: 'none',
      logLevel: 'silent',
      plugins: [sandboxPlugin(runtime, workflowsPath, problems, interceptorModules)],
    });
    for (const file of result.outputFiles) {
      if (file.path.endsWith('.map')) map = file.text;
      else output = file.text;
    }
    for (const message of result.warnings) {
      const name = undefinedRuntimeImport(message, workingDir, runtime);
      if (name !== undefined) problems.push({ ...toProblem(message, workingDir, workflowsPath), ...missingApi(name) });
    }
  } catch (err) {
    if (!isBuildFailure(err)) {
      throw new DejaError('DEJA_BUNDLE', `bundling ${workflowsPath} failed: ${(err as Error).message}`, { cause: err });
    }
    for (const message of err.errors) problems.push(toProblem(message, workingDir, workflowsPath));
  }
  if (problems.length > 0) throw new WorkflowBundleError(workflowsPath, problems);

  const header = bundleHeader(workflowsPath);
  // lowerAsync keeps every line where esbuild put it, so the source map stays true.
  const code = header + unwrapRuntimeModules(lowerAsync(output), path.relative(workingDir, runtime));
  const hash = sha256(code);
  const sourceMap = shiftSourceMap(map, header, workingDir);
  return bundleRecord(code, hash, workflowsPath, storeBundleFile(cacheDir, hash, code, sourceMap), sourceMap);
}

/**
 * The map of `code` (header plus esbuild's output): one empty generated line per header line
 * (`;` in `mappings`), and `sourceRoot` set to the workflows module's folder, which esbuild's
 * relative `sources` are relative to, so the map resolves wherever it is kept (the cache folder,
 * beside a `deja bundle --out` file), as the header's workflows path does.
 */
function shiftSourceMap(map: string, header: string, workingDir: string): string {
  const parsed = JSON.parse(map) as { mappings: string; sourceRoot?: string };
  const headerLines = header.split('\n').length - 1;
  parsed.mappings = ';'.repeat(headerLines) + parsed.mappings;
  parsed.sourceRoot = workingDir;
  return JSON.stringify(parsed);
}

/**
 * The name behind esbuild's "Import "x" will always be undefined" warning when the import is of
 * deja's workflow API: what a namespace import (`import * as wf from '@temporalio/workflow'`)
 * reads as `wf.x` or `wf['x']` when the runtime has no such export. esbuild compiles that access
 * to `(void 0)`; deja refuses it as it refuses the named import `import { x }`.
 */
function undefinedRuntimeImport(message: Message, workingDir: string, runtime: string): string | undefined {
  if (message.id !== 'import-is-undefined') return undefined;
  const m = /^Import "([^"]+)" will always be undefined because there is no matching export in "([^"]+)"$/.exec(message.text);
  if (m === null) return undefined;
  return path.resolve(workingDir, m[2]!) === path.join(runtime, 'index.ts') ? m[1] : undefined;
}

/**
 * Maps the workflow API names to the runtime, refuses Node built-ins and host-only modules, and
 * checks project files for free Node globals.
 */
function sandboxPlugin(runtime: string, workflowsPath: string, problems: BundleProblem[], interceptorModules: string[]): Plugin {
  const runtimeIndex = path.join(runtime, 'index.ts');
  const refuse = (explanation: Explanation) => ({ errors: [{ text: explanation.what, detail: explanation }] });
  return {
    name: 'deja',
    setup(b) {
      b.onResolve({ filter: /^deja-entry:/ }, (args) => {
        if (path.basename(args.importer) !== ENTRY_NAME) return undefined;
        if (args.path === ENTRY_RUNTIME) return { path: path.join(runtime, 'entry.ts') };
        if (args.path === ENTRY_WORKFLOWS) return { path: workflowsPath };
        if (args.path.startsWith(ENTRY_INTERCEPTORS)) {
          const file = interceptorModules[Number(args.path.slice(ENTRY_INTERCEPTORS.length))];
          if (file !== undefined) return { path: file };
        }
        return undefined;
      });
      // No location is given: esbuild attaches the import's own file, line and column.
      b.onResolve({ filter: BUILTIN_FILTER }, (args) =>
        refuse(nodeBuiltinImport(args.path, isDependency(args.importer))),
      );
      b.onResolve({ filter: SPECIAL_FILTER }, (args) => {
        // Every alias goes to one path, so the entry and all importers share one module instance.
        if (RUNTIME_ALIASES.has(args.path)) return { path: runtimeIndex };
        const aliased = [...RUNTIME_ALIASES].find((m) => args.path.startsWith(`${m}/`));
        if (aliased !== undefined) return refuse(unsupportedSubpath(args.path, aliased));
        // Whatever else deja exports (and its internals) is host code: 'deja/workflow' is the
        // only entry point meant for the sandbox.
        const host = HOST_ONLY_MODULES.find((m) => args.path === m || args.path.startsWith(`${m}/`));
        if (host !== undefined) return refuse(hostOnlyImport(args.path));
        return undefined;
      });
      // Free globals are refused only in project files. In dependencies, uses guarded by
      // `typeof process !== 'undefined'` and the like are common and harmless: those globals
      // are simply undefined in the isolate. The runtime is deja's own code, not the project's.
      b.onLoad({ filter: /.*/, namespace: 'file' }, async (args) => {
        const ours = args.path.startsWith(runtime + path.sep);
        if (ours || !isScriptFile(args.path) || isDependency(args.path)) return undefined;
        const source = await fs.promises.readFile(args.path, 'utf8');
        problems.push(...(await findFreeGlobals(source, args.path)));
        // Undefined: esbuild loads the file itself, with its usual loader for the extension.
        return undefined;
      });
    },
  };
}

/**
 * The entry's second argument to install(): a loader of the interceptor modules, each with a name
 * for messages (its path relative to the workflows module's folder). Nothing when there are none,
 * so a bundle without interceptors is the same as before they existed.
 */
function interceptorLoader(modules: string[], workingDir: string): string {
  if (modules.length === 0) return '';
  const items = modules.map(
    (file, i) => `{ name: ${JSON.stringify(path.relative(workingDir, file) || path.basename(file))}, exports: require(${JSON.stringify(ENTRY_INTERCEPTORS + i)}) }`,
  );
  return `, () => [${items.join(', ')}]`;
}

/**
 * Hands every lowered async function of the bundle to the runtime's driver.
 *
 * Why: a workflow's CancellationScope must follow its code across `await`
 * (`CancellationScope.nonCancellable(async () => { await a(); await b(); })` runs `b` in the
 * non-cancellable scope too). Temporal gets this from Node's AsyncLocalStorage; an isolated-vm
 * isolate has no async hooks, and a native `await` runs its continuation without any code of ours.
 * So esbuild lowers async functions to generators (`supported` above) and its `__async` helper
 * drives them; this replaces that helper with a call to the runtime's `runAsync`
 * (runtime/async-context.ts), which restores the scope at each resumption and uses only captured
 * intrinsics (esbuild's helper uses the global `Promise`, which workflow code may replace).
 * The runtime's `install()` sets `__dejaAsync` before the workflows module loads; the runtime
 * itself has no async function. Async generators and `for await` keep esbuild's helpers: their
 * awaits go through `Promise.prototype.then`, which the runtime makes carry the scope too.
 */
function lowerAsync(output: string): string {
  const opening = /^\(\(\) => \{\n/;
  if (!opening.test(output)) throw new DejaError('DEJA_BUNDLE', 'esbuild wrote a bundle that does not open as an IIFE; deja cannot install its async driver');
  let replaced = 0;
  const lowered = output
    .replace(ASYNC_HELPER, (helper: string, indent: string) => {
      replaced++;
      // As many lines as the helper had, so that every later line keeps its number (the map).
      const lines = helper.split('\n').length - 1;
      return `${indent}var __async = (__this, __arguments, generator) => __dejaAsync(__this, __arguments, generator);` + '\n'.repeat(lines);
    })
    .replace(opening, '(() => { var __dejaAsync;\n');
  if (replaced === 0 && /\b__async\(/.test(output)) {
    throw new DejaError('DEJA_BUNDLE', "esbuild's async helper has a shape deja does not know (a new esbuild version?); deja cannot install its async driver");
  }
  return nameAsyncBodies(lowered);
}

/**
 * Gives each runtime module a cheaper lazy initialiser than esbuild's. The entry `require`s the
 * workflows module (so that its top level runs after the globals are in place), and esbuild then
 * wraps every module that one imports, the runtime's included, in `__esm({ "<path>"() { … } })`:
 * per module and per workflow context, an object literal with a map of its own, a method, the
 * `__init` closure and its scope. Here each runtime module's wrapper becomes one arrow function
 * that replaces itself with a shared no-op before it runs the module's code, so the code still runs
 * once, on first use, in the same order, and strict when it was. The difference: esbuild's wrapper
 * rethrows a failed initialisation on each later call, this one runs it once; a runtime module
 * that fails to initialise fails the bundle's first run, in every context alike. Same lines, so the
 * source map stays true. Only deja's runtime is unwrapped; the project's modules keep esbuild's.
 */
function unwrapRuntimeModules(code: string, runtimeFromWorkingDir: string): string {
  const prefix = escapeRegExp(JSON.stringify(runtimeFromWorkingDir.split(path.sep).join('/') + '/').slice(0, -1));
  const wrapper = new RegExp(
    `^  var (init_[\\w$]+) = __esm\\(\\{\\n    ${prefix}[^"\\\\\\n]*\\.ts"\\(\\) \\{\\n(      "use strict";\\n)?([\\s\\S]*?)\\n    \\}\\n  \\}\\);$`,
    'gm',
  );
  let unwrapped = 0;
  const out = code.replace(wrapper, (_whole: string, name: string, strict: string | undefined, body: string) => {
    unwrapped++;
    const head = strict ? `    "use strict";\n      ${name} = ${INIT_DONE};` : `    ${name} = ${INIT_DONE};`;
    return `  var ${name} = () => {\n${head}\n${body}\n  };\n  ;`;
  });
  if (unwrapped === 0) return code;
  return out.replace(/^\(\(\) => \{ /, `(() => { var ${INIT_DONE} = () => {}; `);
}

/** The no-op a runtime module's initialiser becomes once it has run (see unwrapRuntimeModules). */
const INIT_DONE = '__dejaInitDone';

/** The prefix of the name an async function's body (a generator) gets; mapped stacks drop it. */
export const ASYNC_BODY_PREFIX = '__dejaAsync$';

/**
 * Names the generator that holds each lowered async function's body after the function, so that a
 * stack shows `at brokenOrder (…)` rather than an anonymous frame. The name carries a prefix: a
 * named function expression binds its name inside its body, and the function's own name there
 * would shadow the function itself (a recursive call would get the generator). Same lines.
 */
function nameAsyncBodies(code: string): string {
  const named = (name: string, head: string) => `${head}function* ${ASYNC_BODY_PREFIX}${name}(`;
  return code
    .replace(
      /^(\s*(?:function\s+)?([A-Za-z_$][\w$]*)\([^\n]*\)\s*\{\n\s*return __async\([^,\n]+, [^,\n]+, )function\* \(/gm,
      (_whole: string, head: string, name: string) => named(name, head),
    )
    .replace(
      /^(\s*(?:(?:var|let|const)\s+)?([A-Za-z_$][\w$]*)\s*=\s*(?:\([^\n]*\)|[A-Za-z_$][\w$]*)\s*=>\s*__async\([^,\n]+, [^,\n]+, )function\* \(/gm,
      (_whole: string, head: string, name: string) => named(name, head),
    );
}

/** esbuild's `__async` helper, as esbuild 0.2x writes it at the top of the bundle. */
const ASYNC_HELPER = /^( *)var __async = \(__this, __arguments, generator\) => \{\n[\s\S]*?\n\1\};\n/m;

function isDependency(file: string): boolean {
  return file.split(/[\\/]/).includes('node_modules');
}

function isBuildFailure(err: unknown): err is BuildFailure {
  return err instanceof Error && Array.isArray((err as Partial<BuildFailure>).errors);
}

function isExplanation(detail: unknown): detail is Explanation {
  return (
    typeof detail === 'object' &&
    detail !== null &&
    typeof (detail as Explanation).what === 'string' &&
    typeof (detail as Explanation).why === 'string'
  );
}

/** esbuild's notes about its own options (externals, platform) are no help to a workflow author. */
function usefulNote(text: string): boolean {
  return !/external|platform/i.test(text);
}

function toProblem(message: Message, workingDir: string, workflowsPath: string): BundleProblem {
  const explanation = isExplanation(message.detail)
    ? message.detail
    : compileError(message.text, message.notes.map((n) => n.text).filter(usefulNote));
  const where = message.location;
  if (where === null) return { file: workflowsPath, line: 0, column: 0, ...explanation };
  // esbuild counts columns in UTF-8 bytes; editors and BundleProblem count UTF-16 code units.
  const column = Buffer.from(where.lineText, 'utf8').subarray(0, where.column).toString('utf8').length;
  const file = where.file === ENTRY_NAME ? ENTRY_NAME : path.resolve(workingDir, where.file);
  return { file, line: where.line, column: column + 1, ...explanation };
}

function resolveOptions(options: BundleOptions): { workflowsPath: string; cacheDir: string | undefined; interceptorModules: string[] } {
  const where = 'bundleWorkflowCode';
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`${where}: expected an options object, got ${describe(options)}`);
  }
  checkKnownKeys(where, options, OPTION_KEYS);
  const { workflowsPath, cacheDir } = options;
  if (typeof workflowsPath !== 'string' || workflowsPath === '') {
    throw new InvalidArgumentError(`${where}: expected workflowsPath to be a file path, got ${describe(workflowsPath)}`);
  }
  if (cacheDir !== undefined && (typeof cacheDir !== 'string' || cacheDir === '')) {
    throw new InvalidArgumentError(`${where}: expected cacheDir to be a directory path, got ${describe(cacheDir)}`);
  }
  // Node refuses such paths with a message that prints the NUL raw; say it plainly instead.
  for (const [name, value] of [['workflowsPath', workflowsPath], ['cacheDir', cacheDir]] as const) {
    if (value?.includes('\0')) throw new InvalidArgumentError(`${where}: ${name} contains a NUL character: ${JSON.stringify(value)}`);
  }
  const file = scriptFile(where, 'workflowsPath', workflowsPath);
  const modules = options.workflowInterceptorModules;
  if (modules !== undefined && (!Array.isArray(modules) || modules.some((m) => typeof m !== 'string' || m === '' || m.includes('\0')))) {
    throw new InvalidArgumentError(`${where}: expected workflowInterceptorModules to be an array of module paths, got ${describe(modules)}`);
  }
  const interceptorModules = (modules ?? []).map((m, i) => scriptFile(where, `workflowInterceptorModules[${i}]`, m));
  return { workflowsPath: file, cacheDir: cacheDir === undefined ? undefined : path.resolve(cacheDir), interceptorModules };
}

/** `given` resolved to an existing JavaScript or TypeScript file; otherwise an error naming `name`. */
function scriptFile(where: string, name: string, given: string): string {
  const file = path.resolve(given);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : `cannot be read (${(err as Error).message})`;
    throw new InvalidArgumentError(`${where}: ${name} ${file} ${problem}`);
  }
  if (!stat.isFile()) {
    throw new InvalidArgumentError(`${where}: ${name} ${file} is not a file`);
  }
  if (!isScriptFile(file)) {
    throw new InvalidArgumentError(
      `${where}: ${name} ${file} is not a JavaScript or TypeScript module; expected a file ending in ${SCRIPT_EXTENSIONS.join(', ')}`,
    );
  }
  return file;
}

let root: string | undefined;
let runtime: string | undefined;

/**
 * The runtime's source folder, as a real path: esbuild resolves symlinks (pnpm links packages)
 * and names files by their real paths, so the aliases and the "is this deja's own file" test
 * must use the same spelling or the runtime would be loaded twice.
 */
export function runtimeDir(): string {
  return (runtime ??= fs.realpathSync(path.join(packageRoot(), 'runtime')));
}

/**
 * The directory of deja's own package.json, found by walking up from this file, so it works
 * from `lib/bundler` in the source tree and from `dist/lib/bundler` when compiled. The runtime's
 * TypeScript sources ship in the package under `runtime/`.
 */
function packageRoot(): string {
  if (root !== undefined) return root;
  for (let dir = __dirname; ; ) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === 'deja') return (root = dir);
    } catch {
      // No package.json here, or not JSON: keep walking.
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new DejaError('DEJA_BUNDLE', `cannot find the deja package root above ${__dirname}`);
    dir = parent;
  }
}
