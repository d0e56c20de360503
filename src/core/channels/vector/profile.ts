/**
 * The vector channel for `recall dqc`: per shard file the row count, ids held twice, and on a sample
 * of rows (the smallest routing hashes of their ids) the norms, non-finite values, each sampled row's
 * 10 nearest ids as the index answers, and the index's recall@10 against an exact scan of its rows.
 */
import { loadNative } from '../../native.js';
import { sampleByHash } from '../../routing/hash.js';
import { emptyShardProfile, type ProfileOptions, type ShardProfile } from '../driver.js';

/** Queries of the exact-scan comparison (each costs a pass over every row). */
const MAX_RECALL_QUERIES = 200;
const K = 10;

function exactTop(data: Float32Array, dim: number, q: Float32Array, metric: string, k: number): number[] {
  const n = data.length / dim;
  const qn = metric === 'cosine' ? Math.hypot(...q) || 1 : 1;
  const best: { i: number; d: number }[] = [];
  for (let i = 0; i < n; i++) {
    let d = 0;
    const off = i * dim;
    if (metric === 'l2') {
      for (let j = 0; j < dim; j++) {
        const x = data[off + j]! - q[j]!;
        d += x * x;
      }
    } else {
      let dot = 0;
      let nn = 0;
      for (let j = 0; j < dim; j++) {
        dot += data[off + j]! * q[j]!;
        nn += data[off + j]! * data[off + j]!;
      }
      d = metric === 'cosine' ? 1 - dot / ((Math.sqrt(nn) || 1) * qn) : -dot;
    }
    if (best.length < k || d < best[best.length - 1]!.d) {
      best.push({ i, d });
      best.sort((a, b) => a.d - b.d);
      if (best.length > k) best.pop();
    }
  }
  return best.map((b) => b.i);
}

export async function profileVector(files: string[], o: ProfileOptions): Promise<ShardProfile[]> {
  const native = loadNative();
  const out: ShardProfile[] = [];
  for (const [shard, file] of files.entries()) {
    const h = native.vectorOpen(file);
    const info = native.vectorInfo(h);
    const p: ShardProfile = emptyShardProfile(shard, file, { rows: info.n }, { norm: [] });
    out.push(p);
    const rows = native.vectorRows(h);
    if (!rows || info.n === 0) continue; // int8 without f32 rows: counts only
    const ids = rows.ids;
    p.duplicates = ids.length - new Set(ids).size;
    const pick = sampleByHash(
      BigInt64Array.from(ids, (x) => BigInt.asIntN(64, x)),
      o.sample,
    );
    const dim = info.dim;
    for (const i of pick) {
      const v = rows.data.subarray(i * dim, (i + 1) * dim);
      let s = 0;
      let finite = true;
      for (const x of v) {
        s += x * x;
        if (!Number.isFinite(x)) finite = false;
      }
      p.badOf++;
      if (!finite) p.badScores++;
      p.dists.norm!.push(Math.sqrt(s));
    }
    p.sampled = pick.length;
    const queries = new Float32Array(pick.length * dim);
    pick.forEach((i, j) => queries.set(rows.data.subarray(i * dim, (i + 1) * dim), j * dim));
    const k = Math.min(K, info.n);
    const r = await native.vectorSearch(h, queries, { k, ef: Math.max(64, k) });
    pick.forEach((i, j) => {
      // a negative id is an empty place (fewer than k found)
      const got = Array.from(r.ids.subarray(j * k, (j + 1) * k)).filter((x) => x >= 0n);
      p.top10.set(String(ids[i]!), got.map(String));
    });
    const nq = Math.min(pick.length, MAX_RECALL_QUERIES);
    let found = 0;
    let asked = 0;
    for (let j = 0; j < nq; j++) {
      const exact = new Set(exactTop(rows.data, dim, queries.subarray(j * dim, (j + 1) * dim), info.metric, k).map((x) => String(ids[x]!)));
      const got = p.top10.get(String(ids[pick[j]!]!))!;
      asked += exact.size;
      found += got.filter((x) => exact.has(x)).length;
    }
    p.graphRecall = asked ? found / asked : 1;
  }
  return out;
}
