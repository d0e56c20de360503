// `recall profile ingest | diff --store | history | regressions` on a generated version series
// (test/helpers/profile-series.mjs): expectations come from the generator's plan and from the
// perf text itself, never from recall's own output.
// recall-test: alone (it times or kills processes, or bounds memory: run with no other test file)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ingest } from '../dist/core/profile/store/ingest.js';
import { StoreReader } from '../dist/core/profile/store/query.js';
import { readProfile } from '../dist/core/profile/read.js';
import { gzipSync } from 'node:zlib';
import { bin, recall, recallWarm, root, scratchDir } from './helpers/cli.mjs';
import { mulberry32, selfShareOfText, writeSeries } from './helpers/profile-series.mjs';

const dir = scratchDir('profile-store');
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(args, code = 0) {
  const r = await recallWarm([...args, '--json']);
  assert.equal(r.code, code, `recall ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function storedProfiles(store) {
  const r = await StoreReader.open(store);
  try {
    const pods = await r.pods(r.profiles);
    return { profiles: r.profiles, pods };
  } finally {
    r.dispose();
  }
}

describe('profile store on a 22-version x 3-pod series', () => {
  const series = writeSeries(join(dir, 'series'), { versions: 22, pods: 3, seed: 21 });
  const store = join(dir, 'series-store');
  const ingested = [];

  before(async () => {
    // The first version through the CLI, the rest through the same function in this process
    // (a process start-up per version was most of this file's time).
    for (const v of series.versions)
      ingested.push(
        v.index === 0
          ? await run([
              'profile',
              'ingest',
              ...v.files,
              '--store',
              store,
              '--label',
              `app=svc,version=${v.version}`,
              '--label',
              `commit=${v.commit}`,
              '--time',
              v.time,
              '-q',
            ])
          : await ingest(v.files, { store, labels: { app: 'svc', version: v.version, commit: v.commit }, time: v.time }, { read: {} }),
      );
  });

  it('ingest stores every pod once with its labels; ingesting again adds nothing', async () => {
    assert.equal(
      ingested.reduce((a, r) => a + r.added.length, 0),
      22 * 3,
    );
    const v = series.versions[4];
    const again = await run([
      'profile',
      'ingest',
      ...v.files,
      '--store',
      store,
      '--label',
      `app=svc,version=${v.version}`,
      '--label',
      `commit=${v.commit}`,
      '--time',
      v.time,
    ]);
    assert.equal(again.added.length, 0);
    assert.equal(again.skipped.length, 3);
    assert.ok(again.skipped.every((s) => s.reason === 'already in the store'));
    const { profiles, pods } = await storedProfiles(store);
    assert.equal(profiles.length, 66);
    // Totals read back equal the sample counts in the text (one event per sample, fixed period).
    const events = series.versions.flatMap((x) => x.files).map((f) => (readFileSync(f, 'utf8').match(/cpu-clock/g) ?? []).length);
    assert.equal(
      pods.reduce((a, p) => a + p.totalSamples, 0),
      events.reduce((a, b) => a + b, 0),
    );
    // Partitioned by app and day.
    assert.ok(existsSync(join(store, 'profiles', 'app=svc', `day=${series.versions[0].time.slice(0, 10)}`)));
  });

  it('regressions: persistent rises >= 1 pp found at their first version, transients and cost shifts not, the changing commit ranks first', async () => {
    const r = await recallWarm([
      'profile',
      'regressions',
      '--store',
      store,
      '--app',
      'svc',
      '--repo',
      series.repo,
      '--confirm',
      '2',
      '--json',
      '-o',
      join(dir, 'reg.html'),
      '--md-out',
      join(dir, 'reg.md'),
      '--diff-dir',
      join(dir, 'diffs'),
    ]);
    assert.equal(r.code, 4, r.stderr);
    const out = JSON.parse(r.stdout);
    const flagged = out.regressions.map((g) => `${g.function}@${g.version}`);
    const ver = (i) => `v${String(i).padStart(2, '0')}`;
    for (const p of series.plan.filter((x) => x.kind === 'persistent' && x.pp >= 1)) {
      const g = out.regressions.find((x) => x.function === p.fn && x.version === ver(p.at));
      assert.ok(g, `${p.fn} +${p.pp} pp at ${ver(p.at)} not found; flagged: ${flagged.join(' ')}`);
      assert.ok(Math.abs(g.deltaPp - p.pp) < 0.5, `${p.fn}: delta ${g.deltaPp} vs planted ${p.pp}`);
      assert.ok(g.candidates[0].files.includes(`src/${p.fn}.c`), `${p.fn}: top candidate ${JSON.stringify(g.candidates[0])}`);
      assert.ok(g.candidates.length > 1, 'unrelated commits are listed too');
      assert.equal(g.status, 'open');
    }
    for (const p of series.plan.filter((x) => x.kind !== 'persistent')) {
      assert.ok(!flagged.includes(`${p.fn}@${ver(p.at)}`), `${p.kind} ${p.fn} at ${ver(p.at)} flagged`);
      if (p.kind === 'shift') assert.ok(!flagged.includes(`${p.from}@${ver(p.at)}`));
    }
    // Nothing else: every flag is a planted persistent change (the 0.5 pp one may or may not be).
    const planted = new Set(series.plan.filter((x) => x.kind === 'persistent').map((p) => `${p.fn}@${ver(p.at)}`));
    for (const f of flagged) assert.ok(planted.has(f), `unexpected regression ${f}`);
    // The suppressed list names why.
    const reasons = new Map(out.suppressed.map((s) => [`${s.function}@${s.version}`, s.reason]));
    for (const p of series.plan.filter((x) => x.kind === 'transient')) assert.equal(reasons.get(`${p.fn}@${ver(p.at)}`), 'went-away');
    for (const p of series.plan.filter((x) => x.kind === 'shift' && x.pp >= 1))
      assert.equal(reasons.get(`${p.fn}@${ver(p.at)}`), 'cost-shift');
    const html = readFileSync(join(dir, 'reg.html'), 'utf8');
    assert.match(html, /<svg/);
    for (const g of out.regressions) {
      assert.equal(g.diffPage, join('diffs', `${g.id}.html`));
      assert.ok(html.includes(`href="${g.diffPage}"`));
      assert.match(readFileSync(join(dir, g.diffPage), 'utf8'), new RegExp(g.function));
    }
    assert.match(readFileSync(join(dir, 'reg.md'), 'utf8'), /rank_topk/);

    // Lifecycle: a second scan finds nothing new (exit 0); --accept records status and reason.
    const second = await run(['profile', 'regressions', '--store', store, '--app', 'svc', '--confirm', '2']);
    assert.equal(second.newRegressions, 0);
    const id = out.regressions[0].id;
    const acc = await run(['profile', 'regressions', '--store', store, '--accept', id, '--reason', 'expected: new model']);
    assert.equal(acc.accepted.status, 'accepted');
    const third = await run(['profile', 'regressions', '--store', store, '--app', 'svc']);
    assert.equal(third.lifecycle.find((e) => e.id === id).status, 'accepted');
    assert.equal(third.lifecycle.find((e) => e.id === id).reason, 'expected: new model');
    await run(['profile', 'regressions', '--store', store, '--accept', 'nope', '--reason', 'x'], 2);
  });

  it('history equals the shares computed from the perf text, per version, with the pod range', async () => {
    const fn = series.plan.find((x) => x.kind === 'persistent' && x.pp >= 2).fn;
    const h = await run(['profile', 'history', '--store', store, '--app', 'svc', '--function', fn, '-o', join(dir, 'hist.html')]);
    assert.equal(h.functions[0].points.length, 22);
    for (const [i, v] of series.versions.entries()) {
      const texts = v.files.map((f) => readFileSync(f, 'utf8'));
      const merged = selfShareOfText(texts.join('\n'), fn);
      const per = texts.map((t) => selfShareOfText(t, fn));
      const p = h.functions[0].points[i];
      assert.equal(p.key, v.version);
      assert.ok(Math.abs(p.selfPct - merged) < 1e-9, `${v.version}: ${p.selfPct} vs ${merged}`);
      assert.ok(Math.abs(p.selfPodMinPct - Math.min(...per)) < 1e-9);
      assert.ok(Math.abs(p.selfPodMaxPct - Math.max(...per)) < 1e-9);
    }
    assert.match(readFileSync(join(dir, 'hist.html'), 'utf8'), /<polyline/);
    // --by day: one point per UTC day of the start times (one version a day here), same values.
    const byDay = await run(['profile', 'history', '--store', store, '--app', 'svc', '--function', fn, '--by', 'day']);
    assert.deepEqual(
      byDay.functions[0].points.map((p) => p.key),
      series.versions.map((v) => v.time.slice(0, 10)),
    );
    assert.deepEqual(
      byDay.functions[0].points.map((p) => p.selfPct),
      h.functions[0].points.map((p) => p.selfPct),
    );
    // --top: the function with the largest planted net move leads.
    const top = await run(['profile', 'history', '--store', store, '--app', 'svc', '--top', '3']);
    assert.equal(top.functions.length, 3);
    const moved = (n) => Math.max(...series.versions.map((v) => v.shares[n])) - Math.min(...series.versions.map((v) => v.shares[n]));
    const best = Object.keys(series.versions[0].shares).sort((a, b) => moved(b) - moved(a))[0];
    assert.equal(top.functions[0].name, best);
  });

  it('diff --store equals diff of the same files (functions, verdict), --where filters, no match is exit 2', async () => {
    const p = series.plan.find((x) => x.kind === 'persistent' && x.pp >= 2);
    const [b, h] = [series.versions[p.at - 1], series.versions[p.at]];
    const fromStore = await run(
      [
        'profile',
        'diff',
        '--store',
        store,
        '--base',
        `app=svc,version=${b.version}`,
        '--head',
        `app=svc,version=${h.version}`,
        '--metric',
        'self',
      ],
      4,
    );
    const fromFiles = await run(['profile', 'diff', '--base', ...b.files, '--head', ...h.files, '--metric', 'self'], 4);
    const strip = (d) => d.functions.map((f) => [f.name, f.deltaPp, f.z, f.podsAgree, f.gated]);
    assert.deepEqual(strip(fromStore), strip(fromFiles));
    assert.ok(fromStore.functions.find((f) => f.name === p.fn).gated);
    assert.equal(fromStore.sides.base.pods, 3);
    await run(
      [
        'profile',
        'diff',
        '--store',
        store,
        '--base',
        `app=svc,version=${b.version}`,
        '--head',
        `app=svc,version=${h.version}`,
        '--where',
        'dc=nowhere',
      ],
      2,
    );
  });
});

describe('ingest: labels, bad inputs, crashes, concurrency', () => {
  const small = writeSeries(join(dir, 'small'), { versions: 4, pods: 3, samples: 3000, seed: 5, plan: [] });

  it('--labels-from takes labels from paths; --label wins', async () => {
    const src = join(dir, 'bulk');
    for (const v of small.versions)
      for (const [k, f] of v.files.entries()) {
        mkdirSync(join(src, 'svc', v.version), { recursive: true });
        copyFileSync(f, join(src, 'svc', v.version, `pod${k}.perf.txt`));
      }
    const store = join(dir, 'bulk-store');
    const r = await run([
      'profile',
      'ingest',
      src,
      '--store',
      store,
      '--labels-from',
      '{app}/{version}/{pod}.perf.txt',
      '--label',
      'dc=eu',
    ]);
    assert.equal(r.added.length, 12);
    const got = r.added.map((a) => a.labels).find((l) => l.version === 'v02' && l.pod === 'pod1');
    assert.deepEqual(got, { app: 'svc', version: 'v02', pod: 'pod1', dc: 'eu' });
    await run(['profile', 'ingest', src, '--store', store, '--labels-from', '{app}/{version}/{pod}.folded'], 2);
  });

  it('refuses a profile without app or version (exit 2) and an unparsable one (exit 3): nothing stored', async () => {
    const store = join(dir, 'bad-store');
    await run(['profile', 'ingest', ...small.versions[0].files, '--store', store, '--label', 'app=svc'], 2);
    await run(['profile', 'ingest', ...small.versions[0].files, '--store', store, '--label', 'version=1'], 2);
    const junk = join(dir, 'junk.perf.txt');
    writeFileSync(junk, '{"not": "a profile"}\n');
    await run(['profile', 'ingest', small.versions[0].files[0], junk, '--store', store, '--label', 'app=svc,version=1'], 3);
    assert.ok(!existsSync(join(store, 'commits')) || readdirSync(join(store, 'commits')).length === 0);
    assert.equal((await storedProfiles(store)).profiles.length, 0);
    await run(['profile', 'ingest', join(dir, 'no-such-file'), '--store', store, '--label', 'app=svc,version=1'], 2);
  });

  it('kill -9 at 12 random moments leaves a readable store; the next ingest completes, each profile once', async () => {
    const store = join(dir, 'kill-store');
    const files = small.versions.flatMap((v) => v.files);
    const expected = files.map((f) => (readFileSync(f, 'utf8').match(/cpu-clock/g) ?? []).length).reduce((a, b) => a + b, 0);
    const rnd = mulberry32(99);
    // Time one full ingest to spread the kills over it.
    const argsFor = (st) => ['profile', 'ingest', ...files, '--store', st, '--label', 'app=svc,version=k', '-q'];
    const args = argsFor(store);
    const t0 = Date.now();
    const full = await recall(argsFor(join(dir, 'kill-timing')));
    assert.equal(full.code, 0, full.stderr);
    const span = Date.now() - t0;
    let killedMidway = 0;
    for (let i = 0; i < 12; i++) {
      const delay = Math.floor(span * (0.3 + 0.65 * rnd())); // past start-up: parsing, parquet writes, commit
      const r = await new Promise((resolve) => {
        const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: 'ignore' });
        const timer = setTimeout(() => child.kill('SIGKILL'), delay);
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          resolve({ code, signal });
        });
      });
      if (r.signal === 'SIGKILL') killedMidway++;
      const { profiles, pods } = await storedProfiles(store);
      // Either nothing of this ingest or all of it.
      assert.ok(profiles.length === 0 || profiles.length === files.length, `after kill ${i} at ${delay} ms: ${profiles.length} profiles`);
      if (profiles.length)
        assert.equal(
          pods.reduce((a, p) => a + p.totalSamples, 0),
          expected,
        );
      if (profiles.length) rmSync(store, { recursive: true, force: true }); // start over so later kills hit a fresh ingest
    }
    assert.ok(killedMidway >= 10, `only ${killedMidway} kills landed before the ingest finished`);
    const last = await run(args);
    assert.equal(last.added.length, files.length);
    const { profiles, pods } = await storedProfiles(store);
    assert.equal(profiles.length, files.length);
    assert.equal(
      pods.reduce((a, p) => a + p.totalSamples, 0),
      expected,
    );
  });

  it('lifecycle: an open regression is marked fixed once its share returns; --since limits the scan', async () => {
    // rank_topk +3 pp from v02, reverted at v06 (a real regression, later fixed).
    const plan = [{ kind: 'transient', fn: 'rank_topk', pp: 3, at: 2, until: 6 }];
    const s = writeSeries(join(dir, 'fix'), { versions: 8, pods: 3, samples: 4000, seed: 8, plan });
    const store = join(dir, 'fix-store');
    const add = (v) => ingest(v.files, { store, labels: { app: 'svc', version: v.version, commit: v.commit }, time: v.time }, { read: {} });
    for (const v of s.versions.slice(0, 6)) await add(v);
    const r1 = await recallWarm(['profile', 'regressions', '--store', store, '--app', 'svc', '--repo', s.repo, '--json']);
    assert.equal(r1.code, 4, r1.stderr);
    const open = JSON.parse(r1.stdout);
    assert.deepEqual(
      open.regressions.map((g) => `${g.function}@${g.version}:${g.status}`),
      ['rank_topk@v02:open'],
    );
    for (const v of s.versions.slice(6)) await add(v);
    const r2 = await run(['profile', 'regressions', '--store', store, '--app', 'svc']);
    const e = r2.lifecycle.find((x) => x.id === open.regressions[0].id);
    assert.equal(e.status, 'fixed');
    assert.equal(r2.newRegressions, 0);
    // --since after the regression: nothing to report, the first compared version is v04 -> v05.
    const r3 = await run(['profile', 'regressions', '--store', store, '--app', 'svc', '--since', 'v05']);
    assert.deepEqual(
      r3.versions.map((v) => v.version),
      ['v04', 'v05', 'v06', 'v07'],
    );
    assert.equal(r3.regressions.length, 0);
  });

  it('pprof, async-profiler collapsed and gzipped perf text read back equal to the readers', async () => {
    const gz = join(dir, 'pod.perf.txt.gz');
    writeFileSync(gz, gzipSync(readFileSync(small.versions[0].files[0])));
    const inputs = [
      join(root, '../shared/data/profiles/pprof/sample.cpu.pb.gz'),
      join(root, '../shared/data/profiles/async-profiler/sample1.collapsed'),
      gz,
    ];
    const store = join(dir, 'formats-store');
    for (const [i, f] of inputs.entries()) await run(['profile', 'ingest', f, '--store', store, '--label', `app=f${i},version=1`]);
    const r = await StoreReader.open(store);
    try {
      for (const [i, f] of inputs.entries()) {
        const want = await readProfile(f);
        const [pod] = await r.pods(r.select({ app: `f${i}` }));
        assert.equal(pod.unit, want.unit);
        assert.equal(pod.totalSamples, want.totalSamples);
        assert.deepEqual(new Map([...pod.stacks].sort()), new Map([...want.stacks].sort()), f);
      }
    } finally {
      r.dispose();
    }
  });

  it('two concurrent ingests both land', async () => {
    const store = join(dir, 'concurrent-store');
    const [a, b] = await Promise.all(
      [small.versions[1], small.versions[2]].map((v) =>
        run(['profile', 'ingest', ...v.files, '--store', store, '--label', `app=svc,version=${v.version}`, '-q']),
      ),
    );
    assert.equal(a.added.length + b.added.length, 6);
    const { profiles } = await storedProfiles(store);
    assert.deepEqual(profiles.map((p) => p.version).sort(), ['v01', 'v01', 'v01', 'v02', 'v02', 'v02']);
  });

  it('concurrent ingests in one process (one shared DuckDB instance) keep their rows apart', async () => {
    const stores = ['inproc-a', 'inproc-b', 'inproc-a'].map((s) => join(dir, s));
    const versions = [small.versions[0], small.versions[1], small.versions[2]];
    const results = await Promise.all(
      versions.map((v, i) => ingest(v.files, { store: stores[i], labels: { app: 'svc', version: v.version } }, { read: {} })),
    );
    assert.deepEqual(
      results.map((r) => r.added.length),
      [3, 3, 3],
    );
    for (const [name, want] of [
      ['inproc-a', [versions[0], versions[2]]],
      ['inproc-b', [versions[1]]],
    ]) {
      const { profiles, pods } = await storedProfiles(join(dir, name));
      const files = want.flatMap((v) => v.files);
      assert.deepEqual(profiles.map((p) => p.source).sort(), [...files].sort(), name);
      assert.equal(pods.length, files.length);
      for (const pod of pods) {
        const direct = await readProfile(pod.source);
        assert.deepEqual(new Map([...pod.stacks].sort()), new Map([...direct.stacks].sort()), pod.source);
      }
    }
  });
});
