/** Rank tests: whether one set of repeated measurements is larger or smaller than another. */

/**
 * One-sided Mann-Whitney U test: the p-value of head values being larger (`greater`) or smaller
 * than base values, by the normal approximation with tie correction and continuity correction.
 */
export function mannWhitneyP(base: number[], head: number[], greater: boolean): number {
  const nb = base.length;
  const nh = head.length;
  const n = nb + nh;
  const all = [...base.map((v) => ({ v, h: false })), ...head.map((v) => ({ v, h: true }))].sort((x, y) => x.v - y.v);
  let rankSumH = 0;
  let ties = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && all[j + 1]!.v === all[i]!.v) j++;
    const rank = (i + j) / 2 + 1; // average rank of the tied run
    const t = j - i + 1;
    ties += t * t * t - t;
    for (let k = i; k <= j; k++) if (all[k]!.h) rankSumH += rank;
    i = j + 1;
  }
  const u = rankSumH - (nh * (nh + 1)) / 2;
  const mean = (nb * nh) / 2;
  const variance = ((nb * nh) / 12) * (n + 1 - ties / (n * (n - 1)));
  if (!(variance > 0)) return 1;
  const z = ((greater ? u - mean : mean - u) - 0.5) / Math.sqrt(variance);
  return 1 - normalCdf(z);
}

/** Standard normal CDF (Abramowitz and Stegun 7.1.26, error below 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}
