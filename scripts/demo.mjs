#!/usr/bin/env node
// `npm run demo`: the main job on the shipped fixtures, step by step, each step a real `recall` command:
// shard -> build all three channels -> query -> WAL append -> dump -> query -> bench -> profile diff.
// Output in demo-out/ (rebuilt every run); the last lines say where everything is.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'demo-out');
rmSync(out, { recursive: true, force: true });
const S = 'demo-out/service';
const steps = [
  [
    'shard the events by user (recall shard on its own)',
    ['shard', '-i', 'fixtures/parquet/events.parquet', '-k', 'user_id', '-n', '4', '-o', 'demo-out/shards/events'],
  ],
  [
    'build every channel of fixtures/recall.config.json: shard the sources, build x2i, vector and text in parallel, publish a version each',
    ['build', '--config', 'fixtures/recall.config.json'],
  ],
  ['look up item-to-item lists', ['query', 'x2i', '--index', `${S}/x2i`, '--keys', '1,2,3,424242', '-k', '5']],
  [
    'search the vector index with its own rows (first 3 shown of 2000)',
    [
      'query',
      'vector',
      '--index',
      `${S}/vector`,
      '--queries',
      'fixtures/parquet/embeddings.parquet',
      '--vector',
      'embedding',
      '--k',
      '5',
      '--rerank',
      '20',
      '--json',
    ],
    0,
    true,
  ],
  ['search the text index', ['query', 'inverted', '--index', `${S}/text`, '--q', 'acid AND (amino OR fatty)', '--k', '5']],
  ['inspect one index file', ['inspect', `${S}/x2i/v00000001/shard-00000-of-00002.rx2i`]],
  [
    'append incremental updates to a write-ahead log',
    ['wal', 'append', '--wal', 'demo-out/wal', '--channel', 'x2i', '--input', 'fixtures/wal/x2i-updates.jsonl'],
  ],
  [
    'query with the WAL tail merged (key 2 is deleted, 424242 is new)',
    ['query', 'x2i', '--index', `${S}/x2i`, '--wal', 'demo-out/wal', '--keys', '1,2,3,424242', '-k', '5'],
  ],
  ['dump the WAL into a delta version', ['dump', '--index', `${S}/x2i`, '--wal', 'demo-out/wal', '--delta']],
  ['the new version answers by itself (base + delta layers)', ['query', 'x2i', '--index', `${S}/x2i`, '--keys', '1,2,3,424242', '-k', '5']],
  [
    'a consistent older view: as of seq 0, before the updates',
    ['query', 'x2i', '--index', `${S}/x2i`, '--wal', 'demo-out/wal', '--as-of', '0', '--keys', '1,2,3,424242', '-k', '5'],
  ],
  [
    'fold base and delta into a major version, keeping the two newest',
    ['dump', '--index', `${S}/x2i`, '--wal', 'demo-out/wal', '--keep', '2'],
  ],
  ['inspect the WAL', ['wal', 'inspect', '--wal', 'demo-out/wal']],
  ['verify every version built', ['verify', S]],
  ['benchmark every channel against its anchor (CI size): JSON + HTML report', ['bench', '--reps', '3', '--out', 'demo-out/bench']],
  [
    'diff base against head CPU profiles (2 pods each; the head has a known regression: exit 4)',
    [
      'profile',
      'diff',
      '--base',
      'fixtures/profiles/base/pod-1.perf.txt.gz',
      'fixtures/profiles/base/pod-2.perf.txt.gz',
      '--head',
      'fixtures/profiles/head/pod-1.perf.txt.gz',
      'fixtures/profiles/head/pod-2.perf.txt.gz',
      '-o',
      'demo-out/profile/diff.html',
      '--json-out',
      'demo-out/profile/summary.json',
      '--md-out',
      'demo-out/profile/summary.md',
    ],
    4,
  ],
];
const started = Date.now();
for (const [what, args, expected = 0, brief = false] of steps) {
  console.log(`\n== ${what}: recall ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [join(root, 'bin/run.js'), ...args], {
    cwd: root,
    stdio: brief ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
  });
  if (brief && r.status === 0) {
    const j = JSON.parse(r.stdout);
    j.ids.slice(0, 3).forEach((ids, i) => console.log(`${i}\t${ids.map((id, n) => `${id}:${j.distances[i][n]}`).join(' ')}`));
  }
  if (r.status !== expected) {
    console.error(`demo: step failed (exit ${r.status}): recall ${args.join(' ')}`);
    process.exit(r.status ?? 1);
  }
}
console.log(`
== done in ${((Date.now() - started) / 1000).toFixed(1)} s. Outputs:
  demo-out/service/{x2i,vector,text}/  index versions (CURRENT names the live one), demo-out/service/shards/ the sharded sources
  demo-out/wal/                        the write-ahead log
  demo-out/bench/bench-report.html     benchmark report (bench-result.json beside it: pass it as --baseline next time)
  demo-out/profile/diff.html           differential flame graph (summary.md / summary.json beside it)`);
