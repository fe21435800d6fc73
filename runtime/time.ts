/**
 * Durations as Temporal's API accepts them: milliseconds, or strings such as '10s' and
 * '30 minutes' (the `ms` package's grammar). Pure; used on both sides of the boundary.
 */
import ms from 'ms';

export type Duration = number | string;

/** Milliseconds for a Duration; a TypeError that names `what` for anything else. */
export function durationToMs(value: Duration, what: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new TypeError(`${what}: expected a non-negative number of milliseconds or a duration string such as '10s', got ${value}`);
    }
    return value;
  }
  if (typeof value === 'string') {
    const parsed = ms(value as ms.StringValue);
    if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 0) {
      throw new TypeError(`${what}: expected a duration such as '10s', '30 minutes' or 1500 (ms), got ${JSON.stringify(value)}`);
    }
    return parsed;
  }
  throw new TypeError(`${what}: expected a number of milliseconds or a duration string, got ${typeof value}`);
}

/** Like durationToMs, but undefined stays undefined. */
export function optionalDurationToMs(value: Duration | undefined, what: string): number | undefined {
  return value === undefined ? undefined : durationToMs(value, what);
}
