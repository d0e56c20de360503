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
import { rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { badInput, RecallError } from '../errors.js';
import { canonicalJson } from '../io/canonical-json.js';
import { dumpInfo, type DumpInfo, resolveLayered } from '../index/layers.js';
import { beginVersion, listVersions, readCurrent, readManifest, versionName } from '../index/versions.js';
import { loadNative, type VectorBuildOptions, type WalScanReport } from '../native.js';
import { VECTOR_FILE_EXT } from '../channels/vector/build.js';
import { encodeDeletes, openLayers, VECTOR_DELETES_FILE, vectorChanges } from '../channels/vector/layers.js';
import { TEXT_FILE_EXT } from '../channels/text/build.js';
import { buildDocsIndex, docsJsonl, layersAnalyzer, openTextLayers, readDeletes, readLayerDocs, TEXT_DELETES_FILE, TEXT_DOCS_FILE, type TextDoc, textChanges, UPDATES_FILE } from '../channels/text/layers.js';
import { X2I_FILE_EXT } from '../channels/x2i/build.js';

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

/** What one channel's dump wrote into the staging folder. */
interface ChannelDump {
  records: number;
  upserts: number;
  deletes: number;
  changedKeys: number;
  report: WalScanReport;
  files: DumpedFile[];
}

interface DumpContext {
  o: DumpOptions;
  stagedDir: string;
  version: number;
  params: Record<string, unknown>;
  info: DumpInfo;
  kind: 'major' | 'delta';
  /** The dump's layer list (for the files' params). */
  layers: number[];
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
  /** The files of the new version: keys (x2i) or vectors, tombstones or deletes, bytes. */
  files: DumpedFile[];
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

/** x2i: replay and write every shard natively (x2i/dump.rs). */
async function dumpX2i(c: DumpContext): Promise<ChannelDump> {
  const native = loadNative();
  const base = await resolveLayered(c.o.index, X2I_FILE_EXT, 'an x2i');
  const shardCount = base.layers[0].files.length;
  const names = base.layers[0].files.map((f) => basename(f));
  const outs = names.map((n) => join(c.stagedDir, n));
  const table = c.params.table as { seed?: string } | undefined;
  const r = await native.x2iDump({
    walDir: c.o.wal,
    after: c.info.walSeq,
    upto: c.o.upto,
    skipCorrupt: c.o.skipCorrupt,
    delta: c.kind === 'delta',
    layers: Array.from({ length: shardCount }, (_, s) => base.layers.map((l) => l.files[s])),
    outs,
    headers: outs.map((_, shard) => ({ version: c.version, shard, shardCount })),
    // the applied seq is known only after the scan: the manifest records it, the files their layering
    params: outs.map((_, shard) => canonicalJson({ ...c.params, shard, dump: { kind: c.kind, layers: c.layers } })),
    seed: BigInt(table?.seed ?? '0'),
    topK: Number(c.params.topK ?? 0),
    minScore: c.params.minScore === null || c.params.minScore === undefined ? undefined : Number(c.params.minScore),
  });
  return { ...r, files: r.shards.map((s, i) => ({ file: names[i], keys: s.keys, deleted: s.deleted, fileBytes: s.fileBytes })) };
}

/**
 * vector: a delta is a flat exact index of the upserted rows plus the deleted ids; a major dump
 * rebuilds the index with the base's parameters from every live row (layers and changes applied).
 */
async function dumpVector(c: DumpContext): Promise<ChannelDump> {
  const native = loadNative();
  const ch = vectorChanges(c.o.wal, { after: c.info.walSeq, upto: c.o.upto, skipCorrupt: c.o.skipCorrupt });
  const done = (files: DumpedFile[]): ChannelDump => ({ records: ch.records, upserts: ch.upserts, deletes: ch.deletes, changedKeys: ch.rows.size, report: ch.report, files });
  const foldOnly = ch.records === 0 && !(c.kind === 'major' && c.info.layers.length > 1);
  if (foldOnly) return done([]);
  const base = await resolveLayered(c.o.index, VECTOR_FILE_EXT, 'a vector');
  const index = c.params.index as Omit<VectorBuildOptions, 'seed'> & { seed?: string };
  const dim = Number(c.params.dim);
  if (ch.dim && ch.dim !== dim) {
    throw badInput('ERR_RECALL_DIM_MISMATCH', `${c.o.wal}: the WAL holds ${ch.dim}-dimensional vectors, the index ${dim}`, { file: c.o.wal, fix: 'append vectors of the index dimension only' });
  }
  // the live rows: layers oldest first, then the changes
  const rows = new Map<bigint, Float32Array>();
  const deleted: bigint[] = [];
  if (c.kind === 'major') {
    const open = await openLayers(base.layers);
    for (const [i, l] of open.entries()) {
      for (const id of l.deletes) rows.delete(id);
      if (!l.handle) continue;
      const r = native.vectorRows(l.handle);
      if (!r) {
        throw badInput('ERR_RECALL_NO_F32', `${base.layers[i].files[0]}: an int8 index built without f32 rows cannot be rebuilt by a major dump`, {
          file: base.layers[i].files[0],
          fix: 'use --delta, or rebuild from the source with --rerank (which keeps the f32 rows)',
        });
      }
      for (let j = 0; j < r.ids.length; j++) rows.set(r.ids[j], r.data.subarray(j * dim, (j + 1) * dim));
    }
  }
  for (const [id, row] of ch.rows) {
    if (row) rows.set(id, row);
    else {
      rows.delete(id);
      deleted.push(id);
    }
  }
  const files: DumpedFile[] = [];
  const ids = BigUint64Array.from(rows.keys());
  const data = new Float32Array(ids.length * dim);
  [...rows.values()].forEach((r, i) => data.set(r, i * dim));
  const build: VectorBuildOptions =
    c.kind === 'delta'
      ? { type: 'flat', metric: index.metric, quant: 'f32' }
      : { ...index, seed: BigInt(index.seed ?? '0'), threads: 2, keepF32: (index.keepF32 as unknown) === true || index.keepF32 === 1 ? 1 : 0 };
  if (ids.length > 0) {
    const file = `shard-00000-of-00001${VECTOR_FILE_EXT}`;
    const params = canonicalJson({ ...c.params, rows: ids.length, dump: { kind: c.kind, layers: c.layers } });
    const st = await native.vectorBuild(join(c.stagedDir, file), { version: c.version, shard: 0, shardCount: 1 }, params, data, ids, dim, build);
    files.push({ file, keys: ids.length, deleted: 0, fileBytes: st.fileBytes });
  }
  if (c.kind === 'delta') {
    const b = encodeDeletes(deleted);
    await writeFile(join(c.stagedDir, VECTOR_DELETES_FILE), b);
    files.push({ file: VECTOR_DELETES_FILE, keys: 0, deleted: b.length / 8, fileBytes: b.length });
  }
  return done(files);
}

/**
 * inverted: a delta is an index of the documents upserted in the range (`updates.rti`, fields kept in
 * `docs.jsonl`) plus the ids deleted (`deletes.json`); a major dump copies the original shard files
 * with every replaced or deleted document tombstoned and rebuilds one updates index of every live
 * document that came through the WAL (inverted/layers.ts).
 */
async function dumpInverted(c: DumpContext): Promise<ChannelDump> {
  const native = loadNative();
  const ch = textChanges(c.o.wal, { after: c.info.walSeq, upto: c.o.upto, skipCorrupt: c.o.skipCorrupt });
  const done = (files: DumpedFile[]): ChannelDump => ({ records: ch.records, upserts: ch.upserts, deletes: ch.deletes, changedKeys: ch.docs.size, report: ch.report, files });
  if (ch.records === 0 && !(c.kind === 'major' && c.info.layers.length > 1)) return done([]);
  const base = await resolveLayered(c.o.index, TEXT_FILE_EXT, 'a text index');
  const open = await openTextLayers(base.layers);
  const { analyzer, like } = layersAnalyzer(open, false);
  const intIds = native.textExtIds(open.flatMap((l) => l.shards)[0]!.handle, new Uint32Array(0)) instanceof BigUint64Array;
  const header = { version: c.version, shard: 0, shardCount: 1 };
  const files: DumpedFile[] = [];
  const writeUpdates = async (docs: TextDoc[]) => {
    await writeFile(join(c.stagedDir, TEXT_DOCS_FILE), docsJsonl(docs));
    if (docs.length === 0) return;
    const params = canonicalJson({ ...c.params, updates: true, dump: { kind: c.kind, layers: c.layers } });
    const st = await buildDocsIndex(join(c.stagedDir, UPDATES_FILE), header, params, docs, like, analyzer, intIds, c.o.wal);
    files.push({ file: UPDATES_FILE, keys: st.docs, deleted: 0, fileBytes: st.fileBytes });
  };
  if (c.kind === 'delta') {
    await writeUpdates([...ch.docs.values()].filter((d): d is TextDoc => d !== null));
    const deleted = [...ch.docs].filter(([, d]) => d === null).map(([id]) => id);
    await writeFile(join(c.stagedDir, TEXT_DELETES_FILE), `${JSON.stringify(deleted)}\n`);
    files.push({ file: TEXT_DELETES_FILE, keys: 0, deleted: deleted.length, fileBytes: 0 });
    return done(files);
  }
  // major: the live WAL documents of every layer, then the changes; everything they touched is hidden in the originals
  const live = new Map<string, TextDoc>();
  const touched = new Set<string>();
  for (const [i, l] of base.layers.entries()) {
    for (const id of i > 0 ? await readDeletes(l.dir) : []) {
      live.delete(id);
      touched.add(id);
    }
    for (const d of await readLayerDocs(l.dir)) {
      live.set(d.id, d);
      touched.add(d.id);
    }
  }
  for (const [id, d] of ch.docs) {
    touched.add(id);
    if (d) live.set(id, d);
    else live.delete(id);
  }
  const originals = base.layers[0].files.filter((f) => basename(f) !== UPDATES_FILE);
  const hide = [...touched];
  for (const [shard, src] of originals.entries()) {
    const name = basename(src);
    const r = await native.textAddTombstones(src, join(c.stagedDir, name), { version: c.version, shard, shardCount: originals.length }, hide);
    files.push({ file: name, keys: 0, deleted: r.tombstones, fileBytes: r.fileBytes });
  }
  await writeUpdates([...live.values()]);
  return done(files);
}

const DUMPERS: Record<string, (c: DumpContext) => Promise<ChannelDump>> = { x2i: dumpX2i, vector: dumpVector, inverted: dumpInverted };

export async function dumpChannel(o: DumpOptions, hooks: { signal?: AbortSignal } = {}): Promise<DumpResult> {
  const started = Date.now();
  const first = await readCurrent(o.index).catch(() => null);
  if (!first) {
    throw badInput('ERR_RECALL_NO_VERSION', `${o.index}: no published version to dump over`, { file: o.index, fix: 'build the channel first (recall build ...), then dump' });
  }
  const channel = first.manifest.channel;
  const dumper = DUMPERS[channel];
  if (!dumper) {
    throw badInput('ERR_RECALL_UNSUPPORTED', `${o.index}: a ${channel} channel cannot be dumped`, { file: o.index, fix: 'dump an x2i, vector or inverted channel folder' });
  }
  const staged = await beginVersion(o.index, channel);
  try {
    // under the lock: CURRENT cannot move now
    const cur = (await readCurrent(o.index))!;
    const info: DumpInfo = dumpInfo(cur.manifest);
    const kind = o.delta ? 'delta' : 'major';
    // a delta reads through every layer under it; a major dump replaces them all
    const layers = kind === 'delta' ? [...info.layers, staged.version] : [staged.version];
    const r = await dumper({ o, stagedDir: staged.dir, version: staged.version, params: cur.manifest.params, info, kind, layers });
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
    const published = await staged.publish({ ...cur.manifest.params, dump: { kind, walSeq, layers, wal: o.wal, base: cur.version } });
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
