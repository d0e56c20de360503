/**
 * `recall query vector`: a batch of queries through one native call; search
 * time is measured apart from loading the index and the queries.
 */
import { writeFile } from 'node:fs/promises';
import { badInput, usage } from '../../errors.js';
import { resolveLayered } from '../../index/layers.js';
import { guardWal } from '../../index/wal-identity.js';
import { type WalTailSummary, walTailSummary } from '../driver.js';
import { retryOnNewCurrent } from '../../index/resolve.js';
import { loadNative, tokenFor } from '../../native.js';
import { ms } from '../../io/units.js';
import { VECTOR_FILE_EXT } from './build.js';
import { readVectors } from './input.js';
import { compileWhere, readAllowList } from './filter.js';
import { openLayers, searchLayers, vectorChanges } from './layers.js';

export interface QueryVectorOptions {
  index: string;
  queries: string;
  queriesFormat?: string;
  vector?: string;
  k: number;
  ef?: number;
  nprobe?: number;
  rerank?: number;
  threads?: number;
  /** Only these ids: a file with one id per line. */
  filter?: string;
  /** Only rows whose attribute (kept with `build vector --attr`) satisfies this predicate. */
  where?: string;
  filterMode?: VectorFilter['mode'];
  idsOut?: string;
  /** Merge the WAL tail after the version's dump seq (last writer wins, deletes honoured). */
  wal?: string;
  /** A consistent older view: the newest version at or before this seq, plus WAL records up to it. */
  asOf?: number;
  skipCorrupt?: boolean;
}

export interface QueryVectorResult {
  index: string;
  version: number | null;
  queries: number;
  k: number;
  params: { ef: number | null; nprobe: number | null; rerank: number; threads: number };
  /** With --filter / --where: the rows they allow and how they were searched (scan: an exact scan of them). */
  filter?: { allowIds: number | null; where: string | null; allowedRows: number | null; path: 'scan' | 'index' | 'layers' };
  /** Row i: the ids (decimal strings) of query i's k nearest, nearest first; null when fewer exist. */
  ids: Array<Array<string | null>>;
  /** Row i: their distances; null when fewer exist. */
  distances: Array<Array<number | null>>;
  /** Bytes the loaded index holds in memory (rows, ids, graph or lists; not the mapped f32 re-rank rows). */
  memoryBytes: number;
  loadMs: number;
  searchMs: number;
  searchCpuMs: number;
  qps: number;
  /** Layers searched (oldest first) and the WAL tail merged, when the version has deltas or --wal was given. */
  layers?: (number | null)[];
  wal?: WalTailSummary | null;
}

/** Ids as decimal strings (64-bit: not safe as JSON numbers); -1 marks a missing neighbour. */
const jsonId = (x: bigint): string | null => (x === -1n ? null : BigInt.asUintN(64, x).toString());

/** What a vector version opened for search says about itself (the facts a query report and its checks need). */
export interface VectorIndexInfo {
  /** hnsw | ivf | flat of the base index; null when the version holds no vectors. */
  type: string | null;
  /** f32 | f16 | int8 of the base index; null when it holds no vectors. */
  quant: string | null;
  /** Whether the base index can re-rank with exact f32 rows (always true for f32; int8 codes that decode to the rows exactly count). */
  hasF32: boolean;
  /** The integer attribute the base index keeps for `where` filters (`build vector --attr`), or null. */
  attr: string | null;
  /** Vectors in the base index. */
  baseRows: number;
  /** Bytes the open layers hold in memory (rows, ids, graph or lists; not the mapped f32 re-rank rows). */
  memoryBytes: number;
  /**
   * Whether searches read every layer's rows from memory this process owns (copied at open with
   * `resident`, or once the searches read many rows), rather than through the files' mappings.
   */
  readonly resident: boolean;
  /** The one index file that answers every query when the version is one layer read without a WAL; null otherwise. */
  file: string | null;
  /** Layers searched, oldest first. */
  layers: (number | null)[];
  /** The WAL tail merged, when a WAL was given. */
  wal: WalTailSummary | null;
}

/** Which rows a search may return; both given: rows that pass both. */
export interface VectorFilter {
  /** Only these ids. */
  ids?: BigUint64Array;
  /** A predicate over the index's attribute: `category = 3`, `price between 2 and 5`, `shop in (7, 9)`, and / or / not. */
  where?: string;
  /** auto (default): scan the allowed rows exactly when that costs less than searching the index with the filter. */
  mode?: 'auto' | 'index' | 'scan';
}

/** Options of one batch search. */
export interface VectorSearchParams {
  k: number;
  /** HNSW beam width (default max(64, k)). */
  ef?: number;
  /** IVF lists probed (default 8). */
  nprobe?: number;
  /** Re-rank this many candidates with exact f32 distances (0 = off). */
  rerank?: number;
  threads?: number;
  filter?: VectorFilter;
  signal?: AbortSignal;
}

/** A batch answer as flat arrays: row i holds query i's k nearest, nearest first (-1 and NaN where fewer exist). */
export interface VectorBatch {
  k: number;
  ids: BigInt64Array;
  distances: Float64Array;
  /** Search time and the CPU time it took (loading excluded). */
  searchSeconds: number;
  searchCpuSeconds: number;
  /** With a filter: the base index's rows it allows and whether they were scanned exactly (null: searched in layers). */
  filterAllowed?: number | null;
  filterScanned?: boolean | null;
}

/** A vector version opened for search: every layer, and the WAL tail read once. */
export interface OpenVector {
  version: number | null;
  layers: (number | null)[];
  /** Dimensions (0 when the version and the tail hold no vector). */
  dim: number;
  metric: string;
  /** Live vectors at most (rows of every layer plus the tail's upserts). */
  rows: number;
  wal: WalTailSummary | null;
  info: VectorIndexInfo;
  /** k nearest live ids per query (`queries` is nq x dim, row-major), nearest first. */
  search(
    queries: Float32Array,
    k: number,
    p?: { ef?: number; nprobe?: number; rerank?: number; threads?: number; filter?: VectorFilter },
    signal?: AbortSignal,
  ): Promise<{ ids: bigint[][]; distances: number[][] }>;
  /** The same as flat arrays, with the search time: what `recall query vector` reports. */
  searchBatch(queries: Float32Array, p: VectorSearchParams): Promise<VectorBatch>;
}

const dimCheck = (queries: Float32Array, dim: number) => {
  if (dim && queries.length % dim)
    throw badInput('ERR_RECALL_DIM_MISMATCH', `queries have ${queries.length} values, not a multiple of the index dimension ${dim}`, {
      fix: 'query with vectors of the dimension the index was built with',
    });
};

export async function openVector(
  index: string,
  o: Pick<QueryVectorOptions, 'wal' | 'asOf' | 'skipCorrupt'> & { resident?: boolean } = {},
): Promise<OpenVector> {
  const native = loadNative();
  const lv = await resolveLayered(index, VECTOR_FILE_EXT, 'a vector', o.asOf);
  // one layer read without a WAL: its one file answers every query directly
  const single = lv.layers.length === 1 && !o.wal;
  if (single && lv.layers[0]!.files.length !== 1)
    throw badInput('ERR_RECALL_NOT_AN_INDEX', `${index}: ${lv.layers[0]!.files.length} vector files; one expected`, { file: index });
  const layers = await openLayers(lv.layers);
  // the rows copied into memory now rather than after many searches (OpenIndexOptions.resident)
  if (o.resident) await Promise.all(layers.map((l) => l.handle && native.vectorMakeResident(l.handle)));
  const first = layers.find((l) => l.handle);
  const info = first?.handle ? native.vectorInfo(first.handle) : null;
  let tail: ReturnType<typeof vectorChanges> | null = null;
  if (o.wal) {
    const covered = await guardWal(o.wal, lv.info, lv.version);
    tail = vectorChanges(o.wal, { after: lv.info.walSeq, upto: o.asOf, skipCorrupt: o.skipCorrupt }, info?.dim ?? 0);
    covered(tail.report);
  }
  const dim = info?.dim ?? tail?.dim ?? 0;
  if (info && tail?.dim && tail.dim !== info.dim)
    throw badInput('ERR_RECALL_DIM_MISMATCH', `${o.wal}: the WAL holds ${tail.dim}-dimensional vectors, the index ${info.dim}`, {
      file: o.wal,
    });
  const metric = (lv.manifest?.params.index as { metric?: string } | undefined)?.metric ?? info?.metric ?? 'l2';
  const attr = info?.hasAttrs ? ((lv.manifest?.params.source as { attr?: string } | undefined)?.attr ?? null) : null;
  // rows of newer layers and the WAL tail carry no attribute: a where filter cannot judge them
  const unjudged = layers.slice(1).reduce((s, l) => s + l.n, 0) + (tail?.upserts ?? 0);
  const nativeFilter = (f: VectorFilter | undefined) => {
    if (!f || (f.ids === undefined && f.where === undefined)) return {};
    let attrRanges: BigInt64Array | undefined;
    if (f.where !== undefined) {
      if (!info?.hasAttrs)
        throw usage('ERR_RECALL_FLAG', `${index}: the index keeps no attribute, so --where has nothing to filter on`, {
          fix: 'rebuild with build vector --attr COLUMN, or filter by ids with --filter FILE',
        });
      if (unjudged)
        throw usage(
          'ERR_RECALL_FLAG',
          `${index}: ${unjudged} vectors upserted after the base index carry no attribute, so --where cannot judge them`,
          {
            fix: 'rebuild the index with --attr from data holding them, or filter by ids with --filter FILE',
          },
        );
      attrRanges = compileWhere(f.where, attr);
    }
    return { allowIds: f.ids, attrRanges, filterMode: f.mode ?? 'auto' };
  };
  const wal: WalTailSummary | null = tail && o.wal ? walTailSummary(o.wal, lv.info.walSeq, tail) : null;
  const layerVersions = lv.layers.map((l) => l.version);
  const layered = async (queries: Float32Array, k: number, p: Omit<VectorSearchParams, 'k'>, signal?: AbortSignal) => {
    dimCheck(queries, dim);
    const token = tokenFor(native, signal);
    return searchLayers(
      layers,
      tail?.rows ?? new Map(),
      metric,
      queries,
      dim,
      k,
      { ef: p.ef ?? Math.max(64, k), nprobe: p.nprobe ?? 8, rerank: p.rerank ?? 0, threads: p.threads ?? 1, ...nativeFilter(p.filter) },
      token,
    );
  };
  return {
    version: lv.version,
    layers: layerVersions,
    dim,
    metric,
    rows: layers.reduce((s, l) => s + l.n, 0) + (tail?.upserts ?? 0),
    wal,
    info: {
      type: info?.type ?? null,
      quant: info?.quant ?? null,
      hasF32: !!info && (info.quant === 'f32' || !!info.hasF32),
      attr: info?.hasAttrs ? (attr ?? '') : null,
      baseRows: info?.n ?? 0,
      memoryBytes: layers.reduce((s, l) => s + (l.handle ? native.vectorInfo(l.handle).memoryBytes : 0), 0),
      get resident() {
        return layers.every((l) => !l.handle || native.vectorInfo(l.handle).resident);
      },
      file: single ? lv.layers[0]!.files[0]! : null,
      layers: layerVersions,
      wal,
    },
    search: (queries, k, p = {}, signal) => layered(queries, k, p, signal),
    async searchBatch(queries, { k, signal, filter, ...p }) {
      if (single && first?.handle) {
        dimCheck(queries, dim);
        const r = await native.vectorSearch(
          first.handle,
          queries,
          {
            k,
            ef: p.ef ?? Math.max(64, k),
            nprobe: p.nprobe ?? 8,
            rerank: p.rerank ?? 0,
            threads: p.threads ?? 1,
            ...nativeFilter(filter),
          },
          tokenFor(native, signal),
        );
        return {
          k,
          ids: r.ids,
          distances: Float64Array.from(r.distances),
          searchSeconds: r.searchSeconds,
          searchCpuSeconds: r.searchCpuSeconds,
          ...(r.filterAllowed !== undefined ? { filterAllowed: r.filterAllowed, filterScanned: r.filterScanned ?? null } : {}),
        };
      }
      const t1 = performance.now();
      const c0 = process.cpuUsage();
      const r = await layered(queries, k, { ...p, filter }, signal);
      const searchSeconds = (performance.now() - t1) / 1000;
      const cpu = process.cpuUsage(c0);
      const ids = new BigInt64Array(r.ids.length * k).fill(-1n);
      const distances = new Float64Array(r.ids.length * k).fill(Number.NaN);
      r.ids.forEach((row, q) =>
        row.forEach((id, j) => {
          ids[q * k + j] = BigInt.asIntN(64, id);
          distances[q * k + j] = r.distances[q]![j]!;
        }),
      );
      return {
        k,
        ids,
        distances,
        searchSeconds,
        searchCpuSeconds: (cpu.user + cpu.system) / 1e6,
        ...(filter && (filter.ids || filter.where !== undefined) ? { filterAllowed: null, filterScanned: null } : {}),
      };
    },
  };
}

/** What a vector query needs of the index it searches: the library API's reader or an OpenVector. */
export interface VectorSearcher {
  readonly version: number | null;
  readonly dim: number;
  readonly info: VectorIndexInfo;
  searchBatch(queries: Float32Array, p: VectorSearchParams): Promise<VectorBatch>;
}

/**
 * The body of `recall query vector` over an opened index: read the queries, check them against the
 * index, search them in one batch, report. `t0` is when opening started (loadMs counts from it).
 */
export async function runVectorQuery(
  ix: VectorSearcher,
  o: QueryVectorOptions,
  t0: number,
  signal?: AbortSignal,
): Promise<QueryVectorResult> {
  const info = ix.info;
  const q = await readVectors([o.queries], { format: o.queriesFormat, vector: o.vector });
  if (info.type !== null && q.dim !== ix.dim)
    throw badInput('ERR_RECALL_DIM_MISMATCH', `${o.queries}: queries have ${q.dim} dimensions, the index ${ix.dim}`, {
      file: o.queries,
      fix: 'query with vectors of the dimension the index was built with',
    });
  if (info.file !== null) {
    if (o.k > info.baseRows)
      throw badInput('ERR_RECALL_K_TOO_LARGE', `--k ${o.k} is larger than the index (${info.baseRows} vectors)`, {
        fix: `pass --k ${info.baseRows} or less`,
      });
    if (o.rerank && !info.hasF32)
      throw badInput(
        'ERR_RECALL_NO_F32',
        `${info.file}: --rerank needs the f32 rows, and this ${info.quant} index was built without them`,
        {
          file: info.file,
          fix: 'rebuild with --rerank, or query without it',
        },
      );
  }
  const loadMs = ms((performance.now() - t0) / 1000);
  const threads = o.threads ?? 1;
  const ef = o.ef ?? Math.max(64, o.k);
  const nprobe = o.nprobe ?? 8;
  const filter: VectorFilter | undefined =
    o.filter !== undefined || o.where !== undefined
      ? { ids: o.filter !== undefined ? await readAllowList(o.filter) : undefined, where: o.where, mode: o.filterMode }
      : undefined;
  const r = await ix.searchBatch(q.data, { k: o.k, ef, nprobe, rerank: o.rerank ?? 0, threads, filter, signal });
  if (o.idsOut) {
    // fbin int32 (nq x k), as the ANN harness reads it
    const buf = Buffer.alloc(8 + q.n * o.k * 4);
    buf.writeUInt32LE(q.n, 0);
    buf.writeUInt32LE(o.k, 4);
    for (let i = 0; i < q.n * o.k; i++) buf.writeInt32LE(Number(r.ids[i]), 8 + 4 * i);
    await writeFile(o.idsOut, buf);
  }
  const ids: QueryVectorResult['ids'] = [];
  const distances: QueryVectorResult['distances'] = [];
  for (let i = 0; i < q.n; i++) {
    const row = Array.from(r.ids.subarray(i * o.k, (i + 1) * o.k), jsonId);
    ids.push(row);
    distances.push(Array.from(r.distances.subarray(i * o.k, (i + 1) * o.k), (x, j) => (row[j] === null ? null : +x.toPrecision(7))));
  }
  return {
    index: info.file ?? o.index,
    version: ix.version,
    queries: q.n,
    k: o.k,
    params: { ef: info.type === 'hnsw' ? ef : null, nprobe: info.type === 'ivf' ? nprobe : null, rerank: o.rerank ?? 0, threads },
    ...(filter
      ? {
          filter: {
            allowIds: filter.ids?.length ?? null,
            where: filter.where ?? null,
            allowedRows: r.filterAllowed ?? null,
            path: r.filterScanned === true ? ('scan' as const) : r.filterScanned === false ? ('index' as const) : ('layers' as const),
          },
        }
      : {}),
    ids,
    distances,
    memoryBytes: info.memoryBytes,
    loadMs,
    searchMs: ms(r.searchSeconds),
    searchCpuMs: ms(r.searchCpuSeconds),
    qps: +(q.n / Math.max(r.searchCpuSeconds, 1e-9)).toFixed(1),
    // a version read in layers (deltas or a WAL) says which, and what the tail held
    ...(info.file === null ? { layers: info.layers, wal: info.wal } : {}),
  };
}

/** `recall query vector` without the library API: open, run, and reopen when a dump pruned the version it read. */
export function queryVector(o: QueryVectorOptions, signal?: AbortSignal): Promise<QueryVectorResult> {
  return retryOnNewCurrent(o.index, async () => {
    const t0 = performance.now();
    return runVectorQuery(await openVector(o.index, o), o, t0, signal);
  });
}
