import { Flags } from '@oclif/core';
import { RecallCommand } from '../../cli/base-command.js';
import { parseNumberOrPercent } from '../../cli/flags/percent.js';
import { requireInputFiles, requirePath } from '../../core/io/paths.js';
import { ExitCode, usage } from '../../core/errors.js';
import { parseLabels, profileReadFlags, readOptions } from '../../cli/flags/profile.js';
import type { DiffJobResult } from '../../core/profile/run.js';

const GATE = 'GATE';
const NAMES = 'NAME NORMALISATION';

export default class ProfileDiff extends RecallCommand<DiffJobResult> {
  static override summary = 'Diff base against head profiles (many pods a side) into a differential flame graph and a CI gate.';
  static override description =
    `Each side is the merge of its files. Deltas are in percentage points of each side's total by default (--mode share), so unequal load does not paint everything red; --mode absolute compares per pod, --mode per-unit per request (--base-units/--head-units). A function regresses when its --metric delta is at least --threshold-pp, |z| >= --z on sample counts, it has --min-samples, and (with 2+ pods a side) the pods agree: every head pod is beyond every base pod, or with 5+ pods a side a one-sided Mann-Whitney U test over their shares gives p <= 0.01.

Exit codes: 0 no gated regression, 4 at least one, 3 bad input (nothing parsed, mixed units or events), 2 bad flags.`;
  static override examples = [
    '<%= config.bin %> profile diff --base base/*.perf.txt --head head/*.perf.txt -o diff.html --md-out summary.md',
    '<%= config.bin %> profile diff --base v1/*.pb.gz --head v2/*.pb.gz --threshold-pp 1 --json-out summary.json --fail-on-added',
  ];
  static override flags = {
    base: Flags.string({
      description: "base profile files (one per pod); with --store a selector 'app=A,version=V1'",
      multiple: true,
      required: true,
    }),
    head: Flags.string({
      description: "head profile files (one per pod); with --store a selector 'app=A,version=V2'",
      multiple: true,
      required: true,
    }),
    store: Flags.string({ description: 'profile store (recall profile ingest): --base/--head select labels in it' }),
    where: Flags.string({ description: "with --store: labels both sides must have, e.g. 'dc=X'" }),
    output: Flags.string({ char: 'o', description: 'differential flame graph HTML (self-contained, offline)' }),
    'json-out': Flags.string({ description: 'versioned JSON summary' }),
    'md-out': Flags.string({ description: 'Markdown summary (PR comment, $GITHUB_STEP_SUMMARY)' }),
    'folded-out': Flags.string({ description: 'three-column folded diff (stack base head; base scaled to the head total in share mode)' }),
    title: Flags.string({ description: 'title of the HTML page' }),
    timestamp: Flags.boolean({ description: 'put the generation time into the HTML (off: outputs are deterministic)' }),
    'base-label': Flags.string({ description: 'name of the base side', default: 'base' }),
    'head-label': Flags.string({ description: 'name of the head side', default: 'head' }),
    'base-meta': Flags.string({ description: 'base metadata key=value[,...] (app, version, dc)', multiple: true }),
    'head-meta': Flags.string({ description: 'head metadata key=value[,...]', multiple: true }),
    mode: Flags.string({
      description: 'share (pp of each side total), absolute (per pod), per-unit (per unit of load)',
      options: ['share', 'absolute', 'per-unit'],
      default: 'share',
      helpGroup: GATE,
    }),
    'base-units': Flags.string({ description: 'per-unit mode: base load (e.g. requests)', helpGroup: GATE }),
    'head-units': Flags.string({ description: 'per-unit mode: head load', helpGroup: GATE }),
    'threshold-pp': Flags.string({ description: 'gate: minimum delta in percentage points', default: '1', helpGroup: GATE }),
    metric: Flags.string({
      description: 'gate on inclusive (total) or self time',
      options: ['total', 'self'],
      default: 'total',
      helpGroup: GATE,
    }),
    'threshold-rel': Flags.string({
      description: 'gate also on a relative increase (e.g. 10%) of functions above --min-share',
      helpGroup: GATE,
    }),
    'min-share': Flags.string({ description: 'minimum head share (%) for --threshold-rel', default: '0.5', helpGroup: GATE }),
    'min-samples': Flags.integer({
      description: 'samples (both sides) below which nothing is gated or coloured',
      default: 20,
      min: 0,
      helpGroup: GATE,
    }),
    z: Flags.string({ description: 'minimum |z| (two-proportion test on sample counts)', default: '2', helpGroup: GATE }),
    ignore: Flags.string({ description: 'regex of functions never gated (noise)', helpGroup: GATE }),
    allow: Flags.string({ description: 'regex of functions allowed to grow (accepted regressions)', helpGroup: GATE }),
    'fail-on-added': Flags.boolean({ description: 'any added function with enough samples fails the gate', helpGroup: GATE }),
    'fail-on-insufficient': Flags.boolean({
      description: 'a delta over the threshold without enough evidence fails the gate',
      helpGroup: GATE,
    }),
    'strip-annotations': Flags.boolean({
      description: 'strip _[k] _[j] _[i] _[0] _[1] suffixes',
      default: true,
      allowNo: true,
      helpGroup: NAMES,
    }),
    'strip-hex': Flags.boolean({ description: 'hex literals -> 0x...', default: true, allowNo: true, helpGroup: NAMES }),
    'normalize-lambdas': Flags.boolean({
      description: 'Java $$Lambda+0x.../123 -> $$Lambda',
      default: true,
      allowNo: true,
      helpGroup: NAMES,
    }),
    'normalize-paths': Flags.boolean({
      description: '/tmp/perf-PID.map and per-run temp folders',
      default: true,
      allowNo: true,
      helpGroup: NAMES,
    }),
    'fix-rust': Flags.boolean({ description: 'Rust legacy hashes and $LT$ escapes', default: true, allowNo: true, helpGroup: NAMES }),
    'strip-params': Flags.boolean({
      description: 'top-level parameter lists and trailing " const"',
      default: true,
      allowNo: true,
      helpGroup: NAMES,
    }),
    root: Flags.string({
      description: 'root frame: keep (comm) or drop (across apps / PIDs in roots)',
      options: ['keep', 'drop'],
      default: 'keep',
      helpGroup: NAMES,
    }),
    'fold-regex': Flags.string({ description: 'REGEX=>REPLACEMENT applied to every frame (repeatable)', multiple: true, helpGroup: NAMES }),
    'drop-frames': Flags.string({ description: 'regex of frames to remove from stacks (e.g. runtime\\.asyncPreempt)', helpGroup: NAMES }),
    'prune-pct': Flags.string({ description: 'graph: leave out paths under this share (%) on both sides', default: '0.01' }),
    ...profileReadFlags,
  };

  async run(): Promise<DiffJobResult> {
    const { flags } = await this.parse(ProfileDiff);
    if (flags.store) await requirePath(flags.store, 'folder', '--store');
    const num = parseNumberOrPercent;
    for (const re of ['ignore', 'allow'] as const) {
      const v = flags[re];
      if (v !== undefined) {
        try {
          new RegExp(v);
        } catch (e) {
          throw usage('ERR_RECALL_REGEX', `--${re} "${v}" is not a valid regular expression (${(e as Error).message})`, {
            fix: 'escape ( [ + * with \\',
          });
        }
      }
    }
    const { diff } = await import('../../core/profile/run.js');
    const fromStore = flags.store
      ? async (...args: Parameters<typeof diff>) =>
          (await import('../../core/profile/store/diff.js')).diffFromStore(flags.store!, flags.where, ...args)
      : undefined;
    if (!flags.store && flags.where) throw usage('ERR_RECALL_FLAG', '--where needs --store', { fix: 'add --store DIR' });
    const { result, markdown } = await (fromStore ?? diff)(
      flags.store ? flags.base : requireInputFiles(flags.base, '--base'),
      flags.store ? flags.head : requireInputFiles(flags.head, '--head'),
      {
        mode: flags.mode as 'share' | 'absolute' | 'per-unit',
        baseUnits: num('base-units', flags['base-units']),
        headUnits: num('head-units', flags['head-units']),
        thresholds: {
          thresholdPp: num('threshold-pp', flags['threshold-pp']),
          metric: flags.metric as 'self' | 'total',
          thresholdRel: num('threshold-rel', flags['threshold-rel']) ?? null,
          minShare: num('min-share', flags['min-share']),
          minSamples: flags['min-samples'],
          z: num('z', flags.z),
          failOnAdded: flags['fail-on-added'],
          ignore: flags.ignore ?? null,
          allow: flags.allow ?? null,
        },
        normalize: {
          annotations: flags['strip-annotations'],
          hex: flags['strip-hex'],
          lambdas: flags['normalize-lambdas'],
          paths: flags['normalize-paths'],
          rust: flags['fix-rust'],
          params: flags['strip-params'],
          root: flags.root as 'keep' | 'drop',
          foldRegex: flags['fold-regex'],
          dropFrames: flags['drop-frames'],
        },
        prunePct: num('prune-pct', flags['prune-pct']),
        failOnInsufficient: flags['fail-on-insufficient'],
        labels: { base: flags['base-label'], head: flags['head-label'] },
        meta: { base: parseLabels(flags['base-meta'], '--base-meta'), head: parseLabels(flags['head-meta'], '--head-meta') },
      },
      {
        html: flags.output,
        json: flags['json-out'],
        md: flags['md-out'],
        folded: flags['folded-out'],
        title: flags.title,
        timestamp: flags.timestamp,
        tool: `recall ${this.config.version}`,
      },
      { read: readOptions(flags), threads: flags.threads, progress: this.progress, signal: this.signal },
    );
    this.say(markdown);
    if (result.verdict === 'regression') this.exitCode = ExitCode.GateFailed;
    return result;
  }
}
