/** Interceptor module: OpenTelemetry's workflow interceptors as SDK 1.13.2 recorded them, started and signalled by a traced client. */
import { flagsOfSdkVersion, otelInterceptors } from './interceptors';

export const interceptors = () =>
  otelInterceptors({ ...flagsOfSdkVersion('1.13.2'), startedWithTraceContext: true, signalsWithTraceContext: true, idDraws: 'workflow' });
