/** A path that does not exist is a usage error (exit 2) naming the path, not a crash. */
import { existsSync } from 'node:fs';
import { usage } from '../errors.js';

/** Check a list of input paths (variadic arguments, repeatable flags). */
export function requireFiles(paths: string[]): string[] {
  for (const p of paths)
    if (!existsSync(p)) throw usage('ERR_RECALL_NO_SUCH_PATH', `${p}: no such file or directory`, { file: p, fix: 'check the path' });
  return paths;
}
