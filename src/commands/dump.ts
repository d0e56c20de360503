import { Flags } from '@oclif/core';
import { warnTorn } from '../cli/flags/wal.js';
import { RecallCommand } from '../cli/base-command.js';
import type { DumpResult } from '../core/pipeline/dump.js';
import { requirePath } from '../core/io/paths.js';

export default class Dump extends RecallCommand<DumpResult> {
  static override summary = 'Replay a write-ahead log into a new index version: a major dump, or a delta of the changed keys.';
  static override description =
    `Reads the channel's CURRENT version, applies the WAL records after the seq that version applied (last writer wins per key, deletes honoured) and publishes the next version: complete files (major) or, with --delta, only the changed keys plus tombstones, read on top of the layers below. The version records the last seq applied, so a second run applies nothing twice (and publishes nothing when the WAL holds nothing new, except that a major dump over a delta version always folds the layers into one complete version). Publishing is atomic (temp folder, manifest, rename, CURRENT replaced by temp + fsync + rename): a crash or Ctrl-C at any point leaves CURRENT on a complete version; a second concurrent dump of the same channel is refused (exit 2).
A torn WAL tail is reported and ignored; a corrupt record stops the dump with its segment and offset (exit 3) unless --skip-corrupt, as does a WAL other than the one the version applied (WAL ids, exit 3) or one missing records after its seq. A record that cannot apply to the index (a vector of another dimension, a text field the index does not have) is quarantined: not applied, reported, named in the manifest; \`recall wal drop\` removes it. Channels: x2i (per shard, natively) and vector (a delta is a flat exact index of the upserted rows plus the deleted ids; a major dump rebuilds the index with its build parameters).`;
  static override examples = [
    '<%= config.bin %> dump --index out/x2i --wal out/wal',
    '<%= config.bin %> dump --index out/x2i --wal out/wal --delta',
    '<%= config.bin %> dump --index out/x2i --wal out/wal --keep 3 --json',
  ];
  static override flags = {
    index: Flags.string({ description: 'channel folder (holds CURRENT)', required: true }),
    wal: Flags.string({ description: 'WAL folder', required: true }),
    delta: Flags.boolean({ description: 'write only the changed keys (a delta layer) instead of complete files' }),
    keep: Flags.integer({ description: 'keep this many newest versions (and the layers they read); default: keep all', min: 1 }),
    'skip-corrupt': Flags.boolean({ description: 'skip corrupt WAL records (counted and reported) instead of stopping' }),
    upto: Flags.integer({ description: 'apply records up to this seq only', min: 1 }),
  };

  async run(): Promise<DumpResult> {
    const { flags } = await this.parse(Dump);
    await requirePath(flags.index, 'folder', '--index');
    await requirePath(flags.wal, 'folder', '--wal');
    const { dumpChannel } = await import('../core/pipeline/dump.js');
    this.progress.start(flags.delta ? 'delta dump' : 'major dump', 0, '');
    const r = await dumpChannel(
      { index: flags.index, wal: flags.wal, delta: flags.delta, keep: flags.keep, skipCorrupt: flags['skip-corrupt'], upto: flags.upto },
      { signal: this.signal },
    );
    this.progress.stop();
    warnTorn({ dir: flags.wal, torn: r.wal.torn, quarantined: r.quarantined });
    for (const c of r.wal.corrupt) process.stderr.write(`recall: ${c.segment}: ${c.message} (skipped)\n`);
    if (!r.published) {
      this.summary(`${r.channel} v${r.baseVersion} is up to date with ${flags.wal} (seq ${r.walSeq}); nothing to dump`);
      return r;
    }
    const keys = r.files.reduce((s, x) => s + x.keys, 0);
    const applied = r.records
      ? `seq ${r.fromSeq + 1}..${r.walSeq}, ${r.records} record(s) (${r.upserts} upserts, ${r.deletes} deletes) over ${r.keys} key(s)`
      : `no new records (seq ${r.walSeq}); layers folded`;
    this.summary(
      `${r.channel} v${r.version} (${r.kind} over v${r.baseVersion}): ${applied}; ` +
        `${keys} keys in ${r.files.length} file(s) (${(r.elapsedMs / 1000).toFixed(1)} s)${r.removedVersions.length ? `; removed v${r.removedVersions.join(', v')}` : ''}`,
    );
    return r;
  }
}
