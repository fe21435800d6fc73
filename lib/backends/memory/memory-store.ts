/**
 * The in-memory Store (host side): maps in this process, for tests, examples and time skipping.
 * Transactions run one at a time (a promise-chain mutex); every write inside one records its
 * inverse in an undo log, replayed backwards when fn throws, indexes included. Records are
 * structured-cloned in and out, so no caller ever holds an object the store keeps. A read-only
 * transaction is an ordinary one whose write methods refuse. It has no `changes` feed: only this
 * process can open it, and the service's in-process feed serves.
 *
 * Nothing scans: claimable tasks sit in a sorted set per (kind, queue) ordered by (visibleAt,
 * insertion), leased ones in one ordered by (lease end, insertion), timers in one ordered by
 * (fireAt, insertion), unclaimed queries in one per queue, and each run's tasks and timers in a
 * set of their own. A claim, a due timer, `nextDueAt` or a run's deletion costs O(log n) in the
 * number of queued tasks (plus the run's own records), never O(n).
 */
import { DejaError } from '../../errors';
import type { HistoryEvent } from '../../history/events';
import type {
  HistoryStore,
  ListRunsOptions,
  QueryRecord,
  QueryStore,
  ScheduleRecord,
  ScheduleStore,
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
  TransactionOptions,
} from '../store';
import type { Payload } from '../../../runtime/protocol';
import { SortedSet } from './sorted-set';
import { cloneData } from './clone';
import { matches, runOrder } from '../../visibility/evaluate';
import type { FilterExpr, ListQuery } from '../../visibility/ast';

const clone = cloneData;

/**
 * A record's place in an ordered index: an instant, then the order it was first inserted in (the
 * tie-break, and what makes every key distinct), then its id.
 */
interface IndexKey {
  at: number;
  seq: number;
  id: string;
}
const byTime = (a: IndexKey, b: IndexKey) => a.at - b.at || a.seq - b.seq;
const newIndex = () => new SortedSet<IndexKey>(byTime);

/** A task; `key.at` is its visibleAt while unleased, its lease end while leased. */
interface TaskEntry {
  task: TaskRecord;
  key: IndexKey;
}
interface TimerEntry {
  timer: TimerRecord;
  key: IndexKey;
}
/** A query; `key.at` is its insertion order too (queries are claimed first in, first out). */
interface QueryEntry {
  query: QueryRecord;
  key: IndexKey;
}

class Tables {
  readonly runs = new Map<string, RunRecord>();
  readonly latestRun = new Map<string, string>();
  /** Every run, newest start first (key.at is -startTime, key.seq minus its insertion order). */
  readonly runsByStart = newIndex();
  readonly runKeys = new Map<string, IndexKey>();
  readonly history = new Map<string, HistoryEvent[]>();

  readonly tasks = new Map<string, TaskEntry>();
  readonly taskByToken = new Map<string, string>();
  readonly tasksByRun = new Map<string, Set<string>>();
  /** `${kind}\0${taskQueue}` → its unleased tasks, by (visibleAt, insertion). */
  readonly unleasedByQueue = new Map<string, SortedSet<IndexKey>>();
  /** Every unleased task, by (visibleAt, insertion): the next one to become visible. */
  readonly unleased = newIndex();
  /** Every leased task, by (lease end, insertion). */
  readonly leased = newIndex();

  readonly timers = new Map<string, TimerEntry>();
  readonly timersByFire = newIndex();
  readonly timersByRun = new Map<string, Set<string>>();

  readonly queries = new Map<string, QueryEntry>();
  readonly queryByToken = new Map<string, string>();
  /** taskQueue → its queries with no token and no answer, first inserted first. */
  readonly unclaimedByQueue = new Map<string, SortedSet<IndexKey>>();

  readonly schedules = new Map<string, ScheduleRecord>();
  /** Every schedule id, in UTF-16 code-unit order: schedules.list pages through it. */
  readonly scheduleIds = new SortedSet<string>((a, b) => (a < b ? -1 : a > b ? 1 : 0));

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

  insert<T>(index: SortedSet<T>, item: T): void {
    index.insert(item);
    this.undo.push(() => index.delete(item));
  }

  take<T>(index: SortedSet<T>, item: T): void {
    if (index.delete(item)) this.undo.push(() => index.insert(item));
  }

  push<T>(array: T[], items: T[]): void {
    const length = array.length;
    for (const item of items) array.push(item);
    this.undo.push(() => (array.length = length));
  }

  counter(tables: Tables): number {
    const seq = tables.seq++;
    this.undo.push(() => (tables.seq = seq));
    return seq;
  }

  /** The value of `key`, created (and journalled) when missing. */
  ensure<K, V>(map: Map<K, V>, key: K, make: () => V): V {
    let value = map.get(key);
    if (value === undefined) this.set(map, key, (value = make()));
    return value;
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
  readonly schedules: ScheduleStore;
  /** Set when the transaction settles: a leaked tx must not write outside the lock. */
  done = false;

  constructor(t: Tables, j: Journal, readOnly: boolean) {
    const live = <A extends unknown[], R>(f: (...args: A) => R) => async (...args: A): Promise<Awaited<R>> => {
      if (this.done) throw new DejaError('DEJA_INTERNAL', 'deja memory store: this transaction has ended');
      return f(...args) as Awaited<R>;
    };
    /** A write method: refused in a read-only transaction, before it changes anything. */
    const write = <A extends unknown[], R>(name: string, f: (...args: A) => R) =>
      live((...args: A): R => {
        if (readOnly) throw new DejaError('DEJA_INTERNAL', `deja memory store: ${name} is a write, refused in a read-only transaction`);
        return f(...args);
      });

    this.schedules = {
      get: live((scheduleId: string) => {
        const schedule = t.schedules.get(scheduleId);
        return schedule && clone(schedule);
      }),
      insert: write('schedules.insert', (schedule: ScheduleRecord) => {
        if (t.schedules.has(schedule.scheduleId)) throw new DejaError('DEJA_INTERNAL', `deja memory store: schedule ${schedule.scheduleId} exists`);
        j.set(t.schedules, schedule.scheduleId, clone(schedule));
        j.insert(t.scheduleIds, schedule.scheduleId);
      }),
      update: write('schedules.update', (schedule: ScheduleRecord) => {
        if (!t.schedules.has(schedule.scheduleId)) throw new DejaError('DEJA_INTERNAL', `deja memory store: no schedule ${schedule.scheduleId} to update`);
        j.set(t.schedules, schedule.scheduleId, clone(schedule));
      }),
      delete: write('schedules.delete', (scheduleId: string) => {
        if (!t.schedules.has(scheduleId)) return;
        j.delete(t.schedules, scheduleId);
        j.take(t.scheduleIds, scheduleId);
      }),
      list: live((options: { limit: number; afterScheduleId?: string }) => {
        const page: ScheduleRecord[] = [];
        const after = options.afterScheduleId;
        let id = after === undefined ? t.scheduleIds.min() : t.scheduleIds.first((k) => k > after);
        while (id !== undefined && page.length < options.limit) {
          page.push(clone(t.schedules.get(id)!));
          const current = id;
          id = t.scheduleIds.first((k) => k > current);
        }
        return page;
      }),
    };
    this.runs = {
      count: live((where?: FilterExpr) => {
        let n = 0;
        for (const run of t.runs.values()) if (where === undefined || matches(run, where)) n++;
        return n;
      }),
      get: live((runId: string) => {
        const run = t.runs.get(runId);
        return run && clone(run);
      }),
      latest: live((workflowId: string) => {
        const runId = t.latestRun.get(workflowId);
        return runId === undefined ? undefined : clone(t.runs.get(runId)!);
      }),
      insert: write('runs.insert', (run: RunRecord) => {
        if (t.runs.has(run.runId)) throw new DejaError('DEJA_INTERNAL', `deja memory store: run ${run.runId} exists`);
        j.set(t.runs, run.runId, clone(run));
        j.set(t.latestRun, run.workflowId, run.runId);
        j.set(t.history, run.runId, []);
        const key: IndexKey = { at: -run.startTime, seq: -j.counter(t), id: run.runId };
        j.set(t.runKeys, run.runId, key);
        j.insert(t.runsByStart, key);
      }),
      update: write('runs.update', (run: RunRecord) => {
        if (!t.runs.has(run.runId)) throw new DejaError('DEJA_INTERNAL', `deja memory store: no run ${run.runId} to update`);
        j.set(t.runs, run.runId, clone(run));
      }),
      list: live((options: ListRunsOptions) => {
        if (options.query !== undefined) return listByQuery(t, options, options.query).map(clone);
        const page: RunRecord[] = [];
        let key: IndexKey | undefined;
        if (options.afterRunId !== undefined) {
          const after = t.runKeys.get(options.afterRunId);
          if (after === undefined) return page;
          key = t.runsByStart.first((k) => byTime(k, after) > 0);
        } else key = t.runsByStart.min();
        while (key !== undefined && page.length < options.limit) {
          const run = t.runs.get(key.id)!;
          const matches =
            (options.workflowId === undefined || run.workflowId === options.workflowId) &&
            (options.workflowType === undefined || run.workflowType === options.workflowType) &&
            (options.taskQueue === undefined || run.taskQueue === options.taskQueue) &&
            (options.status === undefined || run.status === options.status);
          if (matches) page.push(clone(run));
          const current = key;
          key = t.runsByStart.first((k) => byTime(k, current) > 0);
        }
        return page;
      }),
    };

    this.history = {
      append: write('history.append', (runId: string, events: HistoryEvent[]) => {
        const log = t.history.get(runId);
        if (!log) throw new DejaError('DEJA_INTERNAL', `deja memory store: no run ${runId} to append to`);
        events.forEach((e, i) => {
          if (e.eventId !== log.length + 1 + i) {
            throw new DejaError('DEJA_INTERNAL', `deja memory store: run ${runId} expected event id ${log.length + 1 + i}, got ${e.eventId}`);
          }
        });
        j.push(log, events.map(clone));
      }),
      read: live((runId: string, afterEventId = 0) => (t.history.get(runId) ?? []).slice(afterEventId).map(clone)),
    };

    // ---- tasks ----

    const indexTask = ({ task, key }: TaskEntry) => {
      j.add(j.ensure(t.tasksByRun, task.runId, () => new Set()), task.taskId);
      if (task.lease) {
        j.set(t.taskByToken, task.lease.token, task.taskId);
        j.insert(t.leased, key);
      } else {
        j.insert(j.ensure(t.unleasedByQueue, queueKey(task.kind, task.taskQueue), newIndex), key);
        j.insert(t.unleased, key);
      }
    };
    const unindexTask = ({ task, key }: TaskEntry) => {
      j.remove(t.tasksByRun.get(task.runId)!, task.taskId);
      if (task.lease) {
        j.delete(t.taskByToken, task.lease.token);
        j.take(t.leased, key);
      } else {
        j.take(t.unleasedByQueue.get(queueKey(task.kind, task.taskQueue))!, key);
        j.take(t.unleased, key);
      }
    };
    /** Stores a task the store owns (already a copy), keeping the insertion order `seq`. */
    const storeTask = (task: TaskRecord, seq: number) => {
      const old = t.tasks.get(task.taskId);
      if (old) unindexTask(old);
      const entry: TaskEntry = { task, key: { at: task.lease ? task.lease.expiresAt : task.visibleAt, seq, id: task.taskId } };
      j.set(t.tasks, task.taskId, entry);
      indexTask(entry);
    };
    const deleteTask = (taskId: string) => {
      const entry = t.tasks.get(taskId);
      if (!entry) return;
      unindexTask(entry);
      j.delete(t.tasks, taskId);
    };

    this.tasks = {
      put: write('tasks.put', (task: TaskRecord) => {
        const old = t.tasks.get(task.taskId);
        storeTask(clone(task), old ? old.key.seq : j.counter(t));
      }),
      get: live((taskId: string) => {
        const entry = t.tasks.get(taskId);
        return entry && clone(entry.task);
      }),
      claim: write('tasks.claim', (kind: TaskKind, taskQueue: string, identity: string, token: string, now: number) => {
        const first = t.unleasedByQueue.get(queueKey(kind, taskQueue))?.min();
        if (first === undefined || first.at > now) return undefined;
        const entry = t.tasks.get(first.id)!;
        const claimed: TaskRecord = { ...clone(entry.task), lease: { token, identity, claimedAt: now, expiresAt: now + entry.task.leaseMs } };
        storeTask(claimed, entry.key.seq);
        return clone(claimed);
      }),
      claimable: live((kind: TaskKind, taskQueue: string, now: number) => {
        const first = t.unleasedByQueue.get(queueKey(kind, taskQueue))?.min();
        return first !== undefined && first.at <= now;
      }),
      setHeartbeat: write('tasks.setHeartbeat', (taskId: string, heartbeat: { details?: Payload; expiresAt: number }) => {
        const entry = t.tasks.get(taskId);
        if (entry?.task.kind !== 'activity' || !entry.task.lease) throw new DejaError('DEJA_INTERNAL', `deja memory store: no leased activity task ${taskId} to heartbeat`);
        // The store's own copy, changed in the two fields only; re-indexed because the lease end moved.
        const task = { ...entry.task, lease: { ...entry.task.lease, expiresAt: heartbeat.expiresAt } };
        if (heartbeat.details !== undefined) task.activity = { ...task.activity, heartbeatDetails: clone(heartbeat.details) };
        storeTask(task, entry.key.seq);
      }),
      byToken: live((token: string) => {
        const taskId = t.taskByToken.get(token);
        return taskId === undefined ? undefined : clone(t.tasks.get(taskId)!.task);
      }),
      expireLeases: write('tasks.expireLeases', (now: number, limit: number) => {
        const expired: TaskRecord[] = [];
        while (expired.length < limit) {
          const first = t.leased.min();
          if (first === undefined || first.at > now) break;
          const entry = t.tasks.get(first.id)!;
          expired.push(clone(entry.task));
          const released = clone(entry.task);
          delete released.lease;
          storeTask(released, entry.key.seq);
        }
        return expired;
      }),
      delete: write('tasks.delete', deleteTask),
      deleteRun: write('tasks.deleteRun', (runId: string) => {
        for (const taskId of [...(t.tasksByRun.get(runId) ?? [])]) deleteTask(taskId);
      }),
      ofRun: live((runId: string) =>
        [...(t.tasksByRun.get(runId) ?? [])].map((taskId) => t.tasks.get(taskId)!).sort((a, b) => a.key.seq - b.key.seq).map((entry) => clone(entry.task)),
      ),
      nextDueAt: live((now: number) => {
        const leaseEnd = t.leased.min()?.at;
        const visible = t.unleased.first((key) => key.at > now)?.at;
        if (leaseEnd === undefined) return visible;
        return visible === undefined ? leaseEnd : Math.min(leaseEnd, visible);
      }),
    };

    // ---- timers ----

    const deleteTimer = (key: string) => {
      const entry = t.timers.get(key);
      if (!entry) return;
      j.remove(t.timersByRun.get(entry.timer.runId)!, key);
      j.take(t.timersByFire, entry.key);
      j.delete(t.timers, key);
    };

    this.timers = {
      put: write('timers.put', (timer: TimerRecord) => {
        const key = timerKey(timer.runId, timer.kind, timer.ref);
        const old = t.timers.get(key);
        const seq = old ? old.key.seq : j.counter(t);
        deleteTimer(key);
        const entry: TimerEntry = { timer: clone(timer), key: { at: timer.fireAt, seq, id: key } };
        j.set(t.timers, key, entry);
        j.insert(t.timersByFire, entry.key);
        j.add(j.ensure(t.timersByRun, timer.runId, () => new Set()), key);
      }),
      get: live((runId: string, kind: TimerKind, ref: number) => {
        const entry = t.timers.get(timerKey(runId, kind, ref));
        return entry && clone(entry.timer);
      }),
      delete: write('timers.delete', (runId: string, kind: TimerKind, ref: number) => deleteTimer(timerKey(runId, kind, ref))),
      takeDue: write('timers.takeDue', (now: number, limit: number) => {
        const due: TimerRecord[] = [];
        while (due.length < limit) {
          const first = t.timersByFire.min();
          if (first === undefined || first.at > now) break;
          due.push(clone(t.timers.get(first.id)!.timer));
          deleteTimer(first.id);
        }
        return due;
      }),
      deleteRun: write('timers.deleteRun', (runId: string) => {
        for (const key of [...(t.timersByRun.get(runId) ?? [])]) deleteTimer(key);
      }),
      nextFireAt: live(() => t.timersByFire.min()?.at),
    };

    // ---- queries ----

    const claimable = (query: QueryRecord) => query.token === undefined && query.answer === undefined && query.blocked !== true;
    /** Stores a copy of the query, keeping its insertion order. */
    const storeQuery = (query: QueryRecord) => {
      const old = t.queries.get(query.queryId);
      if (old) {
        if (old.query.token !== undefined) j.delete(t.queryByToken, old.query.token);
        if (claimable(old.query)) j.take(t.unclaimedByQueue.get(old.query.taskQueue)!, old.key);
      }
      const seq = old ? old.key.seq : j.counter(t);
      const entry: QueryEntry = { query: clone(query), key: { at: seq, seq, id: query.queryId } };
      j.set(t.queries, query.queryId, entry);
      if (query.token !== undefined) j.set(t.queryByToken, query.token, query.queryId);
      if (claimable(query)) j.insert(j.ensure(t.unclaimedByQueue, query.taskQueue, newIndex), entry.key);
    };

    this.queries = {
      insert: write('queries.insert', (query: QueryRecord) => {
        if (t.queries.has(query.queryId)) throw new DejaError('DEJA_INTERNAL', `deja memory store: query ${query.queryId} exists`);
        storeQuery(query);
      }),
      get: live((queryId: string) => {
        const entry = t.queries.get(queryId);
        return entry && clone(entry.query);
      }),
      claimable: live((taskQueue: string) => t.unclaimedByQueue.get(taskQueue)?.min() !== undefined),
      claim: write('queries.claim', (taskQueue: string, token: string) => {
        const first = t.unclaimedByQueue.get(taskQueue)?.min();
        if (first === undefined) return undefined;
        const claimed = { ...clone(t.queries.get(first.id)!.query), token };
        storeQuery(claimed);
        return claimed;
      }),
      byToken: live((token: string) => {
        const queryId = t.queryByToken.get(token);
        return queryId === undefined ? undefined : clone(t.queries.get(queryId)!.query);
      }),
      update: write('queries.update', (query: QueryRecord) => {
        if (!t.queries.has(query.queryId)) throw new DejaError('DEJA_INTERNAL', `deja memory store: no query ${query.queryId} to update`);
        storeQuery(query);
      }),
      delete: write('queries.delete', (queryId: string) => {
        const entry = t.queries.get(queryId);
        if (!entry) return;
        if (entry.query.token !== undefined) j.delete(t.queryByToken, entry.query.token);
        if (claimable(entry.query)) j.take(t.unclaimedByQueue.get(entry.query.taskQueue)!, entry.key);
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

  /** A read-only transaction runs like any other (one at a time), but its write methods refuse. */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (this.closed) return Promise.reject(new Error('deja memory store: the store is closed'));
    const result = this.lock.then(async () => {
      const journal = new Journal();
      const tx = new MemoryTx(this.tables, journal, options.readOnly === true);
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

/** runs.list with a list filter: a scan of every run, sorted in the filter's order (lib/visibility/evaluate.ts). */
function listByQuery(t: Tables, options: ListRunsOptions, query: ListQuery): RunRecord[] {
  const inserted = (run: RunRecord) => -t.runKeys.get(run.runId)!.seq;
  const order = runOrder(query.orderBy, inserted);
  let after: RunRecord | undefined;
  if (options.afterRunId !== undefined) {
    after = t.runs.get(options.afterRunId);
    if (after === undefined) return [];
  }
  const found: RunRecord[] = [];
  for (const run of t.runs.values()) {
    if (options.workflowId !== undefined && run.workflowId !== options.workflowId) continue;
    if (options.workflowType !== undefined && run.workflowType !== options.workflowType) continue;
    if (options.taskQueue !== undefined && run.taskQueue !== options.taskQueue) continue;
    if (options.status !== undefined && run.status !== options.status) continue;
    if (query.where !== undefined && !matches(run, query.where)) continue;
    if (after !== undefined && order(run, after) <= 0) continue;
    found.push(run);
  }
  return found.sort(order).slice(0, options.limit);
}
