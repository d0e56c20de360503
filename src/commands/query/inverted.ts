import { readFile } from 'node:fs/promises';
import { Flags } from '@oclif/core';
import { RecallCommand } from '../../cli/base-command.js';
import { walQueryFlags, warnTorn } from '../../cli/flags/wal.js';
import type { QueryTextResult } from '../../core/channels/text/query.js';

export default class QueryInverted extends RecallCommand<QueryTextResult> {
  static override summary = 'Search a text index: BM25 top-k for a query string or a file of queries.';
  static override description = `Syntax: words next to each other are ANDed (--or: ORed); AND, OR, NOT (upper case), -word, ( ), "two words"
(a phrase: exact adjacency when the index has --pairs adjacent, else both words), field:word, word^2 (boost).
Results: score descending, then document order; scores are BM25 (k1, b from the index unless given).
--index is a .rti file, a version folder or a channel folder (its CURRENT version). A version with delta layers
(recall dump --delta) and, with --wal, the documents of the WAL tail are searched as one collection; documents
a newer layer replaced or deleted are dropped (they still count in the BM25 statistics, and in the hit count,
shown as ~N, until the index is rebuilt from its source).
Exit codes: 2 for a query error with --q (syntax, NOT_ONLY_QUERY, BAD_BOOST, QUERY_TOO_LARGE); with
--queries-file such errors are reported per query.`;
  static override examples = [
    '<%= config.bin %> query inverted --index out/text --q "apple AND (pie OR tart) -recipe"',
    '<%= config.bin %> query inverted --index out/text --queries-file queries.txt --k 10 --json',
    '<%= config.bin %> query inverted --index out/text --wal out/wal --q "new words"',
  ];
  static override flags = {
    index: Flags.string({ description: 'text index file, version folder or channel folder', required: true }),
    q: Flags.string({ description: 'one query', exclusive: ['queries-file'] }),
    'queries-file': Flags.string({ description: 'file with one query per line' }),
    k: Flags.integer({ description: 'hits per query (0: count only)', default: 10, min: 0 }),
    or: Flags.boolean({ description: 'words next to each other are ORed (default: ANDed)' }),
    'no-pairs': Flags.boolean({ description: 'do not use the term-pair postings (same results, for comparison)' }),
    'match-all-pure-not': Flags.boolean({ description: 'let a query of only NOT terms match every other document' }),
    k1: Flags.string({ description: "BM25 k1 (default: the index's)" }),
    b: Flags.string({ description: "BM25 b (default: the index's)" }),
    threads: Flags.integer({ description: 'query threads for --queries-file', default: 1, min: 1 }),
    'analyzer-override': Flags.boolean({ description: 'query even if this installation analyzes differently from the index' }),
    ...walQueryFlags,
  };

  async run(): Promise<QueryTextResult> {
    const { flags } = await this.parse(QueryInverted);
    const { openIndex, usage } = await import('../../api/index.js');
    if (flags.q === undefined && flags['queries-file'] === undefined)
      throw usage('ERR_RECALL_USAGE', 'no query: pass --q "..." or --queries-file FILE', { fix: 'e.g. --q "apple AND pie"' });
    const queries =
      flags.q !== undefined ? [flags.q] : (await readFile(flags['queries-file']!, 'utf8')).split('\n').filter((l) => l.trim());
    const ix = await openIndex(flags.index, {
      wal: flags.wal,
      asOf: flags['as-of'],
      skipCorrupt: flags['skip-corrupt'],
      analyzerOverride: flags['analyzer-override'],
    });
    let batch: Awaited<ReturnType<NonNullable<typeof ix.text>['searchMany']>>;
    try {
      if (!ix.text)
        throw usage('ERR_RECALL_NOT_AN_INDEX', `${flags.index}: holds no text (inverted) channel, or more than one`, {
          file: flags.index,
          fix: 'pass an inverted channel folder, version folder or .rti file',
        });
      batch = await ix.text.searchMany(queries, {
        k: flags.k,
        defaultOr: flags.or,
        usePairs: !flags['no-pairs'],
        matchAllPureNot: flags['match-all-pure-not'],
        k1: flags.k1 === undefined ? undefined : Number(flags.k1),
        b: flags.b === undefined ? undefined : Number(flags.b),
        threads: flags.threads,
        signal: this.signal,
      });
    } finally {
      await ix.close();
    }
    const single = flags.q !== undefined ? batch.results[0]! : undefined;
    if (single?.error)
      throw usage(single.error.code, `query "${single.query}": ${single.error.message}`, {
        fix: 'see `recall query inverted --help` for the syntax',
      });
    const { walSeq: _walSeq, ...rest } = batch;
    const r: QueryTextResult = { index: flags.index, ...rest };
    for (const q of r.results) {
      if (r.results.length > 1) this.say(`# ${q.query}`);
      if (q.error) {
        this.say(`error ${q.error.code}: ${q.error.message}`);
        continue;
      }
      this.say(`${q.totalHitsRelation === 'gte' ? '>= ' : q.totalHitsRelation === 'approx' ? '~' : ''}${q.totalHits} hits`);
      for (const h of q.hits) this.say(`${h.id}\t${+h.score.toPrecision(8)}`);
    }
    warnTorn(r.wal);
    if (r.errors) process.stderr.write(`recall: ${r.errors} of ${r.results.length} queries failed (listed above)\n`);
    return r;
  }
}
