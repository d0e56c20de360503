// Filtered vector search on Fashion-MNIST with its class labels as the attribute (parquet written by
// DuckDB): every answer holds only allowed rows and finds the exact filtered neighbours (computed
// here by brute force) at recall@10 >= 0.95, at 1%, 10% and 50% of the rows.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { recallWarm, scratchDir } from './helpers/cli.mjs';
import { rng } from './helpers/wal-fixture.mjs';

const FASHION = '/usr/share/datasets/fashion-mnist';
const N = 6000;
const NQ = 100;
const DIM = 784;
const K = 10;
const dir = scratchDir('vector-filter');
after(() => rmSync(dir, { recursive: true, force: true }));

const idOf = (row) => row * 3 + 1;
const rowOf = (id) => (id - 1) / 3;

function idx(file, n, magic) {
  const b = gunzipSync(readFileSync(join(FASHION, file)));
  assert.equal(b.readUInt32BE(0), magic, file);
  const head = magic === 2051 ? 16 : 8;
  const per = magic === 2051 ? b.readUInt32BE(8) * b.readUInt32BE(12) : 1;
  return Uint8Array.from(b.subarray(head, head + n * per));
}

async function run(args, code = 0) {
  const r = await recallWarm([...args, '--json']);
  assert.equal(r.code, code, `recall ${args.join(' ')}\n${r.stdout.slice(0, 2000)}${r.stderr}`);
  const out = JSON.parse(r.stdout);
  // a failure under --json: its error object, whose message the checks below read
  return code === 0 ? out : { ...r, stderr: `${out.error.message} (fix: ${out.error.fix})` };
}

let base;
let labels;
let queries;
let all;
/** Every (squared L2 in float64, row) pair per query, nearest first, ties by row: computed once. */
function allDistances() {
  return Array.from({ length: NQ }, (_, q) => {
    const d = [];
    for (let r = 0; r < N; r++) {
      let s = 0;
      for (let j = 0; j < DIM; j++) s += (base[r * DIM + j] - queries[q * DIM + j]) ** 2;
      d.push([s, r]);
    }
    return d.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  });
}

/** The exact k nearest allowed rows of every query. */
function truth(allow) {
  all ??= allDistances();
  return all.map((d) => {
    const kept = [];
    for (const e of d) {
      if (allow(e[1])) kept.push(e);
      if (kept.length === K) break;
    }
    return kept;
  });
}

/** recall@10 against the exact filtered truth; a returned row within the 10th true distance counts. */
function check(r, allow, gt, what) {
  let hit = 0;
  let want = 0;
  r.ids.forEach((ids, q) => {
    const got = ids.filter((x) => x !== null).map((x) => rowOf(Number(x)));
    for (const row of got) assert.ok(allow(row), `${what}: query ${q} returned row ${row}, which the filter refuses`);
    assert.equal(got.length, gt[q].length, `${what}: query ${q} returned ${got.length} of ${gt[q].length}`);
    const kth = gt[q][gt[q].length - 1][0];
    for (const row of got) {
      let s = 0;
      for (let j = 0; j < DIM; j++) s += (base[row * DIM + j] - queries[q * DIM + j]) ** 2;
      if (s <= kth * (1 + 1e-6)) hit++;
    }
    want += gt[q].length;
  });
  return hit / want;
}

before(async () => {
  base = idx('train-images-idx3-ubyte.gz', N, 2051);
  labels = idx('train-labels-idx1-ubyte.gz', N, 2049);
  queries = idx('t10k-images-idx3-ubyte.gz', NQ, 2051);
  // CSV (the vector as a list literal) -> parquet through DuckDB
  const lines = ['item_id,label,emb'];
  for (let r = 0; r < N; r++) lines.push(`${idOf(r)},${labels[r]},"[${base.subarray(r * DIM, (r + 1) * DIM).join(',')}]"`);
  writeFileSync(join(dir, 'items.csv'), lines.join('\n'));
  // the queries as fbin (n, dim, then float32 rows): no parquet decode per query process
  const q = Buffer.alloc(8 + NQ * DIM * 4);
  q.writeInt32LE(NQ, 0);
  q.writeInt32LE(DIM, 4);
  queries.forEach((v, i) => q.writeFloatLE(v, 8 + 4 * i));
  writeFileSync(join(dir, 'q.fbin'), q);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(
    `COPY (SELECT item_id::BIGINT AS item_id, label::TINYINT AS label, emb::FLOAT[] AS emb FROM read_csv('${dir}/items.csv', header = true, columns = {'item_id': 'BIGINT', 'label': 'INTEGER', 'emb': 'VARCHAR'}))
     TO '${dir}/items.parquet' (FORMAT parquet)`,
  );
  c.closeSync();
  db.closeSync();
});

const query = (index, extra, code = 0) =>
  run(['query', 'vector', '--index', index, '--queries', join(dir, 'q.fbin'), '--k', String(K), ...extra], code);

describe(`filtered vector search (Fashion-MNIST ${N} x ${DIM}, labels as the attribute, ${NQ} queries)`, () => {
  it('HNSW and IVF: only allowed rows, recall@10 >= 0.95 at 1%, 10% and 50%, inside the index and by the exact scan', async () => {
    const next = rng(5);
    const onePercent = new Set();
    while (onePercent.size < N / 100) onePercent.add(next(N));
    writeFileSync(join(dir, 'ids-1pct.txt'), `# 1% of the items\n${[...onePercent].map(idOf).join('\n')}\n`);
    const cases = [
      { what: '1% (ids)', flags: ['--filter', join(dir, 'ids-1pct.txt')], allow: (r) => onePercent.has(r) },
      { what: '10% (label = 3)', flags: ['--where', 'label = 3'], allow: (r) => labels[r] === 3 },
      { what: '50% (label in 0 2 4 6 8)', flags: ['--where', 'label in (0, 2, 4, 6, 8)'], allow: (r) => labels[r] % 2 === 0 },
      {
        what: 'ids and not label between 1 and 8',
        flags: ['--filter', join(dir, 'ids-1pct.txt'), '--where', 'not label between 1 and 8'],
        allow: (r) => onePercent.has(r) && (labels[r] === 0 || labels[r] === 9),
      },
    ];
    for (const c of cases) {
      c.gt = truth(c.allow);
      c.allowed = [...Array(N).keys()].filter(c.allow).length;
    }
    const common = ['-i', join(dir, 'items.parquet'), '--id', 'item_id', '--vector', 'emb', '--attr', 'label', '--threads', '2'];
    await run(['build', 'vector', ...common, '--type', 'hnsw', '--m', '16', '--ef-construction', '100', '-o', join(dir, 'hnsw')]);
    await run(['build', 'vector', ...common, '--type', 'ivf', '--nlist', '64', '-o', join(dir, 'ivf')]);
    const paths = {};
    for (const [index, extra] of [
      ['hnsw', []],
      ['ivf', ['--nprobe', '16']],
    ]) {
      for (const c of cases) {
        // the exact scan once (it is exact, so one filter shows it); the combined filter on auto only
        const modes = c.what.startsWith('ids and') ? ['auto'] : ['auto', 'index'];
        if (index === 'hnsw' && c.what.startsWith('10%')) modes.push('scan');
        for (const mode of modes) {
          const r = await query(join(dir, index), [...c.flags, ...extra, '--filter-mode', mode]);
          const got = check(r, c.allow, c.gt, `${index} ${c.what} ${mode}`);
          assert.ok(got >= (mode === 'scan' ? 1 : 0.95), `${index} ${c.what} ${mode}: recall@10 ${got}`);
          assert.equal(r.filter.allowedRows, c.allowed, `${index} ${c.what}: rows the filter allows`);
          if (mode !== 'auto') assert.equal(r.filter.path, mode, `${index} ${c.what}: --filter-mode ${mode} is what ran`);
          else paths[`${index} ${c.what}`] = r.filter.path;
        }
      }
    }
    // auto: the 1% filters are scanned (at this size the wider ones are cheaper scanned too)
    assert.equal(paths['hnsw 1% (ids)'], 'scan');
    assert.equal(paths['ivf 1% (ids)'], 'scan');
  });

  it('an allow-list covers the WAL tail; a where filter refuses rows without an attribute; bad filters exit 2 or 3', async () => {
    // an upsert equal to query 0: the nearest of all for it, when the filter allows it
    const wal = join(dir, 'wal');
    const newId = 999_999;
    writeFileSync(join(dir, 'w.jsonl'), `${JSON.stringify({ op: 'upsert', id: newId, vector: Array.from(queries.subarray(0, DIM)) })}\n`);
    await run(['wal', 'append', '--wal', wal, '--channel', 'vector', '--input', join(dir, 'w.jsonl')]);
    writeFileSync(join(dir, 'ids-new.txt'), `${newId}\n${idOf(0)}\n${idOf(1)}\n`);
    const withNew = await query(join(dir, 'hnsw'), ['--wal', wal, '--filter', join(dir, 'ids-new.txt')]);
    assert.equal(withNew.ids[0][0], String(newId));
    assert.deepEqual(withNew.ids[0].filter((x) => x !== null).sort(), [String(idOf(0)), String(idOf(1)), String(newId)].sort());
    const without = await query(join(dir, 'hnsw'), ['--wal', wal, '--filter', join(dir, 'ids-1pct.txt')]);
    assert.ok(!without.ids.flat().includes(String(newId)));
    const refused = await query(join(dir, 'hnsw'), ['--wal', wal, '--where', 'label = 3'], 2);
    assert.match(refused.stderr, /1 vectors upserted after the base index carry no attribute/);
    // bad filters: usage (2) for the expression, bad data (3) for the file, with its line
    const r1 = await query(join(dir, 'hnsw'), ['--where', 'colour = 3'], 2);
    assert.match(r1.stderr, /names "colour", and the index keeps the attribute "label"/);
    const r2 = await query(join(dir, 'hnsw'), ['--where', 'label between 3'], 2);
    assert.match(r2.stderr, /'and' expected at character 16/);
    writeFileSync(join(dir, 'bad-ids.txt'), '4\n7\n-3\n');
    const r3 = await query(join(dir, 'hnsw'), ['--filter', join(dir, 'bad-ids.txt')], 3);
    assert.match(r3.stderr, /bad-ids.txt: line 3: "-3" is not an id/);
    // an index built without --attr has nothing for --where
    await run([
      'build',
      'vector',
      '-i',
      join(dir, 'items.parquet'),
      '--id',
      'item_id',
      '--vector',
      'emb',
      '--type',
      'flat',
      '-o',
      join(dir, 'plain'),
    ]);
    const r4 = await query(join(dir, 'plain'), ['--where', 'label = 3'], 2);
    assert.match(r4.stderr, /keeps no attribute/);
    // --attr needs an integer parquet column
    const r5 = await run(
      ['build', 'vector', '-i', join(dir, 'items.parquet'), '--id', 'item_id', '--vector', 'emb', '--attr', 'emb', '-o', join(dir, 'x')],
      3,
    );
    assert.match(r5.stderr, /attribute column "emb" is FLOAT\[\]; attributes are integers/);
    // a null attribute is refused with its row
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    await c.run(
      `COPY (SELECT item_id, CASE WHEN item_id = ${idOf(7)} THEN NULL ELSE label END AS label, emb FROM '${dir}/items.parquet') TO '${dir}/null-label.parquet' (FORMAT parquet)`,
    );
    c.closeSync();
    db.closeSync();
    const r6 = await run(
      [
        'build',
        'vector',
        '-i',
        join(dir, 'null-label.parquet'),
        '--id',
        'item_id',
        '--vector',
        'emb',
        '--attr',
        'label',
        '-o',
        join(dir, 'y'),
      ],
      3,
    );
    assert.match(r6.stderr, /null-label.parquet: row 7: label is null/);
  });
});
