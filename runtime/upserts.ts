/**
 * `upsertSearchAttributes` and `upsertMemo` (inside the isolate), as in Temporal's TypeScript SDK.
 * Each checks its argument, emits one command (upsertSearchAttributes, modifyWorkflowProperties)
 * and updates what `workflowInfo()` reads at once, so the code sees its own upsert before the
 * service records it. A bad value is a TypeError thrown to the caller.
 */
import { ArrayIsArray, JSONStringify, ObjectKeys, TypeError, own, put, record } from './primordials';
import type { Payload } from './protocol';
import { getState } from './internals';
import { checkPayloads } from './workflow';
import { legacyToWireUpserts, typedToWireUpserts, type LegacySearchAttributes, type SearchAttributeUpdatePair } from './search-attributes';

/**
 * Sets or removes search attributes: Temporal's legacy form (`{ Name: [values] }`; an empty list,
 * null or undefined removes the attribute) or typed update pairs (a null value removes it).
 */
export function upsertSearchAttributes(attributes: LegacySearchAttributes | SearchAttributeUpdatePair[]): void {
  const state = getState('upsertSearchAttributes');
  const where = 'upsertSearchAttributes';
  const upserts = ArrayIsArray(attributes) ? typedToWireUpserts(where, attributes) : legacyToWireUpserts(where, attributes);
  if (ObjectKeys(upserts).length === 0) return;
  state.upsertSearchAttributes(upserts);
}

/**
 * A memo value as a payload (a JSON copy). A value JSON cannot carry (a function, a symbol) is
 * refused rather than turned into null, which would remove the field.
 */
export function memoValue(where: string, value: unknown): Payload {
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
    throw new TypeError(`${where}: a memo value must be JSON-serializable, got a ${typeof value}`);
  }
  return checkPayloads([value], where)[0];
}

/** Sets memo fields (any JSON values); a field set to undefined or null is removed. */
export function upsertMemo(memo: Record<string, unknown>): void {
  const state = getState('upsertMemo');
  const where = 'upsertMemo';
  if (typeof memo !== 'object' || memo === null || ArrayIsArray(memo)) throw new TypeError(`${where}: expected an object of memo fields, got ${memo === null ? 'null' : typeof memo}`);
  const fields: Record<string, Payload | null> = record({});
  const names = ObjectKeys(memo);
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (name === '') throw new TypeError(`${where}: a memo field name must be a non-empty string`);
    const value = own(memo, name);
    put(fields, name, value === undefined || value === null ? null : memoValue(`${where}: field ${JSONStringify(name) ?? ''}`, value));
  }
  if (names.length === 0) return;
  state.upsertMemo(fields);
}
