/**
 * Leftovers of killed ingests: parquet files no commit record names, and temp files. Every ingest
 * holds the flock of STORE/ingests/<id>.lock from before its first file until after its commit,
 * so an ingest's files are known dead exactly when that lock can be taken and no commit record
 * names it. Files of ingests that left no lock file (written before ingests took one) are removed
 * only past a grace period. Committed files are never touched.
 */
import { existsSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { tryLock } from '../../io/lock.js';
import { COMMITS, INGESTS, type StoreView } from './layout.js';

/** For stores with ingests that took no lock: older than this, an uncommitted file is dead. */
export const LEGACY_GRACE_MS = 60 * 60 * 1000;

/** `<id>.parquet`, `.<id>.parquet.tmp-...`, `.<id>.json.tmp-...` -> the ingest id; null for other files. */
export function ingestOfFile(name: string): { id: string; temp: boolean } | null {
  const t = /^\.(.+)\.(?:parquet|json)\.tmp-/.exec(name);
  if (t) return { id: t[1]!, temp: true };
  const p = /^([^.].*)\.parquet$/.exec(name);
  return p ? { id: p[1]!, temp: false } : null;
}

async function walk(dir: string, out: string[]): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else out.push(p);
  }
}

/**
 * Remove what dead, uncommitted ingests left. Skips (returns 0) while another collection runs.
 * Returns the number of files removed.
 */
export async function collectOrphans(view: StoreView, now = Date.now()): Promise<number> {
  const dir = view.dir;
  if (!existsSync(dir)) return 0;
  const store = tryLock(join(dir, '.gc.lock'));
  if (!('release' in store)) return 0;
  try {
    const committed = new Set(view.commits.map((c) => c.ingestId));
    const files: string[] = [];
    for (const sub of ['profiles', 'samples', 'stacks', COMMITS]) await walk(join(dir, sub), files);
    const byIngest = new Map<string, Array<{ path: string; temp: boolean }>>();
    for (const path of files) {
      const who = ingestOfFile(path.slice(path.lastIndexOf('/') + 1));
      if (!who || (committed.has(who.id) && !who.temp)) continue;
      let list = byIngest.get(who.id);
      if (!list) byIngest.set(who.id, (list = []));
      list.push({ path, temp: who.temp });
    }
    // Lock files of dead ingests that wrote nothing yet are leftovers too.
    let locks: string[] = [];
    try {
      locks = (await readdir(join(dir, INGESTS))).filter((n) => n.endsWith('.lock'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    for (const n of locks) if (!byIngest.has(n.slice(0, -5))) byIngest.set(n.slice(0, -5), []);
    let removed = 0;
    for (const [id, list] of byIngest) {
      const lockFile = join(dir, INGESTS, `${id}.lock`);
      if (!existsSync(lockFile)) {
        // No lock file: an ingest of an older recall, alive or not; only old files go.
        for (const f of list) {
          const age = now - (await stat(f.path).catch(() => ({ mtimeMs: now }))).mtimeMs;
          if (age >= LEGACY_GRACE_MS && !existsSync(join(dir, COMMITS, `${id}.json`))) {
            await rm(f.path, { force: true });
            removed++;
          }
        }
        continue;
      }
      const held = tryLock(lockFile);
      if (!('release' in held)) continue; // alive
      try {
        // It may have committed between the listing and the lock: then only its temps are dead.
        const done = existsSync(join(dir, COMMITS, `${id}.json`));
        for (const f of list)
          if (f.temp || !done) {
            await rm(f.path, { force: true });
            removed++;
          }
      } finally {
        held.release(); // removes the lock file too
      }
    }
    return removed;
  } finally {
    store.release();
  }
}
