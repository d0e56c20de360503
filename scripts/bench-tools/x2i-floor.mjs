// Naive JS item-CF and Swing: correctness (brute force vs fast) and the timing floor of `recall bench x2i`.
// node --expose-gc x2i-floor.mjs <data.bin> <algo> [opts as k=v]
//   algo: itemcf-map | itemcf-csr | itemcf-iuf-csr | itemcf-decay-csr | swing-csr | selftest
//   opts: topk=50 userCap=200 (most recent items kept per user) itemUserCap=200 (Swing users per item)
//         alpha1=15 alpha2=0 beta=0.3 (Swing, Flink ML defaults) normPow=0 decayHours=24
import fs from 'node:fs';
const [file, algo, ...rest] = process.argv.slice(2);
const opt = Object.fromEntries(rest.map((x) => x.split('=')).map(([k, v]) => [k, +v]));
const TOPK = opt.topk ?? 50,
  USER_CAP = opt.userCap ?? 200,
  ITEM_USER_CAP = opt.itemUserCap ?? 200;
const A1 = opt.alpha1 ?? 15,
  A2 = opt.alpha2 ?? 0,
  BETA = opt.beta ?? 0.3,
  DECAY_H = opt.decayHours ?? 24;
const NORM_POW = opt.normPow ?? 0; // Swing only: divide s(i,j) by |U_j|^normPow (0 = paper/Flink ML definition)
const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};
const now = () => Number(process.hrtime.bigint()) / 1e9;

export function load(file) {
  const buf = fs.readFileSync(file);
  const nl = buf.indexOf(10);
  const h = JSON.parse(buf.subarray(0, nl).toString());
  const N = h.interactions,
    off = nl + 1;
  const ab = buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + off + 12 * N);
  return { h, user: new Int32Array(ab, 0, N), item: new Int32Array(ab, 4 * N, N), ts: new Uint32Array(ab, 8 * N, N) };
}
// CSR user -> (item, ts) deduplicated (keep latest ts), most recent USER_CAP kept, then sorted by item id.
export function userCSR(d, U, cap) {
  const cnt = new Int32Array(U + 1);
  for (let k = 0; k < d.user.length; k++) cnt[d.user[k] + 1]++;
  for (let u = 0; u < U; u++) cnt[u + 1] += cnt[u];
  const pos = cnt.slice();
  const it = new Int32Array(d.user.length),
    t = new Uint32Array(d.user.length);
  for (let k = 0; k < d.user.length; k++) {
    const p = pos[d.user[k]]++;
    it[p] = d.item[k];
    t[p] = d.ts[k];
  }
  const off = new Int32Array(U + 1);
  const outI = [],
    outT = [];
  for (let u = 0; u < U; u++) {
    const m = new Map();
    for (let p = cnt[u]; p < cnt[u + 1]; p++) {
      const o = m.get(it[p]);
      if (o === undefined || t[p] > o) m.set(it[p], t[p]);
    }
    let e = [...m.entries()];
    if (e.length > cap) {
      e.sort((a, b) => b[1] - a[1]);
      e = e.slice(0, cap);
    }
    e.sort((a, b) => a[0] - b[0]);
    for (const [i, tt] of e) {
      outI.push(i);
      outT.push(tt);
    }
    off[u + 1] = outI.length;
  }
  return { off, item: Int32Array.from(outI), ts: Uint32Array.from(outT) };
}
export function itemCSR(uc, U, I) {
  // item -> users
  const cnt = new Int32Array(I + 1);
  for (let k = 0; k < uc.item.length; k++) cnt[uc.item[k] + 1]++;
  for (let i = 0; i < I; i++) cnt[i + 1] += cnt[i];
  const pos = cnt.slice();
  const us = new Int32Array(uc.item.length),
    ts = new Uint32Array(uc.item.length);
  for (let u = 0; u < U; u++)
    for (let p = uc.off[u]; p < uc.off[u + 1]; p++) {
      const q = pos[uc.item[p]]++;
      us[q] = u;
      ts[q] = uc.ts[p];
    }
  return { off: cnt, user: us, ts };
}
// top-k extraction from a dense accumulator + touched list
function topk(acc, touched, n, k, self, outIdx, outScore) {
  const cand = [];
  for (let q = 0; q < n; q++) {
    const j = touched[q];
    if (j !== self) cand.push(j);
  }
  cand.sort((a, b) => acc[b] - acc[a] || a - b);
  const m = Math.min(k, cand.length);
  for (let q = 0; q < m; q++) {
    outIdx.push(cand[q]);
    outScore.push(acc[cand[q]]);
  }
  return m;
}
// Item-CF, Gustavson row-by-row with a dense accumulator (no pair map).
// variant: 'cos' -> sum_u 1 / sqrt(|U_i||U_j|); 'iuf' -> sum_u 1/log(1+|I_u|) / sqrt(...); 'decay' -> sum_u 1/(1+|dt|/DECAY_H h) / sqrt(...)
export function itemcfCSR(uc, ic, U, I, variant, k = TOPK) {
  const acc = new Float64Array(I),
    mark = new Uint8Array(I),
    touched = new Int32Array(I);
  const nI = new Float64Array(I);
  for (let i = 0; i < I; i++) nI[i] = ic.off[i + 1] - ic.off[i];
  const uw = new Float64Array(U);
  for (let u = 0; u < U; u++) {
    const n = uc.off[u + 1] - uc.off[u];
    uw[u] = variant === 'iuf' ? 1 / Math.log(1 + n) : 1;
  }
  const rowOff = new Int32Array(I + 1),
    nb = [],
    sc = [];
  let pairs = 0;
  for (let i = 0; i < I; i++) {
    let nt = 0;
    for (let p = ic.off[i]; p < ic.off[i + 1]; p++) {
      const u = ic.user[p],
        ti = ic.ts[p],
        w = uw[u];
      for (let q = uc.off[u]; q < uc.off[u + 1]; q++) {
        const j = uc.item[q];
        let x = w;
        if (variant === 'decay') x = 1 / (1 + Math.abs(uc.ts[q] - ti) / (3600 * DECAY_H));
        if (!mark[j]) {
          mark[j] = 1;
          acc[j] = 0;
          touched[nt++] = j;
        }
        acc[j] += x;
        pairs++;
      }
    }
    for (let q = 0; q < nt; q++) {
      const j = touched[q];
      acc[j] /= Math.sqrt(nI[i] * nI[j]);
    }
    topk(acc, touched, nt, k, i, nb, sc);
    rowOff[i + 1] = nb.length;
    for (let q = 0; q < nt; q++) mark[touched[q]] = 0;
  }
  return { rowOff, nb: Int32Array.from(nb), sc: Float32Array.from(sc), pairs };
}
// The "first thing anyone writes": one Map per item row, symmetric pairs per user.
export function itemcfMap(uc, ic, U, I, k = TOPK) {
  const rows = Array.from({ length: I }, () => new Map());
  let pairs = 0;
  for (let u = 0; u < U; u++) {
    const a = uc.off[u],
      b = uc.off[u + 1];
    for (let p = a; p < b; p++) {
      const i = uc.item[p],
        r = rows[i];
      for (let q = a; q < b; q++) {
        if (q === p) continue;
        const j = uc.item[q];
        r.set(j, (r.get(j) || 0) + 1);
        pairs++;
      }
    }
  }
  const rowOff = new Int32Array(I + 1),
    nb = [],
    sc = [];
  for (let i = 0; i < I; i++) {
    const ni = ic.off[i + 1] - ic.off[i];
    const e = [...rows[i].entries()].map(([j, c]) => [j, c / Math.sqrt(ni * (ic.off[j + 1] - ic.off[j]))]);
    e.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
    for (const [j, s] of e.slice(0, k)) {
      nb.push(j);
      sc.push(s);
    }
    rowOff[i + 1] = nb.length;
    rows[i] = null;
  }
  return { rowOff, nb: Int32Array.from(nb), sc: Float32Array.from(sc), pairs };
}
// Swing (item-centric, as Flink ML): s(i,j) = sum_{u<v in U_i ∩ U_j} w_u w_v / (alpha2 + |I_u ∩ I_v|),
// w_u = (alpha1 + |I_u|)^-beta; U_i capped to the first itemUserCap users in a seeded shuffle.
export function swingCSR(uc, ic, U, I, k = TOPK, cap = ITEM_USER_CAP) {
  const w = new Float64Array(U);
  for (let u = 0; u < U; u++) w[u] = Math.pow(A1 + (uc.off[u + 1] - uc.off[u]), -BETA);
  const acc = new Float64Array(I),
    mark = new Uint8Array(I),
    touched = new Int32Array(I),
    inter = new Int32Array(USER_CAP + 1);
  let s = 12345;
  const rnd = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  const rowOff = new Int32Array(I + 1),
    nb = [],
    sc = [];
  let userPairs = 0,
    interOps = 0;
  for (let i = 0; i < I; i++) {
    let us = Array.from(ic.user.subarray(ic.off[i], ic.off[i + 1]));
    if (us.length > cap) {
      for (let a = us.length - 1; a > 0; a--) {
        const b = Math.floor(rnd() * (a + 1));
        [us[a], us[b]] = [us[b], us[a]];
      }
      us = us.slice(0, cap);
    }
    let nt = 0;
    for (let x = 0; x < us.length; x++) {
      const u = us[x],
        ua = uc.off[u],
        ub = uc.off[u + 1];
      for (let y = x + 1; y < us.length; y++) {
        const v = us[y];
        let p = ua,
          q = uc.off[v];
        const qb = uc.off[v + 1];
        let c = 0;
        while (p < ub && q < qb) {
          const a = uc.item[p],
            b = uc.item[q];
          if (a === b) {
            inter[c++] = a;
            p++;
            q++;
          } else if (a < b) p++;
          else q++;
        }
        interOps += ub - ua + (qb - uc.off[v]);
        userPairs++;
        if (c < 2) continue; // only i itself in common
        const contrib = (w[u] * w[v]) / (A2 + c);
        for (let z = 0; z < c; z++) {
          const j = inter[z];
          if (j === i) continue;
          if (!mark[j]) {
            mark[j] = 1;
            acc[j] = 0;
            touched[nt++] = j;
          }
          acc[j] += contrib;
        }
      }
    }
    if (NORM_POW)
      for (let q = 0; q < nt; q++) {
        const j = touched[q];
        acc[j] /= Math.pow(ic.off[j + 1] - ic.off[j], NORM_POW);
      }
    topk(acc, touched, nt, k, i, nb, sc);
    rowOff[i + 1] = nb.length;
    for (let q = 0; q < nt; q++) mark[touched[q]] = 0;
  }
  return { rowOff, nb: Int32Array.from(nb), sc: Float32Array.from(sc), pairs: userPairs, interOps };
}
// ---- brute-force references straight from the definitions (small data only)
function bruteItemCF(uc, ic, U, I) {
  const sets = [];
  for (let i = 0; i < I; i++) sets.push(new Set(ic.user.subarray(ic.off[i], ic.off[i + 1])));
  const S = new Map();
  for (let i = 0; i < I; i++)
    for (let j = 0; j < I; j++) {
      if (i === j) continue;
      let c = 0;
      for (const u of sets[i]) if (sets[j].has(u)) c++;
      if (c) S.set(i * I + j, c / Math.sqrt(sets[i].size * sets[j].size));
    }
  return S;
}
function bruteSwing(uc, ic, U, I) {
  const items = [];
  for (let u = 0; u < U; u++) items.push(new Set(uc.item.subarray(uc.off[u], uc.off[u + 1])));
  const w = (u) => Math.pow(A1 + items[u].size, -BETA);
  const S = new Map();
  for (let i = 0; i < I; i++)
    for (let j = 0; j < I; j++) {
      if (i === j) continue;
      const common = [];
      for (let u = 0; u < U; u++) if (items[u].has(i) && items[u].has(j)) common.push(u);
      let s = 0;
      for (let x = 0; x < common.length; x++)
        for (let y = x + 1; y < common.length; y++) {
          const u = common[x],
            v = common[y];
          let c = 0;
          for (const t of items[u]) if (items[v].has(t)) c++;
          s += (w(u) * w(v)) / (A2 + c);
        }
      if (s) S.set(i * I + j, s);
    }
  return S;
}
function compare(res, S, I, name) {
  let checked = 0,
    bad = 0;
  for (let i = 0; i < I; i++) {
    // every neighbour we output must carry the reference score, and top-1 must be the reference max
    let best = 0;
    for (let j = 0; j < I; j++) best = Math.max(best, S.get(i * I + j) || 0);
    for (let p = res.rowOff[i]; p < res.rowOff[i + 1]; p++) {
      checked++;
      const ref = S.get(i * I + res.nb[p]) || 0;
      if (Math.abs(ref - res.sc[p]) > 1e-5 * Math.max(1, ref)) bad++;
    }
    if (res.rowOff[i + 1] > res.rowOff[i] && Math.abs(res.sc[res.rowOff[i]] - best) > 1e-5 * Math.max(1, best)) bad++;
  }
  console.log(JSON.stringify({ selftest: name, checked, bad }));
  if (bad) process.exitCode = 1;
}
// ---- evaluation against the planted truth
function evaluate(res, truth, I, ic) {
  if (!truth.pairs.length) return {};
  let hit10 = 0,
    hit50 = 0,
    n = 0;
  for (const [a, b] of truth.pairs)
    for (const [x, y] of [
      [a, b],
      [b, a],
    ]) {
      n++;
      for (let p = res.rowOff[x], r = 0; p < res.rowOff[x + 1]; p++, r++)
        if (res.nb[p] === y) {
          if (r < 10) hit10++;
          hit50++;
          break;
        }
    }
  let same = 0,
    tot = 0,
    popSum = 0;
  for (let i = 0; i < I; i++) {
    if (ic.off[i + 1] - ic.off[i] < 5) continue;
    for (let p = res.rowOff[i]; p < Math.min(res.rowOff[i] + 10, res.rowOff[i + 1]); p++) {
      tot++;
      if (truth.cluster[res.nb[p]] === truth.cluster[i]) same++;
      popSum += ic.off[res.nb[p] + 1] - ic.off[res.nb[p]];
    }
  }
  return {
    partnerRecall10: +(hit10 / n).toFixed(3),
    partnerRecall50: +(hit50 / n).toFixed(3),
    clusterPrecision10: +(same / tot).toFixed(3),
    meanNeighbourUsers: Math.round(popSum / tot),
  };
}
// ---- main
if (algo === 'selftest') {
  // tiny random world + the 4-user example used in the Flink ML Swing docs
  let s = 99;
  const rnd = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  const U = 60,
    I = 25;
  const du = [],
    di = [],
    dt = [];
  for (let u = 0; u < U; u++) {
    const n = 1 + Math.floor(rnd() * 8);
    for (let e = 0; e < n; e++) {
      du.push(u);
      di.push(Math.floor(Math.pow(rnd(), 2) * I));
      dt.push(e);
    }
  }
  const d = { user: Int32Array.from(du), item: Int32Array.from(di), ts: Uint32Array.from(dt) };
  const uc = userCSR(d, U, 1000),
    ic = itemCSR(uc, U, I);
  compare(itemcfCSR(uc, ic, U, I, 'cos', I), bruteItemCF(uc, ic, U, I), I, 'itemcf-csr');
  compare(itemcfMap(uc, ic, U, I, I), bruteItemCF(uc, ic, U, I), I, 'itemcf-map');
  compare(swingCSR(uc, ic, U, I, I, 1e9), bruteSwing(uc, ic, U, I), I, 'swing-csr');
  const fx = {
    user: Int32Array.from([0, 0, 0, 1, 1, 2, 2, 2, 3, 3]),
    item: Int32Array.from([10, 11, 12, 13, 12, 10, 11, 12, 13, 12]).map((x) => x - 10),
    ts: new Uint32Array(10),
  };
  const fu = userCSR(fx, 4, 1000),
    fi = itemCSR(fu, 4, 4);
  const r = swingCSR(fu, fi, 4, 4, 4, 1e9);
  const rows = [];
  for (let i = 0; i < 4; i++)
    rows.push(
      `item ${i + 10}: ` +
        Array.from(r.nb.subarray(r.rowOff[i], r.rowOff[i + 1]))
          .map((j, q) => `${j + 10}:${r.sc[r.rowOff[i] + q].toFixed(6)}`)
          .join(' '),
    );
  console.log(JSON.stringify({ flinkDocExample: rows, params: { A1, A2, BETA } }));
} else {
  const t0 = now(),
    c0 = cpu();
  const d = load(file);
  const { users: U, items: I } = d.h;
  const uc = userCSR(d, U, USER_CAP),
    ic = itemCSR(uc, U, I);
  const tPrep = now() - t0,
    cPrep = cpu() - c0;
  const t1 = now(),
    c1 = cpu();
  let res;
  if (algo === 'itemcf-map') res = itemcfMap(uc, ic, U, I);
  else if (algo === 'itemcf-csr') res = itemcfCSR(uc, ic, U, I, 'cos');
  else if (algo === 'itemcf-iuf-csr') res = itemcfCSR(uc, ic, U, I, 'iuf');
  else if (algo === 'itemcf-decay-csr') res = itemcfCSR(uc, ic, U, I, 'decay');
  else if (algo === 'swing-csr') res = swingCSR(uc, ic, U, I);
  const wall = now() - t1,
    cpuS = cpu() - c1;
  const truth = JSON.parse(fs.readFileSync(file + '.truth.json', 'utf8'));
  const maxRows = Math.max(...Array.from({ length: I }, (_, i) => ic.off[i + 1] - ic.off[i]));
  console.log(
    JSON.stringify({
      algo: algo + (algo.startsWith('swing') && NORM_POW ? `-norm${NORM_POW}` : ''),
      interactions: d.h.interactions,
      keptInteractions: uc.item.length,
      users: U,
      items: I,
      userCap: USER_CAP,
      itemUserCap: algo.startsWith('swing') ? ITEM_USER_CAP : undefined,
      maxUsersPerItem: maxRows,
      prepS: +tPrep.toFixed(2),
      prepCpuS: +cPrep.toFixed(2),
      computeS: +wall.toFixed(2),
      computeCpuS: +cpuS.toFixed(2),
      pairs: res.pairs,
      interOps: res.interOps,
      pairsPerCpuS: Math.round(res.pairs / cpuS),
      outEdges: res.nb.length,
      outMB: +((res.nb.byteLength + res.sc.byteLength + res.rowOff.byteLength) / 1048576).toFixed(1),
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      ...evaluate(res, truth, I, ic),
    }),
  );
  // optional: print neighbours of named items for real data (SHOW=a,b NAMES=file.json, items named by the 'packages' list)
  if (process.env.SHOW && process.env.NAMES) {
    const names = JSON.parse(fs.readFileSync(process.env.NAMES, 'utf8')).packages;
    const idx = new Map(names.map((n, i) => [n, i]));
    for (const n of process.env.SHOW.split(',')) {
      const i = idx.get(n);
      if (i === undefined) continue;
      console.log(
        n +
          ' -> ' +
          Array.from(res.nb.subarray(res.rowOff[i], Math.min(res.rowOff[i] + 8, res.rowOff[i + 1])))
            .map((j, q) => names[j] + ':' + res.sc[res.rowOff[i] + q].toFixed(3))
            .join(' '),
      );
    }
  }
}
