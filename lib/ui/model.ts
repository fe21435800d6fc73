/**
 * What `deja ui` draws, computed from a history (host side, pure: no I/O, no clock). `summarize`
 * gives a run's summary (status, result or failure with its cause chain, pending activities and
 * timers, parent, children, signals); `timeline` gives its lanes: one per activity, timer and
 * child, each with a bar from scheduled to closed (split where the closing attempt started), plus
 * marks (signals, updates, cancel requests, markers) and workflow tasks as ticks. The page only
 * draws these; it never interprets events itself.
 *
 * Queries are not drawn: neither deja's history nor Temporal's records them.
 */
import type { HistoryEvent } from '../history';
import type { WireFailure } from '../../runtime/protocol';

export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'continuedAsNew' | 'timedOut';

export interface FailureView {
  message: string;
  kind: string;
  type?: string;
  /** The failure and then each cause in turn, outermost first. */
  chain: { message: string; kind: string; type?: string; stack?: string }[];
}

export interface PendingActivity {
  activityId: string;
  activityType: string;
  scheduledEventId: number;
  scheduledTime: string;
  cancelRequested: boolean;
}

export interface PendingTimer {
  timerId: string;
  startedEventId: number;
  startedTime: string;
  fireTime: string;
}

export interface ChildView {
  workflowId: string;
  workflowType: string;
  runId?: string;
  status: 'starting' | 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timedOut' | 'startFailed';
  initiatedEventId: number;
}

export interface RunSummary {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  status: RunStatus;
  startTime: string;
  closeTime?: string;
  input: unknown[];
  result?: unknown;
  failure?: FailureView;
  /** A termination's reason, a continued-as-new run's successor. */
  reason?: string;
  newExecutionRunId?: string;
  parent?: { workflowId: string; runId: string };
  children: ChildView[];
  pendingActivities: PendingActivity[];
  pendingTimers: PendingTimer[];
  memo: Record<string, unknown>;
  searchAttributes: Record<string, unknown>;
  signals: { name: string; eventId: number; time: string }[];
  eventCount: number;
}

export type SegmentKind = 'waiting' | 'retrying' | 'running';

export interface Bar {
  /** Milliseconds since the epoch; `end` absent while it is open. */
  start: number;
  end?: number;
  segments: { kind: SegmentKind; start: number; end?: number }[];
  outcome: 'completed' | 'failed' | 'timedOut' | 'cancelled' | 'fired' | 'open' | 'terminated' | 'startFailed';
  /** The attempt that closed it (activities); attempts before it failed and were retried. */
  attempt?: number;
  /** Every event of this bar, in order. */
  eventIds: number[];
}

export interface Lane {
  kind: 'activity' | 'localActivity' | 'timer' | 'child';
  /** Unique in the timeline: `activity:5` (its scheduled event id). */
  id: string;
  label: string;
  bar: Bar;
}

export interface Mark {
  kind: 'signal' | 'update' | 'cancelRequest' | 'marker' | 'searchAttributes' | 'memo' | 'externalSignal' | 'externalCancel';
  time: number;
  label: string;
  eventId: number;
}

export interface Tick {
  time: number;
  eventId: number;
  outcome: 'completed' | 'failed' | 'timedOut' | 'open';
}

export interface Timeline {
  start: number;
  /** The last event's time (an open run's bars end there too). */
  end: number;
  lanes: Lane[];
  marks: Mark[];
  ticks: Tick[];
  /** The run's own end, when it has closed. */
  close?: { time: number; status: RunStatus; eventId: number };
}

/** A wire failure as the page shows it: the message, kind and type of each failure down its causes. */
export function failureView(failure: WireFailure): FailureView {
  const chain: FailureView['chain'] = [];
  const seen = new Set<WireFailure>();
  for (let f: WireFailure | undefined = failure; f !== undefined && !seen.has(f) && chain.length < 32; f = f.cause) {
    seen.add(f);
    chain.push({ message: String(f.message), kind: String(f.kind), ...(f.type !== undefined ? { type: String(f.type) } : {}), ...(f.stack !== undefined ? { stack: String(f.stack) } : {}) });
  }
  return { message: failure.message, kind: failure.kind, ...(failure.type !== undefined ? { type: failure.type } : {}), chain };
}

const CLOSE_STATUS: Partial<Record<HistoryEvent['type'], RunStatus>> = {
  workflowExecutionCompleted: 'completed',
  workflowExecutionFailed: 'failed',
  workflowExecutionCanceled: 'cancelled',
  workflowExecutionTerminated: 'terminated',
  workflowExecutionTimedOut: 'timedOut',
  workflowExecutionContinuedAsNew: 'continuedAsNew',
};

/** The summary of a run from its history alone. */
export function summarize(workflowId: string, runId: string, events: readonly HistoryEvent[]): RunSummary {
  const first = events[0];
  const started = first?.type === 'workflowExecutionStarted' ? first : undefined;
  const summary: RunSummary = {
    workflowId,
    runId,
    workflowType: started?.workflowType ?? '(unknown)',
    taskQueue: started?.taskQueue ?? '(unknown)',
    status: 'running',
    startTime: first?.eventTime ?? '',
    input: started ? [...started.input] : [],
    children: [],
    pendingActivities: [],
    pendingTimers: [],
    memo: { ...(started?.memo ?? {}) },
    searchAttributes: { ...(started?.searchAttributes ?? {}) },
    signals: [],
    eventCount: events.length,
  };
  if (started?.parent) summary.parent = { workflowId: started.parent.workflowId, runId: started.parent.runId };
  const activities = new Map<number, PendingActivity>();
  const timers = new Map<number, PendingTimer>();
  const children = new Map<number, ChildView>();
  for (const e of events) {
    const closing = CLOSE_STATUS[e.type];
    if (closing !== undefined) {
      summary.status = closing;
      summary.closeTime = e.eventTime;
    }
    switch (e.type) {
      case 'activityTaskScheduled':
        activities.set(e.eventId, { activityId: e.activityId, activityType: e.activityType, scheduledEventId: e.eventId, scheduledTime: e.eventTime, cancelRequested: false });
        break;
      case 'activityTaskCancelRequested': {
        const a = activities.get(e.scheduledEventId);
        if (a) a.cancelRequested = true;
        break;
      }
      case 'activityTaskCompleted':
      case 'activityTaskFailed':
      case 'activityTaskTimedOut':
      case 'activityTaskCanceled':
        activities.delete(e.scheduledEventId);
        break;
      case 'timerStarted':
        timers.set(e.eventId, { timerId: e.timerId, startedEventId: e.eventId, startedTime: e.eventTime, fireTime: new Date(Date.parse(e.eventTime) + e.startToFireTimeoutMs).toISOString() });
        break;
      case 'timerFired':
      case 'timerCanceled':
        timers.delete(e.startedEventId);
        break;
      case 'startChildWorkflowExecutionInitiated':
        children.set(e.eventId, { workflowId: e.workflowId, workflowType: e.workflowType, status: 'starting', initiatedEventId: e.eventId });
        break;
      case 'startChildWorkflowExecutionFailed':
        setChild(children, e.initiatedEventId, 'startFailed');
        break;
      case 'childWorkflowExecutionStarted':
        setChild(children, e.initiatedEventId, 'running', e.runId);
        break;
      case 'childWorkflowExecutionCompleted':
        setChild(children, e.initiatedEventId, 'completed', e.runId);
        break;
      case 'childWorkflowExecutionFailed':
        setChild(children, e.initiatedEventId, 'failed', e.runId);
        break;
      case 'childWorkflowExecutionCanceled':
        setChild(children, e.initiatedEventId, 'cancelled', e.runId);
        break;
      case 'childWorkflowExecutionTerminated':
        setChild(children, e.initiatedEventId, 'terminated', e.runId);
        break;
      case 'childWorkflowExecutionTimedOut':
        setChild(children, e.initiatedEventId, 'timedOut', e.runId);
        break;
      case 'workflowExecutionSignaled':
        summary.signals.push({ name: e.signalName, eventId: e.eventId, time: e.eventTime });
        break;
      case 'upsertWorkflowSearchAttributes':
        for (const [k, v] of Object.entries(e.searchAttributes)) {
          if (v === null) delete summary.searchAttributes[k];
          else summary.searchAttributes[k] = v;
        }
        break;
      case 'workflowPropertiesModified':
        for (const [k, v] of Object.entries(e.upsertedMemo)) {
          if (v === null) delete summary.memo[k];
          else summary.memo[k] = v;
        }
        break;
      case 'workflowExecutionCompleted':
        summary.result = e.result;
        if (e.newExecutionRunId !== undefined) summary.newExecutionRunId = e.newExecutionRunId;
        break;
      case 'workflowExecutionFailed':
        summary.failure = failureView(e.failure);
        if (e.newExecutionRunId !== undefined) summary.newExecutionRunId = e.newExecutionRunId;
        break;
      case 'workflowExecutionTerminated':
        if (e.reason !== undefined) summary.reason = e.reason;
        break;
      case 'workflowExecutionTimedOut':
        if (e.newExecutionRunId !== undefined) summary.newExecutionRunId = e.newExecutionRunId;
        break;
      case 'workflowExecutionContinuedAsNew':
        summary.newExecutionRunId = e.newExecutionRunId;
        break;
      default:
        break;
    }
  }
  summary.pendingActivities = [...activities.values()];
  summary.pendingTimers = [...timers.values()];
  summary.children = [...children.values()];
  return summary;
}

function setChild(children: Map<number, ChildView>, initiatedEventId: number, status: ChildView['status'], runId?: string): void {
  const child = children.get(initiatedEventId);
  if (!child) return;
  child.status = status;
  if (runId !== undefined) child.runId = runId;
}

const at = (e: HistoryEvent) => Date.parse(e.eventTime);

/** The lanes, marks and ticks of a run's history. */
export function timeline(events: readonly HistoryEvent[]): Timeline {
  const lanes: Lane[] = [];
  const marks: Mark[] = [];
  const ticks: Tick[] = [];
  const start = events.length > 0 ? at(events[0]!) : 0;
  const end = events.length > 0 ? Math.max(start, ...events.map(at)) : 0;
  const byKey = new Map<string, Lane>();
  const taskTicks = new Map<number, Tick>();
  let close: Timeline['close'];
  const lane = (kind: Lane['kind'], key: number, label: string, e: HistoryEvent, first: SegmentKind = 'waiting') => {
    const l: Lane = { kind, id: `${kind}:${key}`, label, bar: { start: at(e), segments: [{ kind: first, start: at(e) }], outcome: 'open', eventIds: [e.eventId] } };
    lanes.push(l);
    byKey.set(l.id, l);
    return l;
  };
  const closeBar = (id: string, e: HistoryEvent, outcome: Bar['outcome']) => {
    const l = byKey.get(id);
    if (!l) return;
    l.bar.end = at(e);
    l.bar.outcome = outcome;
    l.bar.eventIds.push(e.eventId);
    const last = l.bar.segments[l.bar.segments.length - 1]!;
    last.end = at(e);
  };
  for (const e of events) {
    const closing = CLOSE_STATUS[e.type];
    if (closing !== undefined) close = { time: at(e), status: closing, eventId: e.eventId };
    switch (e.type) {
      case 'workflowTaskScheduled': {
        const tick: Tick = { time: at(e), eventId: e.eventId, outcome: 'open' };
        taskTicks.set(e.eventId, tick);
        ticks.push(tick);
        break;
      }
      case 'workflowTaskCompleted':
      case 'workflowTaskFailed':
      case 'workflowTaskTimedOut': {
        const tick = taskTicks.get(e.scheduledEventId);
        if (tick) {
          tick.time = at(e);
          tick.eventId = e.eventId;
          tick.outcome = e.type === 'workflowTaskCompleted' ? 'completed' : e.type === 'workflowTaskFailed' ? 'failed' : 'timedOut';
        }
        break;
      }
      case 'activityTaskScheduled':
        lane('activity', e.eventId, `${e.activityType} (${e.activityId})`, e);
        break;
      case 'activityTaskStarted': {
        const l = byKey.get(`activity:${e.scheduledEventId}`);
        if (!l) break;
        const segs = l.bar.segments;
        // Attempts before this one failed and were retried: history records only the closing one.
        segs[0]!.kind = e.attempt > 1 ? 'retrying' : 'waiting';
        segs[0]!.end = at(e);
        segs.push({ kind: 'running', start: at(e) });
        l.bar.attempt = e.attempt;
        l.bar.eventIds.push(e.eventId);
        break;
      }
      case 'activityTaskCompleted':
        closeBar(`activity:${e.scheduledEventId}`, e, 'completed');
        break;
      case 'activityTaskFailed':
        closeBar(`activity:${e.scheduledEventId}`, e, 'failed');
        break;
      case 'activityTaskTimedOut':
        closeBar(`activity:${e.scheduledEventId}`, e, 'timedOut');
        break;
      case 'activityTaskCanceled':
        closeBar(`activity:${e.scheduledEventId}`, e, 'cancelled');
        break;
      case 'activityTaskCancelRequested':
        byKey.get(`activity:${e.scheduledEventId}`)?.bar.eventIds.push(e.eventId);
        break;
      case 'localActivityMarkerRecorded': {
        const l = lane('localActivity', e.eventId, `${e.activityType} (local ${e.activityId})`, e, 'running');
        l.bar.end = at(e);
        l.bar.segments[0]!.end = at(e);
        l.bar.attempt = e.attempt;
        l.bar.outcome = e.failure ? 'failed' : 'completed';
        break;
      }
      case 'timerStarted':
        lane('timer', e.eventId, `timer ${e.timerId} (${e.startToFireTimeoutMs} ms)`, e, 'running');
        break;
      case 'timerFired':
        closeBar(`timer:${e.startedEventId}`, e, 'fired');
        break;
      case 'timerCanceled':
        closeBar(`timer:${e.startedEventId}`, e, 'cancelled');
        break;
      case 'startChildWorkflowExecutionInitiated':
        lane('child', e.eventId, `child ${e.workflowType} (${e.workflowId})`, e);
        break;
      case 'childWorkflowExecutionStarted': {
        const l = byKey.get(`child:${e.initiatedEventId}`);
        if (!l) break;
        l.bar.segments[0]!.end = at(e);
        l.bar.segments.push({ kind: 'running', start: at(e) });
        l.bar.eventIds.push(e.eventId);
        break;
      }
      case 'startChildWorkflowExecutionFailed':
        closeBar(`child:${e.initiatedEventId}`, e, 'startFailed');
        break;
      case 'childWorkflowExecutionCompleted':
        closeBar(`child:${e.initiatedEventId}`, e, 'completed');
        break;
      case 'childWorkflowExecutionFailed':
        closeBar(`child:${e.initiatedEventId}`, e, 'failed');
        break;
      case 'childWorkflowExecutionCanceled':
        closeBar(`child:${e.initiatedEventId}`, e, 'cancelled');
        break;
      case 'childWorkflowExecutionTerminated':
        closeBar(`child:${e.initiatedEventId}`, e, 'terminated');
        break;
      case 'childWorkflowExecutionTimedOut':
        closeBar(`child:${e.initiatedEventId}`, e, 'timedOut');
        break;
      case 'workflowExecutionSignaled':
        marks.push({ kind: 'signal', time: at(e), label: `signal ${e.signalName}`, eventId: e.eventId });
        break;
      case 'workflowExecutionUpdateAccepted':
        marks.push({ kind: 'update', time: at(e), label: `update ${e.name} accepted`, eventId: e.eventId });
        break;
      case 'workflowExecutionUpdateCompleted':
        marks.push({ kind: 'update', time: at(e), label: `update ${e.updateId} ${e.failure ? 'failed' : 'completed'}`, eventId: e.eventId });
        break;
      case 'workflowExecutionCancelRequested':
        marks.push({ kind: 'cancelRequest', time: at(e), label: `cancel requested${e.cause ? `: ${e.cause}` : ''}`, eventId: e.eventId });
        break;
      case 'patchMarkerRecorded':
        marks.push({ kind: 'marker', time: at(e), label: `patch ${e.patchId}`, eventId: e.eventId });
        break;
      case 'upsertWorkflowSearchAttributes':
        marks.push({ kind: 'searchAttributes', time: at(e), label: 'search attributes set', eventId: e.eventId });
        break;
      case 'workflowPropertiesModified':
        marks.push({ kind: 'memo', time: at(e), label: 'memo set', eventId: e.eventId });
        break;
      case 'signalExternalWorkflowExecutionInitiated':
        marks.push({ kind: 'externalSignal', time: at(e), label: `signal ${e.signalName} to ${e.workflowId}`, eventId: e.eventId });
        break;
      case 'requestCancelExternalWorkflowExecutionInitiated':
        marks.push({ kind: 'externalCancel', time: at(e), label: `cancel ${e.workflowId}`, eventId: e.eventId });
        break;
      default:
        break;
    }
  }
  return { start, end, lanes, marks, ticks, ...(close ? { close } : {}) };
}
