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

t.test('the replay engine does no I/O', async (t) => {
  for (const file of sources(path.join('lib', 'replay'))) {
    for (const spec of imports(file)) {
      t.notOk(spec.startsWith('node:') || builtins.has(spec), `${file} imports ${spec}`);
      t.notOk(/sandbox|bundler|backends|worker|client/.test(spec), `${file} imports ${spec}`);
    }
  }
});

t.test('entry points export by name (no export *)', async (t) => {
  for (const file of ['runtime/index.ts', 'lib/index.ts', 'lib/activity/index.ts']) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    t.notMatch(text, /export \*/, `${file} has no export *`);
  }
});
