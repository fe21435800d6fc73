/**
 * SDK flags on the host side (pure): which flags are on for each replayed workflow task, and which
 * a live task used first (to record in its workflowTaskCompleted). The runtime's side, and what
 * each flag gates, is runtime/flags.ts. Temporal's rules, which deja follows so that Temporal's
 * histories replay with Temporal's verdict:
 *
 * - A flag is on for a replayed task when a workflowTaskCompleted of the run up to and including
 *   the task's own recorded it (`sdkMetadata.langUsedFlags` / `coreUsedFlags`): once recorded, a
 *   flag stays on for the rest of the run. The task's own completion counts (Temporal's core reads
 *   ahead to it), since that is where a task records the flags it used first.
 * - Temporal's TypeScript SDK infers some flags where its versions failed to record them (its
 *   "alternative conditions", evaluated for the replayed task only and never recorded): lang
 *   flags 1 and 2 for a task whose worker build id is `@temporalio/worker@1.11.0+…` or
 *   `@1.11.1+…`; lang flags 3, 4 and 5 (OpenTelemetry interceptor yield points) when the last
 *   recorded SDK version is at least 1.11.5, 1.11.6 and 1.13.2.
 * - A workflowTaskCompleted without `sdkMetadata` was written by deja before it recorded flags,
 *   whose runtime then behaved as with lang flag 1 (and without core flag 3): it counts as
 *   recording lang flag 1. (A Temporal history from a server too old to record sdkMetadata reads
 *   the same way; lang flag 1 only matters there for `withTimeout` scopes and cancelled
 *   non-cancellable scopes.)
 * - A live task runs with every flag on; the flags it used that the run has not recorded yet are
 *   what its workflowTaskCompleted records.
 */
import type { SdkFlags } from '../../runtime/protocol';
import type { EventOf, HistoryEvent } from '../history/events';
import type { SdkMetadata } from '../history/schema';

/** What deja's runtime did before flags were recorded: lang flag 1, and nothing else. */
const LEGACY_LANG_FLAGS: readonly number[] = [1];

/** Temporal's TypeScript SDK's build ids for 1.11.0 and 1.11.1, which did not record their flags. */
const UNRECORDED_FLAGS_BUILD_ID = /^@temporalio\/worker@1\.11\.[01][+]/;

/** Lang flags inferred from the last recorded SDK version: flag → the version from which it is on. */
const FLAGS_BY_SDK_VERSION: readonly (readonly [number, readonly [number, number, number]])[] = [
  [3, [1, 11, 5]],
  [4, [1, 11, 6]],
  [5, [1, 13, 2]],
];

function atLeast(version: string, min: readonly [number, number, number]): boolean {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  for (let i = 0; i < 3; i++) {
    const v = Number(m[i + 1]);
    if (v !== min[i]) return v > min[i];
  }
  return true;
}

/** Adds `flags` to `set`; true when one was new. */
function addAll(set: Set<number>, flags: readonly number[]): boolean {
  let added = false;
  for (let i = 0; i < flags.length; i++) {
    if (!set.has(flags[i])) {
      set.add(flags[i]);
      added = true;
    }
  }
  return added;
}

/** The flags recorded so far in one run, and the rules above. One per ReplayMachine. */
export class FlagHistory {
  private readonly lang = new Set<number>();
  private readonly core = new Set<number>();
  private sdkVersion: string | undefined;
  private buildId: string | undefined;
  /** The flags `forReplayedTask` answers, until something recorded changes them (most tasks record nothing new). */
  private answer: SdkFlags | undefined;

  /** Whether a completion without sdkMetadata has counted as recording the legacy flags already. */
  private legacy = false;

  /**
   * Takes what a workflowTaskCompleted recorded. Idempotent. Called for every replayed task, so
   * the common case (nothing new) allocates nothing and touches the sets only to look.
   */
  record(completed: EventOf<'workflowTaskCompleted'>): void {
    const buildId = completed.workerBuildId;
    if (buildId !== undefined && buildId !== this.buildId) {
      this.buildId = buildId;
      this.answer = undefined;
    }
    const m = completed.sdkMetadata;
    if (m === undefined) {
      if (!this.legacy) {
        this.legacy = true;
        if (addAll(this.lang, LEGACY_LANG_FLAGS)) this.answer = undefined;
      }
      return;
    }
    if (m.langUsedFlags !== undefined && addAll(this.lang, m.langUsedFlags)) this.answer = undefined;
    if (m.coreUsedFlags !== undefined && addAll(this.core, m.coreUsedFlags)) this.answer = undefined;
    if (m.sdkVersion !== undefined && m.sdkVersion !== this.sdkVersion) {
      this.sdkVersion = m.sdkVersion;
      this.answer = undefined;
    }
  }

  /** The flags on for a completed task, given its workflowTaskCompleted (recorded first). */
  forReplayedTask(completed: EventOf<'workflowTaskCompleted'>): SdkFlags {
    this.record(completed);
    if (this.answer !== undefined) return this.answer;
    const lang = new Set(this.lang);
    if (this.buildId !== undefined && UNRECORDED_FLAGS_BUILD_ID.test(this.buildId)) {
      lang.add(1);
      lang.add(2);
    }
    if (this.sdkVersion !== undefined) for (const [flag, min] of FLAGS_BY_SDK_VERSION) if (atLeast(this.sdkVersion, min)) lang.add(flag);
    this.answer = { lang: [...lang].sort((a, b) => a - b), core: [...this.core].sort((a, b) => a - b) };
    return this.answer;
  }

  /**
   * The flags a live task used that the run has not recorded yet, as its workflowTaskCompleted's
   * sdkMetadata (undefined: none); they count as recorded from now on.
   */
  recordLive(used: SdkFlags | undefined): SdkMetadata | undefined {
    if (used === undefined) return undefined;
    const lang = [...new Set(used.lang)].filter((f) => !this.lang.has(f)).sort((a, b) => a - b);
    const core = [...new Set(used.core)].filter((f) => !this.core.has(f)).sort((a, b) => a - b);
    if (lang.length === 0 && core.length === 0) return undefined;
    for (const f of lang) this.lang.add(f);
    for (const f of core) this.core.add(f);
    this.answer = undefined;
    return { ...(lang.length > 0 ? { langUsedFlags: lang } : {}), ...(core.length > 0 ? { coreUsedFlags: core } : {}) };
  }
}

/** The union of two activations' used flags (a task's activation and its follow-ups). */
export function unionFlags(a: SdkFlags | undefined, b: SdkFlags | undefined): SdkFlags | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return { lang: [...new Set([...a.lang, ...b.lang])], core: [...new Set([...a.core, ...b.core])] };
}
