#!/usr/bin/env node
// `npm run demo`: the main job on the shipped fixtures, step by step, each
// step a real `recall` command (output in demo-out/, rebuilt every run).
// Later channels add their steps here.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'demo-out');
rmSync(out, { recursive: true, force: true });
const steps = [
  ['shard the events by user', ['shard', '-i', 'fixtures/parquet/events.parquet', '-k', 'user_id', '-n', '4', '-o', 'demo-out/shards/events']],
  ['shard the item-to-item lists by item', ['shard', '-i', 'fixtures/parquet/x2i-lists.parquet', '-k', 'item_id', '-n', '2', '-o', 'demo-out/shards/x2i']],
  ['build the x2i channel from the shards', ['build', 'x2i', '-i', 'demo-out/shards/x2i', '-k', 'item_id', '--neighbors', 'neighbors', '--scores', 'scores', '--top-k', '20', '-o', 'demo-out/index/x2i']],
  ['query it', ['query', 'x2i', '--index', 'demo-out/index/x2i', '--keys', '1,2,3,424242', '--top', '5']],
  ['inspect one index file', ['inspect', 'demo-out/index/x2i/v00000001/shard-00000-of-00002.rx2i']],
  ['verify everything built', ['verify', 'demo-out/index/x2i']],
  ['append incremental updates to a write-ahead log', ['wal', 'append', '--wal', 'demo-out/wal', '--channel', 'x2i', '--input', 'fixtures/wal/x2i-updates.jsonl']],
  ['query the index with the WAL tail merged (key 2 is deleted, 424242 is new)', ['query', 'x2i', '--index', 'demo-out/index/x2i', '--wal', 'demo-out/wal', '--keys', '1,2,3,424242', '--top', '5']],
  ['dump the WAL into a delta version', ['dump', '--index', 'demo-out/index/x2i', '--wal', 'demo-out/wal', '--delta']],
  ['the new version answers by itself (base + delta layers)', ['query', 'x2i', '--index', 'demo-out/index/x2i', '--keys', '1,2,3,424242', '--top', '5']],
  ['a consistent older view: as of seq 0, before the updates', ['query', 'x2i', '--index', 'demo-out/index/x2i', '--wal', 'demo-out/wal', '--as-of', '0', '--keys', '1,2,3,424242', '--top', '5']],
  ['fold base and delta into a major version, keeping the two newest', ['dump', '--index', 'demo-out/index/x2i', '--wal', 'demo-out/wal', '--keep', '2']],
  ['inspect the WAL', ['wal', 'inspect', '--wal', 'demo-out/wal']],
  ['verify the x2i versions', ['verify', 'demo-out/index/x2i']],
  ['build the vector channel (HNSW, int8 + f32 re-rank rows)', ['build', 'vector', '-i', 'fixtures/parquet/embeddings.parquet', '--id', 'item_id', '--vector', 'embedding', '--type', 'hnsw', '--quant', 'int8', '--rerank', '-o', 'demo-out/index/vector']],
  ['search it with its own rows as queries', ['query', 'vector', '--index', 'demo-out/index/vector', '--queries', 'fixtures/parquet/embeddings.parquet', '--vector', 'embedding', '--k', '5', '--rerank', '20']],
  ['verify the vector index', ['verify', 'demo-out/index/vector']],
  ['build the text channel (WordNet entries; headword weighted 2x, co-occurrence pairs)', ['build', 'inverted', '-i', 'fixtures/parquet/wordnet-3000.parquet', '--id', 'id', '--text', 'headword,text', '--field-weights', '2,1', '--pairs', 'cooc', '--pair-min-df', '50', '-o', 'demo-out/index/text']],
  ['search it', ['query', 'inverted', '--index', 'demo-out/index/text', '--q', 'acid AND (amino OR fatty)', '--k', '5']],
  ['verify the text index', ['verify', 'demo-out/index/text']],
  ['hash-table lookups against their anchors (small table)', ['bench', 'hash', '--slots', '18', '--reps', '3']],
  [
    'diff base against head CPU profiles (2 pods each; the head has a known regression: exit 4)',
    ['profile', 'diff', '--base', 'fixtures/profiles/base/pod-1.perf.txt.gz', 'fixtures/profiles/base/pod-2.perf.txt.gz', '--head', 'fixtures/profiles/head/pod-1.perf.txt.gz', 'fixtures/profiles/head/pod-2.perf.txt.gz', '-o', 'demo-out/profile/diff.html', '--json-out', 'demo-out/profile/summary.json', '--md-out', 'demo-out/profile/summary.md'],
    4,
  ],
];
for (const [what, args, expected = 0] of steps) {
  console.log(`\n== ${what}: recall ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [join(root, 'bin/run.js'), ...args], { cwd: root, stdio: 'inherit' });
  if (r.status !== expected) {
    console.error(`demo: step failed (exit ${r.status}): recall ${args.join(' ')}`);
    process.exit(r.status ?? 1);
  }
}
