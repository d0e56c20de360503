/**
 * The eval report: per version, every metric at every K per scope (each channel and the merged
 * list) with its bootstrap interval over users; with a second version, the paired difference
 * (same users, same resamples) and its interval; and the gates.
 */
import { usage } from '../errors.js';
import { type Interval, percentileInterval, resampleMeans } from './bootstrap.js';
import { METRICS, type MetricName, mean } from './metrics.js';
import { type EvalVersion, MERGED } from './run.js';

export interface MetricRow extends Interval {
  scope: string;
  metric: MetricName;
  k: number;
}

export interface VersionReport {
  index: string;
  usersPerSecond: number;
  /** Wall time per user of each channel's calls and of the fusion and scoring (`merge`). */
  msPerUser: Record<string, number>;
  metrics: MetricRow[];
  coverage: { scope: string; k: number; value: number }[];
  /** Share of the merged top K found only by this channel, and of its hits. */
  unique: { channel: string; k: number; share: number; hitShare: number }[];
}

export interface DiffRow extends Interval {
  scope: string;
  metric: MetricName;
  k: number;
  /** The --against version's value; mean / lo / hi are the difference (this - against). */
  base: number;
  relative: number;
  relativeLo: number;
  relativeHi: number;
}

export interface Gate {
  text: string;
  scope: string;
  metric: MetricName;
  k: number;
  threshold: number;
  /** A relative change (a % threshold) or an absolute value. */
  relative: boolean;
}

export interface GateResult extends Gate {
  /** What is compared: the relative or absolute difference (with --against), else the metric. */
  value: number;
  lo: number;
  hi: number;
  /** The whole interval lies below the threshold: significantly worse. */
  breached: boolean;
}

export interface BootstrapSettings {
  resamples: number;
  seed: number;
  level: number;
}

const ALIASES: Record<string, MetricName> = { recall: 'recall', hit: 'hit', hitrate: 'hit', ndcg: 'ndcg', mrr: 'mrr' };

/** `recall@50 >= -1%`, `merged.ndcg@10 >= -0.005`, `x2i.hit@200 >= 0.4`. */
export function parseGate(text: string, ks: readonly number[]): Gate {
  const m = /^\s*(?:([A-Za-z0-9_.-]+)\.)?([a-z]+)@(\d+)\s*>=\s*([+-]?\d+(?:\.\d+)?)\s*(%?)\s*$/i.exec(text);
  const metric = m ? ALIASES[m[2]!.toLowerCase()] : undefined;
  if (!m || !metric)
    throw usage('ERR_RECALL_FLAG', `--gate ${JSON.stringify(text)}: not METRIC@K >= THRESHOLD[%]`, {
      fix: "e.g. --gate 'recall@50 >= -1%' (metrics: recall, hit, ndcg, mrr; a scope prefix such as x2i. picks a channel)",
    });
  const k = Number(m[3]);
  if (!ks.includes(k))
    throw usage('ERR_RECALL_FLAG', `--gate ${JSON.stringify(text)}: K ${k} is not in --k ${ks.join(',')}`, { fix: `add ${k} to --k` });
  return { text: text.trim(), scope: m[1] ?? MERGED, metric, k, threshold: Number(m[4]) / (m[5] ? 100 : 1), relative: !!m[5] };
}

const seriesOf = (v: EvalVersion, scopes: string[], ks: number[]) => {
  const keys: { scope: string; metric: MetricName; k: number; ki: number }[] = [];
  const series: Float64Array[] = [];
  for (const scope of scopes)
    for (const metric of METRICS)
      ks.forEach((k, ki) => {
        keys.push({ scope, metric, k, ki });
        series.push(v.perUser.get(scope)![metric][ki]!);
      });
  return { keys, series };
};

const ms3 = (x: number) => Math.round(x * 1000) / 1000;
const r6 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e6) / 1e6 : 0);

export function summariseEval(
  versions: { index: string; v: EvalVersion }[],
  users: number,
  ks: number[],
  boot: BootstrapSettings,
  gates: Gate[],
): { versions: VersionReport[]; diff?: DiffRow[]; gates: GateResult[] } {
  const scopes = [...versions[0]!.v.perUser.keys()];
  const draws: Float64Array[] = [];
  const reports: VersionReport[] = versions.map(({ index, v }) => {
    const { keys, series } = seriesOf(v, scopes, ks);
    // the same seed and user count give the same draws for every version: the resamples are paired
    const d = resampleMeans(series, boot);
    draws.push(d);
    const S = series.length;
    const msPerUser: Record<string, number> = {};
    for (const [c, t] of Object.entries(v.channelMs)) msPerUser[c] = ms3(t / Math.max(1, users));
    msPerUser.merge = ms3(v.mergeMs / Math.max(1, users));
    return {
      index,
      usersPerSecond: Math.round(users / Math.max(v.seconds, 1e-9)),
      msPerUser,
      metrics: keys.map((key, s) => {
        const iv = percentileInterval(d, S, s, mean(series[s]!), boot.level);
        return { scope: key.scope, metric: key.metric, k: key.k, mean: r6(iv.mean), lo: r6(iv.lo), hi: r6(iv.hi) };
      }),
      coverage: scopes.flatMap((scope) => ks.map((k, ki) => ({ scope, k, value: r6(v.coverage.get(scope)![ki]!) }))),
      unique: [...v.unique].flatMap(([channel, u]) =>
        ks.map((k, ki) => ({ channel, k, share: r6(u.share[ki]!), hitShare: r6(u.hitShare[ki]!) })),
      ),
    };
  });
  let diff: DiffRow[] | undefined;
  if (versions.length === 2) {
    const [a, b] = versions.map((x) => seriesOf(x.v, scopes, ks));
    const S = a!.series.length;
    const [da, db] = draws as [Float64Array, Float64Array];
    diff = a!.keys.map((key, s) => {
      const base = mean(b!.series[s]!);
      const point = mean(a!.series[s]!) - base;
      const abs = percentileInterval(da, S, s, point, boot.level, (r) => da[r * S + s]! - db[r * S + s]!);
      const rel = (x: number, y: number) => (y > 0 ? x / y : 0);
      const relI = percentileInterval(da, S, s, rel(point, base), boot.level, (r) => rel(da[r * S + s]! - db[r * S + s]!, db[r * S + s]!));
      return {
        scope: key.scope,
        metric: key.metric,
        k: key.k,
        base: r6(base),
        mean: r6(abs.mean),
        lo: r6(abs.lo),
        hi: r6(abs.hi),
        relative: r6(relI.mean),
        relativeLo: r6(relI.lo),
        relativeHi: r6(relI.hi),
      };
    });
  }
  const results = gates.map((g): GateResult => {
    if (!scopes.includes(g.scope))
      throw usage('ERR_RECALL_FLAG', `--gate ${JSON.stringify(g.text)}: no scope "${g.scope}" (scopes: ${scopes.join(', ')})`, {
        fix: 'name a merged channel or leave the scope out (the merged list)',
      });
    const pick = <T extends { scope: string; metric: string; k: number }>(rows: T[]) =>
      rows.find((r) => r.scope === g.scope && r.metric === g.metric && r.k === g.k)!;
    if (diff) {
      const d = pick(diff);
      const [value, lo, hi] = g.relative ? [d.relative, d.relativeLo, d.relativeHi] : [d.mean, d.lo, d.hi];
      return { ...g, value, lo, hi, breached: hi < g.threshold };
    }
    const m = pick(reports[0]!.metrics);
    if (g.relative)
      throw usage('ERR_RECALL_FLAG', `--gate ${JSON.stringify(g.text)}: a % threshold compares two versions`, {
        fix: 'pass --against DIR or --against-config FILE, or an absolute threshold',
      });
    return { ...g, value: m.mean, lo: m.lo, hi: m.hi, breached: m.hi < g.threshold };
  });
  return { versions: reports, diff, gates: results };
}
