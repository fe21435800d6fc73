/**
 * The bundle's entry (inside the isolate). The bundler generates a tiny module that calls
 * `install(() => require(<workflows module>))`; the workflows module is evaluated lazily, in
 * `__dejaInit`, after the deterministic globals have been seeded.
 */
export function install(loadWorkflows: () => Record<string, unknown>): void {
  // Filled in by the runtime (work in progress).
  (globalThis as Record<string, unknown>).__dejaLoadWorkflows = loadWorkflows;
}
