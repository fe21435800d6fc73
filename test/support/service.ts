// Builders and helpers for tests that drive a WorkflowService by hand (host side): a manual clock,
// polls that return at once, and the commands a scripted fake worker sends.
import type { Clock } from '../../lib/engine';
import type { Command, ScheduleActivityCommand, WireFailure } from '../../runtime/protocol';

export const T0 = Date.UTC(2024, 0, 1);

/** A clock the test moves by hand (then calls the service's `tick()`). */
export class ManualClock implements Clock {
  constructor(public ms = T0) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export const failure = (message: string, over: Partial<WireFailure> = {}): WireFailure => ({ kind: 'application', message, ...over });

export const cmd = {
  activity: (seq: number, over: Partial<ScheduleActivityCommand> = {}): Command => ({
    type: 'scheduleActivity',
    seq,
    activityId: String(seq),
    activityType: 'work',
    args: [seq],
    startToCloseTimeoutMs: 5000,
    ...over,
  }),
  timer: (seq: number, ms: number): Command => ({ type: 'startTimer', seq, startToFireTimeoutMs: ms }),
  cancelTimer: (seq: number): Command => ({ type: 'cancelTimer', seq }),
  complete: (result?: unknown): Command => (result === undefined ? { type: 'completeWorkflow' } : { type: 'completeWorkflow', result }),
  fail: (message: string): Command => ({ type: 'failWorkflow', failure: failure(message) }),
  cancelActivity: (seq: number): Command => ({ type: 'requestCancelActivity', seq }),
  child: (seq: number, workflowId: string, over: Partial<Extract<Command, { type: 'startChildWorkflow' }>> = {}): Command => ({
    type: 'startChildWorkflow',
    seq,
    workflowId,
    workflowType: 'kid',
    args: [seq],
    parentClosePolicy: 'terminate',
    ...over,
  }),
  signalExternal: (seq: number, workflowId: string, over: Partial<Extract<Command, { type: 'signalExternalWorkflow' }>> = {}): Command => ({
    type: 'signalExternalWorkflow',
    seq,
    workflowId,
    signalName: 'poke',
    args: [seq],
    ...over,
  }),
  cancelExternal: (seq: number, workflowId: string, over: Partial<Extract<Command, { type: 'requestCancelExternalWorkflow' }>> = {}): Command => ({
    type: 'requestCancelExternalWorkflow',
    seq,
    workflowId,
    ...over,
  }),
  cancelled: (): Command => ({ type: 'cancelWorkflow' }),
};

/** Resolves with a task if one is claimable right now, else null: the memory store answers in microtasks. */
export async function pollNow<T>(poll: (signal: AbortSignal) => Promise<T | null>): Promise<T | null> {
  const ac = new AbortController();
  const timer = setImmediate(() => ac.abort());
  try {
    return await poll(ac.signal);
  } finally {
    clearImmediate(timer);
  }
}

/**
 * Waits (real time) for a task that the background loop is expected to produce. The guard timer
 * is ref'd: the loop's own timer is unref'd and would not keep the process alive.
 */
export async function pollWait<T>(poll: (signal: AbortSignal) => Promise<T | null>): Promise<T | null> {
  const ac = new AbortController();
  const guard = setTimeout(() => ac.abort(), 10_000);
  try {
    return await poll(ac.signal);
  } finally {
    clearTimeout(guard);
  }
}
