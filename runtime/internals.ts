/**
 * The per-execution state machine (inside the isolate). Each context runs its own copy of the
 * bundle, so module-level state here belongs to exactly one workflow execution. The Activator
 * applies activation jobs; every command kind has its own sequence counter; commands are buffered
 * and handed back with the completion. Nothing here calls the host.
 *
 * Workflow code may have replaced any global by the time this code runs: it uses only the
 * intrinsics of primordials.ts, and what it hands to the host is built from prototype-less objects
 * (see the rules at the top of primordials.ts).
 */
import {
  Error,
  Map,
  MapPrototypeDelete,
  MapPrototypeGet,
  MapPrototypeHas,
  MapPrototypeSet,
  MathCeil,
  MathMax,
  ObjectKeys,
  ObjectSetPrototypeOf,
  Promise,
  ReflectApply,
  TypeError,
  append,
  list,
  mapForEach,
  own,
  put,
  record,
  removeAt,
  StringPrototypeCharCodeAt,
  StringPrototypeSlice,
} from './primordials';
import type {
  Activation,
  ActivationCompletion,
  ActivationJob,
  Command,
  ConcludeResult,
  InitMessage,
  InitResult,
  LogEntry,
  Payload,
  QueryRequest,
  QueryResult,
  ScheduleActivityCommand,
  WireFailure,
  WorkflowInfo,
} from './protocol';
import { isClosingCommand } from './protocol';
import { errorToFailure, failureToError, isTemporalFailure } from './failure';
import { IllegalStateError } from './errors';
import { describeLogValue } from './format';
import alea from 'seedrandom/lib/alea';

/**
 * Log volume per activation. Log lines (console.* and log.*) travel to the host inside the
 * completion, so a workflow that logs in a loop would otherwise make every completion as big as
 * it likes. Beyond these, lines are dropped (the first ones are kept) and one final `warn` entry
 * says how many lines and bytes were dropped. Sizes are UTF-8 bytes.
 */
export const MAX_LOG_LINES_PER_ACTIVATION = 1000;
export const MAX_LOG_BYTES_PER_ACTIVATION = 256 * 1024;
/** One line longer than this is cut, with a marker saying how much was cut. */
export const MAX_LOG_LINE_BYTES = 32 * 1024;

/**
 * Rounds of `__dejaConclude` per activation: each one that resolves a condition asks the host for
 * another. A workflow that loops on conditions that hold at once (`for (;;) await condition(() =>
 * true)`) would otherwise keep the host calling for ever, each call well within its deadline.
 */
export const MAX_CONDITION_ROUNDS_PER_ACTIVATION = 100_000;

type Resolver = { resolve: (value: unknown) => void; reject: (error: unknown) => void };

export type SignalHandler = (...args: any[]) => unknown;
export type QueryHandler = (...args: any[]) => unknown;

interface Condition {
  fn: () => boolean;
  resolve: () => void;
}

/** The handlers for every job kind: a new job kind without a handler does not compile. */
export type JobHandlers<J extends { type: string } = ActivationJob> = { [K in J['type']]: (job: Extract<J, { type: K }>) => void };

/** A WireFailure whose objects have no prototype, ready to cross to the host (see `record`). */
export function wireFailure(error: unknown): WireFailure {
  'use strict';
  const failure = errorToFailure(error);
  for (let f: WireFailure | undefined = failure; f !== undefined; f = own(f, 'cause') as WireFailure | undefined) ObjectSetPrototypeOf(f, null);
  return failure;
}

/**
 * Calls `onFulfilled` or `onRejected` once `value` settles. `await` reaches a native promise's
 * reactions without looking up its `then` (which workflow code may have replaced), in the same
 * number of microtask turns as `.then(onFulfilled, onRejected)`. Neither callback may throw.
 */
async function whenSettled(value: unknown, onFulfilled: (result: unknown) => void, onRejected: (error: unknown) => void): Promise<void> {
  'use strict';
  let result: unknown;
  try {
    result = await value;
  } catch (error) {
    onRejected(error);
    return;
  }
  onFulfilled(result);
}

/** UTF-8 bytes of the character at `i`: 4 for a surrogate pair (whose low half the caller skips). */
function utf8Width(s: string, i: number): number {
  const c = StringPrototypeCharCodeAt(s, i);
  if (c < 0x80) return 1;
  if (c < 0x800) return 2;
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const next = StringPrototypeCharCodeAt(s, i + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return 4;
  }
  return 3; // the rest of the BMP, and a lone surrogate (written as U+FFFD)
}

/**
 * How many UTF-16 code units of `s` fit in `budget` UTF-8 bytes (never half a surrogate pair),
 * and their size in bytes.
 */
function utf8Prefix(s: string, budget: number): { end: number; bytes: number } {
  let end = 0;
  let bytes = 0;
  while (end < s.length) {
    const width = utf8Width(s, end);
    if (bytes + width > budget) break;
    bytes += width;
    end += width === 4 ? 2 : 1;
  }
  return { end, bytes };
}

/** `line` cut to at most MAX_LOG_LINE_BYTES, with a marker saying how much was cut; and its size. */
function fitLine(line: string): { text: string; bytes: number } {
  const whole = utf8Prefix(line, MAX_LOG_LINE_BYTES);
  if (whole.end === line.length) return { text: line, bytes: whole.bytes };
  const kept = utf8Prefix(line, MAX_LOG_LINE_BYTES - 128); // room for the marker
  const marker = ` … [deja: line cut at ${MAX_LOG_LINE_BYTES} bytes; ${line.length - kept.end} more characters dropped]`;
  return { text: StringPrototypeSlice(line, 0, kept.end) + marker, bytes: kept.bytes + utf8Prefix(marker, Infinity).bytes };
}

export class WorkflowState {
  readonly info: WorkflowInfo;
  readonly random: () => number;
  now: number;
  isReplaying = false;
  private commands: Command[] = list();
  private logs: LogEntry[] = list();
  private readonly logVolume = record({ lines: 0, bytes: 0, droppedLines: 0, droppedBytes: 0 });
  private readonly seq = record({ timer: 0, activity: 0, condition: 0 });
  private readonly timers = new Map<number, { resolve: () => void; callback?: () => void }>();
  private readonly activities = new Map<number, Resolver>();
  private readonly conditions = new Map<number, Condition>();
  readonly signalHandlers = new Map<string, SignalHandler>();
  readonly queryHandlers = new Map<string, QueryHandler>();
  private readonly bufferedSignals: { signalName: string; args: Payload[] }[] = list();
  private closed = false;
  private taskFailure: WireFailure | undefined;
  private inQuery = false;
  private conditionRounds = 0;

  constructor(
    init: InitMessage,
    private readonly workflows: Record<string, unknown>,
  ) {
    const info = init.info;
    this.info = record({ ...info });
    this.now = info.startTime;
    const prng = alea(init.randomnessSeed);
    this.random = () => prng();
  }

  // ── commands ────────────────────────────────────────────────────────────────────────────────

  private push(command: Command): void {
    if (this.inQuery) throw new IllegalStateError('a query handler must not start timers or activities: queries are read-only');
    // Commands after the workflow's closing command are dropped: the run is over.
    if (this.closed) return;
    append(this.commands, record(command));
    if (isClosingCommand(command)) this.closed = true;
  }

  startTimer(ms: number, callback?: () => void): { seq: number; promise: Promise<void> } {
    const seq = ++this.seq.timer;
    const startToFireTimeoutMs = MathMax(1, MathCeil(ms));
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.push({ type: 'startTimer', seq, startToFireTimeoutMs });
    MapPrototypeSet(this.timers, seq, record({ resolve, callback }));
    return { seq, promise };
  }

  /**
   * Cancels a timer. One started in this same activation never reaches the service: both
   * commands are dropped. Returns false when the timer is not pending.
   */
  cancelTimer(seq: number): boolean {
    if (!MapPrototypeHas(this.timers, seq)) return false;
    MapPrototypeDelete(this.timers, seq);
    for (let i = 0; i < this.commands.length; i++) {
      const c = this.commands[i];
      if (c.type === 'startTimer' && c.seq === seq) {
        removeAt(this.commands, i);
        return true;
      }
    }
    this.push({ type: 'cancelTimer', seq });
    return true;
  }

  /** Schedules an activity; `fields` are the command's fields after type, seq and activityId. */
  scheduleActivity(activityId: string | undefined, fields: Omit<ScheduleActivityCommand, 'type' | 'seq' | 'activityId'>): Promise<unknown> {
    const seq = ++this.seq.activity;
    this.push({ type: 'scheduleActivity', seq, activityId: activityId ?? `${seq}`, ...fields });
    return new Promise((resolve, reject) => MapPrototypeSet(this.activities, seq, record({ resolve, reject })));
  }

  condition(fn: () => boolean): { seq: number; promise: Promise<void> } {
    const seq = ++this.seq.condition;
    const promise = new Promise<void>((resolve) => MapPrototypeSet(this.conditions, seq, record({ fn, resolve })));
    return { seq, promise };
  }

  dropCondition(seq: number): void {
    MapPrototypeDelete(this.conditions, seq);
  }

  // ── logs ────────────────────────────────────────────────────────────────────────────────────

  /** Buffers one log line for the completion, within the per-activation limits. */
  log(level: LogEntry['level'], message: unknown): void {
    const { text, bytes } = fitLine(typeof message === 'string' ? message : describeLogValue(message));
    const volume = this.logVolume;
    // Once a line is dropped, every later one is too: the host sees a prefix, then the notice.
    if (volume.droppedLines > 0 || volume.lines >= MAX_LOG_LINES_PER_ACTIVATION || volume.bytes + bytes > MAX_LOG_BYTES_PER_ACTIVATION) {
      volume.droppedLines++;
      volume.droppedBytes += bytes;
      return;
    }
    volume.lines++;
    volume.bytes += bytes;
    append(this.logs, record({ level, message: text, timestamp: this.now }));
  }

  /** The activation's log lines, with the drop notice last; the buffer starts afresh. */
  private takeLogs(): LogEntry[] {
    const logs = this.logs;
    const volume = this.logVolume;
    if (volume.droppedLines > 0) {
      const message =
        `deja dropped ${volume.droppedLines} log line${volume.droppedLines === 1 ? '' : 's'} (${volume.droppedBytes} bytes) of this activation: ` +
        `a workflow activation may log at most ${MAX_LOG_LINES_PER_ACTIVATION} lines and ${MAX_LOG_BYTES_PER_ACTIVATION} bytes`;
      append(logs, record({ level: 'warn', message, timestamp: this.now }));
    }
    this.logs = list();
    volume.lines = volume.bytes = volume.droppedLines = volume.droppedBytes = 0;
    return logs;
  }

  // ── failures ────────────────────────────────────────────────────────────────────────────────

  /** A bug in workflow code: fails this workflow task; the first one wins. */
  failTask(error: unknown): void {
    if (this.taskFailure === undefined) this.taskFailure = wireFailure(error);
  }

  /** Errors from signal handlers and timer callbacks: failures fail the workflow, bugs the task. */
  handleUserError(error: unknown): void {
    if (isTemporalFailure(error)) this.completeWith({ type: 'failWorkflow', failure: wireFailure(error) });
    else this.failTask(error);
  }

  /** Closes the run with `command`, unless it is closed already (the first closing command wins). */
  private completeWith(command: Extract<Command, { type: 'completeWorkflow' | 'failWorkflow' }>): void {
    if (!this.closed) this.push(command);
  }

  // ── activation ──────────────────────────────────────────────────────────────────────────────

  private readonly handlers: JobHandlers = record({
    startWorkflow: (job: Extract<ActivationJob, { type: 'startWorkflow' }>) => {
      const fn = own(this.workflows, job.workflowType);
      if (typeof fn !== 'function') {
        const names = ObjectKeys(this.workflows);
        let known = '';
        for (let i = 0; i < names.length; i++) {
          if (typeof this.workflows[names[i]] === 'function') known += known === '' ? names[i] : `, ${names[i]}`;
        }
        throw new TypeError(`workflow type "${job.workflowType}" is not exported by the workflows module; it exports: ${known || '(no functions)'}`);
      }
      // Called synchronously, as Temporal does: handlers it registers before its first await
      // see the signals delivered later in this same activation.
      let main: unknown;
      try {
        main = ReflectApply(fn, undefined, job.args);
      } catch (error) {
        main = new Promise((_, reject) => reject(error));
      }
      void whenSettled(
        main,
        (result) => this.completeWith(result === undefined ? { type: 'completeWorkflow' } : { type: 'completeWorkflow', result }),
        (error) => this.handleUserError(error),
      );
    },
    signalWorkflow: (job: Extract<ActivationJob, { type: 'signalWorkflow' }>) => {
      const handler = MapPrototypeGet(this.signalHandlers, job.signalName);
      if (handler) this.invokeSignal(handler, job.args);
      else append(this.bufferedSignals, record({ signalName: job.signalName, args: job.args }));
    },
    fireTimer: (job: Extract<ActivationJob, { type: 'fireTimer' }>) => {
      const timer = MapPrototypeGet(this.timers, job.seq);
      if (!timer) throw new IllegalStateError(`history fired timer ${job.seq}, which this workflow does not have pending`);
      MapPrototypeDelete(this.timers, job.seq);
      timer.resolve();
      const callback = timer.callback;
      if (callback) {
        try {
          callback();
        } catch (error) {
          this.handleUserError(error);
        }
      }
    },
    resolveActivity: (job: Extract<ActivationJob, { type: 'resolveActivity' }>) => {
      const activity = MapPrototypeGet(this.activities, job.seq);
      if (!activity) throw new IllegalStateError(`history resolved activity ${job.seq}, which this workflow does not have pending`);
      MapPrototypeDelete(this.activities, job.seq);
      const result = job.result;
      if (result.status === 'completed') activity.resolve(own(result, 'result'));
      else activity.reject(failureToError(result.failure));
    },
  });

  private invokeSignal(handler: SignalHandler, args: Payload[]): void {
    let r: unknown;
    try {
      r = ReflectApply(handler, undefined, args);
    } catch (error) {
      this.handleUserError(error);
      return;
    }
    // A handler's promise: its rejection is handled like a synchronous throw.
    if (typeof r === 'object' && r !== null) {
      void whenSettled(r, () => undefined, (error) => this.handleUserError(error));
    }
  }

  /** Called by setHandler: signals that arrived before their handler are delivered now, in order. */
  flushBufferedSignals(signalName: string): void {
    const handler = MapPrototypeGet(this.signalHandlers, signalName);
    if (!handler) return;
    for (let i = 0; i < this.bufferedSignals.length; ) {
      if (this.bufferedSignals[i].signalName === signalName) {
        const signal = removeAt(this.bufferedSignals, i);
        this.invokeSignal(handler, signal.args);
      } else i++;
    }
  }

  activate(activation: Activation): void {
    this.now = activation.timestamp;
    this.isReplaying = activation.isReplaying;
    this.info.historyLength = activation.historyLength;
    this.commands = list();
    this.takeLogs();
    this.taskFailure = undefined;
    this.conditionRounds = 0;
    const jobs = activation.jobs;
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i];
      try {
        const handler = own(this.handlers, job.type) as ((j: ActivationJob) => void) | undefined;
        if (handler === undefined) throw new IllegalStateError(`unknown activation job type "${job.type}"`);
        handler(job);
      } catch (error) {
        this.failTask(error);
      }
    }
  }

  /** Resolves every condition that now holds; `again` while any did (their continuations must run). */
  conclude(): ConcludeResult {
    if (this.taskFailure === undefined && ++this.conditionRounds > MAX_CONDITION_ROUNDS_PER_ACTIVATION) {
      this.failTask(
        new Error(
          `conditions kept resolving for ${MAX_CONDITION_ROUNDS_PER_ACTIVATION} rounds in one activation: the workflow loops on ` +
            'conditions that hold at once (such as `for (;;) await condition(() => true)`) and never waits for anything',
        ),
      );
    }
    if (this.taskFailure === undefined) {
      let resolved = false;
      mapForEach(this.conditions, (condition, seq) => {
        const fn = condition.fn;
        let holds: boolean;
        try {
          holds = fn();
        } catch (error) {
          this.failTask(error);
          return true;
        }
        if (holds) {
          MapPrototypeDelete(this.conditions, seq);
          condition.resolve();
          resolved = true;
        }
        return false;
      });
      if (resolved) return record({ again: true });
    }
    const logs = this.takeLogs();
    if (this.taskFailure !== undefined) return record({ ok: false, failure: this.taskFailure, logs });
    const commands = this.commands;
    this.commands = list();
    return record({ ok: true, commands, logs } satisfies ActivationCompletion);
  }

  /** A failed completion for an error the runtime caught outside the activation's own handling. */
  failedCompletion(error: unknown): ActivationCompletion {
    this.failTask(error);
    return record({ ok: false, failure: this.taskFailure!, logs: this.takeLogs() });
  }

  query(request: QueryRequest): QueryResult {
    const handler = MapPrototypeGet(this.queryHandlers, request.queryType);
    if (!handler) {
      let known = '';
      mapForEach(this.queryHandlers, (_, name) => void (known += known === '' ? name : `, ${name}`));
      return record({
        ok: false,
        failure: record({
          kind: 'application',
          type: 'QueryNotFound',
          message: `workflow has no query handler for "${request.queryType}"; known queries: ${known || '(none)'}`,
        }),
      });
    }
    this.inQuery = true;
    try {
      const result = ReflectApply(handler, undefined, request.args);
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        return record({
          ok: false,
          failure: record({ kind: 'application', type: 'TypeError', message: `query handler "${request.queryType}" returned a promise; query handlers must be synchronous` }),
        });
      }
      return result === undefined ? record({ ok: true }) : record({ ok: true, result });
    } catch (error) {
      return record({ ok: false, failure: wireFailure(error) });
    } finally {
      this.inQuery = false;
    }
  }
}

let current: WorkflowState | undefined;

/** The execution's state; throws outside a workflow (e.g. when called on the host). */
export function getState(what: string): WorkflowState {
  'use strict';
  if (current === undefined) {
    throw new IllegalStateError(`${what} can only be used inside workflow code (it was called outside a workflow execution)`);
  }
  return current;
}

export function maybeState(): WorkflowState | undefined {
  return current;
}

/** Creates the execution's state and loads the workflows module (its top level runs now). */
export function initialize(init: InitMessage, loadWorkflows: () => Record<string, unknown>): InitResult {
  'use strict';
  try {
    if (current !== undefined) throw new IllegalStateError('__dejaInit called twice in one context');
    // The state exists before the module loads, so that top-level Date/Math.random are seeded.
    const holder: Record<string, unknown> = record({});
    current = new WorkflowState(init, holder);
    const mod = loadWorkflows();
    const keys = ObjectKeys(mod);
    for (let i = 0; i < keys.length; i++) put(holder, keys[i], mod[keys[i]]);
    return record({ ok: true });
  } catch (error) {
    return record({ ok: false, failure: wireFailure(error) });
  }
}
