#!/usr/bin/env node
// The test command (`npm test`): type-check, then run every test file with tap, then print one
// plain closing line `N passed, N failed[, N skipped]` that CI reads. Keeps tap's exit code.
// One private PostgreSQL server (scripts/postgres.js) serves the whole run: it is started before
// tap (installed first when missing and this process may) and named to the test files in
// DEJA_TEST_POSTGRES_URL, and stopped at the end. Without it the PostgreSQL tests skip, loudly.
// Chromium for the browser tests (scripts/browser.js) is found or installed the same way and named
// in DEJA_CHROMIUM; without it those tests skip, loudly.
'use strict';
const { spawnSync, spawn } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const extra = process.argv.slice(2);

let postgres;
function finish(passed, failed, skipped, code) {
  if (postgres) postgres.stop();
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
void (async () => {
  const env = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --no-node-snapshot`.trim() };
  if (!env.DEJA_TEST_POSTGRES_URL) {
    try {
      postgres = await require('./postgres').startServer();
    } catch (error) {
      process.stdout.write(`# PostgreSQL: could not start a server (${String(error && error.message).split('\n')[0]}); the PostgreSQL tests start their own or skip\n`);
    }
    if (postgres) {
      env.DEJA_TEST_POSTGRES_URL = postgres.url;
      env.DEJA_TEST_POSTGRES_CTL = JSON.stringify(postgres.ctl);
      process.stdout.write(`# PostgreSQL: a private server for this run at ${postgres.url}\n`);
      for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => finish(0, 1, 0, 130));
    }
  }
  // The browser tests of `deja ui` need Chromium: install it now (when missing and this process
  // may) rather than inside a test file, whose time limit an apt-get run could eat.
  if (!env.DEJA_CHROMIUM && (files.length === 0 || files.some((f) => /ui-browser/.test(f)))) {
    const browser = require('./browser');
    const chromium = browser.ensureChromium();
    if (chromium) {
      env.DEJA_CHROMIUM = chromium;
      process.stdout.write(`# Chromium for the browser tests: ${chromium}\n`);
    } else {
      browser.sayMissing();
    }
  }
  const child = spawn(bin('tap'), ['run', '--reporter=tap', ...files], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env,
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
})();
