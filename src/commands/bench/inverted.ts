import { Flags } from '@oclif/core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RecallCommand } from '../../cli/base-command.js';
import type { TextBenchResult } from '../../core/bench/text.js';
import { usage } from '../../core/errors.js';

export default class BenchInverted extends RecallCommand<TextBenchResult> {
  static override summary = 'Benchmark the text index against a plain typed-array index, FlexSearch and MiniSearch in one run.';
  static override description =
    `Corpus: Debian's dict-gcide + dict-wn (273,546 entries, 70.8 MB; \`apt-get install dict-gcide dict-wn\`: a missing package is an error naming that command, exit 2), made into a corpus with 1,000 seeded queries per class (1 term, 2-term AND, 2-term OR) in --work on first use.
The peers (FlexSearch, MiniSearch) are installed from npm into --cache on first use, not into the package.
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
    work: Flags.string({ description: 'corpus, queries and index files (default: $XDG_CACHE_HOME/recall/text)' }),
    cache: Flags.string({ description: 'where the npm peers are installed (default: $XDG_CACHE_HOME/recall)' }),
    dictd: Flags.string({ description: 'the dictd folder holding gcide and wn (default: /usr/share/dictd)' }),
    queries: Flags.integer({ description: 'queries per class when the corpus is made', default: 1000, min: 10 }),
    'out-dir': Flags.string({ description: 'where inverted.json and .md go', default: 'bench-out' }),
  };

  async run(): Promise<TextBenchResult> {
    const { flags } = await this.parse(BenchInverted);
    const { runTextBench, textBenchMarkdown, TEXT_ENGINES } = await import('../../core/bench/text.js');
    const { benchCacheDir } = await import('../../core/bench/peers.js');
    const libs = flags.libs.split(',');
    const unknown = libs.filter((l) => !TEXT_ENGINES.includes(l));
    if (unknown.length)
      throw usage('ERR_RECALL_USAGE', `--libs: no engine ${unknown.join(', ')}`, { fix: `choose from ${TEXT_ENGINES.join(', ')}` });
    const r = await runTextBench({
      work: flags.work ?? join(benchCacheDir(), 'text'),
      cache: flags.cache ?? benchCacheDir(),
      dictd: flags.dictd,
      queries: flags.queries,
      rounds: flags.rounds,
      libs,
      maxDocs: flags['max-docs'],
      onProgress: (m) => this.progress.start(m),
    });
    this.progress.stop();
    const outDir = flags['out-dir'];
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'inverted.json'), `${JSON.stringify(r, null, 2)}\n`);
    writeFileSync(join(outDir, 'inverted.md'), `${textBenchMarkdown(r)}\n`);
    this.say(textBenchMarkdown(r));
    return r;
  }
}
