#!/usr/bin/env node
// kill -9 at many random moments of `recall x2i stream` over many input files: afterwards the
// lists (base index + WAL) equal the batch build over all files, and no (batch, key) is twice in
// the WAL. The default test runs a small version; this is the full one.
//   node scripts/x2i-stream-kill.mjs [--files 50] [--kills 20] [--algo swing] [--seed 0.17]
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadNative } from '../dist/core/native.js';
import { recall } from '../test/helpers/cli.mjs';
import { assertSameLists, build, listsOf, writeInteractions } from '../test/helpers/x2i-stream.mjs';

const { values: a } = parseArgs({
  options: {
    files: { type: 'string', default: '50' },
    kills: { type: 'string', default: '20' },
    algo: { type: 'string', default: 'swing' },
    seed: { type: 'string', default: '0.17' },
  },
});
const dir = mkdtempSync(join(tmpdir(), 'recall-stream-kill-'));
const t0 = Date.now();
try {
  const { paths, ids } = await writeInteractions(join(dir, 'in'), {
    seed: Number(a.seed),
    files: Number(a.files) + 1,
    rows: 400,
    users: 300,
    items: 200,
  });
  const src = join(dir, 'src');
  mkdirSync(src);
  for (const p of paths.slice(1)) copyFileSync(p, join(src, basename(p)));
  await build(join(dir, 'full'), paths, a.algo);
  await build(join(dir, 'base'), [paths[0]], a.algo, { keepState: join(dir, 'state') });
  const args = ['x2i', 'stream', '--index', join(dir, 'base'), '--wal', join(dir, 'wal'), '--state', join(dir, 'state')];
  args.push('--source', `dir:${src}`, '--once', '--max-batch-rows', '20');
  let rnd = 12345;
  const next = () => (rnd = (rnd * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  let kills = 0;
  let runs = 0;
  let resumedAfterAppend = 0;
  while (kills < Number(a.kills)) {
    runs++;
    const r = await recall(args, {
      onSpawn: (child) => {
        child.stdin.end();
        // once this run's first records are in the WAL, kill it 0-400 ms later: mid-stream, not at start-up
        const walSize = () => {
          try {
            return readdirSync(join(dir, 'wal')).reduce((n, f) => n + statSync(join(dir, 'wal', f)).size, 0);
          } catch {
            return 0;
          }
        };
        const before = walSize();
        const t = setInterval(() => {
          if (walSize() > before) {
            clearInterval(t);
            setTimeout(() => child.kill('SIGKILL'), next() * 400);
          }
        }, 5);
        child.on('close', () => clearInterval(t));
      },
    });
    if (/resuming: batch/.test(r.stderr)) resumedAfterAppend++;
    if (r.signal === 'SIGKILL') kills++;
    else {
      assert.equal(r.code, 0, r.stderr);
      break; // finished before its kill: everything is in
    }
  }
  const r = await recall(args);
  assert.equal(r.code, 0, r.stderr);
  if (/resuming: batch/.test(r.stderr)) resumedAfterAppend++;
  const status = JSON.parse((await recall([...args, '--json'])).stdout);
  const out = status;
  // no (batch, key) twice in the WAL
  const s = loadNative().walScan(join(dir, 'wal'), {});
  const v = new DataView(s.payloads.buffer, s.payloads.byteOffset, s.payloads.byteLength);
  const seen = new Set();
  let start = 0;
  let replayedTwice = 0;
  for (let i = 0; i < s.ops.length; i++) {
    const end = s.ends[i];
    const at = start + 12 + 12 * v.getUint32(start + 8, true);
    const tag = JSON.parse(new TextDecoder().decode(s.payloads.subarray(at + 4, end)));
    const k = `${tag.batch}/${v.getBigUint64(start, true)}`;
    if (seen.has(k)) replayedTwice++;
    seen.add(k);
    start = end;
  }
  assert.equal(replayedTwice, 0, 'a (batch, key) appended twice');
  const edges = assertSameLists(
    await listsOf(join(dir, 'base'), ids, join(dir, 'wal')),
    await listsOf(join(dir, 'full'), ids),
    'after the kills',
  );
  console.log(
    JSON.stringify({
      files: Number(a.files),
      algo: a.algo,
      runs,
      kills,
      runsResumingABatchAppendedButNotCheckpointed: resumedAfterAppend,
      walRecords: s.ops.length,
      lastRun: { batches: out.totals.batches, recovered: out.recovered },
      keys: ids.length,
      edgesCompared: edges,
      seconds: Math.round((Date.now() - t0) / 1000),
      verdict: 'lists equal the batch build; no record appended twice',
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
