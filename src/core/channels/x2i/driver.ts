/** The x2i channel: key -> ranked (item, score) lists, sharded by the routing hash. */
import type { X2iChannelConfig } from '../../config/load.js';
import type { ChannelDriver } from '../driver.js';
import { type BuildX2iOptions, writeX2iParts, X2I_FILE_EXT } from './build.js';
import { dumpX2i } from './dump.js';
import { queryX2i } from './query.js';
import { x2iRecords } from './records.js';

export const x2iDriver: ChannelDriver<X2iChannelConfig, BuildX2iOptions, typeof queryX2i> = {
  kind: 'x2i',
  name: 'x2i',
  fileExt: X2I_FILE_EXT,
  sharded: true,
  partTasks: ({ channel: ch, config, shardFolder, shards, dir, sourceLabel }) => {
    const src = config.sources[ch.source]!;
    return shards.map((k) => ({
      inputs: [shardFolder],
      sourceLabel,
      key: src.key,
      neighbors: ch.neighbors,
      scores: ch.scores,
      topK: ch.topK,
      minScore: ch.minScore,
      seed: BigInt(ch.seed ?? '0'),
      shard: k,
      out: dir,
    }));
  },
  writePart: async (options, target, signal) => {
    const r = await writeX2iParts(options, target, { signal });
    return { files: r.shards.map((s) => ({ file: s.file, bytes: s.fileBytes, keys: s.keys, items: s.edges })), params: r.params };
  },
  query: queryX2i,
  record: x2iRecords,
  dump: dumpX2i,
};
