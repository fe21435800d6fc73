/**
 * Interceptor module (inside the isolate): its handleQuery waits on a promise nothing resolves, as
 * one that waited for a timer or a signal would; the query must fail with a clear message, and the
 * workflow must go on.
 */
import type { WorkflowInterceptors } from '@temporalio/workflow';

export const interceptors = (): WorkflowInterceptors => ({
  inbound: [
    {
      async handleQuery(input, next) {
        if (input.queryName === 'trace') await new Promise(() => undefined);
        return next(input);
      },
    },
  ],
});
