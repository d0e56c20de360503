import { Flags } from '@oclif/core';
import { RecallCommand } from '../../cli/base-command.js';
import { walQueryFlags, warnTorn } from '../../cli/flags/wal.js';
import type { QueryVectorResult } from '../../core/channels/vector/query.js';

export default class QueryVector extends RecallCommand<QueryVectorResult> {
  static override summary = 'Search a vector index with a batch of queries: ids and distances of the k nearest.';
  static override description =
    `Queries come from an fbin file, parquet (--vector COL) or JSON lines; --queries - reads JSON lines (or, with --queries-format fbin, an fbin) from stdin. JSON lines: one query per line, a JSON array of numbers or an object {"vector": [...]}, e.g. [0.1, 0.2, 0.3] or {"vector": [0.1, 0.2, 0.3]}; every line has the index's dimension.
One native call searches the batch; searchMs / searchCpuMs exclude loading. Distances: Euclidean for l2, minus the inner product for ip, 1 - cosine for cosine.
Filters apply inside the search: --filter FILE keeps only the ids it lists (one per line), --where a predicate over the integer attribute the index kept (build vector --attr), e.g. 'category = 3', 'price between 2 and 5', 'shop in (7, 9)', joined by and / or / not. A filter that leaves few rows is answered by an exact scan of them (--filter-mode says which; the --json filter.path reports it).
A version with delta layers (recall dump --delta) is searched layer by layer (ids a newer layer replaced or deleted are dropped); --wal adds the vectors upserted after the version's dump seq (scored exactly) and hides the deleted ones.`;
  static override examples = [
    '<%= config.bin %> query vector --index out/vector --queries test.f32 --k 10 --ef 64 --json',
    '<%= config.bin %> query vector --index out/vec-int8 --queries q.jsonl --k 10 --rerank 40',
    '<%= config.bin %> query vector --index out/vec-ivf --queries test.f32 --k 10 --nprobe 16 --ids-out ids.i32',
    '<%= config.bin %> query vector --index out/vector --wal out/wal --queries q.jsonl --k 10',
    "<%= config.bin %> query vector --index out/vector --queries q.jsonl --k 10 --where 'category in (3, 4)'",
    '<%= config.bin %> query vector --index out/vector --queries q.jsonl --k 10 --filter in-stock-ids.txt',
  ];
  static override flags = {
    index: Flags.string({ description: 'vector file, version folder or channel folder', required: true }),
    queries: Flags.string({ description: 'queries: fbin (.f32/.fbin), parquet or JSON lines; - for stdin', required: true }),
    'queries-format': Flags.string({ description: 'queries format (default: from the file name)', options: ['parquet', 'fbin', 'jsonl'] }),
    vector: Flags.string({ description: 'parquet queries: the vector column' }),
    k: Flags.integer({ char: 'k', description: 'neighbours per query', default: 10, min: 1 }),
    ef: Flags.integer({ description: 'hnsw: candidates per query (default max(64, k))', min: 1 }),
    nprobe: Flags.integer({ description: 'ivf: lists scanned per query', default: 8, min: 1 }),
    rerank: Flags.integer({
      description: 're-rank the top R with exact f32 distances (int8/f16 indexes built with --rerank)',
      default: 0,
      min: 0,
    }),
    threads: Flags.integer({ description: 'search threads', default: 1, min: 1 }),
    filter: Flags.string({ description: 'only these ids: a file with one id per line' }),
    where: Flags.string({ description: "only rows whose attribute passes, e.g. 'category = 3' (index built with --attr)" }),
    'filter-mode': Flags.string({
      description: 'auto: scan the allowed rows when cheaper than a filtered index search; index or scan to force one',
      options: ['auto', 'index', 'scan'],
      default: 'auto',
    }),
    'ids-out': Flags.string({ description: 'also write the ids as an int32 fbin (nq x k)' }),
    ...walQueryFlags,
  };

  async run(): Promise<QueryVectorResult> {
    const { flags } = await this.parse(QueryVector);
    const { withChannelReader } = await import('../../cli/channel-reader.js');
    const { runVectorQuery } = await import('../../core/channels/vector/query.js');
    const o = {
      index: flags.index,
      queries: flags.queries,
      queriesFormat: flags['queries-format'],
      vector: flags.vector,
      k: flags.k,
      ef: flags.ef,
      nprobe: flags.nprobe,
      rerank: flags.rerank,
      threads: flags.threads,
      filter: flags.filter,
      where: flags.where,
      filterMode: flags['filter-mode'] as 'auto' | 'index' | 'scan',
      idsOut: flags['ids-out'],
    };
    const open = { wal: flags.wal, asOf: flags['as-of'], skipCorrupt: flags['skip-corrupt'] };
    const r = await withChannelReader(flags.index, 'vector', open, (vector, t0) => runVectorQuery(vector, o, t0, this.signal));
    warnTorn(r.wal);
    if (!this.jsonEnabled()) {
      const show = Math.min(r.queries, 20);
      this.say('query\tneighbors (id:distance, nearest first)');
      for (let i = 0; i < show; i++) this.say(`${i}\t${r.ids[i]!.map((id, j) => `${id}:${r.distances[i]![j]}`).join(' ')}`);
      if (r.queries > show) this.say(`... ${r.queries - show} more (use --json or --ids-out)`);
      warnTorn(r.wal);
      this.note(
        `${r.queries} queries in ${(r.searchMs / 1000).toFixed(3)} s (${r.qps} QPS per CPU-second), index loaded in ${(r.loadMs / 1000).toFixed(3)} s`,
      );
    }
    return r;
  }
}
