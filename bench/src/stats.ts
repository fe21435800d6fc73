/** Summaries of repeated measurements (host side): median, min, max, percentiles, formatting. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
  /** The timings themselves, so that runs from several processes can be pooled. */
  samples: number[];
}

export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], runs: s.length, samples: [...samples] };
}

/** The samples of several summaries (from several processes), pooled. */
export function pool(summaries: readonly Summary[]): Summary {
  return summarize(summaries.flatMap((x) => x.samples));
}

/** Nearest-rank percentile, p in (0, 100]. */
export function percentile(samples: readonly number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** Milliseconds since an arbitrary origin, sub-microsecond resolution. */
export function now(): number {
  return performance.now();
}

/** Runs `fn` `warmups` times untimed, then `runs` times timed; returns the timings in ms. */
export async function timeRuns(warmups: number, runs: number, fn: () => unknown | Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < warmups; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    await fn();
    samples.push(now() - t0);
  }
  return samples;
}

/** A number with about three significant digits, thousands separated: 1,234 / 12.3 / 0.123. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 100) return Math.round(x).toLocaleString('en-US');
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  if (a === 0) return '0';
  return x.toPrecision(2);
}

/** "median (min–max)". */
export function fmtSummary(s: Summary, unit = ''): string {
  return `${fmt(s.median)}${unit} (${fmt(s.min)}–${fmt(s.max)})`;
}

export function ratio(a: number, b: number): string {
  return `${fmt(a / b)}×`;
}
