// deja ui over HTTP: the JSON API on recorded workflows (list, filter, paging, a run's summary and
// timeline), a history file with its replay verdict, the actions, and what it refuses: a wrong or
// missing token, a non-loopback bind without one, a foreign Host header, a cross-site POST.
import t from 'tap';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { recordForUi, HTML_PAYLOAD, type UiRecordings } from './support/ui';
import { startUiServer, type UiServer } from '../lib/ui/server';
import { replayVerdict } from '../lib/ui/replay';
import { failureView, summarize, timeline } from '../lib/ui/model';
import { HistoryBuilder } from './support/history';
import type { WireFailure } from '../runtime/protocol';
import { main } from '../lib/cli/main';
import { readHistoryFile } from '../lib/history';

const changedPath = path.join(__dirname, 'workflows', 'changed.ts');
const workflowsPath = path.join(__dirname, 'workflows', 'index.ts');

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

/** One request with full control of the headers (fetch would not let us set Host). */
function request(server: { port: number }, method: string, pathname: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path: pathname, headers: { Host: `127.0.0.1:${server.port}`, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const action = (server: UiServer, body: unknown, headers: Record<string, string> = {}) =>
  request(server, 'POST', '/api/action', { 'Content-Type': 'application/json', 'X-Deja-Request': '1', ...headers }, JSON.stringify(body));

let rec: UiRecordings;
let server: UiServer;

t.before(async () => {
  rec = await recordForUi();
  server = await startUiServer({ service: rec.env.connection.service });
});
t.teardown(async () => {
  await server?.close();
  await rec?.close();
});

t.test('the page and its files are served with a strict content security policy', async (t) => {
  const page = await request(server, 'GET', '/');
  t.equal(page.status, 200);
  t.match(page.headers['content-type'], /text\/html/);
  t.match(page.text, /<script src="app.js" defer><\/script>/);
  t.match(page.headers['content-security-policy'], /script-src 'self'/);
  t.notMatch(page.headers['content-security-policy'], /unsafe-inline/);
  t.equal(page.headers['x-content-type-options'], 'nosniff');
  const js = await request(server, 'GET', '/app.js');
  t.equal(js.status, 200);
  t.match(js.headers['content-type'], /javascript/);
  t.notMatch(js.text, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/, 'the page never parses data as markup');
  t.equal((await request(server, 'GET', '/../package.json')).status, 404);
  t.equal((await request(server, 'GET', '/app.js/..%2f..%2fserver.ts')).status, 404);
});

t.test('the list shows the recorded runs, filters with the list-filter language, and pages', async (t) => {
  const all = await request(server, 'GET', '/api/workflows?pageSize=100');
  t.equal(all.status, 200);
  const ids = all.json.executions.map((e: { workflowId: string }) => e.workflowId);
  for (const h of [rec.order, rec.retry, rec.failing, rec.cart, rec.scripted]) t.ok(ids.includes(h.workflowId), `lists ${h.workflowId}`);
  t.ok(ids.includes(rec.running.workflowId));
  const failing = all.json.executions.find((e: { workflowId: string }) => e.workflowId === rec.failing.workflowId);
  t.equal(failing.status, 'failed');
  t.equal(failing.workflowType, 'failingWorkflow');
  t.ok(failing.closeTime);

  const filtered = await request(server, 'GET', `/api/workflows?query=${encodeURIComponent("WorkflowType = 'orderWorkflow'")}`);
  t.equal(filtered.status, 200);
  t.same(filtered.json.executions.map((e: { workflowId: string }) => e.workflowId), [rec.order.workflowId]);
  const running = await request(server, 'GET', `/api/workflows?query=${encodeURIComponent("ExecutionStatus = 'Running' AND WorkflowType = 'approvalWorkflow'")}`);
  t.same(running.json.executions.map((e: { workflowId: string }) => e.workflowId), [rec.running.workflowId]);

  const bad = await request(server, 'GET', `/api/workflows?query=${encodeURIComponent("WorkflowType = ")}`);
  t.equal(bad.status, 400, 'a filter that does not parse is a bad request');
  t.match(bad.json.error, /query/i);

  const first = await request(server, 'GET', '/api/workflows?pageSize=2');
  t.equal(first.json.executions.length, 2);
  t.type(first.json.nextPageToken, 'string');
  const second = await request(server, 'GET', `/api/workflows?pageSize=2&pageToken=${encodeURIComponent(first.json.nextPageToken)}`);
  t.equal(second.json.executions.length, 2);
  const firstIds = first.json.executions.map((e: { runId: string }) => e.runId);
  t.notOk(second.json.executions.some((e: { runId: string }) => firstIds.includes(e.runId)), 'the second page has other runs');
  t.equal((await request(server, 'GET', '/api/workflows?pageSize=0')).status, 400);
  t.equal((await request(server, 'GET', '/api/workflows?pageSize=abc')).status, 400);
});

t.test("a run's summary and timeline: one lane per activity, timer and child", async (t) => {
  const res = await request(server, 'GET', `/api/run?workflowId=${encodeURIComponent(rec.scripted.workflowId)}`);
  t.equal(res.status, 200);
  const { summary, timeline: tl, events } = res.json;
  t.equal(summary.status, 'completed');
  t.equal(events.length, rec.scripted.events.length);
  const kinds = tl.lanes.map((l: { kind: string }) => l.kind);
  t.same(kinds, ['activity', 'timer', 'child', 'activity', 'timer'], 'lanes in the order they were scheduled');
  for (const lane of tl.lanes) {
    t.ok(lane.bar.end >= lane.bar.start, `${lane.id} closes after it starts`);
    t.not(lane.bar.outcome, 'open');
  }
  t.equal(summary.children.length, 1);
  t.equal(summary.children[0].status, 'completed');
  t.same(summary.searchAttributes.CustomKeywordField, { type: 'KEYWORD', value: 'blue' }, 'search attributes as the service has them');
  t.equal(summary.memo.last, 'blue', 'and the memo');
  const child = await request(server, 'GET', `/api/run?workflowId=${encodeURIComponent(summary.children[0].workflowId)}`);
  t.same(child.json.summary.parent, { workflowId: rec.scripted.workflowId, runId: rec.scripted.runId }, 'the child names its parent');
  t.ok(tl.ticks.length >= 5, 'workflow tasks are ticks');
  t.ok(tl.ticks.every((k: { outcome: string }) => k.outcome === 'completed'));

  const order = await request(server, 'GET', `/api/run?workflowId=${encodeURIComponent(rec.order.workflowId)}&runId=${encodeURIComponent(rec.order.runId)}`);
  t.same(order.json.timeline.lanes.map((l: { label: string }) => l.label.split(' ')[0]), ['greet', 'charge', 'greet']);
  t.same(order.json.summary.input, ['Ann', 42]);
  t.match(order.json.summary.result, /charged Ann 42.00/);

  t.equal((await request(server, 'GET', '/api/run?workflowId=nobody')).status, 404);
  t.equal((await request(server, 'GET', '/api/run')).status, 400);
});

t.test('a retried activity shows its attempts; a failed run shows its cause chain', async (t) => {
  const retry = timeline(rec.retry.events);
  t.equal(retry.lanes.length, 1);
  t.equal(retry.lanes[0]!.bar.attempt, 3, 'the attempt that closed it');
  t.same(retry.lanes[0]!.bar.segments.map((s) => s.kind), ['retrying', 'running'], 'the earlier attempts as one retried stretch, then the last');

  const res = await request(server, 'GET', `/api/run?workflowId=${encodeURIComponent(rec.failing.workflowId)}`);
  const { summary } = res.json;
  t.equal(summary.status, 'failed');
  t.equal(summary.failure.type, 'PaymentError');
  t.match(summary.failure.message, /payment failed/);
  const messages = summary.failure.chain.map((f: { message: string }) => f.message);
  t.ok(messages.length >= 2, 'the cause chain');
  t.ok(messages.some((m: string) => /card declined/.test(m)), 'down to the activity failure');
  t.equal(res.json.timeline.lanes[0].bar.outcome, 'failed');
});

t.test('a payload with HTML comes back as JSON data, never as markup', async (t) => {
  const res = await request(server, 'GET', `/api/run?workflowId=${encodeURIComponent(rec.cart.workflowId)}`);
  t.match(res.headers['content-type'], /^application\/json/);
  t.equal(res.headers['x-content-type-options'], 'nosniff');
  t.same(res.json.summary.result, [HTML_PAYLOAD]);
  const signaled = res.json.events.find((e: { type: string; signalName?: string }) => e.type === 'workflowExecutionSignaled' && e.signalName === 'addItem');
  t.same(signaled.input, [HTML_PAYLOAD]);
  t.same(res.json.timeline.marks.map((m: { kind: string }) => m.kind), ['signal', 'signal']);
  // An id with markup in an error message stays inside JSON too.
  const missing = await request(server, 'GET', `/api/run?workflowId=${encodeURIComponent('<script>x</script>')}`);
  t.equal(missing.status, 404);
  t.match(missing.headers['content-type'], /^application\/json/);
});

t.test('updates are marks, as signals are', async (t) => {
  const res = await request(server, 'GET', `/api/run?workflowId=${encodeURIComponent(rec.updated.workflowId)}`);
  const marks = res.json.timeline.marks.map((m: { kind: string; label: string }) => `${m.kind}: ${m.label}`);
  t.ok(marks.includes('update: update increment accepted'), marks.join(', '));
  t.ok(marks.some((m: string) => /^update: update .* completed$/.test(m)), 'and completed');
  t.ok(marks.includes('signal: signal finish'));
  t.equal(res.json.timeline.lanes.length, 0, 'no lanes: no activity, timer or child');
});

t.test('the pending activities and timers of a running run', async (t) => {
  const res = await request(server, 'GET', `/api/run?workflowId=${encodeURIComponent(rec.running.workflowId)}`);
  const { summary } = res.json;
  t.equal(summary.status, 'running');
  t.equal(summary.pendingTimers.length, 1, 'the condition timeout is a timer');
  t.equal(summary.pendingActivities.length, 0);
  t.equal(res.json.timeline.lanes[0].bar.outcome, 'open');
  // The model alone: an activity scheduled and not closed is pending.
  const events = rec.order.events.slice(0, rec.order.events.findIndex((e) => e.type === 'activityTaskScheduled') + 1);
  t.equal(summarize('w', 'r', events).pendingActivities.length, 1);
});

t.test('actions: a JSON POST with the custom header, refused from another site', async (t) => {
  const { workflowId, runId } = rec.running;
  const plain = await request(server, 'POST', '/api/action', { 'Content-Type': 'text/plain', 'X-Deja-Request': '1' }, JSON.stringify({ action: 'cancel', workflowId }));
  t.equal(plain.status, 415, 'a body a form could send is refused');
  const noHeader = await request(server, 'POST', '/api/action', { 'Content-Type': 'application/json' }, JSON.stringify({ action: 'cancel', workflowId }));
  t.equal(noHeader.status, 403, 'without X-Deja-Request');
  const foreign = await action(server, { action: 'cancel', workflowId }, { Origin: 'http://evil.example' });
  t.equal(foreign.status, 403, 'from another origin');
  t.equal((await action(server, { action: 'explode', workflowId })).status, 400);
  t.equal((await action(server, { action: 'signal', workflowId, signalName: 'approve', args: 'no' })).status, 400);
  t.equal((await request(server, 'POST', '/api/action', { 'Content-Type': 'application/json', 'X-Deja-Request': '1' }, '{nope')).status, 400);
  const described = await request(server, 'GET', `/api/run?workflowId=${workflowId}`);
  t.equal(described.json.summary.status, 'running', 'nothing refused reached the run');

  const signal = await action(server, { action: 'signal', workflowId, runId, signalName: 'approve', args: [HTML_PAYLOAD] });
  t.equal(signal.status, 200);
  const history = await rec.env.client.getHandle(workflowId, runId).fetchHistory();
  const signaled = history.events.find((e) => e.type === 'workflowExecutionSignaled');
  t.same(signaled && 'input' in signaled ? signaled.input : undefined, [HTML_PAYLOAD]);
  t.equal(await rec.env.client.getHandle(workflowId, runId).result(), 'approved');
  const again = await action(server, { action: 'terminate', workflowId, runId, reason: 'late' });
  t.equal(again.status, 404, 'a closed run cannot be terminated');
});

t.test('actions: cancel and terminate reach the run', async (t) => {
  const { client, taskQueue } = rec.env;
  const cancelled = await client.start('cancellationWorkflow', { taskQueue, workflowId: 'ui-cancel-me', args: [] });
  const terminated = await client.start('approvalWorkflow', { taskQueue, workflowId: 'ui-terminate-me', args: [3_600_000] });
  t.equal((await action(server, { action: 'cancel', workflowId: cancelled.workflowId, reason: 'from the page' })).status, 200);
  await t.rejects(cancelled.result(), { name: 'WorkflowFailedError' }, 'the cancellation ends it');
  t.equal((await cancelled.describe()).status.name, 'CANCELLED');
  const history = await cancelled.fetchHistory();
  const requested = history.events.find((e) => e.type === 'workflowExecutionCancelRequested');
  t.equal(requested && 'cause' in requested ? requested.cause : undefined, 'from the page', 'with its reason');
  t.equal((await action(server, { action: 'terminate', workflowId: terminated.workflowId, runId: terminated.runId, reason: 'enough' })).status, 200);
  t.equal((await terminated.describe()).status.name, 'TERMINATED');
  const view = await request(server, 'GET', `/api/run?workflowId=${terminated.workflowId}`);
  t.equal(view.json.summary.status, 'terminated');
  t.equal(view.json.summary.reason, 'enough');
});

t.test('a token: a wrong or missing one is refused, the right one admitted', async (t) => {
  const token = 'correct-horse-battery';
  const guarded = await startUiServer({ service: rec.env.connection.service, token });
  t.teardown(() => guarded.close());
  t.match(guarded.url, /\?token=correct-horse-battery$/);
  t.equal((await request(guarded, 'GET', '/api/info')).status, 401, 'no token');
  t.equal((await request(guarded, 'GET', '/api/workflows', { 'X-Deja-Token': 'wrong-token-value' })).status, 401, 'a wrong token');
  t.equal((await request(guarded, 'GET', '/api/workflows', { 'X-Deja-Token': `${token}x` })).status, 401, 'a longer one');
  t.equal((await request(guarded, 'GET', '/api/workflows', { 'X-Deja-Token': token })).status, 200, 'the right one');
  const post = await action(guarded, { action: 'terminate', workflowId: rec.order.workflowId }, { 'X-Deja-Token': 'wrong-token-value' });
  t.equal(post.status, 401, 'an action with a wrong token');
  t.equal((await request(guarded, 'GET', '/')).status, 200, 'the page itself holds no data and loads, to ask for the token');
});

t.test('a non-loopback bind without a token is refused', async (t) => {
  await t.rejects(startUiServer({ service: rec.env.connection.service, host: '0.0.0.0' }), { name: 'InvalidArgumentError', message: /without a token/ });
  await t.rejects(startUiServer({ service: rec.env.connection.service, host: '0.0.0.0', token: 'short' }), { message: /too short/ });
  const open = await startUiServer({ service: rec.env.connection.service, host: '0.0.0.0', token: 'a-long-enough-token' });
  t.teardown(() => open.close());
  t.equal((await request(open, 'GET', '/api/info')).status, 401, 'reachable, but not without the token');
  t.equal((await request(open, 'GET', '/api/info', { 'X-Deja-Token': 'a-long-enough-token' })).status, 200);
});

t.test('a Host header other than the bound address is refused (DNS rebinding)', async (t) => {
  const evil = await request(server, 'GET', '/api/workflows', { Host: `evil.example:${server.port}` });
  t.equal(evil.status, 421);
  t.equal((await request(server, 'GET', '/', { Host: `attacker.test:${server.port}` })).status, 421, 'the page too');
  t.equal((await request(server, 'GET', '/api/info', { Host: `localhost:${server.port}` })).status, 200, 'localhost is this machine');
  t.equal((await request(server, 'GET', '/api/info', { Host: `127.0.0.1:${server.port + 1}` })).status, 421, 'another port is another origin');
});

t.test('a history file with no backend, and its replay verdict', async (t) => {
  const verdict = await replayVerdict(rec.order, changedPath);
  t.equal(verdict.ok, false);
  if (verdict.ok) return;
  t.equal(verdict.error.name, 'DeterminismViolationError');
  const firstActivity = rec.order.events.find((e) => e.type === 'activityTaskScheduled')!;
  t.equal(verdict.eventId, firstActivity.eventId, 'the first activity, where the code charges before it greets');
  t.match(JSON.stringify(verdict.recorded), /greet/);
  t.match(JSON.stringify(verdict.emitted), /charge/);
  t.same(await replayVerdict(rec.order, workflowsPath), { ok: true, workflowsPath });

  const fileServer = await startUiServer({ history: readHistoryFile(rec.orderFile), historyLabel: 'order.json', verdict });
  t.teardown(() => fileServer.close());
  const info = await request(fileServer, 'GET', '/api/info');
  t.same(info.json, { mode: 'file', file: 'order.json', actions: false });
  const file = await request(fileServer, 'GET', '/api/file');
  t.equal(file.json.summary.workflowId, rec.order.workflowId);
  t.equal(file.json.verdict.eventId, firstActivity.eventId);
  t.equal(file.json.timeline.lanes.length, 3);
  t.equal((await request(fileServer, 'GET', '/api/workflows')).status, 404, 'no backend behind a file');
  t.equal((await action(fileServer, { action: 'cancel', workflowId: 'x' })).status, 404, 'no actions on a file');
});

const temporalDir = path.join(__dirname, '..', '..', 'shared', 'temporal-histories');
const temporalSkip = fs.existsSync(temporalDir) ? false : `no recorded Temporal histories at ${temporalDir} (the shared folder is absent)`;

t.test('a Temporal history file opens the same way', { skip: temporalSkip }, async (t) => {
  const dir = temporalDir;
  const file = path.join(dir, 'lang_flags_replay_correctly_1_11_2.json');
  const fileServer = await startUiServer({ history: readHistoryFile(file), historyLabel: path.basename(file) });
  t.teardown(() => fileServer.close());
  const res = await request(fileServer, 'GET', '/api/file');
  t.equal(res.status, 200);
  t.ok(res.json.events.length > 3);
  t.equal(res.json.events[0].type, 'workflowExecutionStarted');
  t.ok(res.json.timeline.lanes.length + res.json.timeline.ticks.length > 0, 'something to draw');
});

/** Runs `deja ui …` in this process until `stop`; resolves the printed URL. */
async function runUi(args: string[]) {
  const lines: string[] = [];
  const errors: string[] = [];
  const stop = new AbortController();
  let printed: (url: string) => void;
  const url = new Promise<string>((resolve) => (printed = resolve));
  const exit = main(['ui', ...args], {
    log: (l) => {
      lines.push(l);
      const m = /listening on (\S+)/.exec(l);
      if (m) printed(m[1]!);
    },
    error: (l) => errors.push(l),
  }, { stop: stop.signal });
  const first = await Promise.race([url, exit.then((code) => `exit ${code}`)]);
  return { first, lines, errors, exit, stop: () => stop.abort() };
}

t.test('deja ui: prints its address, makes a token for a non-loopback host, replays a file', async (t) => {
  const db = path.join(rec.dir, 'ui.db');
  const open = await runUi(['--backend', `sqlite:${db}`, '--host', '0.0.0.0', '--port', '0']);
  t.match(open.first, /^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
  const tokenLine = open.lines.find((l) => l.startsWith('token: '));
  t.ok(tokenLine, 'the token is printed');
  const token = tokenLine!.split(' ')[1]!;
  const port = Number(new URL(open.first).port);
  t.equal((await request({ port }, 'GET', '/api/workflows')).status, 401);
  const listed = await request({ port }, 'GET', '/api/workflows', { 'X-Deja-Token': token });
  t.equal(listed.status, 200);
  t.same(listed.json.executions, [], 'an empty SQLite backend');
  open.stop();
  t.equal(await open.exit, 0);

  const file = await runUi([rec.orderFile, '--workflows', changedPath]);
  t.match(file.first, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'loopback: no token');
  const firstActivity = rec.order.events.find((e) => e.type === 'activityTaskScheduled')!;
  t.ok(file.lines.some((l) => l.includes(`diverges at event ${firstActivity.eventId}`)), file.lines.join('\n'));
  const res = await request({ port: Number(new URL(file.first).port) }, 'GET', '/api/file');
  t.equal(res.json.verdict.eventId, firstActivity.eventId);
  file.stop();
  t.equal(await file.exit, 0);

  const bad = await runUi(['--token', 'short']);
  t.equal(bad.first, 'exit 2');
  t.match(bad.errors.join('\n'), /too short/);
  const noFile = await runUi([path.join(rec.dir, 'missing.json')]);
  t.equal(noFile.first, 'exit 2');
  t.match(noFile.errors.join('\n'), /file not found/);
  const lonely = await runUi(['--workflows', changedPath]);
  t.equal(lonely.first, 'exit 2');
  const help = await runUi(['--help']);
  t.equal(help.first, 'exit 0');
  t.match(help.lines.join('\n'), /Usage: deja ui/);
});

t.test('bin/deja.js ui, the built CLI, finds the page files shipped in lib/ui/public/', async (t) => {
  const root = path.join(__dirname, '..');
  const built = path.join(root, 'dist', 'lib', 'ui', 'server.js');
  if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < fs.statSync(path.join(root, 'lib', 'ui', 'server.ts')).mtimeMs) {
    throw new Error('dist/lib/ui/server.js is missing or older than lib/ui/server.ts: run "npm run build" (node scripts/test.js does)');
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { files: string[] };
  t.ok(pkg.files.includes('lib/'), 'the package ships lib/, and so lib/ui/public/');
  const { NODE_OPTIONS: _n, DEJA_DEBUG: _d, ...env } = process.env;
  const child = spawn(process.execPath, [path.join(root, 'bin', 'deja.js'), 'ui', rec.orderFile], { cwd: rec.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const m = /listening on (\S+)/.exec(stdout);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`deja ui exited ${code} before printing its address: ${stderr}`)));
  });
  const port = Number(new URL(url).port);
  const page = await request({ port }, 'GET', '/');
  t.equal(page.status, 200);
  t.match(page.text, /app\.js/);
  t.equal((await request({ port }, 'GET', '/app.js')).status, 200);
  t.equal((await request({ port }, 'GET', '/api/file')).json.summary.workflowId, rec.order.workflowId);
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM stops it cleanly');
});

t.test('the model on built histories: a failed task, a timed-out activity, a cancelled timer, a child that could not start', async (t) => {
  const b = new HistoryBuilder({ stepMs: 10 }).start(['x']);
  b.workflowTask('failed');
  const done = b.workflowTask();
  const activity = b.activity('slow', '1', done);
  const timer = b.add({ type: 'timerStarted', timerId: '1', startToFireTimeoutMs: 5000, workflowTaskCompletedEventId: done });
  const child = b.add({ type: 'startChildWorkflowExecutionInitiated', workflowId: 'kid', workflowType: 'kidWorkflow', taskQueue: 'main', input: [], parentClosePolicy: 'terminate', workflowTaskTimeoutMs: 10_000, workflowTaskCompletedEventId: done });
  b.add({ type: 'startChildWorkflowExecutionFailed', workflowId: 'kid', workflowType: 'kidWorkflow', cause: 'workflowAlreadyExists', initiatedEventId: child });
  b.add({ type: 'activityTaskTimedOut', scheduledEventId: activity, failure: { message: 'activity timed out', kind: 'timeout', timeoutType: 'scheduleToStart' }, retryState: 'timeout' });
  const later = b.workflowTask();
  b.add({ type: 'timerCanceled', timerId: '1', startedEventId: timer, workflowTaskCompletedEventId: later });
  b.add({ type: 'workflowExecutionTerminated', reason: 'by hand' });
  const h = b.history();

  const tl = timeline(h.events);
  t.same(tl.lanes.map((l) => [l.kind, l.bar.outcome]), [['activity', 'timedOut'], ['timer', 'cancelled'], ['child', 'startFailed']]);
  t.same(tl.lanes[0]!.bar.segments.map((s) => s.kind), ['waiting'], 'an activity that never started only waited');
  t.same(tl.ticks.map((k) => k.outcome), ['failed', 'completed', 'completed'], 'the failed workflow task is a tick of its own');
  t.same(tl.close, { time: Date.parse(h.events.at(-1)!.eventTime), status: 'terminated', eventId: h.events.length });
  for (const lane of tl.lanes) {
    t.ok(lane.bar.eventIds.every((id) => h.events[id - 1] !== undefined), `${lane.id} names events of the history`);
    t.equal(lane.bar.segments.at(-1)!.end, lane.bar.end, `${lane.id}: its last segment ends where the bar does`);
  }

  const sm = summarize(h.workflowId, h.runId, h.events);
  t.equal(sm.status, 'terminated');
  t.equal(sm.reason, 'by hand');
  t.same(sm.input, ['x']);
  t.same(sm.pendingActivities, [], 'a closed activity is not pending');
  t.same(sm.pendingTimers, []);
  t.same(sm.children.map((c) => [c.workflowId, c.status]), [['kid', 'startFailed']]);
  t.equal(sm.closeTime, h.events.at(-1)!.eventTime);

  // A failure's cause chain stops at a cycle instead of looping.
  const looped: WireFailure = { message: 'outer', kind: 'application' };
  looped.cause = { message: 'inner', kind: 'activity', cause: looped };
  t.same(failureView(looped).chain.map((f) => f.message), ['outer', 'inner']);
});
