/**
 * Temporal's ActivityCancellationDetails (host side): why an activity was cancelled. deja's worker
 * knows three causes: the service said so (a cancel request, or the attempt is no longer this
 * worker's; deja reports both as `cancelRequested`), the attempt's deadline (`timedOut`), and the
 * worker's shutdown (`workerShutdown`). deja has no activity pause or reset, so `paused` and
 * `reset` stay false.
 */
export interface ActivityCancellationDetailsOptions {
  notFound?: boolean;
  cancelRequested?: boolean;
  paused?: boolean;
  timedOut?: boolean;
  workerShutdown?: boolean;
  reset?: boolean;
}

export class ActivityCancellationDetails {
  readonly notFound: boolean;
  readonly cancelRequested: boolean;
  readonly paused: boolean;
  readonly timedOut: boolean;
  readonly workerShutdown: boolean;
  readonly reset: boolean;
  constructor(options: ActivityCancellationDetailsOptions = {}) {
    this.notFound = options.notFound ?? false;
    this.cancelRequested = options.cancelRequested ?? false;
    this.paused = options.paused ?? false;
    this.timedOut = options.timedOut ?? false;
    this.workerShutdown = options.workerShutdown ?? false;
    this.reset = options.reset ?? false;
  }
}

/** The details for one of the worker's causes of cancellation. */
export function cancellationDetailsFor(cause: 'request' | 'deadline' | 'shutdown'): ActivityCancellationDetails {
  if (cause === 'deadline') return new ActivityCancellationDetails({ timedOut: true });
  if (cause === 'shutdown') return new ActivityCancellationDetails({ workerShutdown: true });
  return new ActivityCancellationDetails({ cancelRequested: true });
}
