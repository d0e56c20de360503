/** `--keys 1,2,3` or `--keys-file FILE` (`-` for stdin): the raw key text and where it came from. */
import { readFile } from 'node:fs/promises';
import { requireFiles } from '../../core/io/paths.js';
import { text } from 'node:stream/consumers';
import { usage } from '../../core/errors.js';

export interface KeysSource {
  raw: string;
  /** `--keys`, or the file name (`-` for stdin), for error messages. */
  source: string;
}

export async function readKeysFlags(
  flags: { keys?: string; 'keys-file'?: string },
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<KeysSource> {
  if (flags.keys !== undefined) return { raw: flags.keys, source: '--keys' };
  const file = flags['keys-file'];
  if (file !== undefined) return { raw: file === '-' ? await text(stdin) : await readFile(requireFiles([file])[0]!, 'utf8'), source: file };
  throw usage('ERR_RECALL_NO_KEYS', 'no keys given', { fix: 'pass --keys 1,2,3 or --keys-file FILE' });
}
