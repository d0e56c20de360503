/**
 * `recall query vector`: a batch of queries through one native call; search
 * time is measured apart from loading the index and the queries.
 */
import { writeFile } from 'node:fs/promises';
import { badInput } from '../cli/errors.js';
import { resolveIndexFiles } from '../index/resolve.js';
import { loadNative } from '../native.js';
import { VECTOR_FILE_EXT } from './build.js';
import { readVectors } from './input.js';

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
}

export interface QueryVectorResult {
  index: string;
  version: number | null;
  queries: number;
  k: number;
  params: { ef: number | null; nprobe: number | null; rerank: number; threads: number };
  /** Row i: the ids of query i's k nearest (-1 when fewer exist), nearest first. */
  ids: Array<Array<number | string>>;
  distances: number[][];
  /** Bytes the loaded index holds in memory (rows, ids, graph or lists; not the mapped f32 re-rank rows). */
  index_memory_bytes: number;
  load_s: number;
  search_s: number;
  search_cpu_s: number;
  qps: number;
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** Ids as JSON numbers while exact, else as strings. */
const jsonId = (x: bigint): number | string => (x <= SAFE && x >= -SAFE ? Number(x) : BigInt.asUintN(64, x).toString());

export async function queryVector(o: QueryVectorOptions, signal?: AbortSignal): Promise<QueryVectorResult> {
  const native = loadNative();
  const t0 = performance.now();
  const { files, version } = await resolveIndexFiles(o.index, VECTOR_FILE_EXT, 'a vector');
  if (files.length !== 1) throw badInput('ERR_RECALL_NOT_AN_INDEX', `${o.index}: ${files.length} vector files; one expected`, { file: o.index });
  const h = native.vectorOpen(files[0]!);
  const info = native.vectorInfo(h);
  const q = await readVectors([o.queries], { format: o.queriesFormat, vector: o.vector });
  if (q.dim !== info.dim)
    throw badInput('ERR_RECALL_DIM_MISMATCH', `${o.queries}: queries have ${q.dim} dimensions, the index ${info.dim}`, { file: o.queries, fix: 'query with vectors of the dimension the index was built with' });
  if (o.k > info.n) throw badInput('ERR_RECALL_K_TOO_LARGE', `--k ${o.k} is larger than the index (${info.n} vectors)`, { fix: `pass --k ${info.n} or less` });
  if (o.rerank && info.quant !== 'f32' && !info.hasF32)
    throw badInput('ERR_RECALL_NO_F32', `${files[0]}: --rerank needs the f32 rows, and this ${info.quant} index was built without them`, { file: files[0], fix: 'rebuild with --rerank, or query without it' });
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
  const ids: Array<Array<number | string>> = [];
  const distances: number[][] = [];
  for (let i = 0; i < q.n; i++) {
    ids.push(Array.from(r.ids.subarray(i * o.k, (i + 1) * o.k), jsonId));
    distances.push(Array.from(r.distances.subarray(i * o.k, (i + 1) * o.k), (x) => +x.toPrecision(7)));
  }
  return {
    index: files[0]!,
    version,
    queries: q.n,
    k: o.k,
    params: { ef: info.type === 'hnsw' ? ef : null, nprobe: info.type === 'ivf' ? (o.nprobe ?? 8) : null, rerank: o.rerank ?? 0, threads },
    ids,
    distances,
    index_memory_bytes: info.memoryBytes,
    load_s: +load_s.toFixed(4),
    search_s: +r.searchSeconds.toFixed(6),
    search_cpu_s: +r.searchCpuSeconds.toFixed(6),
    qps: +(q.n / r.searchCpuSeconds).toFixed(1),
  };
}
