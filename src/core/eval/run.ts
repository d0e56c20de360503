/**
 * One index version replayed over the users: each batch of users becomes merge requests (x2i seeds:
 * the last N history items, weight 1; the user's vector and text when given; the history as the
 * exclude set), the channels answer in one call each, and every channel's list and the merged list
 * are scored against the truth.
 */
import { type ChannelCandidates, type MergeFilter, mergeCandidates, type MergeSpec } from '../merge/fuse.js';
import { type ChannelSource, gatherCandidates, type MergeRequest } from '../merge/gather.js';
import { coverage, emptyUserMetrics, scoreList, type UserMetrics } from './metrics.js';
import type { EvalUsers } from './users.js';

export const MERGED = 'merged';

export interface EvalVersionOptions {
  ks: number[];
  /** x2i seeds per user. */
  seeds: number;
  filter?: Pick<MergeFilter, 'allow' | 'deny'>;
  batch?: number;
  threads?: number;
  /** Keep every user's lists (for --lists and the tests). */
  keepLists?: boolean;
  onBatch?(done: number): void;
}

export interface EvalVersion {
  /** Per scope (each channel, then `merged`): per-user metrics. */
  perUser: Map<string, UserMetrics>;
  /** Per scope: catalogue coverage at each K. */
  coverage: Map<string, number[]>;
  /** Per channel: the share of merged top-K items only it found, and of merged top-K hits only it found. */
  unique: Map<string, { share: number[]; hitShare: number[] }>;
  /** Wall time per channel and of the fusion, ms, all users. */
  channelMs: Record<string, number>;
  mergeMs: number;
  seconds: number;
  lists?: Record<string, string[]>[];
}

/** A channel's list as the merge sees it: filtered, each item once, at most `limit`. */
function channelList(l: ChannelCandidates, exclude: ReadonlySet<string>, f: Pick<MergeFilter, 'allow' | 'deny'>, limit: number): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < l.items.length && out.length < limit; i++) {
    const it = l.items[i]!;
    if (seen.has(it) || exclude.has(it) || f.deny?.has(it) || (f.allow && !f.allow.has(it))) continue;
    seen.add(it);
    out.push(it);
  }
  return out;
}

export async function evaluateVersion(
  channels: Readonly<Record<string, ChannelSource>>,
  spec: MergeSpec,
  users: EvalUsers,
  o: EvalVersionOptions,
): Promise<EvalVersion> {
  const ks = o.ks;
  const maxK = ks[ks.length - 1]!;
  const n = users.users.length;
  const names = Object.keys(spec.channels).filter((c) => channels[c]);
  const scopes = [...names, MERGED];
  const perUser = new Map(scopes.map((s) => [s, emptyUserMetrics(ks, n)]));
  const topLists = new Map(scopes.map((s) => [s, [] as string[][]]));
  const unique = new Map(names.map((c) => [c, { items: ks.map(() => 0), hits: ks.map(() => 0) }]));
  const mergedItems = ks.map(() => 0);
  const mergedHits = ks.map(() => 0);
  // the merged list is scored to the largest K
  const mspec: MergeSpec = { ...spec, k: Math.max(spec.k, maxK) };
  const filter = o.filter ?? {};
  const channelMs: Record<string, number> = {};
  let mergeMs = 0;
  const lists: Record<string, string[]>[] | undefined = o.keepLists ? [] : undefined;
  const size = Math.max(1, o.batch ?? 2048);
  const t0 = process.hrtime.bigint();
  for (let at = 0; at < n; at += size) {
    const end = Math.min(n, at + size);
    const reqs: MergeRequest[] = [];
    for (let u = at; u < end; u++)
      reqs.push({
        seeds: users.history[u]!.slice(0, o.seeds).map((item) => ({ item, weight: 1 })),
        vector: users.vectors?.[u],
        text: users.texts?.[u],
      });
    const g = await gatherCandidates(channels, spec, reqs, { threads: o.threads });
    for (const [c, t] of Object.entries(g.channelMs)) channelMs[c] = (channelMs[c] ?? 0) + t;
    const m0 = process.hrtime.bigint();
    for (let u = at; u < end; u++) {
      const got = g.lists[u - at]!;
      const exclude = new Set(users.history[u]!);
      const truth = users.truth[u]!;
      const mine: Record<string, string[]> = {};
      for (const l of got) {
        const list = channelList(l, exclude, filter, spec.channels[l.channel]?.quota ?? Number.POSITIVE_INFINITY);
        scoreList(list, truth, ks, perUser.get(l.channel)!, u);
        topLists.get(l.channel)!.push(list.length > maxK ? list.slice(0, maxK) : list);
        mine[l.channel] = list;
      }
      const merged = mergeCandidates(got, mspec, { ...filter, exclude });
      const mlist = merged.map((m) => m.item);
      scoreList(mlist, truth, ks, perUser.get(MERGED)!, u);
      topLists.get(MERGED)!.push(mlist.length > maxK ? mlist.slice(0, maxK) : mlist);
      mine[MERGED] = mlist;
      ks.forEach((k, ki) => {
        for (let r = 0; r < Math.min(k, merged.length); r++) {
          const m = merged[r]!;
          const hit = truth.has(m.item);
          mergedItems[ki]!++;
          if (hit) mergedHits[ki]!++;
          if (m.from.length === 1) {
            const un = unique.get(m.from[0]!.channel)!;
            un.items[ki]!++;
            if (hit) un.hits[ki]!++;
          }
        }
      });
      lists?.push(mine);
    }
    mergeMs += Number(process.hrtime.bigint() - m0) / 1e6;
    o.onBatch?.(end);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return {
    perUser,
    coverage: new Map(scopes.map((s) => [s, ks.map((k) => coverage(topLists.get(s)!, k, users.catalogue))])),
    unique: new Map(
      names.map((c) => {
        const x = unique.get(c)!;
        return [
          c,
          {
            share: ks.map((_, i) => (mergedItems[i] ? x.items[i]! / mergedItems[i]! : 0)),
            hitShare: ks.map((_, i) => (mergedHits[i] ? x.hits[i]! / mergedHits[i]! : 0)),
          },
        ];
      }),
    ),
    channelMs,
    mergeMs,
    seconds,
    lists,
  };
}
