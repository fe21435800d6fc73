/**
 * The checks of every WorkflowService request (host side), run at the service edge before the
 * engine sees the request: LocalWorkflowService calls them, and the engine takes only the checked,
 * copied values they return. The field checks themselves are validate.ts's (`edge`, `Edge`); this
 * file says which fields each request has and what is left out by default.
 */
import type { Command, Payload, RetryPolicy, SearchAttributes, WireFailure, WorkflowIdConflictPolicy } from '../../runtime/protocol';
import { parseCron } from '../cron';
import type { QueryAnswer } from '../backends/store';
import { describe, InvalidArgumentError } from '../errors';
import type { ActivityRef, ExecutionRef, WorkflowIdReusePolicy, WorkflowStatus } from '../service';
import type { Limits } from './limits';
import type { SdkMetadata } from '../history/schema';
import { compact } from './op';
import { edge, type Edge } from './validate';
import type { ListQuery } from '../visibility/ast';
import { parseListQuery } from '../visibility/parse';
import { readPageToken } from './visibility';

export const DEFAULT_WORKFLOW_TASK_TIMEOUT_MS = 10_000;

export interface StartRequest {
  workflowId: string;
  workflowType: string;
  taskQueue: string;
  args: Payload[];
  policy: WorkflowIdReusePolicy;
  /** Absent: 'fail'. */
  conflictPolicy?: WorkflowIdConflictPolicy;
  workflowTaskTimeoutMs: number;
  workflowExecutionTimeoutMs?: number;
  workflowRunTimeoutMs?: number;
  retryPolicy?: RetryPolicy;
  /** Checked (parseCron) at the edge. */
  cronSchedule?: string;
  startDelayMs?: number;
  memo?: Record<string, Payload>;
  searchAttributes?: SearchAttributes;
  identity?: string;
}

export interface SignalRequest {
  ref: ExecutionRef;
  signalName: string;
  args: Payload[];
  identity?: string;
}

export interface SignalWithStartRequest {
  start: StartRequest;
  signalName: string;
  signalArgs: Payload[];
  identity?: string;
}

export interface CancelRequest {
  ref: ExecutionRef;
  reason?: string;
  identity?: string;
}

export interface TerminateRequest {
  ref: ExecutionRef;
  reason?: string;
  details?: Payload[];
  identity?: string;
}

export interface ListRequest {
  pageSize: number;
  afterRunId?: string;
  filter: { workflowId?: string; workflowType?: string; taskQueue?: string; status?: WorkflowStatus };
  /** The parsed `query` (lib/visibility/parse.ts). */
  query?: ListQuery;
}

export const DEFAULT_LIST_PAGE_SIZE = 100;
export const MAX_LIST_PAGE_SIZE = 1000;

export interface QueryRequest {
  ref: ExecutionRef;
  queryType: string;
  args: Payload[];
}

const START_KEYS = [
  'workflowId',
  'workflowType',
  'taskQueue',
  'args',
  'workflowIdReusePolicy',
  'workflowIdConflictPolicy',
  'workflowTaskTimeoutMs',
  'workflowExecutionTimeoutMs',
  'workflowRunTimeoutMs',
  'retryPolicy',
  'cronSchedule',
  'startDelayMs',
  'memo',
  'searchAttributes',
  'identity',
];

export function checkStart(limits: Limits, request: unknown): StartRequest {
  return edge('startWorkflow', limits, (e) => {
    const r = e.record('the request', request);
    e.knownKeys(r, START_KEYS);
    return startFields(e, r);
  });
}

function startFields(e: Edge, r: Record<string, unknown>): StartRequest {
  // One literal, no `{ ...checked, more }`: on Node 20 each member added after a leading spread
  // costs about a microsecond. The fields are still checked in this order.
  const workflowId = e.string('workflowId', r.workflowId);
  const workflowType = e.string('workflowType', r.workflowType);
  const taskQueue = e.string('taskQueue', r.taskQueue);
  const args = e.args('args', r.args);
  const policy =
    r.workflowIdReusePolicy === undefined
      ? ('allowDuplicate' as WorkflowIdReusePolicy)
      : e.oneOf<WorkflowIdReusePolicy>('workflowIdReusePolicy', r.workflowIdReusePolicy, ['allowDuplicate', 'allowDuplicateFailedOnly', 'rejectDuplicate']);
  const workflowTaskTimeoutMs = e.optionalInt('workflowTaskTimeoutMs', r.workflowTaskTimeoutMs, 1) ?? DEFAULT_WORKFLOW_TASK_TIMEOUT_MS;
  const cronSchedule = e.optionalString('cronSchedule', r.cronSchedule);
  if (cronSchedule !== undefined) parseCron(`${e.where}: cronSchedule`, cronSchedule);
  const startDelayMs = e.optionalInt('startDelayMs', r.startDelayMs, 0);
  if (cronSchedule !== undefined && startDelayMs !== undefined) {
    throw new InvalidArgumentError(`${e.where}: startDelayMs cannot be combined with cronSchedule (the cron decides when each run starts)`);
  }
  return compact({
    workflowId,
    workflowType,
    taskQueue,
    args,
    policy,
    workflowTaskTimeoutMs,
    conflictPolicy:
      r.workflowIdConflictPolicy === undefined
        ? undefined
        : e.oneOf<WorkflowIdConflictPolicy>('workflowIdConflictPolicy', r.workflowIdConflictPolicy, ['fail', 'useExisting', 'terminateExisting']),
    workflowExecutionTimeoutMs: e.optionalInt('workflowExecutionTimeoutMs', r.workflowExecutionTimeoutMs, 1),
    workflowRunTimeoutMs: e.optionalInt('workflowRunTimeoutMs', r.workflowRunTimeoutMs, 1),
    retryPolicy: e.retryPolicy('retryPolicy', r.retryPolicy),
    cronSchedule,
    startDelayMs,
    memo: e.memo('memo', r.memo),
    searchAttributes: e.searchAttributes('searchAttributes', r.searchAttributes),
    identity: e.optionalString('identity', r.identity),
  });
}

export function checkSignalWithStart(limits: Limits, request: unknown): SignalWithStartRequest {
  return edge('signalWithStartWorkflow', limits, (e) => {
    const r = e.record('the request', request);
    e.knownKeys(r, [...START_KEYS, 'signalName', 'signalArgs']);
    return {
      start: startFields(e, r),
      signalName: e.string('signalName', r.signalName),
      signalArgs: e.args('signalArgs', r.signalArgs),
      identity: e.optionalString('identity', r.identity),
    };
  });
}

export function checkCancel(limits: Limits, request: unknown): CancelRequest {
  return edge('requestCancelWorkflow', limits, (e) => {
    const r = e.record('the request', request);
    e.knownKeys(r, ['workflowId', 'runId', 'reason', 'identity']);
    return compact({ ref: e.ref({ workflowId: r.workflowId, runId: r.runId }), reason: e.optionalString('reason', r.reason), identity: e.optionalString('identity', r.identity) });
  });
}

export function checkTerminate(limits: Limits, request: unknown): TerminateRequest {
  return edge('terminateWorkflow', limits, (e) => {
    const r = e.record('the request', request);
    e.knownKeys(r, ['workflowId', 'runId', 'reason', 'details', 'identity']);
    return compact({
      ref: e.ref({ workflowId: r.workflowId, runId: r.runId }),
      reason: e.optionalString('reason', r.reason),
      details: r.details === undefined ? undefined : e.args('details', r.details),
      identity: e.optionalString('identity', r.identity),
    });
  });
}

export function checkList(limits: Limits, request: unknown): ListRequest {
  const where = 'listWorkflows';
  return edge(where, limits, (e) => {
    const r = request === undefined ? {} : e.record('the request', request);
    e.knownKeys(r, ['pageSize', 'nextPageToken', 'query', 'workflowId', 'workflowType', 'taskQueue', 'status']);
    const pageSize = e.optionalInt('pageSize', r.pageSize, 1) ?? DEFAULT_LIST_PAGE_SIZE;
    if (pageSize > MAX_LIST_PAGE_SIZE) throw new InvalidArgumentError(`${where}: pageSize must be at most ${MAX_LIST_PAGE_SIZE}, got ${pageSize}`);
    const token = e.optionalString('nextPageToken', r.nextPageToken);
    const text = queryText(where, r.query);
    const query = text === undefined ? undefined : parseListQuery(where, text);
    const afterRunId = token === undefined ? undefined : readPageToken(where, token, query);
    const filter = compact({
      workflowId: e.optionalString('workflowId', r.workflowId),
      workflowType: e.optionalString('workflowType', r.workflowType),
      taskQueue: e.optionalString('taskQueue', r.taskQueue),
      status:
        r.status === undefined
          ? undefined
          : e.oneOf<WorkflowStatus>('status', r.status, ['running', 'completed', 'failed', 'cancelled', 'terminated', 'continuedAsNew', 'timedOut']),
    });
    return compact({ pageSize, afterRunId, filter, query });
  });
}

/** A list filter's text: a string (empty: every run), within the identifier limit's reach of any sane filter. */
function queryText(where: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidArgumentError(`${where}: query must be a string (Temporal's list filter), got ${describe(value)}`);
  if (value.length > MAX_QUERY_LENGTH) throw new InvalidArgumentError(`${where}: query must be at most ${MAX_QUERY_LENGTH} characters, got ${value.length}`);
  return value;
}
const MAX_QUERY_LENGTH = 64 * 1024;

/** countWorkflows: the filter, parsed; an ORDER BY is refused (a count has no order). */
export function checkCount(limits: Limits, request: unknown): ListQuery | undefined {
  const where = 'countWorkflows';
  return edge(where, limits, (e) => {
    const r = request === undefined ? {} : e.record('the request', request);
    e.knownKeys(r, ['query']);
    const text = queryText(where, r.query);
    if (text === undefined) return undefined;
    const query = parseListQuery(where, text);
    if (query.orderBy !== undefined) throw new InvalidArgumentError(`${where}: query: a count takes no ORDER BY (got ${JSON.stringify(text)})`);
    return query;
  });
}

export function checkActivityRef(limits: Limits, ref: unknown): ActivityRef {
  return edge('activityTaskToken', limits, (e) => {
    const r = e.record('the activity', ref);
    e.knownKeys(r, ['workflowId', 'runId', 'activityId'], 'the activity');
    return compact({ workflowId: e.string('workflowId', r.workflowId), runId: e.optionalString('runId', r.runId), activityId: e.string('activityId', r.activityId) });
  });
}

export function checkSignal(limits: Limits, request: unknown): SignalRequest {
  return edge('signalWorkflow', limits, (e) => {
    const r = e.record('the request', request);
    e.knownKeys(r, ['workflowId', 'runId', 'signalName', 'args', 'identity']);
    return {
      ref: e.ref({ workflowId: r.workflowId, runId: r.runId }),
      signalName: e.string('signalName', r.signalName),
      args: e.args('args', r.args),
      identity: e.optionalString('identity', r.identity),
    };
  });
}

export function checkQuery(limits: Limits, request: unknown): QueryRequest {
  return edge('queryWorkflow', limits, (e) => {
    const r = e.record('the request', request);
    e.knownKeys(r, ['workflowId', 'runId', 'queryType', 'args']);
    return { ref: e.ref({ workflowId: r.workflowId, runId: r.runId }), queryType: e.string('queryType', r.queryType), args: e.args('args', r.args) };
  });
}

export function checkRef(where: string, limits: Limits, ref: unknown): ExecutionRef {
  return edge(where, limits, (e) => e.ref(ref));
}

export function checkGetHistory(limits: Limits, ref: unknown, afterEventId: unknown): { ref: ExecutionRef; after: number | undefined } {
  return edge('getHistory', limits, (e) => ({ ref: e.ref(ref), after: e.optionalInt('afterEventId', afterEventId, 0) }));
}

/** A task queue and a worker identity, as a poll gives them. */
export function checkPoll(where: string, limits: Limits, taskQueue: unknown, identity: unknown): { queue: string; who: string } {
  return edge(where, limits, (e) => ({ queue: e.string('taskQueue', taskQueue), who: e.string('identity', identity) }));
}

export function checkToken(where: string, limits: Limits, taskToken: unknown): string {
  return edge(where, limits, (e) => e.string('taskToken', taskToken));
}

/** A completion's commands (after its token was checked: a bad command fails the task). */
export function checkCommands(where: string, limits: Limits, commands: unknown): Command[] {
  return edge(where, limits, (e) => e.commands(commands));
}

/** A completion's sdkMetadata: the SDK flags the task used first (see lib/replay/flags.ts). */
export function checkSdkMetadata(where: string, limits: Limits, sdkMetadata: unknown): SdkMetadata | undefined {
  return edge(where, limits, (e) => e.sdkMetadata('sdkMetadata', sdkMetadata));
}

export function checkFailWorkflowTask(limits: Limits, taskToken: unknown, cause: unknown, failure: unknown): { token: string; cause: string; failure: WireFailure } {
  return edge('failWorkflowTask', limits, (e) => ({
    token: e.string('taskToken', taskToken),
    cause: e.string('cause', cause),
    failure: e.failure('failure', failure),
  }));
}

export function checkQueryAnswer(limits: Limits, taskToken: unknown, answer: unknown): { token: string; answer: QueryAnswer } {
  const where = 'respondQueryTask';
  return edge(where, limits, (e) => {
    const token = e.string('taskToken', taskToken);
    const a = e.record('answer', answer);
    if (a.ok === true) {
      e.knownKeys(a, ['ok', 'result'], 'answer');
      return { token, answer: compact({ ok: true as const, result: e.payload('answer.result', a.result) }) };
    }
    if (a.ok === false) {
      e.knownKeys(a, ['ok', 'failure'], 'answer');
      return { token, answer: { ok: false as const, failure: e.failure('answer.failure', a.failure) } };
    }
    throw new InvalidArgumentError(`${where}: answer.ok must be true or false, got ${describe(a.ok)}`);
  });
}

export function checkActivityResult(limits: Limits, taskToken: unknown, result: unknown): { token: string; result: Payload } {
  return edge('completeActivityTask', limits, (e) => ({ token: e.string('taskToken', taskToken), result: e.payload('result', result) }));
}

export function checkActivityFailure(limits: Limits, taskToken: unknown, failure: unknown): { token: string; failure: WireFailure } {
  return edge('failActivityTask', limits, (e) => ({ token: e.string('taskToken', taskToken), failure: e.failure('failure', failure) }));
}

export function checkHeartbeat(limits: Limits, taskToken: unknown, details: unknown): { token: string; details: Payload } {
  return edge('heartbeatActivityTask', limits, (e) => ({ token: e.string('taskToken', taskToken), details: e.payload('details', details) }));
}
