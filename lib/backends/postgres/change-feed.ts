/**
 * The PostgreSQL ChangeFeed (host side): how a commit in one process wakes waiters in every other
 * process on any machine that shares the database.
 * - `publish` (called by the service after its transaction committed) delivers the changes to
 *   this process's subscribers at once, and sends them to the others with one `NOTIFY` (through
 *   the pool, after the commit: never for a transaction rolled back). Changes published in one
 *   turn of the event loop go out in one notification; one too big for NOTIFY's 8000-byte payload
 *   goes out as `{ type: 'any' }`.
 * - One dedicated connection LISTENs on the schema's channel and delivers what other processes
 *   sent (its own notifications, recognized by an origin id, are skipped: they were delivered
 *   locally already).
 * - When that connection is lost, the feed reconnects with a back-off and, until it is back,
 *   polls: it delivers `{ type: 'any' }` every `pollMs` (each waiter reads the store again), since
 *   notifications sent meanwhile are lost. Once it listens again it delivers `{ type: 'any' }`.
 * Timers are unref'd: the feed never keeps a process alive.
 */
import { randomUUID } from 'node:crypto';
import type { Client, ClientConfig, Notification } from 'pg';
import type { Change, ChangeFeed } from '../store';

export interface FeedOptions {
  /** While the listening connection is down: how often every waiter is told to look again. Default 500. */
  pollMs: number;
  /** The longest wait between reconnection attempts. Default 2000. */
  maxReconnectMs: number;
}

export const DEFAULT_FEED: FeedOptions = { pollMs: 500, maxReconnectMs: 2000 };

/** NOTIFY's payload limit is 8000 bytes; keep clear of it. */
const MAX_PAYLOAD = 7800;

export class PostgresChangeFeed implements ChangeFeed {
  private readonly subscribers = new Set<(change: Change) => void>();
  private readonly origin = randomUUID();
  private readonly options: FeedOptions;
  private pending: Change[] = [];
  private flushing = false;
  private listener: Client | undefined;
  private connecting = false;
  private down = false;
  private reconnectMs = 50;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Clients whose loss was handled already ('error' and 'end' may both come). */
  private readonly gone = new WeakSet<Client>();

  constructor(
    private readonly channel: string,
    /** A new client for the LISTEN connection (not from the pool: it is held for good). */
    private readonly newClient: (config?: Partial<ClientConfig>) => Client,
    /** Sends one NOTIFY through the pool. */
    private readonly notify: (channel: string, payload: string) => Promise<unknown>,
    options: Partial<FeedOptions> = {},
  ) {
    this.options = { ...DEFAULT_FEED, ...options };
  }

  publish(changes: readonly Change[]): void {
    if (changes.length === 0) return;
    for (const change of changes) this.deliver(change);
    if (this.stopped) return;
    this.pending.push(...changes);
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => this.flush());
    }
  }

  subscribe(onChange: (change: Change) => void): () => void {
    const entry = (change: Change) => onChange(change);
    this.subscribers.add(entry);
    if (!this.listener && !this.connecting && !this.stopped) void this.listen();
    return () => {
      this.subscribers.delete(entry);
    };
  }

  /** Whether the LISTEN connection is up (for tests and diagnostics). */
  get listening(): boolean {
    return this.listener !== undefined && !this.down;
  }

  /** Stops for good (the store is closing): closes the LISTEN connection, sends nothing more. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pollTimer);
    const listener = this.listener;
    this.listener = undefined;
    if (listener) await listener.end().catch(() => undefined);
  }

  private flush(): void {
    this.flushing = false;
    const seen = new Map<string, Change>();
    for (const change of this.pending.splice(0)) seen.set(JSON.stringify(change), change);
    let payload = JSON.stringify({ o: this.origin, c: [...seen.values()] });
    if (Buffer.byteLength(payload) > MAX_PAYLOAD) payload = JSON.stringify({ o: this.origin, c: [{ type: 'any' }] });
    // Never throws, never waits: a lost notification is made up for by the others' polling while
    // their connection is down, and a server that is down has no listeners to tell.
    this.notify(this.channel, payload).catch(() => undefined);
  }

  private deliver(change: Change): void {
    for (const onChange of [...this.subscribers]) {
      try {
        onChange(change);
      } catch (err) {
        process.emitWarning(`deja: a change subscriber threw: ${err instanceof Error ? err.message : String(err)}`, { type: 'DejaWarning' });
      }
    }
  }

  private async listen(): Promise<void> {
    this.connecting = true;
    const client = this.newClient({ keepAlive: true });
    // An error event without a listener would crash the process: a lost connection is expected.
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (message: Notification) => this.received(message));
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel.replace(/"/g, '""')}"`);
    } catch {
      this.connecting = false;
      if (this.gone.has(client)) return;
      this.gone.add(client);
      client.end().catch(() => undefined);
      if (!this.stopped) this.retry();
      return;
    }
    this.connecting = false;
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
    this.reconnectMs = 50;
    if (this.down) {
      this.down = false;
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
      // Whatever was sent while we were not listening is lost: everyone looks again.
      this.deliver({ type: 'any' });
    }
  }

  private received(message: Notification): void {
    if (message.channel !== this.channel || message.payload === undefined) return;
    let parsed: { o?: string; c?: Change[] };
    try {
      parsed = JSON.parse(message.payload) as typeof parsed;
    } catch {
      return this.deliver({ type: 'any' });
    }
    if (parsed.o === this.origin || !Array.isArray(parsed.c)) return;
    for (const change of parsed.c) this.deliver(change);
  }

  private lost(client: Client): void {
    // While connecting, listen() handles a failure itself.
    if (this.gone.has(client) || (this.connecting && this.listener !== client)) return;
    this.gone.add(client);
    if (this.listener === client) this.listener = undefined;
    client.end().catch(() => undefined);
    if (this.stopped) return;
    this.retry();
  }

  /** Polls while down, and tries to listen again after a back-off. */
  private retry(): void {
    if (!this.down) {
      this.down = true;
      this.deliver({ type: 'any' });
      this.pollTimer = setInterval(() => this.deliver({ type: 'any' }), this.options.pollMs);
      this.pollTimer.unref();
    }
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (!this.stopped && !this.listener && !this.connecting) void this.listen();
    }, this.reconnectMs);
    this.reconnectTimer.unref();
    this.reconnectMs = Math.min(this.reconnectMs * 2, this.options.maxReconnectMs);
  }
}
