// The layering rules of DESIGN.md, checked on the source: a new import that crosses a boundary
// fails here rather than in review.
import t from 'tap';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(rel));
    else if (entry.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

/** Module specifiers a file imports (static, dynamic and require). */
function imports(file: string): string[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s+['"]([^'"]+)['"]/g)) {
    found.push(m[1] ?? m[2] ?? m[3] ?? m[4]);
  }
  return found;
}

const builtins = new Set(require('node:module').builtinModules as string[]);

t.test('runtime/ imports neither lib/ nor Node built-ins', async (t) => {
  const files = sources('runtime');
  t.ok(files.length >= 5, 'found the runtime sources');
  for (const file of files) {
    for (const spec of imports(file)) {
      t.notOk(spec.startsWith('node:') || builtins.has(spec) || builtins.has(spec.split('/')[0]), `${file} imports built-in ${spec}`);
      t.notOk(/(^|\/)lib(\/|$)/.test(spec) && spec.startsWith('.'), `${file} imports ${spec} from lib/`);
    }
  }
});

t.test('only lib/sandbox imports isolated-vm, only lib/bundler imports esbuild', async (t) => {
  let ivm = 0;
  let esbuild = 0;
  for (const file of [...sources('lib'), ...sources('runtime')]) {
    for (const spec of imports(file)) {
      if (spec === 'isolated-vm') {
        ivm++;
        t.ok(file.startsWith(path.join('lib', 'sandbox')), `${file} imports isolated-vm`);
      }
      if (spec === 'esbuild') {
        esbuild++;
        t.ok(file.startsWith(path.join('lib', 'bundler')), `${file} imports esbuild`);
      }
    }
  }
  t.ok(ivm > 0 && esbuild > 0, 'the sandbox and the bundler are found');
});

t.test('only lib/backends/sqlite imports better-sqlite3, and only lib/wiring loads it, lazily', async (t) => {
  let driver = 0;
  for (const file of [...sources('lib'), ...sources('runtime')]) {
    for (const spec of imports(file)) {
      if (spec === 'better-sqlite3') {
        driver++;
        t.ok(file.startsWith(path.join('lib', 'backends', 'sqlite')), `${file} imports better-sqlite3`);
      }
      if (/backends\/sqlite/.test(spec)) t.ok(file.startsWith(path.join('lib', 'backends', 'sqlite')) || file.startsWith(path.join('lib', 'wiring')), `${file} imports ${spec}`);
    }
  }
  t.ok(driver > 0, 'the SQLite backend is found');
  const wiring = fs.readFileSync(path.join(root, 'lib', 'wiring', 'index.ts'), 'utf8');
  t.notMatch(wiring, /^import[^;]*backends\/sqlite/m, 'the wiring has no static import of the SQLite backend');
  t.match(wiring, /^\s+const \{ SqliteStore \} = require\('\.\.\/backends\/sqlite'\)/m, 'it requires it inside the function that opens it');
  t.notMatch(fs.readFileSync(path.join(root, 'lib', 'index.ts'), 'utf8'), /backends\/sqlite/, 'the public entry point does not load it (a subpath export does)');
});

t.test('only lib/backends/postgres imports pg, and only lib/wiring loads it, lazily', async (t) => {
  let driver = 0;
  for (const file of [...sources('lib'), ...sources('runtime')]) {
    for (const spec of imports(file)) {
      if (spec === 'pg') {
        driver++;
        t.ok(file.startsWith(path.join('lib', 'backends', 'postgres')), `${file} imports pg`);
      }
      if (/backends\/postgres/.test(spec)) t.ok(file.startsWith(path.join('lib', 'backends', 'postgres')) || file.startsWith(path.join('lib', 'wiring')) || file.startsWith(path.join('lib', 'cli')), `${file} imports ${spec}`);
    }
  }
  t.ok(driver > 0, 'the PostgreSQL backend is found');
  const store = fs.readFileSync(path.join(root, 'lib', 'backends', 'postgres', 'postgres-store.ts'), 'utf8');
  t.notMatch(store, /^import (?!type )[^;]*from 'pg'/m, 'the backend imports only types of pg at the top');
  const wiring = fs.readFileSync(path.join(root, 'lib', 'wiring', 'index.ts'), 'utf8');
  t.notMatch(wiring, /^import[^;]*backends\/postgres/m, 'the wiring has no static import of the PostgreSQL backend');
  t.match(wiring, /^\s+const \{ PostgresStore, parseUrl \} = require\('\.\.\/backends\/postgres'\)/m, 'it requires it inside the function that opens it');
  t.notMatch(fs.readFileSync(path.join(root, 'lib', 'index.ts'), 'utf8'), /backends\/postgres/, 'the public entry point does not load it (a subpath export does)');
});

t.test('the replay engine does no I/O', async (t) => {
  for (const file of sources(path.join('lib', 'replay'))) {
    for (const spec of imports(file)) {
      t.notOk(spec.startsWith('node:') || builtins.has(spec), `${file} imports ${spec}`);
      t.notOk(/sandbox|bundler|backends|worker|client/.test(spec), `${file} imports ${spec}`);
    }
  }
});

// ── DESIGN.md's layer table, as the imports each part of lib/ may make ───────────────────────────
//
// Targets are paths from the root without extension; a target allows itself and everything under
// it. Node built-ins and packages are checked apart (above). Host code reaches into runtime/ only
// for the protocol, the failure classes, the shared errors, the duration grammar and the search
// attribute converters, and the pure values Temporal's common package shares between workflow and
// host (runtime/common: enum codecs and extractWorkflowType; runtime/common-errors; the no-op
// runtime/metrics): never the workflow API or the isolate's internals.

const RUNTIME_FOR_HOST = [
  'runtime/protocol',
  'runtime/failure',
  'runtime/errors',
  'runtime/time',
  'runtime/search-attributes',
  'runtime/common',
  'runtime/common-errors',
  'runtime/metrics',
];
const ALL = ['lib', ...RUNTIME_FOR_HOST];

const ALLOWED: Record<string, readonly string[]> = {
  'lib/errors.ts': ['runtime/errors', 'runtime/protocol'],
  'lib/service.ts': ['lib/history', 'runtime/protocol'],
  // The errors of the WorkflowService contract, shared by the engine and the client.
  'lib/service-errors.ts': ['lib/errors', ...RUNTIME_FOR_HOST],
  // The cache folder: private folders, atomic writes, the V8 code cache. A leaf.
  'lib/cache': ['lib/errors'],
  'lib/activity': ['lib/errors', ...RUNTIME_FOR_HOST],
  'lib/bundler': ['lib/cache', 'lib/errors', ...RUNTIME_FOR_HOST],
  'lib/sandbox': ['lib/cache', 'lib/errors', ...RUNTIME_FOR_HOST],
  'lib/history': ['lib/errors', ...RUNTIME_FOR_HOST],
  // Cron schedules (croner): a leaf.
  'lib/cron.ts': ['lib/errors'],
  // The list filter: its AST (which the Store contract names), its parser and its evaluator.
  'lib/visibility': ['lib/errors', ...RUNTIME_FOR_HOST],
  'lib/replay': ['lib/history', 'lib/errors', ...RUNTIME_FOR_HOST],
  // The engine knows the Store interface, not its implementations.
  'lib/engine': ['lib/history', 'lib/backends/store', 'lib/service', 'lib/service-errors', 'lib/errors', 'lib/cron', 'lib/visibility', ...RUNTIME_FOR_HOST],
  // A backend knows the WorkflowService's types (statuses) and nothing of the engine.
  'lib/backends': ['lib/history', 'lib/service', 'lib/errors', 'lib/visibility', ...RUNTIME_FOR_HOST],
  // The one module that picks a backend: it alone puts the engine and a store together.
  'lib/wiring': ['lib/engine', 'lib/backends', 'lib/service', 'lib/service-errors', 'lib/history', 'lib/errors', ...RUNTIME_FOR_HOST],
  'lib/worker': ['lib/replay', 'lib/sandbox', 'lib/bundler', 'lib/activity', 'lib/service', 'lib/service-errors', 'lib/history', 'lib/wiring', 'lib/errors', ...RUNTIME_FOR_HOST],
  'lib/client': ['lib/service', 'lib/service-errors', 'lib/wiring', 'lib/history', 'lib/errors', ...RUNTIME_FOR_HOST],
  'lib/testing': ALL,
  // lib/history too: Temporal's replay API and proto-utils (historyFromJSON) read and convert histories.
  'lib/compat': ['lib/client', 'lib/worker', 'lib/activity', 'lib/testing', 'lib/history', 'lib/service', 'lib/service-errors', 'lib/errors', ...RUNTIME_FOR_HOST],
  'lib/cli': ALL,
  // deja ui's server: a service to show, histories, and replay for the verdict. No backend driver.
  'lib/ui': ['lib/service', 'lib/service-errors', 'lib/history', 'lib/testing', 'lib/errors', ...RUNTIME_FOR_HOST],
  // The public entry point: every public layer, not the CLI and not the cache folder's internals.
  'lib/index.ts': [
    'lib/client',
    'lib/worker',
    'lib/testing',
    'lib/bundler',
    'lib/history',
    'lib/replay',
    'lib/sandbox',
    'lib/engine',
    'lib/backends',
    'lib/wiring',
    'lib/service',
    'lib/service-errors',
    'lib/errors',
    'lib/activity',
    ...RUNTIME_FOR_HOST,
  ],
};

/**
 * Edges that break the table and are being removed: each one must still exist (a fixed edge must
 * leave this list), and no other may appear. Empty since the wiring module took the backend choice
 * out of the client and the worker, and the Store interface moved to lib/backends/store.ts.
 */
const KNOWN_EXCEPTIONS: readonly (readonly [from: string, to: string])[] = [];

const posix = (p: string) => p.split(path.sep).join('/');
const under = (p: string, prefix: string) => p === prefix || p.startsWith(`${prefix}/`);

/** The row of the table a file belongs to (a folder of lib/, or a top-level file). */
function rowOf(file: string): string {
  const rel = posix(file);
  const parts = rel.split('/');
  return parts.length === 2 ? rel : `${parts[0]}/${parts[1]}`;
}

/** The relative imports of a file, resolved to paths from the root without extension. */
function localImports(file: string): string[] {
  return imports(file)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => posix(path.normalize(path.join(path.dirname(file), spec))).replace(/\.(ts|js)$/, '').replace(/\/index$/, ''));
}

t.test('every part of lib/ imports only what DESIGN.md says it knows', async (t) => {
  const files = sources('lib');
  const rows = new Set(files.map(rowOf));
  for (const row of rows) t.ok(ALLOWED[row], `${row} has a row in the layer table`);
  const seenExceptions = new Set<string>();
  for (const file of files) {
    const row = rowOf(file);
    const allowed = ALLOWED[row] ?? [];
    for (const target of localImports(file)) {
      if (under(target, row.replace(/\.ts$/, ''))) continue; // within its own folder
      if (target.startsWith('runtime/') || target === 'runtime') {
        t.ok(RUNTIME_FOR_HOST.some((r) => under(target, r)), `${posix(file)} imports ${target}: host code may import only ${RUNTIME_FOR_HOST.join(', ')}`);
      }
      if (allowed.some((a) => under(target, a))) continue;
      const exception = KNOWN_EXCEPTIONS.find(([from, to]) => from === row && under(target, to));
      if (exception) {
        seenExceptions.add(exception.join(' -> '));
        continue;
      }
      t.fail(`${posix(file)} imports ${target}, which ${row} may not (it may import ${allowed.join(', ') || 'nothing of deja'})`);
    }
  }
  for (const [from, to] of KNOWN_EXCEPTIONS) {
    t.ok(seenExceptions.has(`${from} -> ${to}`), `known exception ${from} -> ${to} still exists (remove it from the list once fixed)`);
  }
});

t.test('the layer check sees a forbidden edge', async (t) => {
  // The resolution above, on a made-up file: a sandbox importing the bundler is caught.
  const target = posix(path.normalize(path.join('lib/sandbox', '../bundler'))).replace(/\/index$/, '');
  t.equal(target, 'lib/bundler');
  t.notOk(ALLOWED['lib/sandbox'].some((a) => under(target, a)), 'the sandbox may not import the bundler');
  t.notOk(ALLOWED['lib/client'].some((a) => under('runtime/workflow', a)), 'host code may not import runtime/workflow');
  t.ok(ALLOWED['lib/engine'].some((a) => under('lib/backends/store', a)) && !ALLOWED['lib/engine'].some((a) => under('lib/backends/memory', a)), 'the engine knows the Store interface, no backend');
});

t.test('entry points export by name (no export *)', async (t) => {
  for (const file of ['runtime/index.ts', 'lib/index.ts', 'lib/activity/index.ts']) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    t.notMatch(text, /export \*/, `${file} has no export *`);
  }
});

t.test('a process that opens only memory: never loads better-sqlite3; sqlite: loads it then', async (t) => {
  const loaded = () => Object.keys(require.cache).some((file) => file.includes(`${path.sep}better-sqlite3${path.sep}`));
  const { Connection } = require('../lib/client') as typeof import('../lib/client');
  t.notOk(loaded(), 'not loaded by importing the client');
  const memory = new Connection({ backend: 'memory:architecture' });
  await memory.close();
  t.notOk(loaded(), 'not loaded by a memory: backend');
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'deja-arch-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sqlite = new Connection({ backend: `sqlite:${path.join(dir, 'x.db')}` });
  await sqlite.close();
  t.ok(loaded(), 'loaded when a sqlite: backend opens');
});
