/**
 * One engine transaction's working set (host side). Runs are loaded once and changed in place;
 * `flush` writes back the runs this transaction created or changed, and appends their new events.
 * A run counts as changed when it got an event or was marked with `changed(run)`: a change
 * without an event (a flag, a pending task) is written as surely as one with.
 *
 * Nothing here reaches outside the transaction: wake-ups and due instants are collected as
 * Changes and reported by the engine after commit, since a store may run a transaction twice.
 * Event times never go backwards within a run: an event gets the later of `now` and the run's
 * last event time, whatever the local clock says.
 */
import { DejaError } from '../errors';
import type { Change, RunRecord, StoreTx } from '../backends/store';
import type { HistoryEvent, NewEvent } from '../history/events';
import type { ExecutionRef } from '../service';
import { WorkflowNotFoundError } from '../service-errors';
import type { HistoryWarning } from './history-limits';

/** What a committed transaction changed, for the service to announce and act on. */
export interface Effects {
  /** Waiters to wake, and the earliest instant the transaction made due (`due`), once each. */
  changes: Change[];
  /** Runs whose history this transaction took past a warning threshold (once per run). */
  warnings: HistoryWarning[];
}

/**
 * Drops undefined fields, so stored records hold only what was given: `value` itself when it has
 * none, else a copy without them (a plain object, keys in their order). A copy rather than `delete`,
 * which would turn the object into a slow dictionary for every later read, clone and stringify.
 */
export function compact<T extends object>(value: T): T {
  const keys = Object.keys(value);
  const source = value as Record<string, unknown>;
  let i = 0;
  while (i < keys.length && source[keys[i]] !== undefined) i++;
  if (i === keys.length) return value;
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const member = source[key];
    if (member !== undefined) setMember(out, key, member);
  }
  return out as T;
}

/** `out[key] = member`, as an own property even for the key `__proto__`. */
function setMember(out: Record<string, unknown>, key: string, member: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value: member, writable: true, enumerable: true, configurable: true });
  else out[key] = member;
}

/** The last event time's ISO text: events of one transaction (and of one millisecond) share it. */
let isoAt = Number.NaN;
let isoText = '';
function isoTime(at: number): string {
  if (at !== isoAt) {
    isoText = new Date(at).toISOString();
    isoAt = at;
  }
  return isoText;
}

export const workflowTaskId = (runId: string) => `${runId}/workflow`;
export const activityTaskId = (runId: string, scheduledEventId: number) => `${runId}/activity/${scheduledEventId}`;

/** Bytes of an event in history: its JSON text in UTF-8. Runs keep the sum (`historyBytes`). */
export const eventBytes = (event: object): number => Buffer.byteLength(JSON.stringify(event), 'utf8');

/** A run this transaction loaded or created, with the events it appended. */
export interface LoadedRun {
  run: RunRecord;
  events: HistoryEvent[];
  isNew: boolean;
  changed: boolean;
}

export class Op {
  private readonly loaded = new Map<string, LoadedRun>();
  private readonly changes = new Map<string, Change>();
  private dueAt: number | undefined;
  /** Filled by the history limit check before flush. */
  readonly warnings: HistoryWarning[] = [];
  /** Runs this transaction closes for a history limit: their closing events may pass it. */
  readonly closingOverLimit = new Set<string>();

  constructor(
    readonly tx: StoreTx,
    readonly now: number,
  ) {}

  // run and openRun are called for nearly every operation: written with `then`, not as async
  // functions, they make fewer promises (each costs more while async hooks are on).
  run(runId: string): Promise<RunRecord | undefined> {
    const cached = this.loaded.get(runId);
    if (cached) return Promise.resolve(cached.run);
    return this.tx.runs.get(runId).then((run) => {
      if (run) this.loaded.set(runId, { run, events: [], isNew: false, changed: false });
      return run;
    });
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
  openRun(runId: string, owner: string): Promise<RunRecord> {
    return this.run(runId).then((run) => {
      if (!run || run.status !== 'running') throw new DejaError('DEJA_INTERNAL', `deja engine invariant broken: ${owner} outlived run ${runId}`);
      return run;
    });
  }

  newRun(run: RunRecord): void {
    this.loaded.set(run.runId, { run, events: [], isNew: true, changed: true });
  }

  /** Marks a loaded run as changed, so `flush` writes it back even if it got no event. */
  changed(run: RunRecord): void {
    this.entry(run).changed = true;
  }

  /** The time the run's next event gets: now, unless the run's last event is later. */
  eventTime(run: RunRecord): number {
    return Math.max(this.now, run.lastEventTime);
  }

  append<E extends NewEvent>(run: RunRecord, event: E): E & { eventId: number; eventTime: string } {
    const entry = this.entry(run);
    const at = this.eventTime(run);
    run.lastEventTime = at;
    // As compact({ eventId, eventTime, ...event }), built without undefined members.
    const full: Record<string, unknown> = { eventId: run.nextEventId++, eventTime: isoTime(at) };
    const given = event as Record<string, unknown>;
    for (const key of Object.keys(given)) {
      const member = given[key];
      if (member !== undefined) setMember(full, key, member);
      else if (key === 'eventId' || key === 'eventTime') delete full[key];
    }
    run.historyBytes += eventBytes(full);
    entry.events.push(full as unknown as HistoryEvent);
    entry.changed = true;
    return full as unknown as E & { eventId: number; eventTime: string };
  }

  /** Someone may be waiting for this change: report it after commit (once, however often named). */
  wake(change: Change): void {
    this.changes.set(JSON.stringify(change), change);
  }

  /** Time-driven work falls due at `at`: the earliest such instant is reported after commit. */
  due(at: number): void {
    if (this.dueAt === undefined || at < this.dueAt) this.dueAt = at;
  }

  /** The runs this transaction created or changed. */
  changedRuns(): LoadedRun[] {
    return [...this.loaded.values()].filter((l) => l.changed);
  }

  effects(): Effects {
    const changes = [...this.changes.values()];
    if (this.dueAt !== undefined) changes.push({ type: 'due', at: this.dueAt });
    return { changes, warnings: this.warnings };
  }

  /** Writes back what changed: new runs inserted, changed ones updated, new events appended. */
  async flush(): Promise<void> {
    for (const { run, events, isNew } of this.changedRuns()) {
      if (isNew) await this.tx.runs.insert(run);
      else await this.tx.runs.update(run);
      if (events.length) await this.tx.history.append(run.runId, events);
    }
  }

  private entry(run: RunRecord): LoadedRun {
    const entry = this.loaded.get(run.runId);
    if (entry?.run !== run) throw new DejaError('DEJA_INTERNAL', `deja engine invariant broken: run ${run.runId} was not loaded by this transaction`);
    return entry;
  }
}
