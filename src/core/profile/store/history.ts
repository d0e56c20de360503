/**
 * `recall profile history`: a function's self and total share per version (or day) with its pod
 * spread; --top N picks the functions whose self share moved most (max - min) over the range.
 * Shares are of the raw stored stacks (frame names as ingested), recursion counted once.
 */
import { usage } from '../../errors.js';
import type { PodProfile } from '../model.js';
import { StoreReader, type StoredProfile } from './query.js';

export interface HistoryPoint {
  key: string;
  pods: number;
  selfPct: number;
  totalPct: number;
  selfPodMinPct: number;
  selfPodMaxPct: number;
  totalPodMinPct: number;
  totalPodMaxPct: number;
}

export interface HistoryResult {
  store: string;
  app: string;
  by: 'version' | 'day';
  functions: Array<{ name: string; movedPp: number; points: HistoryPoint[] }>;
}

interface Shares {
  total: number;
  self: Map<string, number>;
  incl: Map<string, number>;
}

function sharesOf(pod: PodProfile): Shares {
  const s: Shares = { total: 0, self: new Map(), incl: new Map() };
  for (const [stack, c] of pod.stacks) {
    const frames = stack.split(';');
    s.total += c.weight;
    const leaf = frames[frames.length - 1]!;
    s.self.set(leaf, (s.self.get(leaf) ?? 0) + c.weight);
    for (const f of new Set(frames)) s.incl.set(f, (s.incl.get(f) ?? 0) + c.weight);
  }
  return s;
}

export async function history(
  opt: { store: string; app: string; function?: string; top?: number; by: 'version' | 'day' },
  signal?: AbortSignal,
): Promise<HistoryResult> {
  if ((opt.function === undefined) === (opt.top === undefined))
    throw usage('ERR_RECALL_FLAG', 'pass one of --function F or --top N', { fix: 'e.g. --top 5' });
  const reader = await StoreReader.open(opt.store);
  try {
    const groups: Array<{ key: string; profiles: StoredProfile[] }> = [];
    if (opt.by === 'version') for (const v of reader.versions(opt.app)) groups.push({ key: v.version, profiles: v.profiles });
    else {
      const by = new Map<string, StoredProfile[]>();
      for (const p of reader.profiles.filter((x) => x.app === opt.app)) {
        const k = p.startTime.toISOString().slice(0, 10);
        by.set(k, [...(by.get(k) ?? []), p]);
      }
      for (const k of [...by.keys()].sort()) groups.push({ key: k, profiles: by.get(k)! });
    }
    if (!groups.length)
      throw usage('ERR_RECALL_STORE_EMPTY_SELECTION', `no profile of app ${opt.app} in ${opt.store}`, { fix: 'check --app' });
    const per: Array<{ key: string; pods: Shares[]; merged: Shares }> = [];
    for (const g of groups) {
      signal?.throwIfAborted();
      const pods = (await reader.pods(g.profiles)).map(sharesOf);
      const merged: Shares = { total: 0, self: new Map(), incl: new Map() };
      for (const p of pods) {
        merged.total += p.total;
        for (const k of ['self', 'incl'] as const) for (const [f, w] of p[k]) merged[k].set(f, (merged[k].get(f) ?? 0) + w);
      }
      per.push({ key: g.key, pods, merged });
    }
    const point = (g: (typeof per)[0], fn: string): HistoryPoint => {
      const pc = (s: Shares, k: 'self' | 'incl') => (s.total ? ((s[k].get(fn) ?? 0) / s.total) * 100 : 0);
      const ps = g.pods.map((p) => pc(p, 'self'));
      const pt = g.pods.map((p) => pc(p, 'incl'));
      return {
        key: g.key,
        pods: g.pods.length,
        selfPct: pc(g.merged, 'self'),
        totalPct: pc(g.merged, 'incl'),
        selfPodMinPct: Math.min(...ps),
        selfPodMaxPct: Math.max(...ps),
        totalPodMinPct: Math.min(...pt),
        totalPodMaxPct: Math.max(...pt),
      };
    };
    let names: string[];
    if (opt.function !== undefined) names = [opt.function];
    else {
      const all = new Set(per.flatMap((g) => [...g.merged.incl.keys()]));
      const moved = [...all].map((n) => {
        const v = per.map((g) => (g.merged.total ? ((g.merged.self.get(n) ?? 0) / g.merged.total) * 100 : 0));
        return { n, m: Math.max(...v) - Math.min(...v) };
      });
      moved.sort((a, b) => b.m - a.m || (a.n < b.n ? -1 : 1));
      names = moved.slice(0, opt.top).map((x) => x.n);
    }
    return {
      store: opt.store,
      app: opt.app,
      by: opt.by,
      functions: names.map((n) => {
        const points = per.map((g) => point(g, n));
        const v = points.map((p) => p.selfPct);
        return { name: n, movedPp: Math.max(...v) - Math.min(...v), points };
      }),
    };
  } finally {
    reader.dispose();
  }
}
