/** Offsets of packed records, where `ends[i]` is the byte just past record i. */

/** Where record `i` starts: 0, or where record `i - 1` ends. `i` must be in 0..ends.length. */
export const recordStart = (ends: ArrayLike<number>, i: number): number => (i === 0 ? 0 : (ends[i - 1] ?? outOfRange(i, ends.length)));

function outOfRange(i: number, n: number): never {
  throw new RangeError(`record ${i} of ${n}`);
}
