/**
 * `recall build vector`: vectors in (fbin, parquet), one index file out, in a
 * new version of the channel folder `--out` (published only when complete).
 */
import { join } from 'node:path';
import { usage } from '../../errors.js';
import { canonicalJson } from '../../io/canonical-json.js';
import { ms } from '../../io/units.js';
import { checkNoUpdatesLost } from '../../index/layers.js';
import { type CurrentVersion, inNewVersion } from '../../index/versions.js';
import { loadNative, type VectorBuildOptions } from '../../native.js';
import { shardFileName } from '../../shard/manifest.js';
import { readVectors } from './input.js';

export const VECTOR_FILE_EXT = '.rvec';

export interface BuildVectorOptions {
  /** Build over a live version that holds WAL updates (a dump applied them), dropping them. */
  discardUpdates?: boolean;
  inputs: string[];
  inputFormat?: string;
  id?: string;
  vector?: string;
  /** An integer column of the parquet input kept per row for filtered search (`query vector --where`). */
  attr?: string;
  out: string;
  build: VectorBuildOptions;
  /** Recorded in the parameters instead of the input paths (so where the data sits does not change the bytes). */
  sourceLabel?: string;
}

export interface BuildVectorResult {
  version: CurrentVersion;
  file: string;
  vectors: number;
  dim: number;
  fileBytes: number;
  readMs: number;
  buildMs: number;
  buildCpuMs: number;
}

export async function buildVector(o: BuildVectorOptions, signal?: AbortSignal): Promise<BuildVectorResult> {
  await checkNoUpdatesLost(o.out, o.discardUpdates);
  return inNewVersion(o.out, 'vector', (staged) => writeVectorPart(o, staged, signal));
}

/** Read and check the vectors and write the index file into `target` (`recall build --config` calls it too). */
export async function writeVectorPart(
  o: BuildVectorOptions,
  target: { dir: string; version: number },
  signal?: AbortSignal,
): Promise<{ result: Omit<BuildVectorResult, 'version'>; params: Record<string, unknown> }> {
  const native = loadNative();
  const t0 = performance.now();
  const v = await readVectors(o.inputs, { format: o.inputFormat, id: o.id, vector: o.vector, attr: o.attr });
  const readSeconds = (performance.now() - t0) / 1000;
  if (o.build.type === 'ivf' && o.build.nlist && o.build.nlist > v.n)
    throw usage('ERR_RECALL_USAGE', `--nlist ${o.build.nlist} is larger than the ${v.n} vectors`, {
      fix: 'pass a smaller --nlist (about sqrt(n) to 16 sqrt(n))',
    });
  const params = {
    channel: 'vector',
    source: { inputs: o.sourceLabel ? [o.sourceLabel] : o.inputs, id: o.id ?? null, vector: o.vector ?? null, attr: o.attr ?? null },
    rows: v.n,
    dim: v.dim,
    // the thread count is left out: it does not change the bytes
    index: { ...o.build, threads: undefined, seed: String(o.build.seed ?? 0n), keepF32: !!o.build.keepF32 },
    distances: o.build.metric === 'l2' ? 'euclidean' : o.build.metric === 'ip' ? 'minus inner product' : '1 - cosine',
  };
  const file = shardFileName(0, 1, VECTOR_FILE_EXT);
  const token = native.cancelToken();
  const onAbort = () => native.cancel(token);
  signal?.addEventListener('abort', onAbort);
  try {
    const stats = await native.vectorBuild(
      join(target.dir, file),
      { version: target.version, shard: 0, shardCount: 1 },
      canonicalJson(params),
      v.data,
      v.ids,
      v.dim,
      { ...o.build, attrs: v.attrs },
      token,
    );
    const result = {
      file,
      vectors: v.n,
      dim: v.dim,
      fileBytes: stats.fileBytes,
      readMs: ms(readSeconds),
      buildMs: ms(stats.buildSeconds),
      buildCpuMs: ms(stats.buildCpuSeconds),
    };
    return { result, params };
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
