/**
 * Queries (host side): filed by a caller, claimed by a worker polling workflow tasks (before any
 * workflow task), answered, and dropped by the caller once it has the answer or gave up. Queries
 * are never part of history.
 */
import type { QueryAnswer } from '../backends/store';
import { StaleTaskError } from '../service-errors';
import type { Op } from './op';
import type { QueryRequest } from './requests';

export async function createQuery(
  op: Op,
  newId: () => string,
  { ref, queryType, args }: QueryRequest,
): Promise<{ queryId: string; taskQueue: string; workflowId: string; queryType: string }> {
  const run = await op.resolve(ref);
  const queryId = newId();
  const { workflowId, runId, workflowType, taskQueue } = run;
  await op.tx.queries.insert({ queryId, workflowId, runId, workflowType, taskQueue, queryType, args });
  op.wake({ type: 'query', taskQueue });
  return { queryId, taskQueue, workflowId, queryType };
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
