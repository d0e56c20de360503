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
import { refuseRemote } from '../io/paths.js';

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
    refuseRemote(input, '--input');
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
    for (const m of matches) if (!files.includes(m)) files.push(m);
  }
  return files;
}

/** Schema and row count of each file, from its footer; a damaged file is named. */
export async function describeInputs(c: DuckDBConnection, files: readonly string[], o = { sameSchema: true }): Promise<InputFile[]> {
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
      const msg = firstLine((e as Error).message).replace(/^[A-Za-z ]+ Error: /, '');
      throw badInput('ERR_RECALL_BAD_PARQUET', `${path}: cannot read as parquet: ${msg}`, {
        file: path,
        fix: 'the file is damaged or not parquet: re-export it, or leave it out of --input',
        cause: e,
      });
    }
  }
  const first = out[0];
  if (!first || !o.sameSchema) return out;
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

/** A DuckDB error (not one of ours): its message starts with its class, "Invalid Input Error: ...". */
const isEngineError = (e: unknown): e is Error =>
  e instanceof Error && !(e as { code?: string }).code?.startsWith('ERR_RECALL_') && /^[A-Z][A-Za-z ]* Error: /.test(e.message);

/**
 * Run a read over parquet `files`: a DuckDB failure while decoding (a damaged page, a bad
 * compression stream, a value that does not convert) is bad data, exit 3, naming the file. When
 * the message does not name one, each file is read alone to find it.
 */
export async function readingParquet<T>(c: DuckDBConnection, files: readonly string[], read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    if (!isEngineError(e)) throw e;
    const msg = firstLine(e.message).replace(/^[A-Za-z ]+ Error: /, '');
    let file = files.find((f) => e.message.includes(f));
    if (!file && files.length > 1) {
      for (const f of files) {
        const failed = await queryRows(c, `SELECT sum(hash(t)) FROM read_parquet(${literal(f)}) t`).then(
          () => false,
          () => true,
        );
        if (failed) {
          file = f;
          break;
        }
      }
    }
    file ??= files[0]!;
    throw badInput('ERR_RECALL_BAD_PARQUET', `${file}: cannot read as parquet: ${msg}`, {
      file,
      fix: 'the file is damaged, or a value does not fit its column: re-export it, or leave it out of --input',
      cause: e,
    });
  }
}

/** Rows read against the rows the footers promise: a damaged page that decodes to garbage shows here. */
export function checkRowCount(described: readonly InputFile[], got: number): void {
  const want = described.reduce((s, f) => s + f.rows, 0);
  if (got !== want) {
    const file = described.length === 1 ? described[0]!.path : `${described[0]!.path} (+${described.length - 1} more)`;
    throw badInput('ERR_RECALL_BAD_PARQUET', `${file}: read ${got} rows, the footers say ${want}`, {
      file: described[0]!.path,
      fix: 'the file is damaged: re-export it',
    });
  }
}
