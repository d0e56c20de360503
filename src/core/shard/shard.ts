/**
 * `recall shard`: parquet in, N hash-partitioned parquet shards and a
 * manifest out.
 *
 * 1. Check everything first (inputs readable, one schema, key column and
 *    type, the output folder), so bad input writes nothing; null keys are
 *    counted in the first pass and abort it unless dropped.
 * 2. Route and write in one streaming pass: L DuckDB instances (lanes,
 *    `--threads`), each single-threaded, each reading its own contiguous
 *    slice of the input (lanes.ts), hashing every key vector natively
 *    through `recall_shard(key)` and writing its piece of every shard with
 *    PARTITION_BY. Single-threaded writers keep rows in input order and make
 *    the bytes a function of the input and the flags alone (a multi-threaded
 *    DuckDB writer interleaves rows by timing); lanes give the parallelism
 *    and no row is decoded twice; memory stays at a few row groups per open
 *    shard, whatever the input size.
 * 3. Join each shard's pieces in lane order (the lane 0 piece extended in
 *    place by the others' row groups, footer rewritten: io/parquet-concat.ts),
 *    checksum (lane 0's part hashed while the other lanes still write),
 *    rename the shards into place, manifest.json last.
 * One writer per output folder (OUT_LOCK, a flock): its holder knows any
 * `.recall-shard-*` staging folder there belongs to a run that died, and removes it.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { Connections } from './connections.js';
import { badInput, RecallError, usage } from '../errors.js';
import { syncDir, syncFile, trackTemp, writeFileAtomic } from '../io/atomic.js';
import { type HeldLock, lockOrFail } from '../io/lock.js';
import { ident, literal, literalList, openDuckDB, queryRows, restrictFileAccess } from '../io/duckdb.js';
import { sha256File } from '../io/sha256.js';
import { concatParquet, type HashedHead, hashHead } from '../io/parquet-concat.js';
import { arrowToParquet, isArrowFile } from './arrow-input.js';
import { describeInputs, expandInputs } from './inputs.js';
import { type Compression, MAX_SHARDS, SHARD_FILE_RE, SHARD_MANIFEST, type ShardManifest, shardFileName } from './manifest.js';
import { keyEncoding, registerShardFunction } from './route-udf.js';
import { laneSource, planLanes, rowGroupsOf } from './lanes.js';
import { firstLine } from '../io/text.js';

/** Shard files a lane keeps open in one pass; more shards take more passes. */
const MAX_OPEN_PER_LANE = 256;
/** Default lanes: fixed, not the core count, so the same flags give the same bytes on every machine. */
export const DEFAULT_LANES = 2;

export interface ShardOptions {
  inputs: string[];
  key: string;
  shards: number;
  out: string;
  columns?: string[];
  where?: string;
  compression?: Compression;
  dropNullKeys?: boolean;
  /** Lanes (parallel single-threaded writers); recorded in the manifest. */
  threads?: number;
  /** Total DuckDB memory limit, split across lanes (e.g. "2GB"). */
  memoryLimit?: string;
  overwrite?: boolean;
  /** Recorded in the manifest. */
  command?: string;
}

export interface ShardProgress {
  done: number;
  total: number;
  /** Input bytes behind `done` rows, for MB/s. */
  bytes: number;
}

export interface ShardResult {
  out: string;
  manifestPath: string;
  manifest: ShardManifest;
  elapsedMs: number;
  rowsPerSecond: number;
}

const SHARD_COL = '__recall_shard';
/** The output folder's writer lock, and the prefix of its staging folders. */
export const OUT_LOCK = '.recall-shard.lock';
const STAGING_PREFIX = '.recall-shard-';

/** What makes two shard sets of the same count different sets (a re-run over new data of the same inputs is not). */
interface ShardSetIdentity {
  key: string;
  hashedAs: string;
  inputs: string[];
}

async function checkOutputFolder(out: string, shards: number, overwrite: boolean, want: ShardSetIdentity): Promise<void> {
  const names = await readdir(out).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  const counts = new Set<number>();
  if (names.includes(SHARD_MANIFEST)) {
    const m = JSON.parse(await readFile(join(out, SHARD_MANIFEST), 'utf8').catch(() => '{}')) as Partial<ShardManifest>;
    if (m.shardCount !== undefined) counts.add(m.shardCount);
    const differs: string[] = [];
    if (m.key && m.key.column !== want.key) differs.push(`key ${m.key.column} (this run: ${want.key})`);
    else if (m.key && m.key.hashedAs !== want.hashedAs) differs.push(`keys hashed as ${m.key.hashedAs} (this run: ${want.hashedAs})`);
    const had = (m.inputs ?? []).map((i) => i.path).sort();
    const now = [...want.inputs].sort();
    if (m.inputs && JSON.stringify(had) !== JSON.stringify(now)) differs.push(`inputs ${had.join(', ')} (this run: ${now.join(', ')})`);
    if (m.shardCount === shards && differs.length && !overwrite)
      throw usage('ERR_RECALL_OUT_CONFLICT', `${out}: already holds a ${shards}-shard set with another ${differs.join(' and ')}`, {
        file: out,
        fix: 'pick another --out, or pass --overwrite to replace it',
      });
  }
  for (const n of names) {
    const m = SHARD_FILE_RE.exec(n);
    if (m) counts.add(Number(m[2]));
  }
  const existing = [...counts].find((n) => n !== shards);
  if (existing !== undefined && !overwrite) {
    throw usage('ERR_RECALL_OUT_CONFLICT', `${out}: already holds a ${existing}-shard set, this run makes ${shards}`, {
      file: out,
      fix: 'pick another --out, or pass --overwrite to replace it',
    });
  }
}

/** "2GB" / lanes, in MB, for each lane's own DuckDB. */
function laneMemory(limit: string | undefined, lanes: number): string | undefined {
  if (!limit) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$/i.exec(limit);
  if (!m)
    throw usage('ERR_RECALL_BAD_MEMORY_LIMIT', `--memory-limit ${JSON.stringify(limit)} is not a size`, {
      fix: 'write it like 512MB or 2GB',
    });
  const unit = (m[2] ?? 'MB').toUpperCase().replace('I', '');
  const mb = Number(m[1]) * { KB: 1 / 1000, MB: 1, GB: 1000, TB: 1e6 }[unit as 'KB' | 'MB' | 'GB' | 'TB']!;
  return `${Math.max(16, Math.floor(mb / lanes))}MB`;
}

function readError(e: unknown, where: string | undefined): RecallError {
  const msg = firstLine((e as Error).message);
  if (where && /Parser|Binder|Permission/.test(msg)) {
    return usage('ERR_RECALL_BAD_WHERE', `--where ${JSON.stringify(where)}: ${msg}`, {
      fix: 'write a DuckDB SQL predicate over the input columns (it cannot read other files)',
    });
  }
  // DuckDB names the file it failed on in most read errors ('Failed to read file "X": ...').
  const file = /\bfile ["']([^"']+)["']/.exec(msg)?.[1];
  if (file)
    return badInput('ERR_RECALL_READ_FAILED', `${file}: cannot read as parquet: ${msg.replace(/^[A-Za-z ]+ Error: /, '')}`, {
      file,
      fix: 'the file is damaged: re-export it, or leave it out of --input',
      cause: e,
    });
  return badInput('ERR_RECALL_READ_FAILED', `reading the inputs failed: ${msg}`, {
    fix: 'run `recall shard` on each input alone to find the damaged one',
    cause: e,
  });
}

export async function shardParquet(
  opts: ShardOptions,
  hooks: { signal?: AbortSignal; onProgress?: (p: ShardProgress) => void } = {},
): Promise<ShardResult> {
  const started = Date.now();
  const { signal, onProgress } = hooks;
  const n = opts.shards;
  if (!Number.isInteger(n) || n < 1 || n > MAX_SHARDS) {
    throw usage('ERR_RECALL_BAD_SHARD_COUNT', `shard count ${n} is outside 1..${MAX_SHARDS}`, {
      fix: `pass --shards between 1 and ${MAX_SHARDS}`,
    });
  }
  const compression = opts.compression ?? 'zstd';
  const lanes = Math.max(1, opts.threads ?? DEFAULT_LANES);
  const memoryPerLane = laneMemory(opts.memoryLimit, lanes);
  const connections = new Connections<DuckDBConnection>();
  const connect = (threads: number, tempDirectory?: string) =>
    connections.add(openDuckDB({ threads, memoryLimit: memoryPerLane, tempDirectory }));
  const interrupt = () => connections.interrupt();
  signal?.addEventListener('abort', interrupt, { once: true });
  let staging: string | undefined;
  let arrowDir: string | undefined;
  let untrackArrow = () => {};
  let createdOut = false;
  let published = false;
  let untrack = () => {};
  let outLock: HeldLock | undefined;
  try {
    // 1. check
    const main = await connect(lanes);
    const given = await expandInputs(main, opts.inputs);
    // Arrow IPC inputs become parquet first (in a temp folder); the manifest names the originals.
    const files: string[] = [];
    for (const [i, f] of given.entries()) {
      if (!(await isArrowFile(f))) {
        files.push(f);
        continue;
      }
      if (!arrowDir) {
        arrowDir = await mkdtemp(join(tmpdir(), 'recall-arrow-'));
        untrackArrow = trackTemp(arrowDir);
      }
      const dest = join(arrowDir, `input-${i}.parquet`);
      await arrowToParquet(main, f, dest, `arrow_input_${i}`, signal);
      files.push(dest);
    }
    // the where filter is SQL from a config or flag: it runs with file access limited to the
    // inputs and the staging folder (see restrictFileAccess), on every connection that sees it
    for (const [i, f] of files.entries()) files[i] = resolve(f);
    const stagingDir = join(resolve(opts.out), `${STAGING_PREFIX}${process.pid}`);
    const access = { read: files, write: [stagingDir] };
    const inputs = await describeInputs(main, files);
    const schema = inputs[0]!.schema;
    const keyCol = schema.find((col) => col.name === opts.key);
    if (!keyCol) {
      throw badInput(
        'ERR_RECALL_NO_KEY_COLUMN',
        `${inputs[0]!.path}: no column "${opts.key}"; columns are ${schema.map((s) => s.name).join(', ')}`,
        {
          file: inputs[0]!.path,
          fix: 'pass one of those as --key',
        },
      );
    }
    const key = keyEncoding(opts.key, keyCol.type, inputs[0]!.path);
    const selected = opts.columns?.length ? opts.columns : schema.map((s) => s.name);
    for (const name of selected) {
      if (!schema.some((s) => s.name === name)) {
        throw badInput('ERR_RECALL_NO_SUCH_COLUMN', `--columns: no column "${name}"; columns are ${schema.map((s) => s.name).join(', ')}`, {
          fix: 'fix --columns',
        });
      }
    }
    const source = `read_parquet(${literalList(files)})`;
    const where = opts.where ? `(${opts.where})` : 'true';
    await restrictFileAccess(main, access);
    try {
      await main.run(`SELECT * FROM ${source} WHERE ${where} LIMIT 0`); // binds --where
    } catch (e) {
      throw readError(e, opts.where);
    }
    await checkOutputFolder(opts.out, n, opts.overwrite ?? false, { key: opts.key, hashedAs: key.encoding, inputs: given });
    signal?.throwIfAborted();

    // 2. route + write, L lanes per pass, each over its slice of the input
    createdOut = (await mkdir(opts.out, { recursive: true })) !== undefined;
    outLock = lockOrFail(join(opts.out, OUT_LOCK), `${opts.out}: another recall shard is writing this folder`);
    for (const name of await readdir(opts.out)) {
      if (name.startsWith(STAGING_PREFIX) && name !== OUT_LOCK) await rm(join(opts.out, name), { recursive: true, force: true });
    }
    staging = stagingDir;
    await mkdir(staging);
    untrack = trackTemp(staging);
    const totalRows = inputs.reduce((s, f) => s + f.rows, 0);
    const totalBytes = inputs.reduce((s, f) => s + f.bytes, 0);
    // A column named file_row_number would clash with the one a slice reads by: one lane reads all.
    const plan = planLanes(await rowGroupsOf(main, files), schema.some((s) => s.name === 'file_row_number') ? 1 : lanes);
    const passes = Math.ceil(n / MAX_OPEN_PER_LANE);
    const rowsOf = new Float64Array(n);
    let nullKeys = 0;
    let hashed = 0;
    const report = (rows: number) => {
      hashed += rows;
      const done = hashed / passes;
      onProgress?.({ done, total: totalRows, bytes: totalRows ? (totalBytes * done) / totalRows : 0 });
    };
    const cols = selected.map(ident).join(', ');
    /** The file a lane wrote for shard k, if it had rows for it. */
    const pieceOf = (lane: number, k: number): string | undefined => {
      const partDir = join(staging!, `lane-${Math.floor(k / MAX_OPEN_PER_LANE)}-${lane}`, `${SHARD_COL}=${k}`);
      const parts = existsSync(partDir) ? readdirSync(partDir) : [];
      if (parts.length > 1) throw new RecallError('ERR_RECALL_INTERNAL', `shard ${k} came out of lane ${lane} as ${parts.length} files`);
      return parts.length === 1 ? join(partDir, parts[0]!) : undefined;
    };
    // Each shard is its lane 0 piece extended by the other lanes' pieces. Lane 0's pieces are
    // hashed as soon as that lane is done, on the CPU it no longer needs, while the others write.
    const heads = new Map<string, HashedHead>();
    let failure: { error: unknown } | undefined; // the first lane to fail; the others are interrupted
    const hashHeads = async (lo: number, hi: number) => {
      for (let k = lo; k <= hi && !failure && !signal?.aborted; k++) {
        const piece = pieceOf(0, k);
        if (piece) heads.set(piece, hashHead(piece));
        await new Promise((r) => setImmediate(r)); // one shard at a time: signals and progress go on
      }
    };
    // Null keys route nowhere (recall_shard gives NULL), so they drop out of
    // every lane's filter; the counts decide below whether that was allowed.
    const codec = compression === 'none' ? 'uncompressed' : compression;
    // Input checksums overlap with the scans (the files are being read anyway).
    const inputSums = Promise.all(
      inputs.map(async (f, i) => ({
        path: given[i]!,
        bytes: (await stat(given[i]!)).size,
        rows: f.rows,
        sha256: await sha256File(given[i]!),
      })),
    );
    inputSums.catch(() => undefined); // awaited below
    for (let pass = 0; pass < passes; pass++) {
      const [lo, hi] = [pass * MAX_OPEN_PER_LANE, Math.min(n, (pass + 1) * MAX_OPEN_PER_LANE) - 1];
      // One lane failing stops the others, and all are waited for before anything is closed: a
      // connection closed under a running COPY crashes or hangs the process (a lane closes only
      // its own, once its COPY is done).
      const settled = await Promise.allSettled(
        plan.map(async (slices, lane) => {
          const dir = join(staging!, `lane-${pass}-${lane}`);
          const c = await connect(1, join(staging!, `spill-${pass}-${lane}`));
          const route = await registerShardFunction(c, key.encoding, n, report);
          await c.run(`SET partitioned_write_max_open_files = ${MAX_OPEN_PER_LANE + 1}`);
          await restrictFileAccess(c, access);
          // a lane connected after Ctrl-C was not there to be interrupted
          signal?.throwIfAborted();
          try {
            await c.run(
              `COPY (SELECT ${cols}, ${SHARD_COL} FROM (SELECT *, recall_shard(${key.sql}) AS ${SHARD_COL} FROM ${laneSource(slices)} WHERE ${where})
                     WHERE ${SHARD_COL} BETWEEN ${lo} AND ${hi})
               TO ${literal(dir)} (FORMAT parquet, PARTITION_BY (${SHARD_COL}), COMPRESSION ${codec})`,
            );
          } catch (e) {
            if (!failure) {
              failure = { error: signal?.aborted ? e : readError(e, opts.where) };
              interrupt();
            }
            throw failure.error;
          } finally {
            route.close();
          }
          const counts = route.counts();
          connections.close(c); // its COPY is done: now, while the other lanes still run
          for (let k = lo; k <= hi; k++) rowsOf[k] = rowsOf[k]! + counts.perShard[k]!;
          if (pass === 0) nullKeys += counts.nullKeys; // each lane sees its own rows
          if (lane === 0 && plan.length > 1) await hashHeads(lo, hi);
        }),
      );
      const rejected = settled.find((r) => r.status === 'rejected');
      if (failure) throw failure.error;
      if (rejected) throw rejected.reason;
      // Null keys are counted during the first pass (no extra scan); refused
      // ones abort here, and the staging folder goes with them.
      if (nullKeys > 0 && !opts.dropNullKeys) {
        // nullKeys > 0: there is a first one
        const first = (
          await queryRows<{ filename: string; row: string }>(
            main,
            `SELECT filename, file_row_number::VARCHAR AS row FROM read_parquet(${literalList(files)}, filename = true, file_row_number = true) WHERE ${where} AND ${ident(opts.key)} IS NULL LIMIT 1`,
          )
        )[0]!;
        throw badInput(
          'ERR_RECALL_NULL_KEYS',
          `${first.filename}: ${nullKeys} row(s) have a null "${opts.key}", the first at row ${first.row}`,
          {
            file: first.filename,
            row: Number(first.row),
            fix: 'pass --drop-null-keys to leave those rows out, or fill the keys',
          },
        );
      }
    }
    signal?.throwIfAborted();

    // 3. each shard's pieces joined in lane order (an empty shard still gets a file with the
    // schema), flat names, checksums, publish. Synchronous file work, a shard per turn of the
    // event loop: a thread-pool round trip per small step cost more than the step.
    const shardEntries: ShardManifest['shards'] = [];
    // each shard's fsync runs in the thread pool while the next ones are joined
    const synced: Promise<void>[] = [];
    for (let k = 0; k < n; k++) {
      const name = shardFileName(k, n);
      const dest = join(staging, name);
      const pieces: string[] = [];
      for (let lane = 0; lane < plan.length; lane++) {
        const piece = pieceOf(lane, k);
        if (piece) pieces.push(piece);
      }
      let sum: { bytes: number; sha256: string };
      if (pieces.length > 0) sum = concatParquet(pieces, dest, { extendFirst: true, head: heads.get(pieces[0]!) });
      else {
        await main.run(`COPY (SELECT ${cols} FROM ${source} LIMIT 0) TO ${literal(dest)} (FORMAT parquet, COMPRESSION ${codec})`);
        sum = { bytes: (await stat(dest)).size, sha256: await sha256File(dest) };
      }
      shardEntries.push({ shard: k, file: name, rows: rowsOf[k]!, ...sum });
      const sync = syncFile(dest);
      sync.catch(() => {}); // awaited below; an interrupted job may never get there
      synced.push(sync);
      await new Promise((r) => setImmediate(r));
      signal?.throwIfAborted();
    }
    const manifest: ShardManifest = {
      format: 'recall-shards',
      formatVersion: 1,
      command: opts.command ?? '',
      key: { column: opts.key, type: keyCol.type, hashedAs: key.encoding },
      hash: { id: 'xxh64', seed: 0, shard: 'hash % shardCount' },
      shardCount: n,
      lanes,
      compression,
      where: opts.where ?? null,
      dropNullKeys: opts.dropNullKeys ?? false,
      droppedNullKeys: nullKeys,
      schema: schema.filter((s) => selected.includes(s.name)),
      inputs: await inputSums,
      rows: shardEntries.reduce((s, e) => s + e.rows, 0),
      shards: shardEntries,
    };
    await Promise.all(synced); // the data is on disk before the manifest names it
    signal?.throwIfAborted();
    await rm(join(opts.out, SHARD_MANIFEST), { force: true }); // without a manifest the folder is visibly incomplete
    for (const e of shardEntries) await rename(join(staging, e.file), join(opts.out, e.file));
    for (const name of await readdir(opts.out)) {
      const m = SHARD_FILE_RE.exec(name);
      if (m && Number(m[2]) !== n) await rm(join(opts.out, name)); // the replaced set (--overwrite)
    }
    syncDir(opts.out);
    const manifestPath = join(opts.out, SHARD_MANIFEST);
    await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    published = true;
    const elapsedMs = Date.now() - started;
    return { out: opts.out, manifestPath, manifest, elapsedMs, rowsPerSecond: Math.round((manifest.rows * 1000) / Math.max(1, elapsedMs)) };
  } catch (e) {
    // DuckDB reports an interrupted query as its own error: say what happened.
    if (signal?.aborted) throw Object.assign(new Error('interrupted'), { name: 'AbortError' });
    throw e;
  } finally {
    signal?.removeEventListener('abort', interrupt);
    connections.closeAll();
    if (staging) await rm(staging, { recursive: true, force: true });
    outLock?.release();
    if (createdOut && !published) await rm(opts.out, { recursive: true, force: true }); // it held nothing before us
    if (arrowDir) await rm(arrowDir, { recursive: true, force: true });
    untrack();
    untrackArrow();
  }
}
