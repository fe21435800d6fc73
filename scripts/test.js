#!/usr/bin/env node
// The test command (`npm test`): type-check, then run every test file with tap, then print one
// plain closing line `N passed, N failed[, N skipped]` that CI reads. Keeps tap's exit code.
'use strict';
const { spawnSync, spawn } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const extra = process.argv.slice(2);

function finish(passed, failed, skipped, code) {
  process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  process.exit(code);
}

// Build dist/ (host code that imports `deja/…` by name resolves there), then type-check
// everything, including runtime/ on its own with no Node types (it runs inside the isolate).
const steps = [
  ['build', ['-p', 'tsconfig.build.json']],
  ['type check', ['--noEmit', '-p', 'tsconfig.json']],
  ['type check of runtime/ (no Node types)', ['--noEmit', '-p', 'runtime/tsconfig.json']],
];
if (!extra.includes('--no-typecheck')) {
  for (const [what, args] of steps) {
    process.stdout.write(`# ${what}: tsc ${args.join(' ')}\n`);
    const tsc = spawnSync(bin('tsc'), args, { cwd: root, stdio: 'inherit' });
    if (tsc.status !== 0) {
      process.stdout.write(`# ${what} failed\n`);
      finish(0, 1, 0, tsc.status || 1);
    }
  }
}

const files = extra.filter((a) => !a.startsWith('--'));
const child = spawn(bin('tap'), ['run', '--reporter=tap', ...files], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --no-node-snapshot`.trim() },
});
let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4096);
});
child.on('close', (code) => {
  // tap's own closing summary looks like `# { total: 12, pass: 11, fail: 1, skip: 0 }`.
  const m = /# \{ ([^}]*) \}/.exec(tail.split('\n').filter((l) => l.startsWith('# {')).pop() ?? '');
  const counts = {};
  if (m) for (const part of m[1].split(',')) {
    const [k, v] = part.split(':').map((s) => s.trim());
    counts[k] = Number(v);
  }
  if (!m) finish(0, 1, 0, code || 1);
  const failed = counts.fail ?? (counts.total ?? 0) - (counts.pass ?? 0) - (counts.skip ?? 0) - (counts.todo ?? 0);
  finish(counts.pass ?? 0, failed, (counts.skip ?? 0) + (counts.todo ?? 0), code ?? 1);
});
