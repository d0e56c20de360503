// Shipped commands need nothing outside the package: run from a copy of the package in a temporary
// folder with no ../shared beside it, with the cache in a temporary $XDG_CACHE_HOME.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { root, scratchDir } from './helpers/cli.mjs';

const dir = scratchDir('standalone');
after(() => rmSync(dir, { recursive: true, force: true }));
const pkg = join(dir, 'pkg');
const cache = join(dir, 'cache');

before(() => {
  // what `npm pack` ships (package.json "files") plus the built addon, and the installed dependencies
  const files = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).files;
  mkdirSync(pkg);
  for (const f of [...files.filter((f) => !f.startsWith('native')), 'package.json', 'build/Release/recall.node']) {
    if (existsSync(join(root, f))) cpSync(join(root, f), join(pkg, f), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'));
  assert.ok(!existsSync(join(dir, 'shared')));
});

const recallIn = (args) =>
  spawnSync(process.execPath, [join(pkg, 'bin', 'run.js'), ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, XDG_CACHE_HOME: cache },
  });

describe('stand-alone package', () => {
  it('src/ names no run-time path into the team folder (but the vector and text benches, not ported yet)', () => {
    const walk = (d) =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
    const files = walk(join(root, 'src')).filter((f) => readFileSync(f, 'utf8').match(/\.\.\/shared|\/work\/shared/));
    assert.deepEqual(files.map((f) => f.slice(root.length)).sort(), [
      'src/commands/bench/inverted.ts',
      'src/commands/bench/vector.ts',
      'src/core/bench/text.ts',
      'src/core/bench/vector.ts',
    ]);
  });

  it('recall bench x2i runs at a tiny size from the copy, its data generated into the cache', () => {
    const r = recallIn(['bench', 'x2i', '--users', '2000', '--items', '20000', '--events', '20000', '--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(
      out.rows.map((x) => x.algo),
      ['cosine', 'swing'],
    );
    for (const row of out.rows) {
      assert.ok(row.floor.cpuS > 0 && row.ours.threads1.computeCpuS > 0);
      // the same formulas: the floor and recall find the planted partners equally often
      assert.equal(row.ours.threads1.recall10, row.floor.recall10);
      assert.ok(row.floor.recall10 > 0.1, `${row.algo}: partner recall@10 ${row.floor.recall10}`);
    }
    assert.ok(existsSync(join(cache, 'recall', 'x2i', 'x2i-2000-20000-20000.bin')));
  });
});
