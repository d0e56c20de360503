/**
 * `recall shard`: parquet in, N hash-partitioned parquet shards and a
 * manifest out.
 *
 * 1. Check everything first (inputs readable, one schema, key column and
 *    type, the output folder), so bad input writes nothing.
 * 2. Stage: DuckDB scans the inputs once, `recall_shard(key)` hashes each key
 *    vector natively, rows land in a DuckDB table in input order (DuckDB
 *    spills it to disk past `--memory-limit`).
 * 3. Write: one `COPY ... WHERE shard = k` per shard into a hidden staging
 *    folder, several at once; each output's bytes depend only on its rows, so
 *    reruns are byte-identical whatever the thread timing.
 * 4. Publish: rename the shards into place, then write manifest.json last.
 */
import { availableParallelism } from 'node:os';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { badInput, usage } from '../cli/errors.js';
import { syncDir, trackTemp, writeFileAtomic } from '../io/atomic.js';
import { ident, literal, literalList, openDuckDB, queryRows } from '../io/duckdb.js';
import { sha256File } from '../index/versions.js';
import { describeInputs, expandInputs, type InputFile } from './inputs.js';
import { type Compression, SHARD_FILE_RE, SHARD_MANIFEST, type ShardManifest, shardFileName } from './manifest.js';
import { keyEncoding, registerShardFunction } from './route-udf.js';

export const MAX_SHARDS = 65536;

export interface ShardOptions {
  inputs: string[];
  key: string;
  shards: number;
  out: string;
  columns?: string[];
  where?: string;
  compression?: Compression;
  dropNullKeys?: boolean;
  threads?: number;
  memoryLimit?: string;
  overwrite?: boolean;
  /** Recorded in the manifest. */
  command?: string;
}

export interface ShardProgress {
  phase: 'hash' | 'write';
  done: number;
  total: number;
  /** Input bytes behind `done` rows (hash phase), for MB/s. */
  bytes?: number;
}

export interface ShardResult {
  out: string;
  manifestPath: string;
  manifest: ShardManifest;
  elapsedMs: number;
  rowsPerSecond: number;
}

const SHARD_COL = '__recall_shard';

async function checkOutputFolder(out: string, shards: number, overwrite: boolean): Promise<void> {
  const names = await readdir(out).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  const counts = new Set<number>();
  if (names.includes(SHARD_MANIFEST)) {
    const m = JSON.parse(await readFile(join(out, SHARD_MANIFEST), 'utf8').catch(() => '{}')) as Partial<ShardManifest>;
    if (m.shardCount !== undefined) counts.add(m.shardCount);
  }
  for (const n of names) {
    const m = SHARD_FILE_RE.exec(n);
    if (m) counts.add(Number(m[2]));
  }
  const existing = [...counts].find((n) => n !== shards);
  if (existing !== undefined && !overwrite) {
    throw badInput('ERR_RECALL_OUT_CONFLICT', `${out}: already holds a ${existing}-shard set, this run makes ${shards}`, {
      file: out,
      fix: 'pick another --out, or pass --overwrite to replace it',
    });
  }
}

export async function shardParquet(opts: ShardOptions, hooks: { signal?: AbortSignal; onProgress?: (p: ShardProgress) => void } = {}): Promise<ShardResult> {
  const started = Date.now();
  const { signal, onProgress } = hooks;
  if (!Number.isInteger(opts.shards) || opts.shards < 1 || opts.shards > MAX_SHARDS) {
    throw usage('ERR_RECALL_BAD_SHARD_COUNT', `shard count ${opts.shards} is outside 1..${MAX_SHARDS}`, { fix: `pass --shards between 1 and ${MAX_SHARDS}` });
  }
  const compression = opts.compression ?? 'zstd';
  const threads = opts.threads ?? availableParallelism();
  const db = await openDuckDB({ threads, memoryLimit: opts.memoryLimit });
  const conns: DuckDBConnection[] = [await db.connect()];
  const interrupt = () => conns.forEach((c) => c.interrupt());
  signal?.addEventListener('abort', interrupt, { once: true });
  let staging: string | undefined;
  let untrack = () => {};
  try {
    const c = conns[0];
    // 1. check
    const files = await expandInputs(c, opts.inputs);
    const inputs = await describeInputs(c, files);
    const schema = inputs[0].schema;
    const keyCol = schema.find((col) => col.name === opts.key);
    if (!keyCol) {
      throw badInput('ERR_RECALL_NO_KEY_COLUMN', `${inputs[0].path}: no column "${opts.key}"; columns are ${schema.map((s) => s.name).join(', ')}`, {
        file: inputs[0].path,
        fix: 'pass one of those as --key',
      });
    }
    const key = keyEncoding(opts.key, keyCol.type, inputs[0].path);
    const selected = opts.columns?.length ? opts.columns : schema.map((s) => s.name);
    for (const name of selected) {
      if (!schema.some((s) => s.name === name)) {
        throw usage('ERR_RECALL_NO_SUCH_COLUMN', `--columns: no column "${name}"; columns are ${schema.map((s) => s.name).join(', ')}`, { fix: 'fix --columns' });
      }
    }
    await checkOutputFolder(opts.out, opts.shards, opts.overwrite ?? false);
    signal?.throwIfAborted();

    // 2. stage
    const totalRows = inputs.reduce((s, f) => s + f.rows, 0);
    const totalBytes = inputs.reduce((s, f) => s + f.bytes, 0);
    let hashed = 0;
    await registerShardFunction(c, key.encoding, opts.shards, (rows) => {
      hashed += rows;
      onProgress?.({ phase: 'hash', done: hashed, total: totalRows, bytes: totalRows ? (totalBytes * hashed) / totalRows : 0 });
    });
    await mkdir(opts.out, { recursive: true });
    staging = join(opts.out, `.recall-shard-${process.pid}`);
    await mkdir(staging);
    untrack = trackTemp(staging);
    await c.run(`SET temp_directory = ${literal(join(staging, 'spill'))}`);
    const cols = selected.map(ident).join(', ');
    const where = opts.where ? `WHERE (${opts.where})` : '';
    try {
      await c.run(`CREATE TABLE staged AS SELECT ${cols}, recall_shard(${key.sql}) AS ${SHARD_COL} FROM read_parquet(${literalList(files)}) ${where}`);
    } catch (e) {
      if (signal?.aborted) throw e;
      const msg = (e as Error).message.split('\n')[0];
      if (opts.where && /Parser|Binder/.test(msg)) throw usage('ERR_RECALL_BAD_WHERE', `--where ${JSON.stringify(opts.where)}: ${msg}`, { fix: 'write a DuckDB SQL predicate over the input columns' });
      throw badInput('ERR_RECALL_READ_FAILED', `reading the inputs failed: ${msg}`, { fix: 'run `recall shard` on each input to find the damaged one', cause: e });
    }
    const counts = await queryRows<{ shard: number | null; rows: string }>(c, `SELECT ${SHARD_COL} AS shard, count(*)::VARCHAR AS rows FROM staged GROUP BY ALL`);
    const nullRows = Number(counts.find((r) => r.shard === null)?.rows ?? 0);
    if (nullRows > 0 && !opts.dropNullKeys) {
      const [first] = await queryRows<{ filename: string; row: string }>(
        c,
        `SELECT filename, file_row_number::VARCHAR AS row FROM read_parquet(${literalList(files)}, filename = true, file_row_number = true) WHERE ${ident(opts.key)} IS NULL LIMIT 1`,
      );
      throw badInput('ERR_RECALL_NULL_KEYS', `${first?.filename ?? files[0]}: ${nullRows} row(s) have a null "${opts.key}", the first at row ${first?.row ?? '?'}`, {
        file: first?.filename,
        row: first ? Number(first.row) : undefined,
        fix: 'pass --drop-null-keys to leave those rows out, or fill the keys',
      });
    }
    const rowsOf = new Map(counts.filter((r) => r.shard !== null).map((r) => [Number(r.shard), Number(r.rows)]));

    // 3. write, several shards at once
    while (conns.length < Math.max(1, Math.min(threads, opts.shards))) conns.push(await db.connect());
    let nextShard = 0;
    let written = 0;
    const codec = compression === 'none' ? 'uncompressed' : compression;
    await Promise.all(
      conns.map(async (conn) => {
        while (nextShard < opts.shards) {
          signal?.throwIfAborted();
          const k = nextShard++;
          const file = join(staging!, shardFileName(k, opts.shards));
          await conn.run(`COPY (SELECT ${cols} FROM staged WHERE ${SHARD_COL} = ${k}) TO ${literal(file)} (FORMAT parquet, COMPRESSION ${codec})`);
          onProgress?.({ phase: 'write', done: ++written, total: opts.shards });
        }
      }),
    );
    signal?.throwIfAborted();

    // 4. checksums, then publish: shards first, the manifest last
    const shardEntries = [];
    for (let k = 0; k < opts.shards; k++) {
      const name = shardFileName(k, opts.shards);
      const p = join(staging, name);
      shardEntries.push({ shard: k, file: name, rows: rowsOf.get(k) ?? 0, bytes: (await stat(p)).size, sha256: await sha256File(p) });
    }
    const manifest: ShardManifest = {
      format: 'recall-shards',
      formatVersion: 1,
      command: opts.command ?? '',
      key: { column: opts.key, type: keyCol.type, hashedAs: key.encoding },
      hash: { id: 'xxh64', seed: 0, shard: 'hash % shardCount' },
      shardCount: opts.shards,
      compression,
      where: opts.where ?? null,
      dropNullKeys: opts.dropNullKeys ?? false,
      droppedNullKeys: nullRows,
      schema: schema.filter((s) => selected.includes(s.name)),
      inputs: await Promise.all(inputs.map(async (f: InputFile) => ({ path: f.path, bytes: f.bytes, rows: f.rows, sha256: await sha256File(f.path) }))),
      rows: shardEntries.reduce((s, e) => s + e.rows, 0),
      shards: shardEntries,
    };
    signal?.throwIfAborted();
    await rm(join(opts.out, SHARD_MANIFEST), { force: true }); // a folder without manifest is visibly incomplete
    for (const e of shardEntries) await rename(join(staging, e.file), join(opts.out, e.file));
    for (const n of await readdir(opts.out)) {
      const m = SHARD_FILE_RE.exec(n);
      if (m && Number(m[2]) !== opts.shards) await rm(join(opts.out, n)); // the replaced set (--overwrite)
    }
    syncDir(opts.out);
    const manifestPath = join(opts.out, SHARD_MANIFEST);
    await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    const elapsedMs = Date.now() - started;
    return { out: opts.out, manifestPath, manifest, elapsedMs, rowsPerSecond: Math.round((manifest.rows * 1000) / Math.max(1, elapsedMs)) };
  } catch (e) {
    // DuckDB reports an interrupted query as its own error: say what happened.
    if (signal?.aborted) throw Object.assign(new Error('interrupted'), { name: 'AbortError' });
    throw e;
  } finally {
    signal?.removeEventListener('abort', interrupt);
    if (staging) await rm(staging, { recursive: true, force: true });
    untrack();
    for (const conn of conns) conn.closeSync();
    db.closeSync();
  }
}
