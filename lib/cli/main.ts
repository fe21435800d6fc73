/**
 * The `deja` command line (host side). Each subcommand validates its arguments and exits 0 on
 * success, 1 when the job found a problem (a history that does not replay), 2 on bad usage.
 */
import { parseArgs } from 'node:util';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseHistory } from '../history';
import { bundleWorkflowCode } from '../bundler';
import { replayHistories } from '../testing/replay';
import { DejaError } from '../errors';

const USAGE = `Usage:
  deja replay <history.json…> --workflows <path>   replay histories against workflow code
  deja bundle <workflows path> [--out <file>]       bundle workflow code and print its hash
  deja help                                          this text

Options of replay:
  --workflows, -w <path>   the workflows module (TypeScript or JavaScript)
  --quiet, -q              print failures and the summary only`;

class UsageError extends Error {}

type Out = { log: (line: string) => void; error: (line: string) => void };
const consoleOut: Out = { log: (l) => console.log(l), error: (l) => console.error(l) };

function parse(args: string[], options: Record<string, { type: 'string' | 'boolean'; short?: string }>) {
  try {
    const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function replayCommand(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(args, {
    workflows: { type: 'string', short: 'w' },
    quiet: { type: 'boolean', short: 'q' },
  });
  if (typeof values.workflows !== 'string') throw new UsageError('replay: --workflows <path> is required');
  if (positionals.length === 0) throw new UsageError('replay: give at least one history file');
  const workflowsPath = path.resolve(values.workflows);
  if (!fs.existsSync(workflowsPath)) throw new UsageError(`replay: workflows module not found: ${workflowsPath}`);
  const files = positionals.map((p) => path.resolve(p));
  let failed = 0;
  const inputs = files.map((file) => ({ file, text: fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined }));
  // Read and validate each file first so a bad file is reported by name, not as a crash.
  const histories: { file: string; history: ReturnType<typeof parseHistory> }[] = [];
  for (const { file, text } of inputs) {
    const shown = path.relative(process.cwd(), file) || file;
    if (text === undefined) {
      out.error(`✗ ${shown}\n    file not found`);
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
    const shown = path.relative(process.cwd(), histories[i++].file);
    if (result.error) {
      failed++;
      out.error(`✗ ${shown} (${result.workflowId})\n    ${result.error.name}: ${result.error.message}`);
    } else if (!values.quiet) {
      out.log(`✓ ${shown} (${result.workflowId}) replays deterministically`);
    }
  }
  const total = files.length;
  out.log(`${total} ${total === 1 ? 'history' : 'histories'}: ${total - failed} replayed cleanly, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

async function bundleCommand(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse(args, { out: { type: 'string', short: 'o' } });
  if (positionals.length !== 1) throw new UsageError('bundle: give exactly one workflows module');
  const started = performance.now();
  const bundle = await bundleWorkflowCode({ workflowsPath: path.resolve(positionals[0]) });
  const ms = performance.now() - started;
  if (typeof values.out === 'string') fs.copyFileSync(bundle.bundlePath, values.out);
  out.log(`bundle ${bundle.hash.slice(0, 16)}  ${(bundle.code.length / 1024).toFixed(1)} KB  ${ms.toFixed(0)} ms  ${typeof values.out === 'string' ? values.out : bundle.bundlePath}`);
  return 0;
}

/** Runs the CLI with `args` (without node and the script); resolves with the exit code. */
export async function main(args: string[], out: Out = consoleOut): Promise<number> {
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
        out.log(USAGE);
        return 0;
      case undefined:
        throw new UsageError('no command given');
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      out.error(`deja: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof DejaError) {
      out.error(`deja: ${error.name}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
