/**
 * The contract every channel implements (core/channels/<kind>/driver.ts) and
 * the registry (registry.ts) hands out. The pipeline (config build, part
 * worker, dumps) and the WAL reach a channel only through it.
 */
import type { ChannelConfig, RecallConfig } from '../config/load.js';
import type { DumpInfo } from '../index/layers.js';
import type { WalBinding } from '../index/wal-identity.js';
import type { Bytes } from '../io/bytes.js';
import type { WalIssue, WalScanReport } from '../native.js';
import type { ChannelKind, ChannelName } from './kinds.js';

/** Where a part is written: a staging (or parts) folder and the version its headers carry. */
export interface PartTarget {
  dir: string;
  version: number;
}

/** What one part (one shard of one channel) wrote. */
export interface PartResult {
  files: { file: string; bytes: number; keys: number; items: number }[];
  params: Record<string, unknown>;
  cpuSeconds: number;
}

/** The inputs of a channel's part tasks in a config build. */
export interface PartPlan<C extends ChannelConfig = ChannelConfig> {
  channel: C;
  config: RecallConfig;
  /** The source's shard folder (<out>/shards/<source>). */
  shardFolder: string;
  /** The shards to build (every one, or one job's). */
  shards: number[];
  /** Where the parts are written. */
  dir: string;
  /** How the source is named in the files' params (never a path: the bytes must not depend on where the build ran). */
  sourceLabel: string;
}

/** One WAL record being encoded: the payload buffer and the checks shared by every channel. */
export interface RecordWriter {
  bytes: Bytes;
  /** An integer key or id (JSON number or decimal string) as its u64 bits; fails on anything else. */
  key(v: unknown, name: string): bigint | number;
  /** Stop with the record's origin: what is wrong and how to fix it. */
  fail(what: string, fix: string): never;
}

/**
 * What a channel's records must fit to apply to its index, and where that was learned (for
 * messages): the WAL's binding (wal.json), the index given with --index, or earlier records.
 * An encoder fills in what it learns (the first vector's dimension).
 */
export interface RecordFit extends WalBinding {
  dimFrom?: string;
  fieldsFrom?: string;
}

/** The channel's WAL payloads (native/core/src/wal/mod.rs has the layouts). */
export interface RecordCodec {
  /** A fresh encoder state per append; records are checked against `fit`, which learns what the first record fixes. */
  encoder(fit: RecordFit): (w: RecordWriter, rec: Record<string, unknown>, del: boolean) => void;
  /** Why a whole record (CRC valid) cannot apply to an index that fits `fit`, or null: replay quarantines it. */
  inapplicable(payload: Uint8Array, del: boolean, fit: WalBinding): string | null;
  /** What records must fit to apply to the index at `index` (a channel, version folder or file). */
  fitOf?(index: string): Promise<WalBinding>;
  /** The SQL select list that shapes parquet rows like the JSON-lines records (`op` comes first, separately). */
  parquetSelect(columns: ParquetColumns, need: (name: string, flag: string) => string, textColumns: (idColumn: string) => string[]): string;
  /** Fix up a row read from parquet before it is encoded (e.g. a JSON text column parsed). */
  parquetRow?(row: Record<string, unknown>): void;
}

export interface ParquetColumns {
  op?: string;
  key?: string;
  neighbors?: string;
  scores?: string;
  id?: string;
  vector?: string;
  text?: string[];
}

export interface DumpOptions {
  /** The channel folder (holds CURRENT). */
  index: string;
  wal: string;
  delta?: boolean;
  /** Keep this many newest versions (and the layers they read); undefined keeps all. */
  keep?: number;
  skipCorrupt?: boolean;
  /** Apply records up to this seq only. */
  upto?: number;
}

export interface DumpedFile {
  file: string;
  keys: number;
  deleted: number;
  fileBytes: number;
}

/** What a dump gives a channel: the options, the staging folder and the base version's facts. */
export interface DumpContext {
  o: DumpOptions;
  stagedDir: string;
  version: number;
  params: Record<string, unknown>;
  info: DumpInfo;
  kind: 'major' | 'delta';
  /** The dump's layer list (for the files' params). */
  layers: number[];
}

/** A WAL record replay skipped because it cannot apply to the index (wrong dimension, unknown field). */
export interface QuarantinedRecord {
  seq: number;
  reason: string;
}

/** What a query read of the WAL tail after its version: the range, the damage, the records set aside. */
export interface WalTailSummary {
  dir: string;
  walSeq: number;
  tailRecords: number;
  lastSeq: number;
  torn: WalIssue | null;
  corrupt: number;
  /** Records that cannot apply to the index: skipped, not applied. */
  quarantined: QuarantinedRecord[];
}

/** The summary of a WAL tail read on top of a version that applied the WAL up to `walSeq`. */
export function walTailSummary(
  dir: string,
  walSeq: number,
  tail: { records: number; report: { lastSeq: number; torn: WalIssue | null; corrupt: unknown[] }; quarantined: QuarantinedRecord[] },
): WalTailSummary {
  const { lastSeq, torn, corrupt } = tail.report;
  return { dir, walSeq, tailRecords: tail.records, lastSeq, torn, corrupt: corrupt.length, quarantined: tail.quarantined };
}

/** What one channel's dump wrote into the staging folder. */
export interface ChannelDump {
  records: number;
  /** Records not applied: kept in the WAL, listed by `wal inspect --index`, removable with `wal drop`. */
  quarantined: QuarantinedRecord[];
  upserts: number;
  deletes: number;
  changedKeys: number;
  report: WalScanReport;
  files: DumpedFile[];
}

/** What a data-quality check samples of one version's files (`recall dqc`). */
export interface ProfileOptions {
  /** Keys (rows) sampled per shard: the ones with the smallest routing hash, so two versions sample the same keys. */
  sample: number;
  /** Scores outside [min, max] count as out of range (x2i). */
  scoreRange?: [number, number];
}

/** One shard file's figures: counts, sampled distributions, sampled top-10 lists and the problems found. */
export interface ShardProfile {
  shard: number;
  file: string;
  /** Exact counts of the file (keys, edges, rows, docs, terms, ...). */
  counts: Record<string, number>;
  /** Sampled values by name (list length, score, norm). */
  dists: Record<string, number[]>;
  /** The sampled keys' first 10 items (x2i) or nearest ids (vector), by key. */
  top10: Map<string, string[]>;
  sampled: number;
  /** Sampled keys with an empty list. */
  empty: number;
  /** Sampled lists holding an item twice (x2i), or ids held twice (vector). */
  duplicates: number;
  /** NaN, infinite or out-of-range scores / values among `badOf`. */
  badScores: number;
  badOf: number;
  /** Text: vocabulary size. */
  vocab?: number;
  /** Text: per field, its top terms by document frequency (df descending) and the shard's document count. */
  topTerms?: { field: string; terms: string[]; df: number[]; docs: number }[];
  /** Vector: recall@10 of the index against an exact scan of its own rows, on sampled rows as queries. */
  graphRecall?: number;
}

/** A shard's profile before sampling: its exact counts and empty distributions, nothing found yet. */
export function emptyShardProfile(
  shard: number,
  file: string,
  counts: Record<string, number>,
  dists: Record<string, number[]> = {},
): ShardProfile {
  return { shard, file, counts, dists, top10: new Map(), sampled: 0, empty: 0, duplicates: 0, badScores: 0, badOf: 0 };
}

export interface ChannelDriver<
  C extends ChannelConfig = ChannelConfig,
  PartOptions = unknown,
  Query extends (...args: never[]) => unknown = (...args: never[]) => unknown,
> {
  kind: ChannelKind;
  /** The name in configs, manifests and the CLI (`inverted` for text). */
  name: ChannelName;
  /** The extension of its index files (`.rx2i`, `.rvec`, `.rti`). */
  fileExt: string;
  /** The container file kind of its index files (the header's `kind`: native/core/src/container/mod.rs). */
  fileKind: number;
  /**
   * What `recall verify` checks of an index file beyond its checksums: the structure checks opening
   * runs (and any per-row checksums a reader checks lazily). Throws ERR_RECALL_CORRUPT naming the damage.
   */
  checkStructure?(file: string): void;
  /** One part per shard of the source (true), or one index over the whole source built as shard 0 (false). */
  sharded: boolean;
  /** When it depends on the channel's config (x2i: lists are sharded, interactions are one index). */
  isSharded?(channel: C): boolean;
  /** The part tasks of a config build. */
  partTasks(plan: PartPlan<C>): PartOptions[];
  /** Build one part into `target` (in a piscina worker); stops with an AbortError once `signal` aborts. */
  writePart(options: PartOptions, target: PartTarget, signal?: AbortSignal): Promise<Omit<PartResult, 'cpuSeconds'>>;
  /** One query of a published version without the library API (tools, the fault harness); the CLI reads through src/api. */
  query: Query;
  /** WAL record payloads. */
  record: RecordCodec;
  /** Replay the WAL over the base version into the staging folder. */
  dump(c: DumpContext): Promise<ChannelDump>;
  /** Profile one version's shard files (in shard order) for `recall dqc`. */
  profile(files: string[], o: ProfileOptions): Promise<ShardProfile[]>;
}
