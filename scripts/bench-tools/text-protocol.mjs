// The protocol every engine of `recall bench inverted` runs under (text-engine.mjs, text-recall.mjs):
// the corpus loaded first, the build timed by the caller, then per query class 100 warm-up queries
// and all of them timed, one query per call, CPU time from process.cpuUsage.
import fs from 'node:fs';
import { join } from 'node:path';

export const gc = () => {
  global.gc();
  global.gc();
};
/** Heap, external and array-buffer bytes: what an index built in this process holds. */
export const mem = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
};
export const MB = (b) => +(b / 1048576).toFixed(1);
export const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};

/** The first maxDocs documents of `dir/corpus.jsonl`, their text bytes, and `dir/queries.json`. */
export function loadCorpus(dir, maxDocs = Number.POSITIVE_INFINITY) {
  const docs = [];
  for (const line of fs.readFileSync(join(dir, 'corpus.jsonl'), 'utf8').split('\n')) {
    if (!line || docs.length >= maxDocs) continue;
    const d = JSON.parse(line);
    docs.push({ id: d.id, text: d.text });
  }
  const textBytes = docs.reduce((a, d) => a + Buffer.byteLength(d.text), 0);
  return { docs, textBytes, queries: JSON.parse(fs.readFileSync(join(dir, 'queries.json'), 'utf8')) };
}

/** Times every query class through `search(terms, 'AND' | 'OR') -> { hits }` into `out` (hits < 0: not counted). */
export function timeQueryClasses(queries, search, out) {
  for (const [name, qs, mode] of [
    ['q1', queries.q1, 'OR'],
    ['and2', queries.q2and, 'AND'],
    ['or2', queries.q2or, 'OR'],
  ]) {
    for (const q of qs.slice(0, 100)) search(q, mode);
    const lat = [];
    let hits = 0;
    const t1 = process.hrtime.bigint();
    const qc0 = cpu();
    for (const q of qs) {
      const s = process.hrtime.bigint();
      const r = search(q, mode);
      lat.push(Number(process.hrtime.bigint() - s) / 1e3);
      hits += r.hits;
    }
    const wall = Number(process.hrtime.bigint() - t1) / 1e9;
    const qcpu = cpu() - qc0;
    lat.sort((a, b) => a - b);
    out[name] = {
      n: qs.length,
      qps: Math.round(qs.length / wall),
      cpuUsPerQ: Math.round((qcpu * 1e6) / qs.length),
      p50us: Math.round(lat[Math.floor(lat.length * 0.5)]),
      p99us: Math.round(lat[Math.floor(lat.length * 0.99)]),
      meanHits: hits < 0 ? null : Math.round(hits / qs.length),
    };
  }
}
