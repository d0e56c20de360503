/**
 * `recall build x2i` from precomputed lists: parquet rows (key, neighbors[],
 * scores[]) -> one x2i index file per shard in a new version of the channel
 * folder. Inputs are parquet files / folders / globs, or a `recall shard`
 * folder (its manifest), which gives one index file per shard.
 */
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { badInput, RecallError, usage } from '../../errors.js';
import { ident, literalList, openDuckDB, queryRows } from '../../io/duckdb.js';
import { readColumns } from '../../io/columns.js';
import { canonicalJson } from '../../io/canonical-json.js';
import { checkNoUpdatesLost } from '../../index/layers.js';
import { type CurrentVersion, inNewVersion } from '../../index/versions.js';
import { loadNative, type X2iStats } from '../../native.js';
import { checkRowCount, describeInputs, expandInputs, readingParquet } from '../../shard/inputs.js';
import { type InteractionColumns, listsFromInteractions } from './interactions.js';
import type { X2iComputeOptions } from '../../native.js';
import { shardFileName, shardFolder } from '../../shard/manifest.js';

export const X2I_FILE_EXT = '.rx2i';
const INT_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT']);
const FLOAT_TYPES = new Set(['FLOAT', 'DOUBLE', 'DECIMAL']);

export interface BuildX2iOptions {
  /** Build over a live version that holds WAL updates (a dump applied them), dropping them. */
  discardUpdates?: boolean;
  inputs: string[];
  /** Precomputed lists: the key, neighbours and scores columns. */
  key?: string;
  neighbors?: string;
  scores?: string;
  /** Or interactions, and the algorithm that turns them into lists. */
  interactions?: InteractionColumns & { compute: X2iComputeOptions };
  out: string;
  topK?: number;
  minScore?: number;
  seed?: bigint;
  /** With a shard folder: build only this shard (one job of a distributed build). */
  shard?: number;
  /** Write the incremental state of `recall x2i stream` for this build (interactions only). */
  keepState?: string;
  /** Recorded in the parameters instead of the input paths (so where the data sits does not change the bytes). */
  sourceLabel?: string;
  command?: string;
}

export interface BuildX2iResult {
  version: CurrentVersion;
  shards: (X2iStats & { file: string; shard: number })[];
  elapsedMs: number;
  /** With --keep-state: the stream state written for this build. */
  keptState?: { dir: string; stateId: string; interactions: number };
}

/** One group of parquet files that becomes one index file. */
interface Part {
  shard: number;
  files: string[];
}

function checkTypes(
  file: string,
  schema: { name: string; type: string }[],
  o: Required<Pick<BuildX2iOptions, 'key' | 'neighbors' | 'scores'>>,
): void {
  const type = (name: string, what: string) => {
    const col = schema.find((s) => s.name === name);
    if (!col) {
      throw badInput(
        'ERR_RECALL_NO_SUCH_COLUMN',
        `${file}: no ${what} column "${name}"; columns are ${schema.map((s) => s.name).join(', ')}`,
        {
          file,
          fix: `pass one of those as --${what}`,
        },
      );
    }
    return col.type;
  };
  const k = type(o.key, 'key');
  if (!INT_TYPES.has(k))
    throw badInput('ERR_RECALL_BAD_KEY_TYPE', `${file}: key column "${o.key}" is ${k}; x2i keys must be integers`, { file });
  const n = type(o.neighbors, 'neighbors');
  if (!(n.endsWith('[]') && INT_TYPES.has(n.slice(0, -2)))) {
    throw badInput('ERR_RECALL_BAD_LIST_TYPE', `${file}: neighbors column "${o.neighbors}" is ${n}; expected a list of integer item ids`, {
      file,
    });
  }
  const s = type(o.scores, 'scores');
  if (!(s.endsWith('[]') && FLOAT_TYPES.has(s.slice(0, -2).replace(/\(.*\)/, '')))) {
    throw badInput('ERR_RECALL_BAD_LIST_TYPE', `${file}: scores column "${o.scores}" is ${s}; expected a list of numbers`, { file });
  }
}

/** The first row breaking a rule, as a one-line error naming file and row. */
async function refuseRows(
  c: DuckDBConnection,
  files: string[],
  o: Required<Pick<BuildX2iOptions, 'key' | 'neighbors' | 'scores'>>,
): Promise<void> {
  const src = `read_parquet(${literalList(files)}, filename = true, file_row_number = true)`;
  const [k, n, s] = [ident(o.key), ident(o.neighbors), ident(o.scores)];
  const INT64_MAX = '9223372036854775807';
  const rules: [string, string][] = [
    [`${k} IS NULL`, `null key`],
    [`${k}::HUGEINT > ${INT64_MAX}`, `the key does not fit in int64 (x2i ids are int64)`],
    [
      `list_bool_or(list_transform(${n}, x -> x::HUGEINT > ${INT64_MAX}))`,
      `an item id in "${o.neighbors}" does not fit in int64 (x2i ids are int64)`,
    ],
    [`coalesce(len(${n}), 0) <> coalesce(len(${s}), 0)`, `"${o.neighbors}" and "${o.scores}" have unequal lengths`],
    [`list_bool_or(list_transform(${n}, x -> x IS NULL))`, `a null item id in "${o.neighbors}"`],
    [
      `list_bool_or(list_transform(${s}, x -> x IS NULL OR isnan(x::DOUBLE) OR NOT isfinite(x::DOUBLE) OR abs(x::DOUBLE) > 3.4028234663852886e38))`,
      `a null, NaN, infinite or beyond-f32 score in "${o.scores}"`,
    ],
  ];
  for (const [where, what] of rules) {
    const [bad] = await readingParquet(c, files, () =>
      queryRows<{ filename: string; row: string }>(
        c,
        `SELECT filename, file_row_number::VARCHAR AS row FROM ${src} WHERE ${where} LIMIT 1`,
      ),
    );
    if (bad) {
      throw badInput('ERR_RECALL_BAD_ROW', `${bad.filename}: row ${bad.row}: ${what}`, {
        file: bad.filename,
        row: Number(bad.row),
        fix: 'fix or filter the row; nothing was written',
      });
    }
  }
}

/** Precomputed lists of one part as columns (keys, list offsets, items, scores). */
async function readLists(c: DuckDBConnection, files: string[], l: { key: string; neighbors: string; scores: string }) {
  const src = `read_parquet(${literalList(files)})`;
  const [keys, counts] = await readingParquet(c, files, () =>
    readColumns<[BigInt64Array, BigInt64Array]>(
      c,
      `SELECT ${ident(l.key)}::BIGINT, coalesce(len(${ident(l.neighbors)}), 0)::BIGINT FROM ${src}`,
      [BigInt64Array, BigInt64Array],
    ),
  );
  checkRowCount(await describeInputs(c, files), keys.length);
  const [items, scores] = await readingParquet(c, files, () =>
    readColumns<[BigInt64Array, Float32Array]>(
      c,
      `SELECT unnest(${ident(l.neighbors)})::BIGINT, unnest(${ident(l.scores)})::FLOAT FROM ${src}`,
      [BigInt64Array, Float32Array],
    ),
  );
  const offsets = new BigUint64Array(keys.length + 1);
  for (let r = 0; r < keys.length; r++) offsets[r + 1] = offsets[r]! + BigInt.asUintN(64, counts[r]!);
  const u64 = (a: BigInt64Array) => new BigUint64Array(a.buffer, a.byteOffset, a.length);
  return { keys: u64(keys), offsets, items: u64(items), scores };
}

/** Where parts are written: a staging folder and the version number their headers carry. */
export interface PartTarget {
  dir: string;
  version: number;
}

/**
 * Check the input and write this build's index files (all shards, or `o.shard`) into `target`;
 * returns them and the version parameters. `buildX2i` wraps it in a version; `recall build --config`
 * calls it per shard.
 */
export async function writeX2iParts(
  o: BuildX2iOptions,
  target: PartTarget,
  hooks: {
    signal?: AbortSignal;
    onShard?: (done: number, total: number) => void;
    /** Lists computed from interactions, with the files they came from (the stream state keeps them). */
    onLists?: (
      files: string[],
      lists: { keys: BigUint64Array; offsets: BigUint64Array; items: BigUint64Array; scores: Float32Array },
    ) => void;
  } = {},
): Promise<{ shards: BuildX2iResult['shards']; params: Record<string, unknown> }> {
  const native = loadNative();
  const db = await openDuckDB({ threads: 1 }); // one thread: rows come back in file order
  const c = await db.connect();
  try {
    // 1. what to build: a shard folder gives one part per shard, anything else one part
    const manifest = o.inputs.length === 1 ? await shardFolder(o.inputs[0]!) : null;
    const shardFiles = manifest?.shards.map((s) => join(o.inputs[0]!, s.file));
    // Interactions need every user's whole history: all shards go into one computation.
    const parts: Part[] = o.interactions
      ? [{ shard: 0, files: shardFiles ?? (await expandInputs(c, o.inputs)) }]
      : shardFiles
        ? shardFiles.map((file, shard) => ({ shard, files: [file] }))
        : [{ shard: 0, files: await expandInputs(c, o.inputs) }];
    const shardCount = parts.length;
    if (o.shard !== undefined) {
      if (!shardFiles || o.interactions)
        throw usage('ERR_RECALL_USAGE', '--shard needs a `recall shard` folder of precomputed lists as --input', {
          fix: 'drop --shard, or pass the shard folder',
        });
      if (o.shard >= shardCount)
        throw usage('ERR_RECALL_USAGE', `--shard ${o.shard} is out of range: the folder holds ${shardCount} shards`, {
          fix: `pass 0..${shardCount - 1}`,
        });
      parts.splice(0, parts.length, parts[o.shard]!);
    }
    const lists = o.interactions ? null : { key: o.key ?? '', neighbors: o.neighbors ?? '', scores: o.scores ?? '' };
    // 2. check everything before writing anything (interaction rows are checked as they are read)
    if (lists) {
      for (const p of parts) {
        const described = await describeInputs(c, p.files);
        checkTypes(described[0]!.path, described[0]!.schema, lists);
        await refuseRows(c, p.files, lists);
      }
    }
    hooks.signal?.throwIfAborted();
    // 3. build every part into a staged version
    const params = {
      channel: 'x2i',
      source: manifest
        ? { shardFolder: o.sourceLabel ?? o.inputs[0], key: manifest.key, hash: manifest.hash }
        : { inputs: o.sourceLabel ? [o.sourceLabel] : o.inputs },
      columns: lists ?? {
        user: o.interactions!.user,
        item: o.interactions!.item,
        ts: o.interactions!.ts ?? null,
        weight: o.interactions!.weight ?? null,
        actionWeights: o.interactions!.actionWeights ?? null,
      },
      // the thread count is left out: it does not change the result, so it must not change the bytes
      algorithm: o.interactions
        ? { ...o.interactions.compute, threads: undefined, seed: String(o.interactions.compute.seed ?? 0n) }
        : 'precomputed',
      topK: o.topK ?? 0,
      minScore: o.minScore ?? null,
      shardCount,
      routing: { hash: 'xxh64', seed: 0, keyEncoding: 'int64' },
      table: { hash: 'nh-mix64-v1', seed: String(o.seed ?? 0n), keyZero: 'decoy' },
      lists: { encoding: 'u64 item ids + f32 scores, score desc then item asc' },
    };
    const shards: BuildX2iResult['shards'] = [];
    for (const p of parts) {
      hooks.signal?.throwIfAborted();
      const { keys, offsets, items, scores } = lists
        ? await readLists(c, p.files, lists)
        : await readingParquet(c, p.files, () => listsFromInteractions(c, p.files, o.interactions!, o.interactions!.compute, hooks.signal));
      if (o.interactions) hooks.onLists?.(p.files, { keys, offsets, items, scores });
      const file = shardFileName(p.shard, shardCount, X2I_FILE_EXT);
      let stats: X2iStats;
      try {
        stats = await native.x2iWrite(
          join(target.dir, file),
          { version: target.version, shard: p.shard, shardCount },
          canonicalJson({ ...params, shard: p.shard }),
          keys,
          offsets,
          items,
          scores,
          {
            seed: o.seed ?? 0n,
            topK: o.topK ?? 0,
            minScore: o.minScore,
          },
        );
      } catch (e) {
        const m = /^row (\d+): (.*)$/.exec((e as Error).message);
        if (m)
          throw badInput('ERR_RECALL_BAD_ROW', `${p.files.join(', ')}: row ${m[1]}: ${m[2]}`, {
            file: p.files[0],
            row: Number(m[1]),
            fix: 'fix the input; nothing was written',
          });
        throw e;
      }
      shards.push({ ...stats, file, shard: p.shard });
      hooks.onShard?.(shards.length, parts.length);
    }
    return { shards, params };
  } catch (e) {
    if (hooks.signal?.aborted && !(e instanceof RecallError)) throw Object.assign(new Error('interrupted'), { name: 'AbortError' });
    throw e;
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

export async function buildX2i(
  o: BuildX2iOptions,
  hooks: { signal?: AbortSignal; onShard?: (done: number, total: number) => void } = {},
): Promise<BuildX2iResult> {
  const started = Date.now();
  await checkNoUpdatesLost(o.out, o.discardUpdates);
  if (o.keepState && !o.interactions)
    throw usage('ERR_RECALL_USAGE', '--keep-state keeps the state of a build from interactions', {
      fix: 'add --from-interactions, or drop --keep-state',
    });
  const computed: { v: [string[], { keys: BigUint64Array; offsets: BigUint64Array; items: BigUint64Array; scores: Float32Array }] | null } =
    { v: null };
  const result = await inNewVersion(o.out, 'x2i', async (staged) => {
    const { shards, params } = await writeX2iParts(o, staged, { ...hooks, onLists: (files, lists) => (computed.v = [files, lists]) });
    return { params, result: { shards, elapsedMs: Date.now() - started } as Omit<BuildX2iResult, 'version'> };
  });
  if (o.keepState && computed.v) {
    const { keepStreamState, streamParams } = await import('./stream.js');
    const [files, lists] = computed.v;
    const kept = await keepStreamState(o.keepState, files, await streamParams(o.out), lists, o.interactions?.compute.threads ?? 1);
    result.keptState = { dir: o.keepState, ...kept };
  }
  return result;
}
