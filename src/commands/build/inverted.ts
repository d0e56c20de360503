import { Flags } from '@oclif/core';
import { availableParallelism } from 'node:os';
import { RecallCommand } from '../../cli/base-command.js';
import { usage } from '../../core/errors.js';
import { type KeptVersions, keepVersions } from '../../cli/keep.js';
import type { BuildTextResult } from '../../core/channels/text/build.js';

export default class BuildInverted extends RecallCommand<BuildTextResult & KeptVersions> {
  static override summary = 'Build a text index (inverted + optional forward index and term-pair postings, BM25) from documents.';
  static override description =
    `Documents come from parquet files/folders/globs, a \`recall shard\` folder (one index file per shard) or JSON lines, as an id column and one or more text columns (each a field; weights multiply its BM25 contribution).
Analyzers: standard (NFKC, lowercase, runs of letters/digits/marks; Han/kana as overlapping bigrams) and jieba (Chinese words via @node-rs/jieba: search mode at index time, plain cut at query time). A duplicated id keeps its last row (the count is reported). The bytes depend only on the input and the flags, never on --threads.
The file is written as the next version of the --out channel folder and published only when complete.`;
  static override examples = [
    '<%= config.bin %> build inverted --input docs.parquet --id doc_id --text title,body --field-weights 2,1 --out out/text',
    '<%= config.bin %> build inverted --input corpus.jsonl --id id --text text --pairs cooc --out out/text',
    '<%= config.bin %> build inverted --input zh.parquet --id id --text body --analyzer jieba --pairs adjacent --out out/text-zh',
  ];
  static override flags = {
    input: Flags.string({
      char: 'i',
      description: 'parquet files/folders/globs, a shard folder, or one .jsonl file',
      required: true,
      multiple: true,
    }),
    'input-format': Flags.string({ description: 'input format (default: from the file name)', options: ['parquet', 'jsonl'] }),
    id: Flags.string({ description: 'id column (integers or strings)', required: true }),
    text: Flags.string({ description: 'text column(s), comma-separated: one field each', required: true }),
    'field-weights': Flags.string({ description: 'comma-separated weight per --text column (default 1 each)' }),
    analyzer: Flags.string({ description: 'text analyzer', options: ['standard', 'jieba'], default: 'standard' }),
    'max-token-bytes': Flags.integer({ description: 'longer tokens are dropped (and counted)', default: 255, min: 1, max: 255 }),
    'max-doc-bytes': Flags.integer({ description: 'refuse a document with more text than this', default: 32 << 20, min: 1 }),
    pairs: Flags.string({
      description: 'term-pair postings: co-occurring (speeds up AND), adjacent (phrases of two words), or none',
      options: ['off', 'cooc', 'adjacent'],
      default: 'off',
    }),
    'pair-budget': Flags.integer({
      description: 'bytes of pair postings at most (the pairs saving the most postings are kept)',
      default: 4 << 20,
      min: 0,
    }),
    'pair-min-df': Flags.integer({
      description: 'pair candidates: the (at most 2048) terms in at least this many docs (default max(1000, docs/1000))',
      min: 1,
    }),
    'pair-min-pair-df': Flags.integer({ description: 'keep pairs found in at least this many docs', default: 64, min: 2 }),
    forward: Flags.boolean({ description: 'also write the forward index (doc -> terms)' }),
    tombstones: Flags.string({
      description: 'file of ids (one per line; - for stdin) to mark deleted: never returned, statistics unchanged',
    }),
    k1: Flags.string({ description: 'BM25 k1 stored as the default', default: '1.2' }),
    b: Flags.string({ description: 'BM25 b stored as the default', default: '0.75' }),
    threads: Flags.integer({ description: 'build threads (the bytes do not depend on it)', min: 1 }),
    shard: Flags.integer({ description: 'with a shard folder: build only shard K (one job of a distributed build)', min: 0 }),
    'discard-updates': Flags.boolean({ description: 'build over a live version holding WAL updates (from recall dump), dropping them' }),
    keep: Flags.integer({ description: 'keep this many newest versions (and the layers they read); default: keep all', min: 1 }),
    out: Flags.string({ char: 'o', description: 'channel folder (a new version is published in it)', required: true }),
  };

  async run(): Promise<BuildTextResult & KeptVersions> {
    const { flags } = await this.parse(BuildInverted);
    const { buildText } = await import('../../core/channels/text/build.js');
    const num = (v: string, name: string) => {
      const x = Number(v);
      if (!Number.isFinite(x) || x < 0)
        throw usage('ERR_RECALL_USAGE', `--${name} ${v} is not a non-negative number`, { fix: `e.g. --${name} 1.2` });
      return x;
    };
    this.progress.start('building the text index');
    const r = await buildText(
      {
        inputs: flags.input,
        inputFormat: flags['input-format'] as 'parquet' | 'jsonl' | undefined,
        id: flags.id,
        text: flags.text
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        weights: flags['field-weights']?.split(',').map((w) => num(w, 'field-weights')),
        analyzer: flags.analyzer as 'standard' | 'jieba',
        maxTokenBytes: flags['max-token-bytes'],
        maxDocBytes: flags['max-doc-bytes'],
        pairs: flags.pairs as 'off' | 'cooc' | 'adjacent',
        pairBudget: flags['pair-budget'],
        pairMinDf: flags['pair-min-df'],
        pairMinPairDf: flags['pair-min-pair-df'],
        forward: flags.forward,
        tombstones: flags.tombstones,
        k1: num(flags.k1, 'k1'),
        b: num(flags.b, 'b'),
        threads: flags.threads ?? availableParallelism(),
        out: flags.out,
        discardUpdates: flags['discard-updates'],
      },
      this.signal,
    );
    this.progress.stop();
    for (const f of r.files) {
      if (f.duplicates)
        process.stderr.write(
          `recall: ${f.file}: ${f.duplicates} duplicated id(s), the last row of each kept (e.g. ${f.duplicateExamples.join(', ')})\n`,
        );
      if (f.droppedTokens) process.stderr.write(`recall: ${f.file}: ${f.droppedTokens} token(s) longer than --max-token-bytes dropped\n`);
      if (f.unknownTombstones) process.stderr.write(`recall: ${f.file}: ${f.unknownTombstones} tombstone id(s) not in the index\n`);
    }
    const terms = r.files.reduce((a, f) => a + f.terms, 0);
    const pairs = r.files.reduce((a, f) => a + f.pairs, 0);
    this.summary(
      `${r.docs} docs (${r.rows} rows), ${terms} terms${pairs ? `, ${pairs} pairs` : ''} -> ${r.version.dir} (${(r.fileBytes / 1e6).toFixed(1)} MB, read ${(r.readMs / 1000).toFixed(2)} s, build ${(r.buildMs / 1000).toFixed(2)} s, ${(r.buildCpuMs / 1000).toFixed(2)} CPU-s)`,
    );
    return { ...r, ...(await keepVersions(flags.out, flags.keep, (l) => this.summary(l))) };
  }
}
