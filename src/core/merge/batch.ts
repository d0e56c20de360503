/**
 * `recall merge` and the library's `merge`: requests in batches, each batch's candidates gathered
 * with one call per channel (threads inside the native searches), then fused per request.
 */
import type { MergeConfig } from '../config/load.js';
import { checkMergeSpec, type MergedItem, type MergeFilter, mergeCandidates, type MergeSpec } from './fuse.js';
import { type ChannelSource, gatherCandidates, type MergeRequest } from './gather.js';
import { readIdList } from './requests.js';

export interface MergeResult {
  id?: string;
  items: MergedItem[];
  /** Candidates each channel returned before filters and quotas. */
  candidates: Record<string, number>;
}

export interface MergeBatchReport {
  requests: number;
  results: MergeResult[];
  /** Wall time of each channel's calls, and of the fusion, ms (all batches). */
  channelMs: Record<string, number>;
  mergeMs: number;
  textErrors: number;
}

export interface MergeBatchOptions {
  /** Requests gathered per round of channel calls (default 1024). */
  batch?: number;
  threads?: number;
  ef?: number;
  /** The allow / deny lists every request shares. */
  filter?: Pick<MergeFilter, 'allow' | 'deny'>;
  onBatch?(done: number): void;
}

/** The merge spec of a config's `merge` section. */
export function mergeSpecOf(m: MergeConfig): MergeSpec {
  const spec: MergeSpec = { k: m.k, fusion: m.fusion, rrfK: m.rrfK, channels: m.channels };
  checkMergeSpec(spec, 'merge');
  return spec;
}

/** The shared allow / deny lists a config's `merge` section names. */
export async function mergeFilterOf(m: Pick<MergeConfig, 'allow' | 'deny'>): Promise<Pick<MergeFilter, 'allow' | 'deny'>> {
  return {
    allow: m.allow ? await readIdList(m.allow, 'merge.allow') : undefined,
    deny: m.deny ? await readIdList(m.deny, 'merge.deny') : undefined,
  };
}

export async function mergeRequests(
  channels: Readonly<Record<string, ChannelSource>>,
  spec: MergeSpec,
  reqs: readonly MergeRequest[],
  o: MergeBatchOptions = {},
): Promise<MergeBatchReport> {
  checkMergeSpec(spec, 'merge');
  const size = Math.max(1, o.batch ?? 1024);
  const results: MergeResult[] = [];
  const channelMs: Record<string, number> = {};
  let mergeMs = 0;
  let textErrors = 0;
  for (let at = 0; at < reqs.length; at += size) {
    const part = reqs.slice(at, at + size);
    const g = await gatherCandidates(channels, spec, part, { threads: o.threads, ef: o.ef });
    for (const [c, t] of Object.entries(g.channelMs)) channelMs[c] = (channelMs[c] ?? 0) + t;
    textErrors += g.textErrors;
    const t0 = process.hrtime.bigint();
    part.forEach((r, i) => {
      const lists = g.lists[i]!;
      const exclude = r.exclude?.length ? new Set(r.exclude) : undefined;
      results.push({
        id: r.id,
        items: mergeCandidates(lists, spec, { ...o.filter, exclude }),
        candidates: Object.fromEntries(lists.map((l) => [l.channel, l.items.length])),
      });
    });
    mergeMs += Number(process.hrtime.bigint() - t0) / 1e6;
    o.onBatch?.(Math.min(reqs.length, at + size));
  }
  return { requests: reqs.length, results, channelMs, mergeMs, textErrors };
}
