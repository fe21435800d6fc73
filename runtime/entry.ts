/**
 * The bundle's entry (inside the isolate). The bundler generates a tiny module that calls
 * `install(() => require(<workflows module>))`; the workflows module is evaluated lazily, in
 * `__dejaInit`, after the execution's state exists, so its top-level code sees seeded globals.
 * install() puts the protocol's entry points on the global object; each takes and returns one
 * JSON string, so a call crosses the boundary as a single copy.
 *
 * Whatever workflow code does, every entry point answers with a JSON string of the protocol's
 * shape: serialized with the intrinsic JSON.stringify captured before workflow code loaded, from
 * objects the runtime built. A payload that cannot be serialized fails the task (or the query)
 * instead; if even that answer cannot be serialized, a fixed answer says so.
 */
import { ObjectDefineProperty, JSONParse, JSONStringify, globalObject, list, own, record } from './primordials';
import { ENTRY_POINTS, PROTOCOL_VERSION, QUERY_PENDING, RECORDED_CONCLUSION, RECORDED_NEXT, type Activation, type ActivationCompletion, type InitMessage, type QueryRequest, type RecordedActivations, type RecordedConclusion } from './protocol';
import { getState, initialize } from './internals';
import { wireFailure } from './failure';
import { installGlobals } from './globals';
import { IllegalStateError } from './errors';

/** The answer when not even a failure could be serialized (a failure's details are payloads). */
function lastResort(what: string, withLogs: boolean): string {
  'use strict';
  const failure = `{"message":"deja could not serialize the answer to ${what}: its failure holds values that are not JSON","kind":"application","type":"Error","nonRetryable":false}`;
  return `{"ok":false,"failure":${failure}${withLogs ? ',"logs":[]' : ''}}`;
}

/**
 * `value` as JSON. A payload in it that is not JSON (a BigInt, a cycle, a throwing toJSON) gives
 * `fallback(error)` instead, and the fixed last resort when that cannot be serialized either.
 */
function answer(what: string, value: unknown, fallback: (error: unknown) => unknown): string {
  'use strict';
  let problem: unknown;
  try {
    const text = JSONStringify(value);
    if (typeof text === 'string') return text;
    problem = new IllegalStateError(`the answer to ${what} is not JSON`);
  } catch (error) {
    problem = error;
  }
  try {
    const text = JSONStringify(fallback(problem));
    if (typeof text === 'string') return text;
  } catch {
    // fall through to the fixed answer
  }
  return lastResort(what, what === ENTRY_POINTS.conclude);
}

/** A conclude result as JSON. One that cannot be serialized (BigInt, cycles) is a bug in the workflow: the task fails. */
function concluded(result: unknown): string {
  'use strict';
  return answer(ENTRY_POINTS.conclude, result, (error) =>
    record({ ok: false, failure: wireFailure(error), logs: (own(result as object, 'logs') as unknown[] | undefined) ?? list() }),
  );
}

/**
 * The commands whose payloads the runtime copied (through JSON, without prototypes) when the
 * workflow made them, so serializing them runs no code of the workflow's: activities (their
 * arguments), timers and cancellations. And no sink calls. Anything else (a workflow's result, an
 * update's, a memo) may hold the workflow's own objects.
 */
const COPIED_ONLY = record({ scheduleActivity: true, startTimer: true, cancelTimer: true, requestCancelActivity: true });
function copiedOnly(completion: ActivationCompletion): boolean {
  'use strict';
  if (completion.ok !== true) return false;
  const calls = completion.sinkCalls;
  if (calls !== undefined && calls.length !== 0) return false;
  const commands = completion.commands;
  for (let i = 0; i < commands.length; i++) if (own(COPIED_ONLY, commands[i].type) !== true) return false;
  return true;
}

export function install(
  loadWorkflows: () => Record<string, unknown>,
  loadInterceptors?: () => { name: string; exports: Record<string, unknown> }[],
): void {
  'use strict';
  installGlobals();
  // Read-only and permanent: workflow code can neither replace nor remove what the host calls.
  const define = (name: string, value: unknown) =>
    ObjectDefineProperty(globalObject, name, record({ value, writable: false, enumerable: false, configurable: false }));

  // An entry point runs only when the host calls it. Workflow code can reach the globals and call
  // one itself; while one is running (workflow code runs inside it), another is refused.
  let running: string | undefined;
  const enter = (name: string): void => {
    if (running !== undefined) {
      throw new IllegalStateError(`${name} is for the deja host; workflow code must not call it (called during ${running})`);
    }
    running = name;
  };

  define(ENTRY_POINTS.protocolVersion, PROTOCOL_VERSION);
  define(ENTRY_POINTS.init, (json: string): string => {
    enter(ENTRY_POINTS.init);
    try {
      const init = JSONParse(json) as InitMessage;
      if (init.protocolVersion !== PROTOCOL_VERSION) {
        const message = `protocol mismatch: host speaks ${init.protocolVersion}, bundle ${PROTOCOL_VERSION}`;
        return JSONStringify(record({ ok: false, failure: record({ kind: 'server', message }) }));
      }
      return answer(ENTRY_POINTS.init, initialize(init, loadWorkflows, loadInterceptors), (error) => record({ ok: false, failure: wireFailure(error) }));
    } finally {
      running = undefined;
    }
  });
  // `activate` and `conclude` are one function, told apart by the argument: a JSON activation
  // (activate), RECORDED_NEXT (activate: the next activation of a bulk replay, answering false when
  // there is none to apply), nothing (conclude), or `true` (conclude, keeping the completion for
  // `takeRecorded` and answering a RecordedConclusion; it may apply the next recorded activation
  // in the same call, see ENTRY_POINTS.loadRecorded). Every activation is applied at the one call
  // below, so a failure's stack is the same whichever way the task was run.
  const step = (arg?: string | true | typeof RECORDED_NEXT): boolean | string | RecordedConclusion => {
    const concluding = arg === undefined || arg === true;
    enter(concluding ? ENTRY_POINTS.conclude : ENTRY_POINTS.activate);
    try {
      const state = getState(concluding ? 'conclude' : 'activate');
      let activation: Activation | undefined;
      let applied: boolean | RecordedConclusion = true;
      if (!concluding) {
        activation = typeof arg === 'string' ? (JSONParse(arg) as Activation) : state.nextRecorded();
        if (activation === undefined) return false;
      } else {
        // Read before: a conclude with conditions pending runs their functions (workflow code).
        const quiet = !state.conditionsPending;
        let result: unknown;
        try {
          result = state.conclude();
        } catch (error) {
          result = state.failedCompletion(error);
        }
        if (arg !== true) return concluded(result);
        if (own(result as object, 'again') === true) return RECORDED_CONCLUSION.again;
        state.keepRecorded(concluded(result));
        if (own(result as object, 'ok') !== true) return RECORDED_CONCLUSION.failed;
        // The next recorded task in this same call, when nothing of the workflow's could have run
        // since the host's last call returned (see ENTRY_POINTS.loadRecorded): no condition
        // function ran, and serializing the completion called no toJSON or getter of the workflow's.
        if (!quiet || !copiedOnly(result as ActivationCompletion)) return RECORDED_CONCLUSION.completed;
        activation = state.nextRecorded();
        if (activation === undefined) return RECORDED_CONCLUSION.completed;
        applied = RECORDED_CONCLUSION.completedNext;
      }
      try {
        state.activate(activation);
      } catch (error) {
        // activate handles each job's errors; anything else still fails only this task.
        state.failTask(error);
      }
      return applied;
    } finally {
      running = undefined;
    }
  };
  define(ENTRY_POINTS.activate, step);
  define(ENTRY_POINTS.conclude, step);
  define(ENTRY_POINTS.loadRecorded, (json: string): void => {
    enter(ENTRY_POINTS.loadRecorded);
    try {
      getState('loadRecorded').loadRecorded(JSONParse(json) as RecordedActivations);
    } finally {
      running = undefined;
    }
  });
  define(ENTRY_POINTS.takeRecorded, (): string => {
    enter(ENTRY_POINTS.takeRecorded);
    try {
      return getState('takeRecorded').takeRecorded();
    } finally {
      running = undefined;
    }
  });
  // `__dejaQuery(json)` answers a QueryResult, or QUERY_PENDING when inbound interceptors handle
  // the query; then `__dejaQuery()` with no argument, after the microtasks ran, answers its result.
  define(ENTRY_POINTS.query, (json?: string): string => {
    enter(ENTRY_POINTS.query);
    try {
      const state = getState('query');
      let result: unknown;
      try {
        if (json === undefined) {
          result = state.takeQuery();
        } else {
          result = state.startQuery(JSONParse(json) as QueryRequest);
          if (result === QUERY_PENDING) return QUERY_PENDING;
        }
      } catch (error) {
        result = record({ ok: false, failure: wireFailure(error) });
      }
      return answer(ENTRY_POINTS.query, result, (error) => record({ ok: false, failure: wireFailure(error) }));
    } finally {
      running = undefined;
    }
  });
}
