/**
 * A path that does not exist is a usage error (exit 2) naming the path, not a crash; a path read
 * from a file recall wrote (a manifest) must stay inside its folder.
 */
import { existsSync } from 'node:fs';
import { usage } from '../errors.js';

/** Check a list of input paths (variadic arguments, repeatable flags). */
export function requireFiles(paths: string[]): string[] {
  for (const p of paths)
    if (!existsSync(p)) throw usage('ERR_RECALL_NO_SUCH_PATH', `${p}: no such file or directory`, { file: p, fix: 'check the path' });
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
