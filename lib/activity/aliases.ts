/**
 * Makes `@temporalio/activity` and `@temporalio/common` resolve to deja's activity modules in the
 * host process (host side), so that activity files written for Temporal run unchanged under
 * deja's worker, whether or not the real packages are installed.
 *
 * Why a resolution hook: the worker never loads the activities module itself. The user's code
 * imports it (`import * as activities from './activities'`) and hands the functions to
 * `Worker.create`, so the only way to change what that file's imports mean is to change how the
 * process resolves them. The worker module installs the hook when it is loaded (importing `deja`
 * loads it), which comes before the activities module in the usual `worker.ts`: its import of
 * deja (or of `@temporalio/worker` mapped to deja) is written first.
 *
 * How, by Node version (deja supports 20, 22, 24, 26):
 * - `module.registerHooks` (Node 24 and later): one synchronous, in-thread resolve hook that
 *   serves both `require` and `import`. Not on Node 22, where it has it too: there a synchronous
 *   hook cannot hand a name on to an asynchronous loader another tool registered (seen with tap's
 *   coverage loader: ERR_METHOD_NOT_IMPLEMENTED from resolveSync).
 * - Otherwise (Node 20 and 22): `require` through a wrapper of `Module._resolveFilename`
 *   (what module-alias and tsconfig-paths do), and `import` through `module.register` (Node ≥ 20.6),
 *   whose resolve hook runs on the loader thread. On Node 20.0–20.5 `import` is not covered.
 *
 * What it does to the rest of the process, and no more:
 * - Only the two bare names are mapped, not their subpaths (`@temporalio/common/lib/…`).
 *   `deja/register` (lib/compat/register.ts) maps six, through installAliases below.
 * - Imports made from inside a real `node_modules/@temporalio/…` package are left alone: a real
 *   Temporal client or worker in the same process keeps its own `@temporalio/common`.
 * - Every other import in the process (user files included) gets deja's modules for those two
 *   names: deja's `@temporalio/common` has the failure classes, `IllegalStateError` and
 *   `CompleteAsyncError`, not the rest of Temporal's (converters, enums, …).
 * - It is installed once per process and never removed.
 *
 * Where the hook cannot act (an ESM graph that imports the activities statically: Node resolves a
 * whole static graph before it runs any of it), a real `@temporalio/activity` (≥ 1.11) still works
 * for `Context.current()` and its helpers: deja's Context lives in the AsyncLocalStorage that
 * Temporal's package keeps on globalThis (see ./index.ts). Its failure classes are Temporal's
 * then, which the worker reads as plain errors. Loading the activities with a dynamic `import()`
 * after deja, or starting Node with `--import` of a module that imports deja, avoids that.
 */
import * as nodeModule from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as activityModule from './index';
import * as commonModule from './common';

const INSTALLED = Symbol.for('deja.activity.aliases');
/** Imports from a real Temporal package keep resolving normally. */
const TEMPORAL_PACKAGE = /[\\/]node_modules[\\/]@temporalio[\\/]/;

/** The files the two names resolve to: this copy of deja's own (its .ts sources or its dist .js). */
export function aliasTargets(): Record<string, string> {
  const ext = path.extname(__filename);
  return {
    '@temporalio/activity': path.join(__dirname, `index${ext}`),
    '@temporalio/common': path.join(__dirname, `common${ext}`),
  };
}

/**
 * What `import` gets: an ES module that re-exports the CommonJS module `require` gets (the same
 * instance), name by name. Node would otherwise guess a CommonJS module's named exports from its
 * source text, which works for tsc's output but not for every transpiler's.
 */
function esmFacade(file: string, exported: object): string {
  const names = Object.keys(exported).filter((name) => name !== 'default' && name !== '__esModule' && /^[A-Za-z_$][\w$]*$/.test(name));
  const source =
    `import { createRequire } from 'node:module';\n` +
    `const m = createRequire(${JSON.stringify(pathToFileURL(file).href)})(${JSON.stringify(file)});\n` +
    `export default m;\n` +
    names.map((name) => `export const ${name} = m.${name};\n`).join('');
  return `data:text/javascript,${encodeURIComponent(source)}`;
}

export type AliasMechanism = 'registerHooks' | 'resolveFilename+register' | 'resolveFilename';

/** How the aliases were installed in this process, or undefined when they are not. */
export function activityAliasesMechanism(): AliasMechanism | undefined {
  return (globalThis as Record<symbol, AliasMechanism | undefined>)[INSTALLED];
}

/** Installs the aliases (once per process, whichever copy of deja comes first). */
export function installActivityAliases(): void {
  const targets = aliasTargets();
  installAliases(INSTALLED, {
    '@temporalio/activity': { file: targets['@temporalio/activity']!, exports: activityModule },
    '@temporalio/common': { file: targets['@temporalio/common']!, exports: commonModule },
  });
}

/**
 * Makes each bare name of `aliases` resolve to its file, for `require` (the CommonJS file) and
 * `import` (an ES facade over the same instance), everywhere in the process but inside a real
 * `@temporalio` package. Once per process per `key`; returns how it was installed. Hooks installed
 * later run first, so a later, wider table (deja/register's) wins over this module's two names.
 */
export function installAliases(key: symbol, aliases: Record<string, { file: string; exports: object }>): AliasMechanism {
  const g = globalThis as Record<symbol, unknown>;
  if (g[key] !== undefined) return g[key] as AliasMechanism;
  const targets = Object.fromEntries(Object.entries(aliases).map(([name, { file }]) => [name, file]));
  const urls = Object.fromEntries(Object.entries(aliases).map(([name, { file, exports }]) => [name, esmFacade(file, exports)]));
  const fromTemporal = (parent: string | undefined) => parent !== undefined && TEMPORAL_PACKAGE.test(parent);

  const api = nodeModule as unknown as {
    registerHooks?: (hooks: { resolve: (specifier: string, context: { parentURL?: string; conditions?: string[] }, next: (s: string, c: unknown) => unknown) => unknown }) => unknown;
    register?: (specifier: string, options: { data: unknown }) => void;
  };
  // Node 22's synchronous hooks cannot pass a name on to an asynchronous loader that another tool
  // registered with module.register (a coverage or TypeScript loader): resolving anything else
  // then fails with ERR_METHOD_NOT_IMPLEMENTED (resolveSync). Node 24 and later chain them.
  if (typeof api.registerHooks === 'function' && Number(process.versions.node.split('.')[0]) >= 24) {
    api.registerHooks({
      resolve(specifier, context, next) {
        if (!Object.hasOwn(targets, specifier) || fromTemporal(context.parentURL)) return next(specifier, context);
        // require gets the CommonJS file itself; import gets its ES facade.
        const url = context.conditions?.includes('require') ? pathToFileURL(targets[specifier]!).href : urls[specifier]!;
        return { url, shortCircuit: true };
      },
    });
    return (g[key] = 'registerHooks');
  }

  const Module = nodeModule.Module as unknown as { _resolveFilename: (request: string, parent: { filename?: string } | undefined, ...rest: unknown[]) => string };
  const original = Module._resolveFilename;
  Module._resolveFilename = function resolveWithDejaAliases(this: unknown, request, parent, ...rest) {
    if (Object.hasOwn(targets, request) && !fromTemporal(parent?.filename ?? undefined)) return targets[request]!;
    return original.call(this, request, parent, ...rest);
  };
  if (typeof api.register === 'function') {
    api.register(`data:text/javascript,${encodeURIComponent(ESM_HOOKS)}`, { data: { urls, temporal: TEMPORAL_PACKAGE.source } });
    return (g[key] = 'resolveFilename+register');
  }
  return (g[key] = 'resolveFilename');
}

/** The ESM resolve hook for `module.register`: it runs on the loader thread, so it is source text. */
const ESM_HOOKS = `
let urls = {};
let temporal = /$^/;
export function initialize(data) {
  urls = data.urls;
  temporal = new RegExp(data.temporal);
}
export function resolve(specifier, context, next) {
  const url = Object.hasOwn(urls, specifier) ? urls[specifier] : undefined;
  if (url !== undefined && !(context.parentURL !== undefined && temporal.test(context.parentURL))) return { url, shortCircuit: true };
  return next(specifier, context);
}
`;
