/**
 * The `deja` command line (host side). Each subcommand validates its arguments and exits 0 on
 * success, 1 when the job found a problem (a history that does not replay, workflow code that
 * does not bundle) or deja itself failed, 2 on bad usage: a bad flag, or a file that cannot be
 * read or written. Every error is one line, `deja: <what went wrong>; <what was expected>`; the
 * stack is printed only with DEJA_DEBUG=1 or --debug.
 */
import { parseArgs } from 'node:util';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseHistory } from '../history';
import { bundleWorkflowCode } from '../bundler';
import { replayHistories } from '../testing/replay';
import { DejaError, InvalidArgumentError } from '../errors';

const USAGE = `Usage:
  deja replay <history.json…> --workflows <path>   replay histories against workflow code
  deja bundle <workflows path> [--out <file>]       bundle workflow code and print its hash
  deja help                                          this text

Options of replay:
  --workflows, -w <path>   the workflows module (TypeScript or JavaScript)
  --quiet, -q              print failures and the summary only

Options of bundle:
  --out, -o <file>         also write the bundle to this file, and its source map to <file>.map

Every command:
  --debug                  print the stack of an error (or set DEJA_DEBUG=1)

Exit status: 0 success, 1 a history failed to replay or the code did not bundle, 2 bad usage.`;

const COMMANDS = ['replay', 'bundle', 'help'];
const SEE_HELP = 'see "deja help"';

/** Bad usage: exit 2 with one line. `message` already says what was expected. */
class UsageError extends Error {}

type Out = { log: (line: string) => void; error: (line: string) => void };
const consoleOut: Out = { log: (l) => console.log(l), error: (l) => console.error(l) };

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

function parse(command: string, args: string[], options: OptionSpec) {
  try {
    const parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals };
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

/** Why a file could not be read or written, in a few words, from Node's error code. */
function fileProblem(error: unknown): string {
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

/** The workflows module named by a flag or argument: an existing file, or a UsageError. */
function workflowsModule(command: string, given: string, expected: string): string {
  const file = path.resolve(given);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    throw new UsageError(`${command}: cannot use workflows module ${given}: ${fileProblem(error)}; expected ${expected}`, { cause: error });
  }
  if (!stat.isFile()) {
    throw new UsageError(`${command}: workflows module ${given} is not a file; expected ${expected}`);
  }
  return file;
}

async function replayCommand(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse('replay', args, {
    workflows: { type: 'string', short: 'w' },
    quiet: { type: 'boolean', short: 'q' },
  });
  if (values.help) return help(out);
  if (typeof values.workflows !== 'string') {
    throw new UsageError('replay: --workflows <path> is required; expected the workflows module the histories were recorded with');
  }
  if (positionals.length === 0) throw new UsageError('replay: no history file given; expected one or more history files (JSON)');
  const workflowsPath = workflowsModule('replay', values.workflows, '--workflows to name a TypeScript or JavaScript module');
  const shownOf = (file: string) => path.relative(process.cwd(), file) || file;
  const inputs = positionals.map((given) => {
    const file = path.resolve(given);
    try {
      return { file, given, text: fs.readFileSync(file, 'utf8'), problem: undefined };
    } catch (error) {
      return { file, given, text: undefined, problem: fileProblem(error), error };
    }
  });
  // Nothing to replay at all is bad usage. With some readable files, an unreadable one is
  // reported by name beside the others and counts as a failure.
  const unreadable = inputs.filter((i) => i.problem !== undefined);
  if (unreadable.length === inputs.length) {
    const first = unreadable[0]!;
    const more = unreadable.length > 1 ? ` (and ${unreadable.length - 1} more that cannot be read)` : '';
    throw new UsageError(`replay: cannot read history file ${first.given}: ${first.problem}${more}; expected history files (JSON)`, { cause: first.error });
  }
  let failed = 0;
  // Read and validate each file first so a bad file is reported by name, not as a crash.
  const histories: { file: string; history: ReturnType<typeof parseHistory> }[] = [];
  for (const { file, text, problem } of inputs) {
    const shown = shownOf(file);
    if (text === undefined) {
      out.error(`✗ ${shown}\n    ${problem}`);
      failed++;
      continue;
    }
    try {
      histories.push({ file, history: parseHistory(text, shown) });
    } catch (error) {
      out.error(`✗ ${shown}\n    ${(error as Error).name}: ${(error as Error).message}`);
      failed++;
    }
  }
  let i = 0;
  for await (const result of replayHistories({ workflowsPath }, histories.map((h) => h.history))) {
    const shown = shownOf(histories[i++]!.file);
    if (result.error) {
      failed++;
      out.error(`✗ ${shown} (${result.workflowId})\n    ${result.error.name}: ${result.error.message}`);
    } else if (!values.quiet) {
      out.log(`✓ ${shown} (${result.workflowId}) replays deterministically`);
    }
  }
  const total = inputs.length;
  out.log(`${total} ${total === 1 ? 'history' : 'histories'}: ${total - failed} replayed cleanly, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

async function bundleCommand(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse('bundle', args, { out: { type: 'string', short: 'o' } });
  if (values.help) return help(out);
  if (positionals.length !== 1) {
    throw new UsageError(`bundle: ${positionals.length === 0 ? 'no workflows module given' : `${positionals.length} workflows modules given`}; expected exactly one`);
  }
  const workflowsPath = workflowsModule('bundle', positionals[0]!, 'the path of a TypeScript or JavaScript module');
  const target = typeof values.out === 'string' ? checkOutFile(values.out) : undefined;
  const started = performance.now();
  const bundle = await bundleWorkflowCode({ workflowsPath });
  const ms = performance.now() - started;
  if (target !== undefined) {
    try {
      fs.writeFileSync(target, bundle.code);
      // loadBundle reads it from beside the bundle: failed tasks' stacks then name source files.
      if (bundle.sourceMap !== undefined) fs.writeFileSync(`${target}.map`, bundle.sourceMap);
    } catch (error) {
      throw new UsageError(`bundle: cannot write the bundle to ${values.out}: ${fileProblem(error)}; expected --out to name a writable file`, { cause: error });
    }
  }
  out.log(`bundle ${bundle.hash.slice(0, 16)}  ${(bundle.code.length / 1024).toFixed(1)} KB  ${ms.toFixed(0)} ms  ${target === undefined ? bundle.bundlePath : values.out}`);
  return 0;
}

/** `--out`: a file in an existing folder, checked before bundling so a typo costs no build. */
function checkOutFile(given: string): string {
  const file = path.resolve(given);
  const expected = 'expected --out to name a file in an existing folder';
  let dir: fs.Stats;
  try {
    dir = fs.statSync(path.dirname(file));
  } catch (error) {
    throw new UsageError(`bundle: cannot write the bundle to ${given}: its folder ${path.dirname(given)} ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be used (${fileProblem(error)})`}; ${expected}`, { cause: error });
  }
  if (!dir.isDirectory()) throw new UsageError(`bundle: cannot write the bundle to ${given}: ${path.dirname(given)} is not a folder; ${expected}`);
  if (fs.statSync(file, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UsageError(`bundle: cannot write the bundle to ${given}: it is a directory; ${expected}, not a folder`);
  }
  return file;
}

function help(out: Out): number {
  out.log(USAGE);
  return 0;
}

/**
 * `--debug` anywhere before a `--` asks for stacks; it is taken out before the command parses.
 */
function takeDebugFlag(args: string[]): { args: string[]; debug: boolean } {
  const end = args.indexOf('--');
  const head = end < 0 ? args : args.slice(0, end);
  const rest = end < 0 ? [] : args.slice(end);
  const kept = head.filter((a) => a !== '--debug');
  return { args: [...kept, ...rest], debug: kept.length !== head.length };
}

/** Runs the CLI with `args` (without node and the script); resolves with the exit code. */
export async function main(argv: string[], out: Out = consoleOut): Promise<number> {
  const { args, debug: debugFlag } = takeDebugFlag(argv);
  const debug = debugFlag || process.env.DEJA_DEBUG === '1';
  const [command, ...rest] = args;
  try {
    switch (command) {
      case 'replay':
        return await replayCommand(rest, out);
      case 'bundle':
        return await bundleCommand(rest, out);
      case 'help':
      case '--help':
      case '-h':
        return help(out);
      case undefined:
        out.error(`deja: no command given; expected one of: ${COMMANDS.join(', ')}\n\n${USAGE}`);
        return 2;
      default:
        throw new UsageError(`unknown command "${command}"; expected one of: ${COMMANDS.join(', ')}`);
    }
  } catch (error) {
    return report(error, out, debug);
  }
}

/** One line per error, and its stack when debugging. Never throws. */
function report(error: unknown, out: Out, debug: boolean): number {
  const stack = () => {
    const cause = (error as { cause?: unknown }).cause;
    const shown = error instanceof UsageError ? cause : error;
    if (debug && shown instanceof Error && shown.stack) out.error(shown.stack);
  };
  if (error instanceof UsageError) {
    out.error(`deja: ${error.message} (${SEE_HELP})`);
    stack();
    return 2;
  }
  if (error instanceof InvalidArgumentError) {
    out.error(`deja: ${error.message}`);
    stack();
    return 2;
  }
  if (error instanceof DejaError) {
    // A bundle error lists its problems on several lines: that is the report, not a stack.
    out.error(`deja: ${error.name}: ${error.message}`);
    stack();
    return 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  out.error(`deja: unexpected error: ${firstLine(message)}; this is a bug in deja, please report it${debug ? '' : ' (DEJA_DEBUG=1 prints the stack)'}`);
  stack();
  return 1;
}

const firstLine = (text: string) => text.split('\n', 1)[0]!;
