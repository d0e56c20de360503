#!/usr/bin/env node
// One process of bench/vector-ab.mjs: open (building it first if missing) an HNSW f32 index of a
// `recall bench vector` data set and print the best search CPU of REPS passes over its queries,
// single-threaded, as one JSON line with the ids' digest (both builds must find the same rows).
// node vector-search.mjs DATA_DIR INDEX_FILE EF REPS; RECALL_NATIVE_PATH picks the addon.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { loadNative } from '../../dist/core/native.js';

const [dir, file, ef, reps] = process.argv.slice(2);
const meta = JSON.parse(readFileSync(`${dir}/meta.json`, 'utf8'));
const f32 = (f) => {
  const b = readFileSync(`${dir}/${f}`);
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
};
const native = loadNative();
if (!existsSync(file)) {
  const base = f32('base.f32');
  const n = base.length / meta.dim;
  const ids = BigUint64Array.from({ length: n }, (_, i) => BigInt(i));
  const efConstruction = meta.name.startsWith('synthetic') ? 100 : 200;
  await native.vectorBuild(file, {}, '{}', base, ids, meta.dim, {
    type: 'hnsw',
    metric: 'l2',
    quant: 'f32',
    m: 16,
    efConstruction,
    threads: 2,
  });
}
const queries = f32('queries.f32');
const h = native.vectorOpen(file);
// rows in memory before the first pass (an addon built before vectorMakeResident maps them until
// enough searches, so compare builds that both have it)
await native.vectorMakeResident?.(h);
const cpu = [];
let digest;
for (let r = 0; r < Number(reps); r++) {
  const res = await native.vectorSearch(h, queries, { k: 10, ef: Number(ef), threads: 1 });
  cpu.push(res.searchCpuSeconds);
  digest ??= createHash('sha256').update(res.ids).digest('hex').slice(0, 16);
}
console.log(
  JSON.stringify({
    queries: queries.length / meta.dim,
    ef: Number(ef),
    firstCpuS: cpu[0],
    bestCpuS: Math.min(...cpu.slice(1)),
    cpuS: cpu.map((c) => +c.toFixed(3)),
    digest,
  }),
);
