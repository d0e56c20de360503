/**
 * The profile store on disk: plain Parquet under one folder, readable by DuckDB,
 * ClickHouse or Spark (docs/profile-store.md).
 *
 *   STORE/profiles/app=A/day=YYYY-MM-DD/<ingest>.parquet   one row per profile (pod capture)
 *   STORE/samples/app=A/day=YYYY-MM-DD/<ingest>.parquet    profile_id, stack_id, value, count
 *   STORE/stacks/<ingest>.parquet                          stack_id -> frames (content hash, shared)
 *   STORE/commits/<ingest>.json                            the commit record, written last
 *   STORE/regressions.json                                 regression lifecycle (scan state)
 *   STORE/ingests/<ingest>.lock                            flock'd while that ingest runs (gc.ts)
 *
 * Crash and concurrency scheme: every ingest writes only files named after its own unique ingest
 * id (temp name, fsync, rename), then its commit record by atomic rename. Readers list the commit
 * records and read only the files they name, so a killed ingest leaves unreferenced files at worst
 * (the next ingest removes them, gc.ts) and two concurrent ingests never touch the same file. A
 * profile id is a hash of the source's sha256 and its labels; when two commits hold the same id,
 * the first commit (by name) wins.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { badInput } from '../../errors.js';

export interface CommitRecord {
  version: 1;
  ingestId: string;
  /** ISO time of the commit. */
  committed: string;
  /** Store-relative parquet paths of this ingest. */
  files: { profiles: string[]; samples: string[]; stacks: string[] };
  profiles: Array<{ id: string; source: string; sha256: string; labels: Record<string, string> }>;
}

export interface StoreView {
  dir: string;
  commits: CommitRecord[];
  /** profile id -> the ingest that owns it (first commit wins). */
  owner: Map<string, string>;
  files: { profiles: string[]; samples: string[]; stacks: string[] };
}

export const COMMITS = 'commits';
/** Lock files of running ingests (gc.ts). */
export const INGESTS = 'ingests';

/** Partition value: safe in a path, readable in a listing. */
export const partition = (v: string): string => encodeURIComponent(v).replaceAll('%20', '+');

export function newIngestId(now = new Date()): string {
  const t = now.toISOString().replace(/[-:.]/g, '').replace('T', '-').replace('Z', '');
  return `${t}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

/** The committed state of a store (an absent folder is an empty store). */
export async function openStore(dir: string): Promise<StoreView> {
  let names: string[] = [];
  try {
    names = (await readdir(join(dir, COMMITS))).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const commits: CommitRecord[] = [];
  for (const n of names) {
    const path = join(dir, COMMITS, n);
    let rec: CommitRecord;
    try {
      rec = JSON.parse(await readFile(path, 'utf8')) as CommitRecord;
    } catch (e) {
      throw badInput('ERR_RECALL_STORE', `${path}: damaged commit record (${(e as Error).message})`, {
        file: path,
        fix: 'remove the file: its ingest is then not part of the store',
      });
    }
    commits.push(rec);
  }
  const owner = new Map<string, string>();
  const files = { profiles: [] as string[], samples: [] as string[], stacks: [] as string[] };
  for (const c of commits) {
    for (const p of c.profiles) if (!owner.has(p.id)) owner.set(p.id, c.ingestId);
    for (const k of ['profiles', 'samples', 'stacks'] as const) files[k].push(...c.files[k].map((f) => join(dir, f)));
  }
  return { dir, commits, owner, files };
}
