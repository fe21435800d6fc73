/** RFC 4122 version-4 UUIDs from a given random source (pure; the workflow's is the seeded PRNG). */
import { MathFloor, NumberPrototypeToString, StringPrototypePadStart } from './primordials';

export function uuid4FromRandom(random: () => number): string {
  let s = '';
  for (let i = 0; i < 16; i++) {
    let byte = MathFloor(random() * 256);
    if (i === 6) byte = (byte & 0x0f) | 0x40; // version 4
    if (i === 8) byte = (byte & 0x3f) | 0x80; // RFC 4122 variant
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += StringPrototypePadStart(NumberPrototypeToString(byte, 16), 2, '0');
  }
  return s;
}
