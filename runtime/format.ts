/**
 * Log values as text (inside the isolate): what `console.log(a, b)` and `log.info(x)` write. Never
 * throws, whatever the values' getters, `toJSON` or `toString` do, and uses only captured
 * intrinsics.
 */
import { ErrorPrototype, JSONStringify, ObjectPrototypeIsPrototypeOf, String, isObject, tryGet } from './primordials';

/**
 * Any value as text: strings as they are, the rest as JSON, else by String(); `unprintable` names
 * a value neither can convert (a Proxy whose traps throw). Shared by log lines and failure messages.
 */
export function describeValue(value: unknown, unprintable: (type: string) => string): string {
  'use strict';
  if (typeof value === 'string') return value;
  try {
    const json = JSONStringify(value);
    if (typeof json === 'string') return json;
  } catch {
    // not JSON (a cycle, a BigInt, a throwing toJSON): try String below
  }
  try {
    return String(value);
  } catch {
    return unprintable(typeof value);
  }
}

const bracketed = (type: string) => `[${type}]`;

/** One value as log text: errors by their stack, the rest as `describeValue` writes them. */
export function describeLogValue(value: unknown): string {
  'use strict';
  try {
    if (isObject(value) && ObjectPrototypeIsPrototypeOf(ErrorPrototype, value)) {
      const stack = tryGet(value, 'stack');
      if (typeof stack === 'string') return stack;
      return `${String(tryGet(value, 'name'))}: ${String(tryGet(value, 'message'))}`;
    }
  } catch {
    // an error whose stack, name or message cannot be read: its String(), if it has one
    try {
      return String(value);
    } catch {
      return bracketed(typeof value);
    }
  }
  return describeValue(value, bracketed);
}

/** Several values, separated by spaces, as console.log writes them. */
export function describeLogValues(values: unknown[]): string {
  'use strict';
  let text = '';
  for (let i = 0; i < values.length; i++) text += (i === 0 ? '' : ' ') + describeLogValue(values[i]);
  return text;
}
