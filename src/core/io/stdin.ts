/** `-` as a file name means standard input, for every file input that is read whole. */
import { readFile } from 'node:fs/promises';
import { buffer } from 'node:stream/consumers';

export const STDIN = '-';

/** The bytes of `path`, or of standard input for `-`. */
export async function readInputBytes(path: string): Promise<Buffer> {
  return path === STDIN ? buffer(process.stdin) : readFile(path);
}

/** The text of `path`, or of standard input for `-`. */
export async function readInputText(path: string): Promise<string> {
  return (await readInputBytes(path)).toString('utf8');
}

/** How a path is named in messages. */
export const inputName = (path: string): string => (path === STDIN ? 'stdin' : path);
