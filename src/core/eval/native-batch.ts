/**
 * The eval loop's fast path: a batch of users merged and scored natively on integer ids, one call
 * (mergeScoreBatch). It applies when every id (histories, truth, allow/deny lists, candidates) is an
 * integer id; the TypeScript merge and metrics stay the reference and take any other batch.
 */
import { DEFAULT_RRF_K, type MergeFilter, type MergeSpec } from '../merge/fuse.js';
import type { FlatCandidates } from '../merge/gather.js';
import { integerId, sortedIds } from '../merge/ids.js';
import { loadNative, type MergeScoreBatch } from '../native.js';
import { discountTables } from './metrics.js';
import type { EvalUsers } from './users.js';

export interface IntegerUsers {
  historyOffsets: Uint32Array;
  history: BigInt64Array;
  truthOffsets: Uint32Array;
  truth: BigInt64Array;
  allow?: BigInt64Array;
  deny?: BigInt64Array;
}

/** Every user's history and truth (and the filter's lists), flat; null when an id is not an integer id. */
export function integerUsers(users: EvalUsers, filter: Pick<MergeFilter, 'allow' | 'deny'>): IntegerUsers | null {
  const flat = (sets: Iterable<Iterable<string>>) => {
    const offsets = new Uint32Array(users.users.length + 1);
    let n = 0;
    for (const set of sets) for (const _ of set) n++;
    const items = new BigInt64Array(n);
    // a safe integer is written as two 32-bit halves: no BigInt per id
    const lo = new Uint32Array(items.buffer);
    const hi = new Int32Array(items.buffer);
    let at = 0;
    let u = 0;
    for (const set of sets) {
      for (const s of set) {
        const x = Number(s);
        if (Number.isSafeInteger(x) && String(x) === s) {
          lo[2 * at] = x >>> 0;
          hi[2 * at + 1] = Math.floor(x / 4294967296);
        } else {
          const v = integerId(s);
          if (v === null) return null;
          items[at] = v;
        }
        at++;
      }
      offsets[++u] = at;
    }
    return { offsets, items };
  };
  const h = flat(users.history);
  const t = h && flat(users.truth);
  const allow = filter.allow ? sortedIds(filter.allow) : undefined;
  const deny = filter.deny ? sortedIds(filter.deny) : undefined;
  if (!h || !t || allow === null || deny === null) return null;
  return { historyOffsets: h.offsets, history: h.items, truthOffsets: t.offsets, truth: t.items, allow, deny };
}

/** Users [at, end): their flat slice with offsets from 0. */
function slice(offsets: Uint32Array, items: BigInt64Array, at: number, end: number) {
  const base = offsets[at]!;
  const local = new Uint32Array(end - at + 1);
  for (let u = at; u <= end; u++) local[u - at] = offsets[u]! - base;
  return { offsets: local, items: items.subarray(base, offsets[end]!) };
}

/** Merge and score users [at, end) natively; null when a kept score is not finite (the batch then takes the TypeScript path). */
export function mergeScoreNative(
  lists: readonly FlatCandidates[],
  ints: IntegerUsers,
  spec: MergeSpec,
  ks: readonly number[],
  at: number,
  end: number,
  threads: number,
  prior?: { counts: Uint32Array; items: BigInt64Array; ranks: Uint32Array },
): Promise<MergeScoreBatch | null> {
  const ex = slice(ints.historyOffsets, ints.history, at, end);
  const tr = slice(ints.truthOffsets, ints.truth, at, end);
  return loadNative().mergeScoreBatch(
    lists.map((l) => ({
      counts: l.counts,
      items: l.items,
      scores: l.scores,
      quota: spec.channels[l.channel]?.quota ?? Number.POSITIVE_INFINITY,
      weight: spec.channels[l.channel]?.weight ?? 1,
    })),
    { excludeOffsets: ex.offsets, exclude: ex.items, truthOffsets: tr.offsets, truth: tr.items },
    {
      k: spec.k,
      rrf: spec.fusion === 'rrf',
      rrfK: spec.rrfK ?? DEFAULT_RRF_K,
      ks: Uint32Array.from(ks),
      ...discountTables(ks[ks.length - 1]!),
      allow: ints.allow,
      deny: ints.deny,
    },
    Math.max(1, threads),
    prior,
  );
}
