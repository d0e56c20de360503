import { Args, Flags } from '@oclif/core';
import { RecallCommand } from '../../cli/base-command.js';
import { requireInputFiles } from '../../core/io/paths.js';
import { parseLabels, profileReadFlags, readOptions } from '../../cli/flags/profile.js';
import type { MergeResult } from '../../core/profile/run.js';

export default class ProfileMerge extends RecallCommand<MergeResult> {
  static override summary = 'Merge the profiles of many pods into one side: folded stacks plus per-pod totals and labels.';
  static override description =
    `The folded output is the sum of all pods; --json-out records each pod's totals (kept for the statistics of a later diff) and the --label metadata (app, version, dc, ...).`;
  static override examples = [
    '<%= config.bin %> profile merge pods/*.perf.txt -o v1.3.folded --json-out v1.3.json --label app=search,version=1.3,dc=x',
  ];
  static override strict = false;
  static override args = { files: Args.string({ description: 'one profile file per pod', required: true }) };
  static override flags = {
    output: Flags.string({ char: 'o', description: 'merged folded stacks (default: stdout)' }),
    'json-out': Flags.string({ description: 'per-pod totals and labels as JSON' }),
    label: Flags.string({ description: 'metadata key=value[,key=value] (repeatable)', multiple: true }),
    ...profileReadFlags,
  };

  async run(): Promise<MergeResult> {
    const { argv, flags } = await this.parse(ProfileMerge);
    const files = requireInputFiles(argv as string[]);
    const labels = parseLabels(flags.label);
    const { merge } = await import('../../core/profile/run.js');
    const job = { read: readOptions(flags), threads: flags.threads, progress: this.progress, signal: this.signal };
    const { result, folded } = await merge(files, flags.output, flags['json-out'], labels, job);
    for (const w of result.warnings) process.stderr.write(`recall: warning: ${w}\n`);
    if (!flags.output && !this.jsonEnabled()) process.stdout.write(folded);
    return result;
  }
}
