/**
 * The vector benchmark's data sets, made once into a folder: base rows, queries and the exact
 * top-10 of every query (`base.f32`, `queries.f32`: raw little-endian float32 rows; `gt.i32`; and
 * `meta.json`). Fashion-MNIST comes from Debian's dataset-fashion-mnist (the source of
 * ann-benchmarks' fashion-mnist-784-euclidean: 60k base, 10k queries, pixel values 0..255); the
 * synthetic sets are seeded Gaussian clusters. The exact neighbours come from recall's flat index,
 * an exhaustive scan (its tests check it against brute force).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { usage } from '../errors.js';
import { xorshift32 } from '../stats/seeded.js';
import { loadNative } from '../native.js';

export const DEBIAN_FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

export interface AnnMeta {
  name: string;
  source: string;
  n: number;
  dim: number;
  nq: number;
  k: number;
}

export type AnnDataset = { kind: 'fashion'; src?: string } | { kind: 'synthetic'; n: number; dim: number; nq: number; seed?: number };

/** The data set in `dir`, made the first time; returns its meta. */
export async function prepareAnnData(dir: string, set: AnnDataset): Promise<AnnMeta> {
  if (existsSync(join(dir, 'meta.json'))) return JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as AnnMeta;
  mkdirSync(dirname(dir), { recursive: true });
  let base: Float32Array;
  let queries: Float32Array;
  let dim: number;
  let name: string;
  let source: string;
  if (set.kind === 'fashion') {
    const src = set.src ?? DEBIAN_FASHION_MNIST;
    const files = ['train-images-idx3-ubyte.gz', 't10k-images-idx3-ubyte.gz'].map((f) => join(src, f));
    for (const f of files)
      if (!existsSync(f))
        throw usage('ERR_RECALL_BENCH_SETUP', `${f}: Fashion-MNIST is not installed`, {
          fix: 'run `apt-get install dataset-fashion-mnist` (as root), or pass --dataset synthetic',
        });
    const train = readIdxImages(files[0]!);
    const test = readIdxImages(files[1]!);
    [base, queries, dim] = [train.data, test.data, train.dim];
    name = 'fashion-mnist-784-euclidean';
    source = `Debian dataset-fashion-mnist (${src})`;
  } else {
    dim = set.dim;
    const rows = clustered(set.n + set.nq, dim, set.seed ?? 1);
    base = rows.subarray(0, set.n * dim);
    queries = rows.subarray(set.n * dim);
    name = `synthetic-${set.n}x${dim}`;
    source = `seeded Gaussian clusters (seed ${set.seed ?? 1})`;
  }
  const n = base.length / dim;
  const nq = queries.length / dim;
  const k = 10;
  const gt = await exactNeighbours(base, queries, dim, k, dir);
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'base.f32'), new Uint8Array(base.buffer, base.byteOffset, base.byteLength));
  writeFileSync(join(tmp, 'queries.f32'), new Uint8Array(queries.buffer, queries.byteOffset, queries.byteLength));
  writeFileSync(join(tmp, 'gt.i32'), new Uint8Array(gt.buffer));
  const meta: AnnMeta = { name, source, n, dim, nq, k };
  writeFileSync(join(tmp, 'meta.json'), `${JSON.stringify(meta)}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir); // complete or absent
  return meta;
}

/** An IDX image file (gzip) as float32 rows of its pixels. */
function readIdxImages(file: string): { data: Float32Array; dim: number } {
  const b = gunzipSync(readFileSync(file));
  if (b.readUInt32BE(0) !== 0x803)
    throw usage('ERR_RECALL_BENCH_SETUP', `${file}: not an IDX image file`, { fix: 'reinstall dataset-fashion-mnist' });
  const [n, rows, cols] = [b.readUInt32BE(4), b.readUInt32BE(8), b.readUInt32BE(12)];
  const dim = rows * cols;
  const data = new Float32Array(n * dim);
  for (let i = 0; i < data.length; i++) data[i] = b[16 + i]!;
  return { data, dim };
}

/** Rows around 64 seeded centres (Box-Muller noise, sd 0.35 of the centres' spread). */
function clustered(rows: number, dim: number, seed: number): Float32Array {
  const rnd = xorshift32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd());
  const centres = Float32Array.from({ length: 64 * dim }, gauss);
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const c = Math.floor(rnd() * 64) * dim;
    for (let j = 0; j < dim; j++) out[r * dim + j] = centres[c + j]! + 0.35 * gauss();
  }
  return out;
}

/** The exact top-k ids of every query, by recall's flat (exhaustive) index. */
async function exactNeighbours(base: Float32Array, queries: Float32Array, dim: number, k: number, near: string): Promise<Int32Array> {
  const native = loadNative();
  const file = `${near}.${process.pid}.flat.rvec`;
  try {
    const n = base.length / dim;
    await native.vectorBuild(
      file,
      {},
      '{}',
      base,
      BigUint64Array.from({ length: n }, (_, i) => BigInt(i)),
      dim,
      {
        type: 'flat',
        metric: 'l2',
        quant: 'f32',
        threads: 2,
      },
    );
    const r = await native.vectorSearch(native.vectorOpen(file), queries, { k, threads: 2 });
    return Int32Array.from(r.ids, (x) => Number(x));
  } finally {
    rmSync(file, { force: true });
  }
}
