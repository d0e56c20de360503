/**
 * `recall query vector`: a batch of queries through one native call; search
 * time is measured apart from loading the index and the queries.
 */
import { writeFile } from 'node:fs/promises';
import { badInput } from '../../errors.js';
import { type LayeredVersion, resolveLayered } from '../../index/layers.js';
import { guardWal } from '../../index/wal-identity.js';
import type { WalTailSummary } from '../driver.js';
import { retryOnNewCurrent } from '../../index/resolve.js';
import { loadNative, tokenFor } from '../../native.js';
import { ms } from '../../io/units.js';
import { VECTOR_FILE_EXT } from './build.js';
import { readVectors } from './input.js';
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

export function queryVector(o: QueryVectorOptions, signal?: AbortSignal): Promise<QueryVectorResult> {
  return retryOnNewCurrent(o.index, () => queryVectorOnce(o, signal));
}

async function queryVectorOnce(o: QueryVectorOptions, signal?: AbortSignal): Promise<QueryVectorResult> {
  const native = loadNative();
  const t0 = performance.now();
  const lv = await resolveLayered(o.index, VECTOR_FILE_EXT, 'a vector', o.asOf);
  if (lv.layers.length > 1 || o.wal) return queryLayered(o, lv, signal);
  const { files } = lv.layers[0]!;
  const version = lv.version;
  if (files.length !== 1)
    throw badInput('ERR_RECALL_NOT_AN_INDEX', `${o.index}: ${files.length} vector files; one expected`, { file: o.index });
  const h = native.vectorOpen(files[0]!);
  const info = native.vectorInfo(h);
  const q = await readVectors([o.queries], { format: o.queriesFormat, vector: o.vector });
  if (q.dim !== info.dim)
    throw badInput('ERR_RECALL_DIM_MISMATCH', `${o.queries}: queries have ${q.dim} dimensions, the index ${info.dim}`, {
      file: o.queries,
      fix: 'query with vectors of the dimension the index was built with',
    });
  if (o.k > info.n)
    throw badInput('ERR_RECALL_K_TOO_LARGE', `--k ${o.k} is larger than the index (${info.n} vectors)`, {
      fix: `pass --k ${info.n} or less`,
    });
  if (o.rerank && info.quant !== 'f32' && !info.hasF32)
    throw badInput('ERR_RECALL_NO_F32', `${files[0]}: --rerank needs the f32 rows, and this ${info.quant} index was built without them`, {
      file: files[0],
      fix: 'rebuild with --rerank, or query without it',
    });
  const load_s = (performance.now() - t0) / 1000;
  const token = native.cancelToken();
  const onAbort = () => native.cancel(token);
  signal?.addEventListener('abort', onAbort);
  const threads = o.threads ?? 1;
  const ef = o.ef ?? Math.max(64, o.k);
  let r: Awaited<ReturnType<typeof native.vectorSearch>>;
  try {
    r = await native.vectorSearch(h, q.data, { k: o.k, ef, nprobe: o.nprobe ?? 8, rerank: o.rerank ?? 0, threads }, token);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
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
    const row = Array.from(r.ids.subarray(i * o.k, (i + 1) * o.k), (x) => jsonId(BigInt.asIntN(64, x)));
    ids.push(row);
    distances.push(Array.from(r.distances.subarray(i * o.k, (i + 1) * o.k), (x, j) => (row[j] === null ? null : +x.toPrecision(7))));
  }
  return {
    index: files[0]!,
    version,
    queries: q.n,
    k: o.k,
    params: { ef: info.type === 'hnsw' ? ef : null, nprobe: info.type === 'ivf' ? (o.nprobe ?? 8) : null, rerank: o.rerank ?? 0, threads },
    ids,
    distances,
    memoryBytes: info.memoryBytes,
    loadMs: ms(load_s),
    searchMs: ms(r.searchSeconds),
    searchCpuMs: ms(r.searchCpuSeconds),
    qps: +(q.n / Math.max(r.searchCpuSeconds, 1e-9)).toFixed(1),
  };
}

/** Base + delta layers + WAL tail (vector/layers.ts): k nearest live ids per query. */
async function queryLayered(o: QueryVectorOptions, lv: LayeredVersion, signal?: AbortSignal): Promise<QueryVectorResult> {
  const native = loadNative();
  const t0 = performance.now();
  const layers = await openLayers(lv.layers);
  const first = layers.find((l) => l.handle);
  const info = first?.handle ? native.vectorInfo(first.handle) : null;
  const q = await readVectors([o.queries], { format: o.queriesFormat, vector: o.vector });
  if (info && q.dim !== info.dim)
    throw badInput('ERR_RECALL_DIM_MISMATCH', `${o.queries}: queries have ${q.dim} dimensions, the index ${info.dim}`, {
      file: o.queries,
      fix: 'query with vectors of the dimension the index was built with',
    });
  let tail: ReturnType<typeof vectorChanges> | null = null;
  if (o.wal) {
    const covered = await guardWal(o.wal, lv.info, lv.version);
    tail = vectorChanges(o.wal, { after: lv.info.walSeq, upto: o.asOf, skipCorrupt: o.skipCorrupt }, info?.dim ?? q.dim);
    covered(tail.report);
  }
  const metric = (lv.manifest?.params.index as { metric?: string } | undefined)?.metric ?? info?.metric ?? 'l2';
  const load_s = (performance.now() - t0) / 1000;
  const token = native.cancelToken();
  const onAbort = () => native.cancel(token);
  signal?.addEventListener('abort', onAbort);
  const threads = o.threads ?? 1;
  const t1 = performance.now();
  const c0 = process.cpuUsage();
  let r: Awaited<ReturnType<typeof searchLayers>>;
  try {
    r = await searchLayers(
      layers,
      tail?.rows ?? new Map(),
      metric,
      q.data,
      q.dim,
      o.k,
      { ef: o.ef ?? Math.max(64, o.k), nprobe: o.nprobe ?? 8, rerank: o.rerank ?? 0, threads },
      token,
    );
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  const search_s = (performance.now() - t1) / 1000;
  const cpu = process.cpuUsage(c0);
  const search_cpu_s = (cpu.user + cpu.system) / 1e6;
  const pad = <T>(row: T[], fill: T) => [...row, ...Array<T>(Math.max(0, o.k - row.length)).fill(fill)];
  return {
    index: o.index,
    version: lv.version,
    queries: q.n,
    k: o.k,
    params: {
      ef: info?.type === 'hnsw' ? (o.ef ?? Math.max(64, o.k)) : null,
      nprobe: info?.type === 'ivf' ? (o.nprobe ?? 8) : null,
      rerank: o.rerank ?? 0,
      threads,
    },
    ids: r.ids.map((row) =>
      pad(
        row.map((x) => jsonId(BigInt.asIntN(64, x))),
        null,
      ),
    ),
    distances: r.distances.map((row) =>
      pad<number | null>(
        row.map((x) => +x.toPrecision(7)),
        null,
      ),
    ),
    memoryBytes: layers.reduce((s, l) => s + (l.handle ? native.vectorInfo(l.handle).memoryBytes : 0), 0),
    loadMs: ms(load_s),
    searchMs: ms(search_s),
    searchCpuMs: ms(search_cpu_s),
    qps: +(q.n / Math.max(search_cpu_s, 1e-9)).toFixed(1),
    layers: lv.layers.map((l) => l.version),
    wal:
      tail && o.wal
        ? {
            dir: o.wal,
            walSeq: lv.info.walSeq,
            tailRecords: tail.records,
            lastSeq: tail.report.lastSeq,
            torn: tail.report.torn,
            corrupt: tail.report.corrupt.length,
            quarantined: tail.quarantined,
          }
        : null,
  };
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
  wal: QueryVectorResult['wal'];
  /** k nearest live ids per query (`queries` is nq x dim, row-major), nearest first. */
  search(
    queries: Float32Array,
    k: number,
    p?: { ef?: number; nprobe?: number; rerank?: number; threads?: number },
    signal?: AbortSignal,
  ): Promise<{ ids: bigint[][]; distances: number[][] }>;
}

export async function openVector(index: string, o: Pick<QueryVectorOptions, 'wal' | 'asOf' | 'skipCorrupt'> = {}): Promise<OpenVector> {
  const native = loadNative();
  const lv = await resolveLayered(index, VECTOR_FILE_EXT, 'a vector', o.asOf);
  const layers = await openLayers(lv.layers);
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
  return {
    version: lv.version,
    layers: lv.layers.map((l) => l.version),
    dim,
    metric,
    rows: layers.reduce((s, l) => s + l.n, 0) + (tail?.upserts ?? 0),
    wal:
      tail && o.wal
        ? {
            dir: o.wal,
            walSeq: lv.info.walSeq,
            tailRecords: tail.records,
            lastSeq: tail.report.lastSeq,
            torn: tail.report.torn,
            corrupt: tail.report.corrupt.length,
            quarantined: tail.quarantined,
          }
        : null,
    async search(queries, k, p = {}, signal) {
      if (dim && queries.length % dim)
        throw badInput('ERR_RECALL_DIM_MISMATCH', `queries have ${queries.length} values, not a multiple of the index dimension ${dim}`, {
          fix: 'query with vectors of the dimension the index was built with',
        });
      const token = tokenFor(native, signal);
      return searchLayers(
        layers,
        tail?.rows ?? new Map(),
        metric,
        queries,
        dim,
        k,
        { ef: p.ef ?? Math.max(64, k), nprobe: p.nprobe ?? 8, rerank: p.rerank ?? 0, threads: p.threads ?? 1 },
        token,
      );
    },
  };
}
