/**
 * The library API: `import { openIndex, shardOf, routingHash } from 'recall'`.
 *
 * `openIndex(path)` opens what `recall build` published (a build output folder with one folder per
 * channel, one channel folder, a version folder or one index file) and gives a typed reader per
 * channel. Index files are mapped, not read, so opening is cheap and processes share the page cache.
 *
 * Versions: every call takes the readers of one snapshot (all channels, all shards, all layers and
 * the WAL tail read when it was made) and finishes on it. `reload()` builds a new snapshot when a
 * channel's CURRENT or its WAL moved on and swaps it in at once; calls already running finish on
 * the old one, which is released when the last of them returns.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { X2iAnswer } from '../core/channels/x2i/query.js';
import type { OpenVector, VectorBatch, VectorFilter, VectorIndexInfo } from '../core/channels/vector/query.js';
import type { OpenTextIndex, QueryResult, TextBatchHits } from '../core/channels/text/query.js';
import type { OpenX2i } from '../core/channels/x2i/query.js';
import { channelKind, type ChannelKind } from '../core/channels/kinds.js';
import { drivers, openers, searchOpenText, searchText, searchTextBatch } from '../core/channels/registry.js';
import { badInput, usage } from '../core/errors.js';
import { CURRENT, MANIFEST, readCurrent, readManifest } from '../core/index/versions.js';
import { loadNative } from '../core/native.js';
import { routeKeys } from '../core/routing/hash.js';
import { mergeFilterOf, mergeRequests, mergeSpecOf } from '../core/merge/batch.js';
import type { MergeConfig } from '../core/config/load.js';
import { type EvalVersion, evaluateVersion } from '../core/eval/run.js';
import { parseGate, summariseEval } from '../core/eval/report.js';
import type { EvalReport } from '../core/eval/render.js';
import { type EvalUsersOptions, loadEvalUsers } from '../core/eval/users.js';

export type { X2iAnswer } from '../core/channels/x2i/query.js';
export type { QueryResult as TextQueryResult, TextBatchHits } from '../core/channels/text/query.js';
export type { VectorBatch, VectorFilter, VectorIndexInfo } from '../core/channels/vector/query.js';
export { RecallError, usage } from '../core/errors.js';

export interface OpenIndexOptions {
  /** A WAL folder: its records after each version's dump seq are served too (last writer wins). */
  wal?: string;
  /** A fixed past view: the newest version at or before this WAL seq, plus WAL records up to it. `reload()` keeps it. */
  asOf?: number;
  /** Skip corrupt WAL records instead of failing (they are counted in `wal.corrupt`). */
  skipCorrupt?: boolean;
  /** Text: query even if this installation analyzes text differently from the index. */
  analyzerOverride?: boolean;
  /**
   * Vector: copy the index's rows into memory (huge pages) while opening, as a process that will
   * serve many queries wants. Without it they are read through the file's mapping until the
   * searches have read about 32 times the rows, and a graph walk over a mapping runs slower
   * (1.4x fewer queries per second on 200,000 x 128 rows at ef 40). The re-rank rows of an
   * int8 index stay mapped either way.
   */
  resident?: boolean;
}

/** Where the WAL tail stood when the snapshot was made. */
export interface WalState {
  dir: string;
  /** The last seq the version's dump applied; records after it come from the WAL. */
  walSeq: number;
  tailRecords: number;
  lastSeq: number;
}

/** What every answer carries: the version (of the channel) and the WAL seq it was answered at. */
export interface Served {
  version: number | null;
  walSeq: number | null;
}

export interface X2iGetOptions {
  /** Items per key (0 = all). */
  top?: number;
}

export interface X2iBatch extends Served {
  /** Per key: 0 missing, 1 found, 2 deleted. */
  found: Uint8Array;
  /** Items per key (0 unless found). */
  counts: Uint32Array;
  /** The found keys' items, in key order, `counts[i]` each. */
  items: BigInt64Array;
  scores: Float32Array;
}

export interface X2iReader {
  readonly kind: 'x2i';
  /** The version the next call is answered from. */
  readonly version: number | null;
  readonly shardCount: number;
  /** The layers read (oldest first) and the WAL tail, of the current snapshot. */
  readonly info: Pick<OpenX2i, 'layers' | 'wal'>;
  /** Ranked (item, score) lists of integer keys, in key order; missing and deleted keys are reported, not errors. */
  get(keys: Iterable<bigint | number | string>, o?: X2iGetOptions): Served & { results: X2iAnswer[] };
  /** The same for a typed array of keys, answered in typed arrays. */
  getBatch(keys: BigInt64Array | BigUint64Array, o?: X2iGetOptions): X2iBatch;
  /**
   * Seed lists summed per request: for each request (its seeds end at requestEnds[r]), every item
   * scored weight x score summed over the seeds whose lists hold it, best first, ties by the id's
   * text, at most `fanout` (lists read to `top`, all with 0). What a merge's x2i channel computes.
   */
  sumSeeds(
    keys: BigInt64Array,
    weights: Float64Array,
    requestEnds: Uint32Array,
    o: { top?: number; fanout: number },
  ): Served & { items: BigInt64Array; scores: Float64Array; counts: Uint32Array };
}

export interface VectorSearchOptions {
  k: number;
  /** HNSW beam width (default max(64, k)). */
  ef?: number;
  /** IVF lists probed (default 8). */
  nprobe?: number;
  /** Re-rank this many candidates with exact f32 distances (0 = off). */
  rerank?: number;
  threads?: number;
  /**
   * Only rows these ids name and/or whose attribute (`build vector --attr`) satisfies `where`,
   * applied inside the search (an exact scan of the allowed rows when the filter is very selective).
   */
  filter?: VectorFilter;
  signal?: AbortSignal;
}

export interface VectorReader {
  readonly kind: 'vector';
  readonly version: number | null;
  readonly dim: number;
  readonly metric: string;
  /** The base index (type, quantisation, rows, memory), the layers read and the WAL tail, of the current snapshot. */
  readonly info: VectorIndexInfo;
  /** k nearest live ids per query; `queries` holds one or more vectors of `dim` values, row after row. */
  search(queries: Float32Array, o: VectorSearchOptions): Promise<Served & { ids: bigint[][]; distances: number[][] }>;
  /** The same as flat arrays (row i: query i's k nearest; -1 and NaN where fewer exist), with the search time. */
  searchBatch(queries: Float32Array, o: VectorSearchOptions): Promise<Served & VectorBatch>;
}

export interface TextSearchOptions {
  k: number;
  /** Words without an operator are OR'ed (default: AND). */
  defaultOr?: boolean;
  /** Use the index's term-pair lists when it has them (default true). */
  usePairs?: boolean;
  /** A query of NOT terms only matches every other document (default: no document). */
  matchAllPureNot?: boolean;
  /** BM25 parameters (default: the index's). */
  k1?: number;
  b?: number;
  /** Threads for `searchMany`. */
  threads?: number;
  signal?: AbortSignal;
}

/** What `searchMany` answers: per query its hits or its error, and the whole batch's figures. */
export interface TextBatch extends Served {
  results: QueryResult[];
  errors: number;
  searchMs: number;
  searchCpuMs: number;
  docs: number;
  memoryBytes: number;
  layers: (number | null)[];
  wal: OpenTextIndex['wal'];
}

export interface TextHit {
  id: string | number;
  score: number;
}

export interface TextReader {
  readonly kind: 'text';
  readonly version: number | null;
  /** BM25 top k of one query (the `recall query inverted` syntax). */
  search(query: string, o: TextSearchOptions): Promise<Served & { hits: TextHit[]; totalHits: number }>;
  /** Many queries in one native call; a query's syntax error is its answer, not a failure. */
  searchMany(queries: string[], o: TextSearchOptions): Promise<TextBatch>;
  /** The same as flat arrays (no object per hit): ids as 64-bit integers when the index keeps integer ids. */
  searchBatch(queries: string[], o: TextSearchOptions): Promise<Served & TextBatchHits>;
}

export type ChannelReader = X2iReader | VectorReader | TextReader;

/** The reader type of each channel kind. */
export interface ChannelReaders {
  x2i: X2iReader;
  vector: VectorReader;
  text: TextReader;
}

export interface RecallIndex {
  readonly path: string;
  /** Readers by channel folder name (by kind name for a lone channel or file). */
  readonly channels: Readonly<Record<string, ChannelReader>>;
  /** The reader of the one channel of that kind, if exactly one is open. */
  readonly x2i?: X2iReader;
  readonly vector?: VectorReader;
  readonly text?: TextReader;
  /** Version per channel name, of the current snapshot. */
  readonly versions: Readonly<Record<string, number | null>>;
  /** Switch to what CURRENT and the WAL say now; true when something changed. Calls in flight finish on the old snapshot. */
  reload(): Promise<boolean>;
  /** Release the readers (after the calls in flight). */
  close(): Promise<void>;
}

/** Hash a key with the routing hash (xxHash64, seed 0, over the key's canonical bytes) as u64. */
export function routingHash(
  key: bigint | number | string,
  type: 'int64' | 'string' = typeof key === 'string' ? 'string' : 'int64',
): bigint {
  return BigInt(`0x${routeKeys([String(key)], type, 1)[0]!.hash}`);
}

/** The shard (of `shards`) a key is routed to: what `recall shard` and the readers use. */
export function shardOf(key: bigint | number | string, shards: number, type?: 'int64' | 'string'): number {
  if (!Number.isInteger(shards) || shards < 1) throw usage('ERR_RECALL_USAGE', `shards must be a positive integer, not ${shards}`);
  return Number(routingHash(key, type) % BigInt(shards));
}

type Opened = { kind: 'x2i'; ix: OpenX2i } | { kind: 'vector'; ix: OpenVector } | { kind: 'text'; ix: OpenTextIndex };

interface Target {
  name: string;
  kind: ChannelKind;
  path: string;
  /** A channel folder (has CURRENT): followed by reload(). */
  follows: boolean;
}

interface Snapshot {
  opened: Map<string, Opened>;
  versions: Record<string, number | null>;
  walSeen: Record<string, number | null>;
  refs: number;
  retired: boolean;
}

const kindOfFile = (file: string) => drivers().find((d) => file.endsWith(d.fileExt))?.kind;

async function channelOfFolder(dir: string): Promise<ChannelKind | undefined> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const m = names.includes(CURRENT) ? (await readCurrent(dir))?.manifest : names.includes(MANIFEST) ? await readManifest(dir) : undefined;
  return m ? channelKind(m.channel) : undefined;
}

/** What `path` holds: channels to open. */
async function targetsOf(path: string): Promise<Target[]> {
  const st = await stat(path).catch(() => {
    throw usage('ERR_RECALL_NO_SUCH_PATH', `${path}: no such file or directory`, {
      file: path,
      fix: 'pass a folder `recall build` wrote',
    });
  });
  if (st.isFile()) {
    const kind = kindOfFile(path);
    if (!kind)
      throw badInput(
        'ERR_RECALL_NOT_AN_INDEX',
        `${path}: not an index file (${drivers()
          .map((d) => d.fileExt)
          .join(', ')})`,
        { file: path },
      );
    return [{ name: kind, kind, path, follows: false }];
  }
  const names = await readdir(path);
  if (names.includes(CURRENT) || names.includes(MANIFEST)) {
    const kind = await channelOfFolder(path);
    if (!kind) throw badInput('ERR_RECALL_NO_VERSION', `${path}: no published version of a known channel`, { file: path });
    return [{ name: basename(path), kind, path, follows: names.includes(CURRENT) }];
  }
  const out: Target[] = [];
  for (const n of names.sort()) {
    const dir = join(path, n);
    if (!(await readdir(dir).catch(() => [] as string[])).includes(CURRENT)) continue;
    const kind = await channelOfFolder(dir);
    if (kind) out.push({ name: n, kind, path: dir, follows: true });
  }
  if (!out.length)
    throw badInput('ERR_RECALL_NOT_AN_INDEX', `${path}: holds no channel folder with a CURRENT version`, {
      file: path,
      fix: 'pass the --out folder of `recall build`, a channel folder in it, or an index file',
    });
  return out;
}

/** An opened channel that holds something beyond mapped files (a text WAL tail's temporary index) has a close(). */
const closeOpened = async (x: Opened): Promise<void> => {
  if ('close' in x.ix) await x.ix.close();
};

async function openSnapshot(targets: Target[], o: OpenIndexOptions): Promise<Snapshot> {
  const opened = new Map<string, Opened>();
  const versions: Record<string, number | null> = {};
  const walSeen: Record<string, number | null> = {};
  try {
    for (const t of targets) {
      const op = { wal: o.wal, asOf: o.asOf, skipCorrupt: o.skipCorrupt, analyzerOverride: o.analyzerOverride, resident: o.resident };
      // the registry's openers, by kind: one table, no kind switch
      const ix = (await (openers[t.kind] as (p: string, o: object) => Promise<unknown>)(t.path, op)) as Opened['ix'];
      opened.set(t.name, { kind: t.kind, ix } as Opened);
      versions[t.name] = ix.version;
      walSeen[t.name] = ix.wal?.lastSeq ?? null;
    }
  } catch (e) {
    for (const x of opened.values()) await closeOpened(x);
    throw e;
  }
  return { opened, versions, walSeen, refs: 0, retired: false };
}

async function release(s: Snapshot): Promise<void> {
  for (const x of s.opened.values()) await closeOpened(x);
  s.opened.clear();
}

export async function openIndex(path: string, o: OpenIndexOptions = {}): Promise<RecallIndex> {
  const targets = await targetsOf(path);
  let snap = await openSnapshot(targets, o);
  let closed = false;
  let reloading: Promise<boolean> = Promise.resolve(false);

  const take = (): Snapshot => {
    if (closed) throw usage('ERR_RECALL_CLOSED', `${path}: the index was closed`, { fix: 'open it again with openIndex()' });
    return snap;
  };
  const drop = (s: Snapshot) => {
    if (s.retired && s.refs === 0) void release(s);
  };
  const withSnap = async <T>(fn: (s: Snapshot) => Promise<T>): Promise<T> => {
    const s = take();
    s.refs++;
    try {
      return await fn(s);
    } finally {
      s.refs--;
      drop(s);
    }
  };
  type IxOf = { x2i: OpenX2i; vector: OpenVector; text: OpenTextIndex };
  const opened = <K extends ChannelKind>(s: Snapshot, name: string, kind: K): IxOf[K] =>
    (s.opened.get(name)?.ix as IxOf[K] | undefined) ?? fail(name, kind);
  const fail = (name: string, kind: string): never => {
    throw usage('ERR_RECALL_CLOSED', `${path}: channel ${name} (${kind}) is no longer open`, { fix: 'open it again with openIndex()' });
  };
  const served = (s: Snapshot, name: string): Served => ({ version: s.versions[name] ?? null, walSeq: s.walSeen[name] ?? null });

  const toKeys = (keys: Iterable<bigint | number | string>) =>
    Array.from(keys, (k, row) => {
      try {
        return BigInt.asIntN(64, BigInt(k));
      } catch {
        throw badInput('ERR_RECALL_BAD_KEY', `key ${JSON.stringify(String(k))} (row ${row}) is not an integer`, {
          row,
          fix: 'x2i keys are integers',
        });
      }
    });

  const wholeVectors = (queries: Float32Array, dim: number) => {
    if (dim && queries.length % dim)
      throw badInput('ERR_RECALL_DIM_MISMATCH', `queries hold ${queries.length} values; the index has ${dim} dimensions`, {
        fix: 'pass whole vectors of the index dimension',
      });
  };

  // one reader maker per kind, by kind: a table, not a switch
  const readerMakers: { [K in ChannelKind]: (name: string) => ChannelReaders[K] } = {
    x2i: (name) =>
      ({
        kind: 'x2i',
        get version() {
          return take().versions[name] ?? null;
        },
        get shardCount() {
          return opened(take(), name, 'x2i').shardCount;
        },
        get info() {
          const x = opened(take(), name, 'x2i');
          return { layers: x.layers, wal: x.wal };
        },
        get(keys, g = {}) {
          const s = take();
          return { ...served(s, name), results: opened(s, name, 'x2i').lookup(toKeys(keys), g.top ?? 0) };
        },
        getBatch(keys, g = {}) {
          const s = take();
          const k = keys instanceof BigInt64Array ? keys : BigInt64Array.from(keys, (x) => BigInt.asIntN(64, x));
          return { ...served(s, name), ...opened(s, name, 'x2i').lookupTyped(k, g.top ?? 0) };
        },
        sumSeeds(keys, weights, requestEnds, g) {
          const s = take();
          return {
            ...served(s, name),
            ...opened(s, name, 'x2i').sumSeeds(keys, weights, requestEnds, { top: g.top ?? 0, fanout: g.fanout }),
          };
        },
      }) satisfies X2iReader,
    vector: (name) =>
      ({
        kind: 'vector',
        get version() {
          return take().versions[name] ?? null;
        },
        get dim() {
          return opened(take(), name, 'vector').dim;
        },
        get metric() {
          return opened(take(), name, 'vector').metric;
        },
        get info() {
          return opened(take(), name, 'vector').info;
        },
        search: (queries, v) =>
          withSnap(async (s) => {
            const ix = opened(s, name, 'vector');
            wholeVectors(queries, ix.dim);
            const r = await ix.search(queries, v.k, v, v.signal);
            return { ...served(s, name), ...r };
          }),
        searchBatch: (queries, v) =>
          withSnap(async (s) => {
            const ix = opened(s, name, 'vector');
            wholeVectors(queries, ix.dim);
            return { ...served(s, name), ...(await ix.searchBatch(queries, v)) };
          }),
      }) satisfies VectorReader,
    text: (name) =>
      ({
        kind: 'text',
        get version() {
          return take().versions[name] ?? null;
        },
        search: (query, q) =>
          withSnap(async (s) => {
            const r = await searchText(opened(s, name, 'text'), [query], q, q.signal);
            const one = r.results[0]!;
            if (one.error)
              throw usage(one.error.code, `query "${query}": ${one.error.message}`, {
                fix: 'see `recall query inverted --help` for the syntax',
              });
            return { ...served(s, name), hits: one.hits, totalHits: one.totalHits };
          }),
        searchMany: (queries, q) =>
          withSnap(async (s) => ({ ...(await searchOpenText(opened(s, name, 'text'), queries, q, q.signal)), ...served(s, name) })),
        searchBatch: (queries, q) =>
          withSnap(async (s) => ({ ...(await searchTextBatch(opened(s, name, 'text'), queries, q, q.signal)), ...served(s, name) })),
      }) satisfies TextReader,
  };
  const readerOf = (t: Target): ChannelReader => readerMakers[t.kind](t.name);

  const channels: Record<string, ChannelReader> = {};
  for (const t of targets) channels[t.name] = readerOf(t);
  const only = <K extends ChannelKind>(kind: K) => {
    const of = targets.filter((t) => t.kind === kind);
    return of.length === 1 ? channels[of[0]!.name] : undefined;
  };

  /** True when a followed channel's CURRENT names another version or its WAL has records past the ones served. */
  const moved = async (): Promise<boolean> => {
    if (o.asOf !== undefined) return false;
    for (const t of targets) {
      if (t.follows && (await readCurrent(t.path))?.version !== snap.versions[t.name]) return true;
    }
    if (o.wal) {
      const seen = Math.min(...Object.values(snap.walSeen).map((x) => x ?? 0));
      if (loadNative().walScan(o.wal, { after: seen, skipCorrupt: o.skipCorrupt }).ops.length > 0) return true;
    }
    return false;
  };

  const index: RecallIndex = {
    path,
    channels,
    x2i: only('x2i') as X2iReader | undefined,
    vector: only('vector') as VectorReader | undefined,
    text: only('text') as TextReader | undefined,
    get versions() {
      return { ...take().versions };
    },
    reload() {
      // one reload at a time; a second caller waits for the first and then looks again
      reloading = reloading
        .catch(() => false)
        .then(async () => {
          take();
          if (!(await moved())) return false;
          const next = await openSnapshot(targets, o);
          const old = snap;
          snap = next; // the swap: every call from here on sees the new snapshot only
          old.retired = true;
          drop(old);
          return true;
        });
      return reloading;
    },
    async close() {
      if (closed) return;
      closed = true;
      snap.retired = true;
      // with no call in flight, released before close() resolves (a WAL tail's temporary index removed)
      if (snap.refs === 0) await release(snap);
    },
  };
  return index;
}

export { mergeCandidates, DEFAULT_RRF_K } from '../core/merge/fuse.js';
export type { ChannelCandidates, ChannelMergeSpec, Fusion, MergedItem, MergeFilter, MergeSpec, Provenance } from '../core/merge/fuse.js';
export type { MergeRequest } from '../core/merge/gather.js';
export type { MergeBatchOptions, MergeBatchReport, MergeResult } from '../core/merge/batch.js';

/** Merge the channels of an open index for each request: quotas, filters, de-duplication with provenance, fusion. */
export function merge(
  index: RecallIndex,
  requests: readonly import('../core/merge/gather.js').MergeRequest[],
  spec: import('../core/merge/fuse.js').MergeSpec,
  options: import('../core/merge/batch.js').MergeBatchOptions = {},
): Promise<import('../core/merge/batch.js').MergeBatchReport> {
  return mergeRequests(index.channels, spec, requests, options);
}

export { METRICS, scoreList, coverage } from '../core/eval/metrics.js';
export type { MetricName, UserMetrics } from '../core/eval/metrics.js';
export type { EvalReport } from '../core/eval/render.js';
export type { DiffRow, GateResult, MetricRow, VersionReport } from '../core/eval/report.js';

export interface EvaluateOptions extends EvalUsersOptions {
  /** The index version to evaluate (a build output folder). */
  index: string;
  /** A second version evaluated on the same users: the report gives the paired difference. */
  against?: string;
  /**
   * A second merge config evaluated on the same users (over `against`, else over `index`): the
   * report gives the paired difference; `name` (e.g. its file) labels it.
   */
  againstMerge?: { merge: MergeConfig; name: string };
  /** How the channels are merged (the `merge` section of recall.config.json). */
  merge: MergeConfig;
  ks: number[];
  /** Bootstrap resamples (default 500), seed (default 1) and level (default 0.95). */
  resamples?: number;
  seed?: number;
  level?: number;
  /** e.g. `recall@50 >= -1%`. */
  gates?: string[];
  threads?: number;
  batch?: number;
  /** Call with every user's lists of each version (channels and merged), in user order. */
  onLists?(index: string, users: string[], lists: Record<string, string[]>[]): void | Promise<void>;
  onProgress?(done: number, total: number): void;
}

/** Replay held-out interactions against one index version (or two, paired) and report the metrics. */
export async function evaluate(o: EvaluateOptions): Promise<EvalReport> {
  const ks = [...new Set(o.ks)].sort((a, b) => a - b);
  if (!ks.length || ks.some((k) => !Number.isInteger(k) || k < 1))
    throw usage('ERR_RECALL_FLAG', `--k ${o.ks.join(',')}: every K must be a positive integer`, { fix: 'e.g. --k 10,50,200' });
  const gates = (o.gates ?? []).map((g) => parseGate(g, ks));
  const spec = mergeSpecOf(o.merge);
  const runs: { path: string; label: string; merge: MergeConfig }[] = [{ path: o.index, label: o.index, merge: o.merge }];
  if (o.againstMerge) {
    const path = o.against ?? o.index;
    runs.push({ path, label: `${path} with ${o.againstMerge.name}`, merge: o.againstMerge.merge });
  } else if (o.against) runs.push({ path: o.against, label: o.against, merge: o.merge });
  const users = await loadEvalUsers(o);
  const boot = { resamples: o.resamples ?? 500, seed: o.seed ?? 1, level: o.level ?? 0.95 };
  const versions: { index: string; v: EvalVersion }[] = [];
  for (const { path, label, merge: mcfg } of runs) {
    const vspec = mergeSpecOf(mcfg);
    const vfilter = await mergeFilterOf(mcfg);
    const ix = await openIndex(path);
    try {
      const missing = Object.keys(vspec.channels).filter((c) => !ix.channels[c]);
      if (missing.length === Object.keys(vspec.channels).length)
        throw badInput('ERR_RECALL_NOT_AN_INDEX', `${path}: holds none of the merged channels (${missing.join(', ')})`, {
          file: path,
          fix: 'pass the --out folder of `recall build --config`',
        });
      const v = await evaluateVersion(ix.channels, vspec, users, {
        ks,
        seeds: mcfg.seeds,
        filter: vfilter,
        threads: o.threads,
        batch: o.batch,
        keepLists: !!o.onLists,
        onBatch: (d) => o.onProgress?.(d, users.users.length),
      });
      if (o.onLists && v.lists) await o.onLists(label, users.users, v.lists);
      v.lists = undefined;
      versions.push({ index: label, v });
    } finally {
      await ix.close();
    }
  }
  const s = summariseEval(versions, users.users.length, ks, boot, gates);
  return {
    interactions: o.interactions,
    index: o.index,
    against: runs[1]?.label,
    users: users.users.length,
    skipped: users.skipped,
    catalogue: users.catalogue,
    ks,
    seeds: o.merge.seeds,
    fusion: spec.fusion,
    bootstrap: boot,
    ...s,
    breached: s.gates.some((g) => g.breached),
  };
}
export type { MergeConfig } from '../core/config/load.js';
