#!/usr/bin/env node
// A headless Chromium for the browser tests of `deja ui` (host side, plain JS so that the tests and
// scripts/test.js can use it before anything is built). It finds Debian's chromium (or the one
// DEJA_CHROMIUM names), installing Debian's `chromium` package with apt-get when it is missing and
// this process may (root, or sudo without a password). It never lets a package download a browser
// build of its own: playwright-core only drives the binary found here.
//
//   node scripts/browser.js            prints the path of chromium (installing it first when needed)
//   require('./scripts/browser').findChromium()     the path, or undefined
//   require('./scripts/browser').ensureChromium()   the path after an install when needed, or undefined
//   require('./scripts/browser').launchArgs()       the flags the tests launch it with
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const say = (line) => process.stderr.write(`browser: ${line}\n`);

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** The path of an executable Chromium, or undefined. */
function findChromium() {
  const named = process.env.DEJA_CHROMIUM;
  if (named) {
    if (isExecutable(named)) return named;
    say(`DEJA_CHROMIUM=${named} is not an executable file; looking for Debian's chromium instead`);
  }
  return CANDIDATES.find(isExecutable);
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Installs Debian's chromium package when no Chromium is found; returns its path or undefined. */
function ensureChromium() {
  let found = findChromium();
  if (found) return found;
  const sudo = isRoot() ? [] : spawnSync('sudo', ['-n', 'true']).status === 0 ? ['sudo', '-n'] : undefined;
  if (!sudo || spawnSync('sh', ['-c', 'command -v apt-get']).status !== 0) return undefined;
  say('Chromium is not installed; installing Debian\'s "chromium" package (apt-get install -y chromium)');
  const run = (args) => {
    const [cmd, ...rest] = [...sudo, ...args];
    // stdout to stderr: a caller may read this script's stdout for the path alone.
    return spawnSync(cmd, rest, { stdio: ['ignore', process.stderr, 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  };
  const install = ['apt-get', 'install', '-y', '--no-install-recommends', 'chromium'];
  if (!run(install)) {
    run(['apt-get', 'update']);
    if (!run(install)) return undefined;
  }
  found = findChromium();
  return found;
}

/** The loud message when the browser tests cannot run. */
function sayMissing() {
  say('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
  say('Chromium is not installed and this process cannot install it (no root, no sudo,');
  say('no apt-get, or apt-get failed). The browser tests of `deja ui` are SKIPPED.');
  say('Install it with `apt-get install -y chromium` (or set DEJA_CHROMIUM to its path).');
  say('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
}

/**
 * Chromium's flags for a headless run on a machine without network: without the last ones it
 * keeps trying to reach Google's services and floods the log with refused connections.
 * Playwright's launch() gives every browser a new, empty --user-data-dir of its own (and refuses
 * one in these flags); a caller that starts chromium itself passes `userDataDir` for one.
 */
function launchArgs(userDataDir) {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    ...(userDataDir ? [`--user-data-dir=${userDataDir}`] : []),
  ];
}

module.exports = { findChromium, ensureChromium, launchArgs, sayMissing };

if (require.main === module) {
  const found = ensureChromium();
  if (!found) {
    sayMissing();
    process.exit(1);
  }
  process.stdout.write(`${path.resolve(found)}\n`);
}
