// Source files per frame: perf `-F +srcline` lines and pprof Function.filename are kept by the
// readers, stored in the stacks dictionary, and rank the commit that touched the defining file
// first. Inputs: real captures (fixtures/profiles/perf-captures/srcline-*.perf.txt.gz, recorded
// with perf on a C program whose sources are beside them) and a pprof written by Go's toolchain.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { openDuckDB } from '../dist/core/io/duckdb.js';
import { readProfile } from '../dist/core/profile/read.js';
import { ingest } from '../dist/core/profile/store/ingest.js';
import { StoreReader } from '../dist/core/profile/store/query.js';
import { scanRegressions } from '../dist/core/profile/store/regressions.js';
import { root, scratchDir } from './helpers/cli.mjs';

const dir = scratchDir('profile-store-sources');
after(() => rmSync(dir, { recursive: true, force: true }));

const CAP = join(root, 'fixtures/profiles/perf-captures');
const PPROF = join(root, '../shared/data/profiles/pprof/sample.cpu.pb.gz');
const job = { read: {}, threads: 1 };

/** The capture without its srcline lines (two-space indented `file:line` / `[dso][addr]`), as plain `perf script` prints it. */
function withoutSrclines(name) {
  const text = gunzipSync(readFileSync(join(CAP, name))).toString('utf8');
  const f = join(dir, name.replace('.gz', ''));
  writeFileSync(
    f,
    text
      .split('\n')
      .filter((l) => !/^ {2}\S/.test(l))
      .join('\n'),
  );
  return f;
}

/** Frame -> file from the capture text itself: the srcline line under each frame line. */
function srclinesOfText(name) {
  const lines = gunzipSync(readFileSync(join(CAP, name)))
    .toString('utf8')
    .split('\n');
  const out = new Map();
  for (let i = 0; i + 1 < lines.length; i++) {
    const frame = /^\t\s*[0-9a-f]+ (\S+) \(/.exec(lines[i]);
    const src = /^ {2}(.+):\d+$/.exec(lines[i + 1]);
    if (frame && src && src[1] !== '??' && !out.has(frame[1])) out.set(frame[1], src[1]);
  }
  return out;
}

function git(repo, ...args) {
  return execFileSync('git', ['-C', repo, ...args], {
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@x',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@x',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: repo,
    },
  }).trim();
}

describe('source files per frame', () => {
  it('perf srcline lines: read as sources, not bad lines; the stacks equal those of the same capture without them', async () => {
    for (const name of ['srcline-base.perf.txt.gz', 'srcline-head.perf.txt.gz']) {
      const pod = await readProfile(join(CAP, name));
      const plain = await readProfile(withoutSrclines(name));
      assert.equal(pod.badLines, 0, pod.warnings.join('\n'));
      assert.deepEqual(pod.warnings, []);
      assert.deepEqual(new Map([...pod.stacks].sort()), new Map([...plain.stacks].sort()));
      assert.equal(plain.frameFiles, undefined);
      assert.deepEqual(new Map([...pod.frameFiles].sort()), new Map([...srclinesOfText(name)].sort()));
      assert.equal(pod.frameFiles.get('checksum_block'), 'codec.c');
      assert.equal(pod.frameFiles.get('parse_header'), 'reader.c');
    }
  });

  it('pprof Function.filename is kept, stored in the stacks dictionary and read back; older stacks files without it still read', async () => {
    const p = Profile.decode(gunzipSync(readFileSync(PPROF)));
    const s = p.stringTable.strings;
    const want = new Map(p.function.filter((f) => s[Number(f.filename)]).map((f) => [s[Number(f.name)], s[Number(f.filename)]]));
    assert.ok(want.size > 5);
    const store = join(dir, 'pprof-store');
    await ingest([PPROF], { store, labels: { app: 'go', version: '1' } }, job);
    // A stacks file as stores written before the files column hold it: rewritten without the column.
    const c = await ingest([join(CAP, 'srcline-base.perf.txt.gz')], { store, labels: { app: 'c', version: '1' } }, job);
    const old = join(
      store,
      c.filesWritten.find((f) => f.startsWith('stacks/')),
    );
    const db = await openDuckDB();
    const conn = await db.connect();
    await conn.run(`COPY (SELECT stack_id, frames FROM read_parquet('${old}')) TO '${old}.old' (FORMAT parquet)`);
    const cols = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${old}.old')`)).getRowsJS().map((row) => row[0]);
    conn.closeSync();
    db.closeSync();
    assert.deepEqual(cols, ['stack_id', 'frames']);
    renameSync(`${old}.old`, old);
    const r = await StoreReader.open(store);
    try {
      const got = await r.frameFiles();
      for (const [fn, file] of want) assert.deepEqual([...(got.get(fn) ?? [])], [file], fn);
      assert.equal(got.get('checksum_block'), undefined);
      for (const [app, file] of [
        ['go', PPROF],
        ['c', join(CAP, 'srcline-base.perf.txt.gz')],
      ]) {
        const [pod] = await r.pods(r.select({ app }));
        const direct = await readProfile(file);
        assert.deepEqual(new Map([...pod.stacks].sort()), new Map([...direct.stacks].sort()), app);
      }
    } finally {
      r.dispose();
    }
  });

  it('regressions: the commit touching the file that defines the function ranks first; without sources, the name search', async () => {
    // A repo where checksum_block is defined in src/codec.c and called from src/lines.c; between
    // the versions, an older commit changes codec.c and a newer one adds a call in lines.c.
    const repo = join(dir, 'repo');
    mkdirSync(join(repo, 'src'), { recursive: true });
    git(repo, 'init', '-q', '-b', 'main');
    for (const f of ['lines.c', 'codec.c', 'reader.c']) writeFileSync(join(repo, 'src', f), readFileSync(join(CAP, 'src', f)));
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'initial');
    const v1 = git(repo, 'rev-parse', 'HEAD');
    appendFileSync(join(repo, 'src', 'codec.c'), '/* FNV over every byte twice */\n');
    git(repo, 'commit', '-q', '-am', 'codec: stronger hash');
    const real = git(repo, 'rev-parse', 'HEAD');
    appendFileSync(join(repo, 'src', 'lines.c'), '/* checksum_block: called once more per round */\n');
    git(repo, 'commit', '-q', '-am', 'lines: comment');
    const v2 = git(repo, 'rev-parse', 'HEAD');

    const scan = async (app, base, head) => {
      const store = join(dir, `rank-${app}`);
      await ingest([base], { store, labels: { app, version: 'v1', commit: v1 }, time: '2026-11-01T00:00:00Z' }, job);
      await ingest([head], { store, labels: { app, version: 'v2', commit: v2 }, time: '2026-11-02T00:00:00Z' }, job);
      const out = await scanRegressions({ store, app, repo, confirm: 1, thresholds: {} });
      const g = out.regressions.find((x) => x.function === 'checksum_block');
      assert.ok(g, `checksum_block not flagged: ${out.regressions.map((x) => x.function).join(', ')}`);
      return g;
    };
    const withSources = await scan('src', join(CAP, 'srcline-base.perf.txt.gz'), join(CAP, 'srcline-head.perf.txt.gz'));
    assert.equal(withSources.definedBy, 'profile');
    assert.deepEqual(withSources.definedIn, ['src/codec.c']);
    assert.equal(withSources.candidates[0].commit, real);
    // The same captures without srcline lines: the name is also in lines.c, whose newer commit
    // mentions it, so the name search ranks that one first.
    const byName = await scan('plain', withoutSrclines('srcline-base.perf.txt.gz'), withoutSrclines('srcline-head.perf.txt.gz'));
    assert.equal(byName.definedBy, 'name-search');
    assert.deepEqual(byName.definedIn.sort(), ['src/codec.c', 'src/lines.c']);
    assert.notEqual(byName.candidates[0].commit, real);
  });
});
