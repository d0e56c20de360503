/**
 * Multi-channel merge: each channel's ranked candidates are filtered, cut to the channel's quota,
 * de-duplicated across channels (an item keeps every channel that found it, with its rank and score)
 * and fused into one list, either by a weighted sum of per-channel min-max normalised scores or by
 * reciprocal-rank fusion. Pure: no I/O, so the eval loop, the batch command and the library share it.
 */
import { usage } from '../errors.js';

/** One channel's answer, best first; `score` is higher-is-better (vector distances arrive negated). */
export interface ChannelCandidates {
  channel: string;
  items: string[];
  scores: ArrayLike<number>;
}

export interface ChannelMergeSpec {
  /** Candidates kept from the channel after filtering (default: all). */
  quota?: number;
  /** Its weight in the fusion (default 1). */
  weight?: number;
}

export type Fusion = 'weighted' | 'rrf';

export interface MergeSpec {
  /** Length of the merged list. */
  k: number;
  fusion: Fusion;
  /** The rank constant of reciprocal-rank fusion: 1 / (rrfK + rank), rank from 1 (default 60). */
  rrfK?: number;
  channels: Record<string, ChannelMergeSpec>;
}

/** Items no list may hold: the request's exclude set (already seen), a deny list, or outside an allow list. */
export interface MergeFilter {
  exclude?: ReadonlySet<string>;
  deny?: ReadonlySet<string>;
  allow?: ReadonlySet<string>;
}

export interface Provenance {
  channel: string;
  /** 1-based rank in the channel's list after filtering. */
  rank: number;
  /** The channel's own score (higher is better). */
  score: number;
}

export interface MergedItem {
  item: string;
  score: number;
  from: Provenance[];
}

export const DEFAULT_RRF_K = 60;

export function checkMergeSpec(spec: MergeSpec, where: string): void {
  const bad = (what: string) => {
    throw usage('ERR_RECALL_USAGE', `${where}: ${what}`, { fix: 'see docs/eval.md (merge)' });
  };
  if (!Number.isInteger(spec.k) || spec.k < 1) bad(`k must be a positive integer, not ${spec.k}`);
  if (spec.fusion !== 'weighted' && spec.fusion !== 'rrf') bad(`fusion must be "weighted" or "rrf", not ${JSON.stringify(spec.fusion)}`);
  if (spec.rrfK !== undefined && !(spec.rrfK >= 0)) bad(`rrfK must be >= 0, not ${spec.rrfK}`);
  for (const [name, c] of Object.entries(spec.channels)) {
    if (c.quota !== undefined && !(Number.isInteger(c.quota) && c.quota >= 0)) bad(`channel ${name}: quota must be an integer >= 0`);
    if (c.weight !== undefined && !Number.isFinite(c.weight)) bad(`channel ${name}: weight must be a finite number`);
  }
}

const passes = (item: string, f: MergeFilter) =>
  !(f.exclude?.has(item) || f.deny?.has(item) || (f.allow !== undefined && !f.allow.has(item)));

/** Merge the channels' candidates into the top `spec.k` with provenance. Channels not in `spec.channels` are ignored. */
export function mergeCandidates(lists: readonly ChannelCandidates[], spec: MergeSpec, filter: MergeFilter = {}): MergedItem[] {
  const rrfK = spec.rrfK ?? DEFAULT_RRF_K;
  const byItem = new Map<string, MergedItem>();
  for (const list of lists) {
    const cs = spec.channels[list.channel];
    if (!cs) continue;
    const quota = cs.quota ?? Number.POSITIVE_INFINITY;
    const weight = cs.weight ?? 1;
    // the channel's kept candidates: filtered, first occurrence of an item, up to the quota
    const kept: number[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < list.items.length && kept.length < quota; i++) {
      const item = list.items[i]!;
      if (seen.has(item) || !passes(item, filter)) continue;
      seen.add(item);
      kept.push(i);
    }
    if (kept.length === 0) continue;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const i of kept) {
      const s = list.scores[i]!;
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
    const span = hi - lo;
    for (let r = 0; r < kept.length; r++) {
      const i = kept[r]!;
      const item = list.items[i]!;
      const raw = list.scores[i]!;
      // a constant list (one candidate, or ties) normalises to 1: every candidate is its channel's best
      const part = spec.fusion === 'rrf' ? weight / (rrfK + r + 1) : weight * (span > 0 ? (raw - lo) / span : 1);
      let m = byItem.get(item);
      if (!m) {
        m = { item, score: 0, from: [] };
        byItem.set(item, m);
      }
      m.score += part;
      m.from.push({ channel: list.channel, rank: r + 1, score: raw });
    }
  }
  const all = [...byItem.values()];
  // ties: the item found by more channels, then the better best rank, then the id (deterministic)
  all.sort((a, b) => b.score - a.score || b.from.length - a.from.length || bestRank(a) - bestRank(b) || cmp(a.item, b.item));
  return all.length > spec.k ? all.slice(0, spec.k) : all;
}

const bestRank = (m: MergedItem) => {
  let r = Number.POSITIVE_INFINITY;
  for (const p of m.from) if (p.rank < r) r = p.rank;
  return r;
};
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
