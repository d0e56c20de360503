// Every path recall writes or reads stays under its root: config source names are identifiers,
// manifests cannot point outside their folder, verify refuses a channel whose CURRENT or version
// folders are not its own, and a config's `where` cannot read other files.
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recallWarm, root, scratchDir } from './helpers/cli.mjs';

const dir = scratchDir('paths');
after(() => rmSync(dir, { recursive: true, force: true }));
const lists = join(root, 'fixtures', 'parquet', 'x2i-lists.parquet');

function config(name, source) {
  const file = join(dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      out: join(dir, name, 'out'),
      shards: 2,
      sources: { [source.name ?? 'lists']: { inputs: [lists], key: 'item_id', ...(source.where ? { where: source.where } : {}) } },
      channels: [{ name: 'x2i', kind: 'x2i', source: source.name ?? 'lists', neighbors: 'neighbors', scores: 'scores', topK: 20 }],
    }),
  );
  return file;
}

const channel = join(dir, 'base', 'out', 'x2i');
before(async () => {
  const r = await recallWarm(['build', '--config', config('base', {})]);
  assert.equal(r.code, 0, r.stderr);
});

/** A copy of the built channel to damage. */
function copy(name) {
  const to = join(dir, 'copies', name);
  cpSync(channel, to, { recursive: true });
  return to;
}

describe('paths stay under their roots', () => {
  it('a config source name is an identifier: "../../../x" is refused and nothing is written outside out', async () => {
    const file = config('escape', { name: '../../../escaped' });
    const r = await recallWarm(['build', '--config', file]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /source name "\.\.\/\.\.\/\.\.\/escaped" is not an identifier/);
    assert.ok(!existsSync(join(dir, 'escaped')) && !existsSync(join(dir, 'escape', 'escaped')), 'nothing written');
  });

  it('manifest files[].path with ../ or an absolute path is damage (exit 3), not a file to read', async () => {
    for (const bad of ['../../x2i/v00000001/manifest.json', '/etc/hostname']) {
      const ch = copy(`manifest-${bad.length}`);
      const mf = join(ch, 'v00000001', 'manifest.json');
      const m = JSON.parse(readFileSync(mf, 'utf8'));
      m.files[0].path = bad;
      delete m.checksum; // as a manifest written before manifests carried a checksum: the path itself must be refused
      writeFileSync(mf, JSON.stringify(m));
      const q = await recallWarm(['query', 'x2i', '--index', ch, '--keys', '1']);
      assert.equal(q.code, 3, `query with ${bad}: ${q.stderr}`);
      assert.match(q.stderr, /is not a path inside the version folder/);
      const v = await recallWarm(['verify', ch]);
      assert.equal(v.code, 3, `verify with ${bad}: ${v.stdout}${v.stderr}`);
    }
  });

  it('verify CHANNEL fails when CURRENT is missing, names itself, or a version folder links into another channel', async () => {
    const missing = copy('no-current');
    rmSync(join(missing, 'CURRENT'));
    const a = await recallWarm(['verify', missing]);
    assert.equal(a.code, 3, a.stdout);
    assert.match(a.stdout, /CURRENT.*missing/);

    const self = copy('current-self');
    writeFileSync(join(self, 'CURRENT'), 'CURRENT\n');
    const b = await recallWarm(['verify', self]);
    assert.equal(b.code, 3, b.stdout);
    assert.match(b.stdout, /"CURRENT" is not a version pointer/);

    const linked = copy('linked');
    rmSync(join(linked, 'v00000001'), { recursive: true });
    symlinkSync(join(channel, 'v00000001'), join(linked, 'v00000001'));
    const c = await recallWarm(['verify', linked]);
    assert.equal(c.code, 3, c.stdout);
    assert.match(c.stdout, /v00000001: \(file\) is a symbolic link/);
  });

  it("a config's where cannot read other files; a filter over the columns still works", async () => {
    const secret = join(dir, 'secret.txt');
    writeFileSync(secret, '12345');
    const bad = await recallWarm([
      'build',
      '--config',
      config('where-read', { where: `item_id > (SELECT length(content) FROM read_text('${secret}'))` }),
    ]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /Permission Error: Cannot access file/);
    const ok = await recallWarm(['build', '--config', config('where-ok', { where: 'item_id % 3 = 0' }), '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(JSON.parse(ok.stdout).sources[0].rows > 0);
  });
});
