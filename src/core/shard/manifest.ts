/**
 * `manifest.json` of a shard folder: what was sharded, how, and what came
 * out (with sha256 of every input and output: parquet pages carry no
 * checksums). No timestamps, so the same run gives the same bytes.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { badInput } from '../errors.js';
import type { Column } from './inputs.js';
import type { KeyEncoding } from './route-udf.js';

/**
 * The most shards a source can have. Each shard costs a parquet file with its own footer, a
 * partition writer while it is open, and an index file per channel; lanes keep MAX_OPEN_PER_LANE
 * shards open at a time (shard.ts), so every LANES x 256 shards add a full scan of the input. Measured on
 * 200k rows (2 lanes): 256 shards 3.8 s / 150 MB, 1024 shards 6.7 s / 184 MB, 4096 shards
 * 18.6 s / 252 MB, 65536 shards 161 s / 1.1 GB. Serving needs one shard per parallel reader, a
 * few thousand at most; more is a mistake to refuse early, not a job to run for minutes.
 */
export const MAX_SHARDS = 4096;

export const SHARD_MANIFEST = 'manifest.json';
/** The one spelling of a shard file's name: `shard-00003-of-00016.parquet` (or the index file's extension). */
export const shardFileName = (shard: number, count: number, ext = '.parquet'): string =>
  `shard-${String(shard).padStart(5, '0')}-of-${String(count).padStart(5, '0')}${ext}`;
export const SHARD_FILE_RE = /^shard-(\d{5})-of-(\d{5})\.parquet$/;

export type Compression = 'zstd' | 'snappy' | 'gzip' | 'none';

export interface ShardManifest {
  format: 'recall-shards';
  formatVersion: 1;
  /** The command line that made this folder. */
  command: string;
  key: { column: string; type: string; hashedAs: KeyEncoding };
  hash: { id: 'xxh64'; seed: 0; shard: 'hash % shardCount' };
  shardCount: number;
  /** Parallel single-threaded writers (`--threads`); part of what fixes the bytes. */
  lanes: number;
  compression: Compression;
  where: string | null;
  dropNullKeys: boolean;
  droppedNullKeys: number;
  schema: Column[];
  inputs: { path: string; bytes: number; rows: number; sha256: string }[];
  rows: number;
  shards: { shard: number; file: string; rows: number; bytes: number; sha256: string }[];
}

/** The manifest of a `recall shard` output folder, or null if `input` is not one. */
export async function shardFolder(input: string): Promise<ShardManifest | null> {
  if (!(await stat(input).catch(() => null))?.isDirectory()) return null;
  const text = await readFile(join(input, SHARD_MANIFEST), 'utf8').catch(() => null);
  if (!text) return null;
  const m = JSON.parse(text) as ShardManifest;
  if (m.format !== 'recall-shards') return null;
  // every shard file is named by its number and count, so an edited name cannot point outside
  const stray = (m.shards ?? []).find((s) => s?.file !== shardFileName(s?.shard, m.shardCount));
  if (stray) {
    const file = join(input, SHARD_MANIFEST);
    throw badInput(
      'ERR_RECALL_CORRUPT',
      `${file}: shard file ${JSON.stringify(stray?.file)} is not the name of shard ${stray?.shard} of ${m.shardCount}`,
      {
        file,
        fix: 'the manifest was edited or damaged: shard the inputs again',
      },
    );
  }
  return m;
}
