/**
 * The rest of `@temporalio/workflow`'s function names (inside the isolate; the pure ones work on
 * the host too): the function forms of activity scheduling, the workflow's current details,
 * Temporal's helpers for workflow types and child options, and the default random stream.
 */
import { TypeError, ArrayIsArray, ObjectFreeze, MathFloor, SymbolFor, record } from './primordials';
import { getState, maybeState } from './internals';
import { proxyActivities, defineQuery, type ActivityOptions, type QueryDefinition } from './workflow';
import { proxyLocalActivities, type LocalActivityOptions } from './local-activities';
import { ChildWorkflowCancellationType, type ChildWorkflowOptions } from './children';
import { uuid4FromRandom } from './uuid';
import { currentDetails, setCurrentDetailsOf, STACK_TRACE_QUERY, ENHANCED_STACK_TRACE_QUERY, WORKFLOW_METADATA_QUERY } from './builtin-queries';

/** Temporal's marker for a non-function member of an activity interface (a type-level helper). */
export const NotAnActivityMethod: unique symbol = SymbolFor('__TEMPORAL_NOT_AN_ACTIVITY_METHOD') as never;

function checkCall(where: string, activityType: unknown, args: unknown): void {
  if (typeof activityType !== 'string' || activityType === '') throw new TypeError(`${where}: expected the activity type as a non-empty string, got ${typeof activityType}`);
  if (!ArrayIsArray(args)) throw new TypeError(`${where}: expected the arguments as an array, got ${typeof args}`);
}

/** Schedules one activity by its type name: `proxyActivities(options)[activityType](...args)`. */
export function scheduleActivity<R>(activityType: string, args: any[], options: ActivityOptions): Promise<R> {
  checkCall('scheduleActivity', activityType, args);
  return (proxyActivities(options) as Record<string, (...a: unknown[]) => Promise<R>>)[activityType]!(...args);
}

/** Schedules one local activity by its type name: `proxyLocalActivities(options)[activityType](...args)`. */
export function scheduleLocalActivity<R>(activityType: string, args: any[], options: LocalActivityOptions): Promise<R> {
  checkCall('scheduleLocalActivity', activityType, args);
  return (proxyLocalActivities(options) as Record<string, (...a: unknown[]) => Promise<R>>)[activityType]!(...args);
}

/** Whether this code runs inside a workflow execution (false on the host, or at a bundle's load outside one). */
export function inWorkflowContext(): boolean {
  return maybeState() !== undefined;
}

/** The workflow's current details: a string it sets to say what it is doing (read by the metadata query). */
export function getCurrentDetails(): string {
  return currentDetails(getState('getCurrentDetails'));
}
/** Sets the workflow's current details (answered by the `__temporal_workflow_metadata` query). Not recorded in history. */
export function setCurrentDetails(details: string): void {
  const state = getState('setCurrentDetails');
  if (typeof details !== 'string') throw new TypeError(`setCurrentDetails: expected a string, got ${typeof details}`);
  setCurrentDetailsOf(state, details);
}

export { extractWorkflowType } from './common';

/** Child workflow options with Temporal's defaults filled in: a seeded uuid4 workflow id, no args, WAIT_CANCELLATION_COMPLETED. */
export function addDefaultWorkflowOptions(opts: ChildWorkflowOptions): ChildWorkflowOptions & { workflowId: string; args: unknown[]; cancellationType: ChildWorkflowCancellationType } {
  const { args, workflowId, ...rest } = opts;
  return {
    workflowId: workflowId ?? uuid4FromRandom(getState('addDefaultWorkflowOptions').random),
    args: args ?? [],
    cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
    ...rest,
  };
}

/** Temporal's built-in queries (answered by every workflow, see builtin-queries.ts). */
export const stackTraceQuery: QueryDefinition<string, []> = /* @__PURE__ */ defineQuery<string>(STACK_TRACE_QUERY);
export const enhancedStackTraceQuery: QueryDefinition<EnhancedStackTrace, []> = /* @__PURE__ */ defineQuery<EnhancedStackTrace>(ENHANCED_STACK_TRACE_QUERY);
export const workflowMetadataQuery: QueryDefinition<WorkflowMetadata, []> = /* @__PURE__ */ defineQuery<WorkflowMetadata>(WORKFLOW_METADATA_QUERY);

/** What `__temporal_workflow_metadata` answers (Temporal's temporal.api.sdk.v1.WorkflowMetadata). */
export interface WorkflowMetadata {
  definition: {
    type: string;
    queryDefinitions: { name: string; description?: string }[];
    signalDefinitions: { name: string; description?: string }[];
    updateDefinitions: { name: string; description?: string }[];
  };
  currentDetails: string;
}
export interface StackTraceSDKInfo {
  name: string;
  version: string;
}
export interface StackTraceFileSlice {
  line_offset: number;
  content: string;
}
export interface StackTraceFileLocation {
  file_path?: string;
  line?: number;
  column?: number;
  function_name?: string;
  internal_code: boolean;
}
export interface StackTrace {
  locations: StackTraceFileLocation[];
}
/** What `__enhanced_stack_trace` answers; deja's has no stacks. */
export interface EnhancedStackTrace {
  sdk: StackTraceSDKInfo;
  stacks: StackTrace[];
  sources: Record<string, StackTraceFileSlice[]>;
}

/** Temporal's random stream interface. */
export interface WorkflowRandomStream {
  random(): number;
  uuid4(): string;
  fill(bytes: Uint8Array): Uint8Array;
  with<T>(fn: () => T): T;
}

/**
 * The workflow's default random stream: the sequence `Math.random()` draws from (the same numbers,
 * consumed from the same stream), as Temporal's. deja has no named streams, so `with(fn)` runs `fn`
 * on this stream, which is already the one in use.
 */
export const workflowRandom: WorkflowRandomStream = /* @__PURE__ */ ObjectFreeze(
  /* @__PURE__ */ record<WorkflowRandomStream>({
    random: () => getState('workflowRandom.random').random(),
    uuid4: () => uuid4FromRandom(getState('workflowRandom.uuid4').random),
    fill(bytes: Uint8Array): Uint8Array {
      const random = getState('workflowRandom.fill').random;
      for (let i = 0; i < bytes.length; ++i) bytes[i] = MathFloor(random() * 0x100);
      return bytes;
    },
    with: <T>(fn: () => T): T => {
      getState('workflowRandom.with');
      return fn();
    },
  }),
);
