/**
 * The per-execution state machine (inside the isolate). Each context runs its own copy of the
 * bundle, so module-level state here belongs to exactly one workflow execution. The Activator
 * applies activation jobs; every command kind has its own sequence counter; commands are buffered
 * and handed back with the completion. Nothing here calls the host.
 */
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
  WireFailure,
  WorkflowInfo,
} from './protocol';
import { errorToFailure, failureToError, isTemporalFailure } from './failure';
import { IllegalStateError } from './errors';
import alea from 'seedrandom/lib/alea';

type Resolver = { resolve: (value: unknown) => void; reject: (error: unknown) => void };

export type SignalHandler = (...args: any[]) => unknown;
export type QueryHandler = (...args: any[]) => unknown;

interface Condition {
  fn: () => boolean;
  resolve: () => void;
}

/** The handlers for every job kind: a new job kind without a handler does not compile. */
type JobHandlers = { [K in ActivationJob['type']]: (job: Extract<ActivationJob, { type: K }>) => void };

export class WorkflowState {
  readonly info: WorkflowInfo;
  readonly random: () => number;
  now: number;
  isReplaying = false;
  private commands: Command[] = [];
  private logs: LogEntry[] = [];
  private readonly seq = { timer: 0, activity: 0, condition: 0 };
  private readonly timers = new Map<number, { resolve: () => void; callback?: () => void }>();
  private readonly activities = new Map<number, Resolver>();
  private readonly conditions = new Map<number, Condition>();
  readonly signalHandlers = new Map<string, SignalHandler>();
  readonly queryHandlers = new Map<string, QueryHandler>();
  private readonly bufferedSignals: { signalName: string; args: Payload[] }[] = [];
  private closed = false;
  private taskFailure: WireFailure | undefined;
  private inQuery = false;

  constructor(
    init: InitMessage,
    private readonly workflows: Record<string, unknown>,
  ) {
    this.info = init.info;
    this.now = init.info.startTime;
    const prng = alea(init.randomnessSeed);
    this.random = () => prng();
  }

  // ── commands ────────────────────────────────────────────────────────────────────────────────

  private push(command: Command): void {
    if (this.inQuery) throw new IllegalStateError('a query handler must not start timers or activities: queries are read-only');
    // Commands after the workflow's closing command are dropped: the run is over.
    if (!this.closed) this.commands.push(command);
  }

  startTimer(ms: number, callback?: () => void): { seq: number; promise: Promise<void> } {
    const seq = ++this.seq.timer;
    const startToFireTimeoutMs = Math.max(1, Math.ceil(ms));
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.push({ type: 'startTimer', seq, startToFireTimeoutMs });
    this.timers.set(seq, { resolve, callback });
    return { seq, promise };
  }

  /**
   * Cancels a timer. One started in this same activation never reaches the service: both
   * commands are dropped. Returns false when the timer is not pending.
   */
  cancelTimer(seq: number): boolean {
    if (!this.timers.has(seq)) return false;
    this.timers.delete(seq);
    const i = this.commands.findIndex((c) => c.type === 'startTimer' && c.seq === seq);
    if (i >= 0) this.commands.splice(i, 1);
    else this.push({ type: 'cancelTimer', seq });
    return true;
  }

  scheduleActivity(command: Omit<Extract<Command, { type: 'scheduleActivity' }>, 'type' | 'seq' | 'activityId'> & { activityId?: string }): Promise<unknown> {
    const seq = ++this.seq.activity;
    const { activityId, ...rest } = command;
    this.push({ type: 'scheduleActivity', seq, activityId: activityId ?? String(seq), ...rest });
    return new Promise((resolve, reject) => this.activities.set(seq, { resolve, reject }));
  }

  condition(fn: () => boolean): { seq: number; promise: Promise<void> } {
    const seq = ++this.seq.condition;
    const promise = new Promise<void>((resolve) => this.conditions.set(seq, { fn, resolve }));
    return { seq, promise };
  }

  dropCondition(seq: number): void {
    this.conditions.delete(seq);
  }

  log(level: LogEntry['level'], message: string): void {
    this.logs.push({ level, message, timestamp: this.now });
  }

  // ── failures ────────────────────────────────────────────────────────────────────────────────

  /** A bug in workflow code: fails this workflow task; the first one wins. */
  failTask(error: unknown): void {
    if (this.taskFailure === undefined) this.taskFailure = errorToFailure(error);
  }

  /** Errors from signal handlers and timer callbacks: failures fail the workflow, bugs the task. */
  handleUserError(error: unknown): void {
    if (isTemporalFailure(error)) this.completeWith({ type: 'failWorkflow', failure: errorToFailure(error) });
    else this.failTask(error);
  }

  private completeWith(command: Command): void {
    if (this.closed) return;
    this.push(command);
    this.closed = true;
  }

  // ── activation ──────────────────────────────────────────────────────────────────────────────

  private readonly handlers: JobHandlers = {
    startWorkflow: (job) => {
      const fn = this.workflows[job.workflowType];
      if (typeof fn !== 'function') {
        const known = Object.keys(this.workflows).filter((k) => typeof this.workflows[k] === 'function');
        throw new TypeError(
          `workflow type "${job.workflowType}" is not exported by the workflows module; it exports: ${known.join(', ') || '(no functions)'}`,
        );
      }
      // Called synchronously, as Temporal does: handlers it registers before its first await
      // see the signals delivered later in this same activation.
      let main: Promise<unknown>;
      try {
        main = Promise.resolve(fn(...job.args));
      } catch (error) {
        main = Promise.reject(error);
      }
      main.then(
          (result) => this.completeWith(result === undefined ? { type: 'completeWorkflow' } : { type: 'completeWorkflow', result }),
          (error) => {
            if (isTemporalFailure(error)) this.completeWith({ type: 'failWorkflow', failure: errorToFailure(error) });
            else this.failTask(error);
          },
        );
    },
    signalWorkflow: (job) => {
      const handler = this.signalHandlers.get(job.signalName);
      if (handler) this.invokeSignal(handler, job.args);
      else this.bufferedSignals.push({ signalName: job.signalName, args: job.args });
    },
    fireTimer: (job) => {
      const timer = this.timers.get(job.seq);
      if (!timer) throw new IllegalStateError(`history fired timer ${job.seq}, which this workflow does not have pending`);
      this.timers.delete(job.seq);
      timer.resolve();
      if (timer.callback) {
        try {
          timer.callback();
        } catch (error) {
          this.handleUserError(error);
        }
      }
    },
    resolveActivity: (job) => {
      const activity = this.activities.get(job.seq);
      if (!activity) throw new IllegalStateError(`history resolved activity ${job.seq}, which this workflow does not have pending`);
      this.activities.delete(job.seq);
      if (job.result.status === 'completed') activity.resolve(job.result.result);
      else activity.reject(failureToError(job.result.failure));
    },
  };

  private invokeSignal(handler: SignalHandler, args: Payload[]): void {
    try {
      const r = handler(...args);
      if (r && typeof (r as Promise<unknown>).then === 'function') {
        (r as Promise<unknown>).then(undefined, (error) => this.handleUserError(error));
      }
    } catch (error) {
      this.handleUserError(error);
    }
  }

  /** Called by setHandler: signals that arrived before their handler are delivered now, in order. */
  flushBufferedSignals(signalName: string): void {
    const handler = this.signalHandlers.get(signalName);
    if (!handler) return;
    for (let i = 0; i < this.bufferedSignals.length; ) {
      if (this.bufferedSignals[i].signalName === signalName) {
        const [signal] = this.bufferedSignals.splice(i, 1);
        this.invokeSignal(handler, signal.args);
      } else i++;
    }
  }

  activate(activation: Activation): void {
    this.now = activation.timestamp;
    this.isReplaying = activation.isReplaying;
    this.info.historyLength = activation.historyLength;
    this.commands = [];
    this.logs = [];
    this.taskFailure = undefined;
    for (const job of activation.jobs) {
      try {
        (this.handlers[job.type] as (j: ActivationJob) => void)(job);
      } catch (error) {
        this.failTask(error);
      }
    }
  }

  /** Resolves every condition that now holds; `again` while any did (their continuations must run). */
  conclude(): ConcludeResult {
    if (this.taskFailure === undefined) {
      let resolved = false;
      for (const [seq, condition] of this.conditions) {
        let holds: boolean;
        try {
          holds = condition.fn();
        } catch (error) {
          this.failTask(error);
          break;
        }
        if (holds) {
          this.conditions.delete(seq);
          condition.resolve();
          resolved = true;
        }
      }
      if (resolved) return { again: true };
    }
    const logs = this.logs;
    this.logs = [];
    if (this.taskFailure !== undefined) return { ok: false, failure: this.taskFailure, logs };
    const commands = this.commands;
    this.commands = [];
    return { ok: true, commands, logs } satisfies ActivationCompletion;
  }

  query(request: QueryRequest): QueryResult {
    const handler = this.queryHandlers.get(request.queryType);
    if (!handler) {
      const known = [...this.queryHandlers.keys()];
      return {
        ok: false,
        failure: {
          kind: 'application',
          type: 'QueryNotFound',
          message: `workflow has no query handler for "${request.queryType}"; known queries: ${known.join(', ') || '(none)'}`,
        },
      };
    }
    this.inQuery = true;
    try {
      const result = handler(...request.args);
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        return { ok: false, failure: { kind: 'application', type: 'TypeError', message: `query handler "${request.queryType}" returned a promise; query handlers must be synchronous` } };
      }
      return result === undefined ? { ok: true } : { ok: true, result };
    } catch (error) {
      return { ok: false, failure: errorToFailure(error) };
    } finally {
      this.inQuery = false;
    }
  }
}

let current: WorkflowState | undefined;

/** The execution's state; throws outside a workflow (e.g. when called on the host). */
export function getState(what: string): WorkflowState {
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
  try {
    if (current !== undefined) throw new IllegalStateError('__dejaInit called twice in one context');
    // The state exists before the module loads, so that top-level Date/Math.random are seeded.
    const holder: Record<string, unknown> = {};
    current = new WorkflowState(init, holder);
    const mod = loadWorkflows();
    for (const key of Object.keys(mod)) holder[key] = mod[key];
    return { ok: true };
  } catch (error) {
    return { ok: false, failure: errorToFailure(error) };
  }
}
