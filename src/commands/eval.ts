import { Flags } from '@oclif/core';
import { RecallCommand } from '../cli/base-command.js';
import type { EvalReport } from '../core/eval/render.js';

export default class Eval extends RecallCommand<EvalReport> {
  static override summary =
    'Replay held-out interactions against an index version: Recall, HitRate, NDCG, MRR, coverage per channel and merged, with bootstrap intervals.';
  static override description =
    `For each user, the history before --split-time (or all of --interactions, with --holdout giving the truth) builds a merge request: x2i seeds from the last N distinct items, the user's vector (--user-vectors) and text (--user-text); the history is excluded from every list, and the distinct items after the split that are not in it are the truth. Each channel's list and the merged list (the merge section of --config) are scored at every K; intervals are percentile bootstraps over users (seeded).
--against DIR evaluates a second version on the same users and reports the paired difference with its interval; --against-config FILE (or a file given to --against) evaluates a second merge config the same way, over --against or the same index; --gate 'recall@50 >= -1%' (METRIC@K, optionally SCOPE.METRIC@K, >= a relative % or an absolute value) exits 4 when the whole interval lies below the threshold. Metric definitions: docs/eval.md.`;
  static override examples = [
    '<%= config.bin %> eval --config recall.config.json --index-root out --interactions events.parquet --split-time 2026-11-01T00:00:00Z --k 10,50,200',
    "<%= config.bin %> eval --config recall.config.json --index-root new --against live --interactions events.parquet --split-time 1764547200 --gate 'recall@50 >= -1%' --html eval.html",
  ];
  static override flags = {
    config: Flags.string({ char: 'c', description: 'recall.config.json with a merge section', required: true }),
    'index-root': Flags.string({ description: 'the build output folder to evaluate', required: true, aliases: ['index'] }),
    against: Flags.string({
      description: 'a second build output folder, evaluated on the same users (a file here is taken as --against-config)',
    }),
    'against-config': Flags.string({
      description: 'a second recall.config.json whose merge section is evaluated on the same users (over --against, else --index-root)',
    }),
    interactions: Flags.string({ description: 'parquet of interactions (user, item, time)', required: true }),
    'split-time': Flags.string({
      description: 'history before, truth from (seconds since the epoch or an ISO date)',
      exclusive: ['holdout'],
    }),
    holdout: Flags.string({ description: 'parquet of held-out (user, item) rows: the truth' }),
    k: Flags.string({ char: 'k', description: 'cut-offs, comma-separated', default: '10,50,200' }),
    gate: Flags.string({ description: "a gate such as 'recall@50 >= -1%' (repeatable)", multiple: true }),
    'user-col': Flags.string({ description: 'user column', default: 'user_id' }),
    'item-col': Flags.string({ description: 'item column', default: 'item_id' }),
    'ts-col': Flags.string({ description: 'time column (timestamp or seconds)', default: 'ts' }),
    'user-vectors': Flags.string({ description: 'parquet of (user, vector): the vector channels query' }),
    'user-text': Flags.string({ description: 'parquet of (user, text): the text channels query' }),
    seeds: Flags.integer({ description: 'x2i seeds per user (default: the config, 20)', min: 1 }),
    fusion: Flags.option({ options: ['weighted', 'rrf'] as const, description: 'fusion rule (default: the config)' })(),
    resamples: Flags.integer({ description: 'bootstrap resamples', default: 500, min: 10 }),
    seed: Flags.integer({ description: 'bootstrap seed', default: 1, min: 0 }),
    'max-users': Flags.integer({ description: 'evaluate at most this many users', min: 1 }),
    markdown: Flags.string({ description: 'write the Markdown report here' }),
    html: Flags.string({ description: 'write the self-contained HTML report here' }),
    lists: Flags.string({ description: "write every user's lists (per channel and merged) here as JSON lines" }),
    threads: Flags.integer({ description: 'threads of the vector and text searches', default: 1, min: 1 }),
    batch: Flags.integer({ description: 'users per batch of channel calls', default: 512, min: 1 }),
  };

  async run(): Promise<EvalReport> {
    const { flags } = await this.parse(Eval);
    const { badInput, usage, ExitCode } = await import('../core/errors.js');
    const { loadConfig } = await import('../core/config/load.js');
    const { requirePath } = await import('../core/io/paths.js');
    const { stat } = await import('node:fs/promises');
    const { writeFileAtomic } = await import('../core/io/atomic.js');
    const { evaluate } = await import('../api/index.js');
    const { renderEvalHtml, renderEvalMarkdown } = await import('../core/eval/render.js');
    const config = await loadConfig(flags.config);
    if (!config.merge)
      throw badInput('ERR_RECALL_BAD_CONFIG', `${flags.config}: has no "merge" section`, {
        file: flags.config,
        fix: 'add "merge": {"channels": {"<channel>": {"quota": 200, "weight": 1}}} (docs/eval.md)',
      });
    const ks = flags.k.split(',').map((x) => Number(x.trim()));
    if (ks.some((k) => !Number.isInteger(k) || k < 1))
      throw usage('ERR_RECALL_FLAG', `--k ${flags.k}: not a list of positive integers`, { fix: 'e.g. --k 10,50,200' });
    await requirePath(flags['index-root'], 'folder', '--index-root');
    let against = flags.against;
    let againstConfig = flags['against-config'];
    if (against && !againstConfig && (await stat(against).catch(() => null))?.isFile()) {
      againstConfig = against;
      against = undefined;
    }
    if (against) await requirePath(against, 'folder', '--against');
    let againstMerge: { merge: NonNullable<typeof config.merge>; name: string } | undefined;
    if (againstConfig) {
      const other = await loadConfig(againstConfig);
      if (!other.merge)
        throw badInput('ERR_RECALL_BAD_CONFIG', `${againstConfig}: has no "merge" section`, {
          file: againstConfig,
          fix: 'add "merge": {"channels": {"<channel>": {"quota": 200, "weight": 1}}} (docs/eval.md)',
        });
      againstMerge = { merge: other.merge, name: againstConfig };
    }
    const lines: string[] = [];
    this.progress.start('users', 0, 'users');
    const report = await evaluate({
      index: flags['index-root'],
      against,
      againstMerge,
      merge: { ...config.merge, seeds: flags.seeds ?? config.merge.seeds, fusion: flags.fusion ?? config.merge.fusion },
      interactions: flags.interactions,
      splitTime: flags['split-time'],
      holdout: flags.holdout,
      user: flags['user-col'],
      item: flags['item-col'],
      ts: flags['ts-col'],
      userVectors: flags['user-vectors'],
      userText: flags['user-text'],
      maxUsers: flags['max-users'],
      ks,
      resamples: flags.resamples,
      seed: flags.seed,
      gates: flags.gate,
      threads: flags.threads,
      batch: flags.batch,
      onLists: flags.lists
        ? (index, users, lists) => {
            users.forEach((user, i) => lines.push(JSON.stringify({ index, user, lists: lists[i] })));
          }
        : undefined,
      onProgress: (done) => this.progress.update(done),
    });
    this.progress.stop();
    if (flags.lists) {
      await writeFileAtomic(flags.lists, lines.join('\n') + (lines.length ? '\n' : ''));
      report.lists = flags.lists;
    }
    const md = renderEvalMarkdown(report);
    if (flags.markdown) {
      await writeFileAtomic(flags.markdown, md);
      report.markdown = flags.markdown;
    }
    if (flags.html) {
      await writeFileAtomic(flags.html, renderEvalHtml(report));
      report.html = flags.html;
    }
    this.say(md);
    for (const g of report.gates.filter((x) => x.breached))
      process.stderr.write(
        `recall: gate breached: ${g.text}: ${g.relative ? `${(g.value * 100).toFixed(2)}%` : g.value} (interval ${g.lo} .. ${g.hi})\n`,
      );
    if (report.breached) this.exitCode = ExitCode.GateFailed;
    return report;
  }
}
