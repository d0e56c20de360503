/**
 * `recall query inverted`: BM25 top-k over a text index (a file, a version
 * folder or a channel folder). A version with several shard files is one
 * collection: every shard scores with the summed N, df and token totals, so the
 * merged top k equals that of one index over all the documents.
 */
import { readFile } from 'node:fs/promises';
import { badInput, usage } from '../cli/errors.js';
import { resolveIndexFiles } from '../index/resolve.js';
import { loadNative, tokenFor, type TextHandle, type TextInfo } from '../native.js';
import { analyzerFor } from './analyzer.js';
import { TEXT_FILE_EXT } from './build.js';

export interface OpenTextIndex {
  files: string[];
  version: number | null;
  shards: { file: string; handle: TextHandle; info: TextInfo }[];
  prepareQuery(q: string): string;
}

export async function openInverted(path: string, analyzerOverride = false): Promise<OpenTextIndex> {
  const native = loadNative();
  const { files, version } = await resolveIndexFiles(path, TEXT_FILE_EXT, 'a text index');
  if (!files.length) throw badInput('ERR_RECALL_NOT_AN_INDEX', `${path}: the version holds no ${TEXT_FILE_EXT} file`, { file: path });
  const shards = files.map((file) => {
    const handle = native.textOpen(file);
    return { file, handle, info: native.textInfo(handle) };
  });
  const analyzer = analyzerFor(shards[0]!.info.analyzer, files[0]!, analyzerOverride);
  return { files, version, shards, prepareQuery: analyzer.prepareQuery };
}

export interface InvertedSearchOptions {
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
  hits: { id: string | number; score: number }[];
  totalHits: number;
  totalHitsRelation: 'eq' | 'gte';
  pairsUsed: number;
  micros: number;
  error?: { code: string; message: string };
}

export interface QueryInvertedResult {
  index: string;
  version: number | null;
  docs: number;
  results: QueryResult[];
  errors: number;
  searchSeconds: number;
  searchCpuSeconds: number;
  memoryBytes: number;
}

const idValue = (x: bigint | string): string | number => (typeof x === 'string' ? x : x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x.toString());

export async function searchInverted(ix: OpenTextIndex, queries: string[], o: InvertedSearchOptions, signal?: AbortSignal): Promise<Omit<QueryInvertedResult, 'index' | 'version' | 'docs' | 'memoryBytes'>> {
  const native = loadNative();
  const prepared = queries.map(ix.prepareQuery);
  const token = tokenFor(native, signal);
  // several shards: one collection, scored with its summed statistics and merged natively
  const r = await native.textSearch(
    ix.shards.length === 1 ? ix.shards[0]!.handle : ix.shards.map((s) => s.handle),
    prepared,
    { k: o.k, defaultOr: o.defaultOr ? 1 : 0, usePairs: o.usePairs === false ? 0 : 1, matchAllPureNot: o.matchAllPureNot ? 1 : 0, k1: o.k1, b: o.b, threads: o.threads ?? 1 },
    token,
  );
  // external ids, fetched per shard
  const ids: (string | number)[] = new Array(r.docs.length);
  for (const [s, shard] of ix.shards.entries()) {
    const at = [...r.shards.keys()].filter((i) => r.shards[i] === s);
    const ext = native.textExtIds(shard.handle, Uint32Array.from(at, (i) => r.docs[i]!));
    at.forEach((i, j) => (ids[i] = idValue(ext[j]!)));
  }
  const per: QueryResult[] = queries.map((query, q) => {
    const err = r.errors[q];
    if (err) return { query, hits: [], totalHits: 0, totalHitsRelation: 'eq', pairsUsed: 0, micros: r.micros[q]!, error: err };
    const hits: QueryResult['hits'] = [];
    for (let i = r.offsets[q]!; i < r.offsets[q + 1]!; i++) hits.push({ id: ids[i]!, score: r.scores[i]! });
    return { query, hits, totalHits: r.totals[q]!, totalHitsRelation: r.totalExact[q] ? 'eq' : 'gte', pairsUsed: r.pairsUsed[q]!, micros: r.micros[q]! };
  });
  return { results: per, errors: per.filter((x) => x.error).length, searchSeconds: r.searchSeconds, searchCpuSeconds: r.searchCpuSeconds };
}

export interface QueryInvertedOptions extends InvertedSearchOptions {
  index: string;
  q?: string;
  queriesFile?: string;
  analyzerOverride?: boolean;
}

export async function queryInverted(o: QueryInvertedOptions, signal?: AbortSignal): Promise<QueryInvertedResult> {
  if (o.q === undefined && o.queriesFile === undefined) throw usage('ERR_RECALL_USAGE', 'no query: pass --q "..." or --queries-file FILE', { fix: 'e.g. --q "apple AND pie"' });
  const queries = o.q !== undefined ? [o.q] : (await readFile(o.queriesFile!, 'utf8')).split('\n').filter((l) => l.trim());
  const ix = await openInverted(o.index, o.analyzerOverride);
  const r = await searchInverted(ix, queries, o, signal);
  const single = o.q !== undefined ? r.results[0]! : undefined;
  if (single?.error) throw usage(single.error.code, `query "${single.query}": ${single.error.message}`, { fix: 'see `recall query inverted --help` for the syntax' });
  return {
    index: o.index,
    version: ix.version,
    docs: ix.shards.reduce((a, s) => a + s.info.docs, 0),
    memoryBytes: ix.shards.reduce((a, s) => a + s.info.memoryBytes, 0),
    ...r,
  };
}
