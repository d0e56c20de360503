#!/usr/bin/env node
// `npm run bench -- inverted` (also `recall bench inverted`): the text index against the plain
// typed-array index (naive), FlexSearch and MiniSearch in one run on Debian's dict-gcide + dict-wn
// (src/core/bench/text.ts). Writes bench/results/inverted.json and .md.
//   node bench/inverted.mjs [--rounds N] [--libs naive,flexsearch,...] [--max-docs N]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCacheDir } from '../dist/core/bench/peers.js';
import { runTextBench, textBenchMarkdown } from '../dist/core/bench/text.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const r = await runTextBench({
  work: join(root, 'bench/data/text'),
  cache: benchCacheDir(),
  rounds: Number(arg('rounds') ?? 5),
  libs: (arg('libs') ?? 'naive,flexsearch,minisearch,recall,recall-pairs').split(','),
  maxDocs: arg('max-docs') ? Number(arg('max-docs')) : undefined,
  onProgress: (m) => console.error(`# ${m}`),
});
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/inverted.json'), `${JSON.stringify(r, null, 2)}\n`);
const md = textBenchMarkdown(r);
writeFileSync(join(root, 'bench/results/inverted.md'), `${md}\n`);
console.log(`\n${md}`);
