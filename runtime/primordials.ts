/**
 * The intrinsics the runtime relies on, captured once when the bundle loads, before any workflow
 * code runs (every runtime module imports this one first, and the bundle's entry evaluates the
 * runtime before it loads the workflows module).
 *
 * Workflow code may replace any global or prototype method: `JSON.stringify`,
 * `Array.prototype.push`, `Promise.prototype.then`, `Function.prototype.call`, `Map.prototype.get`,
 * `Object.keys`… That must change only its own behaviour, never what the runtime hands to the host.
 * So the runtime's own code follows these rules (test/runtime-hardening.test.ts checks the first):
 *
 * - It names no global: every built-in it uses comes from this module. The constructors keep
 *   their global names here (`Map`, `Promise`, `TypeError`…), so importing them shadows the
 *   patchable globals; functions are named as in Node's primordials (`ArrayIsArray`,
 *   `JSONStringify`, `MapPrototypeGet`).
 * - It calls methods only through the uncurried forms below (`MapPrototypeGet(map, key)`), which
 *   are bound to the captured `Function.prototype.call`: no property lookup at call time, so a
 *   patched prototype method or a patched `call`/`apply`/`bind` is never reached.
 * - It avoids syntax with hidden lookups on values workflow code can reach: for…of, array
 *   destructuring and iterable spread (`%ArrayIteratorPrototype%.next`), `instanceof`
 *   (`Symbol.hasInstance`), `new Map(iterable)` (`Map.prototype.set`), template literals on
 *   objects, `.then` on promises, and plain assignment to a property that may be missing
 *   (a setter on `Object.prototype`). Index loops, `ReflectApply` and `ObjectDefineProperty` with
 *   descriptors from `dataProperty` are the safe forms.
 * - What it returns to the host is built from `record` objects and `list` arrays: they have no
 *   prototype, so `JSON.stringify` finds no `toJSON` (an `Object.prototype.toJSON` set by workflow
 *   code) and an assignment meets no inherited setter.
 * - A function that calls workflow code (a handler, a getter, a toJSON) is strict: a class method,
 *   or a function that starts with 'use strict'. esbuild may hoist module-level functions into
 *   the bundle's sloppy top-level scope, and from a sloppy caller workflow code could climb
 *   `fn.caller` to runtime functions and read their `arguments`.
 *
 * Capturing a constructor captures the function, not its properties: `Promise.resolve` or
 * `Map.prototype.get` can still be replaced on the shared object, which is why the functions
 * themselves are captured too. Static and prototype objects are never read at call time.
 */

const { apply: ReflectApply_, construct: ReflectConstruct_ } = Reflect;
const FunctionPrototypeCall = Function.prototype.call;
const FunctionPrototypeBind = Function.prototype.bind;

/**
 * `fn` as a function taking its receiver first: `uncurryThis(Array.prototype.push)(array, x)`.
 * The result is the captured `call` bound to `fn`, so calling it looks nothing up.
 */
export function uncurryThis<T, A extends unknown[], R>(fn: (this: T, ...args: A) => R): (self: T, ...args: A) => R {
  return ReflectApply_(FunctionPrototypeBind, FunctionPrototypeCall, [fn]) as (self: T, ...args: A) => R;
}

/** The getter of an accessor property, uncurried (e.g. `Map.prototype.size`). */
function uncurryGetter<T, R>(object: object, key: PropertyKey): (self: T) => R {
  const descriptor = Reflect.getOwnPropertyDescriptor(object, key);
  if (descriptor === undefined || typeof descriptor.get !== 'function') throw new Error(`deja runtime: ${String(key)} is not an accessor`);
  return uncurryThis(descriptor.get as (this: T) => R);
}

// ── the global object and namespaces ───────────────────────────────────────────────────────────

/** The isolate's global object (`globalThis` itself is a writable global). */
export const globalObject = globalThis as unknown as Record<PropertyKey, unknown>;

export const ReflectApply = ReflectApply_;
export const ReflectConstruct = ReflectConstruct_;
export const ReflectDefineProperty = Reflect.defineProperty;
export const ReflectDeleteProperty = Reflect.deleteProperty;
export const ReflectGet = Reflect.get;
export const ReflectGetOwnPropertyDescriptor = Reflect.getOwnPropertyDescriptor;
export const ReflectHas = Reflect.has;
export const ReflectOwnKeys = Reflect.ownKeys;

export const ObjectCreate = Object.create;
export const ObjectDefineProperty = Object.defineProperty;
export const ObjectFreeze = Object.freeze;
export const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
export const ObjectGetPrototypeOf = Object.getPrototypeOf;
export const ObjectKeys = Object.keys;
export const ObjectSetPrototypeOf = Object.setPrototypeOf;
export const ObjectPrototype = Object.prototype;
export const ObjectPrototypeHasOwnProperty = uncurryThis(Object.prototype.hasOwnProperty as (this: unknown, key: PropertyKey) => boolean);
export const ObjectPrototypeIsPrototypeOf = uncurryThis(Object.prototype.isPrototypeOf as (this: object, value: unknown) => boolean);

export const FunctionPrototypeSymbolHasInstance = uncurryThis(
  Function.prototype[Symbol.hasInstance] as (this: unknown, value: unknown) => boolean,
);

export const JSONParse = JSON.parse;
export const JSONStringify = JSON.stringify;

export const MathCeil = Math.ceil;
export const MathFloor = Math.floor;
export const MathMax = Math.max;
export const MathMin = Math.min;
export const MathTrunc = Math.trunc;

export const NumberIsFinite = Number.isFinite;
export const NumberIsInteger = Number.isInteger;
export const NumberIsNaN = Number.isNaN;
export const NumberParseFloat = Number.parseFloat;
export const NumberPrototypeToString = uncurryThis(Number.prototype.toString as (this: number, radix?: number) => string);

export const StringFromCharCode = String.fromCharCode;
export const StringPrototypeCharCodeAt = uncurryThis(String.prototype.charCodeAt as (this: string, index: number) => number);
export const StringPrototypePadStart = uncurryThis(String.prototype.padStart as (this: string, length: number, fill?: string) => string);
export const StringPrototypeSlice = uncurryThis(String.prototype.slice as (this: string, start?: number, end?: number) => string);
export const StringPrototypeToLowerCase = uncurryThis(String.prototype.toLowerCase as (this: string) => string);

export const RegExpPrototypeExec = uncurryThis(RegExp.prototype.exec as (this: RegExp, s: string) => RegExpExecArray | null);

export const ArrayIsArray = Array.isArray;
export const ArrayBufferIsView = ArrayBuffer.isView;

export const SymbolFor = Symbol.for;
export const SymbolHasInstance: typeof Symbol.hasInstance = Symbol.hasInstance;
export const SymbolToPrimitive: typeof Symbol.toPrimitive = Symbol.toPrimitive;
export const SymbolToStringTag: typeof Symbol.toStringTag = Symbol.toStringTag;

// ── constructors (imported under their global names, they shadow the patchable globals) ───────

const ErrorConstructor = Error;
const TypeErrorConstructor = TypeError;
const RangeErrorConstructor = RangeError;
const MapConstructor = Map;
const WeakMapConstructor = WeakMap;
const PromiseConstructor = Promise;
const ProxyConstructor = Proxy;
const StringConstructor = String;
const NumberConstructor = Number;
const ObjectConstructor = Object;
const Uint8ArrayConstructor = Uint8Array;
export {
  ErrorConstructor as Error,
  TypeErrorConstructor as TypeError,
  RangeErrorConstructor as RangeError,
  MapConstructor as Map,
  WeakMapConstructor as WeakMap,
  PromiseConstructor as Promise,
  ProxyConstructor as Proxy,
  StringConstructor as String,
  NumberConstructor as Number,
  ObjectConstructor as Object,
  Uint8ArrayConstructor as Uint8Array,
};
export const ErrorPrototype = Error.prototype;

// ── Map, WeakMap, Promise ───────────────────────────────────────────────────────────────────────

type AnyMap = Map<unknown, unknown>;
export const MapPrototypeGet = uncurryThis(Map.prototype.get as (this: AnyMap, key: unknown) => unknown) as <K, V>(map: Map<K, V>, key: K) => V | undefined;
export const MapPrototypeSet = uncurryThis(Map.prototype.set as (this: AnyMap, key: unknown, value: unknown) => AnyMap) as <K, V>(map: Map<K, V>, key: K, value: V) => Map<K, V>;
export const MapPrototypeHas = uncurryThis(Map.prototype.has as (this: AnyMap, key: unknown) => boolean) as <K, V>(map: Map<K, V>, key: K) => boolean;
export const MapPrototypeDelete = uncurryThis(Map.prototype.delete as (this: AnyMap, key: unknown) => boolean) as <K, V>(map: Map<K, V>, key: K) => boolean;
export const MapPrototypeGetSize = uncurryGetter(Map.prototype, 'size') as <K, V>(map: Map<K, V>) => number;
const MapPrototypeEntries = uncurryThis(Map.prototype.entries as (this: AnyMap) => IterableIterator<[unknown, unknown]>);
const MapIteratorPrototypeNext = uncurryThis(
  Object.getPrototypeOf(new Map().entries()).next as (this: IterableIterator<[unknown, unknown]>) => IteratorResult<[unknown, unknown]>,
);

/**
 * Calls `fn(value, key)` for each entry of `map` in insertion order, with the captured iterator
 * (entries added or deleted meanwhile behave as in for…of); stops early when `fn` returns true.
 */
export function mapForEach<K, V>(map: Map<K, V>, fn: (value: V, key: K) => boolean | void): void {
  const iterator = MapPrototypeEntries(map as AnyMap);
  for (;;) {
    const step = MapIteratorPrototypeNext(iterator);
    if (step.done) return;
    const entry = step.value as [K, V];
    if (fn(entry[1], entry[0]) === true) return;
  }
}

type AnyWeakMap = WeakMap<object, unknown>;
export const WeakMapPrototypeGet = uncurryThis(WeakMap.prototype.get as (this: AnyWeakMap, key: object) => unknown) as <K extends object, V>(map: WeakMap<K, V>, key: K) => V | undefined;
export const WeakMapPrototypeSet = uncurryThis(WeakMap.prototype.set as (this: AnyWeakMap, key: object, value: unknown) => AnyWeakMap) as <K extends object, V>(map: WeakMap<K, V>, key: K, value: V) => WeakMap<K, V>;

export const PromisePrototypeThen = uncurryThis(Promise.prototype.then as (this: Promise<unknown>, f?: (v: unknown) => unknown, r?: (e: unknown) => unknown) => Promise<unknown>) as <T, R = T>(
  promise: Promise<T>,
  onFulfilled?: ((value: T) => R) | undefined,
  onRejected?: ((error: unknown) => R) | undefined,
) => Promise<R>;

export const PromisePrototype = Promise.prototype;
const PromiseResolve_ = Promise.resolve;
/** `Promise.resolve(value)` with the captured constructor: `value` itself when it is a native promise. */
export function PromiseResolve<T>(value: T | PromiseLike<T>): Promise<T> {
  return ReflectApply_(PromiseResolve_, PromiseConstructor, [value]) as Promise<T>;
}

/** The methods of every generator object (%GeneratorPrototype%), for driving lowered async functions. */
const GeneratorPrototype = Object.getPrototypeOf(function* () {}).prototype as Generator;
export const GeneratorPrototypeNext = uncurryThis(GeneratorPrototype.next as (this: Generator, value?: unknown) => IteratorResult<unknown>);
export const GeneratorPrototypeThrow = uncurryThis(GeneratorPrototype.throw as (this: Generator, error: unknown) => IteratorResult<unknown>);

// ── Date (the original, before globals.ts replaces the global) ─────────────────────────────────

export const DateConstructor = Date;
export const DatePrototype = Date.prototype;
export const DateUTC = Date.UTC;
export const DateParse = Date.parse;
export const DatePrototypeGetTime = uncurryThis(Date.prototype.getTime as (this: Date) => number);
export const DatePrototypeSetTime = uncurryThis(Date.prototype.setTime as (this: Date, time: number) => number);
export const DatePrototypeGetTimezoneOffset = uncurryThis(Date.prototype.getTimezoneOffset as (this: Date) => number);
export const DatePrototypeGetUTCFullYear = uncurryThis(Date.prototype.getUTCFullYear as (this: Date) => number);
export const DatePrototypeGetUTCMonth = uncurryThis(Date.prototype.getUTCMonth as (this: Date) => number);
export const DatePrototypeGetUTCDate = uncurryThis(Date.prototype.getUTCDate as (this: Date) => number);
export const DatePrototypeGetUTCDay = uncurryThis(Date.prototype.getUTCDay as (this: Date) => number);
export const DatePrototypeGetUTCHours = uncurryThis(Date.prototype.getUTCHours as (this: Date) => number);
export const DatePrototypeGetUTCMinutes = uncurryThis(Date.prototype.getUTCMinutes as (this: Date) => number);
export const DatePrototypeGetUTCSeconds = uncurryThis(Date.prototype.getUTCSeconds as (this: Date) => number);
export const DatePrototypeSetUTCFullYear = uncurryThis(Date.prototype.setUTCFullYear as (this: Date, year: number) => number);

// ── Intl ────────────────────────────────────────────────────────────────────────────────────────

export const IntlGetCanonicalLocales = Intl.getCanonicalLocales;

// ── objects the runtime builds ──────────────────────────────────────────────────────────────────

/** `o` with no prototype: no inherited toJSON, setter or getter can reach it. Returns `o`. */
export function record<T extends object>(o: T): T {
  ObjectSetPrototypeOf(o, null);
  return o;
}

/** A new empty array with no prototype (see `record`). Append with `append`; it has no methods. */
export function list<T>(): T[] {
  const a: T[] = [];
  ObjectSetPrototypeOf(a, null);
  return a;
}

/** Appends to a `list` (a plain store: on a prototype-less array it meets no setter). */
export function append<T>(a: T[], value: T): void {
  a[a.length] = value;
}

/** Removes the element at `index` from a `list`, shifting the rest down. */
export function removeAt<T>(a: T[], index: number): T {
  const removed = a[index];
  for (let i = index; i < a.length - 1; i++) a[i] = a[i + 1];
  a.length = a.length - 1;
  return removed;
}

/** A data property descriptor with no prototype, so that no `Object.prototype.get` can join it. */
export function dataProperty(value: unknown, enumerable = true, writable = true, configurable = true): PropertyDescriptor {
  return record({ value, writable, enumerable, configurable });
}

/** Defines an own data property (never a setter, inherited or not). */
export function put(o: object, key: PropertyKey, value: unknown): void {
  ObjectDefineProperty(o, key, dataProperty(value));
}

/** An own property's value, or undefined when `o` has no own property `key` (inherited ones are ignored). */
export function own(o: object, key: PropertyKey): unknown {
  'use strict';
  return ObjectPrototypeHasOwnProperty(o, key) ? (o as Record<PropertyKey, unknown>)[key] : undefined;
}

/** `o[key]`, or undefined when reading it throws (a throwing getter, a Proxy trap). */
export function tryGet(o: object, key: PropertyKey): unknown {
  'use strict';
  try {
    return (o as Record<PropertyKey, unknown>)[key];
  } catch {
    return undefined;
  }
}

/**
 * Calls `onFulfilled` or `onRejected` once `value` settles, as `await value` would: a native
 * promise is used as it is (its `then`, which workflow code may have replaced, is never looked
 * up), anything else is resolved first. Uses only captured intrinsics and no async function (the
 * bundle's async functions are driven by async-context.ts, which is for workflow code). Neither
 * callback may throw.
 */
export function whenSettled(value: unknown, onFulfilled: (result: unknown) => void, onRejected: (error: unknown) => void): void {
  'use strict';
  let promise: Promise<unknown>;
  try {
    promise = PromiseResolve(value);
  } catch (error) {
    onRejected(error);
    return;
  }
  PromisePrototypeThen(promise, onFulfilled, onRejected);
}

export function isObject(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

// ── search attributes (runtime/search-attributes.ts) ────────────────────────────────────────────

export const DatePrototypeToISOString = uncurryThis(Date.prototype.toISOString as (this: Date) => string);
export const NumberIsSafeInteger = Number.isSafeInteger;
