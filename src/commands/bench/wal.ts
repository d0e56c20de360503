import { Flags } from '@oclif/core';
import { RecallCommand } from '../../cli/base-command.js';
import type { WalBenchResult } from '../../core/bench/wal.js';

export default class BenchWal extends RecallCommand<WalBenchResult> {
  static override summary = 'Benchmark the incremental path against the disk: WAL append, replay, and a major x2i dump.';
  static override description =
    `All in one run, with dd's sequential write rate (fdatasync) measured first as the anchor: appending small records with one fsync per batch (and per record, for scale), replaying them into per-key changes, scanning, and a major dump of a large x2i index with changes from a WAL (its output size over dd's rate is the floor).`;
  static override examples = ['<%= config.bin %> bench wal', '<%= config.bin %> bench wal --records 1000000 --dump-keys 1000000 --json'];
  static override flags = {
    dir: Flags.string({ description: 'scratch folder on the disk to measure (removed afterwards)', default: 'bench/data/wal' }),
    records: Flags.integer({ description: 'records to append and replay', default: 4_000_000, min: 1000 }),
    'dump-keys': Flags.integer({ description: 'keys of the x2i index the major dump rewrites', default: 10_000_000, min: 1000 }),
    'list-len': Flags.integer({ description: 'items per list of that index', default: 4, min: 1 }),
    'dump-changes': Flags.integer({ description: 'WAL changes the dump applies', default: 1_000_000, min: 1 }),
  };

  async run(): Promise<WalBenchResult> {
    const { flags } = await this.parse(BenchWal);
    const { runWalBench } = await import('../../core/bench/wal.js');
    return runWalBench({
      dir: flags.dir,
      records: flags.records,
      dumpKeys: flags['dump-keys'],
      listLen: flags['list-len'],
      dumpChanges: flags['dump-changes'],
      onLine: (l) => this.say(l),
    });
  }
}
