/**
 * Search attributes and memo in workflows (inside the isolate): upserts in both forms, what
 * workflowInfo() shows of them, bad values refused, and a child started with both.
 */
import {
  condition,
  defineSearchAttributeKey,
  defineSignal,
  executeChild,
  setHandler,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  SearchAttributeType,
} from 'deja/workflow';

const due = defineSearchAttributeKey('Due', SearchAttributeType.DATETIME);
const tags = defineSearchAttributeKey('Tags', SearchAttributeType.KEYWORD_LIST);
const priority = defineSearchAttributeKey('Priority', SearchAttributeType.INT);
const keyword = defineSearchAttributeKey('CustomKeywordField', SearchAttributeType.KEYWORD);

/** What workflowInfo() shows of search attributes and memo, as JSON. */
function snapshot(): unknown {
  const info = workflowInfo();
  return {
    legacy: info.searchAttributes,
    typed: info.typedSearchAttributes.getAll().map((p) => [p.key.name, p.key.type, p.value]),
    priority: info.typedSearchAttributes.get(priority) ?? null,
    priorityAsKeyword: info.typedSearchAttributes.get(defineSearchAttributeKey('Priority', SearchAttributeType.KEYWORD)) ?? null,
    memo: info.memo ?? null,
  };
}

/** For replay-fixtures/ and the tests: upserts in both forms around a timer; returns what it saw. */
export async function upsertWorkflow(): Promise<unknown[]> {
  const seen: unknown[] = [snapshot()];
  upsertSearchAttributes({ CustomKeywordField: ['updated'], Priority: [7] });
  upsertMemo({ note: 'hello', nested: { a: [1, 2] }, drop: null });
  seen.push(snapshot());
  await sleep(10);
  upsertSearchAttributes([
    { key: due, value: new Date(Date.now()) },
    { key: tags, value: ['a', 'b'] },
  ]);
  upsertSearchAttributes({ Priority: [] });
  upsertMemo({ nested: undefined });
  seen.push(snapshot());
  return seen;
}

export const finish = defineSignal('finish');

/** Upserts what it is given (legacy form), then waits for `finish`. */
export async function upsertAndWaitWorkflow(attributes: Record<string, string[] | number[] | boolean[]>, memo: Record<string, unknown>): Promise<unknown> {
  let done = false;
  setHandler(finish, () => void (done = true));
  upsertSearchAttributes(attributes);
  upsertMemo(memo);
  await condition(() => done);
  return snapshot();
}

/** Bad values, each refused with a TypeError the workflow can catch. */
export async function badUpsertWorkflow(): Promise<string[]> {
  const attempts: (() => void)[] = [
    () => upsertSearchAttributes({ X: 'not a list' as unknown as string[] }),
    () => upsertSearchAttributes({ X: [1, 2] }),
    () => upsertSearchAttributes({ X: ['a', 1] as unknown as string[] }),
    () => upsertSearchAttributes({ X: [{}] as unknown as string[] }),
    () => upsertSearchAttributes({ X: [Number.NaN] }),
    () => upsertSearchAttributes({ X: [new Date(Number.NaN)] }),
    () => upsertSearchAttributes([{ key: priority, value: 1.5 }]),
    () => upsertSearchAttributes([{ key: keyword, value: 3 as unknown as string }]),
    () => upsertSearchAttributes([{ key: { name: 'X', type: 'NOPE' }, value: 1 }] as never),
    () => upsertSearchAttributes([{ key: keyword, value: 'a' }, { key: keyword, value: 'b' }]),
    () => upsertMemo({ x: () => 1 } as never),
    () => upsertMemo('memo' as never),
  ];
  const messages: string[] = [];
  for (const attempt of attempts) {
    try {
      attempt();
      messages.push('accepted');
    } catch (err) {
      messages.push(`${(err as Error).name}: ${(err as Error).message}`);
    }
  }
  return messages;
}

/** A child started with memo and search attributes in both forms; returns what the child saw. */
export async function searchParentWorkflow(): Promise<unknown> {
  return executeChild(searchChildWorkflow, {
    workflowId: `${workflowInfo().workflowId}-child`,
    memo: { from: 'parent' },
    searchAttributes: { CustomKeywordField: ['legacy'], Tags: ['p', 'q'] },
    typedSearchAttributes: [{ key: priority, value: 9 }],
  });
}

export async function searchChildWorkflow(): Promise<unknown> {
  return snapshot();
}
