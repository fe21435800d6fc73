/**
 * What every `deja` subcommand shares (host side): the output seam, the usage and not-found
 * errors that set the exit status, argument parsing with deja's wording, and the parsers of the
 * values a flag carries (a JSON array of arguments, a duration, a count).
 *
 * Exit statuses: 0 success; 1 the job found a problem (a workflow that failed, a history that does
 * not replay, a query that failed) or deja itself failed; 2 bad usage (a bad flag or value, a file
 * that cannot be read or written); 3 not found (no such workflow or run, or it has closed when the
 * command needs it running).
 */
import { parseArgs } from 'node:util';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const EXIT = { ok: 0, problem: 1, usage: 2, notFound: 3 } as const;

export const SEE_HELP = 'see "deja help"';

/** Bad usage: exit 2 with one line. `message` already says what was expected. */
export class UsageError extends Error {}

/** The job found a problem (a workflow that failed, a query that failed, a wait that ran out): exit 1, one line. */
export class ProblemError extends Error {}

/** The workflow or run named on the command line does not exist (or has closed): exit 3. */
export class NotFoundError extends Error {}

/** A stream a progress bar can be drawn on: stderr, or a fake one in tests. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

/**
 * Where a command's output goes: `log` is stdout (results), `error` is stderr (errors, verdicts
 * of failures). `progress`, when given, is where a progress bar may be drawn (it is drawn only
 * when that stream is a terminal).
 */
export interface Out {
  log: (line: string) => void;
  error: (line: string) => void;
  progress?: ProgressStream;
}

export const consoleOut: Out = { log: (l) => console.log(l), error: (l) => console.error(l), progress: process.stderr };

/** What the caller of `main` may give beside the output: `stop` ends a running `deja worker` (as SIGINT does). */
export interface RunOptions {
  stop?: AbortSignal;
}

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parse(command: string, args: string[], options: OptionSpec): Parsed {
  try {
    const parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: parsed.values as Parsed['values'], positionals: parsed.positionals };
  } catch (error) {
    throw new UsageError(`${command}: ${describeParseError(error as Error & { code?: string }, options)}`, { cause: error });
  }
}

/** util.parseArgs' messages name Node's own syntax; these name deja's. */
function describeParseError(error: Error & { code?: string }, options: OptionSpec): string {
  const known = Object.entries(options)
    .map(([name, o]) => `--${name}${o.type === 'string' ? ' <value>' : ''}`)
    .join(', ');
  const expected = known === '' ? 'no options' : known;
  const unknown = /^Unknown option '([^']+)'/.exec(error.message);
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) {
    return `unknown option ${unknown[1]}; expected ${expected} (a file name starting with "-" goes after "--")`;
  }
  const option = /^Option '(?:-\w, )?(--[^ ']+)/.exec(error.message);
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
    const spec = options[option[1].slice(2)];
    return spec?.type === 'boolean'
      ? `option ${option[1]} takes no value; expected ${option[1]} on its own`
      : `option ${option[1]} needs a value; expected ${option[1]} <value>`;
  }
  return `${error.message.replace(/\.$/, '')}; expected ${expected}`;
}

/** Exactly `names.length` positionals, named in the error when some are missing or extra. */
export function positionalsOf(command: string, positionals: string[], names: readonly string[]): string[] {
  if (positionals.length < names.length) {
    const missing = names.slice(positionals.length);
    throw new UsageError(`${command}: no ${missing[0]} given; expected deja ${command} ${names.map((n) => `<${n}>`).join(' ')}`);
  }
  if (positionals.length > names.length) {
    throw new UsageError(
      `${command}: unexpected argument ${JSON.stringify(positionals[names.length])}; expected deja ${command} ${names.map((n) => `<${n}>`).join(' ')} and options`,
    );
  }
  return positionals;
}

/** A flag's string value, or undefined; a required one absent is a UsageError naming it. */
export function stringFlag(values: Parsed['values'], name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requiredFlag(command: string, values: Parsed['values'], name: string, expected: string): string {
  const value = stringFlag(values, name);
  if (value === undefined || value === '') throw new UsageError(`${command}: --${name} is required; expected --${name} <${expected}>`);
  return value;
}

/** Why a file could not be read or written, in a few words, from Node's error code. */
export function fileProblem(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'file not found';
    case 'EISDIR':
      return 'it is a directory, not a file';
    case 'ENOTDIR':
      return 'a part of its path is not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'too many symbolic links';
    case 'ENAMETOOLONG':
      return 'the name is too long';
    default:
      return (error as Error).message;
  }
}

/** A module named by a flag or argument: an existing file, or a UsageError. */
export function moduleFile(command: string, what: string, given: string, expected: string): string {
  const file = path.resolve(given);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    throw new UsageError(`${command}: cannot use ${what} ${given}: ${fileProblem(error)}; expected ${expected}`, { cause: error });
  }
  if (!stat.isFile()) throw new UsageError(`${command}: ${what} ${given} is not a file; expected ${expected}`);
  return file;
}

/** `--out`: a file in an existing folder, checked before the work so a typo costs nothing. */
export function checkOutFile(command: string, what: string, given: string): string {
  const file = path.resolve(given);
  const expected = 'expected --out to name a file in an existing folder';
  let dir: fs.Stats;
  try {
    dir = fs.statSync(path.dirname(file));
  } catch (error) {
    throw new UsageError(
      `${command}: cannot write ${what} to ${given}: its folder ${path.dirname(given)} ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be used (${fileProblem(error)})`}; ${expected}`,
      { cause: error },
    );
  }
  if (!dir.isDirectory()) throw new UsageError(`${command}: cannot write ${what} to ${given}: ${path.dirname(given)} is not a folder; ${expected}`);
  if (fs.statSync(file, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UsageError(`${command}: cannot write ${what} to ${given}: it is a directory; ${expected}, not a folder`);
  }
  return file;
}

/**
 * The JSON array of `--args` (or of the file `--input-file` names): the workflow's, signal's or
 * query's arguments. Anything else is a UsageError saying what was expected.
 */
export function jsonArgs(command: string, values: Parsed['values'], fileFlag?: string): unknown[] {
  const inline = stringFlag(values, 'args');
  const file = fileFlag === undefined ? undefined : stringFlag(values, fileFlag);
  if (inline !== undefined && file !== undefined) throw new UsageError(`${command}: both --args and --${fileFlag} given; expected one of them`);
  let text: string;
  let source: string;
  if (file !== undefined) {
    try {
      text = fs.readFileSync(path.resolve(file), 'utf8');
    } catch (error) {
      throw new UsageError(`${command}: cannot read --${fileFlag} ${file}: ${fileProblem(error)}; expected a file holding a JSON array of arguments`, { cause: error });
    }
    source = `--${fileFlag} ${file}`;
  } else if (inline !== undefined) {
    text = inline;
    source = '--args';
  } else {
    return [];
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${command}: ${source} is not valid JSON (${(error as Error).message}); expected a JSON array of arguments, such as '["Ann", 42]'`, { cause: error });
  }
  if (!Array.isArray(value)) {
    throw new UsageError(`${command}: ${source} is JSON ${describeJson(value)}, not an array; expected a JSON array of arguments, such as '["Ann", 42]' (one argument: '[${truncate(JSON.stringify(value), 30)}]')`);
  }
  return value;
}

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${truncate(JSON.stringify(value), 30)}`;
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** The longest wait a timer can hold (2^31−1 ms, about 24.8 days). */
const MAX_DURATION_MS = 2 ** 31 - 1;

/** `--timeout 30s`: a number and a unit (ms, s, m, h, d), in milliseconds. */
export function durationMs(command: string, flag: string, given: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(given.trim());
  const expected = `expected a duration with a unit, such as 500ms, 30s, 5m or 1h`;
  if (!m) throw new UsageError(`${command}: --${flag} ${JSON.stringify(given)} is not a duration; ${expected}`);
  const ms = Math.round(Number(m[1]) * DURATION_UNITS[m[2]!]!);
  if (ms < 1 || ms > MAX_DURATION_MS) throw new UsageError(`${command}: --${flag} ${given} is out of range; ${expected}, from 1ms to 24d`);
  return ms;
}

/** `--limit 20`: a positive integer up to `max`. */
export function countFlag(command: string, flag: string, given: string | undefined, fallback: number, max: number): number {
  if (given === undefined) return fallback;
  if (!/^\d+$/.test(given) || Number(given) < 1 || Number(given) > max) {
    throw new UsageError(`${command}: --${flag} ${JSON.stringify(given)} is not a count; expected a whole number from 1 to ${max}`);
  }
  return Number(given);
}

/** A value as one line of JSON; `undefined` (a workflow that returned nothing) as null. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}
