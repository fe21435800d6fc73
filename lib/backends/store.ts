/**
 * The Store interface (host side): the engine's only view of storage, grouped by resource. The
 * engine is written once over it; `lib/backends/*` implement it (memory now; SQLite and
 * PostgreSQL later) and all pass `test/store-conformance.ts`.
 *
 * Every read and write happens inside `transaction(fn)`, which is atomic: all of fn's writes land,
 * or none do. How each backend gets there:
 * - memory: transactions run one at a time; an undo log restores the maps when fn throws.
 * - SQLite (better-sqlite3, synchronous): BEGIN IMMEDIATE … COMMIT, with an in-process mutex
 *   because fn awaits between statements and the connection is shared.
 * - PostgreSQL: a read inside a transaction locks what it returns (SELECT … FOR UPDATE), claims use
 *   FOR UPDATE SKIP LOCKED, and the (runId, eventId) key refuses a concurrent append.
 *
 * Records are plain JSON data. A backend never shares objects with its caller: what it returns is
 * the caller's to change, and a change lands only through a write method. Times are ms since the
 * epoch, always passed in by the engine: a store reads no clock.
 *
 * Payloads inside records are at most MAX_PAYLOAD_DEPTH_ALLOWED levels deep (limits.ts; the edge
 * refuses deeper ones): a backend must store and return any of them intact. Claims, due checks
 * (`takeDue`, `expireLeases`, `nextDueAt`, `nextFireAt`) and `deleteRun` must not scan what is
 * queued: each must cost O(log n) in the number of tasks or timers (plus what it returns), as an
 * index gives. The conformance suite checks the first; the memory store's tests count the second.
 */
import type { Payload, RetryPolicy, WireFailure } from '../../runtime/protocol';
import type { HistoryEvent } from '../history/events';
import type { WorkflowStatus } from '../service';

export interface Store {
  /**
   * Runs fn atomically and returns its result; if fn throws, nothing it wrote remains and the
   * error propagates. fn may run more than once (a backend may retry a serialization conflict), so
   * it must have no effect outside `tx`. `tx` is unusable once fn has settled.
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** Waits for running transactions, then refuses new ones and releases resources. */
  close(): Promise<void>;
}

export interface StoreTx {
  readonly runs: RunStore;
  readonly history: HistoryStore;
  readonly tasks: TaskStore;
  readonly timers: TimerStore;
  readonly queries: QueryStore;
}

// ---- runs ----

export interface RunRecord {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  status: WorkflowStatus;
  startTime: number;
  closeTime?: number;
  /** The id the next appended event gets: history length + 1. */
  nextEventId: number;
  /**
   * The history's size: the sum over its events of their JSON text's UTF-8 bytes. Kept by the
   * engine as it appends, so that no limit check reads the history.
   */
  historyBytes: number;
  /** The history passed warnHistoryEvents or warnHistoryBytes, and the warning was given. */
  historySizeWarned: boolean;
  workflowTaskTimeoutMs: number;
  /** The run's one workflow task while it is scheduled or started. */
  workflowTask?: { scheduledEventId: number; attempt: number; startedEventId?: number };
  /** Events arrived while the workflow task was started: another task must follow it. */
  workflowTaskPending: boolean;
}

export interface RunStore {
  get(runId: string): Promise<RunRecord | undefined>;
  /** The run most recently inserted for this workflow id. */
  latest(workflowId: string): Promise<RunRecord | undefined>;
  /** Refuses a runId that exists. */
  insert(run: RunRecord): Promise<void>;
  /** Replaces the stored run with the same runId; refuses an unknown one. */
  update(run: RunRecord): Promise<void>;
}

// ---- history ----

export interface HistoryStore {
  /**
   * Appends events in order. The first must carry the run's next event id (1 for a new run) and
   * each following one the next integer; anything else is refused, so history stays append-only
   * and gapless even when two writers race.
   */
  append(runId: string, events: HistoryEvent[]): Promise<void>;
  /** Events with eventId > afterEventId, in order. */
  read(runId: string, afterEventId?: number): Promise<HistoryEvent[]>;
}

// ---- tasks (workflow and activity) ----

export type TaskKind = 'workflow' | 'activity';

/** Who holds a claimed task, and until when. */
export interface Lease {
  token: string;
  identity: string;
  claimedAt: number;
  expiresAt: number;
}

/** What the engine keeps about a scheduled activity between attempts. */
export interface ActivitySchedule {
  scheduledEventId: number;
  activityId: string;
  activityType: string;
  args: Payload[];
  scheduledAt: number;
  /** The limit of one attempt (the command's start-to-close, else its schedule-to-close). */
  startToCloseTimeoutMs: number;
  scheduleToCloseTimeoutMs?: number;
  heartbeatTimeoutMs?: number;
  retryPolicy?: RetryPolicy;
  /** The last heartbeat's details; handed to later attempts. */
  heartbeatDetails?: Payload;
  /** Why the previous attempt failed; becomes the cause of a schedule-to-close timeout. */
  lastFailure?: WireFailure;
}

interface TaskBase {
  taskId: string;
  taskQueue: string;
  runId: string;
  /** Claimable from this instant; later than now while a retry waits out its backoff. */
  visibleAt: number;
  /** How long a claim holds the task before its lease expires. */
  leaseMs: number;
  /** 1 for the first try. */
  attempt: number;
  /** Present while claimed; a claim sets it, expiry removes it. */
  lease?: Lease;
}
export type TaskRecord = (TaskBase & { kind: 'workflow' }) | (TaskBase & { kind: 'activity'; activity: ActivitySchedule });

export interface TaskStore {
  /** Inserts, or replaces the task with the same taskId (its lease and token included). */
  put(task: TaskRecord): Promise<void>;
  get(taskId: string): Promise<TaskRecord | undefined>;
  /**
   * Claims the task of this kind and queue that has no lease and `visibleAt <= now`, the earliest
   * visible first (then the first inserted): gives it the lease {token, identity, claimedAt: now,
   * expiresAt: now + leaseMs} and returns it. Two concurrent claims never get the same task.
   */
  claim(kind: TaskKind, taskQueue: string, identity: string, token: string, now: number): Promise<TaskRecord | undefined>;
  /** The task whose current lease carries this token. A token that lost its lease finds nothing. */
  byToken(token: string): Promise<TaskRecord | undefined>;
  /**
   * Up to `limit` leased tasks whose lease has ended (`expiresAt <= now`), each returned as it was,
   * lease included; their lease is removed, so each is claimable again unless the caller changes it.
   */
  expireLeases(now: number, limit: number): Promise<TaskRecord[]>;
  delete(taskId: string): Promise<void>;
  deleteRun(runId: string): Promise<void>;
  /** The earliest instant after which the engine has work: a lease end, or a future `visibleAt`. */
  nextDueAt(now: number): Promise<number | undefined>;
}

// ---- durable timers ----

export type TimerKind = 'timer' | 'activityDeadline';

export interface TimerRecord {
  runId: string;
  /** 'timer': a workflow's startTimer; 'activityDeadline': an activity's schedule-to-close. */
  kind: TimerKind;
  /** 'timer': the command's seq; 'activityDeadline': the activity's scheduledEventId. */
  ref: number;
  fireAt: number;
  /** The event that started it: timerStarted, or activityTaskScheduled. */
  eventId: number;
}

export interface TimerStore {
  /** Inserts, or replaces the timer with the same (runId, kind, ref). */
  put(timer: TimerRecord): Promise<void>;
  get(runId: string, kind: TimerKind, ref: number): Promise<TimerRecord | undefined>;
  delete(runId: string, kind: TimerKind, ref: number): Promise<void>;
  /** Removes and returns up to `limit` timers with `fireAt <= now`, earliest first (then first put). */
  takeDue(now: number, limit: number): Promise<TimerRecord[]>;
  deleteRun(runId: string): Promise<void>;
  nextFireAt(): Promise<number | undefined>;
}

// ---- queries ----

export type QueryAnswer = { ok: true; result?: Payload } | { ok: false; failure: WireFailure };

/** A pending query: never part of history; deleted by whoever waits for its answer. */
export interface QueryRecord {
  queryId: string;
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  queryType: string;
  args: Payload[];
  /** Set when a worker claims it. */
  token?: string;
  answer?: QueryAnswer;
}

export interface QueryStore {
  insert(query: QueryRecord): Promise<void>;
  get(queryId: string): Promise<QueryRecord | undefined>;
  /** Gives the first inserted unclaimed query of the queue this token and returns it. */
  claim(taskQueue: string, token: string): Promise<QueryRecord | undefined>;
  byToken(token: string): Promise<QueryRecord | undefined>;
  /** Replaces the stored query with the same queryId; refuses an unknown one. */
  update(query: QueryRecord): Promise<void>;
  delete(queryId: string): Promise<void>;
}
