#!/usr/bin/env node
// Hash-table lookups (src/core/bench/hash.ts, also `recall bench hash`):
// NeighborHash scalar / AMAC, linear probing, the random-access bound and a
// JS Map in one run, at 2^22 and 2^25 slots. Writes bench/results/hash.json and .md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashBenchMarkdown, runHashBench } from '../dist/core/bench/hash.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const reps = Number(process.env.REPS ?? 5);
const slotBits = (process.env.SLOT_BITS ?? '22,25').split(',').map(Number);
const rows = runHashBench({ slotBits, reps, onRow: (r) => console.log(`2^${Math.log2(r.slots)} slots done`) });
const md = hashBenchMarkdown(rows, reps);
console.log(md);
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(
  join(root, 'bench/results/hash.json'),
  `${JSON.stringify({ bench: 'hash', date: new Date().toISOString(), reps, rows }, null, 2)}\n`,
);
writeFileSync(join(root, 'bench/results/hash.md'), `${md}\n`);
