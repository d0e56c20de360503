import { Flags } from '@oclif/core';
import { existsSync } from 'node:fs';
import { RecallCommand } from '../../cli/base-command.js';
import { usage } from '../../core/errors.js';
import type { BuildPlan, ConfigBuildResult } from '../../core/pipeline/config-build.js';

const DEFAULT_CONFIG = 'recall.config.json';

export default class Build extends RecallCommand<ConfigBuildResult | BuildPlan> {
  static override summary = 'Build every channel of a recall service from recall.config.json: shard, build all shards, publish.';
  static override description =
    `The config (./recall.config.json unless --config; JSON Schema: schema/recall.config.schema.json in the package) names the sources (parquet inputs and their key column), the shard count and the channels (x2i, vector, inverted) with their parameters. Steps:
shard each source into OUT/shards/<source>/ (reused when its manifest matches the inputs' sha256, key and shard count), build every channel's shards in a pool of worker threads sized to the cores, and publish one new version per channel (OUT/<channel>/v<N>/, CURRENT replaced atomically). Ctrl-C leaves no visible partial version.
Scale-out: --prepare shards the sources only; --shard K builds shard K of every channel into OUT/<channel>/.parts/ (a Kubernetes Indexed Job runs one K per pod); --publish checks every part is there and publishes (with --gate-dqc, only once the data-quality checks of the parts against the live versions pass). The files are byte-identical to a one-shot build. A vector channel is one index over its whole source (built with shard 0).
Parts are kept per version and build id (a digest of the channel's config and inputs): shard jobs may run twice at once, be killed and re-run, or run after --publish (then they do nothing); --publish refuses with exit 2, naming the missing parts, until every part is there, and a second --publish of the same build is a no-op.
--plan prints the steps and every part (channel, shard, inputs, output, command) for a scheduler to fan out.`;
  static override examples = [
    '<%= config.bin %> build                       # ./recall.config.json',
    '<%= config.bin %> build --config recall.config.json --keep 3',
    '<%= config.bin %> build --config recall.config.json --only x2i,text --json',
    '<%= config.bin %> build --config recall.config.json --prepare',
    '<%= config.bin %> build --config recall.config.json --shard $JOB_COMPLETION_INDEX',
    '<%= config.bin %> build --config recall.config.json --publish',
    '<%= config.bin %> build --config recall.config.json --plan --json',
  ];
  static override flags = {
    config: Flags.string({ char: 'c', description: 'recall.config.json (default: ./recall.config.json)' }),
    out: Flags.string({ char: 'o', description: 'output folder (default: the config\'s "out")' }),
    only: Flags.string({ description: 'build only these channels (comma-separated names)' }),
    shard: Flags.integer({
      description: 'build only shard K of every channel, as parts for --publish',
      min: 0,
      exclusive: ['prepare', 'publish', 'plan'],
    }),
    prepare: Flags.boolean({
      description: 'only shard the sources (the first step of a distributed build)',
      exclusive: ['publish', 'plan'],
    }),
    plan: Flags.boolean({
      description: 'print the steps and parts of a distributed build (for a scheduler) and build nothing',
      exclusive: ['publish'],
    }),
    publish: Flags.boolean({ description: 'publish the parts the --shard jobs built (the last step)' }),
    threads: Flags.integer({ description: 'parts built at once (default: the config\'s "threads", else the CPU count)', min: 1 }),
    'discard-updates': Flags.boolean({ description: 'build over a live version holding WAL updates (from recall dump), dropping them' }),
    keep: Flags.integer({
      description: 'keep this many newest versions of each channel (and the layers they read); default: keep all',
      min: 1,
    }),
    'gate-dqc': Flags.boolean({
      description:
        'check the new versions against the live ones (recall dqc, the thresholds of the config) before publishing; exit 4 and publish nothing on a breach (one-shot builds, or with --publish)',
    }),
  };

  async run(): Promise<ConfigBuildResult | BuildPlan> {
    const { flags } = await this.parse(Build);
    const config = flags.config ?? DEFAULT_CONFIG;
    if (flags.config === undefined && !existsSync(config))
      throw usage('ERR_RECALL_NO_CONFIG', `no --config given and no ${DEFAULT_CONFIG} in ${process.cwd()}`, {
        fix: 'pass --config FILE, or run in the folder holding recall.config.json',
      });
    if (flags['gate-dqc'] && (flags.plan || flags.prepare || flags.shard !== undefined))
      throw usage(
        'ERR_RECALL_USAGE',
        `--gate-dqc with ${flags.plan ? '--plan' : flags.prepare ? '--prepare' : `--shard ${flags.shard}`}: the gate checks versions before they are published, and this step publishes nothing`,
        { fix: 'pass --gate-dqc to the --publish step of a scale-out build (or to a one-shot build)' },
      );
    if (flags.plan) {
      const { planBuild } = await import('../../core/pipeline/config-build.js');
      const plan = await planBuild({ config, out: flags.out, only: flags.only?.split(',').filter(Boolean) });
      for (const s of plan.steps) this.say(`${s.step.padEnd(7)}  ${s.jobs} job(s)  ${s.command.join(' ')}`);
      for (const p of plan.parts) this.say(`part  ${p.channel} shard ${p.shard}  ${p.inputs.join(',')} -> ${p.output}`);
      return plan;
    }
    const { buildFromConfig } = await import('../../core/pipeline/config-build.js');
    this.progress.start('building', 0, 'parts');
    const r = await buildFromConfig(
      {
        config,
        out: flags.out,
        only: flags.only?.split(',').filter(Boolean),
        shard: flags.shard,
        prepare: flags.prepare,
        publish: flags.publish,
        threads: flags.threads,
        keep: flags.keep,
        discardUpdates: flags['discard-updates'],
        gateDqc: flags['gate-dqc'],
      },
      { signal: this.signal, onPart: (done, total) => this.progress.update(done, undefined, total) },
    );
    this.progress.stop();
    for (const s of r.sources)
      this.summary(
        `source ${s.source}: ${s.rows} rows in ${s.folder} (${s.reused ? 'reused: same inputs' : `sharded in ${(s.elapsedMs / 1000).toFixed(1)} s`})`,
      );
    if (r.channels.length) {
      const rows = [
        ['channel', 'kind', 'version', 'files', 'keys/docs', 'items', 'MB', 'CPU s'],
        ...r.channels.map((c) => [
          c.channel,
          c.kind,
          c.version === null ? 'parts' : `v${c.version}${c.alreadyPublished ? ' (already live)' : ''}`,
          String(c.files),
          String(c.entries),
          String(c.items),
          (c.fileBytes / 1e6).toFixed(1),
          (c.cpuMs / 1000).toFixed(1),
        ]),
      ];
      const w = rows[0]!.map((_, i) => Math.max(...rows.map((x) => x[i]!.length)));
      for (const x of rows) this.summary(x.map((v, i) => (i < 2 ? v.padEnd(w[i]!) : v.padStart(w[i]!))).join('  '));
    }
    for (const c of r.channels) if (c.removedVersions.length) this.summary(`${c.channel}: removed v${c.removedVersions.join(', v')}`);
    this.summary(`${r.mode === 'all' ? 'built' : r.mode} in ${(r.elapsedMs / 1000).toFixed(1)} s -> ${r.out}`);
    return r;
  }
}
