/**
 * One measurement in its own process (host side): `node … src/child.ts <measure> <settings.json>
 * <result.json>`. Separate processes keep the measures from sharing heaps, JIT state and peak RSS.
 */
import * as fs from 'node:fs';
import { settingsFor, type Settings } from './setup';

const MEASURES: Record<string, (settings: Settings) => Promise<unknown>> = {
  prepare: (s) => require('./measures/prepare').prepare(s),
  bundle: (s) => require('./measures/bundle').measureBundle(s),
  replayDeja: (s) => require('./measures/replay').measureReplay(s, 'deja'),
  replayTemporal: (s) => require('./measures/replay').measureReplay(s, 'temporal'),
  oneHistoryDeja: (s) => require('./measures/one-history').measureOneHistory(s, 'deja'),
  oneHistoryTemporal: (s) => require('./measures/one-history').measureOneHistory(s, 'temporal'),
  rssDeja: () => require('./measures/one-history').peakRss('deja'),
  rssFloor: () => require('./measures/one-history').peakRss('floor'),
  rssTemporal: () => require('./measures/one-history').peakRss('temporal'),
  newExecution: (s) => require('./measures/new-execution').measureNewExecution(s),
  heap: (s) => require('./measures/heap').measureHeap(s),
  e2e: (s) => require('./measures/e2e').measureE2e(s),
  e2eStores: (s) => require('./measures/e2e-stores').measureE2eStores(s),
  e2ePostgres: (s) => require('./measures/e2e-postgres').measureE2ePostgres(s),
  validate: (s) => require('./measures/validate').measureValidate(s),
  replayMachine: (s) => require('./measures/replay-machine').measureReplayMachine(s),
  growth: (s) => require('./measures/growth').measureGrowth(s),
};

async function main(): Promise<void> {
  const [name, settingsArg, out] = process.argv.slice(2);
  const measure = MEASURES[name];
  if (!measure) throw new Error(`unknown measure "${name}"; known: ${Object.keys(MEASURES).join(', ')}`);
  const settings: Settings = settingsArg ? (JSON.parse(settingsArg) as Settings) : settingsFor(true);
  const result = await measure(settings);
  const text = JSON.stringify(result, null, 1);
  if (out) fs.writeFileSync(out, text);
  else process.stdout.write(text + '\n');
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
