/**
 * Cron schedules (host side): when a cron workflow's next run starts, and when a schedule's next
 * action is due. Temporal's dialect: a standard five-field expression (minute, hour, day of month,
 * month, day of week), a shortcut (`@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`,
 * `@midnight`, `@hourly`), or `@every <duration>` (`@every 90s`, `@every 1h30m`, counted from the
 * epoch, as Temporal does). Always in UTC. The five-field and shortcut forms are croner's; deja
 * refuses croner's six- and seven-field forms (seconds, years), which Temporal's cron does not
 * have.
 */
import { Cron } from 'croner';
import { describe, InvalidArgumentError } from './errors';

export interface CronSchedule {
  /** The expression as given. */
  readonly text: string;
  /** The first fire time strictly after `afterMs` (ms since the epoch), or undefined if there is none. */
  next(afterMs: number): number | undefined;
}

const SHORTCUTS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `@every` durations: one or more `<number><unit>` parts, units ms, s, m, h, d ("1h30m"). */
function everyMs(where: string, text: string, spec: string): number {
  const parts = spec.match(/^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/) ? spec.match(/\d+(?:\.\d+)?(?:ms|s|m|h|d)/g)! : undefined;
  if (!parts) {
    throw new InvalidArgumentError(`${where}: ${describe(text)} is not a valid @every schedule; expected a duration such as "@every 30s", "@every 1h30m" (units ms, s, m, h, d)`);
  }
  let ms = 0;
  for (const part of parts) {
    const [, n, unit] = part.match(/^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/)!;
    ms += Number(n) * UNIT_MS[unit];
  }
  ms = Math.round(ms);
  if (ms < 1000) throw new InvalidArgumentError(`${where}: ${describe(text)} fires more often than once a second; the shortest @every is 1s`);
  return ms;
}

/**
 * Parses a cron schedule, or throws an InvalidArgumentError saying what was expected. `where`
 * names the option for the message ("startWorkflow: cronSchedule").
 */
export function parseCron(where: string, text: unknown): CronSchedule {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new InvalidArgumentError(`${where}: expected a cron expression such as "*/5 * * * *", "@daily" or "@every 10m", got ${describe(text)}`);
  }
  const trimmed = text.trim();
  if (trimmed.startsWith('@every')) {
    const interval = everyMs(where, text, trimmed.slice('@every'.length).trim());
    return {
      text,
      next: (afterMs) => (Math.floor(afterMs / interval) + 1) * interval,
    };
  }
  if (trimmed.startsWith('@') && !SHORTCUTS.has(trimmed)) {
    throw new InvalidArgumentError(`${where}: ${describe(text)} is not a cron shortcut; expected one of ${[...SHORTCUTS].join(', ')}, or "@every <duration>"`);
  }
  if (!trimmed.startsWith('@') && trimmed.split(/\s+/).length !== 5) {
    throw new InvalidArgumentError(
      `${where}: ${describe(text)} has ${trimmed.split(/\s+/).length} fields; expected five (minute hour day-of-month month day-of-week), such as "*/5 * * * *"`,
    );
  }
  let cron: Cron;
  try {
    cron = new Cron(trimmed, { timezone: 'UTC', paused: true });
  } catch (err) {
    throw new InvalidArgumentError(`${where}: ${describe(text)} is not a valid cron expression: ${(err as Error).message}`);
  }
  return {
    text,
    next(afterMs) {
      // croner's nextRun is strictly after the given time, to the second: later fire times only.
      const next = cron.nextRun(new Date(afterMs));
      return next === null ? undefined : next.getTime();
    },
  };
}
