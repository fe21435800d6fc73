/**
 * Local activities (inside the isolate): `proxyLocalActivities`, with Temporal's semantics. The
 * command carries no outcome: the worker runs the activity inside the workflow task, retrying it
 * locally, then delivers its outcome (resolveLocalActivity) in a follow-up activation of the same
 * task; history records it as a marker, and replay reads the outcome from there.
 */
import { Proxy, TypeError, put, record } from './primordials';
import type { ScheduleLocalActivityCommand } from './protocol';
import { getState, type ActivityCancellation } from './internals';
import { CancellationScope } from './cancellation-scope';
import { checkKeys, checkPayloads, enumOption, retryPolicy, withExecuteWithOptions, type ActivityCancellationType, type ActivityInterfaceFor, type RetryOptions } from './workflow';
import { optionalDurationToMs, type Duration } from './time';
import { emptyHeaders, hasInterceptors, interceptOutbound } from './interceptors';

export interface LocalActivityOptions {
  /** Default: the activity's seq in this run. */
  activityId?: string;
  /** The limit of one attempt. */
  startToCloseTimeout?: Duration;
  /** The limit of all attempts together, retries included. */
  scheduleToCloseTimeout?: Duration;
  /** Retried locally as this says (default: Temporal's, unlimited attempts from 1 s doubling to 100 s). */
  retry?: RetryOptions;
  /** What cancelling the activity's scope does (default TRY_CANCEL). */
  cancellationType?: ActivityCancellationType;
  /** Accepted for compatibility with Temporal; deja retries locally within the task's lease. */
  localRetryThreshold?: Duration;
  scheduleToStartTimeout?: Duration;
  summary?: string;
}

const LOCAL_ACTIVITY_OPTION_KEYS = [
  'activityId',
  'startToCloseTimeout',
  'scheduleToCloseTimeout',
  'retry',
  'cancellationType',
  'localRetryThreshold',
  'scheduleToStartTimeout',
  'summary',
];

/**
 * A proxy whose every property runs the local activity of that name. One of startToCloseTimeout
 * or scheduleToCloseTimeout is required, as in Temporal. The worker runs it within the workflow
 * task that scheduled it, so it must also end within that task's timeout (less a margin): an
 * attempt still running then fails with a startToClose TimeoutFailure whose message says the
 * task's lease would end, and is not retried. Use a plain activity for anything long.
 */
export function proxyLocalActivities<A = Record<string, (...args: any[]) => Promise<any>>>(options: LocalActivityOptions): ActivityInterfaceFor<A> {
  if (typeof options !== 'object' || options === null) throw new TypeError('proxyLocalActivities: expected an options object');
  checkKeys('proxyLocalActivities', options, LOCAL_ACTIVITY_OPTION_KEYS);
  if (options.startToCloseTimeout === undefined && options.scheduleToCloseTimeout === undefined) {
    throw new TypeError('proxyLocalActivities: one of startToCloseTimeout or scheduleToCloseTimeout is required');
  }
  if (options.activityId !== undefined && (typeof options.activityId !== 'string' || options.activityId === '')) {
    throw new TypeError('proxyLocalActivities: activityId must be a non-empty string');
  }
  const fields = record({}) as Omit<ScheduleLocalActivityCommand, 'type' | 'seq' | 'activityId' | 'activityType' | 'args'>;
  const set = (key: string, value: unknown) => value !== undefined && put(fields, key, value);
  set('scheduleToCloseTimeoutMs', optionalDurationToMs(options.scheduleToCloseTimeout, 'scheduleToCloseTimeout'));
  set('startToCloseTimeoutMs', optionalDurationToMs(options.startToCloseTimeout, 'startToCloseTimeout'));
  set('retryPolicy', retryPolicy(options.retry));
  optionalDurationToMs(options.localRetryThreshold, 'localRetryThreshold');
  optionalDurationToMs(options.scheduleToStartTimeout, 'scheduleToStartTimeout');
  const cancellation: ActivityCancellation =
    options.cancellationType === undefined
      ? 'TRY_CANCEL'
      : enumOption('proxyLocalActivities cancellationType', options.cancellationType, ['TRY_CANCEL', 'WAIT_CANCELLATION_COMPLETED', 'ABANDON'] as const);
  const activityId = options.activityId;
  const handler: ProxyHandler<ActivityInterfaceFor<A>> = record({
    get(_: unknown, activityType: string | symbol) {
      if (typeof activityType !== 'string') return undefined;
      return withExecuteWithOptions((...args: unknown[]) => {
        const state = getState('a local activity');
        if (hasInterceptors()) {
          const scope = CancellationScope.current();
          const seq = state.reserveSeq('activity');
          return interceptOutbound('scheduleLocalActivity', record({ activityType, args, options: { ...options }, headers: emptyHeaders(), seq, attempt: 1 }), (input) =>
            state.scheduleLocalActivity(
              activityId,
              { activityType: input.activityType, args: checkPayloads(input.args, `local activity ${input.activityType}`), ...fields },
              cancellation,
              scope,
              input.seq,
            ),
          );
        }
        return state.scheduleLocalActivity(
          activityId,
          { activityType, args: checkPayloads(args, `local activity ${activityType}`), ...fields },
          cancellation,
          CancellationScope.current(),
        );
      }, options, proxyLocalActivities as never, activityType);
    },
  });
  return new Proxy({} as ActivityInterfaceFor<A>, handler);
}
