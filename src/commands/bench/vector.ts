import { Flags } from '@oclif/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RecallCommand } from '../../cli/base-command.js';
import type { VectorBenchResult } from '../../core/bench/vector.js';
import { usage } from '../../core/errors.js';

const ENGINES = ['recall', 'hnswlib-node', 'usearch', 'faiss'];

export default class BenchVector extends RecallCommand<VectorBenchResult> {
  static override summary = 'Benchmark the vector indexes against hnswlib-node, usearch and faiss in one run.';
  static override description =
    `Data: Fashion-MNIST (Debian's dataset-fashion-mnist: \`apt-get install dataset-fashion-mnist\`; a missing package is an error naming that command, exit 2), a seeded synthetic 1M x 128 set, or a tiny synthetic set; exact ground truth is computed once into --work.
Peers: hnswlib-node and usearch from npm (installed into --cache on first use, not into the package), and faiss HNSW16 and IVF-Flat through python3 when \`import faiss\` works (\`pip install faiss-cpu\`), else skipped with a note.
Recall@10 by the ann-benchmarks rule, QPS per CPU-second, single-threaded search; the summary gives ratios to the best peer of each kind (graph, IVF) at recall 0.95 and 0.99. Writes the curves as JSON and an HTML plot to --out-dir. Takes minutes (the 1M set: an hour).`;
  static override examples = [
    '<%= config.bin %> bench vector',
    '<%= config.bin %> bench vector --data synth1m --runs 1',
    "<%= config.bin %> bench vector --data synth200k --only 'faiss HNSW16' --only 'recall hnsw f32'",
    "taskset -c 1 <%= config.bin %> bench vector --search-rounds 4 --only 'faiss HNSW16' --only 'recall hnsw f32'",
  ];
  static override flags = {
    data: Flags.string({ description: 'data set', options: ['fashion', 'synth1m', 'synth200k', 'tiny'], default: 'fashion' }),
    runs: Flags.integer({ description: 'searches per setting in each build; the best is kept', default: 2, min: 1 }),
    rounds: Flags.integer({
      description:
        'build and measure every row this many times, in the opposite order each round (the best is kept): ratios less exposed to the machine drifting',
      default: 1,
      min: 1,
    }),
    'search-rounds': Flags.integer({
      description:
        'build every row once, then search it in this many fresh processes, in the opposite order each round (the best is kept): search ratios from several processes per side taken close together',
      default: 0,
      min: 0,
    }),
    engines: Flags.string({ description: `engines, comma-separated: ${ENGINES.join(', ')}`, default: ENGINES.join(',') }),
    only: Flags.string({
      description: 'run only this row, by its label in the summary, e.g. "faiss HNSW16" (repeatable)',
      multiple: true,
    }),
    'fashion-dir': Flags.string({ description: 'the Fashion-MNIST folder (default: /usr/share/datasets/fashion-mnist)' }),
    work: Flags.string({ description: 'data sets and scratch files (default: $XDG_CACHE_HOME/recall/ann)' }),
    cache: Flags.string({ description: 'where the npm peers are installed (default: $XDG_CACHE_HOME/recall)' }),
    'out-dir': Flags.string({ description: 'where vector-<data>.json and .html go', default: 'bench-out' }),
  };

  async run(): Promise<VectorBenchResult> {
    const { flags } = await this.parse(BenchVector);
    const { runVectorBench, vectorBenchHtml, vectorBenchMarkdown } = await import('../../core/bench/vector.js');
    const { benchCacheDir } = await import('../../core/bench/peers.js');
    const engines = flags.engines.split(',');
    const unknown = engines.filter((e) => !ENGINES.includes(e));
    if (unknown.length)
      throw usage('ERR_RECALL_USAGE', `--engines: no engine ${unknown.join(', ')}`, { fix: `choose from ${ENGINES.join(', ')}` });
    const r = await runVectorBench({
      work: flags.work ?? join(benchCacheDir(), 'ann'),
      cache: flags.cache ?? benchCacheDir(),
      dataset: flags.data as 'fashion' | 'synth1m' | 'synth200k' | 'tiny',
      fashionDir: flags['fashion-dir'],
      runs: flags.runs,
      rounds: flags.rounds,
      searchRounds: flags['search-rounds'],
      engines,
      only: flags.only,
      onProgress: (m) => this.progress.start(m),
    });
    this.progress.stop();
    const outDir = flags['out-dir'];
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, `vector-${flags.data}.json`), `${JSON.stringify(r, null, 2)}\n`);
    writeFileSync(join(outDir, `vector-${flags.data}.html`), vectorBenchHtml(r));
    this.say(vectorBenchMarkdown(r));
    for (const n of r.notes) this.note(n);
    return r;
  }
}
