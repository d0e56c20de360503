// Profile inputs at the edges: 100,000-frame stacks, a gzip bomb, a 50 MB single line, damaged
// pprof references. Each ends with a right answer or exit 3 naming the file; never exit 1.
// recall-test: alone (it times or kills processes, or bounds memory: run with no other test file)
import assert from 'node:assert/strict';
import { createWriteStream, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { gunzipSync, gzipSync, createGzip } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { Profile } from 'pprof-format';
import { recall, root, scratchDir } from './helpers/cli.mjs';

const dir = scratchDir('profile-limits');
after(() => rmSync(dir, { recursive: true, force: true }));
const P = (...p) => join(dir, ...p);
const SHARED = join(root, '..', 'shared', 'data', 'profiles');
const DEPTH = 100_000;
const frames = (leaf) => [...Array.from({ length: DEPTH }, (_, i) => `f${i % 7}_${i}`), leaf];

describe('profile inputs at the edges', () => {
  before(() => {
    // perf script: three events of one 100,000-frame stack (leaf first, as perf prints it)
    let perf = '';
    for (let e = 0; e < 3; e++) {
      perf += `app 100/100 [000] ${e + 1}.000000: 1000 cpu-clock:\n`;
      const f = frames(e === 2 ? 'leafB' : 'leafA');
      for (let i = f.length - 1; i >= 0; i--) perf += `\t    ${(0x1000 + i).toString(16)} ${f[i]} (/usr/bin/app)\n`;
      perf += '\n';
    }
    writeFileSync(P('deep.perf'), perf);
    writeFileSync(P('deep-base.folded'), `${frames('a').join(';')} 10\n${frames('b').join(';')} 5\nmain;x 3\n`);
    writeFileSync(P('deep-head.folded'), `${frames('a').join(';')} 5\n${frames('b').join(';')} 10\nmain;x 3\n`);
  });

  it('collapse reads 100,000-frame perf stacks', async () => {
    const r = await recall(['profile', 'collapse', P('deep.perf'), '-o', P('deep.folded'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const lines = readFileSync(P('deep.folded'), 'utf8').trim().split('\n').sort();
    assert.equal(lines.length, 2);
    // cpu-clock samples weigh their period (1000 ns each); compared as booleans: the lines are 1 MB
    assert.ok(lines[0] === `app;${frames('leafA').join(';')} 2000`, lines[0].slice(-60));
    assert.ok(lines[1] === `app;${frames('leafB').join(';')} 1000`, lines[1].slice(-60));
  });

  it('diff of 100,000-frame stacks: right deltas, the flame graph drawn 1,000 frames deep', async () => {
    const r = await recall([
      'profile',
      'diff',
      '--base',
      P('deep-base.folded'),
      '--head',
      P('deep-head.folded'),
      '-o',
      P('deep.html'),
      '--json-out',
      P('deep.json'),
      '--threshold-pp',
      '100',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(readFileSync(P('deep.json'), 'utf8'));
    const fn = (name) => s.functions.find((f) => f.name === name);
    // base: a 10 of 18, b 5 of 18; head: a 5 of 18, b 10 of 18
    assert.equal(fn('a').base.self, 10);
    assert.equal(fn('a').head.self, 5);
    assert.equal(fn('b').head.self, 10);
    assert.equal(fn('f4_99999').base.total, 15);
    assert.equal(s.functions.length, DEPTH + 4); // the frames, a, b, main, x
    assert.ok(s.warnings.some((w) => /draws 1000 frames deep/.test(w)));
    // the page embeds a tree 1,000 frames deep at most
    const html = readFileSync(P('deep.html'), 'utf8');
    const data = JSON.parse(html.match(/<script type="application\/json" id="recall-data">(.*?)<\/script>/s)[1]);
    let depth = 0;
    for (let n = data.headTree; n.children?.length; n = n.children.find((c) => c.name !== 'main')) depth++;
    assert.equal(depth, 1000);
  });

  it('a gzip bomb of zeros is refused before it is inflated; --max-input-bytes bounds a forced read', async () => {
    const gz = createGzip({ level: 9 });
    const out = createWriteStream(P('zeros.pb.gz'));
    gz.pipe(out);
    const chunk = Buffer.alloc(1 << 24);
    for (let i = 0; i < 16; i++) if (!gz.write(chunk)) await once(gz, 'drain'); // 256 MiB of zeros
    gz.end();
    await once(out, 'close');
    let t = Date.now();
    const sniffed = await recall(['profile', 'collapse', P('zeros.pb.gz')]);
    assert.equal(sniffed.code, 3, sniffed.stderr);
    assert.match(sniffed.stderr, /zeros\.pb\.gz: binary data that is not a pprof profile/);
    assert.ok(Date.now() - t < 5000, `took ${Date.now() - t} ms`);
    for (const format of ['pprof', 'folded']) {
      t = Date.now();
      const r = await recall(['profile', 'collapse', P('zeros.pb.gz'), '--format', format, '--max-input-bytes', '64MiB']);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /zeros\.pb\.gz: more than 67108864 bytes after gunzip \(--max-input-bytes\)/);
      assert.ok(Date.now() - t < 8000, `${format}: took ${Date.now() - t} ms`);
    }
    const bad = await recall(['profile', 'collapse', P('zeros.pb.gz'), '--max-input-bytes', 'lots']);
    assert.equal(bad.code, 2);
  });

  it('one long line reads as fast as the same bytes in short lines (no quadratic join)', async () => {
    const { forEachLine } = await import('../dist/core/profile/text-input.js');
    const MB = 1 << 20;
    writeFileSync(P('one-line.txt'), Buffer.alloc(64 * MB, 'x'));
    const short = Buffer.alloc(64 * MB, 'x');
    for (let i = 999; i < short.length; i += 1000) short[i] = 10;
    writeFileSync(P('short-lines.txt'), short);
    const time = async (file) => {
      const t = process.hrtime.bigint();
      let chars = 0;
      const stats = await forEachLine(file, { line: (l) => (chars += l.length) });
      return { ms: Number(process.hrtime.bigint() - t) / 1e6, chars, lines: stats.lines };
    };
    const base = await time(P('short-lines.txt'));
    const long = await time(P('one-line.txt'));
    assert.equal(long.lines, 1);
    assert.equal(long.chars, 64 * MB);
    // Linear: about the same time as the short lines (the anchor, measured in this run); the
    // quadratic join re-copied the growing line per 1 MB chunk, ~32x the bytes here.
    assert.ok(long.ms < 4 * base.ms + 500, `one 64 MiB line ${long.ms.toFixed(0)} ms, short lines ${base.ms.toFixed(0)} ms`);
  });

  it('a 50 MB single line is read in linear time, whole', async () => {
    const names = [];
    for (let n = 0; n < 50e6; ) {
      const s = `frame_${names.length}`;
      names.push(s);
      n += s.length + 1;
    }
    const text = `${names.join(';')} 7\nmain;x 3\n`;
    writeFileSync(P('long.folded'), text);
    const t = Date.now();
    const r = await recall(['profile', 'collapse', P('long.folded'), '-o', P('long.out')]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - t < 30000, `took ${Date.now() - t} ms`);
    const got = readFileSync(P('long.out'), 'utf8').trim().split('\n').sort();
    const want = text.trim().split('\n').sort();
    assert.ok(got.length === want.length && got.every((l, i) => l === want[i]), 'the long line comes out whole');
  });

  it('pprof references that point nowhere are exit 3 naming the file, not "[unknown]" frames', async () => {
    const good = Profile.decode(gunzipSync(readFileSync(join(SHARED, 'pprof', 'sample.cpu.pb.gz'))));
    const write = (name, edit) => {
      const p = Profile.decode(gunzipSync(readFileSync(join(SHARED, 'pprof', 'sample.cpu.pb.gz'))));
      edit(p);
      writeFileSync(P(name), gzipSync(p.encode()));
      return P(name);
    };
    const cases = [
      [write('loc.pb.gz', (p) => (p.sample[0].locationId = [...p.sample[0].locationId, 999_999])), /sample 0 names location id 999999/],
      [write('fn.pb.gz', (p) => (p.location[0].line[0].functionId = 888_888)), /names function id 888888/],
      [write('str.pb.gz', (p) => (p.function[0].name = p.stringTable.strings.length + 5)), /string index \d+ is outside the string table/],
    ];
    assert.ok(good.sample.length > 0);
    for (const [file, message] of cases) {
      const r = await recall(['profile', 'collapse', file]);
      assert.equal(r.code, 3, `${file}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`${file.replace(/[.]/g, '\\.')}: damaged pprof profile: `));
      assert.match(r.stderr, message);
    }
    const ok = await recall(['profile', 'collapse', join(SHARED, 'pprof', 'sample.cpu.pb.gz')]);
    assert.equal(ok.code, 0, ok.stderr);
  });
});
