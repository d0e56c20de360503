// x2i end to end on DuckDB-written parquet: every key's list equals DuckDB's
// own sort of the input, sharded builds route and answer like one file,
// rebuilds are byte-identical, damage is caught, bad rows write nothing.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { makeParquetFixtures } from './helpers/parquet-fixtures.mjs';
import { recallWarm, scratchDir } from './helpers/cli.mjs';

const dir = scratchDir('x2i');
after(() => rmSync(dir, { recursive: true, force: true }));
let fx;
let c;
before(async () => {
  fx = await makeParquetFixtures(join(dir, 'in'));
  c = await (await DuckDBInstance.create(':memory:')).connect();
});
const rows = async (sql) => (await c.runAndReadAll(sql)).getRowObjectsJson();

async function run(args, code = 0) {
  const r = await recallWarm([...args, '--json']);
  assert.equal(r.code, code, `recall ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}
const build = (input, out, extra = []) =>
  run(['build', 'x2i', '-i', input, '-k', 'item_id', '--neighbors', 'neighbors', '--scores', 'scores', '-o', out, ...extra]);
const query = (index, keys, extra = []) => run(['query', 'x2i', '--index', index, '--keys', keys.join(','), '--k', '0', ...extra]);

describe('x2i', () => {
  it('every key answers its input list: best score per item, score desc then item asc', async () => {
    const out = join(dir, 'one');
    const res = await build(fx.x2i_snappy, out);
    assert.equal(res.version.version, 1);
    // DuckDB's own answer: repeated items keep their best score; order score desc, item asc
    const want = await rows(`with e as (select item_id, unnest(neighbors) item, unnest(scores) score from read_parquet('${fx.x2i_snappy}')),
      best as (select item_id, item, max(score) score from e group by all)
      select k.item_id::varchar k, coalesce(list(b.item::varchar order by b.score desc, b.item asc) filter (where b.item is not null), []) items,
             coalesce(list(b.score order by b.score desc, b.item asc) filter (where b.item is not null), []) scores
      from read_parquet('${fx.x2i_snappy}') k left join best b using (item_id) group by k.item_id order by k.item_id`);
    const keys = want.map((w) => w.k);
    const got = await query(out, keys);
    assert.equal(got.found, keys.length);
    assert.deepEqual(got.missing, []);
    for (const [i, w] of want.entries()) {
      assert.deepEqual(
        got.results[i].items.map((x) => x.item),
        w.items,
        `key ${w.k} items`,
      );
      assert.deepEqual(
        got.results[i].items.map((x) => x.score),
        w.scores,
        `key ${w.k} scores`,
      );
    }
    assert.equal(want.length, 5000);
    const missing = await query(out, [123456789, -5]);
    assert.deepEqual(missing.missing, ['123456789', '-5']);
  });

  it('a sharded build routes keys to their shard and answers like the single file', async () => {
    const shards = join(dir, 'x2i-shards');
    await run(['shard', '-i', fx.x2i_snappy, '-k', 'item_id', '-n', '3', '-o', shards]);
    const out = join(dir, 'sharded');
    const res = await build(shards, out, ['--top-k', '5']);
    assert.deepEqual(
      res.shards.map((s) => s.file),
      ['shard-00000-of-00003.rx2i', 'shard-00001-of-00003.rx2i', 'shard-00002-of-00003.rx2i'],
    );
    const single = join(dir, 'single-top5');
    await build(fx.x2i_snappy, single, ['--top-k', '5']);
    const keys = Array.from({ length: 300 }, (_, i) => i * 13);
    const a = await query(out, keys);
    const b = await query(single, keys);
    assert.equal(a.shardCount, 3);
    assert.deepEqual(
      a.results.map((r) => [r.key, r.items]),
      b.results.map((r) => [r.key, r.items]),
    );
    assert.ok(a.results.every((r) => r.items.length <= 5));
    // one job of a distributed build: --shard K builds exactly that shard, byte-identical to the one-shot file
    const one = join(dir, 'shard-1-only');
    const only = await build(shards, one, ['--top-k', '5', '--shard', '1']);
    assert.deepEqual(
      only.shards.map((s) => s.file),
      ['shard-00001-of-00003.rx2i'],
    );
    assert.deepEqual(
      readFileSync(join(one, 'v00000001/shard-00001-of-00003.rx2i')),
      readFileSync(join(out, 'v00000001/shard-00001-of-00003.rx2i')),
    );
  });

  it('a rebuild is byte-identical; recall verify catches a flipped byte', async () => {
    const [p, q] = [join(dir, 'rb1'), join(dir, 'rb2')];
    await build(fx.x2i_snappy, p, ['--seed', '77']);
    await build(fx.x2i_snappy, q, ['--seed', '77']);
    const f = 'v00000001/shard-00000-of-00001.rx2i';
    assert.deepEqual(readFileSync(join(p, f)), readFileSync(join(q, f)));
    const info = await run(['inspect', join(p, f)]);
    assert.deepEqual(
      info.sections.map((s) => s.name),
      ['params', 'hashmeta', 'slots', 'lists'],
    );
    const bytes = readFileSync(join(p, f));
    const slots = info.sections.find((s) => s.name === 'slots');
    bytes[slots.offset + 100] ^= 0x04;
    writeFileSync(join(p, f), bytes);
    const v = await recallWarm(['verify', p]);
    assert.equal(v.code, 3);
    assert.match(v.stdout, /\(section 2 \(kind 17\)\) checksum mismatch/);
  });

  // x keeps every row of the fixture in order (row r has item_id r); row 40 is damaged
  const bad = [
    ['a null key', `select case when item_id = 40 then null else item_id end as item_id, neighbors, scores from x`, /row 40: null key/],
    [
      'unequal list lengths',
      `select item_id, neighbors, case when item_id = 40 then [1.0::float] || coalesce(scores, []) else scores end as scores from x`,
      /row 40: "neighbors" and "scores" have unequal lengths/,
    ],
    [
      'a NaN score',
      `select item_id, neighbors, case when item_id = 40 then ['nan'::float] || scores[2:] else scores end as scores from x`,
      /row 40: a null, NaN, infinite or beyond-f32 score/,
    ],
    [
      'a string key',
      `select item_id::varchar as item_id, neighbors, scores from x`,
      /key column "item_id" is VARCHAR; x2i keys must be integers/,
    ],
  ];
  for (const [name, sql, message] of bad) {
    it(`refuses ${name} with exit 3 and the row; nothing written`, async () => {
      const file = join(dir, `bad-${name.replace(/\W+/g, '-')}.parquet`);
      await c.run(`create or replace table x as select * from read_parquet('${fx.x2i_snappy}')`);
      assert.equal((await rows(`select len(neighbors)::int n from x where item_id = 40`))[0].n > 1, true, 'row 40 has a list to damage');
      await c.run(`copy (${sql}) to '${file}' (format parquet)`);
      const out = join(dir, `bad-out-${name.replace(/\W+/g, '-')}`);
      const build = ['build', 'x2i', '-i', file, '-k', 'item_id', '--neighbors', 'neighbors', '--scores', 'scores', '-o', out];
      const r = await recallWarm(build);
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, message);
      assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'no version written');
    });
  }

  it('recall bench hash runs all contenders in one run', async () => {
    const r = await run(['bench', 'hash', '--slots', '14', '--reps', '1']);
    const [row] = r.rows;
    assert.equal(row.slots, 16384);
    assert.ok(row.apcl.neighborHash < row.apcl.linearProbing);
    for (const k of ['random-access bound', 'NeighborHash scalar', 'NeighborHash AMAC W=16', 'linear probing scalar', 'JS Map<bigint>'])
      assert.ok(row.nsPerLookup[k] > 0, k);
    // The bound reads the lines the lookups read: the hits' APCL, and for the 10% misses at least their home line.
    assert.ok(row.linesPerLookup >= 1 && row.linesPerLookup <= row.apcl.neighborHash + 0.1, `${row.linesPerLookup} lines a lookup`);
  });
});
