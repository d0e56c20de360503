// The vector channel on real data nobody on the team wrote: a subset of
// Fashion-MNIST from Debian's dataset-fashion-mnist (installed by .ci/run),
// ground truth by a float64 brute force in this file; DuckDB-written parquet
// for the parquet path and the bad-input cases.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { recallWarm, scratchDir } from './helpers/cli.mjs';

const FASHION = '/usr/share/datasets/fashion-mnist';
const N = 8000;
const NQ = 150;
const DIM = 784;
const dir = scratchDir('vector');
after(() => rmSync(dir, { recursive: true, force: true }));

function idxImages(file, n) {
  const b = gunzipSync(readFileSync(join(FASHION, file)));
  assert.equal(b.readUInt32BE(0), 2051, `${file}: idx3 magic`);
  const rows = b.readUInt32BE(8) * b.readUInt32BE(12);
  const out = new Float32Array(n * rows);
  for (let i = 0; i < n * rows; i++) out[i] = b[16 + i];
  return out;
}
function writeFbin(path, data, n, dim) {
  const head = Buffer.alloc(8);
  head.writeUInt32LE(n, 0);
  head.writeUInt32LE(dim, 4);
  writeFileSync(path, Buffer.concat([head, Buffer.from(data.buffer, data.byteOffset, n * dim * 4)]));
}
/** Exact k-NN in float64: ids and distances, ties by id. */
function bruteForce(base, n, queries, nq, dim, k) {
  const out = [];
  for (let q = 0; q < nq; q++) {
    const d = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = 0; j < dim; j++) {
        const t = base[r * dim + j] - queries[q * dim + j];
        s += t * t;
      }
      d[r] = s;
    }
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[a] - d[b] || a - b);
    out.push({ ids: order.slice(0, k), dist: order.slice(0, k).map((i) => Math.sqrt(d[i])), kth: Math.sqrt(d[order[k - 1]]) });
  }
  return out;
}

async function run(args, code = 0) {
  const r = await recallWarm([...args, '--json']);
  assert.equal(r.code, code, `recall ${args.join(' ')}\n${r.stdout.slice(0, 2000)}${r.stderr}`);
  return JSON.parse(r.stdout);
}
const query = (index, extra = [], code = 0) =>
  run(['query', 'vector', '--index', index, '--queries', join(dir, 'test.f32'), '--k', '10', ...extra], code);
/** ann-benchmarks recall@10: a returned id counts when its true distance is within the 10th true distance + 1e-3. */
function recallAt10(r, gt, base) {
  let hit = 0;
  r.ids.forEach((ids, q) => {
    for (const id of ids) {
      let s = 0;
      for (let j = 0; j < DIM; j++) s += (base[id * DIM + j] - test[q * DIM + j]) ** 2;
      if (Math.sqrt(s) <= gt[q].kth + 1e-3) hit++;
    }
  });
  return hit / (r.ids.length * 10);
}

let base;
let test;
let gt;
before(() => {
  assert.ok(existsSync(FASHION), `${FASHION} is missing: apt-get install -y dataset-fashion-mnist (.ci/run does)`);
  base = idxImages('train-images-idx3-ubyte.gz', N);
  test = idxImages('t10k-images-idx3-ubyte.gz', NQ);
  writeFbin(join(dir, 'train.f32'), base, N, DIM);
  writeFbin(join(dir, 'test.f32'), test, NQ, DIM);
  gt = bruteForce(base, N, test, NQ, DIM, 10);
});

describe('vector index on Fashion-MNIST (8,000 x 784, 150 queries)', () => {
  it('flat search equals the brute force exactly (ids, distances to 1e-4 relative)', async () => {
    await run(['build', 'vector', '-i', join(dir, 'train.f32'), '--type', 'flat', '-o', join(dir, 'flat')]);
    for (const threads of ['1', '2']) {
      const r = await query(join(dir, 'flat'), ['--threads', threads]);
      r.ids.forEach((ids, q) => {
        // the same ids in the same order, except where true distances tie
        ids.forEach((id, j) => {
          if (id !== gt[q].ids[j])
            assert.ok(Math.abs(gt[q].dist[j] - r.distances[q][j]) < 1e-3 * gt[q].dist[j], `query ${q} rank ${j}: ${id} vs ${gt[q].ids[j]}`);
        });
        r.distances[q].forEach((d, j) =>
          assert.ok(Math.abs(d - gt[q].dist[j]) <= 1e-4 * Math.max(1, gt[q].dist[j]), `query ${q} rank ${j}: ${d} vs ${gt[q].dist[j]}`),
        );
      });
      assert.ok(r.searchMs > 0 && r.loadMs >= 0);
    }
  });

  it('HNSW f32 reaches recall@10 0.99; the same seed gives the same bytes for 1 and 2 threads', async () => {
    const files = [];
    for (const threads of ['1', '2']) {
      const out = join(dir, `hnsw-t${threads}`);
      const b = await run([
        'build',
        'vector',
        '-i',
        join(dir, 'train.f32'),
        '--type',
        'hnsw',
        '--m',
        '16',
        '--ef-construction',
        '100',
        '--seed',
        '7',
        '--threads',
        threads,
        '-o',
        out,
      ]);
      files.push(join(b.version.dir, b.file));
    }
    assert.deepEqual(readFileSync(files[0]), readFileSync(files[1]));
    const curve = [];
    for (const ef of [10, 20, 40, 80]) curve.push([ef, recallAt10(await query(join(dir, 'hnsw-t2'), ['--ef', String(ef)]), gt, base)]);
    assert.ok(
      curve.some(([, r]) => r >= 0.99),
      `curve ${JSON.stringify(curve)}`,
    );
    assert.ok(curve[0][1] < curve.at(-1)[1] + 1e-9, 'recall grows with ef');
  });

  it('IVF reaches recall@10 0.99 at some nprobe; rebuilds are byte-identical', async () => {
    const a = await run([
      'build',
      'vector',
      '-i',
      join(dir, 'train.f32'),
      '--type',
      'ivf',
      '--nlist',
      '64',
      '--threads',
      '1',
      '-o',
      join(dir, 'ivf1'),
    ]);
    const b = await run([
      'build',
      'vector',
      '-i',
      join(dir, 'train.f32'),
      '--type',
      'ivf',
      '--nlist',
      '64',
      '--threads',
      '2',
      '-o',
      join(dir, 'ivf2'),
    ]);
    assert.deepEqual(readFileSync(join(a.version.dir, a.file)), readFileSync(join(b.version.dir, b.file)));
    const curve = [];
    for (const nprobe of [2, 8, 24])
      curve.push([nprobe, recallAt10(await query(join(dir, 'ivf1'), ['--nprobe', String(nprobe)]), gt, base)]);
    assert.ok(
      curve.some(([, r]) => r >= 0.99),
      `curve ${JSON.stringify(curve)}`,
    );
  });

  it('f16 and int8 (+ exact re-rank) reach 0.99; int8 of pixels re-ranks from its codes, of fractions from f32 rows', async () => {
    const f16 = await run([
      'build',
      'vector',
      '-i',
      join(dir, 'train.f32'),
      '--quant',
      'f16',
      '--ef-construction',
      '100',
      '-o',
      join(dir, 'f16'),
    ]);
    const i8 = await run([
      'build',
      'vector',
      '-i',
      join(dir, 'train.f32'),
      '--quant',
      'int8',
      '--rerank',
      '--ef-construction',
      '100',
      '-o',
      join(dir, 'int8'),
    ]);
    assert.ok(recallAt10(await query(join(dir, 'f16'), ['--ef', '80']), gt, base) >= 0.99);
    const reranked = await query(join(dir, 'int8'), ['--ef', '80', '--rerank', '40']);
    assert.ok(recallAt10(reranked, gt, base) >= 0.99);
    const sections = async (b) => JSON.parse((await recallWarm(['inspect', join(b.version.dir, b.file), '--json'])).stdout).sections;
    // pixels are whole numbers 0..255: the codes decode to them exactly, so no f32 copy is kept ...
    const pixels = await sections(i8);
    assert.deepEqual(
      pixels.filter((s) => s.name.startsWith('f32')),
      [],
      'no f32 section',
    );
    assert.ok(i8.fileBytes < 0.6 * f16.fileBytes, `int8 ${i8.fileBytes} bytes, f16 ${f16.fileBytes}`);
    // ... and the re-ranked distances are the exact ones (float64 in this file)
    reranked.ids.forEach((ids, q) =>
      ids.forEach((id, j) => {
        let s = 0;
        for (let x = 0; x < DIM; x++) s += (base[id * DIM + x] - test[q * DIM + x]) ** 2;
        const d = reranked.distances[q][j];
        assert.ok(Math.abs(d - Math.sqrt(s)) <= 1e-4 * Math.max(1, Math.sqrt(s)), `query ${q} rank ${j}: ${d} vs ${Math.sqrt(s)}`);
      }),
    );
    // fractions (pixels / 255) do not survive the codes: the f32 rows are kept, four times the int8 rows
    writeFbin(
      join(dir, 'train-scaled.f32'),
      base.map((x) => x / 255),
      N,
      DIM,
    );
    const flatInt8 = '--type flat --quant int8 --rerank'.split(' ');
    const scaled = await run(['build', 'vector', '-i', join(dir, 'train-scaled.f32'), ...flatInt8, '-o', join(dir, 'int8-scaled')]);
    const kept = await sections(scaled);
    const bytes = (name) => kept.find((s) => s.name === name).length;
    assert.equal(bytes('vectors') * 4, bytes('f32'), 'int8 rows are a quarter of the f32 rows');
  });

  it('an int8 index of pixels dumps from its codes; a fractional upsert brings the f32 rows back', async () => {
    const n = 500;
    writeFbin(join(dir, 'train-500.f32'), base.subarray(0, n * DIM), n, DIM);
    const out = join(dir, 'int8-dump');
    const wal = join(dir, 'int8-dump-wal');
    await run(['build', 'vector', '-i', join(dir, 'train-500.f32'), '--type', 'flat', '--quant', 'int8', '--rerank', '-o', out]);
    const sectionsOf = async (version) => {
      const file = join(out, version, 'shard-00000-of-00001.rvec');
      return JSON.parse((await recallWarm(['inspect', file, '--json'])).stdout).sections.map((s) => s.name);
    };
    // query 0 itself and query 1 plus a quarter in every pixel, as rows 900000 and 900001
    const q0 = Array.from(test.subarray(0, DIM));
    const q1 = Array.from(test.subarray(DIM, 2 * DIM));
    const dumpWith = async (rec) => {
      writeFileSync(join(dir, 'int8-up.jsonl'), `${JSON.stringify({ op: 'upsert', ...rec })}\n`);
      await run(['wal', 'append', '--wal', wal, '--channel', 'vector', '--input', join(dir, 'int8-up.jsonl')]);
      return run(['dump', '--index', out, '--wal', wal]);
    };
    const top = async (q) => {
      writeFileSync(join(dir, 'int8-q.jsonl'), `${JSON.stringify(q)}\n`);
      const r = await run(['query', 'vector', '--index', out, '--queries', join(dir, 'int8-q.jsonl'), '--k', '1', '--rerank', String(n)]);
      return { id: String(r.ids[0][0]), d: r.distances[0][0] };
    };
    const whole = await dumpWith({ id: 900000, vector: q0 });
    assert.equal(whole.kind, 'major');
    assert.ok(!(await sectionsOf('v00000002')).includes('f32'), 'whole numbers: still no f32 copy');
    assert.deepEqual(await top(q0), { id: '900000', d: 0 });
    await dumpWith({ id: 900001, vector: q1.map((x) => x + 0.25) });
    assert.ok((await sectionsOf('v00000003')).includes('f32'), 'a fraction: the f32 rows are kept');
    // exact: sqrt(784 * 0.25^2) = 7, which the codes (a step of 1 or more) could not give
    assert.deepEqual(await top(q1), { id: '900001', d: 7 });
    assert.deepEqual(await top(q0), { id: '900000', d: 0 });
  });

  it('recall verify catches a flipped byte in a vector file', async () => {
    const b = await run(['build', 'vector', '-i', join(dir, 'train.f32'), '--type', 'flat', '--quant', 'f16', '-o', join(dir, 'damage')]);
    const file = join(b.version.dir, b.file);
    assert.equal((await recallWarm(['verify', file])).code, 0);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0x20;
    writeFileSync(file, bytes);
    const r = await recallWarm(['verify', file]);
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /checksum/);
  });

  it('query errors: dimension mismatch, k larger than the index, re-rank without f32 rows', async () => {
    const q3 = join(dir, 'q3.jsonl');
    writeFileSync(q3, '[1, 2, 3]\n');
    const dimErr = await recallWarm(['query', 'vector', '--index', join(dir, 'flat'), '--queries', q3]);
    assert.equal(dimErr.code, 3);
    assert.match(dimErr.stderr, /q3\.jsonl: queries have 3 dimensions, the index 784/);
    const kErr = await recallWarm([
      'query',
      'vector',
      '--index',
      join(dir, 'flat'),
      '--queries',
      join(dir, 'test.f32'),
      '--k',
      String(N + 1),
    ]);
    assert.equal(kErr.code, 3);
    assert.match(kErr.stderr, /--k 8001 is larger than the index \(8000 vectors\)/);
    const rr = await recallWarm(['query', 'vector', '--index', join(dir, 'f16'), '--queries', join(dir, 'test.f32'), '--rerank', '40']);
    assert.equal(rr.code, 3);
    assert.match(rr.stderr, /--rerank needs the f32 rows/);
  });
});

describe('vector index from DuckDB-written parquet', () => {
  let c;
  before(async () => {
    c = await (await DuckDBInstance.create(':memory:')).connect();
    await c.run('select setseed(0.5)');
    await c.run(`copy (select (range * 11 + 5)::bigint as item_id, [random()::float for x in range(16)] as emb from range(600))
                 to '${join(dir, 'emb.parquet')}' (format parquet, compression zstd)`);
  });

  it('ids come from the id column, the vector from a list column, queries from JSON lines', async () => {
    const b = await run([
      'build',
      'vector',
      '-i',
      join(dir, 'emb.parquet'),
      '--id',
      'item_id',
      '--vector',
      'emb',
      '--type',
      'flat',
      '--metric',
      'cosine',
      '-o',
      join(dir, 'pq'),
    ]);
    assert.equal(b.vectors, 600);
    assert.equal(b.dim, 16);
    const rows = (
      await c.runAndReadAll(`select item_id, emb from '${join(dir, 'emb.parquet')}' where item_id in (5, 5005)`)
    ).getRowObjectsJson();
    writeFileSync(join(dir, 'q.jsonl'), rows.map((r) => JSON.stringify({ vector: r.emb.map(Number) })).join('\n'));
    const r = await run(['query', 'vector', '--index', join(dir, 'pq'), '--queries', join(dir, 'q.jsonl'), '--k', '3']);
    // each row finds itself first, at cosine distance ~0
    assert.deepEqual(
      r.ids.map((x) => x[0]),
      rows.map((x) => String(x.item_id)),
    );
    for (const d of r.distances) assert.ok(Math.abs(d[0]) < 1e-5);
  });

  it('bad rows: wrong length, NaN, null id -> exit 3 naming the row; nothing published', async () => {
    const cases = [
      [
        'short',
        `select range::bigint as id, case when range = 7 then [1.0::float, 2.0] else [1.0::float, 2.0, 3.0] end as v from range(20)`,
        /row 7: the vector has 2 values, row 0 has 3/,
      ],
      [
        'nan',
        `select range::bigint as id, case when range = 4 then [1.0::float, 'nan'::float, 3.0] else [1.0::float, 2.0, 3.0] end as v from range(20)`,
        /row 4: element 1 is NaN/,
      ],
      [
        'nullid',
        `select case when range = 9 then null else range end::bigint as id, [1.0::float, 2.0, 3.0] as v from range(20)`,
        /row 9: id is null/,
      ],
    ];
    for (const [name, sql, msg] of cases) {
      const file = join(dir, `${name}.parquet`);
      await c.run(`copy (${sql}) to '${file}' (format parquet)`);
      const out = join(dir, `bad-${name}`);
      const r = await recallWarm(['build', 'vector', '-i', file, '--id', 'id', '--vector', 'v', '-o', out]);
      assert.equal(r.code, 3, `${name}: ${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.ok(!existsSync(out) || !readdirSync(out).some((f) => f === 'CURRENT' || f.startsWith('v0')), `${name}: nothing published`);
    }
  });
});
