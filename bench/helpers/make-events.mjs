#!/usr/bin/env node
// Writes the interaction-events benchmark files with DuckDB (the same data
// recipe as ../shared/tools/parquet-corpus/gen_duckdb.mjs: zipf-ish user ids,
// 8% above 2^53, 2% negative; ZSTD): node make-events.mjs ROWS OUT.parquet
import { DuckDBInstance } from '@duckdb/node-api';

const [rows, out] = [Number(process.argv[2]), process.argv[3]];
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const c = await db.connect();
await c.run('select setseed(0.42)');
await c.run(`copy (select
    case when r1 < 0.90 then (pow(random(), 3) * 10000000)::bigint
         when r1 < 0.98 then (9007199254740993 + (random() * 9.0e18 - 9007199254740993))::bigint
         else -(1 + (random() * 9.0e18))::bigint end as user_id,
    (pow(random(), 2) * 2000000)::bigint as item_id,
    case when r2 < 0.80 then 'click' when r2 < 0.95 then 'like' when r2 < 0.99 then 'share' else null end as action,
    timestamp '2026-01-01 00:00:00' + to_microseconds((i * 1296000000000 // ${rows})::bigint + (random()*1000)::bigint) as ts,
    case when r3 < 0.05 then null else (random() * 5)::float end as weight
  from (select range as i, random() as r1, random() as r2, random() as r3 from range(${rows})))
  to '${out.replaceAll("'", "''")}' (format parquet, compression zstd)`);
