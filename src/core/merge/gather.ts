/**
 * The candidates of a batch of requests from each channel: one x2i batch lookup for every seed of
 * every request, one vector search call for all query vectors, one text call for all query strings.
 * The readers are typed by shape, so the library API's `openIndex` readers fit without this layer
 * importing the API.
 */
import { badInput } from '../errors.js';
import { loadNative } from '../native.js';
import type { ChannelCandidates, MergeSpec } from './fuse.js';

export interface X2iSource {
  readonly kind: 'x2i';
  getBatch(
    keys: BigInt64Array,
    o?: { top?: number },
  ): { found: Uint8Array; counts: Uint32Array; items: BigInt64Array; scores: Float32Array };
}
export interface VectorSource {
  readonly kind: 'vector';
  readonly dim: number;
  search(queries: Float32Array, o: { k: number; ef?: number; threads?: number }): Promise<{ ids: bigint[][]; distances: number[][] }>;
}
export interface TextSource {
  readonly kind: 'text';
  searchMany(
    queries: string[],
    o: { k: number; defaultOr?: boolean; threads?: number },
  ): Promise<{ results: { hits: { id: string | number; score: number }[]; error?: unknown }[] }>;
}
export type ChannelSource = X2iSource | VectorSource | TextSource;

/** What one request asks of the channels; a channel without its input gives no candidates. */
export interface MergeRequest {
  id?: string;
  /** x2i seeds (e.g. the user's recent items), each with a weight (default 1). */
  seeds?: { item: string; weight?: number }[];
  vector?: ArrayLike<number>;
  text?: string;
  /** Items the merged list must not hold (already seen). */
  exclude?: string[];
}

export interface GatherOptions {
  /** Candidates asked of a channel without a quota (default 200). */
  fanout?: number;
  threads?: number;
  /** HNSW beam width for vector channels. */
  ef?: number;
}

export interface Gathered {
  /** Per request, per channel of the spec found in the index. */
  lists: ChannelCandidates[][];
  /** Wall time of each channel's batch call(s), ms. */
  channelMs: Record<string, number>;
  /** Text queries that failed to parse (their list is empty). */
  textErrors: number;
}

const now = () => Number(process.hrtime.bigint()) / 1e6;

/** High 32-bit halves in [-2^21, 2^21) give ids that are safe integers as numbers. */
const SAFE_HI = 2 ** 21;

/** Score-sum of the seeds' lists: each item gets sum(weight(seed) * score(seed -> item)); best first, ties by id. */
function x2iLists(src: X2iSource, name: string, reqs: readonly MergeRequest[], fanout: number): ChannelCandidates[] {
  const keys: bigint[] = [];
  const weights: number[] = [];
  const owner: number[] = [];
  reqs.forEach((r, q) =>
    r.seeds?.forEach((s, row) => {
      let key: bigint;
      try {
        key = BigInt.asIntN(64, BigInt(s.item));
      } catch {
        throw badInput('ERR_RECALL_BAD_KEY', `request ${r.id ?? q}: seed ${row} ${JSON.stringify(s.item)} is not an integer`, {
          row: q,
          fix: 'x2i seeds are integer item ids',
        });
      }
      keys.push(key);
      weights.push(s.weight ?? 1);
      owner.push(q);
    }),
  );
  const out: ChannelCandidates[] = reqs.map(() => ({ channel: name, items: [], scores: [] }));
  if (!keys.length) return out;
  const b = src.getBatch(BigInt64Array.from(keys), { top: fanout });
  // seeds are grouped by request; the sums and the ranking run natively, only the kept ids become strings
  const ends = new Uint32Array(reqs.length);
  for (let i = 0, q = 0; q < reqs.length; q++) {
    while (i < owner.length && owner[i] === q) i++;
    ends[q] = i;
  }
  const s = loadNative().x2iSumSeedLists(b.items, b.scores, b.counts, Float64Array.from(weights), ends, fanout);
  // the ids read as two 32-bit halves (little-endian): reading a BigInt64Array element allocates a BigInt
  const lo32 = new Uint32Array(s.items.buffer, s.items.byteOffset, s.items.length * 2);
  const hi32 = new Int32Array(s.items.buffer, s.items.byteOffset, s.items.length * 2);
  let at = 0;
  for (let q = 0; q < reqs.length; q++) {
    const n = s.counts[q]!;
    const items: string[] = new Array(n);
    for (let j = 0; j < n; j++) {
      const hi = hi32[2 * (at + j) + 1]!;
      items[j] = String(hi >= -SAFE_HI && hi < SAFE_HI ? hi * 4294967296 + lo32[2 * (at + j)]! : s.items[at + j]!);
    }
    out[q] = { channel: name, items, scores: s.scores.subarray(at, at + n) };
    at += n;
  }
  return out;
}

async function vectorLists(
  src: VectorSource,
  name: string,
  reqs: readonly MergeRequest[],
  fanout: number,
  o: GatherOptions,
): Promise<ChannelCandidates[]> {
  const asked = reqs.flatMap((r, q) => (r.vector?.length ? [q] : []));
  const out: ChannelCandidates[] = reqs.map(() => ({ channel: name, items: [], scores: [] }));
  if (!asked.length) return out;
  const dim = src.dim;
  const data = new Float32Array(asked.length * dim);
  asked.forEach((q, i) => {
    const v = reqs[q]!.vector!;
    if (v.length !== dim)
      throw badInput('ERR_RECALL_DIM_MISMATCH', `request ${reqs[q]!.id ?? q}: vector of ${v.length} values; channel ${name} has ${dim}`, {
        row: q,
        fix: 'pass vectors of the index dimension',
      });
    data.set(v, i * dim);
  });
  const r = await src.search(data, { k: fanout, ef: o.ef, threads: o.threads });
  asked.forEach((q, i) => {
    // nearest first; a distance becomes a higher-is-better score by negation
    out[q] = { channel: name, items: r.ids[i]!.map(String), scores: Float64Array.from(r.distances[i]!, (d) => -d) };
  });
  return out;
}

async function textLists(
  src: TextSource,
  name: string,
  reqs: readonly MergeRequest[],
  fanout: number,
  o: GatherOptions,
): Promise<{ lists: ChannelCandidates[]; errors: number }> {
  const asked = reqs.flatMap((r, q) => (r.text?.trim() ? [q] : []));
  const out: ChannelCandidates[] = reqs.map(() => ({ channel: name, items: [], scores: [] }));
  if (!asked.length) return { lists: out, errors: 0 };
  const r = await src.searchMany(
    asked.map((q) => reqs[q]!.text!),
    { k: fanout, defaultOr: true, threads: o.threads },
  );
  let errors = 0;
  asked.forEach((q, i) => {
    const res = r.results[i]!;
    if (res.error) errors++;
    out[q] = { channel: name, items: res.hits.map((h) => String(h.id)), scores: Float64Array.from(res.hits, (h) => h.score) };
  });
  return { lists: out, errors };
}

/** Ask every channel of `spec` that `channels` holds for the candidates of `reqs` (fanout: the channel's quota). */
export async function gatherCandidates(
  channels: Readonly<Record<string, ChannelSource>>,
  spec: MergeSpec,
  reqs: readonly MergeRequest[],
  o: GatherOptions = {},
): Promise<Gathered> {
  const lists: ChannelCandidates[][] = reqs.map(() => []);
  const channelMs: Record<string, number> = {};
  let textErrors = 0;
  for (const [name, cs] of Object.entries(spec.channels)) {
    const src = channels[name];
    if (!src) continue;
    const fanout = Math.max(1, cs.quota ?? o.fanout ?? 200);
    const t0 = now();
    let got: ChannelCandidates[];
    if (src.kind === 'x2i') got = x2iLists(src, name, reqs, fanout);
    else if (src.kind === 'vector') got = await vectorLists(src, name, reqs, fanout, o);
    else {
      const t = await textLists(src, name, reqs, fanout, o);
      got = t.lists;
      textErrors += t.errors;
    }
    channelMs[name] = now() - t0;
    got.forEach((l, q) => lists[q]!.push(l));
  }
  return { lists, channelMs, textErrors };
}
