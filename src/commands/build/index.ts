import { Flags } from '@oclif/core';
import { RecallCommand } from '../../cli/base-command.js';
import type { ConfigBuildResult } from '../../core/pipeline/config-build.js';

export default class Build extends RecallCommand<ConfigBuildResult> {
  static override summary = 'Build every channel of a recall service from recall.config.json: shard, build all shards, publish.';
  static override description =
    `The config (JSON Schema: schema/recall.config.schema.json in the package) names the sources (parquet inputs and
their key column), the shard count and the channels (x2i, vector, inverted) with their parameters. Steps:
shard each source into OUT/shards/<source>/ (reused when its manifest matches the inputs' sha256, key and shard
count), build every channel's shards in a pool of worker threads sized to the cores, and publish one new version
per channel (OUT/<channel>/v<N>/, CURRENT replaced atomically). Ctrl-C leaves no visible partial version.
Scale-out: --prepare shards the sources only; --shard K builds shard K of every channel into OUT/<channel>/.parts/
(a Kubernetes Indexed Job runs one K per pod); --publish checks every part is there and publishes. The files are
byte-identical to a one-shot build. A vector channel is one index over its whole source (built with shard 0).`;
  static override examples = [
    '<%= config.bin %> build --config recall.config.json',
    '<%= config.bin %> build --config recall.config.json --only x2i,text --json',
    '<%= config.bin %> build --config recall.config.json --prepare',
    '<%= config.bin %> build --config recall.config.json --shard $JOB_COMPLETION_INDEX',
    '<%= config.bin %> build --config recall.config.json --publish',
  ];
  static override flags = {
    config: Flags.string({ char: 'c', description: 'recall.config.json', required: true }),
    out: Flags.string({ char: 'o', description: 'output folder (default: the config\'s "out")' }),
    only: Flags.string({ description: 'build only these channels (comma-separated names)' }),
    shard: Flags.integer({
      description: 'build only shard K of every channel, as parts for --publish',
      min: 0,
      exclusive: ['prepare', 'publish'],
    }),
    prepare: Flags.boolean({ description: 'only shard the sources (the first step of a distributed build)', exclusive: ['publish'] }),
    publish: Flags.boolean({ description: 'publish the parts the --shard jobs built (the last step)' }),
    threads: Flags.integer({ description: 'parts built at once (default: the config\'s "threads", else the CPU count)', min: 1 }),
  };

  async run(): Promise<ConfigBuildResult> {
    const { flags } = await this.parse(Build);
    const { buildFromConfig } = await import('../../core/pipeline/config-build.js');
    this.progress.start('building', 0, 'parts');
    const r = await buildFromConfig(
      {
        config: flags.config,
        out: flags.out,
        only: flags.only?.split(',').filter(Boolean),
        shard: flags.shard,
        prepare: flags.prepare,
        publish: flags.publish,
        threads: flags.threads,
      },
      { signal: this.signal, onPart: (done, total) => this.progress.update(done, undefined, total) },
    );
    this.progress.stop();
    for (const s of r.sources)
      this.say(
        `source ${s.source}: ${s.rows} rows in ${s.folder} (${s.reused ? 'reused: same inputs' : `sharded in ${s.seconds.toFixed(1)} s`})`,
      );
    if (r.channels.length) {
      const rows = [
        ['channel', 'kind', 'version', 'files', 'keys/docs', 'items', 'MB', 'CPU s'],
        ...r.channels.map((c) => [
          c.channel,
          c.kind,
          c.version === null ? 'parts' : `v${c.version}`,
          String(c.files),
          String(c.keys),
          String(c.items),
          (c.bytes / 1e6).toFixed(1),
          c.cpuSeconds.toFixed(1),
        ]),
      ];
      const w = rows[0]!.map((_, i) => Math.max(...rows.map((x) => x[i]!.length)));
      for (const x of rows) this.say(x.map((v, i) => (i < 2 ? v.padEnd(w[i]!) : v.padStart(w[i]!))).join('  '));
    }
    this.say(`${r.mode === 'all' ? 'built' : r.mode} in ${(r.elapsedMs / 1000).toFixed(1)} s -> ${r.out}`);
    return r;
  }
}
