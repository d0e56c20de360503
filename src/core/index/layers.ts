/**
 * Layered versions. A version made by
 * `recall build` or a major dump is complete by itself; a delta dump's
 * version holds only the changed keys and names the versions under it in
 * its manifest (`params.dump.layers`: version numbers, oldest first, ending
 * with itself). Every dump records the last WAL seq it applied (`walSeq`), so
 * a query reads the layers plus the WAL records after it.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { badInput, usage } from '../errors.js';
import { CURRENT, listVersions, MANIFEST, readCurrent, readManifest, versionName, type VersionManifest } from './versions.js';

export interface DumpInfo {
  kind: 'build' | 'major' | 'delta';
  /** Last WAL seq applied (0 for a build). */
  walSeq: number;
  /** Versions to read, oldest first; the last is the version itself. */
  layers: number[];
}

export function dumpInfo(m: VersionManifest): DumpInfo {
  const d = m.params.dump as Partial<DumpInfo> | undefined;
  if (!d) return { kind: 'build', walSeq: 0, layers: [m.version] };
  return { kind: d.kind ?? 'major', walSeq: d.walSeq ?? 0, layers: d.layers ?? [m.version] };
}

/** A side file of a layer (deletes, WAL documents), or null when the layer has none. */
export async function readLayerFile(layerDir: string, name: string): Promise<Buffer | null> {
  return readFile(join(layerDir, name)).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)));
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
  for (const v of info.layers) {
    const dir = v === m.version ? selfDir : join(channelDir, versionName(v));
    const lm = v === m.version ? m : await readManifest(dir);
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
    throw badInput('ERR_RECALL_NO_SUCH_PATH', `${path}: no such file or directory`, { file: path, fix: 'check --index' });
  });
  if (st.isFile()) {
    return {
      channelDir: null,
      version: null,
      manifest: null,
      info: { kind: 'build', walSeq: 0, layers: [] },
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
