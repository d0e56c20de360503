// `recall profile`: readers against the reference tools' own expected
// outputs (FlameGraph, inferno, speedscope, pprof, async-profiler test data in
// ../shared/data/profiles), and the diff against the known answers of the
// generated base/head pairs (generated/EXPECTED.md).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { after, describe, it } from 'node:test';
import { readProfile } from '../dist/core/profile/read.js';
import { diffProfiles } from '../dist/core/profile/diff.js';
import { stripParams } from '../dist/core/profile/perf.js';
import { StackCounter } from '../dist/core/profile/stacks.js';
import { recall, recallWarm, root, scratchDir } from './helpers/cli.mjs';

const P = join(root, '../shared/data/profiles');
const FG = join(P, 'flamegraph/test');
const INF = join(P, 'inferno');
const GEN = join(P, 'generated');
const dir = scratchDir('profile');
after(() => rmSync(dir, { recursive: true, force: true }));

const OPTIONS = {
  pid: { pid: true },
  tid: { tid: true },
  kernel: { kernel: true },
  jit: { jit: true },
  all: { kernel: true, jit: true },
  addrs: { addrs: true },
};
const folded = (pod) => {
  const c = new StackCounter();
  for (const [k, v] of pod.stacks) c.add(k, v.weight, v.samples);
  return c.toFolded();
};
const lines = (text) => text.split('\n').filter(Boolean).sort();
const flamegraphCompat = { tidy: 'first-paren', keepUnterminated: false };

async function run(args, code = 0) {
  const r = await recallWarm([...args, '--json']);
  assert.equal(r.code, code, `recall ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

describe('perf script collapse', () => {
  const inputs = readdirSync(FG).filter((f) => f.endsWith('.txt'));

  it("every FlameGraph fixture x option equals stackcollapse-perf.pl's expected output (--compat flamegraph)", async () => {
    let compared = 0;
    for (const f of inputs)
      for (const [opt, o] of Object.entries(OPTIONS)) {
        const pod = await readProfile(join(FG, f), { ...o, ...flamegraphCompat });
        let expected = readFileSync(join(FG, 'results', `${f.replace('.txt', '')}-collapsed-${opt}.txt`), 'utf8');
        // FlameGraph's committed --pid/--tid results of the Java captures predate its `$pname =~ m/^java/`
        // test: the current script tidies `java-<pid>` stacks too (8 files; checked against it).
        if (opt === 'pid' || opt === 'tid')
          expected = expected.replace(/^java-.*$/gm, (l) =>
            l
              .split(';')
              .map((fr) => (fr.startsWith('L') && fr.includes('/') ? fr.slice(1) : fr))
              .join(';'),
          );
        assert.deepEqual(lines(folded(pod)), lines(expected), `${f} --${opt}`);
        compared++;
      }
    assert.equal(compared, 78);
  });

  it('every inferno collapse-perf result, the gzipped example capture included, equals our default rules', async () => {
    const results = readdirSync(join(INF, 'collapse-perf/results'));
    assert.equal(results.length, 15);
    for (const r of results) {
      if (r === 'no-events-collapsed.txt') {
        // Deliberate difference: an empty capture is bad input (exit 3), not an empty graph.
        assert.equal(readFileSync(join(INF, 'collapse-perf/results', r), 'utf8'), '');
        await assert.rejects(readProfile(join(INF, 'collapse-perf/no-events.txt')), /no-events\.txt: no samples parsed/);
        continue;
      }
      const [, base, opt] = /^(.*)-collapsed(?:-(\w+))?\.txt$/.exec(r);
      const input =
        base === 'example-perf-stacks'
          ? join(P, 'flamegraph/example-perf-stacks.txt.gz')
          : base.startsWith('perf-')
            ? join(FG, `${base}.txt`)
            : join(INF, 'collapse-perf', `${base}.txt`);
      const pod = await readProfile(input, opt ? OPTIONS[opt] : {});
      assert.deepEqual(lines(folded(pod)), lines(readFileSync(join(INF, 'collapse-perf/results', r), 'utf8')), r);
    }
  });

  it('default rules differ from stackcollapse-perf.pl only by parameter lists, quotes and the unterminated last event', async () => {
    // Perl's first-paren cut and quote removal applied to our frames give perl's output back.
    let differing = 0;
    for (const f of inputs.filter((f) => !f.includes('rust'))) {
      const pod = await readProfile(join(FG, f), { kernel: true, keepUnterminated: false });
      const back = new StackCounter();
      for (const [k, v] of pod.stacks)
        back.add(
          k
            .split(';')
            .map((fr) => stripParams(fr, 'first-paren').replace(/["']/g, ''))
            .join(';'),
          v.weight,
          v.samples,
        );
      const expected = readFileSync(join(FG, 'results', `${f.replace('.txt', '')}-collapsed-kernel.txt`), 'utf8');
      assert.deepEqual(lines(back.toFolded()), lines(expected), f);
      if (folded(pod) !== back.toFolded()) differing++;
    }
    assert.ok(differing >= 1, 'some fixtures have parameter lists, so the rules do differ there');
  });

  it('perf weights are periods, one event is kept, durations come from timestamps', async () => {
    // The first event seen (instructions) is kept, the other reported; --event picks it.
    const two = await readProfile(join(FG, 'perf-cycles-instructions-01.txt'));
    assert.equal(two.event, 'instructions');
    assert.match(two.warnings.join('\n'), /sample\(s\) of event cycles skipped: only instructions is kept \(pick one with --event\)/);
    const cycles = await readProfile(join(FG, 'perf-cycles-instructions-01.txt'), { event: 'cycles' });
    assert.equal(cycles.event, 'cycles');
    assert.notEqual(cycles.totalWeight, two.totalWeight);
    const pod = await readProfile(join(GEN, 'c-recsvc/base/pod-1.perf.txt'));
    assert.equal(pod.unit, 'nanoseconds');
    assert.equal(pod.event, 'cpu-clock');
    assert.equal(pod.totalSamples, 1940); // EXPECTED.md: base pod-1 has 1,940 samples
    assert.ok(pod.durationNs > 5e9 && pod.durationNs < 20e9, `duration ${pod.durationNs}`);
    // The period-weighted collapse equals the committed stackcollapse-perf.pl output for every pod and layout.
    for (const side of ['base', 'head', 'head-highload'])
      for (const f of readdirSync(join(GEN, 'c-recsvc', side)).filter((f) => f.endsWith('.perf.txt'))) {
        const p = await readProfile(join(GEN, 'c-recsvc', side, f), flamegraphCompat);
        assert.equal(folded(p), readFileSync(join(GEN, 'c-recsvc', side, f.replace('.perf.txt', '.folded')), 'utf8'), `${side}/${f}`);
      }
  });

  it('speedscope captures parse without bad lines; weird lines are counted, not fatal', async () => {
    for (const f of readdirSync(join(P, 'speedscope/linux-perf'))) {
      const pod = await readProfile(join(P, 'speedscope/linux-perf', f));
      assert.equal(pod.format, 'perf', f);
      assert.equal(pod.badLines, 0, `${f}: ${pod.warnings}`);
      assert.ok(pod.totalSamples >= 1, f);
    }
    const forks = await readProfile(join(P, 'speedscope/linux-perf/forks.linux-perf.txt'));
    assert.ok(new Set([...forks.stacks.keys()].map((k) => k.split(';')[0])).size > 1, 'forks: several comms as roots');
    const weird = await readProfile(join(INF, 'collapse-guess/invalid-perf-with-empty-line-after-event-line.txt'));
    assert.equal(weird.badLines, 1);
    assert.match(weird.warnings.join('\n'), /1 line\(s\) did not parse as perf, skipped \(first: line \d+:/);
  });
});

describe('real perf captures (fixtures/profiles/perf-captures)', () => {
  // perf 6.1 `perf record -F 999 -g` of a C++ program (anonymous namespaces, templates, lambdas,
  // operator() / operator->, std:: algorithms), Node with and without --perf-basic-prof, Python;
  // the expected outputs are stackcollapse-perf.pl's (current master), kept as data.
  const CAP = join(root, 'fixtures/profiles/perf-captures');
  const CAPTURES = ['cpp', 'node', 'node-perf-basic-prof', 'python'];
  const CAP_OPTIONS = { '': {}, all: { kernel: true, jit: true }, addrs: { addrs: true }, pid: { pid: true } };
  const expected = (name, opt) =>
    gunzipSync(readFileSync(join(CAP, 'results', `${name}-collapsed${opt ? `-${opt}` : ''}.txt.gz`))).toString('utf8');

  it("every capture x option collapses to exactly stackcollapse-perf.pl's output (--compat flamegraph)", async () => {
    let compared = 0;
    for (const name of CAPTURES)
      for (const [opt, o] of Object.entries(CAP_OPTIONS)) {
        const pod = await readProfile(join(CAP, `${name}.perf.txt.gz`), { ...o, ...flamegraphCompat });
        assert.equal(folded(pod), expected(name, opt), `${name} ${opt || '(no option)'}`);
        compared++;
      }
    assert.equal(compared, 16);
  });

  it('anonymous namespaces inside template arguments are kept whole in both modes', async () => {
    const node = await readProfile(join(CAP, 'node.perf.txt.gz'), flamegraphCompat);
    const frames = new Set([...node.stacks.keys()].flatMap((k) => k.split(';')));
    const v8 = [...frames].filter((f) => f.includes('ElementsAccessorBase<'));
    assert.ok(v8.length > 0);
    for (const f of v8)
      assert.match(
        f,
        /^v8::internal::\(anonymous namespace\)::ElementsAccessorBase<v8::internal::\(anonymous namespace\)::\w+, v8::internal::\(anonymous namespace\)::ElementsKindTraits<$/,
        f,
      );
    assert.equal(
      stripParams('a::(anonymous namespace)::B<a::(anonymous namespace)::C, (E)2>::f(int)', 'first-paren'),
      'a::(anonymous namespace)::B<a::(anonymous namespace)::C, ',
    );
    assert.equal(
      stripParams('a::(anonymous namespace)::B<a::(anonymous namespace)::C, (E)2>::f(int)', 'bracket'),
      'a::(anonymous namespace)::B<a::(anonymous namespace)::C, (E)2>::f',
    );
  });

  it('default rules differ from stackcollapse-perf.pl only as docs/profiles.md lists', async () => {
    // Undo our deliberate differences (top-level `(anonymous namespace)::f` frames kept,
    // `operator->` kept, only a top-level `(` cut, quotes kept) and perl's output comes back.
    for (const name of CAPTURES) {
      const pod = await readProfile(join(CAP, `${name}.perf.txt.gz`), { keepUnterminated: false });
      const back = new StackCounter();
      for (const [k, v] of pod.stacks) {
        const frames = k.split(';').filter((f, i) => i === 0 || !f.startsWith('(anonymous namespace)'));
        back.add(
          frames.map((f) => stripParams(f.replace(/operator->$/, 'operator'), 'first-paren').replace(/["']/g, '')).join(';'),
          v.weight,
          v.samples,
        );
      }
      assert.equal(back.toFolded(), expected(name, ''), name);
    }
    const cpp = await readProfile(join(CAP, 'cpp.perf.txt.gz'));
    const frames = new Set([...cpp.stacks.keys()].flatMap((k) => k.split(';')));
    for (const f of [
      '(anonymous namespace)::Work',
      'Handle<Box>::operator->',
      'Box::operator',
      '(anonymous namespace)::Accessor<unsigned long, (anonymous namespace)::Hasher>::SortBy',
    ])
      assert.ok(frames.has(f), f);
  });
});

describe('folded and pprof readers', () => {
  const SC = join(P, 'speedscope/stackcollapse');
  it('CRLF and UTF-16 LE/BE with BOM read like the plain file; invalid lines are counted', async () => {
    const plain = folded(await readProfile(join(SC, 'simple.txt')));
    for (const f of ['simple-crlf.txt', 'simple-utf16-le.txt', 'simple-utf16-be.txt']) {
      const pod = await readProfile(join(SC, f));
      assert.equal(pod.format, 'folded', f);
      assert.equal(folded(pod), plain, f);
    }
    const inv = await readProfile(join(SC, 'simple-with-invalids.txt'));
    assert.ok(inv.badLines >= 1);
    assert.equal(folded(inv), plain);
    const bad = await readProfile(join(INF, 'flamegraph/bad-lines/bad-lines.txt'));
    assert.equal(bad.badLines, 2); // THIS IS A BAD LINE, THIS IS A BAD FRACTIONAL LINE 12V.43
    assert.equal(bad.firstBad.text, 'THIS IS A BAD LINE');
  });

  it('fractional counts are kept, spaces in frames survive, zero fractions equal integers', async () => {
    const FR = join(INF, 'flamegraph/fractional-samples');
    const frac = await readProfile(join(FR, 'fractional.txt'));
    assert.equal(frac.stacks.get('cksum;cksum').weight, 6.1);
    assert.equal(folded(await readProfile(join(FR, 'zero-fractionals.txt'))), folded(await readProfile(join(FR, 'no-fractionals.txt'))));
    const sp = await readProfile(join(FR, 'with-space.txt'));
    assert.ok(
      [...sp.stacks.keys()].some((k) => k.includes(' ')),
      'a frame with a space',
    );
  });

  it('pprof: cpu is picked over wall, inlined functions become frames, the result equals pprof2folded', async () => {
    for (const [type, sampleType] of [
      ['cpu', undefined],
      ['wall', 'wall'],
    ]) {
      const pod = await readProfile(join(GEN, 'node-nodesvc/base/pod-1.pb.gz'), { sampleType });
      assert.equal(pod.format, 'pprof');
      assert.equal(pod.event, type);
      assert.equal(folded(pod), readFileSync(join(GEN, `node-nodesvc/base/pod-1.${type}.folded`), 'utf8'), type);
    }
    const go = await readProfile(join(P, 'pprof/sample.cpu.pb.gz'));
    assert.ok(
      [...go.stacks.keys()].some((k) => k.endsWith('runtime.mapassign_fast64;runtime.tooManyOverflowBuckets')),
      'inlined frame expanded under its caller',
    );
    await assert.rejects(readProfile(join(GEN, 'node-nodesvc/base/pod-1.pb.gz'), { sampleType: 'heap' }), (e) => {
      assert.match(e.message, /pod-1\.pb\.gz: no sample type "heap"/);
      assert.match(e.fix, /sample, wall, cpu with --sample-type/);
      assert.equal(e.exit, 3);
      return true;
    });
  });

  it('pprof scale test: every sample of large.cpu is read (counted independently from the raw protobuf)', async () => {
    const pod = await readProfile(join(P, 'pprof/large.cpu.pb.gz'));
    // Walk the top-level protobuf fields: field 2 is Profile.sample.
    const buf = gunzipSync(readFileSync(join(P, 'pprof/large.cpu.pb.gz')));
    let i = 0;
    let records = 0;
    const varint = () => {
      let r = 0;
      let s = 0;
      let b;
      do {
        b = buf[i++];
        r += (b & 0x7f) * 2 ** s;
        s += 7;
      } while (b & 0x80);
      return r;
    };
    while (i < buf.length) {
      const tag = varint();
      const wire = tag & 7;
      if (wire === 2) {
        const length = varint();
        i += length;
      } else if (wire === 0) varint();
      else i += wire === 1 ? 8 : 4;
      if (Math.floor(tag / 8) === 2) records++;
    }
    assert.equal(records, 20430);
    assert.equal(pod.totalSamples, 24029); // samples/count column; cpu = 240.29 s at a 10 ms period
    assert.equal(pod.totalWeight, 240.29e9);
    assert.equal(pod.durationNs, 240359136496);
    assert.ok(pod.stacks.size > 10000);
  });
});

describe('recall profile diff: known answers', () => {
  const pods = (side, n, ext = 'folded') => Array.from({ length: n }, (_, i) => join(GEN, side, `pod-${i + 1}.${ext}`));
  const readPods = (files, o) => Promise.all(files.map((f) => readProfile(f, o)));
  const expectedFns = (name) => JSON.parse(readFileSync(join(GEN, name), 'utf8')).functions;

  for (const [pair, headSide, headPods, expected, o] of [
    ['c-recsvc', 'head', 3, 'c-recsvc/expected-base-vs-head.json', { unit: 'nanoseconds', period: 2004008 }],
    ['c-recsvc', 'head-highload', 2, 'c-recsvc/expected-base-vs-head-highload.json', { unit: 'nanoseconds', period: 2004008 }],
    ['node-nodesvc', 'head', 3, 'node-nodesvc/expected-cpu-base-vs-head.json', { unit: 'nanoseconds' }],
  ]) {
    it(`${pair} base vs ${headSide}: shares, deltas and z from the committed .folded files equal expected.py`, async () => {
      const ext = pair === 'node-nodesvc' ? 'cpu.folded' : 'folded';
      const base = await readPods(pods(`${pair}/base`, 3, ext), o);
      const head = await readPods(pods(`${pair}/${headSide}`, headPods, ext), o);
      const d = diffProfiles(base, head, { normalize: { params: false, hex: false } });
      const byName = new Map(d.summary.functions.map((f) => [f.name, f]));
      const fns = expectedFns(expected);
      assert.ok(fns.length > 5);
      for (const e of fns) {
        const g = byName.get(e.function);
        assert.ok(g, e.function);
        assert.equal(g.status, e.status, e.function);
        for (const [ours, theirs] of [
          [g.base.selfPct, e.base_self_pct],
          [g.head.selfPct, e.head_self_pct],
          [g.base.totalPct, e.base_total_pct],
          [g.head.totalPct, e.head_total_pct],
          [g.deltaPp.self, e.delta_self_pp],
          [g.deltaPp.total, e.delta_total_pp],
        ])
          assert.ok(Math.abs(ours - theirs) < 0.01, `${e.function}: ${ours} vs ${theirs}`);
        if (pair === 'c-recsvc') assert.ok(Math.abs(g.zSelf - e.z_self) < 0.01 && Math.abs(g.zTotal - e.z_total) < 0.01, `${e.function} z`);
      }
    });
  }

  it('c-recsvc from raw perf text: top regression, added and improved functions, exit 4 at 1 pp and 0 at 6 pp', async () => {
    const args = ['profile', 'diff', '--base', ...pods('c-recsvc/base', 3, 'perf.txt'), '--head', ...pods('c-recsvc/head', 3, 'perf.txt')];
    const s = await run([...args, '--metric', 'self', '--threshold-pp', '1'], 4);
    assert.equal(s.verdict, 'regression');
    const fn = (n) => s.functions.find((f) => f.name === n);
    const common = s.functions.filter((f) => f.status === 'common' && f.gated);
    assert.deepEqual(
      common.map((f) => f.name),
      ['score_candidates'],
    );
    assert.ok(fn('score_candidates').deltaPp.self > 1.2 && fn('score_candidates').deltaPp.self < 3.2);
    assert.equal(fn('dedup_results').status, 'added');
    assert.ok(fn('dedup_results').gated && fn('dedup_results').deltaPp.self > 1.5);
    assert.ok(s.improvements.some((i) => i.name === 'serialize_response' && i.deltaPp < -2));
    assert.ok(Math.abs(fn('parse_query').deltaPp.self) < 0.5 && !fn('parse_query').gated);
    // rank_topk: self share falls, inclusive rises (the new callee)
    assert.ok(fn('rank_topk').deltaPp.self < 0 && fn('rank_topk').deltaPp.total > 0);
    assert.equal(s.sides.base.pods, 3);
    assert.equal(s.sides.base.samples, 6056);
    assert.equal(s.sides.head.samples, 6253);
    assert.ok(s.sides.base.cores > 0 && s.sides.base.durationMs > 0);
    const pass = await run([...args, '--threshold-pp', '6'], 0);
    assert.equal(pass.verdict, 'pass');
  });

  it('node-nodesvc from pprof: cpu sample type, exit 4 at 1 pp and 0 at 6 pp', async () => {
    const args = [
      'profile',
      'diff',
      '--base',
      ...pods('node-nodesvc/base', 3, 'pb.gz'),
      '--head',
      ...pods('node-nodesvc/head', 3, 'pb.gz'),
    ];
    const s = await run([...args, '--metric', 'self'], 4);
    assert.equal(s.sides.base.event, 'cpu');
    const fn = (n) => s.functions.find((f) => f.name === n);
    assert.ok(Math.abs(fn('scoreCandidates').deltaPp.self - 2.83) < 0.01);
    assert.ok(Math.abs(fn('serializeResponse').deltaPp.self + 4.61) < 0.01);
    assert.equal(fn('dedupResults').status, 'added');
    await run([...args, '--threshold-pp', '6'], 0);
  });

  it('head-highload: share mode reproduces the equal-load answer, absolute per-pod mode flags everything', async () => {
    const base = await readPods(pods('c-recsvc/base', 3, 'perf.txt'));
    const high = await readPods(pods('c-recsvc/head-highload', 2, 'perf.txt'));
    const share = diffProfiles(base, high, { thresholds: { metric: 'self' } });
    const fn = (d, n) => d.summary.functions.find((f) => f.name === n);
    // EXPECTED.md: +2.50, +2.16, -3.27, -0.03 pp
    for (const [n, v] of [
      ['score_candidates', 2.5],
      ['dedup_results', 2.16],
      ['serialize_response', -3.27],
      ['parse_query', -0.03],
    ])
      assert.ok(Math.abs(fn(share, n).deltaPp.self - v) < 0.01, `${n}: ${fn(share, n).deltaPp.self}`);
    assert.equal(share.summary.mode, 'share');
    const abs = diffProfiles(base, high, { mode: 'absolute', thresholds: { metric: 'self' } });
    for (const n of ['score_candidates', 'dedup_results', 'serialize_response', 'parse_query', 'rank_topk'])
      assert.ok(fn(abs, n).deltaGatePp > 0, `absolute per pod: ${n} reads as a regression`);
    assert.match(abs.summary.warnings.join('\n'), /absolute mode compares CPU per pod: valid only when/);
    // per-unit: both sides served 3,000 requests (3 x 1000, 2 x 1500), so CPU per request tells the truth again.
    const unit = diffProfiles(base, high, { mode: 'per-unit', baseUnits: 3000, headUnits: 3000, thresholds: { metric: 'self' } });
    assert.ok(fn(unit, 'serialize_response').deltaGatePp < -2, 'serialize_response costs less per request');
    assert.ok(fn(unit, 'score_candidates').deltaGatePp > 1);
    assert.ok(Math.abs(fn(unit, 'parse_query').deltaGatePp) < 0.5);
    assert.throws(() => diffProfiles(base, high, { mode: 'per-unit' }), /per-unit mode needs the load of both sides/);
  });

  it('async-profiler pair: annotations stripped for identity, BusyClient.run self 4 -> 1, new ByteBuffer frames added', async () => {
    const s = await run([
      'profile',
      'diff',
      '--base',
      join(P, 'async-profiler/sample1.collapsed'),
      '--head',
      join(P, 'async-profiler/sample2.collapsed'),
      '--mode',
      'absolute',
    ]);
    const run_ = s.functions.find((f) => f.name === 'BusyClient.run');
    assert.equal(run_.base.self, 4);
    assert.equal(run_.head.self, 1);
    assert.ok(s.added.includes('ByteBuffer.getArray'));
    assert.ok(!s.functions.some((f) => f.name.endsWith('_[j]')));
  });

  it('recursion is counted once per stack in the inclusive view', async () => {
    const rec = await readProfile(join(P, 'speedscope/stackcollapse/recursion.txt'));
    const d = diffProfiles([rec], [rec]);
    const a = d.summary.functions.find((f) => f.name === 'a');
    // a is on 9 of the 10 stacks (18 occurrences, counting every recursive frame); it is the leaf of a;a only.
    assert.equal(a.base.total, 9);
    assert.equal(a.base.self, 1);
    assert.equal(a.base.totalPct, 90);
  });

  it('inferno diff-folded: union, --mode absolute raw counts, truncating normalisation and hex stripping reproduce', async () => {
    const D = join(INF, 'diff-folded');
    const parse = (t) =>
      new Map(
        lines(t).map((l) => {
          const [s, b, h] = [
            l.slice(0, l.lastIndexOf(' ', l.lastIndexOf(' ') - 1)),
            ...l
              .slice(l.lastIndexOf(' ', l.lastIndexOf(' ') - 1) + 1)
              .split(' ')
              .map(Number),
          ];
          return [s, [b, h]];
        }),
      );
    const diffFolded = async (extra) => {
      const out = join(dir, `d-${extra.join('')}.folded`);
      await run([
        'profile',
        'diff',
        '--base',
        join(D, 'before.txt'),
        '--head',
        join(D, 'after.txt'),
        '--folded-out',
        out,
        '--threshold-pp',
        '100',
        ...extra,
      ]);
      return parse(readFileSync(out, 'utf8'));
    };
    const raw = await diffFolded(['--mode', 'absolute', '--no-strip-hex', '--no-strip-annotations']);
    assert.deepEqual(raw, parse(readFileSync(join(D, 'results/default.txt'), 'utf8')));
    const hex = await diffFolded(['--mode', 'absolute', '--no-strip-annotations']);
    assert.deepEqual(hex, parse(readFileSync(join(D, 'results/strip_hex.txt'), 'utf8')));
    // Fractional counts are kept (inferno truncates them with a warning): truncated, they give its result.
    const fracOut = join(dir, 'frac.folded');
    await run([
      'profile',
      'diff',
      '--base',
      join(D, 'before_fractionals.txt'),
      '--head',
      join(D, 'after.txt'),
      '--folded-out',
      fracOut,
      '--threshold-pp',
      '100',
      '--mode',
      'absolute',
      '--no-strip-hex',
      '--no-strip-annotations',
    ]);
    const frac = parse(readFileSync(fracOut, 'utf8'));
    assert.equal(frac.get('dd;write;system_call_[k];sys_write_[k];vfs_write_[k];fsnotify_[k];__srcu_read_unlock_[k]')[0], 7.56);
    const fracRef = parse(readFileSync(join(D, 'results/fractionals.txt'), 'utf8'));
    assert.deepEqual(new Map([...frac].map(([k, [b, h]]) => [k, [Math.trunc(b), h]])), fracRef);
    // A file with one unparsable line: the line is counted and skipped, the rest is diffed.
    const bad = await recallWarm([
      'profile',
      'diff',
      '--base',
      join(D, 'bad_before.txt'),
      '--head',
      join(D, 'after.txt'),
      '--threshold-pp',
      '100',
      '--json',
    ]);
    assert.equal(bad.code, 0, bad.stderr);
    assert.match(
      JSON.parse(bad.stdout).warnings.join('\n'),
      /bad_before\.txt: 1 line\(s\) did not parse as folded, skipped \(first: line 3:/,
    );
    // share mode scales the base to the head total in floating point; difffolded -n truncates
    const share = await diffFolded(['--no-strip-hex', '--no-strip-annotations']);
    const norm = parse(readFileSync(join(D, 'results/normalize.txt'), 'utf8'));
    assert.deepEqual([...share.keys()].sort(), [...norm.keys()].sort());
    for (const [k, [b, h]] of norm) {
      assert.equal(Math.trunc(share.get(k)[0] + 1e-9), b, k);
      assert.equal(share.get(k)[1], h, k);
    }
  });

  it('c-recsvc --folded-out matches the reference difffolded.pl -n output (within its truncation)', async () => {
    const out = join(dir, 'recsvc-diff.folded');
    await run(
      [
        'profile',
        'diff',
        '--base',
        ...pods('c-recsvc/base', 3),
        '--head',
        ...pods('c-recsvc/head', 3),
        '--unit',
        'ns',
        '--folded-out',
        out,
      ],
      4,
    );
    const ref = new Map(
      lines(readFileSync(join(GEN, 'c-recsvc/reference-difffolded-n.txt'), 'utf8')).map((l) => {
        const p = l.split(' ');
        return [p.slice(0, -2).join(' '), p.slice(-2).map(Number)];
      }),
    );
    const ours = new Map(
      lines(readFileSync(out, 'utf8')).map((l) => {
        const p = l.split(' ');
        return [p.slice(0, -2).join(' '), p.slice(-2).map(Number)];
      }),
    );
    assert.deepEqual([...ours.keys()].sort(), [...ref.keys()].sort());
    for (const [k, [b, h]] of ref) {
      assert.ok(ours.get(k)[0] - b >= 0 && ours.get(k)[0] - b < 1, `${k}: ${ours.get(k)[0]} vs ${b}`);
      assert.equal(ours.get(k)[1], h);
    }
  });
});

describe('recall profile: outputs, determinism and bad input', () => {
  const G = join(GEN, 'c-recsvc');
  const base = ['--base', join(G, 'base/pod-1.perf.txt'), join(G, 'base/pod-2.perf.txt')];
  const head = ['--head', join(G, 'head/pod-1.perf.txt'), join(G, 'head/pod-2.perf.txt')];

  it('writes HTML, JSON, Markdown and folded outputs, byte-identical across runs', async () => {
    const outs = (n) => [
      '-o',
      join(dir, `d${n}.html`),
      '--json-out',
      join(dir, `d${n}.json`),
      '--md-out',
      join(dir, `d${n}.md`),
      '--folded-out',
      join(dir, `d${n}.folded`),
    ];
    const a = await recallWarm(['profile', 'diff', ...base, ...head, ...outs(1)]);
    const b = await recallWarm(['profile', 'diff', ...base, ...head, ...outs(2), '--threads', '1']);
    assert.equal(a.code, 4, a.stderr);
    assert.equal(b.code, 4, b.stderr);
    for (const ext of ['html', 'json', 'md', 'folded'])
      assert.equal(readFileSync(join(dir, `d1.${ext}`), 'utf8'), readFileSync(join(dir, `d2.${ext}`), 'utf8'), ext);
    const md = readFileSync(join(dir, 'd1.md'), 'utf8');
    assert.match(md, /## Profile diff: \d gated regression/);
    assert.match(md, /percentage points of each side's total/);
    assert.match(a.stdout, /score\\_candidates/);
    const json = JSON.parse(readFileSync(join(dir, 'd1.json'), 'utf8'));
    assert.equal(json.version, 2);
    assert.deepEqual(Object.keys(json.sides.base).sort(), [
      'cores',
      'durationMs',
      'event',
      'inputs',
      'label',
      'labels',
      'pods',
      'samples',
      'total',
      'unit',
    ]);
    const html = readFileSync(join(dir, 'd1.html'), 'utf8');
    assert.ok(!/(src|href)="https?:/.test(html), 'no external resources');
    assert.ok(html.includes('score_candidates'));
  });

  it('collapse writes stackcollapse-compatible output; merge keeps per-pod totals and labels', async () => {
    const out = join(dir, 'c.folded');
    const c = await run(['profile', 'collapse', join(G, 'base/pod-1.perf.txt'), '--compat', 'flamegraph', '-o', out]);
    assert.equal(readFileSync(out, 'utf8'), readFileSync(join(G, 'base/pod-1.folded'), 'utf8'));
    assert.equal(c.samples, 1940);
    const m = await run([
      'profile',
      'merge',
      join(G, 'base/pod-1.perf.txt'),
      join(G, 'base/pod-2.perf.txt'),
      '-o',
      join(dir, 'm.folded'),
      '--json-out',
      join(dir, 'm.json'),
      '--label',
      'app=recsvc,version=1.3',
    ]);
    assert.deepEqual(m.labels, { app: 'recsvc', version: '1.3' });
    assert.deepEqual(
      m.pods.map((p) => p.samples),
      [1940, 2058],
    );
    assert.ok(m.pods.every((p) => p.durationMs > 0));
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'm.json'), 'utf8')).pods, m.pods);
    // stdout when no -o
    const r = await recallWarm(['profile', 'collapse', join(P, 'speedscope/stackcollapse/simple.txt')]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, folded(await readProfile(join(P, 'speedscope/stackcollapse/simple.txt'))));
  });

  it('gzipped folded and perf text are read like the plain files', async () => {
    for (const f of [join(P, 'speedscope/stackcollapse/simple-utf16-le.txt'), join(G, 'base/pod-2.perf.txt')]) {
      const gz = join(dir, `${f.split('/').pop()}.gz`);
      writeFileSync(gz, gzipSync(readFileSync(f)));
      const a = await readProfile(gz);
      const b = await readProfile(f);
      assert.equal(a.format, b.format);
      assert.equal(folded(a), folded(b), f);
    }
  });

  it('Ctrl-C during a long parse exits 130 and writes nothing', async () => {
    // ~80 MB of perf text: long enough to interrupt mid-read.
    const big = join(dir, 'big.perf.txt');
    const pod = readFileSync(join(G, 'base/pod-1.perf.txt'));
    writeFileSync(big, Buffer.concat(Array.from({ length: 120 }, () => pod)));
    const html = join(dir, 'interrupted.html');
    let sent = false;
    const r = await recall(['profile', 'diff', '--base', big, '--head', big, '-o', html, '--threads', '1'], {
      // Interrupt once the command is reading the input (its fd is open), not while Node is still starting.
      onSpawn: (child) => {
        const poll = setInterval(() => {
          try {
            const fds = readdirSync(`/proc/${child.pid}/fd`).map((fd) => {
              try {
                return readlinkSync(`/proc/${child.pid}/fd/${fd}`);
              } catch {
                return '';
              }
            });
            if (fds.includes(big)) {
              clearInterval(poll);
              sent = true;
              child.kill('SIGINT');
            }
          } catch {
            // the process is gone
          }
        }, 10);
        child.on('close', () => clearInterval(poll));
      },
    });
    assert.ok(sent, `the diff ended before it could be interrupted: ${r.stderr}`);
    assert.equal(r.code, 130, r.stderr);
    assert.ok(!existsSync(html));
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('.tmp-')),
      [],
    );
  });

  it('bad input: nothing parses -> exit 3 naming the file and line; mixed units -> 3; bad regex -> 2; nothing written', async () => {
    const junk = join(dir, 'junk.txt');
    writeFileSync(junk, 'this is not a profile\nnor is this\n');
    const html = join(dir, 'never.html');
    const r = await recallWarm(['profile', 'diff', '--base', junk, '--head', join(G, 'head/pod-1.perf.txt'), '-o', html]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /junk\.txt: no samples parsed as folded \(first bad line 1: "this is not a profile"\)/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.ok(!existsSync(html));
    const mixed = await recallWarm([
      'profile',
      'diff',
      '--base',
      join(G, 'base/pod-1.perf.txt'),
      '--head',
      join(P, 'speedscope/stackcollapse/simple.txt'),
      '-o',
      html,
    ]);
    assert.equal(mixed.code, 3, mixed.stderr);
    assert.match(mixed.stderr, /unit samples differs from .*pod-1\.perf\.txt's nanoseconds/);
    const re = await recallWarm(['profile', 'diff', ...base, ...head, '--ignore', '(unclosed', '-o', html]);
    assert.equal(re.code, 2, re.stderr);
    assert.match(re.stderr, /--ignore "\(unclosed" is not a valid regular expression/);
    const missing = await recallWarm(['profile', 'collapse', join(dir, 'nope.perf')]);
    assert.equal(missing.code, 2);
    assert.ok(!existsSync(html));
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes('.tmp-')),
      [],
    );
  });
});
