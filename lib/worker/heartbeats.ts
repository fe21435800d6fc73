/**
 * An activity's heartbeats (host side), throttled as Temporal's worker does: the first goes at
 * once; later ones wait until the throttle interval has passed since the last one sent, and the
 * latest details win. At most one is in flight. An answer that the activity is cancelled (or its
 * task is no longer this worker's) is passed on once; a lost heartbeat is retried by the next.
 */
import type { Payload } from '../../runtime/protocol';
import type { HeartbeatResponse } from '../service';

/** With no heartbeat timeout, Temporal's default throttle interval; with one, 80% of it, at most a minute. */
export const DEFAULT_HEARTBEAT_THROTTLE_MS = 30_000;
export const MAX_HEARTBEAT_THROTTLE_MS = 60_000;

export function heartbeatThrottleMs(heartbeatTimeoutMs: number | undefined): number {
  if (heartbeatTimeoutMs === undefined || heartbeatTimeoutMs <= 0) return DEFAULT_HEARTBEAT_THROTTLE_MS;
  return Math.min(MAX_HEARTBEAT_THROTTLE_MS, Math.floor(heartbeatTimeoutMs * 0.8));
}

export class Heartbeats {
  /** Details waiting to be sent: `{}` is a heartbeat without details. */
  private pending: { details?: Payload } | undefined;
  private inFlight: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastSentAt = -Infinity;
  private closed = false;

  constructor(
    private readonly send: (details: Payload | undefined) => Promise<HeartbeatResponse>,
    private readonly throttleMs: number,
    private readonly onCancelRequested: () => void,
  ) {}

  /** Queues a heartbeat. Details left out keep the ones still waiting (the service keeps the last too). */
  beat(details: Payload | undefined): void {
    if (this.closed) return;
    const keep = details === undefined ? this.pending?.details : details;
    this.pending = keep === undefined ? {} : { details: keep };
    this.pump();
  }

  /** Sends what is still waiting, once, and stops: the attempt is about to be reported. */
  async flush(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
    const last = this.pending;
    this.pending = undefined;
    if (last !== undefined) await this.sendOne(last.details);
  }

  /** Stops without sending what waits (the worker is not reporting this attempt). */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private pump(): void {
    if (this.closed || this.inFlight !== undefined || this.timer !== undefined || this.pending === undefined) return;
    const wait = this.lastSentAt + this.throttleMs - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, wait);
      return;
    }
    const { details } = this.pending;
    this.pending = undefined;
    this.lastSentAt = Date.now();
    this.inFlight = this.sendOne(details).finally(() => {
      this.inFlight = undefined;
      this.pump();
    });
  }

  private async sendOne(details: Payload | undefined): Promise<void> {
    try {
      const response = await this.send(details);
      if (response.cancelRequested) this.onCancelRequested();
    } catch {
      // A lost heartbeat: the next one carries the details again, or the lease decides.
    }
  }
}
