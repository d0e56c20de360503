/**
 * Index versions. A channel directory holds complete
 * versions `v00000001/`, `v00000002/`, ... (all shards + manifest.json) and
 * a `CURRENT` file naming the live one. A build stages into a hidden
 * `.v00000003.staging-<pid>` folder, writes manifest.json last, renames the
 * folder into place and then replaces CURRENT (temp, fsync, rename): readers
 * never see a half-built version, and a crash leaves at most a staging
 * folder that the next build removes. One build at a time per channel
 * (`.lock`, a flock: io/lock.ts); whoever holds it knows every staging folder
 * it finds belongs to a builder that died.
 *
 * Both files carry their own check, so a damaged or edited one is refused (exit 3) instead of
 * silently serving another version or another file list: manifest.json has `checksum` (sha256 of
 * its canonical JSON without that field) and, per index file, the container header's CRC-32C
 * (which covers the section table and through it every section: a cheap identity a query can
 * check without hashing the file); CURRENT is `v00000002 <that manifest checksum>`. Files written
 * before these existed (no checksum; CURRENT with a name only, as a hand-written rollback) are
 * read as before.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { badInput, RecallError } from '../errors.js';
import { syncDir, trackTemp, writeFileAtomic } from '../io/atomic.js';
import { canonicalJson } from '../io/canonical-json.js';
import { lockOrFail } from '../io/lock.js';
import { isInsidePath } from '../io/paths.js';
import { sha256File } from '../io/sha256.js';

export const MANIFEST = 'manifest.json';
export const CURRENT = 'CURRENT';
const VERSION_RE = /^v(\d{8})$/;
const STAGING_RE = /^\.v(\d{8})\.staging-(\d+)$/;

export const versionName = (n: number): string => `v${String(n).padStart(8, '0')}`;

export interface ManifestFile {
  /** Path relative to the version folder, '/'-separated. */
  path: string;
  bytes: number;
  sha256: string;
  /** For an index file: the CRC-32C its header stores (bytes 60..64), the file's cheap identity. */
  headerCrc32c?: number;
}

export interface VersionManifest {
  format: 'recall-version';
  formatVersion: 1;
  channel: string;
  version: number;
  /** Build parameters, channel specific (shard count, hash, metric, ...). */
  params: Record<string, unknown>;
  files: ManifestFile[];
  /** sha256 (hex) of the canonical JSON of every other field; absent in older manifests. */
  checksum?: string;
}

/** The fields a version manifest has; `verify` reports any other (a damaged key name). */
export const MANIFEST_FIELDS = ['format', 'formatVersion', 'channel', 'version', 'params', 'files', 'checksum'];

/** sha256 of the manifest's canonical JSON without its `checksum` field. */
export const manifestChecksum = (m: VersionManifest): string =>
  createHash('sha256')
    .update(canonicalJson({ ...m, checksum: undefined }))
    .digest('hex');

/** What CURRENT says: a version name and, when written by this recall, the checksum of its manifest. */
export interface CurrentPointer {
  name: string;
  checksum: string | null;
}

const CURRENT_RE = /^(v\d{8})(?:[ \t]+([0-9a-f]{64}))?\s*$/;

/** Parse CURRENT's text, or null when it is not a version pointer. */
export function parseCurrent(text: string): CurrentPointer | null {
  const m = CURRENT_RE.exec(text.replace(/^\s+/, ''));
  return m ? { name: m[1]!, checksum: m[2] ?? null } : null;
}

/** The line CURRENT holds for `version` with `manifest`. */
export const currentLine = (version: number, manifest: VersionManifest): string =>
  `${versionName(version)}${manifest.checksum ? ` ${manifest.checksum}` : ''}\n`;

/** Version numbers present in `channelDir`, ascending. */
export async function listVersions(channelDir: string): Promise<number[]> {
  const names = await readdir(channelDir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  return names.flatMap((n) => (VERSION_RE.exec(n) ? [Number(n.slice(1))] : [])).sort((a, b) => a - b);
}

export interface CurrentVersion {
  version: number;
  dir: string;
  manifest: VersionManifest;
}

/** The version CURRENT names, or null when nothing was published yet. */
export async function readCurrent(channelDir: string): Promise<CurrentVersion | null> {
  const currentPath = join(channelDir, CURRENT);
  let text: string;
  try {
    text = await readFile(currentPath, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw badInput(
      'ERR_RECALL_CORRUPT',
      `${currentPath}: ${code === 'EISDIR' ? 'is a folder' : `cannot read (${code ?? (e as Error).message})`}; CURRENT is a file naming the live version`,
      {
        file: currentPath,
        fix: 'write the live version name (like v00000001) into a file CURRENT, or rebuild',
        cause: e,
      },
    );
  }
  const ptr = parseCurrent(text);
  if (!ptr) {
    throw badInput(
      'ERR_RECALL_CORRUPT',
      `${currentPath}: expected a version name like v00000001, found ${JSON.stringify(text.trim().slice(0, 40))}`,
      {
        file: currentPath,
        fix: 'write the live version name into CURRENT, or rebuild',
      },
    );
  }
  const dir = join(channelDir, ptr.name);
  const manifest = await readManifest(dir);
  if (ptr.checksum !== null && manifest.checksum !== ptr.checksum) {
    throw badInput(
      'ERR_RECALL_CORRUPT',
      `${currentPath}: names ${ptr.name}, but the manifest checksum it records is not that version's (CURRENT is damaged)`,
      { file: currentPath, fix: `write the live version name into CURRENT (e.g. "${ptr.name}"), or rebuild` },
    );
  }
  return { version: Number(ptr.name.slice(1)), dir, manifest };
}

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** The first thing wrong with a parsed manifest of `dir`, or null. */
function manifestProblem(m: VersionManifest, dir: string): string | null {
  if (m === null || typeof m !== 'object' || m.format !== 'recall-version' || !Array.isArray(m.files))
    return 'not a recall version manifest';
  if (m.checksum !== undefined && m.checksum !== manifestChecksum(m))
    return 'checksum mismatch: the manifest was edited or damaged after it was written';
  if (typeof m.channel !== 'string') return '"channel" is not a string';
  if (!isCount(m.version) || m.version < 1) return `version ${JSON.stringify(m.version)} is not a version number`;
  const folder = basename(dir);
  if (VERSION_RE.test(folder) && Number(folder.slice(1)) !== m.version) return `says version ${m.version}, but lies in ${folder}`;
  if (m.params === null || typeof m.params !== 'object' || Array.isArray(m.params))
    return `"params" is ${JSON.stringify(m.params) ?? 'missing'}, not an object`;
  for (const [i, f] of m.files.entries()) {
    if (f === null || typeof f !== 'object' || typeof f.path !== 'string' || !isCount(f.bytes) || typeof f.sha256 !== 'string')
      return `files[${i}] is not {path, bytes, sha256}`;
    if (!isInsidePath(f.path)) return `files[${i}].path ${JSON.stringify(f.path)} is not a path inside the version folder`;
    if (f.headerCrc32c !== undefined && !(isCount(f.headerCrc32c) && f.headerCrc32c <= 0xffffffff))
      return `files[${i}].headerCrc32c is not a CRC-32C`;
  }
  return null;
}

export async function readManifest(versionDir: string): Promise<VersionManifest> {
  const file = join(versionDir, MANIFEST);
  let m: VersionManifest;
  try {
    m = JSON.parse(await readFile(file, 'utf8')) as VersionManifest;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const what =
      code === 'ENOENT' ? 'missing' : e instanceof SyntaxError ? 'not valid JSON' : `cannot read (${code ?? (e as Error).message})`;
    throw badInput(code === 'ENOENT' ? 'ERR_RECALL_MISSING' : 'ERR_RECALL_CORRUPT', `${file}: ${what}`, {
      file,
      fix: 'the version is incomplete or damaged: rebuild it',
      cause: e,
    });
  }
  const problem = manifestProblem(m, versionDir);
  if (problem) throw badInput('ERR_RECALL_CORRUPT', `${file}: ${problem}`, { file, fix: 'the version is damaged: rebuild it' });
  return m;
}

/** The CRC-32C an index file's header stores (its identity), or null for any other file. */
export async function containerHeaderCrc(file: string): Promise<number | null> {
  const fh = await open(file, 'r');
  try {
    const h = Buffer.alloc(64);
    const { bytesRead } = await fh.read(h, 0, 64, 0);
    return bytesRead === 64 && h.subarray(0, 6).toString('latin1') === 'RCLIDX' ? h.readUInt32LE(60) : null;
  } finally {
    await fh.close();
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out.sort();
}

/** The channel's build lock: one build or dump publishes into a channel at a time. */
export const BUILD_LOCK = '.lock';

async function acquireLock(channelDir: string): Promise<() => Promise<void>> {
  const lock = lockOrFail(join(channelDir, BUILD_LOCK), `${channelDir}: another build is writing this channel`);
  return async () => lock.release();
}

export interface StagedVersion {
  readonly channel: string;
  readonly version: number;
  /** The staging folder: write every file of the version here. */
  readonly dir: string;
  /** Write manifest.json, publish the folder, point CURRENT at it. */
  publish(params?: Record<string, unknown>): Promise<CurrentVersion>;
  /** Remove the staging folder (on failure or interrupt). */
  abort(): Promise<void>;
}

/**
 * Start the next version of `channelDir` (created if missing). Exactly one of
 * `publish` / `abort` must follow; the build lock is held until then.
 */
export async function beginVersion(channelDir: string, channel: string): Promise<StagedVersion> {
  await mkdir(channelDir, { recursive: true });
  const release = await acquireLock(channelDir);
  try {
    // Staging folders are made under the lock: any found now belongs to a build that died.
    for (const name of await readdir(channelDir)) {
      if (STAGING_RE.test(name)) await rm(join(channelDir, name), { recursive: true, force: true });
    }
    const version = ((await listVersions(channelDir)).at(-1) ?? 0) + 1;
    const dir = join(channelDir, `.${versionName(version)}.staging-${process.pid}`);
    await mkdir(dir);
    const untrack = trackTemp(dir);
    let settled = false;
    const settle = async () => {
      settled = true;
      untrack();
      await release();
    };
    return {
      channel,
      version,
      dir,
      async publish(params = {}) {
        if (settled) throw new RecallError('ERR_RECALL_INTERNAL', 'version published or aborted twice');
        try {
          const files: ManifestFile[] = [];
          for (const f of await listFiles(dir)) {
            const headerCrc32c = await containerHeaderCrc(f);
            files.push({
              path: relative(dir, f).split(sep).join('/'),
              bytes: (await stat(f)).size,
              sha256: await sha256File(f),
              ...(headerCrc32c === null ? {} : { headerCrc32c }),
            });
          }
          const manifest: VersionManifest = { format: 'recall-version', formatVersion: 1, channel, version, params, files };
          // of the manifest as a reader will parse it back
          manifest.checksum = manifestChecksum(JSON.parse(JSON.stringify(manifest)) as VersionManifest);
          await writeFileAtomic(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
          const final = join(channelDir, versionName(version));
          await rename(dir, final);
          syncDir(channelDir);
          await writeFileAtomic(join(channelDir, CURRENT), currentLine(version, manifest));
          return { version, dir: final, manifest };
        } catch (e) {
          await rm(dir, { recursive: true, force: true });
          throw e;
        } finally {
          await settle();
        }
      },
      async abort() {
        if (settled) return;
        await rm(dir, { recursive: true, force: true });
        await settle();
      },
    };
  } catch (e) {
    await release();
    throw e;
  }
}

/**
 * Write the next version of `channelDir` with `write` (it fills the staging folder and returns the
 * version parameters and its own result), then publish it; any failure removes the staging folder.
 */
export async function inNewVersion<T>(
  channelDir: string,
  channel: string,
  write: (staged: StagedVersion) => Promise<{ params: Record<string, unknown>; result: T }>,
): Promise<T & { version: CurrentVersion }> {
  const staged = await beginVersion(channelDir, channel);
  try {
    const { params, result } = await write(staged);
    return { ...result, version: await staged.publish(params) };
  } catch (e) {
    await staged.abort();
    throw e;
  }
}
