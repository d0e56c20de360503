import { Flags } from '@oclif/core';
import { RecallCommand } from '../cli/base-command.js';
import type { MergeBatchReport } from '../core/merge/batch.js';
import type { MergeRequest } from '../core/merge/gather.js';

export interface MergeCommandResult extends Omit<MergeBatchReport, 'results'> {
  index: string;
  fusion: 'weighted' | 'rrf';
  k: number;
  /** The merged lists (absent when written to --out). */
  results?: MergeBatchReport['results'];
  out?: string;
  requestsPerSecond: number;
}

export default class Merge extends RecallCommand<MergeCommandResult> {
  static override summary = 'Merge the channels of a build into one list per request: quotas, filters, de-duplication and score fusion.';
  static override description =
    `The merge section of --config names the channels with their quota and weight, the fusion (weighted: the sum of weight x the channel's min-max normalised score; rrf: reciprocal-rank fusion) and optional allow / deny list files. A request gives x2i seeds (items with weights), a query vector and a query text, and items to exclude; each merged item keeps the channels that found it with their ranks and scores.
--request takes one request as JSON; --requests a JSON-lines or parquet file of them, answered in batches (one call per channel per batch), written to --out as JSON lines when given. See docs/eval.md.`;
  static override examples = [
    `<%= config.bin %> merge --config recall.config.json --index out --request '{"seeds":[{"item":42,"weight":1}],"text":"red shoes"}'`,
    '<%= config.bin %> merge --config recall.config.json --index out --requests requests.jsonl --out merged.jsonl --json',
  ];
  static override flags = {
    config: Flags.string({ char: 'c', description: 'recall.config.json with a merge section', required: true }),
    index: Flags.string({ description: 'the build output folder (one folder per channel)', required: true }),
    request: Flags.string({ description: 'one request as JSON', exclusive: ['requests'] }),
    requests: Flags.string({ description: 'a JSON-lines or parquet file of requests' }),
    out: Flags.string({ char: 'o', description: 'write the merged lists here as JSON lines' }),
    k: Flags.integer({ char: 'k', description: 'length of the merged list (default: the config)', min: 1 }),
    fusion: Flags.option({ options: ['weighted', 'rrf'] as const, description: 'fusion rule (default: the config)' })(),
    threads: Flags.integer({ description: 'threads of the vector and text searches', default: 1, min: 1 }),
    batch: Flags.integer({ description: 'requests per batch of channel calls', default: 1024, min: 1 }),
  };

  async run(): Promise<MergeCommandResult> {
    const { flags } = await this.parse(Merge);
    const { usage, badInput } = await import('../core/errors.js');
    const { loadConfig } = await import('../core/config/load.js');
    const { requirePath } = await import('../core/io/paths.js');
    const { mergeFilterOf, mergeRequests, mergeSpecOf } = await import('../core/merge/batch.js');
    const { readRequests, toRequest } = await import('../core/merge/requests.js');
    const { openIndex } = await import('../api/index.js');
    const { writeFileAtomic } = await import('../core/io/atomic.js');
    const config = await loadConfig(flags.config);
    if (!config.merge)
      throw badInput('ERR_RECALL_BAD_CONFIG', `${flags.config}: has no "merge" section`, {
        file: flags.config,
        fix: 'add "merge": {"channels": {"<channel>": {"quota": 200, "weight": 1}}} (docs/eval.md)',
      });
    if (!flags.request && !flags.requests)
      throw usage('ERR_RECALL_USAGE', 'no request given', { fix: 'pass --request JSON or --requests FILE' });
    await requirePath(flags.index, 'folder', '--index');
    const spec = mergeSpecOf({ ...config.merge, k: flags.k ?? config.merge.k, fusion: flags.fusion ?? config.merge.fusion });
    let reqs: MergeRequest[];
    if (flags.request) {
      let v: unknown;
      try {
        v = JSON.parse(flags.request);
      } catch (e) {
        throw usage('ERR_RECALL_FLAG', `--request: not JSON (${(e as Error).message})`, { fix: 'pass one request as a JSON object' });
      }
      reqs = [toRequest(v, { file: '--request', row: 0 })];
    } else reqs = await readRequests(flags.requests!);
    const filter = await mergeFilterOf(config.merge);
    const ix = await openIndex(flags.index);
    const t0 = process.hrtime.bigint();
    let r: MergeBatchReport;
    try {
      r = await mergeRequests(ix.channels, spec, reqs, { filter, threads: flags.threads, batch: flags.batch });
    } finally {
      await ix.close();
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const { roundMs } = await import('../core/io/units.js');
    const result: MergeCommandResult = {
      index: flags.index,
      fusion: spec.fusion,
      k: spec.k,
      requests: r.requests,
      channelMs: Object.fromEntries(Object.entries(r.channelMs).map(([c, t]) => [c, roundMs(t)])),
      mergeMs: roundMs(r.mergeMs),
      textErrors: r.textErrors,
      requestsPerSecond: Math.round(r.requests / Math.max(seconds, 1e-9)),
    };
    if (flags.out) {
      await writeFileAtomic(flags.out, r.results.map((x) => JSON.stringify(x)).join('\n') + (r.results.length ? '\n' : ''));
      result.out = flags.out;
      this.summary(`${r.requests} requests merged -> ${flags.out} (${seconds.toFixed(2)} s)`);
    } else {
      result.results = r.results;
      for (const [i, x] of r.results.entries()) {
        this.say(`# request ${x.id ?? i + 1}`);
        this.say('rank\titem\tscore\tchannels (rank:score)');
        x.items.forEach((m, j) =>
          this.say(
            `${j + 1}\t${m.item}\t${+m.score.toPrecision(6)}\t${m.from.map((p) => `${p.channel}#${p.rank}:${+p.score.toPrecision(6)}`).join(' ')}`,
          ),
        );
      }
    }
    return result;
  }
}
