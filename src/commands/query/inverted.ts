import { Args, Flags } from '@oclif/core';
import { RecallCommand } from '../../cli/base-command.js';
import { walQueryFlags, warnTorn } from '../../cli/flags/wal.js';
import { ExitCode, usage } from '../../core/errors.js';
import type { QueryTextResult } from '../../core/channels/text/query.js';

export default class QueryInverted extends RecallCommand<QueryTextResult> {
  static override summary = 'Search a text index: BM25 top-k for a query string or a file of queries.';
  static override description =
    `Syntax: words next to each other are ANDed (--or: ORed); AND, OR, NOT (upper case), -word, ( ), "two words" (a phrase: exact adjacency when the index has --pairs adjacent, else both words), field:word, word^2 (boost).
Results: score descending, then document order; scores are BM25 (k1, b from the index unless given).
--index is a .rti file, a version folder or a channel folder (its CURRENT version). A version with delta layers (recall dump --delta) and, with --wal, the documents of the WAL tail are searched as one collection; documents a newer layer replaced or deleted are dropped (they still count in the BM25 statistics, and in the hit count, shown as ~N, until the index is rebuilt from its source).
A word with a colon after a name that is no field of the index (zzz:walleye) is an error (UNKNOWN_FIELD); quote it to search the words.
--queries-file: one query per line (plain text, not JSON); - reads them from stdin.
Exit codes: 2 for an error in the one query (syntax, NOT_ONLY_QUERY, BAD_BOOST, QUERY_TOO_LARGE, UNKNOWN_FIELD); with --queries-file each failed line is reported with its error, the others are answered, and the exit code is 3.`;
  static override examples = [
    '<%= config.bin %> query inverted --index out/text "apple AND (pie OR tart) -recipe"',
    '<%= config.bin %> query inverted --index out/text --queries-file queries.txt -k 10 --json',
    'cat queries.txt | <%= config.bin %> query inverted --index out/text --queries-file -',
    '<%= config.bin %> query inverted --index out/text --wal out/wal "new words"',
  ];
  static override args = { query: Args.string({ description: 'the query (or --queries-file)', ignoreStdin: true }) };
  static override flags = {
    index: Flags.string({ description: 'text index file, version folder or channel folder', required: true }),
    q: Flags.string({ description: 'one query, the same as the argument (kept for old scripts)', exclusive: ['queries-file'] }),
    'queries-file': Flags.string({ description: 'file with one query per line; - for stdin' }),
    k: Flags.integer({ char: 'k', description: 'hits per query (0: count only)', default: 10, min: 0 }),
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
    const { args, flags } = await this.parse(QueryInverted);
    if (args.query !== undefined && (flags.q !== undefined || flags['queries-file'] !== undefined))
      throw usage('ERR_RECALL_USAGE', 'pass the query as the argument or --queries-file, not both', {
        fix: 'drop one of them',
      });
    const { withChannelReader } = await import('../../cli/channel-reader.js');
    const { readTextQueries, textQueryReport } = await import('../../core/channels/text/query.js');
    const q = args.query ?? flags.q;
    const queries = await readTextQueries({ q, queriesFile: flags['queries-file'] });
    const open = { wal: flags.wal, asOf: flags['as-of'], skipCorrupt: flags['skip-corrupt'], analyzerOverride: flags['analyzer-override'] };
    const r = await withChannelReader(flags.index, 'text', open, async (text) =>
      textQueryReport(
        flags.index,
        q !== undefined,
        await text.searchMany(queries, {
          k: flags.k,
          defaultOr: flags.or,
          usePairs: !flags['no-pairs'],
          matchAllPureNot: flags['match-all-pure-not'],
          k1: flags.k1 === undefined ? undefined : Number(flags.k1),
          b: flags.b === undefined ? undefined : Number(flags.b),
          threads: flags.threads,
          signal: this.signal,
        }),
      ),
    );
    this.say('id\tscore');
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
    if (r.errors) {
      process.stderr.write(`recall: ${r.errors} of ${r.results.length} queries failed (listed above)\n`);
      this.exitCode = ExitCode.BadInput;
    }
    return r;
  }
}
