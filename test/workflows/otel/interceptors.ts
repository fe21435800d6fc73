/**
 * Not a workflow: an equivalent of @temporalio/interceptors-opentelemetry's workflow interceptors,
 * for replaying histories recorded with them. It exports no spans; it reproduces only what reaches
 * a history: which calls are wrapped, where they yield (an `await` before calling `next`), and the
 * draws span and trace ids make from the workflow's PRNG.
 *
 * What Temporal's package does (read from its sources; the replay of old histories decides by the
 * SDK version recorded in the history, through SDK flags, which here are options):
 * - Inbound `execute` and (from 1.11.5, flag 3) `handleSignal` start a span in the context carried
 *   by the call's headers; outbound `scheduleActivity`, `startChildWorkflowExecution`,
 *   `signalWorkflow`, `continueAsNew` and (from 1.11.6, flag 4) `scheduleLocalActivity` start a
 *   child span and put it in the headers. `startTimer` is not wrapped.
 * - Before 1.13.2 (flag 5), each wrapped call yields once (an awaited promise) before `next`: in
 *   `execute` and `handleSignal` before the span starts, in the outbound ones after.
 * - Span ids are 16 hex digits and trace ids 32, each digit one `Math.random()` draw (the browser
 *   build of OpenTelemetry's RandomIdGenerator, which the workflow bundle uses): a root span (no
 *   parent in its context) draws 48, a child span 16. The v2 package (1.18+) draws from a named
 *   stream of its own instead, so the workflow's `Math.random()` sees none of them.
 * deja carries no headers: whether the workflow's start carried a trace context (the client was
 * traced), which makes the execute span a child, is an option too.
 */
import type { Next, WorkflowInboundCallsInterceptor, WorkflowInterceptors, WorkflowOutboundCallsInterceptor } from '@temporalio/workflow';

export interface OtelOptions {
  /** SDK flag 3 (SDK 1.11.5+): inbound signals are traced. */
  tracesInboundSignals: boolean;
  /** SDK flag 4 (SDK 1.11.6+): local activities are traced. */
  tracesLocalActivities: boolean;
  /** SDK flag 5 (SDK 1.13.2+): no extra yield before `next`. */
  avoidsExtraYields: boolean;
  /** The start's headers carried a trace context: the execute span is a child, in that context. */
  startedWithTraceContext: boolean;
  /** Signals' headers carry a (possibly empty) trace context (the signalling client was traced). */
  signalsWithTraceContext?: boolean;
  /** 'workflow': ids draw from Math.random (v1); 'own': from a stream of their own (v2). */
  idDraws: 'workflow' | 'own';
}

/** The interceptors of an OpenTelemetry package configured by `options`. */
export function otelInterceptors(options: OtelOptions): WorkflowInterceptors {
  /** Starts a span: draws its ids as OpenTelemetry's RandomIdGenerator does. */
  const startSpan = (root: boolean): void => {
    if (options.idDraws !== 'workflow') return;
    for (let i = 0; i < (root ? 48 : 16); i++) Math.random();
  };
  // OpenTelemetry's wrapWithSpan: awaits the function, then ends the span.
  async function wrapWithSpan<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const ret = await fn();
      return ret;
    } finally {
      // span.end()
    }
  }
  // The package's instrument(): a context to enter (an async layer), then an active span.
  async function instrument<T>(root: boolean, withContext: boolean, fn: () => Promise<T>): Promise<T> {
    if (withContext) {
      return await (async () => {
        startSpan(root);
        return await (async () => await wrapWithSpan(fn))();
      })();
    }
    startSpan(root);
    return await (async () => await wrapWithSpan(fn))();
  }
  const outboundCall =
    <I>(traced: boolean) =>
    async (input: I, next: (input: I) => Promise<any>): Promise<any> => {
      if (!traced) return next(input);
      return await instrument(false, false, async () => {
        const headers = {}; // headersWithContext(input.headers)
        if (!options.avoidsExtraYields) await Promise.resolve();
        return next({ ...input, headers });
      });
    };

  const inbound: WorkflowInboundCallsInterceptor = {
    async execute(input, next: Next<WorkflowInboundCallsInterceptor, 'execute'>) {
      if (!options.avoidsExtraYields) await Promise.resolve();
      return await instrument(!options.startedWithTraceContext, options.startedWithTraceContext, () => next(input));
    },
    async handleSignal(input, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>) {
      if (!options.tracesInboundSignals) return next(input);
      if (!options.avoidsExtraYields) await Promise.resolve();
      return await instrument(true, options.signalsWithTraceContext === true, () => next(input));
    },
  };
  const outbound: WorkflowOutboundCallsInterceptor = {
    scheduleActivity: outboundCall(true),
    scheduleLocalActivity: outboundCall(options.tracesLocalActivities),
    startChildWorkflowExecution: outboundCall(true),
    signalWorkflow: outboundCall(true),
    continueAsNew: outboundCall(true) as unknown as WorkflowOutboundCallsInterceptor['continueAsNew'],
  };
  return { inbound: [inbound], outbound: [outbound] };
}

/** The package's behaviour for a history whose workflow tasks were completed by SDK `version`. */
export function flagsOfSdkVersion(version: string): Pick<OtelOptions, 'tracesInboundSignals' | 'tracesLocalActivities' | 'avoidsExtraYields'> {
  const [major, minor, patch] = version.split('.').map(Number) as [number, number, number];
  const atLeast = (a: number, b: number, c: number) => major > a || (major === a && (minor > b || (minor === b && patch >= c)));
  return { tracesInboundSignals: atLeast(1, 11, 5), tracesLocalActivities: atLeast(1, 11, 6), avoidsExtraYields: atLeast(1, 13, 2) };
}
