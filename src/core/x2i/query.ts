/**
 * `recall query x2i`: batch lookups against an x2i index file, version folder
 * or channel folder. Keys are routed to their shard with the routing hash
 * (the same function `recall shard` used), looked up in one native call per
 * shard, and answered in query order; missing keys are reported, not errors.
 */
import { badInput } from '../cli/errors.js';
import { readContainerInfo } from '../index/container.js';
import { resolveIndexFiles } from '../index/resolve.js';
import { loadNative, type X2iHandle } from '../native.js';
import { routeKeys } from '../routing/hash.js';
import { X2I_FILE_EXT } from './build.js';

export interface X2iAnswer {
  key: string;
  found: boolean;
  shard: number;
  items: { item: string; score: number }[];
}

export interface X2iQueryResult {
  index: string;
  version: number | null;
  shardCount: number;
  keys: number;
  found: number;
  missing: string[];
  results: X2iAnswer[];
  lookupMs: number;
}

/** The shard files of an index path, in shard order. */
const resolveIndex = (path: string) => resolveIndexFiles(path, X2I_FILE_EXT, 'an x2i');

export function parseKeys(text: string, source: string): bigint[] {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((k, row) => {
      try {
        return BigInt.asIntN(64, BigInt(k));
      } catch {
        throw badInput('ERR_RECALL_BAD_KEY', `${source}: key ${JSON.stringify(k)} is not an integer`, { file: source, row, fix: 'x2i keys are integers' });
      }
    });
}

export async function queryX2i(indexPath: string, keys: bigint[], top = 0): Promise<X2iQueryResult> {
  const native = loadNative();
  const { files, version } = await resolveIndex(indexPath);
  if (files.length === 0) throw badInput('ERR_RECALL_NOT_AN_INDEX', `${indexPath}: holds no x2i file`, { file: indexPath });
  const shardCount = files.length === 1 ? 1 : (await readContainerInfo(files[0])).header.shardCount;
  const shards = shardCount > 1 ? routeKeys(keys.map(String), 'int64', shardCount).map((r) => r.shard) : keys.map(() => 0);
  const t0 = process.hrtime.bigint();
  const answers: X2iAnswer[] = keys.map((k, i) => ({ key: String(k), found: false, shard: shards[i], items: [] }));
  const handles = new Map<number, X2iHandle>();
  for (let s = 0; s < files.length; s++) {
    const rows = answers.flatMap((a, i) => (a.shard === s ? [i] : []));
    if (rows.length === 0) continue;
    let h = handles.get(s);
    if (!h) handles.set(s, (h = native.x2iOpen(files[s])));
    const r = native.x2iLookup(h, BigUint64Array.from(rows, (i) => BigInt.asUintN(64, keys[i])), top);
    let at = 0;
    rows.forEach((row, j) => {
      answers[row].found = r.found[j] === 1;
      for (let n = 0; n < r.counts[j]; n++, at++) answers[row].items.push({ item: String(BigInt.asIntN(64, r.items[at])), score: r.scores[at] });
    });
  }
  const lookupMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const missing = answers.filter((a) => !a.found).map((a) => a.key);
  return { index: indexPath, version, shardCount, keys: keys.length, found: keys.length - missing.length, missing, results: answers, lookupMs };
}
