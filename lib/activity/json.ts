/**
 * JSON checks for values that come from activity code (host side): results, heartbeat details,
 * failure details. The service checks them again at its edge; checking here lets the worker say
 * which activity produced what, and hand the service a plain copy that cannot change under it.
 */

/**
 * The first thing in `value` that JSON cannot carry faithfully, as " at <path> is …", or
 * undefined. JSON.stringify finds cycles and what it cannot serialize; the walk after it finds
 * what it would silently change (NaN and Infinity become null, functions and symbols vanish).
 * The walk is iterative and bounded, so no value can overflow the stack or run it long.
 */
export function findNonJson(value: unknown): string | undefined {
  try {
    JSON.stringify(value);
  } catch (error) {
    return ` cannot be serialized (${error instanceof Error ? error.message : String(error)})`;
  }
  const at = (path: string) => (path ? ` at ${path}` : '');
  const stack: { value: unknown; path: string }[] = [{ value, path: '' }];
  for (let visited = 0; stack.length > 0 && visited < 1_000_000; visited++) {
    const { value: v, path } = stack.pop()!;
    switch (typeof v) {
      case 'string':
      case 'boolean':
      case 'undefined':
        continue;
      case 'number':
        if (!Number.isFinite(v)) return `${at(path)} is the non-finite number ${v}`;
        continue;
      case 'bigint':
      case 'symbol':
      case 'function':
        return `${at(path)} is a ${typeof v}`;
    }
    if (v === null) continue;
    const obj = v as Record<string, unknown>;
    if (typeof obj.toJSON === 'function') {
      stack.push({ value: obj.toJSON(), path });
      continue;
    }
    for (const key of Object.keys(obj)) stack.push({ value: obj[key], path: Array.isArray(obj) ? `${path}[${key}]` : `${path}.${key}` });
  }
  return undefined;
}

/**
 * A plain JSON copy of `value` (undefined stays undefined), or a description of why there is none.
 * Getters, Proxies and toJSON methods run here, once each pass, inside a try: whatever they
 * throw or return is this function's answer, never an exception.
 */
export function toPlainJson(value: unknown): { ok: true; value: unknown } | { ok: false; problem: string } {
  try {
    const problem = findNonJson(value);
    if (problem !== undefined) return { ok: false, problem: `the value${problem}` };
    const text = JSON.stringify(value);
    return { ok: true, value: text === undefined ? undefined : JSON.parse(text) };
  } catch (error) {
    let message: string;
    try {
      message = error instanceof Error ? error.message : String(error);
    } catch {
      message = 'an error that cannot be described';
    }
    return { ok: false, problem: `reading the value threw: ${message}` };
  }
}
