/**
 * Finds free Node globals in one project source file (host side, bundler only).
 *
 * esbuild's `define` rewrites only identifiers that are not bound in scope, which is exactly the
 * definition of a free global. So the file is transformed once with every Node global defined to
 * a sentinel identifier and a source map; each sentinel in the output is a free use, and the map
 * takes it back to its place in the original text. The transform output is thrown away: the
 * bundle is built from the file itself.
 */
import { transform, type Loader } from 'esbuild';
import * as path from 'node:path';
import { type BundleProblem, NODE_GLOBALS, nodeGlobalUse } from './problems';
import { decodeMappings, segmentAtOrBefore } from './source-map';

const SENTINEL_PREFIX = '__deja_free_global__';
const DEFINE: Record<string, string> = Object.fromEntries(NODE_GLOBALS.map((g) => [g, SENTINEL_PREFIX + g]));
const SENTINEL = new RegExp(`${SENTINEL_PREFIX}(${NODE_GLOBALS.join('|')})(?![\\w$])`, 'g');
/**
 * `require("x")` as esbuild prints it: one string literal argument, nothing else. A template
 * literal without substitutions counts too, since esbuild resolves that form as well.
 */
const LITERAL_CALL = /^\(\s*(?:"(?:[^"\\\r\n]|\\.)*"|'(?:[^'\\\r\n]|\\.)*'|`(?:[^`\\$]|\\.|\$(?!\{))*`)\s*\)/;
const LINE_BREAK = /\r\n|[\r\n\u2028\u2029]/g;

const LOADERS: Record<string, Loader> = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.tsx': 'tsx',
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.jsx': 'jsx',
};

/** The extensions of the scripts esbuild loads as code. */
export const SCRIPT_EXTENSIONS: readonly string[] = Object.keys(LOADERS);

/** Whether the file is a script this check reads (JSON, text and the like are not). */
export function isScriptFile(file: string): boolean {
  return path.extname(file) in LOADERS;
}

/**
 * Every free use of a Node global in `source`, except `require('<string literal>')`, which the
 * bundler resolves. A file esbuild cannot parse gives no problems here: the build reports the
 * syntax error itself, with a better message.
 */
export async function findFreeGlobals(source: string, file: string): Promise<BundleProblem[]> {
  const loader = LOADERS[path.extname(file)];
  if (loader === undefined) return [];
  let output: { code: string; map: string };
  try {
    output = await transform(source, {
      loader,
      define: DEFINE,
      sourcemap: 'external',
      sourcefile: file,
      logLevel: 'silent',
      // Legacy decorators accept a superset of the decorator syntax, so parsing cannot fail
      // here on code that the project's own tsconfig allows.
      ...(loader === 'ts' || loader === 'tsx'
        ? { tsconfigRaw: { compilerOptions: { experimentalDecorators: true } } }
        : {}),
    });
  } catch {
    return [];
  }
  if (!output.code.includes(SENTINEL_PREFIX)) return [];

  const mappings = decodeMappings((JSON.parse(output.map) as { mappings: string }).mappings);
  const generatedLines = lineStarts(output.code);
  const originalLines = lineStarts(source);
  const problems: BundleProblem[] = [];
  for (const match of output.code.matchAll(SENTINEL)) {
    const name = match[1]!;
    const end = match.index! + match[0].length;
    if (name === 'require' && LITERAL_CALL.test(output.code.slice(end, end + 4096))) continue;
    const generated = positionOf(generatedLines, match.index!);
    const offset = originalOffset(source, originalLines, mappings, generated, name);
    const original = positionOf(originalLines, offset);
    problems.push({ file, line: original.line + 1, column: original.column + 1, ...nodeGlobalUse(name) });
  }
  return problems;
}

/**
 * Where in `source` the identifier behind a sentinel starts. esbuild maps most identifiers
 * exactly; some (the value of a shorthand property `{ process }`, for one) only through an
 * earlier token. So: take the nearest segment at or before the sentinel, carry the column distance
 * over when it is on the same line and the name is really there, else search forward from the
 * segment for the name as a standalone identifier; failing both, report the segment itself.
 */
function originalOffset(
  source: string,
  originalLines: readonly number[],
  mappings: ReturnType<typeof decodeMappings>,
  generated: { line: number; column: number },
  name: string,
): number {
  const found = segmentAtOrBefore(mappings, generated.line, generated.column);
  if (found === undefined) return searchIdentifier(source, name, 0) ?? 0;
  const { segment, sameLine } = found;
  const lineStart = originalLines[segment.originalLine] ?? source.length;
  const base = Math.min(lineStart + segment.originalColumn, source.length);
  if (sameLine) {
    const exact = base + (generated.column - segment.generatedColumn);
    if (isIdentifierAt(source, exact, name)) return exact;
  }
  return searchIdentifier(source, name, base) ?? base;
}

function searchIdentifier(source: string, name: string, from: number): number | undefined {
  for (let i = source.indexOf(name, from); i !== -1; i = source.indexOf(name, i + 1)) {
    if (isIdentifierAt(source, i, name)) return i;
  }
  return undefined;
}

/** `name` stands at `offset` on its own: not part of a longer identifier, not after a `.` access. */
function isIdentifierAt(source: string, offset: number, name: string): boolean {
  if (!source.startsWith(name, offset)) return false;
  const before = source[offset - 1] ?? '';
  const after = source[offset + name.length] ?? '';
  if (/[\w$]/.test(before) || /[\w$]/.test(after)) return false;
  return before !== '.' || source.startsWith('...', offset - 3);
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (const m of text.matchAll(LINE_BREAK)) starts.push(m.index! + m[0].length);
  return starts;
}

/** 0-based line and column (UTF-16 code units) of an offset. */
function positionOf(starts: readonly number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo, column: offset - starts[lo]! };
}
