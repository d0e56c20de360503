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

/**
 * Merge the channels' candidates into the top `spec.k` with provenance. Channels not in `spec.channels` are ignored.
 * Items live in parallel typed arrays (one slot per distinct item) and provenance in a linked list per slot;
 * objects are made only for the `k` items returned.
 */
export function mergeCandidates(lists: readonly ChannelCandidates[], spec: MergeSpec, filter: MergeFilter = {}): MergedItem[] {
  const rrfK = spec.rrfK ?? DEFAULT_RRF_K;
  const rrf = spec.fusion === 'rrf';
  let cap = 0;
  for (const l of lists) cap += l.items.length;
  const slotOf = new Map<string, number>();
  const items: string[] = [];
  const score = new Float64Array(cap);
  const count = new Uint32Array(cap);
  const best = new Uint32Array(cap);
  const lastList = new Int32Array(cap).fill(-1);
  const head = new Int32Array(cap).fill(-1);
  const tail = new Int32Array(cap).fill(-1);
  // provenance entries: list index, rank, raw score, next entry of the same item
  const pList = new Int32Array(cap);
  const pRank = new Uint32Array(cap);
  const pScore = new Float64Array(cap);
  const pNext = new Int32Array(cap).fill(-1);
  let entries = 0;
  const filtered = filter.exclude !== undefined || filter.deny !== undefined || filter.allow !== undefined;
  const keptAt: number[] = [];
  const keptSlot: number[] = [];
  for (let li = 0; li < lists.length; li++) {
    const list = lists[li]!;
    const cs = spec.channels[list.channel];
    if (!cs) continue;
    const quota = cs.quota ?? Number.POSITIVE_INFINITY;
    const weight = cs.weight ?? 1;
    // the channel's kept candidates: filtered, first occurrence of an item, up to the quota
    keptAt.length = 0;
    keptSlot.length = 0;
    for (let i = 0; i < list.items.length && keptAt.length < quota; i++) {
      const item = list.items[i]!;
      if (filtered && !passes(item, filter)) continue;
      let slot = slotOf.get(item);
      if (slot === undefined) {
        slot = items.length;
        slotOf.set(item, slot);
        items.push(item);
      } else if (lastList[slot] === li) continue;
      lastList[slot] = li;
      keptAt.push(i);
      keptSlot.push(slot);
    }
    if (keptAt.length === 0) continue;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const i of keptAt) {
      const v = list.scores[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const span = hi - lo;
    for (let r = 0; r < keptAt.length; r++) {
      const raw = list.scores[keptAt[r]!]!;
      const slot = keptSlot[r]!;
      // a constant list (one candidate, or ties) normalises to 1: every candidate is its channel's best
      score[slot]! += rrf ? weight / (rrfK + r + 1) : weight * (span > 0 ? (raw - lo) / span : 1);
      if (count[slot] === 0 || r + 1 < best[slot]!) best[slot] = r + 1;
      count[slot]!++;
      const e = entries++;
      pList[e] = li;
      pRank[e] = r + 1;
      pScore[e] = raw;
      if (head[slot] === -1) head[slot] = e;
      else pNext[tail[slot]!] = e;
      tail[slot] = e;
    }
  }
  const n = items.length;
  let order: number[] = [];
  for (let i = 0; i < n; i++) if (count[i]! > 0) order.push(i);
  if (order.length > spec.k) {
    // only candidates scoring at least the k-th best can be returned: cut before the full comparison
    const values = new Float64Array(order.length);
    for (let j = 0; j < order.length; j++) values[j] = score[order[j]!]!;
    const kth = kthLargest(values, spec.k);
    order = order.filter((i) => score[i]! >= kth);
  }
  // ties: the item found by more channels, then the better best rank, then the id (deterministic)
  order.sort((a, b) => score[b]! - score[a]! || count[b]! - count[a]! || best[a]! - best[b]! || cmp(items[a]!, items[b]!));
  if (order.length > spec.k) order.length = spec.k;
  return order.map((slot) => {
    const from: Provenance[] = [];
    for (let e = head[slot]!; e !== -1; e = pNext[e]!)
      from.push({ channel: lists[pList[e]!]!.channel, rank: pRank[e]!, score: pScore[e]! });
    return { item: items[slot]!, score: score[slot]!, from };
  });
}

/** The k-th largest value (1-based) by quickselect; reorders `v`. */
export function kthLargest(v: Float64Array, k: number): number {
  let lo = 0;
  let hi = v.length - 1;
  const want = k - 1;
  while (lo < hi) {
    const pivot = v[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (v[i]! > pivot) i++;
      while (v[j]! < pivot) j--;
      if (i <= j) {
        const t = v[i]!;
        v[i] = v[j]!;
        v[j] = t;
        i++;
        j--;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else break;
  }
  return v[want]!;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
