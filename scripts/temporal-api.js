#!/usr/bin/env node
/**
 * Writes test/temporal-api/<package>.json: the names that @temporalio/<package> exports (values
 * and types), read with TypeScript's checker from the declarations installed under bench/.
 * Run once per Temporal release: `node scripts/temporal-api.js` (needs `npm install` in bench/).
 * The lists are checked in, so the coverage test (test/temporal-api.test.ts) needs no bench/.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const root = path.join(__dirname, '..');
const packages = ['workflow', 'activity', 'client'];

for (const name of packages) {
  const dir = path.join(root, 'bench', 'node_modules', '@temporalio', name);
  const entry = path.join(dir, 'lib', 'index.d.ts');
  if (!fs.existsSync(entry)) throw new Error(`${entry} is missing: run "npm install" in bench/ first`);
  const version = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  const program = ts.createProgram([entry], { noEmit: true, skipLibCheck: true, moduleResolution: ts.ModuleResolutionKind.Node10 });
  const checker = program.getTypeChecker();
  const symbol = checker.getSymbolAtLocation(program.getSourceFile(entry));
  const names = {};
  for (const exported of checker.getExportsOfModule(symbol)) {
    const target = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const isValue = (target.flags & ts.SymbolFlags.Value) !== 0;
    names[exported.name] = isValue ? 'value' : 'type';
  }
  const sorted = Object.fromEntries(Object.keys(names).sort().map((k) => [k, names[k]]));
  const out = { package: `@temporalio/${name}`, version, names: sorted };
  fs.writeFileSync(path.join(root, 'test', 'temporal-api', `${name}.json`), JSON.stringify(out, null, 2) + '\n');
  const values = Object.values(sorted).filter((k) => k === 'value').length;
  console.log(`@temporalio/${name} ${version}: ${Object.keys(sorted).length} names (${values} values)`);
}
