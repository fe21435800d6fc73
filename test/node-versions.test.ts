// What differs between the Node.js majors deja supports (20, 22, 24: V8 11.3, 12.4, 13.6, each
// with its own isolated-vm major) and how deja copes: the V8 code cache is per V8 version, an
// isolate's heap figures stay sane, and Intl inside a workflow gives the same strings on each.
// .ci/run runs this file (with the whole suite) on every supported major.
process.env.TZ = 'America/Los_Angeles'; // a host zone that must not show inside the isolate

import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import ivm from 'isolated-vm';
import { bundleWorkflowCode, readCodeCache, type WorkflowBundle } from '../lib/bundler';
import { IsolatePool } from '../lib/sandbox';
import { PROTOCOL_VERSION, type ActivationCompletion, type InitMessage } from '../runtime/protocol';

const root = path.join(__dirname, '..');
const nodeMajor = Number(process.versions.node.split('.')[0]);
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, any>;
const ivmPackage = readJson(require.resolve('isolated-vm/package.json'));

t.comment(`node ${process.version}, V8 ${process.versions.v8}, ICU ${process.versions.icu}, isolated-vm ${ivmPackage.version}`);

/** The Node majors .ci/run tests on (its SUPPORTED_MAJORS line). */
function ciMajors(): number[] {
  const m = /^SUPPORTED_MAJORS="([\d ]+)"/m.exec(fs.readFileSync(path.join(root, '.ci', 'run'), 'utf8'));
  if (!m) throw new Error('.ci/run has no SUPPORTED_MAJORS="…" line');
  return m[1].trim().split(/\s+/).map(Number);
}

t.test('the supported majors: package.json engines, .ci/run and the running Node agree', async (t) => {
  const majors = ciMajors();
  t.equal(readJson(path.join(root, 'package.json')).engines.node, majors.map((m) => `^${m}.0.0`).join(' || '), 'engines names exactly the majors CI tests');
  // A Node outside the list fails here on purpose: when it passes the rest, add its major to
  // SUPPORTED_MAJORS in .ci/run and to engines, so that CI keeps testing it.
  t.ok(majors.includes(nodeMajor), `this Node (${process.version}) is a supported major (${majors.join(', ')})`);
});

t.test('npm picked an isolated-vm whose engines admit this Node', async (t) => {
  // isolated-vm's majors follow Node's (5.x: >=18, 6.x: >=22, 7.x: >=24); npm picks the newest
  // one whose engines fit, which needs the range in package.json and no lockfile pinning one.
  t.equal(readJson(path.join(root, 'package.json')).dependencies['isolated-vm'], '^5.0.4 || ^6.0.0 || ^7.0.0');
  const engines = String(ivmPackage.engines?.node ?? '');
  const min = /^>=\s*(\d+)/.exec(engines);
  t.ok(min, `isolated-vm ${ivmPackage.version} states its engines as >=N (got "${engines}")`);
  t.ok(nodeMajor >= Number(min?.[1]), `isolated-vm ${ivmPackage.version} (node ${engines}) admits node ${process.version}`);
});

t.test('the root package has no lockfile: a fresh install resolves isolated-vm for its own Node', async (t) => {
  t.match(fs.readFileSync(path.join(root, '.npmrc'), 'utf8'), /^package-lock=false$/m, '.npmrc turns the lockfile off');
  const git = spawnSync('git', ['ls-files', '--error-unmatch', 'package-lock.json'], { cwd: root, encoding: 'utf8' });
  if (git.error || (git.status !== 0 && !/did not match/.test(git.stderr))) {
    t.notOk(fs.existsSync(path.join(root, 'package-lock.json')), 'no package-lock.json (not a git checkout)');
  } else {
    t.not(git.status, 0, 'package-lock.json is not committed');
  }
  t.ok(fs.existsSync(path.join(root, 'bench', 'package-lock.json')), 'bench/ (an application, not published) keeps its own lockfile');
});

// ── workflows run through deja's own bundler and sandbox ──

const WORKFLOWS = `
export async function intlWorkflow(): Promise<Record<string, unknown>> {
  const d = new Date(Date.UTC(2021, 2, 4, 17, 6, 7)); // Thursday 4 March 2021, 17:06:07 UTC
  const n = 1234567.891;
  return {
    supported: Intl.DateTimeFormat.supportedLocalesOf(['de-DE', 'ja-JP', 'sv-SE', 'tr-TR']),
    number: [n.toLocaleString('en-US'), new Intl.NumberFormat('de-DE').format(n), new Intl.NumberFormat('en-IN').format(n)],
    currency: [
      new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(1234.5),
      new Intl.NumberFormat('de-DE', { style: 'currency', currency: 'EUR' }).format(1234.5),
      new Intl.NumberFormat('en-US', { style: 'currency', currency: 'JPY' }).format(1234),
    ],
    percent: new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 }).format(0.2567),
    zone: new Intl.DateTimeFormat().resolvedOptions().timeZone,
    dates: [
      new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'long', day: 'numeric' }).format(d),
      new Intl.DateTimeFormat('de-DE', { dateStyle: 'full' }).format(d),
      new Intl.DateTimeFormat('ja-JP', { dateStyle: 'full' }).format(d),
      d.toLocaleDateString('en-GB'),
      d.toLocaleString('en-US'),
      d.toLocaleTimeString('en-US', { timeZone: 'America/New_York' }),
      new Intl.DateTimeFormat('en-US', { weekday: 'long', hour: 'numeric', minute: '2-digit', hour12: false }).format(d),
    ],
    plural: [0, 1, 2].map((x) => new Intl.PluralRules('en-US').select(x)),
    ordinal: [1, 2, 3, 4, 11].map((x) => new Intl.PluralRules('en-US', { type: 'ordinal' }).select(x)),
    collate: [['z', 'ä', 'a', 'Z'].sort(new Intl.Collator('de').compare), ['z', 'ä', 'a'].sort(new Intl.Collator('sv').compare)],
    relative: [new Intl.RelativeTimeFormat('en', { numeric: 'auto' }).format(-1, 'day'), new Intl.RelativeTimeFormat('en').format(3, 'week')],
    list: new Intl.ListFormat('en', { type: 'conjunction' }).format(['a', 'b', 'c']),
    names: [new Intl.DisplayNames('en', { type: 'region' }).of('DE'), new Intl.DisplayNames('en', { type: 'language' }).of('fr')],
    segments: [...new Intl.Segmenter('en', { granularity: 'word' }).segment('Hello, world')].map((s) => s.segment),
    casing: ['I'.toLocaleLowerCase('tr'), 'ß'.toLocaleUpperCase('de')],
  };
}
export async function emptyWorkflow(): Promise<string> {
  return 'ok';
}
`;

let dir: string;
let bundle: WorkflowBundle;

t.before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-node-versions-'));
  fs.writeFileSync(path.join(dir, 'workflows.ts'), WORKFLOWS);
  bundle = await bundleWorkflowCode({ workflowsPath: path.join(dir, 'workflows.ts'), cacheDir: path.join(dir, 'cache') });
});
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

function initFor(workflowType: string): InitMessage {
  return {
    protocolVersion: PROTOCOL_VERSION,
    randomnessSeed: 'seed',
    info: { workflowId: `wf-${workflowType}`, runId: 'run-1', workflowType, taskQueue: 'q', firstExecutionRunId: 'run-1', attempt: 1, startTime: 1_000, historyLength: 1, historySize: 0, continueAsNewSuggested: false, searchAttributes: {}, taskTimeoutMs: 10_000 },
  };
}

/** Starts `workflowType` in `pool` and returns what it completed with (it must not wait). */
function run(pool: IsolatePool, workflowType: string): unknown {
  const execution = pool.createExecution(bundle, initFor(workflowType), workflowType);
  try {
    const c: ActivationCompletion = execution.activate({ timestamp: 1_000, isReplaying: false, historyLength: 3, historySize: 0, continueAsNewSuggested: false, jobs: [{ type: 'startWorkflow', workflowType, args: [] }] });
    if (!c.ok) throw new Error(`${workflowType} failed: ${c.failure.message}`);
    const done = c.commands.find((x) => x.type === 'completeWorkflow');
    if (!done || done.type !== 'completeWorkflow') throw new Error(`${workflowType} did not complete: ${JSON.stringify(c.commands)}`);
    return done.result;
  } finally {
    execution.dispose();
  }
}

/** The stats of a new pool after one run of emptyWorkflow: did it compile from the cache? */
function compileOnce(): { codeCacheHits: number; codeCacheMisses: number } {
  const pool = new IsolatePool();
  try {
    if (run(pool, 'emptyWorkflow') !== 'ok') throw new Error('emptyWorkflow gave a wrong result');
    const { codeCacheHits, codeCacheMisses } = pool.stats();
    return { codeCacheHits, codeCacheMisses };
  } finally {
    pool.dispose();
  }
}

// V8's code cache header: magic number (bytes 0–3), then a hash of the V8 version (4–7). V8
// refuses data whose version hash is not its own, and isolated-vm reports it as cachedDataRejected.
const VERSION_HASH = 4;

t.test('code cache: the V8 version is part of its file name', async (t) => {
  const name = path.basename(bundle.codeCachePath);
  t.equal(name, `${bundle.hash}-v8-${process.versions.v8}.cache`);
  t.equal(path.dirname(bundle.codeCachePath), path.dirname(bundle.bundlePath), 'beside the bundle');
  // Another Node on the same project (say 22 after 20) gets another file, so neither overwrites
  // the other's cache and each compiles from its own.
  for (const v8 of ['11.3.244.8-node.38', '12.4.254.21-node.57', '13.6.233.17-node.63'].filter((v) => v !== process.versions.v8)) {
    t.not(name, `${bundle.hash}-v8-${v8}.cache`);
  }
});

t.test('code cache: one written under another V8 version is not used', async (t) => {
  fs.rmSync(bundle.codeCachePath, { force: true });
  t.same(compileOnce(), { codeCacheHits: 0, codeCacheMisses: 1 }, 'no cache yet: compiled from source');
  const good = readCodeCache(bundle);
  if (!good) throw new Error('the sandbox wrote no code cache');
  t.same(compileOnce(), { codeCacheHits: 1, codeCacheMisses: 0 }, 'the next pool compiles from it');

  // A cache file another V8 wrote lies beside ours under its own name: never read.
  const foreign = path.join(path.dirname(bundle.codeCachePath), `${bundle.hash}-v8-0.0.0-other.cache`);
  fs.writeFileSync(foreign, good);
  fs.rmSync(bundle.codeCachePath);
  t.same(compileOnce(), { codeCacheHits: 0, codeCacheMisses: 1 }, 'a file named for another V8 version is not read');
  t.ok(fs.existsSync(bundle.codeCachePath), 'this V8 wrote its own');

  // Data from another V8 under this V8's name (copied by hand, or a V8 that kept its version
  // string but not its format): V8 refuses it, the bundle compiles from source and runs, and
  // the file is replaced by this V8's own.
  const stale = Buffer.from(good);
  stale.writeUInt32LE((stale.readUInt32LE(VERSION_HASH) ^ 0x5a5a5a5a) >>> 0, VERSION_HASH);
  fs.writeFileSync(bundle.codeCachePath, stale);
  t.same(compileOnce(), { codeCacheHits: 0, codeCacheMisses: 1 }, 'rejected by V8 and compiled from source');
  const rewritten = readCodeCache(bundle);
  t.equal(rewritten?.readUInt32LE(VERSION_HASH), good.readUInt32LE(VERSION_HASH), 'rewritten with this V8 version hash');
  t.same(compileOnce(), { codeCacheHits: 1, codeCacheMisses: 0 }, 'and used from then on');

  // Garbage and a truncated file are refused the same way.
  for (const [what, bytes] of [['garbage', Buffer.alloc(good.length, 0xab)], ['a truncated file', good.subarray(0, 16)]] as const) {
    fs.writeFileSync(bundle.codeCachePath, bytes);
    t.same(compileOnce(), { codeCacheHits: 0, codeCacheMisses: 1 }, `${what}: compiled from source`);
  }
});

t.test('heap: the isolate reports sane figures, and a context costs kilobytes, not megabytes', async (t) => {
  const pool = new IsolatePool({ memoryLimitMb: 32 });
  t.teardown(() => pool.dispose());
  const first = pool.createExecution(bundle, initFor('emptyWorkflow'), 'first');
  const one = pool.stats().usedHeapBytes;
  t.ok(one > 64 * 1024 && one < 32 * 2 ** 20, `one execution: ${(one / 1024).toFixed(0)} KB used, under the 32 MB limit`);
  const more = Array.from({ length: 20 }, (_, i) => pool.createExecution(bundle, initFor('emptyWorkflow'), `more-${i}`));
  const perContext = (pool.stats().usedHeapBytes - one) / more.length;
  t.comment(`heap per execution on V8 ${process.versions.v8}: ${(perContext / 1024).toFixed(0)} KB`);
  t.ok(perContext > 16 * 1024 && perContext < 4 * 2 ** 20, `per execution ${(perContext / 1024).toFixed(0)} KB (about 200–220 KB measured on Node 20, 22 and 24)`);
  for (const e of [first, ...more]) e.dispose();

  // The limit deja passes (memoryLimitMb) is what the isolate enforces, give or take V8's slack.
  const isolate = new ivm.Isolate({ memoryLimit: 32 });
  t.teardown(() => isolate.dispose());
  const limit = isolate.getHeapStatisticsSync().heap_size_limit;
  t.ok(limit >= 32 * 2 ** 20 && limit <= 64 * 2 ** 20, `heap_size_limit ${(limit / 2 ** 20).toFixed(1)} MB for memoryLimit 32`);
});

t.test('Intl inside a workflow: the same strings on the ICU of Node 20, 22 and 24', async (t) => {
  // Golden values checked on Node 20.20 (ICU 78.2), 22.23 and 24.22 (ICU 78.3). They avoid what
  // CLDR changed in recent years (date-time joiners such as "at", compact and unit names, zone
  // names). ICU 72+ puts U+202F (narrow no-break space) before AM/PM in en-US times; V8 11.3, 12.4
  // and 13.6 all turn it back into a plain space (a web-compatibility fix), so a plain space it is.
  const pool = new IsolatePool();
  t.teardown(() => pool.dispose());
  const NBSP = '\u00a0';
  t.same(run(pool, 'intlWorkflow'), {
    supported: ['de-DE', 'ja-JP', 'sv-SE', 'tr-TR'],
    number: ['1,234,567.891', '1.234.567,891', '12,34,567.891'],
    currency: ['$1,234.50', `1.234,50${NBSP}€`, '¥1,234'],
    percent: '25.7%',
    zone: 'UTC',
    dates: [
      'March 4, 2021',
      'Donnerstag, 4. März 2021',
      '2021年3月4日木曜日',
      '04/03/2021',
      '3/4/2021, 5:06:07 PM',
      '12:06:07 PM',
      'Thursday 17:06',
    ],
    plural: ['other', 'one', 'other'],
    ordinal: ['one', 'two', 'few', 'other', 'other'],
    collate: [
      ['a', 'ä', 'z', 'Z'],
      ['a', 'z', 'ä'],
    ],
    relative: ['yesterday', 'in 3 weeks'],
    list: 'a, b, and c',
    names: ['Germany', 'French'],
    segments: ['Hello', ',', ' ', 'world'],
    casing: ['ı', 'SS'],
  });
});
