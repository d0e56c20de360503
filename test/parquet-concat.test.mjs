// Joining parquet files by copying row groups and rewriting the footer (io/parquet-concat.ts), on
// files DuckDB wrote: the thrift codec gives back every footer byte for byte, and DuckDB reads the
// joined file as the parts' rows in order, with the bloom filters of the later parts still found
// where the footer says (DuckDB's own parquet_bloom_probe), and a schema mismatch refused.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { concatParquet, hashHead } from '../dist/core/io/parquet-concat.js';
import { readStruct, writeStruct } from '../dist/core/io/thrift-compact.js';
import { makeParquetFixtures } from './helpers/parquet-fixtures.mjs';
import { scratchDir } from './helpers/cli.mjs';

const dir = scratchDir('parquet-concat');
after(() => rmSync(dir, { recursive: true, force: true }));
let fx;
let c;
before(async () => {
  fx = await makeParquetFixtures(join(dir, 'in'), 12000);
  c = await (await DuckDBInstance.create(':memory:', { threads: '1' })).connect();
});
const rows = async (sql) => (await c.runAndReadAll(sql)).getRowObjectsJson();
const footerOf = (file) => {
  const b = readFileSync(file);
  const len = b.readUInt32LE(b.length - 8);
  return b.subarray(b.length - 8 - len, b.length - 8);
};
/** Every row with its position, in file order, as one digest. */
const ordered = async (from) =>
  (
    await rows(
      `select md5(string_agg(md5(t::varchar), ',' order by n)) d, count(*)::int n from (select t, row_number() over () n from ${from} t)`,
    )
  )[0];

/** Join `parts` into `out`: the size and sha256 it reports are the file's, and its rows are `want`'s, in order. */
async function joinsTo(parts, out, want) {
  const sum = concatParquet(parts, out);
  const bytes = readFileSync(out);
  assert.equal(sum.bytes, bytes.length);
  assert.equal(sum.sha256, createHash('sha256').update(bytes).digest('hex'));
  assert.deepEqual(await ordered(`read_parquet('${out}')`), await ordered(want));
}

describe('parquet concat', () => {
  it('the thrift codec writes back every footer DuckDB wrote, byte for byte', () => {
    for (const [name, file] of Object.entries(fx)) {
      const raw = footerOf(file);
      const { struct, end } = readStruct(raw);
      assert.equal(end, raw.length, `${name}: the whole footer is one struct`);
      assert.ok(Buffer.from(writeStruct(struct)).equals(raw), `${name}: round trip`);
    }
  });

  for (const [name, table] of [
    ['events (nulls, a dictionary column with a bloom filter)', 'ev_gzip_rg'],
    ['lists with nulls and empty lists', 'x2i_snappy'],
    ['long unicode strings', 'docs_zstd'],
  ])
    it(`${name}: three parts of different codecs and row-group sizes join to the parts' rows in order`, async () => {
      const src = fx[table];
      const parts = [
        ['limit 1000', 'compression snappy, row_group_size 300'],
        ['offset 1000 limit 1500', 'compression zstd, row_group_size 2048'],
        ['offset 2500', 'compression gzip, row_group_size 700'],
      ].map(([range, opts], i) => {
        const f = join(dir, `${table}-part${i}.parquet`);
        return { f, sql: `copy (select * from read_parquet('${src}') ${range}) to '${f}' (format parquet, ${opts})` };
      });
      for (const p of parts) await c.run(p.sql);
      const out = join(dir, `${table}-joined.parquet`);
      await joinsTo(
        parts.map((p) => p.f),
        out,
        `read_parquet('${src}')`,
      );
      const groups = async (f) => (await rows(`select count(distinct row_group_id)::int n from parquet_metadata('${f}')`))[0].n;
      let want = 0;
      for (const p of parts) want += await groups(p.f);
      assert.equal(await groups(out), want, 'every row group kept');
      const [{ n }] = await rows(`select num_rows::int n from parquet_file_metadata('${out}')`);
      assert.equal(n, (await rows(`select count(*)::int n from read_parquet('${src}')`))[0].n);
    });

  it('bloom filters of a later part still answer from their new place', async () => {
    // `action` is dictionary-encoded, so DuckDB writes a bloom filter per row group for it.
    const a = join(dir, 'bloom-a.parquet');
    const b = join(dir, 'bloom-b.parquet');
    await c.run(`copy (select range::bigint id, 'a' || (range % 37)::varchar as action from range(5000)) to '${a}' (format parquet)`);
    await c.run(`copy (select range::bigint id, 'b' || (range % 41)::varchar as action from range(4000)) to '${b}' (format parquet)`);
    const out = join(dir, 'bloom-joined.parquet');
    concatParquet([a, b], out);
    const [{ offsets }] = await rows(
      `select count(*)::int offsets from parquet_metadata('${out}') where path_in_schema = 'action' and bloom_filter_offset is not null`,
    );
    assert.equal(offsets, 2, 'both row groups carry a bloom filter');
    for (const value of ['a5', 'b5', 'b40', 'zz']) {
      const probe = await rows(
        `select row_group_id::int g, bloom_filter_excludes e from parquet_bloom_probe('${out}', 'action', '${value}') order by 1`,
      );
      assert.deepEqual(
        probe.map((p) => p.e),
        [!value.startsWith('a'), !value.startsWith('b')],
        `probe of ${value}`,
      );
      const [{ n }] = await rows(`select count(*)::int n from read_parquet('${out}') where action = '${value}'`);
      const [{ m }] = await rows(`select count(*)::int m from read_parquet(['${a}', '${b}']) where action = '${value}'`);
      assert.equal(n, m);
    }
  });

  it('parts of several MiB (each copied in many chunks) join to their rows in order, checksum right', async () => {
    // md5 strings do not compress: each part is a few MiB, so a join reads and writes it in many chunks.
    const parts = [
      [0, 70000],
      [70000, 30000],
      [100000, 90001],
    ].map(([from, count], i) => {
      const f = join(dir, `big-part${i}.parquet`);
      return {
        f,
        sql: `copy (select range::bigint id, md5(range::varchar) || md5((range * 7)::varchar) s from range(${from}, ${from + count})) to '${f}' (format parquet, compression uncompressed)`,
      };
    });
    for (const p of parts) await c.run(p.sql);
    assert.ok(statSync(parts[0].f).size > 3 << 20, 'a part spans several chunks');
    const out = join(dir, 'big-joined.parquet');
    const all = parts.map((p) => `select * from read_parquet('${p.f}')`).join(' union all ');
    await joinsTo(
      parts.map((p) => p.f),
      out,
      `(${all})`,
    );
    const [{ n }] = await rows(`select count(*)::int n from read_parquet('${out}')`);
    assert.equal(n, 190001);
  });

  it('extending the first part in place gives the bytes of a copying join, with or without its head hashed first', async () => {
    const src = fx.ev_gzip_rg;
    // three parts of different row-group sizes, written afresh for each join (the in-place one consumes the first)
    const make = async (tag) => {
      const ranges = ['limit 4000', 'offset 4000 limit 3000', 'offset 7000'];
      const parts = ranges.map((_, i) => join(dir, `extend-${tag}-part${i}.parquet`));
      for (const [i, f] of parts.entries())
        await c.run(
          `copy (select * from read_parquet('${src}') ${ranges[i]}) to '${f}' (format parquet, compression zstd, row_group_size ${700 + i * 500})`,
        );
      return parts;
    };
    const copied = join(dir, 'extend-copied.parquet');
    const want = concatParquet(await make('copy'), copied);
    const bytes = readFileSync(copied);
    for (const [tag, head] of [
      ['plain', () => undefined],
      ['head', (parts) => hashHead(parts[0])],
      // a head taken before the part changed is not trusted: the part is hashed again
      [
        'stale',
        (parts) => {
          const h = hashHead(parts[1]);
          return { ...h, path: parts[0] };
        },
      ],
    ]) {
      const parts = await make(tag);
      const later = parts.slice(1).map((p) => readFileSync(p));
      const out = join(dir, `extend-${tag}.parquet`);
      const sum = concatParquet(parts, out, { extendFirst: true, head: head(parts) });
      assert.deepEqual(sum, want, `${tag}: size and sha256 of the copying join`);
      assert.ok(readFileSync(out).equals(bytes), `${tag}: the same bytes`);
      assert.ok(!existsSync(parts[0]), `${tag}: the first part became the joined file`);
      parts.slice(1).forEach((p, i) => assert.ok(readFileSync(p).equals(later[i]), `${tag}: later parts untouched`));
    }
    assert.deepEqual(await ordered(`read_parquet('${copied}')`), await ordered(`read_parquet('${src}')`));
    // one part in place is that part, renamed, with its own size and checksum
    const [single] = await make('single');
    const before = readFileSync(single);
    const alone = join(dir, 'extend-single.parquet');
    assert.deepEqual(concatParquet([single], alone, { extendFirst: true }), {
      bytes: before.length,
      sha256: createHash('sha256').update(before).digest('hex'),
    });
    assert.ok(readFileSync(alone).equals(before) && !existsSync(single));
  });

  it('parts of different schemas are refused', async () => {
    const a = join(dir, 'schema-a.parquet');
    const b = join(dir, 'schema-b.parquet');
    await c.run(`copy (select 1::bigint id) to '${a}' (format parquet)`);
    await c.run(`copy (select 1::integer id) to '${b}' (format parquet)`);
    assert.throws(() => concatParquet([a, b], join(dir, 'schema-joined.parquet')), /schema-b\.parquet: schema differs/);
  });
});
