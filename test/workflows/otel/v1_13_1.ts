/** Interceptor module: OpenTelemetry's workflow interceptors as SDK 1.13.1 recorded them, untraced start. */
import { flagsOfSdkVersion, otelInterceptors } from './interceptors';

export const interceptors = () => otelInterceptors({ ...flagsOfSdkVersion('1.13.1'), startedWithTraceContext: false, idDraws: 'workflow' });
