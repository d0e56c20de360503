#!/usr/bin/env node
// WAL append / replay / major dump against dd's write rate, in one run (src/core/bench/wal.ts, also
// `recall bench wal`). Writes bench/results/wal.json. WAL_SIZE=records,dumpKeys to scale down.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runWalBench } from '../dist/core/bench/wal.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const [records, dumpKeys] = (process.env.WAL_SIZE ?? '4000000,10000000').split(',').map(Number);
const r = await runWalBench({
  dir: join(root, 'bench/data/wal'),
  records,
  dumpKeys,
  listLen: 4,
  dumpChanges: 1_000_000,
  onLine: (l) => console.log(l),
});
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/wal.json'), `${JSON.stringify({ bench: 'wal', date: new Date().toISOString(), ...r }, null, 2)}\n`);
