#!/usr/bin/env node
// The profile store at modest sizes, every ratio measured in this one run:
//  1. ingest vs parse: `recall profile ingest` (parse + sha256 + Parquet + commit) against the
//     reader alone (what `profile collapse` does) on the same perf text; MB/s of CPU time. Again
//     with the pods gzipped (`gzip`), as captures are usually kept.
//  2. store size vs gzip -6 of the same samples' folded text.
//  3. `profile diff --store` (2 versions x PODS pods) against `profile diff` on the same files.
//  4. `profile regressions` over VERSIONS x PODS pods of REG_POD_MB of perf text each (generated one
//     version at a time, ingested, deleted; SPREAD dispatch frames give each pod thousands of
//     distinct stacks): wall and CPU, and the ratio to one DuckDB scan of the store (every sample
//     joined to its stack and profile).
// Sizes: STORE_MB (perf text for 1-2, default 40), PODS (20), VERSIONS (30), REG_POD_MB (5),
// SPREAD (400), DIFF_SAMPLES (10000 samples a pod for 3), REPS (5: best of, parse and ingest interleaved,
// which goes first alternating). PARTS=ingest runs 1 + 2 only and keeps the other sections of the results.
// Pin it to one CPU for the single-thread ratios (`taskset -c 1 node bench/profile-store.mjs`).
// Writes bench/results/profile-store.json.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { readProfile } from '../dist/core/profile/read.js';
import { diff } from '../dist/core/profile/run.js';
import { StackCounter } from '../dist/core/profile/stacks.js';
import { ingest } from '../dist/core/profile/store/ingest.js';
import { diffFromStore } from '../dist/core/profile/store/diff.js';
import { scanRegressions } from '../dist/core/profile/store/regressions.js';
import { openStore } from '../dist/core/profile/store/layout.js';
import { literal, openDuckDB } from '../dist/core/io/duckdb.js';
import { mulberry32, perfText, seriesVersions, sharesAt, writeSeries } from '../test/helpers/profile-series.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const shared = join(root, '../shared/data/profiles');
const MB = Number(process.env.STORE_MB ?? 40);
const PODS = Number(process.env.PODS ?? 20);
const VERSIONS = Number(process.env.VERSIONS ?? 30);
const REG_POD_MB = Number(process.env.REG_POD_MB ?? 5);
const SPREAD = Number(process.env.SPREAD ?? 400);
const REPS = Number(process.env.REPS ?? 5);
const ONLY_INGEST = process.env.PARTS === 'ingest';
const DIFF_SAMPLES = Number(process.env.DIFF_SAMPLES ?? 10000);
const work = mkdtempSync(join(tmpdir(), 'recall-bench-store-'));
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
// A full collection before each measurement, so no run pays for the garbage of the one before.
if (!globalThis.gc) {
  setFlagsFromString('--expose-gc');
  globalThis.gc = runInNewContext('gc');
}
async function timed(fn) {
  globalThis.gc();
  const c0 = cpu();
  const t0 = performance.now();
  const out = await fn();
  return { cpu_s: cpu() - c0, wall_s: (performance.now() - t0) / 1000, out };
}
const best = async (n, fn) => {
  let b;
  for (let i = 0; i < n; i++) {
    const r = await timed(fn);
    if (!b || r.cpu_s < b.cpu_s) b = r;
  }
  return b;
};
const du = (dir) => {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) n += statSync(join(e.parentPath ?? e.path, e.name)).size;
  return n;
};
const job = { read: {}, threads: 1 };
// The CPUs this run may use (taskset): the two vCPUs here can differ in speed by 1.7x, so
// single-thread ratios are compared on one pinned CPU.
const cpus = existsSync('/proc/self/status')
  ? (/^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? null)
  : null;
const results = { sizes: { MB, PODS, VERSIONS, REG_POD_MB, SPREAD, REPS }, cpus };

try {
  // 1 + 2: real perf captures (the fixtures bench/profile.mjs uses), split into 8 pod files.
  const fixtures = [
    ...[
      'perf-vertx-stacks-01',
      'perf-numa-stacks-01',
      'perf-iperf-stacks-pidtid-01',
      'perf-mirageos-stacks-01',
      'perf-funcab-cmd-01',
      'perf-dd-stacks-01',
    ].map((f) => join(shared, 'flamegraph/test', `${f}.txt`)),
    ...['system-wide', 'forks', 'simple-with-pid'].map((f) => join(shared, 'speedscope/linux-perf', `${f}.linux-perf.txt`)),
  ];
  const unit = Buffer.from(fixtures.map((f) => `${readFileSync(f, 'utf8').replace(/\n*$/, '')}\n\n`).join(''));
  const podDir = join(work, 'pods');
  mkdirSync(podDir);
  const files = [];
  const perPod = Math.max(1, Math.round((MB * 1e6) / 8 / unit.length));
  for (let k = 0; k < 8; k++) {
    const f = join(podDir, `pod-${k}.perf.txt`);
    writeFileSync(f, Buffer.concat(Array.from({ length: perPod }, () => unit)));
    files.push(f);
  }
  const bytes = files.reduce((a, f) => a + statSync(f).size, 0);
  // The same pods gzipped, as captures are usually kept: the sha256 then covers the compressed bytes.
  const gzFiles = files.map((f) => {
    writeFileSync(`${f}.gz`, gzipSync(readFileSync(f), { level: 6 }));
    return `${f}.gz`;
  });
  let n = 0;
  // Parse and ingest of the same files, interleaved (which goes first alternating), best of REPS
  // each: the machine's load drifts between runs.
  const pair = async (inputs, labelsFrom) => {
    let parse;
    let ing;
    const runs = [];
    // Neither keeps its output past its own run: pods held on the heap make every later run's
    // collections slower (an ingest by ~10% here), which no user's process pays.
    const parseOnce = () =>
      timed(async () => {
        const pods = [];
        for (const f of inputs) pods.push(await readProfile(f));
        return pods.length;
      });
    const ingestOnce = async () => {
      rmSync(join(work, `s1-${n - 1}`), { recursive: true, force: true });
      return timed(async () => {
        await ingest(inputs, { store: join(work, `s1-${n++}`), labels: { app: 'a', version: '1' }, labelsFrom }, job);
      });
    };
    for (let r = 0; r < REPS; r++) {
      let p;
      let i;
      if (r % 2 === 0) {
        p = await parseOnce();
        i = await ingestOnce();
      } else {
        i = await ingestOnce();
        p = await parseOnce();
      }
      runs.push({ parse_cpu_s: p.cpu_s, ingest_cpu_s: i.cpu_s });
      if (!parse || p.cpu_s < parse.cpu_s) parse = p;
      if (!ing || i.cpu_s < ing.cpu_s) ing = i;
    }
    return { parse, ing, runs };
  };
  // The first ingest also loads DuckDB's native module (a per-process cost, reported apart), so it
  // runs once before the measured repetitions.
  const load = await timed(async () =>
    ingest(files, { store: join(work, 's1-load'), labels: { app: 'a', version: '1' }, labelsFrom: '{pod}.perf.txt' }, job),
  );
  const gzPair = await pair(gzFiles, '{pod}.perf.txt.gz');
  const { parse, ing, runs } = await pair(files, '{pod}.perf.txt');
  const storeDir = join(work, `s1-${n - 1}`);
  const parsed = [];
  for (const f of files) parsed.push(await readProfile(f));
  // Per-pod folded text (what a user would otherwise keep), gzip -6.
  const gz = parsed.reduce((a, p) => {
    const c = new StackCounter();
    for (const [k, v] of p.stacks) c.add(k, v.weight, v.samples);
    return a + gzipSync(c.toFolded(), { level: 6 }).length;
  }, 0);
  const storeBytes = du(storeDir) - statSync(join(storeDir, 'commits')).size;
  results.ingest = {
    input_MB: bytes / 1e6,
    parse_cpu_s: parse.cpu_s,
    ingest_cpu_s: ing.cpu_s,
    parse_MB_per_cpu_s: bytes / 1e6 / parse.cpu_s,
    ingest_MB_per_cpu_s: bytes / 1e6 / ing.cpu_s,
    ingest_over_parse: ing.cpu_s / parse.cpu_s,
    first_ingest_cpu_s: load.cpu_s,
    runs,
    gzip: {
      input_MB: gzFiles.reduce((a, f) => a + statSync(f).size, 0) / 1e6,
      parse_cpu_s: gzPair.parse.cpu_s,
      ingest_cpu_s: gzPair.ing.cpu_s,
      text_MB_per_parse_cpu_s: bytes / 1e6 / gzPair.parse.cpu_s,
      text_MB_per_ingest_cpu_s: bytes / 1e6 / gzPair.ing.cpu_s,
      ingest_over_parse: gzPair.ing.cpu_s / gzPair.parse.cpu_s,
      runs: gzPair.runs,
    },
  };
  results.size = {
    store_bytes: storeBytes,
    folded_gzip_bytes: gz,
    store_over_gzip: storeBytes / gz,
    samples: parsed.reduce((a, p) => a + p.totalSamples, 0),
  };
  console.log('ingest', results.ingest);
  console.log('size', results.size);
  if (ONLY_INGEST) {
    const file = join(root, 'bench/results/profile-store.json');
    const kept = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, `${JSON.stringify({ ...kept, ...results, sizes: { ...kept.sizes, MB, REPS } }, null, 2)}\n`);
    rmSync(work, { recursive: true, force: true });
    process.exit(0);
  }

  // 3 + 4: a VERSIONS x PODS series of REG_POD_MB pods, one version on disk at a time.
  const probe = perfText(sharesAt(0, []), 2000, mulberry32(1), 0.02, SPREAD);
  const podSamples = Math.round((REG_POD_MB * 1e6) / (probe.length / 2000));
  const t0 = performance.now();
  const series = seriesVersions(join(work, 'series'), { versions: VERSIONS, pods: PODS, samples: podSamples, seed: 3, spread: SPREAD });
  const store = join(work, 'series-store');
  let podBytes = 0;
  let ingestWall = 0;
  for (const v of series.versions) {
    podBytes ||= statSync(v.files[0]).size;
    const w = performance.now();
    await ingest(v.files, { store, labels: { app: 'svc', version: v.version, commit: v.commit }, time: v.time }, { read: {} });
    ingestWall += (performance.now() - w) / 1000;
    for (const f of v.files) rmSync(f);
  }
  const gen_s = (performance.now() - t0) / 1000 - ingestWall;
  // Diff: 2 versions x PODS pods of DIFF_SAMPLES samples each (bigger pods: the diff's own size).
  const big = writeSeries(join(work, 'diff-series'), { versions: 2, pods: PODS, samples: DIFF_SAMPLES, seed: 4 });
  const bigStore = join(work, 'diff-store');
  for (const v of big.versions) await ingest(v.files, { store: bigStore, labels: { app: 'svc', version: v.version } }, job);
  const [b, h] = big.versions;
  const outputs = { tool: 'bench' };
  const files2 = await best(3, () => diff(b.files, h.files, {}, outputs, job));
  const store2 = await best(3, () =>
    diffFromStore(bigStore, undefined, [`app=svc,version=${b.version}`], [`app=svc,version=${h.version}`], {}, outputs, job),
  );
  results.diff = {
    pods: PODS,
    pod_MB: statSync(b.files[0]).size / 1e6,
    files_cpu_s: files2.cpu_s,
    store_cpu_s: store2.cpu_s,
    files_wall_s: files2.wall_s,
    store_wall_s: store2.wall_s,
    store_over_files_wall: store2.wall_s / files2.wall_s,
  };
  console.log('diff', results.diff);
  const scan = await best(2, () => scanRegressions({ store, app: 'svc', repo: series.repo, confirm: 2, thresholds: {} }));
  const view = await openStore(store);
  const db = await openDuckDB();
  const c = await db.connect();
  const sql = `SELECT p.version, k.frames[-1] AS leaf, sum(s.value) AS v FROM read_parquet([${view.files.samples.map(literal).join(',')}]) s
    JOIN read_parquet([${view.files.profiles.map(literal).join(',')}]) p USING (profile_id)
    JOIN read_parquet([${view.files.stacks.map(literal).join(',')}]) k USING (stack_id) GROUP BY ALL`;
  const one = await best(3, () => c.runAndReadAll(sql));
  c.closeSync();
  db.closeSync();
  results.regressions = {
    versions: VERSIONS,
    pods: PODS,
    pod_MB: podBytes / 1e6,
    pod_samples: podSamples,
    store_MB: du(store) / 1e6,
    generate_s: gen_s,
    ingest_all_wall_s: ingestWall,
    scan_wall_s: scan.wall_s,
    scan_cpu_s: scan.cpu_s,
    duckdb_scan_wall_s: one.wall_s,
    duckdb_scan_cpu_s: one.cpu_s,
    scan_over_duckdb_wall: scan.wall_s / one.wall_s,
    found: scan.out.regressions.length,
    suppressed: scan.out.suppressed.length,
  };
  console.log('regressions', results.regressions);
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/profile-store.json'), `${JSON.stringify(results, null, 2)}\n`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
