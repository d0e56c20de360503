/** The text channel (`inverted` in configs, manifests and the CLI): BM25 over analyzed fields, sharded by the routing hash. */
import { profileText } from './profile.js';
import type { TextChannelConfig } from '../../config/load.js';
import type { ChannelDriver } from '../driver.js';
import { channelName } from '../kinds.js';
import { type BuildTextOptions, TEXT_FILE_EXT, writeTextParts } from './build.js';
import { dumpText } from './dump.js';
import { queryText } from './query.js';
import { textRecords } from './records.js';

export const textDriver: ChannelDriver<TextChannelConfig, BuildTextOptions, typeof queryText> = {
  kind: 'text',
  name: channelName('text'),
  fileExt: TEXT_FILE_EXT,
  fileKind: 1,
  sharded: true,
  partTasks: ({ channel: ch, config, shardFolder, shards, dir, sourceLabel }) => {
    const src = config.sources[ch.source]!;
    return shards.map((k) => ({
      inputs: [shardFolder],
      sourceLabel,
      id: src.key,
      text: ch.text,
      weights: ch.weights,
      analyzer: ch.analyzer ?? 'standard',
      pairs: ch.pairs ?? 'off',
      pairBudget: ch.pairBudget,
      pairMinDf: ch.pairMinDf,
      forward: ch.forward,
      k1: ch.k1,
      b: ch.b,
      shard: k,
      out: dir,
    }));
  },
  writePart: async (options, target, signal) => {
    const r = await writeTextParts(options, target, signal);
    return { files: r.result.files.map((f) => ({ file: f.file, bytes: f.fileBytes, keys: f.docs, items: f.postings })), params: r.params };
  },
  query: queryText,
  record: textRecords,
  dump: dumpText,
  profile: profileText,
};
