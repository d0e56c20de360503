// Re-sealed damage to a text index (bytes changed and every CRC recomputed, as a writer bug or a
// bad copy would leave it): `recall query inverted` answers as the intact index does, or answers
// from a still well-formed index, or exits 3 naming the file; never exit 1 (a panic or our bug).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32c } from '../dist/core/index/container.js';
import { recallWarm, scratchDir } from './helpers/cli.mjs';
import { mapConcurrent } from './helpers/scale.mjs';
import { dictdEntries, rng } from './helpers/text-corpus.mjs';

const dir = scratchDir('text-reseal');
after(() => rmSync(dir, { recursive: true, force: true }));

/** Section bodies of a container image: {kind, offset, length}. */
function sections(b) {
  const count = b.readUInt32LE(20);
  const table = Number(b.readBigUInt64LE(24));
  return Array.from({ length: count }, (_, s) => ({
    kind: b.readUInt32LE(table + 32 * s),
    offset: Number(b.readBigUInt64LE(table + 32 * s + 8)),
    length: Number(b.readBigUInt64LE(table + 32 * s + 16)),
  }));
}

/** Recompute the CRCs of every section, the table (header and footer copies) and the header. */
function reseal(b) {
  const count = b.readUInt32LE(20);
  const table = Number(b.readBigUInt64LE(24));
  for (const [s, sec] of sections(b).entries()) {
    b.writeUInt32LE(crc32c(b.subarray(sec.offset, sec.offset + sec.length)), table + 32 * s + 24);
  }
  const tc = crc32c(b.subarray(table, table + 32 * count));
  b.writeUInt32LE(tc, 52);
  b.writeUInt32LE(tc, b.length - 32 + 16);
  b.writeUInt32LE(crc32c(b.subarray(0, 60)), 60);
}

describe('re-sealed damage to a text index', () => {
  let good;
  let queriesFile;
  let want;
  const query = (index) => recallWarm(['query', 'inverted', '--index', index, '--queries-file', queriesFile, '--k', '5', '--json']);
  before(async () => {
    const rows = dictdEntries('wn', 3000).map((text, i) => ({ id: 10 + 3 * i, text }));
    const src = join(dir, 'wn.jsonl');
    writeFileSync(src, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const out = join(dir, 'wn');
    const b = await recallWarm(['build', 'inverted', '--input', src, '--id', 'id', '--text', 'text', '--out', out, '--json']);
    assert.equal(b.code, 0, b.stderr);
    const v = readdirSync(out).find((n) => /^v\d+$/.test(n));
    good = readFileSync(
      join(
        out,
        v,
        readdirSync(join(out, v)).find((n) => n.endsWith('.rti')),
      ),
    );
    queriesFile = join(dir, 'queries.txt');
    writeFileSync(
      queriesFile,
      ['a', 'the', 'of a', 'plant OR animal', 'water AND NOT sea', 'small genus', '"united states"', 'n'].join('\n'),
    );
    const r = await query(join(out, 'CURRENT'));
    const r2 = r.code === 0 ? r : await query(join(out, v));
    assert.equal(r2.code, 0, r2.stderr);
    want = JSON.parse(r2.stdout).results;
  });

  it('is exit 0 with well-formed answers or exit 3 naming the file, never 1 (seeded)', async () => {
    const r = rng(18);
    const secs = sections(good).filter((s) => s.length > 0);
    const counts = { 0: 0, 3: 0, same: 0 };
    // the damage is drawn in order from the seed, then the queries run two at a time
    const rounds = Array.from({ length: 40 }, (_, round) => {
      const b = Buffer.from(good);
      const sec = secs[Math.floor(r() * secs.length)];
      for (let e = 0; e < 1 + Math.floor(r() * 3); e++) {
        const at = sec.offset + Math.floor(r() * sec.length);
        b[at] = r() < 0.5 ? Math.floor(r() * 256) : (b[at] + (r() < 0.5 ? 1 : 255)) & 255;
      }
      reseal(b);
      return { round, sec, bytes: b };
    });
    await mapConcurrent(rounds, async ({ round, sec, bytes }) => {
      const path = join(dir, `bad-${round}.rti`);
      writeFileSync(path, bytes);
      const q = await query(path);
      assert.ok(q.code === 0 || q.code === 3, `round ${round}, section ${sec.kind}: exit ${q.code}: ${q.stderr}${q.stdout}`);
      counts[q.code]++;
      if (q.code === 3) {
        assert.match(q.stderr + q.stdout, new RegExp(`bad-${round}\\.rti`), `round ${round}: the error names the file`);
      } else {
        const got = JSON.parse(q.stdout).results;
        assert.equal(got.length, want.length);
        for (const res of got) for (const h of res.hits ?? []) assert.ok(Number.isFinite(h.score) || h.score === null, `round ${round}`);
        if (JSON.stringify(got) === JSON.stringify(want)) counts.same++;
      }
      rmSync(path);
    });
    assert.ok(counts[3] > 10, JSON.stringify(counts));
  });
});
