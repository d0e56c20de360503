#!/usr/bin/env node
// `recall bench hash` data: lookups per second, single thread, batches through
// the Node API, 90% hits, load 0.79, at 2^22 and 2^25 slots, all in one run:
//   NeighborHash scalar and AMAC (ring 8/16/32), linear probing (same 16-byte
//   slots, same hash, same load), the random-access bound (one independent
//   16-byte read per key over the same memory), and a JavaScript Map.
// Plus APCL (average cache lines per hit). Writes bench/results/hash.json and .md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNative } from '../dist/core/native.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const native = loadNative();
const sizes = (process.env.SLOT_BITS ?? '22,25').split(',').map(Number);
const reps = Number(process.env.REPS ?? 5);
const MAP_LIMIT = 2 ** 24; // V8 Map/Set hold at most 2^24 entries

let s = 0x1234_5678_9abc_def0n;
const rand64 = () => {
  s = (s + 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
  let z = s;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn;
  return z ^ (z >> 31n);
};

function best(fn, n) {
  let ns = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    ns = Math.min(ns, Number(process.hrtime.bigint() - t0) / n);
  }
  return ns;
}

const rows = [];
for (const bits of sizes) {
  const cap = 2 ** bits;
  const n = Math.floor(cap * 0.79);
  console.log(`\n2^${bits} slots, ${n} keys (load 0.79), building...`);
  const keys = new BigUint64Array(n);
  const payloads = new BigUint64Array(n);
  for (let i = 0; i < n; i++) {
    keys[i] = rand64() | 1n;
    payloads[i] = rand64() & 0xfffffffffffffn;
  }
  const q = Math.min(1 << 22, n);
  const queries = new BigUint64Array(q);
  for (let i = 0; i < q; i++) queries[i] = i % 10 === 9 ? rand64() | 1n : keys[Number(rand64() % BigInt(n))];
  const out = new BigUint64Array(q);
  const nh = native.hashBenchBuild(keys, payloads, 'neighbor', cap);
  const lp = native.hashBenchBuild(keys, payloads, 'linear', cap);
  const result = { slots: cap, keys: n, queries: q, hitRate: 0.9, apcl: { neighborHash: native.hashBenchApcl(nh), linearProbing: native.hashBenchApcl(lp) }, nsPerLookup: {} };
  const ns = result.nsPerLookup;
  ns['random-access bound'] = best(() => native.hashBenchLookup(nh, queries, out, 'random'), q);
  ns['NeighborHash scalar'] = best(() => native.hashBenchLookup(nh, queries, out, 'scalar'), q);
  for (const ring of [8, 16, 32]) ns[`NeighborHash AMAC W=${ring}`] = best(() => native.hashBenchLookup(nh, queries, out, 'amac', ring), q);
  ns['linear probing scalar'] = best(() => native.hashBenchLookup(lp, queries, out, 'scalar'), q);
  const hits = native.hashBenchLookup(nh, queries, out, 'amac', 16);
  if (Math.abs(hits / q - 0.9) > 0.01) throw new Error(`hit rate ${hits / q}`);
  if (n < MAP_LIMIT) {
    const map = new Map();
    for (let i = 0; i < n; i++) map.set(keys[i], payloads[i]);
    ns['JS Map<bigint>'] = best(() => {
      for (let i = 0; i < q; i++) out[i] = map.get(queries[i]) ?? 0n;
    }, q);
  } else {
    ns['JS Map<bigint>'] = null; // above V8's 2^24-entry limit
  }
  const amacBest = Math.min(ns['NeighborHash AMAC W=8'], ns['NeighborHash AMAC W=16'], ns['NeighborHash AMAC W=32']);
  result.ratios = {
    amacVsRandomAccess: +(ns['random-access bound'] / amacBest).toFixed(3),
    amacVsJsMap: ns['JS Map<bigint>'] ? +(ns['JS Map<bigint>'] / amacBest).toFixed(1) : null,
    amacVsScalar: +(ns['NeighborHash scalar'] / amacBest).toFixed(2),
    scalarVsLinearProbing: +(ns['linear probing scalar'] / ns['NeighborHash scalar']).toFixed(2),
  };
  for (const [name, v] of Object.entries(ns)) console.log(`${name.padEnd(26)} ${v === null ? '   n/a (Map limit)' : `${v.toFixed(1).padStart(7)} ns  ${(1e3 / v).toFixed(1).padStart(6)} M lookups/s`}`);
  console.log(`APCL: NeighborHash ${result.apcl.neighborHash.toFixed(4)}, linear probing ${result.apcl.linearProbing.toFixed(4)}`);
  console.log(`AMAC / random-access bound = ${result.ratios.amacVsRandomAccess}x (goal >= 0.75 at 2^22); AMAC vs JS Map = ${result.ratios.amacVsJsMap ?? 'n/a'}x (goal >= 15)`);
  rows.push(result);
}
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/hash.json'), `${JSON.stringify({ bench: 'hash', date: new Date().toISOString(), reps, rows }, null, 2)}\n`);
const names = Object.keys(rows[0].nsPerLookup);
const md = [
  `| lookup (ns, best of ${reps}) | ${rows.map((r) => `2^${Math.log2(r.slots)} slots`).join(' | ')} |`,
  `|---|${rows.map(() => '---').join('|')}|`,
  ...names.map((n) => `| ${n} | ${rows.map((r) => (r.nsPerLookup[n] === null ? 'n/a' : r.nsPerLookup[n].toFixed(1))).join(' | ')} |`),
  `| APCL NeighborHash / linear probing | ${rows.map((r) => `${r.apcl.neighborHash.toFixed(3)} / ${r.apcl.linearProbing.toFixed(3)}`).join(' | ')} |`,
];
writeFileSync(join(root, 'bench/results/hash.md'), `${md.join('\n')}\n`);
