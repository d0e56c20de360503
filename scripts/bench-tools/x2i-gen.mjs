// Synthetic user-item interaction generator with planted ground truth.
// (the data of `recall bench x2i`) node x2i-gen.mjs <out.bin> [users=100000] [items=50000] [targetInteractions=1000000] [seed=7] [noise=0.1] [partnerP=0.5]
// Model:
//  - items belong to C clusters ("topics"); global popularity ~ Zipf(s=1.0) over a random permutation;
//  - users have 1..3 interest clusters; activity (#interactions) ~ discrete log-normal, heavy tailed;
//  - interactions come in sessions (3..12 events); a session picks one of the user's clusters and draws
//    items from it by popularity; with prob NOISE an event is a popularity-biased global item instead;
//  - planted pairs: P "partner" pairs (a -> b, same cluster, mid popularity): whenever a session draws a,
//    b is added to the same session with prob PARTNER_P (this is the signal a good i2i must recover);
//  - timestamps: sessions spread over 30 days, events 5..120 s apart inside a session.
// Output (little-endian): header JSON line, then Int32 user[], Int32 item[], Uint32 ts[] (seconds).
// Ground truth: clusterOf[item], partner pairs, written to <out>.truth.json
import fs from 'node:fs';
const [out = '/tmp/text/x2i-1m.bin', U = 100000, I = 50000, TARGET = 1000000, SEED = 7, NOISE = 0.1, PARTNER_P = 0.5] = process.argv
  .slice(2)
  .map((x, i) => (i ? +x : x));
let s = SEED >>> 0 || 1;
const rnd = () => {
  s ^= s << 13;
  s >>>= 0;
  s ^= s >>> 17;
  s ^= s << 5;
  s >>>= 0;
  return s / 4294967296;
};
const C = 200,
  P = 2000;
// items: cluster, popularity weight
const perm = Array.from({ length: I }, (_, i) => i);
for (let i = I - 1; i > 0; i--) {
  const j = Math.floor(rnd() * (i + 1));
  [perm[i], perm[j]] = [perm[j], perm[i]];
}
const pop = new Float64Array(I);
for (let r = 0; r < I; r++) pop[perm[r]] = 1 / Math.pow(r + 1, 1.0);
const cluster = new Int32Array(I);
for (let i = 0; i < I; i++) cluster[i] = Math.floor(rnd() * C);
// alias-free sampling by cumulative arrays + binary search
const cdf = (idx) => {
  const c = new Float64Array(idx.length);
  let a = 0;
  for (let k = 0; k < idx.length; k++) {
    a += pop[idx[k]];
    c[k] = a;
  }
  return c;
};
const draw = (idx, c) => {
  const x = rnd() * c[c.length - 1];
  let lo = 0,
    hi = c.length - 1;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (c[m] < x) lo = m + 1;
    else hi = m;
  }
  return idx[lo];
};
const members = Array.from({ length: C }, () => []);
for (let i = 0; i < I; i++) members[cluster[i]].push(i);
const mcdf = members.map(cdf);
const all = perm.slice();
const acdf = cdf(all);
// planted partners: a and b in the same cluster, both outside the top 1% and inside the top 50% by popularity
const rank = new Int32Array(I);
for (let r = 0; r < I; r++) rank[perm[r]] = r;
const partner = new Int32Array(I).fill(-1);
const pairs = [];
while (pairs.length < P) {
  const a = perm[Math.floor(I * 0.01 + rnd() * I * 0.49)];
  if (partner[a] >= 0) continue;
  const m = members[cluster[a]];
  const b = m[Math.floor(rnd() * m.length)];
  if (b === a || partner[b] >= 0 || rank[b] < I * 0.01 || rank[b] > I * 0.5) continue;
  partner[a] = b;
  partner[b] = a;
  pairs.push([a, b]);
}
// users: activity ~ lognormal scaled to hit TARGET on average
const gauss = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
const act = new Float64Array(U);
let sum = 0;
for (let u = 0; u < U; u++) {
  act[u] = Math.exp(1.2 * gauss());
  sum += act[u];
}
const users = [],
  items = [],
  ts = [];
const T0 = 1.7e9,
  DAY = 86400;
for (let u = 0; u < U; u++) {
  const n = Math.max(1, Math.round((act[u] * TARGET) / sum));
  const ints = [Math.floor(rnd() * C)];
  if (rnd() < 0.6) ints.push(Math.floor(rnd() * C));
  if (rnd() < 0.3) ints.push(Math.floor(rnd() * C));
  let k = 0;
  while (k < n) {
    const len = 3 + Math.floor(rnd() * 10);
    const c = ints[Math.floor(rnd() * ints.length)];
    let t = T0 + Math.floor(rnd() * 30 * DAY);
    for (let e = 0; e < len && k < n; e++) {
      const it = rnd() < NOISE ? draw(all, acdf) : draw(members[c], mcdf[c]);
      users.push(u);
      items.push(it);
      ts.push(t);
      k++;
      t += 5 + Math.floor(rnd() * 115);
      if (partner[it] >= 0 && rnd() < PARTNER_P && k < n) {
        users.push(u);
        items.push(partner[it]);
        ts.push(t);
        k++;
        t += 5 + Math.floor(rnd() * 115);
      }
    }
  }
}
const N = users.length;
const hdr =
  JSON.stringify({ users: U, items: I, interactions: N, clusters: C, noise: NOISE, partners: P, partnerP: PARTNER_P, seed: SEED }) + '\n';
const fd = fs.openSync(out, 'w');
fs.writeSync(fd, hdr);
fs.writeSync(fd, Buffer.from(Int32Array.from(users).buffer));
fs.writeSync(fd, Buffer.from(Int32Array.from(items).buffer));
fs.writeSync(fd, Buffer.from(Uint32Array.from(ts).buffer));
fs.closeSync(fd);
fs.writeFileSync(out + '.truth.json', JSON.stringify({ cluster: Array.from(cluster), pairs }));
console.log(hdr.trim());
