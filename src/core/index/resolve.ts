/**
 * What an `--index PATH` names: one index file, a version folder (its
 * manifest lists the files) or a channel folder (its CURRENT version).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { badInput, usage } from '../errors.js';
import { CURRENT, MANIFEST, readCurrent, readManifest } from './versions.js';

/** The index files (ending in `ext`) of `path`, sorted (= shard order), and the version they belong to. */
export async function resolveIndexFiles(path: string, ext: string, what: string): Promise<{ files: string[]; version: number | null }> {
  const st = await stat(path).catch(() => {
    throw usage('ERR_RECALL_NO_SUCH_PATH', `${path}: no such file or directory`, { file: path, fix: 'check --index' });
  });
  if (st.isFile()) return { files: [path], version: null };
  const names = await readdir(path);
  if (names.includes(CURRENT)) {
    const cur = await readCurrent(path);
    if (!cur) throw badInput('ERR_RECALL_NO_VERSION', `${path}: no published version`, { file: path });
    return {
      files: cur.manifest.files
        .filter((f) => f.path.endsWith(ext))
        .map((f) => join(cur.dir, f.path))
        .sort(),
      version: cur.version,
    };
  }
  if (names.includes(MANIFEST)) {
    const m = await readManifest(path);
    return {
      files: m.files
        .filter((f) => f.path.endsWith(ext))
        .map((f) => join(path, f.path))
        .sort(),
      version: m.version,
    };
  }
  throw badInput('ERR_RECALL_NOT_AN_INDEX', `${path}: neither ${what} file nor a version or channel folder`, {
    file: path,
    fix: `pass the --out folder of \`recall build\`, or one of its ${ext} files`,
  });
}

/** Attempts of a read whose version was replaced under it (by a dump or build that then pruned it). */
const READ_ATTEMPTS = 3;

/**
 * Run `read` (which resolves `path` and opens what it names) again when it failed while the
 * channel's CURRENT moved: a query that read CURRENT just before `dump --keep` removed that version
 * answers from the new one instead of failing. A failure with CURRENT unchanged is the answer.
 */
export async function retryOnNewCurrent<T>(path: string, read: () => Promise<T>): Promise<T> {
  const current = () => readFile(join(path, CURRENT), 'utf8').catch(() => null);
  for (let attempt = 1; ; attempt++) {
    const before = await current();
    try {
      return await read();
    } catch (e) {
      if (before === null || attempt >= READ_ATTEMPTS || (await current()) === before) throw e;
    }
  }
}
