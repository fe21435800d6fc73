/**
 * Interceptor module (inside the isolate): every activity call yields once before being
 * scheduled, and draws from the workflow's PRNG, as tracing interceptors do; the commands' order
 * and the child ids after it change, so a history recorded with it replays only with it.
 */
import type { WorkflowInterceptors } from '@temporalio/workflow';

export const interceptors = (): WorkflowInterceptors => ({
  outbound: [
    {
      async scheduleActivity(input, next) {
        Math.random();
        await Promise.resolve();
        return next(input);
      },
    },
  ],
});
