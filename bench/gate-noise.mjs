#!/usr/bin/env node
// How often the `recall bench --baseline` gate is wrong on this machine: RUNS runs of unchanged code
// and RUNS runs with `--slowdown hash=SLOWDOWN` (`recall bench --only hash --reps REPS`, each its own
// process, the two kinds alternating), then, over TRIALS random draws from them, the gate exactly as
// the CLI runs it (`gateWithRemeasure`: a head that fails or cannot be called is measured again, up
// to twice, by the next drawn run of its kind):
//  - false fails: an unchanged head fails against a baseline of unchanged code;
//  - misses: a slowed head passes;
// for baselines of 1 and 3 runs (`--baseline` given once or three times) and bounds of 10% and 15%.
// Also the run-to-run drift of the gated figure (NeighborHash over the random-access bound): the
// coefficient of variation of the run medians, and their range.
// Defaults: RUNS 24, REPS 9, SLOWDOWN 1.3, TRIALS 4000. Writes bench/results/gate-noise.json.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gateWithRemeasure, poolRuns } from '../dist/core/bench/suite.js';
import { xorshift32 } from '../dist/core/stats/seeded.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const RUNS = Number(process.env.RUNS ?? 24);
const REPS = Number(process.env.REPS ?? 9);
const SLOWDOWN = Number(process.env.SLOWDOWN ?? 1.3);
const TRIALS = Number(process.env.TRIALS ?? 4000);
if (RUNS < 6) throw new Error('RUNS must be at least 6: a baseline of 3 runs and a head measured 3 times');

const dir = mkdtempSync(join(tmpdir(), 'recall-gate-noise-'));
function bench(slowdown) {
  const args = ['bin/run.js', 'bench', '--only', 'hash', '--reps', String(REPS), '--out', dir, '--json'];
  if (slowdown) args.push('--slowdown', `hash=${slowdown}`);
  return JSON.parse(execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' })).result;
}
const plain = [];
const slowed = [];
for (let i = 0; i < RUNS; i++) {
  plain.push(bench());
  slowed.push(bench(SLOWDOWN));
  process.stderr.write(`\rgate-noise: ${i + 1}/${RUNS} runs of each kind`);
}
process.stderr.write('\n');
rmSync(dir, { recursive: true, force: true });

const ratio = (r) => r.figures.find((f) => f.id === 'hash.neighborhash').ratio;
const drift = (runs) => {
  const v = runs.map(ratio);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (v.length - 1));
  return { cv: sd / mean, min: Math.min(...v), max: Math.max(...v), mean };
};

const rand = xorshift32(17);
/** `k` distinct runs of `pool` drawn at random, none of `not`. */
function draw(pool, k, not) {
  const left = pool.filter((r) => !not.includes(r));
  const out = [];
  while (out.length < k) out.push(left.splice(Math.floor(rand() * left.length), 1)[0]);
  return out;
}
async function wrongRate(baseRuns, bound, slow) {
  let wrong = 0;
  for (let t = 0; t < TRIALS; t++) {
    const base = draw(plain, baseRuns, []);
    const [head, ...again] = draw(slow ? slowed : plain, 3, base);
    const { comparison } = await gateWithRemeasure(head, poolRuns(base), bound, async () => again.shift());
    const regressed = comparison.find((c) => c.id === 'hash.neighborhash').regressed;
    if (regressed !== slow) wrong++;
  }
  return wrong / TRIALS;
}

const gate = [];
for (const baselineRuns of [1, 3])
  for (const bound of [0.1, 0.15]) {
    const row = {
      baselineRuns,
      maxRegression: bound,
      falseFailShare: await wrongRate(baselineRuns, bound, false),
      missShare: await wrongRate(baselineRuns, bound, true),
    };
    gate.push(row);
    console.log(
      `baseline of ${baselineRuns} run(s), bound ${bound * 100}%: unchanged code fails ${(row.falseFailShare * 100).toFixed(2)}%, a ${SLOWDOWN}x slowdown passes ${(row.missShare * 100).toFixed(2)}%`,
    );
  }
const driftPlain = drift(plain);
const driftSlowed = drift(slowed);
console.log(
  `run-to-run drift of NeighborHash / bound: cv ${(driftPlain.cv * 100).toFixed(1)}% (${driftPlain.min.toFixed(3)}-${driftPlain.max.toFixed(3)}); slowed ${driftSlowed.mean.toFixed(3)} = ${((driftSlowed.mean / driftPlain.mean - 1) * 100).toFixed(1)}%`,
);
const out = {
  date: new Date().toISOString(),
  machine: plain[0].machine,
  params: { runs: RUNS, reps: REPS, slowdown: SLOWDOWN, trials: TRIALS },
  drift: { unchanged: driftPlain, slowed: driftSlowed },
  gate,
  ratios: { unchanged: plain.map(ratio), slowed: slowed.map(ratio) },
};
writeFileSync(join(root, 'bench/results/gate-noise.json'), `${JSON.stringify(out, null, 2)}\n`);
