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
  // Asynchronously, so this process can pass SIGINT, SIGTERM and SIGHUP on: a supervisor that
  // signals only this pid (docker, systemd with KillMode=process) still stops `deja worker`
  // gracefully. A Ctrl-C reaches both processes; the child treats a second stop signal as the same one.
  const { spawn } = require('node:child_process');
  const child = spawn(process.execPath, ['--no-node-snapshot', ...process.execArgv, __filename, ...process.argv.slice(2)], { stdio: 'inherit' });
  const forward = (signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward);
  child.on('error', (error) => fail('cannot start node with --no-node-snapshot', error, 1));
  child.on('exit', (code, signal) => {
    // Killed by a signal: die of the same one, so the caller sees what happened.
    if (code === null) {
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.removeAllListeners(s);
      process.kill(process.pid, signal || 'SIGTERM');
      return;
    }
    process.exit(code);
  });
  return;
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
