/**
 * RFC 4122 version-4 UUIDs from a given random source (pure; the workflow's is the seeded PRNG).
 *
 * The draws are Temporal's: four draws, each scaled to an unsigned 32-bit word, the words written
 * big-endian into the 16 bytes, then the version and variant bits set. So a workflow replayed from
 * a Temporal history (same seed, see lib/history/siphash.ts) gets the uuids it got under Temporal,
 * child workflow ids included.
 */
import { MathFloor, NumberPrototypeToString, StringPrototypePadStart } from './primordials';

const hex = (byte: number) => StringPrototypePadStart(NumberPrototypeToString(byte, 16), 2, '0');

export function uuid4FromRandom(random: () => number): string {
  let s = '';
  for (let word = 0; word < 4; word++) {
    const w = MathFloor(random() * 0x100000000); // an integer in [0, 2^32)
    for (let k = 0; k < 4; k++) {
      const i = word * 4 + k;
      let byte = MathFloor(w / 2 ** (24 - 8 * k)) & 0xff; // big-endian within the word
      if (i === 6) byte = (byte & 0x0f) | 0x40; // version 4
      if (i === 8) byte = (byte & 0x3f) | 0x80; // RFC 4122 variant
      if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
      s += hex(byte);
    }
  }
  return s;
}
