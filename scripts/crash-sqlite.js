#!/usr/bin/env node
// The long crash run (issue 10): workers on one SQLite file SIGKILLed at random points, 200 times
// by default, then a fresh worker; every promise checked (test/processes/crash.ts). It runs the
// crash test of test/sqlite-store.test.ts with more kills and prints the counts.
//
//   node scripts/crash-sqlite.js [kills] [seed]     (needs the built dist/: npm run build)
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const kills = Number(process.argv[2] ?? 200);
const seed = process.argv[3] ?? String(Date.now() % 2 ** 31);
const tap = path.join(root, 'node_modules', '.bin', 'tap');
// The test appends a line per kill to this file: a bar on a terminal, a plain line per tenth otherwise.
const progressFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'deja-crash-')), 'kills');
fs.writeFileSync(progressFile, '');
const { createProgress } = require(path.join(root, 'dist', 'lib', 'cli', 'progress.js'));
const progress = createProgress(process.stderr, kills, 'crash run', 'kills');
let seen = 0;
const follow = () => {
  const done = fs.readFileSync(progressFile, 'utf8').split('\n').filter(Boolean).length;
  for (; seen < done; seen++) {
    progress.step();
    const n = seen + 1;
    if (!progress.bar && (n === kills || Math.floor((n * 10) / kills) !== Math.floor(((n - 1) * 10) / kills))) process.stdout.write(`crash run: ${n}/${kills} kills\n`);
  }
};
const ticker = setInterval(follow, 250);
const child = spawn(tap, ['run', '--disable-coverage', '--reporter=tap', '-t0', '--grep=crash safety', 'test/sqlite-store.test.ts'], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, DEJA_CRASH_KILLS: String(kills), DEJA_CRASH_SEED: seed, DEJA_CRASH_PROGRESS: progressFile },
});
let out = '';
child.stdout.on('data', (chunk) => (out += chunk));
child.on('close', (code) => {
  clearInterval(ticker);
  follow();
  progress.done();
  fs.rmSync(path.dirname(progressFile), { recursive: true, force: true });
  const result = /# (\{"workflows".*\})/.exec(out);
  const failures = out.split('\n').filter((line) => /^\s*not ok/.test(line));
  process.stdout.write(`crash run: seed ${seed}, ${kills} kills requested\n`);
  if (result) {
    const r = JSON.parse(result[1]);
    process.stdout.write(
      `kills: ${r.kills}\nworkflows: ${r.workflows} started, ${r.completed} completed once (${r.openAfterKills} still open at the last kill)\n` +
        `timers fired: ${r.timersFired} (one per timer)\nactivity executions: ${r.activityExecutions} (${r.reExecutions} re-executions after a kill)\n` +
        `time: ${(r.elapsedMs / 1000).toFixed(1)} s\n`,
    );
  }
  if (failures.length > 0 || code !== 0 || !result) {
    process.stdout.write(`FAILED (exit ${code}):\n${failures.join('\n')}\n${out.slice(-3000)}\n`);
    process.exit(1);
  }
  process.stdout.write('every check passed: nothing lost, nothing done twice, every history valid\n');
});
