import { Flags } from '@oclif/core';
import { availableParallelism } from 'node:os';
import { RecallCommand } from '../../cli/base-command.js';
import { type KeptVersions, keepVersions } from '../../cli/keep.js';
import type { BuildVectorResult } from '../../core/channels/vector/build.js';
import { parseU64 } from '../../cli/flags/u64.js';

export default class BuildVector extends RecallCommand<BuildVectorResult & KeptVersions> {
  static override summary = 'Build a vector index (HNSW, IVF or flat; f32, f16 or int8) from parquet or fbin vectors.';
  static override description = `The index is written as the next version of the --out channel folder and published only when complete.
Graphs and centroids are computed from f32 vectors with bit-identical kernels: the same input, flags and --seed give the same bytes on any machine and for any --threads. int8 is per-dimension affine quantisation trained on the data;
--rerank keeps the f32 vectors in their own section so queries can re-rank the top R exactly (int8 of whole numbers spanning at most 255 per dimension, such as pixels, needs no copy: its codes decode to the vectors exactly).
--attr keeps an integer column of the parquet input with every row (a category, a shop, a price bucket), so that \`query vector --where\` can filter on it inside the search.`;
  static override examples = [
    '<%= config.bin %> build vector --input emb.parquet --id item_id --vector embedding --type hnsw --out out/vector',
    '<%= config.bin %> build vector --input train.f32 --type hnsw --quant int8 --rerank --m 16 --ef-construction 200 --out out/vec-int8',
    '<%= config.bin %> build vector --input train.f32 --type ivf --nlist 1024 --quant f16 --out out/vec-ivf',
    '<%= config.bin %> build vector --input emb.parquet --id item_id --vector embedding --attr category --out out/vector',
  ];
  static override flags = {
    input: Flags.string({
      char: 'i',
      description: 'parquet files/folders/globs, or one fbin (.f32/.fbin) file',
      required: true,
      multiple: true,
    }),
    'input-format': Flags.string({ description: 'input format (default: from the file name)', options: ['parquet', 'fbin', 'jsonl'] }),
    id: Flags.string({ description: 'parquet: integer id column (default: the row number)' }),
    vector: Flags.string({ description: 'parquet: list/array column of numbers' }),
    attr: Flags.string({ description: 'parquet: an integer column kept per row, for `query vector --where`' }),
    type: Flags.string({ description: 'index type', options: ['hnsw', 'ivf', 'flat'], default: 'hnsw' }),
    quant: Flags.string({ description: 'stored precision', options: ['f32', 'f16', 'int8'], default: 'f32' }),
    metric: Flags.string({ description: 'distance', options: ['l2', 'ip', 'cosine'], default: 'l2' }),
    m: Flags.integer({ description: 'hnsw: links per node (level 0 keeps 2M)', default: 16, min: 2, max: 256 }),
    'ef-construction': Flags.integer({ description: 'hnsw: candidates while building', default: 200, min: 2 }),
    nlist: Flags.integer({ description: 'ivf: lists (default: sqrt(n))', min: 1 }),
    'kmeans-iters': Flags.integer({ description: 'ivf: k-means iterations', default: 10, min: 1 }),
    rerank: Flags.boolean({ description: 'keep the f32 vectors too (int8/f16), for `query vector --rerank R`' }),
    seed: Flags.string({ description: 'seed of HNSW levels and the k-means sample', default: '0' }),
    threads: Flags.integer({ description: 'build threads (the bytes do not depend on it)', min: 1 }),
    'discard-updates': Flags.boolean({ description: 'build over a live version holding WAL updates (from recall dump), dropping them' }),
    keep: Flags.integer({ description: 'keep this many newest versions (and the layers they read); default: keep all', min: 1 }),
    out: Flags.string({ char: 'o', description: 'channel folder (a new version is published in it)', required: true }),
  };

  async run(): Promise<BuildVectorResult & KeptVersions> {
    const { flags } = await this.parse(BuildVector);
    const { buildVector } = await import('../../core/channels/vector/build.js');
    this.progress.start('building the vector index');
    const r = await buildVector(
      {
        inputs: flags.input,
        inputFormat: flags['input-format'],
        id: flags.id,
        vector: flags.vector,
        attr: flags.attr,
        out: flags.out,
        discardUpdates: flags['discard-updates'],
        build: {
          type: flags.type as 'hnsw' | 'ivf' | 'flat',
          quant: flags.quant as 'f32' | 'f16' | 'int8',
          metric: flags.metric as 'l2' | 'ip' | 'cosine',
          m: flags.m,
          efConstruction: flags['ef-construction'],
          nlist: flags.nlist,
          kmeansIters: flags['kmeans-iters'],
          seed: parseU64('seed', flags.seed),
          threads: flags.threads ?? availableParallelism(),
          keepF32: flags.rerank ? 1 : 0,
        },
      },
      this.signal,
    );
    this.progress.stop();
    this.summary(
      `${r.vectors} vectors of ${r.dim} -> ${r.version.dir} (${(r.fileBytes / 1e6).toFixed(1)} MB, build ${(r.buildMs / 1000).toFixed(2)} s, ${(r.buildCpuMs / 1000).toFixed(2)} CPU-s)`,
    );
    return { ...r, ...(await keepVersions(flags.out, flags.keep, (l) => this.summary(l))) };
  }
}
