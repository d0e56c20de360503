#!/usr/bin/env node
// Item-CF (cosine) and Swing from interactions: recall's Rust (1 and 2
// threads) against the plain JavaScript implementation of the same formulas
// in ../shared/tools/x2i-data/x2i.mjs (the floor), on the synthetic generator
// of specs/x2i.md with planted partner pairs; reports CPU seconds, work per
// CPU second and partner recall@10 of each. Writes bench/results/x2i.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNative } from '../dist/core/native.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const tools = join(root, '../shared/tools/x2i-data');
const [users, items, events] = (process.env.X2I_SIZE ?? '100000,50000,1000000').split(',').map(Number);
const data = join(root, `bench/data/x2i-${events}.bin`);
mkdirSync(join(root, 'bench/data'), { recursive: true });
if (!existsSync(data)) {
  const g = spawnSync(process.execPath, [join(tools, 'gen.mjs'), data, String(users), String(items), String(events), '7', '0.1', '0.5'], { stdio: 'inherit' });
  if (g.status !== 0) process.exit(1);
}
const truth = JSON.parse(readFileSync(`${data}.truth.json`, 'utf8'));
const buf = readFileSync(data);
const nl = buf.indexOf(10);
const h = JSON.parse(buf.subarray(0, nl).toString());
const N = h.interactions;
const ab = buf.buffer.slice(buf.byteOffset + nl + 1, buf.byteOffset + nl + 1 + 12 * N);
const d = { user: new Uint32Array(ab, 0, N), item: new Uint32Array(ab, 4 * N, N), ts: new Uint32Array(ab, 8 * N, N) };

function recall10(rowOff, nb) {
  let hit = 0;
  let n = 0;
  for (const [a, b] of truth.pairs) {
    for (const [x, y] of [[a, b], [b, a]]) {
      n++;
      for (let p = Number(rowOff[x]), r = 0; p < Number(rowOff[x + 1]) && r < 10; p++, r++) if (nb[p] === y) { hit++; break; }
    }
  }
  return +(hit / n).toFixed(3);
}

const native = loadNative();
const results = [];
for (const [algo, floorAlgo, opts] of [
  ['cosine', 'itemcf-csr', { userCap: 200, topK: 50 }],
  ['swing', 'swing-csr', { userCap: 200, topK: 50, alpha1: 15, alpha2: 0, beta: 0.3, itemUserCap: 200, seed: 1n }],
]) {
  const f = spawnSync(process.execPath, [join(tools, 'x2i.mjs'), data, floorAlgo, 'topk=50', 'userCap=200', 'itemUserCap=200'], { encoding: 'utf8' });
  if (f.status !== 0) throw new Error(f.stderr);
  const floor = JSON.parse(f.stdout.trim().split('\n')[0]);
  const row = { algo, interactions: N, floor: { cpuS: floor.computeCpuS, work: floor.pairs, recall10: floor.partnerRecall10 }, ours: {} };
  for (const threads of [1, 2]) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const r = await native.x2iCompute(d.user, d.item, d.ts, null, h.users, h.items, { algo, ...opts, threads });
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    const cpuS = (c.user + c.system) / 1e6;
    row.ours[`threads${threads}`] = {
      cpuS: +cpuS.toFixed(3),
      wallS: +wallS.toFixed(3),
      prepS: +r.prepSeconds.toFixed(3),
      computeS: +r.computeSeconds.toFixed(3),
      work: r.work,
      workPerCpuS: Math.round(r.work / cpuS),
      recall10: recall10(r.rowOff, r.nb),
    };
  }
  // The floor's figure is its compute step alone (its CSR preparation is timed apart), so compare like with like.
  row.cpuRatioVsFloor = +(row.floor.cpuS / row.ours.threads1.computeS).toFixed(1);
  row.cpuRatioVsFloorWithPrep = +(row.floor.cpuS / row.ours.threads1.cpuS).toFixed(1);
  row.speedup2Threads = +(row.ours.threads1.computeS / row.ours.threads2.computeS).toFixed(2);
  console.log(
    `${algo}: floor (JS) compute ${row.floor.cpuS} CPU-s, recall@10 ${row.floor.recall10} | recall 1 thread compute ${row.ours.threads1.computeS} s ` +
      `(${row.cpuRatioVsFloor}x faster; ${row.cpuRatioVsFloorWithPrep}x counting our prep and copies), 2 threads compute ${row.ours.threads2.computeS} s ` +
      `(${row.speedup2Threads}x), recall@10 ${row.ours.threads1.recall10}, work ${row.ours.threads1.work}`,
  );
  results.push(row);
}
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/x2i.json'), `${JSON.stringify({ bench: 'x2i', date: new Date().toISOString(), users: h.users, items: h.items, results }, null, 2)}\n`);
