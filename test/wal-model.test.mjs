// The WAL model-based tests: random upserts, deletes, major and delta dumps (and, for x2i, crashes) against
// an in-memory model, on x2i, vector and text channels built from DuckDB-written parquet. Every query over
// base + deltas + WAL tail must equal the model (brute force for vectors). They time nothing, so they run
// beside other test files; the kill test and the recovery rules are in wal.test.mjs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadNative } from '../dist/core/native.js';
import { appendWal } from '../dist/core/wal/append.js';
import { dumpChannel } from '../dist/core/pipeline/dump.js';
import { queryX2i } from '../dist/core/channels/x2i/query.js';
import { rng, run, walFixture } from './helpers/wal-fixture.mjs';
import { recallWarm, scratchDir } from './helpers/cli.mjs';

const dir = scratchDir('wal-model');
after(() => rmSync(dir, { recursive: true, force: true }));
const TOP_K = 8;
const { fx, channel } = walFixture(dir, TOP_K);

/** A list as the index stores it: score desc, item asc, a repeated item keeps its best score, top k; f32 scores. */
function normalise(items, scores) {
  const best = new Map();
  items.forEach((it, i) => {
    const s = Math.fround(scores[i]);
    if (!best.has(it) || best.get(it) < s) best.set(it, s);
  });
  return [...best]
    .sort((a, b) => b[1] - a[1] || (BigInt(a[0]) < BigInt(b[0]) ? -1 : 1))
    .slice(0, TOP_K)
    .map(([item, score]) => ({ item, score }));
}

const jsonl = (records) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
const answersOf = (res) => Object.fromEntries(res.results.map((r) => [r.key, r.found ? r.items : null]));

describe('wal: model-based', () => {
  it('model-based: random upserts, deletes, major and delta dumps and crashes; every query equals the model', async () => {
    const idx = await channel('model');
    const wal = join(dir, 'model-wal');
    const rand = rng(20261122);
    // the model: the base's answers, then every applied record (seq, key, list or null)
    const universe = Array.from({ length: 1100 }, (_, i) => String(i - 50)); // base keys 0..999, new and negative keys
    const keys = universe.map(BigInt);
    const base = answersOf(await queryX2i(idx, keys, 0));
    assert.ok(Object.values(base).filter(Boolean).length >= 900, 'the base answers most keys');
    const log = []; // [seq, key, list | null]
    const modelAt = (seq) => {
      const m = { ...base };
      for (const [s, k, v] of log) if (s <= seq) m[k] = v;
      return m;
    };
    let seq = 0;
    let dumps = 0;
    let deltas = 0;
    let crashes = 0;
    const check = async (what) => {
      const cur = modelAt(seq);
      assert.deepEqual(answersOf(await queryX2i(idx, keys, 0, { wal })), cur, `${what}: index + WAL`);
      // the version alone answers as of its dump seq, and --as-of any earlier seq as of that seq
      const alone = await queryX2i(idx, keys, 0);
      const walSeq =
        JSON.parse(readFileSync(join(idx, readFileSync(join(idx, 'CURRENT'), 'utf8').split(' ')[0].trim(), 'manifest.json'), 'utf8')).params
          .dump?.walSeq ?? 0;
      assert.deepEqual(answersOf(alone), modelAt(walSeq), `${what}: the version alone (seq ${walSeq})`);
      // the oldest kept version bounds how far back --as-of can go
      const kept = readdirSync(idx)
        .filter((n) => /^v\d{8}$/.test(n))
        .map((n) => JSON.parse(readFileSync(join(idx, n, 'manifest.json'), 'utf8')).params.dump?.walSeq ?? 0);
      const oldest = Math.min(...kept);
      if (seq > oldest) {
        const asOf = oldest + rand(seq - oldest + 1);
        assert.deepEqual(answersOf(await queryX2i(idx, keys, 0, { wal, asOf })), modelAt(asOf), `${what}: --as-of ${asOf}`);
      }
    };
    for (let step = 0; step < 36; step++) {
      const action = step < 3 ? 0 : rand(10);
      if (action < 5) {
        const recs = [];
        for (let n = 1 + rand(30); n > 0; n--) {
          const key = universe[rand(universe.length)];
          if (rand(3) === 0) recs.push({ op: 'delete', key: Number(key) });
          else {
            const len = rand(12);
            const items = Array.from({ length: len }, () => String(rand(40))); // repeats on purpose
            const scores = items.map(() => rand(8) / 4 - 0.5);
            recs.push({ op: 'upsert', key: key, neighbors: items, scores });
          }
        }
        const file = join(dir, `model-${step}.jsonl`);
        writeFileSync(file, jsonl(recs));
        const r = await appendWal({ wal, channel: 'x2i', input: file, fsync: 'off', segmentBytes: 600 });
        assert.equal(r.firstSeq, seq + 1);
        for (const rec of recs) {
          seq++;
          log.push([seq, String(rec.key), rec.op === 'delete' ? null : normalise(rec.neighbors, rec.scores)]);
        }
        assert.equal(r.lastSeq, seq);
      } else if (action < 8) {
        const delta = action < 7;
        const r = await dumpChannel({ index: idx, wal, delta, keep: 4 });
        if (r.published) {
          dumps++;
          if (delta) deltas++;
        }
        assert.equal(r.walSeq, seq);
      } else if (action === 8) {
        // a writer that died mid-record: the torn tail is ignored by readers and cut by the next writer
        const segs = readdirSync(wal)
          .filter((f) => f.endsWith('.wal'))
          .sort();
        appendFileSync(join(wal, segs.at(-1)), Buffer.from([40, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7]));
        crashes++;
      } else {
        // a dump that died: its staging folder and a lock with a dead pid stay behind
        const dead = spawnSync(process.execPath, ['-e', '0']).pid;
        mkdirSync(join(idx, `.v00000099.staging-${dead}`), { recursive: true });
        writeFileSync(join(idx, `.v00000099.staging-${dead}`, 'shard-00000-of-00003.rx2i'), 'half');
        writeFileSync(join(idx, '.lock'), `${dead}\n`);
        crashes++;
      }
      await check(`step ${step} (action ${action})`);
    }
    assert.ok(dumps >= 3 && deltas >= 1 && crashes >= 2, `dumps ${dumps}, deltas ${deltas}, crashes ${crashes}`);
    // leftovers of crashed dumps are gone once a dump ran after them
    await dumpChannel({ index: idx, wal });
    assert.deepEqual(
      readdirSync(idx).filter((n) => n.startsWith('.')),
      [],
    );
    const v = await run(['verify', idx]);
    assert.equal(v.ok, true);
  });

  it('vector model-based: upserts, deletes, delta and major dumps; every search equals brute force over the model', async () => {
    const idx = join(dir, 'vec');
    const wal = join(dir, 'vec-wal');
    await run(['build', 'vector', '-i', fx().emb_zstd, '--id', 'item_id', '--vector', 'embedding', '--type', 'flat', '-o', idx]);
    const rand = rng(99);
    // the model: id -> row, read back from the base
    const native0 = loadNative();
    const base = native0.vectorRows(native0.vectorOpen(join(idx, 'v00000001', 'shard-00000-of-00001.rvec')));
    const model = new Map();
    base.ids.forEach((id, i) => model.set(id, Array.from(base.data.subarray(i * 32, (i + 1) * 32))));
    assert.equal(model.size, 400);
    const ids = [...model.keys()];
    const queries = Array.from({ length: 8 }, () => Array.from({ length: 32 }, () => rand(1000) / 1000));
    writeFileSync(join(dir, 'vq.jsonl'), jsonl(queries.map((v) => ({ vector: v }))));
    const brute = (k) =>
      queries.map((q) =>
        [...model]
          .map(([id, v]) => ({ id, d: Math.sqrt(v.reduce((s, x, j) => s + (Math.fround(x) - q[j]) ** 2, 0)) }))
          .sort((a, b) => a.d - b.d)
          .slice(0, k),
      );
    const check = async (what, extra = []) => {
      const r = await run(['query', 'vector', '--index', idx, '--queries', join(dir, 'vq.jsonl'), '--k', '6', ...extra]);
      const want = brute(6);
      want.forEach((w, qi) =>
        w.forEach((x, j) => {
          assert.ok(Math.abs(r.distances[qi][j] - x.d) < 1e-4, `${what}: query ${qi} rank ${j}: distance ${r.distances[qi][j]} vs ${x.d}`);
          const tie = (w[j - 1] && w[j - 1].d > x.d - 1e-5) || (w[j + 1] && w[j + 1].d < x.d + 1e-5);
          if (!tie) assert.equal(String(r.ids[qi][j]), String(x.id), `${what}: query ${qi} rank ${j}`);
        }),
      );
    };
    let dumps = 0;
    for (let step = 0; step < 10; step++) {
      const recs = [];
      for (let n = 1 + rand(15); n > 0; n--) {
        if (rand(3) === 0 && ids.length) recs.push({ op: 'delete', id: Number(ids[rand(ids.length)]) });
        else {
          // near a query, so updates show up in the answers
          const q = queries[rand(queries.length)];
          const id = rand(2) ? ids[rand(ids.length)] : BigInt(5000 + rand(100));
          recs.push({ op: 'upsert', id: Number(id), vector: q.map((x) => x + (rand(100) - 50) / 2000) });
        }
      }
      for (const r of recs) {
        if (r.op === 'delete') model.delete(BigInt(r.id));
        else model.set(BigInt(r.id), r.vector.map(Math.fround));
      }
      writeFileSync(join(dir, 'vu.jsonl'), jsonl(recs));
      await run(['wal', 'append', '--wal', wal, '--channel', 'vector', '--input', join(dir, 'vu.jsonl')]);
      await check(`step ${step}: index + WAL`, ['--wal', wal]);
      if (step % 3 === 1) {
        const d = await run(['dump', '--index', idx, '--wal', wal, ...(step % 2 ? ['--delta'] : [])]);
        assert.equal(d.published, true);
        dumps++;
        await check(`step ${step}: after the ${d.kind} dump, the version alone`);
      }
    }
    assert.ok(dumps >= 3);
    // as of seq 0: the base version alone, whatever came after
    const old = await run([
      'query',
      'vector',
      '--index',
      idx,
      '--queries',
      join(dir, 'vq.jsonl'),
      '--k',
      '6',
      '--as-of',
      '0',
      '--wal',
      wal,
    ]);
    const first = await run(['query', 'vector', '--index', join(idx, 'v00000001'), '--queries', join(dir, 'vq.jsonl'), '--k', '6']);
    assert.deepEqual(old.ids, first.ids);
    const v = await run(['verify', idx]);
    assert.equal(v.ok, true);
  });

  it('text model-based: upserts, deletes, delta and major dumps; every word finds exactly the live documents holding it', async () => {
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const c = await db.connect();
    await c.run('select setseed(0.3)');
    const pq = join(dir, 'text-docs.parquet');
    await c.run(`copy (select range::bigint as id, 'w' || (random() * 30)::int as title,
      list_aggregate(list_transform(range(1 + (random() * 7)::int), x -> 'w' || (random() * 30)::int), 'string_agg', ' ') as body
      from range(300)) to '${pq}' (format parquet, compression zstd)`);
    const idx = join(dir, 'text');
    const wal = join(dir, 'text-wal');
    await run(['build', 'inverted', '-i', pq, '--id', 'id', '--text', 'title,body', '--field-weights', '2,1', '-o', idx]);
    const model = new Map();
    for (const r of (await c.runAndReadAll(`select id::varchar id, title, body from read_parquet('${pq}')`)).getRowObjectsJson())
      model.set(r.id, r);
    const rand = rng(4242);
    const words = Array.from({ length: 30 }, (_, i) => `w${i}`);
    writeFileSync(join(dir, 'words.txt'), `${words.join('\n')}\n`);
    const check = async (what, extra = []) => {
      const r = await run(['query', 'inverted', '--index', idx, '--queries-file', join(dir, 'words.txt'), '--k', '1000', ...extra]);
      r.results.forEach((q, i) => {
        const w = words[i];
        const want = [...model.values()]
          .filter((d) => `${d.title} ${d.body}`.split(' ').includes(w))
          .map((d) => d.id)
          .sort();
        const got = q.hits.map((h) => String(h.id)).sort();
        assert.deepEqual(got, want, `${what}: "${w}"`);
        for (let j = 1; j < q.hits.length; j++) assert.ok(q.hits[j - 1].score >= q.hits[j].score, `${what}: "${w}" in score order`);
      });
    };
    await check('base');
    const phrase = () => Array.from({ length: 1 + rand(6) }, () => words[rand(30)]).join(' ');
    let dumps = 0;
    for (let step = 0; step < 9; step++) {
      const recs = [];
      for (let n = 1 + rand(20); n > 0; n--) {
        const id = String(rand(2) ? rand(300) : 1000 + rand(50));
        if (rand(3) === 0) {
          recs.push({ op: 'delete', id: Number(id) });
          model.delete(id);
        } else {
          const doc = { title: words[rand(30)], body: phrase() };
          recs.push({ op: 'upsert', id: Number(id), fields: doc });
          model.set(id, { id, ...doc });
        }
      }
      writeFileSync(join(dir, 'tu.jsonl'), jsonl(recs));
      await run(['wal', 'append', '--wal', wal, '--channel', 'inverted', '--input', join(dir, 'tu.jsonl')]);
      await check(`step ${step}: index + WAL`, ['--wal', wal]);
      if (step % 2 === 1) {
        const d = await run(['dump', '--index', idx, '--wal', wal, ...(step % 4 === 1 ? ['--delta'] : [])]);
        assert.equal(d.published, true);
        dumps++;
        await check(`step ${step}: after the ${d.kind} dump, the version alone`);
      }
    }
    assert.ok(dumps >= 4);
    // a field the index does not have: quarantined by the dump (not applied, reported), not a stop
    writeFileSync(join(dir, 'tf.jsonl'), jsonl([{ op: 'upsert', id: 7, fields: { summary: 'x' } }]));
    await run(['wal', 'append', '--wal', wal, '--channel', 'inverted', '--input', join(dir, 'tf.jsonl')]);
    const bad = await recallWarm(['dump', '--index', idx, '--wal', wal]);
    assert.equal(bad.code, 0, bad.stderr);
    assert.match(bad.stderr, /quarantined \(not applied\): a field "summary" the index does not have/);
    await check('after a quarantined record');
    const v = await run(['verify', idx]);
    assert.equal(v.ok, true);
  });
});
