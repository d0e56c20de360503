/**
 * Offline ranking metrics, as RecBole defines them (recbole/evaluator/metrics.py; Microsoft
 * Recommenders' python_evaluation agrees on these for binary relevance):
 *   Recall@K  = |top-K ∩ truth| / |truth|
 *   Hit@K     = 1 if top-K ∩ truth is not empty
 *   NDCG@K    = DCG@K / IDCG@K, DCG = Σ_{hits at rank r ≤ K} 1/log2(r+1), IDCG over min(|truth|, K) hits
 *   MRR@K     = 1 / rank of the first hit within K (0 without one)
 *   Coverage@K (catalogue coverage, Recommenders' catalog_coverage) = distinct items in all users' top K / catalogue size
 * Users with an empty truth set are not evaluated (they are left out before this point).
 */

export const METRICS = ['recall', 'hit', 'ndcg', 'mrr'] as const;
export type MetricName = (typeof METRICS)[number];

/** Per-user values of every metric at every K: values[metric][kIndex][user]. */
export type UserMetrics = Record<MetricName, Float64Array[]>;

export function emptyUserMetrics(ks: readonly number[], users: number): UserMetrics {
  return Object.fromEntries(METRICS.map((m) => [m, ks.map(() => new Float64Array(users))])) as UserMetrics;
}

/** 1/log2(r+1) for r = 1..n, and its prefix sums (IDCG by truth size). */
const discount: number[] = [0];
const idcg: number[] = [0];
function ensure(n: number): void {
  for (let r = discount.length; r <= n; r++) {
    discount.push(1 / Math.log2(r + 1));
    idcg.push(idcg[r - 1]! + discount[r]!);
  }
}

/** The discount and IDCG tables up to `maxK` (index 0 unused), for the native scoring: the same numbers. */
export function discountTables(maxK: number): { discount: Float64Array; idcg: Float64Array } {
  ensure(maxK);
  return { discount: Float64Array.from(discount.slice(0, maxK + 1)), idcg: Float64Array.from(idcg.slice(0, maxK + 1)) };
}

/**
 * Score one user's ranked list against the truth at each K (ascending), into `out` at row `u`.
 * `list` is best first and holds each item once.
 */
export function scoreList(list: readonly string[], truth: ReadonlySet<string>, ks: readonly number[], out: UserMetrics, u: number): void {
  const maxK = ks[ks.length - 1]!;
  ensure(maxK);
  let hits = 0;
  let dcg = 0;
  let first = 0;
  let ki = 0;
  const n = Math.min(list.length, maxK);
  for (let r = 1; ki < ks.length; r++) {
    if (r <= n && truth.has(list[r - 1]!)) {
      hits++;
      dcg += discount[r]!;
      if (!first) first = r;
    }
    while (ki < ks.length && ks[ki] === r) {
      const k = ks[ki]!;
      out.recall[ki]![u] = hits / truth.size;
      out.hit[ki]![u] = hits > 0 ? 1 : 0;
      out.ndcg[ki]![u] = dcg / idcg[Math.min(truth.size, k)]!;
      out.mrr[ki]![u] = first ? 1 / first : 0;
      ki++;
    }
    if (r > maxK) break;
  }
}

/** Catalogue coverage of the first K items of every list. */
export function coverage(lists: readonly (readonly string[])[], k: number, catalogue: number): number {
  const seen = new Set<string>();
  for (const l of lists) for (let i = 0; i < Math.min(k, l.length); i++) seen.add(l[i]!);
  return catalogue > 0 ? seen.size / catalogue : 0;
}

export const mean = (x: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return x.length ? s / x.length : 0;
};
