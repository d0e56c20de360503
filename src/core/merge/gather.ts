/**
 * The candidates of a batch of requests from each channel: one x2i batch lookup for every seed of
 * every request, one vector search call for all query vectors, one text call for all query strings.
 * The readers are typed by shape, so the library API's `openIndex` readers fit without this layer
 * importing the API.
 */
import { badInput } from '../errors.js';
import { loadNative } from '../native.js';
import { idKeys } from './ids.js';
import type { ChannelCandidates, MergeSpec } from './fuse.js';

export interface X2iSource {
  readonly kind: 'x2i';
  getBatch(
    keys: BigInt64Array,
    o?: { top?: number },
  ): { found: Uint8Array; counts: Uint32Array; items: BigInt64Array; scores: Float32Array };
  /** The seeds' lists summed per request, read in place (see the library's X2iReader). */
  sumSeeds?(
    keys: BigInt64Array,
    weights: Float64Array,
    requestEnds: Uint32Array,
    o: { top?: number; fanout: number },
  ): { items: BigInt64Array; scores: Float64Array; counts: Uint32Array };
}
export interface VectorSource {
  readonly kind: 'vector';
  readonly dim: number;
  search(queries: Float32Array, o: { k: number; ef?: number; threads?: number }): Promise<{ ids: bigint[][]; distances: number[][] }>;
  /** The same as flat arrays, k slots a query (id -1 past the last hit). */
  searchBatch?(
    queries: Float32Array,
    o: { k: number; ef?: number; threads?: number },
  ): Promise<{ k: number; ids: BigInt64Array; distances: Float64Array }>;
}
export interface TextSource {
  readonly kind: 'text';
  searchMany(
    queries: string[],
    o: { k: number; defaultOr?: boolean; threads?: number },
  ): Promise<{ results: { hits: { id: string | number; score: number }[]; error?: unknown }[] }>;
  /** The same as flat arrays; ids null when the index keeps string ids. */
  searchBatch?(
    queries: string[],
    o: { k: number; defaultOr?: boolean; threads?: number },
  ): Promise<{ offsets: Uint32Array; ids: BigInt64Array | null; scores: Float64Array; errors: unknown[] }>;
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

/** One channel's candidates for a batch of requests, flat: `counts[q]` of them for request q, best first. */
export interface FlatCandidates {
  channel: string;
  counts: Uint32Array;
  items: BigInt64Array;
  /** Higher is better. */
  scores: Float64Array;
}

/** Score-sum of the seeds' lists: each item gets sum(weight(seed) * score(seed -> item)); best first, ties by id. */
function x2iFlat(src: X2iSource, name: string, reqs: readonly MergeRequest[], fanout: number): FlatCandidates {
  // each distinct seed is looked up once; seeds point at their list
  const listOf = new Map<string, number>();
  const keys: bigint[] = [];
  const weights: number[] = [];
  const seedLists: number[] = [];
  const ends = new Uint32Array(reqs.length);
  reqs.forEach((r, q) => {
    r.seeds?.forEach((s, row) => {
      let l = listOf.get(s.item);
      if (l === undefined) {
        let key: bigint;
        try {
          key = BigInt.asIntN(64, BigInt(s.item));
        } catch {
          throw badInput('ERR_RECALL_BAD_KEY', `request ${r.id ?? q}: seed ${row} ${JSON.stringify(s.item)} is not an integer`, {
            row: q,
            fix: 'x2i seeds are integer item ids',
          });
        }
        l = keys.length;
        listOf.set(s.item, l);
        keys.push(key);
      }
      seedLists.push(l);
      weights.push(s.weight ?? 1);
    });
    ends[q] = seedLists.length;
  });
  if (!keys.length)
    return { channel: name, counts: new Uint32Array(reqs.length), items: new BigInt64Array(0), scores: new Float64Array(0) };
  if (src.sumSeeds) {
    // the lists are read where they lie: no copy of every seed's list
    const s = src.sumSeeds(
      BigInt64Array.from(seedLists, (l) => keys[l]!),
      Float64Array.from(weights),
      ends,
      { top: fanout, fanout },
    );
    return { channel: name, counts: s.counts, items: s.items, scores: s.scores };
  }
  const b = src.getBatch(BigInt64Array.from(keys), { top: fanout });
  // the sums and the ranking run natively
  const s = loadNative().x2iSumSeedLists(
    b.items,
    b.scores,
    b.counts,
    Float64Array.from(weights),
    ends,
    fanout,
    Uint32Array.from(seedLists),
  );
  return { channel: name, counts: s.counts, items: s.items, scores: s.scores };
}

/** Flat candidates as the string lists the TypeScript merge takes (ids as String() writes them). */
export function candidateLists(f: FlatCandidates): ChannelCandidates[] {
  const keys = idKeys(f.items);
  const out: ChannelCandidates[] = new Array(f.counts.length);
  let at = 0;
  for (let q = 0; q < f.counts.length; q++) {
    const n = f.counts[q]!;
    const items: string[] = new Array(n);
    for (let j = 0; j < n; j++) items[j] = String(keys[at + j]!);
    out[q] = { channel: f.channel, items, scores: f.scores.subarray(at, at + n) };
    at += n;
  }
  return out;
}

/** The query vectors of the requests that have one (their request indexes), checked against the channel. */
function queryVectors(src: VectorSource, name: string, reqs: readonly MergeRequest[]): { asked: number[]; data: Float32Array } {
  const asked = reqs.flatMap((r, q) => (r.vector?.length ? [q] : []));
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
  return { asked, data };
}

/** Nearest first; a distance becomes a higher-is-better score by negation. */
async function vectorFlat(
  src: VectorSource & Required<Pick<VectorSource, 'searchBatch'>>,
  name: string,
  reqs: readonly MergeRequest[],
  fanout: number,
  o: GatherOptions,
): Promise<FlatCandidates> {
  const { asked, data } = queryVectors(src, name, reqs);
  const counts = new Uint32Array(reqs.length);
  if (!asked.length) return { channel: name, counts, items: new BigInt64Array(0), scores: new Float64Array(0) };
  const r = await src.searchBatch(data, { k: fanout, ef: o.ef, threads: o.threads });
  // id -1 marks the slots past a query's last hit; read as 32-bit halves (no BigInt per slot)
  const halves = new Int32Array(r.ids.buffer, r.ids.byteOffset, r.ids.length * 2);
  const items = new BigInt64Array(r.ids.length);
  const scores = new Float64Array(r.ids.length);
  let n = 0;
  asked.forEach((q, i) => {
    let c = 0;
    while (c < r.k && !(halves[2 * (i * r.k + c)] === -1 && halves[2 * (i * r.k + c) + 1] === -1)) c++;
    items.set(r.ids.subarray(i * r.k, i * r.k + c), n);
    for (let j = 0; j < c; j++) scores[n + j] = -r.distances[i * r.k + j]!;
    // equal distances in id order (unsigned), as the layered search and `search` give them
    for (let j = n + 1; j < n + c; j++)
      for (let t = j; t > n && scores[t] === scores[t - 1] && BigInt.asUintN(64, items[t]!) < BigInt.asUintN(64, items[t - 1]!); t--) {
        [items[t], items[t - 1]] = [items[t - 1]!, items[t]!];
        [scores[t], scores[t - 1]] = [scores[t - 1]!, scores[t]!];
      }
    counts[q] = c;
    n += c;
  });
  return { channel: name, counts, items: items.subarray(0, n), scores: scores.subarray(0, n) };
}

async function vectorLists(
  src: VectorSource,
  name: string,
  reqs: readonly MergeRequest[],
  fanout: number,
  o: GatherOptions,
): Promise<ChannelCandidates[]> {
  const out: ChannelCandidates[] = reqs.map(() => ({ channel: name, items: [], scores: [] }));
  const { asked, data } = queryVectors(src, name, reqs);
  if (!asked.length) return out;
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
    if (src.kind === 'x2i') got = candidateLists(x2iFlat(src, name, reqs, fanout));
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

async function textFlat(
  src: TextSource & Required<Pick<TextSource, 'searchBatch'>>,
  name: string,
  reqs: readonly MergeRequest[],
  fanout: number,
  o: GatherOptions,
): Promise<{ flat: FlatCandidates; errors: number } | null> {
  const asked = reqs.flatMap((r, q) => (r.text?.trim() ? [q] : []));
  const counts = new Uint32Array(reqs.length);
  if (!asked.length) return { flat: { channel: name, counts, items: new BigInt64Array(0), scores: new Float64Array(0) }, errors: 0 };
  const r = await src.searchBatch(
    asked.map((q) => reqs[q]!.text!),
    { k: fanout, defaultOr: true, threads: o.threads },
  );
  if (!r.ids) return null;
  asked.forEach((q, i) => {
    counts[q] = r.offsets[i + 1]! - r.offsets[i]!;
  });
  return { flat: { channel: name, counts, items: r.ids, scores: r.scores }, errors: r.errors.filter((e) => e).length };
}

/**
 * The same candidates flat, on integer ids (the native merge's input); null when a channel cannot
 * give them: a text hit whose id is not an integer, or a vector reader without flat search.
 */
export async function gatherFlat(
  channels: Readonly<Record<string, ChannelSource>>,
  spec: MergeSpec,
  reqs: readonly MergeRequest[],
  o: GatherOptions = {},
): Promise<{ lists: FlatCandidates[]; channelMs: Record<string, number>; textErrors: number } | null> {
  // the searches that run on native threads start first; the x2i sums run here meanwhile
  const jobs: { name: string; run: () => Promise<{ flat: FlatCandidates; errors: number } | null> }[] = [];
  for (const [name, cs] of Object.entries(spec.channels)) {
    const src = channels[name];
    if (!src) continue;
    const fanout = Math.max(1, cs.quota ?? o.fanout ?? 200);
    if (src.kind === 'x2i') jobs.push({ name, run: async () => ({ flat: x2iFlat(src, name, reqs, fanout), errors: 0 }) });
    else if (src.kind === 'vector') {
      if (!src.searchBatch) return null;
      const v = src as VectorSource & Required<Pick<VectorSource, 'searchBatch'>>;
      jobs.push({ name, run: async () => ({ flat: await vectorFlat(v, name, reqs, fanout, o), errors: 0 }) });
    } else {
      if (!src.searchBatch) return null;
      const t = src as TextSource & Required<Pick<TextSource, 'searchBatch'>>;
      jobs.push({ name, run: () => textFlat(t, name, reqs, fanout, o) });
    }
  }
  const channelMs: Record<string, number> = {};
  const timed = (j: (typeof jobs)[number]) => {
    const t0 = now();
    return j.run().then((r) => {
      channelMs[j.name] = now() - t0;
      return r;
    });
  };
  const pending = jobs.map((j) => (channels[j.name]!.kind === 'x2i' ? null : timed(j)));
  const got = await Promise.all(jobs.map((j, i) => pending[i] ?? timed(j)));
  if (got.some((g) => g === null)) return null;
  const lists = got.map((g) => g!.flat);
  const textErrors = got.reduce((a, g) => a + g!.errors, 0);
  return { lists, channelMs, textErrors };
}
