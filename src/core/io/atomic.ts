/**
 * Crash-safe output: every file is written under a temp name beside its
 * target, fsynced, then renamed over it (and the folder fsynced), so readers
 * see the old file or the whole new one. Temp paths in flight are tracked so
 * an interrupted command can remove them before it exits.
 */
import { closeSync, fsyncSync, openSync, rmSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

const inFlight = new Set<string>();
let counter = 0;
// The pid alone is not unique on a shared volume: two pods of one Job both run as pid 1.
const nonce = randomBytes(4).toString('hex');

export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${nonce}-${counter++}`);
}

/** Remove every temp file or folder still in flight (SIGINT path; sync on purpose). */
export function removeInFlight(): void {
  for (const p of inFlight) rmSync(p, { recursive: true, force: true });
  inFlight.clear();
}

export function trackTemp(path: string): () => void {
  inFlight.add(path);
  return () => inFlight.delete(path);
}

/**
 * fsync a file that another writer (DuckDB, a join) finished, in the thread pool: start it as
 * soon as the file is final and await it before the rename that publishes it.
 */
export async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync a folder so a rename in it survives a crash (best effort). */
export function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some file systems refuse to fsync a directory; the rename is still atomic
  }
}

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const temp = tempPathFor(target);
  const untrack = trackTemp(temp);
  try {
    const fh = await open(temp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, target);
    syncDir(dirname(target));
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  } finally {
    untrack();
  }
}
