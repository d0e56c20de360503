import { Flags } from '@oclif/core';
import { RecallCommand } from '../../cli/base-command.js';
import { readKeysFlags } from '../../cli/flags/keys.js';
import { walQueryFlags, warnTorn } from '../../cli/flags/wal.js';
import type { X2iQueryResult } from '../../core/channels/x2i/query.js';

export default class QueryX2i extends RecallCommand<X2iQueryResult> {
  static override summary = "Look up keys in an x2i index: each key's ranked (item, score) list.";
  static override description =
    `--index is an x2i file, a version folder or a channel folder (its CURRENT version). Keys are routed to their shard with the routing hash; missing keys are reported, not errors. A delta version is read with the layers under it (newest first); with --wal, the WAL records after the version's dump seq come first (last writer wins, a delete hides the key); --as-of SEQ answers as of that seq.`;
  static override examples = [
    '<%= config.bin %> query x2i --index out/x2i --keys 1,2,3',
    '<%= config.bin %> query x2i --index out/x2i --keys-file keys.txt -k 10 --json',
    'seq 1 100 | <%= config.bin %> query x2i --index out/x2i --keys-file -',
    '<%= config.bin %> query x2i --index out/x2i --wal out/wal --keys 1,2,3',
  ];
  static override flags = {
    index: Flags.string({ description: 'x2i file, version folder or channel folder', required: true }),
    keys: Flags.string({ description: 'comma-separated integer keys', exclusive: ['keys-file'] }),
    'keys-file': Flags.string({ description: 'file with keys (whitespace or comma separated); - for stdin' }),
    k: Flags.integer({
      char: 'k',
      description: 'items per key (0 = all)',
      default: 10,
      min: 0,
      aliases: ['top'],
      deprecateAliases: true,
    }),
    ...walQueryFlags,
  };

  async run(): Promise<X2iQueryResult> {
    const { flags } = await this.parse(QueryX2i);
    const { withChannelReader } = await import('../../cli/channel-reader.js');
    const { parseKeys } = await import('../../core/channels/x2i/query.js');
    const { roundMs } = await import('../../core/io/units.js');
    const { raw, source } = await readKeysFlags(flags);
    const keys = parseKeys(raw, source);
    const open = { wal: flags.wal, asOf: flags['as-of'], skipCorrupt: flags['skip-corrupt'] };
    const result = await withChannelReader(flags.index, 'x2i', open, async (x2i): Promise<X2iQueryResult> => {
      const t0 = process.hrtime.bigint();
      const r = x2i.get(keys, { top: flags.k });
      const lookupMs = roundMs(Number(process.hrtime.bigint() - t0) / 1e6);
      const missing = r.results.filter((a) => !a.found).map((a) => a.key);
      return {
        index: flags.index,
        version: r.version,
        ...x2i.info,
        shardCount: x2i.shardCount,
        keys: keys.length,
        found: keys.length - missing.length,
        missing,
        results: r.results,
        lookupMs,
      };
    });
    warnTorn(result.wal);
    this.say('key\titems (item:score)');
    for (const r of result.results) {
      this.say(
        r.found
          ? `${r.key}\t${r.items.map((x) => `${x.item}:${+x.score.toPrecision(6)}`).join(' ')}`
          : `${r.key}\t(${r.deleted ? 'deleted' : 'missing'})`,
      );
    }
    const deleted = result.results.filter((r) => r.deleted).length;
    if (result.missing.length)
      process.stderr.write(
        `recall: ${result.missing.length} of ${result.keys} key(s) not in the index${deleted ? ` (${deleted} deleted)` : ''}\n`,
      );
    return result;
  }
}
