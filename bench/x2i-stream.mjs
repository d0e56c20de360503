#!/usr/bin/env node
// recall x2i stream, one micro-batch on a large state, side by side in one run with
//   - a plain TypeScript incremental implementation (same state, same affected-row rules), and
//   - rebuilding the batch lists (recall-core's cf::compute over every interaction).
// Zipf users and items; the base state is applied without lists and given the batch lists.
// Figures: time from the batch's arrival to durable WAL records, items touched, state bytes per
// interaction. Writes bench/results/x2i-stream.json.
//   X2I_STREAM_SIZE=interactions,users,items,batch (default 10000000,1000000,100000,100000)
//   X2I_STREAM_ALGO=cosine|swing|... (default cosine; the TypeScript floor is cosine only)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNative } from '../dist/core/native.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const [N, USERS, ITEMS, BATCH] = (process.env.X2I_STREAM_SIZE ?? '10000000,1000000,100000,100000').split(',').map(Number);
const ALGO = process.env.X2I_STREAM_ALGO ?? 'cosine';
const TOPK = 100;
const USER_CAP = 200;
const native = loadNative();
const log = (...a) => console.log(`[${(performance.now() / 1000).toFixed(1)} s]`, ...a);

// ------------------------------------------------------------- data: Zipf users and items
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function zipf(n, s) {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) cdf[k] = sum += 1 / (k + 1) ** s;
  for (let k = 0; k < n; k++) cdf[k] /= sum;
  return (u) => {
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (cdf[m] < u) lo = m + 1;
      else hi = m;
    }
    return lo;
  };
}
const rand = rng(42);
const userOf = zipf(USERS, 0.6);
const itemOf = zipf(ITEMS, 1.0);
function interactions(n, t0) {
  const user = new Uint32Array(n);
  const item = new Uint32Array(n);
  const ts = new Uint32Array(n);
  for (let k = 0; k < n; k++) {
    user[k] = userOf(rand());
    item[k] = itemOf(rand());
    ts[k] = 1767225600 + Math.floor((t0 + k) / 100);
  }
  return { user, item, ts };
}
const itemId = (i) => BigInt(i) * 7n + 1000n; // sparse ids, in ordinal order
/** User keys as one buffer of fixed-width decimal strings (what the stream passes to the state). */
function packUsers(user) {
  const off = new Uint32Array(user.length + 1);
  const bytes = new Uint8Array(user.length * 7);
  for (let k = 0; k < user.length; k++) {
    let u = user[k];
    for (let d = 6; d >= 0; d--) {
      bytes[k * 7 + d] = 48 + (u % 10);
      u = Math.floor(u / 10);
    }
    off[k + 1] = (k + 1) * 7;
  }
  return { off, bytes };
}
const idsOf = (item) => BigUint64Array.from(item, (i) => itemId(i));
const options = {
  algo: ALGO,
  topK: TOPK,
  minScore: 0,
  minCommon: 1,
  threads: 2,
  userCap: USER_CAP,
  minUserItems: 1,
  maxUserItems: 1000,
  itemUserCap: 200,
  seed: 0n,
};

// ------------------------------------------------------------- plain TypeScript incremental cosine
class TsCosine {
  hist = new Map(); // user -> Map(item -> ts)
  act = new Map(); // user -> sorted item array
  usersOf = Array.from({ length: ITEMS }, () => new Set());
  lists = Array.from({ length: ITEMS }, () => []);
  rev = Array.from({ length: ITEMS }, () => []);
  active(h) {
    let e = [...h.entries()];
    if (e.length > USER_CAP) e = e.sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, USER_CAP);
    return e.map((x) => x[0]).sort((a, b) => a - b);
  }
  apply(user, item, ts, recompute) {
    const dirty = new Set();
    for (let k = 0; k < user.length; k++) {
      let h = this.hist.get(user[k]);
      if (!h) this.hist.set(user[k], (h = new Map()));
      const t = h.get(item[k]);
      if (t === undefined || ts[k] > t) h.set(item[k], ts[k]);
      dirty.add(user[k]);
    }
    const affected = new Set();
    const dN = new Map();
    for (const u of dirty) {
      const next = this.active(this.hist.get(u));
      const old = this.act.get(u) ?? [];
      if (old.length === next.length && old.every((x, k) => x === next[k])) continue;
      const o = new Set(old);
      const n = new Set(next);
      for (const j of old) if (!n.has(j)) this.usersOf[j].delete(u), dN.set(j, (dN.get(j) ?? 0) - 1);
      for (const j of next) if (!o.has(j)) this.usersOf[j].add(u), dN.set(j, (dN.get(j) ?? 0) + 1);
      for (const j of old) affected.add(j);
      for (const j of next) affected.add(j);
      this.act.set(u, next);
    }
    if (!recompute) return [];
    for (const [j, d] of dN) {
      if (d > 0) {
        this.rev[j] = [...new Set(this.rev[j].filter((i) => this.lists[i].some((x) => x[0] === j)))];
        for (const i of this.rev[j]) affected.add(i);
      } else if (d < 0) for (const v of this.usersOf[j]) for (const x of this.act.get(v)) affected.add(x);
    }
    const cnt = new Uint32Array(ITEMS);
    const changed = [];
    for (const i of affected) {
      const touched = [];
      for (const u of this.usersOf[i])
        for (const j of this.act.get(u)) {
          if (cnt[j]++ === 0) touched.push(j);
        }
      const ni = this.usersOf[i].size;
      const cand = [];
      for (const j of touched) {
        if (j !== i) cand.push([j, Math.fround(cnt[j] * (1 / Math.sqrt(ni)) * (1 / Math.sqrt(this.usersOf[j].size)))]);
        cnt[j] = 0;
      }
      cand.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      const row = cand.slice(0, TOPK);
      const old = this.lists[i];
      if (old.length === row.length && old.every((x, k) => x[0] === row[k][0] && x[1] === row[k][1])) continue;
      for (const [j] of row) if (!old.some((x) => x[0] === j)) this.rev[j].push(i);
      this.lists[i] = row;
      changed.push(i);
    }
    return changed;
  }
  /** The changed lists as x2i upsert records. */
  records(changed) {
    const size = changed.reduce((s, i) => s + 12 + 12 * this.lists[i].length, 0);
    const payloads = new Uint8Array(size);
    const v = new DataView(payloads.buffer);
    const ends = new Uint32Array(changed.length);
    let at = 0;
    changed.forEach((i, r) => {
      const l = this.lists[i];
      v.setBigUint64(at, itemId(i), true);
      v.setUint32(at + 8, l.length, true);
      l.forEach(([j], k) => v.setBigUint64(at + 12 + 8 * k, itemId(j), true));
      l.forEach(([, s], k) => v.setFloat32(at + 12 + 8 * l.length + 4 * k, s, true));
      at += 12 + 12 * l.length;
      ends[r] = at;
    });
    return { ops: new Uint8Array(changed.length).fill(1), ends, payloads };
  }
}

function appendDurably(wal, ops, ends, payloads) {
  const w = native.walOpen(wal, { fsync: 'batch' });
  try {
    return native.walAppend(w.handle, ops, ends, payloads);
  } finally {
    native.walClose(w.handle);
  }
}

// ------------------------------------------------------------- run
const tmp = mkdtempSync(join(tmpdir(), 'recall-bench-stream-'));
try {
  log(`data: ${N} interactions, ${USERS} users, ${ITEMS} items (Zipf 0.6 / 1.0), batch ${BATCH}, ${ALGO}`);
  const base = interactions(N, 0);
  const batch = interactions(BATCH, N);
  // the base lists, by the batch computation
  const allUsers = new Uint32Array(base.user.length + batch.user.length);
  allUsers.set(base.user);
  allUsers.set(batch.user, base.user.length);
  const rss0 = process.memoryUsage().rss;
  const state = native.x2iStreamNew(options);
  const bu = packUsers(base.user);
  let t = performance.now();
  await native.x2iStreamApply(state, bu.off, bu.bytes, idsOf(base.item), base.ts, null, { recompute: false }, new Uint8Array(0));
  const loadMs = performance.now() - t;
  // Swing's sample keys, as the build passes them: each user ordinal's key, each item ordinal's id
  const allKeys = packUsers(Uint32Array.from({ length: USERS }, (_, u) => u));
  const sampleKeys = {
    userOff: allKeys.off,
    userBytes: allKeys.bytes,
    itemIds: BigUint64Array.from({ length: ITEMS }, (_, i) => itemId(i)),
  };
  t = performance.now();
  const rows = await native.x2iCompute(base.user, base.item, base.ts, null, USERS, ITEMS, options, undefined, sampleKeys);
  const baseComputeMs = performance.now() - t;
  // the lists of the items the base holds (an item never drawn has none)
  const seen = new Uint8Array(ITEMS);
  for (const i of base.item) seen[i] = 1;
  const keep = [...seen.keys()].filter((i) => seen[i]);
  const offs = new BigUint64Array(keep.length + 1);
  keep.forEach((i, r) => (offs[r + 1] = offs[r] + rows.rowOff[i + 1] - rows.rowOff[i]));
  const nb = [];
  const sc = [];
  for (const i of keep)
    for (let p = Number(rows.rowOff[i]); p < Number(rows.rowOff[i + 1]); p++) nb.push(itemId(rows.nb[p])), sc.push(rows.sc[p]);
  native.x2iStreamSetLists(
    state,
    BigUint64Array.from(keep, (i) => itemId(i)),
    offs,
    BigUint64Array.from(nb),
    Float32Array.from(sc),
  );
  const info0 = native.x2iStreamInfo(state);
  log(
    `state: ${info0.users} users, ${info0.items} items, ${info0.pairs} distinct pairs, ${(info0.heapBytes / 2 ** 20).toFixed(0)} MiB (${(info0.heapBytes / N).toFixed(1)} B/interaction); graph load ${(loadMs / 1000).toFixed(1)} s, batch lists ${(baseComputeMs / 1000).toFixed(1)} s`,
  );
  const rssState = process.memoryUsage().rss - rss0;

  // 1. the stream: arrival -> durable WAL records
  t = performance.now();
  const pu = packUsers(batch.user);
  const applied = await native.x2iStreamApply(
    state,
    pu.off,
    pu.bytes,
    idsOf(batch.item),
    batch.ts,
    null,
    { recompute: true },
    new TextEncoder().encode('{"bench":1}'),
  );
  const seqs = appendDurably(join(tmp, 'wal'), applied.ops, applied.ends, applied.payloads);
  const streamMs = performance.now() - t;
  log(
    `stream: ${applied.touched} lists recomputed (${applied.touchedByUsers} held by the batch's users), ${applied.keys.length} changed, ${seqs.last} records durable in ${streamMs.toFixed(0)} ms (apply ${(applied.seconds * 1000).toFixed(0)} ms)`,
  );

  // 2. rebuilding the batch lists over every interaction (compute only: no parquet read, no index write)
  const cat = (a, b) => {
    const c = new Uint32Array(a.length + b.length);
    c.set(a);
    c.set(b, a.length);
    return c;
  };
  const allItems = cat(base.item, batch.item);
  const allTs = cat(base.ts, batch.ts);
  t = performance.now();
  const full = await native.x2iCompute(allUsers, allItems, allTs, null, USERS, ITEMS, options, undefined, sampleKeys);
  const rebuildMs = performance.now() - t;
  log(`rebuild: ${(rebuildMs / 1000).toFixed(1)} s`);
  // the stream's lists equal the rebuild's (every item; ties may swap)
  const got = native.x2iStreamLists(state);
  let compared = 0;
  let differ = 0;
  const at = new Map();
  for (let r = 0; r < got.keys.length; r++) at.set(got.keys[r], r);
  for (let i = 0; i < ITEMS; i++) {
    const r = at.get(itemId(i));
    const a = r === undefined ? 0 : Number(got.offsets[r + 1] - got.offsets[r]);
    const b = Number(full.rowOff[i + 1] - full.rowOff[i]);
    compared++;
    if (a !== b) {
      differ++;
      continue;
    }
    for (let k = 0; k < a; k++) {
      const x = got.scores[Number(got.offsets[r]) + k];
      const y = full.sc[Number(full.rowOff[i]) + k];
      if (Math.abs(x - y) > 1e-6 * Math.max(Math.abs(x), Math.abs(y))) {
        differ++;
        break;
      }
    }
  }
  log(`check: ${compared} lists compared with the rebuild, ${differ} differ`);

  // 3. the plain TypeScript incremental implementation (cosine), same state, same batch
  let ts = null;
  if (ALGO === 'cosine' && process.env.X2I_STREAM_NO_TS !== '1') {
    const impl = new TsCosine();
    t = performance.now();
    impl.apply(base.user, base.item, base.ts, false);
    for (let i = 0; i < ITEMS; i++) {
      const row = [];
      for (let p = Number(rows.rowOff[i]); p < Number(rows.rowOff[i + 1]); p++) row.push([rows.nb[p], rows.sc[p]]);
      impl.lists[i] = row;
      for (const [j] of row) impl.rev[j].push(i);
    }
    const tsLoadMs = performance.now() - t;
    t = performance.now();
    const changed = impl.apply(batch.user, batch.item, batch.ts, true);
    const rec = impl.records(changed);
    appendDurably(join(tmp, 'wal-ts'), rec.ops, rec.ends, rec.payloads);
    const tsMs = performance.now() - t;
    ts = { ms: Math.round(tsMs), listsChanged: changed.length, loadSeconds: Math.round(tsLoadMs / 100) / 10 };
    log(`typescript: ${changed.length} changed, durable in ${tsMs.toFixed(0)} ms (load ${(tsLoadMs / 1000).toFixed(1)} s)`);
  }
  const result = {
    bench: 'x2i-stream',
    date: new Date().toISOString(),
    algo: ALGO,
    size: { interactions: N, users: USERS, items: ITEMS, batch: BATCH, topK: TOPK, userCap: USER_CAP },
    state: {
      ...info0,
      bytesPerInteraction: Math.round((info0.heapBytes / N) * 10) / 10,
      rssBytesPerInteraction: Math.round((rssState / N) * 10) / 10,
    },
    stream: {
      msToDurable: Math.round(streamMs),
      applyMs: Math.round(applied.seconds * 1000),
      itemsTouched: applied.touched,
      itemsTouchedByUsers: applied.touchedByUsers,
      listsChanged: applied.keys.length,
      usersChanged: applied.usersChanged,
      records: seqs.last,
    },
    rebuild: { ms: Math.round(rebuildMs), note: 'cf::compute over every interaction only (no parquet read, no index write)' },
    typescript: ts,
    ratios: {
      rebuildOverStream: Math.round((rebuildMs / streamMs) * 10) / 10,
      typescriptOverStream: ts ? Math.round((ts.ms / streamMs) * 10) / 10 : null,
    },
    check: { listsCompared: compared, listsDiffering: differ },
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(
    join(root, 'bench/results', `x2i-stream${ALGO === 'cosine' ? '' : `-${ALGO}`}.json`),
    `${JSON.stringify(result, null, 2)}\n`,
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
