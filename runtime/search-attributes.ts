/**
 * Search attributes in Temporal's two public forms, and their wire form (both sides of the
 * boundary: the workflow API inside the isolate, the client and the engine on the host). It
 * imports only the protocol and the primordials, so it is safe on either side.
 *
 * - The legacy form, `{ Name: [values] }`, types inferred as Temporal's TypeScript SDK infers
 *   them, with deja's choice for strings (no attribute registry: a string is a KEYWORD, not a
 *   TEXT): one string → KEYWORD, several strings → KEYWORD_LIST, one integer → INT, one other
 *   finite number → DOUBLE, one boolean → BOOL, one Date → DATETIME. Several numbers, booleans or
 *   dates have no type and are refused.
 * - The typed form: `defineSearchAttributeKey(name, type)` keys, `{ key, value }` pairs and the
 *   `TypedSearchAttributes` collection.
 * - The wire form (runtime/protocol.ts): `{ Name: { type, value } }`, DATETIME values as
 *   ISO-8601 strings; in an upsert, null removes an attribute.
 *
 * Every converter checks what it is given and throws a TypeError naming the attribute and what
 * was expected; what it returns is built from prototype-less records (see primordials.ts).
 */
import {
  ArrayIsArray,
  DateConstructor,
  DatePrototypeGetTime,
  DatePrototypeToISOString,
  FunctionPrototypeSymbolHasInstance,
  JSONParse,
  JSONStringify,
  NumberIsFinite,
  NumberIsSafeInteger,
  ObjectKeys,
  TypeError,
  append,
  list,
  own,
  put,
  record,
} from './primordials';
import type { SearchAttributeType as WireType, SearchAttributes as WireSearchAttributes, SearchAttributeUpserts, SearchAttributeValue, WorkflowInfo as WireWorkflowInfo } from './protocol';

/** Temporal's search attribute types (`SearchAttributeType.KEYWORD`). */
export const SearchAttributeType = {
  TEXT: 'TEXT',
  KEYWORD: 'KEYWORD',
  INT: 'INT',
  DOUBLE: 'DOUBLE',
  BOOL: 'BOOL',
  DATETIME: 'DATETIME',
  KEYWORD_LIST: 'KEYWORD_LIST',
} as const;
export type SearchAttributeType = WireType;

const TYPES: readonly string[] = ['TEXT', 'KEYWORD', 'INT', 'DOUBLE', 'BOOL', 'DATETIME', 'KEYWORD_LIST'];
const TYPE_NAMES = 'TEXT, KEYWORD, INT, DOUBLE, BOOL, DATETIME, KEYWORD_LIST';

/** The value each type holds in the typed form. */
export interface IndexedValueTypeMapping {
  TEXT: string;
  KEYWORD: string;
  INT: number;
  DOUBLE: number;
  BOOL: boolean;
  DATETIME: Date;
  KEYWORD_LIST: string[];
}

export interface SearchAttributeKey<T extends SearchAttributeType = SearchAttributeType> {
  name: string;
  type: T;
}

/** A key and its value. */
export type SearchAttributePair = { [T in SearchAttributeType]: { key: SearchAttributeKey<T>; value: IndexedValueTypeMapping[T] } }[SearchAttributeType];
/** A key and its new value; null removes the attribute. */
export type SearchAttributeUpdatePair = { [T in SearchAttributeType]: { key: SearchAttributeKey<T>; value: IndexedValueTypeMapping[T] | null } }[SearchAttributeType];

/** Temporal's legacy value: a list of scalars (one, except for a keyword list). */
export type SearchAttributeValueLegacy = string[] | number[] | boolean[] | Date[];
/** Temporal's legacy form, `{ Name: [values] }` (Temporal calls it `SearchAttributes`). */
export type LegacySearchAttributes = Record<string, SearchAttributeValueLegacy | Readonly<SearchAttributeValueLegacy> | undefined>;

/** A typed key, as Temporal's `defineSearchAttributeKey`. */
export function defineSearchAttributeKey<T extends SearchAttributeType>(name: string, type: T): SearchAttributeKey<T> {
  checkName('defineSearchAttributeKey', name);
  if (typeof type !== 'string' || !isType(type)) throw new TypeError(`defineSearchAttributeKey: type must be one of ${TYPE_NAMES}, got ${show(type)}`);
  return { name, type };
}

function isType(type: string): type is SearchAttributeType {
  for (let i = 0; i < TYPES.length; i++) if (TYPES[i] === type) return true;
  return false;
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSONStringify(value) ?? '';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return `${value}`;
  if (ArrayIsArray(value)) return 'an array';
  if (isDate(value)) return 'a Date';
  return typeof value;
}

function checkName(where: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '') throw new TypeError(`${where}: a search attribute name must be a non-empty string, got ${show(name)}`);
}

/** A real Date (any realm), without `instanceof`. */
export function isDate(value: unknown): value is Date {
  if (typeof value !== 'object' || value === null) return false;
  try {
    DatePrototypeGetTime(value as Date);
    return true;
  } catch {
    return false;
  }
}

/** A Date's time as the wire's ISO text; refuses an invalid Date. */
function dateToWire(where: string, value: Date): string {
  const ms = DatePrototypeGetTime(value);
  if (!NumberIsFinite(ms)) throw new TypeError(`${where}: expected a valid Date, got an invalid Date`);
  return DatePrototypeToISOString(value);
}

/** A typed value checked against its type and turned into the wire form. */
function typedToWireValue(where: string, type: SearchAttributeType, value: unknown): SearchAttributeValue {
  switch (type) {
    case 'TEXT':
    case 'KEYWORD':
      if (typeof value !== 'string') throw new TypeError(`${where}: a ${type} value must be a string, got ${show(value)}`);
      return record({ type, value });
    case 'INT':
      if (typeof value !== 'number' || !NumberIsSafeInteger(value)) throw new TypeError(`${where}: an INT value must be a safe integer, got ${show(value)}`);
      return record({ type, value });
    case 'DOUBLE':
      if (typeof value !== 'number' || !NumberIsFinite(value)) throw new TypeError(`${where}: a DOUBLE value must be a finite number, got ${show(value)}`);
      return record({ type, value });
    case 'BOOL':
      if (typeof value !== 'boolean') throw new TypeError(`${where}: a BOOL value must be a boolean, got ${show(value)}`);
      return record({ type, value });
    case 'DATETIME':
      if (!isDate(value)) throw new TypeError(`${where}: a DATETIME value must be a Date, got ${show(value)}`);
      return record({ type, value: dateToWire(where, value) });
    case 'KEYWORD_LIST': {
      if (!ArrayIsArray(value)) throw new TypeError(`${where}: a KEYWORD_LIST value must be an array of strings, got ${show(value)}`);
      const values = list<string>();
      for (let i = 0; i < value.length; i++) {
        if (typeof value[i] !== 'string') throw new TypeError(`${where}: a KEYWORD_LIST value must be an array of strings, got ${show(value[i])} at index ${i}`);
        append(values, value[i] as string);
      }
      return record({ type, value: values });
    }
    default:
      throw new TypeError(`${where}: type must be one of ${TYPE_NAMES}, got ${show(type)}`);
  }
}

/**
 * A legacy value (a list) as a typed wire value, its type inferred; undefined for "no value"
 * (undefined, null or an empty list: in an upsert, that removes the attribute).
 */
function legacyToWireValue(where: string, values: unknown): SearchAttributeValue | undefined {
  if (values === undefined || values === null) return undefined;
  if (!ArrayIsArray(values)) {
    throw new TypeError(`${where}: expected an array of values (Temporal's legacy form, such as ['blue'] or [42]), got ${show(values)}; or use typed search attributes`);
  }
  if (values.length === 0) return undefined;
  const first = values[0];
  const kind = isDate(first) ? 'date' : typeof first;
  for (let i = 1; i < values.length; i++) {
    const k = isDate(values[i]) ? 'date' : typeof values[i];
    if (k !== kind) throw new TypeError(`${where}: the values must all be of one type, got ${show(first)} and ${show(values[i])}`);
  }
  if (kind === 'string') {
    if (values.length === 1) return record({ type: 'KEYWORD' as const, value: first as string });
    return typedToWireValue(where, 'KEYWORD_LIST', values);
  }
  if (kind !== 'number' && kind !== 'boolean' && kind !== 'date') {
    throw new TypeError(`${where}: a value must be a string, a number, a boolean or a Date, got ${show(first)}`);
  }
  if (values.length > 1) {
    throw new TypeError(`${where}: only strings (a KEYWORD_LIST) may have several values; got ${values.length} values of type ${kind === 'date' ? 'Date' : kind}`);
  }
  if (kind === 'boolean') return record({ type: 'BOOL' as const, value: first as boolean });
  if (kind === 'date') return typedToWireValue(where, 'DATETIME', first);
  const n = first as number;
  if (!NumberIsFinite(n)) throw new TypeError(`${where}: a number must be finite, got ${show(n)}`);
  return NumberIsSafeInteger(n) ? record({ type: 'INT' as const, value: n }) : record({ type: 'DOUBLE' as const, value: n });
}

function checkObject(where: string, value: unknown): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || ArrayIsArray(value)) {
    throw new TypeError(`${where}: expected an object of search attributes ({ Name: [values] }), got ${show(value)}`);
  }
}

/** The legacy form as wire attributes (a start): attributes with no value are left out. */
export function legacyToWire(where: string, attrs: unknown): WireSearchAttributes {
  checkObject(where, attrs);
  const out: WireSearchAttributes = record({});
  const names = ObjectKeys(attrs);
  for (let i = 0; i < names.length; i++) {
    checkName(where, names[i]);
    const v = legacyToWireValue(`${where}: ${names[i]}`, own(attrs, names[i]));
    if (v !== undefined) put(out, names[i], v);
  }
  return out;
}

/** The legacy form as wire upserts: an attribute with no value (undefined, null, []) is removed. */
export function legacyToWireUpserts(where: string, attrs: unknown): SearchAttributeUpserts {
  checkObject(where, attrs);
  const out: SearchAttributeUpserts = record({});
  const names = ObjectKeys(attrs);
  for (let i = 0; i < names.length; i++) {
    checkName(where, names[i]);
    put(out, names[i], legacyToWireValue(`${where}: ${names[i]}`, own(attrs, names[i])) ?? null);
  }
  return out;
}

function checkPair(where: string, pair: unknown, i: number): { name: string; type: SearchAttributeType; value: unknown } {
  if (typeof pair !== 'object' || pair === null) throw new TypeError(`${where}: expected { key, value } pairs, got ${show(pair)} at index ${i}`);
  const key = own(pair, 'key');
  if (typeof key !== 'object' || key === null) throw new TypeError(`${where}: pair ${i} has no key (make one with defineSearchAttributeKey(name, type))`);
  const name = own(key, 'name');
  const type = own(key, 'type');
  checkName(where, name);
  if (typeof type !== 'string' || !isType(type)) throw new TypeError(`${where}: ${name}: the key's type must be one of ${TYPE_NAMES}, got ${show(type)}`);
  return { name, type, value: own(pair, 'value') };
}

/** Typed pairs (or a TypedSearchAttributes) as wire attributes; a name given twice is refused. */
export function typedToWire(where: string, pairs: unknown): WireSearchAttributes {
  const all = FunctionPrototypeSymbolHasInstance(TypedSearchAttributes, pairs) ? (pairs as TypedSearchAttributes).getAll() : pairs;
  if (!ArrayIsArray(all)) throw new TypeError(`${where}: expected an array of { key, value } pairs or a TypedSearchAttributes, got ${show(all)}`);
  const out: WireSearchAttributes = record({});
  for (let i = 0; i < all.length; i++) {
    const { name, type, value } = checkPair(where, all[i], i);
    if (own(out, name) !== undefined) throw new TypeError(`${where}: ${name} is given twice`);
    put(out, name, typedToWireValue(`${where}: ${name}`, type, value));
  }
  return out;
}

/** Typed update pairs as wire upserts: a null value removes the attribute. */
export function typedToWireUpserts(where: string, pairs: unknown): SearchAttributeUpserts {
  if (!ArrayIsArray(pairs)) throw new TypeError(`${where}: expected an array of { key, value } pairs, got ${show(pairs)}`);
  const out: SearchAttributeUpserts = record({});
  for (let i = 0; i < pairs.length; i++) {
    const { name, type, value } = checkPair(where, pairs[i], i);
    if (own(out, name) !== undefined) throw new TypeError(`${where}: ${name} is given twice`);
    put(out, name, value === null || value === undefined ? null : typedToWireValue(`${where}: ${name}`, type, value));
  }
  return out;
}

/** Start options: the legacy and the typed form together (a typed value wins, as in Temporal). */
export function startSearchAttributesToWire(where: string, legacy: unknown, typed: unknown): WireSearchAttributes | undefined {
  if (legacy === undefined && typed === undefined) return undefined;
  const out: WireSearchAttributes = legacy === undefined ? record({}) : legacyToWire(`${where} searchAttributes`, legacy);
  if (typed !== undefined) {
    const t = typedToWire(`${where} typedSearchAttributes`, typed);
    const names = ObjectKeys(t);
    for (let i = 0; i < names.length; i++) put(out, names[i], t[names[i]]);
  }
  return out;
}

/** A wire value's time as a Date. */
function wireDate(value: string): Date {
  return new DateConstructor(value);
}

/** Wire attributes in Temporal's legacy shape (every value a list; DATETIME values as Dates). */
export function wireToLegacy(attrs: WireSearchAttributes | undefined): LegacySearchAttributes {
  const out: LegacySearchAttributes = {};
  if (attrs === undefined) return out;
  const names = ObjectKeys(attrs);
  for (let i = 0; i < names.length; i++) {
    const v = attrs[names[i]];
    let values: SearchAttributeValueLegacy;
    if (v.type === 'KEYWORD_LIST') {
      const strings: string[] = [];
      for (let j = 0; j < v.value.length; j++) strings[j] = v.value[j];
      values = strings;
    } else if (v.type === 'DATETIME') values = [wireDate(v.value)];
    else values = [v.value] as SearchAttributeValueLegacy;
    put(out, names[i], values);
  }
  return out;
}

/** Wire attributes as the typed collection. */
export function wireToTyped(attrs: WireSearchAttributes | undefined): TypedSearchAttributes {
  const t = new TypedSearchAttributes();
  if (attrs !== undefined) {
    const names = ObjectKeys(attrs);
    for (let i = 0; i < names.length; i++) put(t['values'], names[i], copyWire(attrs[names[i]]));
  }
  return t;
}

/** Applies upserts to wire attributes: a new record (null removes). */
export function applyUpserts(attrs: WireSearchAttributes | undefined, upserts: SearchAttributeUpserts): WireSearchAttributes {
  const out: WireSearchAttributes = record({});
  if (attrs !== undefined) {
    const names = ObjectKeys(attrs);
    for (let i = 0; i < names.length; i++) put(out, names[i], attrs[names[i]]);
  }
  const names = ObjectKeys(upserts);
  for (let i = 0; i < names.length; i++) {
    const v = upserts[names[i]];
    if (v === null) delete out[names[i]];
    else put(out, names[i], v);
  }
  return out;
}

function copyWire(v: SearchAttributeValue): SearchAttributeValue {
  if (v.type !== 'KEYWORD_LIST') return record({ type: v.type, value: v.value } as SearchAttributeValue);
  const values = list<string>();
  for (let i = 0; i < v.value.length; i++) append(values, v.value[i]);
  return record({ type: v.type, value: values });
}

/** A wire value as the typed form's value. */
function typedValue(v: SearchAttributeValue): IndexedValueTypeMapping[SearchAttributeType] {
  if (v.type === 'DATETIME') return wireDate(v.value);
  if (v.type === 'KEYWORD_LIST') {
    const strings: string[] = [];
    for (let i = 0; i < v.value.length; i++) strings[i] = v.value[i];
    return strings;
  }
  return v.value;
}

/**
 * Temporal's `TypedSearchAttributes`: an immutable collection of typed values. `get` answers
 * only for a key of the stored type (a key of another type reads undefined, as in Temporal).
 */
export class TypedSearchAttributes {
  /** Wire values by name (the collection's own copy). */
  private readonly values: WireSearchAttributes = record({});

  constructor(initial?: SearchAttributePair[]) {
    if (initial !== undefined) {
      const wire = typedToWire('TypedSearchAttributes', initial);
      const names = ObjectKeys(wire);
      for (let i = 0; i < names.length; i++) put(this.values, names[i], wire[names[i]]);
    }
  }

  get<T extends SearchAttributeType>(key: SearchAttributeKey<T>): IndexedValueTypeMapping[T] | undefined {
    if (typeof key !== 'object' || key === null) throw new TypeError('TypedSearchAttributes.get: expected a key from defineSearchAttributeKey(name, type)');
    const v = own(this.values, key.name) as SearchAttributeValue | undefined;
    if (v === undefined || v.type !== key.type) return undefined;
    return typedValue(v) as IndexedValueTypeMapping[T];
  }

  getAll(): SearchAttributePair[] {
    const pairs: SearchAttributePair[] = [];
    const names = ObjectKeys(this.values);
    for (let i = 0; i < names.length; i++) {
      const v = this.values[names[i]];
      pairs[i] = { key: { name: names[i], type: v.type }, value: typedValue(v) } as SearchAttributePair;
    }
    return pairs;
  }

  /** A copy with the updates applied (a null value removes the attribute). */
  updateCopy(updates: SearchAttributeUpdatePair[]): TypedSearchAttributes {
    const upserts = typedToWireUpserts('TypedSearchAttributes.updateCopy', updates);
    return wireToTyped(applyUpserts(this.values, upserts));
  }

  /** The wire form (what crosses to the service). */
  toWire(): WireSearchAttributes {
    const out: WireSearchAttributes = record({});
    const names = ObjectKeys(this.values);
    for (let i = 0; i < names.length; i++) put(out, names[i], copyWire(this.values[names[i]]));
    return out;
  }
}

/**
 * What `workflowInfo()` returns: the protocol's info with the search attributes in Temporal's two
 * public forms (`searchAttributes`, legacy; `typedSearchAttributes`) and a copy of the memo.
 */
export type WorkflowInfoView = Omit<WireWorkflowInfo, 'searchAttributes' | 'memo'> & {
  searchAttributes: LegacySearchAttributes;
  typedSearchAttributes: TypedSearchAttributes;
  memo?: Record<string, unknown>;
};

export function workflowInfoView(info: WireWorkflowInfo): WorkflowInfoView {
  const view = { ...info, searchAttributes: wireToLegacy(info.searchAttributes), typedSearchAttributes: wireToTyped(info.searchAttributes) } as WorkflowInfoView;
  if (info.memo !== undefined) view.memo = JSONParse(JSONStringify(info.memo)) as Record<string, unknown>;
  return view;
}
