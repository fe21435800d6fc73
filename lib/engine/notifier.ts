/**
 * Wake-ups (host side) for long polls and result waiters. Two parts:
 * - `InProcessChangeFeed`, the default ChangeFeed (lib/backends/store.ts): the committed changes
 *   of this process, fanned out to this process's subscribers. A backend shared across processes
 *   brings its own feed (PostgreSQL LISTEN/NOTIFY, a poll on SQLite) with the same contract.
 * - `Notifier`, this process's waiters, keyed by what they wait on (`waitKey`). A waiter listens
 *   *before* it checks the store and waits after, so a change committed in between still wakes
 *   it: no lost wake-up without keeping per-key state for keys nobody waits on.
 * The service subscribes to its feed and turns each change into a `notify` of the waiters' key.
 */
import type { Change, ChangeFeed } from '../backends/store';

/** What waiters listen on. */
export const waitKey = {
  workflowQueue: (taskQueue: string) => `workflow:${taskQueue}`,
  activityQueue: (taskQueue: string) => `activity:${taskQueue}`,
  run: (runId: string) => `run:${runId}`,
  query: (queryId: string) => `query:${queryId}`,
  /** Any update of the run changed stage. */
  update: (runId: string) => `update:${runId}`,
};

/** The default ChangeFeed: synchronous delivery to this process's subscribers, and nowhere else. */
export class InProcessChangeFeed implements ChangeFeed {
  private readonly subscribers = new Set<(change: Change) => void>();

  publish(changes: readonly Change[]): void {
    for (const change of changes) {
      for (const onChange of [...this.subscribers]) {
        try {
          onChange(change);
        } catch (err) {
          // The change is committed: a failing subscriber must not make its publisher think otherwise.
          process.emitWarning(`deja: a change subscriber threw: ${err instanceof Error ? err.message : String(err)}`, { type: 'DejaWarning' });
        }
      }
    }
  }

  subscribe(onChange: (change: Change) => void): () => void {
    // A wrapper per call: subscribing one function twice gives two subscriptions.
    const entry = (change: Change) => onChange(change);
    this.subscribers.add(entry);
    return () => this.subscribers.delete(entry);
  }
}

export class Notifier {
  private readonly listeners = new Map<string, Set<Listener>>();

  listen(key: string): Listener {
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    const listener = new Listener(() => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(key) === set) this.listeners.delete(key);
    });
    set.add(listener);
    return listener;
  }

  notify(key: string): void {
    for (const listener of this.listeners.get(key) ?? []) listener.fire(true);
  }

  notifyAll(): void {
    for (const set of this.listeners.values()) for (const listener of set) listener.fire(false);
  }
}

export class Listener {
  private fired = false;
  /** Fired by a change on its own key (likely work), not only by a broadcast. */
  hinted = false;
  private wake?: () => void;

  constructor(private readonly unregister: () => void) {}

  fire(hinted: boolean): void {
    this.fired = true;
    this.hinted ||= hinted;
    this.wake?.();
  }

  /** Resolves once notified since `listen` (at once if already), or when a signal aborts. */
  wait(signals: (AbortSignal | undefined)[]): Promise<void> {
    const live = signals.filter((s): s is AbortSignal => s !== undefined);
    if (this.fired || live.some((s) => s.aborted)) return Promise.resolve();
    return new Promise((resolve) => {
      const stops: (() => void)[] = [];
      const done = () => {
        for (const stop of stops) stop();
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      for (const s of live) stops.push(onAbort(s, done));
    });
  }

  close(): void {
    this.unregister();
  }
}

/**
 * One 'abort' listener per signal, however many waiters wait on it. A service's close signal is
 * shared by every waiter in the process (each `result()` caller, each long poll): one listener per
 * waiter made Node print MaxListenersExceededWarning at the eleventh. Raising the signal's limit
 * would only hide a real leak elsewhere; this keeps it at one.
 */
const abortWaiters = new WeakMap<AbortSignal, { wakes: Set<() => void>; listener: () => void }>();

/** Calls `wake` when `signal` aborts; returns the function that stops that. */
function onAbort(signal: AbortSignal, wake: () => void): () => void {
  let entry = abortWaiters.get(signal);
  if (entry === undefined) {
    const wakes = new Set<() => void>();
    const listener = () => {
      abortWaiters.delete(signal);
      for (const w of [...wakes]) w();
    };
    entry = { wakes, listener };
    abortWaiters.set(signal, entry);
    signal.addEventListener('abort', listener, { once: true });
  }
  const { wakes, listener } = entry;
  wakes.add(wake);
  return () => {
    wakes.delete(wake);
    // The last waiter gone: the signal may live on (a service's), so its listener goes too.
    if (wakes.size === 0 && abortWaiters.get(signal)?.wakes === wakes) {
      abortWaiters.delete(signal);
      signal.removeEventListener('abort', listener);
    }
  };
}
