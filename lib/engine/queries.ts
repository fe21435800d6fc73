/**
 * Queries (host side): filed by a caller, claimed by a worker polling workflow tasks (before any
 * workflow task), answered, and dropped by the caller once it has the answer or gave up. Queries
 * are never part of history.
 */
import type { QueryAnswer, RunRecord } from '../backends/store';
import { StaleTaskError } from '../service-errors';
import { compact, type Op } from './op';
import type { QueryRequest } from './requests';

export async function createQuery(
  op: Op,
  newId: () => string,
  { ref, queryType, args }: QueryRequest,
): Promise<{ queryId: string; taskQueue: string; workflowId: string; queryType: string }> {
  const run = await op.resolve(ref);
  const queryId = newId();
  const { workflowId, runId, workflowType, taskQueue } = run;
  // Consistent queries: a run with a workflow task to come has events its code has not seen (a
  // signal accepted before this query was asked). The query waits for the task that sees them.
  const blocked = run.status === 'running' && run.workflowTask !== undefined;
  await op.tx.queries.insert(compact({ queryId, workflowId, runId, workflowType, taskQueue, queryType, args, blocked: blocked || undefined }));
  if (blocked) {
    // A started task with nothing new since sees every event before its start; otherwise the
    // query needs the events up to now, which a later task sees.
    const wft = run.workflowTask!;
    const needEventId = wft.startedEventId !== undefined && !run.workflowTaskPending ? wft.startedEventId - 1 : run.nextEventId - 1;
    run.blockedQueries = [...(run.blockedQueries ?? []), { queryId, needEventId }];
    op.changed(run);
  } else op.wake({ type: 'query', taskQueue });
  return { queryId, taskQueue, workflowId, queryType };
}

/**
 * Releases the run's queries that waited for events before `startedEventId` (a workflow task
 * started there has ended), or all of them (Infinity: the run closed). A task that failed releases
 * them too: the query then sees the state before the events, rather than wait for a fix.
 */
export async function releaseBlockedQueries(op: Op, run: RunRecord, startedEventId: number): Promise<void> {
  const waiting = run.blockedQueries;
  if (waiting === undefined) return;
  const keep = waiting.filter((q) => q.needEventId >= startedEventId);
  if (keep.length === waiting.length) return;
  run.blockedQueries = keep.length > 0 ? keep : undefined;
  op.changed(run);
  for (const { queryId } of waiting.filter((q) => q.needEventId < startedEventId)) {
    const query = await op.tx.queries.get(queryId);
    if (!query?.blocked) continue; // withdrawn by its caller meanwhile
    delete query.blocked;
    await op.tx.queries.update(query);
    op.wake({ type: 'query', taskQueue: query.taskQueue });
  }
}

export async function queryAnswer(op: Op, queryId: string): Promise<QueryAnswer | undefined> {
  return (await op.tx.queries.get(queryId))?.answer;
}

export async function respondQueryTask(op: Op, where: string, token: string, answer: QueryAnswer): Promise<void> {
  const query = await op.tx.queries.byToken(token);
  if (!query || query.answer) throw new StaleTaskError(`${where}: the query task token is stale: the query was answered, timed out or withdrawn`);
  query.answer = answer;
  await op.tx.queries.update(query);
  op.wake({ type: 'answer', queryId: query.queryId });
}
