/** Interceptor module (inside the isolate) whose factory throws. */
export function interceptors(): never {
  throw new Error('the tracing backend is not configured');
}
