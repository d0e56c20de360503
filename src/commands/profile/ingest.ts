import { Args, Flags } from '@oclif/core';
import { RecallCommand } from '../../cli/base-command.js';
import { requireFiles } from '../../core/io/paths.js';
import { parseLabels, profileReadFlags, readOptions } from '../../cli/flags/profile.js';
import type { IngestResult } from '../../core/profile/store/ingest.js';
import { requirePath } from '../../core/io/paths.js';
import { existsSync } from 'node:fs';

export default class ProfileIngest extends RecallCommand<IngestResult> {
  static override summary = 'Append profiles (perf text, pprof, async-profiler, folded; gz) to a Parquet profile store.';
  static override description = `Every profile needs an app and a version label (--label, --labels-from or pprof labels), else exit 2;
a file where nothing parses is exit 3; in both cases nothing is stored. Ingesting the same file with the same labels again adds nothing (reported as skipped). A kill at any moment leaves a readable store; concurrent ingests both land.
Layout and schema: docs/profile-store.md.`;
  static override examples = [
    '<%= config.bin %> profile ingest pods/*.perf.gz --store profiles --label app=search --label version=1.3 --label commit=1a2b3c',
    "<%= config.bin %> profile ingest dump/ --store profiles --labels-from '{app}/{version}/{pod}.perf.gz' --time 2026-12-01T00:00:00Z",
  ];
  static override strict = false;
  static override args = { files: Args.string({ description: 'profile files or folders of them', required: true }) };
  static override flags = {
    store: Flags.string({ description: 'store folder (created when absent)', required: true }),
    label: Flags.string({
      description: 'label key=value[,key=value] (repeatable): app and version required; commit, dc, pod...',
      multiple: true,
    }),
    time: Flags.string({ description: 'start time of the profiles (ISO 8601; default: file modification time)' }),
    'labels-from': Flags.string({ description: "labels from each path's tail, e.g. '{app}/{version}/{pod}.perf.gz' (--label wins)" }),
    ...profileReadFlags,
  };

  async run(): Promise<IngestResult> {
    const { argv, flags } = await this.parse(ProfileIngest);
    if (existsSync(flags.store)) await requirePath(flags.store, 'folder', '--store');
    const files = requireFiles(argv as string[]);
    const { ingest } = await import('../../core/profile/store/ingest.js');
    const result = await ingest(
      files,
      { store: flags.store, labels: parseLabels(flags.label), time: flags.time, labelsFrom: flags['labels-from'] },
      { read: readOptions(flags), threads: flags.threads, progress: this.progress, signal: this.signal },
    );
    for (const w of result.warnings) process.stderr.write(`recall: warning: ${w}\n`);
    this.summary(
      `${result.added.length} profile(s) added, ${result.skipped.length} already stored${result.ingestId ? ` (ingest ${result.ingestId})` : ''}`,
    );
    for (const s of result.skipped) this.say(`  skipped ${s.source}: ${s.reason} (${s.id})`);
    return result;
  }
}
