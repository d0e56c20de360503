import { Flags } from '@oclif/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RecallCommand } from '../../cli/base-command.js';
import type { TextBenchResult } from '../../core/bench/text.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

export default class BenchInverted extends RecallCommand<TextBenchResult> {
  static override summary = 'Benchmark the text index against a plain typed-array index, FlexSearch and MiniSearch in one run.';
  static override description =
    `Corpus: Debian's dict-gcide + dict-wn (273,546 entries, 70.8 MB; installed with apt-get on first use), prepared with the team harness ../shared/tools/text-bench with its 1,000 seeded queries per class (1 term, 2-term AND, 2-term OR).
Every engine runs in its own process with the same protocol; rounds alternate the engines and the best round per figure is kept. Writes inverted.json and inverted.md to --out-dir. Takes about 5 minutes a round.`;
  static override examples = ['<%= config.bin %> bench inverted', '<%= config.bin %> bench inverted --rounds 1 --libs naive,recall'];
  static override flags = {
    rounds: Flags.integer({
      description:
        'rounds (each engine once per round; the best round per engine and class counts: one run of an engine varies by a quarter on a busy machine)',
      default: 5,
      min: 1,
    }),
    libs: Flags.string({
      description: 'engines, comma-separated: naive, flexsearch, minisearch, recall, recall-pairs',
      default: 'naive,flexsearch,minisearch,recall,recall-pairs',
    }),
    'max-docs': Flags.integer({ description: 'use only the first N documents', min: 1 }),
    harness: Flags.string({ description: 'the text benchmark harness folder (default: ../shared/tools/text-bench beside the package)' }),
    work: Flags.string({ description: 'corpus, queries and index files (default: $XDG_CACHE_HOME/recall/text)' }),
    'out-dir': Flags.string({ description: 'where inverted.json and .md go (default: bench/results in the package)' }),
  };

  async run(): Promise<TextBenchResult> {
    const { flags } = await this.parse(BenchInverted);
    const { runTextBench, textBenchMarkdown } = await import('../../core/bench/text.js');
    const r = runTextBench({
      harness: flags.harness ?? join(root, '../shared/tools/text-bench'),
      work: flags.work ?? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'recall', 'text'),
      adapter: join(root, 'bench/helpers/text-recall.mjs'),
      rounds: flags.rounds,
      libs: flags.libs.split(','),
      maxDocs: flags['max-docs'],
      onProgress: (m) => this.progress.start(m),
    });
    this.progress.stop();
    const outDir = flags['out-dir'] ?? join(root, 'bench/results');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'inverted.json'), `${JSON.stringify(r, null, 2)}\n`);
    writeFileSync(join(outDir, 'inverted.md'), `${textBenchMarkdown(r)}\n`);
    this.say(textBenchMarkdown(r));
    return r;
  }
}
