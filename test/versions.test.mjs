// Index versions: staged, published atomically, one builder at a time, and
// crash leftovers cleaned up; `recall verify` on versions and channels.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { beginVersion, listVersions, readCurrent } from '../dist/core/index/versions.js';
import { loadNative } from '../dist/core/native.js';
import { recall, scratchDir } from './helpers/cli.mjs';

const dir = scratchDir('versions');
after(() => rmSync(dir, { recursive: true, force: true }));
const native = loadNative();

async function build(channelDir, shards, tag) {
  const staged = await beginVersion(channelDir, 'sample');
  for (let s = 0; s < shards; s++) {
    native.containerWrite(
      join(staged.dir, `shard-${s}.rcl`),
      { kind: 15, major: 1, version: staged.version, shard: s, shardCount: shards },
      [
        { kind: 1, data: new TextEncoder().encode(JSON.stringify({ tag })) },
        { kind: 16, data: Uint8Array.from({ length: 100 + s }, (_, i) => i) },
      ],
    );
  }
  return staged.publish({ shards, tag });
}

describe('versions', () => {
  it('publishes v00000001, v00000002 and moves CURRENT; readers see complete versions', async () => {
    const ch = join(dir, 'ch1');
    assert.equal(await readCurrent(ch), null);
    const v1 = await build(ch, 2, 'a');
    assert.equal(v1.version, 1);
    assert.equal(readFileSync(join(ch, 'CURRENT'), 'utf8').split(' ')[0], 'v00000001');
    const v2 = await build(ch, 3, 'b');
    assert.equal(v2.version, 2);
    const cur = await readCurrent(ch);
    assert.equal(cur.version, 2);
    assert.deepEqual(
      cur.manifest.files.map((f) => f.path),
      ['shard-0.rcl', 'shard-1.rcl', 'shard-2.rcl'],
    );
    assert.deepEqual(cur.manifest.params, { shards: 3, tag: 'b' });
    assert.deepEqual(await listVersions(ch), [1, 2]);
    assert.deepEqual(readdirSync(ch).sort(), ['CURRENT', 'v00000001', 'v00000002'], 'no lock, temp or staging left');

    const ok = await recall(['verify', ch, '--json']);
    assert.equal(ok.code, 0, ok.stdout);
    assert.equal(JSON.parse(ok.stdout).filesChecked, 5);
  });

  it('abort leaves nothing and the next build takes the same number', async () => {
    const ch = join(dir, 'ch2');
    await build(ch, 1, 'a');
    const staged = await beginVersion(ch, 'sample');
    writeFileSync(join(staged.dir, 'partial.bin'), 'half');
    await staged.abort();
    assert.deepEqual(readdirSync(ch).sort(), ['CURRENT', 'v00000001']);
    assert.equal((await build(ch, 1, 'b')).version, 2);
  });

  it('allows one builder at a time, and recovers from a builder that died', async () => {
    const ch = join(dir, 'ch3');
    const first = await beginVersion(ch, 'sample');
    await assert.rejects(beginVersion(ch, 'sample'), { code: 'ERR_RECALL_LOCKED', exit: 2 });
    await first.abort();
    // A builder killed mid-build leaves its lock and staging folder behind.
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.on('close', r));
    writeFileSync(join(ch, '.lock'), `${dead.pid}\n`);
    mkdirSync(join(ch, `.v00000001.staging-${dead.pid}`));
    const v = await build(ch, 1, 'after-crash');
    assert.equal(v.version, 1);
    assert.deepEqual(readdirSync(ch).sort(), ['CURRENT', 'v00000001']);
  });

  it('the build lock is a flock: a live pid from an earlier boot or an empty .lock means nothing, a holder blocks whatever the file says', async () => {
    const ch = join(dir, 'ch-flock');
    mkdirSync(ch, { recursive: true });
    // pid 1 is alive here, as it is after a container restart: the file alone must not block
    writeFileSync(join(ch, '.lock'), '1\n');
    mkdirSync(join(ch, '.v00000001.staging-1')); // that build's staging folder
    assert.equal((await build(ch, 1, 'after-restart')).version, 1);
    assert.deepEqual(readdirSync(ch).sort(), ['CURRENT', 'v00000001'], 'lock released and removed, staging cleaned');
    // another process holds the lock; the file is emptied: still held
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { loadNative } from ${JSON.stringify(new URL('../dist/core/native.js', import.meta.url).href)};
       loadNative().lockTry(${JSON.stringify(join(ch, '.lock'))}); process.stdout.write('held\\n'); setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise((r) => holder.stdout.once('data', r));
    try {
      writeFileSync(join(ch, '.lock'), '');
      await assert.rejects(beginVersion(ch, 'sample'), { code: 'ERR_RECALL_LOCKED', exit: 2 });
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.on('close', r));
    }
    // killed holder: the kernel released its lock; the leftover file is taken over
    assert.equal((await build(ch, 1, 'after-kill')).version, 2);
  });

  it('verify names a damaged shard, a size mismatch, a missing and an unlisted file', async () => {
    const ch = join(dir, 'ch4');
    const v = await build(ch, 3, 'x');
    const shard1 = join(v.dir, 'shard-1.rcl');
    const b = readFileSync(shard1);
    b[120] ^= 1;
    writeFileSync(shard1, b);
    writeFileSync(join(v.dir, 'shard-0.rcl'), Buffer.concat([readFileSync(join(v.dir, 'shard-0.rcl')), Buffer.from('extra')]));
    rmSync(join(v.dir, 'shard-2.rcl'));
    writeFileSync(join(v.dir, 'stray.txt'), 'x');
    const r = await recall(['verify', ch]);
    assert.equal(r.code, 3);
    assert.match(r.stdout, /shard-1\.rcl: bytes \d+\.\.\d+ \(section 1 \(kind 16\)\) checksum mismatch/);
    assert.match(r.stdout, /shard-0\.rcl: bytes \d+\.\.\d+ \(file\) \d+ bytes, manifest\.json says \d+/);
    assert.match(r.stdout, /shard-2\.rcl: \(file\) listed in manifest\.json but missing/);
    assert.match(r.stdout, /stray\.txt: \(file\) not listed in manifest\.json/);
    writeFileSync(join(ch, 'CURRENT'), 'v00000009\n');
    const c = await recall(['verify', ch, '--json']);
    assert.equal(c.code, 3);
    assert.match(JSON.parse(c.stdout).firstProblem.message, /names "v00000009", which is not a version folder/);
    await assert.rejects(readCurrent(ch), { code: 'ERR_RECALL_MISSING' });
    writeFileSync(join(ch, 'CURRENT'), 'garbage');
    await assert.rejects(readCurrent(ch), { code: 'ERR_RECALL_CORRUPT', exit: 3 });
    assert.ok(existsSync(join(ch, 'v00000001', 'manifest.json')));
  });
});
