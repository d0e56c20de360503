// The custom flag types of src/cli/flags/: what each accepts, and the usage error (exit 2) naming
// the flag for what it refuses.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { readKeysFlags } from '../dist/cli/flags/keys.js';
import { parseNumberOrPercent, parseShare } from '../dist/cli/flags/percent.js';
import { parseU64 } from '../dist/cli/flags/u64.js';

const usageError = (re) => (e) => e.exit === 2 && re.test(e.message);

describe('flags: u64', () => {
  it('accepts 0 .. 2^64-1', () => {
    assert.equal(parseU64('seed', '0'), 0n);
    assert.equal(parseU64('seed', '18446744073709551615'), 2n ** 64n - 1n);
  });
  it('refuses negatives, 2^64, non-digits', () => {
    for (const v of ['-1', '18446744073709551616', '1e3', '', 'x']) {
      assert.throws(() => parseU64('seed', v), usageError(/^--seed .* is not an unsigned 64-bit integer$/));
    }
  });
});

describe('flags: percent', () => {
  it('a share: 5% or 0.05', () => {
    assert.equal(parseShare('max-regression', '5%'), 0.05);
    assert.equal(parseShare('max-regression', ' 0.05 '), 0.05);
    assert.throws(() => parseShare('max-regression', '-5%'), usageError(/--max-regression -5% is not a share/));
    assert.throws(
      () => parseShare('max-regression', 'five'),
      (e) => e.fix === 'write it like 5% or 0.05',
    );
  });
  it('a number or a percentage, at least min', () => {
    assert.equal(parseNumberOrPercent('threshold-pp', undefined), undefined);
    assert.equal(parseNumberOrPercent('threshold-pp', '1'), 1);
    assert.equal(parseNumberOrPercent('prune-pct', '50%'), 0.5);
    assert.throws(() => parseNumberOrPercent('z', '-1'), usageError(/--z -1 is not a number >= 0/));
    assert.throws(() => parseNumberOrPercent('z', '0.5', 1), usageError(/--z 0.5 is not a number >= 1/));
    assert.throws(
      () => parseNumberOrPercent('z', 'abc'),
      (e) => e.code === 'ERR_RECALL_FLAG',
    );
  });
});

describe('flags: keys', () => {
  it('--keys wins, then --keys-file (a file or - for stdin)', async () => {
    assert.deepEqual(await readKeysFlags({ keys: '1,2' }), { raw: '1,2', source: '--keys' });
    const f = join(mkdtempSync(join(tmpdir(), 'recall-keys-')), 'k.txt');
    writeFileSync(f, '3\n4\n');
    assert.deepEqual(await readKeysFlags({ 'keys-file': f }), { raw: '3\n4\n', source: f });
    assert.deepEqual(await readKeysFlags({ 'keys-file': '-' }, Readable.from(['5\n'])), { raw: '5\n', source: '-' });
  });
  it('no keys is a usage error with the fix', async () => {
    await assert.rejects(readKeysFlags({}), (e) => e.code === 'ERR_RECALL_NO_KEYS' && e.exit === 2 && /--keys-file/.test(e.fix));
  });
});
