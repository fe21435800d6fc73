/**
 * Log values as text (inside the isolate): what `console.log(a, b)` and `log.info(x)` write. Never
 * throws, whatever the values' getters, `toJSON` or `toString` do, and uses only captured
 * intrinsics.
 */
import { ErrorPrototype, JSONStringify, ObjectPrototypeIsPrototypeOf, String, isObject, tryGet } from './primordials';

/** One value as log text: strings as they are, errors by their stack, the rest as JSON. */
export function describeLogValue(value: unknown): string {
  'use strict';
  if (typeof value === 'string') return value;
  try {
    if (isObject(value) && ObjectPrototypeIsPrototypeOf(ErrorPrototype, value)) {
      const stack = tryGet(value, 'stack');
      if (typeof stack === 'string') return stack;
      return `${String(tryGet(value, 'name'))}: ${String(tryGet(value, 'message'))}`;
    }
    const json = JSONStringify(value);
    if (typeof json === 'string') return json;
  } catch {
    // not JSON (a cycle, a BigInt, a throwing toJSON): try String below
  }
  try {
    return String(value);
  } catch {
    return `[${typeof value}]`;
  }
}

/** Several values, separated by spaces, as console.log writes them. */
export function describeLogValues(values: unknown[]): string {
  'use strict';
  let text = '';
  for (let i = 0; i < values.length; i++) text += (i === 0 ? '' : ' ') + describeLogValue(values[i]);
  return text;
}
