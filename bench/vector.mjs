#!/usr/bin/env node
// `npm run bench -- vector` (also `recall bench vector`): recall's vector indexes side by side with
// hnswlib-node, usearch and faiss (when python3 imports it) in one run (src/core/bench/vector.ts).
// Writes bench/results/vector-<dataset>.json and .html (the recall-vs-QPS plot).
//   node bench/vector.mjs [--data fashion|synth1m|synth200k|tiny] [--runs N]
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
const r = await runVectorBench({
  work: join(root, 'bench/data/ann'),
  cache: benchCacheDir(),
  dataset,
  runs: arg('runs') ? Number(arg('runs')) : undefined,
  onProgress: (m) => console.error(`# ${m}`),
});
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, `bench/results/vector-${dataset}.json`), `${JSON.stringify(r, null, 2)}\n`);
writeFileSync(join(root, `bench/results/vector-${dataset}.html`), vectorBenchHtml(r));
console.log(`\n${vectorBenchMarkdown(r)}`);
for (const n of r.notes) console.log(`note: ${n}`);
