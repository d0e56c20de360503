#!/usr/bin/env node
// Writes the interaction-events benchmark files with DuckDB (the same data
// recipe as ../shared/tools/parquet-corpus/gen_duckdb.mjs: zipf-ish user ids,
// 8% above 2^53, 2% negative; ZSTD): node make-events.mjs ROWS OUT.parquet
import { DuckDBInstance } from '@duckdb/node-api';
import { eventsSql } from '../../test/helpers/parquet-fixtures.mjs';

const [rows, out] = [Number(process.argv[2]), process.argv[3]];
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const c = await db.connect();
await c.run('select setseed(0.42)');
await c.run(`copy (${eventsSql(rows)}) to '${out.replaceAll("'", "''")}' (format parquet, compression zstd)`);
