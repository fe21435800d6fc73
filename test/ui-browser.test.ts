// deja ui in a real headless Chromium (Debian's, found or installed by scripts/browser.js, driven
// by playwright-core): the list shows the recorded runs, the timeline has one lane per activity,
// timer and child, a failed run shows its cause, a replay divergence is marked on the right event,
// an HTML payload is shown as text, and the actions ask for a confirmation. One browser serves
// every test. Screenshots go to a temporary folder (or DEJA_UI_SCREENSHOTS), printed at the end.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { recordForUi, HTML_PAYLOAD, type UiRecordings } from './support/ui';
import { startUiServer, type UiServer } from '../lib/ui/server';
import { replayVerdict } from '../lib/ui/replay';
import { readHistoryFile } from '../lib/history';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const browserScript = require('../scripts/browser.js') as { ensureChromium(): string | undefined; launchArgs(): string[]; sayMissing(): void };

const executablePath = browserScript.ensureChromium();
if (!executablePath) browserScript.sayMissing();
const skip = executablePath ? false : 'Chromium is missing and could not be installed (see the message above)';

const changedPath = path.join(__dirname, 'workflows', 'changed.ts');
const shots = process.env.DEJA_UI_SCREENSHOTS ?? fs.mkdtempSync(path.join(os.tmpdir(), 'deja-ui-screenshots-'));

let rec: UiRecordings;
let server: UiServer;
let fileServer: UiServer;
let browser: Browser;
let divergedAt: number;

t.before(async () => {
  if (skip) return;
  fs.mkdirSync(shots, { recursive: true });
  [rec, browser] = await Promise.all([recordForUi(), chromium.launch({ executablePath, headless: true, args: browserScript.launchArgs() })]);
  server = await startUiServer({ service: rec.env.connection.service });
  const history = readHistoryFile(rec.orderFile);
  const verdict = await replayVerdict(history, changedPath);
  divergedAt = !verdict.ok && verdict.eventId !== undefined ? verdict.eventId : -1;
  fileServer = await startUiServer({ history, historyLabel: 'order.json', verdict });
});
t.teardown(async () => {
  await browser?.close();
  await server?.close();
  await fileServer?.close();
  await rec?.close();
  if (!skip) t.comment(`screenshots in ${shots}`);
});

/** Script errors any page reported; each test checks that its pages made none. */
const pageErrors: string[] = [];

/** A new page in its own context (no storage shared between tests), closed after the test. */
async function open(t: { teardown(fn: () => unknown): void }, url: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1500, height: 1000 } });
  t.teardown(() => context.close());
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    // A refused request (the token tests) logs its status; anything else is a bug.
    if (m.type() === 'error' && !/status of (401|404|400|421)/.test(m.text())) pageErrors.push(m.text());
  });
  await page.goto(url);
  return page;
}

const noScriptErrors = (t: { same(a: unknown, b: unknown, m: string): void }) => t.same(pageErrors.splice(0), [], 'no script errors on the page');
const injected = (page: Page) => page.evaluate(() => (globalThis as unknown as { __dejaInjected?: number }).__dejaInjected);

const runUrl = (base: string, workflowId: string) => `${base}#/run?${new URLSearchParams({ workflowId })}`;

t.test('the list shows the recorded runs, and filters them', { skip }, async (t) => {
  const page = await open(t, server.url);
  const rows = page.locator('#workflows tbody tr');
  await t.resolves(rows.nth(5).waitFor(), 'the rows appear');
  for (const h of [rec.order, rec.retry, rec.failing, rec.cart, rec.scripted]) {
    const row = page.locator(`#workflows tbody tr[data-workflow-id="${h.workflowId}"]`);
    t.equal(await row.count(), 1, `a row for ${h.workflowId}`);
  }
  const failingRow = page.locator(`#workflows tbody tr[data-workflow-id="${rec.failing.workflowId}"]`);
  t.equal(await failingRow.locator('.status').textContent(), 'failed');
  await page.screenshot({ path: path.join(shots, 'ui-list.png'), fullPage: true });

  // Live refresh: a run started now shows up without a reload.
  const late = await rec.env.client.start('orderWorkflow', { taskQueue: rec.env.taskQueue, workflowId: 'started-while-watching', args: ['Bo', 1] });
  await t.resolves(page.locator('#workflows tbody tr[data-workflow-id="started-while-watching"]').waitFor(), 'the new run appears');
  await late.result();

  await page.fill('#filter', `WorkflowType = 'orderWorkflow' AND WorkflowId = '${rec.order.workflowId}'`);
  await page.press('#filter', 'Enter');
  // The table is rebuilt with the filtered page: wait until it holds exactly the one run (it may be
  // empty for a moment while the answer is on its way).
  await page.locator(`#workflows tbody tr[data-workflow-id="${rec.order.workflowId}"]`).waitFor();
  await page.waitForFunction("document.querySelectorAll('#workflows tbody tr').length === 1");
  t.equal(await page.locator('#workflows tbody tr').count(), 1);
  t.equal(await page.locator('#workflows tbody tr').getAttribute('data-workflow-id'), rec.order.workflowId);

  // A filter with markup: refused as a filter, shown as text.
  await page.fill('#filter', `WorkflowType = '${HTML_PAYLOAD}`);
  await page.press('#filter', 'Enter');
  await page.locator('#workflows-body .error').waitFor();
  t.equal(await page.locator('#injected').count(), 0);
  t.equal(await injected(page), undefined);

  noScriptErrors(t);
});

t.test('the timeline has one lane per activity, timer and child', { skip }, async (t) => {
  const page = await open(t, runUrl(server.url, rec.scripted.workflowId));
  await page.locator('svg.timeline').waitFor();
  t.equal(await page.locator('svg.timeline g.lane[data-kind="activity"]').count(), 2, 'two activities');
  t.equal(await page.locator('svg.timeline g.lane[data-kind="timer"]').count(), 2, 'two timers');
  t.equal(await page.locator('svg.timeline g.lane[data-kind="child"]').count(), 1, 'one child');
  t.equal(await page.locator('svg.timeline g.lane').count(), 5, 'nothing else');
  t.ok((await page.locator('svg.timeline .tick').count()) >= 5, 'workflow tasks as ticks');
  t.equal(await page.locator('#children li').count(), 1);

  // Clicking a bar shows its event's JSON and selects it in the event list.
  const childBar = page.locator('svg.timeline g.lane[data-kind="child"] rect.seg-running');
  const eventId = Number(await childBar.getAttribute('data-event-id'));
  await childBar.click();
  t.match(await page.locator('#event-json').textContent(), /"type": "childWorkflowExecutionStarted"/, 'the child bar shows its event');
  t.equal(await page.locator('#events tr.selected').getAttribute('data-event-id'), String(eventId));
  await page.locator('svg.timeline .tick').first().hover();
  t.match(await page.locator('#event-json').textContent(), /workflowTask/, 'hovering a tick shows its event');
  t.equal(await page.locator('svg.timeline .mark[data-kind="signal"]').count(), 1, 'the signal is a mark');
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: path.join(shots, 'ui-run.png'), fullPage: true });
  await page.locator('#timeline').screenshot({ path: path.join(shots, 'ui-timeline.png') });

  const retry = await open(t, runUrl(server.url, rec.retry.workflowId));
  await retry.locator('svg.timeline').waitFor();
  t.equal(await retry.locator('svg.timeline g.lane[data-kind="activity"] .attempt-label').textContent(), 'attempt 3 (2 retried)', 'each attempt is counted');
  t.equal(await retry.locator('svg.timeline g.lane[data-kind="activity"] rect.seg-retrying').count(), 1);
  await retry.screenshot({ path: path.join(shots, 'ui-retry.png'), fullPage: true });
  noScriptErrors(t);
});

t.test('a failed workflow shows its cause', { skip }, async (t) => {
  const page = await open(t, runUrl(server.url, rec.failing.workflowId));
  await page.locator('#failure').waitFor();
  t.match(await page.locator('#failure .failure-message').textContent(), /payment failed/);
  const causes = await page.locator('#failure li.cause').allTextContents();
  t.ok(causes.some((c) => /card declined/.test(c)), `the cause chain reaches the activity's failure: ${causes.join(' | ')}`);
  t.equal(await page.locator('h1 .status').textContent(), 'failed');
  t.equal(await page.locator('svg.timeline g.lane.outcome-failed').count(), 1, 'the failed activity is drawn failed');
  await page.screenshot({ path: path.join(shots, 'ui-failed.png'), fullPage: true });
  noScriptErrors(t);
});

t.test('a replay divergence is marked on the right event', { skip }, async (t) => {
  t.ok(divergedAt > 0, 'the changed code diverges');
  const scheduled = rec.order.events.find((e) => e.type === 'activityTaskScheduled')!;
  t.equal(divergedAt, scheduled.eventId, 'at the first activity');
  const page = await open(t, fileServer.url);
  await page.locator('#verdict').waitFor();
  t.equal(await page.locator('#verdict').getAttribute('data-ok'), 'false');
  const marked = page.locator('#events tr.diverged');
  t.equal(await marked.count(), 1, 'one event is marked');
  t.equal(await marked.getAttribute('data-event-id'), String(divergedAt));
  t.equal(await marked.getAttribute('data-type'), 'activityTaskScheduled');
  t.equal(await page.locator('svg.timeline .diverged-line').getAttribute('data-event-id'), String(divergedAt), 'and on the timeline');
  t.match(await page.locator('#verdict-recorded').textContent(), /greet/, 'what history recorded');
  t.match(await page.locator('#verdict-emitted').textContent(), /charge/, 'what the code emitted');
  t.match(await page.locator('#event-json').textContent(), new RegExp(`"eventId": ${divergedAt}`), 'the diverging event is selected');
  t.match(await page.locator('#mode').textContent(), /order\.json/);
  await page.screenshot({ path: path.join(shots, 'ui-replay-divergence.png'), fullPage: true });
  noScriptErrors(t);
});

t.test('an HTML payload is shown as text and injects nothing', { skip }, async (t) => {
  const page = await open(t, runUrl(server.url, rec.cart.workflowId));
  await page.locator('#result').waitFor();
  t.equal(JSON.parse((await page.locator('#result').textContent())!)[0], HTML_PAYLOAD, 'the result is the payload, as text');
  const signal = page.locator('#events tr[data-type="workflowExecutionSignaled"]').first();
  t.match(await signal.textContent(), /<img src=x onerror=/, 'the event list shows the markup as text');
  await page.locator('svg.timeline .mark').first().click();
  t.match(await page.locator('#event-json').textContent(), /<img src=x onerror=/, 'so does the event JSON');
  t.equal(await page.locator('#injected').count(), 0, 'no element from the payload');
  t.equal(await page.locator('#app img').count(), 0, 'no image element');
  t.equal(await page.locator('#app script').count(), 0, 'no script element');
  t.equal(await injected(page), undefined, 'no script ran');
  await page.screenshot({ path: path.join(shots, 'ui-html-payload.png'), fullPage: true });

  // Markup in a workflow id: in the list, and in the address of a run that does not exist.
  const marked = await rec.env.client.start('approvalWorkflow', { taskQueue: rec.env.taskQueue, workflowId: HTML_PAYLOAD, args: [3_600_000] });
  t.teardown(() => marked.terminate('test over').catch(() => undefined));
  const list = await open(t, server.url);
  const link = list.locator('#workflows tbody tr a', { hasText: '<img src=x' });
  await link.waitFor();
  t.equal(await link.textContent(), HTML_PAYLOAD, 'the id is shown as text');
  await link.click();
  await list.locator('h1 [data-status="running"]').waitFor();
  t.match(await list.locator('h1').textContent(), /<img src=x onerror=/);
  const missing = await open(t, runUrl(server.url, `${HTML_PAYLOAD}-nobody`));
  await missing.locator('#app .error').waitFor();
  t.match(await missing.locator('#app .error').textContent(), /<img src=x onerror=/, 'an error naming the id shows it as text');
  for (const p of [list, missing]) {
    t.equal(await p.locator('#injected').count(), 0);
    t.equal(await injected(p), undefined, 'no script ran');
  }
  noScriptErrors(t);
});

t.test('an action asks for a confirmation, then signals the run', { skip }, async (t) => {
  const page = await open(t, runUrl(server.url, rec.running.workflowId));
  await page.locator('#actions').waitFor();
  t.equal(await page.locator('#pending-timers li').count(), 1, 'the condition timeout is a pending timer');
  await page.fill('#signal-name', 'approve');
  await page.click('#do-signal');
  await page.locator('#confirm').waitFor();
  t.match(await page.locator('#confirm').textContent(), new RegExp(`Signal approve workflow ${rec.running.workflowId}`));
  await page.click('#confirm-no');
  t.equal(await page.locator('#confirm').count(), 0, 'No closes it');
  const before = await rec.env.client.getHandle(rec.running.workflowId).fetchHistory();
  t.notOk(before.events.some((e) => e.type === 'workflowExecutionSignaled'), 'and sends nothing');

  await page.click('#do-signal');
  await page.click('#confirm-yes');
  t.equal(await rec.env.client.getHandle(rec.running.workflowId).result(), 'approved', 'the signal reached the run');
  await page.reload();
  await page.locator('h1 [data-status="completed"]').waitFor();
  t.equal(await page.locator('#actions').count(), 0, 'no actions on a closed run');
  noScriptErrors(t);
});

t.test('a server with a token asks for it, and takes it from the printed address', { skip }, async (t) => {
  const guarded = await startUiServer({ service: rec.env.connection.service, token: 'browser-test-token' });
  t.teardown(() => guarded.close());
  const bare = await open(t, guarded.url.replace(/\?token=.*$/, ''));
  await bare.locator('#token').waitFor();
  t.equal(await bare.locator('#workflows').count(), 0, 'nothing listed without the token');
  await bare.fill('#token', 'not-the-token');
  await bare.press('#token', 'Enter');
  await bare.locator('#token').waitFor();
  t.match(await bare.locator('form .error').textContent(), /wrong token/, 'a wrong token is refused');

  const page = await open(t, guarded.url);
  await page.locator('#workflows tbody tr').first().waitFor();
  t.notMatch(page.url(), /token/, 'the token leaves the address bar');
  noScriptErrors(t);
});
