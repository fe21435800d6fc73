/**
 * What every bench process shares (host side): paths, the settings of a full and a quick run,
 * the corpus of recorded histories, and the bundles.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundleWorkflowCode, type History, type WorkflowBundle } from './deja';
import type { TemporalHistoryJson } from './temporal-history';
import type { TemporalBundle } from './temporal';
import { WORKLOADS, type WorkloadName } from './record';

export const BENCH_DIR = path.resolve(__dirname, '..');
export const WORK_DIR = path.join(BENCH_DIR, '.work');
export const WORKFLOWS_PATH = path.join(__dirname, 'workloads', 'workflows.ts');
export const CHANGED_PATH = path.join(__dirname, 'workloads', 'changed.ts');
export const CORPUS_FILE = path.join(WORK_DIR, 'corpus.json');
export const temporalBundleFile = (which: 'workflows' | 'changed') => path.join(WORK_DIR, `temporal-${which}.js`);

export interface Settings {
  quick: boolean;
  sizes: number[];
  /** Replay batches hold about this many workflow steps: max(1, stepsPerBatch / n) histories. */
  stepsPerBatch: number;
  warmups: number;
  /** Timed runs for Temporal (seconds per run) and for deja and the floors (milliseconds). */
  runsTemporal: number;
  runsDeja: number;
  /**
   * Processes for deja's replay and new-execution measures, whose samples are pooled. On this
   * 2-core VM a replay through isolated-vm took either about 23 ms or about 41 ms per process for
   * the same work (steady within a process, and steady at the lower figure when pinned to one CPU
   * with taskset), so one process would report whichever case it happened to get.
   */
  dejaProcesses: number;
  bundleRuns: number;
  /** Whether Temporal's time for one 1000-activity history gets its own medians (else: its one cold run from the RSS process). */
  oneHistoryTemporal: boolean;
  newExecutionSamples: number;
  cachedExecutions: number;
  e2eWorkflows: number;
  e2eConcurrency: number;
  e2eSequential: number;
  e2eRuns: number;
}

export function settingsFor(quick: boolean): Settings {
  return quick
    ? {
        quick,
        sizes: [10, 100],
        stepsPerBatch: 100,
        warmups: 1,
        runsTemporal: 2,
        runsDeja: 5,
        dejaProcesses: 1,
        bundleRuns: 3,
        oneHistoryTemporal: false,
        newExecutionSamples: 300,
        cachedExecutions: 1000,
        e2eWorkflows: 200,
        e2eConcurrency: 50,
        e2eSequential: 50,
        e2eRuns: 2,
      }
    : {
        quick,
        sizes: [10, 100, 1000],
        stepsPerBatch: 1000,
        warmups: 1,
        runsTemporal: 5,
        runsDeja: 5,
        dejaProcesses: 3,
        bundleRuns: 5,
        oneHistoryTemporal: true,
        newExecutionSamples: 3000,
        cachedExecutions: 1000,
        e2eWorkflows: 2000,
        e2eConcurrency: 50,
        e2eSequential: 300,
        e2eRuns: 5,
      };
}

export const key = (workload: WorkloadName, n: number) => `${workload}(${n})`;

export interface CorpusEntry {
  workload: WorkloadName;
  n: number;
  events: number;
  deja: History;
  temporal: TemporalHistoryJson;
}

export interface Corpus {
  sizes: number[];
  entries: CorpusEntry[];
}

export function loadCorpus(): Corpus {
  return JSON.parse(fs.readFileSync(CORPUS_FILE, 'utf8')) as Corpus;
}

export function entryFor(corpus: Corpus, workload: WorkloadName, n: number): CorpusEntry {
  const e = corpus.entries.find((x) => x.workload === workload && x.n === n);
  if (!e) throw new Error(`no recorded history for ${key(workload, n)}`);
  return e;
}

export { WORKLOADS };

export function dejaBundle(which: 'workflows' | 'changed' = 'workflows'): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath: which === 'workflows' ? WORKFLOWS_PATH : CHANGED_PATH, cacheDir: path.join(WORK_DIR, 'deja-cache') });
}

export function loadTemporalBundle(which: 'workflows' | 'changed' = 'workflows'): TemporalBundle {
  return { code: fs.readFileSync(temporalBundleFile(which), 'utf8') };
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Runs the garbage collector when the process has it (children run with --expose-gc). */
export function collect(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
