/**
 * Search attributes, memo and finding runs (host side): the two command handlers that change a
 * run's search attributes and memo, and the list and count reads over a parsed list filter
 * (lib/visibility). Page tokens name the last run of the page; the store continues after that
 * run's place in the filter's order (RunStore.list).
 */
import type { Command, Payload, SearchAttributes } from '../../runtime/protocol';
import { createHash } from 'node:crypto';
import { describe, InvalidArgumentError } from '../errors';
import type { ListQuery } from '../visibility/ast';
import { formatListQuery } from '../visibility/parse';
import type { Op } from './op';
import type { CommandContext } from './commands';

type Of<K extends Command['type']> = Extract<Command, { type: K }>;

export async function upsertSearchAttributes(c: Of<'upsertSearchAttributes'>, { op, run, completedId }: CommandContext): Promise<void> {
  op.append(run, { type: 'upsertWorkflowSearchAttributes', searchAttributes: c.searchAttributes, workflowTaskCompletedEventId: completedId });
  const next: SearchAttributes = { ...run.searchAttributes };
  for (const [name, value] of Object.entries(c.searchAttributes)) {
    if (value === null) delete next[name];
    else next[name] = value;
  }
  if (Object.keys(next).length === 0) delete run.searchAttributes;
  else run.searchAttributes = next;
}

export async function modifyWorkflowProperties(c: Of<'modifyWorkflowProperties'>, { op, run, completedId }: CommandContext): Promise<void> {
  op.append(run, { type: 'workflowPropertiesModified', upsertedMemo: c.memo, workflowTaskCompletedEventId: completedId });
  const next: Record<string, Payload> = { ...run.memo };
  for (const [name, value] of Object.entries(c.memo)) {
    if (value === null) delete next[name];
    else next[name] = value;
  }
  if (Object.keys(next).length === 0) delete run.memo;
  else run.memo = next;
}

export async function countWorkflows(op: Op, query: ListQuery | undefined): Promise<{ count: number }> {
  return { count: await op.tx.runs.count(query?.where) };
}

/** What a page token of a filtered list is bound to: the filter, normalized (so a token of another filter is refused). */
function queryDigest(query: ListQuery): string {
  return createHash('sha256').update(formatListQuery(query)).digest('base64url').slice(0, 16);
}

/**
 * The token of a page that ends with `runId`: the run's id (the store continues after its place
 * in the order), and for a filtered list a digest of the filter.
 */
export function pageToken(runId: string, query: ListQuery | undefined): string {
  const text = query === undefined ? runId : JSON.stringify({ after: runId, query: queryDigest(query) });
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** The run a page token continues after; an InvalidArgumentError for a token that is not one of ours, or one of another filter. */
export function readPageToken(where: string, token: string, query: ListQuery | undefined): string {
  const bad = () => new InvalidArgumentError(`${where}: nextPageToken ${describe(token)} is not a page token from a previous listWorkflows page`);
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (text === '' || Buffer.from(text, 'utf8').toString('base64url') !== token) throw bad();
  if (query === undefined) {
    if (text.startsWith('{')) throw new InvalidArgumentError(`${where}: nextPageToken is the token of a filtered list; pass the same query with it`);
    return text;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InvalidArgumentError(`${where}: nextPageToken is the token of an unfiltered list; pass it without a query`);
  }
  const { after, query: digest } = (parsed ?? {}) as { after?: unknown; query?: unknown };
  if (typeof after !== 'string' || after === '' || typeof digest !== 'string') throw bad();
  if (digest !== queryDigest(query)) throw new InvalidArgumentError(`${where}: nextPageToken belongs to another query; pass the query the previous page was listed with`);
  return after;
}
