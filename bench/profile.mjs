#!/usr/bin/env node
// `recall profile` speed: perf-text parsing MB/s of CPU time and the whole
// diff of two ~100 MB perf captures, side by side in one run with
//  - a naive streaming JS collapser (the spec's probe: split lines, no
//    period weighting rules beyond the basics): the in-run anchor;
//  - FlameGraph's Perl pipeline (stackcollapse-perf.pl x2, difffolded.pl -n,
//    flamegraph.pl) when FLAMEGRAPH_DIR (or --flamegraph-dir DIR) points at a
//    checkout; we do not ship it. Without it the spec's measured anchor
//    (11-20 MB/s CPU for stackcollapse-perf.pl here) is quoted, not timed.
// The corpus is generated from the cpu-clock fixtures in ../shared/data/profiles
// (PROFILE_MB per side, default 100). Writes bench/results/profile.json.
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readProfile } from '../dist/core/profile/read.js';
import { diff } from '../dist/core/profile/run.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const shared = join(root, '../shared/data/profiles');
const dataDir = join(root, 'bench/data/profile');
const mb = Number(process.env.PROFILE_MB ?? 100);
const fgArg = process.argv.indexOf('--flamegraph-dir');
const flamegraphDir = fgArg > 0 ? process.argv[fgArg + 1] : process.env.FLAMEGRAPH_DIR;

// --- corpus: one event (cpu-clock), real captures + the generated pods -----------------
function corpus(side) {
  const file = join(dataDir, `${side}-${mb}MB.perf.txt`);
  if (existsSync(file)) return file;
  mkdirSync(dataDir, { recursive: true });
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
    ...readdirSync(join(shared, 'generated/c-recsvc', side))
      .filter((f) => f.endsWith('.perf.txt'))
      .map((f) => join(shared, 'generated/c-recsvc', side, f)),
  ];
  // Each piece ends with a blank line so events never run together.
  const unit = fixtures.map((f) => `${readFileSync(f, 'utf8').replace(/\n*$/, '')}\n\n`).join('');
  const copies = Math.max(1, Math.round((mb * 1e6) / Buffer.byteLength(unit)));
  const chunk = Buffer.from(unit);
  const bufs = Array.from({ length: copies }, () => chunk);
  writeFileSync(file, Buffer.concat(bufs));
  return file;
}

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
async function timed(fn) {
  const c0 = cpu();
  const t0 = performance.now();
  const out = await fn();
  return { cpu_s: cpu() - c0, wall_s: (performance.now() - t0) / 1000, out };
}

// The naive anchor: a streaming collapser of the kind anyone writes first.
async function naiveCollapse(file) {
  const counts = new Map();
  let stack = [];
  let comm = '';
  let period = 1;
  let carry = '';
  const onLine = (line) => {
    if (line.startsWith('#')) return;
    if (line.trim() === '') {
      if (comm) {
        const key = [comm, ...stack.reverse()].join(';');
        counts.set(key, (counts.get(key) ?? 0) + period);
      }
      stack = [];
      comm = '';
      return;
    }
    if (line[0] === '\t' || line[0] === ' ') {
      const m = /^\s*\S+\s+(.+?)(\+0x[0-9a-f]+)? \((.*)\)$/.exec(line);
      if (m) stack.push(m[1].replace(/\(.*/, '').replaceAll(';', ':'));
      return;
    }
    const m = /^(\S.*?)\s+\d+(\/\d+)?\s.*?(\d+)?\s+\S+:\s*$/.exec(line);
    comm = m ? m[1].replaceAll(' ', '_') : '?';
    period = m?.[3] ? Number(m[3]) : 1;
  };
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const lines = (carry + chunk).split('\n');
    carry = lines.pop();
    for (const l of lines) onLine(l);
  }
  onLine(carry);
  onLine('');
  return counts.size;
}

function timeCommand(cmd, args, stdoutFile) {
  const hasTime = existsSync('/usr/bin/time');
  const t0 = performance.now();
  const r = hasTime
    ? spawnSync('/usr/bin/time', ['-f', '%U %S', cmd, ...args], { maxBuffer: 1 << 30 })
    : spawnSync(cmd, args, { maxBuffer: 1 << 30 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  if (stdoutFile) writeFileSync(stdoutFile, r.stdout);
  const [u, s] = hasTime ? String(r.stderr).trim().split('\n').pop().split(' ').map(Number) : [wall, 0];
  return { cpu_s: u + s, wall_s: wall };
}

const base = corpus('base');
const head = corpus('head');
const sizeMB = (f) => statSync(f).size / 1e6;
const rows = [];
const row = (name, mbIn, t, extra = {}) => {
  const r = {
    name,
    mb: +mbIn.toFixed(1),
    cpu_s: +t.cpu_s.toFixed(3),
    wall_s: +t.wall_s.toFixed(3),
    mb_per_cpu_s: +(mbIn / t.cpu_s).toFixed(1),
    ...extra,
  };
  rows.push(r);
  console.log(`${name.padEnd(40)} ${r.mb} MB  cpu ${r.cpu_s}s  wall ${r.wall_s}s  ${r.mb_per_cpu_s} MB/s cpu`);
  return r;
};

// Parsing, best of 3 (the machine is noisy).
const best = async (fn) => {
  let b;
  for (let i = 0; i < 3; i++) {
    const t = await fn();
    if (!b || t.cpu_s < b.cpu_s) b = t;
  }
  return b;
};
const ours = row('recall: parse perf text (base)', sizeMB(base), await best(() => timed(() => readProfile(base))));
const naive = row('naive JS collapser (anchor)', sizeMB(base), await best(() => timed(() => naiveCollapse(base))));
// Memory stays flat with input size (streaming): peak RSS of a child that parses the base side.
const rssChild = spawnSync(process.execPath, [
  '--input-type=module',
  '-e',
  `import { readProfile } from ${JSON.stringify(new URL('../dist/core/profile/read.js', import.meta.url).href)}; await readProfile(${JSON.stringify(base)}); console.log(process.resourceUsage().maxRSS);`,
]);
const peakRssMB = Number(String(rssChild.stdout).trim()) / 1024;
console.log(`peak RSS parsing ${sizeMB(base).toFixed(0)} MB: ${peakRssMB.toFixed(0)} MB`);
const out = join(dataDir, 'out');
mkdirSync(out, { recursive: true });
const wholeDiff = (threads) =>
  timed(() =>
    diff([base], [head], {}, { html: join(out, 'diff.html'), json: join(out, 'summary.json'), tool: 'bench' }, { read: {}, threads }),
  );
const whole1 = row('recall: whole diff, 1 thread (html+json)', sizeMB(base) + sizeMB(head), await best(() => wholeDiff(1)));
const whole = row('recall: whole diff, 2 threads (html+json)', sizeMB(base) + sizeMB(head), await best(() => wholeDiff(2)));

let perl = null;
if (flamegraphDir && existsSync(join(flamegraphDir, 'stackcollapse-perf.pl'))) {
  const p = (s) => join(flamegraphDir, s);
  const a = timeCommand('perl', [p('stackcollapse-perf.pl'), base], join(out, 'base.folded'));
  const b = timeCommand('perl', [p('stackcollapse-perf.pl'), head], join(out, 'head.folded'));
  const d = timeCommand('perl', [p('difffolded.pl'), '-n', join(out, 'base.folded'), join(out, 'head.folded')], join(out, 'diff.folded'));
  const g = timeCommand('perl', [p('flamegraph.pl'), join(out, 'diff.folded')], join(out, 'diff.svg'));
  row('perl stackcollapse-perf.pl (base)', sizeMB(base), a);
  const total = { cpu_s: a.cpu_s + b.cpu_s + d.cpu_s + g.cpu_s, wall_s: a.wall_s + b.wall_s + d.wall_s + g.wall_s };
  perl = row('perl pipeline (collapse x2, difffolded -n, flamegraph.pl)', sizeMB(base) + sizeMB(head), total);
}

const result = {
  bench: 'profile',
  date: new Date().toISOString(),
  corpus_mb_per_side: mb,
  peak_rss_mb_parsing_one_side: +peakRssMB.toFixed(1),
  rows,
  ratios: {
    parse_vs_naive_cpu: +(naive.cpu_s / ours.cpu_s).toFixed(2),
    whole_2_threads_vs_1_wall: +(whole1.wall_s / whole.wall_s).toFixed(2),
    ...(perl
      ? {
          parse_vs_perl_cpu: +(rows.find((r) => r.name.startsWith('perl stackcollapse')).cpu_s / ours.cpu_s).toFixed(2),
          whole_vs_perl_wall: +(perl.wall_s / whole.wall_s).toFixed(2),
          whole_1_thread_vs_perl_cpu: +(perl.cpu_s / whole1.cpu_s).toFixed(2),
        }
      : { note: 'FlameGraph not timed (set FLAMEGRAPH_DIR); spec anchor: stackcollapse-perf.pl 11-20 MB/s CPU, pipeline 13-17 MB/s CPU' }),
  },
};
console.log(result.ratios);
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/profile.json'), `${JSON.stringify(result, null, 2)}\n`);
