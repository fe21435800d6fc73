#!/usr/bin/env node
// A private PostgreSQL server for the tests and the benchmark (host side, plain JS so that
// scripts/test.js can use it before anything is built). It finds PostgreSQL's binaries (installing
// Debian's `postgresql` package with apt-get when they are missing and this process may), creates a
// cluster in a new temporary folder, starts it on 127.0.0.1 at a free port (as the `postgres` user
// when run as root: initdb refuses root), and stops it and removes the folder afterwards.
//
//   node scripts/postgres.js run -- <command…>   starts a server, runs the command with
//                                                DEJA_TEST_POSTGRES_URL (and _CTL) set, stops it
//   require('./scripts/postgres').startServer()   the same from code: { url, ctl, stop(), restart() }
//
// DEJA_TEST_POSTGRES_URL names the server (its `postgres` database, user `postgres`, trust auth);
// DEJA_TEST_POSTGRES_CTL is JSON that lets a test stop and start the same server (restart tests).
// The server is tuned for tests only: fsync off, since nothing there must survive an OS crash.
'use strict';
const { spawnSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const say = (line) => process.stderr.write(`postgres: ${line}\n`);

/** The folder holding initdb and pg_ctl, or undefined. */
function findBin() {
  const candidates = [];
  if (process.env.DEJA_POSTGRES_BIN) candidates.push(process.env.DEJA_POSTGRES_BIN);
  const root = '/usr/lib/postgresql';
  if (fs.existsSync(root)) {
    for (const v of fs.readdirSync(root).sort((a, b) => Number(b) - Number(a))) candidates.push(path.join(root, v, 'bin'));
  }
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (pgConfig.status === 0) candidates.push(pgConfig.stdout.trim());
  for (const dir of (process.env.PATH || '').split(path.delimiter)) candidates.push(dir);
  return candidates.find((dir) => dir && fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'pg_ctl')));
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Installs Debian's postgresql package when the binaries are missing; returns the bin folder or undefined. */
function ensureInstalled() {
  let bin = findBin();
  if (bin) return bin;
  const sudo = isRoot() ? [] : spawnSync('sudo', ['-n', 'true']).status === 0 ? ['sudo', '-n'] : undefined;
  if (!sudo || spawnSync('sh', ['-c', 'command -v apt-get']).status !== 0) return undefined;
  say('PostgreSQL is not installed; installing Debian\'s "postgresql" package (apt-get install -y postgresql)');
  const run = (args) => {
    const [cmd, ...rest] = [...sudo, ...args];
    return spawnSync(cmd, rest, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
  };
  if (!run(['apt-get', 'install', '-y', 'postgresql'])) {
    run(['apt-get', 'update']);
    if (!run(['apt-get', 'install', '-y', 'postgresql'])) return undefined;
  }
  bin = findBin();
  return bin;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Runs a PostgreSQL binary, as `postgres` when this process is root. */
function pgRun(ctl, tool, args, options = {}) {
  const exe = path.join(ctl.bin, tool);
  const [cmd, argv] = ctl.asUser ? ['runuser', ['-u', ctl.asUser, '--', exe, ...args]] : [exe, args];
  const result = spawnSync(cmd, argv, { encoding: 'utf8', cwd: os.tmpdir(), ...options });
  if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (exit ${result.status}): ${result.stderr || result.stdout || result.error}`);
  return result;
}

function startCluster(ctl) {
  pgRun(ctl, 'pg_ctl', ['-D', ctl.data, '-l', path.join(ctl.data, 'server.log'), '-w', '-t', '60', 'start']);
}

function stopCluster(ctl, mode = 'fast') {
  try {
    pgRun(ctl, 'pg_ctl', ['-D', ctl.data, '-m', mode, '-w', '-t', '60', 'stop']);
  } catch (err) {
    if (!/is the server running|No such file|does not exist/i.test(String(err.message))) throw err;
  }
}

/**
 * Starts a private server (`durable`: with PostgreSQL's default fsync settings, for the benchmark). Resolves to { url, ctl, stop, restart } or, when PostgreSQL is missing
 * and cannot be installed, to undefined (after a loud message).
 */
async function startServer({ durable = false } = {}) {
  const bin = ensureInstalled();
  if (!bin) {
    say('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
    say('PostgreSQL is not installed and this process cannot install it (no root, no sudo');
    say('or no apt-get). The PostgreSQL tests are SKIPPED. Install it with');
    say('`apt-get install -y postgresql` (or set DEJA_POSTGRES_BIN to its bin folder).');
    say('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
    return undefined;
  }
  const asUser = isRoot() ? 'postgres' : undefined;
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-pg-'));
  fs.chmodSync(base, 0o755);
  const data = path.join(base, 'data');
  fs.mkdirSync(data, { mode: 0o700 });
  if (asUser) spawnSync('chown', ['-R', `${asUser}:${asUser}`, base]);
  const port = await freePort();
  const ctl = { bin, data, base, port, asUser };
  pgRun(ctl, 'initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const conf = [
    "listen_addresses = '127.0.0.1'",
    `port = ${port}`,
    `unix_socket_directories = '${base}'`,
    'max_connections = 300',
    // Tests: nothing must survive an OS crash. The benchmark (durable) keeps PostgreSQL's defaults.
    ...(durable ? [] : ['fsync = off', 'full_page_writes = off']),
    'shared_buffers = 64MB',
    "log_min_messages = 'fatal'",
  ];
  fs.appendFileSync(path.join(data, 'postgresql.conf'), `\n# deja's test server\n${conf.join('\n')}\n`);
  startCluster(ctl);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', stop);
    stopCluster(ctl);
    fs.rmSync(base, { recursive: true, force: true });
  };
  // However this process ends (a crash, an uncaught error), the server does not outlive it.
  process.on('exit', stop);
  return {
    url,
    ctl,
    restart() {
      stopCluster(ctl, 'immediate');
      startCluster(ctl);
    },
    stop,
  };
}

/** For a test given DEJA_TEST_POSTGRES_CTL: stop (immediately, as a crash would) and start the shared server. */
function restartFromEnv(env = process.env) {
  const ctl = JSON.parse(env.DEJA_TEST_POSTGRES_CTL);
  stopCluster(ctl, 'immediate');
  startCluster(ctl);
}

/** Stops a server started by `run` (or startServer) from its ctl, for cleanup from another process. */
function stopFromCtl(ctl) {
  stopCluster(ctl);
  fs.rmSync(ctl.base, { recursive: true, force: true });
}

module.exports = { startServer, restartFromEnv, stopFromCtl, findBin, ensureInstalled };

if (require.main === module) {
  const [command, ...rest] = process.argv.slice(2);
  if (command !== 'run') {
    process.stderr.write('usage: node scripts/postgres.js run -- <command> [args…]\n');
    process.exit(2);
  }
  const argv = rest[0] === '--' ? rest.slice(1) : rest;
  void (async () => {
    const server = await startServer();
    const env = server ? { ...process.env, DEJA_TEST_POSTGRES_URL: server.url, DEJA_TEST_POSTGRES_CTL: JSON.stringify(server.ctl) } : process.env;
    if (server) say(`server at ${server.url}`);
    const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit', env });
    const stop = () => server?.stop();
    for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
    child.on('close', (code, signal) => {
      stop();
      process.exit(code ?? (signal ? 1 : 0));
    });
  })();
}
