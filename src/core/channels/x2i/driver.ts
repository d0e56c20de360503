/** The x2i channel: key -> ranked (item, score) lists, sharded by the routing hash. */
import { profileX2i } from './profile.js';
import type { X2iChannelConfig } from '../../config/load.js';
import { loadNative } from '../../native.js';
import type { ChannelDriver } from '../driver.js';
import { type BuildX2iOptions, writeX2iParts, X2I_FILE_EXT } from './build.js';
import { dumpX2i } from './dump.js';
import { COMPUTE_DEFAULTS } from './interactions.js';
import { queryX2i } from './query.js';
import { x2iRecords } from './records.js';

export const x2iDriver: ChannelDriver<X2iChannelConfig, BuildX2iOptions, typeof queryX2i> = {
  kind: 'x2i',
  name: 'x2i',
  fileExt: X2I_FILE_EXT,
  fileKind: 2,
  // opening runs the NeighborHash invariants and checks that the lists tile their section
  checkStructure: (file) => void loadNative().x2iOpen(file),
  sharded: true,
  isSharded: (ch) => !ch.fromInteractions,
  partTasks: ({ channel: ch, config, shardFolder, shards, dir, sourceLabel }) => {
    const src = config.sources[ch.source]!;
    if (ch.fromInteractions) {
      // every user's whole history goes into one computation: one index over the source, built with shard 0
      if (!shards.includes(0)) return [];
      const d = COMPUTE_DEFAULTS;
      return [
        {
          inputs: src.inputs,
          sourceLabel,
          interactions: {
            user: ch.user ?? 'user_id',
            item: ch.item ?? src.key,
            ts: ch.ts,
            weight: ch.weight,
            action: ch.actionWeights ? (ch.action ?? 'action') : undefined,
            actionWeights: ch.actionWeights,
            compute: {
              algo: ch.algo ?? d.algo,
              topK: ch.topK ?? d.topK,
              minScore: ch.minScore ?? d.minScore,
              minCommon: ch.minCommon ?? d.minCommon,
              threads: config.threads ?? 1,
              userCap: ch.userCap ?? d.userCap,
              minUserItems: ch.minUserItems ?? d.minUserItems,
              maxUserItems: ch.maxUserItems ?? d.maxUserItems,
              alpha: ch.alpha ?? d.alpha,
              tauSeconds: ch.decayHours !== undefined ? ch.decayHours * 3600 : d.tauSeconds,
              alpha1: ch.swingAlpha1 ?? d.alpha1,
              alpha2: ch.swingAlpha2 ?? d.alpha2,
              beta: ch.swingBeta ?? d.beta,
              itemUserCap: ch.itemUserCap ?? d.itemUserCap,
              seed: BigInt(ch.seed ?? '0'),
            },
          },
          topK: 0,
          seed: BigInt(ch.seed ?? '0'),
          out: dir,
        },
      ];
    }
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
  profile: profileX2i,
};
