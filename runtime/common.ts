/**
 * Pure values of Temporal's `@temporalio/common` shared by both sides: `extractWorkflowType`, and
 * the `encodeX` / `decodeX` helpers for its string enums (both sides: pure functions).
 * `encode` maps a name (short, `'ALLOW_DUPLICATE'`, or with its protobuf prefix,
 * `'WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE'`) to the protobuf number, passes a number through and
 * `null`/`undefined` through as `undefined`; `decode` maps a number back to the short name (`0`,
 * "unspecified", to `undefined`; an unknown number to `'unknown_<n>'`). Anything else is a
 * ValueError, as in Temporal.
 */
import { ValueError } from './common-errors';
import { ObjectPrototypeHasOwnProperty, String, StringPrototypeSlice, TypeError, record } from './primordials';

export type EnumEncoder<Name extends string> = (input: Name | `${string}${Name}` | number | null | undefined) => number | undefined;
export type EnumDecoder<Name extends string> = (input: number | null | undefined) => Name | `unknown_${number}` | undefined;

/**
 * The encoder of one enum: its names in protobuf order (the first is 1) and its protobuf prefix.
 * The encoders and decoders below are made by calls annotated as pure for the bundler, so a
 * workflow bundle keeps (and each workflow context builds) only those its code uses.
 */
function enumEncoder<Name extends string>(names: readonly Name[], prefix: string): EnumEncoder<Name> {
  const numbers: Record<string, number> = record({});
  for (let i = 0; i < names.length; i++) numbers[names[i]] = i + 1;
  return (input) => {
    if (input === null || input === undefined) return undefined;
    if (typeof input === 'number') return input;
    if (typeof input === 'string') {
      const short = input.length > prefix.length && StringPrototypeSlice(input, 0, prefix.length) === prefix ? StringPrototypeSlice(input, prefix.length) : input;
      if (ObjectPrototypeHasOwnProperty(numbers, short)) return numbers[short];
      let expected = '';
      for (let i = 0; i < names.length; i++) expected += (i === 0 ? '' : ', ') + names[i];
      throw new ValueError(`Invalid enum value: '${input}'; expected one of ${expected}`);
    }
    throw new ValueError(`Invalid enum value: '${String(input)}' of type ${typeof input}`);
  };
}

/** The decoder of one enum (see enumEncoder). */
function enumDecoder<Name extends string>(names: readonly Name[]): EnumDecoder<Name> {
  const byNumber: Record<number, Name> = record({});
  for (let i = 0; i < names.length; i++) byNumber[i + 1] = names[i];
  return (input) => {
    if (input === null || input === undefined) return undefined;
    if (typeof input === 'number') {
      if (input === 0) return undefined;
      return ObjectPrototypeHasOwnProperty(byNumber, input) ? byNumber[input] : `unknown_${input}`;
    }
    throw new ValueError(`Invalid proto enum value: '${String(input)}' of type ${typeof input}`);
  };
}

/** What a start does when the workflow id has a running run (Temporal's names). */
export const WorkflowIdConflictPolicy = {
  FAIL: 'FAIL',
  USE_EXISTING: 'USE_EXISTING',
  TERMINATE_EXISTING: 'TERMINATE_EXISTING',
} as const;
export type WorkflowIdConflictPolicy = (typeof WorkflowIdConflictPolicy)[keyof typeof WorkflowIdConflictPolicy];

const WORKFLOW_ID_REUSE_POLICY_NAMES = ['ALLOW_DUPLICATE', 'ALLOW_DUPLICATE_FAILED_ONLY', 'REJECT_DUPLICATE', 'TERMINATE_IF_RUNNING'] as const;
export const encodeWorkflowIdReusePolicy = /* @__PURE__ */ enumEncoder(WORKFLOW_ID_REUSE_POLICY_NAMES, 'WORKFLOW_ID_REUSE_POLICY_');
export const decodeWorkflowIdReusePolicy = /* @__PURE__ */ enumDecoder(WORKFLOW_ID_REUSE_POLICY_NAMES);
const WORKFLOW_ID_CONFLICT_POLICY_NAMES = ['FAIL', 'USE_EXISTING', 'TERMINATE_EXISTING'] as const;
export const encodeWorkflowIdConflictPolicy = /* @__PURE__ */ enumEncoder(WORKFLOW_ID_CONFLICT_POLICY_NAMES, 'WORKFLOW_ID_CONFLICT_POLICY_');
export const decodeWorkflowIdConflictPolicy = /* @__PURE__ */ enumDecoder(WORKFLOW_ID_CONFLICT_POLICY_NAMES);
const QUERY_REJECT_CONDITION_NAMES = ['NONE', 'NOT_OPEN', 'NOT_COMPLETED_CLEANLY'] as const;
export const encodeQueryRejectCondition = /* @__PURE__ */ enumEncoder(QUERY_REJECT_CONDITION_NAMES, 'QUERY_REJECT_CONDITION_');
export const decodeQueryRejectCondition = /* @__PURE__ */ enumDecoder(QUERY_REJECT_CONDITION_NAMES);
const SCHEDULE_OVERLAP_POLICY_NAMES = ['SKIP', 'BUFFER_ONE', 'BUFFER_ALL', 'CANCEL_OTHER', 'TERMINATE_OTHER', 'ALLOW_ALL'] as const;
export const encodeScheduleOverlapPolicy = /* @__PURE__ */ enumEncoder(SCHEDULE_OVERLAP_POLICY_NAMES, 'SCHEDULE_OVERLAP_POLICY_');
export const decodeScheduleOverlapPolicy = /* @__PURE__ */ enumDecoder(SCHEDULE_OVERLAP_POLICY_NAMES);

/** The states of a pending activity in a workflow's description (Temporal's names). */
export const PendingActivityState = {
  SCHEDULED: 'SCHEDULED',
  STARTED: 'STARTED',
  CANCEL_REQUESTED: 'CANCEL_REQUESTED',
  PAUSED: 'PAUSED',
  PAUSE_REQUESTED: 'PAUSE_REQUESTED',
} as const;
export type PendingActivityState = (typeof PendingActivityState)[keyof typeof PendingActivityState];
const PENDING_ACTIVITY_STATE_NAMES = ['SCHEDULED', 'STARTED', 'CANCEL_REQUESTED', 'PAUSED', 'PAUSE_REQUESTED'] as const;
export const encodePendingActivityState = /* @__PURE__ */ enumEncoder(PENDING_ACTIVITY_STATE_NAMES, 'PENDING_ACTIVITY_STATE_');
export const decodePendingActivityState = /* @__PURE__ */ enumDecoder(PENDING_ACTIVITY_STATE_NAMES);

/** A workflow's type name: the string itself, or the function's name. */
export function extractWorkflowType(workflowTypeOrFunc: string | ((...args: any[]) => any)): string {
  if (typeof workflowTypeOrFunc === 'string') return workflowTypeOrFunc;
  if (typeof workflowTypeOrFunc === 'function') {
    if (!workflowTypeOrFunc.name) throw new TypeError('Invalid workflow type: the workflow function is anonymous');
    return workflowTypeOrFunc.name;
  }
  throw new TypeError(`Invalid workflow type: expected either a string or a function, got '${typeof workflowTypeOrFunc}'`);
}
