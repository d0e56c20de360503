// recall's engine for `recall bench inverted`: the same protocol as text-engine.mjs beside it
// (corpus loaded first, then build timed; 100 warm-up queries per class, then all timed; CPU from
// process.cpuUsage), one query per call through the synchronous native entry point.
//   node --expose-gc scripts/bench-tools/text-recall.mjs <dataDir> <variant: recall | recall-pairs> [maxDocs]
import fs from 'node:fs';
import { cpu, gc, loadCorpus, MB, mem, timeQueryClasses } from './text-protocol.mjs';
import { join } from 'node:path';
import { makeAnalyzer } from '../../dist/core/channels/text/analyzer.js';
import { packTexts } from '../../dist/core/channels/text/input.js';
import { loadNative, textQueryBuffer } from '../../dist/core/native.js';

const [dir, variant = 'recall', maxDocsArg] = process.argv.slice(2);
const maxDocs = maxDocsArg ? +maxDocsArg : Infinity;
const pairs = variant === 'recall-pairs' ? 'cooc' : 'off';
let { docs, textBytes, queries: Q } = loadCorpus(dir, maxDocs);
gc();
const memBase = mem();
const native = loadNative();
const file = join(dir, 'bench-out', `${variant}.rti`);
fs.mkdirSync(join(dir, 'bench-out'), { recursive: true });

const t0 = process.hrtime.bigint();
const c0 = cpu();
const an = makeAnalyzer('standard');
const ids = BigUint64Array.from(docs, (d) => BigInt(d.id));
const field = packTexts(
  docs.map((d) => d.text),
  an.prepareDoc,
  'corpus',
);
const stats = await native.textBuild(
  file,
  {},
  '{}',
  { ids, fields: [{ name: 'text', weight: 1, ...field }] },
  { segmentation: an.segmentation, maxTokenBytes: 255, analyzer: an.description, pairs, threads: 1 },
);
const h = native.textOpen(file);
const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
const buildCpuS = cpu() - c0;
const nDocs = docs.length;
docs = null;
gc();
const memIndex = mem() - memBase;
const out = {
  lib: variant,
  docs: nDocs,
  textMB: MB(textBytes),
  buildS: +(buildMs / 1000).toFixed(2),
  buildCpuS: +buildCpuS.toFixed(2),
  nativeBuildCpuS: +stats.buildCpuSeconds.toFixed(2),
  docsPerS: Math.round(nDocs / (buildMs / 1000)),
  heapIndexMB: MB(memIndex),
  indexMemoryMB: MB(native.textInfo(h).memoryBytes),
  rssMB: MB(process.memoryUsage().rss),
  pairs: stats.pairs,
};
// textQueryInto writes the top ids, scores and hit count into one caller-owned buffer: the
// result object is reused too, so a query allocates nothing but its query string (as an
// application calling it in a loop would do)
const out10 = textQueryBuffer(10);
const result = { ids: out10.ids, n: 0, hits: 0 };
const search = (terms, mode) => {
  result.n = native.textQueryInto(h, terms.join(mode === 'AND' ? ' AND ' : ' OR '), 10, 0, out10.bytes);
  result.hits = out10.meta[0];
  return result;
};
timeQueryClasses(Q, search, out);
out.serializedMB = MB(fs.statSync(file).size);
out.peakRssMB = MB(process.resourceUsage().maxRSS * 1024);
const top5 = (r) => Array.from(r.ids.slice(0, Math.min(5, r.n)), Number);
out.sample = { q1: top5(search(Q.q1[0], 'OR')), and2: top5(search(Q.q2and[0], 'AND')) };
console.log(JSON.stringify(out));
