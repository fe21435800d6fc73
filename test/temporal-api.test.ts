// Temporal API coverage (issue 12, item 5): which of the names that @temporalio/workflow,
// @temporalio/activity and @temporalio/client 1.24 export deja offers under those names, through
// the modules deja/register maps them to. Temporal's lists are checked in (test/temporal-api/*.json,
// written by scripts/temporal-api.js from bench/'s declarations), so this needs no bench/ install.
// A name Temporal exports as a value must be a value here too (checked at run time); a type may be
// a type or a value (a class is both). The floors below are what was measured: raise them as names
// are added; a drop fails.
import * as path from 'node:path';
import t from 'tap';
import * as ts from 'typescript';
import { registerTargets } from '../lib/compat/register';

const root = path.join(__dirname, '..');

interface Listed {
  package: string;
  version: string;
  names: Record<string, 'value' | 'type'>;
}

const PACKAGES = [
  { name: 'workflow', floor: { names: 144, values: 69 } },
  { name: 'activity', floor: { names: 20, values: 14 } },
  { name: 'client', floor: { names: 167, values: 54 } },
] as const;

/** The names a module exports (values and types), read with TypeScript's checker. */
function exportedNames(program: ts.Program, file: string): Set<string> {
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  if (!source) throw new Error(`${file} is not in the program`);
  const symbol = checker.getSymbolAtLocation(source);
  if (!symbol) throw new Error(`${file} has no module symbol`);
  return new Set(checker.getExportsOfModule(symbol).map((s) => s.name));
}

const targets = registerTargets();
const files = Object.fromEntries(PACKAGES.map(({ name }) => [name, targets[`@temporalio/${name}`]!]));
const program = ts.createProgram(Object.values(files), { noEmit: true, skipLibCheck: true, strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, types: ['node'] });

const summary: string[] = [];
for (const { name, floor } of PACKAGES) {
  t.test(`@temporalio/${name}: the names deja offers`, async (t) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const listed = require(path.join(root, 'test', 'temporal-api', `${name}.json`)) as Listed;
    const file = files[name]!;
    const offeredNames = exportedNames(program, file);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const runtime = require(file) as Record<string, unknown>;
    const offered: string[] = [];
    const missing: string[] = [];
    const wrongKind: string[] = [];
    for (const [exported, kind] of Object.entries(listed.names)) {
      if (!offeredNames.has(exported)) missing.push(exported);
      else if (kind === 'value' && runtime[exported] === undefined) wrongKind.push(exported);
      else offered.push(exported);
    }
    t.same(wrongKind, [], 'every value Temporal exports that deja names is a value at run time too');
    const all = Object.keys(listed.names).length;
    const values = Object.values(listed.names).filter((k) => k === 'value').length;
    const offeredValues = offered.filter((n) => listed.names[n] === 'value').length;
    const nexus = missing.filter((n) => /nexus/i.test(n));
    const line =
      `${listed.package} ${listed.version}: ${offered.length} of ${all} names (${offeredValues} of ${values} values); ` +
      `missing ${missing.length} (${nexus.length} of them Nexus)`;
    summary.push(line);
    t.comment(line);
    t.comment(`missing values: ${missing.filter((n) => listed.names[n] === 'value' && !/nexus/i.test(n)).join(' ')}`);
    t.comment(`missing types: ${missing.filter((n) => listed.names[n] === 'type' && !/nexus/i.test(n)).join(' ')}`);
    t.ok(offered.length >= floor.names, `at least ${floor.names} names (got ${offered.length})`);
    t.ok(offeredValues >= floor.values, `at least ${floor.values} values (got ${offeredValues})`);
  });
}

t.teardown(() => {
  for (const line of summary) console.log(`# ${line}`);
});
