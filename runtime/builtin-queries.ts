/**
 * The queries every Temporal workflow answers without registering them (inside the isolate), and
 * the state they read: the workflow's "current details" and its handlers' descriptions.
 *
 * - `__temporal_workflow_metadata`: Temporal's WorkflowMetadata shape, `{ definition: { type,
 *   queryDefinitions, signalDefinitions, updateDefinitions }, currentDetails }`, each definition
 *   `{ name, description }`, the built-in queries first (as in Temporal).
 * - `__stack_trace` and `__enhanced_stack_trace`: deja keeps no stack traces of a workflow's
 *   pending promises, so they answer with a sentence saying so, and with no stacks.
 *
 * A handler the workflow registers under one of these names wins. The state lives per execution
 * (keyed by its WorkflowState); queries read it and never change it.
 */
import { Map, WeakMap, MapPrototypeGet, MapPrototypeSet, MapPrototypeDelete, WeakMapPrototypeGet, WeakMapPrototypeSet, append, list, mapForEach, record } from './primordials';
import type { WorkflowState } from './internals';

export const STACK_TRACE_QUERY = '__stack_trace';
export const ENHANCED_STACK_TRACE_QUERY = '__enhanced_stack_trace';
export const WORKFLOW_METADATA_QUERY = '__temporal_workflow_metadata';
export const NO_STACK_TRACES = 'deja keeps no stack traces of workflow code: use the workflow task failure or the history to see where a workflow waits';

interface Extras {
  details: string;
  /** `signal:<name>` / `query:<name>` → the description given to setHandler. */
  descriptions: Map<string, string>;
}
const extras = new WeakMap<WorkflowState, Extras>();

function extrasOf(state: WorkflowState): Extras {
  let e = WeakMapPrototypeGet(extras, state) as Extras | undefined;
  if (e === undefined) {
    e = record({ details: '', descriptions: new Map<string, string>() });
    WeakMapPrototypeSet(extras, state, e);
  }
  return e;
}

export function currentDetails(state: WorkflowState): string {
  return extrasOf(state).details;
}
export function setCurrentDetailsOf(state: WorkflowState, details: string): void {
  extrasOf(state).details = details;
}
/** setHandler's description of a signal or query handler (undefined: none, or the handler was removed). */
export function rememberDescription(state: WorkflowState, kind: 'signal' | 'query', name: string, description: string | undefined): void {
  const map = extrasOf(state).descriptions;
  if (description === undefined) MapPrototypeDelete(map, `${kind}:${name}`);
  else MapPrototypeSet(map, `${kind}:${name}`, description);
}

interface Definition {
  name: string;
  description?: string;
}
function definition(name: string, description: string | undefined): Definition {
  return description === undefined ? record({ name }) : record({ name, description });
}

const BUILTIN_DESCRIPTIONS: [string, string][] = [
  [STACK_TRACE_QUERY, 'Returns a sensible stack trace.'],
  [ENHANCED_STACK_TRACE_QUERY, 'Returns a stack trace annotated with source information.'],
  [WORKFLOW_METADATA_QUERY, 'Returns metadata associated with this workflow.'],
];

/** The handler of a built-in query, or undefined when `queryType` is not one. */
export function builtinQuery(state: WorkflowState, queryType: string): (() => unknown) | undefined {
  if (queryType === STACK_TRACE_QUERY) return () => NO_STACK_TRACES;
  if (queryType === ENHANCED_STACK_TRACE_QUERY) return () => record({ sdk: record({ name: 'deja', version: '' }), stacks: list(), sources: record({}) });
  if (queryType !== WORKFLOW_METADATA_QUERY) return undefined;
  return () => {
    const e = extrasOf(state);
    const queryDefinitions = list<Definition>();
    for (let i = 0; i < BUILTIN_DESCRIPTIONS.length; i++) {
      const [name, description] = BUILTIN_DESCRIPTIONS[i]!;
      if (MapPrototypeGet(state.queryHandlers, name) === undefined) append(queryDefinitions, definition(name, description));
    }
    mapForEach(state.queryHandlers, (_, name) => void append(queryDefinitions, definition(name, MapPrototypeGet(e.descriptions, `query:${name}`))));
    const signalDefinitions = list<Definition>();
    mapForEach(state.signalHandlers, (_, name) => void append(signalDefinitions, definition(name, MapPrototypeGet(e.descriptions, `signal:${name}`))));
    const updateDefinitions = list<Definition>();
    mapForEach(state.messages.updateHandlers, (entry, name) => void append(updateDefinitions, definition(name, entry.description)));
    return record({
      definition: record({ type: state.info.workflowType, queryDefinitions, signalDefinitions, updateDefinitions }),
      currentDetails: e.details,
    });
  };
}
