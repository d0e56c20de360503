// One index of `recall bench vector` per process, single-threaded search:
//   node --expose-gc ann-run.mjs <dataDir> <spec JSON> <peersDir> <workDir>
// spec: {"engine": "recall" | "hnswlib-node" | "usearch", "label", "build": {...}, "search": [{...}], "runs",
//        "saveTo"?: file, "loadFrom"?: file}
// Loads the data, builds the index (CPU time of the process), then runs every search setting
// `runs` times over all queries and keeps each setting's lowest search CPU time. Prints one JSON
// line per setting: recall@10 by the ann-benchmarks rule (a returned id counts when its distance is
// within the 10th true distance + 1e-3), QPS per CPU-second, build CPU seconds, index MB, a digest of the ids found.
// With saveTo, the process builds, saves the index there and prints one line of build figures
// (no searches); with loadFrom, it loads that saved index instead of building (no build figures).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [dataDir, specJson, peersDir, workDir] = process.argv.slice(2);
const spec = JSON.parse(specJson);
const meta = JSON.parse(fs.readFileSync(join(dataDir, 'meta.json'), 'utf8'));
const f32 = (f) => {
  const b = fs.readFileSync(join(dataDir, f));
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
};
const base = f32('base.f32');
const queries = f32('queries.f32');
const gtb = fs.readFileSync(join(dataDir, 'gt.i32'));
const gt = new Int32Array(gtb.buffer, gtb.byteOffset, gtb.byteLength / 4);
const { n, dim, nq, k } = meta;
const requirePeer = createRequire(join(peersDir, 'package.json'));
const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};
const MB = (b) => +(b / 1048576).toFixed(1);
const dist = (q, id) => {
  let s = 0;
  for (let j = 0; j < dim; j++) {
    const d = queries[q * dim + j] - base[id * dim + j];
    s += d * d;
  }
  return Math.sqrt(s);
};

function recallAt10(ids) {
  let hit = 0;
  for (let q = 0; q < nq; q++) {
    const limit = dist(q, gt[q * k + k - 1]) + 1e-3;
    const seen = new Set();
    for (let j = 0; j < k; j++) {
      const id = ids[q * k + j];
      if (id < 0 || id >= n || seen.has(id)) continue;
      seen.add(id);
      if (dist(q, id) <= limit) hit++;
    }
  }
  return hit / (nq * k);
}

// engine: build(params) -> { search(params) -> Int32Array of nq * k ids, bytes() -> index size }
const engines = {
  async recall(p) {
    const native = await loadModule.recall();
    const file = spec.loadFrom ?? spec.saveTo ?? join(workDir, `ann-${process.pid}.rvec`);
    if (!spec.loadFrom)
      await native.vectorBuild(
        file,
        {},
        '{}',
        base,
        BigUint64Array.from({ length: n }, (_, i) => BigInt(i)),
        dim,
        {
          type: p.type,
          metric: 'l2',
          quant: p.quant ?? 'f32',
          m: p.m,
          efConstruction: p.efConstruction,
          nlist: p.nlist,
          keepF32: p.rerank ? 1 : 0,
          threads: p.threads ?? 2,
        },
      );
    const h = native.vectorOpen(file);
    const diskBytes = fs.statSync(file).size;
    if (!spec.loadFrom && !spec.saveTo) fs.rmSync(file, { force: true });
    return {
      // in memory before the first search, as every peer holds its index (opened, recall's rows
      // are read through the file's mapping until many searches have read them); not build time
      ready: () => native.vectorMakeResident(h),
      async search(s) {
        const r = await native.vectorSearch(h, queries, { k, ef: s.ef, nprobe: s.nprobe, rerank: s.rerank, threads: 1 });
        // the low words of the 64-bit ids (rows < 2^31; -1 stays -1): no BigInt per id, whose
        // garbage would grow the heap the resident figure counts
        const words = new Int32Array(r.ids.buffer, r.ids.byteOffset, 2 * r.ids.length);
        return { ids: Int32Array.from({ length: r.ids.length }, (_, i) => words[2 * i]), cpuS: r.searchCpuSeconds };
      },
      diskBytes,
    };
  },
  'hnswlib-node'(p) {
    const { HierarchicalNSW } = loadModule['hnswlib-node']();
    const ix = new HierarchicalNSW('l2', dim);
    if (spec.loadFrom) ix.readIndexSync(spec.loadFrom);
    else {
      ix.initIndex(n, p.m ?? 16, p.efConstruction ?? 200, 100);
      for (let i = 0; i < n; i++) ix.addPoint(Array.from(base.subarray(i * dim, (i + 1) * dim)), i);
      if (spec.saveTo) ix.writeIndexSync(spec.saveTo);
    }
    const qs = Array.from({ length: nq }, (_, q) => Array.from(queries.subarray(q * dim, (q + 1) * dim)));
    return {
      search(s) {
        ix.setEf(s.ef);
        const ids = new Int32Array(nq * k).fill(-1);
        const c0 = cpu();
        for (let q = 0; q < nq; q++) ix.searchKnn(qs[q], k).neighbors.forEach((id, j) => (ids[q * k + j] = id));
        return { ids, cpuS: cpu() - c0 };
      },
    };
  },
  usearch(p) {
    // the binding fixes expansion_search when an index is made: saved once, loaded per setting (not timed)
    const usearch = loadModule.usearch();
    const cfg = { metric: 'l2sq', dimensions: dim, connectivity: p.m ?? 16, quantization: 'f32', expansion_add: p.efConstruction ?? 200 };
    let ix = new usearch.Index({ ...cfg, expansion_search: 64 });
    const file = spec.loadFrom ?? spec.saveTo ?? join(workDir, `usearch-${process.pid}.index`);
    if (spec.loadFrom) ix.load(file);
    else {
      ix.add(
        BigUint64Array.from({ length: n }, (_, i) => BigInt(i)),
        base,
        1,
      );
      ix.save(file);
    }
    const diskBytes = fs.statSync(file).size;
    let ef = 64;
    return {
      search(s) {
        if (s.ef !== ef) {
          ix = new usearch.Index({ ...cfg, expansion_search: s.ef });
          ix.load(file);
          ef = s.ef;
        }
        const ids = new Int32Array(nq * k).fill(-1);
        const c0 = cpu();
        const r = ix.search(queries, k, 1);
        const cpuS = cpu() - c0;
        for (let i = 0; i < nq * k; i++) if (r.keys[i] < 0xffffffffn) ids[i] = Number(r.keys[i]);
        return { ids, cpuS };
      },
      diskBytes,
      cleanup: () => (spec.loadFrom || spec.saveTo ? undefined : fs.rmSync(file, { force: true })),
    };
  },
};

const engine = engines[spec.engine];
if (!engine) throw new Error(`no engine ${spec.engine}`);
/** Anonymous and file-backed resident MB (/proc/self/status): mapped index sections are file-backed. */
const rssKinds = () => {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { anon: kb('RssAnon') / 1024, file: kb('RssFile') / 1024 };
};
// garbage (the result arrays of earlier searches) is collected before each reading: the figure is
// what the index holds, as faiss's reference-counted arrays are freed at once
const rss = () => {
  globalThis.gc?.();
  return process.memoryUsage().rss;
};
// each engine's module is loaded before the first reading, as ann-faiss.py imports faiss: code is not index
const loadModule = {
  recall: async () => (await import(new URL('../../dist/core/native.js', import.meta.url))).loadNative(),
  'hnswlib-node': () => requirePeer('hnswlib-node'),
  usearch: () => requirePeer('usearch'),
};
await loadModule[spec.engine]?.();
const rss0 = rss();
const kinds0 = rssKinds();
const c0 = cpu();
const w0 = performance.now();
const ix = await engine(spec.build ?? {});
const buildCpuS = cpu() - c0;
const buildWallS = (performance.now() - w0) / 1000;
if (!spec.saveTo) await ix.ready?.();
const indexMB = MB(rss() - rss0);
if (spec.saveTo) {
  const line = {
    label: spec.label,
    engine: spec.engine,
    build_cpu_s: +buildCpuS.toFixed(2),
    build_wall_s: +buildWallS.toFixed(2),
    index_mb: indexMB,
  };
  if (ix.diskBytes !== undefined) line.index_disk_mb = MB(ix.diskBytes);
  console.log(JSON.stringify(line));
}
for (const s of spec.saveTo ? [] : spec.search) {
  let best;
  let ids;
  for (let r = 0; r < (spec.runs ?? 2); r++) {
    const got = await ix.search(s);
    ids ??= got.ids;
    if (best === undefined || got.cpuS < best) best = got.cpuS;
  }
  const line = {
    label: spec.label,
    engine: spec.engine,
    search: s,
    recall: recallAt10(ids),
    // which rows were found (the first search's), to tell two runs of one index apart
    ids_digest: createHash('sha256').update(ids).digest('hex').slice(0, 16),
    qps: nq / Math.max(best, 1e-9),
    build_cpu_s: spec.loadFrom ? null : +buildCpuS.toFixed(2),
    build_wall_s: spec.loadFrom ? null : +buildWallS.toFixed(2),
    index_mb: indexMB,
    // mapped sections (re-rank rows) are paged in by the searches: resident now, above the data
    rss_after_search_mb: MB(rss() - rss0),
    anon_after_search_mb: +(rssKinds().anon - kinds0.anon).toFixed(1),
    file_after_search_mb: +(rssKinds().file - kinds0.file).toFixed(1),
  };
  if (ix.diskBytes !== undefined) line.index_disk_mb = MB(ix.diskBytes);
  console.log(JSON.stringify(line));
}
ix.cleanup?.();
