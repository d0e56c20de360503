// The profile store under stress: many files at once, killed ingests' leftovers, concurrent
// regression scans. Inputs come from test/helpers/profile-series.mjs (perf text, no recall output).
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ingest } from '../dist/core/profile/store/ingest.js';
import { StoreReader } from '../dist/core/profile/store/query.js';
import { scratchDir } from './helpers/cli.mjs';
import { mulberry32, perfText, sharesAt } from './helpers/profile-series.mjs';

const dir = scratchDir('profile-store-safety');
after(() => rmSync(dir, { recursive: true, force: true }));

/** `n` pod files of perf text, `samples` events each. */
function pods(name, n, samples, seed = 1) {
  const rnd = mulberry32(seed);
  const out = join(dir, name);
  mkdirSync(out, { recursive: true });
  return Array.from({ length: n }, (_, k) => {
    const f = join(out, `pod-${k}.perf.txt`);
    writeFileSync(f, perfText(sharesAt(0, []), samples, rnd, 0.02));
    return f;
  });
}

describe('profile store: many files', () => {
  it('ingesting and reading 12 files (parsed on worker threads, one abort signal) prints no listener warning', async () => {
    // 12 x ~1.5 MB: past the size where files are parsed on worker threads.
    const files = pods('many', 12, 7500);
    const warnings = [];
    const onWarning = (w) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const ac = new AbortController();
      const r = await ingest(files, { store: join(dir, 'many-store'), labels: { app: 'svc', version: '1' } }, { read: {}, signal: ac.signal, threads: 2 });
      assert.equal(r.added.length, 12);
      const reader = await StoreReader.open(join(dir, 'many-store'));
      try {
        assert.equal((await reader.pods(reader.profiles)).length, 12);
      } finally {
        reader.dispose();
      }
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings, []);
  });
});
