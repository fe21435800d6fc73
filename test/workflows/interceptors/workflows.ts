/** Workflows for test/interceptors.test.ts (inside the isolate). */
import {
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  condition,
  executeChild,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  startChild,
} from '@temporalio/workflow';
import { trace } from './trace';

trace.push('workflows loaded');

const { echo } = proxyActivities<{ echo(s: string): Promise<string> }>({ startToCloseTimeout: '1m' });
const local = proxyLocalActivities<{ echo(s: string): Promise<string> }>({ startToCloseTimeout: '1m' });

export const traceQuery = defineQuery<string[]>('trace');
export const go = defineSignal<[string]>('go');
export const set = defineUpdate<string, [string]>('set');

/** Everything an interceptor can see, once; returns what came back. */
export async function everything(word: string): Promise<string[]> {
  setHandler(traceQuery, () => trace);
  let got: string | undefined;
  setHandler(go, (value) => void (got = value));
  setHandler(set, (value: string) => `set ${value}`, { validator: (_value: string) => undefined });
  const results = [word];
  results.push(await echo('change-activity'));
  results.push(await local.echo('change-local'));
  await sleep(10);
  const child = await startChild(childWorkflow, { workflowId: 'the-child', args: ['change-child'] });
  await child.signal(go, 'change-signal');
  results.push(await child.result());
  log.info('done', { mine: 1 });
  await condition(() => got !== undefined);
  results.push(got!);
  return results;
}

export async function childWorkflow(value: string): Promise<string> {
  let got = '';
  setHandler(go, (v) => void (got = v));
  await condition(() => got !== '');
  return `${value} ${got}`;
}

export async function continuing(n: number | string): Promise<void> {
  if (n === 0) await continueAsNew<typeof continuing>('change-next');
}

/** Activities and a child whose id comes from the PRNG: what yields.ts changes. */
export async function twoActivities(): Promise<string> {
  const a = echo('a');
  await sleep(1);
  const b = echo('b');
  await Promise.all([a, b]);
  return executeChild<typeof noop>('noop', {});
}

export async function noop(): Promise<string> {
  return 'noop';
}
