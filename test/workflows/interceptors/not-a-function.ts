/** Interceptor module (inside the isolate) whose `interceptors` export is not a factory. */
export const interceptors = { inbound: [] };
