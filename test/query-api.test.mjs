// The query commands read through the library API: `recall query vector` answers what the API's
// searchBatch answers (a lone version and one read with its WAL tail), which is brute force on a
// flat index; --ids-out is written for a layered read too; close() removes a text WAL tail's
// temporary index before it resolves.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recallWarm, scratchDir } from './helpers/cli.mjs';

const dir = scratchDir('query-api');
after(() => rmSync(dir, { recursive: true, force: true }));
const N = 120;
const DIM = 6;
const rows = Array.from({ length: N }, (_, i) => Array.from({ length: DIM }, (_, j) => Math.fround(Math.cos(i * 3.7 + j * 0.9) * 5)));
const queries = [rows[4].map((x) => x + 0.01), rows[77].map((x) => x - 0.02), rows[0]];
const upserts = [
  { op: 'upsert', id: 1000, vector: rows[4].map((x) => x + 0.005) },
  { op: 'delete', id: 77 },
];

async function run(args) {
  const r = await recallWarm([...args, '--json']);
  assert.equal(r.code, 0, `recall ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}
const l2 = (a, b) => Math.sqrt(a.reduce((s, x, j) => s + (x - b[j]) ** 2, 0));
/** Brute force over the rows (with the WAL's changes applied when `wal`). */
function nearest(q, k, wal) {
  const live = rows.map((r, id) => ({ id: BigInt(id), r }));
  const set = wal ? live.filter((x) => x.id !== 77n).concat([{ id: 1000n, r: upserts[0].vector }]) : live;
  return set
    .map((x) => ({ id: x.id, d: l2(q, x.r) }))
    .sort((a, b) => a.d - b.d || Number(a.id - b.id))
    .slice(0, k)
    .map((x) => String(x.id));
}

const vec = join(dir, 'vec');
const wal = join(dir, 'wal');
const textWal = join(dir, 'twal');
before(async () => {
  const fbin = Buffer.alloc(8 + N * DIM * 4);
  fbin.writeUInt32LE(N, 0);
  fbin.writeUInt32LE(DIM, 4);
  rows.flat().forEach((x, i) => fbin.writeFloatLE(x, 8 + 4 * i));
  writeFileSync(join(dir, 'train.f32'), fbin);
  writeFileSync(join(dir, 'q.jsonl'), queries.map((q) => JSON.stringify(q)).join('\n'));
  await run(['build', 'vector', '-i', join(dir, 'train.f32'), '--type', 'flat', '-o', vec]);
  writeFileSync(join(dir, 'vu.jsonl'), upserts.map((u) => JSON.stringify(u)).join('\n'));
  await run(['wal', 'append', '--wal', wal, '--channel', 'vector', '--input', join(dir, 'vu.jsonl'), '--index', vec]);
  writeFileSync(join(dir, 'docs.jsonl'), ['{"id":"a","text":"apple pie"}', '{"id":"b","text":"pear tart"}'].join('\n'));
  await run(['build', 'inverted', '--input', join(dir, 'docs.jsonl'), '--id', 'id', '--text', 'text', '--out', join(dir, 'text')]);
  writeFileSync(join(dir, 'tu.jsonl'), JSON.stringify({ op: 'upsert', id: 'c', fields: { text: 'apple crumble' } }));
  await run(['wal', 'append', '--wal', textWal, '--channel', 'inverted', '--input', join(dir, 'tu.jsonl'), '--index', join(dir, 'text')]);
});

const { openIndex } = await import('recall');

describe('query commands through the library API', () => {
  for (const withWal of [false, true]) {
    it(`query vector equals the API's searchBatch and brute force${withWal ? ' (with the WAL tail)' : ''}`, async () => {
      const k = 4;
      const idsOut = join(dir, `ids-${withWal}.i32`);
      const cli = await run([
        'query',
        'vector',
        '--index',
        vec,
        '--queries',
        join(dir, 'q.jsonl'),
        '--k',
        String(k),
        '--ids-out',
        idsOut,
        ...(withWal ? ['--wal', wal] : []),
      ]);
      const ix = await openIndex(vec, withWal ? { wal } : {});
      try {
        const b = await ix.vector.searchBatch(Float32Array.from(queries.flat()), { k });
        assert.equal(b.k, k);
        assert.equal(b.version, 1);
        const apiIds = queries.map((_, q) => Array.from(b.ids.subarray(q * k, (q + 1) * k), (x) => (x === -1n ? null : String(x))));
        assert.deepEqual(cli.ids, apiIds);
        const apiDist = queries.map((_, q) => Array.from(b.distances.subarray(q * k, (q + 1) * k), (x) => +x.toPrecision(7)));
        assert.deepEqual(cli.distances, apiDist);
        assert.deepEqual(
          cli.ids,
          queries.map((q) => nearest(q, k, withWal)),
        );
        assert.equal(ix.vector.info.type, 'flat');
        assert.equal(ix.vector.info.file === null, withWal, 'one file answers a lone version; a WAL read is layered');
        assert.equal(cli.index, ix.vector.info.file ?? vec);
        assert.equal('layers' in cli, withWal);
      } finally {
        await ix.close();
      }
      // the int32 fbin of the ids (nq x k), for a layered read as for a lone file
      const buf = readFileSync(idsOut);
      assert.deepEqual([buf.readUInt32LE(0), buf.readUInt32LE(4)], [queries.length, k]);
      assert.deepEqual(
        Array.from({ length: queries.length * k }, (_, i) => String(buf.readInt32LE(8 + 4 * i))),
        cli.ids.flat(),
      );
    });
  }

  it('query inverted answers what searchMany answers', async () => {
    const cli = await run(['query', 'inverted', '--index', join(dir, 'text'), '--wal', textWal, 'apple']);
    const ix = await openIndex(join(dir, 'text'), { wal: textWal });
    try {
      const b = await ix.text.searchMany(['apple'], { k: 10 });
      assert.deepEqual(
        cli.results,
        b.results.map((r) => ({ ...r, searchMs: cli.results[0].searchMs })),
      );
      assert.deepEqual(cli.results[0].hits.map((h) => h.id).sort(), ['a', 'c']);
      assert.equal(cli.wal.tailRecords, 1);
    } finally {
      await ix.close();
    }
  });

  it("close() removes a text WAL tail's temporary index before it resolves", async () => {
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp, { recursive: true });
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      const ix = await openIndex(join(dir, 'text'), { wal: textWal });
      assert.equal(readdirSync(tmp).length, 1, 'the tail index is built in TMPDIR');
      assert.equal((await ix.text.search('crumble', { k: 5 })).hits[0].id, 'c');
      await ix.close();
      assert.deepEqual(readdirSync(tmp), []);
      assert.ok(existsSync(tmp));
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });
});

describe('openIndex(path, { resident: true })', () => {
  // 4,000 x 160 f32: 2.56 MB of rows, past the 2 MiB below which rows always stay in the mapping
  const n = 4000;
  const dim = 160;
  const big = join(dir, 'big');
  before(async () => {
    const fbin = Buffer.alloc(8 + n * dim * 4);
    fbin.writeUInt32LE(n, 0);
    fbin.writeUInt32LE(dim, 4);
    for (let i = 0; i < n * dim; i++) fbin.writeFloatLE(Math.fround(Math.sin(i * 0.37) * Math.cos(i * 0.011)), 8 + 4 * i);
    writeFileSync(join(dir, 'big.f32'), fbin);
    await run(['build', 'vector', '-i', join(dir, 'big.f32'), '--type', 'hnsw', '-o', big]);
  });

  it('copies the rows into memory while opening, and the searches find what they find through the mapping', async () => {
    const qs = new Float32Array(8 * dim).map((_, i) => Math.fround(Math.sin(i * 0.37 + 0.5) * Math.cos(i * 0.011)));
    const mapped = await openIndex(big);
    const resident = await openIndex(big, { resident: true });
    try {
      // eight queries read far fewer than 32 times the rows: the plain open stays mapped
      const a = await mapped.vector.searchBatch(qs, { k: 10, ef: 40 });
      assert.equal(mapped.vector.info.resident, false);
      assert.equal(resident.vector.info.resident, true);
      const b = await resident.vector.searchBatch(qs, { k: 10, ef: 40 });
      assert.deepEqual(b.ids, a.ids);
      assert.deepEqual(b.distances, a.distances);
      assert.equal(a.ids.length, 8 * 10);
    } finally {
      await mapped.close();
      await resident.close();
    }
  });
});
