#!/usr/bin/env node
// Two builds of the native addon against each other on one HNSW index, in alternating processes
// (the machine's state drifts; one process per pass keeps each side's memory its own):
//   node bench/vector-ab.mjs --a A.node --b B.node [--data synth1m|synth200k|fashion] [--ef 160] [--rounds 3] [--reps 3]
// Builds the index once into bench/data/ann/<data>/ab-hnsw.rvec (with build A), then prints each
// process's single-thread QPS (best of the passes after the first; the first pass, which pays for
// paging in the rows, is printed apart) and the B / A ratio of the best of each side.
// `recall bench vector` must have made the data set first.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const sides = { a: arg('a'), b: arg('b') };
if (!sides.a || !sides.b) throw new Error('pass --a and --b: two recall.node builds');
const dir = join(root, 'bench/data/ann', arg('data', 'synth1m'));
const index = join(dir, 'ab-hnsw.rvec');
const best = {};
const digests = new Set();
for (let round = 0; round < Number(arg('rounds', 3)); round++)
  for (const [side, addon] of Object.entries(sides)) {
    const r = spawnSync(process.execPath, [join(root, 'bench/helpers/vector-search.mjs'), dir, index, arg('ef', '160'), arg('reps', '3')], {
      env: { ...process.env, RECALL_NATIVE_PATH: addon },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`side ${side}: exit ${r.status}: ${r.stderr.slice(-1000)}`);
    const line = JSON.parse(r.stdout.trim().split('\n').pop());
    digests.add(line.digest);
    const qps = line.queries / line.bestCpuS;
    best[side] = Math.max(best[side] ?? 0, qps);
    console.log(`${side} ef ${line.ef}: ${Math.round(qps)} QPS (first pass ${line.firstCpuS.toFixed(3)} CPU-s) ids ${line.digest}`);
  }
console.log(`B / A: ${(best.b / best.a).toFixed(2)}x (best of each side)${digests.size > 1 ? '; THE SIDES FOUND DIFFERENT ROWS' : ''}`);
