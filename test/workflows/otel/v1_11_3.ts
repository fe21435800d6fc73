/** Interceptor module: OpenTelemetry's workflow interceptors as SDK 1.11.3 recorded them, untraced start. */
import { flagsOfSdkVersion, otelInterceptors } from './interceptors';

export const interceptors = () => otelInterceptors({ ...flagsOfSdkVersion('1.11.3'), startedWithTraceContext: false, idDraws: 'workflow' });
