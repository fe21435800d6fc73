#!/usr/bin/env node
// The bench command (`npm run bench`, `npm run bench -- --quick`): installs bench/'s own
// dependencies (Temporal's SDK, kept out of deja's) when they are missing or older than
// bench/package.json, then runs bench/src/main.ts from source and keeps its exit code.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bench = path.join(root, 'bench');
const args = process.argv.slice(2);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

for (const dep of ['esbuild', 'isolated-vm']) {
  if (!fs.existsSync(path.join(root, 'node_modules', dep, 'package.json'))) {
    process.stderr.write(`bench: deja's own dependencies are not installed (${dep} is missing): run \`npm install\` at the top level first\n`);
    process.exit(1);
  }
}

const marker = path.join(bench, 'node_modules', '.package-lock.json');
const stale = !fs.existsSync(marker) || fs.statSync(marker).mtimeMs < fs.statSync(path.join(bench, 'package.json')).mtimeMs;
if (stale) {
  process.stderr.write('bench: installing bench/ dependencies (@temporalio/*)…\n');
  const install = spawnSync(npm, ['install', '--no-audit', '--no-fund'], { cwd: bench, stdio: 'inherit' });
  if (install.status !== 0) process.exit(install.status || 1);
}

const run = spawnSync(process.execPath, ['-r', path.join(bench, 'register.js'), path.join(bench, 'src', 'main.ts'), ...args], {
  cwd: bench,
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
