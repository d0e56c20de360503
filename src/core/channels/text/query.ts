/**
 * `recall query inverted`: BM25 top-k over a text index (a file, a version
 * folder or a channel folder). A version with several shard files is one
 * collection: every shard scores with the summed N, df and token totals, so the
 * merged top k equals that of one index over all the documents.
 */
import { badInput, usage } from '../../errors.js';
import { readInputText } from '../../io/stdin.js';
import { ms, roundMs } from '../../io/units.js';
import { resolveLayered } from '../../index/layers.js';
import { guardWal } from '../../index/wal-identity.js';
import { type WalTailSummary, walTailSummary } from '../driver.js';
import { retryOnNewCurrent } from '../../index/resolve.js';
import { loadNative, tokenFor, type TextHandle, type TextInfo } from '../../native.js';
import { TEXT_FILE_EXT } from './build.js';
import { layersAnalyzer, openTextLayers, tailIndex, textChanges } from './layers.js';
import { requirePath } from '../../io/paths.js';

export interface OpenTextIndex {
  files: string[];
  version: number | null;
  /** Every file of every layer (and of the WAL tail), with the layer it belongs to. */
  shards: { file: string; handle: TextHandle; info: TextInfo; layer: number }[];
  /** Per layer: the ids newer layers or the WAL tail replaced or deleted (dropped from its hits). */
  hidden: Set<string>[];
  layers: (number | null)[];
  wal: WalTailSummary | null;
  prepareQuery(q: string): string;
  close(): Promise<void>;
}

export interface OpenTextOptions {
  analyzerOverride?: boolean;
  /** Merge the WAL tail after the version's dump seq. */
  wal?: string;
  asOf?: number;
  skipCorrupt?: boolean;
}

export async function openText(path: string, o: OpenTextOptions = {}): Promise<OpenTextIndex> {
  const lv = await resolveLayered(path, TEXT_FILE_EXT, 'a text index', o.asOf);
  if (!lv.layers.some((l) => l.files.length))
    throw badInput('ERR_RECALL_NOT_AN_INDEX', `${path}: the version holds no ${TEXT_FILE_EXT} file`, { file: path });
  const layers = await openTextLayers(lv.layers);
  const { analyzer, like } = layersAnalyzer(layers, !!o.analyzerOverride);
  let close = async () => {};
  let wal: OpenTextIndex['wal'] = null;
  if (o.wal) {
    const covered = await guardWal(o.wal, lv.info, lv.version);
    const tail = textChanges(
      o.wal,
      { after: lv.info.walSeq, upto: o.asOf, skipCorrupt: o.skipCorrupt },
      like.fields.map((f) => f.name),
    );
    covered(tail.report);
    const t = await tailIndex(tail, like, analyzer);
    if (t) {
      layers.push(t.layer);
      close = t.close;
    }
    wal = walTailSummary(o.wal, lv.info.walSeq, tail);
  }
  // what each layer must not answer: everything a newer layer (or the tail) replaced or deleted
  const hidden = layers.map(() => new Set<string>());
  for (let i = layers.length - 2; i >= 0; i--) {
    for (const id of hidden[i + 1]!) hidden[i]!.add(id);
    for (const id of layers[i + 1]!.shadows) hidden[i]!.add(id);
  }
  const shards = layers.flatMap((l, layer) => l.shards.map((s) => ({ ...s, layer })));
  return {
    files: shards.map((s) => s.file),
    version: lv.version,
    shards,
    hidden,
    layers: lv.layers.map((l) => l.version),
    wal,
    prepareQuery: analyzer.prepareQuery,
    close,
  };
}

export interface SearchTextOptions {
  k: number;
  defaultOr?: boolean;
  usePairs?: boolean;
  matchAllPureNot?: boolean;
  k1?: number;
  b?: number;
  threads?: number;
}

export interface QueryResult {
  query: string;
  /** Document ids as strings (64-bit integers are not safe as JSON numbers). */
  hits: { id: string; score: number }[];
  totalHits: number;
  /** eq: exact; gte: a lower bound (pruning skipped documents); approx: counted over layers that include replaced documents. */
  totalHitsRelation: 'eq' | 'gte' | 'approx';
  pairsUsed: number;
  /** This query's search time, measured natively. */
  searchMs: number;
  error?: { code: string; message: string };
}

export interface QueryTextResult {
  index: string;
  version: number | null;
  docs: number;
  results: QueryResult[];
  errors: number;
  searchMs: number;
  searchCpuMs: number;
  memoryBytes: number;
  layers: (number | null)[];
  wal: OpenTextIndex['wal'];
}

/** What one native search of a batch found: per query its results (offsets), each with its external id and whether a later layer hides it. */
interface RawTextSearch {
  r: Awaited<ReturnType<ReturnType<typeof loadNative>['textSearch']>>;
  /** External ids per result: 64-bit integers when every shard keeps integer ids, else strings. */
  ints: BigUint64Array | null;
  strings: string[] | null;
  hide: Uint8Array;
}

async function runTextSearch(ix: OpenTextIndex, queries: string[], o: SearchTextOptions, signal?: AbortSignal): Promise<RawTextSearch> {
  const native = loadNative();
  const prepared = queries.map(ix.prepareQuery);
  const token = tokenFor(native, signal);
  // hidden ids may take places in the merged top k: ask for that many more, drop them after
  const extra = Math.max(0, ...ix.hidden.map((h) => h.size));
  // several files: one collection, scored with its summed statistics and merged natively
  const r = await native.textSearch(
    ix.shards.length === 1 ? ix.shards[0]!.handle : ix.shards.map((s) => s.handle),
    prepared,
    {
      k: o.k + extra,
      defaultOr: o.defaultOr ? 1 : 0,
      usePairs: o.usePairs === false ? 0 : 1,
      matchAllPureNot: o.matchAllPureNot ? 1 : 0,
      k1: o.k1,
      b: o.b,
      threads: o.threads ?? 1,
    },
    token,
  );
  // external ids, fetched per shard (results grouped by shard in one pass)
  const n = r.docs.length;
  const byShard: Uint32Array[] = [];
  if (ix.shards.length === 1) byShard.push(Uint32Array.from({ length: n }, (_, i) => i));
  else {
    const sizes = new Uint32Array(ix.shards.length);
    for (let i = 0; i < n; i++) sizes[r.shards[i]!]!++;
    for (const size of sizes) byShard.push(new Uint32Array(size));
    sizes.fill(0);
    for (let i = 0; i < n; i++) {
      const s = r.shards[i]!;
      byShard[s]![sizes[s]!++] = i;
    }
  }
  let ints: BigUint64Array | null = new BigUint64Array(n);
  let strings: string[] | null = null;
  const hide = new Uint8Array(n);
  for (const [s, shard] of ix.shards.entries()) {
    const at = byShard[s]!;
    if (!at.length) continue;
    const docs = new Uint32Array(at.length);
    for (let j = 0; j < at.length; j++) docs[j] = r.docs[at[j]!]!;
    const ext = native.textExtIds(shard.handle, docs);
    if (!(ext instanceof BigUint64Array) && ints) {
      // a shard with string ids: every id as text
      strings = Array.from(ints, String);
      ints = null;
    }
    const hidden = ix.hidden[shard.layer]!;
    if (ints) {
      // copied as 32-bit halves: reading a 64-bit element would allocate a BigInt per hit
      const from = new Uint32Array((ext as BigUint64Array).buffer, (ext as BigUint64Array).byteOffset, at.length * 2);
      const to = new Uint32Array(ints.buffer);
      for (let j = 0; j < at.length; j++) {
        to[2 * at[j]!] = from[2 * j]!;
        to[2 * at[j]! + 1] = from[2 * j + 1]!;
      }
    } else for (let j = 0; j < at.length; j++) strings![at[j]!] = String(ext[j]!);
    if (hidden.size > 0) for (let j = 0; j < at.length; j++) if (hidden.has(String(ext[j]!))) hide[at[j]!] = 1;
  }
  return { r, ints, strings, hide };
}

export async function searchText(
  ix: OpenTextIndex,
  queries: string[],
  o: SearchTextOptions,
  signal?: AbortSignal,
): Promise<Omit<QueryTextResult, 'index' | 'version' | 'docs' | 'memoryBytes' | 'layers' | 'wal'>> {
  const { r, ints, strings, hide } = await runTextSearch(ix, queries, o, signal);
  const extra = Math.max(0, ...ix.hidden.map((h) => h.size));
  const per: QueryResult[] = queries.map((query, q) => {
    const err = r.errors[q];
    if (err)
      return { query, hits: [], totalHits: 0, totalHitsRelation: 'eq', pairsUsed: 0, searchMs: roundMs(r.micros[q]! / 1e3), error: err };
    const hits: QueryResult['hits'] = [];
    for (let i = r.offsets[q]!; i < r.offsets[q + 1]! && hits.length < o.k; i++)
      if (!hide[i]) hits.push({ id: ints ? ints[i]!.toString() : strings![i]!, score: r.scores[i]! });
    return {
      query,
      hits,
      totalHits: r.totals[q]!,
      totalHitsRelation: extra ? 'approx' : r.totalExact[q] ? 'eq' : 'gte',
      pairsUsed: r.pairsUsed[q]!,
      searchMs: roundMs(r.micros[q]! / 1e3),
    };
  });
  return {
    results: per,
    errors: per.filter((x) => x.error).length,
    searchMs: ms(r.searchSeconds),
    searchCpuMs: ms(r.searchCpuSeconds),
  };
}

/** A batch's hits as flat arrays: query q's are offsets[q]..offsets[q+1], best first. */
export interface TextBatchHits {
  offsets: Uint32Array;
  /** The ids as signed 64-bit integers when the index keeps integer ids (null otherwise: see `stringIds`). */
  ids: BigInt64Array | null;
  stringIds: string[] | null;
  scores: Float64Array;
  /** Per query: its parse error, or null. */
  errors: (QueryResult['error'] | null)[];
}

/** The same search as `searchText`, flat (no object per hit): what batch callers such as eval take. */
export async function searchTextBatch(
  ix: OpenTextIndex,
  queries: string[],
  o: SearchTextOptions,
  signal?: AbortSignal,
): Promise<TextBatchHits> {
  const { r, ints, strings, hide } = await runTextSearch(ix, queries, o, signal);
  const offsets = new Uint32Array(queries.length + 1);
  const keep = new Uint32Array(r.docs.length);
  const scores = new Float64Array(r.docs.length);
  let kept = 0;
  for (let q = 0; q < queries.length; q++) {
    if (!r.errors[q]) {
      let taken = 0;
      for (let i = r.offsets[q]!; i < r.offsets[q + 1]! && taken < o.k; i++)
        if (!hide[i]) {
          keep[kept] = i;
          scores[kept++] = r.scores[i]!;
          taken++;
        }
    }
    offsets[q + 1] = kept;
  }
  const errors = queries.map((_, q) => r.errors[q] ?? null);
  if (!ints)
    return {
      offsets,
      ids: null,
      stringIds: Array.from(keep.subarray(0, kept), (i) => strings![i]!),
      scores: scores.slice(0, kept),
      errors,
    };
  // copied as 32-bit halves: reading a 64-bit element would allocate a BigInt per hit
  const from = new Uint32Array(ints.buffer, ints.byteOffset, ints.length * 2);
  const ids = new BigInt64Array(kept);
  const to = new Uint32Array(ids.buffer);
  for (let j = 0; j < kept; j++) {
    to[2 * j] = from[2 * keep[j]!]!;
    to[2 * j + 1] = from[2 * keep[j]! + 1]!;
  }
  return { offsets, ids, stringIds: null, scores: scores.subarray(0, kept), errors };
}

export interface QueryTextOptions extends SearchTextOptions, OpenTextOptions {
  index: string;
  q?: string;
  queriesFile?: string;
}

/** The queries of `recall query inverted`: the one given, or the lines of the queries file (`-`: stdin). */
export async function readTextQueries(o: Pick<QueryTextOptions, 'q' | 'queriesFile'>): Promise<string[]> {
  if (o.q === undefined && o.queriesFile === undefined)
    throw usage('ERR_RECALL_USAGE', 'no query: pass one as an argument or --queries-file FILE', {
      fix: 'e.g. recall query inverted --index DIR "apple AND pie"',
    });
  return o.q !== undefined
    ? [o.q]
    : (await readInputText(await requirePath(o.queriesFile!, 'file', '--queries-file'))).split('\n').filter((l) => l.trim());
}

/** What a batch search of an opened text index gives (the library API's `searchMany` answers it too). */
export type TextBatchAnswer = Omit<QueryTextResult, 'index'>;

/**
 * The report of `recall query inverted`. A single query (not a queries file) that fails is the
 * command's error (exit 2); in a file each failed line is its answer.
 */
export function textQueryReport(index: string, single: boolean, b: TextBatchAnswer): QueryTextResult {
  const one = single ? b.results[0] : undefined;
  if (one?.error)
    throw usage(one.error.code, `query "${one.query}": ${one.error.message}`, {
      fix: 'see `recall query inverted --help` for the syntax',
    });
  return {
    index,
    version: b.version,
    docs: b.docs,
    memoryBytes: b.memoryBytes,
    layers: b.layers,
    wal: b.wal,
    results: b.results,
    errors: b.errors,
    searchMs: b.searchMs,
    searchCpuMs: b.searchCpuMs,
  };
}

/** The same batch answer from an index opened here (without the library API). */
export async function searchOpenText(
  ix: OpenTextIndex,
  queries: string[],
  o: SearchTextOptions,
  signal?: AbortSignal,
): Promise<TextBatchAnswer> {
  const r = await searchText(ix, queries, o, signal);
  return {
    version: ix.version,
    docs: ix.shards.reduce((a, s) => a + s.info.docs, 0),
    memoryBytes: ix.shards.reduce((a, s) => a + s.info.memoryBytes, 0),
    layers: ix.layers,
    wal: ix.wal,
    ...r,
  };
}

export async function queryText(o: QueryTextOptions, signal?: AbortSignal): Promise<QueryTextResult> {
  const queries = await readTextQueries(o);
  // the index is opened (and, when its version was pruned under it, reopened) before searching
  const ix = await retryOnNewCurrent(o.index, () => openText(o.index, o));
  try {
    return textQueryReport(o.index, o.q !== undefined, await searchOpenText(ix, queries, o, signal));
  } finally {
    await ix.close();
  }
}
