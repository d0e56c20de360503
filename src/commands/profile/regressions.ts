import { Flags } from '@oclif/core';
import { mkdir } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { RecallCommand } from '../../cli/base-command.js';
import { ExitCode, usage } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/io/atomic.js';
import type { LifecycleEntry, RegressionsResult } from '../../core/profile/store/regressions.js';
import { requirePath } from '../../core/io/paths.js';

const GATE = 'GATE';

export default class ProfileRegressions extends RecallCommand<RegressionsResult | { accepted: LifecycleEntry }> {
  static override summary =
    'Scan consecutive versions in a profile store for CPU regressions and name the commits that likely caused them.';
  static override description =
    `Versions are ordered by first-seen time; each is diffed against the one before with the gate of \`profile diff\` (threshold, z, pod agreement). Rises that go away within --confirm N versions and cost that only moved between a function and its callers, callees or siblings are suppressed. With --repo, the commits between the versions' commit labels are ranked by whether they touch the files defining the function. Regressions are recorded in the store (open, fixed when the share returns, accepted with --accept ID --reason TEXT).

Exit codes: 0 no new regression, 4 a new one, 2 bad flags, 3 bad store.`;
  static override examples = [
    '<%= config.bin %> profile regressions --store profiles --app search --repo ~/src/search --md-out alert.md -o regressions.html',
    "<%= config.bin %> profile regressions --store profiles --app search --accept 1a2b3c4d5e --reason 'new ranking model, expected'",
  ];
  static override flags = {
    store: Flags.string({ description: 'profile store', required: true }),
    app: Flags.string({ description: 'app label to scan' }),
    since: Flags.string({ description: 'first version (label) or date (ISO) to report' }),
    repo: Flags.string({ description: 'git clone holding the commits named by the commit labels' }),
    confirm: Flags.integer({ description: 'later versions in which a rise must not go away', default: 2, min: 0 }),
    accept: Flags.string({ description: 'accept regression ID (needs --reason)' }),
    reason: Flags.string({ description: 'why the regression is accepted' }),
    output: Flags.string({ char: 'o', description: 'HTML report (one row per regression, sparkline)' }),
    'json-out': Flags.string({ description: 'JSON report' }),
    'md-out': Flags.string({ description: 'Markdown report (PR comment, chat alert)' }),
    'diff-dir': Flags.string({ description: "write each regression's diff page (ID.html) here; the HTML report links them" }),
    'threshold-pp': Flags.string({ description: 'gate: minimum rise in percentage points', default: '1', helpGroup: GATE }),
    metric: Flags.string({
      description: 'gate on self or inclusive (total) share',
      options: ['self', 'total'],
      default: 'self',
      helpGroup: GATE,
    }),
    z: Flags.string({ description: 'minimum |z| (two-proportion test on sample counts)', default: '2', helpGroup: GATE }),
    'min-samples': Flags.integer({ description: 'samples below which nothing is gated', default: 20, min: 0, helpGroup: GATE }),
    ignore: Flags.string({ description: 'regex of functions never flagged', helpGroup: GATE }),
  };

  async run(): Promise<RegressionsResult | { accepted: LifecycleEntry }> {
    const { flags } = await this.parse(ProfileRegressions);
    await requirePath(flags.store, 'folder', '--store');
    const m = await import('../../core/profile/store/regressions.js');
    if (flags.accept !== undefined) {
      if (!flags.reason) throw usage('ERR_RECALL_FLAG', '--accept needs --reason', { fix: "add --reason 'why it is fine'" });
      const accepted = await m.acceptRegression(flags.store, flags.accept, flags.reason);
      this.say(`accepted ${accepted.id} (${accepted.function}, since ${accepted.firstVersion})`);
      return { accepted };
    }
    if (!flags.app) throw usage('ERR_RECALL_FLAG', '--app is required for a scan', { fix: 'add --app NAME' });
    const num = (name: string, v: string) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0)
        throw usage('ERR_RECALL_FLAG', `--${name} ${v} is not a number >= 0`, { fix: `pass e.g. --${name} 1` });
      return n;
    };
    const result = await m.scanRegressions(
      {
        store: flags.store,
        app: flags.app,
        since: flags.since,
        repo: flags.repo,
        confirm: flags.confirm,
        thresholds: {
          thresholdPp: num('threshold-pp', flags['threshold-pp']),
          metric: flags.metric as 'self' | 'total',
          z: num('z', flags.z),
          minSamples: flags['min-samples'],
          ignore: flags.ignore ?? null,
        },
      },
      this.signal,
    );
    if (flags['diff-dir']) {
      const { diffFromStore } = await import('../../core/profile/store/diff.js');
      for (const g of result.regressions) {
        const page = join(flags['diff-dir'], `${g.id}.html`);
        await diffFromStore(
          flags.store,
          undefined,
          [`app=${flags.app},version=${g.previousVersion}`],
          [`app=${flags.app},version=${g.version}`],
          { thresholds: result.thresholds },
          { html: page, title: `${flags.app}: ${g.function} ${g.previousVersion} → ${g.version}`, tool: `recall ${this.config.version}` },
          { read: {}, signal: this.signal },
        );
        g.diffPage = flags.output ? relative(dirname(resolve(flags.output)), resolve(page)) : page;
      }
    }
    const { regressionsMarkdown, regressionsHtml } = await import('../../core/profile/store/render.js');
    const md = regressionsMarkdown(result);
    const write = async (path: string | undefined, text: string) => {
      if (!path) return;
      await mkdir(dirname(path), { recursive: true });
      await writeFileAtomic(path, text);
    };
    await write(flags.output, regressionsHtml(result));
    await write(flags['json-out'], `${JSON.stringify(result, null, 2)}\n`);
    await write(flags['md-out'], `${md}\n`);
    this.say(md);
    if (result.newRegressions > 0) this.exitCode = ExitCode.GateFailed;
    return result;
  }
}
