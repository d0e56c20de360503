// A synthetic service profiled version after version: perf script text per pod with per-pod
// noise, planted regressions (persistent, transient, cost shifts between caller and callee), and
// a git repository whose commits between version tags touch the files of the changed functions
// (plus unrelated commits). Everything the tests assert is derived from the returned plan.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';

/** Call tree: function -> parent, base self share (%), sums to 100. */
export const TREE = {
  main: [null, 1],
  handle_request: ['main', 3],
  parse_request: ['handle_request', 8],
  score_candidates: ['handle_request', 6],
  dot_product: ['score_candidates', 20],
  load_features: ['score_candidates', 10],
  hash_lookup: ['load_features', 6],
  rank_topk: ['handle_request', 12],
  serialize_response: ['handle_request', 4],
  encode_json: ['serialize_response', 10],
  compress_block: ['serialize_response', 8],
  gc_sweep: ['main', 7],
  log_flush: ['main', 5],
};

export function pathOf(fn) {
  const p = [];
  for (let f = fn; f; f = TREE[f][0]) p.unshift(f);
  return p;
}

export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The default plan: kind persistent (from `at` on), transient (versions at..until-1), shift
 * (`pp` of self moves from `from` to `fn`, persistent).
 */
export function defaultPlan(seed = 1) {
  const rnd = mulberry32(seed);
  // Versions of each planted change drawn from the seed (distinct, away from the ends).
  const slots = [3, 5, 7, 9, 11, 13, 15, 17].sort(() => rnd() - 0.5);
  return [
    { kind: 'persistent', fn: 'dot_product', pp: 2, at: slots[0] },
    { kind: 'persistent', fn: 'encode_json', pp: 1.5, at: slots[1] },
    { kind: 'persistent', fn: 'rank_topk', pp: 3, at: slots[2] },
    { kind: 'persistent', fn: 'gc_sweep', pp: 0.5, at: slots[3] },
    { kind: 'transient', fn: 'parse_request', pp: 2.5, at: slots[4], until: slots[4] + 1 },
    { kind: 'transient', fn: 'compress_block', pp: 2, at: slots[5], until: slots[5] + 2 },
    { kind: 'shift', fn: 'hash_lookup', from: 'load_features', pp: 2, at: slots[6] },
    { kind: 'shift', fn: 'encode_json', from: 'serialize_response', pp: 2.5, at: slots[7] },
  ];
}

/** Self shares (%) of version v under the plan (no noise). */
export function sharesAt(v, plan) {
  const s = Object.fromEntries(Object.entries(TREE).map(([f, [, w]]) => [f, w]));
  for (const p of plan) {
    const active = v >= p.at && (p.kind !== 'transient' || v < p.until);
    if (!active) continue;
    if (p.kind === 'shift') {
      s[p.from] -= p.pp;
      s[p.fn] += p.pp;
    } else {
      // Take the pp proportionally from everything else: the share rises by exactly pp.
      const rest = 100 - s[p.fn];
      for (const f of Object.keys(s)) if (f !== p.fn) s[f] *= (rest - p.pp) / rest;
      s[p.fn] += p.pp;
    }
  }
  return s;
}

const PERIOD = 1000000;

/**
 * One pod's perf script text: `samples` events, counts = share x per-pod noise. With `spread` > 0
 * each sample runs under one of `spread` dispatch frames (`worker_N` between main and the rest),
 * so a pod holds up to 13 x spread distinct stacks instead of 13; self shares are unchanged.
 */
export function perfText(shares, samples, rnd, noise, spread = 0) {
  const counts = {};
  let sum = 0;
  for (const [f, s] of Object.entries(shares)) {
    counts[f] = Math.max(0, s * (1 + noise * (rnd() * 2 - 1)));
    sum += counts[f];
  }
  const out = [];
  let t = 1000;
  const frame = (fn) => `\t    ${(0x1000 + fn.length * 16).toString(16)} ${fn}+0x1${fn.length} (/opt/svc/bin/svc)\n`;
  for (const [f, c] of Object.entries(counts)) {
    const n = Math.round((c / sum) * samples);
    const path = pathOf(f).reverse();
    const frames = path.map(frame).join('');
    const variants = new Map();
    const framesUnder = (w) => {
      let v = variants.get(w);
      if (v === undefined) {
        const p = path.length > 1 ? [...path.slice(0, -1), `worker_${w}`, path.at(-1)] : path;
        variants.set(w, (v = p.map(frame).join('')));
      }
      return v;
    };
    for (let i = 0; i < n; i++) {
      t += 0.001;
      out.push(`svc 4242 ${t.toFixed(6)}: ${PERIOD} cpu-clock:pppH: \n${spread > 0 ? framesUnder(Math.floor(rnd() * spread)) : frames}\n`);
    }
  }
  return out.join('');
}

function git(repo, ...args) {
  return execFileSync('git', ['-C', repo, ...args], {
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@x',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@x',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: repo,
    },
  }).trim();
}

/**
 * Write the series under dir/profiles/v{NN}/pod-{k}.perf.txt and a git repo under dir/repo whose
 * commit per version is returned. Between versions: unrelated commits and, where the plan changes
 * a function, one commit touching src/<fn>.c (never the newest of the range).
 */
export function writeSeries(dir, options = {}) {
  const s = seriesVersions(dir, options);
  return { repo: s.repo, plan: s.plan, versions: [...s.versions] };
}

/** writeSeries one version at a time (`versions` is an iterator): a caller can consume and delete each. */
export function seriesVersions(
  dir,
  { versions = 22, pods = 3, samples = 6000, noise = 0.02, seed = 1, plan = defaultPlan(seed), spread = 0 } = {},
) {
  const rnd = mulberry32(seed * 7919);
  const repo = join(dir, 'repo');
  mkdirSync(join(repo, 'src'), { recursive: true });
  git(repo, 'init', '-q', '-b', 'main');
  for (const f of Object.keys(TREE)) writeFileSync(join(repo, 'src', `${f}.c`), `void ${f}(void) {\n  /* v0 */\n}\n`);
  writeFileSync(join(repo, 'src', 'util.c'), 'int util(void) { return 0; }\n');
  writeFileSync(join(repo, 'README.md'), '# svc\n');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'initial');
  const t0 = Date.parse('2026-11-01T00:00:00Z');
  function* each() {
    for (let v = 0; v < versions; v++) {
      if (v > 0) {
        const changed = plan.filter((p) => p.at === v || (p.kind === 'transient' && p.until === v));
        const unrelated = () => {
          const f = rnd() < 0.5 ? 'README.md' : join('src', 'util.c');
          appendFileSync(join(repo, f), `// tweak ${v} ${rnd().toString(36).slice(2, 6)}\n`);
          git(repo, 'commit', '-q', '-am', `chore: tidy ${f} for v${v}`);
        };
        unrelated();
        for (const p of changed) {
          appendFileSync(join(repo, 'src', `${p.fn}.c`), `/* v${v}: ${p.kind} change */\nstatic int extra_${v}_${p.fn.length} = 1;\n`);
          git(repo, 'commit', '-q', '-am', `perf-relevant change ${v}`);
          if (p.kind === 'shift') {
            appendFileSync(join(repo, 'src', `${p.from}.c`), `/* v${v}: moved work out */\n`);
            git(repo, 'commit', '-q', '-am', `refactor ${v}`);
          }
        }
        unrelated();
        unrelated();
      }
      const commit = git(repo, 'rev-parse', 'HEAD');
      const version = `v${String(v).padStart(2, '0')}`;
      const shares = sharesAt(v, plan);
      const files = [];
      mkdirSync(join(dir, 'profiles', version), { recursive: true });
      for (let k = 1; k <= pods; k++) {
        const file = join(dir, 'profiles', version, `pod-${k}.perf.txt`);
        writeFileSync(file, perfText(shares, samples, rnd, noise, spread));
        files.push(file);
      }
      yield { version, index: v, commit, time: new Date(t0 + v * 86400000).toISOString(), files, shares };
    }
  }
  return { repo, plan, versions: each() };
}

/** Self share (%) of fn in perf text, computed straight from the text (leaf = first frame). */
export function selfShareOfText(text, fn) {
  let total = 0;
  let self = 0;
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n').filter(Boolean);
    if (lines.length < 2) continue;
    const w = Number(/:\s+(\d+)\s+cpu-clock/.exec(lines[0])[1]);
    total += w;
    const leaf = lines[1]
      .trim()
      .split(' ')[1]
      .replace(/\+0x[0-9a-f]+$/, '');
    if (leaf === fn) self += w;
  }
  return (self / total) * 100;
}
