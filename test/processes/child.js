#!/usr/bin/env node
// A deja process for the multi-process tests and the crash script (host side, plain JS on the
// built dist/, so that it starts fast). One role per run, given as arguments; it prints one JSON
// line per thing the parent waits for. The parent kills it with SIGKILL whenever it likes.
//
// <file> is a SQLite file's path, or a backend string (postgres://…).
//
//   worker <file> <queue> <log>          runs a Worker on sqlite:<file>; each activity appends
//                                        "begin|end <key> <attempt> <pid>" lines to <log>
//   start-and-signal <file> <queue> <id> process A of the reference page: starts collect(2) and signals it
//   signal-and-wait <file> <id>          process B: a handle from the id alone, a signal, the result
//   hold-lock <file>                     holds the file's write lock (BEGIN EXCLUSIVE, a write) until killed
'use strict';
const fs = require('node:fs');
const path = require('node:path');

// DEJA_CLOCK_SKEW_MS moves this process's clock (Date.now) by that much: a machine whose clock is off.
if (process.env.DEJA_CLOCK_SKEW_MS) {
  const skew = Number(process.env.DEJA_CLOCK_SKEW_MS);
  const real = Date.now;
  Date.now = () => real() + skew;
}

const [role, file, ...rest] = process.argv.slice(2);
const say = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
const workflowsPath = path.join(__dirname, 'workflows.ts');

async function main() {
  if (role === 'hold-lock') {
    const Database = require('better-sqlite3');
    const db = new Database(file);
    db.exec('BEGIN EXCLUSIVE');
    // A write that never commits: it sits in the WAL (or the cache) until the process dies.
    db.prepare("INSERT INTO runs (run_id, workflow_id, workflow_type, task_queue, status, start_time, record) VALUES ('uncommitted', 'uncommitted', 't', 'q', 'running', 0, '{}')").run();
    say({ locked: true });
    setInterval(() => undefined, 1 << 30);
    return;
  }
  const { Connection, Worker, WorkflowClient } = require('deja');
  const connection = new Connection({ backend: /^[a-z]+:/.test(file) ? file : `sqlite:${file}` });
  if (role === 'worker') {
    const [queue, log] = rest;
    const { Context } = require('deja/activity');
    const activities = {
      async step(key) {
        const { attempt } = Context.current().info;
        fs.appendFileSync(log, `begin ${key} ${attempt} ${process.pid}\n`);
        await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 100)));
        fs.appendFileSync(log, `end ${key} ${attempt} ${process.pid}\n`);
        return key;
      },
    };
    const worker = await Worker.create({ connection, taskQueue: queue, workflowsPath, activities, logger: () => undefined });
    process.on('SIGTERM', () => worker.shutdown());
    const running = worker.run();
    say({ ready: process.pid });
    await running;
    await connection.close();
    return;
  }
  const client = new WorkflowClient(connection.service);
  if (role === 'start-and-signal') {
    const [queue, workflowId] = rest;
    const handle = client.createWorkflowHandle('collect', { taskQueue: queue, workflowId });
    const runId = await handle.start(2);
    await handle.signal('add', 'from A');
    say({ started: workflowId, runId });
  } else if (role === 'signal-and-wait') {
    const [workflowId] = rest;
    const handle = client.createWorkflowHandle({ workflowId });
    await handle.signal('add', 'from B');
    say({ result: await handle.result() });
  } else {
    throw new Error(`child.js: unknown role ${role}`);
  }
  await connection.close();
}

main().catch((error) => {
  say({ error: String(error && error.stack ? error.stack : error), code: error && error.code });
  process.exit(1);
});
