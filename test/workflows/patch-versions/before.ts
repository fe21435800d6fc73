/** patchWorkflow before the patch "charge-first" (inside the isolate). */
import { proxyActivities, condition, setHandler } from 'deja/workflow';
import type * as activities from '../activities';
import { go } from '../patches';

const { greet } = proxyActivities<typeof activities>({ startToCloseTimeout: '10s' });

export async function patchWorkflow(name: string): Promise<string> {
  let going = false;
  setHandler(go, () => void (going = true));
  const path = await greet(name);
  await condition(() => going);
  return `${path} (before the patch)`;
}
