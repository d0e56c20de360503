#!/usr/bin/env node
// `npm run bench -- vector` (also `recall bench vector`): recall's vector indexes side by side with
// hnswlib-node, usearch and faiss (when python3 imports it) in one run (src/core/bench/vector.ts).
// Writes bench/results/vector-<dataset>.json and .html (the recall-vs-QPS plot).
//   node bench/vector.mjs [--data fashion|synth1m|synth200k|tiny] [--runs N] [--rounds N | --search-rounds N] [--only LABEL]... (rows by their summary label)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCacheDir } from '../dist/core/bench/peers.js';
import { runVectorBench, vectorBenchHtml, vectorBenchMarkdown } from '../dist/core/bench/vector.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const dataset = arg('data') ?? 'fashion';
const only = process.argv.flatMap((a, i) => (process.argv[i - 1] === '--only' ? [a] : []));
const r = await runVectorBench({
  work: join(root, 'bench/data/ann'),
  cache: benchCacheDir(),
  dataset,
  runs: arg('runs') ? Number(arg('runs')) : undefined,
  rounds: arg('rounds') ? Number(arg('rounds')) : undefined,
  searchRounds: arg('search-rounds') ? Number(arg('search-rounds')) : undefined,
  only,
  onProgress: (m) => console.error(`# ${m}`),
});
mkdirSync(join(root, 'bench/results'), { recursive: true });
// A run of some rows does not replace the full run's files.
const name = `vector-${dataset}${only.length ? '-partial' : ''}`;
writeFileSync(join(root, `bench/results/${name}.json`), `${JSON.stringify(r, null, 2)}\n`);
writeFileSync(join(root, `bench/results/${name}.html`), vectorBenchHtml(r));
console.log(`\n${vectorBenchMarkdown(r)}`);
for (const n of r.notes) console.log(`note: ${n}`);
