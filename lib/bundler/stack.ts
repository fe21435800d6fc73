/**
 * Stacks of workflow code mapped back to its sources (host side). Inside the isolate a stack
 * names positions in the bundle; through the bundle's source map each such frame is rewritten to
 * the workflow's own file, line and column. Frames of deja's runtime are marked `deja:runtime/…`.
 * The map is decoded once per bundle, on the first stack that needs it: a worker whose tasks never
 * fail never pays for it.
 */
import * as path from 'node:path';
import { ASYNC_BODY_PREFIX, runtimeDir } from './bundle';
import type { WorkflowBundle } from './files';
import { displayPath } from './problems';
import { decodeMappings, type Segment } from './source-map';

interface Mapper {
  lines: Segment[][];
  /** Each source as it is shown in a frame. */
  sources: string[];
}

/** null: the bundle has no usable map. */
const mappers = new WeakMap<WorkflowBundle, Mapper | null>();

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/**
 * `stack` with every `<scriptName>:line:column` position rewritten to its source position. A
 * position the map does not cover, and a bundle without a map, are left as they are. Pure of the
 * workflow's state and cheap: the rewritten stack may go into history (it is never replayed).
 */
export function mapBundleStack(bundle: WorkflowBundle, stack: string, scriptName: string): string {
  if (!stack.includes(scriptName)) return stack;
  const mapper = mapperFor(bundle);
  if (mapper === null) return stack;
  const position = new RegExp(`${escapeRegExp(scriptName)}:(\\d+):(\\d+)`, 'g');
  const mapped = stack.replace(position, (whole, line: string, column: string) => {
    const found = lookup(mapper.lines, Number(line) - 1, Number(column) - 1);
    if (found === undefined) return whole;
    const source = mapper.sources[found.sourceIndex];
    return source === undefined ? whole : `${source}:${found.originalLine + 1}:${found.originalColumn + 1}`;
  });
  // The frames of the driver that runs async functions (they are generators in the bundle, so
  // that the cancellation scope follows await) say nothing about the workflow: dropped.
  return mapped
    .split('\n')
    .filter((frame) => !ASYNC_DRIVER_FRAME.test(frame))
    .map((frame) => frame.replace(ASYNC_BODY_NAME, 'at '))
    .join('\n');
}

/** `at __dejaAsync$name (`: an async function's body, shown under the function's own name. */
const ASYNC_BODY_NAME = new RegExp(`at ${escapeRegExp(ASYNC_BODY_PREFIX)}`);

/** `at Generator.next (<anonymous>)`, and frames inside runtime/async-context.ts. */
const ASYNC_DRIVER_FRAME = /^\s+at (Generator\.(next|throw|return) \(<anonymous>\)|.*\(?deja:runtime\/async-context\.ts:\d+:\d+\)?)$/;

/** The last segment on the generated line at or before the column; none on the line: undefined. */
function lookup(lines: readonly Segment[][], line: number, column: number): Segment | undefined {
  const segments = lines[line];
  if (segments === undefined) return undefined;
  let found: Segment | undefined;
  for (const segment of segments) {
    if (segment.generatedColumn > column) break;
    found = segment;
  }
  return found;
}

function mapperFor(bundle: WorkflowBundle): Mapper | null {
  let mapper = mappers.get(bundle);
  if (mapper !== undefined) return mapper;
  mapper = null;
  try {
    if (bundle.sourceMap !== undefined) {
      const map = JSON.parse(bundle.sourceMap) as { mappings?: unknown; sources?: unknown; sourceRoot?: unknown };
      if (typeof map.mappings === 'string' && Array.isArray(map.sources)) {
        const root = typeof map.sourceRoot === 'string' ? map.sourceRoot : path.dirname(bundle.workflowsPath);
        const runtime = runtimeDir();
        mapper = { lines: decodeMappings(map.mappings), sources: map.sources.map((s) => showSource(String(s), root, runtime)) };
      }
    }
  } catch {
    // A map that does not parse (edited, truncated) maps nothing; the stack keeps bundle positions.
    mapper = null;
  }
  mappers.set(bundle, mapper);
  return mapper;
}

function showSource(source: string, root: string, runtime: string): string {
  if (source.startsWith('<')) return `deja:${source}`; // the entry esbuild read from stdin
  const file = path.resolve(root, source);
  const rel = path.relative(runtime, file);
  if (rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)) return `deja:runtime/${rel.split(path.sep).join('/')}`;
  return displayPath(file);
}
