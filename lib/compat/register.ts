/**
 * `deja/register` (host side): makes `@temporalio/client`, `@temporalio/worker`,
 * `@temporalio/activity`, `@temporalio/workflow`, `@temporalio/common`, `@temporalio/testing`,
 * `@temporalio/envconfig`, `@temporalio/nyc-test-coverage` and `@temporalio/common/lib/proto-utils` resolve to deja in this process, for `require` and `import`, so that host code written for
 * Temporal (a worker.ts, a client.ts) runs unchanged:
 *
 *     node --import deja/register worker.js     (ESM and CommonJS, Node ≥ 20.6)
 *     node -r deja/register worker.js           (CommonJS)
 *     require('deja/register')                   (first line of a CommonJS entry)
 *
 * The hooks are lib/activity/aliases.ts's (module.registerHooks where Node has it, else a
 * `Module._resolveFilename` wrapper and a `module.register` resolve hook), with the same limits:
 * bare names only, imports from inside a real `@temporalio` package left alone, installed once per
 * process and never removed. An ESM graph is resolved before it runs, so the hooks must be in place
 * before the first module that imports `@temporalio/*` loads: hence `--import`/`-r`.
 *
 * `@temporalio/workflow` maps to `deja/workflow` (runtime/index), which has no side effects in the
 * host: client code can import a workflow file's signal and query definitions. Workflow code itself
 * is bundled, and the bundler maps that name on its own.
 */
import * as path from 'node:path';
import { installAliases, type AliasMechanism } from '../activity/aliases';
import * as activityModule from '../activity';
import * as clientModule from './client';
import * as commonModule from './common';
import * as envconfigModule from './envconfig';
import * as nycTestCoverageModule from './nyc-test-coverage';
import * as protoUtilsModule from './proto-utils';
import * as testingModule from './testing';
import * as workerModule from './worker';

const INSTALLED = Symbol.for('deja.register');

/** The file each `@temporalio/*` name resolves to: this copy of deja's (its .ts sources or its dist .js). */
export function registerTargets(): Record<string, string> {
  const ext = path.extname(__filename);
  return {
    '@temporalio/client': path.join(__dirname, `client${ext}`),
    '@temporalio/worker': path.join(__dirname, `worker${ext}`),
    '@temporalio/common': path.join(__dirname, `common${ext}`),
    '@temporalio/testing': path.join(__dirname, `testing${ext}`),
    '@temporalio/envconfig': path.join(__dirname, `envconfig${ext}`),
    '@temporalio/nyc-test-coverage': path.join(__dirname, `nyc-test-coverage${ext}`),
    '@temporalio/common/lib/proto-utils': path.join(__dirname, `proto-utils${ext}`),
    '@temporalio/activity': path.join(__dirname, '..', 'activity', `index${ext}`),
    '@temporalio/workflow': path.join(__dirname, '..', '..', 'runtime', `index${ext}`),
  };
}

/** Installs the nine aliases (once per process); returns how. Loading this module calls it. */
export function register(): AliasMechanism {
  const targets = registerTargets();
  // The workflow API is not a host layer: it is loaded by path for its export names, not imported.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const workflowModule = require(targets['@temporalio/workflow']!) as object;
  const modules: Record<string, object> = {
    '@temporalio/client': clientModule,
    '@temporalio/worker': workerModule,
    '@temporalio/common': commonModule,
    '@temporalio/testing': testingModule,
    '@temporalio/envconfig': envconfigModule,
    '@temporalio/nyc-test-coverage': nycTestCoverageModule,
    '@temporalio/common/lib/proto-utils': protoUtilsModule,
    '@temporalio/activity': activityModule,
    '@temporalio/workflow': workflowModule,
  };
  return installAliases(INSTALLED, Object.fromEntries(Object.entries(targets).map(([name, file]) => [name, { file, exports: modules[name]! }])));
}

/** How deja/register installed its aliases in this process, or undefined when it has not. */
export function registerMechanism(): AliasMechanism | undefined {
  return (globalThis as Record<symbol, AliasMechanism | undefined>)[INSTALLED];
}

register();
