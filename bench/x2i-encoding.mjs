#!/usr/bin/env node
// Candidate encodings of the x2i LISTS section, measured on real lists in one
// run (native/core/examples/x2i_encodings.rs): bytes per edge and top-10
// decode time. Writes bench/results/x2i-encoding.txt.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureX2iData } from '../dist/core/bench/x2i.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const data = ensureX2iData({
  dataDir: join(root, 'bench/data'),
  users: 100000,
  items: 50000,
  events: 1000000,
});
const r = spawnSync(
  'cargo',
  [
    'run',
    '--release',
    '--offline',
    '--locked',
    '--quiet',
    '--manifest-path',
    join(root, 'native/Cargo.toml'),
    '-p',
    'recall-core',
    '--example',
    'x2i_encodings',
    '--',
    data,
  ],
  {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
if (r.status !== 0) process.exit(r.status ?? 1);
process.stdout.write(r.stdout);
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/x2i-encoding.txt'), r.stdout);
