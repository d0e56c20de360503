import { Flags } from '@oclif/core';
import { join, resolve } from 'node:path';
import { RecallCommand } from '../../cli/base-command.js';
import type { X2iBenchRow } from '../../core/bench/x2i.js';

export interface BenchX2iResult {
  bench: 'x2i';
  rows: X2iBenchRow[];
}

export default class BenchX2i extends RecallCommand<BenchX2iResult> {
  static override summary = 'Benchmark item-CF and Swing against a plain JavaScript implementation of the same formulas.';
  static override description =
    `Generates synthetic interactions with planted partner pairs (cached in $XDG_CACHE_HOME/recall, or --data) and runs the package's plain JavaScript floor on them: reports compute seconds (1 and 2 threads), the ratio to the floor, and partner recall@10 of both, measured in one run.`;
  static override examples = [
    '<%= config.bin %> bench x2i',
    '<%= config.bin %> bench x2i --events 200000 --users 20000 --items 10000 --json',
  ];
  static override flags = {
    users: Flags.integer({ default: 100_000, min: 10 }),
    items: Flags.integer({ default: 50_000, min: 10 }),
    events: Flags.integer({ description: 'interactions to generate', default: 1_000_000, min: 100 }),
    data: Flags.string({ description: 'where the generated data is cached (default: $XDG_CACHE_HOME/recall/x2i)' }),
  };

  async run(): Promise<BenchX2iResult> {
    const { flags } = await this.parse(BenchX2i);
    const { benchCacheDir, runX2iBench, x2iBenchLine } = await import('../../core/bench/x2i.js');
    const rows = await runX2iBench({
      dataDir: flags.data ? resolve(flags.data) : join(benchCacheDir(), 'x2i'),
      users: flags.users,
      items: flags.items,
      events: flags.events,
      onRow: (r) => this.say(x2iBenchLine(r)),
    });
    return { bench: 'x2i', rows };
  }
}
