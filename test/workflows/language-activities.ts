/** Activities for test/workflows/language.ts (host side). */
import { Context, CancelledFailure } from 'deja/activity';

/** What the activities saw, by tag: the test reads it. */
export const seen: string[] = [];

export async function cleanup(step: string): Promise<string> {
  seen.push(`cleanup ${step}`);
  return `cleaned ${step}`;
}

export async function quick(): Promise<string> {
  return 'quick';
}

/** Heartbeats until cancelled, then records it and confirms the cancellation. */
export async function waitForCancel(tag: string): Promise<string> {
  const ctx = Context.current();
  seen.push(`started ${tag}`);
  try {
    for (;;) {
      ctx.heartbeat();
      await ctx.sleep(20);
    }
  } catch (err) {
    seen.push(`cancelled ${tag}`);
    if (err instanceof CancelledFailure) throw err;
    throw err;
  }
}
