/**
 * Turns the measures' results into the report (host side): markdown tables for the terminal and
 * for bench/RESULTS.md, the targets checked, the output hashes, and an account of every target
 * missed built from the same run's numbers.
 */
import type { PrepareResult } from './measures/prepare';
import type { BundleResult } from './measures/bundle';
import type { ReplayResult, ReplayRow } from './measures/replay';
import type { OneHistoryResult, RssResult } from './measures/one-history';
import type { NewExecutionResult } from './measures/new-execution';
import type { HeapResult } from './measures/heap';
import type { E2eResult } from './measures/e2e';
import type { E2eStoresResult } from './measures/e2e-stores';
import type { E2ePostgresResult } from './measures/e2e-postgres';
import type { ValidateResult } from './measures/validate';
import type { ReplayMachineResult } from './measures/replay-machine';
import type { GrowthResult } from './measures/growth';
import { sha256, type Settings } from './setup';
import { fmt, fmtSummary, summarize, type Summary } from './stats';

export interface Results {
  prepare: PrepareResult;
  bundle: BundleResult;
  replayDeja: ReplayResult;
  replayTemporal: ReplayResult;
  oneHistoryDeja: OneHistoryResult;
  oneHistoryTemporal: OneHistoryResult;
  rssDeja: RssResult;
  rssFloor: RssResult;
  rssTemporal: RssResult;
  newExecution: NewExecutionResult;
  heap: HeapResult;
  e2e: E2eResult;
  e2eStores: E2eStoresResult;
  e2ePostgres: E2ePostgresResult;
  validate: ValidateResult;
  replayMachine: ReplayMachineResult;
  growth: GrowthResult;
}

export interface Environment {
  date: string;
  quick: boolean;
  machine: string;
  loadAverage: { start: number[]; end: number[] };
  node: string;
  deja: string;
  isolatedVm: string;
  esbuild: string;
  temporal: string;
  command: string;
  childCommand: string;
  settings: Settings;
  wallSeconds: number;
  seconds: Record<string, number>;
  errors: string[];
}

const KB = (bytes: number) => `${fmt(bytes / 1024)} KB`;
const MB = (bytes: number) => `${fmt(bytes / 2 ** 20)} MB`;
const ms = (x: number) => `${fmt(x)} ms`;
const count = (x: number) => x.toLocaleString('en-US');
const yes = (ok: boolean) => (ok ? 'yes' : '**no**');

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

interface Target {
  what: string;
  deja: string;
  baseline: string;
  ratio: string;
  goal: string;
  met: boolean | undefined;
}

interface MergedRow {
  row: ReplayRow;
  temporal?: Summary;
  temporalHash?: string;
  events: number;
}

function merged(r: Partial<Results>): MergedRow[] {
  const rows = r.replayDeja?.rows ?? [];
  return rows.map((row) => {
    const t = r.replayTemporal?.rows.find((x) => x.history === row.history && !x.single === !row.single);
    return { row, temporal: t?.ms.temporal, temporalHash: t?.hash.temporal, events: row.histories * row.eventsPerHistory };
  });
}

const eventsPerSecond = (events: number, msTime: number) => events / (msTime / 1000);
/** Each engine's fixed cost per replay call: one history alone, less its per-history time in a batch. */
function fixedCosts(rows: MergedRow[]): { deja?: number; temporal?: number; batch?: MergedRow; single?: MergedRow } {
  const single = rows.find((x) => x.row.single);
  const batch = rows.find((x) => !x.row.single && x.row.history === single?.row.history);
  if (!single || !batch) return {};
  const f = (one: number, many: number) => Math.max(0, one - many / batch.row.histories);
  return {
    single,
    batch,
    deja: f(single.row.ms.deja!.median, batch.row.ms.deja!.median),
    temporal: single.temporal && batch.temporal ? f(single.temporal.median, batch.temporal.median) : undefined,
  };
}

/**
 * deja ÷ Temporal with each engine's fixed cost per call taken out of its batch time; undefined
 * where a batch is under 3× that cost for either engine, which leaves too little to measure.
 */
function marginalRatio(x: MergedRow, fixed: ReturnType<typeof fixedCosts>): number | undefined {
  if (x.row.single || !x.temporal || fixed.deja === undefined || fixed.temporal === undefined) return undefined;
  const d = x.row.ms.deja!.median;
  const t = x.temporal.median;
  if (d < 3 * fixed.deja || t < 3 * fixed.temporal) return undefined;
  return (t - fixed.temporal) / (d - fixed.deja);
}

const label = (x: MergedRow) => (x.row.single ? `${x.row.history}, alone` : x.row.history);
const range = (xs: number[]) => (xs.length ? `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}` : 'n/a');

export function renderReport(env: Environment, r: Partial<Results>): string {
  const out: string[] = [];
  const s = env.settings;
  const rows = merged(r);
  const nine = rows.filter((x) => !x.row.single);
  const fixed = fixedCosts(rows);
  const vsTemporal = nine.filter((x) => x.temporal).map((x) => x.temporal!.median / x.row.ms.deja!.median);
  const vsTemporalMarginal = nine.map((x) => marginalRatio(x, fixed)).filter((x): x is number => x !== undefined);
  const vsFloor = nine.map((x) => x.row.ms.deja!.median / x.row.ms.floor!.median);
  const one = r.oneHistoryDeja;
  // --quick does not time Temporal on this history apart: its one cold run from the RSS process stands in.
  const oneT: Summary | undefined =
    r.oneHistoryTemporal?.ms.temporal ?? (r.rssTemporal ? summarize([r.rssTemporal.ms]) : undefined);
  const oneTLabel = r.oneHistoryTemporal ? 'Temporal `runReplayHistory()`' : 'Temporal `runReplayHistory()`, one cold run (--quick)';
  const b = one?.breakdown;

  out.push(`# deja benchmark results${env.quick ? ' (--quick)' : ''}`);
  out.push('');
  out.push(
    `Written by \`${env.command}\` on ${env.date}. Do not edit by hand: run it again. What each measure and each baseline is: ` +
      '[README.md](README.md). Every figure below was measured in this one run, on this machine, against its baseline on the same workload.',
  );
  out.push('');
  out.push('## Machine, versions, commands');
  out.push('');
  out.push(
    table(
      ['', ''],
      [
        ['machine', env.machine],
        ['load average (1, 5, 15 min)', `start ${env.loadAverage.start.map((x) => x.toFixed(2)).join(', ')}; end ${env.loadAverage.end.map((x) => x.toFixed(2)).join(', ')}. Other processes may share this machine; min–max ranges show the noise.`],
        ['Node.js (V8)', env.node],
        ['deja', env.deja],
        ['isolated-vm', env.isolatedVm],
        ['esbuild', env.esbuild],
        ['Temporal', env.temporal],
        ['command', `\`${env.command}\`, which runs each measure in a fresh process: \`${env.childCommand}\``],
        [
          'repetitions',
          `${s.warmups} untimed warm-up, then medians (min–max) over ${s.runsDeja} runs in each of ${s.dejaProcesses} processes, pooled, for deja, the same runtime without an isolate and the plain-function floor in §2 and §3; ${s.runsTemporal} runs for Temporal, ${s.bundleRuns} for bundling; ` +
            `replay batches of about ${s.stepsPerBatch} workflow steps; ${s.newExecutionSamples} new executions; ${s.cachedExecutions} cached executions; ` +
            `end to end ${s.e2eRuns} runs of ${s.e2eWorkflows} workflows (${s.e2eConcurrency} in flight) and ${s.e2eSequential} one at a time`,
        ],
        ['wall time', `${env.wallSeconds.toFixed(0)} s (${Object.entries(env.seconds).map(([k, v]) => `${k} ${v.toFixed(0)} s`).join(', ')})`],
      ],
    ),
  );
  if (env.errors.length) {
    out.push('');
    out.push(`**Failed measures:** ${env.errors.join('; ')}`);
  }

  // ── headline ──
  const targets: Target[] = [];
  if (nine.length && vsTemporal.length) {
    targets.push({
      what: `replay throughput, events/s (${nine.length} histories)`,
      deja: range(nine.map((x) => eventsPerSecond(x.events, x.row.ms.deja!.median))),
      baseline: `Temporal ${range(nine.filter((x) => x.temporal).map((x) => eventsPerSecond(x.events, x.temporal!.median)))}`,
      ratio: `${range(vsTemporal)}× Temporal${vsTemporalMarginal.length ? `; ${range(vsTemporalMarginal)}× with each engine's fixed cost per call taken out` : ''}`,
      goal: '≥ 100× Temporal',
      met: Math.min(...vsTemporal, ...vsTemporalMarginal) >= 100,
    });
  }
  if (nine.length) {
    targets.push({
      what: 'replay time against the same runtime without an isolate (node:vm, same runtime and engine)',
      deja: 'see §2',
      baseline: 'the same runtime without an isolate',
      ratio: `${range(vsFloor)}× its time`,
      goal: '≤ 3×',
      met: Math.max(...vsFloor) <= 3,
    });
  }
  // The plain-function floor: the workloads as plain async functions, on the longest histories.
  const longest = nine.length ? Math.max(...nine.map((x) => x.row.n)) : 0;
  const vsPlain = nine.filter((x) => x.row.n === longest && x.row.ms.pure).map((x) => x.row.ms.deja!.median / x.row.ms.pure!.median);
  if (vsPlain.length) {
    targets.push({
      what: `replay time against the plain-function floor (${fmt(longest)}-task histories)`,
      deja: 'see §2',
      baseline: 'the plain-function floor',
      ratio: `${range(vsPlain)}× its time`,
      goal: longest >= 1000 ? '≤ 10×' : '≤ 10× (on 1,000-task histories: a full run)',
      met: longest >= 1000 && Math.max(...vsPlain) <= 10,
    });
  }
  if (r.growth?.rows.length) {
    const g = r.growth.rows;
    const perTask = (x: (typeof g)[number]) => (x.ms.deja.median * 1000) / x.tasks;
    const first = g[0];
    const last = g[g.length - 1];
    targets.push({
      what: `time per task as history grows (timerLoop, ${count(first.tasks)} to ${count(last.tasks)} tasks)`,
      deja: `${fmt(perTask(first))} → ${fmt(perTask(last))} µs per task`,
      baseline: `without an isolate ${fmt((first.ms.noIsolate.median * 1000) / first.tasks)} → ${fmt((last.ms.noIsolate.median * 1000) / last.tasks)} µs`,
      ratio: `${fmt(perTask(last) / perTask(first))}× per task at ${count(last.tasks)} tasks against ${count(first.tasks)} (a history's fixed cost, a new context and more, spread over more tasks)`,
      goal: '(none)',
      met: undefined,
    });
  }
  if (r.bundle) {
    const x = r.bundle.temporal.warm.median / r.bundle.deja.warm.median;
    targets.push({
      what: 'bundle the workflow file',
      deja: ms(r.bundle.deja.warm.median),
      baseline: `Temporal ${ms(r.bundle.temporal.warm.median)}`,
      ratio: `${fmt(x)}× faster`,
      goal: '≥ 30× faster',
      met: x >= 30,
    });
  }
  if (one?.ms.dejaReplayHistory) {
    // Judged on a first call (a new isolate pool): a single replay in a fresh process pays it.
    const again = one.ms.dejaReplayHistoryAgain;
    targets.push({
      what: 'one 1000-activity history, `replayHistory()`',
      deja: again ? `${ms(one.ms.dejaReplayHistory.median)} first call; ${ms(again.median)} each call after` : ms(one.ms.dejaReplayHistory.median),
      baseline: oneT ? `Temporal ${ms(oneT.median)}; without an isolate ${ms(one.ms.floor!.median)}` : `without an isolate ${ms(one.ms.floor!.median)}`,
      ratio: oneT ? `${fmt(oneT.median / one.ms.dejaReplayHistory.median)}× faster than Temporal (first call)` : '',
      goal: '≤ 20 ms',
      met: one.ms.dejaReplayHistory.median <= 20,
    });
  }
  if (r.newExecution) {
    const n = r.newExecution.create;
    targets.push({
      what: 'new execution (context + bundle + init), p50',
      deja: n.dejaPrepared ? `${ms(n.deja.p50)}; ${ms(n.dejaPrepared.p50)} with a prepared context` : ms(n.deja.p50),
      baseline: `without an isolate ${ms(n.floor.p50)}`,
      ratio: `${fmt(n.deja.p50 / n.floor.p50)}× without an isolate`,
      goal: '≤ 1 ms',
      met: n.deja.p50 <= 1,
    });
  }
  if (r.heap) {
    targets.push({
      what: `heap per cached execution (${r.heap.executions} cached)`,
      deja: KB(r.heap.deja.total),
      baseline: `without an isolate ${KB(r.heap.floor.hostHeap)}; empty V8 context ${KB(r.heap.emptyContext)}`,
      ratio: `${fmt(r.heap.deja.total / r.heap.floor.hostHeap)}× without an isolate`,
      goal: '≤ 150 KB',
      met: r.heap.deja.total <= 150 * 1024,
    });
  }
  if (r.e2e) {
    targets.push({
      what: 'end to end, one-activity workflow, in-memory store',
      deja: `${fmt(r.e2e.deja.throughput.median)}/s; p50 ${ms(r.e2e.deja.sequential.p50)} alone`,
      baseline: `without isolates ${fmt(r.e2e.floor.throughput.median)}/s; p50 ${ms(r.e2e.floor.sequential.p50)}`,
      ratio: `${fmt(r.e2e.deja.throughput.median / r.e2e.floor.throughput.median)}× the throughput without isolates`,
      goal: '(none)',
      met: undefined,
    });
  }
  if (r.e2eStores) {
    const v = r.e2eStores.variants;
    const best = Math.max(v.sqliteInProcess.throughput.median, v.sqlite1.throughput.median, v.sqlite2.throughput.median);
    targets.push({
      what: 'end to end, one-activity workflow, SQLite (best of one process, 1 and 2 worker processes)',
      deja: `${fmt(best)}/s; p50 ${ms(v.sqlite1.sequential.p50)} alone (1 worker process)`,
      baseline: `memory ${fmt(v.memory.throughput.median)}/s; p50 ${ms(v.memory.sequential.p50)}`,
      ratio: `${fmt(best / v.memory.throughput.median)}× the in-memory rate`,
      goal: '≥ 0.5× the in-memory rate',
      met: best >= 0.5 * v.memory.throughput.median,
    });
  }
  out.push('');
  out.push('## Headline');
  out.push('');
  out.push('Targets are goals, not assertions. Where one is missed, [below](#where-deja-falls-short-and-why) says why and what would close the gap.');
  out.push('');
  out.push(
    table(
      ['measure', 'deja', 'baseline', 'ratio', 'target', 'met'],
      targets.map((t) => [t.what, t.deja, t.baseline, t.ratio, t.goal, t.met === undefined ? '' : yes(t.met)]),
    ),
  );

  // ── proof ──
  if (r.prepare) {
    out.push('');
    out.push('## The histories, and the proof that they are valid');
    out.push('');
    out.push(
      `deja recorded every history in this run (a real Worker and WorkflowClient on the in-memory store, virtual time for the timers; ${ms(r.prepare.recordMs)} in all). ` +
        'The Temporal histories are the same executions in the proto3 JSON a Temporal server records (src/temporal-history.ts). ' +
        'Each engine must replay each history cleanly against src/workloads/workflows.ts, and must reject it against src/workloads/changed.ts, ' +
        'where each workflow\'s last step differs (another activity type; an activity instead of the last timer; a timer before returning), with its DeterminismViolationError.',
    );
    out.push('');
    out.push(
      table(
        ['history', 'events', 'deja accepts', 'deja, last step changed', 'Temporal accepts', 'Temporal, last step changed'],
        r.prepare.proof.map((p) => [p.history, String(p.events), yes(p.dejaAccepts), p.dejaRejectsChanged, yes(p.temporalAccepts), p.temporalRejectsChanged]),
      ),
    );
    out.push('');
    out.push(`All valid: ${yes(r.prepare.valid)}.${env.quick ? ' (--quick records seqActivities(1000) for §3 without this proof; the full run proves it.)' : ''}`);
  }

  // ── 1 ──
  if (r.bundle) {
    const x = r.bundle;
    out.push('');
    out.push('## 1. Bundle time');
    out.push('');
    out.push('The same file, src/workloads/workflows.ts, which imports `@temporalio/workflow` (deja\'s bundler aliases it to `deja/workflow`). Cold is the first call in a fresh process.');
    out.push('');
    out.push(
      table(
        ['bundler', 'warm, median (min–max)', 'cold', 'bundle size'],
        [
          ['deja (esbuild)', fmtSummary(x.deja.warm, ' ms'), ms(x.deja.cold), KB(x.deja.bytes)],
          ['esbuild alone on the same entry, no checks (the bundler floor)', fmtSummary(x.esbuildAlone.warm, ' ms'), '', KB(x.esbuildAlone.bytes)],
          ['Temporal (webpack)', fmtSummary(x.temporal.warm, ' ms'), ms(x.temporal.cold), KB(x.temporal.bytes)],
          ['deja against Temporal', `${fmt(x.temporal.warm.median / x.deja.warm.median)}× faster`, `${fmt(x.temporal.cold / x.deja.cold)}× faster`, `${fmt(x.temporal.bytes / x.deja.bytes)}× smaller`],
          ['deja against esbuild alone', `${fmt(x.deja.warm.median / x.esbuildAlone.warm.median)}× the time`, '', ''],
        ],
      ),
    );
  }

  // ── 2 ──
  if (rows.length) {
    out.push('');
    out.push('## 2. Replay throughput');
    out.push('');
    out.push(
      'One batch per history: copies of the recorded execution under distinct ids. Each engine starts from parsed JSON objects and ends with a verdict per history. ' +
        'Times are per batch, median (min–max).',
    );
    out.push('');
    out.push(
      table(
        ['history', 'batch', 'deja', 'deja `replayHistories`', 'the same runtime without an isolate (node:vm)', 'plain-function floor', 'Temporal'],
        rows.map((x) => [
          label(x),
          `${x.row.histories} × ${x.row.eventsPerHistory} events`,
          fmtSummary(x.row.ms.deja!, ' ms'),
          fmtSummary(x.row.ms.dejaApi!, ' ms'),
          fmtSummary(x.row.ms.floor!, ' ms'),
          fmtSummary(x.row.ms.pure!, ' ms'),
          x.temporal ? fmtSummary(x.temporal, ' ms') : 'n/a',
        ]),
      ),
    );
    out.push('');
    out.push(
      table(
        ['history', 'deja histories/s', 'deja events/s', 'without an isolate, events/s', 'Temporal histories/s', 'Temporal events/s', 'deja time ÷ its time without an isolate', 'deja ÷ Temporal', 'deja ÷ Temporal, fixed costs out'],
        rows.map((x) => {
          const d = x.row.ms.deja!.median;
          return [
            label(x),
            fmt(x.row.histories / (d / 1000)),
            fmt(eventsPerSecond(x.events, d)),
            fmt(eventsPerSecond(x.events, x.row.ms.floor!.median)),
            x.temporal ? fmt(x.row.histories / (x.temporal.median / 1000)) : 'n/a',
            x.temporal ? fmt(eventsPerSecond(x.events, x.temporal.median)) : 'n/a',
            `${fmt(d / x.row.ms.floor!.median)}×`,
            x.temporal ? `${fmt(x.temporal.median / d)}×` : 'n/a',
            x.row.single ? '' : marginalRatio(x, fixed) === undefined ? 'n/a (batch under 3× the fixed cost)' : `${fmt(marginalRatio(x, fixed)!)}×`,
          ];
        }),
      ),
    );
    if (fixed.single && fixed.batch && fixed.deja !== undefined) {
      const parts = [`deja about ${ms(fixed.deja)} (a new isolate pool)`];
      if (fixed.temporal !== undefined) parts.push(`Temporal about ${ms(fixed.temporal)} (a new replay worker)`);
      out.push('');
      out.push(
        `The "alone" row replays one ${fixed.single.row.history} history per call. Its time less the per-history time in the batch of ${fixed.batch.row.histories} is each engine's fixed cost per call: ${parts.join('; ')}. ` +
          'Each batch pays it once; it weighs most in the smallest batches, so the last column takes it out of both engines\' times.',
      );
    }
  }

  // ── 3 ──
  if (one) {
    out.push('');
    out.push(`## 3. One 1000-activity history (seqActivities(1000), ${one.events} events)`);
    out.push('');
    const rss = (x: RssResult | undefined) => (x ? `${MB(x.after)} (${MB(x.before)} before the replay; first replay ${ms(x.ms)})` : 'n/a');
    out.push(
      table(
        ['engine', 'time, median (min–max)', 'peak RSS of a fresh process'],
        [
          ['deja `replayHistory()`, first call in a process (a new isolate pool)', fmtSummary(one.ms.dejaReplayHistory!, ' ms'), rss(r.rssDeja)],
          ...(one.ms.dejaReplayHistoryAgain ? [['deja `replayHistory()`, each call after (the pool the last call left warm; a new context still)', fmtSummary(one.ms.dejaReplayHistoryAgain, ' ms'), '']] : []),
          ['deja, warm isolate pool (a worker\'s cache miss)', fmtSummary(one.ms.dejaWarmPool!, ' ms'), ''],
          ['the same runtime without an isolate (node:vm)', fmtSummary(one.ms.floor!, ' ms'), rss(r.rssFloor)],
          [oneTLabel, oneT ? fmtSummary(oneT, ' ms') : 'n/a', rss(r.rssTemporal)],
        ],
      ),
    );
    if (one.perProcess && one.perProcess.length > 1) {
      out.push('');
      out.push(
        `The ${one.perProcess.length} processes' own medians, \`replayHistory()\` first call / called again / warm pool / without an isolate: ${one.perProcess.map((p) => `${fmt(p.replayHistory)} / ${fmt(p.again)} / ${fmt(p.warmPool)} / ${fmt(p.floor)} ms`).join('; ')}. ` +
          'On this 2-core VM times differ from one process to the next (and are steady within one), which is why several processes are pooled.',
      );
    }
    if (b) {
      out.push('');
      out.push(`Where deja's time goes (medians of separate passes over the same history, ${b.activations} activations${one.perProcess && one.perProcess.length > 1 ? ', in the process with the median time' : ''}):`);
      out.push('');
      const total = b.newPool + b.validate + b.createExecution + b.activate + b.replayMachine;
      const pct = (x: number) => `${fmt((100 * x) / total)}%`;
      out.push(
        table(
          ['part', 'ms', 'share', 'per activation'],
          [
            ['new isolate pool (a first `replayHistory()` call only: new isolate, bundle compiled from its code cache)', fmt(b.newPool), pct(b.newPool), ''],
            ['validate the history (`parseHistory`)', fmt(b.validate), pct(b.validate), `${fmt((b.validate * 1000) / one.events)} µs per event`],
            ['new context (`createExecution`)', fmt(b.createExecution), pct(b.createExecution), ''],
            ['activations, both sides of the boundary', fmt(b.activate), pct(b.activate), `${fmt((b.activate * 1000) / b.activations)} µs`],
            ['— of which the isolate\'s CPU time (runtime, JSON inside)', fmt(b.isolateCpu), '', `${fmt((b.isolateCpu * 1000) / b.activations)} µs`],
            ['— of which the host side (calls, JSON outside)', fmt(b.activate - b.isolateCpu), '', `${fmt(((b.activate - b.isolateCpu) * 1000) / b.activations)} µs`],
            ['ReplayMachine (events → activations, command matching)', fmt(b.replayMachine), pct(b.replayMachine), `${fmt((b.replayMachine * 1000) / b.activations)} µs`],
            ['the activations without an isolate, for comparison', fmt(b.floorActivate), '', `${fmt((b.floorActivate * 1000) / b.activations)} µs`],
          ],
        ),
      );
    }
  }

  // ── 4 ──
  if (r.newExecution) {
    const n = r.newExecution;
    out.push('');
    out.push(`## 4. Starting a new execution (${n.samples} samples, bundle ${KB(n.bundleBytes)})`);
    out.push('');
    if (n.perProcessP50 && n.perProcessP50.length > 1) {
      out.push(`Pooled from ${n.perProcessP50.length} processes, whose own p50s for deja were ${n.perProcessP50.map((x) => ms(x)).join(', ')}.`);
      out.push('');
    }
    out.push(
      table(
        ['', 'deja p50', 'deja p99', 'without an isolate p50', 'without an isolate p99'],
        [
          ['new context + bundle run + init', ms(n.create.deja.p50), ms(n.create.deja.p99), ms(n.create.floor.p50), ms(n.create.floor.p99)],
          ['… and the first activation', ms(n.createAndFirstActivation.deja.p50), ms(n.createAndFirstActivation.deja.p99), ms(n.createAndFirstActivation.floor.p50), ms(n.createAndFirstActivation.floor.p99)],
          ['an empty isolated-vm context alone (V8\'s share)', ms(n.create.emptyContext.p50), ms(n.create.emptyContext.p99), '', ''],
          ...(n.create.dejaPrepared ? [['with a prepared context waiting (preparedContexts; the init alone)', ms(n.create.dejaPrepared.p50), ms(n.create.dejaPrepared.p99), '', '']] : []),
        ],
      ),
    );
  }

  // ── 5 ──
  if (r.heap) {
    const h = r.heap;
    out.push('');
    out.push(`## 5. Heap per cached execution (${h.executions} cached, each waiting on its first activity)`);
    out.push('');
    out.push(
      table(
        ['', 'isolate heap', 'host heap', 'total', 'process RSS'],
        [
          ['deja', KB(h.deja.isolateHeap), KB(h.deja.hostHeap), KB(h.deja.total), KB(h.deja.rss)],
          ['the same runtime without an isolate (node:vm context)', '', KB(h.floor.hostHeap), KB(h.floor.hostHeap), KB(h.floor.rss)],
          ['an empty isolated-vm context', KB(h.emptyContext), '', KB(h.emptyContext), ''],
        ],
      ),
    );
    if (!h.deja.gcInIsolate) out.push('\nThe isolate could not be garbage-collected before reading its heap: the isolate figure includes garbage.');
  }

  // ── 6 ──
  if (r.e2e) {
    const e = r.e2e;
    out.push('');
    out.push(`## 6. End to end on the in-memory store (seqActivities(1))`);
    out.push('');
    out.push(
      `Worker and client in one process on \`memory:\`. Throughput: ${e.workflows} workflows with ${e.concurrency} in flight; latency from \`client.start\` to \`result()\`. ` +
        'Temporal needs a server for this, so it has no row here.',
    );
    out.push('');
    out.push(
      table(
        ['', 'workflows/s, median (min–max)', 'latency under load p50 / p99', 'latency alone p50 / p99', 'CPU per workflow (this process, all threads)'],
        (['deja', 'dejaSync', 'floor'] as const)
          .filter((v) => e[v] !== undefined)
          .map((v) => [
            v === 'deja' ? 'deja' : v === 'dejaSync' ? 'deja, live activations on the event loop (before issue 6)' : 'same worker, the same runtime without isolates',
            fmtSummary(e[v]!.throughput),
            `${ms(e[v]!.loaded.p50)} / ${ms(e[v]!.loaded.p99)}`,
            `${ms(e[v]!.sequential.p50)} / ${ms(e[v]!.sequential.p99)}`,
            e[v]!.cpuMsPerWorkflow === undefined ? '' : ms(e[v]!.cpuMsPerWorkflow!),
          ]),
      ),
    );
  }

  if (r.validate) {
    out.push('');
    out.push('## 7. History validation: the schema-derived validator against the pre-issue-7 one');
    out.push('');
    out.push(
      '`parseHistory` (lib/history: TypeBox schemas compiled and dispatched on `type`, then the rules between events) against a frozen copy of the validator before issue 7 ' +
        '(bench/src/baseline/validate.ts: hand-written checks with hand-kept fast twins), on the same histories in one process, runs alternating. ' +
        'Each run validates a freshly parsed JSON object (JSON.parse is not timed). Medians (min–max) in ms per history, and µs per event. The two outputs must serialize identically.',
    );
    out.push('');
    out.push(
      table(
        ['history', 'events', 'schema (issue 7)', 'baseline (before)', 'µs/event now / before', 'ratio now / before', 'same output'],
        r.validate.rows.map((x) => [
          x.history,
          String(x.events),
          fmtSummary(x.schema),
          fmtSummary(x.baseline),
          `${fmt((x.schema.median * 1000) / x.events)} / ${fmt((x.baseline.median * 1000) / x.events)}`,
          `${fmt(x.schema.median / x.baseline.median)}×`,
          yes(x.same),
        ]),
      ),
    );
  }

  if (r.replayMachine) {
    out.push('');
    out.push('## 8. Replay: the table-driven machine against the pre-issue-7 one');
    out.push('');
    out.push(
      '`ReplayMachine` (lib/replay: handler tables over the event and command kinds) against a frozen copy of the machine before issue 7 ' +
        '(bench/src/baseline/replay.ts: a switch per event), on the same histories in one process, runs alternating. ' +
        '"Alone": the machine fed the completions the isolate gave when the history was first replayed, so only the machine is timed. ' +
        '"With the isolate": a new execution in a warm pool and the whole replay, as a worker pays on a cache miss. Medians (min–max) in ms per history.',
    );
    out.push('');
    out.push(
      table(
        ['history', 'events', 'alone: now', 'alone: before', 'ratio', 'with the isolate: now', 'with the isolate: before', 'ratio'],
        r.replayMachine.rows.map((x) => [
          x.history,
          String(x.events),
          fmtSummary(x.machine.current),
          fmtSummary(x.machine.baseline),
          `${fmt(x.machine.current.median / x.machine.baseline.median)}×`,
          fmtSummary(x.withIsolate.current),
          fmtSummary(x.withIsolate.baseline),
          `${fmt(x.withIsolate.current.median / x.withIsolate.baseline.median)}×`,
        ]),
      ),
    );
  }

  if (r.e2eStores) {
    const e = r.e2eStores;
    const names: Record<string, string> = {
      memory: 'memory: worker and client in one process',
      sqliteInProcess: 'SQLite: worker and client in one process',
      sqliteFullInProcess: 'SQLite with synchronous=FULL: worker and client in one process',
      sqlite1: 'SQLite: client here, 1 worker process',
      sqlite2: 'SQLite: client here, 2 worker processes',
    };
    out.push('');
    out.push('## 9. End to end by store: memory and SQLite, in one process and across processes (seqActivities(1))');
    out.push('');
    out.push(
      `seqActivities(1) on each store, runs alternating; each run has its own store (a fresh SQLite file in WAL mode, synchronous=NORMAL unless the row says FULL) and workers. ` +
        `Throughput: ${e.workflows} workflows with ${e.concurrency} in flight; latency from \`client.start\` to \`result()\`, under that load and one at a time. ` +
        'With worker processes, the client process learns of each result through the SQLite change feed (a poll of PRAGMA data_version).',
    );
    out.push('');
    out.push(
      table(
        ['', 'workflows/s, median (min–max)', 'latency under load p50 / p99', 'latency alone p50 / p99', 'CPU per workflow (this process)'],
        Object.entries(e.variants).map(([k, x]) => [names[k] ?? k, fmtSummary(x.throughput), `${ms(x.loaded.p50)} / ${ms(x.loaded.p99)}`, `${ms(x.sequential.p50)} / ${ms(x.sequential.p99)}`, x.cpuMsPerWorkflow === undefined ? '' : ms(x.cpuMsPerWorkflow)]),
      ),
    );
    out.push('');
    out.push(
      `Cross-process wake-up of the SQLite change feed (a commit in one process until a subscriber in another has seen it; half a round trip, ${e.wakeUp.samples} samples): ` +
        `after the poll went idle p50 ${ms(e.wakeUp.idle.p50)} / p99 ${ms(e.wakeUp.idle.p99)}; right after activity p50 ${ms(e.wakeUp.busy.p50)} / p99 ${ms(e.wakeUp.busy.p99)}.`,
    );
  }

  if (r.e2ePostgres) {
    const e = r.e2ePostgres;
    const names: Record<string, string> = {
      memory: 'memory: worker and client in one process',
      sqlite1: 'SQLite: client here, 1 worker process',
      sqlite2: 'SQLite: client here, 2 worker processes',
      sqlite4: 'SQLite: client here, 4 worker processes',
      postgresInProcess: 'PostgreSQL: worker and client in one process',
      postgres1: 'PostgreSQL: client here, 1 worker process',
      postgres2: 'PostgreSQL: client here, 2 worker processes',
      postgres4: 'PostgreSQL: client here, 4 worker processes',
      dbos: `DBOS Transact ${e.dbosVersion ?? ''}: the same one-step workflow, in one process`,
    };
    out.push('');
    out.push(`## 10. End to end on PostgreSQL ${e.postgresVersion}: worker processes, beside SQLite, memory and DBOS (seqActivities(1))`);
    out.push('');
    out.push(
      `seqActivities(1), runs alternating; a private PostgreSQL server with its default durability (fsync and synchronous_commit on) started for the measure; each run a fresh schema (or SQLite file). ` +
        `Throughput: ${e.workflows} workflows with ${e.concurrency} in flight; latency from start to result, under that load and one at a time.` +
        (e.dbosMissing ? ` DBOS was not measured: ${e.dbosMissing}.` : ''),
    );
    out.push('');
    out.push(
      table(
        ['', 'workflows/s, median (min–max)', 'latency under load p50 / p99', 'latency alone p50 / p99'],
        Object.entries(e.variants).map(([k, x]) => [names[k] ?? k, fmtSummary(x!.throughput), `${ms(x!.loaded.p50)} / ${ms(x!.loaded.p99)}`, `${ms(x!.sequential.p50)} / ${ms(x!.sequential.p99)}`]),
      ),
    );
  }

  if (r.growth?.rows.length) {
    const g = r.growth;
    const us = (msPerReplay: number, tasks: number) => `${fmt((msPerReplay * 1000) / tasks)} µs`;
    out.push('');
    out.push('## 11. Time per task as history grows (timerLoop(n), n = 10 to 10,000)');
    out.push('');
    out.push(
      `timerLoop(n) recorded in this measure's process (${ms(g.recordMs)}, not timed), then replayed from a parsed history, validation included: ` +
        'deja in a warm isolate pool (a new context; the recorded tasks in bulk), the same runtime without an isolate (node:vm, one task at a time), ' +
        'and the plain-function floor. Time per workflow task (n + 1 tasks), from the median of the runs; "beyond the first history" is the time ' +
        'over the shortest history\'s, per task added, so the fixed cost of a history (a new context, validation) is out of it. timerLoop, because 10,000 activities ' +
        'would be 60,005 events, past the 51,200 a history may hold. A flat column costs the same per task however long the history.',
    );
    out.push('');
    out.push(
      table(
        ['tasks', 'events', 'runs', 'deja per task', 'deja per task beyond the first history', 'without an isolate, per task', 'plain-function floor, per task', 'deja ÷ without an isolate', 'deja ÷ plain floor'],
        g.rows.map((x) => [
          count(x.tasks),
          count(x.events),
          String(x.runs),
          us(x.ms.deja.median, x.tasks),
          x === g.rows[0] ? '' : us(x.ms.deja.median - g.rows[0].ms.deja.median, x.tasks - g.rows[0].tasks),
          us(x.ms.noIsolate.median, x.tasks),
          us(x.ms.plain.median, x.tasks),
          `${fmt(x.ms.deja.median / x.ms.noIsolate.median)}×`,
          `${fmt(x.ms.deja.median / x.ms.plain.median)}×`,
        ]),
      ),
    );
  }

  // ── hashes ──
  out.push('');
  out.push('## Output hashes');
  out.push('');
  out.push('SHA-256 of what each engine produced, so that a speed-up that changes behaviour shows.');
  out.push('');
  const combined = (e: 'deja' | 'floor' | 'pure') => (rows.length ? sha256(rows.map((x) => x.row.hash[e]).join('\n')).slice(0, 16) : 'n/a');
  const temporalCombined = rows.some((x) => x.temporalHash) ? sha256(rows.map((x) => x.temporalHash ?? '').join('\n')).slice(0, 16) : 'n/a';
  const hashRows: string[][] = [
    ['deja replay: every completion of every activation, all batches', combined('deja')],
    ['the same runtime without an isolate: the same', `${combined('floor')} (identical to deja: ${yes(rows.length > 0 && rows.every((x) => x.row.hash.deja === x.row.hash.floor))})`],
    ['plain-function floor: the workflow results', combined('pure')],
    ['Temporal replay: the per-history results', temporalCombined],
  ];
  if (r.bundle) {
    hashRows.push(['deja bundle', r.bundle.deja.hash]);
    hashRows.push(['Temporal bundle', r.bundle.temporal.hash]);
  }
  if (r.e2e) hashRows.push(['end-to-end workflow results (distinct values; expected 0)', r.e2e.resultsHash]);
  if (r.e2eStores) hashRows.push(['end-to-end by store, workflow results (distinct values; expected 0)', r.e2eStores.resultsHash]);
  if (r.e2ePostgres) hashRows.push(['end-to-end on PostgreSQL, workflow results (distinct values; expected 0)', r.e2ePostgres.resultsHash]);
  if (r.validate) for (const x of r.validate.rows) hashRows.push([`validated ${x.history} (both validators)`, x.hash]);
  if (r.growth) {
    for (const x of r.growth.rows) {
      hashRows.push([`§11 timerLoop(${x.n}): deja's completions (and without an isolate: identical ${yes(x.hash.deja === x.hash.noIsolate)})`, x.hash.deja.slice(0, 16)]);
    }
  }
  out.push(table(['outputs', 'hash'], hashRows));

  // ── shortfalls ──
  out.push('');
  out.push('## Where deja falls short, and why');
  out.push('');
  const missed = targets.filter((t) => t.met === false);
  if (missed.length === 0) out.push('Every target was met in this run.');
  for (const t of missed) {
    out.push(`### ${t.what}: ${t.ratio || t.deja} (target ${t.goal})`);
    out.push('');
    out.push(explain(t, r, rows));
    out.push('');
  }
  return out.join('\n').replace(/\n+$/, '\n');
}

/** The account of a missed target, from this run's own breakdown. */
function explain(t: Target, r: Partial<Results>, rows: MergedRow[]): string {
  const b = r.oneHistoryDeja?.breakdown;
  const events = r.oneHistoryDeja?.events ?? 0;
  const perAct = (x: number) => (b ? fmt((x * 1000) / b.activations) : '?');
  const parts = b
    ? `In the breakdown of seqActivities(1000) (§3), validating the ${events} events takes ${ms(b.validate)} (${fmt((b.validate * 1000) / events)} µs per event), ` +
      `the ${b.activations} activations ${ms(b.activate)} (${perAct(b.activate)} µs each: ${perAct(b.isolateCpu)} µs of it inside the isolate, ${perAct(b.activate - b.isolateCpu)} µs on the host), ` +
      `and the ReplayMachine ${ms(b.replayMachine)}. The same runtime without an isolate, with the same JSON protocol, spends ${perAct(b.floorActivate)} µs per activation: ` +
      `the isolate boundary itself costs about ${perAct(b.activate - b.floorActivate)} µs per activation. `
    : '';
  if (t.what.startsWith('replay throughput')) {
    const best = Math.max(...rows.filter((x) => x.temporal && !x.row.single).map((x) => eventsPerSecond(x.events, x.temporal!.median)));
    const small = rows.find((x) => x.temporal && !x.row.single && x.row.histories > 1 && x.events / x.row.histories < 100);
    return (
      `Temporal's replayer does at most ${fmt(best)} events/s here, so the target asks for about ${fmt(best * 100)} events/s: ` +
      `${fmt(1e6 / (best * 100))} µs per event, or about ${fmt((6 * 1e6) / (best * 100))} µs per activity step (6 events). ` +
      parts +
      (b
        ? `So ${fmt((100 * (b.validate + b.floorActivate + b.replayMachine)) / (b.newPool + b.validate + b.createExecution + b.activate + b.replayMachine))}% of deja's time is work the same runtime does without an isolate too, not the sandbox: a full validation of every event, and per workflow task the runtime's work with a JSON round trip each way. `
        : '') +
      'Already done in lib/ and runtime/: validation is one generated pass per event type; bulk replay sends the recorded tasks\' activations in windows of 256 and takes one call per task where the workflow allows it (two where a condition is pending); plain activity arguments skip the JSON round trip. ' +
      'What is left is the runtime\'s own work per task: a JSON document each way (the window of activations parsed inside the isolate, each completion serialized, and both again on the host), the runtime\'s bookkeeping in null-prototype records (about 50 ns for each record or list made, several per task, against about 5 ns for a plain object literal: the price of a runtime that workflow code cannot reach through Object.prototype), and the garbage they leave. A flat wire format (arrays, not JSON objects per task) is the next step. ' +
      'Short histories (n = 10) are dominated by the new context per history (§4), which is the same without an isolate' +
      (small && r.newExecution
        ? `: Temporal takes ${ms(small.temporal!.median / small.row.histories)} per ${small.row.history} history here, so 100× would leave ${ms(small.temporal!.median / small.row.histories / 100)} per history, while V8 alone needs ${ms(r.newExecution.create.emptyContext.p50)} for an empty context (p50). With a context per history, as isolation requires, 100× is out of reach for short histories.`
        : '.')
    );
  }
  if (t.what.startsWith('replay time against the same runtime without an isolate')) {
    return parts + 'The ratio is highest where histories are short and each needs a new context.';
  }
  if (t.what.startsWith('one 1000-activity')) {
    const one = r.oneHistoryDeja!;
    return (
      parts +
      `Even the same runtime without an isolate takes ${ms(one.ms.floor!.median)}, so removing the isolate alone cannot reach 20 ms on this machine: ` +
      (b ? `validation (${ms(b.validate)}) and the isolate boundary (about ${ms(b.activate - b.floorActivate)}) are the two parts that are deja's own choice; the runtime's work and the ReplayMachine are paid without an isolate too. ` : '') +
      (one.ms.dejaReplayHistoryAgain ? `A call after the first reuses the isolate pool the last call left warm: ${ms(one.ms.dejaReplayHistoryAgain.median)}. ` : '') +
      'What is left is listed under replay throughput: the runtime\'s work and JSON per task inside the isolate.'
    );
  }
  if (t.what.startsWith('heap per cached')) {
    const h = r.heap!;
    return (
      `An empty isolated-vm context already holds ${KB(h.emptyContext)} of isolate heap on this V8 (${process.versions.v8}); ` +
      `deja's runtime adds ${KB(h.deja.isolateHeap - h.emptyContext)} (its module objects, the patched Date, Math and timer globals, the workflow state) and the host ${KB(h.deja.hostHeap)} (the SandboxExecution, its references and the ReplayMachine). ` +
      `Without an isolate, the node:vm context costs about the same (${KB(h.floor.hostHeap)}). With one V8 context per execution the target is out of reach: ` +
      'closing it needs executions to share a context (as Temporal\'s reuseV8Context does, swapping each execution\'s state in and out of one context) or idle executions to be evicted and rebuilt by replay sooner. ' +
      'What deja adds was taken apart once with heap snapshots of node:vm contexts (issue 13\'s note, not measured by this run): mostly what the bundle\'s run makes (about 340 closures with a feedback cell each, about 100 hidden classes of the runtime\'s classes, module objects and patched built-ins) and the workflow state made at init; building rarely used parts (updates, children, interceptors, built-in queries) on first use would take some of it off.'
    );
  }
  if (t.what.startsWith('bundle')) {
    const x = r.bundle!;
    return (
      `esbuild alone, on the same entry with no checks, takes ${ms(x.esbuildAlone.warm.median)}; deja's bundler ${ms(x.deja.warm.median)}. ` +
      `The ${ms(x.deja.warm.median - x.esbuildAlone.warm.median)} between them are deja's own work around the build: an onLoad hook that reads every project file in JavaScript ` +
      'and runs a second esbuild transform over it to find free Node globals, the resolve hooks, then hashing and writing the bundle file. ' +
      `To be 30× faster than Temporal here deja needs ${ms(x.temporal.warm.median / 30)} or less, ` +
      (x.esbuildAlone.warm.median <= x.temporal.warm.median / 30 ? 'which esbuild alone meets: ' : 'which even esbuild alone missed in this run; still, ') +
      'caching the free-globals check per file content hash (it only changes when the file does), so that a rebuild pays esbuild\'s time and little more, would close the gap.'
    );
  }
  if (t.what.startsWith('new execution')) {
    const n = r.newExecution!;
    return (
      `Of the ${ms(n.create.deja.p50)}, V8 creating an empty context is ${ms(n.create.emptyContext.p50)} (p50); the rest is running the ${KB(n.bundleBytes)} bundle in it ` +
      '(the runtime\'s module initialisers, the patched globals, the workflows module) and the init call. The same runtime without an isolate pays about the same ' +
      `(${ms(n.create.floor.p50)}). What would close it: a smaller per-context setup (install the globals and build the runtime's objects lazily, on first use), ` +
      'or reusing contexts (one context shared by many executions, as in the heap section below).'
    );
  }
  return '';
}
