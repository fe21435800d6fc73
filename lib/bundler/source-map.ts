/**
 * A minimal reader for source map v3 `mappings` (host side, bundler only): enough to map a
 * position in esbuild's output back to the source it came from (the one source of a transform,
 * or one of a bundle's). esbuild writes plain v3 maps, never index maps with `sections`, which is
 * all this reads.
 */
import { DejaError } from '../errors';

/** One mapping segment: generated column → source, original line and column (all 0-based). */
export interface Segment {
  generatedColumn: number;
  /** Index into the map's `sources`. */
  sourceIndex: number;
  originalLine: number;
  originalColumn: number;
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = new Map([...BASE64].map((ch, i) => [ch, i]));

/**
 * Decodes `mappings` into one array of segments per generated line, each sorted by generated
 * column. Segments without an original position (1 field) are dropped: they map to nothing.
 */
export function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  // Every field but the generated column is a delta that carries across lines.
  let sourceIndex = 0;
  let originalLine = 0;
  let originalColumn = 0;
  for (const line of mappings.split(';')) {
    const segments: Segment[] = [];
    let generatedColumn = 0;
    for (const text of line === '' ? [] : line.split(',')) {
      const fields = decodeVlq(text);
      generatedColumn += fields[0] ?? 0;
      if (fields.length >= 4) {
        sourceIndex += fields[1]!;
        originalLine += fields[2]!;
        originalColumn += fields[3]!;
        segments.push({ generatedColumn, sourceIndex, originalLine, originalColumn });
      }
    }
    segments.sort((a, b) => a.generatedColumn - b.generatedColumn);
    lines.push(segments);
  }
  return lines;
}

function decodeVlq(text: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const ch of text) {
    const digit = DIGIT.get(ch);
    if (digit === undefined) throw new DejaError('DEJA_INTERNAL', `deja bug: esbuild wrote a source map with an invalid base64 VLQ digit ${JSON.stringify(ch)}`);
    value += (digit & 31) * 2 ** shift;
    if (digit & 32) {
      shift += 5;
    } else {
      values.push(value % 2 === 1 ? -(value - 1) / 2 : value / 2);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

/**
 * The last segment at or before a generated position, searching earlier lines when the line has
 * none before the column. `sameLine` says whether it lies on the generated line itself, which is
 * when the column distance from it can be carried over to the original.
 */
export function segmentAtOrBefore(
  lines: readonly Segment[][],
  line: number,
  column: number,
): { segment: Segment; sameLine: boolean } | undefined {
  for (let l = Math.min(line, lines.length - 1); l >= 0; l--) {
    const segments = lines[l]!;
    for (let i = segments.length - 1; i >= 0; i--) {
      const segment = segments[i]!;
      if (l < line || segment.generatedColumn <= column) return { segment, sameLine: l === line };
    }
  }
  return undefined;
}
