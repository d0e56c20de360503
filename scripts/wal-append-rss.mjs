#!/usr/bin/env node
// Peak memory of `wal append` against its input size (the append streams: memory must not grow with it).
//   node scripts/wal-append-rss.mjs --generate FILE --mb 200     write ~200 MB of 32-dim vector upserts
//   node scripts/wal-append-rss.mjs --append FILE --wal DIR       append it; prints {records, inputMB, baselineMB, peakMB, growthMB}
// Runs against dist/ (npm run build first). The WAL is written with fsync off and removed afterwards.
import { createWriteStream, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: { generate: { type: 'string' }, mb: { type: 'string', default: '200' }, append: { type: 'string' }, wal: { type: 'string' } },
});

if (a.generate) {
  const out = createWriteStream(a.generate);
  const target = Number(a.mb) * 1e6;
  let bytes = 0;
  for (let id = 0; bytes < target; id++) {
    const v = Array.from({ length: 32 }, (_, j) => +(Math.sin(id * 31 + j) * 0.5).toFixed(6));
    const line = `${JSON.stringify({ op: 'upsert', id, vector: v })}\n`;
    bytes += line.length;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
} else if (a.append && a.wal) {
  const { appendWal } = await import('../dist/core/wal/append.js');
  const { loadNative } = await import('../dist/core/native.js');
  loadNative();
  const mb = (kb) => Math.round(kb / 1024);
  const baseline = process.resourceUsage().maxRSS;
  const r = await appendWal({ wal: a.wal, channel: 'vector', input: a.append, fsync: 'off' });
  const peak = process.resourceUsage().maxRSS;
  rmSync(a.wal, { recursive: true, force: true });
  const result = {
    records: r.records,
    inputMB: Math.round(statSync(a.append).size / 1e6),
    baselineMB: mb(baseline),
    peakMB: mb(peak),
    growthMB: mb(peak - baseline),
    appendMs: Math.round(r.appendMs),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  process.stderr.write('usage: wal-append-rss.mjs --generate FILE [--mb N] | --append FILE --wal DIR\n');
  process.exit(2);
}
