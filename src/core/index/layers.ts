/**
 * Layered versions. A version made by
 * `recall build` or a major dump is complete by itself; a delta dump's
 * version holds only the changed keys and names the versions under it in
 * its manifest (`params.dump.layers`: version numbers, oldest first, ending
 * with itself). Every dump records the last WAL seq it applied (`walSeq`), so
 * a query reads the layers plus the WAL records after it.
 */
import { createHash } from 'node:crypto';
import { open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { badInput, type RecallError, usage } from '../errors.js';
import { crc32c } from './container.js';
import {
  CURRENT,
  listVersions,
  MANIFEST,
  type ManifestFile,
  readCurrent,
  readManifest,
  versionName,
  type VersionManifest,
} from './versions.js';

export interface DumpInfo {
  kind: 'build' | 'major' | 'delta';
  /** Last WAL seq applied (0 for a build). */
  walSeq: number;
  /** The id of the WAL applied (wal-identity.ts); null for a build or a WAL made before ids. */
  walId: string | null;
  /** Versions to read, oldest first; the last is the version itself. */
  layers: number[];
}

export function dumpInfo(m: VersionManifest): DumpInfo {
  const d = m.params.dump as Partial<DumpInfo> | undefined;
  if (!d) return { kind: 'build', walSeq: 0, walId: null, layers: [m.version] };
  const info = { kind: d.kind ?? 'major', walSeq: d.walSeq ?? 0, walId: d.walId ?? null, layers: d.layers ?? [m.version] };
  const isVersion = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 1;
  if (
    !Number.isSafeInteger(info.walSeq) ||
    info.walSeq < 0 ||
    (info.walId !== null && typeof info.walId !== 'string') ||
    !Array.isArray(info.layers) ||
    !info.layers.every(isVersion) ||
    info.layers.at(-1) !== m.version ||
    info.layers.some((v, i) => i > 0 && v <= info.layers[i - 1]!)
  ) {
    throw badInput('ERR_RECALL_CORRUPT', `version ${m.version}: ${MANIFEST} params.dump is not {kind, walSeq, walId, layers} (damaged)`, {
      fix: 'the version is damaged: rebuild it',
    });
  }
  return info;
}

const damaged = (file: string, message: string, fix = 'the version is damaged: rebuild it, or restore the file') =>
  badInput('ERR_RECALL_CORRUPT', `${file}: ${message}`, { file, fix });

/**
 * A side file of a layer (deletes, WAL documents), or null when the layer has none. In a version
 * folder the manifest says whether the file belongs there, and its size and sha256 (the file is
 * read whole anyway): a missing, extra or damaged side file is refused, not read as "nothing".
 */
export async function readLayerFile(layerDir: string, name: string): Promise<Buffer | null> {
  const file = join(layerDir, name);
  const m = await readManifest(layerDir).catch((e: RecallError) => (e.code === 'ERR_RECALL_MISSING' ? null : Promise.reject(e)));
  const entry = m?.files.find((f) => f.path === name);
  const bytes = await readFile(file).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)));
  if (!m) return bytes;
  if (!entry) {
    if (bytes) throw damaged(file, `not listed in ${MANIFEST}`);
    return null;
  }
  if (!bytes) throw damaged(file, `listed in ${MANIFEST} but missing`);
  if (bytes.length !== entry.bytes || createHash('sha256').update(bytes).digest('hex') !== entry.sha256)
    throw damaged(file, `${bytes.length} bytes that are not the ones ${MANIFEST} lists (size or sha256 differs)`);
  return bytes;
}

const SHARD_NAME_RE = /^shard-(\d{5})-of-(\d{5})\.[a-z0-9]+$/;

/**
 * The index files of one layer are the ones its manifest lists, in their places: each has the size
 * and the header checksum the manifest recorded (so a swapped, replaced or re-sealed file is
 * refused without hashing it), the layer's version, and the shard number and count its name says;
 * a sharded layer holds every shard. Returns the layer's shard count (0 when it has no shard files).
 */
async function checkLayerFiles(dir: string, m: VersionManifest, version: number, ext: string): Promise<number> {
  const entries = m.files.filter((f) => f.path.endsWith(ext));
  const listed = new Set(entries.map((f) => f.path));
  const stray = (await readdir(dir)).find((n) => n.endsWith(ext) && !listed.has(n));
  if (stray)
    throw damaged(join(dir, stray), `not listed in ${MANIFEST} (the manifest's file list is damaged, or the file does not belong here)`);
  let count = 0;
  const seen = new Set<number>();
  for (const entry of entries) {
    const file = join(dir, entry.path);
    const h = await readHeader(file, entry);
    if (h.version !== version) throw damaged(file, `header says version ${h.version}, the file is listed in version ${version}`);
    const named = SHARD_NAME_RE.exec(basename(entry.path));
    if (!named) continue;
    const [shard, of] = [Number(named[1]), Number(named[2])];
    if (h.shard !== shard || h.shardCount !== of)
      throw damaged(file, `holds shard ${h.shard} of ${h.shardCount}, its name says shard ${shard} of ${of} (swapped or misnamed files)`);
    if (count && of !== count) throw damaged(file, `is one of ${of} shards, another file of this version one of ${count}`);
    count = of;
    seen.add(shard);
  }
  if (count && seen.size !== count) {
    const absent = Array.from({ length: count }, (_, s) => s).filter((s) => !seen.has(s));
    throw damaged(join(dir, MANIFEST), `lists ${seen.size} of ${count} shard files; shard ${absent.join(', ')} missing`);
  }
  return count;
}

/** Size, header checksum and header fields of an index file, checked against its manifest entry. */
async function readHeader(file: string, entry: ManifestFile): Promise<{ version: number; shard: number; shardCount: number }> {
  const fh = await open(file, 'r').catch((e: NodeJS.ErrnoException) => {
    throw e.code === 'ENOENT' ? damaged(file, `listed in ${MANIFEST} but missing`) : e;
  });
  try {
    const { size } = await fh.stat();
    if (size !== entry.bytes) throw damaged(file, `${size} bytes, ${MANIFEST} says ${entry.bytes} (truncated, replaced or damaged)`);
    const h = Buffer.alloc(64);
    const { bytesRead } = await fh.read(h, 0, 64, 0);
    if (bytesRead < 64 || crc32c(h.subarray(0, 60)) !== h.readUInt32LE(60))
      throw damaged(
        file,
        'the header is damaged (checksum mismatch)',
        'run `recall verify` for the exact byte ranges; rebuild or re-copy the file',
      );
    if (entry.headerCrc32c !== undefined && h.readUInt32LE(60) !== entry.headerCrc32c)
      throw damaged(file, `is not the file ${MANIFEST} lists (header checksum differs): replaced, swapped or re-sealed`);
    return { version: h.readUInt32LE(40), shard: h.readUInt32LE(44), shardCount: h.readUInt32LE(48) };
  } finally {
    await fh.close();
  }
}

export interface Layer {
  version: number | null;
  dir: string;
  /** Index files of this layer with the extension asked for, sorted (= shard order). */
  files: string[];
}

export interface LayeredVersion {
  /** The channel folder, or null for a lone file. */
  channelDir: string | null;
  version: number | null;
  manifest: VersionManifest | null;
  info: DumpInfo;
  /** Oldest first. */
  layers: Layer[];
}

const filesOf = (dir: string, m: VersionManifest, ext: string) =>
  m.files
    .filter((f) => f.path.endsWith(ext))
    .map((f) => join(dir, f.path))
    .sort();

async function layered(
  channelDir: string,
  m: VersionManifest,
  ext: string,
  selfDir = join(channelDir, versionName(m.version)),
): Promise<LayeredVersion> {
  const info = dumpInfo(m);
  const layers: Layer[] = [];
  let shards = 0;
  for (const v of info.layers) {
    const dir = v === m.version ? selfDir : join(channelDir, versionName(v));
    const lm = v === m.version ? m : await readManifest(dir);
    const count = await checkLayerFiles(dir, lm, v, ext);
    if (count && shards && count !== shards)
      throw damaged(
        join(dir, MANIFEST),
        `version ${v} has ${count} shards, the layer under it ${shards}: layers of one channel share a shard count`,
      );
    shards ||= count;
    layers.push({ version: v, dir, files: filesOf(dir, lm, ext) });
  }
  return { channelDir, version: m.version, manifest: m, info, layers };
}

/** The newest complete version of `channelDir` whose dump applied no WAL record after `asOf`. */
async function versionAsOf(channelDir: string, asOf: number): Promise<VersionManifest> {
  for (const v of (await listVersions(channelDir)).reverse()) {
    const m = await readManifest(join(channelDir, versionName(v))).catch(() => null);
    if (m && dumpInfo(m).walSeq <= asOf) return m;
  }
  throw badInput('ERR_RECALL_NO_VERSION', `${channelDir}: no kept version is at or before seq ${asOf}`, {
    file: channelDir,
    fix: 'pass a later --as-of, or keep more versions (dump --keep)',
  });
}

/**
 * What `--index PATH` names, with its layers: a channel folder (its CURRENT version, or with `asOf`
 * the newest version at or before that seq), a version folder, or one index file (a single layer).
 */
export async function resolveLayered(path: string, ext: string, what: string, asOf?: number): Promise<LayeredVersion> {
  const st = await stat(path).catch(() => {
    throw usage('ERR_RECALL_NO_SUCH_PATH', `${path}: no such file or directory`, { file: path, fix: 'check --index' });
  });
  if (st.isFile()) {
    return {
      channelDir: null,
      version: null,
      manifest: null,
      info: { kind: 'build', walSeq: 0, walId: null, layers: [] },
      layers: [{ version: null, dir: dirname(path), files: [path] }],
    };
  }
  const names = await readdir(path);
  if (names.includes(CURRENT)) {
    if (asOf !== undefined) return layered(path, await versionAsOf(path, asOf), ext);
    const cur = await readCurrent(path);
    if (!cur) throw badInput('ERR_RECALL_NO_VERSION', `${path}: no published version`, { file: path });
    return layered(path, cur.manifest, ext);
  }
  if (names.includes(MANIFEST)) {
    const m = await readManifest(path);
    if (!/^v\d{8}$/.test(basename(path)) && dumpInfo(m).layers.length > 1) {
      throw badInput('ERR_RECALL_NOT_AN_INDEX', `${path}: a delta version outside its channel folder`, {
        file: path,
        fix: 'pass the channel folder',
      });
    }
    return layered(dirname(path), m, ext, path);
  }
  throw badInput('ERR_RECALL_NOT_AN_INDEX', `${path}: neither ${what} file nor a version or channel folder`, {
    file: path,
    fix: `pass the --out folder of \`recall build\`, or one of its ${ext} files`,
  });
}

/** Remove versions beyond the newest `keep`, except CURRENT and the layers kept versions read. */
export async function pruneVersions(channelDir: string, keep: number): Promise<number[]> {
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

/**
 * A build from the source replaces the live version; when that version holds updates a dump applied
 * from the WAL (walSeq > 0), the new version would silently lack them. Refused unless `discard`.
 */
export async function checkNoUpdatesLost(channelDir: string, discard = false): Promise<void> {
  if (discard) return;
  const cur = await readCurrent(channelDir).catch(() => null);
  if (!cur) return;
  const { walSeq } = dumpInfo(cur.manifest);
  if (walSeq > 0)
    throw usage(
      'ERR_RECALL_UPDATES_WOULD_BE_LOST',
      `${channelDir}: the live version v${cur.version} holds the WAL updates up to seq ${walSeq} (recall dump); a build from the source would drop them`,
      { file: channelDir, fix: 'add the updates to the source first, or pass --discard-updates to rebuild without them' },
    );
}
