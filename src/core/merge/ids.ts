/**
 * Item ids as integers, for the native merge: an id qualifies when it is the canonical decimal
 * text of a 64-bit integer (what String() gives back), so that ordering ties by the text and
 * comparing the numbers agree. Anything else keeps the string path.
 */
const INT = /^-?(0|[1-9]\d{0,18})$/;

/** The id as a 64-bit integer, or null when the text is not one in canonical form. */
export function integerId(s: string): bigint | null {
  if (!INT.test(s)) return null;
  const v = BigInt(s);
  return BigInt.asIntN(64, v) === v && s !== '-0' ? v : null;
}

/** Ids as a sorted BigInt64Array, or null when one is not an integer id. */
export function sortedIds(ids: Iterable<string>): BigInt64Array | null {
  const out: bigint[] = [];
  for (const s of ids) {
    const v = integerId(s);
    if (v === null) return null;
    out.push(v);
  }
  return BigInt64Array.from(out).sort();
}

/** High 32-bit halves in [-2^21, 2^21) give ids that are safe integers as numbers. */
const SAFE_HI = 2 ** 21;

/** Each id of `ids` as a Map key: a number when it is a safe integer (reading halves allocates no BigInt), else its text. */
export function idKeys(ids: BigInt64Array): (number | string)[] {
  const lo = new Uint32Array(ids.buffer, ids.byteOffset, ids.length * 2);
  const hi = new Int32Array(ids.buffer, ids.byteOffset, ids.length * 2);
  const out: (number | string)[] = new Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const h = hi[2 * i + 1]!;
    out[i] = h >= -SAFE_HI && h < SAFE_HI ? h * 4294967296 + lo[2 * i]! : String(ids[i]!);
  }
  return out;
}
