/**
 * The rest of `@temporalio/client`'s names that deja can honestly offer (host side): error classes,
 * enums and constants, and the types an author writes in annotations, shaped to deja's values.
 *
 * Errors deja's client never throws are still exported, so that `catch` blocks written for
 * Temporal compile and run: QueryRejectedError (deja answers queries whatever the run's status),
 * WorkflowUpdateRPCTimeoutOrCancelledError (an update call waits; it has no RPC deadline) and
 * ActivityCompletionError (async completion fails with ActivityNotFoundError or a DejaError).
 * `QueryNotRegisteredError` is an `instanceof` view: deja's QueryFailedError for a query the
 * workflow has no handler for is an instance of it.
 */
import { QueryFailedError } from '../service-errors';
import type { ScheduleDescription } from './schedules';

function hasMarker(value: unknown, marker: symbol): boolean {
  try {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  } catch {
    return false;
  }
}
/** Temporal's marker-based `instanceof` (same symbols), so Temporal's own classes and deja's recognise each other. */
function markAsTemporal(ctor: abstract new (...args: any[]) => Error, name: string, alsoAccepts?: (value: unknown) => boolean): void {
  const marker = Symbol.for(`__temporal_is${name}`);
  Object.defineProperty(ctor.prototype, 'name', { value: name, enumerable: true });
  Object.defineProperty(ctor.prototype, marker, { value: true, enumerable: false });
  Object.defineProperty(ctor, Symbol.hasInstance, {
    value(this: unknown, value: unknown): boolean {
      if (this !== ctor) {
        try {
          return typeof this === 'function' && typeof value === 'object' && value !== null && Object.prototype.isPrototypeOf.call(this.prototype, value);
        } catch {
          return false;
        }
      }
      return hasMarker(value, marker) || (alsoAccepts !== undefined && alsoAccepts(value));
    },
  });
}

/** The failure types deja's runtime gives a query no handler answers. */
const NOT_REGISTERED = new Set(['QueryNotFound', 'QueryNotRegisteredError']);

/**
 * A query the workflow has no handler for. deja's client throws a QueryFailedError
 * (DEJA_QUERY_FAILED) then, and that error is an instance of this class too.
 */
export class QueryNotRegisteredError extends Error {
  constructor(
    message: string,
    /** Temporal's gRPC status code; deja's is 'DEJA_QUERY_FAILED'. */
    readonly code: unknown,
  ) {
    super(message);
  }
}
markAsTemporal(QueryNotRegisteredError, 'QueryNotRegisteredError', (value) => {
  try {
    return value instanceof QueryFailedError && NOT_REGISTERED.has(String(value.failure?.type));
  } catch {
    return false;
  }
});

/** A query rejected by the query reject condition. deja never throws it (it answers every query). */
export class QueryRejectedError extends Error {
  constructor(readonly status: unknown) {
    super('Query rejected');
  }
}
markAsTemporal(QueryRejectedError, 'QueryRejectedError');

/** An update call timed out or was cancelled at the RPC level. deja never throws it: an update call waits for its stage. */
export class WorkflowUpdateRPCTimeoutOrCancelledError extends Error {
  constructor(
    message: string,
    opts?: { cause: Error },
  ) {
    super(message, opts);
  }
}
markAsTemporal(WorkflowUpdateRPCTimeoutOrCancelledError, 'WorkflowUpdateRPCTimeoutOrCancelledError');

/** Async completion failed for another reason than a missing or cancelled activity. deja never throws it. */
export class ActivityCompletionError extends Error {}
markAsTemporal(ActivityCompletionError, 'ActivityCompletionError');

/** What happens to a signal or update handler still running when the workflow closes (Temporal's names; deja abandons it without a warning). */
export const HandlerUnfinishedPolicy = {
  WARN_AND_ABANDON: 'WARN_AND_ABANDON',
  ABANDON: 'ABANDON',
} as const;
export type HandlerUnfinishedPolicy = (typeof HandlerUnfinishedPolicy)[keyof typeof HandlerUnfinishedPolicy];

/** The months and days of Temporal's calendar specs. deja's schedules refuse calendar specs (use cron expressions), so these serve annotations and conversions. */
export const MONTHS = ['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'] as const;
export type Month = (typeof MONTHS)[number];
export const DAYS_OF_WEEK = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'] as const;
export type DayOfWeek = (typeof DAYS_OF_WEEK)[number];

export interface Range<Unit> {
  start: Unit;
  end?: Unit;
  step?: number;
}
export type LooseRange<Unit> = Range<Unit> | { start: Range<Unit>['start']; end?: Range<Unit>['end']; step?: never } | Unit;
/** Temporal's calendar spec (a type only: deja's schedules refuse calendars with a message naming cron expressions). */
export interface CalendarSpec {
  second?: LooseRange<number> | LooseRange<number>[] | '*';
  minute?: LooseRange<number> | LooseRange<number>[] | '*';
  hour?: LooseRange<number> | LooseRange<number>[] | '*';
  dayOfMonth?: LooseRange<number> | LooseRange<number>[] | '*';
  month?: LooseRange<Month> | LooseRange<Month>[] | '*';
  year?: LooseRange<number> | LooseRange<number>[] | '*';
  dayOfWeek?: LooseRange<DayOfWeek> | LooseRange<DayOfWeek>[] | '*';
  comment?: string;
}
export interface CalendarSpecDescription {
  second: Range<number>[];
  minute: Range<number>[];
  hour: Range<number>[];
  dayOfMonth: Range<number>[];
  month: Range<Month>[];
  year: Range<number>[];
  dayOfWeek: Range<DayOfWeek>[];
  comment?: string;
}

/** A schedule's spec as `describe()` gives it. */
export type ScheduleSpecDescription = ScheduleDescription['spec'];
/** One interval of a described spec, in milliseconds. */
export type IntervalSpecDescription = ScheduleSpecDescription['intervals'][number];
/** A described schedule's action. */
export type ScheduleDescriptionAction = ScheduleDescription['action'];
export type ScheduleDescriptionStartWorkflowAction = ScheduleDescription['action'];
/** `client.schedule.list()`'s options. */
export interface ListScheduleOptions {
  pageSize?: number;
  query?: string;
}
/** `handle.result()`'s options in Temporal; deja's handles take `followRuns` when made (getHandle). */
export interface WorkflowResultOptions {
  followRuns?: boolean;
}
