/**
 * In-process wake-ups (host side) for long polls and result waiters. A waiter listens *before* it
 * checks the store and waits after, so a change committed in between still wakes it: no lost
 * wake-up without keeping per-key state for keys nobody waits on. A cross-process backend keeps
 * this shape and adds sources of `notify`/`notifyAll` (PostgreSQL LISTEN/NOTIFY, or a periodic
 * poll for backends without one).
 */
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
    for (const listener of this.listeners.get(key) ?? []) listener.fire();
  }

  notifyAll(): void {
    for (const set of this.listeners.values()) for (const listener of set) listener.fire();
  }
}

export class Listener {
  private fired = false;
  private wake?: () => void;

  constructor(private readonly unregister: () => void) {}

  fire(): void {
    this.fired = true;
    this.wake?.();
  }

  /** Resolves once notified since `listen` (at once if already), or when a signal aborts. */
  wait(signals: (AbortSignal | undefined)[]): Promise<void> {
    const live = signals.filter((s): s is AbortSignal => s !== undefined);
    if (this.fired || live.some((s) => s.aborted)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        for (const s of live) s.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      for (const s of live) s.addEventListener('abort', done);
    });
  }

  close(): void {
    this.unregister();
  }
}
