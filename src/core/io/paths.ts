/**
 * Paths named on the command line: one that does not exist, or is a folder where a file is
 * expected (or the reverse), or a FIFO, socket or device (reading one can block for ever), is a
 * usage error (exit 2) naming the path, not a crash or a hang. A path read from a file recall wrote
 * (a manifest) must stay inside its folder.
 */
import { statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { usage } from '../errors.js';

/**
 * Check a list of input paths (variadic arguments, repeatable flags): each exists and is a regular
 * file or a folder. A FIFO, socket or device is refused: reading one can block for ever.
 */
export function requireFiles(paths: string[]): string[] {
  for (const p of paths) {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) throw usage('ERR_RECALL_NO_SUCH_PATH', `${p}: no such file or directory`, { file: p, fix: 'check the path' });
    if (!st.isFile() && !st.isDirectory()) throw notRegular(p);
  }
  return paths;
}

const notRegular = (p: string) =>
  usage('ERR_RECALL_NOT_A_FILE', `${p}: not a regular file (a FIFO, socket or device)`, {
    file: p,
    fix: 'write the data to a file first and pass that (- reads stdin where a command accepts it)',
  });

/** Remote URLs (s3://, https://, ...) are not read: recall reads local files only. */
export function refuseRemote(path: string, flag = 'the path'): void {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(path);
  if (m && m[1]!.toLowerCase() !== 'file')
    throw usage('ERR_RECALL_REMOTE_PATH', `${path}: ${m[1]}:// is not supported; recall reads local files`, {
      file: path,
      fix: `copy the files to a local or mounted folder and pass that as ${flag}`,
    });
}

/** What the path must be: a file, a folder, or either (a parquet input: a file or a folder of files). */
type Kind = 'file' | 'folder' | 'any';

function check(path: string, st: { isDirectory(): boolean; isFile(): boolean } | undefined, kind: Kind, flag: string): string {
  if (!st) throw usage('ERR_RECALL_NO_SUCH_PATH', `${path}: no such file or directory`, { file: path, fix: `check ${flag}` });
  if (!st.isFile() && !st.isDirectory()) throw notRegular(path);
  if (kind === 'file' && st.isDirectory())
    throw usage('ERR_RECALL_NOT_A_FILE', `${path}: is a folder, a file is expected`, { file: path, fix: `pass a file as ${flag}` });
  if (kind === 'folder' && !st.isDirectory())
    throw usage('ERR_RECALL_NOT_A_FOLDER', `${path}: is a file, a folder is expected`, { file: path, fix: `pass a folder as ${flag}` });
  return path;
}

/** `path` exists and is a file (or a folder): exit 2 naming it otherwise. `-` (stdin) passes. */
export async function requirePath(path: string, kind: Kind, flag = 'the path'): Promise<string> {
  if (path === '-') return path;
  refuseRemote(path, flag);
  return check(path, await stat(path).catch(() => undefined), kind, flag);
}

export function requirePathSync(path: string, kind: Kind, flag = 'the path'): string {
  if (path === '-') return path;
  refuseRemote(path, flag);
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(path);
  } catch {
    st = undefined;
  }
  return check(path, st, kind, flag);
}

/** Each path exists and is a file (a folder named as a file input is exit 2, not EISDIR). */
export function requireInputFiles(paths: string[], flag = 'the path'): string[] {
  for (const p of paths) requirePathSync(p, 'file', flag);
  return paths;
}

/**
 * A '/'-separated path inside its folder: relative, no empty, `.` or `..` segment, no backslash or
 * NUL (a manifest edited to name `../other/file` or `/etc/passwd` must not be read or listed).
 */
export function isInsidePath(p: string): boolean {
  if (typeof p !== 'string' || p === '' || p.startsWith('/') || /[\\\0]/.test(p)) return false;
  return p.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}
