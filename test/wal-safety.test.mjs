// WAL data safety: damage in the newest segment is corruption unless it is a record running past the end
// (no acknowledged record is cut or its seq reused), seq gaps between segments, WAL identity checked against
// the versions dumped from it, inapplicable records quarantined (and dropped by an operator), and a streaming
// `wal append` whose memory does not grow with its input.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadNative } from '../dist/core/native.js';
import { eachLine } from '../dist/core/wal/records.js';
import { makeParquetFixtures } from './helpers/parquet-fixtures.mjs';
import { recall, recallWarm, root, scratchDir } from './helpers/cli.mjs';

const dir = scratchDir('wal-safety');
after(() => rmSync(dir, { recursive: true, force: true }));
const native = loadNative();
let fx;
let x2iIndex;
before(async () => {
  fx = await makeParquetFixtures(join(dir, 'in'), 4000);
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const c = await db.connect();
  const pq = join(dir, 'lists.parquet');
  await c.run(`copy (select range::bigint as key, [range + 1, range + 2]::bigint[] as neighbors, [0.5, 0.25]::float[] as scores
    from range(500)) to '${pq}' (format parquet)`);
  x2iIndex = join(dir, 'x2i-pristine');
  await run(['build', 'x2i', '-i', pq, '-k', 'key', '--neighbors', 'neighbors', '--scores', 'scores', '-o', x2iIndex]);
});

async function run(args, code = 0) {
  const r = await recallWarm([...args, '--json']);
  assert.equal(r.code, code, `recall ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}
const jsonl = (records) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
const segmentsOf = (wal) =>
  readdirSync(wal)
    .filter((f) => f.endsWith('.wal'))
    .sort()
    .map((f) => join(wal, f));
const copyIndex = (name) => {
  const out = join(dir, name);
  spawnSync('cp', ['-r', x2iIndex, out]);
  return out;
};
/** x2i deletes of keys from..to-1, appended through the CLI. */
async function appendDeletes(wal, from, to, extra = []) {
  const file = join(dir, `del-${from}-${to}.jsonl`);
  writeFileSync(file, jsonl(Array.from({ length: to - from }, (_, i) => ({ op: 'delete', key: from + i }))));
  return run(['wal', 'append', '--wal', wal, '--channel', 'x2i', '--input', file, '--fsync', 'off', ...extra]);
}

describe('wal safety', { concurrency: 2 }, () => {
  it('a flipped length byte in the middle of the newest segment is corruption: exit 3, no cut, no seq reused', async () => {
    const wal = join(dir, 'flip-wal');
    await appendDeletes(wal, 0, 300);
    const [seg] = segmentsOf(wal);
    const b = readFileSync(seg);
    const rec = b.length / 300; // every delete record has the same size
    b[150 * rec] ^= 0x10; // the length field of seq 151
    writeFileSync(seg, b);
    const ins = await recallWarm(['wal', 'inspect', '--wal', wal, '--json']);
    assert.equal(ins.code, 3, ins.stdout);
    const insJson = JSON.parse(ins.stdout);
    assert.equal(insJson.torn, false);
    assert.match(insJson.segments[0].corrupt[0].message, /a valid record follows at offset/);
    const q = await recallWarm(['query', 'x2i', '--index', x2iIndex, '--wal', wal, '--keys', '1,200', '--json']);
    assert.equal(q.code, 3, q.stdout + q.stderr);
    const e = JSON.parse(q.stdout).error;
    assert.equal(e.code, 'ERR_RECALL_CORRUPT');
    assert.equal(e.file, seg);
    assert.equal(e.offset, 150 * rec);
    assert.match(e.fix, /--skip-corrupt/);
    // skipped: every record after the damaged one still applies (key 200 deleted), the lost seq named
    const s = await run(['query', 'x2i', '--index', x2iIndex, '--wal', wal, '--keys', '150,200', '--skip-corrupt']);
    assert.deepEqual(
      s.results.map((r) => r.deleted),
      [false, true],
    );
    assert.equal(s.wal.corrupt, 1);
    assert.equal(s.wal.lastSeq, 300);
    // the next append neither cuts seqs 151..300 nor reuses them
    const a = await recallWarm(['wal', 'append', '--wal', wal, '--channel', 'x2i', '--input', join(dir, 'del-0-300.jsonl'), '--json']);
    assert.equal(a.code, 3, a.stdout);
    assert.equal(JSON.parse(a.stdout).error.offset, 150 * rec);
    assert.deepEqual(readFileSync(seg), b, 'the segment is unchanged');
    // the last record's CRC failing is corruption too; only a record running past the end is a torn tail
    const wal2 = join(dir, 'last-crc-wal');
    await appendDeletes(wal2, 0, 3);
    const [seg2] = segmentsOf(wal2);
    const b2 = readFileSync(seg2);
    b2[b2.length - 2] ^= 1;
    writeFileSync(seg2, b2);
    assert.equal((await recallWarm(['wal', 'inspect', '--wal', wal2])).code, 3);
    writeFileSync(seg2, b2.subarray(0, b2.length - 2));
    const torn = await run(['wal', 'inspect', '--wal', wal2]);
    assert.equal(torn.torn, true);
    assert.equal(torn.lastSeq, 2);
  });

  it('a deleted segment is a gap: exit 3 naming the missing seqs; a WAL truncated past a version is refused', async () => {
    const wal = join(dir, 'gap-wal');
    await appendDeletes(wal, 0, 60, ['--segment-bytes', '300']);
    const segs = segmentsOf(wal);
    assert.ok(segs.length >= 5, `${segs.length} segments`);
    const first = (f) => Number(f.split('/').at(-1).slice(0, 20));
    const [from, to] = [first(segs[2]), first(segs[3]) - 1];
    rmSync(segs[2]);
    const idx = copyIndex('gap-index');
    const d = await recallWarm(['dump', '--index', idx, '--wal', wal, '--json']);
    assert.equal(d.code, 3, d.stdout);
    const e = JSON.parse(d.stdout).error;
    assert.equal(e.code, 'ERR_RECALL_CORRUPT');
    assert.equal(e.file, segs[3]);
    assert.match(e.message, new RegExp(`seqs ${from}\\.\\.${to} are missing`));
    const ins = await recallWarm(['wal', 'inspect', '--wal', wal, '--json']);
    assert.equal(ins.code, 3);
    assert.match(JSON.parse(ins.stdout).segments[2].corrupt[0].message, new RegExp(`seqs ${from}\\.\\.${to} are missing`));
    const q = await recallWarm(['query', 'x2i', '--index', idx, '--wal', wal, '--keys', '1']);
    assert.equal(q.code, 3);
    const skipped = await run(['dump', '--index', idx, '--wal', wal, '--skip-corrupt']);
    assert.equal(skipped.records, 60 - (to - from + 1));
    // truncating segments a version has not applied leaves records missing for it: refused
    const wal2 = join(dir, 'trunc-wal');
    await appendDeletes(wal2, 0, 60, ['--segment-bytes', '300']);
    await run(['wal', 'truncate', '--wal', wal2, '--before', '40']);
    const idx2 = copyIndex('trunc-index');
    const t = await recallWarm(['query', 'x2i', '--index', idx2, '--wal', wal2, '--keys', '1', '--json']);
    assert.equal(t.code, 3, t.stdout);
    assert.equal(JSON.parse(t.stdout).error.code, 'ERR_RECALL_WAL_GAP');
    assert.match(JSON.parse(t.stdout).error.message, /seqs 1\.\.\d+ are missing/);
  });

  it('a version records the id of the WAL it applied; another WAL is exit 3; a WAL made before ids adopts one', async () => {
    const idx = copyIndex('id-index');
    const walA = join(dir, 'id-wal-a');
    const a = await appendDeletes(walA, 0, 5);
    assert.match(a.walId, /^[0-9a-f]{32}$/);
    const idA = JSON.parse(readFileSync(join(walA, 'wal.json'), 'utf8')).id;
    assert.equal(a.walId, idA);
    await run(['dump', '--index', idx, '--wal', walA]);
    const m = JSON.parse(readFileSync(join(idx, 'v00000002', 'manifest.json'), 'utf8'));
    assert.equal(m.params.dump.walId, idA);
    // a new WAL: seqs restart at 1, so its first 5 records would be skipped silently
    const walB = join(dir, 'id-wal-b');
    await appendDeletes(walB, 100, 110);
    for (const args of [
      ['query', 'x2i', '--index', idx, '--wal', walB, '--keys', '100'],
      ['dump', '--index', idx, '--wal', walB],
    ]) {
      const r = await recallWarm([...args, '--json']);
      assert.equal(r.code, 3, `${args[0]}: ${r.stdout}`);
      const e = JSON.parse(r.stdout).error;
      assert.equal(e.code, 'ERR_RECALL_WAL_MISMATCH');
      assert.match(e.message, new RegExp(`applied WAL ${idA} up to seq 5`));
      assert.match(e.fix, /pass the WAL this version was dumped from/);
    }
    assert.equal((await run(['query', 'x2i', '--index', idx, '--wal', walA, '--keys', '1'])).results[0].found, false);
    // its identity file lost: the WAL cannot be matched to the version
    const saved = readFileSync(join(walA, 'wal.json'));
    rmSync(join(walA, 'wal.json'));
    assert.equal((await recallWarm(['query', 'x2i', '--index', idx, '--wal', walA, '--keys', '1'])).code, 3);
    writeFileSync(join(walA, 'wal.json'), saved);
    // a WAL written before ids (no wal.json): readable; a dump records no id; its next append adopts one
    const legacy = join(dir, 'legacy-wal');
    const w = native.walOpen(legacy, { fsync: 'off' });
    native.walAppend(w.handle, Uint8Array.from([2, 2]), Uint32Array.from([8, 16]), new Uint8Array(new BigUint64Array([7n, 8n]).buffer));
    native.walClose(w.handle);
    const idxL = copyIndex('legacy-index');
    await run(['dump', '--index', idxL, '--wal', legacy]);
    assert.equal(JSON.parse(readFileSync(join(idxL, 'v00000002', 'manifest.json'), 'utf8')).params.dump.walId, null);
    const adopt = await appendDeletes(legacy, 9, 10);
    assert.equal(adopt.firstSeq, 3);
    const ident = JSON.parse(readFileSync(join(legacy, 'wal.json'), 'utf8'));
    assert.equal(ident.adoptedAtSeq, 2);
    const q = await run(['query', 'x2i', '--index', idxL, '--wal', legacy, '--keys', '7,9,10']);
    assert.deepEqual(
      q.results.map((r) => r.found),
      [false, false, true],
    );
    // ... but a WAL created new (not adopted) never matches a version dumped before ids
    const r = await recallWarm(['query', 'x2i', '--index', idxL, '--wal', walB, '--keys', '1', '--json']);
    assert.equal(r.code, 3);
    assert.match(JSON.parse(r.stdout).error.message, /created new/);
  });

  it('inapplicable records: refused by wal append, quarantined by replay, listed by inspect, dropped by an operator', async () => {
    const idx = join(dir, 'vec');
    await run(['build', 'vector', '-i', fx.emb_zstd, '--id', 'item_id', '--vector', 'embedding', '--type', 'flat', '-o', idx]);
    const wal = join(dir, 'vec-wal');
    const v32 = (x) => Array.from({ length: 32 }, (_, j) => x + j / 100);
    // a fresh WAL checked against the index: another dimension is refused, nothing appended
    writeFileSync(join(dir, 'v8.jsonl'), jsonl([{ op: 'upsert', id: 1, vector: [1, 2, 3, 4, 5, 6, 7, 8] }]));
    const bad = await recallWarm(['wal', 'append', '--wal', wal, '--channel', 'vector', '--input', join(dir, 'v8.jsonl'), '--index', idx]);
    assert.equal(bad.code, 3, bad.stderr);
    assert.match(bad.stderr, /line 1: "vector" has 8 dimensions, the index .* 32/);
    assert.ok(!existsSync(wal) || segmentsOf(wal).every((s) => readFileSync(s).length === 0), 'nothing appended');
    // the first append binds the WAL's dimension; later appends are checked against it without --index
    writeFileSync(join(dir, 'v32.jsonl'), jsonl([{ op: 'upsert', id: 9001, vector: v32(0.5) }]));
    const ok = await run(['wal', 'append', '--wal', wal, '--channel', 'vector', '--input', join(dir, 'v32.jsonl')]);
    assert.equal(ok.binding.dim, 32);
    const bound = await recallWarm(['wal', 'append', '--wal', wal, '--channel', 'vector', '--input', join(dir, 'v8.jsonl')]);
    assert.equal(bound.code, 3);
    assert.match(bound.stderr, /"vector" has 8 dimensions, this WAL's vectors/);
    // a record written by an older recall (no checks): seq 2 has 8 dimensions; seq 3 is fine
    const w = native.walOpen(wal, { fsync: 'off' });
    const p8 = Buffer.alloc(12 + 32);
    p8.writeBigUInt64LE(9002n, 0);
    p8.writeUInt32LE(8, 8);
    const p32 = Buffer.alloc(12 + 128);
    p32.writeBigUInt64LE(9003n, 0);
    p32.writeUInt32LE(32, 8);
    v32(0.25).forEach((x, j) => p32.writeFloatLE(x, 12 + 4 * j));
    native.walAppend(w.handle, Uint8Array.from([3, 3]), Uint32Array.from([p8.length, p8.length + p32.length]), Buffer.concat([p8, p32]));
    native.walClose(w.handle);
    writeFileSync(join(dir, 'vq.jsonl'), jsonl([{ vector: v32(0.25) }]));
    const q = await recallWarm(['query', 'vector', '--index', idx, '--queries', join(dir, 'vq.jsonl'), '--k', '3', '--wal', wal, '--json']);
    assert.equal(q.code, 0, q.stderr);
    const qj = JSON.parse(q.stdout);
    assert.equal(String(qj.ids[0][0]), '9003', 'the records around the quarantined one apply');
    assert.deepEqual(
      qj.wal.quarantined.map((x) => x.seq),
      [2],
    );
    assert.match(qj.wal.quarantined[0].reason, /8-dimensional vector; the index has 32/);
    assert.match(q.stderr, /record seq 2 quarantined .*recall wal drop --seq 2/);
    const ins = await run(['wal', 'inspect', '--wal', wal]);
    assert.deepEqual(
      ins.inapplicable.map((x) => [x.seq, x.channel]),
      [[2, 'vector']],
    );
    const d = await run(['dump', '--index', idx, '--wal', wal, '--delta']);
    assert.equal(d.published, true);
    assert.equal(d.records, 2);
    assert.deepEqual(
      d.quarantined.map((x) => x.seq),
      [2],
    );
    const m = JSON.parse(readFileSync(join(idx, 'v00000002', 'manifest.json'), 'utf8'));
    assert.deepEqual(
      m.params.dump.quarantined.map((x) => x.seq),
      [2],
    );
    // dropped: kept in the file, skipped by every reader, seqs continuous
    const drop = await run(['wal', 'drop', '--wal', wal, '--seq', '2']);
    assert.equal(drop.op, 3);
    const after = await run(['wal', 'inspect', '--wal', wal]);
    assert.deepEqual(after.inapplicable, []);
    assert.deepEqual(after.dropped, [2]);
    assert.equal(after.lastSeq, 3);
    const q2 = await run(['query', 'vector', '--index', idx, '--queries', join(dir, 'vq.jsonl'), '--k', '3', '--wal', wal, '--as-of', '3']);
    assert.equal(String(q2.ids[0][0]), '9003');

    // text: a field the index does not have
    const db = await DuckDBInstance.create(':memory:', { threads: '1' });
    const c = await db.connect();
    const pq = join(dir, 'docs.parquet');
    await c.run(
      `copy (select range::bigint as id, 'w' || range as title, 'body ' || range as body from range(50)) to '${pq}' (format parquet)`,
    );
    const tidx = join(dir, 'text');
    await run(['build', 'inverted', '-i', pq, '--id', 'id', '--text', 'title,body', '-o', tidx]);
    const twal = join(dir, 'text-wal');
    writeFileSync(join(dir, 'tf.jsonl'), jsonl([{ op: 'upsert', id: 7, fields: { summary: 'x' } }]));
    const tb = await recallWarm([
      'wal',
      'append',
      '--wal',
      twal,
      '--channel',
      'inverted',
      '--input',
      join(dir, 'tf.jsonl'),
      '--index',
      tidx,
    ]);
    assert.equal(tb.code, 3, tb.stderr);
    assert.match(tb.stderr, /line 1: field "summary" is not a field of the index/);
    // an older recall appended it anyway (no --index): queries and dumps quarantine it instead of failing
    writeFileSync(
      join(dir, 'tg.jsonl'),
      jsonl([
        { op: 'upsert', id: 7, fields: { summary: 'x' } },
        { op: 'upsert', id: 8, fields: { title: 'zebra' } },
      ]),
    );
    await run(['wal', 'append', '--wal', twal, '--channel', 'inverted', '--input', join(dir, 'tg.jsonl')]);
    writeFileSync(join(dir, 'words.txt'), 'zebra\n');
    const tq = await run(['query', 'inverted', '--index', tidx, '--queries-file', join(dir, 'words.txt'), '--wal', twal]);
    assert.deepEqual(
      tq.results[0].hits.map((h) => String(h.id)),
      ['8'],
    );
    assert.deepEqual(
      tq.wal.quarantined.map((x) => x.seq),
      [1],
    );
    const tins = await run(['wal', 'inspect', '--wal', twal, '--index', tidx]);
    assert.deepEqual(
      tins.inapplicable.map((x) => x.seq),
      [1],
    );
    const td = await run(['dump', '--index', tidx, '--wal', twal]);
    assert.equal(td.published, true);
    assert.equal(td.quarantined.length, 1);
  });

  it('wal append streams: lines split anywhere across chunks; stdin spooled; a bad last line appends nothing', async () => {
    // the line splitter over tiny chunks (1..7 bytes) gives every line, numbered, blank lines skipped
    const text = `{"a":1}\n\n  {"b":"ü"}\r\n${'x'.repeat(100)}\n{"c":3}`;
    const bytes = Buffer.from(text);
    async function* chunks() {
      for (let at = 0, n = 1; at < bytes.length; at += n, n = (n % 7) + 1) yield bytes.subarray(at, at + n);
    }
    const got = [];
    await eachLine(chunks(), 'test', (s, line) => got.push([line, s]));
    assert.deepEqual(got, [
      [1, '{"a":1}'],
      [3, '{"b":"ü"}'],
      [4, 'x'.repeat(100)],
      [5, '{"c":3}'],
    ]);
    // 20,000 records (several read chunks) with a bad last line: nothing appended
    const wal = join(dir, 'stream-wal');
    const recs = Array.from({ length: 20000 }, (_, i) => ({ op: 'upsert', key: i, neighbors: [i + 1, i + 2], scores: [0.5, 0.25] }));
    const file = join(dir, 'big.jsonl');
    writeFileSync(file, `${jsonl(recs)}{"op":"upsert","key":1}\n`);
    const r = await recallWarm(['wal', 'append', '--wal', wal, '--channel', 'x2i', '--input', file, '--batch', '3000']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /line 20001: an x2i upsert needs/);
    assert.ok(!existsSync(wal) || segmentsOf(wal).every((s) => readFileSync(s).length === 0), 'nothing appended');
    writeFileSync(file, jsonl(recs));
    const ok = await run(['wal', 'append', '--wal', wal, '--channel', 'x2i', '--input', file, '--batch', '3000', '--fsync', 'off']);
    assert.deepEqual([ok.firstSeq, ok.lastSeq, ok.upserts], [1, 20000, 20000]);
    // stdin: checked, spooled, appended
    const s = await recall(['wal', 'append', '--wal', wal, '--channel', 'x2i', '--input', '-', '--json'], {
      input: jsonl(recs.slice(0, 10)),
    });
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual([JSON.parse(s.stdout).firstSeq, JSON.parse(s.stdout).lastSeq], [20001, 20010]);
    const bad = await recall(['wal', 'append', '--wal', wal, '--channel', 'x2i', '--input', '-'], {
      input: `${jsonl(recs.slice(0, 5))}{oops\n`,
    });
    assert.equal(bad.code, 3);
    assert.match(bad.stderr, /stdin: line 6: not valid JSON/);
    assert.equal((await run(['wal', 'inspect', '--wal', wal])).lastSeq, 20010);
  });

  it('wal append memory does not grow with its input: 40 MB of vectors under a 40 MB heap', async (t) => {
    const file = join(dir, 'rss.jsonl');
    const script = join(root, 'scripts', 'wal-append-rss.mjs');
    const gen = spawnSync(process.execPath, [script, '--generate', file, '--mb', '40'], { encoding: 'utf8' });
    assert.equal(gen.status, 0, gen.stderr);
    // holding the input (as a string, then its encoded records) cannot fit a heap the size of the input
    const m = spawnSync(process.execPath, ['--max-old-space-size=40', script, '--append', file, '--wal', join(dir, 'rss-wal')], {
      encoding: 'utf8',
    });
    assert.equal(m.status, 0, m.stderr.slice(0, 2000));
    const r = JSON.parse(m.stdout);
    assert.ok(r.records > 100000, `${r.records} records`);
    t.diagnostic(`peak RSS ${r.peakMB} MB (baseline ${r.baselineMB} MB) appending ${r.inputMB} MB, ${r.records} records`);
  });
});
