/**
 * The `deja` commands that operate workflows through a WorkflowClient (host side): start, list,
 * describe, history, signal, query, cancel, terminate and result. Each opens the backend that
 * `--backend` (else DEJA_BACKEND, else the default) names, does one thing, and closes it. Human
 * output by default; `--json` prints exactly one JSON document on stdout.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { failureToError } from '../../runtime/failure';
import { Connection, WorkflowClient } from '../client';
import { howItEnded } from '../client/client';
import type { WorkflowExecutionDescription, WorkflowStatusName } from '../client/client';
import { DejaError, InvalidArgumentError, StoreError, assertNever } from '../errors';
import { serializeHistory, serializeTemporalHistory, writeHistoryFile, writeTemporalHistoryFile, type History, type HistoryEvent } from '../history';
import { QueryFailedError, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '../service-errors';
import {
  NotFoundError,
  ProblemError,
  UsageError,
  checkOutFile,
  countFlag,
  durationMs,
  jsonArgs,
  jsonLine,
  parse,
  positionalsOf,
  requiredFlag,
  stringFlag,
  truncate,
  type OptionSpec,
  type Out,
  type Parsed,
} from './common';

/** Every command here takes these. */
const COMMON: OptionSpec = {
  backend: { type: 'string' },
  json: { type: 'boolean' },
};
const RUN_ID: OptionSpec = { 'run-id': { type: 'string' } };

/** The status names `--status` takes, Temporal's; a status without one here fails to compile. */
const STATUSES = ['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'CONTINUED_AS_NEW', 'TIMED_OUT'] as const satisfies readonly WorkflowStatusName[];
type MissingStatus = Exclude<WorkflowStatusName, (typeof STATUSES)[number]>;
const allStatusesListed: MissingStatus extends never ? true : never = true;
void allStatusesListed;

const REUSE_POLICIES = ['ALLOW_DUPLICATE', 'ALLOW_DUPLICATE_FAILED_ONLY', 'REJECT_DUPLICATE'] as const;

/** Recorded on signals, cancel requests and terminations the CLI makes. */
const CLI_IDENTITY = `deja-cli:${process.pid}@${hostname()}`;

/** `deja list` shows this many runs unless `--limit` says otherwise. */
const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 100_000;

/** The backend as a message names it: the flag, DEJA_BACKEND, or the default. */
function backendLabel(values: Parsed['values']): string {
  const flag = stringFlag(values, 'backend');
  if (flag !== undefined) return `backend "${flag}"`;
  const env = process.env.DEJA_BACKEND;
  return env ? `backend "${env}" (from DEJA_BACKEND)` : 'the default backend';
}

/** Opens the backend, hands `fn` a client, closes the backend; a bad backend string is bad usage. */
export async function withClient<T>(command: string, values: Parsed['values'], fn: (client: WorkflowClient) => Promise<T>): Promise<T> {
  const backend = stringFlag(values, 'backend');
  let connection: Connection;
  try {
    connection = new Connection(backend === undefined ? undefined : { backend });
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new UsageError(`${command}: ${error.message.replace(/^Connection: /, '')}`, { cause: error });
    // A database that cannot be opened (a folder, read-only, not deja's, from a newer deja): bad usage too.
    if (error instanceof StoreError) throw new UsageError(`${command}: cannot open the backend: ${error.message}`, { cause: error });
    throw error;
  }
  try {
    return await fn(new WorkflowClient({ connection, identity: CLI_IDENTITY }));
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      const closed = /already closed/.test(error.message);
      throw new NotFoundError(
        `${command}: ${error.message} on ${backendLabel(values)}; ${closed ? 'expected a running workflow' : 'expected the id of an existing workflow ("deja list" shows them)'}`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    await connection.close();
  }
}

function usage(command: string, values: Parsed['values'], helpText: string, out: Out): boolean {
  if (values.help) out.log(helpText);
  return values.help === true;
}

// ── start ─────────────────────────────────────────────────────────────────────────────────────

export const START_HELP = `Usage: deja start <workflowType> --task-queue <queue> [options]

Starts a workflow and prints its workflow id and run id. It does not wait: see "deja result".

  --task-queue, -q <queue>   the task queue a worker polls (required)
  --workflow-id <id>         the workflow id (default: <workflowType>-<random uuid>)
  --args <json array>        the workflow's arguments, as a JSON array: '["Ann", 42]'
  --input-file <file>        the same, read from a file
  --id-reuse-policy <policy> ${REUSE_POLICIES.join(', ')}
  --backend <backend>        memory:<name> or sqlite:<file> (default: DEJA_BACKEND, else the default backend)
  --json                     print {"workflowId","runId","workflowType","taskQueue"}

Exit status: 0 started, 1 a run with this id is running or the reuse policy refused, 2 bad usage.`;

export async function startCommand(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse('start', args, {
    ...COMMON,
    'task-queue': { type: 'string', short: 'q' },
    'workflow-id': { type: 'string' },
    args: { type: 'string' },
    'input-file': { type: 'string' },
    'id-reuse-policy': { type: 'string' },
  });
  if (usage('start', values, START_HELP, out)) return 0;
  const [workflowType] = positionalsOf('start', positionals, ['workflowType']);
  const taskQueue = requiredFlag('start', values, 'task-queue', 'queue');
  const workflowArgs = jsonArgs('start', values, 'input-file');
  const workflowId = stringFlag(values, 'workflow-id') ?? `${workflowType}-${randomUUID()}`;
  const given = stringFlag(values, 'id-reuse-policy');
  const policy = given === undefined ? undefined : REUSE_POLICIES.find((p) => p === given.toUpperCase().replace(/-/g, '_').replace(/^WORKFLOW_ID_REUSE_POLICY_/, ''));
  if (given !== undefined && policy === undefined) {
    throw new UsageError(`start: unknown --id-reuse-policy ${JSON.stringify(given)}; expected one of ${REUSE_POLICIES.join(', ')}`);
  }
  return withClient('start', values, async (client) => {
    let handle;
    try {
      handle = await client.start(workflowType!, { taskQueue, workflowId, args: workflowArgs, ...(policy ? { workflowIdReusePolicy: policy } : {}) });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      throw new ProblemError(`start: ${error.message}; expected a workflow id with no running run, that the id-reuse policy lets run again`, { cause: error });
    }
    if (values.json) {
      out.log(jsonLine({ workflowId: handle.workflowId, runId: handle.runId, workflowType, taskQueue }));
    } else {
      out.log(`started ${workflowType} on task queue ${taskQueue}`);
      out.log(`workflow id  ${handle.workflowId}`);
      out.log(`run id       ${handle.runId}`);
    }
    return 0;
  });
}

// ── list ──────────────────────────────────────────────────────────────────────────────────────

export const LIST_HELP = `Usage: deja list [options]

Lists workflow runs, newest first (or in the query's ORDER BY), as a table.

  --query <filter>           Temporal's list filter, such as
                             "WorkflowType = 'order' AND ExecutionStatus = 'Running' ORDER BY StartTime DESC"
  --type <workflowType>      only runs of this workflow type
  --status <status>          only runs with this status: ${STATUSES.join(', ')}
  --workflow-id <id>         only runs of this workflow id
  --task-queue <queue>       only runs on this task queue
  --limit <n>                at most n runs (default ${DEFAULT_LIST_LIMIT})
  --backend <backend>        as for "deja start"
  --json                     print a JSON array of runs (each as "deja describe --json" prints it)

Exit status: 0 listed (even none), 2 bad usage.`;

export async function listCommand(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse('list', args, {
    ...COMMON,
    query: { type: 'string' },
    type: { type: 'string' },
    status: { type: 'string' },
    'workflow-id': { type: 'string' },
    'task-queue': { type: 'string' },
    limit: { type: 'string' },
  });
  if (usage('list', values, LIST_HELP, out)) return 0;
  positionalsOf('list', positionals, []);
  const limit = countFlag('list', 'limit', stringFlag(values, 'limit'), DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT);
  const givenStatus = stringFlag(values, 'status');
  const status = givenStatus === undefined ? undefined : STATUSES.find((s) => s === givenStatus.toUpperCase().replace(/-/g, '_'));
  if (givenStatus !== undefined && status === undefined) {
    throw new UsageError(`list: unknown status ${JSON.stringify(givenStatus)}; expected one of ${STATUSES.join(', ')}`);
  }
  const filters = {
    ...(stringFlag(values, 'type') !== undefined ? { workflowType: stringFlag(values, 'type') } : {}),
    ...(stringFlag(values, 'workflow-id') !== undefined ? { workflowId: stringFlag(values, 'workflow-id') } : {}),
    ...(stringFlag(values, 'task-queue') !== undefined ? { taskQueue: stringFlag(values, 'task-queue') } : {}),
    ...(status !== undefined ? { status } : {}),
    ...(stringFlag(values, 'query') !== undefined ? { query: stringFlag(values, 'query') } : {}),
    pageSize: Math.min(limit, 1000),
  };
  return withClient('list', values, async (client) => {
    const runs: WorkflowExecutionDescription[] = [];
    try {
      for await (const run of client.list(filters)) {
        runs.push(run);
        if (runs.length >= limit) break;
      }
    } catch (error) {
      throw queryUsage('list', error);
    }
    if (values.json) {
      out.log(JSON.stringify(runs.map(descriptionJson)));
      return 0;
    }
    if (runs.length === 0) {
      out.log('no workflow runs found');
      return 0;
    }
    const rows = runs.map((r) => [r.workflowId, r.runId, r.type, r.status.name, r.taskQueue, r.startTime.toISOString(), r.closeTime?.toISOString() ?? '-']);
    for (const line of table(['WORKFLOW ID', 'RUN ID', 'TYPE', 'STATUS', 'TASK QUEUE', 'STARTED', 'CLOSED'], rows)) out.log(line);
    return 0;
  });
}

/** A filter the service refused (a syntax error, an ORDER BY in a count) is bad usage. */
export function queryUsage(command: string, error: unknown): unknown {
  if (error instanceof InvalidArgumentError && /: query: /.test(error.message)) {
    return new UsageError(`${command}: ${error.message.replace(/^\w+: query: /, '--query: ')}`, { cause: error });
  }
  return error;
}

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)];
}

/** A description as JSON: dates as ISO-8601 text, the status as its name. */
function descriptionJson(d: WorkflowExecutionDescription) {
  return {
    workflowId: d.workflowId,
    runId: d.runId,
    type: d.type,
    status: d.status.name,
    taskQueue: d.taskQueue,
    startTime: d.startTime.toISOString(),
    ...(d.closeTime ? { closeTime: d.closeTime.toISOString() } : {}),
    historyLength: d.historyLength,
    historySize: d.historySize,
    ...(d.parentExecution ? { parent: d.parentExecution } : {}),
    ...(d.memo ? { memo: d.memo } : {}),
    ...(Object.keys(d.searchAttributes ?? {}).length > 0 ? { searchAttributes: d.searchAttributes } : {}),
  };
}

// ── describe ──────────────────────────────────────────────────────────────────────────────────

export const DESCRIBE_HELP = `Usage: deja describe <workflowId> [options]

Shows a run: status, type, task queue, start and close times, history length and size, parent.

  --run-id <runId>           this run (default: the latest run of the workflow id)
  --backend <backend>        as for "deja start"
  --json                     print the description as JSON

Exit status: 0 described, 2 bad usage, 3 no such workflow or run.`;

export async function describeCommand(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse('describe', args, { ...COMMON, ...RUN_ID });
  if (usage('describe', values, DESCRIBE_HELP, out)) return 0;
  const [workflowId] = positionalsOf('describe', positionals, ['workflowId']);
  return withClient('describe', values, async (client) => {
    const d = await client.getHandle(workflowId!, stringFlag(values, 'run-id')).describe();
    if (values.json) {
      out.log(jsonLine(descriptionJson(d)));
      return 0;
    }
    const rows: [string, string][] = [
      ['workflow id', d.workflowId],
      ['run id', d.runId],
      ['type', d.type],
      ['status', d.status.name],
      ['task queue', d.taskQueue],
      ['started', d.startTime.toISOString()],
      ['closed', d.closeTime?.toISOString() ?? '-'],
      ['history', `${d.historyLength} events, ${formatBytes(d.historySize)}`],
    ];
    if (d.parentExecution) rows.push(['parent', `${d.parentExecution.workflowId} (run ${d.parentExecution.runId})`]);
    for (const [k, v] of rows) out.log(`${k.padEnd(12)} ${v}`);
    return 0;
  });
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

// ── history ───────────────────────────────────────────────────────────────────────────────────

export const HISTORY_HELP = `Usage: deja history <workflowId> [options]

Prints a run's history, one line per event: id, time, type and its fields.

  --run-id <runId>           this run (default: the latest run of the workflow id)
  --json                     print the history file (the deja history format) instead
  --out, -o <file>           write the history file; "deja replay" and replayHistory read it
  --format <deja|temporal>   the file's format: deja's (the default) or Temporal's proto3 JSON,
                             which Temporal's replayer reads; temporal without --out prints it
  --backend <backend>        as for "deja start"

Exit status: 0 printed or written, 2 bad usage (an --out that cannot be written), 3 no such workflow or run.`;

export async function historyCommand(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse('history', args, { ...COMMON, ...RUN_ID, out: { type: 'string', short: 'o' }, format: { type: 'string' } });
  if (usage('history', values, HISTORY_HELP, out)) return 0;
  const [workflowId] = positionalsOf('history', positionals, ['workflowId']);
  const format = stringFlag(values, 'format') ?? 'deja';
  if (format !== 'deja' && format !== 'temporal') {
    throw new UsageError(`history: --format ${JSON.stringify(format)} is not a history format; expected deja or temporal`);
  }
  const outFile = stringFlag(values, 'out');
  const target = outFile === undefined ? undefined : checkOutFile('history', 'the history', outFile);
  return withClient('history', values, async (client) => {
    const history = await client.getHandle(workflowId!, stringFlag(values, 'run-id')).fetchHistory();
    if (target !== undefined) {
      try {
        if (format === 'temporal') writeTemporalHistoryFile(target, history);
        else writeHistoryFile(target, history);
      } catch (error) {
        if (error instanceof DejaError) throw error;
        throw new UsageError(`history: cannot write the history to ${outFile}: ${(error as Error).message}; expected --out to name a writable file`, { cause: error });
      }
      if (values.json) out.log(jsonLine({ workflowId: history.workflowId, runId: history.runId, events: history.events.length, file: outFile, format }));
      else out.log(`wrote ${history.events.length} events of ${history.workflowId} (run ${history.runId}) to ${outFile}${format === 'temporal' ? " in Temporal's format" : ''}`);
      return 0;
    }
    if (format === 'temporal') {
      out.log(serializeTemporalHistory(history).trimEnd());
      return 0;
    }
    if (values.json) {
      out.log(serializeHistory(history).trimEnd());
      return 0;
    }
    for (const line of historyLines(history)) out.log(line);
    return 0;
  });
}

/** One line per event: id, time, type, then the event's own fields as key=value. */
export function historyLines(history: History): string[] {
  const idWidth = String(history.events.length).length;
  return [
    `${history.workflowId} (run ${history.runId}): ${history.events.length} events`,
    ...history.events.map((e) => `${String(e.eventId).padStart(idWidth)}  ${e.eventTime}  ${e.type}${eventFields(e)}`),
  ];
}

function eventFields(event: HistoryEvent): string {
  const fields = Object.entries(event).filter(([k, v]) => k !== 'eventId' && k !== 'eventTime' && k !== 'type' && v !== undefined);
  if (fields.length === 0) return '';
  return `  ${fields.map(([k, v]) => `${k}=${truncate(typeof v === 'string' && /^[\w.:@/+-]*$/.test(v) && v !== '' ? v : jsonLine(v), 80)}`).join(' ')}`;
}

// ── signal, query ─────────────────────────────────────────────────────────────────────────────

export const SIGNAL_HELP = `Usage: deja signal <workflowId> <signalName> [options]

Sends a signal to a running workflow.

  --args <json array>        the signal's arguments, as a JSON array: '["apples"]'
  --run-id <runId>           this run (default: the latest run of the workflow id)
  --backend <backend>        as for "deja start"
  --json                     print {"workflowId","signal"}

Exit status: 0 signalled, 2 bad usage, 3 no such workflow or run, or it has closed.`;

export async function signalCommand(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse('signal', args, { ...COMMON, ...RUN_ID, args: { type: 'string' } });
  if (usage('signal', values, SIGNAL_HELP, out)) return 0;
  const [workflowId, signalName] = positionalsOf('signal', positionals, ['workflowId', 'signalName']);
  const signalArgs = jsonArgs('signal', values);
  return withClient('signal', values, async (client) => {
    await client.getHandle(workflowId!, stringFlag(values, 'run-id')).signal(signalName!, ...signalArgs);
    out.log(values.json ? jsonLine({ workflowId, signal: signalName }) : `signalled ${workflowId}: ${signalName}`);
    return 0;
  });
}

export const QUERY_HELP = `Usage: deja query <workflowId> <queryType> [options]

Asks a workflow's query handler (a worker on its task queue answers) and prints the answer as JSON.

  --args <json array>        the query's arguments, as a JSON array
  --run-id <runId>           this run (default: the latest run of the workflow id)
  --backend <backend>        as for "deja start"
  --json                     print the answer on one line

Exit status: 0 answered, 1 the query failed (its handler threw, or no worker answered in time),
2 bad usage, 3 no such workflow or run.`;

export async function queryCommand(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse('query', args, { ...COMMON, ...RUN_ID, args: { type: 'string' } });
  if (usage('query', values, QUERY_HELP, out)) return 0;
  const [workflowId, queryType] = positionalsOf('query', positionals, ['workflowId', 'queryType']);
  const queryArgs = jsonArgs('query', values);
  return withClient('query', values, async (client) => {
    let answer: unknown;
    try {
      answer = await client.getHandle(workflowId!, stringFlag(values, 'run-id')).query(queryType!, ...queryArgs);
    } catch (error) {
      if (!(error instanceof QueryFailedError)) throw error;
      const expected = error.failure.kind === 'timeout' ? "expected a worker (deja worker) polling the workflow's task queue" : 'expected a query the workflow handles, with arguments it accepts';
      throw new ProblemError(`query: ${error.message}; ${expected}`, { cause: error });
    }
    out.log(values.json ? jsonLine(answer) : (JSON.stringify(answer, null, 2) ?? 'null'));
    return 0;
  });
}

// ── cancel, terminate ─────────────────────────────────────────────────────────────────────────

export const CANCEL_HELP = `Usage: deja cancel <workflowId> [options]

Asks a running workflow to cancel. Its code decides what that means: one that lets the
cancellation escape ends CANCELLED ("deja result" waits for that).

  --run-id <runId>           this run (default: the latest run of the workflow id)
  --reason <text>            why, recorded with the request
  --backend <backend>        as for "deja start"
  --json                     print {"workflowId","cancelRequested":true}

Exit status: 0 requested, 2 bad usage, 3 no such workflow or run, or it has closed.`;

export async function cancelCommand(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse('cancel', args, { ...COMMON, ...RUN_ID, reason: { type: 'string' } });
  if (usage('cancel', values, CANCEL_HELP, out)) return 0;
  const [workflowId] = positionalsOf('cancel', positionals, ['workflowId']);
  const reason = stringFlag(values, 'reason');
  return withClient('cancel', values, async (client) => {
    // The handle's cancel() takes no reason; the service records one.
    const runId = stringFlag(values, 'run-id');
    await client.workflowService.requestCancelWorkflow({
      workflowId: workflowId!,
      ...(runId !== undefined ? { runId } : {}),
      ...(reason !== undefined ? { reason } : {}),
      identity: CLI_IDENTITY,
    });
    out.log(values.json ? jsonLine({ workflowId, cancelRequested: true }) : `cancellation requested for ${workflowId}`);
    return 0;
  });
}

export const TERMINATE_HELP = `Usage: deja terminate <workflowId> [options]

Closes a running workflow at once, with no workflow code run: it ends TERMINATED.

  --run-id <runId>           this run (default: the latest run of the workflow id)
  --reason <text>            why, recorded in its history
  --backend <backend>        as for "deja start"
  --json                     print {"workflowId","terminated":true}

Exit status: 0 terminated, 2 bad usage, 3 no such workflow or run, or it has closed.`;

export async function terminateCommand(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse('terminate', args, { ...COMMON, ...RUN_ID, reason: { type: 'string' } });
  if (usage('terminate', values, TERMINATE_HELP, out)) return 0;
  const [workflowId] = positionalsOf('terminate', positionals, ['workflowId']);
  return withClient('terminate', values, async (client) => {
    await client.getHandle(workflowId!, stringFlag(values, 'run-id')).terminate(stringFlag(values, 'reason'));
    out.log(values.json ? jsonLine({ workflowId, terminated: true }) : `terminated ${workflowId}`);
    return 0;
  });
}


// ── result ────────────────────────────────────────────────────────────────────────────────────

export const RESULT_HELP = `Usage: deja result <workflowId> [options]

Waits for a run to close and prints its result as JSON. A run that continued as new, or that a
cron's next run or a retry follows, is followed to the chain's last run.

  --run-id <runId>           this run (default: the latest run of the workflow id)
  --timeout <duration>       give up after this long: 500ms, 30s, 5m, 1h (default: wait)
  --backend <backend>        as for "deja start"
  --json                     print {"workflowId","runId","status","result"} (or "failure")

Exit status: 0 completed, 1 failed, cancelled, terminated or timed out (the message says which),
or still running when --timeout ran out, 2 bad usage, 3 no such workflow or run.`;

export async function resultCommand(args: string[], out: Out): Promise<number> {
  const { values, positionals } = parse('result', args, { ...COMMON, ...RUN_ID, timeout: { type: 'string' } });
  if (usage('result', values, RESULT_HELP, out)) return 0;
  const [workflowId] = positionalsOf('result', positionals, ['workflowId']);
  const timeout = stringFlag(values, 'timeout');
  const timeoutMs = timeout === undefined ? undefined : durationMs('result', 'timeout', timeout);
  return withClient('result', values, async (client) => {
    const abort = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
    let runId = stringFlag(values, 'run-id');
    for (;;) {
      let outcome;
      try {
        outcome = await client.workflowService.getWorkflowOutcome({ workflowId: workflowId!, ...(runId !== undefined ? { runId } : {}) }, abort);
      } catch (error) {
        if (abort?.aborted && !(error instanceof DejaError)) {
          throw new ProblemError(`result: workflow "${workflowId}" is still running after ${timeout}; expected it to close within --timeout (leave --timeout out to wait for it)`);
        }
        throw error;
      }
      // A successor (continue-as-new, a cron's next run, a retry) carries the chain on.
      if ('newRunId' in outcome && outcome.newRunId !== undefined) {
        runId = outcome.newRunId;
        continue;
      }
      switch (outcome.status) {
        case 'continuedAsNew':
          runId = outcome.newRunId;
          continue;
        case 'completed':
          if (values.json) out.log(jsonLine({ workflowId, runId: outcome.runId, status: 'COMPLETED', result: outcome.result ?? null }));
          else out.log(outcome.result === undefined ? '(no result)' : (JSON.stringify(outcome.result, null, 2) ?? 'null'));
          return 0;
        case 'failed':
        case 'cancelled':
        case 'terminated':
        case 'timedOut': {
          const cause = failureToError(outcome.failure);
          const how = howItEnded(outcome.status);
          const status = OUTCOME_STATUS[outcome.status];
          if (values.json) {
            const type = (cause as { type?: unknown }).type;
            out.log(jsonLine({ workflowId, runId: outcome.runId, status, failure: { name: cause.name, message: cause.message, ...(typeof type === 'string' ? { type } : {}) } }));
          }
          out.error(`deja: result: workflow "${workflowId}" ${how}: ${cause.name}: ${cause.message}`);
          return 1;
        }
        default:
          return assertNever(outcome, 'workflow outcome');
      }
    }
  });
}

const OUTCOME_STATUS = { failed: 'FAILED', cancelled: 'CANCELLED', terminated: 'TERMINATED', timedOut: 'TIMED_OUT' } as const satisfies Record<string, WorkflowStatusName>;
