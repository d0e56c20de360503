/** Seeded random numbers for generated benchmark data: the same draws on every machine. */

/** Uniform draws in (0, 1) from a xorshift32 generator (never 0 or 1, so a logarithm of one is finite). */
export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
}
