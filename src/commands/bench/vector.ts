import { Flags } from '@oclif/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RecallCommand } from '../../cli/base-command.js';
import type { VectorBenchResult } from '../../core/bench/vector.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

export default class BenchVector extends RecallCommand<VectorBenchResult> {
  static override summary = 'Benchmark the vector indexes against hnswlib-node and usearch in one run of the team ANN harness.';
  static override description =
    `Drives ../shared/tools/ann-bench: Fashion-MNIST (Debian's dataset-fashion-mnist, installed with apt-get on first use) or a synthetic 1M x 128 set, exact ground truth, recall@10 by the ann-benchmarks rule, QPS per CPU-second, single thread. Writes the curves as JSON and an HTML plot to --out-dir. Takes minutes (the 1M set: an hour).`;
  static override examples = ['<%= config.bin %> bench vector', '<%= config.bin %> bench vector --data synth1m --runs 1'];
  static override flags = {
    data: Flags.string({ description: 'data set', options: ['fashion', 'synth1m'], default: 'fashion' }),
    queries: Flags.integer({ description: 'queries per search setting (default: all of Fashion-MNIST, 1,000 of synth1m)', min: 1 }),
    runs: Flags.integer({ description: 'search rounds per setting; the best is kept', default: 2, min: 1 }),
    harness: Flags.string({ description: 'the ANN harness folder (default: ../shared/tools/ann-bench beside the package)' }),
    work: Flags.string({ description: 'data, peer modules and raw results (default: $XDG_CACHE_HOME/recall/ann)' }),
    'out-dir': Flags.string({ description: 'where vector-<data>.json and .html go (default: bench/results in the package)' }),
  };

  async run(): Promise<VectorBenchResult> {
    const { flags } = await this.parse(BenchVector);
    const { runVectorBench, vectorBenchHtml, vectorBenchMarkdown } = await import('../../core/bench/vector.js');
    const r = runVectorBench({
      harness: flags.harness ?? join(root, '../shared/tools/ann-bench'),
      work: flags.work ?? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'recall', 'ann'),
      dataset: flags.data as 'fashion' | 'synth1m',
      queries: flags.queries,
      runs: flags.runs,
      recallBin: join(root, 'bin/run.js'),
    });
    const outDir = flags['out-dir'] ?? join(root, 'bench/results');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, `vector-${flags.data}.json`), `${JSON.stringify(r, null, 2)}\n`);
    writeFileSync(join(outDir, `vector-${flags.data}.html`), vectorBenchHtml(r));
    this.say(vectorBenchMarkdown(r));
    return r;
  }
}
