/** The vector channel: one index (HNSW, IVF or flat) over the whole source, built as shard 0. */
import { profileVector } from './profile.js';
import type { VectorChannelConfig } from '../../config/load.js';
import { loadNative } from '../../native.js';
import type { ChannelDriver } from '../driver.js';
import { type BuildVectorOptions, VECTOR_FILE_EXT, writeVectorPart } from './build.js';
import { dumpVector } from './dump.js';
import { queryVector } from './query.js';
import { vectorRecords } from './records.js';

export const vectorDriver: ChannelDriver<VectorChannelConfig, BuildVectorOptions, typeof queryVector> = {
  kind: 'vector',
  name: 'vector',
  fileExt: VECTOR_FILE_EXT,
  fileKind: 3,
  // opening checks graph links, IVF offsets and finite values; the re-rank rows carry a checksum each
  checkStructure: (file) => {
    const native = loadNative();
    native.vectorVerify(native.vectorOpen(file));
  },
  sharded: false,
  partTasks: ({ channel: ch, config, shards, dir, sourceLabel: label }) => {
    const src = config.sources[ch.source]!;
    // one index over the whole source, built with shard 0
    if (!shards.includes(0)) return [];
    return [
      {
        inputs: src.inputs,
        sourceLabel: label,
        id: src.key,
        vector: ch.vector,
        out: dir,
        build: {
          type: ch.type ?? 'hnsw',
          metric: ch.metric ?? 'l2',
          quant: ch.quant ?? 'f32',
          m: ch.m,
          efConstruction: ch.efConstruction,
          nlist: ch.nlist,
          kmeansIters: ch.kmeansIters,
          seed: BigInt(ch.seed ?? '0'),
          threads: 1,
          keepF32: ch.rerank ? 1 : 0,
        },
      },
    ];
  },
  writePart: async (options, target, signal) => {
    const r = await writeVectorPart(options, target, signal);
    return {
      files: [{ file: r.result.file, bytes: r.result.fileBytes, keys: r.result.vectors, items: r.result.vectors * r.result.dim }],
      params: r.params,
    };
  },
  query: queryVector,
  record: vectorRecords,
  dump: dumpVector,
  profile: profileVector,
};
