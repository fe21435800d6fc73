/**
 * Interceptor module (inside the isolate): records every call it sees in `trace`, and changes
 * inputs where the tests look for it (arguments marked `change` get `!` appended).
 */
import type { WorkflowInterceptors } from '@temporalio/workflow';
import { trace } from './trace';

const mark = (args: unknown[]) => args.map((a) => (typeof a === 'string' && a.startsWith('change') ? `${a}!` : a));

export function interceptors(): WorkflowInterceptors {
  trace.push('factory first');
  return {
    inbound: [
      {
        async execute(input, next) {
          trace.push(`first execute in ${JSON.stringify(input.args)} headers ${JSON.stringify(input.headers)}`);
          const result = await next({ ...input, args: mark(input.args) });
          trace.push('first execute out');
          return result;
        },
        async handleSignal(input, next) {
          trace.push(`first signal ${input.signalName} ${JSON.stringify(input.args)}`);
          return next({ ...input, args: mark(input.args) });
        },
        async handleUpdate(input, next) {
          trace.push(`first update ${input.name} ${input.updateId} ${JSON.stringify(input.args)}`);
          return next({ ...input, args: mark(input.args) });
        },
        async handleQuery(input, next) {
          // An async step before and after next, as OpenTelemetry's interceptor has.
          await Promise.resolve();
          const result = await next(input);
          return input.queryName === 'trace' ? [...(result as string[]), `first query ${input.queryName} ${JSON.stringify(input.args)}`] : result;
        },
        validateUpdate(input, next) {
          trace.push(`first validate ${input.name} ${JSON.stringify(input.args)}`);
          if (input.args[0] === 'reject-me') throw new Error('rejected by the interceptor');
          next(input);
        },
      },
      {
        async execute(input, next) {
          trace.push(`first[1] execute in ${JSON.stringify(input.args)}`);
          return next(input);
        },
      },
    ],
    outbound: [
      {
        async scheduleActivity(input, next) {
          trace.push(`activity ${input.activityType} seq ${input.seq} ${JSON.stringify(input.args)} timeout ${String(input.options.startToCloseTimeout)}`);
          return next({ ...input, args: mark(input.args) });
        },
        async scheduleLocalActivity(input, next) {
          trace.push(`local activity ${input.activityType} seq ${input.seq} ${JSON.stringify(input.args)}`);
          return next({ ...input, args: mark(input.args) });
        },
        async startTimer(input, next) {
          trace.push(`timer seq ${input.seq} ${input.durationMs} ms`);
          return next({ ...input, durationMs: input.durationMs * 2 });
        },
        async startChildWorkflowExecution(input, next) {
          trace.push(`child ${input.workflowType} seq ${input.seq} id ${input.options.workflowId} ${JSON.stringify(input.options.args)}`);
          return next({ ...input, options: { ...input.options, workflowId: `${input.options.workflowId}-x`, args: mark(input.options.args) } });
        },
        async signalWorkflow(input, next) {
          trace.push(`signal out ${input.signalName} to ${JSON.stringify(input.target)} ${JSON.stringify(input.args)}`);
          return next({ ...input, args: mark(input.args) });
        },
        async continueAsNew(input, next) {
          trace.push(`continueAsNew ${input.options.workflowType} ${JSON.stringify(input.args)}`);
          return next({ ...input, args: mark(input.args) });
        },
        getLogAttributes(input, next) {
          return next({ ...input, from: 'first' });
        },
      },
    ],
  };
}
