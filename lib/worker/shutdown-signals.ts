/**
 * Shutdown on signals (host side), as Temporal's Runtime does by default: while at least one worker
 * runs, SIGINT, SIGTERM, SIGQUIT and SIGUSR2 shut every running worker down (tasks in flight
 * finish), so `await worker.run()` resolves and the program's own clean-up runs. The handlers are
 * installed with the first running worker and removed with the last, so a process with no running
 * worker keeps Node's default behaviour. A second signal while workers are still draining removes
 * the handlers and raises the signal again: Ctrl-C twice still stops a stuck process.
 */

/** The signals Temporal's Runtime handles by default. */
export const SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2'];

const running = new Set<{ shutdown(): void }>();
let received = false;

function onSignal(signal: NodeJS.Signals): void {
  if (received) {
    uninstall();
    process.kill(process.pid, signal);
    return;
  }
  received = true;
  for (const worker of [...running]) worker.shutdown();
}

function install(): void {
  received = false;
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal);
}

function uninstall(): void {
  for (const signal of SHUTDOWN_SIGNALS) process.off(signal, onSignal);
}

/** Called when a worker starts running. */
export function trackRunningWorker(worker: { shutdown(): void }): void {
  if (running.size === 0) install();
  running.add(worker);
}

/** Called when a worker has stopped. */
export function untrackRunningWorker(worker: { shutdown(): void }): void {
  if (!running.delete(worker)) return;
  if (running.size === 0) uninstall();
}
