// The incremental path: WAL append / inspect / truncate, dumps (major and delta), queries over base + deltas +
// WAL tail, and the recovery rules, on an x2i channel built from DuckDB-written parquet. A crash test kills
// `recall dump` with SIGKILL at random moments (12, or 40 under `npm run test:full`). The model-based tests
// are in wal-model.test.mjs.
// recall-test: alone (it times or kills processes, or bounds memory: run with no other test file)
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadNative } from '../dist/core/native.js';
import { appendWal } from '../dist/core/wal/append.js';
import { inspectWal } from '../dist/core/wal/read.js';
import { queryX2i } from '../dist/core/channels/x2i/query.js';
import { rng, run, walFixture } from './helpers/wal-fixture.mjs';
import { recall, recallWarm, scratchDir } from './helpers/cli.mjs';
import { cases } from './helpers/scale.mjs';

const dir = scratchDir('wal');
after(() => rmSync(dir, { recursive: true, force: true }));
const native = loadNative();
const TOP_K = 8;
const KILLS = cases(12, 40);
const { channel } = walFixture(dir, TOP_K);

const jsonl = (records) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
const answersOf = (res) => Object.fromEntries(res.results.map((r) => [r.key, r.found ? r.items : null]));

describe('wal', () => {
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
      // most kills land inside the dump (after its staging folder appears), every fourth at any moment from spawn;
      // inside, within the first 70% of the window measured once: a dump that runs faster than the measured
      // one would otherwise outrun a kill drawn near the window's end
      const anyTime = i % 4 === 0;
      const mode = i % 3 === 2 ? 'delta' : 'major';
      const { stagedAt, windowMs } = windows[mode];
      const delayMs = anyTime ? rand(stagedAt + windowMs) : rand(windowMs * 0.7);
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
      const v = await recallWarm(['verify', idx, '--json']);
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
    const r = await recallWarm(['dump', '--index', idx, '--wal', wal, '--json']);
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
    const v = await recallWarm(['verify', idx]);
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
    const q = await recallWarm(['query', 'x2i', '--index', idx, '--wal', wal, '--keys', '1,2,3', '--json']);
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
    const r = await recallWarm(['dump', '--index', idx, '--wal', wal, '--json']);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    const e = JSON.parse(r.stdout).error;
    assert.equal(e.code, 'ERR_RECALL_CORRUPT');
    assert.equal(e.file, seg);
    assert.equal(e.offset, rec);
    assert.match(e.fix, /--skip-corrupt/);
    assert.equal(readFileSync(join(idx, 'CURRENT'), 'utf8').split(' ')[0].trim(), 'v00000001', 'nothing published');
    assert.equal((await recallWarm(['wal', 'inspect', '--wal', wal])).code, 3);
    const q = await recallWarm(['query', 'x2i', '--index', idx, '--wal', wal, '--keys', '1']);
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
      const r = await recallWarm(['wal', 'append', '--wal', wal, '--channel', 'x2i', '--input', file]);
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
    const v = await recallWarm(['wal', 'append', '--wal', wal, '--channel', 'vector', '--input', join(dir, 'v.jsonl')]);
    assert.match(v.stderr, /line 2: "vector" has 3 dimensions, earlier records 2/);
    writeFileSync(join(dir, 'i.jsonl'), jsonl([{ op: 'upsert', id: 'a', fields: { body: 7 } }]));
    const i = await recallWarm(['wal', 'append', '--wal', wal, '--channel', 'inverted', '--input', join(dir, 'i.jsonl')]);
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
    const r = await recallWarm(['wal', 'append', '--wal', wal, '--channel', 'x2i', '--input', join(dir, 'one.jsonl'), '--json']);
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
