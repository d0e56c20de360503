// `recall verify` on a lone index file: beyond the checksums, each channel's own structure checks
// (through its driver) find damage whose checksums were re-sealed.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { reseal, sections } from './helpers/container-bytes.mjs';
import { recallWarm, scratchDir } from './helpers/cli.mjs';

const dir = scratchDir('verify-structure');
after(() => rmSync(dir, { recursive: true, force: true }));

const fileOf = (channel, ext) => {
  const v = join(dir, channel, 'v00000001');
  return join(
    v,
    readdirSync(v).find((f) => f.endsWith(ext)),
  );
};

/** A copy of `file` with one byte of section `kind` flipped and every checksum re-sealed. */
function resealedEdit(file, kind, at, bit, name) {
  const b = readFileSync(file);
  const s = sections(b).find((x) => x.kind === kind);
  assert.ok(s && s.length > at, `section ${kind} in ${file}`);
  b[s.offset + at] ^= bit;
  reseal(b);
  const out = join(dir, name);
  writeFileSync(out, b);
  return out;
}

async function verifyJson(file) {
  const r = await recallWarm(['verify', file, '--json']);
  return { code: r.code, report: JSON.parse(r.stdout), stderr: r.stderr };
}

describe('verify: structure checks through the channel driver', () => {
  before(async () => {
    const db = await (await DuckDBInstance.create()).connect();
    await db.run(`COPY (SELECT i AS item_id, [(i * 7 + j) % 200 FOR j IN range(1, 6)] AS neighbors,
      [1.0 / j FOR j IN range(1, 6)]::FLOAT[] AS scores FROM range(200) t(i)) TO '${dir}/lists.parquet' (FORMAT parquet)`);
    let r = await recallWarm([
      'build',
      'x2i',
      '-i',
      join(dir, 'lists.parquet'),
      '-k',
      'item_id',
      '--neighbors',
      'neighbors',
      '--scores',
      'scores',
      '-o',
      join(dir, 'x2i'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    // 64 vectors of 8 dimensions as fbin: int8 rows plus the f32 re-rank rows, each with its CRC
    const n = 64;
    const dim = 8;
    const fbin = Buffer.alloc(8 + n * dim * 4);
    fbin.writeUInt32LE(n, 0);
    fbin.writeUInt32LE(dim, 4);
    for (let i = 0; i < n * dim; i++) fbin.writeFloatLE(Math.sin(i * 0.7) * 3, 8 + 4 * i);
    writeFileSync(join(dir, 'v.f32'), fbin);
    r = await recallWarm([
      'build',
      'vector',
      '-i',
      join(dir, 'v.f32'),
      '--type',
      'flat',
      '--quant',
      'int8',
      '--rerank',
      '-o',
      join(dir, 'vec'),
    ]);
    assert.equal(r.code, 0, r.stderr);
  });

  it('intact files pass', async () => {
    for (const f of [fileOf('x2i', '.rx2i'), fileOf('vec', '.rvec')]) {
      const { code, report } = await verifyJson(f);
      assert.equal(code, 0, JSON.stringify(report));
      assert.equal(report.ok, true);
    }
  });

  it('x2i: a re-sealed edit of the slots breaks the NeighborHash invariants: exit 3, region "x2i structure"', async () => {
    const bad = resealedEdit(fileOf('x2i', '.rx2i'), 17, 3, 0x40, 'slots.rx2i');
    const { code, report } = await verifyJson(bad);
    assert.equal(code, 3);
    assert.equal(report.firstProblem.region, 'x2i structure');
    assert.equal(report.firstProblem.file, bad);
    assert.match(report.firstProblem.message, /I2|chain|slot/);
  });

  it('vector: a re-sealed edit of one f32 re-rank row fails its row checksum: exit 3, region "vector structure"', async () => {
    // section 36: the f32 rows; byte 0 is the lowest mantissa byte of row 0's first value (stays finite)
    const bad = resealedEdit(fileOf('vec', '.rvec'), 36, 0, 0x01, 'f32.rvec');
    const { code, report } = await verifyJson(bad);
    assert.equal(code, 3);
    assert.equal(report.firstProblem.region, 'vector structure');
    assert.equal(report.firstProblem.file, bad);
  });
});
