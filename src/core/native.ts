/**
 * The Rust addon (native/node), loaded lazily: importing this module costs
 * nothing, `loadNative()` opens build/Release/recall.node on first use, so
 * `recall --help` never loads it. ESM cannot import a .node file on Node 20,
 * hence `createRequire`. `RECALL_NATIVE_PATH` overrides the location.
 * src/core and dist/core sit at the same depth, so the relative path holds
 * for both.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { RecallError } from './errors.js';

export type IsaTier = 'scalar' | 'avx2' | 'avx512';

/** What mergeScoreBatch gives (see there); the counters are per channel then K, or per K. */
export interface MergeScoreBatch {
  metrics: Float64Array;
  mergedItems: BigInt64Array;
  mergedCounts: Uint32Array;
  channelItems: BigInt64Array;
  channelCounts: Uint32Array;
  uniqueItems: Float64Array;
  uniqueHits: Float64Array;
  mergedTotal: Float64Array;
  mergedHits: Float64Array;
  /** Per scope (firstCounts[s] entries each, by id): items in a list's first max-K and their best rank, this batch's and the prior ones'. */
  firstItems: BigInt64Array;
  firstRanks: Uint32Array;
  firstCounts: Uint32Array;
}

export interface ContainerHeaderInput {
  kind: number;
  major: number;
  minor?: number;
  flags?: number;
  buildId?: bigint;
  version?: number;
  shard?: number;
  shardCount?: number;
}

export interface NativeHeader extends Required<Omit<ContainerHeaderInput, 'buildId'>> {
  buildId: bigint;
  sectionCount: number;
  tableOffset: number;
}

export interface NativeSection {
  kind: number;
  version: number;
  offset: number;
  length: number;
  crc32c: number;
}

export interface NativeProblem {
  kind: 'corrupt' | 'not-an-index' | 'unsupported';
  offset: number;
  length: number;
  region: string;
  message: string;
}

export interface NativeVerifyReport {
  fileLength: number;
  header: NativeHeader | null;
  sections: NativeSection[];
  problems: NativeProblem[];
}

export interface X2iStats {
  keys: number;
  edges: number;
  maxLen: number;
  capacity: number;
  load: number;
  fileBytes: number;
}

export interface X2iFound {
  /** 1 where the key is in the index, 2 where it is a tombstone (deleted in this delta layer). */
  found: Uint8Array;
  /** Items returned per key (0 for a miss). */
  counts: Uint32Array;
  items: BigUint64Array;
  scores: Float32Array;
}

export type WalFsync = 'always' | 'batch' | 'off';
export type WalWriterHandle = { readonly __brand: 'WalWriter' };

/** Records with after < seq <= upto. */
export interface WalRange {
  after?: number;
  upto?: number;
  skipCorrupt?: boolean;
}

/** A damaged byte range of a WAL segment. */
export interface WalIssue {
  segment: string;
  offset: number;
  bytes: number;
  message: string;
}

export interface WalScanReport {
  segments: number;
  /** Valid records read; `visited`: those in the range. */
  read: number;
  visited: number;
  /** Last valid seq of the log (0: empty). */
  lastSeq: number;
  /** The seq the oldest segment starts at (0: no segment); records before it were truncated. */
  firstSeq: number;
  torn: WalIssue | null;
  corrupt: WalIssue[];
}

export interface X2iChangeSummary {
  /** x2i records applied, and the distinct keys they touched. */
  records: number;
  upserts: number;
  deletes: number;
  changedKeys: number;
  /** Wall seconds of the native replay (scan, checks, last writer wins). */
  replaySeconds: number;
  report: WalScanReport;
}

/** The WAL's last state per x2i key, sorted by key; lists as the index stores them. */
export interface X2iReplay extends X2iChangeSummary {
  keys: BigUint64Array;
  deleted: Uint8Array;
  counts: Uint32Array;
  items: BigUint64Array;
  scores: Float32Array;
}

export interface X2iDumpJob extends WalRange {
  walDir: string;
  delta: boolean;
  /** Per shard: the layer files, oldest first (the base, then its deltas). */
  layers: string[][];
  outs: string[];
  headers: { version?: number; shard?: number; shardCount?: number }[];
  params: string[];
  seed?: bigint;
  topK?: number;
  minScore?: number;
}

export type X2iAlgo = 'cooc' | 'cosine' | 'jaccard' | 'condprob' | 'iuf' | 'decay' | 'swing';

export interface X2iComputeOptions {
  algo: X2iAlgo;
  topK?: number;
  minScore?: number;
  minCommon?: number;
  threads?: number;
  userCap?: number;
  minUserItems?: number;
  maxUserItems?: number;
  /** condprob */
  alpha?: number;
  /** decay */
  tauSeconds?: number;
  /** swing */
  alpha1?: number;
  alpha2?: number;
  beta?: number;
  itemUserCap?: number;
  seed?: bigint;
}

/** Opaque handles owned by the addon. */
export type X2iHandle = { readonly __brand: 'X2iIndex' };
/** The incremental item-CF / Swing state of `recall x2i stream`. */
export type X2iStreamHandle = { readonly __brand: 'X2iStreamState' };

/** What one micro-batch changed: the keys of the changed lists and their x2i upserts (tagged) for `walAppend`. */
export interface X2iStreamApplied {
  keys: BigUint64Array;
  ops: Uint8Array;
  ends: Uint32Array;
  payloads: Uint8Array;
  /** Rows recomputed, users whose active list changed, accumulator work, native seconds. */
  touched: number;
  /** Of the rows recomputed, those of items in the changed users' lists. */
  touchedByUsers: number;
  usersChanged: number;
  work: number;
  seconds: number;
}
export type HashBenchHandle = { readonly __brand: 'HashBenchTable' };

/** An opaque cancel token (an Arc<AtomicBool> inside the addon). */
export type CancelToken = { readonly __brand: 'CancelToken' };
export type DuckdbRoute = { readonly __brand: 'DuckdbRoute' };
export type FileLockHandle = { readonly __brand: 'FileLock' };

export interface Native {
  buildInfo(): { version: string; napiVersion: number; profile: string };
  cpuInfo(): { selected: IsaTier; detected: IsaTier; supported: IsaTier[] };
  panicForTest(index?: number): never;

  dotF32(a: Float32Array, b: Float32Array, isa?: IsaTier): number;
  l2sqF32(a: Float32Array, b: Float32Array, isa?: IsaTier): number;
  dotF16(a: Uint16Array, b: Uint16Array, isa?: IsaTier): number;
  l2sqF16(a: Uint16Array, b: Uint16Array, isa?: IsaTier): number;
  dotI8(a: Int8Array, b: Int8Array, isa?: IsaTier): number;
  l2sqI8(a: Int8Array, b: Int8Array, isa?: IsaTier): number;
  f32ToF16(values: Float32Array): Uint16Array;
  f16ToF32(values: Uint16Array): Float32Array;

  xxh64(data: Uint8Array | string, seed?: bigint): bigint;
  hashInt64(keys: BigInt64Array, seed?: bigint): BigUint64Array;
  hashStrings(offsets: Int32Array | BigInt64Array, data: Uint8Array, seed?: bigint): BigUint64Array;
  shardsOf(hashes: BigUint64Array, shardCount: number): Uint32Array;
  /** Hash + route + count one key vector in one call; returns the null keys skipped. */
  routeInt64(keys: BigInt64Array, validity: Uint8Array | null, shardCount: number, out: Uint16Array, counts: Float64Array): number;
  /**
   * `recall_shard(key)` registered natively on a `@duckdb/node-api` connection's binding (its
   * `connection` field), through the C API of the already loaded libduckdb at `libduckdbPath`;
   * null when the binding or library is not one it can register on, or DuckDB refuses it.
   */
  duckdbRouteRegister(
    libduckdbPath: string,
    connection: unknown,
    encoding: 'int64' | 'uint64' | 'utf8',
    shardCount: number,
  ): DuckdbRoute | null;
  duckdbRouteCounts(route: DuckdbRoute): { rows: number; nullKeys: number; perShard: Float64Array };

  cancelToken(): CancelToken;
  cancel(token: CancelToken): void;

  /** An exclusive flock on `path` (created if missing), or who holds it. */
  lockTry(path: string): { handle: FileLockHandle } | { holder: string };
  lockRelease(handle: FileLockHandle): void;

  containerWrite(path: string, header: ContainerHeaderInput, sections: { kind: number; version?: number; data: Uint8Array }[]): number;
  containerVerify(path: string, token?: CancelToken): Promise<NativeVerifyReport>;
  containerReadSection(path: string, kind: number): Uint8Array | null;

  x2iWrite(
    path: string,
    header: { version?: number; shard?: number; shardCount?: number },
    paramsJson: string,
    keys: BigUint64Array,
    offsets: BigUint64Array,
    items: BigUint64Array,
    scores: Float32Array,
    options?: { seed?: bigint; topK?: number; minScore?: number },
  ): Promise<X2iStats>;
  /** Mapped by default; `readAll` copies the sections into memory (the path before mapping, kept for benchmarks). */
  x2iOpen(path: string, options?: { readAll?: boolean }): X2iHandle;
  x2iLookup(index: X2iHandle, keys: BigUint64Array, top?: number): X2iFound;
  /**
   * Per request, the sum of its seeds' lists (weight x score per item), best first, ties by the id's
   * decimal text, at most `fanout`: seed s has counts[s] of the items; request r's seeds end at requestEnds[r].
   */
  x2iSumSeedLists(
    items: BigInt64Array,
    scores: Float32Array,
    counts: Uint32Array,
    weights: Float64Array,
    requestEnds: Uint32Array,
    fanout: number,
    /** With it, `counts` are per list and seed s reads list seedLists[s] (a shared seed looked up once). */
    seedLists?: Uint32Array,
  ): { items: BigInt64Array; scores: Float64Array; counts: Uint32Array };
  /**
   * Merge and score a batch of requests on integer ids (core/eval's fast path), on a pool thread: per request, each
   * channel's list filtered, de-duplicated and cut to its quota, fused, and every list scored at
   * each K. `metrics` is per request, scope (channels, then merged), metric (recall, hit, ndcg,
   * mrr), K. null when a kept score is not finite.
   */
  mergeScoreBatch(
    channels: { counts: Uint32Array; items: BigInt64Array; scores: Float64Array; quota: number; weight: number }[],
    requests: { excludeOffsets: Uint32Array; exclude: BigInt64Array; truthOffsets: Uint32Array; truth: BigInt64Array },
    spec: {
      k: number;
      rrf: boolean;
      rrfK: number;
      ks: Uint32Array;
      discount: Float64Array;
      idcg: Float64Array;
      allow?: BigInt64Array;
      deny?: BigInt64Array;
    },
    threads: number,
    /** The first ranks of the batches before (this call's firstCounts / firstItems / firstRanks), carried over. */
    prior?: { counts: Uint32Array; items: BigInt64Array; ranks: Uint32Array },
  ): Promise<MergeScoreBatch | null>;
  /** x2iSumSeedLists over the lists of one version's shards, read in place (keys routed as `shard` routes int64). */
  x2iSumSeedsIn(
    shards: X2iHandle[],
    keys: BigInt64Array,
    weights: Float64Array,
    requestEnds: Uint32Array,
    top: number,
    fanout: number,
  ): { items: BigInt64Array; scores: Float64Array; counts: Uint32Array };
  x2iReplay(walDir: string, range: WalRange, options?: { topK?: number; minScore?: number }): X2iReplay;
  x2iDump(job: X2iDumpJob): Promise<X2iChangeSummary & { shards: (X2iStats & { deleted: number })[] }>;

  walOpen(
    dir: string,
    options?: { segmentBytes?: number; fsync?: WalFsync },
  ): { handle: WalWriterHandle; nextSeq: number; recovered: WalIssue | null };
  walAppend(writer: WalWriterHandle, ops: Uint8Array, ends: Uint32Array, payloads: Uint8Array): { first: number; last: number };
  walClose(writer: WalWriterHandle): void;
  walScan(
    dir: string,
    range: WalRange,
  ): { seqs: Float64Array; ops: Uint8Array; ends: Uint32Array; payloads: Uint8Array; report: WalScanReport };
  walTruncate(dir: string, before: number): string[];
  /** Take record `seq` out of replay (its op gets the dropped bit); returns its segment and original op. */
  walDrop(dir: string, seq: number): { segment: string; op: number };

  x2iStreamNew(options: X2iComputeOptions): X2iStreamHandle;
  x2iStreamLoad(path: string, options: X2iComputeOptions): Promise<{ handle: X2iStreamHandle; meta: string }>;
  x2iStreamApply(
    state: X2iStreamHandle,
    userOff: Uint32Array,
    userBytes: Uint8Array,
    item: BigUint64Array,
    ts: Uint32Array,
    weight: Float32Array | null,
    options: { recompute: boolean },
    tag: Uint8Array,
    token?: CancelToken,
  ): Promise<X2iStreamApplied>;
  x2iStreamSetLists(
    state: X2iStreamHandle,
    keys: BigUint64Array,
    offsets: BigUint64Array,
    items: BigUint64Array,
    scores: Float32Array,
  ): void;
  x2iStreamSave(state: X2iStreamHandle, path: string, meta: string): Promise<void>;
  x2iStreamInfo(state: X2iStreamHandle): { items: number; users: number; interactions: number; pairs: number; heapBytes: number };
  x2iStreamLists(state: X2iStreamHandle): { keys: BigUint64Array; offsets: BigUint64Array; items: BigUint64Array; scores: Float32Array };
  x2iInfo(index: X2iHandle): { keys: number; edges: number; maxLen: number; capacity: number; seed: bigint; apcl: number; probes: number };
  x2iVerify(index: X2iHandle): string | null;
  x2iCompute(
    user: Uint32Array,
    item: Uint32Array,
    ts: Uint32Array,
    weight: Float32Array | null,
    users: number,
    items: number,
    options: X2iComputeOptions,
    token?: CancelToken,
    /** Swing's sample keys (user key bytes and item ids by ordinal): the sample a stream draws too. */
    sampleKeys?: { userOff: Uint32Array; userBytes: Uint8Array; itemIds: BigUint64Array } | null,
  ): Promise<{
    rowOff: BigUint64Array;
    nb: Uint32Array;
    sc: Float32Array;
    work: number;
    keptInteractions: number;
    prepSeconds: number;
    computeSeconds: number;
    computeCpuSeconds: number;
  }>;

  vectorBuild(
    path: string,
    header: { version?: number; shard?: number; shardCount?: number },
    paramsJson: string,
    data: Float32Array,
    ids: BigUint64Array,
    dim: number,
    options: VectorBuildOptions,
    token?: CancelToken,
  ): Promise<{ fileBytes: number; buildSeconds: number; buildCpuSeconds: number }>;
  vectorOpen(path: string): VectorHandle;
  vectorInfo(index: VectorHandle): {
    n: number;
    dim: number;
    type: string;
    metric: string;
    quant: string;
    m: number;
    nlist: number;
    hasF32: number;
    /** 1: the index keeps an integer attribute per row (built with --attr). */
    hasAttrs: number;
    vectorBytes: number;
    memoryBytes: number;
    /** Searches read the rows from memory this process owns (built here, or made resident), not the file's mapping. */
    resident: boolean;
  };
  /**
   * Copy an opened index's search rows into memory now (huge pages), as its searches otherwise do
   * once they have read about 32 times the rows; until then they walk the file's mapping.
   */
  vectorMakeResident(index: VectorHandle): Promise<null>;
  /** Every row as dense f32 with its id; null for an int8 index built without f32 rows. */
  vectorRows(index: VectorHandle): { ids: BigUint64Array; data: Float32Array } | null;
  /** Check every kept f32 re-rank row's checksum; throws ERR_RECALL_CORRUPT naming the first bad row. */
  vectorVerify(index: VectorHandle): null;
  vectorSearch(
    index: VectorHandle,
    queries: Float32Array,
    options: { k: number; ef?: number; nprobe?: number; rerank?: number; threads?: number } & VectorFilterOptions,
    token?: CancelToken,
  ): Promise<{
    ids: BigInt64Array;
    distances: Float32Array;
    searchSeconds: number;
    searchCpuSeconds: number;
    /** With a filter: the rows it allows, and whether they were scanned exactly (else searched in the index). */
    filterAllowed?: number;
    filterScanned?: boolean;
  }>;

  textTables(): { unicode: string; hash: string };
  textAnalyze(text: string, options: { segmentation?: TextSegmentation; maxTokenBytes?: number }): string[];
  textBuild(
    path: string,
    header: { version?: number; shard?: number; shardCount?: number },
    paramsJson: string,
    input: TextBuildInput,
    options: TextBuildOptions,
    token?: CancelToken,
  ): Promise<TextBuildStats>;
  textOpen(path: string): TextHandle;
  textInfo(index: TextHandle): TextInfo;
  /** One index, or the shards of one collection (searched with its summed N, df and lengths, merged). */
  textSearch(
    index: TextHandle | TextHandle[],
    queries: string[],
    options: TextSearchOptions,
    token?: CancelToken,
  ): Promise<TextSearchBatch>;
  textExtIds(index: TextHandle, docs: Uint32Array): BigUint64Array | string[];
  /** Per field: its `n` terms of highest document frequency (df descending, then term). */
  textTopTerms(index: TextHandle, n: number): { field: string; terms: string[]; df: number[] }[];
  /** Copy a text index with more documents deleted (external ids as text); statistics unchanged. */
  textAddTombstones(
    src: string,
    dst: string,
    header: { version?: number; shard?: number; shardCount?: number },
    extIds: string[],
  ): Promise<{ tombstones: number; added: number; unknown: number; fileBytes: number }>;
  /**
   * One query on the calling thread, no allocation: hits into `out` (arrays of at least k),
   * meta = [total hits, total exact 1/0, pair lists used]; returns the hit count. flags: 1 words
   * ORed, 2 ignore pairs, 4 match-all for pure NOT. Throws ERR_RECALL_QUERY_SYNTAX etc.
   */
  /** One query on the calling thread; `out` (see `textQueryBuffer`) receives meta, scores, ids and docs. */
  textQueryInto(index: TextHandle, query: string, k: number, flags: number, out: Uint8Array): number;

  hashBenchBuild(keys: BigUint64Array, payloads: BigUint64Array, kind: 'neighbor' | 'linear', capacity: number): HashBenchHandle;
  hashBenchLookup(
    table: HashBenchHandle,
    keys: BigUint64Array,
    out: BigUint64Array,
    mode: 'scalar' | 'amac' | 'amac-scalar' | 'amac-avx512' | 'random' | 'bound' | 'bound-ring' | 'bound-lines',
    ring?: number,
    offsets?: BigUint64Array,
  ): number;
  hashBenchApcl(table: HashBenchHandle): number;
  /** One entry per cache line the lookups of `keys` read: the plan of the 'bound-lines' bound. */
  hashBenchLinesRead(table: HashBenchHandle, keys: BigUint64Array): { keys: BigUint64Array; offsets: BigUint64Array };
}

export interface VectorBuildOptions {
  type: 'flat' | 'hnsw' | 'ivf';
  metric: 'l2' | 'ip' | 'cosine';
  quant: 'f32' | 'f16' | 'int8';
  m?: number;
  efConstruction?: number;
  nlist?: number;
  kmeansIters?: number;
  seed?: bigint;
  threads?: number;
  /** 1: keep the f32 rows for re-ranking (quantised stores). */
  keepF32?: number;
  /** An integer attribute per input row, kept for filtered search. */
  attrs?: BigInt64Array;
}

/** Which rows a vector search may return (both given: rows that pass both). */
export interface VectorFilterOptions {
  /** Only these ids. */
  allowIds?: BigUint64Array;
  /** Only rows whose attribute lies in one of these closed ranges: lo0, hi0, lo1, hi1, ... */
  attrRanges?: BigInt64Array;
  /** auto (default): scan the allowed rows when that costs less than searching the index with the filter. */
  filterMode?: 'auto' | 'index' | 'scan';
}

export type TextSegmentation = 'standard' | 'segmented';

export interface TextBuildInput {
  /** Integer ids, or string ids as UTF-8 bytes + rows + 1 offsets. */
  ids?: BigUint64Array | null;
  idBytes?: Uint8Array | null;
  idOffsets?: Uint32Array | null;
  /** Per field: every row's (prepared) text concatenated, rows + 1 offsets. */
  fields: { name: string; weight: number; text: Uint8Array; offsets: Uint32Array }[];
  tombstones?: BigUint64Array | null;
  tombstoneBytes?: Uint8Array | null;
  tombstoneOffsets?: Uint32Array | null;
}

export interface TextBuildOptions {
  segmentation: TextSegmentation;
  maxTokenBytes: number;
  /** Canonical JSON of the analyzer (stored; queries must reproduce it). */
  analyzer: string;
  pairs: 'off' | 'cooc' | 'adjacent';
  maxPairs?: number;
  /** About this many bytes of pair postings at most. */
  pairBudgetBytes?: number;
  pairMinDf?: number;
  pairMinPairDf?: number;
  pairMaxTerms?: number;
  /** 1: write the forward index. */
  forward?: number;
  threads?: number;
  k1?: number;
  b?: number;
}

export interface TextBuildStats {
  rows: number;
  docs: number;
  duplicates: number;
  duplicateExamples: string[];
  terms: number;
  singletons: number;
  postings: number;
  tokens: number;
  droppedTokens: number;
  pairs: number;
  tombstones: number;
  unknownTombstones: number;
  fileBytes: number;
  buildSeconds: number;
  buildCpuSeconds: number;
  sectionBytes: Record<string, number>;
}

/** Typed views over one buffer, the out argument of `textQueryInto` for up to `k` hits. */
export function textQueryBuffer(k: number): {
  bytes: Uint8Array;
  meta: Float64Array;
  scores: Float64Array;
  ids: BigUint64Array;
  docs: Uint32Array;
} {
  const buf = new ArrayBuffer(24 + 20 * k);
  return {
    bytes: new Uint8Array(buf),
    meta: new Float64Array(buf, 0, 3),
    scores: new Float64Array(buf, 24, k),
    ids: new BigUint64Array(buf, 24 + 8 * k, k),
    docs: new Uint32Array(buf, 24 + 16 * k, k),
  };
}

export interface TextInfo {
  docs: number;
  terms: number;
  flags: number;
  analyzer: string;
  segmentation: TextSegmentation;
  maxTokenBytes: number;
  pairs: 'off' | 'cooc' | 'adjacent';
  deleted: number;
  memoryBytes: number;
  fields: { name: string; totalTokens: number; docsWithField: number; k1: number; b: number; weight: number }[];
}

export interface TextSearchOptions {
  k?: number;
  /** 1: words next to each other are ORed (default: ANDed). */
  defaultOr?: number;
  /** 0: ignore the pair index. */
  usePairs?: number;
  matchAllPureNot?: number;
  k1?: number;
  b?: number;
  threads?: number;
}

export interface TextSearchBatch {
  /** Query q's hits are docs/scores[offsets[q]..offsets[q+1]]. */
  offsets: Uint32Array;
  docs: Uint32Array;
  /** The shard (index in the handles passed) of each hit. */
  shards: Uint32Array;
  scores: Float64Array;
  totals: Float64Array;
  totalExact: Uint8Array;
  pairsUsed: Uint32Array;
  /** Per-query wall time in microseconds (measured in the native code). */
  micros: Float64Array;
  errors: ({ code: string; message: string } | null)[];
  searchSeconds: number;
  searchCpuSeconds: number;
}

/** An opened text index (a Node external). */
export type TextHandle = { readonly __brand: 'TextHandle' };

/** An opened vector index (a Node external). */
export type VectorHandle = { readonly __brand: 'VectorHandle' };

let cached: Native | undefined;

export function nativePath(): string {
  return process.env.RECALL_NATIVE_PATH ?? fileURLToPath(new URL('../../build/Release/recall.node', import.meta.url));
}

export function loadNative(): Native {
  if (cached) return cached;
  const path = nativePath();
  try {
    cached = createRequire(import.meta.url)(path) as Native;
  } catch (e) {
    throw new RecallError(
      'ERR_RECALL_NATIVE_MISSING',
      `cannot load the native addon at ${path} (${(e as { code?: string }).code ?? (e as Error).message})`,
      {
        fix: 'run `npm run build:native` (needs cargo, Rust >= 1.92)',
        cause: e,
      },
    );
  }
  return cached;
}

/** A cancel token that trips when `signal` aborts. */
export function tokenFor(native: Native, signal?: AbortSignal): CancelToken {
  const token = native.cancelToken();
  if (signal?.aborted) native.cancel(token);
  else signal?.addEventListener('abort', () => native.cancel(token), { once: true });
  return token;
}
