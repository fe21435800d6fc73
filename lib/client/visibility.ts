/**
 * The client's side of search attributes and memo (host side): start options in Temporal's forms
 * turned into the wire form, and a description's attributes turned back into them.
 */
import { InvalidArgumentError, describe } from '../errors';
import type { Payload, SearchAttributes } from '../../runtime/protocol';
import {
  startSearchAttributesToWire,
  wireToLegacy,
  wireToTyped,
  type LegacySearchAttributes,
  type SearchAttributePair,
  type TypedSearchAttributes,
} from '../../runtime/search-attributes';

/** The start options of this slice. */
export interface VisibilityStartOptions {
  /** Memo fields (any JSON values), read back by describe() and workflowInfo().memo. */
  memo?: Record<string, unknown>;
  /** Search attributes in Temporal's legacy form, `{ Name: [values] }`. */
  searchAttributes?: LegacySearchAttributes;
  /** Search attributes, typed (a typed value wins over a legacy one of the same name). */
  typedSearchAttributes?: SearchAttributePair[] | TypedSearchAttributes;
}

export const VISIBILITY_START_KEYS = ['memo', 'searchAttributes', 'typedSearchAttributes'] as const;

/** The wire fields for a start request (only those given). */
export function visibilityStartFields(where: string, options: VisibilityStartOptions): { memo?: Record<string, Payload>; searchAttributes?: SearchAttributes } {
  const out: { memo?: Record<string, Payload>; searchAttributes?: SearchAttributes } = {};
  if (options.memo !== undefined) {
    const memo = options.memo;
    if (typeof memo !== 'object' || memo === null || Array.isArray(memo)) throw new InvalidArgumentError(`${where}: memo must be an object of memo fields, got ${describe(memo)}`);
    out.memo = Object.fromEntries(Object.entries(memo).filter(([, v]) => v !== undefined)) as Record<string, Payload>;
  }
  try {
    const attrs = startSearchAttributesToWire(where, options.searchAttributes, options.typedSearchAttributes);
    // JSON copies: the wire form is prototype-less records.
    if (attrs !== undefined) out.searchAttributes = JSON.parse(JSON.stringify(attrs)) as SearchAttributes;
  } catch (err) {
    if (err instanceof TypeError) throw new InvalidArgumentError(err.message);
    throw err;
  }
  return out;
}

/** A description's memo and search attributes in Temporal's forms. */
export function describeVisibility(d: { memo?: Record<string, Payload>; searchAttributes?: SearchAttributes }): {
  memo?: Record<string, unknown>;
  searchAttributes: LegacySearchAttributes;
  typedSearchAttributes: TypedSearchAttributes;
} {
  return {
    ...(d.memo === undefined ? {} : { memo: d.memo as Record<string, unknown> }),
    searchAttributes: { ...wireToLegacy(d.searchAttributes) },
    typedSearchAttributes: wireToTyped(d.searchAttributes),
  };
}
