/**
 * The SQLite ChangeFeed (host side): how a commit in one process wakes waiters in another that
 * shares the file. Two halves:
 * - this process's own commits: `publish` fans them out at once to this process's subscribers, as
 *   the in-process feed does;
 * - other connections' commits: a poll of `PRAGMA data_version`, which changes for a connection
 *   exactly when another connection (in any process) has committed since it last looked. When it
 *   moved, subscribers get `{ type: 'any' }` and every waiter looks at the store again.
 *
 * The poll is adaptive: every `minMs` after activity (a change seen, or one published here, since
 * another process is then likely to answer), doubling while nothing moves, up to `maxMs`. An idle
 * process wakes `1000 / maxMs` times a second for one pragma that reads shared memory (no file
 * read, no lock). The poll's timer is unref'd: it never keeps a process alive. Delivery latency is
 * measured in bench/ and stated in the README.
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { Change, ChangeFeed } from '../store';

export interface PollOptions {
  /** The interval right after activity. Default 1. */
  minMs: number;
  /** The interval when idle. Default 50. */
  maxMs: number;
}

export const DEFAULT_POLL: PollOptions = { minMs: 1, maxMs: 50 };

export class SqliteChangeFeed implements ChangeFeed {
  private readonly subscribers = new Set<(change: Change) => void>();
  private readonly dataVersion: BetterSqlite3.Statement;
  private readonly poll: PollOptions;
  private version = 0;
  private interval: number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(db: BetterSqlite3.Database, poll: Partial<PollOptions> = {}) {
    this.poll = { ...DEFAULT_POLL, ...poll };
    this.interval = this.poll.minMs;
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
  }

  publish(changes: readonly Change[]): void {
    for (const change of changes) this.deliver(change);
    // Our own activity: others are likely to answer soon, so look often for a while.
    this.hurry();
  }

  subscribe(onChange: (change: Change) => void): () => void {
    const entry = (change: Change) => onChange(change);
    if (this.subscribers.size === 0 && !this.stopped) {
      // Commits from here on move data_version away from this value.
      this.version = this.read() ?? this.version;
      this.schedule(this.poll.minMs);
    }
    this.subscribers.add(entry);
    return () => {
      this.subscribers.delete(entry);
      if (this.subscribers.size === 0) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
    };
  }

  /** Stops polling for good (the store is closing). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private deliver(change: Change): void {
    for (const onChange of [...this.subscribers]) {
      try {
        onChange(change);
      } catch (err) {
        // The change is committed: a failing subscriber must not make its publisher think otherwise.
        process.emitWarning(`deja: a change subscriber threw: ${err instanceof Error ? err.message : String(err)}`, { type: 'DejaWarning' });
      }
    }
  }

  private read(): number | undefined {
    try {
      return this.dataVersion.get() as number;
    } catch {
      return undefined; // the connection is closing, or the file is briefly unreadable: look again later
    }
  }

  private hurry(): void {
    if (this.interval === this.poll.minMs || this.subscribers.size === 0 || this.stopped) return;
    this.schedule(this.poll.minMs);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.interval = ms;
    this.timer = setTimeout(() => this.check(), ms);
    this.timer.unref();
  }

  private check(): void {
    this.timer = undefined;
    if (this.stopped || this.subscribers.size === 0) return;
    const version = this.read();
    const moved = version !== undefined && version !== this.version;
    if (version !== undefined) this.version = version;
    if (moved) this.deliver({ type: 'any' });
    if (this.stopped || this.subscribers.size === 0 || this.timer !== undefined) return;
    this.schedule(moved ? this.poll.minMs : Math.min(this.interval * 2, this.poll.maxMs));
  }
}
