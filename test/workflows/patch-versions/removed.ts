/** patchWorkflow with the patch "charge-first" removed altogether (inside the isolate). */
import { proxyActivities, condition, setHandler } from 'deja/workflow';
import type * as activities from '../activities';
import { go } from '../patches';

const { charge } = proxyActivities<typeof activities>({ startToCloseTimeout: '10s' });

export async function patchWorkflow(name: string): Promise<string> {
  let going = false;
  setHandler(go, () => void (going = true));
  const path = await charge(name, 1);
  await condition(() => going);
  return `${path} (removed)`;
}
