/**
 * Durations as Temporal's API accepts them: milliseconds, or strings such as '10s' and
 * '30 minutes' (the grammar of the `ms` package, which Temporal uses). Pure. Parsed here with
 * captured intrinsics rather than by `ms`, whose code calls `RegExp.prototype.exec`,
 * `String.prototype.toLowerCase` and `parseFloat` as workflow code may have replaced them.
 */
import { JSONStringify, NumberIsFinite, NumberParseFloat, RegExpPrototypeExec, StringPrototypeToLowerCase, TypeError } from './primordials';

export type Duration = number | string;

const SECOND = 1000;
const MINUTE = SECOND * 60;
const HOUR = MINUTE * 60;
const DAY = HOUR * 24;
const WEEK = DAY * 7;
const YEAR = DAY * 365.25;

/** `ms`'s grammar: a number, optional spaces, an optional unit (milliseconds without one). */
const DURATION = /^(-?(?:\d+)?\.?\d+) *(milliseconds?|msecs?|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w|years?|yrs?|y)?$/i;

/** Milliseconds in one unit, by the unit's first letters (the grammar has settled which unit it is). */
function unitMs(unit: string): number {
  switch (unit) {
    case 'y':
    case 'yr':
    case 'yrs':
    case 'year':
    case 'years':
      return YEAR;
    case 'w':
    case 'week':
    case 'weeks':
      return WEEK;
    case 'd':
    case 'day':
    case 'days':
      return DAY;
    case 'h':
    case 'hr':
    case 'hrs':
    case 'hour':
    case 'hours':
      return HOUR;
    case 'm':
    case 'min':
    case 'mins':
    case 'minute':
    case 'minutes':
      return MINUTE;
    case 's':
    case 'sec':
    case 'secs':
    case 'second':
    case 'seconds':
      return SECOND;
    default:
      return 1;
  }
}

/** A duration string → milliseconds, or undefined when it is not one (as `ms` answers). */
export function parseDuration(text: string): number | undefined {
  if (text.length === 0 || text.length > 100) return undefined;
  const match = RegExpPrototypeExec(DURATION, text);
  if (match === null) return undefined;
  const unit = match[2];
  return NumberParseFloat(match[1]) * (unit === undefined ? 1 : unitMs(StringPrototypeToLowerCase(unit)));
}

/** Milliseconds for a Duration; a TypeError that names `what` for anything else. */
export function durationToMs(value: Duration, what: string): number {
  if (typeof value === 'number') {
    if (!NumberIsFinite(value) || value < 0) {
      throw new TypeError(`${what}: expected a non-negative number of milliseconds or a duration string such as '10s', got ${value}`);
    }
    return value;
  }
  if (typeof value === 'string') {
    const parsed = parseDuration(value);
    if (parsed === undefined || !NumberIsFinite(parsed) || parsed < 0) {
      throw new TypeError(`${what}: expected a duration such as '10s', '30 minutes' or 1500 (ms), got ${JSONStringify(value)}`);
    }
    return parsed;
  }
  throw new TypeError(`${what}: expected a number of milliseconds or a duration string, got ${typeof value}`);
}

/** Like durationToMs, but undefined stays undefined. */
export function optionalDurationToMs(value: Duration | undefined, what: string): number | undefined {
  return value === undefined ? undefined : durationToMs(value, what);
}
