/** Interceptor module (inside the isolate): the inner one of two; records what reaches it. */
import type { WorkflowInterceptors } from '@temporalio/workflow';
import { trace } from './trace';

export const interceptors = (): WorkflowInterceptors => {
  trace.push('factory second');
  return {
    inbound: [
      {
        async execute(input, next) {
          trace.push(`second execute in ${JSON.stringify(input.args)}`);
          const result = await next(input);
          trace.push('second execute out');
          return result;
        },
      },
    ],
    outbound: [
      {
        async scheduleActivity(input, next) {
          trace.push(`second activity ${JSON.stringify(input.args)}`);
          return next(input);
        },
        getLogAttributes(input, next) {
          return next({ ...input, from: 'second', seenFrom: input.from });
        },
      },
    ],
  };
};
