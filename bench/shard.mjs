#!/usr/bin/env node
// `recall shard` against DuckDB's own COPY ... PARTITION_BY (hash(user_id) % 16),
// both as whole processes, alternating, on 2M- and 5M-row ZSTD event files, and on 1,000 rows,
// where each side's time is its fixed cost (process start-up, loading DuckDB, checks).
// Reports median and best wall time, peak RSS and the ratios (median to median, best to best). Data is generated once
// into bench/data/ (gitignored). Writes bench/results/shard.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const data = join(root, 'bench/data');
const scratch = join(data, 'out');
mkdirSync(data, { recursive: true });
const runs = Number(process.env.RUNS ?? 5);
const sizes = (process.env.SIZES ?? '1000,2000000,5000000').split(',').map(Number);
const haveTime = existsSync('/usr/bin/time');

function timed(args) {
  const cmd = haveTime ? ['/usr/bin/time', ['-f', '%M %U %S', process.execPath, ...args]] : [process.execPath, args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd[0], cmd[1], { encoding: 'utf8', cwd: root });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  const [rss, user, sys] = haveTime ? r.stderr.trim().split('\n').at(-1).split(' ').map(Number) : [NaN, NaN, NaN];
  return { ms, rssMb: rss / 1024, cpuMs: (user + sys) * 1000 };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const results = [];
for (const rows of sizes) {
  const file = join(data, `events-${rows}.zstd.parquet`);
  if (!existsSync(file)) {
    console.log(`generating ${file}`);
    const g = spawnSync(process.execPath, [join(root, 'bench/helpers/make-events.mjs'), String(rows), file], { stdio: 'inherit' });
    if (g.status !== 0) process.exit(1);
  }
  const sides = {
    'duckdb COPY PARTITION_BY hash()': () => [join(root, 'bench/helpers/duckdb-partition.mjs'), file, join(scratch, 'duck'), '16'],
    'recall shard': () => [
      join(root, 'bin/run.js'),
      'shard',
      '-i',
      file,
      '-k',
      'user_id',
      '-n',
      '16',
      '-o',
      join(scratch, 'recall'),
      '--json',
    ],
  };
  const samples = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, args] of Object.entries(sides)) {
      rmSync(scratch, { recursive: true, force: true });
      mkdirSync(scratch, { recursive: true });
      samples[name].push(timed(args()));
    }
  }
  rmSync(scratch, { recursive: true, force: true });
  const [anchor, ours] = Object.keys(sides).map((k) => ({
    name: k,
    medianMs: Math.round(median(samples[k].map((s) => s.ms))),
    minMs: Math.round(Math.min(...samples[k].map((s) => s.ms))),
    medianCpuMs: Math.round(median(samples[k].map((s) => s.cpuMs))),
    peakRssMb: Math.round(Math.max(...samples[k].map((s) => s.rssMb))),
  }));
  const ratio = +(ours.medianMs / anchor.medianMs).toFixed(2);
  const bestRatio = +(ours.minMs / anchor.minMs).toFixed(2);
  const cpuRatio = +(ours.medianCpuMs / anchor.medianCpuMs).toFixed(2);
  // Bounded memory: the same job with a DuckDB memory limit far below the data's in-memory size.
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const limited = timed([
    join(root, 'bin/run.js'),
    'shard',
    '-i',
    file,
    '-k',
    'user_id',
    '-n',
    '16',
    '-o',
    join(scratch, 'limited'),
    '--memory-limit',
    '64MB',
    '--json',
  ]);
  rmSync(scratch, { recursive: true, force: true });
  const memoryLimited = { memoryLimit: '64MB', ms: Math.round(limited.ms), peakRssMb: Math.round(limited.rssMb) };
  results.push({ rows, runs, anchor, ours, ratio, bestRatio, cpuRatio, memoryLimited });
  console.log(`${rows} rows with --memory-limit 64MB: ${memoryLimited.ms} ms, peak RSS ${memoryLimited.peakRssMb} MB`);
  console.log(
    `${rows} rows: ${anchor.name} ${anchor.medianMs} ms wall (min ${anchor.minMs}), ${anchor.medianCpuMs} ms CPU, ${anchor.peakRssMb} MB  |  ` +
      `recall shard ${ours.medianMs} ms wall (min ${ours.minMs}), ${ours.medianCpuMs} ms CPU, ${ours.peakRssMb} MB  |  wall ratio ${ratio}x median, ${bestRatio}x best (goal <= 1.1x), CPU ratio ${cpuRatio}x`,
  );
}
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(
  join(root, 'bench/results/shard.json'),
  `${JSON.stringify({ bench: 'shard', date: new Date().toISOString(), results }, null, 2)}\n`,
);
