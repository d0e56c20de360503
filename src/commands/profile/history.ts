import { Flags } from '@oclif/core';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RecallCommand } from '../../cli/base-command.js';
import { writeFileAtomic } from '../../core/io/atomic.js';
import type { HistoryResult } from '../../core/profile/store/history.js';
import { requirePath } from '../../core/io/paths.js';

export default class ProfileHistory extends RecallCommand<HistoryResult> {
  static override summary = "A function's self and total share per version (or day) from a profile store, with its pod spread.";
  static override description =
    `--function F follows one function; --top N the N functions whose self share moved most over the range. Markdown on stdout, --json, -o a self-contained HTML line chart.`;
  static override examples = [
    '<%= config.bin %> profile history --store profiles --app search --function score_candidates -o history.html',
    '<%= config.bin %> profile history --store profiles --app search --top 5 --by day',
  ];
  static override flags = {
    store: Flags.string({ description: 'profile store', required: true }),
    app: Flags.string({ description: 'app label', required: true }),
    function: Flags.string({ description: 'function name (as stored)', exclusive: ['top'] }),
    top: Flags.integer({ description: 'the N functions that moved most', min: 1, exclusive: ['function'] }),
    by: Flags.string({
      description: 'one point per version (first-seen order) or per day',
      options: ['version', 'day'],
      default: 'version',
    }),
    output: Flags.string({ char: 'o', description: 'HTML line chart' }),
    'md-out': Flags.string({ description: 'Markdown table' }),
  };

  async run(): Promise<HistoryResult> {
    const { flags } = await this.parse(ProfileHistory);
    await requirePath(flags.store, 'folder', '--store');
    const { history } = await import('../../core/profile/store/history.js');
    const { historyMarkdown, historyHtml } = await import('../../core/profile/store/render.js');
    const result = await history(
      { store: flags.store, app: flags.app, function: flags.function, top: flags.top, by: flags.by as 'version' | 'day' },
      this.signal,
    );
    const md = historyMarkdown(result);
    for (const [path, text] of [
      [flags.output, historyHtml(result)],
      [flags['md-out'], `${md}\n`],
    ] as const) {
      if (!path) continue;
      await mkdir(dirname(path), { recursive: true });
      await writeFileAtomic(path, text);
    }
    this.say(md);
    return result;
  }
}
