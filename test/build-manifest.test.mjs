// `npm run build` writes the command manifest with `oclif manifest`. In a bash that had just run
// `command -v cargo` (as .ci/run does), `oclif manifest` without a path argument took the path of
// that executable for its package root and failed with ENOTDIR, so a clean clone could not build.
// The build script's manifest step runs here the same way, in a copy of the package root.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { root, scratchDir } from './helpers/cli.mjs';

const dir = scratchDir('build-manifest');
after(() => rmSync(dir, { recursive: true, force: true }));

it("the build script's manifest step works after `command -v` in the same shell", () => {
  const build = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.build;
  const step = build
    .split('&&')
    .map((s) => s.trim())
    .find((s) => s.startsWith('oclif manifest'));
  assert.ok(step, `no oclif manifest step in the build script: ${build}`);
  cpSync(join(root, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(root, 'dist'), join(dir, 'dist'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  const r = spawnSync('bash', ['-c', `command -v node >/dev/null; ${step}`], {
    cwd: dir,
    encoding: 'utf8',
    // stdin from /dev/null, as in CI: with it the failure was certain, with an open pipe occasional
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH}` },
  });
  assert.equal(r.status, 0, `${step} failed: ${r.stderr}`);
  const manifest = JSON.parse(readFileSync(join(dir, 'oclif.manifest.json'), 'utf8'));
  assert.ok(manifest.commands['profile:ingest'], 'the manifest lists the commands');
});
