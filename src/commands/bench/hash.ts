import { Flags } from '@oclif/core';
import { RecallCommand } from '../../cli/base-command.js';
import type { HashBenchRow } from '../../core/bench/hash.js';

export interface BenchHashResult {
  bench: 'hash';
  reps: number;
  rows: HashBenchRow[];
}

export default class BenchHash extends RecallCommand<BenchHashResult> {
  static override summary = 'Benchmark NeighborHash lookups against linear probing, the random-access bound and a JS Map.';
  static override description =
    `Single thread, batches through the Node API, 90% hits, load 0.79. Reports ns per lookup (best of --reps), APCL (average cache lines per hit lookup) and the ratios, all measured in one run.`;
  static override examples = ['<%= config.bin %> bench hash', '<%= config.bin %> bench hash --slots 20 --reps 3 --json'];
  static override flags = {
    slots: Flags.integer({ description: 'table sizes as powers of two (repeatable)', multiple: true, default: [22, 25], min: 10, max: 28 }),
    reps: Flags.integer({ description: 'repetitions; the best is reported', default: 5, min: 1 }),
  };

  async run(): Promise<BenchHashResult> {
    const { flags } = await this.parse(BenchHash);
    const { runHashBench, hashBenchMarkdown } = await import('../../core/bench/hash.js');
    this.progress.start('benchmarking', flags.slots.length, 'sizes');
    const rows = runHashBench({ slotBits: flags.slots, reps: flags.reps, onRow: () => this.progress.tick() });
    this.progress.stop();
    this.say(hashBenchMarkdown(rows, flags.reps));
    return { bench: 'hash', reps: flags.reps, rows };
  }
}
