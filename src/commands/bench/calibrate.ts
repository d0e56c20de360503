import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Flags } from '@oclif/core';
import { RecallCommand } from '../../cli/base-command.js';
import { parseShare } from '../../cli/flags/percent.js';
import { RecallError, usage } from '../../core/errors.js';
import type { GateCalibration } from '../../core/bench/calibrate.js';
import type { BenchName, BenchResult } from '../../core/bench/suite.js';

export interface BenchCalibrateResult extends GateCalibration {
  params: { only: BenchName[]; reps: number; scale: 'small' | 'full'; runs: number; slowdown: number; trials: number };
}

export default class BenchCalibrate extends RecallCommand<BenchCalibrateResult> {
  static override summary = 'Measure how often the `recall bench --baseline` gate is wrong on this machine, and the bound to use.';
  static override description =
    `Records --runs runs of unchanged code and --runs runs slowed --slowdown times (\`recall bench --slowdown\`), in turn, each in its own process, then replays the gate exactly as \`recall bench --baseline\` runs it (a head's re-measures are the runs recorded right after it, as in CI) over --trials random draws: for baselines of each --baseline-runs size and each of --bounds, the share of unchanged runs it fails and of slowed runs it passes. Also each gated figure's drift between runs (the coefficient of variation of its ratio to the anchor). Recommends the smallest bound at which the largest baseline is wrong in at most 1% of draws either way (from 12 runs of each kind on). Run it on the machines your CI gates on: a shared machine's state lasts seconds to minutes and moves every ratio with it, which no statistic over one run's repetitions can see. With the defaults it took 6 minutes on a 2-core VM (2 with --only hash).`;
  static override examples = [
    '<%= config.bin %> bench calibrate --only hash',
    '<%= config.bin %> bench calibrate --only hash --slowdown 1.3 --bounds 10%,15%,20%',
    '<%= config.bin %> bench calibrate --only hash,vector --runs 12 --json',
  ];
  static override flags = {
    only: Flags.string({ description: 'benchmarks to run, comma-separated: hash, vector, text, wal (default: all)' }),
    reps: Flags.integer({ description: 'repetitions per figure in each run, as recall bench --reps', default: 5, min: 1 }),
    scale: Flags.option({ options: ['small', 'full'] as const, description: 'data sizes, as recall bench --scale', default: 'small' })(),
    runs: Flags.integer({ description: 'runs of each kind (unchanged, slowed)', default: 24, min: 4 }),
    slowdown: Flags.string({
      description: 'how much slower the slowed runs are: fractional for hash (e.g. 1.3), whole numbers for the others',
      default: '2',
    }),
    bounds: Flags.string({ description: 'the --max-regression values to try, comma-separated', default: '10%,15%,20%' }),
    'baseline-runs': Flags.string({ description: 'baseline sizes to try (runs pooled), comma-separated', default: '1,3' }),
    trials: Flags.integer({ description: 'random draws per setting', default: 4000, min: 100 }),
  };

  async run(): Promise<BenchCalibrateResult> {
    const { flags } = await this.parse(BenchCalibrate);
    const { BENCHES } = await import('../../core/bench/suite.js');
    const { calibrateGate, MIN_RUNS_TO_RECOMMEND } = await import('../../core/bench/calibrate.js');
    const only = (flags.only?.split(',').filter(Boolean) ?? [...BENCHES]) as BenchName[];
    const bad = only.filter((b) => !BENCHES.includes(b));
    if (bad.length)
      throw usage('ERR_RECALL_USAGE', `--only ${bad.join(',')}: no such benchmark`, { fix: `pick from ${BENCHES.join(', ')}` });
    const slowdown = Number(flags.slowdown);
    if (!(slowdown > 1))
      throw usage('ERR_RECALL_USAGE', `--slowdown ${flags.slowdown} is not a factor above 1`, { fix: 'e.g. --slowdown 2' });
    if (!Number.isInteger(slowdown) && only.some((b) => b !== 'hash'))
      throw usage('ERR_RECALL_USAGE', `--slowdown ${flags.slowdown}: only hash repeats a fraction of its work`, {
        fix: 'pass a whole factor (e.g. 2), or --only hash',
      });
    const bounds = flags.bounds.split(',').map((b) => parseShare('bounds', b));
    const baselineRuns = flags['baseline-runs'].split(',').map((n) => {
      const k = Number(n);
      if (!Number.isInteger(k) || k < 1)
        throw usage('ERR_RECALL_USAGE', `--baseline-runs ${n} is not a run count`, { fix: 'e.g. --baseline-runs 1,3' });
      return k;
    });

    const out = await mkdtemp(join(tmpdir(), 'recall-calibrate-'));
    const run = join(this.config.root, 'bin', 'run.js');
    // Each run in a process of its own. On Ctrl-C the child is stopped and waited for (it removes
    // its own temp files on the way out) before the scratch folder goes.
    const measure = (slowed: boolean) =>
      new Promise<BenchResult>((resolve, reject) => {
        const args = [run, 'bench', '--only', only.join(','), '--reps', String(flags.reps), '--scale', flags.scale, '--out', out, '--json'];
        if (slowed) for (const b of only) args.push('--slowdown', `${b}=${slowdown}`);
        const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        const stop = () => child.kill('SIGTERM');
        this.signal.addEventListener('abort', stop, { once: true });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        child.on('error', reject);
        child.on('close', (code) => {
          this.signal.removeEventListener('abort', stop);
          if (this.signal.aborted) return reject(Object.assign(new Error('interrupted'), { name: 'AbortError' }));
          try {
            resolve((JSON.parse(stdout) as { result: BenchResult }).result);
          } catch {
            reject(new RecallError('ERR_RECALL_INTERNAL', `recall bench exited ${code} without a result: ${stderr.trim()}`));
          }
        });
      });
    this.progress.start('measuring', flags.runs, 'run pairs');
    let calibration: GateCalibration;
    try {
      calibration = await calibrateGate({
        runs: flags.runs,
        bounds,
        baselineRuns,
        trials: flags.trials,
        measure,
        onRun: () => this.progress.tick(),
        signal: this.signal,
      });
    } finally {
      this.progress.stop();
      await rm(out, { recursive: true, force: true });
    }
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    this.say(`| baseline runs | bound | unchanged code fails | a ${slowdown}x slowdown passes |\n|---|---|---|---|`);
    for (const r of calibration.rows)
      this.say(`| ${r.baselineRuns} | ${pct(r.maxRegression)} | ${pct(r.falseFailShare)} | ${pct(r.missShare)} |`);
    for (const d of calibration.drift)
      this.say(`${d.id}: drift ${pct(d.cv)} (ratio ${d.min.toPrecision(3)}-${d.max.toPrecision(3)}); slowed ${pct(d.slowedChange)}`);
    const rec = calibration.recommended;
    this.summary(
      rec
        ? `recommended: --max-regression ${pct(rec.maxRegression)} with a baseline of ${rec.baselineRuns} run(s) taken minutes apart`
        : flags.runs < MIN_RUNS_TO_RECOMMEND
          ? `no recommendation from ${flags.runs} runs of each kind: pass --runs ${MIN_RUNS_TO_RECOMMEND} or more`
          : 'no setting tried is wrong in at most 1% of draws both ways: try wider --bounds, more --reps or a larger --slowdown',
    );
    return {
      params: { only, reps: flags.reps, scale: flags.scale, runs: flags.runs, slowdown, trials: flags.trials },
      ...calibration,
    };
  }
}
