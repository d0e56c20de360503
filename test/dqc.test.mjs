// recall dqc: on a candidate built with planted defects (a shard with half its keys, out-of-range
// scores in the other shard, a text vocabulary collapse, an HNSW graph built too sparse) each check
// fires where it was planted, naming the check, channel and shard; a rebuild of the same data is
// silent. `build --config --gate-dqc` leaves the live versions in place on a breach.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { shardOf } from '../dist/api/index.js';
import { recallWarm, root, scratchDir } from './helpers/cli.mjs';

const dir = scratchDir('dqc');
const P = (...p) => join(dir, ...p);
const F = (f) => join(root, 'fixtures/parquet', f);
after(() => rmSync(dir, { recursive: true, force: true }));

function config(name, files, vector = {}) {
  const c = {
    out: P('out'),
    shards: 2,
    sources: {
      lists: { inputs: [files.lists], key: 'item_id' },
      embeddings: { inputs: [F('embeddings.parquet')], key: 'item_id' },
      dictionary: { inputs: [files.text], key: 'id' },
    },
    channels: [
      { name: 'x2i', kind: 'x2i', source: 'lists', neighbors: 'neighbors', scores: 'scores' },
      { name: 'vector', kind: 'vector', source: 'embeddings', vector: 'embedding', type: 'hnsw', ...vector },
      { name: 'text', kind: 'inverted', source: 'dictionary', text: ['headword', 'text'] },
    ],
    dqc: { scoreRange: [0, 1], sample: 500 },
  };
  writeFileSync(P(`${name}.json`), JSON.stringify(c));
  return P(`${name}.json`);
}

const LIVE = () => config('live', { lists: F('x2i-lists.parquet'), text: F('wordnet-3000.parquet') });

describe('recall dqc', () => {
  before(async () => {
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const c = await db.connect();
    const keys = (await c.runAndReadAll(`SELECT item_id FROM '${F('x2i-lists.parquet')}'`)).getRows().map((r) => r[0]);
    const shard0 = keys.filter((k) => shardOf(k, 2) === 0);
    const shard1 = keys.filter((k) => shardOf(k, 2) === 1);
    const drop = shard0.filter((_, i) => i % 2 === 0); // half of shard 0
    const negate = shard1.filter((_, i) => i % 5 === 0); // a fifth of shard 1 gets scores above 1
    await c.run(`CREATE TABLE drop_keys AS SELECT unnest([${drop.join(',')}]::BIGINT[]) AS k`);
    await c.run(`CREATE TABLE bad_keys AS SELECT unnest([${negate.join(',')}]::BIGINT[]) AS k`);
    await c.run(`COPY (SELECT item_id, neighbors, CASE WHEN item_id IN (SELECT k FROM bad_keys) THEN list_transform(scores, x -> x * 5) ELSE scores END AS scores
      FROM '${F('x2i-lists.parquet')}' WHERE item_id NOT IN (SELECT k FROM drop_keys)) TO '${P('lists-bad.parquet')}' (FORMAT parquet)`);
    // every document says one of seven words
    await c.run(
      `COPY (SELECT id, headword, 'word' || (id % 7)::VARCHAR AS text FROM '${F('wordnet-3000.parquet')}') TO '${P('text-bad.parquet')}' (FORMAT parquet)`,
    );
    c.closeSync();
    db.closeSync();
    config('bad', { lists: P('lists-bad.parquet'), text: P('text-bad.parquet') }, { m: 2, efConstruction: 2 });
    const live = await recallWarm(['build', '--config', LIVE(), '-o', P('out'), '--json']);
    assert.equal(live.code, 0, live.stderr);
    const bad = await recallWarm(['build', '--config', P('bad.json'), '-o', P('bad'), '--json']);
    assert.equal(bad.code, 0, bad.stderr);
  });

  it('each planted defect fires its check, where it was planted', async () => {
    const r = await recallWarm(['dqc', P('bad'), '--against', P('out'), '--config', LIVE(), '--json', '--markdown', P('dqc.md')]);
    assert.equal(r.code, 4, r.stderr);
    const j = JSON.parse(r.stdout);
    const fired = (check, channel, shard) => j.breaches.find((b) => b.check === check && b.channel === channel && b.shard === shard);
    const half = fired('count.keys', 'x2i', 0);
    assert.ok(half && Math.abs(half.value + 0.5) < 0.01, JSON.stringify(half));
    assert.ok(!fired('count.keys', 'x2i', 1), 'shard 1 kept its keys');
    const scores = fired('badScores', 'x2i', 1);
    assert.ok(scores && scores.value > 0.02, JSON.stringify(scores));
    assert.ok(!fired('badScores', 'x2i', 0), 'shard 0 scores are in range');
    const vocab = j.breaches.filter((b) => b.check === 'vocabulary' && b.channel === 'text');
    assert.equal(vocab.length, 2, 'both text shards collapsed');
    assert.ok(
      vocab.every((b) => b.value < -0.5 && b.candidate < b.live / 2),
      JSON.stringify(vocab),
    );
    // the collapsed field's top terms by df are all new; the untouched headword field keeps its own
    const churn = j.breaches.filter((b) => b.check === 'topTermsChurn.text' && b.channel === 'text');
    assert.equal(churn.length, 2, 'both text shards lost their top terms');
    assert.ok(
      churn.every((b) => b.value > 0.9),
      JSON.stringify(churn),
    );
    assert.ok(!j.breaches.some((b) => b.check.startsWith('topTerms') && b.check.endsWith('.headword')), 'headword terms unchanged');
    const graph = fired('graphRecall', 'vector', 0);
    assert.ok(graph && graph.value < 0.8, JSON.stringify(graph));
    assert.match(r.stderr, /dqc breach: x2i shard 0: count\.keys = -0\.5/);
    assert.match(readFileSync(P('dqc.md'), 'utf8'), /\| x2i \| 0 \| count\.keys \|.*\*\*BREACH\*\*/);
  });

  it('build --config --gate-dqc publishes nothing on a breach and publishes a clean rebuild', async () => {
    const current = (ch) => readFileSync(P('out', ch, 'CURRENT'), 'utf8');
    const before = ['x2i', 'vector', 'text'].map(current);
    const bad = await recallWarm(['build', '--config', P('bad.json'), '-o', P('out'), '--gate-dqc']);
    assert.equal(bad.code, 4, bad.stderr);
    assert.match(bad.stderr, /data-quality gate: .*x2i shard 0: count\.keys/);
    assert.deepEqual(['x2i', 'vector', 'text'].map(current), before, 'CURRENT did not move');
    const ok = await recallWarm(['build', '--config', LIVE(), '-o', P('out'), '--gate-dqc', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const j = JSON.parse(ok.stdout);
    assert.ok(j.dqc.checks > 20 && j.dqc.breaches === 0);
    assert.ok(
      j.channels.every((c) => c.version === 2),
      JSON.stringify(j.channels.map((c) => c.version)),
    );
  });

  it('--gate-dqc gates a scale-out build at --publish, and refuses --shard/--prepare/--plan naming where it belongs', async () => {
    const current = (ch) => readFileSync(P('out', ch, 'CURRENT'), 'utf8');
    const before = ['x2i', 'vector', 'text'].map(current);
    for (const extra of [['--shard', '0'], ['--prepare'], ['--plan']]) {
      const r = await recallWarm(['build', '--config', P('bad.json'), '-o', P('out'), '--gate-dqc', ...extra]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--gate-dqc .*--publish/, r.stderr);
    }
    const step = async (...a) => {
      const r = await recallWarm(['build', '--config', P('bad.json'), '-o', P('out'), ...a]);
      assert.equal(r.code, 0, r.stderr);
    };
    await step('--prepare');
    await step('--shard', '0');
    await step('--shard', '1');
    const bad = await recallWarm(['build', '--config', P('bad.json'), '-o', P('out'), '--publish', '--gate-dqc']);
    assert.equal(bad.code, 4, bad.stderr);
    assert.match(bad.stderr, /data-quality gate: .*x2i shard 0: count\.keys/);
    assert.deepEqual(['x2i', 'vector', 'text'].map(current), before, 'CURRENT did not move');
    // the parts stay: publishing without the gate (an operator's override) still works
    const forced = await recallWarm(['build', '--config', P('bad.json'), '-o', P('out'), '--publish', '--json']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.notDeepEqual(['x2i', 'vector', 'text'].map(current), before, 'published once ungated');
  });

  it('a rebuild of the same data is silent', async () => {
    // the gate's rebuild (v2) against the first build (v1), channel by channel (version folders)
    const v = (ch, n) => P('out', ch, `v0000000${n}`);
    const checks = [];
    for (const ch of ['x2i', 'vector', 'text']) {
      const r = await recallWarm(['dqc', v(ch, 2), '--against', v(ch, 1), '--config', LIVE(), '--json']);
      assert.equal(r.code, 0, r.stdout.slice(0, 3000));
      const j = JSON.parse(r.stdout);
      assert.equal(j.breached, false);
      checks.push(...j.checks);
    }
    assert.ok(checks.length > 20, `${checks.length} checks ran`);
    for (const check of [
      'count.keys',
      'psi.length',
      'psi.score',
      'top10Changed',
      'vocabulary',
      'graphRecall',
      'badScores',
      'emptyLists',
      'psi.norm',
    ])
      assert.ok(
        checks.some((c) => c.check === check),
        `${check} ran`,
      );
    assert.ok(checks.filter((c) => c.check === 'top10Changed').every((c) => c.value === 0));
    const terms = checks.filter((c) => c.check.startsWith('topTerms'));
    assert.equal(terms.length, 8, 'churn and df of two fields in two text shards');
    assert.ok(
      terms.every((c) => c.value === 0),
      JSON.stringify(terms),
    );
  });
});
