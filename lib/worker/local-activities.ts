/**
 * Local activities in the worker (host side). A live activation that emits scheduleLocalActivity
 * commands is followed, within the same workflow task, by: running each of them here with the
 * worker's activity functions (retried locally), then a follow-up activation of the same task
 * (the same time; one resolveLocalActivity job each), repeated while new ones appear. The task's
 * completion is then one: every activation's commands in order, each scheduleLocalActivity with
 * its `outcome`, which the service records as a localActivityMarkerRecorded event. Replay reads
 * the outcome from that marker and never calls the activity again.
 *
 * Time: an attempt ends at its startToCloseTimeout, all attempts at the scheduleToCloseTimeout,
 * and everything within what is left of the workflow task's lease, less a margin
 * (LOCAL_ACTIVITY_LEASE_MARGIN): the task must be completed before the service hands it to
 * another worker. An attempt cut short by the lease fails with a startToClose TimeoutFailure whose
 * message says so, and is not retried. deja does not extend the task's lease (Temporal's worker
 * heartbeats the task; deja does not), so a long local activity belongs in a plain activity.
 */
import { cancellationDetailsFor } from '../activity/cancellation-details';
import type { ActivationCompletion, ActivationJob, Command, LocalActivityOutcome, ScheduleLocalActivityCommand, WireFailure } from '../../runtime/protocol';
import { ApplicationFailure, CancelledFailure, errorToFailure } from '../../runtime/failure';
import { Context, type ContextHooks, type Info } from '../activity';
import { toPlainJson } from '../activity/json';
import { checkWireFailure } from '../sandbox';
import { localActivityResolution } from '../replay';
import { unionFlags } from '../replay/flags';
import { MAX_TIMER_MS } from '../errors';
import { runActivityFunction, type ActivityInterceptorsFactory } from './interceptors';

/** The share of the workflow task's timeout kept free at its end: local activities stop before it. */
export const LOCAL_ACTIVITY_LEASE_MARGIN = 0.2;
/** Follow-up activations per workflow task; beyond, the task fails (a loop of local activities). */
export const MAX_LOCAL_ACTIVITY_ROUNDS = 100;

/** Temporal's default retry policy (for a local activity without one): 1 s, doubling, to 100 s, unlimited attempts. */
const DEFAULT_RETRY = { initialIntervalMs: 1000, backoffCoefficient: 2, maximumAttempts: 0 } as const;

export interface LocalActivityEnv {
  activities: Record<string, (...args: any[]) => unknown>;
  /** The worker's activity interceptor factories (lib/worker/interceptors.ts). */
  activityInterceptors?: ActivityInterceptorsFactory[];
  taskQueue: string;
  workflow: { workflowId: string; runId: string; workflowType: string };
  /** Date.now() by which every attempt must have ended: the task's lease, less the margin. */
  leaseDeadline: number;
  /** Aborts when the worker shuts down: the running attempt is cancelled and not retried. */
  shutdown: AbortSignal;
  log(level: string, message: string): void;
}

/** Whether a command is a local activity the worker has yet to run. */
function unrun(c: Command): c is ScheduleLocalActivityCommand {
  return c.type === 'scheduleLocalActivity' && c.outcome === undefined;
}

/** Whether a completion schedules local activities (then completeWithLocalActivities has work). */
export function hasUnrunLocalActivities(completion: ActivationCompletion): boolean {
  return completion.ok && completion.commands.some(unrun);
}

/**
 * Runs the local activities of a live task and its follow-up activations (see the module's
 * header); returns the task's one completion. `activate` runs a follow-up activation with these
 * jobs; `each` sees every follow-up's completion (for its sink calls).
 */
export async function completeWithLocalActivities(
  first: ActivationCompletion,
  activate: (jobs: ActivationJob[]) => Promise<ActivationCompletion>,
  each: (completion: ActivationCompletion) => void,
  env: LocalActivityEnv,
): Promise<ActivationCompletion> {
  if (!first.ok || !first.commands.some(unrun)) return first;
  const commands: Command[] = [];
  const logs = [...first.logs];
  let usedFlags = first.usedFlags;
  let latest: ActivationCompletion = first;
  for (let round = 1; latest.ok && latest.commands.some(unrun); round++) {
    if (round > MAX_LOCAL_ACTIVITY_ROUNDS) {
      return {
        ok: false,
        logs,
        failure: {
          kind: 'application',
          type: 'LocalActivityLoopError',
          message: `the workflow scheduled local activities in ${MAX_LOCAL_ACTIVITY_ROUNDS} follow-up activations of one workflow task; a loop of local activities must wait for something else (a timer, a signal) between rounds`,
        },
      };
    }
    const ran = await Promise.all(latest.commands.map(async (c) => (unrun(c) ? { ...c, outcome: await runLocalActivity(c, env) } : c)));
    const jobs: ActivationJob[] = [];
    for (let i = 0; i < ran.length; i++) {
      const c = ran[i];
      commands.push(c);
      if (unrun(latest.commands[i]) && c.type === 'scheduleLocalActivity' && c.outcome !== undefined) {
        jobs.push({ type: 'resolveLocalActivity', seq: c.seq, result: localActivityResolution(c, c.outcome) });
      }
    }
    latest = await activate(jobs);
    each(latest);
    logs.push(...latest.logs);
    if (latest.ok) usedFlags = unionFlags(usedFlags, latest.usedFlags);
    if (latest.ok && !latest.commands.some(unrun)) commands.push(...latest.commands);
  }
  if (!latest.ok) return { ok: false, failure: latest.failure, logs };
  return usedFlags === undefined ? { ok: true, commands, logs } : { ok: true, commands, logs, usedFlags };
}

/** Runs one local activity to its outcome: attempts, retries with backoff, timeouts. */
export async function runLocalActivity(c: ScheduleLocalActivityCommand, env: LocalActivityEnv): Promise<LocalActivityOutcome> {
  const policy = c.retryPolicy ?? {};
  const initial = policy.initialIntervalMs ?? DEFAULT_RETRY.initialIntervalMs;
  const coefficient = policy.backoffCoefficient ?? DEFAULT_RETRY.backoffCoefficient;
  const maxInterval = policy.maximumIntervalMs ?? initial * 100;
  const maxAttempts = policy.maximumAttempts ?? DEFAULT_RETRY.maximumAttempts;
  const scheduledAt = Date.now();
  const closeBy = c.scheduleToCloseTimeoutMs !== undefined ? scheduledAt + c.scheduleToCloseTimeoutMs : Infinity;
  for (let attempt = 1; ; attempt++) {
    const startedAt = Date.now();
    const { failure, result, cut } = await runAttempt(c, env, attempt, scheduledAt, startedAt, closeBy);
    if (failure === undefined) return result === undefined ? { status: 'completed', attempt } : { status: 'completed', result, attempt };
    if (cut === 'scheduleToClose' || cut === 'lease' || cut === 'shutdown') return { status: 'failed', failure, attempt };
    if (failure.nonRetryable === true || (failure.type !== undefined && policy.nonRetryableErrorTypes?.includes(failure.type))) return { status: 'failed', failure, attempt };
    if (maxAttempts > 0 && attempt >= maxAttempts) return { status: 'failed', failure, attempt };
    const backoff = Math.min(maxInterval, initial * coefficient ** (attempt - 1));
    // No time left for another attempt after the backoff: the last failure stands.
    if (Date.now() + backoff >= Math.min(closeBy, env.leaseDeadline)) return { status: 'failed', failure, attempt };
    if (!(await pause(backoff, env.shutdown))) return { status: 'failed', failure, attempt };
  }
}

type Cut = 'startToClose' | 'scheduleToClose' | 'lease' | 'shutdown';

async function runAttempt(
  c: ScheduleLocalActivityCommand,
  env: LocalActivityEnv,
  attempt: number,
  scheduledAt: number,
  startedAt: number,
  closeBy: number,
): Promise<{ failure?: WireFailure; result?: unknown; cut?: Cut }> {
  const limits: [Cut, number][] = [
    ['startToClose', c.startToCloseTimeoutMs !== undefined ? startedAt + c.startToCloseTimeoutMs : Infinity],
    ['scheduleToClose', closeBy],
    ['lease', env.leaseDeadline],
  ];
  let [firstCut, deadline] = limits[0];
  for (const [cut, at] of limits) if (at < deadline) [firstCut, deadline] = [cut, at];
  const what = `local activity ${c.activityType} (${c.activityId})`;
  const cancel = new AbortController();
  let cutBy: Cut | undefined;
  let onCut!: (cut: Cut) => void;
  const cutShort = new Promise<Cut>((resolve) => (onCut = resolve));
  const stop = (cut: Cut) => {
    if (cutBy !== undefined) return;
    cutBy = cut;
    cancel.abort(new CancelledFailure(cut === 'shutdown' ? `${what} cancelled: the worker is shutting down` : `${what} cancelled: its ${cut === 'lease' ? "workflow task's lease" : cut + ' timeout'} ran out`));
    onCut(cut);
  };
  const timer = deadline === Infinity ? undefined : setTimeout(() => stop(firstCut), Math.min(MAX_TIMER_MS, Math.max(0, deadline - Date.now())));
  const onShutdown = () => stop('shutdown');
  if (env.shutdown.aborted) onShutdown();
  else env.shutdown.addEventListener('abort', onShutdown, { once: true });
  const hooks: ContextHooks = {
    cancellationDetails: () => (cutBy === undefined ? undefined : cancellationDetailsFor(cutBy === 'shutdown' ? 'shutdown' : cutBy === 'lease' ? 'request' : 'deadline')),
    heartbeat: () => undefined, // a local activity has no heartbeats to record (as in Temporal)
    log: (level, message) => env.log(level.toLowerCase(), `${what}: ${message}`),
  };
  const info: Info = {
    taskToken: '',
    base64TaskToken: '',
    activityId: c.activityId,
    activityType: c.activityType,
    workflowExecution: { workflowId: env.workflow.workflowId, runId: env.workflow.runId },
    workflowType: env.workflow.workflowType,
    workflowNamespace: 'default',
    activityNamespace: 'default',
    namespace: 'default',
    taskQueue: env.taskQueue,
    attempt,
    isLocal: true,
    inWorkflow: true,
    heartbeatDetails: undefined,
    startToCloseTimeoutMs: c.startToCloseTimeoutMs ?? 0,
    scheduleToCloseTimeoutMs: c.scheduleToCloseTimeoutMs ?? 0,
    scheduledTimestampMs: scheduledAt,
    currentAttemptScheduledTimestampMs: startedAt,
    startedTimestampMs: startedAt,
    workflowId: env.workflow.workflowId,
    runId: env.workflow.runId,
    ...(deadline !== Infinity ? { deadline } : {}),
  };
  try {
    const fn = env.activities[c.activityType];
    const running = (async () => {
      if (typeof fn !== 'function') {
        throw ApplicationFailure.nonRetryable(
          `activity type "${c.activityType}" is not registered on task queue "${env.taskQueue}"; registered: ${Object.keys(env.activities).join(', ') || '(none)'}`,
          'NotFoundError',
        );
      }
      return runActivityFunction(new Context(info, cancel.signal, hooks), env.activityInterceptors ?? [], fn, c.args);
    })();
    const settled = await Promise.race([
      running.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      cutShort.then((cut) => ({ cut })),
    ]);
    if ('cut' in settled || cutBy !== undefined) {
      running.catch(() => undefined);
      const cut = cutBy!;
      if (cut === 'shutdown') return { cut, failure: { kind: 'application', type: 'WorkerShutdown', message: `${what} was cancelled because the worker shut down` } };
      const timeoutType = cut === 'scheduleToClose' ? 'scheduleToClose' : 'startToClose';
      const message =
        cut === 'lease'
          ? `${what} timed out: the workflow task's lease would end (local activities must finish within the workflow task's timeout, less a margin)`
          : `${what} timed out (${cut} timeout)`;
      return { cut, failure: { kind: 'timeout', message, timeoutType } };
    }
    if ('error' in settled) return { failure: recordableFailure(settled.error, what) };
    const plain = toPlainJson(settled.value);
    if (!plain.ok) return { failure: { kind: 'application', type: 'PayloadError', nonRetryable: true, message: `${what} returned a value that deja cannot record: ${plain.problem}` } };
    return { result: plain.value };
  } finally {
    if (timer) clearTimeout(timer);
    env.shutdown.removeEventListener('abort', onShutdown);
  }
}

/** A failure as history can record it; one that cannot be becomes a non-retryable PayloadError. */
function recordableFailure(error: unknown, what: string): WireFailure {
  try {
    if (!(error instanceof Error)) {
      return { kind: 'application', type: 'Error', message: `${what} threw ${error === null || error === undefined ? String(error) : `a ${typeof error}`}, not an Error` };
    }
    const failure = checkWireFailure(errorToFailure(error));
    const plain = toPlainJson(failure);
    if (!plain.ok) throw new Error(plain.problem);
    return plain.value as WireFailure;
  } catch (problem) {
    return { kind: 'application', type: 'PayloadError', nonRetryable: true, message: `${what} threw an error that deja cannot record: ${problem instanceof Error ? problem.message : String(problem)}` };
  }
}

/** Waits `ms`; false when the worker shut down meanwhile. */
function pause(ms: number, shutdown: AbortSignal): Promise<boolean> {
  if (shutdown.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(true), Math.min(MAX_TIMER_MS, ms));
    const onAbort = () => done(false);
    shutdown.addEventListener('abort', onAbort, { once: true });
    function done(value: boolean) {
      clearTimeout(timer);
      shutdown.removeEventListener('abort', onAbort);
      resolve(value);
    }
  });
}
