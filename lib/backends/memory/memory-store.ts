/**
 * The in-memory Store (host side): maps in this process, for tests, examples and time skipping.
 * Transactions run one at a time (a promise-chain mutex); every write inside one records its
 * inverse in an undo log, replayed backwards when fn throws. Records are structured-cloned in and
 * out, so no caller ever holds an object the store keeps. Lookups are plain scans (a claim scans
 * its queue's tasks, a tick all timers and leases): simple, and fast enough at test scale.
 */
import type { HistoryEvent } from '../../history/events';
import type {
  HistoryStore,
  QueryRecord,
  QueryStore,
  RunRecord,
  RunStore,
  Store,
  StoreTx,
  TaskKind,
  TaskRecord,
  TaskStore,
  TimerKind,
  TimerRecord,
  TimerStore,
} from '../../engine/store';

const clone = <T>(value: T): T => structuredClone(value);

/** A task with the order it was first inserted in: the tie-break between equally visible tasks. */
interface TaskEntry {
  task: TaskRecord;
  seq: number;
}
interface TimerEntry {
  timer: TimerRecord;
  seq: number;
}

class Tables {
  readonly runs = new Map<string, RunRecord>();
  readonly latestRun = new Map<string, string>();
  readonly history = new Map<string, HistoryEvent[]>();
  readonly tasks = new Map<string, TaskEntry>();
  /** `${kind}\0${taskQueue}` → the ids of its tasks. */
  readonly tasksByQueue = new Map<string, Set<string>>();
  readonly taskByToken = new Map<string, string>();
  readonly timers = new Map<string, TimerEntry>();
  readonly queries = new Map<string, QueryRecord>();
  readonly queryByToken = new Map<string, string>();
  seq = 0;
}

const queueKey = (kind: TaskKind, taskQueue: string) => `${kind}\0${taskQueue}`;
const timerKey = (runId: string, kind: TimerKind, ref: number) => `${runId}\0${kind}\0${ref}`;

/** Writes to the tables, each recording how to undo itself. */
class Journal {
  private readonly undo: (() => void)[] = [];

  set<K, V>(map: Map<K, V>, key: K, value: V): void {
    const had = map.has(key);
    const old = map.get(key);
    map.set(key, value);
    this.undo.push(had ? () => map.set(key, old as V) : () => map.delete(key));
  }

  delete<K, V>(map: Map<K, V>, key: K): void {
    if (!map.has(key)) return;
    const old = map.get(key) as V;
    map.delete(key);
    this.undo.push(() => map.set(key, old));
  }

  add<T>(set: Set<T>, value: T): void {
    if (set.has(value)) return;
    set.add(value);
    this.undo.push(() => set.delete(value));
  }

  remove<T>(set: Set<T>, value: T): void {
    if (!set.delete(value)) return;
    this.undo.push(() => set.add(value));
  }

  push<T>(array: T[], items: T[]): void {
    const length = array.length;
    array.push(...items);
    this.undo.push(() => (array.length = length));
  }

  counter(tables: Tables): number {
    const seq = tables.seq++;
    this.undo.push(() => (tables.seq = seq));
    return seq;
  }

  rollback(): void {
    for (let i = this.undo.length - 1; i >= 0; i--) this.undo[i]();
  }
}

class MemoryTx implements StoreTx {
  readonly runs: RunStore;
  readonly history: HistoryStore;
  readonly tasks: TaskStore;
  readonly timers: TimerStore;
  readonly queries: QueryStore;
  /** Set when the transaction settles: a leaked tx must not write outside the lock. */
  done = false;

  constructor(t: Tables, j: Journal) {
    const live = <A extends unknown[], R>(f: (...args: A) => R) => async (...args: A): Promise<Awaited<R>> => {
      if (this.done) throw new Error('deja memory store: this transaction has ended');
      return f(...args) as Awaited<R>;
    };

    this.runs = {
      get: live((runId: string) => {
        const run = t.runs.get(runId);
        return run && clone(run);
      }),
      latest: live((workflowId: string) => {
        const runId = t.latestRun.get(workflowId);
        return runId === undefined ? undefined : clone(t.runs.get(runId)!);
      }),
      insert: live((run: RunRecord) => {
        if (t.runs.has(run.runId)) throw new Error(`deja memory store: run ${run.runId} exists`);
        j.set(t.runs, run.runId, clone(run));
        j.set(t.latestRun, run.workflowId, run.runId);
        j.set(t.history, run.runId, []);
      }),
      update: live((run: RunRecord) => {
        if (!t.runs.has(run.runId)) throw new Error(`deja memory store: no run ${run.runId} to update`);
        j.set(t.runs, run.runId, clone(run));
      }),
    };

    this.history = {
      append: live((runId: string, events: HistoryEvent[]) => {
        const log = t.history.get(runId);
        if (!log) throw new Error(`deja memory store: no run ${runId} to append to`);
        events.forEach((e, i) => {
          if (e.eventId !== log.length + 1 + i) {
            throw new Error(`deja memory store: run ${runId} expected event id ${log.length + 1 + i}, got ${e.eventId}`);
          }
        });
        j.push(log, events.map(clone));
      }),
      read: live((runId: string, afterEventId = 0) => (t.history.get(runId) ?? []).slice(afterEventId).map(clone)),
    };

    const unindexTask = (entry: TaskEntry) => {
      const { task } = entry;
      j.remove(t.tasksByQueue.get(queueKey(task.kind, task.taskQueue))!, task.taskId);
      if (task.lease) j.delete(t.taskByToken, task.lease.token);
    };
    const storeTask = (task: TaskRecord, seq: number) => {
      const old = t.tasks.get(task.taskId);
      if (old) unindexTask(old);
      j.set(t.tasks, task.taskId, { task, seq });
      const key = queueKey(task.kind, task.taskQueue);
      if (!t.tasksByQueue.has(key)) j.set(t.tasksByQueue, key, new Set());
      j.add(t.tasksByQueue.get(key)!, task.taskId);
      if (task.lease) j.set(t.taskByToken, task.lease.token, task.taskId);
    };
    const deleteTask = (taskId: string) => {
      const entry = t.tasks.get(taskId);
      if (!entry) return;
      unindexTask(entry);
      j.delete(t.tasks, taskId);
    };

    this.tasks = {
      put: live((task: TaskRecord) => {
        const old = t.tasks.get(task.taskId);
        storeTask(clone(task), old ? old.seq : j.counter(t));
      }),
      get: live((taskId: string) => {
        const entry = t.tasks.get(taskId);
        return entry && clone(entry.task);
      }),
      claim: live((kind: TaskKind, taskQueue: string, identity: string, token: string, now: number) => {
        let best: TaskEntry | undefined;
        for (const taskId of t.tasksByQueue.get(queueKey(kind, taskQueue)) ?? []) {
          const entry = t.tasks.get(taskId)!;
          const { task } = entry;
          if (task.lease || task.visibleAt > now) continue;
          if (!best || task.visibleAt < best.task.visibleAt || (task.visibleAt === best.task.visibleAt && entry.seq < best.seq)) best = entry;
        }
        if (!best) return undefined;
        const claimed: TaskRecord = { ...clone(best.task), lease: { token, identity, claimedAt: now, expiresAt: now + best.task.leaseMs } };
        storeTask(claimed, best.seq);
        return clone(claimed);
      }),
      byToken: live((token: string) => {
        const taskId = t.taskByToken.get(token);
        return taskId === undefined ? undefined : clone(t.tasks.get(taskId)!.task);
      }),
      expireLeases: live((now: number, limit: number) => {
        const expired: TaskEntry[] = [];
        for (const entry of t.tasks.values()) {
          if (entry.task.lease && entry.task.lease.expiresAt <= now) expired.push(entry);
        }
        expired.sort((a, b) => a.task.lease!.expiresAt - b.task.lease!.expiresAt || a.seq - b.seq);
        return expired.slice(0, limit).map((entry) => {
          const before = clone(entry.task);
          const released = clone(entry.task);
          delete released.lease;
          storeTask(released, entry.seq);
          return before;
        });
      }),
      delete: live(deleteTask),
      deleteRun: live((runId: string) => {
        for (const entry of [...t.tasks.values()]) if (entry.task.runId === runId) deleteTask(entry.task.taskId);
      }),
      nextDueAt: live((now: number) => {
        let next: number | undefined;
        for (const { task } of t.tasks.values()) {
          const at = task.lease ? task.lease.expiresAt : task.visibleAt > now ? task.visibleAt : undefined;
          if (at !== undefined && (next === undefined || at < next)) next = at;
        }
        return next;
      }),
    };

    this.timers = {
      put: live((timer: TimerRecord) => {
        const key = timerKey(timer.runId, timer.kind, timer.ref);
        const old = t.timers.get(key);
        j.set(t.timers, key, { timer: clone(timer), seq: old ? old.seq : j.counter(t) });
      }),
      get: live((runId: string, kind: TimerKind, ref: number) => {
        const entry = t.timers.get(timerKey(runId, kind, ref));
        return entry && clone(entry.timer);
      }),
      delete: live((runId: string, kind: TimerKind, ref: number) => j.delete(t.timers, timerKey(runId, kind, ref))),
      takeDue: live((now: number, limit: number) => {
        const due = [...t.timers.entries()].filter(([, e]) => e.timer.fireAt <= now);
        due.sort(([, a], [, b]) => a.timer.fireAt - b.timer.fireAt || a.seq - b.seq);
        return due.slice(0, limit).map(([key, entry]) => {
          j.delete(t.timers, key);
          return clone(entry.timer);
        });
      }),
      deleteRun: live((runId: string) => {
        for (const [key, entry] of [...t.timers.entries()]) if (entry.timer.runId === runId) j.delete(t.timers, key);
      }),
      nextFireAt: live(() => {
        let next: number | undefined;
        for (const { timer } of t.timers.values()) if (next === undefined || timer.fireAt < next) next = timer.fireAt;
        return next;
      }),
    };

    const storeQuery = (query: QueryRecord) => {
      const old = t.queries.get(query.queryId);
      if (old?.token !== undefined) j.delete(t.queryByToken, old.token);
      j.set(t.queries, query.queryId, clone(query));
      if (query.token !== undefined) j.set(t.queryByToken, query.token, query.queryId);
    };

    this.queries = {
      insert: live((query: QueryRecord) => {
        if (t.queries.has(query.queryId)) throw new Error(`deja memory store: query ${query.queryId} exists`);
        storeQuery(query);
      }),
      get: live((queryId: string) => {
        const query = t.queries.get(queryId);
        return query && clone(query);
      }),
      claim: live((taskQueue: string, token: string) => {
        for (const query of t.queries.values()) {
          if (query.taskQueue !== taskQueue || query.token !== undefined || query.answer !== undefined) continue;
          const claimed = { ...clone(query), token };
          storeQuery(claimed);
          return claimed;
        }
        return undefined;
      }),
      byToken: live((token: string) => {
        const queryId = t.queryByToken.get(token);
        return queryId === undefined ? undefined : clone(t.queries.get(queryId)!);
      }),
      update: live((query: QueryRecord) => {
        if (!t.queries.has(query.queryId)) throw new Error(`deja memory store: no query ${query.queryId} to update`);
        storeQuery(query);
      }),
      delete: live((queryId: string) => {
        const query = t.queries.get(queryId);
        if (!query) return;
        if (query.token !== undefined) j.delete(t.queryByToken, query.token);
        j.delete(t.queries, queryId);
      }),
    };
  }
}

export class MemoryStore implements Store {
  private readonly tables = new Tables();
  /** Settles when the transaction last queued has; the next one starts after it. */
  private lock: Promise<unknown> = Promise.resolve();
  private closed = false;

  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('deja memory store: the store is closed'));
    const result = this.lock.then(async () => {
      const journal = new Journal();
      const tx = new MemoryTx(this.tables, journal);
      try {
        return await fn(tx);
      } catch (err) {
        journal.rollback();
        throw err;
      } finally {
        tx.done = true;
      }
    });
    this.lock = result.catch(() => {});
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.lock;
  }
}
