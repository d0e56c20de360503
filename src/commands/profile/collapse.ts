import { Args, Flags } from '@oclif/core';
import { RecallCommand } from '../../cli/base-command.js';
import { requireInputFiles } from '../../core/io/paths.js';
import { profileReadFlags, readOptions } from '../../cli/flags/profile.js';
import type { CollapseResult } from '../../core/profile/run.js';

export default class ProfileCollapse extends RecallCommand<CollapseResult> {
  static override summary = 'Collapse perf script text, pprof or folded files into folded stacks.';
  static override description =
    `Inputs are summed into one folded output, sorted by stack. perf text is weighted by the event's period (nanoseconds for cpu-clock), only the first event type is kept unless --event says otherwise; pprof reads the cpu sample type and expands inlined frames. Bad lines are counted and reported; a file where nothing parses is exit 3.`;
  static override examples = [
    'perf script > out.perf && <%= config.bin %> profile collapse out.perf -o out.folded',
    '<%= config.bin %> profile collapse cpu.pb.gz --sample-type cpu',
    '<%= config.bin %> profile collapse perf.txt --compat flamegraph --kernel',
  ];
  static override strict = false;
  static override args = { files: Args.string({ description: 'profile files (perf text, folded, pprof; gzip ok)', required: true }) };
  static override flags = {
    output: Flags.string({ char: 'o', description: 'write the folded stacks here (default: stdout)' }),
    ...profileReadFlags,
  };

  async run(): Promise<CollapseResult> {
    const { argv, flags } = await this.parse(ProfileCollapse);
    const files = requireInputFiles(argv as string[]);
    const { collapse } = await import('../../core/profile/run.js');
    const { result, folded } = await collapse(files, flags.output, {
      read: readOptions(flags),
      threads: flags.threads,
      progress: this.progress,
      signal: this.signal,
    });
    for (const w of result.warnings) process.stderr.write(`recall: warning: ${w}\n`);
    if (!flags.output && !this.jsonEnabled()) process.stdout.write(folded);
    return result;
  }
}
