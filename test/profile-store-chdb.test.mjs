// The store is plain Parquet: ClickHouse (the npm `chdb` package, embedded) reads it with the
// documented schema and gets the same per-profile totals and self shares as recall. Skipped
// unless chdb resolves (it is 0.5 GB, not a dependency): `npm install --no-save chdb`, or
// CHDB_MODULE=/path/to/node_modules/chdb/index.mjs.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { StoreReader } from '../dist/core/profile/store/query.js';
import { recall, scratchDir } from './helpers/cli.mjs';
import { writeSeries } from './helpers/profile-series.mjs';

const chdb = await import(process.env.CHDB_MODULE ?? 'chdb').catch(() => null);
const dir = scratchDir('profile-store-chdb');
after(() => rmSync(dir, { recursive: true, force: true }));

it("ClickHouse (chdb) reads the store: per-profile totals and per-version self shares equal recall's", {
  skip: !chdb && 'chdb is not installed',
}, async () => {
  const s = writeSeries(join(dir, 'series'), {
    versions: 3,
    pods: 2,
    samples: 2000,
    seed: 11,
    plan: [{ kind: 'persistent', fn: 'rank_topk', pp: 3, at: 2 }],
  });
  const store = join(dir, 'store');
  for (const v of s.versions) {
    const r = await recall([
      'profile',
      'ingest',
      ...v.files,
      '--store',
      store,
      '--label',
      `app=svc,version=${v.version}`,
      '--time',
      v.time,
      '-q',
    ]);
    assert.equal(r.code, 0, r.stderr);
  }
  const q = (sql) =>
    chdb
      .query(sql, 'JSONEachRow')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  const totals = q(
    `SELECT profile_id, sum(value) AS v, sum(count) AS n FROM file('${store}/samples/*/*/*.parquet', Parquet) GROUP BY profile_id ORDER BY profile_id`,
  );
  const reader = await StoreReader.open(store);
  try {
    assert.equal(totals.length, reader.profiles.length);
    for (const t of totals) {
      const p = reader.profiles.find((x) => x.id === t.profile_id);
      assert.equal(Number(t.v), p.totalValue);
      assert.equal(Number(t.n), p.totalSamples);
    }
  } finally {
    reader.dispose();
  }
  const shares = q(`
    SELECT p.version AS version, sumIf(s.value, k.frames[length(k.frames)] = 'rank_topk') / sum(s.value) * 100 AS pct
    FROM file('${store}/samples/*/*/*.parquet', Parquet) AS s
    JOIN file('${store}/profiles/*/*/*.parquet', Parquet) AS p ON p.profile_id = s.profile_id
    JOIN (SELECT stack_id, any(frames) AS frames FROM file('${store}/stacks/*.parquet', Parquet) GROUP BY stack_id) AS k ON k.stack_id = s.stack_id
    GROUP BY version ORDER BY version`);
  const h = JSON.parse(
    (await recall(['profile', 'history', '--store', store, '--app', 'svc', '--function', 'rank_topk', '--json'])).stdout,
  );
  assert.deepEqual(
    shares.map((r) => r.version),
    h.functions[0].points.map((p) => p.key),
  );
  for (const [i, r] of shares.entries()) assert.ok(Math.abs(r.pct - h.functions[0].points[i].selfPct) < 1e-9, `${r.version}: ${r.pct}`);
  assert.ok(shares[2].pct - shares[1].pct > 2.5, 'the planted 3 pp rise shows in ClickHouse too');
});
