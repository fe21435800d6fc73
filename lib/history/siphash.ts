/**
 * SipHash-1-3 with the keys (0, 0), and the randomness seed Temporal derives from a run id (host
 * side; pure, no I/O).
 *
 * Temporal's workers seed each run's PRNG from its run id: the 64-bit SipHash-1-3 (keys 0, 0) of
 * the run id's UTF-8 bytes followed by one 0xFF byte (how Rust hashes a `str`), whose 8 bytes,
 * big-endian, are the seed of Alea. The run id is the started event's `originalExecutionRunId`,
 * and a workflow reset (a workflowTaskFailed with cause RESET_WORKFLOW) re-seeds from its
 * `newRunId`.
 *
 * Temporal's Alea mashes the seed's bytes as numbers; deja's (seedrandom's) mashes the char codes
 * of `String(seed)`. So the deja seed that gives Temporal's stream is the string whose 8 char
 * codes are those bytes (U+0000–U+00FF), not the bytes' decimal text.
 */

const MASK = (1n << 64n) - 1n;

function rotl(x: bigint, b: bigint): bigint {
  return ((x << b) | (x >> (64n - b))) & MASK;
}

/** SipHash-1-3 of `bytes` with the 128-bit key (k0, k1), as an unsigned 64-bit integer. */
export function sipHash13(bytes: Uint8Array, k0 = 0n, k1 = 0n): bigint {
  let v0 = k0 ^ 0x736f6d6570736575n;
  let v1 = k1 ^ 0x646f72616e646f6dn;
  let v2 = k0 ^ 0x6c7967656e657261n;
  let v3 = k1 ^ 0x7465646279746573n;
  const round = () => {
    v0 = (v0 + v1) & MASK;
    v1 = rotl(v1, 13n) ^ v0;
    v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & MASK;
    v3 = rotl(v3, 16n) ^ v2;
    v0 = (v0 + v3) & MASK;
    v3 = rotl(v3, 21n) ^ v0;
    v2 = (v2 + v1) & MASK;
    v1 = rotl(v1, 17n) ^ v2;
    v2 = rotl(v2, 32n);
  };
  const compress = (m: bigint) => {
    v3 ^= m;
    round(); // c = 1
    v0 ^= m;
  };
  const whole = bytes.length - (bytes.length % 8);
  for (let i = 0; i < whole; i += 8) {
    let m = 0n;
    for (let j = 7; j >= 0; j--) m = (m << 8n) | BigInt(bytes[i + j]); // little-endian word
    compress(m);
  }
  // The last word: the remaining bytes (little-endian) and the length's low byte on top.
  let last = BigInt(bytes.length & 0xff) << 56n;
  for (let j = bytes.length - 1; j >= whole; j--) last |= BigInt(bytes[j]) << BigInt(8 * (j - whole));
  compress(last);
  v2 ^= 0xffn;
  round(); // d = 3
  round();
  round();
  return v0 ^ v1 ^ v2 ^ v3;
}

/** Temporal's 64-bit seed for a run id: SipHash-1-3 (keys 0, 0) of its UTF-8 bytes and 0xFF. */
export function temporalSeedOf(runId: string): bigint {
  const utf8 = new TextEncoder().encode(runId);
  const bytes = new Uint8Array(utf8.length + 1);
  bytes.set(utf8);
  bytes[utf8.length] = 0xff;
  return sipHash13(bytes);
}

/**
 * The deja `randomnessSeed` whose stream (deja's Alea) is the one Temporal's worker draws for
 * this run id: the 8 big-endian bytes of `temporalSeedOf(runId)`, each as one char code.
 */
export function temporalRandomnessSeed(runId: string): string {
  const seed = temporalSeedOf(runId);
  let s = '';
  for (let shift = 56n; shift >= 0n; shift -= 8n) s += String.fromCharCode(Number((seed >> shift) & 0xffn));
  return s;
}
