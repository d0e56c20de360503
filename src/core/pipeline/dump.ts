/**
 * `recall dump`: replay the WAL over the CURRENT version of a channel into a
 * new version: a major dump (every live key in complete files) or a delta
 * (only the keys changed since CURRENT, deletes as tombstones, reading
 * through to the layers below). The new version records the last WAL seq it
 * applied and the id of the WAL (index/wal-identity.ts), so running it again
 * applies nothing twice and another WAL is refused. Records that cannot apply
 * (a vector of another dimension, an unknown text field) are quarantined:
 * skipped, reported and named in the manifest (`params.dump.quarantined`). It is staged and
 * published like a build (temp folder, manifest, rename, CURRENT replaced by
 * temp + fsync + rename) under the channel's build lock, so a crash leaves
 * CURRENT on a complete version and a second concurrent dump is refused.
 */
import type { DumpedFile, DumpOptions, QuarantinedRecord } from '../channels/driver.js';
import { driverNamed } from '../channels/registry.js';
import { badInput, RecallError } from '../errors.js';
import { dumpInfo, type DumpInfo, pruneVersions } from '../index/layers.js';
import { checkWalCovers, checkWalIdentity, readWalIdentity } from '../index/wal-identity.js';
import { beginVersion, readCurrent } from '../index/versions.js';
import type { WalScanReport } from '../native.js';

export type { DumpedFile, DumpOptions } from '../channels/driver.js';

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
  /** Records that cannot apply to the index (wrong dimension, unknown field): skipped, named in the manifest. */
  quarantined: QuarantinedRecord[];
  upserts: number;
  deletes: number;
  keys: number;
  /** The files of the new version: keys (x2i) or vectors, tombstones or deletes, bytes. */
  files: DumpedFile[];
  wal: WalScanReport;
  removedVersions: number[];
  elapsedMs: number;
}

export async function dumpChannel(o: DumpOptions, hooks: { signal?: AbortSignal } = {}): Promise<DumpResult> {
  const started = Date.now();
  const first = await readCurrent(o.index); // null: nothing published; a damaged CURRENT or manifest is exit 3
  if (!first) {
    throw badInput('ERR_RECALL_NO_VERSION', `${o.index}: no published version to dump over`, {
      file: o.index,
      fix: 'build the channel first (recall build ...), then dump',
    });
  }
  const channel = first.manifest.channel;
  const driver = driverNamed(channel);
  if (!driver) {
    throw badInput('ERR_RECALL_UNSUPPORTED', `${o.index}: a ${channel} channel cannot be dumped`, {
      file: o.index,
      fix: 'dump an x2i, vector or inverted channel folder',
    });
  }
  const staged = await beginVersion(o.index, channel);
  try {
    // under the lock: CURRENT cannot move now
    const cur = (await readCurrent(o.index))!;
    const info: DumpInfo = dumpInfo(cur.manifest);
    const kind = o.delta ? 'delta' : 'major';
    // a delta reads through every layer under it; a major dump replaces them all
    const layers = kind === 'delta' ? [...info.layers, staged.version] : [staged.version];
    // the WAL must be the one this version applied, holding every record after its seq
    const walIdentity = await readWalIdentity(o.wal);
    checkWalIdentity(info, walIdentity, o.wal, `version ${cur.version}`);
    const r = await driver.dump({ o, stagedDir: staged.dir, version: staged.version, params: cur.manifest.params, info, kind, layers });
    checkWalCovers(r.report, info, o.wal, `version ${cur.version}`);
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
      quarantined: r.quarantined,
      upserts: r.upserts,
      deletes: r.deletes,
      keys: r.changedKeys,
      files: r.files,
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
    const dump = {
      kind,
      walSeq,
      walId: walIdentity?.id ?? null,
      layers,
      wal: o.wal,
      base: cur.version,
      ...(r.quarantined.length ? { quarantined: r.quarantined } : {}),
    };
    const published = await staged.publish({ ...cur.manifest.params, dump });
    result.published = true;
    result.version = published.version;
    if (o.keep !== undefined) result.removedVersions = await pruneVersions(o.index, o.keep);
    result.elapsedMs = Date.now() - started;
    return result;
  } catch (e) {
    await staged.abort();
    if (hooks.signal?.aborted && !(e instanceof RecallError)) throw Object.assign(new Error('interrupted'), { name: 'AbortError' });
    throw e;
  }
}
