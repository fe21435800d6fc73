/**
 * `deja ui` (host side): starts the web UI on the configured backend, or on one history file
 * (with a replay verdict when --workflows names the code), prints its address, and serves until
 * Ctrl-C (or the caller's `stop` signal).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hostname } from 'node:os';
import { Connection } from '../client';
import { InvalidArgumentError, StoreError } from '../errors';
import { parseHistory, type History } from '../history';
import { isLoopback, newToken, startUiServer, type UiServer } from '../ui/server';
import { replayVerdict } from '../ui/replay';
import { UsageError, fileProblem, moduleFile, parse, stringFlag, type Out, type RunOptions } from './common';

export const UI_HELP = `Usage: deja ui [history.json] [options]

Starts a web UI and prints its address: the workflows on the backend (a list with a filter, each
run's summary and its history as a timeline), or one history file with no backend. Serves until
Ctrl-C.

  history.json               show this history file (deja's, or a Temporal export) instead of a backend
  --workflows, -w <path>     with a history file: replay it against this workflows module and mark
                             the event where the code diverges
  --port <n>                 the port (default: a free one)
  --host <address>           the address to listen on (default 127.0.0.1, this machine only). Any
                             other address needs a token: --token, or one is made and printed
  --token <text>             require this token (at least 8 characters); the printed address carries it
  --backend <backend>        as for "deja start"

Exit status: 0 stopped, 2 bad usage (a bad flag, a history that cannot be read, a port in use).`;

export async function uiCommand(args: string[], out: Out, options: RunOptions = {}): Promise<number> {
  const { values, positionals } = parse('ui', args, {
    backend: { type: 'string' },
    workflows: { type: 'string', short: 'w' },
    port: { type: 'string' },
    host: { type: 'string' },
    token: { type: 'string' },
  });
  if (values.help) {
    out.log(UI_HELP);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`ui: ${positionals.length} history files given; expected at most one`);
  const portText = stringFlag(values, 'port');
  if (portText !== undefined && (!/^\d+$/.test(portText) || Number(portText) > 65535)) {
    throw new UsageError(`ui: --port ${JSON.stringify(portText)} is not a port; expected a whole number from 0 to 65535`);
  }
  const host = stringFlag(values, 'host') ?? '127.0.0.1';
  if (host === '') throw new UsageError('ui: --host is empty; expected an address such as 127.0.0.1 or 0.0.0.0');
  let token = stringFlag(values, 'token');
  if (token !== undefined && token.length < 8) throw new UsageError('ui: --token is too short; expected at least 8 characters');
  const madeToken = token === undefined && !isLoopback(host);
  if (madeToken) token = newToken();
  const workflowsGiven = stringFlag(values, 'workflows');
  const file = positionals[0];
  if (workflowsGiven !== undefined && file === undefined) throw new UsageError('ui: --workflows needs a history file to replay; expected deja ui <history.json> --workflows <path>');
  if (file !== undefined && stringFlag(values, 'backend') !== undefined) throw new UsageError('ui: a history file is shown with no backend; expected a history file or --backend, not both');

  let connection: Connection | undefined;
  let history: History | undefined;
  let verdict;
  if (file !== undefined) {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(path.resolve(file));
    } catch (error) {
      throw new UsageError(`ui: cannot read history file ${file}: ${fileProblem(error)}; expected a history file (JSON)`, { cause: error });
    }
    try {
      history = parseHistory(bytes, file);
    } catch (error) {
      throw new UsageError(`ui: ${(error as Error).message}`, { cause: error });
    }
    if (workflowsGiven !== undefined) {
      const workflowsPath = moduleFile('ui', 'workflows module', workflowsGiven, '--workflows to name a TypeScript or JavaScript module');
      verdict = await replayVerdict(history, workflowsPath);
    }
  } else {
    const backend = stringFlag(values, 'backend');
    try {
      connection = new Connection(backend === undefined ? undefined : { backend });
    } catch (error) {
      if (error instanceof InvalidArgumentError) throw new UsageError(`ui: ${error.message.replace(/^Connection: /, '')}`, { cause: error });
      if (error instanceof StoreError) throw new UsageError(`ui: cannot open the backend: ${error.message}`, { cause: error });
      throw error;
    }
  }

  let server: UiServer;
  try {
    server = await startUiServer({
      ...(connection ? { service: connection.service } : {}),
      ...(history ? { history, historyLabel: path.basename(file!) } : {}),
      ...(verdict ? { verdict } : {}),
      host,
      ...(portText !== undefined ? { port: Number(portText) } : {}),
      ...(token !== undefined ? { token } : {}),
      identity: `deja-ui:${process.pid}@${hostname()}`,
    });
  } catch (error) {
    await connection?.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`ui: port ${portText} is in use; expected a free port (or leave --port out)`, { cause: error });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EACCES') throw new UsageError(`ui: cannot listen on ${host}${portText !== undefined ? `:${portText}` : ''} (${code}); expected an address of this machine`, { cause: error });
    if (error instanceof InvalidArgumentError) throw new UsageError(`ui: ${error.message.replace(/^startUiServer: /, '')}`, { cause: error });
    throw error;
  }
  if (verdict) out.log(verdict.ok ? `replay: ${file} replays deterministically` : `replay: ${file} diverges${verdict.eventId ? ` at event ${verdict.eventId}` : ''}: ${verdict.error.name}`);
  out.log(`deja ui listening on ${server.url}`);
  if (madeToken) out.log(`token: ${token} (required: ${host} is reachable from other machines)`);
  out.log('Ctrl-C stops it.');

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      options.stop?.removeEventListener('abort', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    options.stop?.addEventListener('abort', stop);
    if (options.stop?.aborted) stop();
  });
  await server.close();
  await connection?.close();
  return 0;
}
