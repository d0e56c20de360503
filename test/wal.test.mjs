// The incremental path: WAL append / inspect / truncate, dumps (major and delta), queries over base + deltas +
// WAL tail, and the recovery rules, on an x2i channel built from DuckDB-written parquet. A model-based test runs
// random upserts, deletes, dumps and crashes against an in-memory model; a crash test kills `recall dump` with
// SIGKILL at random moments (12, or 40 under `npm run test:full`).
// recall-test: alone (it times or kills processes, or bounds memory: run with no other test file)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadNative } from '../dist/core/native.js';
import { appendWal } from '../dist/core/wal/append.js';
import { dumpChannel } from '../dist/core/pipeline/dump.js';
import { inspectWal } from '../dist/core/wal/read.js';
import { queryX2i } from '../dist/core/channels/x2i/query.js';
import { makeParquetFixtures } from './helpers/parquet-fixtures.mjs';
import { recall, scratchDir } from './helpers/cli.mjs';
import { cases } from './helpers/scale.mjs';

const dir = scratchDir('wal');
after(() => rmSync(dir, { recursive: true, force: true }));
const native = loadNative();
const TOP_K = 8;
const KILLS = cases(12, 40);
let fx;
before(async () => {
  fx = await makeParquetFixtures(join(dir, 'in'), 4000);
});

async function run(args, code = 0) {
  const r = await recall([...args, '--json']);
  assert.equal(r.code, code, `recall ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** A sharded x2i channel of the fixture lists (3 shards, top 8), built once and copied per test. */
let pristine;
async function channel(name) {
  if (!pristine) {
    pristine = join(dir, 'pristine');
    await run(['shard', '-i', fx.x2i_snappy, '-k', 'item_id', '-n', '3', '-o', join(dir, 'shards')]);
    await run([
      'build',
      'x2i',
      '-i',
      join(dir, 'shards'),
      '-k',
      'item_id',
      '--neighbors',
      'neighbors',
      '--scores',
      'scores',
      '--top-k',
      String(TOP_K),
      '-o',
      pristine,
    ]);
  }
  const out = join(dir, name);
  cpSync(pristine, out, { recursive: true });
  return out;
}

/** Seeded xorshift. */
function rng(seed) {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

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

describe('wal', () => {
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
    await run(['build', 'vector', '-i', fx.emb_zstd, '--id', 'item_id', '--vector', 'embedding', '--type', 'flat', '-o', idx]);
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
    const bad = await recall(['dump', '--index', idx, '--wal', wal]);
    assert.equal(bad.code, 0, bad.stderr);
    assert.match(bad.stderr, /quarantined \(not applied\): a field "summary" the index does not have/);
    await check('after a quarantined record');
    const v = await run(['verify', idx]);
    assert.equal(v.ok, true);
  });

  it(`SIGKILL of \`recall dump\` at ${KILLS} random moments: verify passes, answers are all old or all new`, async (t) => {
    // a bigger channel so a dump takes a while: 200,000 keys
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const c = await db.connect();
    const lists = join(dir, 'big.parquet');
    await c.run(`copy (select range::bigint as key, list_transform(range(6), j -> ((range * 7 + j * 13) % 500000)::bigint) as neighbors,
      list_transform(range(6), j -> (1.0 / (j + 1))::float) as scores from range(200000)) to '${lists}' (format parquet)`);
    const pristineBig = join(dir, 'big-pristine');
    await run(['build', 'x2i', '-i', lists, '-k', 'key', '--neighbors', 'neighbors', '--scores', 'scores', '-o', pristineBig]);
    const wal = join(dir, 'big-wal');
    const recs = [];
    for (let k = 0; k < 200000; k += 40)
      recs.push(k % 80 === 0 ? { op: 'delete', key: k } : { op: 'upsert', key: k, neighbors: [k + 1], scores: [9] });
    for (let k = 0; k < 300; k++) recs.push({ op: 'upsert', key: 1_000_000 + k, neighbors: [1], scores: [1] });
    writeFileSync(join(dir, 'big.jsonl'), jsonl(recs));
    await run(['wal', 'append', '--wal', wal, '--channel', 'x2i', '--input', join(dir, 'big.jsonl')]);
    const probe = [
      ...Array.from({ length: 200 }, (_, i) => BigInt(i * 20)),
      ...Array.from({ length: 20 }, (_, i) => BigInt(1_000_000 + i)),
    ];
    const oldAnswers = answersOf(await queryX2i(pristineBig, probe, 0));
    const newAnswers = answersOf(await queryX2i(pristineBig, probe, 0, { wal }));
    assert.notDeepEqual(oldAnswers, newAnswers);
    // the window a kill can tear: from the dump's staging folder appearing to its rename into place
    const staging = (idx) => readdirSync(idx).some((n) => n.includes('.staging-'));
    const watch =
      (idx, onStaging, onGone = () => {}) =>
      (child) => {
        child.stdin.end();
        let seen = false;
        const t0 = Date.now();
        const poll = setInterval(() => {
          const now = staging(idx);
          if (now && !seen) {
            seen = true;
            onStaging(child, Date.now() - t0);
          } else if (seen && !now) {
            clearInterval(poll);
            onGone(Date.now() - t0);
          }
        }, 2);
        child.on('close', () => clearInterval(poll));
      };
    // measured once per kind: a major dump rewrites every key, a delta only the changed ones
    const windows = {};
    for (const mode of ['major', 'delta']) {
      const probeIdx = join(dir, `crash-probe-${mode}`);
      cpSync(pristineBig, probeIdx, { recursive: true });
      let stagedAt = 0;
      let goneAt = 0;
      await recall(['dump', '--index', probeIdx, '--wal', wal, ...(mode === 'delta' ? ['--delta'] : [])], {
        onSpawn: watch(
          probeIdx,
          (_, ms) => (stagedAt = ms),
          (ms) => (goneAt = ms),
        ),
      });
      windows[mode] = { stagedAt, windowMs: Math.max(10, goneAt - stagedAt) };
    }
    const rand = rng(7);
    let midDump = 0;
    for (let i = 0; i < KILLS; i++) {
      const idx = join(dir, `crash-${i}`);
      cpSync(pristineBig, idx, { recursive: true });
      // most kills land inside the dump (after its staging folder appears), every fourth at any moment from spawn
      const anyTime = i % 4 === 0;
      const mode = i % 3 === 2 ? 'delta' : 'major';
      const { stagedAt, windowMs } = windows[mode];
      const delayMs = anyTime ? rand(stagedAt + windowMs) : rand(windowMs);
      let began = false;
      const r = await recall(['dump', '--index', idx, '--wal', wal, ...(mode === 'delta' ? ['--delta'] : [])], {
        onSpawn: anyTime
          ? (child) => {
              child.stdin.end();
              setTimeout(() => {
                began = staging(idx) || existsSync(join(idx, 'v00000002'));
                child.kill('SIGKILL');
              }, delayMs);
            }
          : watch(idx, (child) => {
              began = true;
              setTimeout(() => child.kill('SIGKILL'), delayMs);
            }),
      });
      if (r.signal === 'SIGKILL' && began) midDump++; // killed after the dump began staging, before it exited
      const v = await recall(['verify', idx, '--json']);
      assert.equal(v.code, 0, `kill ${i} after ${delayMs} ms: verify\n${v.stdout}${v.stderr}`);
      const current = readFileSync(join(idx, 'CURRENT'), 'utf8').split(' ')[0].trim();
      assert.ok(['v00000001', 'v00000002'].includes(current), current);
      for (const n of readdirSync(idx).filter((n) => /^v\d{8}$/.test(n)))
        assert.ok(existsSync(join(idx, n, 'manifest.json')), `${n} is complete`);
      const got = answersOf(await queryX2i(idx, probe, 0));
      assert.deepEqual(got, current === 'v00000001' ? oldAnswers : newAnswers, `kill ${i}: ${current} answers as itself, never a mix`);
      if (i % 4 === 1) {
        // the next dump goes through (stale lock and staging folder cleared) and is complete
        await run(['dump', '--index', idx, '--wal', wal]);
        assert.deepEqual(answersOf(await queryX2i(idx, probe, 0)), newAnswers);
      }
      rmSync(idx, { recursive: true, force: true });
    }
    const w = `staging windows: major ${windows.major.windowMs} ms, delta ${windows.delta.windowMs} ms`;
    t.diagnostic(`${midDump} of ${KILLS} kills landed between the dump's first staged write and its exit (${w})`);
    assert.ok(midDump >= Math.ceil(KILLS * 0.6), `at least 60% of the ${KILLS} kills hit a dump in progress (${midDump}; ${w})`);
  });

  it('a second concurrent dump is refused; the first completes', async () => {
    const idx = await channel('concurrent');
    const wal = join(dir, 'concurrent-wal');
    writeFileSync(join(dir, 'c.jsonl'), jsonl([{ op: 'delete', key: 5 }]));
    await appendWal({ wal, channel: 'x2i', input: join(dir, 'c.jsonl') });
    // a live process holds the channel lock (as a running dump does)
    const held = native.lockTry(join(idx, '.lock'));
    const r = await recall(['dump', '--index', idx, '--wal', wal, '--json']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).error.code, 'ERR_RECALL_LOCKED');
    native.lockRelease(held.handle);
    const ok = await run(['dump', '--index', idx, '--wal', wal]);
    assert.equal(ok.version, 2);
    // a second run has nothing new: idempotent, no version
    const again = await run(['dump', '--index', idx, '--wal', wal]);
    assert.equal(again.published, false);
    assert.equal(again.walSeq, 1);
    // a delta whose base layer went missing is damage that verify names
    writeFileSync(join(dir, 'c2.jsonl'), jsonl([{ op: 'delete', key: 6 }]));
    await appendWal({ wal, channel: 'x2i', input: join(dir, 'c2.jsonl') });
    assert.equal((await run(['dump', '--index', idx, '--wal', wal, '--delta'])).version, 3);
    rmSync(join(idx, 'v00000002'), { recursive: true });
    const v = await recall(['verify', idx]);
    assert.equal(v.code, 3, v.stdout);
    assert.match(v.stdout + v.stderr, /v00000003 reads layer v00000002, which is not in/);
  });

  it('a torn last record is reported and ignored; the next append cuts it', async () => {
    const idx = await channel('torn');
    const wal = join(dir, 'torn-wal');
    writeFileSync(
      join(dir, 't.jsonl'),
      jsonl([
        { op: 'delete', key: 1 },
        { op: 'delete', key: 2 },
        { op: 'delete', key: 3 },
      ]),
    );
    await run(['wal', 'append', '--wal', wal, '--channel', 'x2i', '--input', join(dir, 't.jsonl')]);
    const seg = join(
      wal,
      readdirSync(wal).find((f) => f.endsWith('.wal')),
    );
    const b = readFileSync(seg);
    writeFileSync(seg, b.subarray(0, b.length - 5));
    const ins = await run(['wal', 'inspect', '--wal', wal]);
    assert.equal(ins.records, 2);
    assert.equal(ins.torn, true);
    assert.match(ins.segments[0].torn.message, /torn tail/);
    const q = await recall(['query', 'x2i', '--index', idx, '--wal', wal, '--keys', '1,2,3', '--json']);
    assert.equal(q.code, 0);
    const res = JSON.parse(q.stdout);
    assert.deepEqual(
      res.results.map((r) => r.deleted),
      [true, true, false],
    );
    assert.equal(res.wal.torn.offset, b.length - Math.floor(b.length / 3));
    const d = await run(['dump', '--index', idx, '--wal', wal]);
    assert.equal(d.records, 2);
    assert.ok(d.wal.torn);
    const a = await run(['wal', 'append', '--wal', wal, '--channel', 'x2i', '--input', join(dir, 't.jsonl')]);
    assert.ok(a.recovered, 'the append reports the torn tail it cut');
    assert.equal(a.firstSeq, 3);
    assert.equal((await run(['wal', 'inspect', '--wal', wal])).torn, false);
  });

  it('a corrupt record in the middle stops replay with segment and offset unless --skip-corrupt', async () => {
    const idx = await channel('corrupt');
    const wal = join(dir, 'corrupt-wal');
    writeFileSync(
      join(dir, 'k.jsonl'),
      jsonl([
        { op: 'delete', key: 1 },
        { op: 'delete', key: 2 },
        { op: 'delete', key: 3 },
      ]),
    );
    await appendWal({ wal, channel: 'x2i', input: join(dir, 'k.jsonl') });
    const seg = join(
      wal,
      readdirSync(wal).find((f) => f.endsWith('.wal')),
    );
    const b = readFileSync(seg);
    const rec = b.length / 3;
    b[rec + 20] ^= 0xff; // the second record's key
    writeFileSync(seg, b);
    const r = await recall(['dump', '--index', idx, '--wal', wal, '--json']);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    const e = JSON.parse(r.stdout).error;
    assert.equal(e.code, 'ERR_RECALL_CORRUPT');
    assert.equal(e.file, seg);
    assert.equal(e.offset, rec);
    assert.match(e.fix, /--skip-corrupt/);
    assert.equal(readFileSync(join(idx, 'CURRENT'), 'utf8').split(' ')[0].trim(), 'v00000001', 'nothing published');
    assert.equal((await recall(['wal', 'inspect', '--wal', wal])).code, 3);
    const q = await recall(['query', 'x2i', '--index', idx, '--wal', wal, '--keys', '1']);
    assert.equal(q.code, 3);
    const d = await run(['dump', '--index', idx, '--wal', wal, '--skip-corrupt']);
    assert.equal(d.records, 2);
    assert.equal(d.wal.corrupt.length, 1);
    assert.equal(d.wal.corrupt[0].offset, rec);
    const after = await run(['query', 'x2i', '--index', idx, '--keys', '1,2,3']);
    assert.deepEqual(
      after.results.map((x) => x.found),
      [false, true, false],
      'the skipped delete of key 2 was not applied',
    );
  });

  it('wal append refuses a bad line (numbered) before appending anything', async () => {
    const wal = join(dir, 'bad-wal');
    const good = { op: 'upsert', key: 1, neighbors: [2], scores: [0.5] };
    const cases = [
      [{ op: 'upsert', key: 1, neighbors: [2, 3], scores: [0.5] }, /line 3: "neighbors" has 2 items and "scores" 1/],
      [{ op: 'put', key: 1 }, /line 3: "op" is "put"/],
      [{ op: 'delete', key: 1.5 }, /line 3: "key" is 1.5, not a 64-bit integer/],
      [{ op: 'delete', key: '99999999999999999999' }, /line 3: "key" is "99999999999999999999", not a 64-bit integer/],
      [{ op: 'upsert', key: 1, neighbors: [2], scores: ['x'] }, /line 3: scores\[0\] is "x"/],
      ['{not json', /line 3: not valid JSON/],
    ];
    for (const [bad, msg] of cases) {
      const file = join(dir, 'bad.jsonl');
      writeFileSync(file, `${JSON.stringify(good)}\n\n${typeof bad === 'string' ? bad : JSON.stringify(bad)}\n${JSON.stringify(good)}\n`);
      const r = await recall(['wal', 'append', '--wal', wal, '--channel', 'x2i', '--input', file]);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, msg);
      assert.match(r.stderr, /nothing was appended/);
      assert.ok(!existsSync(wal) || (await inspectWal(wal)).every((s) => s.records === 0), 'nothing appended');
    }
    // vector and inverted records are checked as well
    writeFileSync(
      join(dir, 'v.jsonl'),
      jsonl([
        { op: 'upsert', id: 1, vector: [1, 2] },
        { op: 'upsert', id: 2, vector: [1, 2, 3] },
      ]),
    );
    const v = await recall(['wal', 'append', '--wal', wal, '--channel', 'vector', '--input', join(dir, 'v.jsonl')]);
    assert.match(v.stderr, /line 2: "vector" has 3 dimensions, earlier records 2/);
    writeFileSync(join(dir, 'i.jsonl'), jsonl([{ op: 'upsert', id: 'a', fields: { body: 7 } }]));
    const i = await recall(['wal', 'append', '--wal', wal, '--channel', 'inverted', '--input', join(dir, 'i.jsonl')]);
    assert.match(i.stderr, /line 1: field "body" is number, not text/);
  });

  it('the TypeScript reader reads what the native writer wrote, for every channel; parquet input; one writer', async () => {
    const wal = join(dir, 'cross-wal');
    // DuckDB-written parquet of x2i updates (op column: upserts and deletes)
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const c = await db.connect();
    const pq = join(dir, 'updates.parquet');
    await c.run(`copy (select case when range % 4 = 0 then 'delete' else 'upsert' end as op, (range * 1000003 - 500)::bigint as key,
      [range, range + 1]::bigint[] as neighbors, [0.5, 0.25]::float[] as scores from range(500)) to '${pq}' (format parquet, compression zstd)`);
    const a = await run(['wal', 'append', '--wal', wal, '--channel', 'x2i', '--input', pq, '--segment-bytes', '4096']);
    assert.deepEqual([a.records, a.upserts, a.deletes], [500, 375, 125]);
    writeFileSync(
      join(dir, 'vi.jsonl'),
      jsonl([
        { op: 'upsert', id: '18446744073709551615', vector: [0.5, -1, 3e38] },
        { op: 'delete', id: 3 },
      ]),
    );
    await run(['wal', 'append', '--wal', wal, '--channel', 'vector', '--input', join(dir, 'vi.jsonl'), '--fsync', 'always']);
    writeFileSync(
      join(dir, 'in.jsonl'),
      jsonl([
        { op: 'upsert', id: 'doc-ü', fields: { title: 'Grüße', body: null } },
        { op: 'delete', id: 'doc-ü' },
      ]),
    );
    await run(['wal', 'append', '--wal', wal, '--channel', 'inverted', '--input', join(dir, 'in.jsonl')]);
    const ts = [];
    const segs = await inspectWal(wal, (r) => ts.push([r.seq, r.op, Buffer.from(r.payload).toString('hex')]));
    assert.ok(segs.length > 3, 'rotated at 4 KiB');
    const n = native.walScan(wal, {});
    const nat = Array.from(n.seqs, (s, i) => [
      s,
      n.ops[i],
      Buffer.from(n.payloads.subarray(i ? n.ends[i - 1] : 0, n.ends[i])).toString('hex'),
    ]);
    assert.deepEqual(ts, nat);
    assert.deepEqual(
      ts.map((r) => r[0]),
      Array.from({ length: 504 }, (_, i) => i + 1),
    );
    assert.deepEqual(
      ts.slice(-4).map((r) => r[1]),
      [3, 4, 5, 6],
      'vector upsert, vector delete, inverted upsert, inverted delete',
    );
    // the first parquet row: a delete of key -500
    assert.equal(ts[0][2], Buffer.from(new BigInt64Array([-500n]).buffer).toString('hex'));
    const ins = await run(['wal', 'inspect', '--wal', wal]);
    assert.deepEqual(
      ins.segments.reduce((m, s) => {
        for (const [k, v] of Object.entries(s.ops)) m[k] = (m[k] ?? 0) + v;
        return m;
      }, {}),
      { 'x2i.upsert': 375, 'x2i.delete': 125, 'vector.upsert': 1, 'vector.delete': 1, 'inverted.upsert': 1, 'inverted.delete': 1 },
    );
    // one writer: while this process holds the WAL, the CLI is refused
    const w = native.walOpen(wal, {});
    writeFileSync(join(dir, 'one.jsonl'), jsonl([{ op: 'delete', key: 1 }]));
    const r = await recall(['wal', 'append', '--wal', wal, '--channel', 'x2i', '--input', join(dir, 'one.jsonl'), '--json']);
    native.walClose(w.handle);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(JSON.parse(r.stdout).error.message, new RegExp(`process ${process.pid} is writing this WAL`));
    // truncate keeps the newest segment and drops the ones wholly before the seq
    const t = await run(['wal', 'truncate', '--wal', wal, '--before', '300']);
    assert.ok(t.removed.length >= 1);
    const left = await inspectWal(wal);
    assert.ok(left[0].minSeq <= 300 && left.at(-1).maxSeq === 504);
  });
});
