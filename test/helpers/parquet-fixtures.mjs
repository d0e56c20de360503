// Small DuckDB-written parquet test files (DuckDB is the writer; nobody on the
// team wrote it): the shapes of ../shared/tools/parquet-corpus/gen_duckdb.mjs
// at test size. Deterministic: setseed + fixed row counts.
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The interaction-events table of the parquet-corpus recipe, n rows (also used by bench/helpers/make-events.mjs). */
export const eventsSql = (n) => `
  select
    case when r1 < 0.90 then (pow(random(), 3) * 10000000)::bigint
         when r1 < 0.98 then (9007199254740993 + (random() * 9.0e18 - 9007199254740993))::bigint
         else -(1 + (random() * 9.0e18))::bigint end as user_id,
    (pow(random(), 2) * 2000000)::bigint as item_id,
    case when r2 < 0.80 then 'click' when r2 < 0.95 then 'like' when r2 < 0.99 then 'share' else null end as action,
    timestamp '2026-01-01 00:00:00' + to_microseconds((i * 1296000000000 // ${n})::bigint + (random()*1000)::bigint) as ts,
    case when r3 < 0.05 then null else (random() * 5)::float end as weight
  from (select range as i, random() as r1, random() as r2, random() as r3 from range(${n}))`;

/** Writes the fixtures into `dir`; returns their paths by name. */
export async function makeParquetFixtures(dir, rows = 20000) {
  mkdirSync(dir, { recursive: true });
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const c = await db.connect();
  await c.run('select setseed(0.42)');
  await c.run(`create table events as ${eventsSql(rows)}`);
  await c.run(`create table docs as select range::bigint * 3 as doc_id,
      case when range % 50 = 7 then null
           when range % 10 = 3 then '推荐系统召回 第' || range || '号 🚀'
           else 'Title ' || range end as title,
      'sku-' || (range * 7919 % 100003)::varchar || case when range % 97 = 0 then ' café naïve 日本語 ✓' else '' end as sku,
      repeat('lorem ipsum 推荐 ', 1 + range % 13) as body
    from range(${Math.floor(rows / 4)})`);
  await c.run(`create table x2i as select range::bigint as item_id,
      case when random() < 0.01 then null when range % 101 = 0 then []::bigint[] else
        list_transform(range(1 + (random()*20)::int), x -> (pow(random(), 2) * 2000000)::bigint) end as neighbors
    from range(${Math.floor(rows / 4)})`);
  await c.run(`create or replace table x2i as select item_id, neighbors,
      case when neighbors is null then null else list_transform(range(len(neighbors)), x -> (1.0 / (x + 1))::float) end as scores from x2i`);
  // 32-dim embeddings in 20 clusters (made after the other tables, so their data is unchanged)
  await c.run(`create table emb as select (range * 7 + 3)::bigint as item_id,
      list_transform(range(32), j -> ((((range % 20) * 0.37 + j * 0.11) % 1.0) + random() * 0.05)::float) as embedding
    from range(${Math.floor(rows / 10)})`);
  const files = {
    ev_snappy: ['events', 'compression snappy'],
    ev_zstd_v2: ['events', 'compression zstd, parquet_version v2'],
    ev_gzip_rg: ['events', 'compression gzip, row_group_size 3000'],
    ev_nodict: ['events', 'compression snappy, dictionary_size_limit 1'],
    docs_zstd: ['docs', 'compression zstd'],
    x2i_snappy: ['x2i', 'compression snappy'],
    emb_zstd: ['emb', 'compression zstd'],
  };
  const out = {};
  for (const [name, [table, opts]] of Object.entries(files)) {
    out[name] = join(dir, `${name}.parquet`);
    await c.run(`copy ${table} to '${out[name]}' (format parquet, ${opts})`);
  }
  // the same events with some null keys, and an INTEGER-keyed copy
  out.ev_nullkeys = join(dir, 'ev_nullkeys.parquet');
  await c.run(
    `copy (select case when i % 1000 = 17 then null else user_id end as user_id, * exclude (user_id) from (select row_number() over () - 1 as i, * from events)) to '${out.ev_nullkeys}' (format parquet)`,
  );
  out.ev_int32 = join(dir, 'ev_int32.parquet');
  await c.run(
    `copy (select (user_id % 100000)::integer as user_id, * exclude (user_id) from events) to '${out.ev_int32}' (format parquet)`,
  );
  c.closeSync();
  db.closeSync();
  return out;
}
