// The test command stands alone: its pretest step finds the Debian packages the suite reads.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureTestPackages, missingPackages } from '../scripts/test-deps.mjs';

describe('test dependencies', () => {
  it('every package the suite reads is there after pretest', () => {
    assert.deepEqual(missingPackages(), []);
    assert.equal(spawnSync(process.execPath, [fileURLToPath(new URL('../scripts/test-deps.mjs', import.meta.url))]).status, 0);
  });

  it('without a way to install, stops with exit 2 and the command that installs what is missing', () => {
    const packages = [{ pkg: 'no-such-recall-pkg', path: '/nonexistent/recall-test-dep', usedBy: 'this test' }];
    const writes = [];
    const write = process.stderr.write;
    process.stderr.write = (s) => writes.push(String(s));
    let code;
    try {
      code = ensureTestPackages({ packages, installer: false });
    } finally {
      process.stderr.write = write;
    }
    assert.equal(code, 2);
    assert.equal(writes.length, 1);
    assert.match(writes[0], /apt-get install -y no-such-recall-pkg\n$/);
  });
});
