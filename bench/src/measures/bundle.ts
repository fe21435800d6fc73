/**
 * Measure 1, bundle time (host side): deja's bundler (esbuild) against Temporal's
 * `bundleWorkflowCode` (webpack) on the same workflow file, src/workloads/workflows.ts. The first
 * call of each in a fresh process is reported apart as "cold"; the timed runs alternate between
 * the engines, so drift on the machine touches both alike.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundleWorkflowCode } from '../deja';
import { bundleTemporal } from '../temporal';
import { WORKFLOWS_PATH, collect, sha256, type Settings } from '../setup';
import { now, summarize, type Summary } from '../stats';

export interface BundleResult {
  deja: { cold: number; warm: Summary; bytes: number; hash: string };
  temporal: { cold: number; warm: Summary; bytes: number; hash: string };
}

export async function measureBundle(settings: Settings): Promise<BundleResult> {
  // A fresh cache directory per call: deja writes its bundle file there each time.
  const cacheRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-bench-bundle-'));
  let i = 0;
  const deja = () => bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, cacheDir: path.join(cacheRoot, String(i++)) });
  const temporal = () => bundleTemporal(WORKFLOWS_PATH);
  try {
    let t0 = now();
    const d = await deja();
    const dejaCold = now() - t0;
    t0 = now();
    const t = await temporal();
    const temporalCold = now() - t0;
    const dejaRuns: number[] = [];
    const temporalRuns: number[] = [];
    for (let r = 0; r < settings.bundleRuns; r++) {
      collect();
      t0 = now();
      await deja();
      dejaRuns.push(now() - t0);
      collect();
      t0 = now();
      await temporal();
      temporalRuns.push(now() - t0);
    }
    return {
      deja: { cold: dejaCold, warm: summarize(dejaRuns), bytes: Buffer.byteLength(d.code), hash: sha256(d.code).slice(0, 16) },
      temporal: { cold: temporalCold, warm: summarize(temporalRuns), bytes: Buffer.byteLength(t.code), hash: sha256(t.code).slice(0, 16) },
    };
  } finally {
    fs.rmSync(cacheRoot, { recursive: true, force: true });
  }
}
