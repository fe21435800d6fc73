/**
 * Prepares a bench run (host side): records every workload with deja, derives the Temporal JSON
 * histories of the same executions, bundles both workflow files for Temporal, and proves the
 * histories valid: each engine must accept every history against workflows.ts and must reject
 * every one against changed.ts (last step changed) with its nondeterminism error.
 */
import * as fs from 'node:fs';
import { DeterminismViolationError, replayHistories } from '../deja';
import { startRecorder } from '../record';
import { toTemporalHistory } from '../temporal-history';
import { bundleTemporal, replayTemporal } from '../temporal';
import { CHANGED_PATH, CORPUS_FILE, WORK_DIR, WORKFLOWS_PATH, WORKLOADS, dejaBundle, key, loadTemporalBundle, temporalBundleFile, type Corpus, type CorpusEntry, type Settings } from '../setup';

export interface ProofRow {
  history: string;
  events: number;
  dejaAccepts: boolean;
  dejaRejectsChanged: string;
  temporalAccepts: boolean;
  temporalRejectsChanged: string;
}

export interface PrepareResult {
  recordMs: number;
  proof: ProofRow[];
  valid: boolean;
}

export async function prepare(settings: Settings): Promise<PrepareResult> {
  fs.mkdirSync(WORK_DIR, { recursive: true });
  const bundle = await dejaBundle('workflows');
  const t0 = performance.now();
  const recorder = await startRecorder(bundle);
  const entries: CorpusEntry[] = [];
  try {
    // Measure 3 needs seqActivities(1000) even when the run's sizes stop below it (--quick).
    const plan = WORKLOADS.flatMap((workload) => {
      const sizes = workload === 'seqActivities' && !settings.sizes.includes(1000) ? [...settings.sizes, 1000] : settings.sizes;
      return sizes.map((n) => ({ workload, n }));
    });
    for (const { workload, n } of plan) {
      {
        const deja = await recorder.record(workload, n);
        entries.push({ workload, n, events: deja.events.length, deja, temporal: toTemporalHistory(deja) });
      }
    }
  } finally {
    await recorder.close();
  }
  const recordMs = performance.now() - t0;
  const corpus: Corpus = { sizes: settings.sizes, entries };
  fs.writeFileSync(CORPUS_FILE, JSON.stringify(corpus));

  for (const which of ['workflows', 'changed'] as const) {
    const b = await bundleTemporal(which === 'workflows' ? WORKFLOWS_PATH : CHANGED_PATH);
    fs.writeFileSync(temporalBundleFile(which), b.code);
  }

  // The proof, on the histories of the run's sizes (with --quick, seqActivities(1000) is recorded
  // for measure 3 only). deja: replayHistories (public API); Temporal: runReplayHistories.
  const proven = entries.filter((e) => settings.sizes.includes(e.n));
  const changedBundle = await dejaBundle('changed');
  const dejaOutcome = async (b: typeof bundle) => {
    const out = new Map<string, Error | undefined>();
    for await (const r of replayHistories({ workflowBundle: b }, proven.map((e) => e.deja))) out.set(r.workflowId, r.error);
    return out;
  };
  const dejaOriginal = await dejaOutcome(bundle);
  const dejaChanged = await dejaOutcome(changedBundle);
  const temporalInput = proven.map((e) => ({ workflowId: e.deja.workflowId, json: e.temporal }));
  const temporalOriginal = new Map((await replayTemporal(loadTemporalBundle('workflows'), temporalInput)).map((r) => [r.workflowId, r]));
  const temporalChanged = new Map((await replayTemporal(loadTemporalBundle('changed'), temporalInput)).map((r) => [r.workflowId, r]));

  const proof = proven.map((e): ProofRow => {
    const id = e.deja.workflowId;
    const dc = dejaChanged.get(id);
    const tc = temporalChanged.get(id);
    return {
      history: key(e.workload, e.n),
      events: e.events,
      dejaAccepts: dejaOriginal.has(id) && dejaOriginal.get(id) === undefined,
      dejaRejectsChanged: dc instanceof DeterminismViolationError ? 'DeterminismViolationError' : dc ? `wrong error: ${dc.name}: ${dc.message}` : 'accepted (wrong)',
      temporalAccepts: temporalOriginal.has(id) && temporalOriginal.get(id)!.error === undefined,
      temporalRejectsChanged: tc?.errorClass === 'DeterminismViolationError' ? 'DeterminismViolationError' : tc?.error ? `wrong error: ${tc.errorClass}: ${tc.error}` : 'accepted (wrong)',
    };
  });
  const valid = proof.every(
    (p) => p.dejaAccepts && p.temporalAccepts && p.dejaRejectsChanged === 'DeterminismViolationError' && p.temporalRejectsChanged === 'DeterminismViolationError',
  );
  return { recordMs, proof, valid };
}
