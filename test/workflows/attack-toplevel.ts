/** A workflows module whose top level never returns: loading it must fail the task, not the worker. */
for (;;);
export async function neverLoads(): Promise<string> {
  return 'unreachable';
}
