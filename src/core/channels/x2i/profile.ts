/**
 * x2i for `recall dqc`: per shard file the exact key and edge counts, and on a sample of keys (the
 * smallest routing hashes, read from the SLOTS section) list lengths, scores, empty lists, items
 * listed twice and NaN / out-of-range scores, and each sampled key's top 10.
 */
import { loadNative } from '../../native.js';
import { sampleByHash } from '../../routing/hash.js';
import { emptyShardProfile, type ProfileOptions, type ShardProfile } from '../driver.js';

/** The container section of the NeighborHash slots: 16 bytes a slot (key, link | payload); all-zero is empty. */
const SECTION_SLOTS = 17;
/** Score values kept for the distribution (the first ones of the sampled lists). */
const MAX_SCORES = 50_000;

function slotKeys(file: string): BigInt64Array {
  const native = loadNative();
  const raw = native.containerReadSection(file, SECTION_SLOTS);
  if (!raw) return new BigInt64Array(0);
  const words = new BigUint64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8);
  const out: bigint[] = [0n]; // key 0 lives in its reserved slot; a lookup says whether it is stored
  for (let i = 0; i + 1 < words.length; i += 2) if (words[i]! !== 0n) out.push(BigInt.asIntN(64, words[i]!));
  return BigInt64Array.from(out);
}

export async function profileX2i(files: string[], o: ProfileOptions): Promise<ShardProfile[]> {
  const native = loadNative();
  return files.map((file, shard) => {
    const h = native.x2iOpen(file);
    const info = native.x2iInfo(h);
    const candidates = slotKeys(file);
    // a decoy key in the reserved slot is not stored: ask for a few more and keep the found ones
    const pick = sampleByHash(candidates, o.sample + 1);
    const keys = BigUint64Array.from(pick, (i) => BigInt.asUintN(64, candidates[i]!));
    const r = native.x2iLookup(h, keys, 0);
    const p: ShardProfile = emptyShardProfile(shard, file, { keys: info.keys, edges: info.edges }, { length: [], score: [] });
    const [lo, hi] = o.scoreRange ?? [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
    let at = 0;
    for (let j = 0; j < keys.length; j++) {
      const n = r.counts[j]!;
      if (r.found[j] === 1 && p.sampled < o.sample) {
        p.sampled++;
        p.dists.length!.push(n);
        if (n === 0) p.empty++;
        const items = new Set<bigint>();
        for (let x = at; x < at + n; x++) {
          items.add(r.items[x]!);
          const s = r.scores[x]!;
          p.badOf++;
          if (!Number.isFinite(s) || s < lo || s > hi) p.badScores++;
          if (p.dists.score!.length < MAX_SCORES) p.dists.score!.push(s);
        }
        if (items.size < n) p.duplicates++;
        p.top10.set(
          String(BigInt.asIntN(64, keys[j]!)),
          Array.from(r.items.subarray(at, at + Math.min(10, n)), (x) => String(BigInt.asIntN(64, x))),
        );
      }
      at += n;
    }
    return p;
  });
}
