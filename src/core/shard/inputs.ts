/**
 * What `recall shard` reads: files, globs and folders expanded to a sorted
 * list of parquet files, each described (schema, rows, size) and checked
 * before anything is written. Every problem names the file.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { badInput, usage } from '../errors.js';
import { literal, queryRows } from '../io/duckdb.js';
import { requireFiles } from '../io/paths.js';
import { firstLine } from '../io/text.js';

export interface Column {
  name: string;
  type: string;
}

export interface InputFile {
  path: string;
  bytes: number;
  rows: number;
  schema: Column[];
}

const GLOB_CHARS = /[*?[]/;

async function walkParquet(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && /\.(parquet|arrow|arrows|feather|ipc)$/i.test(e.name) && !e.name.startsWith('.'))
      out.push(join(e.parentPath, e.name));
  }
  return out.sort();
}

/** Expand `--input` values in order; each value's matches sorted; no duplicates. */
export async function expandInputs(c: DuckDBConnection, inputs: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    let matches: string[];
    if (GLOB_CHARS.test(input)) {
      matches = (await queryRows<{ file: string }>(c, `SELECT file FROM glob(${literal(input)}) ORDER BY file`)).map((r) => r.file);
    } else {
      const st = await stat(input).catch(() => null);
      if (!st) throw usage('ERR_RECALL_NO_SUCH_PATH', `${input}: no such file or directory`, { file: input, fix: 'check --input' });
      matches = st.isDirectory() ? await walkParquet(input) : [input];
    }
    if (matches.length === 0)
      throw usage('ERR_RECALL_NO_INPUT', `${input}: matches no parquet file`, { file: input, fix: 'check --input' });
    requireFiles(matches);
    requireFiles(matches);
    for (const m of matches) if (!files.includes(m)) files.push(m);
  }
  return files;
}

/** Schema and row count of each file, from its footer; a damaged file is named. */
export async function describeInputs(c: DuckDBConnection, files: readonly string[]): Promise<InputFile[]> {
  const out: InputFile[] = [];
  for (const path of files) {
    try {
      const schema = (
        await queryRows<{ column_name: string; column_type: string }>(c, `DESCRIBE SELECT * FROM read_parquet(${literal(path)})`)
      ).map((r) => ({
        name: r.column_name,
        type: r.column_type,
      }));
      const [meta] = await queryRows<{ rows: string }>(c, `SELECT num_rows::VARCHAR AS rows FROM parquet_file_metadata(${literal(path)})`);
      if (!meta) throw new Error('no file metadata');
      out.push({ path, bytes: (await stat(path)).size, rows: Number(meta.rows), schema });
    } catch (e) {
      const msg = firstLine((e as Error).message).replace(/^[A-Za-z]+ Error: /, '');
      throw badInput('ERR_RECALL_BAD_PARQUET', `${path}: cannot read as parquet: ${msg}`, {
        file: path,
        fix: 'the file is damaged or not parquet: re-export it, or leave it out of --input',
        cause: e,
      });
    }
  }
  const first = out[0];
  if (!first) return out;
  for (const f of out.slice(1)) {
    const a = first.schema.map((col) => `${col.name} ${col.type}`);
    const b = f.schema.map((col) => `${col.name} ${col.type}`);
    const diff = b.find((x, i) => x !== a[i]) ?? a.find((x, i) => x !== b[i]);
    if (diff !== undefined || a.length !== b.length) {
      throw badInput('ERR_RECALL_SCHEMA_MISMATCH', `${f.path}: schema differs from ${first.path} (at column "${diff ?? '?'}")`, {
        file: f.path,
        fix: 'shard files with one schema per run, or cast them to one schema first',
      });
    }
  }
  return out;
}
