// One engine of `recall bench inverted` per process (recall's own runs in text-recall.mjs beside it):
//   node --expose-gc text-engine.mjs <engine: naive | flexsearch | minisearch> <workDir> <peersDir> [maxDocs]
// The protocol: the corpus is loaded first, then the build is timed; per query class 100 warm-up
// queries, then all of them timed one query per call, CPU time from process.cpuUsage. Prints one
// JSON line. The npm peers are resolved from peersDir (the user's cache), not from the package.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { cpu, gc, loadCorpus, MB, mem, timeQueryClasses } from './text-protocol.mjs';

const [engine, dir, peersDir, maxDocsArg] = process.argv.slice(2);
const requirePeer = createRequire(join(peersDir ?? dir, 'package.json'));
const maxDocs = maxDocsArg ? Number(maxDocsArg) : Number.POSITIVE_INFINITY;
const tokenize = (s) =>
  s
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
let { docs, textBytes, queries: Q } = loadCorpus(dir, maxDocs);
gc();
const memBase = mem();

/** Top 10 of [doc, score] pairs by score desc, doc asc, keeping only 10 at a time. */
class Top10 {
  items = [];
  hits = 0;
  push(doc, score) {
    this.hits++;
    const it = this.items;
    if (it.length === 10 && (score < it[9][1] || (score === it[9][1] && doc > it[9][0]))) return;
    let i = it.length === 10 ? 9 : it.length;
    while (i > 0 && (it[i - 1][1] < score || (it[i - 1][1] === score && it[i - 1][0] > doc))) {
      if (i < 10) it[i] = it[i - 1];
      i--;
    }
    it[i] = [doc, score];
    if (it.length > 10) it.length = 10;
  }
}

// Each engine: build(docs) -> { search(terms, 'AND' | 'OR') -> { ids, hits }, size() -> bytes }
const engines = {
  // what a plain typed-array JavaScript inverted index gives: BM25, no compression, no skipping
  naive() {
    const lists = new Map();
    const lens = new Uint16Array(docs.length);
    let total = 0;
    const tf = new Map();
    docs.forEach((d, i) => {
      const toks = tokenize(d.text);
      lens[i] = Math.min(toks.length, 65535);
      total += toks.length;
      tf.clear();
      for (const w of toks) tf.set(w, (tf.get(w) ?? 0) + 1);
      for (const [w, f] of tf) {
        let p = lists.get(w);
        if (!p) lists.set(w, (p = []));
        p.push(i, f);
      }
    });
    const post = new Map();
    for (const [w, p] of lists) {
      const n = p.length / 2;
      const ids = new Uint32Array(n);
      const f = new Uint16Array(n);
      for (let j = 0; j < n; j++) {
        ids[j] = p[2 * j];
        f[j] = Math.min(p[2 * j + 1], 65535);
      }
      post.set(w, { ids, f });
    }
    lists.clear();
    const n = docs.length;
    const avg = total / Math.max(1, n);
    const score = (l, j) => {
      const f = l.f[j];
      const idf = Math.log(1 + (n - l.ids.length + 0.5) / (l.ids.length + 0.5));
      return (idf * f * 2.2) / (f + 1.2 * (0.25 + (0.75 * lens[l.ids[j]]) / avg));
    };
    return {
      search(terms, mode) {
        const ls = terms.map((w) => post.get(w)).filter(Boolean);
        if (ls.length === 0 || (mode === 'AND' && ls.length < terms.length)) return { ids: [], hits: 0 };
        const top = new Top10();
        if (ls.length === 1) {
          const [a] = ls;
          for (let j = 0; j < a.ids.length; j++) top.push(a.ids[j], score(a, j));
        } else if (mode === 'AND') {
          const [a, b] = ls.sort((x, y) => x.ids.length - y.ids.length);
          let j = 0;
          for (let i = 0; i < a.ids.length; i++) {
            const x = a.ids[i];
            while (j < b.ids.length && b.ids[j] < x) j++;
            if (j < b.ids.length && b.ids[j] === x) top.push(x, score(a, i) + score(b, j));
          }
        } else {
          const [a, b] = ls;
          let i = 0;
          let j = 0;
          while (i < a.ids.length || j < b.ids.length) {
            const x = i < a.ids.length ? a.ids[i] : Number.POSITIVE_INFINITY;
            const y = j < b.ids.length ? b.ids[j] : Number.POSITIVE_INFINITY;
            if (x === y) top.push(x, score(a, i++) + score(b, j++));
            else if (x < y) top.push(x, score(a, i++));
            else top.push(y, score(b, j++));
          }
        }
        return { ids: top.items.map((e) => e[0]), hits: top.hits };
      },
      size() {
        let s = lens.byteLength;
        for (const [w, p] of post) s += Buffer.byteLength(w) + p.ids.byteLength + p.f.byteLength;
        return s;
      },
    };
  },
  flexsearch() {
    const { Index } = requirePeer('flexsearch');
    const ix = new Index({ tokenize: 'strict' });
    for (const d of docs) ix.add(d.id, d.text);
    return {
      search(terms, mode) {
        const ids =
          terms.length === 1 || mode === 'AND'
            ? ix.search(terms.join(' '), { limit: 10 })
            : ix.search({ query: terms[0], resolve: false }).or({ query: terms[1] }).resolve({ limit: 10 });
        return { ids, hits: -1 };
      },
      size() {
        let s = 0;
        ix.export((key, data) => {
          s += Buffer.byteLength(String(key)) + Buffer.byteLength(typeof data === 'string' ? data : JSON.stringify(data ?? ''));
        });
        return s;
      },
    };
  },
  minisearch() {
    const MiniSearch = requirePeer('minisearch');
    const ms = new (MiniSearch.default ?? MiniSearch)({ fields: ['text'], storeFields: [], tokenize, processTerm: (t) => t });
    ms.addAll(docs);
    return {
      search(terms, mode) {
        const r = ms.search(terms.join(' '), { combineWith: mode, prefix: false, fuzzy: false });
        return { ids: r.slice(0, 10).map((x) => x.id), hits: r.length };
      },
      size() {
        return Buffer.byteLength(JSON.stringify(ms));
      },
    };
  },
};
if (!engines[engine]) throw new Error(`no engine ${engine}: ${Object.keys(engines).join(', ')}`);

const t0 = process.hrtime.bigint();
const c0 = cpu();
const ix = engines[engine]();
const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
const buildCpuS = cpu() - c0;
const nDocs = docs.length;
docs = null;
gc();
const out = {
  lib: engine,
  docs: nDocs,
  textMB: MB(textBytes),
  buildS: +(buildMs / 1000).toFixed(2),
  buildCpuS: +buildCpuS.toFixed(2),
  heapIndexMB: MB(mem() - memBase),
  rssMB: MB(process.memoryUsage().rss),
};
timeQueryClasses(Q, (terms, mode) => ix.search(terms, mode), out);
out.serializedMB = MB(ix.size());
out.peakRssMB = MB(process.resourceUsage().maxRSS * 1024);
console.log(JSON.stringify(out));
