#!/usr/bin/env node
// Distance kernels per ISA tier against the textbook one-accumulator loop,
// measured in one run by native/core/examples/bench_kernels.rs.
// Writes bench/results/kernels.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
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
    'bench_kernels',
    '--',
    '--json',
  ],
  {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
if (r.status !== 0) process.exit(r.status ?? 1);
const rows = JSON.parse(r.stdout);
for (const dim of [...new Set(rows.map((x) => x.dim))]) {
  const naive = rows.find((x) => x.dim === dim && x.tier === 'naive-loop').nsPerPair;
  for (const x of rows.filter((x) => x.dim === dim && x.kernel === 'dot_f32' && x.tier !== 'naive-loop')) {
    console.log(
      `dim ${String(dim).padStart(5)} dot_f32 ${x.tier.padEnd(7)} ${x.nsPerPair.toFixed(1).padStart(8)} ns/pair  ${(naive / x.nsPerPair).toFixed(1)}x the naive loop`,
    );
  }
}
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(
  join(root, 'bench/results/kernels.json'),
  `${JSON.stringify({ bench: 'kernels', date: new Date().toISOString(), rows }, null, 2)}\n`,
);
