/**
 * The workflow author's API for updates, default handlers and handler bookkeeping (inside the
 * isolate; importable on the host for `defineUpdate`). The machinery is in updates.ts.
 */
import { TypeError } from './primordials';
import type { UpdateDefinition } from './protocol';
import { getState } from './internals';
import { currentUpdateContext } from './async-context';
import type { DefaultHandler, UpdateHandler, UpdateInfo, UpdateValidator } from './updates';
import { checkKeys } from './workflow';

export type { UpdateDefinition, UpdateInfo };

/** Options of `setHandler` for an update. */
export interface UpdateHandlerOptions<Args extends any[]> {
  /** Runs before the handler, synchronously; throwing rejects the update, which leaves no trace in history. */
  validator?: (...args: Args) => void;
  description?: string;
}

export function defineUpdate<Ret, Args extends any[] = [], Name extends string = string>(name: Name): UpdateDefinition<Ret, Args, Name> {
  if (typeof name !== 'string' || name === '') throw new TypeError('defineUpdate: expected a non-empty name');
  return { type: 'update', name };
}

/** setHandler for an update definition (workflow.ts's setHandler calls it). */
export function setUpdateHandler(name: string, handler: unknown, options: unknown): void {
  const state = getState('setHandler');
  let validator: UpdateValidator | undefined;
  let description: string | undefined;
  if (options !== undefined) {
    if (typeof options !== 'object' || options === null) throw new TypeError(`setHandler (update "${name}"): expected options { validator?, description? }`);
    checkKeys(`setHandler (update "${name}")`, options, ['validator', 'description']);
    const o = options as { validator?: unknown; description?: unknown };
    if (o.validator !== undefined && typeof o.validator !== 'function') throw new TypeError(`setHandler (update "${name}"): validator must be a function`);
    if (o.description !== undefined && typeof o.description !== 'string') throw new TypeError(`setHandler (update "${name}"): description must be a string`);
    validator = o.validator as UpdateValidator | undefined;
    description = o.description as string | undefined;
  }
  state.messages.setUpdateHandler(name, handler as UpdateHandler | undefined, validator, description);
}

function checkDefault(where: string, handler: unknown): DefaultHandler | undefined {
  if (handler !== undefined && typeof handler !== 'function') throw new TypeError(`${where}: expected a function or undefined`);
  return handler as DefaultHandler | undefined;
}

/** Handles every signal with no handler of its own: `handler(signalName, ...args)`. Buffered signals go to it now. */
export function setDefaultSignalHandler(handler: ((signalName: string, ...args: any[]) => void | Promise<void>) | undefined): void {
  const state = getState('setDefaultSignalHandler');
  state.messages.defaultSignal = checkDefault('setDefaultSignalHandler', handler);
  state.flushBufferedSignalsToDefault();
}

/** Answers every query with no handler of its own: `handler(queryName, ...args)`, synchronously. */
export function setDefaultQueryHandler(handler: ((queryName: string, ...args: any[]) => unknown) | undefined): void {
  getState('setDefaultQueryHandler').messages.defaultQuery = checkDefault('setDefaultQueryHandler', handler);
}

/** Handles every update with no handler of its own: `handler(updateName, ...args)` (no validator). */
export function setDefaultUpdateHandler(handler: ((updateName: string, ...args: any[]) => unknown) | undefined): void {
  getState('setDefaultUpdateHandler').messages.setDefaultUpdateHandler(checkDefault('setDefaultUpdateHandler', handler));
}

/**
 * True when no signal or update handler is running. Await `condition(allHandlersFinished)` before
 * the workflow returns, so that no handler is cut short by its end.
 */
export function allHandlersFinished(): boolean {
  return getState('allHandlersFinished').messages.allFinished;
}

/** The update whose handler (or validator) is running, across its awaits; undefined elsewhere. */
export function currentUpdateInfo(): UpdateInfo | undefined {
  getState('currentUpdateInfo');
  const info = currentUpdateContext() as UpdateInfo | undefined;
  return info === undefined ? undefined : { id: info.id, name: info.name };
}
