// recall merge: quotas, filters, de-duplication with provenance and both fusion rules against a plain
// reference written here on random inputs; the batch path over a real build (x2i + vector + text)
// answers each request as the fusion of what the channels return for it; the CLI on the fixtures.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { merge, mergeCandidates, openIndex } from '../dist/api/index.js';
import { recallWarm, root, scratchDir } from './helpers/cli.mjs';

/** SplitMix64-ish seeded generator: the same cases on every run. */
function rng(seed) {
  let s = BigInt(seed);
  return () => {
    s = (s + 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
    let z = s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn;
    return Number((z ^ (z >> 31n)) >> 11n) / 2 ** 53;
  };
}

/** The definition, spelled out: filter, first occurrence, quota, normalise, fuse, sort. */
function reference(lists, spec, filter) {
  const rrfK = spec.rrfK ?? 60;
  const acc = {};
  for (const l of lists) {
    const c = spec.channels[l.channel];
    if (!c) continue;
    const kept = [];
    for (let i = 0; i < l.items.length; i++) {
      const it = l.items[i];
      if (filter.exclude?.has(it) || filter.deny?.has(it) || (filter.allow && !filter.allow.has(it))) continue;
      if (kept.some((k) => k.item === it)) continue;
      if (c.quota !== undefined && kept.length >= c.quota) break;
      kept.push({ item: it, score: l.scores[i] });
    }
    const lo = Math.min(...kept.map((k) => k.score));
    const hi = Math.max(...kept.map((k) => k.score));
    kept.forEach((k, r) => {
      const w = c.weight ?? 1;
      const part = spec.fusion === 'rrf' ? w / (rrfK + r + 1) : w * (hi > lo ? (k.score - lo) / (hi - lo) : 1);
      acc[k.item] ??= { item: k.item, score: 0, from: [] };
      acc[k.item].score += part;
      acc[k.item].from.push({ channel: l.channel, rank: r + 1, score: k.score });
    });
  }
  const best = (m) => Math.min(...m.from.map((p) => p.rank));
  return Object.values(acc)
    .sort(
      (a, b) => b.score - a.score || b.from.length - a.from.length || best(a) - best(b) || (a.item < b.item ? -1 : a.item > b.item ? 1 : 0),
    )
    .slice(0, spec.k);
}

function randomCase(r) {
  const pool = 40 + Math.floor(r() * 60);
  const channels = ['x2i', 'vector', 'text'].slice(0, 1 + Math.floor(r() * 3));
  const lists = channels.map((channel) => {
    const n = Math.floor(r() * 50);
    const items = Array.from({ length: n }, () => String(Math.floor(r() * pool)));
    // best first, with ties now and then
    const scores = Array.from({ length: n }, () => Math.round(r() * 8) / 4).sort((a, b) => b - a);
    return { channel, items, scores };
  });
  const spec = {
    k: 1 + Math.floor(r() * 30),
    fusion: r() < 0.5 ? 'weighted' : 'rrf',
    rrfK: r() < 0.5 ? undefined : Math.floor(r() * 100),
    channels: Object.fromEntries(
      channels
        .filter(() => r() < 0.9)
        .map((c) => [
          c,
          { quota: r() < 0.3 ? undefined : Math.floor(r() * 30), weight: r() < 0.3 ? undefined : Math.round(r() * 40) / 10 },
        ]),
    ),
  };
  const ids = (p) => new Set(Array.from({ length: pool }, (_, i) => String(i)).filter(() => r() < p));
  const filter = {
    exclude: r() < 0.5 ? ids(0.2) : undefined,
    deny: r() < 0.3 ? ids(0.1) : undefined,
    allow: r() < 0.3 ? ids(0.7) : undefined,
  };
  return { lists, spec, filter };
}

describe('merge: fusion against the reference', () => {
  it('equals the reference on 500 random cases (quotas, filters, duplicates, both fusions)', () => {
    const r = rng(7);
    let withDup = 0;
    for (let t = 0; t < 500; t++) {
      const { lists, spec, filter } = randomCase(r);
      const got = mergeCandidates(lists, spec, filter);
      const want = reference(lists, spec, filter);
      assert.equal(got.length, want.length, `case ${t}: length`);
      got.forEach((g, i) => {
        const w = want[i];
        assert.equal(g.item, w.item, `case ${t} rank ${i + 1}`);
        assert.ok(Math.abs(g.score - w.score) < 1e-9, `case ${t} rank ${i + 1}: score ${g.score} vs ${w.score}`);
        assert.deepEqual(g.from, w.from, `case ${t} rank ${i + 1}: provenance`);
      });
      if (got.some((g) => g.from.length > 1)) withDup++;
      // invariants the reference shares but a shared bug would break
      assert.equal(new Set(got.map((g) => g.item)).size, got.length, 'each item once');
      for (const g of got) {
        assert.ok(!filter.exclude?.has(g.item) && !filter.deny?.has(g.item) && (!filter.allow || filter.allow.has(g.item)));
        for (const p of g.from) {
          const q = spec.channels[p.channel].quota;
          if (q !== undefined) assert.ok(p.rank <= q, 'within the quota');
        }
      }
    }
    assert.ok(withDup > 100, `cases with an item found by several channels: ${withDup}`);
  });

  it('hand-checked: weighted sums normalised scores, rrf sums 1/(k+rank), provenance kept', () => {
    const lists = [
      { channel: 'a', items: ['1', '2', '3'], scores: [10, 5, 0] },
      { channel: 'b', items: ['3', '4'], scores: [-1, -3] },
    ];
    const w = mergeCandidates(lists, { k: 10, fusion: 'weighted', channels: { a: { weight: 1 }, b: { weight: 2 } } });
    assert.deepEqual(
      w.map((m) => [m.item, m.score]),
      [
        ['3', 2],
        ['1', 1],
        ['2', 0.5],
        ['4', 0],
      ],
    );
    assert.deepEqual(w[0].from, [
      { channel: 'a', rank: 3, score: 0 },
      { channel: 'b', rank: 1, score: -1 },
    ]);
    const f = mergeCandidates(lists, { k: 2, fusion: 'rrf', rrfK: 0, channels: { a: {}, b: { quota: 1 } } }, { exclude: new Set(['1']) });
    // a after excluding 1: 2 (rank 1), 3 (rank 2); b with quota 1: 3 (rank 1)
    assert.deepEqual(
      f.map((m) => [m.item, m.score]),
      [
        ['3', 1.5],
        ['2', 1],
      ],
    );
  });
});

describe('merge: batch over a build and the CLI', () => {
  const dir = scratchDir('merge');
  const out = join(dir, 'svc');
  const config = join(dir, 'recall.config.json');
  after(() => rmSync(dir, { recursive: true, force: true }));
  before(async () => {
    const c = JSON.parse(readFileSync(join(root, 'fixtures/recall.config.json'), 'utf8'));
    for (const s of Object.values(c.sources)) s.inputs = s.inputs.map((p) => join(root, 'fixtures', p));
    delete c.$schema;
    c.out = out;
    c.merge = {
      k: 20,
      fusion: 'weighted',
      channels: { x2i: { quota: 50, weight: 1 }, vector: { quota: 30, weight: 0.5 }, text: { quota: 30 } },
    };
    writeFileSync(config, JSON.stringify(c));
    const b = await recallWarm(['build', '--config', config, '--json']);
    assert.equal(b.code, 0, b.stderr);
  });

  it('each batched request equals the fusion of its own channel answers', async () => {
    const ix = await openIndex(out);
    try {
      const spec = { k: 20, fusion: 'rrf', channels: { x2i: { quota: 50 }, vector: { quota: 30, weight: 0.5 }, text: { quota: 30 } } };
      const q = await ix.vector.search(new Float32Array(ix.vector.dim).fill(0.1), { k: 1 });
      const vec = Array.from({ length: ix.vector.dim }, (_, i) => Math.sin(i));
      const reqs = [
        {
          id: 'a',
          seeds: [
            { item: '1', weight: 1 },
            { item: '2', weight: 0.5 },
          ],
          vector: vec,
          text: 'acid',
        },
        { id: 'b', seeds: [{ item: '3' }], text: 'water', exclude: [String(q.ids[0][0])] },
        { id: 'c', vector: vec.map((x) => -x) },
        { id: 'd' },
      ];
      const r = await merge(ix, reqs, spec, { batch: 3 });
      assert.equal(r.results.length, 4);
      for (const [i, req] of reqs.entries()) {
        const lists = [];
        if (req.seeds) {
          const acc = new Map();
          for (const s of req.seeds)
            for (const x of ix.x2i.get([s.item], { top: 50 }).results[0].items)
              acc.set(x.item, (acc.get(x.item) ?? 0) + (s.weight ?? 1) * x.score);
          const e = [...acc].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 50);
          lists.push({ channel: 'x2i', items: e.map((x) => x[0]), scores: e.map((x) => x[1]) });
        }
        if (req.vector) {
          const v = await ix.vector.search(Float32Array.from(req.vector), { k: 30 });
          lists.push({ channel: 'vector', items: v.ids[0].map(String), scores: v.distances[0].map((d) => -d) });
        }
        if (req.text) {
          const t = await ix.text.search(req.text, { k: 30, defaultOr: true });
          lists.push({ channel: 'text', items: t.hits.map((h) => String(h.id)), scores: t.hits.map((h) => h.score) });
        }
        const want = reference(lists, spec, { exclude: req.exclude && new Set(req.exclude) });
        assert.deepEqual(
          r.results[i].items.map((m) => m.item),
          want.map((m) => m.item),
          `request ${req.id}`,
        );
        if (req.id !== 'd') assert.ok(r.results[i].items.length > 0, `request ${req.id} has candidates`);
      }
      assert.equal(r.results[3].items.length, 0, 'a request without inputs gets an empty list');
      assert.ok(!r.results[1].items.some((m) => m.item === String(q.ids[0][0])), 'excluded item absent');
    } finally {
      await ix.close();
    }
  });

  it('`recall merge` answers one request and a batch file, honours the deny list, and rejects a bad row', async () => {
    const one = await recallWarm(['merge', '--config', config, '--index', out, '--request', '{"seeds":[1,2],"text":"acid"}', '--json']);
    assert.equal(one.code, 0, one.stderr);
    const j = JSON.parse(one.stdout);
    assert.equal(j.results.length, 1);
    assert.ok(j.results[0].items.length > 0 && j.results[0].items.length <= 20);
    const denied = j.results[0].items[0].item;
    const c = JSON.parse(readFileSync(config, 'utf8'));
    c.merge.deny = join(dir, 'deny.txt');
    writeFileSync(c.merge.deny, `${denied}\n`);
    writeFileSync(config, JSON.stringify(c));
    writeFileSync(join(dir, 'reqs.jsonl'), '{"id":"u1","seeds":[1,2],"text":"acid"}\n{"id":"u2","seeds":[{"item":3,"weight":2}]}\n');
    const batch = await recallWarm([
      'merge',
      '--config',
      config,
      '--index',
      out,
      '--requests',
      join(dir, 'reqs.jsonl'),
      '--out',
      join(dir, 'm.jsonl'),
      '--json',
    ]);
    assert.equal(batch.code, 0, batch.stderr);
    const lines = readFileSync(join(dir, 'm.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => l.id),
      ['u1', 'u2'],
    );
    assert.ok(!lines[0].items.some((m) => m.item === denied), 'the denied item is gone');
    writeFileSync(join(dir, 'bad.jsonl'), '{"seeds":[1]}\n{"seeds":"x"}\n');
    const bad = await recallWarm(['merge', '--config', config, '--index', out, '--requests', join(dir, 'bad.jsonl')]);
    assert.equal(bad.code, 3);
    assert.match(bad.stderr, /bad\.jsonl: row 2: "seeds" is not a list/);
  });
});
