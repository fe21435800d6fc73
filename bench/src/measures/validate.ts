/**
 * Measure 7, history validation (host side): `parseHistory` (lib/history, the validator derived
 * from the TypeBox schemas of issue 7) against the pre-issue-7 validator (bench/src/baseline/,
 * a frozen copy), on the same histories in the same process, runs alternating. Both start from
 * a parsed JSON object, fresh for every run (JSON.parse is outside the timed region), as replay
 * does. The histories: every recorded one of the corpus (seqActivities(1000) among them, about
 * 6,000 events), and a synthetic 10,000-event one that uses every event type, failures with
 * causes, retry policies and payloads of every JSON kind.
 *
 * Fields the baseline predates: histories gained fields after the baseline was frozen (`identity`
 * on workflowExecutionStarted, `sdkMetadata` on workflowTaskCompleted, …), and the baseline, whose
 * schema is closed, refuses them as unknown. The baseline is not changed; instead the measure
 * asks it which fields it refuses (`baselineDrops`: parse, and on "unknown field" drop that field
 * path from every event of that type, until it accepts) and feeds it a copy without them. So the
 * baseline validates slightly less than today's validator does (today's still reads the whole
 * history), and the row names what was dropped. The outputs are compared like with like: today's
 * output with the same fields dropped (deleting keys keeps the canonical order of the others)
 * must serialize to exactly the baseline's output of the stripped copy.
 */
import { parseHistory as parseBaseline } from '../baseline/validate';
import { parseHistory, type History, type HistoryEvent } from '../deja';
import { collect, key, loadCorpus, sha256, type Settings } from '../setup';
import { summarize, type Summary } from '../stats';

export interface ValidateRow {
  history: string;
  events: number;
  /** ms per validation of the whole history. */
  schema: Summary;
  baseline: Summary;
  /** Hash of both validators' output (serialized, without `baselineDrops`); they must agree. */
  hash: string;
  same: boolean;
  /** The fields the baseline predates, dropped from its input and from today's output before comparing: "type.path". */
  baselineDrops: string[];
}

/** A field the baseline refuses: a path of keys in every event of one type. */
interface Drop {
  type: string;
  path: string[];
}

/** Deletes each dropped field, in place, from every event of its type (a missing one is skipped). */
function dropFields(history: { events: Record<string, unknown>[] }, drops: readonly Drop[]): void {
  for (const event of history.events) {
    for (const drop of drops) {
      if (event.type !== drop.type) continue;
      let at: unknown = event;
      for (let i = 0; i < drop.path.length - 1 && typeof at === 'object' && at !== null; i++) at = (at as Record<string, unknown>)[drop.path[i]];
      if (typeof at === 'object' && at !== null) delete (at as Record<string, unknown>)[drop.path[drop.path.length - 1]];
    }
  }
}

/**
 * The fields of a history that the baseline refuses as unknown, found by asking it: one field per
 * try, dropped from every event of its type. Any other refusal is a real disagreement and throws.
 */
function baselineDrops(text: string): Drop[] {
  const drops: Drop[] = [];
  for (;;) {
    const input = JSON.parse(text) as { events: Record<string, unknown>[] };
    dropFields(input, drops);
    try {
      parseBaseline(input);
      return drops;
    } catch (err) {
      const e = err as { code?: string; eventId?: number; field?: string; message?: string };
      if (e.code !== 'DEJA_INVALID_HISTORY' || !/: unknown field "/.test(e.message ?? '') || e.eventId === undefined || e.field === undefined || e.field.includes('[')) throw err;
      const drop = { type: input.events[e.eventId - 1].type as string, path: e.field.split('.') };
      if (drops.some((d) => d.type === drop.type && d.path.join('.') === drop.path.join('.'))) throw err;
      drops.push(drop);
    }
  }
}

export interface ValidateResult {
  rows: ValidateRow[];
}

/** A valid history of about `events` events, with every event type in it. */
export function mixedHistory(events: number): History {
  const out: HistoryEvent[] = [];
  let t = Date.UTC(2024, 0, 1);
  const add = (e: Record<string, unknown>): number => {
    const eventId = out.length + 1;
    out.push({ eventId, eventTime: new Date(t).toISOString(), ...e } as unknown as HistoryEvent);
    t += 7;
    return eventId;
  };
  const workflowId = 'mixed';
  const runId = 'run-mixed';
  add({ type: 'workflowExecutionStarted', workflowType: 'mixed', workflowId, runId, firstExecutionRunId: runId, taskQueue: 'q', input: [{ n: events }], attempt: 1, randomnessSeed: 'seed', workflowTaskTimeoutMs: 10_000 });
  const task = (end: 'completed' | 'failed' = 'completed'): number => {
    const scheduledEventId = add({ type: 'workflowTaskScheduled', taskQueue: 'q', attempt: 1 });
    const startedEventId = add({ type: 'workflowTaskStarted', scheduledEventId, identity: 'worker-1' });
    if (end === 'failed') {
      add({ type: 'workflowTaskFailed', scheduledEventId, startedEventId, cause: 'nondeterminism', failure: { message: 'boom', kind: 'application', type: 'DeterminismViolationError', stack: 'Error: boom\n    at x' } });
      return 0;
    }
    return add({ type: 'workflowTaskCompleted', scheduledEventId, startedEventId, identity: 'worker-1' });
  };
  const failure = (i: number) => ({
    message: `attempt ${i} failed`,
    kind: 'application',
    type: 'Flaky',
    nonRetryable: false,
    details: [{ attempt: i, tags: ['a', 'b'], ok: false, ratio: 0.5, none: null }],
    cause: { message: 'socket hang up', kind: 'application', cause: { message: 'ECONNRESET', kind: 'application' } },
  });
  for (let i = 0; out.length < events - 12; i++) {
    if (i % 10 === 9) task('failed');
    const wt = task();
    const act = add({
      type: 'activityTaskScheduled',
      activityId: String(i),
      activityType: 'step',
      taskQueue: 'q',
      input: [i, `item-${i}`, { nested: { list: [1, 2, 3] } }],
      startToCloseTimeoutMs: 60_000,
      retryPolicy: { initialIntervalMs: 1000, backoffCoefficient: 2, maximumAttempts: 5, nonRetryableErrorTypes: ['Fatal'] },
      workflowTaskCompletedEventId: wt,
    });
    const timer = add({ type: 'timerStarted', timerId: String(i), startToFireTimeoutMs: 1000, workflowTaskCompletedEventId: wt });
    add({ type: 'workflowExecutionSignaled', signalName: 'poke', input: [{ i }], identity: 'client' });
    if (i % 3 === 0) {
      const started = add({ type: 'activityTaskStarted', scheduledEventId: act, attempt: 1, identity: 'worker-2' });
      add({ type: 'activityTaskCompleted', scheduledEventId: act, startedEventId: started, result: { value: i, text: `done ${i}` } });
    } else if (i % 3 === 1) {
      const started = add({ type: 'activityTaskStarted', scheduledEventId: act, attempt: 5, identity: 'worker-2' });
      add({ type: 'activityTaskFailed', scheduledEventId: act, startedEventId: started, failure: failure(i), retryState: 'maximumAttemptsReached' });
    } else {
      add({ type: 'activityTaskTimedOut', scheduledEventId: act, failure: { message: 'timed out', kind: 'timeout', timeoutType: 'scheduleToStart', retryState: 'timeout' }, retryState: 'timeout' });
    }
    if (i % 2 === 0) add({ type: 'timerFired', timerId: String(i), startedEventId: timer });
    else {
      const wt2 = task();
      add({ type: 'timerCanceled', timerId: String(i), startedEventId: timer, workflowTaskCompletedEventId: wt2 });
    }
  }
  const last = task();
  add({ type: 'workflowExecutionCompleted', result: { ok: true }, workflowTaskCompletedEventId: last });
  return { format: 'deja.history', version: 1, workflowId, runId, events: out };
}

export async function measureValidate(settings: Settings): Promise<ValidateResult> {
  const corpus = loadCorpus();
  const histories: { name: string; text: string; events: number }[] = corpus.entries.map((e) => ({
    name: key(e.workload, e.n),
    text: JSON.stringify(e.deja),
    events: e.events,
  }));
  const mixed = mixedHistory(10_000);
  histories.push({ name: 'mixed(10,000 events)', text: JSON.stringify(mixed), events: mixed.events.length });

  const runs = settings.quick ? 21 : 41;
  const warmups = 5;
  const rows: ValidateRow[] = [];
  for (const h of histories) {
    // The outputs must agree: both validators rebuild every event in canonical key order. The
    // baseline reads a copy without the fields it predates; today's output loses the same ones.
    const drops = baselineDrops(h.text);
    const strippedInput = JSON.parse(h.text) as { events: Record<string, unknown>[] };
    dropFields(strippedInput, drops);
    const strippedText = JSON.stringify(strippedInput);
    const ours = JSON.parse(JSON.stringify(parseHistory(JSON.parse(h.text)))) as { events: Record<string, unknown>[] };
    dropFields(ours, drops);
    const a = JSON.stringify(ours);
    const b = JSON.stringify(parseBaseline(JSON.parse(strippedText)));
    const schema: number[] = [];
    const baseline: number[] = [];
    // A sample validates at least 20,000 events (three copies at least), so that a garbage
    // collection that happens to fall in one sample weighs less.
    const reps = Math.max(3, Math.ceil(20_000 / h.events));
    const inputs = (text: string): unknown[] => Array.from({ length: reps }, () => JSON.parse(text));
    for (let r = -warmups; r < runs; r++) {
      // Alternate which goes first, so neither always runs right after a collection.
      const order = r % 2 === 0 ? (['schema', 'baseline'] as const) : (['baseline', 'schema'] as const);
      for (const which of order) {
        const xs = inputs(which === 'schema' ? h.text : strippedText);
        collect();
        const fn = which === 'schema' ? parseHistory : parseBaseline;
        const t0 = performance.now();
        for (const x of xs) fn(x);
        const ms = (performance.now() - t0) / reps;
        if (r >= 0) (which === 'schema' ? schema : baseline).push(ms);
      }
    }
    rows.push({ history: h.name, events: h.events, schema: summarize(schema), baseline: summarize(baseline), hash: sha256(a), same: a === b, baselineDrops: drops.map((d) => `${d.type}.${d.path.join('.')}`) });
  }
  return { rows };
}
