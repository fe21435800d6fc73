#!/usr/bin/env node
// The `deja` command. isolated-vm needs Node's --no-node-snapshot: re-exec with it when missing.
// Errors are one line on stderr; DEJA_DEBUG=1 (or --debug) adds the stack.
'use strict';
const debug = process.env.DEJA_DEBUG === '1' || process.argv.slice(2).includes('--debug');

function fail(what, error, code) {
  console.error(`deja: ${what}: ${error && error.message ? error.message.split('\n')[0] : String(error)}`);
  if (debug && error && error.stack) console.error(error.stack);
  process.exit(code);
}

if (!process.execArgv.includes('--no-node-snapshot') && !/(^|\s)--no-node-snapshot(\s|$)/.test(process.env.NODE_OPTIONS || '')) {
  const { spawnSync } = require('node:child_process');
  const r = spawnSync(process.execPath, ['--no-node-snapshot', ...process.execArgv, __filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.error) fail('cannot start node with --no-node-snapshot', r.error, 1);
  // Killed by a signal: die of the same one, so the caller sees what happened.
  if (r.status === null) process.kill(process.pid, r.signal || 'SIGTERM');
  process.exit(r.status === null ? 1 : r.status);
}

// `deja … | head` closes the pipe early: the rest of the output is dropped, and the command still
// finishes and exits with its own status (which `set -o pipefail` reports).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE') fail('cannot write output', error, 1);
  });
}

let cli;
try {
  cli = require('../dist/lib/cli/main.js');
} catch (error) {
  fail('cannot load the compiled CLI (dist/lib/cli/main.js); build deja with "npm run build"', error, 1);
}
cli.main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => fail('unexpected error; this is a bug in deja, please report it', error, 1),
);
