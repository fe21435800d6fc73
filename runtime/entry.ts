/**
 * The bundle's entry (inside the isolate). The bundler generates a tiny module that calls
 * `install(() => require(<workflows module>))`; the workflows module is evaluated lazily, in
 * `__dejaInit`, after the execution's state exists, so its top-level code sees seeded globals.
 * install() puts the protocol's entry points on the global object; each takes and returns one
 * JSON string, so a call crosses the boundary as a single copy.
 */
import { ENTRY_POINTS, PROTOCOL_VERSION, type Activation, type InitMessage, type QueryRequest } from './protocol';
import { getState, initialize } from './internals';
import { installGlobals } from './globals';
import { errorToFailure } from './failure';

export function install(loadWorkflows: () => Record<string, unknown>): void {
  installGlobals();
  const g = globalThis as Record<string, unknown>;
  const define = (name: string, value: unknown) => Object.defineProperty(g, name, { value, enumerable: false });
  define(ENTRY_POINTS.protocolVersion, PROTOCOL_VERSION);
  define(ENTRY_POINTS.init, (json: string): string => {
    const init = JSON.parse(json) as InitMessage;
    if (init.protocolVersion !== PROTOCOL_VERSION) {
      return JSON.stringify({ ok: false, failure: { kind: 'server', message: `protocol mismatch: host speaks ${init.protocolVersion}, bundle ${PROTOCOL_VERSION}` } });
    }
    return JSON.stringify(initialize(init, loadWorkflows));
  });
  define(ENTRY_POINTS.activate, (json: string): void => {
    getState('activate').activate(JSON.parse(json) as Activation);
  });
  define(ENTRY_POINTS.conclude, (): string => {
    try {
      return JSON.stringify(getState('conclude').conclude());
    } catch (error) {
      // A result that cannot be serialized (BigInt, cycles) is a bug in the workflow.
      return JSON.stringify({ ok: false, failure: errorToFailure(error), logs: [] });
    }
  });
  define(ENTRY_POINTS.query, (json: string): string => {
    const result = getState('query').query(JSON.parse(json) as QueryRequest);
    try {
      return JSON.stringify(result);
    } catch (error) {
      return JSON.stringify({ ok: false, failure: errorToFailure(error) });
    }
  });
}
