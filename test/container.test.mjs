// The index container end to end: the committed v1 fixture, byte-exact
// rewrites, and `recall inspect` / `recall verify` on damaged copies.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readContainerInfo } from '../dist/core/index/container.js';
import { loadNative } from '../dist/core/native.js';
import { SAMPLE_HEADER, sampleSections } from '../scripts/make-fixtures.mjs';
import { recallWarm, root, scratchDir } from './helpers/cli.mjs';

const fixture = join(root, 'fixtures/container/sample-v1.rcl');
const native = loadNative();
const dir = scratchDir('container');
after(() => rmSync(dir, { recursive: true, force: true }));

function damaged(name, mutate) {
  const p = join(dir, name);
  copyFileSync(fixture, p);
  const b = readFileSync(p);
  mutate(b);
  writeFileSync(p, b);
  return p;
}

describe('container format v1', () => {
  it("today's writer reproduces the committed fixture byte for byte", () => {
    const out = join(dir, 'rewrite.rcl');
    native.containerWrite(out, SAMPLE_HEADER, sampleSections());
    assert.deepEqual(readFileSync(out), readFileSync(fixture));
  });

  it('the TS reader and the Rust reader agree on the fixture', async () => {
    const info = await readContainerInfo(fixture);
    assert.equal(info.header.kindName, 'sample');
    assert.equal(info.header.buildId, 77n);
    assert.deepEqual(
      [info.header.major, info.header.minor, info.header.version, info.header.shard, info.header.shardCount],
      [1, 2, 3, 1, 4],
    );
    assert.deepEqual(info.params, { hash: 'xxh64', note: 'recall container format fixture v1', seed: 0 });
    const report = await native.containerVerify(fixture);
    assert.deepEqual(report.problems, []);
    assert.deepEqual(
      report.sections.map(({ kind, offset, length, crc32c }) => ({ kind, offset, length, crc32c })),
      info.sections.map(({ kind, offset, length, crc32c }) => ({ kind, offset, length, crc32c })),
    );
    assert.deepEqual([...native.containerReadSection(fixture, 18)], [...new TextEncoder().encode('tail')]);
    assert.equal(native.containerReadSection(fixture, 99), null);
  });

  it('recall inspect prints header, sections and params (text and --json)', async () => {
    const text = await recallWarm(['inspect', fixture]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /recall sample index, format 1\.2, 344 bytes/);
    assert.match(text.stdout, /params: \{"hash":"xxh64"/);
    const json = await recallWarm(['inspect', fixture, '--json']);
    const out = JSON.parse(json.stdout);
    assert.equal(out.header.buildId, '77');
    assert.equal(out.sections.length, 4);
  });

  describe('recall verify finds one flipped byte anywhere and names the place', async () => {
    const info = await readContainerInfo(fixture);
    const places = [
      ['header', 5, /\(header\) bad magic \(not a recall index file\)/],
      ['header crc field', 61, /\(header\) header checksum mismatch/],
      ...info.sections
        .filter((s) => s.length > 0)
        .map((s) => [
          `section ${s.index}`,
          s.offset + Math.floor(s.length / 2),
          new RegExp(`\\(section ${s.index} \\(kind ${s.kind}\\)\\) checksum mismatch`),
        ]),
      ['padding', 64 + 69, /\(padding after section 0 \(kind 1\)\) padding bytes must be zero/],
      ['section table', info.header.tableOffset + 40, /\(section table\) checksum mismatch/],
      ['footer', info.fileBytes - 3, /\(footer\) footer magic missing/],
      ['footer length field', info.fileBytes - 32, /\(footer\) footer fields disagree/],
    ];
    for (const [name, at, want] of places) {
      it(`in the ${name} (byte ${at})`, async () => {
        const p = damaged(`flip-${at}.rcl`, (b) => (b[at] ^= 0x10));
        for (const args of [
          ['verify', p],
          ['verify', p, '--json'],
        ]) {
          const r = await recallWarm(args);
          assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
          assert.equal(r.stderr.includes('panicked'), false);
          if (args.includes('--json')) {
            const out = JSON.parse(r.stdout);
            assert.equal(out.ok, false);
            const first = out.firstProblem;
            assert.ok(first.offset <= at && at < first.offset + Math.max(first.length, 1), JSON.stringify(first));
          } else {
            assert.match(r.stdout, want);
            assert.match(r.stdout, new RegExp(`${p.replace(/[.]/g, '\\.')}: bytes \\d+\\.\\.\\d+`));
          }
        }
      });
    }

    it('truncated by one byte', async () => {
      const p = join(dir, 'truncated.rcl');
      copyFileSync(fixture, p);
      truncateSync(p, info.fileBytes - 1);
      const r = await recallWarm(['verify', p]);
      assert.equal(r.code, 3);
      assert.match(r.stdout, new RegExp(`bytes ${info.fileBytes - 1}\\.\\.${info.fileBytes} \\(file\\) truncated`));
      const i = await recallWarm(['inspect', p, '--json']);
      assert.equal(i.code, 3);
      assert.equal(JSON.parse(i.stdout).error.code, 'ERR_RECALL_CORRUPT');
    });

    it('every single byte flip is detected in process, with the first bad range covering it', async () => {
      const bytes = readFileSync(fixture);
      const p = join(dir, 'each.rcl');
      for (let at = 0; at < bytes.length; at++) {
        const b = Buffer.from(bytes);
        b[at] ^= 0x01;
        writeFileSync(p, b);
        const { problems } = await native.containerVerify(p);
        assert.ok(problems.length > 0, `flip at ${at} missed`);
        assert.ok(
          problems[0].offset <= at && at < problems[0].offset + Math.max(problems[0].length, 1),
          `flip at ${at}: ${JSON.stringify(problems[0])}`,
        );
      }
    });
  });

  it('a file that is not an index exits 3 on inspect and verify', async () => {
    const p = join(dir, 'not-an-index.txt');
    writeFileSync(p, 'hello, this is not an index file at all, but it is long enough to have a header and a footer..........');
    for (const cmd of ['inspect', 'verify']) {
      const r = await recallWarm([cmd, p]);
      assert.equal(r.code, 3, `${cmd}: ${r.stderr}`);
      assert.match(r.stdout + r.stderr, /not a recall index file/);
    }
  });
});
