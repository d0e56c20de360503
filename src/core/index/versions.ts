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
 */
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { badInput, RecallError } from '../errors.js';
import { syncDir, trackTemp, writeFileAtomic } from '../io/atomic.js';
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
}

export interface VersionManifest {
  format: 'recall-version';
  formatVersion: 1;
  channel: string;
  version: number;
  /** Build parameters, channel specific (shard count, hash, metric, ...). */
  params: Record<string, unknown>;
  files: ManifestFile[];
}

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
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const name = text.trim();
  if (!VERSION_RE.test(name)) {
    throw badInput(
      'ERR_RECALL_CORRUPT',
      `${currentPath}: expected a version name like v00000001, found ${JSON.stringify(name.slice(0, 40))}`,
      {
        file: currentPath,
        fix: 'write the live version name into CURRENT, or rebuild',
      },
    );
  }
  const dir = join(channelDir, name);
  return { version: Number(name.slice(1)), dir, manifest: await readManifest(dir) };
}

export async function readManifest(versionDir: string): Promise<VersionManifest> {
  const file = join(versionDir, MANIFEST);
  let m: VersionManifest;
  try {
    m = JSON.parse(await readFile(file, 'utf8')) as VersionManifest;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw badInput(
      code === 'ENOENT' ? 'ERR_RECALL_MISSING' : 'ERR_RECALL_CORRUPT',
      `${file}: ${code === 'ENOENT' ? 'missing' : 'not valid JSON'}`,
      {
        file,
        fix: 'the version is incomplete or damaged: rebuild it',
        cause: e,
      },
    );
  }
  if (m.format !== 'recall-version' || !Array.isArray(m.files)) {
    throw badInput('ERR_RECALL_CORRUPT', `${file}: not a recall version manifest`, { file });
  }
  const outside = m.files.find((f) => !isInsidePath(f?.path));
  if (outside) {
    throw badInput('ERR_RECALL_CORRUPT', `${file}: files[].path ${JSON.stringify(outside?.path)} is not a path inside the version folder`, {
      file,
      fix: 'the manifest was edited or damaged: rebuild the version',
    });
  }
  return m;
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
            files.push({ path: relative(dir, f).split(sep).join('/'), bytes: (await stat(f)).size, sha256: await sha256File(f) });
          }
          const manifest: VersionManifest = { format: 'recall-version', formatVersion: 1, channel, version, params, files };
          await writeFileAtomic(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
          const final = join(channelDir, versionName(version));
          await rename(dir, final);
          syncDir(channelDir);
          await writeFileAtomic(join(channelDir, CURRENT), `${versionName(version)}\n`);
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
