/**
 * Pools the results of one measure run in several processes (host side): samples are pooled
 * into one median and range; output hashes must agree across processes, or the merge says so.
 */
import type { ReplayResult, ReplayRow } from './measures/replay';
import type { OneHistoryResult } from './measures/one-history';
import { pool, type Summary } from './stats';

export function mergeReplay(parts: ReplayResult[]): ReplayResult {
  const rows = parts[0].rows.map((first): ReplayRow => {
    const same = parts.map((p) => p.rows.find((r) => r.history === first.history && !r.single === !first.single)!);
    const ms: ReplayRow['ms'] = {};
    const hash: ReplayRow['hash'] = {};
    for (const e of Object.keys(first.ms) as (keyof ReplayRow['ms'])[]) {
      ms[e] = pool(same.map((r) => r.ms[e]!));
      const hashes = [...new Set(same.map((r) => r.hash[e]!))];
      hash[e] = hashes.length === 1 ? hashes[0] : `differs between processes: ${hashes.join(', ')}`;
    }
    return { ...first, ms, hash, processes: parts.length };
  });
  return { rows };
}

export function mergeOneHistory(parts: OneHistoryResult[]): OneHistoryResult {
  const keys = Object.keys(parts[0].ms) as (keyof OneHistoryResult['ms'])[];
  const ms: OneHistoryResult['ms'] = {};
  for (const k of keys) ms[k] = pool(parts.map((p) => p.ms[k]!));
  // The breakdown of the process whose replayHistory() median is the median one: its parts belong together.
  const byTime = [...parts].sort((a, b) => (a.ms.dejaReplayHistory?.median ?? 0) - (b.ms.dejaReplayHistory?.median ?? 0));
  const middle = byTime[(byTime.length - 1) >> 1];
  return {
    events: parts[0].events,
    ms,
    breakdown: middle.breakdown,
    perProcess: parts.map((p) => ({ replayHistory: p.ms.dejaReplayHistory!.median, again: p.ms.dejaReplayHistoryAgain?.median ?? NaN, warmPool: p.ms.dejaWarmPool!.median, floor: p.ms.floor!.median })),
  };
}

export type { Summary };
