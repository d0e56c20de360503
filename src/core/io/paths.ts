/**
 * A path that does not exist is a usage error (exit 2) naming the path, not a crash; a path read
 * from a file recall wrote (a manifest) must stay inside its folder.
 */
import { statSync } from 'node:fs';
import { usage } from '../errors.js';

/**
 * Check a list of input paths (variadic arguments, repeatable flags): each exists and is a regular
 * file or a folder. A FIFO, socket or device is refused: reading one can block for ever.
 */
export function requireFiles(paths: string[]): string[] {
  for (const p of paths) {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) throw usage('ERR_RECALL_NO_SUCH_PATH', `${p}: no such file or directory`, { file: p, fix: 'check the path' });
    if (!st.isFile() && !st.isDirectory())
      throw usage('ERR_RECALL_NOT_A_FILE', `${p}: not a regular file (a FIFO, socket or device)`, {
        file: p,
        fix: 'write the data to a file first and pass that (- reads stdin where a command accepts it)',
      });
  }
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
