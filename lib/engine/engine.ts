/**
 * The engine (host side): the service logic, written once over a Store. Commands become history
 * events, tasks are claimed under leases, and `tick` processes what time has made due (timers,
 * lease ends). It does no I/O and reads no clock or env: every operation gets `now` and runs in
 * one store transaction; what a committed transaction changed is reported to `onCommit` as
 * Effects (whom to wake, when time-driven work is next due, which runs passed a history warning
 * threshold), never acted on here.
 *
 * Limits (limits.ts): every request is checked and copied at the edge (validate.ts) before its
 * transaction. Each run keeps its history's length and bytes; a transaction that would take a
 * run past maxHistoryEvents or maxHistoryBytes rolls back, and the run is closed instead (see
 * `write`). No operation scans runs, tasks or timers; history is read only by getHistory, by
 * an outcome (its last event) and by a completion that cancels a timer (the events since its
 * task started, once).
 */
import { randomUUID } from 'node:crypto';
import type { Command, TimeoutType, WireFailure } from '../../runtime/protocol';
import { describe, InvalidArgumentError, LimitExceededError } from '../errors';
import type { HistoryEvent, NewEvent } from '../history/events';
import type {
  ActivityTask,
  ExecutionRef,
  HeartbeatResponse,
  QueryTask,
  WorkflowDescription,
  WorkflowIdReusePolicy,
  WorkflowOutcome,
  WorkflowStatus,
  WorkflowTask,
} from '../service';
import { StaleTaskError, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '../service-errors';
import { DEFAULT_LIMITS, formatInt, type Limits } from './limits';
import { activityRetry, workflowTaskBackoffMs } from './retry';
import type { ActivitySchedule, QueryAnswer, RunRecord, Store, StoreTx, TaskRecord, TimerRecord } from '../backends/store';
import { edge } from './validate';

export interface Effects {
  /** Notifier keys (see `wakeKey`) whose waiters should look again. */
  wake: Set<string>;
  /** The earliest instant this transaction made due for `tick`, if any. */
  dueAt?: number;
  /** Runs whose history this transaction took past a warning threshold (once per run). */
  warnings: HistoryWarning[];
}

/** A run's history passed warnHistoryEvents or warnHistoryBytes. Reported once per run. */
export interface HistoryWarning {
  code: 'DEJA_HISTORY_LARGE';
  message: string;
  workflowId: string;
  runId: string;
  /** The threshold passed. */
  limit: 'warnHistoryEvents' | 'warnHistoryBytes';
  threshold: number;
  historyEvents: number;
  historyBytes: number;
}

/** What waiters listen on; the engine names them in Effects.wake. */
export const wakeKey = {
  workflowQueue: (taskQueue: string) => `workflow:${taskQueue}`,
  activityQueue: (taskQueue: string) => `activity:${taskQueue}`,
  run: (runId: string) => `run:${runId}`,
  query: (queryId: string) => `query:${queryId}`,
};

export interface EngineOptions {
  /** Run ids, task tokens, query ids and (dashes removed) randomness seeds. Default crypto.randomUUID. */
  newId?: () => string;
  onCommit?: (effects: Effects) => void;
  /** Already checked (resolveLimits). Default DEFAULT_LIMITS. */
  limits?: Limits;
}

const DEFAULT_WORKFLOW_TASK_TIMEOUT_MS = 10_000;
/** Due timers and lease ends processed per tick transaction, to keep transactions short. */
const TICK_BATCH = 100;

const workflowTaskId = (runId: string) => `${runId}/workflow`;
const activityTaskId = (runId: string, scheduledEventId: number) => `${runId}/activity/${scheduledEventId}`;

/** Drops undefined fields, so stored events hold only what was given. */
function compact<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}

function scheduleToCloseDeadline(a: ActivitySchedule): number | undefined {
  return a.scheduleToCloseTimeoutMs === undefined ? undefined : a.scheduledAt + a.scheduleToCloseTimeoutMs;
}

function timeoutFailure(timeoutType: TimeoutType, cause?: WireFailure): WireFailure {
  return compact({ kind: 'timeout', timeoutType, message: `activity ${timeoutType} timeout`, cause });
}

interface TouchedRun {
  run: RunRecord;
  events: HistoryEvent[];
  isNew: boolean;
}

/** Bytes of an event in history: its JSON text in UTF-8. Runs keep the sum (`historyBytes`). */
const eventBytes = (event: object): number => Buffer.byteLength(JSON.stringify(event), 'utf8');

/**
 * A transaction would take a run's history past maxHistoryEvents or maxHistoryBytes. Thrown by
 * `flush`, so the transaction rolls back; `Engine.write` then closes the run (unless it is new)
 * and refuses the request, or retries it.
 */
class HistoryLimitHit extends Error {
  constructor(
    readonly run: RunRecord,
    readonly isNew: boolean,
    readonly limit: 'maxHistoryEvents' | 'maxHistoryBytes',
    readonly actual: number,
    readonly max: number,
  ) {
    super(`history limit ${limit} hit by run ${run.runId}`);
  }

  /** What happened, for the failure that closes the run and for the refusal. */
  get what(): string {
    const unit = this.limit === 'maxHistoryEvents' ? 'events' : 'bytes';
    return `the history of workflow "${this.run.workflowId}" (run ${this.run.runId}) would grow to ${formatInt(this.actual)} ${unit}, over ${this.limit} (${formatInt(this.max)} ${unit})`;
  }
}

/**
 * One transaction's working set. Runs are loaded once and changed in place; a run changes only
 * together with its history, so `flush` writes back exactly the runs that got events. Each run
 * keeps its history's length and byte size, so no limit check reads history.
 */
class Op {
  readonly effects: Effects = { wake: new Set(), warnings: [] };
  private readonly touched = new Map<string, TouchedRun>();
  private readonly eventTime: string;
  /** Runs this transaction closes for a history limit: their closing events may pass it. */
  readonly closingOverLimit = new Set<string>();

  constructor(
    readonly tx: StoreTx,
    readonly now: number,
    private readonly limits: Limits,
  ) {
    this.eventTime = new Date(now).toISOString();
  }

  async run(runId: string): Promise<RunRecord | undefined> {
    const cached = this.touched.get(runId);
    if (cached) return cached.run;
    const run = await this.tx.runs.get(runId);
    if (run) this.touched.set(runId, { run, events: [], isNew: false });
    return run;
  }

  /** The run a ref names: its runId, else the latest run of its workflow id. */
  async resolve(ref: ExecutionRef): Promise<RunRecord> {
    if (ref.runId === undefined) {
      const latest = await this.tx.runs.latest(ref.workflowId);
      if (!latest) throw new WorkflowNotFoundError(`workflow "${ref.workflowId}" not found`, ref.workflowId);
      return (await this.run(latest.runId))!;
    }
    const run = await this.run(ref.runId);
    if (!run || run.workflowId !== ref.workflowId) {
      throw new WorkflowNotFoundError(`workflow "${ref.workflowId}" has no run "${ref.runId}"`, ref.workflowId, ref.runId);
    }
    return run;
  }

  /** A run the engine's invariants say exists and is running (it owns a live task or timer). */
  async openRun(runId: string, owner: string): Promise<RunRecord> {
    const run = await this.run(runId);
    if (!run || run.status !== 'running') throw new Error(`deja engine invariant broken: ${owner} outlived run ${runId}`);
    return run;
  }

  newRun(run: RunRecord): void {
    this.touched.set(run.runId, { run, events: [], isNew: true });
  }

  append<E extends NewEvent>(run: RunRecord, event: E): E & { eventId: number; eventTime: string } {
    const full = compact({ eventId: run.nextEventId++, eventTime: this.eventTime, ...event });
    run.historyBytes += eventBytes(full);
    this.touched.get(run.runId)!.events.push(full as unknown as HistoryEvent);
    return full;
  }

  wake(key: string): void {
    this.effects.wake.add(key);
  }

  due(at: number): void {
    if (this.effects.dueAt === undefined || at < this.effects.dueAt) this.effects.dueAt = at;
  }

  async flush(): Promise<void> {
    const { maxHistoryEvents, maxHistoryBytes, warnHistoryEvents, warnHistoryBytes } = this.limits;
    for (const { run, events, isNew } of this.touched.values()) {
      if (events.length === 0 || this.closingOverLimit.has(run.runId)) continue;
      const count = run.nextEventId - 1;
      if (count > maxHistoryEvents) throw new HistoryLimitHit(run, isNew, 'maxHistoryEvents', count, maxHistoryEvents);
      if (run.historyBytes > maxHistoryBytes) throw new HistoryLimitHit(run, isNew, 'maxHistoryBytes', run.historyBytes, maxHistoryBytes);
      if (!run.historySizeWarned && (count > warnHistoryEvents || run.historyBytes > warnHistoryBytes)) {
        run.historySizeWarned = true;
        const [limit, threshold, actual, unit] =
          count > warnHistoryEvents
            ? (['warnHistoryEvents', warnHistoryEvents, count, 'events'] as const)
            : (['warnHistoryBytes', warnHistoryBytes, run.historyBytes, 'bytes'] as const);
        const max = limit === 'warnHistoryEvents' ? maxHistoryEvents : maxHistoryBytes;
        this.effects.warnings.push({
          code: 'DEJA_HISTORY_LARGE',
          message:
            `the history of workflow "${run.workflowId}" (run ${run.runId}) has ${formatInt(actual)} ${unit}, past ${limit} (${formatInt(threshold)}); ` +
            `at ${formatInt(max)} ${unit} the run will be closed`,
          workflowId: run.workflowId,
          runId: run.runId,
          limit,
          threshold,
          historyEvents: count,
          historyBytes: run.historyBytes,
        });
      }
    }
    for (const { run, events, isNew } of this.touched.values()) {
      if (isNew) await this.tx.runs.insert(run);
      else if (events.length) await this.tx.runs.update(run);
      if (events.length) await this.tx.history.append(run.runId, events);
    }
  }
}

interface HeldTask<K extends TaskRecord['kind']> {
  task: Extract<TaskRecord, { kind: K }>;
  run: RunRecord;
}

/** What `write` does when a transaction would take a run's history past a limit. */
type OnHistoryLimit =
  /** Close the run, then refuse the request with a LimitExceededError (it brought the events). */
  | 'refuse'
  /** Close the run, then run the operation again (its events were the service's own: a poll, a tick). */
  | 'retry';

export class Engine {
  private readonly newId: () => string;
  private readonly onCommit: (effects: Effects) => void;
  private readonly limits: Limits;

  constructor(
    private readonly store: Store,
    options: EngineOptions = {},
  ) {
    this.newId = options.newId ?? randomUUID;
    this.onCommit = options.onCommit ?? (() => {});
    this.limits = options.limits ?? DEFAULT_LIMITS;
  }

  private async write<T>(where: string, now: number, fn: (op: Op) => Promise<T>, onHistoryLimit: OnHistoryLimit = 'refuse'): Promise<T> {
    const closed = new Set<string>();
    for (;;) {
      let op!: Op;
      try {
        const value = await this.store.transaction(async (tx) => {
          op = new Op(tx, now, this.limits);
          const result = await fn(op);
          await op.flush();
          return result;
        });
        this.onCommit(op.effects);
        return value;
      } catch (err) {
        if (!(err instanceof HistoryLimitHit)) throw err;
        // Nothing of the transaction landed. A new run simply is not started; an existing one is
        // closed, as Temporal terminates a workflow whose history is too large.
        if (!err.isNew) {
          // A closed run gets no more events, so a retry cannot hit the same run twice.
          if (closed.has(err.run.runId)) throw new Error(`deja engine invariant broken: run ${err.run.runId} grew after it was closed`);
          closed.add(err.run.runId);
          await this.closeOverHistoryLimit(err, now);
          if (onHistoryLimit === 'retry') continue;
        }
        const outcome = err.isNew ? 'the run was not started' : 'the run was closed (workflowExecutionFailed, HistoryLimitExceeded)';
        throw new LimitExceededError('DEJA_LIMIT_EXCEEDED', `${where}: ${err.what}; ${outcome}`, err.limit, err.actual, err.max);
      }
    }
  }

  private read<T>(fn: (op: Op) => Promise<T>): Promise<T> {
    return this.store.transaction((tx) => fn(new Op(tx, 0, this.limits)));
  }

  /**
   * Closes a run whose history reached a limit: fails its started workflow task, if any, and fails
   * the run with a non-retryable server failure. Only these closing events may pass the limit.
   */
  private async closeOverHistoryLimit(hit: HistoryLimitHit, now: number): Promise<void> {
    await this.write('closing a run over a history limit', now, async (op) => {
      op.closingOverLimit.add(hit.run.runId);
      const run = await op.run(hit.run.runId);
      if (!run || run.status !== 'running') return; // closed meanwhile
      const failure: WireFailure = {
        kind: 'server',
        type: 'HistoryLimitExceeded',
        message: `${hit.what}: deja closed the run, as Temporal terminates a workflow whose history is too large`,
        nonRetryable: true,
      };
      const wft = run.workflowTask;
      if (wft?.startedEventId !== undefined) {
        const task = await op.tx.tasks.get(workflowTaskId(run.runId));
        op.append(run, {
          type: 'workflowTaskFailed',
          scheduledEventId: wft.scheduledEventId,
          startedEventId: wft.startedEventId,
          cause: 'historyLimitExceeded',
          failure,
          identity: task?.lease?.identity,
        });
      }
      // No workflow task completed this: the event has no workflowTaskCompletedEventId.
      op.append(run, { type: 'workflowExecutionFailed', failure });
      await this.closeRun(op, run, 'failed');
    });
  }

  // ---- client side ----

  async startWorkflow(request: unknown, now: number): Promise<{ runId: string }> {
    const where = 'startWorkflow';
    const { workflowId, workflowType, taskQueue, args, policy, workflowTaskTimeoutMs } = edge(where, this.limits, (e) => {
      const r = e.record('the request', request);
      e.knownKeys(r, ['workflowId', 'workflowType', 'taskQueue', 'args', 'workflowIdReusePolicy', 'workflowTaskTimeoutMs', 'identity']);
      const checked = {
        workflowId: e.string('workflowId', r.workflowId),
        workflowType: e.string('workflowType', r.workflowType),
        taskQueue: e.string('taskQueue', r.taskQueue),
        args: e.args('args', r.args),
        policy:
          r.workflowIdReusePolicy === undefined
            ? ('allowDuplicate' as WorkflowIdReusePolicy)
            : e.oneOf<WorkflowIdReusePolicy>('workflowIdReusePolicy', r.workflowIdReusePolicy, ['allowDuplicate', 'allowDuplicateFailedOnly', 'rejectDuplicate']),
        workflowTaskTimeoutMs: e.optionalInt('workflowTaskTimeoutMs', r.workflowTaskTimeoutMs, 1) ?? DEFAULT_WORKFLOW_TASK_TIMEOUT_MS,
      };
      e.optionalString('identity', r.identity);
      return checked;
    });

    return this.write(where, now, async (op) => {
      const latest = await op.tx.runs.latest(workflowId);
      if (latest?.status === 'running') {
        throw new WorkflowExecutionAlreadyStartedError(`workflow "${workflowId}" is already running (run ${latest.runId})`, workflowId, workflowType);
      }
      if (latest && (policy === 'rejectDuplicate' || (policy === 'allowDuplicateFailedOnly' && latest.status !== 'failed'))) {
        throw new WorkflowExecutionAlreadyStartedError(
          `workflow "${workflowId}" already ran (run ${latest.runId}, ${latest.status}) and workflowIdReusePolicy "${policy}" forbids another run`,
          workflowId,
          workflowType,
        );
      }
      const runId = this.newId();
      const run: RunRecord = {
        workflowId,
        runId,
        workflowType,
        taskQueue,
        status: 'running',
        startTime: now,
        nextEventId: 1,
        historyBytes: 0,
        historySizeWarned: false,
        workflowTaskTimeoutMs,
        workflowTaskPending: false,
      };
      op.newRun(run);
      op.append(run, {
        type: 'workflowExecutionStarted',
        workflowType,
        workflowId,
        runId,
        firstExecutionRunId: runId,
        taskQueue,
        input: args,
        attempt: 1,
        randomnessSeed: this.newId().replace(/-/g, ''),
        workflowTaskTimeoutMs,
      });
      await this.scheduleWorkflowTask(op, run, 1, now);
      return { runId };
    });
  }

  async signalWorkflow(request: unknown, now: number): Promise<void> {
    const where = 'signalWorkflow';
    const { ref, signalName, args, identity } = edge(where, this.limits, (e) => {
      const r = e.record('the request', request);
      e.knownKeys(r, ['workflowId', 'runId', 'signalName', 'args', 'identity']);
      return {
        ref: e.ref({ workflowId: r.workflowId, runId: r.runId }),
        signalName: e.string('signalName', r.signalName),
        args: e.args('args', r.args),
        identity: e.optionalString('identity', r.identity),
      };
    });
    return this.write(where, now, async (op) => {
      const run = await op.resolve(ref);
      if (run.status !== 'running') {
        throw new WorkflowNotFoundError(`workflow "${run.workflowId}" (run ${run.runId}) has already closed (${run.status})`, run.workflowId, run.runId);
      }
      op.append(run, { type: 'workflowExecutionSignaled', signalName, input: args, identity });
      await this.needWorkflowTask(op, run);
    });
  }

  async describeWorkflow(ref: unknown): Promise<WorkflowDescription> {
    const r = edge('describeWorkflow', this.limits, (e) => e.ref(ref));
    return this.read(async (op) => {
      const run = await op.resolve(r);
      return compact({
        workflowId: run.workflowId,
        runId: run.runId,
        workflowType: run.workflowType,
        taskQueue: run.taskQueue,
        status: run.status,
        startTime: new Date(run.startTime).toISOString(),
        closeTime: run.closeTime === undefined ? undefined : new Date(run.closeTime).toISOString(),
        historyLength: run.nextEventId - 1,
        historySizeBytes: run.historyBytes,
      });
    });
  }

  /** The run a ref names, with its outcome once it has closed. */
  async workflowOutcome(ref: unknown): Promise<{ workflowId: string; runId: string; outcome?: WorkflowOutcome }> {
    const r = edge('getWorkflowOutcome', this.limits, (e) => e.ref(ref));
    return this.read(async (op) => {
      const run = await op.resolve(r);
      const { workflowId, runId } = run;
      if (run.status === 'running') return { workflowId, runId };
      const [last] = await op.tx.history.read(runId, run.nextEventId - 2);
      if (last?.type === 'workflowExecutionCompleted') {
        return { workflowId, runId, outcome: compact({ status: 'completed' as const, runId, result: last.result }) };
      }
      if (last?.type === 'workflowExecutionFailed') {
        return { workflowId, runId, outcome: { status: 'failed', runId, failure: last.failure } };
      }
      throw new Error(`deja engine invariant broken: closed run ${runId} does not end with a closing event`);
    });
  }

  async getHistory(ref: unknown, afterEventId?: unknown): Promise<HistoryEvent[]> {
    const { r, after } = edge('getHistory', this.limits, (e) => ({ r: e.ref(ref), after: e.optionalInt('afterEventId', afterEventId, 0) }));
    return this.read(async (op) => op.tx.history.read((await op.resolve(r)).runId, after));
  }

  /** Files a query for a worker to answer; the caller waits for `queryAnswer` and then drops it. */
  async createQuery(request: unknown, now: number): Promise<{ queryId: string; taskQueue: string; workflowId: string; queryType: string }> {
    const where = 'queryWorkflow';
    const { ref, queryType, args } = edge(where, this.limits, (e) => {
      const r = e.record('the request', request);
      e.knownKeys(r, ['workflowId', 'runId', 'queryType', 'args']);
      return { ref: e.ref({ workflowId: r.workflowId, runId: r.runId }), queryType: e.string('queryType', r.queryType), args: e.args('args', r.args) };
    });
    return this.write(where, now, async (op) => {
      const run = await op.resolve(ref);
      const queryId = this.newId();
      const { workflowId, runId, workflowType, taskQueue } = run;
      await op.tx.queries.insert({ queryId, workflowId, runId, workflowType, taskQueue, queryType, args });
      op.wake(wakeKey.workflowQueue(taskQueue));
      return { queryId, taskQueue, workflowId, queryType };
    });
  }

  async queryAnswer(queryId: string): Promise<QueryAnswer | undefined> {
    return this.read(async (op) => (await op.tx.queries.get(queryId))?.answer);
  }

  async dropQuery(queryId: string, now: number): Promise<void> {
    return this.write('queryWorkflow', now, (op) => op.tx.queries.delete(queryId));
  }

  /** A task queue and a worker identity, as a poll gives them. */
  checkPoll(where: string, taskQueue: unknown, identity: unknown): { queue: string; who: string } {
    return edge(where, this.limits, (e) => ({ queue: e.string('taskQueue', taskQueue), who: e.string('identity', identity) }));
  }

  // ---- workflow tasks ----

  /** Claims a query task, else a workflow task, of the queue; null when there is none. */
  async pollWorkflowTask(taskQueue: unknown, identity: unknown, now: number): Promise<WorkflowTask | QueryTask | null> {
    const where = 'pollWorkflowTask';
    const { queue, who } = this.checkPoll(where, taskQueue, identity);
    return this.write(
      where,
      now,
      async (op) => {
        const token = this.newId();
        const query = await op.tx.queries.claim(queue, token);
        if (query) {
          const { workflowId, runId, workflowType, queryType, args } = query;
          return { kind: 'query', taskToken: token, workflowId, runId, workflowType, queryType, args };
        }
        const task = await op.tx.tasks.claim('workflow', queue, who, token, now);
        if (!task) return null;
        const run = await op.openRun(task.runId, `workflow task ${task.taskId}`);
        const wft = run.workflowTask!;
        const started = op.append(run, { type: 'workflowTaskStarted', scheduledEventId: wft.scheduledEventId, identity: who });
        wft.startedEventId = started.eventId;
        op.due(task.lease!.expiresAt);
        return {
          kind: 'workflow',
          taskToken: token,
          workflowId: run.workflowId,
          runId: run.runId,
          workflowType: run.workflowType,
          startedEventId: started.eventId,
          attempt: wft.attempt,
        };
      },
      // A run whose history is full is closed, and the poll takes the next task.
      'retry',
    );
  }

  /**
   * Turns the commands into events, all or nothing. A malformed completion (an unknown command, a
   * bad field, a timer seq already open) fails the workflow task here, cause badCommand, as
   * Temporal does, and rejects. A completion over a limit (too many commands, a payload too large
   * or too deep) is refused without touching the task: the worker fails it (failWorkflowTask, same
   * token) saying why, or the task times out. One that would take history past a limit closes the run.
   */
  async completeWorkflowTask(taskToken: unknown, commands: unknown, now: number): Promise<void> {
    const where = 'completeWorkflowTask';
    const token = edge(where, this.limits, (e) => e.string('taskToken', taskToken));
    try {
      const checked = edge(where, this.limits, (e) => e.commands(commands));
      await this.write(where, now, (op) => this.applyCompletion(op, where, token, checked));
    } catch (err) {
      if (!(err instanceof InvalidArgumentError) || err instanceof LimitExceededError) throw err;
      // The completion was refused whole (its writes rolled back). Fail the task, so history shows
      // why and the task is retried; the worker gets the error as well.
      const failure: WireFailure = { kind: 'application', type: err.name, message: err.message, nonRetryable: false };
      await this.write(where, now, async (op) => this.failHeldWorkflowTask(op, await this.heldWorkflowTask(op, where, token), 'badCommand', failure)).catch(
        (staleOrWorse: unknown) => {
          if (!(staleOrWorse instanceof StaleTaskError)) throw staleOrWorse;
        },
      );
      throw err;
    }
  }

  async failWorkflowTask(taskToken: unknown, cause: unknown, failure: unknown, now: number): Promise<void> {
    const where = 'failWorkflowTask';
    const { token, why, f } = edge(where, this.limits, (e) => ({
      token: e.string('taskToken', taskToken),
      why: e.string('cause', cause),
      f: e.failure('failure', failure),
    }));
    return this.write(where, now, async (op) => this.failHeldWorkflowTask(op, await this.heldWorkflowTask(op, where, token), why, f));
  }

  async respondQueryTask(taskToken: unknown, answer: unknown, now: number): Promise<void> {
    const where = 'respondQueryTask';
    const { token, copy } = edge(where, this.limits, (e) => {
      const token = e.string('taskToken', taskToken);
      const a = e.record('answer', answer);
      let copy: QueryAnswer;
      if (a.ok === true) {
        e.knownKeys(a, ['ok', 'result'], 'answer');
        copy = compact({ ok: true as const, result: e.payload('answer.result', a.result) });
      } else if (a.ok === false) {
        e.knownKeys(a, ['ok', 'failure'], 'answer');
        copy = { ok: false, failure: e.failure('answer.failure', a.failure) };
      } else {
        throw new InvalidArgumentError(`${where}: answer.ok must be true or false, got ${describe(a.ok)}`);
      }
      return { token, copy };
    });
    return this.write(where, now, async (op) => {
      const query = await op.tx.queries.byToken(token);
      if (!query || query.answer) throw new StaleTaskError(`${where}: the query task token is stale: the query was answered, timed out or withdrawn`);
      query.answer = copy;
      await op.tx.queries.update(query);
      op.wake(wakeKey.query(query.queryId));
    });
  }

  private async heldWorkflowTask(op: Op, where: string, token: string): Promise<HeldTask<'workflow'>> {
    const task = await op.tx.tasks.byToken(token);
    if (!task || task.kind !== 'workflow' || task.lease!.expiresAt <= op.now) {
      throw new StaleTaskError(`${where}: the workflow task token is stale: the task was completed, failed or timed out, or its run closed`);
    }
    return { task, run: await op.openRun(task.runId, `workflow task ${task.taskId}`) };
  }

  private async applyCompletion(op: Op, where: string, token: string, commands: Command[]): Promise<void> {
    const { task, run } = await this.heldWorkflowTask(op, where, token);
    const { scheduledEventId, startedEventId } = run.workflowTask as { scheduledEventId: number; startedEventId: number };
    // Temporal's unhandled-command rule: a task that closes the run while new events (a signal, an
    // activity result) arrived during it is refused, so that the workflow sees them first rather
    // than losing them. The next task, scheduled at once, carries them.
    const closes = commands.some((c) => c.type === 'completeWorkflow' || c.type === 'failWorkflow');
    if (closes && run.workflowTaskPending) {
      op.append(run, {
        type: 'workflowTaskFailed',
        scheduledEventId,
        startedEventId,
        cause: 'unhandledCommand',
        failure: { kind: 'application', type: 'UnhandledCommand', message: 'new events arrived while the workflow task ran; the workflow must handle them before it closes' },
        identity: task.lease!.identity,
      });
      run.workflowTaskPending = false;
      await this.scheduleWorkflowTask(op, run, 1, op.now);
      return;
    }
    const completed = op.append(run, { type: 'workflowTaskCompleted', scheduledEventId, startedEventId, identity: task.lease!.identity });
    await op.tx.tasks.delete(task.taskId);
    run.workflowTask = undefined;
    // Timers that fired while this task ran, read once for the whole completion (cancelTimer).
    let firedSinceStart: Set<string> | undefined;
    const firedWhileRunning = async (timerId: string) => {
      firedSinceStart ??= new Set((await op.tx.history.read(run.runId, startedEventId)).flatMap((e) => (e.type === 'timerFired' ? [e.timerId] : [])));
      return firedSinceStart.has(timerId);
    };
    // A closing command ends the run, and ends the list (validate.ts dropped what followed it).
    for (let i = 0; i < commands.length && run.status === 'running'; i++) {
      await this.applyCommand(op, run, commands[i], completed.eventId, firedWhileRunning, `${where}: commands[${i}]`);
    }
    if (run.status === 'running' && run.workflowTaskPending) {
      run.workflowTaskPending = false;
      await this.scheduleWorkflowTask(op, run, 1, op.now);
    }
  }

  private async applyCommand(
    op: Op,
    run: RunRecord,
    c: Command,
    completedId: number,
    firedWhileRunning: (timerId: string) => Promise<boolean>,
    where: string,
  ): Promise<void> {
    const { tx, now } = op;
    switch (c.type) {
      case 'scheduleActivity': {
        const taskQueue = c.taskQueue ?? run.taskQueue;
        const scheduled = op.append(run, {
          type: 'activityTaskScheduled',
          activityId: c.activityId,
          activityType: c.activityType,
          taskQueue,
          input: c.args,
          scheduleToCloseTimeoutMs: c.scheduleToCloseTimeoutMs,
          scheduleToStartTimeoutMs: c.scheduleToStartTimeoutMs,
          startToCloseTimeoutMs: c.startToCloseTimeoutMs,
          heartbeatTimeoutMs: c.heartbeatTimeoutMs,
          retryPolicy: c.retryPolicy,
          workflowTaskCompletedEventId: completedId,
        });
        const startToCloseTimeoutMs = c.startToCloseTimeoutMs ?? c.scheduleToCloseTimeoutMs!;
        const activity: ActivitySchedule = compact({
          scheduledEventId: scheduled.eventId,
          activityId: c.activityId,
          activityType: c.activityType,
          args: c.args,
          scheduledAt: now,
          startToCloseTimeoutMs,
          scheduleToCloseTimeoutMs: c.scheduleToCloseTimeoutMs,
          heartbeatTimeoutMs: c.heartbeatTimeoutMs,
          retryPolicy: c.retryPolicy,
        });
        await tx.tasks.put({
          taskId: activityTaskId(run.runId, scheduled.eventId),
          kind: 'activity',
          taskQueue,
          runId: run.runId,
          visibleAt: now,
          // A lease lasts one attempt, or until the next heartbeat is due (each heartbeat renews it).
          leaseMs: Math.min(startToCloseTimeoutMs, c.heartbeatTimeoutMs ?? Infinity),
          attempt: 1,
          activity,
        });
        const deadline = scheduleToCloseDeadline(activity);
        if (deadline !== undefined) {
          await tx.timers.put({ runId: run.runId, kind: 'activityDeadline', ref: scheduled.eventId, fireAt: deadline, eventId: scheduled.eventId });
          op.due(deadline);
        }
        op.wake(wakeKey.activityQueue(taskQueue));
        return;
      }
      case 'startTimer': {
        if (await tx.timers.get(run.runId, 'timer', c.seq)) throw new InvalidArgumentError(`${where}: startTimer seq ${c.seq} is already an open timer`);
        const started = op.append(run, {
          type: 'timerStarted',
          timerId: String(c.seq),
          startToFireTimeoutMs: c.startToFireTimeoutMs,
          workflowTaskCompletedEventId: completedId,
        });
        const fireAt = now + c.startToFireTimeoutMs;
        await tx.timers.put({ runId: run.runId, kind: 'timer', ref: c.seq, fireAt, eventId: started.eventId });
        op.due(fireAt);
        return;
      }
      case 'cancelTimer': {
        const timer = await tx.timers.get(run.runId, 'timer', c.seq);
        if (timer) {
          await tx.timers.delete(run.runId, 'timer', c.seq);
          op.append(run, { type: 'timerCanceled', timerId: String(c.seq), startedEventId: timer.eventId, workflowTaskCompletedEventId: completedId });
          return;
        }
        // A timer that fired while this task ran is not unknown: the code cancelled it before it
        // could see timerFired (appended after the task started). Nothing is left to cancel.
        if (await firedWhileRunning(String(c.seq))) return;
        throw new InvalidArgumentError(`${where}: cancelTimer seq ${c.seq} names no open timer`);
      }
      case 'completeWorkflow':
        op.append(run, { type: 'workflowExecutionCompleted', result: c.result, workflowTaskCompletedEventId: completedId });
        return this.closeRun(op, run, 'completed');
      case 'failWorkflow':
        op.append(run, { type: 'workflowExecutionFailed', failure: c.failure, workflowTaskCompletedEventId: completedId });
        return this.closeRun(op, run, 'failed');
    }
  }

  private async closeRun(op: Op, run: RunRecord, status: WorkflowStatus): Promise<void> {
    run.status = status;
    run.closeTime = op.now;
    run.workflowTask = undefined;
    run.workflowTaskPending = false;
    // Pending activities and timers die with the run; a worker still running one learns it from
    // its next heartbeat (cancelRequested) or a stale-token error on completion.
    await op.tx.tasks.deleteRun(run.runId);
    await op.tx.timers.deleteRun(run.runId);
    op.wake(wakeKey.run(run.runId));
  }

  private async scheduleWorkflowTask(op: Op, run: RunRecord, attempt: number, visibleAt: number): Promise<void> {
    const scheduled = op.append(run, { type: 'workflowTaskScheduled', taskQueue: run.taskQueue, attempt });
    run.workflowTask = { scheduledEventId: scheduled.eventId, attempt };
    await op.tx.tasks.put({
      taskId: workflowTaskId(run.runId),
      kind: 'workflow',
      taskQueue: run.taskQueue,
      runId: run.runId,
      visibleAt,
      leaseMs: run.workflowTaskTimeoutMs,
      attempt,
    });
    if (visibleAt <= op.now) op.wake(wakeKey.workflowQueue(run.taskQueue));
    else op.due(visibleAt);
  }

  /**
   * New events for the workflow: schedule a task unless one is coming. A scheduled task will see
   * them; a started one did not, so another must follow it.
   */
  private async needWorkflowTask(op: Op, run: RunRecord): Promise<void> {
    if (!run.workflowTask) await this.scheduleWorkflowTask(op, run, 1, op.now);
    else if (run.workflowTask.startedEventId !== undefined) run.workflowTaskPending = true;
  }

  private async failHeldWorkflowTask(op: Op, { task, run }: HeldTask<'workflow'>, cause: string, failure: WireFailure): Promise<void> {
    const { scheduledEventId, startedEventId } = run.workflowTask as { scheduledEventId: number; startedEventId: number };
    op.append(run, { type: 'workflowTaskFailed', scheduledEventId, startedEventId, cause, failure, identity: task.lease!.identity });
    await this.retryWorkflowTask(op, run);
  }

  /** The next attempt of a failed or timed-out workflow task, after its backoff. */
  private async retryWorkflowTask(op: Op, run: RunRecord): Promise<void> {
    const failedAttempt = run.workflowTask!.attempt;
    run.workflowTaskPending = false;
    await this.scheduleWorkflowTask(op, run, failedAttempt + 1, op.now + workflowTaskBackoffMs(failedAttempt));
  }

  // ---- activity tasks ----

  async pollActivityTask(taskQueue: unknown, identity: unknown, now: number): Promise<ActivityTask | null> {
    const where = 'pollActivityTask';
    const { queue, who } = this.checkPoll(where, taskQueue, identity);
    return this.write(where, now, async (op) => {
      const token = this.newId();
      const task = await op.tx.tasks.claim('activity', queue, who, token, now);
      if (!task) return null;
      if (task.kind !== 'activity') throw new Error(`deja store broken: claim('activity') returned a ${task.kind} task`);
      const run = await op.openRun(task.runId, `activity task ${task.taskId}`);
      const a = task.activity;
      const lease = task.lease!;
      op.due(lease.expiresAt);
      return compact({
        taskToken: token,
        workflowId: run.workflowId,
        runId: run.runId,
        workflowType: run.workflowType,
        activityId: a.activityId,
        activityType: a.activityType,
        args: a.args,
        attempt: task.attempt,
        deadline: Math.min(lease.claimedAt + a.startToCloseTimeoutMs, scheduleToCloseDeadline(a) ?? Infinity),
        heartbeatTimeoutMs: a.heartbeatTimeoutMs,
        heartbeatDetails: a.heartbeatDetails,
      });
    });
  }

  async completeActivityTask(taskToken: unknown, result: unknown, now: number): Promise<void> {
    const where = 'completeActivityTask';
    const { token, r } = edge(where, this.limits, (e) => ({ token: e.string('taskToken', taskToken), r: e.payload('result', result) }));
    return this.write(where, now, async (op) => {
      const { task, run } = await this.heldActivityTask(op, where, token);
      const started = this.appendActivityStarted(op, run, task);
      op.append(run, { type: 'activityTaskCompleted', scheduledEventId: task.activity.scheduledEventId, startedEventId: started.eventId, result: r });
      await this.finishActivity(op, run, task);
    });
  }

  async failActivityTask(taskToken: unknown, failure: unknown, now: number): Promise<void> {
    const where = 'failActivityTask';
    const { token, f } = edge(where, this.limits, (e) => ({ token: e.string('taskToken', taskToken), f: e.failure('failure', failure) }));
    return this.write(where, now, async (op) => {
      const { task, run } = await this.heldActivityTask(op, where, token);
      const a = task.activity;
      const decision = activityRetry(a.retryPolicy, task.attempt, f, now, scheduleToCloseDeadline(a));
      if ('retryAt' in decision) return this.retryActivity(op, task, decision.retryAt, f);
      const started = this.appendActivityStarted(op, run, task);
      op.append(run, {
        type: 'activityTaskFailed',
        scheduledEventId: a.scheduledEventId,
        startedEventId: started.eventId,
        failure: f,
        retryState: decision.retryState,
      });
      await this.finishActivity(op, run, task);
    });
  }

  /** Records details and renews a heartbeat lease; never throws for a lost task, it says cancel. */
  async heartbeatActivityTask(taskToken: unknown, details: unknown, now: number): Promise<HeartbeatResponse> {
    const where = 'heartbeatActivityTask';
    const { token, d } = edge(where, this.limits, (e) => ({ token: e.string('taskToken', taskToken), d: e.payload('details', details) }));
    return this.write(where, now, async (op) => {
      const task = await op.tx.tasks.byToken(token);
      if (!task || task.kind !== 'activity' || task.lease!.expiresAt <= now) return { cancelRequested: true };
      const a = task.activity;
      const lease = task.lease!;
      if (d !== undefined) a.heartbeatDetails = d;
      if (a.heartbeatTimeoutMs !== undefined) lease.expiresAt = Math.min(lease.claimedAt + a.startToCloseTimeoutMs, now + a.heartbeatTimeoutMs);
      await op.tx.tasks.put(task);
      return { cancelRequested: false };
    });
  }

  private async heldActivityTask(op: Op, where: string, token: string): Promise<HeldTask<'activity'>> {
    const task = await op.tx.tasks.byToken(token);
    if (!task || task.kind !== 'activity' || task.lease!.expiresAt <= op.now) {
      throw new StaleTaskError(`${where}: the activity task token is stale: the attempt timed out or was completed, or its run closed`);
    }
    return { task, run: await op.openRun(task.runId, `activity task ${task.taskId}`) };
  }

  /** Only an activity's final attempt is written, as Temporal does: started, then the outcome. */
  private appendActivityStarted(op: Op, run: RunRecord, task: Extract<TaskRecord, { kind: 'activity' }>) {
    return op.append(run, {
      type: 'activityTaskStarted',
      scheduledEventId: task.activity.scheduledEventId,
      attempt: task.attempt,
      identity: task.lease?.identity,
    });
  }

  private async retryActivity(op: Op, task: Extract<TaskRecord, { kind: 'activity' }>, retryAt: number, failure: WireFailure): Promise<void> {
    const next: TaskRecord = { ...task, attempt: task.attempt + 1, visibleAt: retryAt, activity: { ...task.activity, lastFailure: failure } };
    delete next.lease;
    await op.tx.tasks.put(next);
    op.due(retryAt);
  }

  private async finishActivity(op: Op, run: RunRecord, task: Extract<TaskRecord, { kind: 'activity' }>): Promise<void> {
    await op.tx.tasks.delete(task.taskId);
    await op.tx.timers.delete(run.runId, 'activityDeadline', task.activity.scheduledEventId);
    await this.needWorkflowTask(op, run);
  }

  // ---- time ----

  /** Fires due timers and processes ended leases; returns when time-driven work is next due. */
  async tick(now: number): Promise<number | undefined> {
    for (;;) {
      const processed = await this.write(
        'tick',
        now,
        async (op) => {
          const timers = await op.tx.timers.takeDue(now, TICK_BATCH);
          for (const timer of timers) await this.fireTimer(op, timer);
          const expired = await op.tx.tasks.expireLeases(now, TICK_BATCH);
          for (const task of expired) await this.expireLease(op, task);
          return timers.length + expired.length;
        },
        // A run whose history is full is closed (its timers and tasks go with it), and the batch runs again.
        'retry',
      );
      if (processed === 0) break;
    }
    return this.read(async (op) => {
      const [timerAt, taskAt] = [await op.tx.timers.nextFireAt(), await op.tx.tasks.nextDueAt(now)];
      if (timerAt === undefined) return taskAt;
      return taskAt === undefined ? timerAt : Math.min(timerAt, taskAt);
    });
  }

  private async fireTimer(op: Op, timer: TimerRecord): Promise<void> {
    const run = await op.openRun(timer.runId, `${timer.kind} ${timer.ref}`);
    if (timer.kind === 'timer') {
      op.append(run, { type: 'timerFired', timerId: String(timer.ref), startedEventId: timer.eventId });
      return this.needWorkflowTask(op, run);
    }
    // Schedule-to-close: the activity's whole budget is spent, whatever attempt it is in.
    const task = await op.tx.tasks.get(activityTaskId(run.runId, timer.ref));
    if (task?.kind !== 'activity') return;
    const started = task.lease ? this.appendActivityStarted(op, run, task) : undefined;
    op.append(run, {
      type: 'activityTaskTimedOut',
      scheduledEventId: task.activity.scheduledEventId,
      startedEventId: started?.eventId,
      failure: timeoutFailure('scheduleToClose', task.activity.lastFailure),
      retryState: 'timeout',
    });
    await this.finishActivity(op, run, task);
  }

  private async expireLease(op: Op, task: TaskRecord): Promise<void> {
    const run = await op.openRun(task.runId, `task ${task.taskId}`);
    const lease = task.lease!;
    if (task.kind === 'workflow') {
      const { scheduledEventId, startedEventId } = run.workflowTask as { scheduledEventId: number; startedEventId: number };
      op.append(run, { type: 'workflowTaskTimedOut', scheduledEventId, startedEventId });
      return this.retryWorkflowTask(op, run);
    }
    // The lease ends at the attempt's start-to-close limit, or earlier when a heartbeat is overdue.
    const a = task.activity;
    const timeoutType: TimeoutType = lease.expiresAt >= lease.claimedAt + a.startToCloseTimeoutMs ? 'startToClose' : 'heartbeat';
    const failure = timeoutFailure(timeoutType);
    const decision = activityRetry(a.retryPolicy, task.attempt, failure, op.now, scheduleToCloseDeadline(a));
    if ('retryAt' in decision) return this.retryActivity(op, task, decision.retryAt, failure);
    const started = this.appendActivityStarted(op, run, task);
    op.append(run, { type: 'activityTaskTimedOut', scheduledEventId: a.scheduledEventId, startedEventId: started.eventId, failure, retryState: decision.retryState });
    await this.finishActivity(op, run, task);
  }
}

