// `recall bench` (the umbrella): result JSON with medians, spread and anchor ratios; the baseline gate exits 4
// on a deliberately slowed run and 0 on a normal one; the HTML report renders its plots in headless Chromium
// without console errors (screenshot in test-artifacts/).
// recall-test: alone (it times or kills processes, or bounds memory: run with no other test file)
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { interruptWhen, recall, scratchDir } from './helpers/cli.mjs';

const CHROMIUM = '/usr/bin/chromium';
const artifactsDir = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const dir = scratchDir('bench');
after(() => rmSync(dir, { recursive: true, force: true }));

async function bench(args, code = 0) {
  const r = await recall(['bench', ...args, '--json']);
  if (code !== null) assert.equal(r.code, code, `recall bench ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe('recall bench', () => {
  it('gates on a baseline: 0 for a normal run, 4 for a slowed one', async () => {
    const a = await bench(['--only', 'hash,wal', '--reps', '3', '--out', join(dir, 'a')]);
    const figs = Object.fromEntries(a.result.figures.map((f) => [f.id, f]));
    assert.deepEqual(Object.keys(figs).sort(), ['hash.jsmap', 'hash.neighborhash', 'hash.random', 'wal.append', 'wal.replay']);
    for (const f of Object.values(figs)) {
      assert.equal(f.samples.length, 3);
      assert.ok(f.min <= f.p25 && f.p25 <= f.median && f.median <= f.p75 && f.p75 <= f.max, f.id);
    }
    assert.equal(figs['hash.neighborhash'].anchor, 'hash.random');
    const overMap = figs['hash.neighborhash'].median / figs['hash.jsmap'].median;
    assert.ok(overMap > 3, `NeighborHash beats a JS Map (${overMap})`);
    const saved = JSON.parse(readFileSync(join(dir, 'a', 'bench-result.json'), 'utf8'));
    assert.equal(saved.format, 'recall-bench');
    assert.ok(saved.machine.cpus >= 1 && saved.versions.node.startsWith('v'));
    const baseline = join(dir, 'a', 'bench-result.json');
    // a normal run against it passes (a generous bound: this machine is shared and noisy)
    const ok = await bench(['--only', 'hash', '--reps', '3', '--out', join(dir, 'b'), '--baseline', baseline, '--max-regression', '60%']);
    assert.equal(ok.regressions, 0);
    assert.deepEqual(
      ok.comparison.map((c) => [c.id, c.basis]),
      [
        ['hash.jsmap', 'median'],
        ['hash.random', 'anchor'],
        ['hash.neighborhash', 'ratio'],
      ],
    );
    // the same benchmark made 8x slower on purpose fails the gate with exit 4
    const slow = await bench(
      ['--only', 'hash', '--reps', '3', '--out', join(dir, 'c'), '--baseline', baseline, '--max-regression', '60%', '--slowdown', 'hash=8'],
      4,
    );
    const reg = slow.comparison.find((c) => c.id === 'hash.neighborhash');
    assert.equal(reg.regressed, true);
    assert.ok(reg.change < -0.6, `${reg.change}`);
    assert.match(readFileSync(join(dir, 'c', 'bench-report.html'), 'utf8'), /REGRESSED/);
    const badFlag = await recall(['bench', '--slowdown', 'nope=2', '--only', 'hash']);
    assert.equal(badFlag.code, 2);
  });

  // The gate's noise model on this 2-core shared machine: NeighborHash is measured by CPU time against
  // the random-access bound (home-slot reads through the same ring of prefetched reads) in the same
  // repetitions; a loss beyond the bound fails when it is beyond the noise band (twice the
  // interquartile range with 9 repetitions) or significant by a rank test over the repetitions; a
  // loss beyond the bound that is neither is measured again. The ratio still moves with the machine's state, which lasts from
  // seconds to minutes (here one vCPU at a time slowed NeighborHash by 40% and the bound by 30% for
  // minutes), so runs taken seconds apart can differ by 20% and no statistic over them can tell that
  // from a loss. The gate's error rates at the 10% default are measured across such states by
  // `recall bench calibrate` (docs/bench.md); here it is held to margins beyond them: a baseline
  // of three runs pooled, unchanged code passing at 25%, a 2x slowdown failing at 25% and at 10%.
  const baselineRuns = [];
  const unchanged = [];
  const slow = [];
  before(async () => {
    for (let i = 0; i < 3; i++) baselineRuns.push(await bench(['--only', 'hash', '--reps', '9', '--out', join(dir, `g${i}`)]));
    const baseline = baselineRuns.flatMap((_, i) => ['--baseline', join(dir, `g${i}`, 'bench-result.json')]);
    for (let i = 0; i < 2; i++) {
      const args = ['--only', 'hash', '--reps', '9', '--out', join(dir, `u${i}`), ...baseline];
      unchanged.push(await bench([...args, '--max-regression', '25%'], null));
    }
    for (const bound of ['25%', '10%']) {
      const args = ['--only', 'hash', '--reps', '9', '--out', join(dir, `s${bound}`), '--slowdown', 'hash=2', ...baseline];
      slow.push(await bench([...args, '--max-regression', bound], null));
    }
  });

  it('the gate: unchanged code passes against a baseline of three runs; anchors are never gated', async () => {
    for (const r of unchanged) {
      assert.equal(r.regressions, 0, JSON.stringify(r.comparison));
      assert.equal(r.baselines.length, 3);
      const c = Object.fromEntries(r.comparison.map((x) => [x.id, x]));
      assert.equal(c['hash.random'].gated, false, 'the anchor is reported, not gated');
      assert.equal(c['hash.jsmap'].gated, false, 'a throughput without an anchor is reported, not gated');
      assert.equal(c['hash.neighborhash'].basis, 'ratio');
    }
    // the baseline is the three runs' repetitions pooled: its ratio is the pooled medians'
    const { poolRuns } = await import('../dist/core/bench/suite.js');
    const pooled = poolRuns(baselineRuns.map((r) => r.result));
    const nh = pooled.figures.find((f) => f.id === 'hash.neighborhash');
    assert.equal(nh.samples.length, 27);
    assert.equal(unchanged[0].comparison.find((x) => x.id === 'hash.neighborhash').base, nh.ratio);
    const { gateDecision } = await import('../dist/core/bench/suite.js');
    // the decision itself: a loss within the noise band passes, beyond it and the bound fails
    assert.equal(gateDecision([10, 11, 12], [9, 10, 11], 0.05).regressed, false);
    assert.equal(gateDecision([10, 10.1, 10.2], [7.6, 7.7, 7.8], 0.05).regressed, true);
    assert.equal(gateDecision([10, 10.1, 10.2], [9.8, 9.85, 9.9], 0.05).regressed, false, 'within the bound');
    // two interrupted repetitions among 9 do not widen the band
    const clean = [10, 10.1, 9.9, 10, 10.2, 9.8, 10, 10.1, 9.9];
    assert.equal(gateDecision(clean, [7.7, 7.8, 7.6, 7.7, 7.9, 7.5, 7.7, 2, 20], 0.1).regressed, true);
    assert.equal(gateDecision(clean, [9.5, 9.6, 9.4, 9.5, 9.7, 9.3, 9.5, 2, 20], 0.1).regressed, false, 'within the bound');
    // a loss every repetition shows is caught even when one run's band is wider than the loss
    const wide = [10, 12, 8, 11, 9, 13, 7.2, 10, 10];
    const slowed = [7.6, 7.7, 7.8, 7.7, 7.9, 7.6, 7.7, 7.8, 7.5];
    assert.ok(gateDecision(wide, slowed, 0.1).noise > 0.3, 'the band is wider than the loss');
    assert.equal(gateDecision(wide, slowed, 0.1).regressed, true);
    assert.ok(gateDecision(wide, slowed, 0.1).p < 0.01);
    // and a head that only overlaps the baseline's spread is not
    assert.equal(gateDecision(wide, [8.5, 9.5, 10.5, 7.5, 8.8, 8, 11, 8.6, 8.7], 0.1).regressed, false);
    // where the sizes cannot reach p 0.01 (3 against 3: 1 in 20 at best) only the band decides
    assert.equal(gateDecision([10, 12, 8], [8.4, 8.6, 8.5], 0.1).p, 1);
    // a one-run baseline (3 repetitions) against a head measured twice more (9): a 3x slowdown whose
    // three runs sit in different states of the machine has a band (2 x IQR) wider than the loss, but
    // every repetition lies below every baseline one, which 3 against 9 can show (calibrate missed it)
    const threeX = [0.18, 0.19, 0.2, 0.26, 0.27, 0.28, 0.34, 0.36, 0.4];
    assert.ok(gateDecision([0.6, 0.62, 0.58], threeX, 0.1).noise > 0.6, 'the band is wider than the loss');
    assert.equal(gateDecision([0.6, 0.62, 0.58], threeX, 0.1).regressed, true);
    assert.equal(
      gateDecision([0.6, 0.62, 0.58], [0.57, 0.58, 0.56, 0.55, 0.57, 0.58, 0.59, 0.56, 0.57], 0.1).regressed,
      false,
      'within the bound',
    );
  });

  it('the gate: --slowdown 2 fails at 25% and 10%, measured again before it stands', async () => {
    for (const s of slow) {
      assert.equal(s.regressions, 1, JSON.stringify(s.comparison));
      const nh = s.comparison.find((x) => x.id === 'hash.neighborhash');
      assert.equal(nh.regressed, true, JSON.stringify(nh));
      assert.ok(nh.change < -0.25, `${nh.change}`);
      // a failure is measured twice more and holds over the pooled repetitions
      assert.equal(s.result.figures.find((f) => f.id === 'hash.neighborhash').samples.length, 27);
    }
  });

  it('--baseline files of another --scale, or not written by recall bench, are refused', async () => {
    const small = join(dir, 'g0', 'bench-result.json');
    const full = join(dir, 'full-scale.json');
    const r = JSON.parse(readFileSync(small, 'utf8'));
    writeFileSync(full, JSON.stringify({ ...r, params: { ...r.params, scale: 'full' } }));
    const mixed = await recall([
      'bench',
      '--only',
      'hash',
      '--reps',
      '1',
      '--out',
      join(dir, 'm'),
      '--baseline',
      small,
      '--baseline',
      full,
    ]);
    assert.equal(mixed.code, 2, mixed.stderr);
    assert.match(mixed.stderr, /full-scale\.json was measured with --scale full/);
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ figures: [] }));
    const bad = await recall(['bench', '--only', 'hash', '--reps', '1', '--out', join(dir, 'm'), '--baseline', other]);
    assert.equal(bad.code, 3, bad.stderr);
    assert.match(bad.stderr, /other\.json: not a recall bench result/);
  });

  it('calibrate: replays the gate over recorded runs; a 3x slowdown never passes at 10%, unchanged code never fails at 60%; Ctrl-C cleans up', async () => {
    const args = [
      'bench',
      'calibrate',
      '--only',
      'hash',
      '--runs',
      '6',
      '--reps',
      '3',
      '--trials',
      '300',
      '--bounds',
      '10%,60%',
      '--slowdown',
      '3',
    ];
    const r = await recall([...args, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(r.stdout);
    assert.deepEqual(
      c.rows.map((x) => [x.baselineRuns, x.maxRegression]),
      [
        [1, 0.1],
        [1, 0.6],
        [3, 0.1],
        [3, 0.6],
      ],
    );
    // the margins: a 3x slowdown (-67%) against a 10% bound, a drift of up to 25% against a 60% one
    for (const row of c.rows.filter((x) => x.maxRegression === 0.1)) assert.equal(row.missShare, 0, JSON.stringify(row));
    for (const row of c.rows.filter((x) => x.maxRegression === 0.6)) assert.equal(row.falseFailShare, 0, JSON.stringify(row));
    assert.deepEqual(
      c.drift.map((d) => d.id),
      ['hash.neighborhash'],
    );
    const [d] = c.drift;
    assert.ok(d.cv > 0 && d.cv < 0.3 && d.min <= d.max, JSON.stringify(d));
    assert.ok(d.slowedChange < -0.5, `a 3x slowdown lowers the ratio by about 67%: ${d.slowedChange}`);
    assert.equal(c.recommended, null, 'no recommendation from 6 runs');
    const few = await recall(['bench', 'calibrate', '--only', 'hash', '--runs', '5', '--baseline-runs', '3']);
    assert.equal(few.code, 2);
    assert.match(few.stderr, /--runs 5 is too few for a baseline of 3 runs/);
    const fraction = await recall(['bench', 'calibrate', '--only', 'hash,vector', '--slowdown', '1.3']);
    assert.equal(fraction.code, 2);
    assert.match(fraction.stderr, /only hash repeats a fraction of its work/);
    // Ctrl-C while a run is under way: exit 130, the run stopped and its scratch folder gone
    const tmp = join(dir, 'calibrate-tmp');
    mkdirSync(tmp);
    let seen = 0;
    const state = {};
    const ready = () => readdirSync(tmp).some((n) => n.startsWith('recall-calibrate-')) && ++seen > 50; // 1 s after it appears
    const stopped = await recall(['bench', 'calibrate', '--only', 'hash', '--runs', '6'], {
      env: { TMPDIR: tmp },
      onSpawn: interruptWhen(ready, state),
    });
    assert.ok(state.sent);
    assert.equal(stopped.code, 130, stopped.stderr);
    assert.deepEqual(readdirSync(tmp), []);
  });

  it('the HTML report draws its plots in headless Chromium without console errors', async () => {
    const r = await bench(['--reps', '2', '--out', join(dir, 'full')]);
    assert.equal(r.result.curves.vector.length, 5);
    assert.ok(r.result.curves.vector.at(-1).recall > 0.95, 'HNSW reaches recall 0.95 at ef 160');
    assert.ok(r.result.latencies.recall.length > 0 && r.result.latencies['TypeScript oracle'].length > 0);
    const html = readFileSync(r.files.html, 'utf8');
    assert.doesNotMatch(html, /\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i, 'self-contained');
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install it with \`apt-get install -y chromium\` (.ci/run does so in CI)`);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 1100 } });
      const problems = [];
      page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && problems.push(`console.${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('request', (q) => !q.url().startsWith('file:') && problems.push(`request: ${q.url()}`));
      await page.goto(pathToFileURL(r.files.html).href);
      await page.waitForSelector('#plot-latency svg path.cdf');
      assert.deepEqual(problems, []);
      // one throughput panel per unit, each with its unit as the y label
      const units = [...new Set(r.result.figures.filter((f) => /\/s|QPS/.test(f.unit)).map((f) => f.unit))];
      assert.ok(units.length >= 3, units.join(', '));
      assert.equal(await page.$$eval('svg', (s) => s.length), 2 + units.length);
      assert.deepEqual((await page.$$eval('#plot-throughput text.ylabel', (t) => t.map((x) => x.textContent))).sort(), [...units].sort());
      assert.equal(await page.$$eval('#plot-vector circle.pt', (c) => c.length), 5);
      assert.equal(
        await page.$$eval('#plot-throughput rect.bar', (b) => b.length),
        r.result.figures.filter((f) => /\/s|QPS/.test(f.unit)).length,
      );
      assert.equal(await page.$$eval('#plot-latency path.cdf', (p) => p.length), 2);
      assert.equal(await page.$$eval('table tbody tr', (t) => t.length), r.result.figures.length);
      mkdirSync(artifactsDir, { recursive: true });
      await page.screenshot({ path: join(artifactsDir, 'bench-report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it('the vector and text gates see a 2x slowdown (their few-millisecond samples used to hide it)', async () => {
    // Its own baseline of 7 repetitions: against the 2 of the whole-suite run above, the head's 6 (2,
    // then measured twice more to confirm the loss) could never reach the rank test's p 0.01. With 4,
    // one disturbed repetition of a noisy machine widened the band past a 2x loss (text: -43% against
    // a band of 82%, and -46% against 91% with p 0.021 on a quiet clean clone); from 7 the band is
    // twice the interquartile range, which one or two such repetitions do not move.
    const baseline = join(dir, 'vt-base', 'bench-result.json');
    await bench(['--only', 'vector,text', '--reps', '7', '--out', join(dir, 'vt-base')]);
    const args = ['--only', 'vector,text', '--reps', '2', '--out', join(dir, 'vt'), '--baseline', baseline];
    const slow = await bench([...args, '--slowdown', 'vector=2', '--slowdown', 'text=2'], 4);
    const flagged = slow.comparison.filter((c) => c.regressed).map((c) => c.id);
    assert.deepEqual(flagged.sort(), ['text.and.qps', 'vector.hnsw.qps@ef40'], JSON.stringify(slow.comparison));
  });
});
