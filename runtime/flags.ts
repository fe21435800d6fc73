/**
 * SDK flags (inside the isolate): which version of a changed behaviour the current activation
 * uses. A flag is Temporal's device for changing the SDK's behaviour without breaking the replay
 * of histories recorded before the change; deja numbers its flags as Temporal does (the
 * TypeScript SDK's lang flags, sdk-core's core flags), so a flag means the same in both.
 *
 * - Not replaying, every flag below is on, and the first use of one in an activation is reported
 *   with its completion (`usedFlags`), for the host to record in the task's workflowTaskCompleted.
 * - Replaying, a flag is on only when the activation says so (`Activation.flags`, decided by the
 *   host from history: lib/replay/flags.ts); nothing is reported.
 *
 * A flag is checked where the behaviour it gates is about to differ, not before: what is recorded
 * is what the task depended on, as in Temporal.
 */
import type { Activation, SdkFlags } from './protocol';
import { append, list, own, record } from './primordials';

/** The lang flags the runtime implements (Temporal's SdkFlags). */
export const LangFlag = {
  /**
   * 1: a non-cancellable scope's cancellation does not reach the scopes made inside it, and
   * `CancellationScope.withTimeout` cancels its timer when its function settles first. Off: both
   * as in Temporal's TypeScript SDK before 1.10.2/1.11.0.
   */
  NonCancellableScopesAreShieldedFromPropagation: 1,
  /**
   * 2: an activation's jobs run as one batch, signals and updates first. deja always does; the
   * flag is recorded (for an activation with a signal, as Temporal does) so that Temporal's
   * replayer reads a deja history right. Replaying with it off is not implemented.
   */
  ProcessWorkflowActivationJobsAsSingleBatch: 2,
} as const;

/** The core flags the runtime implements (sdk-core's CoreInternalFlags). */
export const CoreFlag = {
  /**
   * 2: replaying only (deja never records it): where a patch marker is recorded, an upsert of the
   * `TemporalChangeVersion` search attribute (every patch id the run has marked, sorted) follows
   * it, as Temporal's core emits one since it introduced the flag. deja does not keep that
   * attribute, so a new task does not use the flag.
   */
  UpsertSearchAttributeOnPatch: 2,
  /**
   * 3: commands the workflow emits after its closing command (an update's completion after the
   * main function returned) are kept, and sent before the closing command. Off: dropped.
   */
  MoveTerminalCommands: 3,
} as const;

function has(ids: readonly number[] | undefined, id: number): boolean {
  if (ids === undefined || ids === null) return false;
  for (let i = 0; i < ids.length; i++) if (ids[i] === id) return true;
  return false;
}

/**
 * The flags of one execution: set by each activation, asked by the behaviours they gate. Nothing
 * is allocated per activation unless a flag is asked for (most activations ask for none): the
 * activation's own `flags` is read in place (own properties only), and the used set is made on
 * first use.
 */
export class FlagState {
  private replaying = false;
  private on: SdkFlags | undefined;
  private used: SdkFlags | undefined;

  /** At the start of each activation. */
  begin(activation: Activation): void {
    this.replaying = activation.isReplaying;
    this.on = activation.flags;
    this.used = undefined;
  }

  /** Whether lang flag `id` is on for this activation (recorded as used when not replaying). */
  lang(id: number): boolean {
    return this.check('lang', id);
  }

  /** Whether core flag `id` is on for this activation (recorded as used when not replaying). */
  core(id: number): boolean {
    return this.check('core', id);
  }

  private check(kind: 'lang' | 'core', id: number): boolean {
    if (this.replaying) return this.on !== undefined && has(own(this.on, kind) as readonly number[] | undefined, id);
    const used = (this.used ??= record({ lang: list<number>(), core: list<number>() }));
    if (!has(used[kind], id)) append(used[kind], id);
    return true;
  }

  /** The flags this activation used (not replaying), or undefined when none. */
  takeUsed(): SdkFlags | undefined {
    const used = this.used;
    this.used = undefined;
    return used === undefined || (used.lang.length === 0 && used.core.length === 0) ? undefined : used;
  }
}
