// The text channel on real text nobody on the team wrote: WordNet entries (Debian dict-wn),
// Chinese fortunes (fortunes-zh), DuckDB-written parquet. The native index is compared with the
// TypeScript oracle (src/core/bench/anchors/text-oracle.ts: its own analyzer, parser and exhaustive BM25).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { interruptWhen, recall, recallWarm, scratchDir } from './helpers/cli.mjs';
import { dictdEntries, fortunes, rng } from './helpers/text-corpus.mjs';
import { makeAnalyzer, nfkc } from '../dist/core/channels/text/analyzer.js';
import { OracleIndex, OracleQueryError, oracleTokens } from '../dist/core/bench/anchors/text-oracle.js';
import { openText, searchText } from '../dist/core/channels/text/query.js';
import { loadNative, textQueryBuffer } from '../dist/core/native.js';

const dir = scratchDir('inverted');
after(() => rmSync(dir, { recursive: true, force: true }));
const N_DOCS = 20000;
const PER_CLASS = 1000;

async function build(args, expectCode = 0) {
  const r = await recallWarm(['build', 'inverted', ...args, '--json']);
  assert.equal(r.code, expectCode, r.stderr + r.stdout);
  return { ...r, json: JSON.parse(r.stdout) };
}
const jsonl = (name, rows) => {
  const p = join(dir, name);
  writeFileSync(p, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return p;
};
const noVersion = (out) => !existsSync(out) || !readdirSync(out).some((n) => n === 'CURRENT' || /^v\d+$/.test(n));

/** Native and oracle top-k agree: same ids (near-ties excepted), scores within 1e-9 relative. */
function assertSame(got, want, label) {
  assert.equal(got.hits.length, want.ids.length, `${label}: hit count`);
  for (let i = 0; i < want.ids.length; i++) {
    const g = got.hits[i];
    const rel = Math.abs(g.score - want.scores[i]) / Math.max(1e-300, Math.abs(want.scores[i]));
    assert.ok(rel <= 1e-9, `${label}: rank ${i}: score ${g.score} vs ${want.scores[i]}`);
    if (String(g.id) !== String(want.ids[i])) {
      // only a near-tie may swap: the oracle's score for this id must equal the rank's score
      const j = want.ids.findIndex((x) => String(x) === String(g.id));
      assert.ok(
        j >= 0 && Math.abs(want.scores[j] - want.scores[i]) <= 1e-12 * want.scores[i],
        `${label}: rank ${i}: id ${g.id} vs ${want.ids[i]}`,
      );
    }
  }
}

describe('text index vs the TypeScript oracle on WordNet', () => {
  let docs; // [id, [text]]
  let oracle;
  const queries = { q1: [], and2: [], or2: [], mixed: [] };
  let parquet;
  before(async () => {
    const texts = dictdEntries('wn', N_DOCS);
    // shuffled, sparse integer ids: the id permutation is exercised
    const r = rng(7);
    const ids = texts.map((_, i) => BigInt(i * 7 + Math.floor(r() * 5)));
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [ids[i], ids[j]] = [ids[j], ids[i]];
    }
    docs = texts.map((t, i) => [ids[i], [t]]);
    const src = jsonl(
      'wn.jsonl',
      docs.map(([id, [text]]) => ({ id: Number(id), text })),
    );
    parquet = join(dir, 'wn.parquet');
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    await c.run(
      `COPY (SELECT id::BIGINT AS id, text FROM read_json('${src}', format='newline_delimited')) TO '${parquet}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 4096)`,
    );
    c.closeSync();
    db.closeSync();
    oracle = new OracleIndex(docs, { fields: ['text'], prepare: nfkc });
    // query sets like ../shared/tools/text-bench/make-queries.mjs: eligible tokens of one random doc
    const df = new Map();
    const toks = docs.map(([, [t]]) => oracleTokens(nfkc(t), true));
    for (const t of toks) for (const w of new Set(t)) df.set(w, (df.get(w) ?? 0) + 1);
    const stop = new Set(
      [...df.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 50)
        .map((e) => e[0]),
    );
    const ok = (w) => w.length >= 3 && !/^\d+$/.test(w) && !stop.has(w);
    const pick = (k) => {
      for (;;) {
        const u = [...new Set(toks[Math.floor(r() * toks.length)].filter(ok))];
        if (u.length < k) continue;
        const out = [];
        while (out.length < k) {
          const w = u[Math.floor(r() * u.length)];
          if (!out.includes(w)) out.push(w);
        }
        return out;
      }
    };
    for (let i = 0; i < PER_CLASS; i++) queries.q1.push(pick(1)[0]);
    for (let i = 0; i < PER_CLASS; i++) queries.and2.push(pick(2).join(' AND '));
    for (let i = 0; i < PER_CLASS; i++) queries.or2.push(pick(2).join(' OR '));
    // mixed: frequent terms too, NOT, parentheses, boosts, three-way ORs, unknown words
    const freq = [...stop].filter((w) => !/^\d+$/.test(w));
    const any = () => (r() < 0.3 ? freq[Math.floor(r() * freq.length)] : pick(1)[0]);
    const shapes = [
      () => `${any()} ${any()} -${any()}`,
      () => `(${any()} OR ${any()}) AND ${any()}`,
      () => `${any()}^2 OR ${any()} OR ${any()}`,
      () => `${any()} OR ${any()} OR zzqqxunknown`,
      () => `${any()} zzqqxunknown`,
      () => `${any()} AND NOT (${any()} OR ${any()})`,
      () => `"${any()} ${any()}" ${any()}`,
      () => `${any()} ${any()} ${any()}`,
      () => `${freq[Math.floor(r() * freq.length)]} OR ${freq[Math.floor(r() * freq.length)]}`,
    ];
    for (let i = 0; i < 600; i++) queries.mixed.push(shapes[i % shapes.length]());
  });

  for (const pairs of ['off', 'cooc']) {
    it(`top-10 and scores equal the oracle for 1-term, AND, OR and mixed queries (pairs ${pairs})`, async () => {
      const out = join(dir, `wn-${pairs}`);
      const b = await build([
        '--input',
        parquet,
        '--id',
        'id',
        '--text',
        'text',
        '--pairs',
        pairs,
        '--pair-min-df',
        '20',
        '--pair-min-pair-df',
        '4',
        '--pair-budget',
        '100000000',
        '--out',
        out,
      ]);
      assert.equal(b.json.docs, N_DOCS);
      if (pairs === 'cooc') assert.ok(b.json.files[0].pairs > 100, `pairs kept: ${b.json.files[0].pairs}`);
      assert.equal(b.json.files[0].terms, oracle.terms);
      const ix = await openText(out);
      let pairsUsed = 0;
      for (const [cls, qs] of Object.entries(queries)) {
        const got = await searchText(ix, qs, { k: 10, usePairs: true });
        qs.forEach((q, i) => {
          const res = got.results[i];
          assert.equal(res.error, undefined, `${q}: ${res.error?.message}`);
          const want = oracle.search(q, { k: 10 });
          assertSame(res, want, `${cls} "${q}"`);
          if (res.totalHitsRelation === 'eq') assert.equal(res.totalHits, want.total, `${q}: total hits`);
          else
            assert.ok(
              res.totalHits <= want.total && res.totalHits >= Math.min(10, want.total),
              `${q}: total ${res.totalHits} >= ${want.total}`,
            );
          pairsUsed += res.pairsUsed;
        });
      }
      if (pairs === 'cooc') assert.ok(pairsUsed > 150, `the planner used only ${pairsUsed} pair lists`);
      // the same queries without the pair lists give the same answers
      if (pairs === 'cooc') {
        const all = [...queries.and2, ...queries.mixed];
        const a = await searchText(ix, all, { k: 10, usePairs: true });
        const n = await searchText(ix, all, { k: 10, usePairs: false });
        assert.deepEqual(
          a.results.map((x) => [x.hits, x.totalHits]),
          n.results.map((x) => [x.hits, x.totalHits]),
        );
      }
    });
  }

  it('the synchronous per-query entry point (textQueryInto) answers like textSearch', async () => {
    if (!existsSync(join(dir, 'wn-off'))) await build(['--input', parquet, '--id', 'id', '--text', 'text', '--out', join(dir, 'wn-off')]);
    const ix = await openText(join(dir, 'wn-off'));
    const native = loadNative();
    const out = textQueryBuffer(10);
    const qs = [...queries.q1.slice(0, 50), ...queries.and2.slice(0, 50), ...queries.or2.slice(0, 50), ...queries.mixed.slice(0, 50)];
    const want = await searchText(ix, qs, { k: 10 });
    qs.forEach((q, i) => {
      const w = want.results[i];
      if (w.error)
        return assert.throws(() => native.textQueryInto(ix.shards[0].handle, ix.prepareQuery(q), 10, 0, out.bytes), { code: w.error.code });
      const n = native.textQueryInto(ix.shards[0].handle, ix.prepareQuery(q), 10, 0, out.bytes);
      assert.equal(n, w.hits.length, q);
      assert.deepEqual(
        Array.from(out.ids.subarray(0, n), String),
        w.hits.map((h) => String(h.id)),
        q,
      );
      assert.deepEqual(
        Array.from(out.scores.subarray(0, n)),
        w.hits.map((h) => h.score),
        q,
      );
      assert.equal(out.meta[0], w.totalHits, q);
    });
    assert.throws(() => native.textQueryInto(ix.shards[0].handle, 'a', 10, 0, new Uint8Array(100)), /out must hold 24 \+ 20 k bytes/);
  });

  it('a shard folder is one collection: the shards score with summed statistics, like one index', async () => {
    const shards = join(dir, 'wn-shards');
    const s = await recallWarm(['shard', '-i', parquet, '-k', 'id', '-n', '3', '-o', shards, '--json']);
    assert.equal(s.code, 0, s.stderr);
    const out = join(dir, 'wn-sharded');
    const b = await build(['--input', shards, '--id', 'id', '--text', 'text', '--out', out]);
    assert.equal(b.json.files.length, 3);
    assert.equal(b.json.docs, N_DOCS);
    if (!existsSync(join(dir, 'wn-off'))) await build(['--input', parquet, '--id', 'id', '--text', 'text', '--out', join(dir, 'wn-off')]);
    const one = await openText(join(dir, 'wn-off'));
    const three = await openText(out);
    const qs = [...queries.q1.slice(0, 200), ...queries.and2.slice(0, 200), ...queries.or2.slice(0, 200), ...queries.mixed.slice(0, 200)];
    const a = await searchText(one, qs, { k: 10 });
    const c = await searchText(three, qs, { k: 10 });
    qs.forEach((q, i) => {
      const [x, y] = [a.results[i], c.results[i]];
      assert.equal(y.hits.length, x.hits.length, q);
      x.hits.forEach((h, r) =>
        assert.ok(Math.abs(h.score - y.hits[r].score) <= 1e-9 * h.score, `${q}: rank ${r}: ${h.score} vs ${y.hits[r].score}`),
      );
      // ids agree except inside a tie at the cut
      const last = x.hits.at(-1)?.score;
      const above = (hs) =>
        hs
          .filter((h) => h.score > last * (1 + 1e-12))
          .map((h) => String(h.id))
          .sort();
      assert.deepEqual(above(y.hits), above(x.hits), q);
      if (x.totalHitsRelation === 'eq' && y.totalHitsRelation === 'eq') assert.equal(y.totalHits, x.totalHits, q);
    });
  });

  it('builds byte-identical files with 1 and 2 threads; the CLI answers like the core', async () => {
    const files = [];
    for (const t of ['1', '2']) {
      const out = join(dir, `wn-t${t}`);
      await build(['--input', parquet, '--id', 'id', '--text', 'text', '--pairs', 'cooc', '--forward', '--threads', t, '--out', out]);
      files.push(readFileSync(join(out, 'v00000001', 'shard-00000-of-00001.rti')));
    }
    assert.ok(files[0].equals(files[1]), 'thread count changed the bytes');
    const r = await recallWarm(['query', 'inverted', '--index', join(dir, 'wn-t1'), '--q', queries.and2[3], '--json']);
    assert.equal(r.code, 0, r.stderr);
    assertSame(JSON.parse(r.stdout).results[0], oracle.search(queries.and2[3], { k: 10 }), 'cli');
  });
});

describe('spec edge cases (inverted.md §4.5)', { concurrency: 2 }, () => {
  // A small corpus with designed shapes: every doc has "all"; "blk" is in exactly 256 docs (two
  // full blocks, no tail); "solo" is a singleton; doc 3 repeats "loud" 300 times; doc 599 is empty.
  let out;
  let oracle;
  const rows = [];
  before(async () => {
    for (let i = 0; i < 600; i++) {
      let text = `all w${i % 7} v${i % 11}`;
      if (i % 2 === 0 && i < 512) text += ' blk';
      if (i === 41) text += ' solo';
      if (i === 3) text += ' loud'.repeat(300);
      if (i === 599) text = '';
      if (i >= 540 && i < 560) text = 'twin twin peaks'; // identical docs: ties
      rows.push({ id: `doc-${String(i).padStart(4, '0')}`, text });
    }
    rows.push({ id: 'ligature', text: 'ﬁle Ｃａｆé ÉCOLE' });
    out = join(dir, 'edge');
    await build([
      '--input',
      jsonl('edge.jsonl', rows),
      '--id',
      'id',
      '--text',
      'text',
      '--pairs',
      'cooc',
      '--pair-min-df',
      '10',
      '--pair-min-pair-df',
      '2',
      '--out',
      out,
    ]);
    oracle = new OracleIndex(
      rows.map((r) => [r.id, [r.text]]),
      { fields: ['text'], prepare: nfkc },
    );
  });
  const q = async (query, extra = []) => {
    const r = await recallWarm(['query', 'inverted', '--index', out, '--q', query, '--json', ...extra]);
    return { ...r, json: r.code === 0 ? JSON.parse(r.stdout).results[0] : JSON.parse(r.stdout) };
  };
  const same = async (query, o = {}) => {
    const r = await q(query, o.k !== undefined ? ['--k', String(o.k)] : []);
    assert.equal(r.code, 0, `${query}: ${r.stdout}`);
    const want = oracle.search(query, { k: o.k ?? 10 });
    assertSame(r.json, want, query);
    return r.json;
  };

  it('empty queries and queries the analyzer empties give no hits and no error', async () => {
    for (const s of ['', '   ', '... ;;', `${'x'.repeat(300)}`]) {
      const r = await q(s);
      assert.equal(r.code, 0, r.stdout);
      assert.deepEqual([r.json.hits, r.json.totalHits], [[], 0], s);
    }
    // a token over 255 bytes is dropped at query time like at index time
    assert.deepEqual((await q(`${'x'.repeat(300)} solo`)).json.hits, (await q('solo')).json.hits);
  });
  it('unknown terms: empty an AND, dropped from OR and from NOT', async () => {
    assert.equal((await same('all AND nosuchword')).totalHits, 0);
    assert.deepEqual((await q('solo OR nosuchword')).json.hits, (await q('solo')).json.hits);
    assert.deepEqual((await q('solo -nosuchword')).json.hits, (await q('solo')).json.hits);
  });
  it('a pure NOT is NOT_ONLY_QUERY (exit 2) unless match-all is allowed; then scores are 0 in doc order', async () => {
    for (const s of ['NOT all', '-blk', 'NOT (w1 OR w2)']) {
      const r = await q(s);
      assert.equal(r.code, 2, s);
      assert.equal(r.json.error.code, 'ERR_RECALL_NOT_ONLY_QUERY');
    }
    const r = await q('-blk', ['--match-all-pure-not', '--k', '5']);
    assert.equal(r.code, 0);
    assert.deepEqual(
      r.json.hits,
      [1, 3, 5, 7, 9].map((i) => ({ id: `doc-${String(i).padStart(4, '0')}`, score: 0 })),
    );
  });
  it('duplicate terms count once; a AND NOT a is empty', async () => {
    const one = (await same('w3')).hits;
    assert.deepEqual((await same('w3 AND w3')).hits, one);
    assert.deepEqual((await same('w3 OR w3')).hits, one);
    assert.equal((await same('w3 AND NOT w3')).totalHits, 0);
    await same('w3^2 OR w3'); // the larger boost wins
  });
  it('k = 0 counts only; k larger than the hits or the corpus returns all', async () => {
    const c = await q('blk', ['--k', '0']);
    assert.deepEqual([c.json.hits, c.json.totalHits, c.json.totalHitsRelation], [[], 256, 'eq']);
    assert.equal((await same('blk', { k: 300 })).hits.length, 256);
    assert.equal((await same('all', { k: 5000 })).hits.length, 579); // not in the 20 twins, not in the empty doc
  });
  it('a term in every document (df = N) still scores above 0', async () => {
    const r = await same('all', { k: 3 });
    assert.ok(r.hits.every((h) => h.score > 0));
  });
  it('an empty document never matches; ties go to the lower document', async () => {
    const r = await same('twin', { k: 5 });
    assert.deepEqual(
      r.hits.map((h) => h.id),
      ['doc-0540', 'doc-0541', 'doc-0542', 'doc-0543', 'doc-0544'],
    );
    assert.ok(!(await same('all', { k: 700 })).hits.some((h) => h.id === 'doc-0599'));
  });
  it('tf >= 255 is exact in the score (only the block bound saturates)', async () => {
    const r = await same('loud');
    assert.equal(r.hits.length, 1);
    const a = await same('loud OR all', { k: 3 });
    assert.equal(a.hits[0].id, 'doc-0003');
  });
  it('full-width, ligature and case variants meet their NFKC lowercase forms', async () => {
    for (const s of ['file', 'ＦＩＬＥ', 'café', 'CAFÉ', 'école'])
      assert.deepEqual(
        (await q(s)).json.hits.map((h) => h.id),
        ['ligature'],
        s,
      );
  });
  it('bad boosts are BAD_BOOST, oversized queries QUERY_TOO_LARGE, bad syntax QUERY_SYNTAX (exit 2)', async () => {
    for (const [s, code] of [
      ['all^0', 'BAD_BOOST'],
      ['all^-1', 'BAD_BOOST'],
      ['all^nan', 'BAD_BOOST'],
      ['all^inf', 'BAD_BOOST'],
      [Array.from({ length: 65 }, (_, i) => `t${i}`).join(' OR '), 'QUERY_TOO_LARGE'],
      ['(a AND (b OR (c AND (d OR (e AND (f OR (g AND (h OR i))))))))', 'QUERY_TOO_LARGE'],
      ['(all', 'QUERY_SYNTAX'],
      ['"all', 'QUERY_SYNTAX'],
      ['all OR NOT blk', 'QUERY_SYNTAX'],
    ]) {
      const r = await q(s);
      assert.equal(r.code, 2, `${s}: ${r.stdout}`);
      assert.equal(r.json.error.code, `ERR_RECALL_${code}`, s);
      assert.throws(
        () => oracle.search(s, { k: 10 }),
        (e) => e instanceof OracleQueryError && e.code === code,
        `oracle: ${s}`,
      );
    }
  });
  it('singletons, a list of exactly 2 x 128 docs, and pairs next to their own terms', async () => {
    assert.equal((await same('solo')).totalHits, 1);
    assert.equal((await same('solo AND all')).totalHits, 1);
    assert.equal((await same('blk', { k: 1000 })).totalHits, 256);
    await same('blk AND w1', { k: 1000 });
    await same('blk AND w1 AND blk', { k: 50 });
    await same('(blk AND w1) OR w2', { k: 50 });
    const r = await q('blk AND v3', ['--k', '50']);
    assert.ok(r.json.pairsUsed >= 1, 'the pair list was not used');
    const n = await q('blk AND v3', ['--k', '50', '--no-pairs']);
    assert.deepEqual(r.json.hits, n.json.hits);
  });
  it("tombstoned documents are never returned; statistics stay the file's", async () => {
    const t = join(dir, 'tomb.txt');
    writeFileSync(t, 'doc-0002\ndoc-0540\nnot-an-id\n');
    const o2 = join(dir, 'edge-tomb');
    const b = await build(['--input', join(dir, 'edge.jsonl'), '--id', 'id', '--text', 'text', '--tombstones', t, '--out', o2]);
    assert.deepEqual([b.json.files[0].tombstones, b.json.files[0].unknownTombstones], [2, 1]);
    const full = (await q('twin', ['--k', '30'])).json.hits;
    const r = await recallWarm(['query', 'inverted', '--index', o2, '--q', 'twin', '--k', '30', '--json']);
    const hits = JSON.parse(r.stdout).results[0].hits;
    assert.deepEqual(
      hits,
      full.filter((h) => h.id !== 'doc-0540'),
    );
  });
  it('a flipped byte fails the open and `recall verify` (exit 3)', async () => {
    const file = join(out, 'v00000001', 'shard-00000-of-00001.rti');
    const bad = join(dir, 'bad.rti');
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] ^= 0x40;
    writeFileSync(bad, bytes);
    const r = await recallWarm(['query', 'inverted', '--index', bad, '--q', 'all']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /checksum|corrupt/);
    assert.equal((await recallWarm(['verify', bad])).code, 3);
    const t = join(dir, 'trunc.rti');
    writeFileSync(t, bytes.subarray(0, bytes.length - 10));
    assert.equal((await recallWarm(['query', 'inverted', '--index', t, '--q', 'all'])).code, 3);
  });
  it('a query analyzer different from the index analyzer is ANALYZER_MISMATCH unless overridden', async () => {
    const native = loadNative();
    const file = join(dir, 'other-analyzer.rti');
    const text = Buffer.from('hello world');
    await native.textBuild(
      file,
      {},
      '{}',
      { ids: new BigUint64Array([1n]), fields: [{ name: 'text', weight: 1, text, offsets: new Uint32Array([0, text.length]) }] },
      {
        segmentation: 'standard',
        maxTokenBytes: 255,
        analyzer: makeAnalyzer('standard').description.replace('"bigrams"', '"unigrams"'),
        pairs: 'off',
      },
    );
    const r = await recallWarm(['query', 'inverted', '--index', file, '--q', 'hello']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /ANALYZER_MISMATCH|analyzed with/);
    const o = await recallWarm(['query', 'inverted', '--index', file, '--q', 'hello', '--analyzer-override', '--json']);
    assert.equal(o.code, 0, o.stderr);
    assert.equal(JSON.parse(o.stdout).results[0].hits[0].id, '1');
  });
});

describe('Chinese text (Debian fortunes-zh)', () => {
  const texts = [
    ...fortunes('/usr/share/games/fortunes/chinese.u8'),
    ...fortunes('/usr/share/games/fortunes/tang300.u8'),
    ...fortunes('/usr/share/games/fortunes/song100.u8'),
  ];
  const rows = texts.map((text, i) => ({ id: i, text }));
  let src;
  before(() => {
    src = jsonl('zh.jsonl', rows);
  });
  it('jieba (search mode, adjacent pairs) builds and answers like the oracle', async () => {
    const out = join(dir, 'zh-jieba');
    const b = await build([
      '--input',
      src,
      '--id',
      'id',
      '--text',
      'text',
      '--analyzer',
      'jieba',
      '--pairs',
      'adjacent',
      '--pair-min-df',
      '5',
      '--pair-min-pair-df',
      '3',
      '--out',
      out,
    ]);
    assert.equal(b.json.docs, rows.length);
    const an = makeAnalyzer('jieba');
    const oracle = new OracleIndex(
      rows.map((r) => [BigInt(r.id), [r.text]]),
      { fields: ['text'], bigrams: false, prepare: an.prepareDoc },
    );
    const ix = await openText(out);
    const qs = ['长江', '明月', '明月 OR 故乡', '春风 AND 杨柳', '人生 -朋友', '孤帆远影碧空尽', '白日依山尽'];
    const got = await searchText(ix, qs, { k: 10, usePairs: false });
    qs.forEach((q, i) => {
      assertSame(got.results[i], oracle.search(an.prepareQuery(q), { k: 10 }), q);
      assert.ok(got.results[i].totalHits > 0, `${q}: no hits`);
    });
    // a two-word phrase with the adjacent pair list: only docs where the words are adjacent
    const p = await searchText(ix, ['"明月 故乡"', '明月 故乡'], { k: 100 });
    assert.ok(p.results[0].totalHits <= p.results[1].totalHits);
    const poem = rows.find((r) => r.text.includes('明月光'));
    assert.ok((await searchText(ix, ['床前明月光'], { k: 100 })).results[0].hits.some((h) => h.id === String(poem.id)));
  });
  it('the standard analyzer indexes Han bigrams, like the oracle', async () => {
    const out = join(dir, 'zh-std');
    await build(['--input', src, '--id', 'id', '--text', 'text', '--out', out]);
    const oracle = new OracleIndex(
      rows.map((r) => [BigInt(r.id), [r.text]]),
      { fields: ['text'], prepare: nfkc },
    );
    const ix = await openText(out);
    const qs = ['长江', '明月 OR 故乡', '举头望明月', 'Debian 项目'];
    const got = await searchText(ix, qs, { k: 10 });
    qs.forEach((q, i) => assertSame(got.results[i], oracle.search(nfkc(q), { k: 10 }), q));
  });
});

describe('bad input: clear messages, nothing published', () => {
  let pq;
  before(async () => {
    pq = join(dir, 'bad.parquet');
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    await c.run(
      `COPY (SELECT * FROM (VALUES (1, 'alpha beta', 'x'::BLOB), (2, 'gamma', '\\xC3\\x28'::BLOB), (NULL, 'delta', 'y'::BLOB), (4, NULL, 'z'::BLOB)) t(id, body, raw)) TO '${pq}' (FORMAT parquet)`,
    );
    c.closeSync();
    db.closeSync();
  });
  it('a missing text column names the columns', async () => {
    const out = join(dir, 'bad-col');
    const r = await build(['--input', pq, '--id', 'id', '--text', 'nope', '--out', out], 3);
    assert.match(r.json.error.message, /no text column "nope"; columns are id, body, raw/);
    assert.ok(noVersion(out));
  });
  it('a null id names its row', async () => {
    const out = join(dir, 'bad-null');
    const r = await build(['--input', pq, '--id', 'id', '--text', 'body', '--out', out], 3);
    assert.match(r.json.error.message, /row 2: the id \("id"\) is null/);
    assert.ok(noVersion(out));
  });
  it('invalid UTF-8 names the row (parquet BLOB) or the line (JSON lines)', async () => {
    const out = join(dir, 'bad-utf8');
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const p2 = join(dir, 'blob.parquet');
    await c.run(`COPY (SELECT * FROM read_parquet('${pq}') WHERE id IS NOT NULL) TO '${p2}' (FORMAT parquet)`);
    c.closeSync();
    db.closeSync();
    const r = await build(['--input', p2, '--id', 'id', '--text', 'raw', '--out', out], 3);
    assert.match(r.json.error.message, /row 1: column "raw" is not valid UTF-8/);
    const j = join(dir, 'bad.jsonl');
    writeFileSync(
      j,
      Buffer.concat([Buffer.from('{"id":1,"text":"ok"}\n{"id":2,"text":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]),
    );
    const r2 = await build(['--input', j, '--id', 'id', '--text', 'text', '--out', out], 3);
    assert.match(r2.json.error.message, /line 2: not valid UTF-8 \(the line starts at byte 21\)/);
    assert.ok(noVersion(out));
  });
  it('duplicate ids keep the last row and are reported', async () => {
    const out = join(dir, 'dups');
    const src = jsonl('dups.jsonl', [
      { id: 'a', text: 'first version' },
      { id: 'b', text: 'other' },
      { id: 'a', text: 'second version' },
    ]);
    const r = await recallWarm(['build', 'inverted', '--input', src, '--id', 'id', '--text', 'text', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /1 duplicated id\(s\), the last row of each kept \(e\.g\. a\)/);
    const f = JSON.parse((await recallWarm(['query', 'inverted', '--index', out, '--q', 'first', '--json'])).stdout).results[0];
    assert.equal(f.totalHits, 0);
    const s = JSON.parse((await recallWarm(['query', 'inverted', '--index', out, '--q', 'version', '--json'])).stdout).results[0];
    assert.deepEqual(
      s.hits.map((h) => h.id),
      ['a'],
    );
  });
  it('Ctrl-C during the build exits 130 and leaves no version or staging folder', async () => {
    const src = jsonl(
      'wn-all.jsonl',
      dictdEntries('wn').map((text, id) => ({ id, text })),
    );
    const out = join(dir, 'interrupted');
    const state = { sent: false };
    // interrupt once the native build runs (its staging folder exists)
    const r = await recall(
      ['build', 'inverted', '--input', src, '--id', 'id', '--text', 'text', '--pairs', 'cooc', '--threads', '1', '--out', out],
      {
        onSpawn: interruptWhen(() => existsSync(out) && readdirSync(out).some((f) => f.includes('.staging-')), state),
      },
    );
    assert.ok(state.sent, `the build ended before it could be interrupted: ${r.stderr}`);
    assert.equal(r.code, 130, r.stderr);
    assert.deepEqual(existsSync(out) ? readdirSync(out) : [], []);
  });
  it('a 10 MB document is indexed; one over --max-doc-bytes is refused with its line', async () => {
    const words = [];
    const r = rng(3);
    while (words.length < 1_700_000) words.push(`w${Math.floor(r() * 50000)}`);
    const big = words.join(' ');
    assert.ok(big.length > 10e6);
    const src = jsonl('big.jsonl', [
      { id: 1, text: `small doc ${words[0]}` },
      { id: 2, text: big },
    ]);
    const out = join(dir, 'big');
    const b = await build(['--input', src, '--id', 'id', '--text', 'text', '--out', out]);
    assert.equal(b.json.docs, 2);
    const hit = JSON.parse((await recallWarm(['query', 'inverted', '--index', out, '--q', words[0], '--json'])).stdout).results[0];
    assert.deepEqual(hit.hits.map((h) => h.id).sort(), ['1', '2']);
    const out2 = join(dir, 'big2');
    const e = await build(['--input', src, '--id', 'id', '--text', 'text', '--max-doc-bytes', '1000000', '--out', out2], 3);
    assert.match(e.json.error.message, /line 2: the document has \d+ bytes of text, more than --max-doc-bytes 1000000/);
    assert.ok(noVersion(out2));
  });
});
