#!/usr/bin/env node
// The anchor of bench/shard.mjs: what a user would run instead of recall
// shard, DuckDB's own partitioned COPY with its built-in hash():
// node duckdb-partition.mjs IN.parquet OUT_DIR SHARDS
import { createRequire } from 'node:module';

// require, as recall loads it: import() of this CommonJS package costs ~125 ms more CPU.
const { DuckDBInstance } = createRequire(import.meta.url)('@duckdb/node-api');

const [input, out, shards] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
await c.run(`copy (select *, hash(user_id) % ${Number(shards)} as shard from read_parquet('${input}'))
  to '${out}' (format parquet, partition_by (shard), compression zstd, overwrite_or_ignore true)`);
