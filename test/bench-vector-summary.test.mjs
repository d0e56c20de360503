// The vector bench's QPS-at-recall figure (what its ratios to faiss and the other peers rest on), and
// running only some of its rows.
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { qpsAtRecall, vectorBenchRows } from '../dist/core/bench/vector.js';
import { recall, scratchDir } from './helpers/cli.mjs';
import { mulberry32 } from './helpers/profile-series.mjs';

// A model speed curve: log QPS falls linearly with recall (what a sweep of ef traces between two
// close settings), so the interpolated figure has one right answer.
const model = (recall) => Math.exp(12 - 30 * recall);

describe('bench vector: QPS at a recall target', () => {
  it('two sweeps of one index that stop at different points give the same figure', () => {
    const rnd = mulberry32(7);
    for (let trial = 0; trial < 50; trial++) {
      const target = 0.9 + 0.09 * rnd();
      const sweep = () => {
        // Settings either side of the target, at random distances from it (ef doubling overshoots).
        const below = [1, 2, 3].map(() => target - 0.001 - 0.05 * rnd());
        const above = [1, 2, 3].map(() => Math.min(1, target + 0.001 + 0.05 * rnd()));
        return [...below, ...above].map((recall) => ({ recall, qps: model(recall) }));
      };
      const want = model(target);
      for (const got of [qpsAtRecall(sweep(), target), qpsAtRecall(sweep(), target)])
        assert.ok(Math.abs(got - want) <= 1, `target ${target}: ${got} against ${want}`);
    }
  });

  it('the best point at or above the target alone would have flattered the sweep that landed closer', () => {
    const near = [0.93, 0.9527].map((recall) => ({ recall, qps: model(recall) }));
    const far = [0.93, 0.9733].map((recall) => ({ recall, qps: model(recall) }));
    assert.ok(near[1].qps / far[1].qps > 1.8);
    assert.equal(qpsAtRecall(near, 0.95), qpsAtRecall(far, 0.95));
  });

  it('a point that another beats on both recall and speed does not count', () => {
    const curve = [
      { recall: 0.94, qps: 1000 },
      { recall: 0.96, qps: 800 },
      // slower than the 0.96 point and less accurate: a noisy repetition
      { recall: 0.955, qps: 300 },
    ];
    assert.equal(qpsAtRecall(curve, 0.95), Math.round(Math.sqrt(1000 * 800)));
  });

  it('a point exactly at the target is its figure; no point reaching it is 0; a curve above it gives its fastest point', () => {
    const curve = [
      { recall: 0.97, qps: 500 },
      { recall: 0.99, qps: 200 },
    ];
    assert.equal(qpsAtRecall(curve, 0.99), 200);
    assert.equal(qpsAtRecall(curve, 0.995), 0);
    assert.equal(qpsAtRecall(curve, 0.95), 500);
    assert.equal(qpsAtRecall([], 0.95), 0);
  });
});

/** `recall bench vector` on the tiny set, one search per setting, its files under `dir`. */
const benchTiny = (dir, ...args) =>
  recall(['bench', 'vector', '--data', 'tiny', '--runs', '1', '--work', join(dir, 'work'), '--out-dir', join(dir, 'out'), ...args]);

describe('bench vector --only', () => {
  const dir = scratchDir('bench-vector-only');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs only the named rows (over rounds, merged into one curve), and refuses a row the bench does not have (exit 2, naming the rows)', async () => {
    const r = await benchTiny(dir, '--rounds', '2', '--only', 'recall flat f32', '--json');
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout);
    assert.deepEqual(
      got.summary.map((s) => s.label),
      ['recall flat f32'],
    );
    assert.equal(got.summary[0].max_recall, 1, 'the exact scan finds every true neighbour');
    assert.equal(got.rounds, 2);
    assert.equal(got.summary[0].curve.length, 1, "the rounds' lines for one setting make one point");
    const bad = await benchTiny(dir, '--only', 'faiss HNSW32');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--only: no row "faiss HNSW32" in the tiny bench/);
    assert.match(bad.stderr, /"faiss HNSW16"/);
    assert.deepEqual(vectorBenchRows('tiny').includes('recall hnsw int8+rerank'), true);
  });
});

describe('bench vector --search-rounds', () => {
  const dir = scratchDir('bench-vector-search-rounds');
  after(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...extra) => benchTiny(dir, '--only', 'recall hnsw f32', '--only', 'recall ivf f32', '--json', ...extra);

  it('searches each saved index in fresh processes and finds what the building process found; the build figures come from the one build', async () => {
    const [inProcess, saved] = [await run(), await run('--search-rounds', '2')];
    assert.equal(inProcess.code, 0, inProcess.stderr);
    assert.equal(saved.code, 0, saved.stderr);
    const a = JSON.parse(inProcess.stdout);
    const b = JSON.parse(saved.stdout);
    assert.equal(b.searchRounds, 2);
    assert.deepEqual(
      b.summary.map((s) => s.label),
      a.summary.map((s) => s.label),
    );
    for (const s of b.summary) {
      const before = a.summary.find((x) => x.label === s.label);
      // the same build (deterministic) loaded from its file: the same rows found at every setting
      const found = (c) => Object.fromEntries(c.map((p) => [JSON.stringify(p.search), [p.recall, p.ids_digest]]));
      assert.deepEqual(found(s.curve), found(before.curve), s.label);
      assert.ok(s.curve.every((p) => /^[0-9a-f]{16}$/.test(p.ids_digest)));
      assert.equal(s.curve.length, before.curve.length, `${s.label}: the two rounds' lines for one setting make one point`);
      assert.equal(typeof s.build_cpu_s, 'number', `${s.label}: build figures from the build process`);
      // each row searched its own saved file (on this small set every index finds the exact rows)
      assert.ok(s.index_disk_mb > 0, `${s.label}: the saved index's size`);
      assert.equal(s.index_disk_mb, before.index_disk_mb, `${s.label}: the file searched is the one this row built`);
      assert.ok(
        s.curve.every((p) => p.build_cpu_s === null),
        'search processes built nothing',
      );
    }
    assert.deepEqual(
      readdirSync(join(dir, 'work')).filter((f) => f.startsWith('saved-')),
      [],
      'the saved indexes are removed',
    );
    const both = await run('--rounds', '2', '--search-rounds', '2');
    assert.equal(both.code, 2);
    assert.match(both.stdout + both.stderr, /--rounds and --search-rounds cannot be combined/);
  });
});
