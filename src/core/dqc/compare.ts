/**
 * Index data-quality checks: a candidate version against the live one, per channel and shard.
 * Each channel's driver profiles its files (counts, sampled distributions and top-10 lists, the
 * problems it sees); this compares the two profiles with the thresholds of the config's `dqc`
 * section and names every breach with its check, channel, shard and values.
 */
import type { DqcConfig } from '../config/load.js';
import type { ChannelDriver, ShardProfile } from '../channels/driver.js';

export interface DqcCheck {
  channel: string;
  /** null: the channel as a whole. */
  shard: number | null;
  check: string;
  /** The measured value (a relative change, a PSI, a share, a recall) and what it was held to. */
  value: number;
  threshold: number;
  candidate: number | null;
  live: number | null;
  breached: boolean;
}

export interface ShardSummary {
  shard: number;
  counts: Record<string, { candidate: number; live: number | null }>;
  /** Quantiles (p1, p10, p50, p90, p99) of each sampled distribution. */
  quantiles: Record<string, { candidate: number[]; live: number[] | null }>;
  sampled: number;
}

export interface DqcChannel {
  channel: string;
  kind: string;
  candidate: { path: string; version: number | null; shards: number };
  live: { path: string; version: number | null; shards: number } | null;
  shards: ShardSummary[];
}

export const QUANTILES = [0.01, 0.1, 0.5, 0.9, 0.99];
const r6 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1e6) / 1e6 : x);

export function quantiles(v: readonly number[], qs = QUANTILES): number[] {
  const s = Float64Array.from(v.filter(Number.isFinite)).sort();
  if (!s.length) return qs.map(() => 0);
  return qs.map((q) => r6(s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))]!));
}

/**
 * Population stability index of `actual` against `expected`, over the expected sample's deciles
 * (repeated edges merged): Σ (a - e) ln(a / e), shares floored at 1e-4. Non-finite values are a bin of their own.
 */
export function psi(expected: readonly number[], actual: readonly number[]): number {
  if (!expected.length || !actual.length) return expected.length === actual.length ? 0 : Number.POSITIVE_INFINITY;
  const e = Float64Array.from(expected.filter(Number.isFinite)).sort();
  const edges = [...new Set(Array.from({ length: 9 }, (_, i) => e[Math.floor(((i + 1) / 10) * (e.length - 1))]!))].filter(
    (x) => x !== undefined,
  );
  const bins = (v: readonly number[]) => {
    const c = new Float64Array(edges.length + 2);
    for (const x of v) {
      if (!Number.isFinite(x)) {
        c[edges.length + 1]!++;
        continue;
      }
      let b = 0;
      while (b < edges.length && x > edges[b]!) b++;
      c[b]!++;
    }
    return Array.from(c, (n) => Math.max(n / v.length, 1e-4));
  };
  const pe = bins(expected);
  const pa = bins(actual);
  let s = 0;
  for (let i = 0; i < pe.length; i++) s += (pa[i]! - pe[i]!) * Math.log(pa[i]! / pe[i]!);
  return s;
}

const jaccard = (a: readonly string[], b: readonly string[]) => {
  if (!a.length && !b.length) return 1;
  const sa = new Set(a);
  let both = 0;
  for (const x of new Set(b)) if (sa.has(x)) both++;
  return both / (sa.size + new Set(b).size - both);
};

/** The checks of one channel: the candidate's own problems, and its change against the live version when there is one. */
export function compareChannel(
  channel: string,
  cand: ShardProfile[],
  live: ShardProfile[] | null,
  t: DqcConfig,
): { checks: DqcCheck[]; shards: ShardSummary[] } {
  const checks: DqcCheck[] = [];
  const add = (
    shard: number | null,
    check: string,
    value: number,
    threshold: number,
    breached: boolean,
    candidate: number | null = null,
    liveV: number | null = null,
  ) =>
    checks.push({
      channel,
      shard,
      check,
      value: r6(value),
      threshold,
      candidate: candidate === null ? null : r6(candidate),
      live: liveV === null ? null : r6(liveV),
      breached,
    });
  const paired = live && live.length === cand.length ? live : null;
  if (live && !paired) {
    // another shard count: shards cannot be paired, the totals still can
    const total = (ps: ShardProfile[], name: string) => ps.reduce((s, p) => s + (p.counts[name] ?? 0), 0);
    add(null, 'shards', cand.length, live.length, false, cand.length, live.length);
    for (const name of Object.keys(cand[0]?.counts ?? {})) {
      if (name.includes('.')) continue;
      const [c, l] = [total(cand, name), total(live, name)];
      const change = l ? (c - l) / l : c ? 1 : 0;
      const th = name === 'terms' ? t.vocabChange : t.countChange;
      add(null, name === 'terms' ? 'vocabulary' : `count.${name}`, change, th, Math.abs(change) > th, c, l);
    }
  }
  const shards: ShardSummary[] = cand.map((c, i) => {
    const l = paired?.[i] ?? null;
    const s = c.shard;
    // the candidate's own problems; with a live version, their rise over it (data that always had a
    // few empty lists is not a defect of this build)
    const share = (p: ShardProfile, what: 'empty' | 'duplicates' | 'badScores') =>
      what === 'empty'
        ? p.empty / Math.max(1, p.sampled)
        : what === 'badScores'
          ? p.badScores / Math.max(1, p.badOf)
          : p.duplicates / Math.max(1, p.counts.rows ?? p.sampled);
    const own = (what: 'empty' | 'duplicates' | 'badScores', check: string, threshold: number) => {
      const v = share(c, what) - (l ? share(l, what) : 0);
      add(s, check, v, threshold, v > threshold, c[what], l ? l[what] : null);
    };
    if (c.dists.length) own('empty', 'emptyLists', t.emptyLists);
    if (c.sampled || c.duplicates) own('duplicates', 'duplicates', t.duplicates);
    if (c.badOf) own('badScores', 'badScores', t.badScores);
    if (c.graphRecall !== undefined)
      add(s, 'graphRecall', c.graphRecall, t.graphRecall, c.graphRecall < t.graphRecall, c.graphRecall, l?.graphRecall ?? null);
    // against the live version
    if (l) {
      for (const [name, v] of Object.entries(c.counts)) {
        const lv = l.counts[name];
        if (lv === undefined) continue;
        const change = lv ? (v - lv) / lv : v ? 1 : 0;
        const th = name === 'terms' ? t.vocabChange : t.countChange;
        add(s, name === 'terms' ? 'vocabulary' : `count.${name}`, change, th, Math.abs(change) > th, v, lv);
      }
      for (const [name, v] of Object.entries(c.dists)) {
        const lv = l.dists[name];
        if (!lv || (!v.length && !lv.length)) continue;
        const p = psi(lv, v);
        add(s, `psi.${name}`, p, t.psi, p > t.psi);
      }
      let both = 0;
      let changed = 0;
      for (const [key, top] of c.top10) {
        const lt = l.top10.get(key);
        if (!lt) continue;
        both++;
        if (jaccard(top, lt) < 0.5) changed++;
      }
      if (both) add(s, 'top10Changed', changed / both, t.top10Changed, changed / both > t.top10Changed, changed, both);
      for (const f of c.topTerms ?? []) {
        const lf = l.topTerms?.find((x) => x.field === f.field);
        if (!lf?.terms.length) continue;
        const mine = new Map(f.terms.map((term, i) => [term, f.df[i]!]));
        // churn: the live top terms gone from the candidate's top list
        let kept = 0;
        let dfChange = 0;
        lf.terms.forEach((term, i) => {
          const df = mine.get(term);
          if (df === undefined) return;
          kept++;
          const share = (d: number, docs: number) => d / Math.max(1, docs);
          dfChange += Math.abs(share(df, f.docs) / share(lf.df[i]!, lf.docs) - 1);
        });
        const churn = 1 - kept / lf.terms.length;
        add(s, `topTermsChurn.${f.field}`, churn, t.topTermsChurn, churn > t.topTermsChurn, f.terms.length, lf.terms.length);
        if (kept) {
          const mean = dfChange / kept;
          add(s, `topTermsDf.${f.field}`, mean, t.topTermsDf, mean > t.topTermsDf, kept, lf.terms.length);
        }
      }
    }
    return {
      shard: s,
      counts: Object.fromEntries(Object.entries(c.counts).map(([k, v]) => [k, { candidate: v, live: l?.counts[k] ?? null }])),
      quantiles: Object.fromEntries(
        Object.entries(c.dists).map(([k, v]) => [k, { candidate: quantiles(v), live: l?.dists[k] ? quantiles(l.dists[k]!) : null }]),
      ),
      sampled: c.sampled,
    };
  });
  return { checks, shards };
}

/** Profile the candidate's and the live version's files of one channel and compare them. */
export async function checkChannel(
  driver: Pick<ChannelDriver, 'profile' | 'name'>,
  channel: string,
  candidateFiles: string[],
  liveFiles: string[] | null,
  t: DqcConfig,
): Promise<{ checks: DqcCheck[]; shards: ShardSummary[] }> {
  const o = { sample: t.sample, scoreRange: t.scoreRange };
  const cand = await driver.profile(candidateFiles, o);
  const live = liveFiles ? await driver.profile(liveFiles, o) : null;
  return compareChannel(channel, cand, live, t);
}
