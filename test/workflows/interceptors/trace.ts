/** What the interceptors of these tests saw, in order (one array per execution: each has its own context). */
export const trace: string[] = [];
