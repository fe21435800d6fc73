/**
 * The `deja` command line (host side). `main(argv, out)` runs one subcommand in this process and
 * resolves with its exit status, so every command can be tested without a child process:
 * 0 success; 1 the job found a problem (a workflow that failed, a history that does not replay,
 * workflow code that does not bundle, a query that failed) or deja itself failed; 2 bad usage (a
 * bad flag or value, a file that cannot be read or written); 3 not found (no such workflow or run,
 * or it has closed when the command needs it running). Every error is one line,
 * `deja: <what went wrong>; <what was expected>`; the stack is printed only with DEJA_DEBUG=1 or
 * --debug.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseHistory } from '../history';
import { bundleWorkflowCode } from '../bundler';
import { replayHistories } from '../testing/replay';
import { DejaError, InvalidArgumentError } from '../errors';
import {
  EXIT,
  NotFoundError,
  ProblemError,
  SEE_HELP,
  UsageError,
  checkOutFile,
  consoleOut,
  fileProblem,
  moduleFile,
  parse,
  type Out,
  type RunOptions,
} from './common';
import {
  CANCEL_HELP,
  DESCRIBE_HELP,
  HISTORY_HELP,
  LIST_HELP,
  QUERY_HELP,
  RESULT_HELP,
  SIGNAL_HELP,
  START_HELP,
  TERMINATE_HELP,
  cancelCommand,
  describeCommand,
  historyCommand,
  listCommand,
  queryCommand,
  resultCommand,
  signalCommand,
  startCommand,
  terminateCommand,
} from './operate';
import { createProgress } from './progress';
import { SCHEDULE_HELP, scheduleCommand } from './schedule';
import { WORKER_HELP, workerCommand } from './worker';
import { COUNT_HELP, countCommand } from './count';
import { MIGRATE_HELP, migrateCommand } from './migrate';
import { UI_HELP, uiCommand } from './ui';

export type { Out, ProgressStream, RunOptions } from './common';

const EXIT_STATUS = `Exit status:
  0  success
  1  the job found a problem: a workflow failed (or was cancelled, terminated, timed out), a
     history did not replay, the code did not bundle, a query failed, a --timeout ran out;
     or deja itself failed
  2  bad usage: a bad flag or value (bad JSON in --args, an unknown --status), a file that
     cannot be read or written, a backend that cannot be opened
  3  not found: no such workflow or run on the backend, or it has closed when the command
     needs it running (signal, cancel, terminate)`;

const USAGE = `Usage: deja <command> [options]      (deja <command> --help for its options)

Run and check workflow code:
  deja worker --task-queue <q> --workflows <path> [--activities <path>]   run a worker until Ctrl-C
  deja replay <history.json…> --workflows <path>   replay histories against workflow code
  deja bundle <workflows path> [--out <file>]       bundle workflow code and print its hash

Operate workflows:
  deja start <workflowType> --task-queue <q> [--workflow-id <id>] [--args <json array>]
  deja list [--query <filter>] [--type <t>] [--status <s>] [--workflow-id <id>] [--task-queue <q>] [--limit <n>]
  deja count [--query <filter>]
  deja describe <workflowId> [--run-id <id>]
  deja history <workflowId> [--run-id <id>] [--json] [--out <file>] [--format deja|temporal]
  deja signal <workflowId> <signalName> [--args <json array>]
  deja query <workflowId> <queryType> [--args <json array>]
  deja cancel <workflowId> [--reason <text>]
  deja terminate <workflowId> [--reason <text>]
  deja result <workflowId> [--timeout <duration>]
  deja schedule <list|describe|pause|unpause|trigger|delete> [scheduleId]   operate schedules

See workflows:
  deja ui [history.json] [--workflows <path>] [--port <n>] [--host <h>] [--token <t>]
                                                     a web UI: the workflows list, each run as a timeline,
                                                     or one history file (and its replay verdict)

Set up storage:
  deja migrate [--backend <backend>]                create or migrate the backend's schema

  deja help                                          this text

Options of replay:
  --workflows, -w <path>   the workflows module (TypeScript or JavaScript)
  --quiet, -q              print failures and the summary only
  On a terminal, a progress bar on stderr; otherwise plain lines only.

Options of bundle:
  --out, -o <file>         also write the bundle to this file, and its source map to <file>.map

Options of the commands that operate workflows and of worker:
  --backend <backend>      memory:<name>, sqlite:<file> or postgres://…; default DEJA_BACKEND, else the
                           default backend. memory: lives in one process: use it in-process only
  --json                   machine output: one JSON document on stdout

Every command:
  --debug                  print the stack of an error (or set DEJA_DEBUG=1)
  --help, -h               the command's options and exit statuses

${EXIT_STATUS}`;

const COMMANDS = ['worker', 'start', 'list', 'count', 'describe', 'history', 'signal', 'query', 'cancel', 'terminate', 'result', 'schedule', 'ui', 'replay', 'bundle', 'migrate', 'help'];

export const REPLAY_HELP = `Usage: deja replay <history.json…> --workflows <path> [--quiet]

Replays histories against workflow code and reports each verdict. Reads deja's history files
and Temporal's exports: JSON (current or tctl) and binary protobuf with json/plain payloads.

  --workflows, -w <path>   the workflows module the histories were recorded with
  --quiet, -q              print failures and the summary only

On a terminal, a progress bar is drawn on stderr; otherwise the output is plain lines.

Exit status: 0 every history replayed, 1 a history failed to replay (or could not be read beside
others that could), 2 bad usage (a bad flag, a missing workflows module, no readable history).`;

export const BUNDLE_HELP = `Usage: deja bundle <workflows path> [--out <file>]

Bundles workflow code as the worker does and prints its content hash, size and time.

  --out, -o <file>         also write the bundle to this file

Exit status: 0 bundled, 1 the code did not bundle (each problem is listed), 2 bad usage.`;

/** `deja help <command>` prints the command's own help. */
const HELP_OF: Record<string, string> = {
  worker: WORKER_HELP,
  start: START_HELP,
  list: LIST_HELP,
  count: COUNT_HELP,
  describe: DESCRIBE_HELP,
  history: HISTORY_HELP,
  signal: SIGNAL_HELP,
  query: QUERY_HELP,
  cancel: CANCEL_HELP,
  terminate: TERMINATE_HELP,
  result: RESULT_HELP,
  schedule: SCHEDULE_HELP,
  replay: REPLAY_HELP,
  bundle: BUNDLE_HELP,
  migrate: MIGRATE_HELP,
  ui: UI_HELP,
};

async function replayCommand(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse('replay', args, {
    workflows: { type: 'string', short: 'w' },
    quiet: { type: 'boolean', short: 'q' },
  });
  if (values.help) return help(out, REPLAY_HELP);
  if (typeof values.workflows !== 'string') {
    throw new UsageError('replay: --workflows <path> is required; expected the workflows module the histories were recorded with');
  }
  if (positionals.length === 0) throw new UsageError('replay: no history file given; expected one or more history files (JSON)');
  const workflowsPath = moduleFile('replay', 'workflows module', values.workflows, '--workflows to name a TypeScript or JavaScript module');
  const shownOf = (file: string) => path.relative(process.cwd(), file) || file;
  const inputs = positionals.map((given) => {
    const file = path.resolve(given);
    try {
      // Bytes, not text: a Temporal history may be binary protobuf.
      return { file, given, text: fs.readFileSync(file), problem: undefined };
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
  // On a terminal a bar counts the histories; its lines go above it. Otherwise plain lines only.
  const progress = createProgress(out.progress, inputs.length, 'replay', 'histories');
  // Read and validate each file first so a bad file is reported by name, not as a crash.
  const histories: { file: string; history: ReturnType<typeof parseHistory> }[] = [];
  for (const { file, text, problem } of inputs) {
    const shown = shownOf(file);
    if (text === undefined) {
      progress.line(() => out.error(`✗ ${shown}\n    ${problem}`));
      progress.step();
      failed++;
      continue;
    }
    try {
      histories.push({ file, history: parseHistory(text, shown) });
    } catch (error) {
      progress.line(() => out.error(`✗ ${shown}\n    ${(error as Error).name}: ${(error as Error).message}`));
      progress.step();
      failed++;
    }
  }
  let i = 0;
  try {
    for await (const result of replayHistories({ workflowsPath }, histories.map((h) => h.history))) {
      const shown = shownOf(histories[i++]!.file);
      if (result.error) {
        failed++;
        progress.line(() => out.error(`✗ ${shown} (${result.workflowId})\n    ${result.error!.name}: ${result.error!.message}`));
      } else if (!values.quiet) {
        progress.line(() => out.log(`✓ ${shown} (${result.workflowId}) replays deterministically`));
      }
      progress.step();
    }
  } finally {
    progress.done();
  }
  const total = inputs.length;
  out.log(`${total} ${total === 1 ? 'history' : 'histories'}: ${total - failed} replayed cleanly, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

async function bundleCommand(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse('bundle', args, { out: { type: 'string', short: 'o' } });
  if (values.help) return help(out, BUNDLE_HELP);
  if (positionals.length !== 1) {
    throw new UsageError(`bundle: ${positionals.length === 0 ? 'no workflows module given' : `${positionals.length} workflows modules given`}; expected exactly one`);
  }
  const workflowsPath = moduleFile('bundle', 'workflows module', positionals[0]!, 'the path of a TypeScript or JavaScript module');
  const target = typeof values.out === 'string' ? checkOutFile('bundle', 'the bundle', values.out) : undefined;
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

function help(out: Out, text = USAGE): number {
  out.log(text);
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
export async function main(argv: string[], out: Out = consoleOut, options: RunOptions = {}): Promise<number> {
  const { args, debug: debugFlag } = takeDebugFlag(argv);
  const debug = debugFlag || process.env.DEJA_DEBUG === '1';
  const [command, ...rest] = args;
  try {
    switch (command) {
      case 'replay':
        return await replayCommand(rest, out);
      case 'bundle':
        return await bundleCommand(rest, out);
      case 'worker':
        return await workerCommand(rest, out, options);
      case 'start':
        return await startCommand(rest, out);
      case 'list':
        return await listCommand(rest, out);
      case 'count':
        return await countCommand(rest, out);
      case 'describe':
        return await describeCommand(rest, out);
      case 'history':
        return await historyCommand(rest, out);
      case 'signal':
        return await signalCommand(rest, out);
      case 'query':
        return await queryCommand(rest, out);
      case 'cancel':
        return await cancelCommand(rest, out);
      case 'terminate':
        return await terminateCommand(rest, out);
      case 'result':
        return await resultCommand(rest, out);
      case 'schedule':
        return await scheduleCommand(rest, out);
      case 'migrate':
        return await migrateCommand(rest, out);
      case 'ui':
        return await uiCommand(rest, out, options);
      case 'help':
      case '--help':
      case '-h':
        return help(out, rest[0] !== undefined && Object.hasOwn(HELP_OF, rest[0]) ? HELP_OF[rest[0]] : USAGE);
      case undefined:
        out.error(`deja: no command given; expected one of: ${COMMANDS.join(', ')}\n\n${USAGE}`);
        return EXIT.usage;
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
    return EXIT.usage;
  }
  if (error instanceof NotFoundError) {
    out.error(`deja: ${error.message}`);
    stack();
    return EXIT.notFound;
  }
  if (error instanceof ProblemError) {
    out.error(`deja: ${error.message}`);
    stack();
    return EXIT.problem;
  }
  if (error instanceof InvalidArgumentError) {
    out.error(`deja: ${error.message}`);
    stack();
    return EXIT.usage;
  }
  if (error instanceof DejaError) {
    // A bundle error lists its problems on several lines: that is the report, not a stack.
    out.error(`deja: ${error.name}: ${error.message}`);
    stack();
    return EXIT.problem;
  }
  const message = error instanceof Error ? error.message : String(error);
  out.error(`deja: unexpected error: ${firstLine(message)}; this is a bug in deja, please report it${debug ? '' : ' (DEJA_DEBUG=1 prints the stack)'}`);
  stack();
  return EXIT.problem;
}

const firstLine = (text: string) => text.split('\n', 1)[0]!;
