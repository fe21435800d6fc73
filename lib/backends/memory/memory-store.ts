/**
 * The in-memory Store (host side): maps in this process, for tests, examples and time skipping.
 * Transactions run one at a time (a promise-chain mutex); every write inside one records its
 * inverse in an undo log, replayed backwards when fn throws, indexes included. Records are
 * structured-cloned in and out, so no caller ever holds an object the store keeps; the store never
 * changes a record it keeps in place (a change stores a new top-level object), so a new record may
 * share members with the one it replaces. A read-only
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
 * `{ ...record, [key]: value }`, built member by member: on Node 20 a member added after a leading
 * spread costs about a microsecond. Records are plain data (no symbol keys, no `__proto__` key).
 */
function withMember<T extends object, K extends string>(record: T, key: K, value: unknown): T {
  const out: Record<string, unknown> = {};
  const source = record as Record<string, unknown>;
  for (const k of Object.keys(source)) out[k] = source[k];
  out[key] = value;
  return out as T;
}

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

/**
 * One transaction. Its parts are small objects whose methods live on their prototypes: a
 * transaction makes seven objects, not a closure per method (transactions are the store's hot path).
 */
class MemoryTx implements StoreTx {
  /** Set when the transaction settles: a leaked tx must not write outside the lock. */
  done = false;
  private _runs?: MemoryRuns;
  private _history?: MemoryHistory;
  private _tasks?: MemoryTasks;
  private _timers?: MemoryTimers;
  private _queries?: MemoryQueries;
  private _schedules?: MemorySchedules;

  constructor(
    readonly t: Tables,
    readonly j: Journal,
    readonly readOnly: boolean,
  ) {}

  get runs(): RunStore {
    return (this._runs ??= new MemoryRuns(this));
  }
  get history(): HistoryStore {
    return (this._history ??= new MemoryHistory(this));
  }
  get tasks(): TaskStore {
    return (this._tasks ??= new MemoryTasks(this));
  }
  get timers(): TimerStore {
    return (this._timers ??= new MemoryTimers(this));
  }
  get queries(): QueryStore {
    return (this._queries ??= new MemoryQueries(this));
  }
  get schedules(): ScheduleStore {
    return (this._schedules ??= new MemorySchedules(this));
  }

  /** Every method starts here: a transaction that has ended refuses. */
  live(): void {
    if (this.done) throw new DejaError('DEJA_INTERNAL', 'deja memory store: this transaction has ended');
  }

  /** A write method starts here: refused in a read-only transaction, before it changes anything. */
  write(name: string): void {
    this.live();
    if (this.readOnly) throw new DejaError('DEJA_INTERNAL', `deja memory store: ${name} is a write, refused in a read-only transaction`);
  }
}

class MemorySchedules implements ScheduleStore {
  constructor(private readonly tx: MemoryTx) {}

  async get(scheduleId: string): Promise<ScheduleRecord | undefined> {
    this.tx.live();
    const schedule = this.tx.t.schedules.get(scheduleId);
    return schedule && clone(schedule);
  }

  async insert(schedule: ScheduleRecord): Promise<void> {
    const { t, j } = this.tx;
    this.tx.write('schedules.insert');
    if (t.schedules.has(schedule.scheduleId)) throw new DejaError('DEJA_INTERNAL', `deja memory store: schedule ${schedule.scheduleId} exists`);
    j.set(t.schedules, schedule.scheduleId, clone(schedule));
    j.insert(t.scheduleIds, schedule.scheduleId);
  }

  async update(schedule: ScheduleRecord): Promise<void> {
    const { t, j } = this.tx;
    this.tx.write('schedules.update');
    if (!t.schedules.has(schedule.scheduleId)) throw new DejaError('DEJA_INTERNAL', `deja memory store: no schedule ${schedule.scheduleId} to update`);
    j.set(t.schedules, schedule.scheduleId, clone(schedule));
  }

  async delete(scheduleId: string): Promise<void> {
    const { t, j } = this.tx;
    this.tx.write('schedules.delete');
    if (!t.schedules.has(scheduleId)) return;
    j.delete(t.schedules, scheduleId);
    j.take(t.scheduleIds, scheduleId);
  }

  async list(options: { limit: number; afterScheduleId?: string }): Promise<ScheduleRecord[]> {
    const { t } = this.tx;
    this.tx.live();
    const page: ScheduleRecord[] = [];
    const after = options.afterScheduleId;
    let id = after === undefined ? t.scheduleIds.min() : t.scheduleIds.first((k) => k > after);
    while (id !== undefined && page.length < options.limit) {
      page.push(clone(t.schedules.get(id)!));
      const current = id;
      id = t.scheduleIds.first((k) => k > current);
    }
    return page;
  }
}

class MemoryRuns implements RunStore {
  constructor(private readonly tx: MemoryTx) {}

  async count(where?: FilterExpr): Promise<number> {
    this.tx.live();
    let n = 0;
    for (const run of this.tx.t.runs.values()) if (where === undefined || matches(run, where)) n++;
    return n;
  }

  async get(runId: string): Promise<RunRecord | undefined> {
    this.tx.live();
    const run = this.tx.t.runs.get(runId);
    return run && clone(run);
  }

  async latest(workflowId: string): Promise<RunRecord | undefined> {
    const { t } = this.tx;
    this.tx.live();
    const runId = t.latestRun.get(workflowId);
    return runId === undefined ? undefined : clone(t.runs.get(runId)!);
  }

  async insert(run: RunRecord): Promise<void> {
    const { t, j } = this.tx;
    this.tx.write('runs.insert');
    if (t.runs.has(run.runId)) throw new DejaError('DEJA_INTERNAL', `deja memory store: run ${run.runId} exists`);
    j.set(t.runs, run.runId, clone(run));
    j.set(t.latestRun, run.workflowId, run.runId);
    j.set(t.history, run.runId, []);
    const key: IndexKey = { at: -run.startTime, seq: -j.counter(t), id: run.runId };
    j.set(t.runKeys, run.runId, key);
    j.insert(t.runsByStart, key);
  }

  async update(run: RunRecord): Promise<void> {
    const { t, j } = this.tx;
    this.tx.write('runs.update');
    if (!t.runs.has(run.runId)) throw new DejaError('DEJA_INTERNAL', `deja memory store: no run ${run.runId} to update`);
    j.set(t.runs, run.runId, clone(run));
  }

  async list(options: ListRunsOptions): Promise<RunRecord[]> {
    const { t } = this.tx;
    this.tx.live();
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
  }
}

class MemoryHistory implements HistoryStore {
  constructor(private readonly tx: MemoryTx) {}

  async append(runId: string, events: HistoryEvent[]): Promise<void> {
    const { t, j } = this.tx;
    this.tx.write('history.append');
    const log = t.history.get(runId);
    if (!log) throw new DejaError('DEJA_INTERNAL', `deja memory store: no run ${runId} to append to`);
    events.forEach((e, i) => {
      if (e.eventId !== log.length + 1 + i) {
        throw new DejaError('DEJA_INTERNAL', `deja memory store: run ${runId} expected event id ${log.length + 1 + i}, got ${e.eventId}`);
      }
    });
    j.push(log, events.map(clone));
  }

  async read(runId: string, afterEventId = 0): Promise<HistoryEvent[]> {
    this.tx.live();
    return (this.tx.t.history.get(runId) ?? []).slice(afterEventId).map(clone);
  }
}

class MemoryTasks implements TaskStore {
  constructor(private readonly tx: MemoryTx) {}

  private indexTask({ task, key }: TaskEntry): void {
    const { t, j } = this.tx;
    j.add(j.ensure(t.tasksByRun, task.runId, () => new Set()), task.taskId);
    if (task.lease) {
      j.set(t.taskByToken, task.lease.token, task.taskId);
      j.insert(t.leased, key);
    } else {
      j.insert(j.ensure(t.unleasedByQueue, queueKey(task.kind, task.taskQueue), newIndex), key);
      j.insert(t.unleased, key);
    }
  }

  private unindexTask({ task, key }: TaskEntry): void {
    const { t, j } = this.tx;
    j.remove(t.tasksByRun.get(task.runId)!, task.taskId);
    if (task.lease) {
      j.delete(t.taskByToken, task.lease.token);
      j.take(t.leased, key);
    } else {
      j.take(t.unleasedByQueue.get(queueKey(task.kind, task.taskQueue))!, key);
      j.take(t.unleased, key);
    }
  }

  /** Stores a task the store owns (already a copy), keeping the insertion order `seq`. */
  private storeTask(task: TaskRecord, seq: number): void {
    const { t, j } = this.tx;
    const old = t.tasks.get(task.taskId);
    if (old) this.unindexTask(old);
    const entry: TaskEntry = { task, key: { at: task.lease ? task.lease.expiresAt : task.visibleAt, seq, id: task.taskId } };
    j.set(t.tasks, task.taskId, entry);
    this.indexTask(entry);
  }

  private deleteTask(taskId: string): void {
    const { t, j } = this.tx;
    const entry = t.tasks.get(taskId);
    if (!entry) return;
    this.unindexTask(entry);
    j.delete(t.tasks, taskId);
  }

  async put(task: TaskRecord): Promise<void> {
    const { t, j } = this.tx;
    this.tx.write('tasks.put');
    const old = t.tasks.get(task.taskId);
    this.storeTask(clone(task), old ? old.key.seq : j.counter(t));
  }

  async get(taskId: string): Promise<TaskRecord | undefined> {
    this.tx.live();
    const entry = this.tx.t.tasks.get(taskId);
    return entry && clone(entry.task);
  }

  async claim(kind: TaskKind, taskQueue: string, identity: string, token: string, now: number): Promise<TaskRecord | undefined> {
    const { t } = this.tx;
    this.tx.write('tasks.claim');
    const first = t.unleasedByQueue.get(queueKey(kind, taskQueue))?.min();
    if (first === undefined || first.at > now) return undefined;
    const entry = t.tasks.get(first.id)!;
    // The store's records are never changed in place (every change stores a new top-level
    // object), so the claimed one may share its members with the record it replaces.
    const claimed = withMember(entry.task, 'lease', { token, identity, claimedAt: now, expiresAt: now + entry.task.leaseMs });
    this.storeTask(claimed, entry.key.seq);
    return clone(claimed);
  }

  async claimable(kind: TaskKind, taskQueue: string, now: number): Promise<boolean> {
    this.tx.live();
    const first = this.tx.t.unleasedByQueue.get(queueKey(kind, taskQueue))?.min();
    return first !== undefined && first.at <= now;
  }

  async setHeartbeat(taskId: string, heartbeat: { details?: Payload; expiresAt: number }): Promise<void> {
    this.tx.write('tasks.setHeartbeat');
    const entry = this.tx.t.tasks.get(taskId);
    if (entry?.task.kind !== 'activity' || !entry.task.lease) throw new DejaError('DEJA_INTERNAL', `deja memory store: no leased activity task ${taskId} to heartbeat`);
    // The store's own copy, changed in the two fields only; re-indexed because the lease end moved.
    let task = withMember(entry.task, 'lease', withMember(entry.task.lease, 'expiresAt', heartbeat.expiresAt));
    if (heartbeat.details !== undefined) task = withMember(task, 'activity', withMember(task.activity, 'heartbeatDetails', clone(heartbeat.details)));
    this.storeTask(task, entry.key.seq);
  }

  async byToken(token: string): Promise<TaskRecord | undefined> {
    const { t } = this.tx;
    this.tx.live();
    const taskId = t.taskByToken.get(token);
    return taskId === undefined ? undefined : clone(t.tasks.get(taskId)!.task);
  }

  async expireLeases(now: number, limit: number): Promise<TaskRecord[]> {
    const { t } = this.tx;
    this.tx.write('tasks.expireLeases');
    const expired: TaskRecord[] = [];
    while (expired.length < limit) {
      const first = t.leased.min();
      if (first === undefined || first.at > now) break;
      const entry = t.tasks.get(first.id)!;
      expired.push(clone(entry.task));
      const { lease: _lease, ...released } = entry.task;
      this.storeTask(released, entry.key.seq);
    }
    return expired;
  }

  async delete(taskId: string): Promise<void> {
    this.tx.write('tasks.delete');
    this.deleteTask(taskId);
  }

  async deleteRun(runId: string): Promise<void> {
    this.tx.write('tasks.deleteRun');
    for (const taskId of [...(this.tx.t.tasksByRun.get(runId) ?? [])]) this.deleteTask(taskId);
  }

  async ofRun(runId: string): Promise<TaskRecord[]> {
    const { t } = this.tx;
    this.tx.live();
    return [...(t.tasksByRun.get(runId) ?? [])]
      .map((taskId) => t.tasks.get(taskId)!)
      .sort((a, b) => a.key.seq - b.key.seq)
      .map((entry) => clone(entry.task));
  }

  async nextDueAt(now: number): Promise<number | undefined> {
    const { t } = this.tx;
    this.tx.live();
    const leaseEnd = t.leased.min()?.at;
    const visible = t.unleased.first((key) => key.at > now)?.at;
    if (leaseEnd === undefined) return visible;
    return visible === undefined ? leaseEnd : Math.min(leaseEnd, visible);
  }
}

class MemoryTimers implements TimerStore {
  constructor(private readonly tx: MemoryTx) {}

  private deleteTimer(key: string): void {
    const { t, j } = this.tx;
    const entry = t.timers.get(key);
    if (!entry) return;
    j.remove(t.timersByRun.get(entry.timer.runId)!, key);
    j.take(t.timersByFire, entry.key);
    j.delete(t.timers, key);
  }

  async put(timer: TimerRecord): Promise<void> {
    const { t, j } = this.tx;
    this.tx.write('timers.put');
    const key = timerKey(timer.runId, timer.kind, timer.ref);
    const old = t.timers.get(key);
    const seq = old ? old.key.seq : j.counter(t);
    this.deleteTimer(key);
    const entry: TimerEntry = { timer: clone(timer), key: { at: timer.fireAt, seq, id: key } };
    j.set(t.timers, key, entry);
    j.insert(t.timersByFire, entry.key);
    j.add(j.ensure(t.timersByRun, timer.runId, () => new Set()), key);
  }

  async get(runId: string, kind: TimerKind, ref: number): Promise<TimerRecord | undefined> {
    this.tx.live();
    const entry = this.tx.t.timers.get(timerKey(runId, kind, ref));
    return entry && clone(entry.timer);
  }

  async delete(runId: string, kind: TimerKind, ref: number): Promise<void> {
    this.tx.write('timers.delete');
    this.deleteTimer(timerKey(runId, kind, ref));
  }

  async takeDue(now: number, limit: number): Promise<TimerRecord[]> {
    const { t } = this.tx;
    this.tx.write('timers.takeDue');
    const due: TimerRecord[] = [];
    while (due.length < limit) {
      const first = t.timersByFire.min();
      if (first === undefined || first.at > now) break;
      due.push(clone(t.timers.get(first.id)!.timer));
      this.deleteTimer(first.id);
    }
    return due;
  }

  async deleteRun(runId: string): Promise<void> {
    this.tx.write('timers.deleteRun');
    for (const key of [...(this.tx.t.timersByRun.get(runId) ?? [])]) this.deleteTimer(key);
  }

  async nextFireAt(): Promise<number | undefined> {
    this.tx.live();
    return this.tx.t.timersByFire.min()?.at;
  }
}

const claimableQuery = (query: QueryRecord) => query.token === undefined && query.answer === undefined && query.blocked !== true;

class MemoryQueries implements QueryStore {
  constructor(private readonly tx: MemoryTx) {}

  /** Stores a copy of the query, keeping its insertion order. */
  private storeQuery(query: QueryRecord): void {
    const { t, j } = this.tx;
    const old = t.queries.get(query.queryId);
    if (old) {
      if (old.query.token !== undefined) j.delete(t.queryByToken, old.query.token);
      if (claimableQuery(old.query)) j.take(t.unclaimedByQueue.get(old.query.taskQueue)!, old.key);
    }
    const seq = old ? old.key.seq : j.counter(t);
    const entry: QueryEntry = { query: clone(query), key: { at: seq, seq, id: query.queryId } };
    j.set(t.queries, query.queryId, entry);
    if (query.token !== undefined) j.set(t.queryByToken, query.token, query.queryId);
    if (claimableQuery(query)) j.insert(j.ensure(t.unclaimedByQueue, query.taskQueue, newIndex), entry.key);
  }

  async insert(query: QueryRecord): Promise<void> {
    this.tx.write('queries.insert');
    if (this.tx.t.queries.has(query.queryId)) throw new DejaError('DEJA_INTERNAL', `deja memory store: query ${query.queryId} exists`);
    this.storeQuery(query);
  }

  async get(queryId: string): Promise<QueryRecord | undefined> {
    this.tx.live();
    const entry = this.tx.t.queries.get(queryId);
    return entry && clone(entry.query);
  }

  async claimable(taskQueue: string): Promise<boolean> {
    this.tx.live();
    return this.tx.t.unclaimedByQueue.get(taskQueue)?.min() !== undefined;
  }

  async claim(taskQueue: string, token: string): Promise<QueryRecord | undefined> {
    const { t } = this.tx;
    this.tx.write('queries.claim');
    const first = t.unclaimedByQueue.get(taskQueue)?.min();
    if (first === undefined) return undefined;
    const claimed = withMember(clone(t.queries.get(first.id)!.query), 'token', token);
    this.storeQuery(claimed);
    return claimed;
  }

  async byToken(token: string): Promise<QueryRecord | undefined> {
    const { t } = this.tx;
    this.tx.live();
    const queryId = t.queryByToken.get(token);
    return queryId === undefined ? undefined : clone(t.queries.get(queryId)!.query);
  }

  async update(query: QueryRecord): Promise<void> {
    this.tx.write('queries.update');
    if (!this.tx.t.queries.has(query.queryId)) throw new DejaError('DEJA_INTERNAL', `deja memory store: no query ${query.queryId} to update`);
    this.storeQuery(query);
  }

  async delete(queryId: string): Promise<void> {
    const { t, j } = this.tx;
    this.tx.write('queries.delete');
    const entry = t.queries.get(queryId);
    if (!entry) return;
    if (entry.query.token !== undefined) j.delete(t.queryByToken, entry.query.token);
    if (claimableQuery(entry.query)) j.take(t.unclaimedByQueue.get(entry.query.taskQueue)!, entry.key);
    j.delete(t.queries, queryId);
  }
}

export class MemoryStore implements Store {
  private readonly tables = new Tables();
  /** Whether a transaction runs; the next one waits in `waiting` (first come, first served). */
  private busy = false;
  private readonly waiting: (() => void)[] = [];
  /** Resolved when the last transaction has ended and none waits (close waits for it). */
  private idle: { promise: Promise<void>; resolve: () => void } | undefined;
  private closed = false;

  /**
   * A read-only transaction runs like any other (one at a time), but its write methods refuse.
   * With no transaction running, fn starts at once; else when those queued before it have ended.
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (this.closed) return Promise.reject(new Error('deja memory store: the store is closed'));
    const readOnly = options.readOnly === true;
    if (!this.busy) {
      this.busy = true;
      return this.run(fn, readOnly);
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.run(fn, readOnly));
  }

  /**
   * Runs one transaction (this one holds the turn), then hands the turn on. Written with `then`,
   * not as an async function: fewer promises per transaction.
   */
  private run<T>(fn: (tx: StoreTx) => Promise<T>, readOnly: boolean): Promise<T> {
    const journal = new Journal();
    const tx = new MemoryTx(this.tables, journal, readOnly);
    let result: Promise<T>;
    try {
      result = Promise.resolve(fn(tx));
    } catch (err) {
      result = Promise.reject(err);
    }
    return result.then(
      (value) => {
        this.release(tx);
        return value;
      },
      (err: unknown) => {
        try {
          journal.rollback();
        } finally {
          this.release(tx);
        }
        throw err;
      },
    );
  }

  /** Ends a transaction and gives the turn to the next one waiting. */
  private release(tx: MemoryTx): void {
    tx.done = true;
    const next = this.waiting.shift();
    if (next !== undefined) next();
    else {
      this.busy = false;
      this.idle?.resolve();
      this.idle = undefined;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (!this.busy) return;
    if (this.idle === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.idle = { promise, resolve };
    }
    await this.idle.promise;
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
