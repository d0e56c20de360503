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

const idValue = (x: bigint | string): string => (typeof x === 'string' ? x : x.toString());

export async function searchText(
  ix: OpenTextIndex,
  queries: string[],
  o: SearchTextOptions,
  signal?: AbortSignal,
): Promise<Omit<QueryTextResult, 'index' | 'version' | 'docs' | 'memoryBytes' | 'layers' | 'wal'>> {
  const native = loadNative();
  const prepared = queries.map(ix.prepareQuery);
  const token = tokenFor(native, signal);
  // hidden ids may take places in the merged top k: ask for that many more, drop them after
  const extra = Math.max(0, ...ix.hidden.map((h) => h.size));
  const k = o.k + extra;
  // several files: one collection, scored with its summed statistics and merged natively
  const r = await native.textSearch(
    ix.shards.length === 1 ? ix.shards[0]!.handle : ix.shards.map((s) => s.handle),
    prepared,
    {
      k,
      defaultOr: o.defaultOr ? 1 : 0,
      usePairs: o.usePairs === false ? 0 : 1,
      matchAllPureNot: o.matchAllPureNot ? 1 : 0,
      k1: o.k1,
      b: o.b,
      threads: o.threads ?? 1,
    },
    token,
  );
  // external ids, fetched per shard
  const ids: string[] = new Array(r.docs.length);
  const hide: boolean[] = new Array(r.docs.length).fill(false);
  for (const [s, shard] of ix.shards.entries()) {
    const at = [...r.shards.keys()].filter((i) => r.shards[i] === s);
    const ext = native.textExtIds(
      shard.handle,
      Uint32Array.from(at, (i) => r.docs[i]!),
    );
    const hidden = ix.hidden[shard.layer]!;
    at.forEach((i, j) => {
      ids[i] = idValue(ext[j]!);
      hide[i] = hidden.size > 0 && hidden.has(String(ext[j]));
    });
  }
  const per: QueryResult[] = queries.map((query, q) => {
    const err = r.errors[q];
    if (err)
      return { query, hits: [], totalHits: 0, totalHitsRelation: 'eq', pairsUsed: 0, searchMs: roundMs(r.micros[q]! / 1e3), error: err };
    const hits: QueryResult['hits'] = [];
    for (let i = r.offsets[q]!; i < r.offsets[q + 1]! && hits.length < o.k; i++)
      if (!hide[i]) hits.push({ id: ids[i]!, score: r.scores[i]! });
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
