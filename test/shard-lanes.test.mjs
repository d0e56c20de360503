// How `recall shard` splits its input between lanes (shard/lanes.ts): every row exactly once, in
// input order, cut only at row-group boundaries, near the even split; checked against the rows
// enumerated one by one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planLanes } from '../dist/core/shard/lanes.js';

/** Global row positions a plan reads, in order. */
function positions(inputs, plan) {
  const start = new Map();
  let at = 0;
  for (const f of inputs) {
    start.set(f.path, at);
    at += f.rowGroups.reduce((a, b) => a + b, 0);
  }
  return plan.flat().flatMap((s) => Array.from({ length: s.to - s.from }, (_, i) => start.get(s.file) + s.from + i));
}

const boundaries = (inputs) => {
  const out = new Set([0]);
  let at = 0;
  for (const f of inputs)
    for (const n of f.rowGroups) {
      at += n;
      out.add(at);
    }
  return out;
};

describe('shard lanes', () => {
  const cases = [
    ['one file, even row groups', [{ path: 'a', rowGroups: [100, 100, 100, 100] }], 2],
    [
      'three files, uneven',
      [
        { path: 'a', rowGroups: [50, 70] },
        { path: 'b', rowGroups: [10] },
        { path: 'c', rowGroups: [90, 40, 5] },
      ],
      3,
    ],
    [
      'an empty file in the middle',
      [
        { path: 'a', rowGroups: [30, 30] },
        { path: 'e', rowGroups: [] },
        { path: 'b', rowGroups: [30, 30] },
      ],
      2,
    ],
    ['more lanes than row groups', [{ path: 'a', rowGroups: [10, 20] }], 5],
    [
      'one lane',
      [
        { path: 'a', rowGroups: [10, 20] },
        { path: 'b', rowGroups: [5] },
      ],
      1,
    ],
  ];
  for (const [name, inputs, lanes] of cases)
    it(`${name}: every row once, in order, cut at row-group boundaries`, () => {
      const plan = planLanes(inputs, lanes);
      const total = inputs.reduce((a, f) => a + f.rowGroups.reduce((x, y) => x + y, 0), 0);
      assert.deepEqual(
        positions(inputs, plan),
        Array.from({ length: total }, (_, i) => i),
      );
      const groups = inputs.reduce((a, f) => a + f.rowGroups.filter(Boolean).length, 0);
      assert.equal(plan.length, Math.min(lanes, groups));
      const cuts = boundaries(inputs);
      let at = 0;
      for (const lane of plan) {
        assert.ok(lane.length > 0, 'no empty lane');
        at += lane.reduce((a, s) => a + s.to - s.from, 0);
        assert.ok(cuts.has(at), `lane ends at row ${at}, a row-group boundary`);
        for (const s of lane) {
          const rows = inputs.find((f) => f.path === s.file).rowGroups.reduce((a, b) => a + b, 0);
          assert.equal(s.whole, s.from === 0 && s.to === rows);
        }
      }
    });

  it('each cut is the boundary nearest the even split', () => {
    const inputs = [{ path: 'a', rowGroups: [40, 40, 40, 40, 40] }];
    // 100 is the even split: 80 and 120 are equally near; the first boundary found wins.
    assert.deepEqual(planLanes(inputs, 2), [
      [{ file: 'a', from: 0, to: 80, whole: false }],
      [{ file: 'a', from: 80, to: 200, whole: false }],
    ]);
    assert.deepEqual(
      planLanes([{ path: 'a', rowGroups: [10, 10, 10, 100] }], 2).map((l) => l[0].to),
      [30, 130],
      'a cut never leaves a lane empty',
    );
    const thirds = planLanes([{ path: 'a', rowGroups: Array(9).fill(10) }], 3);
    assert.deepEqual(
      thirds.map((l) => [l[0].from, l[0].to]),
      [
        [0, 30],
        [30, 60],
        [60, 90],
      ],
    );
  });

  it('no rows, no lanes', () => {
    assert.deepEqual(planLanes([{ path: 'a', rowGroups: [] }], 2), []);
  });
});
