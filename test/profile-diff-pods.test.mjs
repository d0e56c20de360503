// Pod agreement of the diff gate with many noisy pods: 20 pods a side, per-pod noise wide enough
// that the pods' share ranges overlap, a planted 1.5 pp rise (test/helpers/profile-series.mjs).
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { diffProfiles } from '../dist/core/profile/diff.js';
import { mannWhitneyP } from '../dist/core/stats/rank-test.js';
import { readProfile } from '../dist/core/profile/read.js';
import { scratchDir } from './helpers/cli.mjs';
import { mulberry32, perfText, sharesAt, TREE } from './helpers/profile-series.mjs';

const dir = scratchDir('profile-diff-pods');
after(() => rmSync(dir, { recursive: true, force: true }));

const PODS = 20;
const NOISE = 0.15; // +-15% of each function's count per pod: encode_json's 10% varies +-1.5 pp
const plan = [{ kind: 'persistent', fn: 'encode_json', pp: 1.5, at: 1 }];

async function side(name, version, seed) {
  const rnd = mulberry32(seed);
  mkdirSync(join(dir, name), { recursive: true });
  const pods = [];
  for (let k = 0; k < PODS; k++) {
    const f = join(dir, name, `pod-${k}.perf.txt`);
    writeFileSync(f, perfText(sharesAt(version, plan), 2000, rnd, NOISE));
    pods.push(await readProfile(f));
  }
  return pods;
}

/** encode_json's self share (%) per pod, straight from the stacks (leaf = last frame). */
const selfShares = (pods) =>
  pods.map((p) => {
    let self = 0;
    for (const [k, c] of p.stacks) if (k.endsWith(';encode_json')) self += c.weight;
    return (self / p.totalWeight) * 100;
  });

describe('diff gate: pod agreement over 20 noisy pods', () => {
  it('Mann-Whitney p-values equal scipy.stats.mannwhitneyu (asymptotic, continuity-corrected)', () => {
    // scipy 1.17.1: mannwhitneyu(head, base, alternative=..., method='asymptotic', use_continuity=True)
    assert.ok(Math.abs(mannWhitneyP([1, 2, 3, 4, 5, 6], [4, 5, 6, 7, 8, 9], true) - 0.01818929018606558) < 1e-6);
    assert.ok(Math.abs(mannWhitneyP([1, 2, 3, 4, 5, 6], [4, 5, 6, 7, 8, 9], false) - 0.9878907491040373) < 1e-6);
    assert.ok(Math.abs(mannWhitneyP([0, 0, 0, 1], [0, 1, 1, 1, 2], true) - 0.0699981421577706) < 1e-6);
  });

  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: a planted +1.5 pp in encode_json is found though the pods' ranges overlap; an unchanged pair is not flagged`, async () => {
      const base = await side(`base-${seed}`, 0, seed * 100 + 1);
      const head = await side(`head-${seed}`, 1, seed * 100 + 2);
      const again = await side(`again-${seed}`, 0, seed * 100 + 3);
      const b = selfShares(base);
      const h = selfShares(head);
      // The old rule (every head pod beyond every base pod) cannot hold here.
      assert.ok(Math.min(...h) < Math.max(...b), `ranges do not overlap: head min ${Math.min(...h)}, base max ${Math.max(...b)}`);
      const d = diffProfiles(base, head, { thresholds: { metric: 'self' } }).summary;
      const f = d.functions.find((x) => x.name === 'encode_json');
      assert.ok(Math.abs(f.deltaPp.self - 1.5) < 0.5, `delta ${f.deltaPp.self}`);
      assert.equal(f.podsAgree, true);
      assert.equal(f.gated, true);
      assert.deepEqual(
        d.functions.filter((x) => x.gated).map((x) => x.name),
        ['encode_json'],
      );
      assert.equal(d.verdict, 'regression');
      const same = diffProfiles(base, again, { thresholds: { metric: 'self' } }).summary;
      assert.deepEqual(
        same.functions.filter((x) => x.gated).map((x) => x.name),
        [],
      );
      assert.equal(same.verdict, 'pass');
      assert.ok(Object.keys(TREE).every((n) => same.functions.find((x) => x.name === n)));
    });
  }
});
