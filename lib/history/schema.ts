/**
 * The one schema source of history events, failures, retry policies and commands (host side).
 * Everything else is derived from these TypeBox schemas: the TypeScript types of events
 * (events.ts, by `Static<>`), history validation on read (validate.ts, with TypeBox's compiled
 * checks dispatched on `type`), the engine's checks of commands, failures and retry policies
 * (lib/engine/validate.ts), and the published JSON Schema (docs/history.schema.json, written by
 * `historyJsonSchema()`; a test fails when the file is stale).
 *
 * runtime/protocol.ts stays types-only (it runs inside the isolate too), so the protocol's types
 * are not derived from here: they are checked against these schemas at compile time instead
 * (`Same<…>` below), and a schema that drifts from its protocol type does not compile.
 *
 * What a schema cannot say (consecutive ids, time order, references between events, lifecycle)
 * is the reader's, in validate.ts.
 */
import { DejaError } from '../errors';
import { Kind, Type, TypeRegistry, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Errors, ValueErrorType } from '@sinclair/typebox/errors';
import type {
  Command,
  FailureKind,
  Payload,
  RetryPolicy,
  RetryState,
  ParentClosePolicy,
  RequestCancelExternalWorkflowCommand,
  ScheduleActivityCommand,
  SignalExternalWorkflowCommand,
  StartChildWorkflowCommand,
  TimeoutType,
  WireFailure,
  WorkflowIdReusePolicy,
  ContinueAsNewCommand,
  ScheduleLocalActivityCommand,
  LocalActivityOutcome,
  SearchAttributeValue,
} from '../../runtime/protocol';

export const HISTORY_FORMAT = 'deja.history';
export const HISTORY_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// Wording: what a schema expects, in words, for error messages

/**
 * A schema's own wording of what it expects ("a failure { message, kind, … }"), when the words
 * derived from its keywords (`expectedOf`) would say less. A symbol, so it never reaches the
 * JSON Schema file.
 */
export const Expected: unique symbol = Symbol.for('deja.schema.expected');

/**
 * Marks what the reader checks itself, before or while it uses the value anyway: true for a whole
 * schema (an event's `eventId`, which must equal its position, and its `type`, which picks the
 * schema; the event time, parsed for the time order), or a list of keywords.
 */
export const CheckedByReader: unique symbol = Symbol.for('deja.schema.checkedByReader');

function worded<S extends TSchema>(schema: S, words: string): S {
  (schema as Record<symbol, unknown>)[Expected] = words;
  return schema;
}

// ---------------------------------------------------------------------------------------------
// Payloads: any JSON value

/**
 * The TypeBox kind of a payload. Its check walks the value; JSON.parse output always passes, so
 * the walk matters only for objects handed in directly (a Date, NaN, undefined, a cycle).
 */
const PAYLOAD_KIND = 'DejaPayload';
const MAX_FAST_DEPTH = 64;

/**
 * True if `v` is a JSON value no more than MAX_FAST_DEPTH deep made of this realm's plain objects
 * and arrays. False means "not sure": `payloadProblem` then decides (deep values, other realms).
 */
function isShallowJson(v: unknown, depth: number): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (typeof v !== 'object' || depth >= MAX_FAST_DEPTH) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!isShallowJson(v[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(v) as object | null;
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key in v) if (!isShallowJson((v as Record<string, unknown>)[key], depth + 1)) return false;
  return true;
}

/** A plain object of any realm: its prototype is null or a prototype whose own prototype is null. */
export function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/** Where in a payload a value is not JSON, and what it is instead. */
export interface PayloadProblem {
  /** Keys from the payload's root: numbers are array indexes. */
  keys: (string | number)[];
  /** "a JSON value (numbers must be finite)", … */
  expected: string;
  value: unknown;
  cycle?: boolean;
}

/**
 * The first place, in document order, where `value` is not a JSON value that survives
 * JSON.stringify → JSON.parse unchanged; undefined if there is none. Iterative, because
 * JSON.parse accepts nesting deeper than a recursive walk could follow.
 */
export function payloadProblem(value: unknown): PayloadProblem | undefined {
  if (isShallowJson(value, 0)) return undefined;
  interface Node {
    value: unknown;
    parent: Node | undefined;
    key: string | number | undefined;
  }
  const keysOf = (node: Node): (string | number)[] => {
    const keys: (string | number)[] = [];
    for (let n: Node | undefined = node; n?.key !== undefined; n = n.parent) keys.push(n.key);
    return keys.reverse();
  };
  const onPath = new Set<object>();
  const stack: (Node | { leave: object })[] = [{ value, parent: undefined, key: undefined }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if ('leave' in node) {
      onPath.delete(node.leave);
      continue;
    }
    const v = node.value;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') continue;
    if (typeof v === 'number') {
      if (Number.isFinite(v)) continue;
      return { keys: keysOf(node), expected: 'a JSON value (numbers must be finite)', value: v };
    }
    if (typeof v !== 'object') {
      const hint = v === undefined ? ' (JSON has no undefined: omit the field, or use null inside arrays)' : '';
      return { keys: keysOf(node), expected: `a JSON value${hint}`, value: v };
    }
    if (onPath.has(v)) return { keys: keysOf(node), expected: 'a JSON value', value: v, cycle: true };
    if (!Array.isArray(v) && !isPlainObject(v)) return { keys: keysOf(node), expected: 'a JSON value (a plain object)', value: v };
    onPath.add(v);
    stack.push({ leave: v });
    // Children are pushed in reverse so that the first bad one, in document order, is reported.
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], parent: node, key: i });
    } else {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) stack.push({ value: (v as Record<string, unknown>)[keys[i]], parent: node, key: keys[i] });
    }
  }
  return undefined;
}

/** True if `value` is a payload (a JSON value). */
export const isPayload = (value: unknown): boolean => payloadProblem(value) === undefined;

/** True if `schema` is a payload's. */
export const isPayloadSchema = (schema: TSchema): boolean => schema[Kind] === PAYLOAD_KIND;

TypeRegistry.Set(PAYLOAD_KIND, (_schema, value) => isPayload(value));

const payload = () =>
  worded(Type.Unsafe<Payload>({ [Kind]: PAYLOAD_KIND, description: 'Any JSON value.' }), 'a JSON value');
const payloads = () => Type.Array(payload());

// ---------------------------------------------------------------------------------------------
// Scalars

/** An integer ≥ min that a double holds exactly. */
const Int = (min: number, description?: string) =>
  Type.Integer({ minimum: min, maximum: Number.MAX_SAFE_INTEGER, ...(description ? { description } : {}) });
const NonEmpty = (description?: string) => Type.String({ minLength: 1, ...(description ? { description } : {}) });
/** Durations may have a fraction: imported Temporal durations have nanosecond precision. */
const Ms = (description?: string) =>
  worded(Type.Number({ minimum: 0, ...(description ? { description } : {}) }), 'a non-negative, finite number of milliseconds');
/** An eventId that an event refers to. */
const EventRef = (description: string) => Int(1, description);

/** The words of a list of allowed values: "application", "activity", … */
export const quoteList = (values: readonly string[]): string => values.map((v) => JSON.stringify(v)).join(', ');

/** A closed set of strings; `values` comes from a Record over the union, so none can be left out. */
function Enum<T extends string>(members: Record<T, true>, description: string) {
  const values = Object.keys(members) as T[];
  return Type.Unsafe<T>(Type.Union(values.map((v) => Type.Literal(v)), { description }));
}

// ---------------------------------------------------------------------------------------------
// Failures and retry policies

export const FailureKindSchema = Enum<FailureKind>(
  { application: true, activity: true, childWorkflow: true, timeout: true, cancelled: true, terminated: true, server: true },
  'Which failure class the failure stands for.',
);
export const RetryStateSchema = Enum<RetryState>(
  {
    unspecified: true,
    inProgress: true,
    nonRetryableFailure: true,
    timeout: true,
    maximumAttemptsReached: true,
    retryPolicyNotSet: true,
    cancelRequested: true,
  },
  'Why retrying stopped.',
);
export const TimeoutTypeSchema = Enum<TimeoutType>(
  { startToClose: true, scheduleToStart: true, scheduleToClose: true, heartbeat: true },
  'Which timeout fired.',
);

/** A failure as it crosses the boundary and as it is stored in history; `cause` is another one. */
export const WireFailureSchema = worded(
  Type.Recursive(
    (This) =>
      Type.Object(
        {
          message: Type.String(),
          kind: FailureKindSchema,
          type: Type.Optional(Type.String({ description: "ApplicationFailure's type, or the error's class name." })),
          stack: Type.Optional(Type.String()),
          nonRetryable: Type.Optional(Type.Boolean()),
          details: Type.Optional(payloads()),
          activityType: Type.Optional(Type.String()),
          activityId: Type.Optional(Type.String()),
          retryState: Type.Optional(RetryStateSchema),
          timeoutType: Type.Optional(TimeoutTypeSchema),
          workflowId: Type.Optional(Type.String({ description: "For kind 'childWorkflow': the child's workflow id." })),
          runId: Type.Optional(Type.String({ description: "For kind 'childWorkflow': the child's run id." })),
          workflowType: Type.Optional(Type.String({ description: "For kind 'childWorkflow': the child's workflow type." })),
          cause: Type.Optional(This),
        },
        { additionalProperties: false },
      ),
    { $id: 'WireFailure', title: 'WireFailure' },
  ),
  'a failure { message, kind, … }',
);

/**
 * A retry policy, with the durations of its kind: history reads any non-negative number of
 * milliseconds (imported durations have fractions); a command must give whole milliseconds ≥ 1.
 */
function retryPolicySchema<D extends TSchema>(duration: () => D) {
  return worded(
    Type.Object(
      {
        initialIntervalMs: Type.Optional(duration()),
        backoffCoefficient: Type.Optional(Type.Number({ minimum: 1 })),
        maximumIntervalMs: Type.Optional(duration()),
        maximumAttempts: Type.Optional(Int(0, '0 means unlimited.')),
        nonRetryableErrorTypes: Type.Optional(Type.Array(Type.String())),
      },
      { additionalProperties: false },
    ),
    'a retry policy',
  );
}
export const RetryPolicySchema = retryPolicySchema(() => Ms());
export const RetryPolicyCommandSchema = retryPolicySchema(() => Int(1));

export const ParentClosePolicySchema = Enum<ParentClosePolicy>(
  { terminate: true, requestCancel: true, abandon: true },
  'What happens to the child when its parent closes.',
);
export const WorkflowIdReusePolicySchema = Enum<WorkflowIdReusePolicy>(
  { allowDuplicate: true, allowDuplicateFailedOnly: true, rejectDuplicate: true },
  'Whether a workflow id whose last run closed may start another run.',
);

/** One typed search attribute value (see SearchAttributeValue in the protocol). */
export const SearchAttributeValueSchema = worded(
  Type.Union([
    Type.Object({ type: Type.Union([Type.Literal('TEXT'), Type.Literal('KEYWORD'), Type.Literal('DATETIME')]), value: Type.String() }, { additionalProperties: false }),
    Type.Object({ type: Type.Union([Type.Literal('INT'), Type.Literal('DOUBLE')]), value: Type.Number() }, { additionalProperties: false }),
    Type.Object({ type: Type.Literal('BOOL'), value: Type.Boolean() }, { additionalProperties: false }),
    Type.Object({ type: Type.Literal('KEYWORD_LIST'), value: Type.Array(Type.String()) }, { additionalProperties: false }),
  ]),
  'a typed search attribute value { type, value }',
);
export const SearchAttributesSchema = Type.Record(Type.String({ minLength: 1 }), SearchAttributeValueSchema, {
  description: 'Search attributes by name, each with its type.',
});
export const SearchAttributeUpsertsSchema = Type.Record(Type.String({ minLength: 1 }), Type.Union([SearchAttributeValueSchema, Type.Null()]), {
  description: 'A value sets the attribute; null removes it.',
});
const memoSchema = () => Type.Record(Type.String({ minLength: 1 }), payload(), { description: 'Memo fields by name: any JSON values.' });

/** Who started a run that continues another. */
export const ContinueAsNewInitiatorSchema = Type.Union([Type.Literal('workflow'), Type.Literal('retryPolicy'), Type.Literal('cronSchedule')], {
  description: "'workflow': continue-as-new; 'retryPolicy': a retry of a failed run; 'cronSchedule': the next run of a cron.",
});

// ---------------------------------------------------------------------------------------------
// Events

// ISO-8601 date-time with a zone. A zone is required: without one Date.parse reads local time,
// and history would then depend on the reading machine's time zone.
export const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export const EVENT_TIME_WORDS = 'an ISO-8601 UTC time such as "2024-01-31T12:00:00.000Z"';

const EventTime = () => {
  const schema = worded(
    Type.String({
      pattern: ISO_TIME.source,
      description: 'ISO-8601 with a zone; deja writes UTC with milliseconds. Never earlier than the event before.',
    }),
    EVENT_TIME_WORDS,
  );
  return byReader(schema);
};

/** An ISO-8601 time with a zone inside an event (not the event's own time). */
function EventTimeValue(description: string) {
  return worded(Type.String({ pattern: ISO_TIME.source, description }), EVENT_TIME_WORDS);
}

function byReader<S extends TSchema>(schema: S): S {
  (schema as unknown as Record<symbol, unknown>)[CheckedByReader] = true;
  return schema;
}

/** The article of a word: "an activity", "a timer". */
export const a = (word: string): string => `${/^[aeiou]/i.test(word) ? 'an' : 'a'} ${word}`;

/** A flag id: a positive integer (Temporal's numbering). */
const FlagIds = (description: string) => Type.Array(Int(1), { description });

/**
 * The SDK flags a workflow task used the first time (Temporal's WorkflowTaskCompletedMetadata);
 * see lib/replay/flags.ts for what each gates and how replay decides which are on. Absent on a
 * task deja wrote before it recorded flags: such a task counts as using deja's behaviour of then
 * (lang flag 1).
 */
export const SdkMetadataSchema = Type.Object(
  {
    langUsedFlags: Type.Optional(FlagIds('Workflow-code (lang) flags first used in this task.')),
    coreUsedFlags: Type.Optional(FlagIds('Core flags first used in this task.')),
    sdkName: Type.Optional(Type.String({ description: 'The SDK that completed the task, when it changed.' })),
    sdkVersion: Type.Optional(Type.String({ description: "The SDK's version, when it changed." })),
  },
  { additionalProperties: false, description: 'The SDK flags the task used first, and the SDK that completed it.' },
);
export type SdkMetadata = Static<typeof SdkMetadataSchema>;

/** An event: `eventId`, `eventTime`, `type`, then its own fields (flat), in this order. */
function event<T extends string, P extends Record<string, TSchema>>(type: T, description: string, fields: P) {
  return worded(
    Type.Object(
      {
        eventId: byReader(Int(1, 'Its position: 1, 2, 3, … with no gaps.')),
        eventTime: EventTime(),
        type: byReader(Type.Literal(type)),
        ...fields,
      },
      { additionalProperties: false, title: type, description },
    ),
    `${a(type)} event`,
  );
}

const identity = () => Type.Optional(Type.String({ description: 'Who did it (a worker, a client).' }));
const scheduledWorkflowTask = () => EventRef('The eventId of this task\'s workflowTaskScheduled.');
const startedWorkflowTask = () => EventRef('The eventId of this task\'s workflowTaskStarted.');
const scheduledActivity = () => EventRef('The eventId of the activityTaskScheduled.');
const completedTask = () => EventRef('The eventId of the workflowTaskCompleted whose commands caused this event.');
const childInitiated = () => EventRef('The eventId of the startChildWorkflowExecutionInitiated.');
/** The fields every event that closes a child carries. */
const childClosed = () => ({
  workflowId: NonEmpty(),
  runId: NonEmpty(),
  workflowType: NonEmpty(),
  initiatedEventId: childInitiated(),
  startedEventId: EventRef('The eventId of the childWorkflowExecutionStarted.'),
});

export const EVENT_SCHEMAS = {
  workflowExecutionStarted: event('workflowExecutionStarted', 'The run began. Always the first event, and only there.', {
    workflowType: NonEmpty('The name of the workflow function.'),
    workflowId: NonEmpty("The same as the history's."),
    runId: NonEmpty("The same as the history's."),
    firstExecutionRunId: NonEmpty('The run id of the first run in this chain of runs.'),
    taskQueue: NonEmpty(),
    input: payloads(),
    attempt: Int(1),
    randomnessSeed: NonEmpty('Seeds Math.random, uuid4 and crypto inside the isolate.'),
    workflowTaskTimeoutMs: Ms(),
    parent: Type.Optional(
      Type.Object(
        {
          workflowId: NonEmpty(),
          runId: NonEmpty(),
          initiatedEventId: EventRef("The eventId of the parent's startChildWorkflowExecutionInitiated."),
        },
        { additionalProperties: false, description: 'Set for a child workflow: the run that started it.' },
      ),
    ),
    continuedFromExecutionRunId: Type.Optional(NonEmpty('The run this one continues (continue-as-new, cron, retry).')),
    initiator: Type.Optional(ContinueAsNewInitiatorSchema),
    cronSchedule: Type.Optional(NonEmpty('The cron schedule the chain of runs follows (UTC).')),
    firstWorkflowTaskBackoffMs: Type.Optional(Ms('How long the first workflow task waited: a cron\'s next fire time, a retry\'s backoff, a start delay.')),
    workflowExecutionTimeoutMs: Type.Optional(Ms('The limit of the whole chain of runs.')),
    workflowExecutionExpirationTime: Type.Optional(EventTimeValue('When the chain\'s execution timeout ends it.')),
    workflowRunTimeoutMs: Type.Optional(Ms('The limit of this run.')),
    retryPolicy: Type.Optional(RetryPolicySchema),
    memo: Type.Optional(memoSchema()),
    searchAttributes: Type.Optional(SearchAttributesSchema),
    lastCompletionResult: Type.Optional(payload()),
    continuedFailure: Type.Optional(WireFailureSchema),
    identity: identity(),
  }),
  workflowTaskScheduled: event('workflowTaskScheduled', 'A workflow task is waiting for a worker.', {
    taskQueue: NonEmpty(),
    attempt: Int(1),
  }),
  workflowTaskStarted: event('workflowTaskStarted', 'A worker took the workflow task.', {
    scheduledEventId: scheduledWorkflowTask(),
    identity: identity(),
    historySizeBytes: Type.Optional(Int(0, "The history's size in bytes when the task started.")),
    suggestContinueAsNew: Type.Optional(Type.Boolean({ description: 'The history passed its warning threshold: the workflow should continue as new.' })),
  }),
  workflowTaskCompleted: event('workflowTaskCompleted', 'The worker answered with commands.', {
    scheduledEventId: scheduledWorkflowTask(),
    startedEventId: startedWorkflowTask(),
    identity: identity(),
    sdkMetadata: Type.Optional(SdkMetadataSchema),
    workerBuildId: Type.Optional(
      Type.String({ description: "The build id of the worker that completed the task (Temporal's workerVersion.buildId); Temporal infers SDK flags from some." }),
    ),
  }),
  workflowTaskFailed: event('workflowTaskFailed', 'The workflow task failed because of a bug; it is retried.', {
    scheduledEventId: scheduledWorkflowTask(),
    startedEventId: startedWorkflowTask(),
    cause: NonEmpty("Why: 'nondeterminism', 'workflowError', 'deadlineExceeded', 'outOfMemory', 'unhandledRejection', …"),
    failure: WireFailureSchema,
    identity: identity(),
    newRandomnessSeed: Type.Optional(
      NonEmpty(
        'Set when the task failed because the workflow was reset (a Temporal history\'s RESET_WORKFLOW): the seed the PRNG takes from the next workflow task on, derived from the new run id.',
      ),
    ),
  }),
  workflowTaskTimedOut: event('workflowTaskTimedOut', 'The worker took longer than workflowTaskTimeoutMs.', {
    scheduledEventId: scheduledWorkflowTask(),
    startedEventId: startedWorkflowTask(),
  }),
  activityTaskScheduled: event('activityTaskScheduled', 'The workflow asked for an activity.', {
    activityId: NonEmpty("Unique among the run's open activities."),
    activityType: NonEmpty('The name of the activity function.'),
    taskQueue: NonEmpty(),
    input: payloads(),
    scheduleToCloseTimeoutMs: Type.Optional(Ms()),
    scheduleToStartTimeoutMs: Type.Optional(Ms()),
    startToCloseTimeoutMs: Type.Optional(Ms()),
    heartbeatTimeoutMs: Type.Optional(Ms()),
    retryPolicy: Type.Optional(RetryPolicySchema),
    workflowTaskCompletedEventId: completedTask(),
  }),
  activityTaskStarted: event(
    'activityTaskStarted',
    'A worker ran the activity. Written once, when the activity closes, with the attempt that closed it (as Temporal does).',
    { scheduledEventId: scheduledActivity(), attempt: Int(1), identity: identity() },
  ),
  activityTaskCompleted: event('activityTaskCompleted', 'The activity returned.', {
    scheduledEventId: scheduledActivity(),
    startedEventId: EventRef('The eventId of its activityTaskStarted.'),
    result: Type.Optional(payload()),
  }),
  activityTaskFailed: event('activityTaskFailed', 'The activity failed and will not be retried.', {
    scheduledEventId: scheduledActivity(),
    startedEventId: EventRef('The eventId of its activityTaskStarted.'),
    failure: WireFailureSchema,
    retryState: RetryStateSchema,
  }),
  activityTaskTimedOut: event('activityTaskTimedOut', 'The activity ran out of time.', {
    scheduledEventId: scheduledActivity(),
    startedEventId: Type.Optional(EventRef('The eventId of its activityTaskStarted; absent when it never started.')),
    failure: WireFailureSchema,
    retryState: RetryStateSchema,
  }),
  timerStarted: event('timerStarted', 'The workflow slept or set a timeout.', {
    timerId: NonEmpty("Unique among the run's open timers."),
    startToFireTimeoutMs: Ms(),
    workflowTaskCompletedEventId: completedTask(),
  }),
  timerFired: event('timerFired', 'The time came.', {
    timerId: NonEmpty(),
    startedEventId: EventRef('The eventId of the timerStarted with the same timerId.'),
  }),
  timerCanceled: event('timerCanceled', 'The workflow cancelled the timer before it fired.', {
    timerId: NonEmpty(),
    startedEventId: EventRef('The eventId of the timerStarted with the same timerId.'),
    workflowTaskCompletedEventId: completedTask(),
  }),
  workflowExecutionSignaled: event('workflowExecutionSignaled', 'A signal arrived.', {
    signalName: NonEmpty(),
    input: payloads(),
    identity: identity(),
  }),
  workflowExecutionCancelRequested: event('workflowExecutionCancelRequested', 'Someone asked the workflow to cancel: a client, its parent, or another workflow.', {
    cause: Type.Optional(Type.String({ description: 'The reason given, if any.' })),
    identity: identity(),
    externalInitiatedEventId: Type.Optional(EventRef("The requesting workflow's requestCancelExternalWorkflowExecutionInitiated.")),
    externalWorkflowId: Type.Optional(NonEmpty('The requesting workflow, when a workflow asked.')),
    externalRunId: Type.Optional(NonEmpty()),
  }),
  activityTaskCancelRequested: event('activityTaskCancelRequested', 'The workflow asked to cancel an activity.', {
    scheduledEventId: scheduledActivity(),
    workflowTaskCompletedEventId: completedTask(),
  }),
  activityTaskCanceled: event('activityTaskCanceled', 'The activity was cancelled: before it started, or it confirmed the cancellation.', {
    scheduledEventId: scheduledActivity(),
    startedEventId: Type.Optional(EventRef('The eventId of its activityTaskStarted; absent when it never started.')),
    latestCancelRequestedEventId: EventRef('The eventId of its activityTaskCancelRequested.'),
    details: Type.Optional(payloads()),
  }),
  startChildWorkflowExecutionInitiated: event('startChildWorkflowExecutionInitiated', 'The workflow asked to start a child workflow.', {
    workflowId: NonEmpty(),
    workflowType: NonEmpty(),
    taskQueue: NonEmpty(),
    input: payloads(),
    parentClosePolicy: ParentClosePolicySchema,
    workflowIdReusePolicy: Type.Optional(WorkflowIdReusePolicySchema),
    workflowTaskTimeoutMs: Ms(),
    workflowExecutionTimeoutMs: Type.Optional(Ms()),
    workflowRunTimeoutMs: Type.Optional(Ms()),
    retryPolicy: Type.Optional(RetryPolicySchema),
    cronSchedule: Type.Optional(NonEmpty()),
    memo: Type.Optional(memoSchema()),
    searchAttributes: Type.Optional(SearchAttributesSchema),
    workflowTaskCompletedEventId: completedTask(),
  }),
  startChildWorkflowExecutionFailed: event('startChildWorkflowExecutionFailed', 'The child could not be started: its workflow id is taken.', {
    workflowId: NonEmpty(),
    workflowType: NonEmpty(),
    cause: NonEmpty("Why: 'workflowAlreadyExists'."),
    initiatedEventId: childInitiated(),
  }),
  childWorkflowExecutionStarted: event('childWorkflowExecutionStarted', 'The child started.', {
    workflowId: NonEmpty(),
    runId: NonEmpty(),
    workflowType: NonEmpty(),
    initiatedEventId: childInitiated(),
  }),
  childWorkflowExecutionCompleted: event('childWorkflowExecutionCompleted', 'The child returned.', {
    ...childClosed(),
    result: Type.Optional(payload()),
  }),
  childWorkflowExecutionFailed: event('childWorkflowExecutionFailed', 'The child failed.', {
    ...childClosed(),
    failure: WireFailureSchema,
    retryState: RetryStateSchema,
  }),
  childWorkflowExecutionCanceled: event('childWorkflowExecutionCanceled', 'The child ended cancelled.', {
    ...childClosed(),
    details: Type.Optional(payloads()),
  }),
  childWorkflowExecutionTerminated: event('childWorkflowExecutionTerminated', 'The child was terminated.', {
    ...childClosed(),
    reason: Type.Optional(Type.String()),
  }),
  childWorkflowExecutionTimedOut: event('childWorkflowExecutionTimedOut', 'The child ran out of time.', {
    ...childClosed(),
    retryState: RetryStateSchema,
  }),
  signalExternalWorkflowExecutionInitiated: event('signalExternalWorkflowExecutionInitiated', 'The workflow asked to signal another workflow.', {
    workflowId: NonEmpty(),
    runId: Type.Optional(NonEmpty('Absent: the latest run of the workflow id.')),
    signalName: NonEmpty(),
    input: payloads(),
    childWorkflowOnly: Type.Boolean(),
    workflowTaskCompletedEventId: completedTask(),
  }),
  externalWorkflowExecutionSignaled: event('externalWorkflowExecutionSignaled', 'The signal reached the other workflow.', {
    initiatedEventId: EventRef('The eventId of the signalExternalWorkflowExecutionInitiated.'),
    workflowId: NonEmpty(),
    runId: NonEmpty('The run that got the signal.'),
  }),
  signalExternalWorkflowExecutionFailed: event('signalExternalWorkflowExecutionFailed', 'The signal could not be delivered.', {
    initiatedEventId: EventRef('The eventId of the signalExternalWorkflowExecutionInitiated.'),
    workflowId: NonEmpty(),
    runId: Type.Optional(NonEmpty()),
    cause: NonEmpty("Why: 'externalWorkflowExecutionNotFound'."),
  }),
  requestCancelExternalWorkflowExecutionInitiated: event(
    'requestCancelExternalWorkflowExecutionInitiated',
    'The workflow asked to cancel another workflow (or its child).',
    {
      workflowId: NonEmpty(),
      runId: Type.Optional(NonEmpty('Absent: the latest run of the workflow id.')),
      childWorkflowOnly: Type.Boolean(),
      workflowTaskCompletedEventId: completedTask(),
    },
  ),
  externalWorkflowExecutionCancelRequested: event('externalWorkflowExecutionCancelRequested', 'The other workflow recorded the cancel request.', {
    initiatedEventId: EventRef('The eventId of the requestCancelExternalWorkflowExecutionInitiated.'),
    workflowId: NonEmpty(),
    runId: NonEmpty('The run that got the request.'),
  }),
  requestCancelExternalWorkflowExecutionFailed: event('requestCancelExternalWorkflowExecutionFailed', 'The cancel request could not be delivered.', {
    initiatedEventId: EventRef('The eventId of the requestCancelExternalWorkflowExecutionInitiated.'),
    workflowId: NonEmpty(),
    runId: Type.Optional(NonEmpty()),
    cause: NonEmpty("Why: 'externalWorkflowExecutionNotFound'."),
  }),
  workflowExecutionCompleted: event('workflowExecutionCompleted', 'The workflow returned. The last event.', {
    result: Type.Optional(payload()),
    workflowTaskCompletedEventId: completedTask(),
    newExecutionRunId: Type.Optional(NonEmpty('For a cron workflow: the run its next fire time starts.')),
  }),
  workflowExecutionFailed: event(
    'workflowExecutionFailed',
    'The workflow threw, or the service closed the run because its history would have passed a limit. The last event.',
    {
      failure: WireFailureSchema,
      workflowTaskCompletedEventId: Type.Optional(
        EventRef('The task whose failWorkflow command closed the run; absent when the service closed it itself (failure kind "server").'),
      ),
      retryState: Type.Optional(RetryStateSchema),
      newExecutionRunId: Type.Optional(NonEmpty('The run that retries this one (a retry policy) or continues its cron.')),
    },
  ),
  workflowExecutionCanceled: event('workflowExecutionCanceled', 'The workflow let a cancellation escape. The last event.', {
    details: Type.Optional(payloads()),
    workflowTaskCompletedEventId: completedTask(),
  }),
  workflowExecutionTerminated: event('workflowExecutionTerminated', 'The run was closed at once, with no workflow code run. The last event.', {
    reason: Type.Optional(Type.String()),
    details: Type.Optional(payloads()),
    identity: identity(),
  }),
  workflowExecutionTimedOut: event('workflowExecutionTimedOut', 'The run passed its run timeout, or the chain its execution timeout. The last event.', {
    retryState: RetryStateSchema,
    newExecutionRunId: Type.Optional(NonEmpty('The run that retries this one (a retry policy) or continues its cron.')),
  }),
  workflowExecutionContinuedAsNew: event('workflowExecutionContinuedAsNew', 'The workflow continued as a new run of the same workflow id. The last event.', {
    newExecutionRunId: NonEmpty(),
    workflowType: NonEmpty(),
    taskQueue: NonEmpty(),
    input: payloads(),
    workflowRunTimeoutMs: Type.Optional(Ms()),
    workflowTaskTimeoutMs: Ms(),
    workflowTaskCompletedEventId: completedTask(),
  }),
  patchMarkerRecorded: event('patchMarkerRecorded', "patched(patchId) or deprecatePatch(patchId) was first called here (Temporal's core_patch marker).", {
    patchId: NonEmpty(),
    deprecated: Type.Boolean(),
    workflowTaskCompletedEventId: completedTask(),
  }),
  localActivityMarkerRecorded: event('localActivityMarkerRecorded', "A local activity ran inside the workflow task, with this outcome (Temporal's core_local_activity marker).", {
    seq: Int(0, 'The scheduleLocalActivity command\'s seq.'),
    activityId: NonEmpty(),
    activityType: NonEmpty(),
    attempt: Int(1, 'The attempt that produced the outcome.'),
    result: Type.Optional(payload()),
    failure: Type.Optional(WireFailureSchema),
    workflowTaskCompletedEventId: completedTask(),
  }),
  upsertWorkflowSearchAttributes: event('upsertWorkflowSearchAttributes', 'The workflow set or removed search attributes.', {
    searchAttributes: SearchAttributeUpsertsSchema,
    workflowTaskCompletedEventId: completedTask(),
  }),
  workflowPropertiesModified: event('workflowPropertiesModified', 'The workflow set or removed memo fields (upsertMemo).', {
    upsertedMemo: Type.Record(Type.String({ minLength: 1 }), Type.Union([payload(), Type.Null()])),
    workflowTaskCompletedEventId: completedTask(),
  }),
  workflowExecutionUpdateAccepted: event('workflowExecutionUpdateAccepted', 'An update passed its validator; its handler runs.', {
    updateId: NonEmpty(),
    name: NonEmpty(),
    input: payloads(),
    identity: identity(),
    workflowTaskCompletedEventId: completedTask(),
  }),
  workflowExecutionUpdateCompleted: event('workflowExecutionUpdateCompleted', "An accepted update's handler returned (result) or threw (failure).", {
    updateId: NonEmpty(),
    acceptedEventId: EventRef('The eventId of its workflowExecutionUpdateAccepted.'),
    result: Type.Optional(payload()),
    failure: Type.Optional(WireFailureSchema),
    workflowTaskCompletedEventId: completedTask(),
  }),
};

export type EventSchemas = typeof EVENT_SCHEMAS;

// ---------------------------------------------------------------------------------------------
// Commands (checked by the engine at the service edge; their numbers are stricter than history's)

const timeoutMs = () => Type.Optional(Int(1));

export const LocalActivityOutcomeSchema = Type.Union([
  Type.Object({ status: Type.Literal('completed'), result: Type.Optional(payload()), attempt: Int(1) }, { additionalProperties: false }),
  Type.Object({ status: Type.Literal('failed'), failure: WireFailureSchema, attempt: Int(1) }, { additionalProperties: false }),
]);

export const COMMAND_SCHEMAS = {
  scheduleActivity: Type.Object(
    {
      type: Type.Literal('scheduleActivity'),
      seq: Int(0),
      activityId: NonEmpty(),
      activityType: NonEmpty(),
      args: payloads(),
      taskQueue: Type.Optional(NonEmpty()),
      scheduleToCloseTimeoutMs: timeoutMs(),
      scheduleToStartTimeoutMs: timeoutMs(),
      startToCloseTimeoutMs: timeoutMs(),
      heartbeatTimeoutMs: timeoutMs(),
      retryPolicy: Type.Optional(RetryPolicyCommandSchema),
    },
    { additionalProperties: false },
  ),
  startTimer: Type.Object(
    { type: Type.Literal('startTimer'), seq: Int(0), startToFireTimeoutMs: Int(1) },
    { additionalProperties: false },
  ),
  cancelTimer: Type.Object({ type: Type.Literal('cancelTimer'), seq: Int(0) }, { additionalProperties: false }),
  requestCancelActivity: Type.Object({ type: Type.Literal('requestCancelActivity'), seq: Int(0) }, { additionalProperties: false }),
  startChildWorkflow: Type.Object(
    {
      type: Type.Literal('startChildWorkflow'),
      seq: Int(0),
      workflowId: NonEmpty(),
      workflowType: NonEmpty(),
      args: payloads(),
      taskQueue: Type.Optional(NonEmpty()),
      parentClosePolicy: ParentClosePolicySchema,
      workflowIdReusePolicy: Type.Optional(WorkflowIdReusePolicySchema),
      workflowTaskTimeoutMs: timeoutMs(),
      workflowExecutionTimeoutMs: timeoutMs(),
      workflowRunTimeoutMs: timeoutMs(),
      retryPolicy: Type.Optional(RetryPolicyCommandSchema),
      cronSchedule: Type.Optional(NonEmpty()),
      memo: Type.Optional(memoSchema()),
      searchAttributes: Type.Optional(SearchAttributesSchema),
    },
    { additionalProperties: false },
  ),
  signalExternalWorkflow: Type.Object(
    {
      type: Type.Literal('signalExternalWorkflow'),
      seq: Int(0),
      workflowId: NonEmpty(),
      runId: Type.Optional(NonEmpty()),
      signalName: NonEmpty(),
      args: payloads(),
      childWorkflowOnly: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  requestCancelExternalWorkflow: Type.Object(
    {
      type: Type.Literal('requestCancelExternalWorkflow'),
      seq: Int(0),
      workflowId: NonEmpty(),
      runId: Type.Optional(NonEmpty()),
      childWorkflowOnly: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  completeWorkflow: Type.Object(
    { type: Type.Literal('completeWorkflow'), result: Type.Optional(payload()) },
    { additionalProperties: false },
  ),
  failWorkflow: Type.Object({ type: Type.Literal('failWorkflow'), failure: WireFailureSchema }, { additionalProperties: false }),
  cancelWorkflow: Type.Object({ type: Type.Literal('cancelWorkflow'), details: Type.Optional(payloads()) }, { additionalProperties: false }),
  continueAsNew: Type.Object(
    {
      type: Type.Literal('continueAsNew'),
      workflowType: NonEmpty(),
      args: payloads(),
      taskQueue: Type.Optional(NonEmpty()),
      workflowRunTimeoutMs: timeoutMs(),
      workflowTaskTimeoutMs: timeoutMs(),
      memo: Type.Optional(memoSchema()),
      searchAttributes: Type.Optional(SearchAttributesSchema),
      retryPolicy: Type.Optional(RetryPolicyCommandSchema),
    },
    { additionalProperties: false },
  ),
  scheduleLocalActivity: Type.Object(
    {
      type: Type.Literal('scheduleLocalActivity'),
      seq: Int(0),
      activityId: NonEmpty(),
      activityType: NonEmpty(),
      args: payloads(),
      scheduleToCloseTimeoutMs: timeoutMs(),
      startToCloseTimeoutMs: timeoutMs(),
      retryPolicy: Type.Optional(RetryPolicyCommandSchema),
      outcome: Type.Optional(LocalActivityOutcomeSchema),
    },
    { additionalProperties: false },
  ),
  setPatchMarker: Type.Object({ type: Type.Literal('setPatchMarker'), patchId: NonEmpty(), deprecated: Type.Boolean() }, { additionalProperties: false }),
  upsertSearchAttributes: Type.Object(
    { type: Type.Literal('upsertSearchAttributes'), searchAttributes: SearchAttributeUpsertsSchema },
    { additionalProperties: false },
  ),
  modifyWorkflowProperties: Type.Object(
    { type: Type.Literal('modifyWorkflowProperties'), memo: Type.Record(Type.String({ minLength: 1 }), Type.Union([payload(), Type.Null()])) },
    { additionalProperties: false },
  ),
  acceptUpdate: Type.Object({ type: Type.Literal('acceptUpdate'), updateId: NonEmpty() }, { additionalProperties: false }),
  rejectUpdate: Type.Object({ type: Type.Literal('rejectUpdate'), updateId: NonEmpty(), failure: WireFailureSchema }, { additionalProperties: false }),
  completeUpdate: Type.Object(
    { type: Type.Literal('completeUpdate'), updateId: NonEmpty(), result: Type.Optional(payload()), failure: Type.Optional(WireFailureSchema) },
    { additionalProperties: false },
  ),
};

// ---------------------------------------------------------------------------------------------
// The protocol's types and these schemas agree, both ways (a compile error otherwise)

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
export type SchemaAgreesWithProtocol = [
  Assert<Same<Static<typeof WireFailureSchema>, WireFailure>>,
  Assert<Same<Static<typeof RetryPolicySchema>, RetryPolicy>>,
  Assert<Same<Static<typeof RetryPolicyCommandSchema>, RetryPolicy>>,
  Assert<Same<Static<typeof COMMAND_SCHEMAS.scheduleActivity>, ScheduleActivityCommand>>,
  Assert<Same<Static<typeof COMMAND_SCHEMAS.startChildWorkflow>, StartChildWorkflowCommand>>,
  Assert<Same<Static<typeof COMMAND_SCHEMAS.signalExternalWorkflow>, SignalExternalWorkflowCommand>>,
  Assert<Same<Static<typeof COMMAND_SCHEMAS.requestCancelExternalWorkflow>, RequestCancelExternalWorkflowCommand>>,
  Assert<Same<Static<typeof COMMAND_SCHEMAS.continueAsNew>, ContinueAsNewCommand>>,
  Assert<Same<Static<typeof COMMAND_SCHEMAS.scheduleLocalActivity>, ScheduleLocalActivityCommand>>,
  Assert<Same<Static<typeof LocalActivityOutcomeSchema>, LocalActivityOutcome>>,
  Assert<Same<Static<typeof SearchAttributeValueSchema>, SearchAttributeValue>>,
  Assert<Same<{ [T in keyof typeof COMMAND_SCHEMAS]: Static<(typeof COMMAND_SCHEMAS)[T]> }[keyof typeof COMMAND_SCHEMAS], Command>>,
  Assert<Same<keyof typeof COMMAND_SCHEMAS, Command['type']>>,
];

// ---------------------------------------------------------------------------------------------
// Compiled checks, and the first problem of a value that fails one

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();
const compiledOpen = new WeakMap<TSchema, TypeCheck<TSchema>>();

/** TypeBox's compiled check of `schema`, compiled on first use and kept. */
export function compiledCheck<S extends TSchema>(schema: S): TypeCheck<S> {
  let check = compiled.get(schema);
  if (check === undefined) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  return check as TypeCheck<S>;
}

/**
 * The compiled check of `schema` without the checks that a caller makes itself while it copies
 * the value (validate.ts): objects are open (TypeBox checks closedness by listing each object's
 * own keys into a new array, about half the cost of a check), payloads are not walked (reached
 * through TypeBox's kind registry, two map lookups each), and the keywords marked CheckedByReader
 * are left out. The full schema still words every problem.
 */
export function compiledOpenCheck<S extends TSchema>(schema: S): TypeCheck<S> {
  let check = compiledOpen.get(schema);
  if (check === undefined) {
    check = TypeCompiler.Compile(open(schema));
    compiledOpen.set(schema, check);
  }
  return check as TypeCheck<S>;
}

/**
 * A deep copy of a schema without `additionalProperties`, with payloads and what is marked
 * CheckedByReader as unknown values (symbol keys, such as Kind, kept).
 */
function open<S>(schema: S): S {
  if (Array.isArray(schema)) return schema.map(open) as S;
  if (typeof schema !== 'object' || schema === null) return schema;
  const byReader = (schema as Record<symbol, string[] | true | undefined>)[CheckedByReader];
  if ((schema as unknown as TSchema)[Kind] === PAYLOAD_KIND || byReader === true) return Type.Unknown() as S;
  const drop = new Set<string | symbol>(['additionalProperties', ...(byReader ?? [])]);
  const out: Record<string | symbol, unknown> = {};
  for (const key of Reflect.ownKeys(schema)) if (!drop.has(key)) out[key] = open((schema as Record<string | symbol, unknown>)[key]);
  return out as S;
}

/** The first thing wrong with a value that its compiled check refused. */
export type Problem =
  | { kind: 'missing'; keys: (string | number)[] }
  | { kind: 'unknownKey'; keys: (string | number)[]; key: string; allowed: string[]; owner: TSchema }
  | { kind: 'type'; keys: (string | number)[]; schema: TSchema; value: unknown; cycle?: boolean; words?: string };

const unescapePointer = (s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~');

/**
 * The first problem TypeBox finds in `value` against `schema` (whose check refused it), with its
 * path as keys, numbers for array indexes. Payload problems are followed inside the payload.
 */
export function firstProblem(schema: TSchema, value: unknown): Problem {
  const error = Errors(schema, value).First();
  if (error === undefined) throw new DejaError('DEJA_INTERNAL', 'deja bug: firstProblem called on a value its check accepts');
  const keys: (string | number)[] = [];
  let here: unknown = value;
  for (const raw of error.path === '' ? [] : error.path.slice(1).split('/')) {
    const seg = unescapePointer(raw);
    const key = Array.isArray(here) && /^\d+$/.test(seg) ? Number(seg) : seg;
    keys.push(key);
    here = typeof here === 'object' && here !== null && Object.hasOwn(here, key) ? (here as Record<string | number, unknown>)[key] : undefined;
  }
  const at = error.schema;
  if (error.type === ValueErrorType.ObjectRequiredProperty) return { kind: 'missing', keys };
  if (error.type === ValueErrorType.ObjectAdditionalProperties) {
    const key = keys[keys.length - 1] as string;
    return { kind: 'unknownKey', keys, key, allowed: Object.keys((at as unknown as { properties: object }).properties), owner: at };
  }
  // A required field set to undefined counts as missing (an optional one as absent).
  if (here === undefined && typeof keys[keys.length - 1] === 'string' && at[Kind] !== PAYLOAD_KIND) return { kind: 'missing', keys };
  if (at[Kind] === PAYLOAD_KIND) {
    const p = payloadProblem(here);
    if (p !== undefined) return { kind: 'type', keys: [...keys, ...p.keys], schema: at, value: p.value, cycle: p.cycle, words: p.expected };
  }
  return { kind: 'type', keys, schema: at, value: here };
}

/** What a schema expects, in words: its own wording if it has one, else words from its keywords. */
export function expectedOf(schema: TSchema, plainObjects = false): string {
  const s = schema as TSchema & Record<string, unknown> & { anyOf?: TSchema[] };
  const own = (schema as unknown as Record<symbol, unknown>)[Expected];
  const kind = s[Kind];
  if (typeof own === 'string' && !(plainObjects && kind === 'Object')) return own;
  switch (kind) {
    case 'String':
      return typeof s.minLength === 'number' && s.minLength > 0 ? 'a non-empty string' : 'a string';
    case 'Integer':
      return typeof s.minimum === 'number' ? `an integer ≥ ${s.minimum}` : 'an integer';
    case 'Number':
      return typeof s.minimum === 'number' ? `a finite number ≥ ${s.minimum}` : 'a finite number';
    case 'Boolean':
      return 'a boolean';
    case 'Array':
      return 'an array';
    case 'Object':
      return 'an object';
    case 'Literal':
      return JSON.stringify(s.const);
    case 'Union':
      if (s.anyOf?.every((x) => x[Kind] === 'Literal')) return `one of ${quoteList(s.anyOf.map((x) => String(x.const)))}`;
      return 'one of its forms';
    default:
      return 'a valid value';
  }
}

/** A path of keys as text: `failure.cause.kind`, `input[1]`. */
export function pathText(keys: readonly (string | number)[], base = ''): string {
  let out = base;
  for (const k of keys) out = typeof k === 'number' ? `${out}[${k}]` : out === '' ? k : `${out}.${k}`;
  return out;
}

// ---------------------------------------------------------------------------------------------
// The published JSON Schema

/**
 * The JSON Schema (2020-12) of a history file, as written to docs/history.schema.json. The same
 * schemas as the checks, with the recursive failure moved to `$defs`. It says what a schema can:
 * the reader's rules (ids, time order, references, lifecycle) are in docs/history-format.md.
 */
export function historyJsonSchema(): object {
  const failure = JSON.parse(JSON.stringify(WireFailureSchema)) as Record<string, unknown>;
  const ref = { $ref: '#/$defs/WireFailure' };
  // Inline copies of the failure become references to the one definition.
  const replace = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(replace);
    if (typeof v !== 'object' || v === null) return v;
    const o = v as Record<string, unknown>;
    if (o.$id === 'WireFailure') return ref;
    if (o.$ref === 'WireFailure') return ref;
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, replace(x)]));
  };
  const { $id: _id, ...failureBody } = failure;
  const events = Object.values(EVENT_SCHEMAS).map((s) => replace(JSON.parse(JSON.stringify(s))));
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'deja history file',
    description:
      `A deja history file, format "${HISTORY_FORMAT}" version ${HISTORY_VERSION}. Generated from lib/history/schema.ts; ` +
      'the rules between events (ids, time order, references, lifecycle) are in docs/history-format.md.',
    type: 'object',
    properties: {
      format: { const: HISTORY_FORMAT },
      version: { const: HISTORY_VERSION },
      workflowId: { type: 'string', minLength: 1 },
      runId: { type: 'string', minLength: 1 },
      events: { type: 'array', minItems: 1, items: { oneOf: events } },
    },
    required: ['format', 'version', 'workflowId', 'runId', 'events'],
    additionalProperties: false,
    $defs: { WireFailure: replace(failureBody) },
  };
}
