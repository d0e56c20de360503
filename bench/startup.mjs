#!/usr/bin/env node
// Start-up cost of `recall --help` against a bare `node -e 0`, measured side
// by side in one run (alternating, so machine noise hits both alike); and loading DuckDB's
// node-api as its package against recall's bundle of it.
// Goal (issue 2): at most 2.5x. Writes bench/results/startup.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.env.RUNS ?? 30);
const cases = {
  'node -e 0': [process.execPath, ['-e', '0']],
  'recall --help': [process.execPath, [join(root, 'bin/run.js'), '--help']],
  'recall inspect FILE': [process.execPath, [join(root, 'bin/run.js'), 'inspect', join(root, 'fixtures/container/sample-v1.rcl')]],
  // what every command that opens DuckDB pays first: the package as it ships, and the one-file
  // bundle of it that the build makes and recall loads (scripts/bundle-duckdb.mjs)
  'require DuckDB package': [process.execPath, ['-e', "require('@duckdb/node-api')"]],
  'require DuckDB bundle': [process.execPath, ['-e', `require(${JSON.stringify(join(root, 'dist/vendor/duckdb-node-api.cjs'))})`]],
};
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let i = 0; i < runs + 2; i++) {
  for (const [name, [cmd, args]] of Object.entries(cases)) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: 'ignore' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}`);
    if (i >= 2) times[name].push(ms); // first two rounds warm the page cache
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];
const anchor = median(times['node -e 0']);
const results = Object.entries(times).map(([name, xs]) => ({
  name,
  runs: xs.length,
  medianMs: +median(xs).toFixed(1),
  p90Ms: +p90(xs).toFixed(1),
  ratioToNode: +(median(xs) / anchor).toFixed(2),
}));
for (const r of results)
  console.log(
    `${r.name.padEnd(22)} median ${String(r.medianMs).padStart(7)} ms  p90 ${String(r.p90Ms).padStart(7)} ms  ${r.ratioToNode}x node`,
  );
const help = results.find((r) => r.name === 'recall --help');
console.log(`recall --help / node -e 0 = ${help.ratioToNode}x (goal <= 2.5x)`);
const [pkg, bundle] = ['require DuckDB package', 'require DuckDB bundle'].map((n) => results.find((r) => r.name === n));
console.log(
  `DuckDB bundle / package = ${(bundle.medianMs / pkg.medianMs).toFixed(2)}x (${(pkg.medianMs - bundle.medianMs).toFixed(1)} ms less)`,
);
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(
  join(root, 'bench/results/startup.json'),
  `${JSON.stringify({ bench: 'startup', date: new Date().toISOString(), node: process.version, results }, null, 2)}\n`,
);
