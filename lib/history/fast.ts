/**
 * The fast path of history validation (host side): from each event schema of schema.ts, one
 * function that checks an event and builds its canonical copy in a single pass. It is generated
 * once per schema with `new Function` (like TypeBox's compiled checks, from the same schemas: no
 * second schema is written by hand), reads each field once into a local, checks it inline, and
 * allocates only the copy.
 *
 * It never words an error: it answers "valid, here is the copy" or "not sure" (undefined), and
 * validate.ts then reads the whole history again with the detailed reader, whose messages are the
 * ones users see. So it only has to be exact in one direction: it must never accept what the
 * detailed reader refuses, and should accept what that reader accepts (otherwise it is just slow).
 * A fast-check property in test/history.test.ts checks both, on random valid and corrupted histories.
 *
 * What it checks of an object schema mirrors validate.ts's copier: fields read by name in schema
 * order, an optional field set to undefined counts as absent, nested objects, arrays and payloads
 * rebuilt or walked as the copier does, every object closed (its keys counted against the fields
 * copied); scalars by their keywords. A schema it does not know (records, unions of objects) is
 * checked by the same compiled TypeBox check as the detailed reader uses (compiledOpenCheck), and
 * kept as given, as the copier keeps it.
 */
import { DejaError } from '../errors';
import { Kind, type TSchema } from '@sinclair/typebox';
import { CheckedByReader, ISO_TIME, compiledOpenCheck, isPayload, isPayloadSchema } from './schema';

/** A fast copier: the canonical copy of a valid value, or undefined when it is not sure. */
export type FastCopy = (value: unknown) => object | undefined;

type Node = TSchema & {
  type?: string;
  properties?: Record<string, Node>;
  required?: string[];
  items?: Node;
  anyOf?: Node[];
  const?: unknown;
  $id?: string;
  $ref?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
};

/** Keywords that say nothing about validity. */
const ANNOTATIONS = new Set(['description', 'title', 'default', 'examples', '$comment', 'type']);
const SCALAR_KEYWORDS: Record<string, ReadonlySet<string>> = {
  String: new Set(['minLength', 'maxLength', 'pattern']),
  Integer: new Set(['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']),
  Number: new Set(['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']),
  Boolean: new Set(),
  Null: new Set(),
  Literal: new Set(['const']),
  Unknown: new Set(),
  Any: new Set(),
};

/** True if a scalar schema has only keywords this file compiles. */
function knownScalar(s: Node): boolean {
  const allowed = SCALAR_KEYWORDS[s[Kind] as string];
  if (allowed === undefined) return false;
  for (const key of Object.keys(s)) if (!ANNOTATIONS.has(key) && !allowed.has(key)) return false;
  if (s[Kind] === 'Literal' && !['string', 'number', 'boolean'].includes(typeof s.const)) return false;
  return true;
}

/**
 * True if `v` has the shape ISO_TIME matches, tested without the regex for the canonical form
 * deja writes ("YYYY-MM-DDTHH:MM:SS.sssZ"): the same answer as ISO_TIME.test(v) for every string.
 */
export function isIsoTimeText(v: string): boolean {
  if (v.length === 24 && v.charCodeAt(23) === 0x5a && v.charCodeAt(19) === 0x2e) {
    return (
      v.charCodeAt(4) === 0x2d &&
      v.charCodeAt(7) === 0x2d &&
      v.charCodeAt(10) === 0x54 &&
      v.charCodeAt(13) === 0x3a &&
      v.charCodeAt(16) === 0x3a &&
      allDigits(v, 0, 4) &&
      allDigits(v, 5, 2) &&
      allDigits(v, 8, 2) &&
      allDigits(v, 11, 2) &&
      allDigits(v, 14, 2) &&
      allDigits(v, 17, 2) &&
      allDigits(v, 20, 3) &&
      // Hours 00-23, minutes and seconds 00-59, as the pattern says.
      (v.charCodeAt(11) < 0x32 || (v.charCodeAt(11) === 0x32 && v.charCodeAt(12) < 0x34)) &&
      v.charCodeAt(14) < 0x36 &&
      v.charCodeAt(17) < 0x36
    );
  }
  return ISO_TIME.test(v);
}

function allDigits(v: string, start: number, count: number): boolean {
  for (let i = start; i < start + count; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/**
 * Compiles the fast copier of an event schema (an object schema). Fields marked CheckedByReader
 * (eventId, eventTime, type) are copied unchecked: the reader checks them itself.
 */
export function compileFastCopier(schema: TSchema): FastCopy {
  /** Copiers of nested objects and arrays, by index; also testers and checks used inline. */
  const copiers: FastCopy[] = [];
  const tests: ((v: unknown) => boolean)[] = [];
  const allowed: Set<string>[] = [];
  const byId = new Map<string, number>();
  const onlyKnown = (v: object, i: number): boolean => {
    for (const key of Object.keys(v)) if (!allowed[i].has(key)) return false;
    return true;
  };
  const test = (fn: (v: unknown) => boolean): string => `t[${tests.push(fn) - 1}]`;

  /**
   * For what is not compiled here: the same TypeBox check the detailed reader makes of it (the
   * open one: the copier keeps such a value as given); refusing everything if it cannot compile.
   */
  const typeboxCheck = (s: Node): string => {
    // Compiled on first use: most histories never carry the values that need it.
    let fn: ((v: unknown) => boolean) | undefined;
    return test((v) => {
      if (fn === undefined) {
        try {
          const check = compiledOpenCheck(s);
          fn = (x) => check.Check(x);
        } catch {
          fn = () => false;
        }
      }
      return fn(v);
    });
  };

  /** The index in `copiers` of the copier of `s`, or undefined for a value checked and kept as given. */
  const copierOf = (s: Node): number | undefined => {
    if (s.$ref !== undefined) return byId.get(s.$ref);
    if (isPayloadSchema(s)) return undefined;
    if (s.type === 'array' && s.items !== undefined) return arrayCopier(s.items);
    if (s.type === 'object' && s.properties !== undefined) return objectCopier(s);
    return undefined;
  };

  /** A condition on local `x` that is true when `s` (not copied) accepts it. */
  const condition = (s: Node, x: string): string => {
    if ((s as unknown as Record<symbol, unknown>)[CheckedByReader] === true) return 'true';
    // A scalar payload is checked here; only objects and arrays are walked by isPayload.
    if (isPayloadSchema(s)) {
      return `(${x} === null || typeof ${x} === 'string' || typeof ${x} === 'boolean' || (typeof ${x} === 'number' ? Number.isFinite(${x}) : isPayload(${x})))`;
    }
    const kind = s[Kind] as string;
    if (kind === 'Union' && s.anyOf !== undefined && s.anyOf.every((m) => m[Kind] === 'Literal' && knownScalar(m))) {
      return `(${s.anyOf.map((m) => `${x} === ${JSON.stringify(m.const)}`).join(' || ')})`;
    }
    if (!knownScalar(s)) return `${typeboxCheck(s)}(${x})`;
    const parts: string[] = [];
    switch (kind) {
      case 'String':
        parts.push(`typeof ${x} === 'string'`);
        if (s.minLength !== undefined) parts.push(`${x}.length >= ${s.minLength}`);
        if (s.maxLength !== undefined) parts.push(`${x}.length <= ${s.maxLength}`);
        if (s.pattern !== undefined) {
          const re = new RegExp(s.pattern);
          parts.push(`${test(s.pattern === ISO_TIME.source ? (v) => isIsoTimeText(v as string) : (v) => re.test(v as string))}(${x})`);
        }
        break;
      case 'Integer':
      case 'Number':
        parts.push(kind === 'Integer' ? `Number.isInteger(${x})` : `Number.isFinite(${x})`);
        if (s.minimum !== undefined) parts.push(`${x} >= ${s.minimum}`);
        if (s.maximum !== undefined) parts.push(`${x} <= ${s.maximum}`);
        if (s.exclusiveMinimum !== undefined) parts.push(`${x} > ${s.exclusiveMinimum}`);
        if (s.exclusiveMaximum !== undefined) parts.push(`${x} < ${s.exclusiveMaximum}`);
        break;
      case 'Boolean':
        parts.push(`typeof ${x} === 'boolean'`);
        break;
      case 'Null':
        parts.push(`${x} === null`);
        break;
      case 'Literal':
        parts.push(`${x} === ${JSON.stringify(s.const)}`);
        break;
      default:
        parts.push('true');
    }
    return `(${parts.join(' && ')})`;
  };

  const compile = (params: string[], body: string, args: unknown[]): FastCopy =>
    new Function(...params, body)(...args) as FastCopy;

  const arrayCopier = (item: Node): number => {
    const i = copiers.push(() => undefined) - 1;
    const sub = copierOf(item);
    const body =
      sub === undefined
        ? `const cond = (x) => ${condition(item, 'x')};\n` +
          'return function copyArray(v) {\n' +
          '  if (!Array.isArray(v)) return undefined;\n' +
          '  const n = v.length;\n' +
          '  const out = new Array(n);\n' +
          '  for (let j = 0; j < n; j++) { const x = v[j]; if (!cond(x)) return undefined; out[j] = x; }\n' +
          '  return out;\n};'
        : 'return function copyArray(v) {\n' +
          '  if (!Array.isArray(v)) return undefined;\n' +
          '  const n = v.length;\n' +
          '  const out = new Array(n);\n' +
          // Looked up per call: a recursive item's copier may still be being compiled.
          `  const copy = c[${sub}];\n` +
          '  for (let j = 0; j < n; j++) { const y = copy(v[j]); if (y === undefined) return undefined; out[j] = y; }\n' +
          '  return out;\n};';
    copiers[i] = compile(['c', 't', 'isPayload'], body, [copiers, tests, isPayload]);
    return i;
  };

  const objectCopier = (s: Node): number => {
    const i = copiers.push(() => undefined) - 1;
    // Registered before the fields are compiled: a recursive reference calls through `c`.
    if (s.$id !== undefined) byId.set(s.$id, i);
    const required = new Set(s.required ?? []);
    const keys = Object.keys(s.properties!);
    allowed[i] = new Set(keys);
    const lines = ['if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;'];
    const out: string[] = [];
    keys.forEach((k, j) => {
      const sub = s.properties![k];
      const key = JSON.stringify(k);
      const f = `f${j}`;
      lines.push(`let ${f} = v[${key}];`);
      const copier = copierOf(sub);
      const check =
        copier === undefined
          ? `if (!${condition(sub, f)}) return undefined;`
          : `${f} = c[${copier}](${f}); if (${f} === undefined) return undefined;`;
      lines.push(required.has(k) ? check : `if (${f} !== undefined) { ${check} }`);
      out.push(f);
    });
    // The copy: required keys up to the first optional one in the literal (one hidden class).
    let literal = 0;
    while (literal < keys.length && required.has(keys[literal])) literal++;
    lines.push(`let n = ${required.size};`);
    for (let j = literal; j < keys.length; j++) if (!required.has(keys[j])) lines.push(`if (f${j} !== undefined) n++;`);
    lines.push('let m = 0;', 'for (const k in v) m++;', `if (m !== n && !onlyKnown(v, ${i})) return undefined;`);
    lines.push(`const o = {${keys.slice(0, literal).map((k, j) => `${JSON.stringify(k)}: f${j}`).join(', ')}};`);
    for (let j = literal; j < keys.length; j++) {
      const key = JSON.stringify(keys[j]);
      lines.push(required.has(keys[j]) ? `o[${key}] = f${j};` : `if (f${j} !== undefined) o[${key}] = f${j};`);
    }
    lines.push('return o;');
    copiers[i] = compile(['c', 't', 'isPayload', 'onlyKnown'], `return function copyObject(v) {\n${lines.join('\n')}\n};`, [copiers, tests, isPayload, onlyKnown]);
    return i;
  };

  const root = copierOf(schema as Node);
  if (root === undefined || (schema as Node).type !== 'object') throw new DejaError('DEJA_INTERNAL', 'deja bug: an event schema is not an object schema');
  return copiers[root];
}
