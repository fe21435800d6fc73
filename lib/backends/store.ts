/**
 * The Store interface (host side): the engine's only view of storage, grouped by resource. The
 * engine is written once over it; `lib/backends/*` implement it (memory now; SQLite and
 * PostgreSQL later) and all pass `test/store-conformance.ts` and `test/engine-suite.ts`.
 *
 * Every read and write happens inside `transaction(fn)`, which is atomic: all of fn's writes land,
 * or none do. A transaction opened with `{ readOnly: true }` may only read: every write method
 * refuses inside it (a backend may then run it on a snapshot, a replica or a shared lock). How
 * each backend gets there:
 * - memory: transactions run one at a time; an undo log restores the maps when fn throws.
 * - SQLite (better-sqlite3, synchronous): BEGIN IMMEDIATE … COMMIT (BEGIN DEFERRED for a read-only
 *   one), with an in-process mutex because fn awaits between statements and the connection is shared.
 * - PostgreSQL: a read inside a transaction locks what it returns (SELECT … FOR UPDATE), claims use
 *   FOR UPDATE SKIP LOCKED, and the (runId, eventId) key refuses a concurrent append. A read-only
 *   transaction is READ ONLY and takes no row locks.
 *
 * Records are plain JSON data. A backend never shares objects with its caller: what it returns is
 * the caller's to change, and a change lands only through a write method. Times are ms since the
 * epoch, always passed in by the engine: a store reads no clock.
 *
 * Payloads inside records are at most MAX_PAYLOAD_DEPTH_ALLOWED levels deep (limits.ts; the edge
 * refuses deeper ones): a backend must store and return any of them intact. Claims, due checks
 * (`takeDue`, `expireLeases`, `nextDueAt`, `nextFireAt`, `claimable`) and `deleteRun` must not
 * scan what is queued: each must cost O(log n) in the number of tasks or timers (plus what it
 * returns), as an index gives. The conformance suite checks the first; the memory store's tests
 * count the second.
 *
 * ## Concurrency contract
 *
 * Any number of processes may open transactions on one store at once (SQLite: processes sharing
 * the file; PostgreSQL: workers on many machines). What each may rely on:
 * - Retries. A backend may run fn again after a serialization conflict, a deadlock or a lost
 *   connection, with a fresh `tx`. So fn must have no effect outside `tx`: no notification, no
 *   timer, no id handed out, no counter bumped, until `transaction` has resolved. (The engine
 *   collects its effects in the transaction's working set and reports them after commit.)
 * - Claims (`tasks.claim`, `queries.claim`): a row another open transaction has claimed, changed
 *   or deleted is skipped, never waited for and never taken twice; two concurrent claims get two
 *   different rows or nothing (PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED LIMIT 1).
 * - Due work (`timers.takeDue`, `tasks.expireLeases`): the same rule. Two ticks running at once,
 *   in two processes, split the due rows between them; no timer fires twice and no lease ends
 *   twice. A row skipped because another transaction holds it is that transaction's to process;
 *   if it rolls back, the row is due again at the next tick.
 * - Writes by key (`runs.update`, `tasks.put`, `tasks.setHeartbeat`, `queries.update`, deletes):
 *   last committed wins, and a transaction that read a row before changing it holds it (a row
 *   lock) until it commits, so a read-modify-write never loses another's write. `history.append`
 *   refuses an event id that is taken, so two writers can never both extend one history.
 * - `runs.insert` refuses a runId that exists; `runs.latest` sees the runs committed before the
 *   transaction (or by it).
 * - Read-only transactions see one consistent state committed before they began, or later.
 *
 * ## Change notification
 *
 * See `ChangeFeed`: the service announces what a committed transaction changed, and a backend
 * shared across processes carries the announcements to the other processes.
 */
import type { ParentClosePolicy, Payload, RetryPolicy, SearchAttributes, WireFailure } from '../../runtime/protocol';
import type { HistoryEvent } from '../history/events';
import type { ScheduleDefinition, ScheduleDescription, WorkflowStatus } from '../service';
import type { FilterExpr, ListQuery } from '../visibility/ast';

export interface Store {
  /**
   * Runs fn atomically and returns its result; if fn throws, nothing it wrote remains and the
   * error propagates. fn may run more than once (a backend may retry a serialization conflict), so
   * it must have no effect outside `tx`. `tx` is unusable once fn has settled. With `readOnly`,
   * every write method of `tx` rejects (and fn with it).
   */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * How committed changes reach the other processes that share this store. Absent for a store
   * only this process can open (memory): the service then uses an in-process feed.
   */
  readonly changes?: ChangeFeed;
  /** Waits for running transactions, then refuses new ones and releases resources. */
  close(): Promise<void>;
}

export interface TransactionOptions {
  /** fn only reads; a write inside it is refused. Default false. */
  readOnly?: boolean;
}

// ---- change notification ----

/**
 * A committed change that someone may be waiting for. Each names what a waiter listens on: a
 * poller a task queue, a result waiter a run, a query's caller its answer, the timer loop the
 * instant work falls due.
 */
export type Change =
  /** A workflow task became claimable on this queue (new, retried, or its lease ended). */
  | { type: 'workflowTask'; taskQueue: string }
  /** A query was filed for a worker polling this queue's workflow tasks. */
  | { type: 'query'; taskQueue: string }
  /** An activity task became claimable on this queue. */
  | { type: 'activityTask'; taskQueue: string }
  /** A query got its answer. */
  | { type: 'answer'; queryId: string }
  /** A run closed. */
  | { type: 'runClosed'; runId: string }
  /** An update of the run was accepted, rejected or completed (or the run closed under it). */
  | { type: 'update'; runId: string }
  /** Time-driven work (a timer, a lease end, a retry's backoff) is due at `at`. */
  | { type: 'due'; at: number }
  /** Something may have changed (a backend that polls a change counter): every waiter looks again. */
  | { type: 'any' };

/**
 * The change-notification hook. The service publishes each transaction's changes after it
 * committed (never before, never for one rolled back), and subscribes once to hear every change,
 * its own and, for a backend shared across processes, every other process's.
 *
 * The contract a feed keeps:
 * - Every change published after `subscribe` returned reaches the subscriber at least once, in
 *   this process or any other sharing the store; never before `publish` was called.
 * - A change may arrive late, more than once, merged with others into `{ type: 'any' }`, or out of
 *   order. Waiters treat a change as a hint to read the store again, never as data, so none of
 *   these can make one miss work or act twice.
 * - `publish` never throws and never waits for delivery; a feed that loses its connection
 *   delivers `{ type: 'any' }` once it is back, since it cannot know what it missed.
 *
 * Implementations: in process, a synchronous fan-out (lib/engine/notifier.ts, the default);
 * PostgreSQL, NOTIFY on commit and LISTEN on a dedicated connection; SQLite, a poll of a change
 * counter that each write transaction bumps, delivering `{ type: 'any' }` when it moved.
 */
export interface ChangeFeed {
  publish(changes: readonly Change[]): void;
  /** Calls `onChange` for every change from now on; returns the function that stops it. */
  subscribe(onChange: (change: Change) => void): () => void;
}

export interface StoreTx {
  readonly runs: RunStore;
  readonly history: HistoryStore;
  readonly tasks: TaskStore;
  readonly timers: TimerStore;
  readonly queries: QueryStore;
  readonly schedules: ScheduleStore;
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
   * The time of the run's last event (ms). The engine never gives an event an earlier time, so
   * event times never go backwards within a run, whatever the local clock does.
   */
  lastEventTime: number;
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
  /** Set for a child workflow: its parent, and what the parent's close does to it. */
  parent?: { workflowId: string; runId: string; initiatedEventId: number; parentClosePolicy: ParentClosePolicy };
  /** The children this run started that have not closed, by the initiatedEventId that started them. */
  children?: Record<string, OpenChild>;
  /**
   * Activities that closed while the workflow task was started, by seq → scheduledEventId: the
   * task's code may still cancel one it has not seen close. Cleared when the task ends.
   */
  closedWhileRunning?: Record<string, number>;
  /** A cancel request was recorded (workflowExecutionCancelRequested); later ones add nothing. */
  cancelRequested?: boolean;
  /**
   * Queries that wait for events this run has not processed yet (see QueryRecord.blocked): each
   * is released once a workflow task that started after event `needEventId` ends.
   */
  blockedQueries?: { queryId: string; needEventId: number }[];
  /** The first run of this chain (continue-as-new, cron, retries). Absent: this run's id. */
  firstExecutionRunId?: string;
  /** The run this one continues. */
  continuedFromRunId?: string;
  /** The run that continues this one, once it closed into one (continue-as-new, cron, retry). */
  newRunId?: string;
  /** 1 for the first try; a retry of the workflow (its retry policy) counts up. Absent: 1. */
  attempt?: number;
  /** When its first workflow task was (or is) due: startTime plus any backoff. Absent: startTime. */
  executionTime?: number;
  cronSchedule?: string;
  retryPolicy?: RetryPolicy;
  workflowExecutionTimeoutMs?: number;
  /** When the chain's execution timeout ends it (ms). */
  executionDeadline?: number;
  workflowRunTimeoutMs?: number;
  memo?: Record<string, Payload>;
  searchAttributes?: SearchAttributes;
  /** The schedule that started it. */
  scheduleId?: string;
  /** Updates of this run by updateId: those in flight, and the ids of those done (for dedup and lookup). */
  updates?: Record<string, UpdateState>;
}

/**
 * An update as the run keeps it. `admitted`: waiting for a workflow task (`deliveredAt` while a
 * started task holds it); `accepted`: its handler runs (`acceptedEventId`); `completed`: done,
 * its outcome in the event `completedEventId`; `rejected`: its validator threw (`failure`), or the
 * run closed before it was accepted; no event records it.
 */
export interface UpdateState {
  name: string;
  stage: 'admitted' | 'accepted' | 'completed' | 'rejected';
  /** While admitted: its arguments (history records them once it is accepted). */
  args?: Payload[];
  identity?: string;
  /** The startedEventId of the workflow task it was delivered with, while that task runs. */
  deliveredAt?: number;
  /** Its place in the run's arrival order (keys that look like integers would reorder the record). */
  arrival?: number;
  acceptedEventId?: number;
  completedEventId?: number;
  failure?: WireFailure;
}

export interface OpenChild {
  seq: number;
  workflowId: string;
  runId: string;
  workflowType: string;
  /** The parent's childWorkflowExecutionStarted event. */
  startedEventId: number;
  parentClosePolicy: ParentClosePolicy;
}

export interface RunStore {
  get(runId: string): Promise<RunRecord | undefined>;
  /** The run most recently inserted for this workflow id. */
  latest(workflowId: string): Promise<RunRecord | undefined>;
  /** Refuses a runId that exists. */
  insert(run: RunRecord): Promise<void>;
  /** Replaces the stored run with the same runId; refuses an unknown one. */
  update(run: RunRecord): Promise<void>;
  /**
   * Runs, newest first: by startTime descending, then the later inserted first. Only those that
   * match every filter given. At most `limit`; a page after `afterRunId` continues where the page
   * that ended with that run stopped (a runId that does not exist gives an empty page). Allowed in
   * a read-only transaction. It may cost O(runs) when filters are given; without, O(log n + limit).
   */
  list(options: ListRunsOptions): Promise<RunRecord[]>;
  /** How many runs match `where` (all when absent). Allowed in a read-only transaction. */
  count(where?: FilterExpr): Promise<number>;
}

export interface ListRunsOptions {
  limit: number;
  afterRunId?: string;
  workflowId?: string;
  workflowType?: string;
  taskQueue?: string;
  status?: WorkflowStatus;
  /**
   * A parsed list filter (lib/visibility): only runs it matches, in its ORDER BY when it has one
   * (ties: the default order). `afterRunId` then continues after that run's place in this order.
   */
  query?: ListQuery;
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
  /** The scheduleActivity command's seq: a requestCancelActivity names the activity by it. */
  seq?: number;
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
  /**
   * The workflow asked to cancel it (its activityTaskCancelRequested): heartbeats answer
   * cancelRequested, a cancelled failure closes it as activityTaskCanceled, and it is not retried.
   */
  cancelRequestedEventId?: number;
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
  /**
   * Whether `claim(kind, taskQueue, …, now)` would find a task: a read, for a poll that finds
   * nothing to do without opening a write transaction. Allowed in a read-only transaction.
   */
  claimable(kind: TaskKind, taskQueue: string, now: number): Promise<boolean>;
  /**
   * A heartbeat: sets the leased task's `activity.heartbeatDetails` (unless `details` is absent)
   * and its lease's `expiresAt`, and nothing else. A narrow write: the task's arguments are not
   * written again. Refuses a task that is unknown, not an activity, or not leased.
   */
  setHeartbeat(taskId: string, heartbeat: { details?: Payload; expiresAt: number }): Promise<void>;
  /** The task whose current lease carries this token. A token that lost its lease finds nothing. */
  byToken(token: string): Promise<TaskRecord | undefined>;
  /**
   * Up to `limit` leased tasks whose lease has ended (`expiresAt <= now`), each returned as it was,
   * lease included; their lease is removed, so each is claimable again unless the caller changes it.
   */
  expireLeases(now: number, limit: number): Promise<TaskRecord[]>;
  delete(taskId: string): Promise<void>;
  deleteRun(runId: string): Promise<void>;
  /**
   * The run's tasks, first inserted first: for the rare lookups by what only the record holds (an
   * activity by its seq or activityId). O(tasks of the run). Allowed in a read-only transaction.
   */
  ofRun(runId: string): Promise<TaskRecord[]>;
  /** The earliest instant after which the engine has work: a lease end, or a future `visibleAt`. */
  nextDueAt(now: number): Promise<number | undefined>;
}

// ---- durable timers ----

/**
 * 'timer': a workflow's startTimer; 'activityDeadline': an activity's schedule-to-close;
 * 'workflowBackoff': a run's first workflow task waits (cron, retry backoff, start delay);
 * 'workflowRunTimeout' and 'workflowExecutionTimeout': the run's deadlines; 'schedule': a
 * schedule's next action (its runId is `scheduleTimerOwner(scheduleId)`, not a run's).
 */
export type TimerKind = 'timer' | 'activityDeadline' | 'workflowBackoff' | 'workflowRunTimeout' | 'workflowExecutionTimeout' | 'schedule';

/** The `runId` a schedule's timer is kept under: never a run's id (run ids have no '/'). */
export const scheduleTimerOwner = (scheduleId: string): string => `schedule/${scheduleId}`;

export interface TimerRecord {
  runId: string;
  kind: TimerKind;
  /** 'timer': the command's seq; 'activityDeadline': the activity's scheduledEventId; the others: 0. */
  ref: number;
  fireAt: number;
  /** The event that started it: timerStarted, activityTaskScheduled, or workflowExecutionStarted (0 for a schedule). */
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
  /**
   * Not yet claimable: the query must see events its run has not processed yet (a signal accepted
   * before the query was asked), so it waits for the run's next completed workflow task, which
   * clears this. `claim` and `claimable` skip a blocked query.
   */
  blocked?: boolean;
  /** Set when a worker claims it. */
  token?: string;
  answer?: QueryAnswer;
}

export interface QueryStore {
  insert(query: QueryRecord): Promise<void>;
  get(queryId: string): Promise<QueryRecord | undefined>;
  /** Whether `claim(taskQueue, …)` would find a query; allowed in a read-only transaction. */
  claimable(taskQueue: string): Promise<boolean>;
  /** Gives the first inserted unclaimed, unblocked query of the queue this token and returns it. */
  claim(taskQueue: string, token: string): Promise<QueryRecord | undefined>;
  byToken(token: string): Promise<QueryRecord | undefined>;
  /** Replaces the stored query with the same queryId; refuses an unknown one. */
  update(query: QueryRecord): Promise<void>;
  delete(queryId: string): Promise<void>;
}

// ---- schedules ----

/** A schedule as the engine keeps it: its definition and what it has done. */
export interface ScheduleRecord {
  scheduleId: string;
  definition: ScheduleDefinition;
  info: Omit<ScheduleDescription['info'], 'nextActionTimes' | 'createdAt' | 'lastUpdatedAt'>;
  createdAt: number;
  lastUpdatedAt?: number;
  /** Scheduled times of actions waiting for the running workflow to close (bufferOne, bufferAll). */
  buffered: number[];
  /** The last scheduled time it acted on (or skipped): the next action comes after it. */
  lastActionAt?: number;
}

export interface ScheduleStore {
  get(scheduleId: string): Promise<ScheduleRecord | undefined>;
  /** Refuses an id that exists. */
  insert(schedule: ScheduleRecord): Promise<void>;
  /** Replaces the stored schedule with the same id; refuses an unknown one. */
  update(schedule: ScheduleRecord): Promise<void>;
  delete(scheduleId: string): Promise<void>;
  /** By scheduleId ascending, at most `limit`, after `afterScheduleId` when given. Allowed in a read-only transaction. */
  list(options: { limit: number; afterScheduleId?: string }): Promise<ScheduleRecord[]>;
}
