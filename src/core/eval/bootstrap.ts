/**
 * Percentile bootstrap over users: every series (a metric at a K, per user) is resampled with the
 * same draws, so paired differences and ratios are resampled together. Seeded (mulberry32): the
 * same users and seed give the same intervals.
 */

export interface Interval {
  mean: number;
  lo: number;
  hi: number;
}

export interface BootstrapOptions {
  /** Resamples (default 500). */
  resamples?: number;
  seed?: number;
  /** Two-sided level (default 0.95). */
  level?: number;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The resampled means: out[b * series.length + s]. */
export function resampleMeans(series: readonly ArrayLike<number>[], o: BootstrapOptions = {}): Float64Array {
  const S = series.length;
  const n = S ? series[0]!.length : 0;
  const B = o.resamples ?? 500;
  const out = new Float64Array(B * S);
  if (!n || !S) return out;
  // users as rows: one draw adds one contiguous row
  const rows = new Float64Array(n * S);
  for (let s = 0; s < S; s++) {
    const x = series[s]!;
    for (let u = 0; u < n; u++) rows[u * S + s] = x[u]!;
  }
  const rnd = mulberry32(o.seed ?? 1);
  const sums = new Float64Array(S);
  for (let b = 0; b < B; b++) {
    sums.fill(0);
    for (let i = 0; i < n; i++) {
      const at = Math.floor(rnd() * n) * S;
      for (let s = 0; s < S; s++) sums[s]! += rows[at + s]!;
    }
    for (let s = 0; s < S; s++) out[b * S + s] = sums[s]! / n;
  }
  return out;
}

/** The percentile interval of column `s` of resampled values (optionally transformed first). */
export function percentileInterval(
  draws: Float64Array,
  S: number,
  s: number,
  point: number,
  level = 0.95,
  f: (b: number) => number = (b) => draws[b * S + s]!,
): Interval {
  const B = draws.length / S;
  const v = Float64Array.from({ length: B }, (_, b) => f(b)).sort();
  if (!B) return { mean: point, lo: point, hi: point };
  const q = (p: number) => v[Math.min(B - 1, Math.max(0, Math.round(p * (B - 1))))]!;
  return { mean: point, lo: q((1 - level) / 2), hi: q(1 - (1 - level) / 2) };
}
