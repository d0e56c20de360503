/**
 * `recall dump`: replay the WAL over the CURRENT version of a channel into a
 * new version: a major dump (every live key in complete files) or a delta
 * (only the keys changed since CURRENT, deletes as tombstones, reading
 * through to the layers below). The new version records the last WAL seq it
 * applied, so running it again applies nothing twice. It is staged and
 * published like a build (temp folder, manifest, rename, CURRENT replaced by
 * temp + fsync + rename) under the channel's build lock, so a crash leaves
 * CURRENT on a complete version and a second concurrent dump is refused.
 */
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { badInput, RecallError } from '../cli/errors.js';
import { canonicalJson } from '../index/container.js';
import { dumpInfo, type DumpInfo, resolveLayered } from '../index/layers.js';
import { beginVersion, listVersions, readCurrent, readManifest, versionName } from '../index/versions.js';
import { loadNative, type WalScanReport, type X2iStats } from '../native.js';
import { X2I_FILE_EXT } from '../x2i/build.js';

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

export interface DumpResult {
  index: string;
  channel: string;
  /** False when the WAL held nothing new for this channel (no version was made). */
  published: boolean;
  kind: 'major' | 'delta';
  baseVersion: number;
  version: number | null;
  /** The WAL seqs applied: (fromSeq, walSeq]. */
  fromSeq: number;
  walSeq: number;
  records: number;
  upserts: number;
  deletes: number;
  keys: number;
  shards: (X2iStats & { deleted: number; file: string })[];
  wal: WalScanReport;
  removedVersions: number[];
  elapsedMs: number;
}

/** Remove versions beyond the newest `keep`, except CURRENT and the layers kept versions read. */
async function prune(channelDir: string, keep: number): Promise<number[]> {
  const all = await listVersions(channelDir);
  const kept = new Set(all.slice(-keep));
  const cur = await readCurrent(channelDir);
  if (cur) kept.add(cur.version);
  for (const v of [...kept]) {
    const m = await readManifest(join(channelDir, versionName(v))).catch(() => null);
    for (const l of m ? dumpInfo(m).layers : []) kept.add(l);
  }
  const removed = all.filter((v) => !kept.has(v));
  for (const v of removed) await rm(join(channelDir, versionName(v)), { recursive: true, force: true });
  return removed;
}

export async function dumpChannel(o: DumpOptions, hooks: { signal?: AbortSignal } = {}): Promise<DumpResult> {
  const started = Date.now();
  const native = loadNative();
  const first = await readCurrent(o.index).catch(() => null);
  if (!first) {
    throw badInput('ERR_RECALL_NO_VERSION', `${o.index}: no published version to dump over`, { file: o.index, fix: 'build the channel first (recall build ...), then dump' });
  }
  const channel = first.manifest.channel;
  if (channel !== 'x2i') {
    throw badInput('ERR_RECALL_UNSUPPORTED', `${o.index}: dumps of the ${channel} channel are not supported yet (x2i only)`, { file: o.index, fix: 'dump an x2i channel folder' });
  }
  const staged = await beginVersion(o.index, channel);
  try {
    // under the lock: CURRENT cannot move now
    const cur = (await readCurrent(o.index))!;
    const base = await resolveLayered(o.index, X2I_FILE_EXT, 'an x2i');
    const info: DumpInfo = dumpInfo(cur.manifest);
    const shardCount = base.layers[0].files.length;
    const params = cur.manifest.params;
    const kind = o.delta ? 'delta' : 'major';
    // a delta reads through every layer under it; a major dump replaces them all
    const layers = kind === 'delta' ? [...info.layers, staged.version] : [staged.version];
    const names = base.layers[0].files.map((f) => basename(f));
    const outs = names.map((n) => join(staged.dir, n));
    const table = params.table as { seed?: string } | undefined;
    // the applied seq is known only after the scan: the manifest records it, the files their layering
    const fileParams = (shard: number) => canonicalJson({ ...params, shard, dump: { kind, layers } });
    const seed = BigInt(table?.seed ?? '0');
    const topK = Number(params.topK ?? 0);
    const minScore = params.minScore === null || params.minScore === undefined ? undefined : Number(params.minScore);
    const r = await native.x2iDump({
      walDir: o.wal,
      after: info.walSeq,
      upto: o.upto,
      skipCorrupt: o.skipCorrupt,
      delta: kind === 'delta',
      layers: Array.from({ length: shardCount }, (_, s) => base.layers.map((l) => l.files[s])),
      outs,
      headers: outs.map((_, shard) => ({ version: staged.version, shard, shardCount })),
      params: outs.map((_, shard) => fileParams(shard)),
      seed,
      topK,
      minScore,
    });
    hooks.signal?.throwIfAborted();
    const walSeq = Math.max(info.walSeq, o.upto === undefined ? r.report.lastSeq : Math.min(o.upto, r.report.lastSeq));
    const result: DumpResult = {
      index: o.index,
      channel,
      published: false,
      kind,
      baseVersion: cur.version,
      version: null,
      fromSeq: info.walSeq,
      walSeq,
      records: r.records,
      upserts: r.upserts,
      deletes: r.deletes,
      keys: r.changedKeys,
      shards: r.shards.map((s, i) => ({ ...s, file: names[i] })),
      wal: r.report,
      removedVersions: [],
      elapsedMs: 0,
    };
    // nothing new: no version, unless a major dump folds a delta's layers into one (compaction)
    if (r.records === 0 && !(kind === 'major' && info.layers.length > 1)) {
      await staged.abort();
      result.walSeq = info.walSeq;
      result.elapsedMs = Date.now() - started;
      return result;
    }
    const published = await staged.publish({ ...params, dump: { kind, walSeq, layers, wal: o.wal, base: cur.version } });
    result.published = true;
    result.version = published.version;
    if (o.keep !== undefined) result.removedVersions = await prune(o.index, o.keep);
    result.elapsedMs = Date.now() - started;
    return result;
  } catch (e) {
    await staged.abort();
    if (hooks.signal?.aborted && !(e instanceof RecallError)) throw Object.assign(new Error('interrupted'), { name: 'AbortError' });
    throw e;
  }
}
