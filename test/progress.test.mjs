// Progress lines: only for a person at a terminal; rate, MB/s and ETA.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Progress } from '../dist/cli/progress.js';

const fakeTty = () => {
  const chunks = [];
  return { isTTY: true, write: (s) => chunks.push(s), chunks };
};

describe('progress', () => {
  it('shows percent, counts, rate, MB/s and ETA on a TTY', async () => {
    const tty = fakeTty();
    const p = new Progress({ enabled: true, stream: tty });
    p.start('sharding', 2_000_000, 'rows');
    await new Promise((r) => setTimeout(r, 600));
    p.update(500_000, 10e6);
    const line = tty.chunks.at(-1);
    assert.match(line, /^\r\x1b\[2Ksharding {2}25% {2}500k\/2\.0M rows {2}\d+k rows\/s {2}\d+\.\d MB\/s {2}ETA \d+s$/);
    p.stop();
    assert.equal(tty.chunks.at(-1), '\r\x1b[2K');
  });

  it('is silent unless a person watches a terminal', () => {
    const tty = fakeTty();
    const saved = process.env.CI;
    try {
      delete process.env.CI;
      assert.equal(Progress.shouldShow({ json: false, quiet: false }, tty), true);
      assert.equal(Progress.shouldShow({ json: true, quiet: false }, tty), false);
      assert.equal(Progress.shouldShow({ json: false, quiet: true }, tty), false);
      assert.equal(Progress.shouldShow({ json: false, quiet: false }, { isTTY: false }), false);
      process.env.CI = 'true';
      assert.equal(Progress.shouldShow({ json: false, quiet: false }, tty), false);
    } finally {
      if (saved === undefined) delete process.env.CI;
      else process.env.CI = saved;
    }
    const off = fakeTty();
    const p = new Progress({ enabled: false, stream: off });
    p.start('x', 10);
    p.update(5);
    p.stop();
    assert.deepEqual(off.chunks, []);
  });
});
