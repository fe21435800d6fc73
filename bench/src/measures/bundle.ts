/**
 * Measure 1, bundle time (host side): deja's bundler (esbuild) against Temporal's
 * `bundleWorkflowCode` (webpack) on the same workflow file, src/workloads/workflows.ts. The first
 * call of each in a fresh process is reported apart as "cold"; the timed runs alternate between
 * the engines, so drift on the machine touches both alike.
 *
 * A third row is the floor under deja's bundler: esbuild alone on the same entry (the runtime's
 * install plus the workflows module, `@temporalio/workflow` aliased), with none of deja's checks
 * and no bundle file written. The difference is what deja's sandbox checks cost.
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
  esbuildAlone: { warm: Summary; bytes: number };
  temporal: { cold: number; warm: Summary; bytes: number; hash: string };
}

export async function measureBundle(settings: Settings): Promise<BundleResult> {
  // A fresh cache directory per call: deja writes its bundle file there each time.
  const cacheRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'deja-bench-bundle-'));
  let i = 0;
  const deja = () => bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, cacheDir: path.join(cacheRoot, String(i++)) });
  const temporal = () => bundleTemporal(WORKFLOWS_PATH);
  const root = path.resolve(__dirname, '..', '..', '..');
  const esbuild = require(require.resolve('esbuild', { paths: [root] })) as typeof import('esbuild');
  const runtime = path.join(root, 'runtime');
  const alone = async () =>
    (
      await esbuild.build({
        stdin: {
          contents: `import { install } from ${JSON.stringify(path.join(runtime, 'entry.ts'))};\ninstall(() => require(${JSON.stringify(WORKFLOWS_PATH)}));\n`,
          loader: 'ts',
          resolveDir: path.dirname(WORKFLOWS_PATH),
        },
        bundle: true,
        write: false,
        format: 'iife',
        platform: 'neutral',
        mainFields: ['module', 'main'],
        target: 'es2022',
        legalComments: 'none',
        logLevel: 'silent',
        alias: { '@temporalio/workflow': path.join(runtime, 'index.ts') },
        // The runtime's own imports resolve from deja's node_modules.
        nodePaths: [path.join(root, 'node_modules')],
      })
    ).outputFiles[0].text;
  try {
    let t0 = now();
    const d = await deja();
    const dejaCold = now() - t0;
    t0 = now();
    const t = await temporal();
    const temporalCold = now() - t0;
    const dejaRuns: number[] = [];
    const temporalRuns: number[] = [];
    const aloneRuns: number[] = [];
    const aloneCode = await alone();
    for (let r = 0; r < settings.bundleRuns; r++) {
      collect();
      t0 = now();
      await alone();
      aloneRuns.push(now() - t0);
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
      esbuildAlone: { warm: summarize(aloneRuns), bytes: Buffer.byteLength(aloneCode) },
      temporal: { cold: temporalCold, warm: summarize(temporalRuns), bytes: Buffer.byteLength(t.code), hash: sha256(t.code).slice(0, 16) },
    };
  } finally {
    fs.rmSync(cacheRoot, { recursive: true, force: true });
  }
}
