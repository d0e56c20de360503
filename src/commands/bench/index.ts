import { Flags } from '@oclif/core';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RecallCommand } from '../../cli/base-command.js';
import { parseShare } from '../../cli/flags/percent.js';
import { badInput, ExitCode, usage } from '../../core/errors.js';
import type { BenchName, BenchResult, Comparison } from '../../core/bench/suite.js';
import { requirePath } from '../../core/io/paths.js';

export interface BenchRunResult {
  result: BenchResult;
  comparison: Comparison[] | null;
  /** The baseline files, pooled, that `comparison` is against (empty without --baseline). */
  baselines: string[];
  regressions: number;
  files: { json: string; html: string };
}

export default class Bench extends RecallCommand<BenchRunResult> {
  static override summary =
    'Run every channel benchmark (CI-sized) with its anchor; write bench-result.json and an HTML report; gate on a baseline.';
  static override description =
    `hash (NeighborHash vs a JavaScript Map), vector (HNSW recall@10 and QPS over an ef sweep vs exact search), text (2-term AND latency vs the TypeScript oracle index), wal (append and replay rates): each with a warm-up run, then --reps repetitions; the median, quartiles and min/max of each figure, and its ratio to the anchor measured in the same run. Writes OUT/bench-result.json (machine, versions, parameters, figures) and OUT/bench-report.html (one self-contained file: the table, recall-vs-QPS, throughput bars, latency distributions).
--baseline FILE compares with an earlier bench-result.json (given several times, the runs are pooled: a baseline taken at a few moments does not carry the luck of one; \`recall bench calibrate\` measures how often the gate is wrong on a machine and the bound to use): a figure with an anchor by its ratio to the anchor (which cancels machine speed), machine-independent figures (recall) by their medians; anchors, and throughputs without an anchor, are reported, never gated. A figure fails the gate (exit 4) only when it is worse by more than --max-regression and either by more than its noise band (the larger spread of the two runs' repetitions over their median: max - min, or twice the interquartile range from 7 repetitions on) or, with 5 or more repetitions a side, significantly by a one-sided Mann-Whitney U test (p <= 0.01); a failure, and a loss the gate cannot call, is measured again, up to twice, with the repetitions pooled, and stands only when it holds over them: more --reps give a tighter band and a stronger test.
--slowdown BENCH=FACTOR makes a benchmark do its measured work FACTOR times per sample (to check the gate; fractional for hash, e.g. hash=1.3).
The per-channel benchmarks with the full-size peers are \`recall bench hash|x2i|vector|inverted|wal\`.`;
  static override examples = [
    '<%= config.bin %> bench',
    '<%= config.bin %> bench --only hash,wal --reps 3 --out bench-out',
    '<%= config.bin %> bench --baseline main/bench-result.json --max-regression 5%',
    '<%= config.bin %> bench --baseline main/1/bench-result.json --baseline main/2/bench-result.json --baseline main/3/bench-result.json',
  ];
  static override flags = {
    only: Flags.string({ description: 'benchmarks to run, comma-separated: hash, vector, text, wal (default: all)' }),
    reps: Flags.integer({ description: 'repetitions per figure (after one warm-up run)', default: 5, min: 1 }),
    scale: Flags.option({
      options: ['small', 'full'] as const,
      description: 'data sizes: small for CI, full for a workstation',
      default: 'small',
    })(),
    out: Flags.string({ char: 'o', description: 'folder for bench-result.json and bench-report.html', default: 'bench-out' }),
    baseline: Flags.string({
      description: 'an earlier bench-result.json to compare with; give it several times to pool runs taken at different times',
      multiple: true,
    }),
    'max-regression': Flags.string({
      description:
        'with --baseline: the largest allowed loss, e.g. 20% or 0.2; it must clear the drift between runs of unchanged code, about twice its standard deviation (4-10% per figure on a shared 2-core VM; `recall bench calibrate` measures it and recommends a bound)',
      default: '20%',
    }),
    slowdown: Flags.string({ description: "BENCH=FACTOR: repeat that benchmark's measured work (to test the gate)", multiple: true }),
  };

  async run(): Promise<BenchRunResult> {
    const { flags } = await this.parse(Bench);
    const { BENCHES, poolRuns, runBenchGate, runBenchSuite } = await import('../../core/bench/suite.js');
    const { renderBenchHtml } = await import('../../core/bench/report-html.js');
    const { writeFileAtomic } = await import('../../core/io/atomic.js');
    const only = (flags.only?.split(',').filter(Boolean) ?? []) as BenchName[];
    const bad = only.filter((b) => !BENCHES.includes(b));
    if (bad.length)
      throw usage('ERR_RECALL_USAGE', `--only ${bad.join(',')}: no such benchmark`, { fix: `pick from ${BENCHES.join(', ')}` });
    const maxRegression = parseShare('max-regression', flags['max-regression']);
    const slowdown: Record<string, number> = {};
    for (const s of flags.slowdown ?? []) {
      const x = /^([a-z]+)=(\d+(?:\.\d+)?)$/.exec(s);
      if (!x) throw usage('ERR_RECALL_USAGE', `--slowdown ${s}: expected BENCH=FACTOR`, { fix: 'e.g. --slowdown hash=3' });
      slowdown[x[1]!] = Number(x[2]);
    }
    const baselines: BenchResult[] = [];
    for (const file of flags.baseline ?? []) {
      await requirePath(file, 'file', '--baseline');
      try {
        baselines.push(JSON.parse(await readFile(file, 'utf8')) as BenchResult);
      } catch (e) {
        throw badInput('ERR_RECALL_BAD_BASELINE', `${file}: ${(e as Error).message}`, {
          file,
          fix: 'pass a bench-result.json written by recall bench',
        });
      }
      if (baselines.at(-1)?.format !== 'recall-bench')
        throw badInput('ERR_RECALL_BAD_BASELINE', `${file}: not a recall bench result (no "format": "recall-bench")`, {
          file,
          fix: 'pass a bench-result.json written by recall bench',
        });
    }
    const scales = flags.baseline?.map((file, i) => ({ file, scale: baselines[i]!.params?.scale })) ?? [];
    const otherScale = scales.find((b) => b.scale !== flags.scale);
    if (otherScale)
      throw usage(
        'ERR_RECALL_USAGE',
        `--baseline ${otherScale.file} was measured with --scale ${otherScale.scale}, this run with --scale ${flags.scale}`,
        {
          fix: `run with --scale ${otherScale.scale}, or pass baselines measured at --scale ${flags.scale}`,
        },
      );
    const base = baselines.length ? poolRuns(baselines) : null;
    const suite = { reps: flags.reps, only, scale: flags.scale, slowdown, onLine: (l: string) => this.summary(l) };
    const { result, comparison } = base
      ? await runBenchGate(suite, base, maxRegression)
      : { result: await runBenchSuite(suite), comparison: null };
    const files = { json: join(flags.out, 'bench-result.json'), html: join(flags.out, 'bench-report.html') };
    await mkdir(flags.out, { recursive: true });
    await writeFileAtomic(files.json, `${JSON.stringify(result, null, 2)}\n`);
    await writeFileAtomic(files.html, renderBenchHtml(result, comparison, maxRegression));
    const regressions = comparison?.filter((c) => c.regressed).length ?? 0;
    for (const c of comparison ?? []) {
      this.say(
        `${c.regressed ? this.colour.red('REGRESSED') : !c.gated ? 'reported ' : this.colour.green('ok       ')} ${c.id}: ${(c.change * 100).toFixed(1)}% (${c.basis} ${c.base.toPrecision(4)} -> ${c.head.toPrecision(4)}, noise ±${(c.noise * 100).toFixed(1)}%, p ${c.pValue.toPrecision(2)})`,
      );
    }
    this.summary(
      `wrote ${files.json} and ${files.html}${comparison ? `; ${regressions} regression(s) beyond ${(maxRegression * 100).toFixed(1)}% (beyond the noise band or significant)` : ''}`,
    );
    if (regressions) this.exitCode = ExitCode.GateFailed;
    return { result, comparison, baselines: flags.baseline ?? [], regressions, files };
  }
}
