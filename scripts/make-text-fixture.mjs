#!/usr/bin/env node
// Writes fixtures/parquet/wordnet-3000.parquet: the first 3,000 entries of WordNet 3.0 from Debian's
// dict-wn (/usr/share/dictd/wn.*), one row per entry (id, headword, text), written by DuckDB.
// WordNet 3.0 (c) 2006 Princeton University, redistributable under the WordNet license.
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { dictdEntries } from '../test/helpers/text-corpus.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const entries = dictdEntries('wn', 3000);
const tmp = join(root, 'fixtures/parquet/.wordnet.jsonl');
writeFileSync(tmp, entries.map((text, i) => JSON.stringify({ id: i + 1, headword: text.split('\n')[0].trim(), text })).join('\n') + '\n');
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
const out = join(root, 'fixtures/parquet/wordnet-3000.parquet');
await c.run(
  `COPY (SELECT id::BIGINT AS id, headword, text FROM read_json('${tmp}', format='newline_delimited') ORDER BY id) TO '${out}' (FORMAT parquet, COMPRESSION zstd)`,
);
c.closeSync();
db.closeSync();
rmSync(tmp);
console.log(`wrote ${out}`);
