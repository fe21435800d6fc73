/**
 * Copies a caller's value into plain JSON data (host side), measuring it on the way: the one place
 * where the service reads a payload it was given.
 *
 * The walk is iterative, so no nesting can overflow the stack, and it reads every property once:
 * a getter, a Proxy trap or a toJSON is called once, never again later by JSON.stringify, so what
 * was checked is what is stored. What it returns is data only (strings, finite numbers, booleans,
 * null, arrays and plain objects), so everything further in (the store, structuredClone,
 * JSON.stringify) handles it safely. It follows JSON.stringify's rules (toJSON, boxed primitives,
 * `undefined` omitted from objects and null in arrays, -0 written as 0) and refuses what JSON
 * cannot carry faithfully: functions, symbols, BigInts, non-finite numbers, cycles.
 *
 * It counts the bytes of the UTF-8 JSON text the value serializes to, exactly, and stops copying
 * once they pass `maxBytes`. It then goes on counting, without copying, for a bounded number of
 * values, so that an error can say how large the value is; past that bound, or where a very long
 * string is only measured, it gives a lower bound (`exact: false`).
 */

export type CopyResult =
  | { ok: true; value: unknown; bytes: number }
  | { ok: false; problem: 'size'; bytes: number; exact: boolean }
  | { ok: false; problem: 'depth'; path: string }
  | { ok: false; problem: 'notJson'; path: string; what: string }
  | { ok: false; problem: 'unreadable'; path: string; message: string };

/** Values counted after the copy stopped, to report a size; beyond them the size is a lower bound. */
const COUNT_AFTER_LIMIT = 1_000_000;
/** A string longer than this that cannot fit is measured without its escapes (a lower bound). */
const MEASURE_EXACTLY = 1 << 16;

interface Frame {
  readonly src: object;
  readonly array: boolean;
  readonly keys: string[] | undefined;
  readonly length: number;
  /** The copy being built; undefined once copying stopped. */
  readonly out: unknown[] | Record<string, unknown> | undefined;
  readonly depth: number;
  readonly parent: Frame | undefined;
  /** How the parent names this container. */
  readonly key: string | number;
  index: number;
  members: number;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Strings up to this long are measured by a loop over their units, without building their JSON. */
const MEASURE_BY_LOOP = 256;

/** The UTF-8 bytes of JSON.stringify(s), for a short string, counted without allocating. */
function shortStringBytes(s: string): number {
  let bytes = 2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20) bytes += c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6;
    else if (c === 0x22 || c === 0x5c) bytes += 2;
    else if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4; // a pair: one 4-byte character
        i++;
      } else bytes += 6; // a lone surrogate: written \udXXX
    } else if (c >= 0xdc00 && c <= 0xdfff) bytes += 6;
    else bytes += 3;
  }
  return bytes;
}

function pathOf(root: string, frame: Frame | undefined, key?: string | number): string {
  const keys: (string | number)[] = key === undefined ? [] : [key];
  for (let f = frame; f?.parent !== undefined; f = f.parent) keys.push(f.key);
  let path = root;
  for (let i = keys.length - 1; i >= 0; i--) {
    const k = keys[i];
    path += typeof k === 'number' ? `[${k}]` : IDENTIFIER.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
  }
  return path;
}

/** An object that cannot be a boxed primitive: its prototype is Object's, Array's or null. */
function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === Array.prototype || proto === null;
}

/** What a thrown value says, without running anything it could have hidden in a getter. */
export function thrownMessage(err: unknown): string {
  try {
    if (typeof err === 'string') return err.slice(0, 200);
    if (err instanceof Error) {
      const message = Object.getOwnPropertyDescriptor(err, 'message')?.value;
      const name = err.constructor?.name;
      if (typeof message === 'string') return `${typeof name === 'string' && name ? name : 'Error'}: ${message.slice(0, 200)}`;
    }
  } catch {
    // a Proxy or an exotic error: say only that something was thrown
  }
  return `a thrown ${err === null ? 'null' : typeof err}`;
}

/**
 * The JSON copy of `input`, or what is wrong with it. `name` begins every path; `maxDepth` counts
 * levels of arrays and objects (`[]` is 1 level, `[[]]` 2).
 */
export function copyJson(input: unknown, name: string, maxBytes: number, maxDepth: number): CopyResult {
  let bytes = 0;
  let copying = true;
  let exact = true;
  let countBudget = COUNT_AFTER_LIMIT;
  let root: unknown = undefined;
  const open = new Set<object>();
  const stack: Frame[] = [];
  let frame: Frame | undefined;
  let key: string | number = '';

  const add = (n: number) => {
    bytes += n;
    if (copying && bytes > maxBytes) copying = false;
  };
  const stringBytes = (s: string): number => {
    if (s.length <= MEASURE_BY_LOOP) return shortStringBytes(s);
    if (s.length > MEASURE_EXACTLY && bytes + s.length + 2 > maxBytes) {
      // It cannot fit (UTF-8 takes at least a byte per UTF-16 unit): measure it cheaply, escapes
      // aside, rather than build its escaped copy.
      exact = false;
      return Buffer.byteLength(s, 'utf8') + 2;
    }
    return Buffer.byteLength(JSON.stringify(s), 'utf8');
  };
  const sizeProblem = (): CopyResult => ({ ok: false, problem: 'size', bytes, exact: false });

  try {
    let value: unknown = input;
    // Each turn handles `value`, the member `key` of `frame` (the root when frame is undefined).
    for (;;) {
      if (!copying && --countBudget < 0) return sizeProblem();
      const inArray = frame?.array === true;

      // JSON.stringify's SerializeJSONProperty: toJSON, then unboxing.
      if ((typeof value === 'object' && value !== null) || typeof value === 'function' || typeof value === 'bigint') {
        const toJSON = (value as { toJSON?: unknown }).toJSON;
        if (typeof toJSON === 'function') value = toJSON.call(value, String(key));
      }
      if (typeof value === 'object' && value !== null && !isPlain(value)) {
        if (value instanceof Number) value = Number(value);
        else if (value instanceof String) value = String(value);
        else if (value instanceof Boolean) value = Boolean.prototype.valueOf.call(value);
      }

      let scalar: unknown = undefined;
      let size = 0;
      let container: object | undefined;
      switch (typeof value) {
        case 'string':
          scalar = value;
          size = stringBytes(value);
          break;
        case 'number':
          if (!Number.isFinite(value)) {
            if (!copying) return sizeProblem();
            return { ok: false, problem: 'notJson', path: pathOf(name, frame, frame && key), what: `the non-finite number ${value}` };
          }
          scalar = value === 0 ? 0 : value; // -0 is written 0
          size = String(value).length;
          break;
        case 'boolean':
          scalar = value;
          size = value ? 4 : 5;
          break;
        case 'undefined':
          // Omitted from an object; null in an array; nothing at the root.
          if (inArray) {
            scalar = null;
            size = 4;
          }
          break;
        case 'object':
          if (value === null) {
            scalar = null;
            size = 4;
          } else container = value;
          break;
        default: {
          if (!copying) return sizeProblem();
          const what =
            typeof value === 'bigint' ? `a BigInt (${value}n)` : typeof value === 'symbol' ? 'a symbol' : 'a function';
          return { ok: false, problem: 'notJson', path: pathOf(name, frame, frame && key), what };
        }
      }

      const present = value !== undefined || inArray;
      if (present && frame !== undefined) {
        // The separator, and an object member's key.
        if (frame.members++ > 0) add(1);
        if (!frame.array) add(stringBytes(key as string) + 1);
      }

      if (container !== undefined) {
        if (open.has(container)) {
          if (!copying) return sizeProblem();
          return { ok: false, problem: 'notJson', path: pathOf(name, frame, frame && key), what: 'a circular reference' };
        }
        const depth = (frame?.depth ?? 0) + 1;
        if (depth > maxDepth) {
          if (!copying) return sizeProblem();
          return { ok: false, problem: 'depth', path: pathOf(name, frame, frame && key) };
        }
        const array = Array.isArray(container);
        const keys = array ? undefined : Object.keys(container);
        const length = array ? (container as unknown[]).length : keys!.length;
        add(2);
        const out = copying ? (array ? [] : {}) : undefined;
        if (out !== undefined) place(frame, key, out);
        open.add(container);
        frame = { src: container, array, keys, length, out, depth, parent: frame, key, index: 0, members: 0 };
        stack.push(frame);
      } else if (present) {
        add(size);
        if (copying) place(frame, key, scalar);
      }

      // The next value: the next member of the innermost unfinished container.
      for (;;) {
        if (frame === undefined) {
          if (!copying) return { ok: false, problem: 'size', bytes, exact };
          return { ok: true, value: root, bytes };
        }
        if (frame.index < frame.length) {
          const i: number = frame.index++;
          if (frame.array) {
            key = i;
            value = (frame.src as unknown[])[i];
          } else {
            key = frame.keys![i];
            value = (frame.src as Record<string, unknown>)[key];
          }
          break;
        }
        open.delete(frame.src);
        stack.pop();
        frame = stack.at(-1);
      }
    }
  } catch (err) {
    if (!copying) return sizeProblem();
    return { ok: false, problem: 'unreadable', path: pathOf(name, frame, frame && key), message: thrownMessage(err) };
  }

  function place(parent: Frame | undefined, k: string | number, v: unknown): void {
    if (parent === undefined) root = v;
    else if (parent.array) (parent.out as unknown[]).push(v);
    else if (k === '__proto__') Object.defineProperty(parent.out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else (parent.out as Record<string, unknown>)[k as string] = v;
  }
}
