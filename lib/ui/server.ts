/**
 * The web server of `deja ui` (host side): node:http, a JSON API over a WorkflowService (or over
 * one history file, with no backend), and the page's static files from lib/ui/public/ (shipped in
 * the package; nothing is fetched from the network).
 *
 * Safe by default:
 * - it binds to 127.0.0.1 unless told otherwise; a non-loopback bind without a token is refused;
 * - with a token, every /api/ request must carry it (header X-Deja-Token); a wrong one gets 401;
 * - a request whose Host header is not the bound address gets 421 (DNS rebinding: a page on
 *   another site that resolves its name to 127.0.0.1 must not read the API);
 * - actions are POSTs with a JSON body and the custom header X-Deja-Request: a cross-site form
 *   cannot send either without a CORS preflight, which this server never grants;
 * - the page sets text with textContent only, and a Content-Security-Policy forbids inline script.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { History, HistoryEvent } from '../history';
import type { WorkflowDescription, WorkflowService } from '../service';
import { InvalidArgumentError } from '../errors';
import { WorkflowNotFoundError } from '../service-errors';
import { summarize, timeline } from './model';

/** What a replay of the opened file against workflow code found. */
export type ReplayVerdict =
  | { ok: true; workflowsPath: string }
  | { ok: false; workflowsPath: string; error: { name: string; message: string }; eventId?: number; recorded?: unknown; emitted?: unknown };

export interface UiServerOptions {
  /** The backend's service: the workflows list, runs, and actions. */
  service?: WorkflowService;
  /** One history shown on its own, with no backend (`deja ui history.json`). */
  history?: History;
  /** How the page names that history (its file name). */
  historyLabel?: string;
  /** The verdict of replaying `history` (`--workflows`). */
  verdict?: ReplayVerdict;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Required unless the host is a loopback address. */
  token?: string;
  /** Recorded on signals, cancel requests and terminations made from the page. */
  identity?: string;
}

export interface UiServer {
  /** The address to open (with `?token=…` when a token is set). */
  url: string;
  host: string;
  port: number;
  token?: string;
  close(): Promise<void>;
}

const OPTION_KEYS = ['service', 'history', 'historyLabel', 'verdict', 'host', 'port', 'token', 'identity'];

/** Loopback names and addresses: the only binds allowed without a token. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** A random token for a non-loopback bind. */
export function newToken(): string {
  return randomBytes(18).toString('base64url');
}

/** The folder of index.html, app.js and app.css: beside this file (lib/ui/) or, from dist/, in lib/ui/ of the package. */
function publicDir(): string {
  const candidates = [path.join(__dirname, 'public'), path.join(__dirname, '..', '..', '..', 'lib', 'ui', 'public')];
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, 'index.html')));
  if (found === undefined) throw new Error(`deja ui: its page files are missing (looked in ${candidates.join(', ')}); expected the package's lib/ui/public/`);
  return found;
}

const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  // The token may be in the address: never send it on.
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_PAGE_SIZE = 1000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Starts the server; resolves once it listens. */
export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) throw new InvalidArgumentError(`startUiServer: unknown option "${key}"; expected ${OPTION_KEYS.join(', ')}`);
  }
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`startUiServer: port ${String(port)} is not a port; expected a whole number from 0 to 65535`);
  const token = options.token;
  if (token !== undefined && (typeof token !== 'string' || token.length < 8)) {
    throw new InvalidArgumentError('startUiServer: the token is too short; expected at least 8 characters');
  }
  if (!isLoopback(host) && token === undefined) {
    throw new InvalidArgumentError(`startUiServer: refusing to listen on ${host} without a token; a non-loopback address is reachable from other machines, so expected a token (deja ui prints one)`);
  }
  if ((options.service === undefined) === (options.history === undefined)) {
    throw new InvalidArgumentError('startUiServer: give exactly one of service (a backend) or history (a file)');
  }
  const dir = publicDir();
  const files = new Map(Object.entries(STATIC).map(([route, s]) => [route, { body: fs.readFileSync(path.join(dir, s.file)), type: s.type }]));
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const allowedHosts = hostsFor(host, bound);
  const api = new Api(options);
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    void handle(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      send(res, status, { error: message });
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    if (allowedHosts !== undefined && !allowedHosts.has(hostHeader)) {
      throw new HttpError(421, `this server answers to ${[...allowedHosts].join(', ')}, not to Host "${hostHeader}"`);
    }
    const url = new URL(req.url ?? '/', 'http://ui.invalid');
    const file = files.get(url.pathname);
    if (file !== undefined) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} ${url.pathname}: expected GET`);
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': file.type, 'Content-Length': file.body.length });
      res.end(req.method === 'HEAD' ? undefined : file.body);
      return;
    }
    if (!url.pathname.startsWith('/api/')) throw new HttpError(404, `no page ${url.pathname}`);
    if (token !== undefined && !tokenMatches(req.headers['x-deja-token'], token)) {
      throw new HttpError(401, 'missing or wrong token; expected the token deja ui printed, in the X-Deja-Token header');
    }
    if (req.method === 'GET') {
      send(res, 200, await api.get(url));
      return;
    }
    if (req.method === 'POST') {
      checkPost(req, hostHeader);
      const body = await readJson(req);
      send(res, 200, await api.post(url.pathname, body));
      return;
    }
    throw new HttpError(405, `${req.method} ${url.pathname}: expected GET or POST`);
  }

  const shownHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const base = `http://${shownHost === '0.0.0.0' || shownHost === '[::]' ? '127.0.0.1' : shownHost}:${bound}/`;
  return {
    url: token === undefined ? base : `${base}?token=${encodeURIComponent(token)}`,
    host,
    port: bound,
    ...(token !== undefined ? { token } : {}),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The Host headers the server answers to: the bound address and, on loopback, its other names.
 * A wildcard bind (0.0.0.0, ::) answers to any name: it has a token, which a rebinding page lacks.
 */
function hostsFor(host: string, port: number): Set<string> | undefined {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === '0.0.0.0' || h === '::') return undefined;
  const names = isLoopback(h) ? ['localhost', '127.0.0.1', '[::1]', h.includes(':') ? `[${h}]` : h] : [h.includes(':') ? `[${h}]` : h];
  return new Set(names.map((n) => `${n}:${port}`));
}

function tokenMatches(given: string | string[] | undefined, token: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A POST must be JSON, carry X-Deja-Request, and (when the browser says where it comes from) come from this page. */
function checkPost(req: http.IncomingMessage, hostHeader: string): void {
  if (req.headers['x-deja-request'] !== '1') throw new HttpError(403, 'an action needs the header X-Deja-Request: 1 (sent by the page)');
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, `an action's body must be application/json, not "${type}"`);
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${hostHeader}`) throw new HttpError(403, `an action from another origin (${origin}) is refused`);
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `the body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new HttpError(400, `the body is not JSON (${(error as Error).message}); expected a JSON object`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'the body is not a JSON object; expected {"action": …}');
  return value as Record<string, unknown>;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The JSON API: what the page asks for. */
class Api {
  constructor(private readonly options: UiServerOptions) {}

  async get(url: URL): Promise<unknown> {
    const q = url.searchParams;
    switch (url.pathname) {
      case '/api/info':
        return {
          mode: this.options.service ? 'backend' : 'file',
          ...(this.options.historyLabel !== undefined ? { file: this.options.historyLabel } : {}),
          actions: this.options.service !== undefined,
        };
      case '/api/workflows':
        return this.list(q.get('query') ?? '', q.get('pageSize'), q.get('pageToken'));
      case '/api/run':
        return this.run(required(q, 'workflowId'), q.get('runId') ?? undefined);
      case '/api/file': {
        const history = this.options.history;
        if (!history) throw new HttpError(404, 'no history file is open; this server shows a backend (see /api/workflows)');
        return { ...runView(history.workflowId, history.runId, history.events), ...(this.options.verdict ? { verdict: this.options.verdict } : {}) };
      }
      default:
        throw new HttpError(404, `no API ${url.pathname}`);
    }
  }

  private service(): WorkflowService {
    if (!this.options.service) throw new HttpError(404, 'this server shows one history file, with no backend');
    return this.options.service;
  }

  private async list(query: string, pageSizeText: string | null, pageToken: string | null): Promise<unknown> {
    const pageSize = pageSizeText === null ? 20 : Number(pageSizeText);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) throw new HttpError(400, `pageSize ${JSON.stringify(pageSizeText)} is not a count; expected 1 to ${MAX_PAGE_SIZE}`);
    try {
      const page = await this.service().listWorkflows({
        pageSize,
        ...(query.trim() !== '' ? { query } : {}),
        ...(pageToken ? { nextPageToken: pageToken } : {}),
      });
      return { executions: page.executions.map(listRow), ...(page.nextPageToken !== undefined ? { nextPageToken: page.nextPageToken } : {}) };
    } catch (error) {
      if (error instanceof InvalidArgumentError) throw new HttpError(400, error.message);
      throw error;
    }
  }

  private async run(workflowId: string, runId: string | undefined): Promise<unknown> {
    const service = this.service();
    const ref = { workflowId, ...(runId !== undefined && runId !== '' ? { runId } : {}) };
    try {
      const description = await service.describeWorkflow(ref);
      const events = await service.getHistory({ workflowId, runId: description.runId });
      const view = runView(workflowId, description.runId, events);
      // The service knows the current memo and search attributes; history only how they were set.
      view.summary.memo = { ...(description.memo ?? {}) };
      view.summary.searchAttributes = { ...(description.searchAttributes ?? {}) };
      return { ...view, description: listRow(description) };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new HttpError(404, error.message);
      if (error instanceof InvalidArgumentError) throw new HttpError(400, error.message);
      throw error;
    }
  }

  async post(pathname: string, body: Record<string, unknown>): Promise<unknown> {
    if (pathname !== '/api/action') throw new HttpError(404, `no API ${pathname}`);
    const service = this.service();
    const workflowId = stringField(body, 'workflowId', true)!;
    const runId = stringField(body, 'runId', false);
    const reason = stringField(body, 'reason', false);
    const identity = this.options.identity ?? 'deja-ui';
    const ref = { workflowId, ...(runId !== undefined ? { runId } : {}) };
    try {
      switch (body.action) {
        case 'signal': {
          const signalName = stringField(body, 'signalName', true)!;
          const args = body.args ?? [];
          if (!Array.isArray(args)) throw new HttpError(400, 'args must be a JSON array of the signal\'s arguments');
          await service.signalWorkflow({ ...ref, signalName, args, identity });
          return { ok: true, action: 'signal' };
        }
        case 'cancel':
          await service.requestCancelWorkflow({ ...ref, identity, ...(reason !== undefined ? { reason } : {}) });
          return { ok: true, action: 'cancel' };
        case 'terminate':
          await service.terminateWorkflow({ ...ref, identity, ...(reason !== undefined ? { reason } : {}) });
          return { ok: true, action: 'terminate' };
        default:
          throw new HttpError(400, `unknown action ${JSON.stringify(body.action)}; expected "signal", "cancel" or "terminate"`);
      }
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new HttpError(404, error.message);
      if (error instanceof InvalidArgumentError) throw new HttpError(400, error.message);
      throw error;
    }
  }
}

function required(q: URLSearchParams, name: string): string {
  const value = q.get(name);
  if (value === null || value === '') throw new HttpError(400, `${name} is required`);
  return value;
}

function stringField(body: Record<string, unknown>, name: string, needed: boolean): string | undefined {
  const value = body[name];
  if (value === undefined || value === '') {
    if (needed) throw new HttpError(400, `${name} is required; expected a non-empty string`);
    return undefined;
  }
  if (typeof value !== 'string') throw new HttpError(400, `${name} must be a string`);
  return value;
}

function listRow(d: WorkflowDescription) {
  return {
    workflowId: d.workflowId,
    runId: d.runId,
    workflowType: d.workflowType,
    taskQueue: d.taskQueue,
    status: d.status,
    startTime: d.startTime,
    ...(d.closeTime !== undefined ? { closeTime: d.closeTime } : {}),
    historyLength: d.historyLength,
    ...(d.parent ? { parent: d.parent } : {}),
  };
}

function runView(workflowId: string, runId: string, events: readonly HistoryEvent[]) {
  return { summary: summarize(workflowId, runId, events), timeline: timeline(events), events };
}
