/**
 * The in-memory store's copy of what it keeps and hands out, so that no caller shares an object
 * with the store. What the store holds is plain data (the engine copies every payload into JSON
 * data on the way in), and for plain data a walk is several times cheaper than structuredClone,
 * which serializes and deserializes. The walk copies only primitives, arrays and objects whose
 * prototype is Object.prototype or null; it gives the same result as structuredClone for them
 * (undefined members kept, property order kept, a `__proto__` key an own property). Anything else
 * (a Date, a Map, a typed array, a sparse array or one with extra properties, a function, very
 * deep or cyclic data) makes it hand the whole value to structuredClone instead, so the result
 * (or the DataCloneError) is structuredClone's.
 */

/** Nesting past which the value goes to structuredClone (which also handles cycles). */
const MAX_DEPTH = 256;

/** Thrown inside the walk when the value is not plain data. */
const NOT_PLAIN: unique symbol = Symbol('not plain data');

function copy(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'function' || typeof value === 'symbol') throw NOT_PLAIN;
    return value;
  }
  if (depth >= MAX_DEPTH) throw NOT_PLAIN;
  const proto: unknown = Object.getPrototypeOf(value);
  if (Array.isArray(value)) {
    if (proto !== Array.prototype) throw NOT_PLAIN;
    const n = value.length;
    const out = new Array<unknown>(n);
    let members = 0;
    for (const key in value) {
      const i = Number(key);
      // Only its own indexes: a named property or an inherited one is structuredClone's to handle.
      if (!(i >= 0 && i < n && String(i) === key) || !Object.prototype.hasOwnProperty.call(value, key)) throw NOT_PLAIN;
      out[i] = copy(value[i], depth + 1);
      members++;
    }
    if (members !== n) throw NOT_PLAIN; // a sparse array
    return out;
  }
  if (proto !== Object.prototype && proto !== null) throw NOT_PLAIN;
  const out: Record<string, unknown> = {};
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) throw NOT_PLAIN;
    const member = copy((value as Record<string, unknown>)[key], depth + 1);
    if (key === '__proto__') Object.defineProperty(out, key, { value: member, writable: true, enumerable: true, configurable: true });
    else out[key] = member;
  }
  return out;
}

/** A deep copy of `value`, equal to `structuredClone(value)`. */
export function cloneData<T>(value: T): T {
  try {
    return copy(value, 0) as T;
  } catch (error) {
    if (error !== NOT_PLAIN) throw error;
    return structuredClone(value);
  }
}
