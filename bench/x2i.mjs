#!/usr/bin/env node
// Item-CF and Swing against the JS floor (src/core/bench/x2i.ts, also
// `recall bench x2i`). Writes bench/results/x2i.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runX2iBench, x2iBenchLine } from '../dist/core/bench/x2i.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const [users, items, events] = (process.env.X2I_SIZE ?? '100000,50000,1000000').split(',').map(Number);
const rows = await runX2iBench({
  dataDir: join(root, 'bench/data'),
  users,
  items,
  events,
  onRow: (r) => console.log(x2iBenchLine(r)),
});
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/x2i.json'), `${JSON.stringify({ bench: 'x2i', date: new Date().toISOString(), rows }, null, 2)}\n`);
