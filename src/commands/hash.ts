import { Args, Flags } from '@oclif/core';
import { text } from 'node:stream/consumers';
import { RecallCommand } from '../cli/base-command.js';
import { usage } from '../core/errors.js';
import { type KeyTypeChoice, ROUTING_HASH, type RoutedKey, routeKeys } from '../core/routing/hash.js';

export interface HashResult {
  hash: typeof ROUTING_HASH;
  seed: string;
  shards: number;
  /** The --key-type asked for; each key says the type it was hashed as. */
  keyType: KeyTypeChoice;
  keys: RoutedKey[];
}

export default class Hash extends RecallCommand<HashResult> {
  static override summary = 'Show the routing hash and shard of keys (the function `recall shard` and query routing use).';
  static override description =
    `xxHash64 with seed 0 over the key's canonical bytes (int64: 8 bytes little-endian; string: UTF-8), shard = hash % N.
Keys come from the arguments, or one per line from stdin when there are none (or "-"). By default (--key-type auto) a decimal integer that fits in 64 bits hashes as int64, as \`recall query x2i\` and \`recall shard\` over an integer column route it, and anything else as a string; each output line ends with the type used.`;
  static override strict = false;
  static override examples = [
    '<%= config.bin %> hash item-42 item-43 --shards 16',
    'seq 1 5 | <%= config.bin %> hash --key-type int64 --shards 4 --json',
  ];
  static override args = { keys: Args.string({ description: 'keys (none or "-": read stdin)', ignoreStdin: true }) };
  static override flags = {
    shards: Flags.integer({ char: 'n', description: 'number of shards', default: 1, min: 1, max: 2 ** 32 - 1 }),
    'key-type': Flags.option({
      options: ['auto', 'string', 'int64'] as const,
      aliases: ['type'],
      description: 'how keys are encoded (auto: integers as int64, the rest as strings)',
      default: 'auto',
    })(),
  };

  async run(): Promise<HashResult> {
    const { argv, flags } = await this.parse(Hash);
    let keys = argv as string[];
    let source: string | undefined;
    if (keys.length === 0 || (keys.length === 1 && keys[0] === '-')) {
      if (process.stdin.isTTY)
        throw usage('ERR_RECALL_NO_KEYS', 'no keys given', { fix: 'pass keys as arguments or pipe them in, one per line' });
      source = 'stdin';
      keys = (await text(process.stdin))
        .split('\n')
        .map((k) => k.replace(/\r$/, ''))
        .filter((k) => k.length > 0);
    }
    const routed = routeKeys(keys, flags['key-type'], flags.shards, 0n, source);
    this.say('key\thash\tshard\ttype');
    for (const r of routed) this.say(`${r.key}\t${r.hash}\t${r.shard}\t${r.type}`);
    return { hash: ROUTING_HASH, seed: '0', shards: flags.shards, keyType: flags['key-type'], keys: routed };
  }
}
