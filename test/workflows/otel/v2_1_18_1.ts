/**
 * Interceptor module: the OpenTelemetry v2 package's workflow interceptors (SDK 1.18.1): every
 * call traced, no extra yields, and span ids drawn from a stream of their own, not Math.random.
 */
import { flagsOfSdkVersion, otelInterceptors } from './interceptors';

export const interceptors = () => otelInterceptors({ ...flagsOfSdkVersion('1.18.1'), startedWithTraceContext: false, idDraws: 'own' });
