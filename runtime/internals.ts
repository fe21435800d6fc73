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
import { builtinQuery } from './builtin-queries';
import {
  Error,
  Map,
  MapPrototypeDelete,
  MapPrototypeGet,
  MapPrototypeHas,
  MapPrototypeSet,
  MathCeil,
  MathMax,
  ObjectFreeze,
  ObjectKeys,
  Promise,
  PromisePrototypeThen,
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
  StringPrototypeSlice, whenSettled
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
  RecordedActivations,
  RequestCancelExternalWorkflowCommand,
  ScheduleActivityCommand,
  SearchAttributeUpserts,
  ScheduleLocalActivityCommand,
  SignalExternalWorkflowCommand,
  SinkCall,
  StartChildWorkflowCommand,
  WireFailure,
  WorkflowInfo,
} from './protocol';
import { QUERY_PENDING, isClosingCommand } from './protocol';
import { CoreFlag, FlagState, LangFlag } from './flags';
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  ChildWorkflowFailure,
  WorkflowExecutionAlreadyStartedError,
  failureToError,
  isCancellation,
  isTemporalFailure, wireFailure
} from './failure';
import { CancellationScope, cancelRoot, cancelledFailureOf, createRootScope, link } from './cancellation-scope';
import { runInContext } from './async-context';
import { IllegalStateError } from './errors';
import { MessageHandlers } from './updates';
import { describeLogValue } from './format';
import { continueAsNewCommandOf, isContinueAsNew } from './continue-as-new';
import { applyUpserts } from './search-attributes';
import { asPromise, emptyHeaders, hasInterceptors, installInterceptors, interceptInbound, type QueryInput } from './interceptors';
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

/** Sink calls per activation (proxySinks): beyond, the call throws and the task fails. */
export const MAX_SINK_CALLS_PER_ACTIVATION = 1000;

type Resolver = { resolve: (value: unknown) => void; reject: (error: unknown) => void };

export type SignalHandler = (...args: any[]) => unknown;
export type QueryHandler = (...args: any[]) => unknown;

interface Condition {
  fn: () => boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
  unlink: () => void;
}

/** The handlers for every job kind: a new job kind without a handler does not compile. */
export type JobHandlers<J extends { type: string } = ActivationJob> = { [K in J['type']]: (job: Extract<J, { type: K }>) => void };

/** A promise rejected with `error`, marked handled until workflow code takes it. */
function rejected<T>(error: unknown): Promise<T> {
  return new Promise<T>((_, reject) => reject(error));
}

function noop(): void {}

/**
 * The empty list a completion carries when an activation logged nothing, made no sink call or
 * emitted no command: shared and frozen, so an activation that has none allocates none (most
 * replayed tasks log nothing). Nothing appends to a list once it is in a completion.
 */
const NONE: never[] = list();
ObjectFreeze(NONE);

/** Temporal's activity cancellation types (see `ActivityCancellationType` in workflow.ts). */
export type ActivityCancellation = 'TRY_CANCEL' | 'WAIT_CANCELLATION_COMPLETED' | 'ABANDON';
/** Temporal's child workflow cancellation types (see `ChildWorkflowCancellationType` in children.ts). */
export type ChildCancellation = 'ABANDON' | 'TRY_CANCEL' | 'WAIT_CANCELLATION_REQUESTED' | 'WAIT_CANCELLATION_COMPLETED';

interface PendingTimer {
  resolve: () => void;
  reject: (error: unknown) => void;
  callback: (() => void) | undefined;
  unlink: () => void;
}

interface PendingActivity extends Resolver {
  /** Rejected already (cancelled with TRY_CANCEL or ABANDON): its resolution is ignored. */
  settled: boolean;
  unlink: () => void;
  /** The activity id its command carried: a bulk replay's resolution names it by this. */
  activityId: string;
}

interface PendingChild {
  seq: number;
  workflowId: string;
  workflowType: string;
  runId: string | undefined;
  started: Resolver;
  result: Resolver;
  /** The result was rejected already (cancelled with ABANDON or TRY_CANCEL, or a cancel request went through). */
  resultSettled: boolean;
  /** Its scope was cancelled while the start was in flight: act on it once started. */
  cancelPending: boolean;
  cancellationType: ChildCancellation;
  unlink: () => void;
}

/** An external signal or cancel request in flight: `settle` gets the resolution's failure, if any. */
interface PendingExternal {
  settle: (failure: WireFailure | undefined) => void;
  unlink: () => void;
}

/** The fields of a startChildWorkflow command after its type and seq. */
export type ChildWorkflowFields = Omit<StartChildWorkflowCommand, 'type' | 'seq'>;
export type SignalExternalFields = Omit<SignalExternalWorkflowCommand, 'type' | 'seq'>;
export type CancelExternalFields = Omit<RequestCancelExternalWorkflowCommand, 'type' | 'seq'>;

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
  /** The workflow's PRNG: Math.random, uuid4 and crypto draw through it, so a re-seed reaches them all. */
  readonly random: () => number = () => this.prng();
  private prng: () => number;
  now: number;
  isReplaying = false;
  /** The SDK flags of the current activation (flags.ts). */
  readonly flags = new FlagState();
  private commands: Command[] = list();
  private logs: LogEntry[] = list();
  private readonly logVolume = record({ lines: 0, bytes: 0, droppedLines: 0, droppedBytes: 0 });
  private readonly seq = record({ timer: 0, activity: 0, condition: 0, childWorkflow: 0, signalExternal: 0, cancelExternal: 0 });
  private readonly timers = new Map<number, PendingTimer>();
  private readonly activities = new Map<number, PendingActivity>();
  private readonly conditions = new Map<number, Condition>();
  private readonly children = new Map<number, PendingChild>();
  private readonly signalsOut = new Map<number, PendingExternal>();
  private readonly cancelsOut = new Map<number, PendingExternal>();
  /** Local activities scheduled and not resolved yet (see scheduleLocalActivity). */
  private readonly localActivities = new Map<number, PendingActivity>();
  /** Patches history recorded for the task being replayed (notifyHasPatch jobs); kept for the run. */
  private readonly notifiedPatches = new Map<string, boolean>();
  /** The first answer of `patched(id)` per id: it never changes within a run. */
  private readonly patchAnswers = new Map<string, boolean>();
  /** Sink calls of the current activation (see proxySinks), returned with its completion. */
  private sinkCalls: SinkCall[] = list();
  /** The workflow's root cancellation scope; the `cancelWorkflow` job cancels it. */
  readonly rootScope: CancellationScope;
  readonly signalHandlers = new Map<string, SignalHandler>();
  readonly queryHandlers = new Map<string, QueryHandler>();
  private readonly bufferedSignals: { signalName: string; args: Payload[] }[] = list();
  /** Updates, default handlers and the count of running handlers (updates.ts). */
  readonly messages = new MessageHandlers(record({ push: (command: Command) => this.push(command), failTask: (error: unknown) => this.failTask(error) }));
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
    this.prng = alea(init.randomnessSeed);
    this.rootScope = createRootScope();
  }

  // ── commands ────────────────────────────────────────────────────────────────────────────────

  private push(command: Command): void {
    if (this.inQuery) throw new IllegalStateError('a query handler must not start timers or activities: queries are read-only');
    if (this.closed) {
      // After the closing command: a second closing command is dropped; any other is kept (and
      // sent before the closing command, see conclude) under core flag 3, dropped without it.
      if (isClosingCommand(command) || !this.flags.core(CoreFlag.MoveTerminalCommands)) return;
    }
    append(this.commands, record(command));
    if (isClosingCommand(command)) this.closed = true;
  }

  /** upsertSearchAttributes (checked by the caller): the command, and the attributes workflowInfo() reads from now on. */
  upsertSearchAttributes(upserts: SearchAttributeUpserts): void {
    this.push({ type: 'upsertSearchAttributes', searchAttributes: upserts });
    this.info.searchAttributes = applyUpserts(this.info.searchAttributes, upserts);
  }

  /** upsertMemo (checked by the caller): the command, and the memo workflowInfo() reads from now on (null removes a field). */
  upsertMemo(memo: Record<string, Payload | null>): void {
    this.push({ type: 'modifyWorkflowProperties', memo });
    const next: Record<string, Payload> = record({});
    const old = this.info.memo;
    if (old !== undefined) {
      const keys = ObjectKeys(old);
      for (let i = 0; i < keys.length; i++) put(next, keys[i], old[keys[i]]);
    }
    const keys = ObjectKeys(memo);
    for (let i = 0; i < keys.length; i++) {
      const v = memo[keys[i]];
      if (v === null) delete next[keys[i]];
      else put(next, keys[i], v);
    }
    this.info.memo = next;
  }

  /**
   * Removes the command of kind `type` and sequence `seq` if this activation emitted it: it has
   * not reached the service, so cancelling it is dropping it. True when it was dropped.
   */
  private dropUnsent(type: 'startTimer' | 'scheduleActivity' | 'scheduleLocalActivity' | 'startChildWorkflow' | 'signalExternalWorkflow' | 'requestCancelExternalWorkflow', seq: number): boolean {
    for (let i = 0; i < this.commands.length; i++) {
      const c = this.commands[i];
      if (c.type === type && c.seq === seq) {
        removeAt(this.commands, i);
        return true;
      }
    }
    return false;
  }

  /**
   * Starts a timer (a setTimeout's, with its callback; or sleep's). Linked to `scope` when given:
   * cancelling the scope cancels the timer and rejects the promise with the scope's failure.
   */
  startTimer(ms: number, callback?: () => void, scope?: CancellationScope, seq: number = ++this.seq.timer): { seq: number; promise: Promise<void> } {
    if (scope !== undefined) {
      const failure = cancelledFailureOf(scope);
      if (failure !== undefined) return { seq, promise: rejected(failure) };
    }
    const startToFireTimeoutMs = MathMax(1, MathCeil(ms));
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.push({ type: 'startTimer', seq, startToFireTimeoutMs });
    const timer: PendingTimer = record({ resolve, reject, callback, unlink: noop });
    MapPrototypeSet(this.timers, seq, timer);
    if (scope !== undefined) {
      timer.unlink = link(scope, (failure) => {
        if (this.cancelTimer(seq)) reject(failure);
      });
    }
    return { seq, promise };
  }

  /**
   * The next sequence number of a command kind, taken now: with interceptors installed, Temporal
   * numbers a call when it is made, before the interceptors run (they may delay the command).
   */
  reserveSeq(kind: 'timer' | 'activity' | 'childWorkflow' | 'signalExternal'): number {
    return ++this.seq[kind];
  }

  /** A durable timer in `scope` (sleep, a scope's timeout). */
  sleep(ms: number, scope: CancellationScope, seq?: number): Promise<void> {
    return this.startTimer(ms, undefined, scope, seq).promise;
  }

  /**
   * Cancels a timer. One started in this same activation never reaches the service: both
   * commands are dropped. Returns false when the timer is not pending.
   */
  cancelTimer(seq: number): boolean {
    const timer = MapPrototypeGet(this.timers, seq);
    if (timer === undefined) return false;
    MapPrototypeDelete(this.timers, seq);
    timer.unlink();
    if (!this.dropUnsent('startTimer', seq)) this.push({ type: 'cancelTimer', seq });
    return true;
  }

  /**
   * Schedules an activity; `fields` are the command's fields after type, seq and activityId.
   * Cancelling `scope` cancels it as `cancellation` says; its promise then rejects with an
   * ActivityFailure whose cause is a CancelledFailure.
   */
  scheduleActivity(
    activityId: string | undefined,
    fields: Omit<ScheduleActivityCommand, 'type' | 'seq' | 'activityId'>,
    cancellation: ActivityCancellation = 'TRY_CANCEL',
    scope: CancellationScope = this.rootScope,
    seq: number = ++this.seq.activity,
  ): Promise<unknown> {
    const failure = cancelledFailureOf(scope);
    if (failure !== undefined) return rejected(failure);
    const id = activityId ?? `${seq}`;
    this.push({ type: 'scheduleActivity', seq, activityId: id, ...fields });
    let activity!: PendingActivity;
    const promise = new Promise((resolve, reject) => {
      activity = record({ resolve, reject, settled: false, unlink: noop, activityId: id });
    });
    MapPrototypeSet(this.activities, seq, activity);
    activity.unlink = link(scope, () => {
      if (activity.settled || MapPrototypeGet(this.activities, seq) !== activity) return;
      const cancelled = new ActivityFailure('Activity task failed', fields.activityType, id, 'cancelRequested', new CancelledFailure('Activity cancelled'));
      if (this.dropUnsent('scheduleActivity', seq)) {
        MapPrototypeDelete(this.activities, seq);
        activity.reject(cancelled);
        return;
      }
      if (cancellation !== 'ABANDON') this.push({ type: 'requestCancelActivity', seq });
      if (cancellation !== 'WAIT_CANCELLATION_COMPLETED') {
        activity.settled = true;
        activity.reject(cancelled);
      }
    });
    return promise;
  }

  /**
   * Schedules a local activity (Temporal's semantics: the worker runs it inside this workflow
   * task and delivers its outcome in a follow-up activation of the same task). Cancelling `scope`
   * before the command was sent drops it; after, TRY_CANCEL and ABANDON reject at once and the
   * outcome is ignored, WAIT_CANCELLATION_COMPLETED waits for the outcome.
   */
  scheduleLocalActivity(
    activityId: string | undefined,
    fields: Omit<ScheduleLocalActivityCommand, 'type' | 'seq' | 'activityId'>,
    cancellation: ActivityCancellation,
    scope: CancellationScope = this.rootScope,
    // Temporal numbers activities and local activities with one counter (a local activity's
    // default id is that number): histories recorded by Temporal depend on it.
    seq: number = ++this.seq.activity,
  ): Promise<unknown> {
    const failure = cancelledFailureOf(scope);
    if (failure !== undefined) return rejected(failure);
    const id = activityId ?? `${seq}`;
    this.push({ type: 'scheduleLocalActivity', seq, activityId: id, ...fields });
    let activity!: PendingActivity;
    const promise = new Promise((resolve, reject) => {
      activity = record({ resolve, reject, settled: false, unlink: noop, activityId: id });
    });
    MapPrototypeSet(this.localActivities, seq, activity);
    activity.unlink = link(scope, () => {
      if (activity.settled || MapPrototypeGet(this.localActivities, seq) !== activity) return;
      const cancelled = new ActivityFailure('Local Activity cancelled', fields.activityType, id, 'cancelRequested', new CancelledFailure('Local Activity cancelled'));
      if (this.dropUnsent('scheduleLocalActivity', seq)) {
        MapPrototypeDelete(this.localActivities, seq);
        activity.reject(cancelled);
        return;
      }
      if (cancellation !== 'WAIT_CANCELLATION_COMPLETED') {
        activity.settled = true;
        activity.reject(cancelled);
      }
    });
    return promise;
  }

  /**
   * `patched(patchId)` (or `deprecatePatch`, with `deprecated`), as Temporal answers it: true when
   * not replaying, or when history recorded the marker (a notifyHasPatch job); the first call per
   * id that answers true emits the marker. The answer is memoized per id for the run.
   */
  patch(patchId: string, deprecated: boolean): boolean {
    if (this.inQuery) throw new IllegalStateError('a query handler must not call patched or deprecatePatch: queries are read-only');
    const known = MapPrototypeGet(this.patchAnswers, patchId);
    if (known !== undefined) return known;
    const use = !this.isReplaying || MapPrototypeHas(this.notifiedPatches, patchId);
    MapPrototypeSet(this.patchAnswers, patchId, use);
    if (use) {
      this.push({ type: 'setPatchMarker', patchId, deprecated });
      if (this.isReplaying && this.flags.core(CoreFlag.UpsertSearchAttributeOnPatch)) this.push({ type: 'upsertSearchAttributes', searchAttributes: this.changeVersion() });
    }
    return use;
  }

  /** Temporal's TemporalChangeVersion upsert (core flag 2): every patch id the run marked, sorted. */
  private changeVersion(): SearchAttributeUpserts {
    const ids = list<string>();
    mapForEach(this.patchAnswers, (use, id) => {
      if (use) append(ids, id);
    });
    // Insertion sort: few ids, and no reliance on the shared Array.prototype.sort.
    for (let i = 1; i < ids.length; i++) {
      const id = ids[i];
      let j = i - 1;
      for (; j >= 0 && ids[j] > id; j--) ids[j + 1] = ids[j];
      ids[j + 1] = id;
    }
    return record({ TemporalChangeVersion: record({ type: 'KEYWORD_LIST' as const, value: ids }) });
  }

  /** Buffers a sink call for the completion (see proxySinks); `args` are a JSON copy already. */
  sinkCall(ifaceName: string, fnName: string, args: Payload[]): void {
    if (this.inQuery) return; // a query makes no completion: nothing to hand its sink calls to
    if (this.sinkCalls.length >= MAX_SINK_CALLS_PER_ACTIVATION) {
      throw new IllegalStateError(`an activation may make at most ${MAX_SINK_CALLS_PER_ACTIVATION} sink calls`);
    }
    append(this.sinkCalls, record({ ifaceName, fnName, args, isReplaying: this.isReplaying }));
  }

  private takeSinkCalls(): SinkCall[] {
    const calls = this.sinkCalls;
    if (calls.length === 0) return NONE;
    this.sinkCalls = list();
    return calls;
  }

  /** A condition in `scope`: cancelling the scope drops it and rejects its promise. */
  condition(fn: () => boolean, scope: CancellationScope = this.rootScope): { seq: number; promise: Promise<void> } {
    const seq = ++this.seq.condition;
    const failure = cancelledFailureOf(scope);
    if (failure !== undefined) return { seq, promise: rejected(failure) };
    let condition!: Condition;
    const promise = new Promise<void>((resolve, reject) => {
      condition = record({ fn, resolve, reject, unlink: noop });
    });
    MapPrototypeSet(this.conditions, seq, condition);
    condition.unlink = link(scope, (cancelled) => {
      if (MapPrototypeDelete(this.conditions, seq)) condition.reject(cancelled);
    });
    return { seq, promise };
  }

  dropCondition(seq: number): void {
    const condition = MapPrototypeGet(this.conditions, seq);
    if (condition === undefined) return;
    MapPrototypeDelete(this.conditions, seq);
    condition.unlink();
  }

  // ── child workflows and external workflows ──────────────────────────────────────────────────

  /**
   * Starts a child workflow. `started` resolves with its run id; `result` settles when it closes
   * (and rejects when the start does; never an unhandled rejection by itself). Cancelling `scope`
   * cancels it as `cancellation` says.
   */
  startChild(
    fields: ChildWorkflowFields,
    cancellation: ChildCancellation,
    scope: CancellationScope,
    seq: number = ++this.seq.childWorkflow,
  ): { started: Promise<string>; result: Promise<unknown> } {
    const failure = cancelledFailureOf(scope);
    if (failure !== undefined) {
      const result = rejected<unknown>(failure);
      PromisePrototypeThen(result, undefined, noop);
      return { started: rejected(failure), result };
    }
    this.push({ type: 'startChildWorkflow', seq, ...fields });
    const started = record({}) as Resolver;
    const finished = record({}) as Resolver;
    const startedPromise = new Promise<string>((resolve, reject) => {
      started.resolve = resolve as (value: unknown) => void;
      started.reject = reject;
    });
    const result = new Promise<unknown>((resolve, reject) => {
      finished.resolve = resolve;
      finished.reject = reject;
    });
    PromisePrototypeThen(result, undefined, noop);
    const child: PendingChild = record({
      seq,
      workflowId: fields.workflowId,
      workflowType: fields.workflowType,
      runId: undefined,
      started,
      result: finished,
      resultSettled: false,
      cancelPending: false,
      cancellationType: cancellation,
      unlink: noop,
    });
    MapPrototypeSet(this.children, seq, child);
    child.unlink = link(scope, (cancelled) => {
      if (MapPrototypeGet(this.children, seq) !== child) return;
      if (child.runId !== undefined) {
        this.cancelStartedChild(child);
      } else if (this.dropUnsent('startChildWorkflow', seq)) {
        MapPrototypeDelete(this.children, seq);
        child.started.reject(cancelled);
        child.result.reject(cancelled);
      } else {
        child.cancelPending = true;
      }
    });
    return { started: startedPromise, result };
  }

  /** A started child's scope was cancelled: what its cancellation type says to do. */
  private cancelStartedChild(child: PendingChild): void {
    if (child.resultSettled) return;
    const reject = () => {
      if (child.resultSettled) return;
      child.resultSettled = true;
      const execution = record({ workflowId: child.workflowId, runId: child.runId });
      child.result.reject(new ChildWorkflowFailure('default', execution, child.workflowType, 'cancelRequested', new CancelledFailure('Child Workflow execution cancelled')));
    };
    const type = child.cancellationType;
    if (type === 'ABANDON') {
      reject();
      return;
    }
    const target: CancelExternalFields = record({ workflowId: child.workflowId, runId: child.runId, childWorkflowOnly: true });
    this.requestCancel(target, (failure) => {
      if (type === 'WAIT_CANCELLATION_REQUESTED' && failure === undefined) reject();
    });
    if (type === 'TRY_CANCEL') reject();
  }

  /** Emits requestCancelExternalWorkflow for a child; `settle` gets its resolution. */
  private requestCancel(fields: CancelExternalFields, settle: (failure: WireFailure | undefined) => void): void {
    const seq = ++this.seq.cancelExternal;
    this.push({ type: 'requestCancelExternalWorkflow', seq, ...fields });
    MapPrototypeSet(this.cancelsOut, seq, record({ settle, unlink: noop }));
  }

  /**
   * Signals another workflow (or a child). Resolves once delivered; rejects with the failure when
   * it could not be, or with the scope's CancelledFailure when the scope is cancelled before the
   * command was sent.
   */
  signalExternal(fields: SignalExternalFields, scope: CancellationScope, seq: number = ++this.seq.signalExternal): Promise<void> {
    const failure = cancelledFailureOf(scope);
    if (failure !== undefined) return rejected(failure);
    this.push({ type: 'signalExternalWorkflow', seq, ...fields });
    return this.awaitExternal(this.signalsOut, seq, scope, 'signalExternalWorkflow');
  }

  /** Asks another workflow to cancel; resolves once the request is recorded by its target. */
  cancelExternal(fields: CancelExternalFields, scope: CancellationScope): Promise<void> {
    const seq = ++this.seq.cancelExternal;
    const failure = cancelledFailureOf(scope);
    if (failure !== undefined) return rejected(failure);
    this.push({ type: 'requestCancelExternalWorkflow', seq, ...fields });
    return this.awaitExternal(this.cancelsOut, seq, scope, 'requestCancelExternalWorkflow');
  }

  /** The promise of an external signal or cancel request just emitted: settled by its resolution job. */
  private awaitExternal(
    map: Map<number, PendingExternal>,
    seq: number,
    scope: CancellationScope,
    type: 'signalExternalWorkflow' | 'requestCancelExternalWorkflow',
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const entry: PendingExternal = record({
        settle: (failure: WireFailure | undefined) => (failure === undefined ? resolve() : reject(failureToError(failure))),
        unlink: noop,
      });
      MapPrototypeSet(map, seq, entry);
      entry.unlink = link(scope, (cancelled) => {
        if (this.dropUnsent(type, seq)) {
          MapPrototypeDelete(map, seq);
          reject(cancelled);
        }
      });
    });
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
    if (logs.length === 0 && volume.droppedLines === 0) return NONE;
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
    if (isContinueAsNew(error)) this.continueAsNew(error);
    else if (isTemporalFailure(error)) this.completeWith({ type: 'failWorkflow', failure: wireFailure(error) });
    else this.failTask(error);
  }

  /** A ContinueAsNew escaped: the run closes with its command (continue-as-new.ts). */
  private continueAsNew(error: unknown): void {
    let command: Command;
    try {
      command = continueAsNewCommandOf(error);
    } catch (bug) {
      this.failTask(bug);
      return;
    }
    if (!this.closed) this.push(command);
  }

  /**
   * The main function rejected: a cancellation after the workflow was asked to cancel closes the
   * run cancelled; any other failure fails it; anything else fails the task.
   */
  private mainRejected(error: unknown): void {
    if (isCancellation(error) && this.rootScope.consideredCancelled) this.completeWith({ type: 'cancelWorkflow' });
    else this.handleUserError(error);
  }

  /** Closes the run with `command`, unless it is closed already (the first closing command wins). */
  private completeWith(command: Extract<Command, { type: 'completeWorkflow' | 'failWorkflow' | 'cancelWorkflow' }>): void {
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
      // see the signals delivered later in this same activation. It starts in the root scope.
      let main: unknown;
      try {
        main = runInContext(undefined, () =>
          hasInterceptors()
            ? interceptInbound('execute', record({ args: job.args, headers: emptyHeaders() }), (input) => asPromise(() => ReflectApply(fn, undefined, input.args)))
            : ReflectApply(fn, undefined, job.args),
        );
      } catch (error) {
        main = rejected(error);
      }
      whenSettled(
        main,
        (result) => this.completeWith(result === undefined ? { type: 'completeWorkflow' } : { type: 'completeWorkflow', result }),
        (error) => this.mainRejected(error),
      );
    },
    signalWorkflow: (job: Extract<ActivationJob, { type: 'signalWorkflow' }>) => {
      const handler = MapPrototypeGet(this.signalHandlers, job.signalName);
      if (handler) this.invokeSignal(handler, job.args, job.signalName);
      else if (this.messages.defaultSignal !== undefined) this.invokeDefaultSignal(job.signalName, job.args);
      else append(this.bufferedSignals, record({ signalName: job.signalName, args: job.args }));
    },
    cancelWorkflow: (job: Extract<ActivationJob, { type: 'cancelWorkflow' }>) => {
      const reason = own(job, 'reason');
      const details = list<Payload>();
      if (typeof reason === 'string') append(details, reason);
      cancelRoot(this.rootScope, new CancelledFailure('Workflow cancelled', details));
    },
    fireTimer: (job: Extract<ActivationJob, { type: 'fireTimer' }>) => {
      const timer = MapPrototypeGet(this.timers, job.seq);
      if (!timer) throw new IllegalStateError(`history fired timer ${job.seq}, which this workflow does not have pending`);
      MapPrototypeDelete(this.timers, job.seq);
      timer.unlink();
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
      activity.unlink();
      // Rejected already when its scope was cancelled (TRY_CANCEL, ABANDON): the outcome is ignored.
      if (activity.settled) return;
      const result = job.result;
      if (result.status === 'completed') activity.resolve(own(result, 'result'));
      else activity.reject(failureToError(result.failure));
    },
    resolveChildWorkflowStart: (job: Extract<ActivationJob, { type: 'resolveChildWorkflowStart' }>) => {
      const child = MapPrototypeGet(this.children, job.seq);
      if (!child || child.runId !== undefined) {
        throw new IllegalStateError(`history resolved the start of child workflow ${job.seq}, which this workflow is not starting`);
      }
      const result = job.result;
      if (result.status === 'started') {
        child.runId = result.runId;
        child.started.resolve(result.runId);
        if (child.cancelPending) this.cancelStartedChild(child);
        return;
      }
      MapPrototypeDelete(this.children, job.seq);
      child.unlink();
      const message = own(result.failure, 'message');
      const error = new WorkflowExecutionAlreadyStartedError(
        typeof message === 'string' ? message : 'Workflow execution already started',
        child.workflowId,
        child.workflowType,
      );
      child.started.reject(error);
      child.result.reject(error);
    },
    resolveChildWorkflow: (job: Extract<ActivationJob, { type: 'resolveChildWorkflow' }>) => {
      const child = MapPrototypeGet(this.children, job.seq);
      if (!child || child.runId === undefined) {
        throw new IllegalStateError(`history closed child workflow ${job.seq}, which this workflow does not have running`);
      }
      MapPrototypeDelete(this.children, job.seq);
      child.unlink();
      if (child.resultSettled) return;
      child.resultSettled = true;
      const result = job.result;
      if (result.status === 'completed') child.result.resolve(own(result, 'result'));
      else child.result.reject(failureToError(result.failure));
    },
    resolveSignalExternalWorkflow: (job: Extract<ActivationJob, { type: 'resolveSignalExternalWorkflow' }>) => {
      this.settleExternal(this.signalsOut, job.seq, own(job, 'failure') as WireFailure | undefined, 'signal');
    },
    resolveRequestCancelExternalWorkflow: (job: Extract<ActivationJob, { type: 'resolveRequestCancelExternalWorkflow' }>) => {
      this.settleExternal(this.cancelsOut, job.seq, own(job, 'failure') as WireFailure | undefined, 'cancel request');
    },
    updateRandomSeed: (job: Extract<ActivationJob, { type: 'updateRandomSeed' }>) => {
      if (typeof job.randomnessSeed !== 'string' || job.randomnessSeed === '') {
        throw new IllegalStateError('updateRandomSeed: expected a non-empty randomnessSeed string');
      }
      this.prng = alea(job.randomnessSeed);
    },
    notifyHasPatch: (job: Extract<ActivationJob, { type: 'notifyHasPatch' }>) => {
      MapPrototypeSet(this.notifiedPatches, job.patchId, true);
    },
    doUpdate: (job: Extract<ActivationJob, { type: 'doUpdate' }>) => {
      this.messages.doUpdate(job);
    },
    resolveLocalActivity: (job: Extract<ActivationJob, { type: 'resolveLocalActivity' }>) => {
      const activity = MapPrototypeGet(this.localActivities, job.seq);
      if (!activity) throw new IllegalStateError(`history resolved local activity ${job.seq}, which this workflow does not have pending`);
      MapPrototypeDelete(this.localActivities, job.seq);
      activity.unlink();
      if (activity.settled) return;
      const result = job.result;
      if (result.status === 'completed') activity.resolve(own(result, 'result'));
      else activity.reject(failureToError(result.failure));
    },
  });

  private settleExternal(map: Map<number, PendingExternal>, seq: number, failure: WireFailure | undefined, what: string): void {
    const pending = MapPrototypeGet(map, seq);
    if (!pending) throw new IllegalStateError(`history resolved external ${what} ${seq}, which this workflow does not have pending`);
    MapPrototypeDelete(map, seq);
    pending.unlink();
    pending.settle(failure);
  }

  private invokeSignal(handler: SignalHandler, args: Payload[], signalName: string, isDefault = false): void {
    let r: unknown;
    try {
      // In the root scope, wherever setHandler was called.
      r = runInContext(undefined, () =>
        hasInterceptors()
          ? interceptInbound('handleSignal', record({ signalName, args, headers: emptyHeaders() }), (input) =>
              asPromise(() => {
                if (!isDefault) return ReflectApply(handler, undefined, input.args) as void;
                const withName = list<unknown>();
                append(withName, input.signalName);
                for (let i = 0; i < input.args.length; i++) append(withName, input.args[i]);
                return ReflectApply(handler, undefined, withName) as void;
              }),
            )
          : ReflectApply(handler, undefined, args),
      );
    } catch (error) {
      this.handleUserError(error);
      return;
    }
    // A handler's promise: its rejection is handled like a synchronous throw; it runs until it settles.
    this.messages.track(r, (error) => this.handleUserError(error));
  }

  /** A signal with no handler of its own, to the default signal handler: `(signalName, ...args)`. */
  private invokeDefaultSignal(signalName: string, args: Payload[]): void {
    if (hasInterceptors()) return this.invokeSignal(this.messages.defaultSignal!, args, signalName, true);
    const withName = list<Payload>();
    append(withName, signalName);
    for (let i = 0; i < args.length; i++) append(withName, args[i]);
    this.invokeSignal(this.messages.defaultSignal!, withName, signalName);
  }

  /** Called by setDefaultSignalHandler: every buffered signal goes to it now, in order. */
  flushBufferedSignalsToDefault(): void {
    while (this.bufferedSignals.length > 0 && this.messages.defaultSignal !== undefined) {
      const signal = removeAt(this.bufferedSignals, 0);
      this.invokeDefaultSignal(signal.signalName, signal.args);
    }
  }

  /** Called by setHandler: signals that arrived before their handler are delivered now, in order. */
  flushBufferedSignals(signalName: string): void {
    const handler = MapPrototypeGet(this.signalHandlers, signalName);
    if (!handler) return;
    for (let i = 0; i < this.bufferedSignals.length; ) {
      if (this.bufferedSignals[i].signalName === signalName) {
        const signal = removeAt(this.bufferedSignals, i);
        this.invokeSignal(handler, signal.args, signalName);
      } else i++;
    }
  }

  activate(activation: Activation): void {
    this.now = activation.timestamp;
    this.isReplaying = activation.isReplaying;
    this.flags.begin(activation);
    this.info.historyLength = activation.historyLength;
    this.info.historySize = activation.historySize;
    this.info.continueAsNewSuggested = activation.continueAsNewSuggested;
    // What a failed task left behind is dropped; an empty buffer is kept (no allocation per task).
    if (this.commands.length !== 0) this.commands = list();
    this.takeLogs();
    this.takeSinkCalls();
    this.taskFailure = undefined;
    this.conditionRounds = 0;
    const jobs = activation.jobs;
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i];
      // Signals run in the same batch as the other jobs (Temporal checks its flag 2 here).
      if (job.type === 'signalWorkflow' && !this.isReplaying) this.flags.lang(LangFlag.ProcessWorkflowActivationJobsAsSingleBatch);
      try {
        const handler = own(this.handlers, job.type) as ((j: ActivationJob) => void) | undefined;
        if (handler === undefined) throw new IllegalStateError(`unknown activation job type "${job.type}"`);
        handler(job);
      } catch (error) {
        this.failTask(error);
      }
    }
  }

  // ── replay in bulk (see RecordedActivations) ─────────────────────────────────────────────

  private recorded: Activation[] = list();
  private recordedNext = 0;
  /** The kept completions, as the JSON text `conclude` would have answered each with. */
  private recordedTexts: string[] = list();

  loadRecorded(message: RecordedActivations): void {
    this.recorded = message.activations;
    this.recordedNext = 0;
  }

  /**
   * The next recorded activation, its activity resolutions given the seq of the one pending
   * activity with the recorded activityId. Undefined when there is none left, or when a key names
   * no activity or several (the host then goes on one task at a time).
   */
  nextRecorded(): Activation | undefined {
    if (this.recordedNext >= this.recorded.length) return undefined;
    const activation = this.recorded[this.recordedNext];
    const jobs = activation.jobs;
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i];
      if (job.type !== 'resolveActivity') continue;
      const key = own(job, 'activityId');
      if (typeof key !== 'string') continue;
      // An activity without an activityId option has its seq as its id: look there first. The
      // host keys only histories whose open activity ids are unique, so a hit is the one.
      let seq = +key;
      let found = 1;
      const hit = MapPrototypeGet(this.activities, seq);
      if (hit === undefined || hit.activityId !== key) {
        found = 0;
        mapForEach(this.activities, (pending, s) => {
          if (pending.activityId === key) {
            seq = s;
            found++;
          }
        });
      }
      if (found !== 1) {
        this.recorded = list();
        return undefined;
      }
      job.seq = seq; // its activityId stays: the handler reads only the seq
    }
    this.recordedNext++;
    return activation;
  }

  keepRecorded(text: string): void {
    append(this.recordedTexts, text);
  }

  takeRecorded(): string {
    const texts = this.recordedTexts;
    this.recordedTexts = list();
    let out = '[';
    for (let i = 0; i < texts.length; i++) out += i === 0 ? texts[i] : ',' + texts[i];
    return out + ']';
  }

  /** Whether a `conclude` now would run workflow code (a condition's function) before it answers. */
  get conditionsPending(): boolean {
    return this.conditions.size !== 0;
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
          condition.unlink();
          condition.resolve();
          resolved = true;
        }
        return false;
      });
      if (resolved) return record({ again: true });
      // Nothing more will run in this activation: updates still without a handler are answered
      // (by the default update handler, whose continuations need another round, or rejected).
      if (this.messages.endOfActivation()) return record({ again: true });
    }
    const logs = this.takeLogs();
    const sinkCalls = this.takeSinkCalls();
    if (this.taskFailure !== undefined) return record({ ok: false, failure: this.taskFailure, logs, sinkCalls });
    const commands = this.commands;
    if (commands.length === 0) return record({ ok: true, commands: NONE, logs, sinkCalls } satisfies ActivationCompletion);
    this.commands = list();
    moveClosingCommandLast(commands);
    const usedFlags = this.flags.takeUsed();
    return usedFlags === undefined ? record({ ok: true, commands, logs, sinkCalls } satisfies ActivationCompletion) : record({ ok: true, commands, logs, sinkCalls, usedFlags } satisfies ActivationCompletion);
  }

  /** A failed completion for an error the runtime caught outside the activation's own handling. */
  failedCompletion(error: unknown): ActivationCompletion {
    this.failTask(error);
    return record({ ok: false, failure: this.taskFailure!, logs: this.takeLogs(), sinkCalls: this.takeSinkCalls() });
  }

  /** A query the inbound interceptors are answering (`handleQuery` is async): taken by `takeQuery`. */
  private pendingQuery: { settled: boolean; result: QueryResult | undefined } | undefined;

  /**
   * With inbound interceptors installed, a query goes through their `handleQuery` (async, as in
   * Temporal): this starts it and answers QUERY_PENDING; the host then calls `takeQuery` once the
   * isolate has run its microtasks. The handler itself must still answer synchronously.
   */
  startQuery(request: QueryRequest): QueryResult | typeof QUERY_PENDING {
    if (!hasInterceptors()) return this.query(request);
    const slot: { settled: boolean; result: QueryResult | undefined } = record({ settled: false, result: undefined });
    this.pendingQuery = slot;
    this.inQuery = true;
    const input: QueryInput = record({ queryId: '', queryName: request.queryType, args: request.args, headers: emptyHeaders() });
    const promise = asPromise(() =>
      interceptInbound('handleQuery', input, (given: QueryInput) =>
        asPromise(() => {
          const answer = this.callQueryHandler(given.queryName, given.args);
          if (!answer.ok) throw ApplicationFailure.create({ message: answer.failure.message, type: answer.failure.type, nonRetryable: true });
          return answer.result;
        }),
      ),
    );
    whenSettled(
      promise,
      (value) => {
        slot.settled = true;
        slot.result = (value === undefined ? record({ ok: true }) : record({ ok: true, result: value as Payload })) as QueryResult;
      },
      (error) => {
        slot.settled = true;
        slot.result = record({ ok: false, failure: wireFailure(error) });
      },
    );
    return QUERY_PENDING;
  }

  /** The answer of the query `startQuery` began; a failure when its interceptors are still waiting. */
  takeQuery(): QueryResult {
    const slot = this.pendingQuery;
    this.pendingQuery = undefined;
    this.inQuery = false;
    if (slot === undefined) throw new IllegalStateError('no query is pending');
    if (!slot.settled) {
      return record({
        ok: false,
        failure: record({
          kind: 'application',
          type: 'QueryNotSettled',
          message: 'the handleQuery interceptors did not settle: a query cannot wait for timers, activities or signals',
        }),
      });
    }
    return slot.result!;
  }

  query(request: QueryRequest): QueryResult {
    this.inQuery = true;
    try {
      const answer = this.callQueryHandler(request.queryType, request.args);
      if (!answer.ok) return record({ ok: false, failure: answer.failure });
      return answer.result === undefined ? record({ ok: true }) : record({ ok: true, result: answer.result as Payload });
    } catch (error) {
      return record({ ok: false, failure: wireFailure(error) });
    } finally {
      this.inQuery = false;
    }
  }

  /**
   * Runs the query's handler (or the default handler): its value, or the failure for a query with
   * no handler or a handler that returned a promise. What the handler throws propagates.
   */
  private callQueryHandler(queryType: string, given: readonly unknown[]): { ok: true; result: unknown } | { ok: false; failure: WireFailure } {
    let handler = MapPrototypeGet(this.queryHandlers, queryType) ?? builtinQuery(this, queryType);
    let args = given as Payload[];
    if (!handler && this.messages.defaultQuery !== undefined) {
      // The default query handler gets the query's name first.
      handler = this.messages.defaultQuery;
      args = list<Payload>();
      append(args, queryType);
      for (let i = 0; i < given.length; i++) append(args, given[i] as Payload);
    }
    if (!handler) {
      let known = '';
      mapForEach(this.queryHandlers, (_, name) => void (known += known === '' ? name : `, ${name}`));
      return record({
        ok: false,
        failure: record({
          kind: 'application',
          type: 'QueryNotFound',
          message: `workflow has no query handler for "${queryType}"; known queries: ${known || '(none)'}`,
        }),
      });
    }
    const result = ReflectApply(handler, undefined, args);
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      return record({
        ok: false,
        failure: record({ kind: 'application', type: 'TypeError', message: `query handler "${queryType}" returned a promise; query handlers must be synchronous` }),
      });
    }
    return record({ ok: true, result });
  }
}

let current: WorkflowState | undefined;

/** The execution's state; throws outside a workflow (e.g. when called on the host). */
/** The closing command (at most one: push drops the others) goes last, after those kept under core flag 3. */
function moveClosingCommandLast(commands: Command[]): void {
  for (let i = 0; i < commands.length - 1; i++) {
    if (isClosingCommand(commands[i])) {
      append(commands, removeAt(commands, i));
      return;
    }
  }
}

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
export function initialize(
  init: InitMessage,
  loadWorkflows: () => Record<string, unknown>,
  loadInterceptors?: () => { name: string; exports: Record<string, unknown> }[],
): InitResult {
  'use strict';
  try {
    if (current !== undefined) throw new IllegalStateError('__dejaInit called twice in one context');
    // The state exists before the module loads, so that top-level Date/Math.random are seeded.
    const holder: Record<string, unknown> = record({});
    current = new WorkflowState(init, holder);
    // Interceptors first, as Temporal does: their factories run before the workflows module loads.
    if (loadInterceptors !== undefined) installInterceptors(loadInterceptors());
    const mod = loadWorkflows();
    const keys = ObjectKeys(mod);
    for (let i = 0; i < keys.length; i++) put(holder, keys[i], mod[keys[i]]);
    return record({ ok: true });
  } catch (error) {
    return record({ ok: false, failure: wireFailure(error) });
  }
}
