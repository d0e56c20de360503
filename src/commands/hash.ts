import { Args, Flags } from '@oclif/core';
import { text } from 'node:stream/consumers';
import { RecallCommand } from '../cli/base-command.js';
import { usage } from '../core/errors.js';
import { ROUTING_HASH, type RoutedKey, routeKeys } from '../core/routing/hash.js';

export interface HashResult {
  hash: typeof ROUTING_HASH;
  seed: string;
  shards: number;
  type: 'string' | 'int64';
  keys: RoutedKey[];
}

export default class Hash extends RecallCommand<HashResult> {
  static override summary = 'Show the routing hash and shard of keys (the function `recall shard` and query routing use).';
  static override description =
    `xxHash64 with seed 0 over the key's canonical bytes (int64: 8 bytes little-endian; string: UTF-8), shard = hash % N.
Keys come from the arguments, or one per line from stdin when there are none (or "-").`;
  static override strict = false;
  static override examples = [
    '<%= config.bin %> hash item-42 item-43 --shards 16',
    'seq 1 5 | <%= config.bin %> hash --type int64 --shards 4 --json',
  ];
  static override args = { keys: Args.string({ description: 'keys (none or "-": read stdin)', ignoreStdin: true }) };
  static override flags = {
    shards: Flags.integer({ char: 'n', description: 'number of shards', default: 1, min: 1, max: 2 ** 32 - 1 }),
    type: Flags.option({ options: ['string', 'int64'] as const, description: 'how keys are encoded', default: 'string' })(),
  };

  async run(): Promise<HashResult> {
    const { argv, flags } = await this.parse(Hash);
    let keys = argv as string[];
    if (keys.length === 0 || (keys.length === 1 && keys[0] === '-')) {
      if (process.stdin.isTTY)
        throw usage('ERR_RECALL_NO_KEYS', 'no keys given', { fix: 'pass keys as arguments or pipe them in, one per line' });
      keys = (await text(process.stdin))
        .split('\n')
        .map((k) => k.replace(/\r$/, ''))
        .filter((k) => k.length > 0);
    }
    const routed = routeKeys(keys, flags.type, flags.shards);
    this.say('key\thash\tshard');
    for (const r of routed) this.say(`${r.key}\t${r.hash}\t${r.shard}`);
    return { hash: ROUTING_HASH, seed: '0', shards: flags.shards, type: flags.type, keys: routed };
  }
}
