/**
 * `recall bench calibrate`: how often the `--baseline` gate is wrong on this machine. Runs of
 * unchanged code and runs slowed on purpose (`--slowdown`) are measured in turn, each in its own
 * process (the caller's `measure`), then the gate is replayed exactly as `recall bench --baseline`
 * runs it (`gateWithRemeasure`: a head's re-measures are the next runs recorded after it) over
 * many random draws: for baselines of one or more runs pooled and for each candidate bound, the
 * share of unchanged heads it fails and of slowed heads it passes. Repetitions inside one run agree
 * far better than runs do (a shared machine's state lasts seconds to minutes), so only runs recorded
 * apart show what a baseline from another moment meets.
 */
import { usage } from '../errors.js';
import { xorshift32 } from '../stats/seeded.js';
import { type BenchResult, gateWithRemeasure, poolRuns } from './suite.js';

export interface CalibrateOptions {
  /** Runs of each kind (unchanged, slowed); at least the largest baseline plus 3 (a head and its two re-measures). */
  runs: number;
  /** Candidate bounds (0.1 = 10%). */
  bounds: number[];
  /** Baseline sizes to try (runs pooled). */
  baselineRuns: number[];
  /** Random draws per setting. */
  trials: number;
  /** One run of the suite, slowed or not, in a process of its own. */
  measure: (slowed: boolean) => Promise<BenchResult>;
  onRun?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface CalibrationRow {
  baselineRuns: number;
  maxRegression: number;
  /** Share of draws in which the gate failed unchanged code. */
  falseFailShare: number;
  /** Share of draws in which the gate passed a slowed run (some gated ratio not flagged). */
  missShare: number;
}

export interface FigureDrift {
  id: string;
  /** Coefficient of variation of the runs' ratios to the anchor (standard deviation over mean). */
  cv: number;
  min: number;
  max: number;
  /** The slowed runs' mean ratio against the unchanged runs', minus 1. */
  slowedChange: number;
}

export interface GateCalibration {
  rows: CalibrationRow[];
  drift: FigureDrift[];
  /**
   * The smallest bound at which the largest baseline is wrong in at most 1% of draws either way; null
   * when none is, or with fewer than 12 runs of each kind.
   */
  recommended: { baselineRuns: number; maxRegression: number } | null;
}

/** Share of draws either way a recommended setting may be wrong in. */
const RECOMMEND_AT_MOST = 0.01;
/** Runs of each kind below which the draws repeat too few runs to recommend a setting. */
export const MIN_RUNS_TO_RECOMMEND = 12;

export async function calibrateGate(o: CalibrateOptions): Promise<GateCalibration> {
  const largest = Math.max(...o.baselineRuns);
  if (o.runs < largest + 3)
    throw usage('ERR_RECALL_USAGE', `--runs ${o.runs} is too few for a baseline of ${largest} runs`, {
      fix: `pass --runs ${largest + 3} or more (a baseline, a head and its two re-measures are drawn apart)`,
    });
  const plain: BenchResult[] = [];
  const slowed: BenchResult[] = [];
  for (let i = 0; i < o.runs; i++) {
    plain.push(await o.measure(false));
    o.signal?.throwIfAborted();
    slowed.push(await o.measure(true));
    o.signal?.throwIfAborted();
    o.onRun?.(i + 1, o.runs);
  }
  // the figures a slowdown must show: gated ratios (recall, gated by its median, does not move)
  const ratioIds = plain[0]!.figures.filter((f) => f.anchor && f.ratio !== undefined).map((f) => f.id);
  const rand = xorshift32(17);
  const draw = (pool: BenchResult[], k: number, not: BenchResult[]) => {
    const left = pool.filter((r) => !not.includes(r));
    return Array.from({ length: k }, () => left.splice(Math.floor(rand() * left.length), 1)[0]!);
  };
  // A head and its two re-measures are runs recorded in a row: in CI a re-measure follows its head
  // by seconds and often meets the same state of the machine. The baseline comes from other moments.
  const wrongShare = async (baselineRuns: number, bound: number, slow: boolean) => {
    let wrong = 0;
    for (let t = 0; t < o.trials; t++) {
      const at = Math.floor(rand() * (o.runs - 2));
      const [head, ...again] = (slow ? slowed : plain).slice(at, at + 3);
      const base = draw(plain, baselineRuns, plain.slice(at, at + 3));
      const { comparison } = await gateWithRemeasure(head!, poolRuns(base), bound, async () => again.shift()!);
      const flagged = comparison.filter((c) => c.regressed).map((c) => c.id);
      if (slow ? !ratioIds.every((id) => flagged.includes(id)) : flagged.length > 0) wrong++;
    }
    return wrong / o.trials;
  };
  const rows: CalibrationRow[] = [];
  for (const baselineRuns of o.baselineRuns)
    for (const maxRegression of o.bounds)
      rows.push({
        baselineRuns,
        maxRegression,
        falseFailShare: await wrongShare(baselineRuns, maxRegression, false),
        missShare: await wrongShare(baselineRuns, maxRegression, true),
      });
  const ratioOf = (r: BenchResult, id: string) => r.figures.find((f) => f.id === id)?.ratio ?? Number.NaN;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const drift = ratioIds.map((id) => {
    const v = plain.map((r) => ratioOf(r, id));
    const m = mean(v);
    const sd = Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1));
    return { id, cv: sd / m, min: Math.min(...v), max: Math.max(...v), slowedChange: mean(slowed.map((r) => ratioOf(r, id))) / m - 1 };
  });
  const fit = rows
    .filter(() => o.runs >= MIN_RUNS_TO_RECOMMEND)
    .filter((r) => r.baselineRuns === largest && r.falseFailShare <= RECOMMEND_AT_MOST && r.missShare <= RECOMMEND_AT_MOST)
    .sort((a, b) => a.maxRegression - b.maxRegression)[0];
  return { rows, drift, recommended: fit ? { baselineRuns: fit.baselineRuns, maxRegression: fit.maxRegression } : null };
}
