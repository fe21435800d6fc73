/**
 * Test workflows for updates, default handlers and handler bookkeeping (inside the isolate).
 * `updateFixtureWorkflow` is recorded in replay-fixtures/ (update_deja_*.json); changing it changes
 * what that fixture replays against.
 */
import {
  proxyActivities,
  condition,
  defineSignal,
  defineQuery,
  defineUpdate,
  setHandler,
  setDefaultSignalHandler,
  setDefaultQueryHandler,
  setDefaultUpdateHandler,
  allHandlersFinished,
  currentUpdateInfo,
  ApplicationFailure,
} from 'deja/workflow';
import type * as activities from './activities';

const { greet } = proxyActivities<typeof activities>({ startToCloseTimeout: '10s' });

export const incrementUpdate = defineUpdate<number, [number]>('increment');
export const failingUpdate = defineUpdate<void, []>('failing');
export const buggyUpdate = defineUpdate<void, []>('buggy');
export const slowUpdate = defineUpdate<string, [string]>('slow');
export const greetUpdate = defineUpdate<string, [string]>('greet');
/** Its validator is `async`, as some Temporal code writes them: Temporal ignores the promise a validator returns. */
export const asyncValidatedUpdate = defineUpdate<number, [number]>('asyncValidated');
export const finishSignal = defineSignal('finish');
export const releaseSignal = defineSignal('release');
export const countQuery = defineQuery<number>('count');

/**
 * A counter that updates change. `increment` (validator: no negative numbers) returns the new
 * count; `failing` throws an ApplicationFailure; `slow` waits for the `release` signal and returns
 * what currentUpdateInfo said before and after its awaits; `greet` calls an activity. It returns
 * the count once `finish` came and every handler has finished.
 */
export async function updateCounter(): Promise<number> {
  let count = 0;
  let done = false;
  let released = false;
  setHandler(
    incrementUpdate,
    (n: number) => {
      count += n;
      return count;
    },
    {
      validator: (n: number) => {
        if (typeof n !== 'number' || n < 0) throw new Error(`cannot add ${String(n)}: not a non-negative number`);
      },
    },
  );
  setHandler(failingUpdate, () => {
    throw ApplicationFailure.nonRetryable('the handler says no', 'Nope');
  });
  setHandler(buggyUpdate, () => {
    throw new TypeError('a bug in the update handler');
  });
  setHandler(slowUpdate, async (tag: string) => {
    const before = currentUpdateInfo();
    await condition(() => released);
    await Promise.resolve();
    const after = currentUpdateInfo();
    return `${tag}|${before?.id}|${before?.name}|${after?.id}|${after?.name}`;
  });
  setHandler(greetUpdate, async (name: string) => {
    const greeting = await greet(name);
    count++;
    return `${greeting} (${currentUpdateInfo()?.name})`;
  });
  setHandler(
    asyncValidatedUpdate,
    (n: number) => {
      count += n;
      return count;
    },
    // eslint-disable-next-line @typescript-eslint/require-await
    { validator: async (n: number) => void n },
  );
  setHandler(countQuery, () => count);
  setHandler(finishSignal, () => void (done = true));
  setHandler(releaseSignal, () => void (released = true));
  await condition(() => done);
  await condition(allHandlersFinished);
  if (currentUpdateInfo() !== undefined) throw ApplicationFailure.nonRetryable('currentUpdateInfo leaked into the main function');
  return count;
}

export const seenQuery = defineQuery<string[]>('seen');

/** Default handlers for signals, queries and updates; it ends on the signal `stop`. */
export async function defaultHandlersWorkflow(): Promise<string[]> {
  const seen: string[] = [];
  setDefaultSignalHandler((name: string, ...args: unknown[]) => void seen.push(`signal ${name} ${JSON.stringify(args)}`));
  setDefaultQueryHandler((name: string, ...args: unknown[]) => `query ${name} ${JSON.stringify(args)}`);
  setDefaultUpdateHandler((name: string, ...args: unknown[]) => {
    seen.push(`update ${name} ${JSON.stringify(args)}`);
    return `${name} done (${currentUpdateInfo()?.name})`;
  });
  setHandler(seenQuery, () => seen);
  await condition(() => seen.some((s) => s.startsWith('signal stop')));
  return seen;
}

/** Has no update handlers at all: every update is rejected. Ends on `finish`. */
export async function noUpdateHandlersWorkflow(): Promise<void> {
  let done = false;
  setHandler(finishSignal, () => void (done = true));
  await condition(() => done);
}

/** Ends at once (for updates on a completed workflow). */
export async function quickWorkflow(x: number): Promise<number> {
  return x * 2;
}

/**
 * Recorded as the `update` fixture: an update whose handler calls an activity, one its validator
 * rejects (no trace in history), and a signal that ends it once every handler has finished.
 */
export async function updateFixtureWorkflow(): Promise<string[]> {
  const log: string[] = [];
  let done = false;
  setHandler(
    greetUpdate,
    async (name: string) => {
      const greeting = await greet(name);
      log.push(greeting);
      return greeting;
    },
    { validator: (name: string) => void (name === '' ? (() => { throw new Error('a name is required'); })() : undefined) },
  );
  setHandler(finishSignal, () => void (done = true));
  await condition(() => done);
  await condition(allHandlersFinished);
  return log;
}

/**
 * Registers its update handler only after an await: an update delivered with the first task
 * waits for the end of the activation, by which time the handler exists.
 */
export async function lateHandlerWorkflow(): Promise<string> {
  let got = '';
  await Promise.resolve();
  setHandler(greetUpdate, (name: string) => {
    got = name;
    return `late ${name}`;
  });
  await condition(() => got !== '');
  return got;
}
