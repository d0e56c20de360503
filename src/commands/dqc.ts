import { Args, Flags } from '@oclif/core';
import { RecallCommand } from '../cli/base-command.js';
import type { DqcReport } from '../core/dqc/run.js';

export default class Dqc extends RecallCommand<DqcReport> {
  static override summary =
    'Check the data quality of a candidate index version against the live one, per channel and shard; exit 4 on a breach.';
  static override description =
    `NEW and --against LIVE are build output folders (channels paired by name), channel folders or version folders. Checks: key / row / document counts and their change; list length, score and norm distributions (quantiles, population stability index); the share of sampled keys whose top 10 changed (Jaccard below 0.5); empty lists, items listed twice, NaN or out-of-range scores; text vocabulary size; vector recall@10 of the index against an exact scan of its own rows. Without --against only the candidate's own checks run.
Thresholds come from the dqc section of --config (defaults otherwise); a breach names the check, the channel, the shard and the values. See docs/eval.md.`;
  static override examples = [
    '<%= config.bin %> dqc new-out --against live-out',
    '<%= config.bin %> dqc out/x2i/v00000007 --against out/x2i/v00000006 --config recall.config.json --json',
  ];
  static override args = {
    candidate: Args.string({ description: 'the candidate: build output, channel or version folder', required: true }),
  };
  static override flags = {
    against: Flags.string({ description: 'the live version: build output, channel or version folder' }),
    config: Flags.string({ char: 'c', description: 'recall.config.json with a dqc section (thresholds)' }),
    sample: Flags.integer({ description: 'keys sampled per shard (default: the config, 2000)', min: 10 }),
    markdown: Flags.string({ description: 'write the Markdown report here' }),
  };

  async run(): Promise<DqcReport> {
    const { args, flags } = await this.parse(Dqc);
    const { ExitCode } = await import('../core/errors.js');
    const { DQC_DEFAULTS, loadConfig } = await import('../core/config/load.js');
    const { requirePath } = await import('../core/io/paths.js');
    const { writeFileAtomic } = await import('../core/io/atomic.js');
    const { describeBreach, runDqc } = await import('../core/dqc/run.js');
    const { renderDqcMarkdown } = await import('../core/dqc/render.js');
    const thresholds = flags.config ? (await loadConfig(flags.config)).dqc : { ...DQC_DEFAULTS };
    if (flags.sample) thresholds.sample = flags.sample;
    await requirePath(args.candidate, 'folder', 'NEW');
    if (flags.against) await requirePath(flags.against, 'folder', '--against');
    const report = await runDqc(args.candidate, flags.against ?? null, thresholds);
    const md = renderDqcMarkdown(report);
    if (flags.markdown) await writeFileAtomic(flags.markdown, md);
    this.say(md);
    for (const b of report.breaches) process.stderr.write(`recall: dqc breach: ${describeBreach(b)}\n`);
    if (report.breached) this.exitCode = ExitCode.GateFailed;
    return report;
  }
}
