/** Reading what an `--index PATH` names while a dump may replace its version underneath. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CURRENT } from './versions.js';

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
