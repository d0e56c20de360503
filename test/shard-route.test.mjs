// `recall_shard(key)`, the routing function `recall shard` runs inside DuckDB: registered natively
// through DuckDB's C API (where the addon can) and as a JS function; both give every row the shard
// an independent xxHash64 (xxhash-wasm) gives it, NULL for a null key, and the same counts, for
// every key type `recall shard` accepts; and so does `recall shard` into more shards than one pass
// writes.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import xxhash from 'xxhash-wasm';
import { openDuckDB } from '../dist/core/io/duckdb.js';
import { keyEncoding, registerShardFunction } from '../dist/core/shard/route-udf.js';
import { recallWarm, scratchDir } from './helpers/cli.mjs';

const { h64Raw } = await xxhash();
const SHARDS = 7;
const le64 = (v) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, BigInt.asIntN(64, BigInt(v)), true);
  return b;
};

// 5,000 rows (three vectors and a part), every 11th key null; strings of 0 to 40 bytes (DuckDB
// keeps up to 12 inline), some not ASCII
const KEYS = `SELECT i,
    CASE WHEN i % 11 = 5 THEN NULL ELSE (i * 2654435761) % 9223372036854775807 - 4611686018427387904 END AS k_bigint,
    CASE WHEN i % 11 = 5 THEN NULL ELSE (i * 7919)::INTEGER - 20000000 END AS k_int,
    CASE WHEN i % 11 = 5 THEN NULL ELSE 18446744073709551615::UBIGINT - i::UBIGINT * 3000000000000000 END AS k_ubigint,
    CASE WHEN i % 11 = 5 THEN NULL ELSE repeat(chr((97 + i % 26)::INTEGER), (i % 41)::INTEGER) || CASE WHEN i % 3 = 0 THEN 'é中' ELSE '' END END AS k_varchar
  FROM range(5000) t(i)`;

const db = await openDuckDB({ threads: 1 });
const conns = [];
const dir = scratchDir('shard-route');
after(() => {
  for (const c of conns) c.closeSync();
  db.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

async function routed(column, type, preferNative) {
  const c = await db.connect();
  conns.push(c);
  const key = keyEncoding(column, type, 'test');
  const route = await registerShardFunction(c, key.encoding, SHARDS, undefined, { preferNative });
  const reader = await c.runAndReadAll(`SELECT ${column} AS k, recall_shard(${key.sql}) AS s FROM (${KEYS}) ORDER BY i`);
  route.close();
  const rows = reader.getRowObjects();
  return { native: route.native, rows, counts: route.counts() };
}

describe('recall_shard inside DuckDB', () => {
  for (const [column, type] of [
    ['k_bigint', 'BIGINT'],
    ['k_int', 'INTEGER'],
    ['k_ubigint', 'UBIGINT'],
    ['k_varchar', 'VARCHAR'],
  ]) {
    it(`${type} keys: native and JS give each row its xxHash64 shard, NULL for a null key, and the same counts`, async () => {
      const native = await routed(column, type, true);
      const js = await routed(column, type, false);
      assert.equal(native.native, true, 'the addon registers natively on this @duckdb/node-api');
      assert.equal(js.native, false);
      const want = new Float64Array(SHARDS);
      let nulls = 0;
      for (const [r, { k, s }] of native.rows.entries()) {
        if (k === null) {
          nulls++;
          assert.equal(s, null, `row ${r}: a null key has no shard`);
        } else {
          const bytes = type === 'VARCHAR' ? new TextEncoder().encode(k) : le64(k);
          const shard = Number(h64Raw(bytes, 0n) % BigInt(SHARDS));
          assert.equal(s, shard, `row ${r} (key ${k})`);
          want[shard]++;
        }
        assert.equal(js.rows[r].s, s, `row ${r}: the JS function agrees`);
      }
      assert.ok(nulls > 400, 'the data has null keys');
      for (const { counts } of [native, js]) {
        assert.deepEqual([...counts.perShard], [...want]);
        assert.equal(counts.nullKeys, nulls);
      }
    });
  }

  it('recall shard into more shards than a lane keeps open at once (two passes): every row in its shard, the counts in the manifest', async () => {
    const out = join(dir, 'many');
    const r = await recallWarm(['shard', '-i', 'fixtures/parquet/events.parquet', '-k', 'user_id', '-n', '300', '-o', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const manifest = JSON.parse(r.stdout).manifest;
    const c = await db.connect();
    conns.push(c);
    const rows = (
      await c.runAndReadAll(
        `SELECT user_id::BIGINT AS k, regexp_extract(filename, 'shard-(\\d+)-of', 1)::INTEGER AS s FROM read_parquet('${out}/shard-*.parquet', filename = true)`,
      )
    ).getRowObjects();
    const perShard = new Array(300).fill(0);
    for (const { k, s } of rows) {
      assert.equal(s, Number(h64Raw(le64(k), 0n) % 300n), `key ${k}`);
      perShard[s]++;
    }
    assert.equal(rows.length, 20000);
    assert.deepEqual(
      manifest.shards.map((e) => e.rows),
      perShard,
    );
  });
});
