// recall eval: the metrics against hand-computed cases; on DuckDB-generated interactions with planted
// item clusters, an index built from the interactions before the split beats random lists and its
// report equals a brute-force evaluation here of the same lists; --against flags a build with a bad
// parameter (exit 4) and not two builds of the same data with different seeds.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { coverage, emptyUserMetricsForTest, scoreList } from './helpers/eval-metrics.mjs';
import { openIndex } from '../dist/api/index.js';
import { evaluateVersion } from '../dist/core/eval/run.js';
import { loadEvalUsers } from '../dist/core/eval/users.js';
import { loadNative } from '../dist/core/native.js';
import { recallWarm, scratchDir } from './helpers/cli.mjs';

describe('eval metrics: hand-computed cases', () => {
  it('Recall, Hit, NDCG and MRR at several K', () => {
    // truth {a, c, x}; list a b c d e: hits at ranks 1 and 3
    const out = emptyUserMetricsForTest([1, 2, 3, 5], 1);
    scoreList(['a', 'b', 'c', 'd', 'e'], new Set(['a', 'c', 'x']), [1, 2, 3, 5], out, 0);
    const at = (m) => Array.from(out[m], (v) => +v[0].toFixed(6));
    assert.deepEqual(at('recall'), [0.333333, 0.333333, 0.666667, 0.666667]);
    assert.deepEqual(at('hit'), [1, 1, 1, 1]);
    assert.deepEqual(at('mrr'), [1, 1, 1, 1]);
    // NDCG@3 = (1 + 1/log2 4) / (1 + 1/log2 3 + 1/log2 4) = 1.5 / 2.130930
    assert.deepEqual(at('ndcg'), [
      1,
      +(1 / (1 + 1 / Math.log2(3))).toFixed(6),
      +(1.5 / (1.5 + 1 / Math.log2(3))).toFixed(6),
      +(1.5 / (1.5 + 1 / Math.log2(3))).toFixed(6),
    ]);
    // first hit at rank 4, a short list, one truth item: IDCG is 1 at every K
    const o2 = emptyUserMetricsForTest([2, 4, 10], 1);
    scoreList(['p', 'q', 'r', 'z'], new Set(['z']), [2, 4, 10], o2, 0);
    assert.deepEqual(
      Array.from(o2.recall, (v) => v[0]),
      [0, 1, 1],
    );
    assert.deepEqual(
      Array.from(o2.mrr, (v) => v[0]),
      [0, 0.25, 0.25],
    );
    assert.deepEqual(
      Array.from(o2.ndcg, (v) => +v[0].toFixed(6)),
      [0, +(1 / Math.log2(5)).toFixed(6), +(1 / Math.log2(5)).toFixed(6)],
    );
    assert.equal(
      coverage(
        [
          ['a', 'b'],
          ['b', 'c', 'd'],
        ],
        2,
        8,
      ),
      3 / 8,
    );
  });
});

const dir = scratchDir('eval');
const P = (...p) => join(dir, ...p);
after(() => process.env.KEEP_EVAL || rmSync(dir, { recursive: true, force: true }));

const CLUSTERS = 10;
const PER = 60;
const SPLIT = 800;

async function generate() {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const c = await db.connect();
  await c.run('SELECT setseed(0.42)');
  // each user lives in one cluster of 25 items: 90% of its events there, the rest anywhere
  await c.run(`CREATE TABLE ev AS SELECT u AS user_id,
      CASE WHEN random() < 0.9 THEN (u % ${CLUSTERS}) * ${PER} + CAST(floor(random() * ${PER}) AS BIGINT)
           ELSE CAST(floor(random() * ${CLUSTERS * PER}) AS BIGINT) END AS item_id,
      CAST(floor(random() * 1000) AS BIGINT) AS ts
    FROM range(800) r(u), range(14) e(j)`);
  await c.run(`COPY ev TO '${P('events.parquet')}' (FORMAT parquet)`);
  await c.run(`COPY (SELECT * FROM ev WHERE ts < ${SPLIT}) TO '${P('train.parquet')}' (FORMAT parquet)`);
  // embeddings: the cluster's centroid plus noise, for items and users alike
  const centroid = (cl, noise) =>
    `list_transform(range(16), j -> (CASE WHEN j = ${cl} % 16 THEN 1.0 WHEN j = (${cl} * 7 + 3) % 16 THEN 0.5 ELSE 0.0 END + (random() - 0.5) * ${noise})::FLOAT)`;
  await c.run(
    `COPY (SELECT i AS item_id, ${centroid(`(i // ${PER})`, 0.4)} AS embedding,
        'c' || (i // ${PER}) || ' w' || CAST(floor(random() * 9) AS BIGINT) AS title FROM range(${CLUSTERS * PER}) t(i)) TO '${P('items.parquet')}' (FORMAT parquet)`,
  );
  await c.run(
    `COPY (SELECT u AS user_id, 'c' || (u % ${CLUSTERS}) || ' w' || CAST(floor(random() * 9) AS BIGINT) AS text FROM range(800) t(u)) TO '${P('user-text.parquet')}' (FORMAT parquet)`,
  );
  await c.run(
    `COPY (SELECT u AS user_id, ${centroid(`(u % ${CLUSTERS})`, 2.5)} AS vector FROM range(800) t(u)) TO '${P('users.parquet')}' (FORMAT parquet)`,
  );
  c.closeSync();
  db.closeSync();
}

function config(name, x2i) {
  const c = {
    out: P(name),
    shards: 2,
    sources: { events: { inputs: [P('train.parquet')], key: 'item_id' }, items: { inputs: [P('items.parquet')], key: 'item_id' } },
    channels: [
      {
        name: 'x2i',
        kind: 'x2i',
        source: 'events',
        fromInteractions: true,
        user: 'user_id',
        ts: 'ts',
        algo: 'swing',
        itemUserCap: 20,
        topK: 50,
        ...x2i,
      },
      { name: 'vector', kind: 'vector', source: 'items', vector: 'embedding', type: 'hnsw' },
      { name: 'text', kind: 'inverted', source: 'items', text: ['title'] },
    ],
    merge: { k: 50, fusion: 'rrf', channels: { x2i: { quota: 200 }, vector: { quota: 100, weight: 0.5 } }, seeds: 10 },
  };
  writeFileSync(P(`${name}.json`), JSON.stringify(c));
  return P(`${name}.json`);
}

const EVAL = () => [
  'eval',
  '--interactions',
  P('events.parquet'),
  '--split-time',
  String(SPLIT),
  '--user-vectors',
  P('users.parquet'),
  '--k',
  '10,50',
  '--resamples',
  '200',
];

describe('recall eval on planted clusters', () => {
  before(async () => {
    await generate();
    for (const [name, x2i] of [
      ['a', { seed: '7' }],
      ['b', { seed: '8' }],
      ['bad', { seed: '7', topK: 2 }],
    ]) {
      const r = await recallWarm(['build', '--config', config(name, x2i), '--json']);
      assert.equal(r.code, 0, r.stderr);
    }
  });

  it('beats random lists and equals a brute-force evaluation of the same lists', async () => {
    const r = await recallWarm([
      ...EVAL(),
      '--config',
      P('a.json'),
      '--index-root',
      P('a'),
      '--lists',
      P('lists.jsonl'),
      '--markdown',
      P('e.md'),
      '--html',
      P('e.html'),
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.ok(rep.users > 700, `users ${rep.users}`);
    const rows = readFileSync(P('lists.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(rows.length, rep.users);
    // the truth, rebuilt here from the events: after the split, not seen before it
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const ev = (await c.runAndReadAll(`SELECT user_id::VARCHAR u, item_id::VARCHAR i, ts FROM '${P('events.parquet')}'`)).getRowObjects();
    c.closeSync();
    const seen = new Map();
    const after = new Map();
    const items = new Set();
    for (const e of ev) {
      items.add(e.i);
      const m = Number(e.ts) < SPLIT ? seen : after;
      if (!m.has(e.u)) m.set(e.u, new Set());
      m.get(e.u).add(e.i);
    }
    const truthOf = (u) => new Set([...after.get(u)].filter((i) => !seen.get(u)?.has(i)));
    // brute force: each metric by its definition, straight from the lists
    const brute = (scope, k) => {
      let rec = 0,
        hit = 0,
        ndcg = 0,
        mrr = 0;
      const covered = new Set();
      for (const row of rows) {
        const t = truthOf(row.user);
        const top = row.lists[scope].slice(0, k);
        top.forEach((x) => covered.add(x));
        const ranks = top.map((x, i) => (t.has(x) ? i + 1 : 0)).filter(Boolean);
        rec += ranks.length / t.size;
        hit += ranks.length ? 1 : 0;
        mrr += ranks.length ? 1 / ranks[0] : 0;
        let ideal = 0;
        for (let i = 1; i <= Math.min(t.size, k); i++) ideal += 1 / Math.log2(i + 1);
        ndcg += ranks.reduce((s, r) => s + 1 / Math.log2(r + 1), 0) / ideal;
      }
      const n = rows.length;
      return { recall: rec / n, hit: hit / n, ndcg: ndcg / n, mrr: mrr / n, coverage: covered.size / items.size };
    };
    for (const scope of ['x2i', 'vector', 'merged'])
      for (const k of [10, 50]) {
        const want = brute(scope, k);
        for (const m of ['recall', 'hit', 'ndcg', 'mrr']) {
          const got = rep.versions[0].metrics.find((x) => x.scope === scope && x.metric === m && x.k === k);
          assert.ok(Math.abs(got.mean - want[m]) < 2e-6, `${scope} ${m}@${k}: ${got.mean} vs ${want[m]}`);
          assert.ok(got.lo <= got.mean && got.mean <= got.hi && got.hi - got.lo > 0, `${scope} ${m}@${k} interval`);
        }
        const cov = rep.versions[0].coverage.find((x) => x.scope === scope && x.k === k);
        assert.ok(Math.abs(cov.value - want.coverage) < 2e-6, `${scope} coverage@${k}`);
      }
    // the x2i list of a user is the sum of the lists of its 10 most recent distinct items before the split
    const lastTs = new Map();
    for (const e of ev)
      if (Number(e.ts) < SPLIT) {
        if (!lastTs.has(e.u)) lastTs.set(e.u, new Map());
        const m = lastTs.get(e.u);
        m.set(e.i, Math.max(m.get(e.i) ?? -1, Number(e.ts)));
      }
    const ix = await openIndex(P('a'));
    for (const row of rows.slice(0, 40)) {
      const m = lastTs.get(row.user);
      const seeds = [...m.keys()].sort((a, b) => m.get(b) - m.get(a) || (a < b ? -1 : 1)).slice(0, 10);
      const acc = new Map();
      for (const sd of seeds)
        for (const x of ix.x2i.get([sd], { top: 200 }).results[0].items) acc.set(x.item, (acc.get(x.item) ?? 0) + x.score);
      const want = [...acc]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, 200)
        .map((x) => x[0])
        .filter((x) => !m.has(x));
      assert.deepEqual(row.lists.x2i, want, `user ${row.user}: x2i list from the seeds before the split`);
    }
    await ix.close();
    // history is excluded from every list
    for (const row of rows.slice(0, 50))
      for (const l of Object.values(row.lists)) for (const x of l) assert.ok(!seen.get(row.user)?.has(x));
    // random lists of the unseen catalogue: the planted clusters are worth far more
    let s = 1;
    const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const catalogue = [...items];
    let randomRecall = 0;
    for (const row of rows) {
      const t = truthOf(row.user);
      const pick = new Set();
      while (pick.size < 50) {
        const x = catalogue[Math.floor(rnd() * catalogue.length)];
        if (!seen.get(row.user)?.has(x)) pick.add(x);
      }
      randomRecall += [...pick].filter((x) => t.has(x)).length / t.size;
    }
    randomRecall /= rows.length;
    const merged50 = rep.versions[0].metrics.find((x) => x.scope === 'merged' && x.metric === 'recall' && x.k === 50);
    assert.ok(merged50.lo > 3 * randomRecall, `merged recall@50 ${merged50.lo}.. vs random ${randomRecall}`);
    // the unique contributions of the two channels are shares of the merged list
    const u = rep.versions[0].unique.filter((x) => x.k === 50);
    assert.ok(u.reduce((a, x) => a + x.share, 0) <= 1 + 1e-9 && u.every((x) => x.share >= 0));
    assert.match(readFileSync(P('e.md'), 'utf8'), /\| merged \| 50 \|/);
    const html = readFileSync(P('e.html'), 'utf8');
    assert.match(html, /<script type="application\/json" id="recall-eval">/);
    assert.doesNotMatch(html, /<script src=|<link /);
  });

  it('the native merge and scoring equal the TypeScript reference user by user (x2i, vector and text; both fusions; a deny list)', async () => {
    const ix = await openIndex(P('a'));
    try {
      const users = await loadEvalUsers({
        interactions: P('events.parquet'),
        splitTime: String(SPLIT),
        userVectors: P('users.parquet'),
        userText: P('user-text.parquet'),
      });
      for (const fusion of ['rrf', 'weighted']) {
        const spec = {
          k: 50,
          fusion,
          channels: { x2i: { quota: 60 }, vector: { quota: 40, weight: 0.5 }, text: { quota: 30, weight: 0.7 } },
        };
        // an odd batch size, so batches end mid-way through the users
        const o = { ks: [1, 10, 50], seeds: 5, threads: 2, keepLists: true, batch: 97, filter: { deny: new Set(['3', '17', '250']) } };
        const fast = await evaluateVersion(ix.channels, spec, users, o);
        const ref = await evaluateVersion(ix.channels, spec, users, { ...o, reference: true });
        assert.equal(fast.nativeBatches, Math.ceil(users.users.length / 97), 'every batch took the native path');
        assert.equal(ref.nativeBatches, 0);
        assert.ok(
          ref.lists.every((l) => l.text.length > 0 && l.x2i.length > 0),
          'every channel answered',
        );
        assert.deepEqual(fast.lists, ref.lists, `${fusion}: lists`);
        for (const [scope, m] of ref.perUser)
          for (const [metric, perK] of Object.entries(m))
            assert.deepEqual(fast.perUser.get(scope)[metric], perK, `${fusion}: ${scope} ${metric}`);
        assert.deepEqual([...fast.coverage], [...ref.coverage]);
        assert.deepEqual([...fast.unique], [...ref.unique]);
      }
    } finally {
      await ix.close();
    }
  });

  it('x2i seed sums read in place equal a batch lookup summed, on a sharded version (missing seeds, weights, lists cut to top)', async () => {
    // the fixture lists in 3 shards, so seeds are routed
    const lists = 'fixtures/parquet/x2i-lists.parquet';
    for (const args of [
      ['shard', '-i', lists, '-k', 'item_id', '-n', '3', '-o', P('x2i-shards')],
      ['build', 'x2i', '-i', P('x2i-shards'), '-k', 'item_id', '--neighbors', 'neighbors', '--scores', 'scores', '-o', P('x2i-sharded')],
    ]) {
      const r = await recallWarm([...args, '--json']);
      assert.equal(r.code, 0, r.stderr);
    }
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const ids = (await c.runAndReadAll(`SELECT item_id FROM '${lists}' ORDER BY item_id`)).getRowsJS().map((x) => BigInt(x[0]));
    c.closeSync();
    const ix = await openIndex(P('x2i-sharded'));
    try {
      const x2i = ix.channels[Object.keys(ix.channels)[0]];
      assert.equal(x2i.shardCount, 3);
      // 300 requests of 0-6 seeds; one seed in eight is a missing key
      let r = 7;
      const next = (n) => {
        r = (Math.imul(r, 1103515245) + 12345) >>> 0;
        return (r >>> 8) % n;
      };
      const keys = [];
      const weights = [];
      const ends = [];
      for (let q = 0; q < 300; q++) {
        for (let j = next(7); j > 0; j--) {
          keys.push(next(8) === 0 ? ids.at(-1) + 1000n + BigInt(next(50)) : ids[next(ids.length)]);
          weights.push([1, 0.5, 2][next(3)]);
        }
        ends.push(keys.length);
      }
      for (const [top, fanout] of [
        [0, 200],
        [3, 5],
      ]) {
        const k = BigInt64Array.from(keys);
        const w = Float64Array.from(weights);
        const e = Uint32Array.from(ends);
        const got = x2i.sumSeeds(k, w, e, { top, fanout });
        const b = x2i.getBatch(k, { top });
        assert.ok(b.found.some((f) => f === 0) && b.found.some((f) => f === 1), 'both found and missing seeds');
        const want = loadNative().x2iSumSeedLists(b.items, b.scores, b.counts, w, e, fanout);
        assert.ok(want.items.length > 300, `${want.items.length} items`);
        assert.deepEqual(got.counts, want.counts);
        assert.deepEqual(got.items, want.items);
        assert.deepEqual(got.scores, want.scores);
      }
    } finally {
      await ix.close();
    }
  });

  it('--against flags a planted degradation and not a rebuild with another seed', async () => {
    const gate = ['--gate', 'recall@50 >= -5%', '--gate', 'x2i.ndcg@10 >= -5%'];
    const same = await recallWarm([...EVAL(), '--config', P('b.json'), '--index-root', P('b'), '--against', P('a'), ...gate, '--json']);
    assert.equal(same.code, 0, same.stdout.slice(0, 3000) + same.stderr);
    const s = JSON.parse(same.stdout);
    assert.ok(s.gates.every((g) => !g.breached));
    const x2iDiff = s.diff.find((d) => d.scope === 'x2i' && d.metric === 'ndcg' && d.k === 10);
    assert.ok(x2iDiff.lo <= 0 || x2iDiff.hi >= 0);
    const bad = await recallWarm([...EVAL(), '--config', P('bad.json'), '--index-root', P('bad'), '--against', P('a'), ...gate, '--json']);
    assert.equal(bad.code, 4, bad.stderr);
    const b = JSON.parse(bad.stdout);
    const g = b.gates.find((x) => x.text === 'recall@50 >= -5%');
    assert.ok(g.breached && g.hi < -0.05, JSON.stringify(g));
    assert.ok(b.diff.find((d) => d.scope === 'merged' && d.metric === 'recall' && d.k === 50).relativeHi < 0);
  });

  it('--against-config compares two merge configs on one index, paired; a config against itself differs by exactly 0', async () => {
    const a = JSON.parse(readFileSync(P('a.json'), 'utf8'));
    // one seed and short channel lists: the merged list must get worse
    a.merge = { ...a.merge, seeds: 1, channels: { x2i: { quota: 5 }, vector: { quota: 5, weight: 0.5 } } };
    writeFileSync(P('worse.json'), JSON.stringify(a));
    const gate = ['--gate', 'recall@50 >= -5%'];
    // `config` on index a, against a.json (the config of a) given to `flag`
    const against = (config, flag) =>
      recallWarm([...EVAL(), '--config', P(config), '--index-root', P('a'), flag, P('a.json'), ...gate, '--json']);
    const self = await against('a.json', '--against-config');
    assert.equal(self.code, 0, self.stdout.slice(0, 3000) + self.stderr);
    const s = JSON.parse(self.stdout);
    assert.ok(s.diff.length > 0 && s.diff.every((d) => d.mean === 0 && d.lo === 0 && d.hi === 0), JSON.stringify(s.diff[0]));
    assert.match(s.against, /a\.json/);
    const worse = await against('worse.json', '--against-config');
    assert.equal(worse.code, 4, worse.stderr);
    const w = JSON.parse(worse.stdout);
    assert.ok(w.gates[0].breached && w.gates[0].hi < -0.05, JSON.stringify(w.gates[0]));
    // a file given to --against is taken as a config of the same index
    const file = await against('worse.json', '--against');
    assert.equal(file.code, 4, file.stderr);
    assert.deepEqual(JSON.parse(file.stdout).diff, w.diff);
  });
});
