/**
 * `recall bench vector`: recall's HNSW / IVF / flat indexes side by side with hnswlib-node,
 * usearch and faiss, single-threaded search, recall@10 by the ann-benchmarks rule, QPS per
 * CPU-second. Everything it needs is in the package: the data sets (`ann-data.ts`: Fashion-MNIST
 * from Debian's dataset-fashion-mnist, or seeded synthetic sets, with exact ground truth), one
 * process per index (`scripts/bench-tools/ann-run.mjs`; faiss through `ann-faiss.py` when
 * `import faiss` works in python3, else skipped with a note), the npm peers installed into the
 * cache on first use. It never installs system packages.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AnnDataset, prepareAnnData } from './ann-data.js';
import { ensurePeers } from './peers.js';
import { usage } from '../errors.js';

const tools = fileURLToPath(new URL('../../../scripts/bench-tools/', import.meta.url));
/** The npm peers' versions. */
const PEERS = { 'hnswlib-node': '3.0.0', usearch: '2.25.3' };

export type VectorDataset = 'fashion' | 'synth1m' | 'synth200k' | 'tiny';

export interface VectorBenchOptions {
  /** Data sets go here (made the first time). */
  work: string;
  /** The cache the npm peers are installed into (`<cache>/peers`). */
  cache: string;
  dataset: VectorDataset;
  /** Fashion-MNIST's folder (default: Debian's). */
  fashionDir?: string;
  runs?: number;
  /**
   * Every row built and measured this many times, in the opposite order each round, the best of
   * all kept (default 1): the machine's speed drifts over minutes, and rows measured minutes apart
   * carry that drift into their ratios.
   */
  rounds?: number;
  /**
   * Build every row once and save it, then search it in this many fresh processes per row, the
   * rows in the opposite order each round, the best kept (default 0: each row searched in the
   * process that built it). Search ratios then rest on several processes per side taken close
   * together, without paying for a build each time; the build figures come from the one build.
   */
  searchRounds?: number;
  /** Engines to run: recall, hnswlib-node, usearch, faiss (default: all). */
  engines?: string[];
  /** Rows to run, by label (e.g. "faiss HNSW16", "recall hnsw f32"; default: every row of the engines). */
  only?: string[];
  onProgress?: (line: string) => void;
}

export interface CurvePoint {
  search: unknown;
  recall: number;
  qps: number;
  build_cpu_s: number | null;
  build_wall_s: number | null;
  index_mb: number | null;
  index_disk_mb: number | null;
  /** Resident MB above the loaded data once this setting's searches ran (mapped sections paged in). */
  rss_after_search_mb: number | null;
  /** sha256 (16 hex digits) of the ids found, where the engine's runner reports it (not faiss). */
  ids_digest: string | null;
}

export interface VectorBenchSummary {
  label: string;
  curve: CurvePoint[];
  qps_at_095: number;
  qps_at_099: number;
  max_recall: number;
  build_cpu_s: number | null;
  build_wall_s: number | null;
  index_disk_mb: number | null;
  index_mb: number | null;
  /** The most resident MB over the sweep (its last, widest searches). */
  rss_after_search_mb: number | null;
}

export interface VectorBenchResult {
  bench: 'vector';
  dataset: string;
  queries: number;
  runs: number;
  rounds: number;
  searchRounds: number;
  date: string;
  summary: VectorBenchSummary[];
  ratios: Record<string, number | null>;
  /** Peers skipped, and why. */
  notes: string[];
}

interface Spec {
  engine: 'recall' | 'hnswlib-node' | 'usearch' | 'faiss';
  label: string;
  build: Record<string, unknown>;
  search: Record<string, unknown>[];
  runs: number;
  /** Build, save the index here, print the build figures and stop. */
  saveTo?: string;
  /** Search the index saved here instead of building one. */
  loadFrom?: string;
}

interface ResultLine {
  label: string;
  search: unknown;
  recall?: number;
  qps?: number;
  build_cpu_s?: number | null;
  build_wall_s?: number | null;
  index_mb?: number;
  index_disk_mb?: number;
  rss_after_search_mb?: number;
  ids_digest?: string;
}

const DATASETS: Record<VectorDataset, (o: VectorBenchOptions) => AnnDataset> = {
  fashion: (o) => ({ kind: 'fashion', src: o.fashionDir }),
  synth1m: () => ({ kind: 'synthetic', n: 1_000_000, dim: 128, nq: 1000, seed: 1 }),
  synth200k: () => ({ kind: 'synthetic', n: 200_000, dim: 128, nq: 1000, seed: 1 }),
  tiny: () => ({ kind: 'synthetic', n: 3000, dim: 16, nq: 200, seed: 1 }),
};

function specsFor(dataset: VectorDataset, runs: number): Spec[] {
  // The synthetic 1M set is hard for graphs: every graph index measured 0.93-0.95 recall at ef 320
  // and 0.986-0.988 at 1280, so its sweep goes on to 2560 to reach 0.99.
  const synth = dataset === 'synth1m' || dataset === 'synth200k';
  const efs = synth ? [10, 20, 40, 80, 160, 320, 640, 1280, 2560] : [10, 15, 20, 30, 40, 80, 160];
  const efC = synth ? 100 : 200;
  const nlist = dataset === 'fashion' ? 1024 : dataset === 'synth1m' ? 4096 : dataset === 'synth200k' ? 1024 : 32;
  const probes = [4, 8, 16, 32, 64].filter((p) => p <= nlist);
  const hnsw = { m: 16, efConstruction: efC };
  const sweep = efs.map((ef) => ({ ef }));
  const s = (engine: Spec['engine'], label: string, build: Record<string, unknown>, search: Record<string, unknown>[]): Spec => ({
    engine,
    label,
    build,
    search,
    runs,
  });
  // recall builds use both cores (the bytes do not depend on it); every search runs on one thread
  return [
    s('hnswlib-node', 'hnswlib-node M16', hnsw, sweep),
    s('usearch', 'usearch f32 M16', hnsw, sweep),
    s('faiss', 'faiss HNSW16', { type: 'hnsw', ...hnsw }, sweep),
    s(
      'faiss',
      `faiss IVF${nlist},Flat`,
      { type: 'ivf', nlist },
      probes.map((nprobe) => ({ nprobe })),
    ),
    s('recall', 'recall hnsw f32', { type: 'hnsw', ...hnsw }, sweep),
    s('recall', 'recall hnsw f16', { type: 'hnsw', quant: 'f16', ...hnsw }, sweep),
    s(
      'recall',
      'recall hnsw int8+rerank',
      { type: 'hnsw', quant: 'int8', rerank: true, ...hnsw },
      // every candidate of the beam re-ranked (a floor of 20 cut the curve off at recall 0.98)
      efs.map((ef) => ({ ef, rerank: ef })),
    ),
    s(
      'recall',
      'recall ivf f32',
      { type: 'ivf', nlist },
      probes.map((nprobe) => ({ nprobe })),
    ),
    s('recall', 'recall flat f32', { type: 'flat' }, [{}]),
  ];
}

/** Whether python3 can import faiss (the faiss-cpu wheel). */
function faissAvailable(): boolean {
  return spawnSync('python3', ['-c', 'import faiss, numpy'], { stdio: 'ignore' }).status === 0;
}

function runSpec(spec: Spec, dataDir: string, peers: string, work: string): ResultLine[] {
  const r =
    spec.engine === 'faiss'
      ? spawnSync('python3', [join(tools, 'ann-faiss.py'), dataDir, JSON.stringify(spec)], { encoding: 'utf8', maxBuffer: 1 << 26 })
      : spawnSync(
          process.execPath,
          ['--expose-gc', '--max-old-space-size=12000', join(tools, 'ann-run.mjs'), dataDir, JSON.stringify(spec), peers, work],
          {
            encoding: 'utf8',
            maxBuffer: 1 << 26,
            // A search call copies its queries (31 MB for Fashion's 10,000); once such a block is freed,
            // glibc raises its mmap threshold and keeps the next ones in the heap for good, which the
            // resident figure would count as the index's. A fixed threshold returns them, as numpy's
            // arrays (passed to faiss uncopied) never need.
            env: { ...process.env, MALLOC_MMAP_THRESHOLD_: String(1 << 20) },
          },
        );
  if (r.status !== 0) throw new Error(`bench vector: ${spec.label} failed (exit ${r.status}): ${(r.stderr ?? '').slice(-2000)}`);
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ResultLine);
}

const round1 = (x: number | null | undefined) => (x === undefined || x === null ? null : Math.round(x * 10) / 10);

/** The smallest value of `field` over a row's lines (one per search setting and round), rounded. */
function least(rows: ResultLine[], label: string, field: 'build_cpu_s' | 'build_wall_s'): number | null {
  const xs = rows.filter((r) => r.label === label && typeof r[field] === 'number').map((r) => r[field]!);
  return xs.length ? round1(Math.min(...xs)) : null;
}

/** Best QPS per search setting over the runs, sorted by recall. */
function curveOf(rows: ResultLine[], label: string): CurvePoint[] {
  const best = new Map<string, ResultLine>();
  for (const r of rows.filter((x) => x.label === label)) {
    const key = JSON.stringify(r.search);
    if (!best.has(key) || best.get(key)!.qps! < r.qps!) best.set(key, r);
  }
  return [...best.values()]
    .sort((a, b) => a.recall! - b.recall!)
    .map((r) => ({
      search: r.search,
      recall: r.recall!,
      qps: Math.round(r.qps!),
      build_cpu_s: round1(r.build_cpu_s),
      build_wall_s: round1(r.build_wall_s),
      index_mb: round1(r.index_mb),
      index_disk_mb: round1(r.index_disk_mb),
      rss_after_search_mb: round1(r.rss_after_search_mb),
      ids_digest: r.ids_digest ?? null,
    }));
}

/**
 * QPS at exactly `target` recall: log QPS interpolated linearly in recall between the two points of
 * the curve's Pareto front (no other point both faster and at least as accurate) that bracket it.
 * Taking the best measured point at or above the target instead favoured whichever side's sweep
 * happened to land just above it (a doubling ef sweep overshoots by up to a step). A curve that
 * never reaches the target has 0; one that starts above it has its fastest point's QPS.
 */
export function qpsAtRecall(curve: ReadonlyArray<{ recall: number; qps: number }>, target: number): number {
  const front = [...curve]
    .sort((a, b) => b.recall - a.recall || b.qps - a.qps)
    .filter((p, i, all) => all.slice(0, i).every((q) => q.qps < p.qps))
    .reverse();
  const hi = front.findIndex((p) => p.recall >= target);
  if (hi === -1) return 0;
  const [a, b] = [front[hi - 1], front[hi]!];
  if (!a || b.recall === target) return b.qps;
  const t = (target - a.recall) / (b.recall - a.recall);
  return Math.round(Math.exp(Math.log(a.qps) + t * (Math.log(b.qps) - Math.log(a.qps))));
}

/** The row labels `only` may name for a data set. */
export const vectorBenchRows = (dataset: VectorDataset): string[] => specsFor(dataset, 1).map((s) => s.label);

export async function runVectorBench(o: VectorBenchOptions): Promise<VectorBenchResult> {
  const runs = o.runs ?? 2;
  // Checked before the data set is made (the 1M set takes minutes).
  const rowNames = vectorBenchRows(o.dataset);
  const unknown = (o.only ?? []).filter((l) => !rowNames.includes(l));
  if (unknown.length)
    throw usage('ERR_RECALL_USAGE', `--only: no row ${unknown.map((l) => JSON.stringify(l)).join(', ')} in the ${o.dataset} bench`, {
      fix: `name rows as the summary does: ${rowNames.map((l) => JSON.stringify(l)).join(', ')}`,
    });
  mkdirSync(o.work, { recursive: true });
  const dataDir = join(o.work, o.dataset);
  o.onProgress?.(`preparing ${o.dataset} (once)`);
  const meta = await prepareAnnData(dataDir, DATASETS[o.dataset](o));
  const wanted = o.engines ?? ['recall', 'hnswlib-node', 'usearch', 'faiss'];
  const notes: string[] = [];
  let specs = specsFor(o.dataset, runs).filter((s) => wanted.includes(s.engine) && (!o.only?.length || o.only.includes(s.label)));
  if (specs.some((s) => s.engine === 'faiss') && !faissAvailable()) {
    notes.push('faiss skipped: python3 cannot import faiss and numpy (pip install faiss-cpu)');
    specs = specs.filter((s) => s.engine !== 'faiss');
  }
  const peers = ensurePeers(
    o.cache,
    Object.fromEntries(Object.entries(PEERS).filter(([name]) => specs.some((s) => s.engine === name))),
    o.onProgress,
  );
  const rounds = o.rounds ?? 1;
  const searchRounds = o.searchRounds ?? 0;
  if (rounds > 1 && searchRounds > 0)
    throw usage('ERR_RECALL_USAGE', '--rounds and --search-rounds cannot be combined', {
      fix: 'pass --rounds to repeat whole builds, or --search-rounds to build once and repeat the searches',
    });
  const rows: ResultLine[] = [];
  const builds: ResultLine[] = [];
  const isSearch = (r: ResultLine) => r.recall !== undefined && !!r.qps;
  const ordered = (round: number) => (round % 2 ? [...specs].reverse() : specs);
  if (searchRounds > 0) {
    const saved = mkdtempSync(join(o.work, 'saved-'));
    try {
      const file = (i: number) => join(saved, `row-${i}.index`);
      for (const [i, spec] of specs.entries()) {
        o.onProgress?.(`${spec.label} (build)`);
        builds.push(...runSpec({ ...spec, saveTo: file(i) }, dataDir, peers, o.work));
      }
      for (let round = 0; round < searchRounds; round++)
        for (const spec of ordered(round)) {
          o.onProgress?.(`${spec.label} (search ${round + 1} of ${searchRounds})`);
          rows.push(...runSpec({ ...spec, loadFrom: file(specs.indexOf(spec)) }, dataDir, peers, o.work).filter(isSearch));
        }
    } finally {
      rmSync(saved, { recursive: true, force: true });
    }
  } else
    for (let round = 0; round < rounds; round++)
      for (const spec of ordered(round)) {
        o.onProgress?.(rounds > 1 ? `${spec.label} (round ${round + 1} of ${rounds})` : spec.label);
        rows.push(...runSpec(spec, dataDir, peers, o.work).filter(isSearch));
      }
  const queries = meta.nq;
  const dataset = o.dataset;
  const summary: VectorBenchSummary[] = [...new Set(rows.map((r) => r.label))].map((label) => {
    const c = curveOf(rows, label);
    return {
      label,
      curve: c,
      qps_at_095: qpsAtRecall(c, 0.95),
      qps_at_099: qpsAtRecall(c, 0.99),
      max_recall: Math.max(...c.map((p) => p.recall)),
      // the cheapest of the rounds' builds
      build_cpu_s: least([...rows, ...builds], label, 'build_cpu_s'),
      build_wall_s: least([...rows, ...builds], label, 'build_wall_s'),
      index_disk_mb: c[0]?.index_disk_mb ?? round1(builds.find((b) => b.label === label)?.index_disk_mb),
      index_mb: c[0]?.index_mb ?? null,
      rss_after_search_mb: c.some((p) => p.rss_after_search_mb !== null) ? Math.max(...c.map((p) => p.rss_after_search_mb ?? 0)) : null,
    };
  });
  // The peers to beat, by kind: graph indexes (hnswlib-node, usearch, faiss HNSW) and IVF (faiss).
  const peersOf = (ivf: boolean) => summary.filter((x) => !x.label.startsWith('recall') && x.label.includes('IVF') === ivf);
  const bestPeer = (ivf: boolean, field: 'qps_at_095' | 'qps_at_099') => Math.max(0, ...peersOf(ivf).map((x) => x[field]));
  const get = (label: string) => summary.find((x) => x.label === label);
  const ratio = (a: number | undefined, b: number) => (a && b ? +(a / b).toFixed(2) : null);
  const ratios: Record<string, number | null> = {};
  for (const [name, label, ivf] of [
    ['f32_hnsw', 'recall hnsw f32', false],
    ['f16_hnsw', 'recall hnsw f16', false],
    ['int8_rerank_hnsw', 'recall hnsw int8+rerank', false],
    ['f32_ivf', 'recall ivf f32', true],
  ] as const) {
    ratios[`${name}_vs_best_${ivf ? 'ivf' : 'graph'}_peer_at_095`] = ratio(get(label)?.qps_at_095, bestPeer(ivf, 'qps_at_095'));
    ratios[`${name}_vs_best_${ivf ? 'ivf' : 'graph'}_peer_at_099`] = ratio(get(label)?.qps_at_099, bestPeer(ivf, 'qps_at_099'));
  }
  // resident memory of the quantised index with its re-rank rows against faiss's f32 HNSW
  const rss = (label: string) => get(label)?.rss_after_search_mb ?? undefined;
  ratios.int8_rerank_hnsw_rss_vs_faiss_hnsw = ratio(rss('recall hnsw int8+rerank'), rss('faiss HNSW16') ?? 0);
  // recall builds on two threads, faiss on one (its wheel's OpenMP held to one thread)
  ratios.f32_hnsw_build_cpu_vs_faiss_hnsw = ratio(get('recall hnsw f32')?.build_cpu_s ?? undefined, get('faiss HNSW16')?.build_cpu_s ?? 0);
  ratios.f32_hnsw_build_wall_vs_faiss_hnsw = ratio(
    get('recall hnsw f32')?.build_wall_s ?? undefined,
    get('faiss HNSW16')?.build_wall_s ?? 0,
  );
  return { bench: 'vector', dataset, queries, runs, rounds, searchRounds, date: new Date().toISOString(), summary, ratios, notes };
}

/** The summary as a Markdown table. */
export function vectorBenchMarkdown(r: VectorBenchResult): string {
  const lines = [
    '| index | QPS @0.95 | QPS @0.99 | max recall | build CPU-s | build wall s | disk MB | resident MB |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const s of r.summary)
    lines.push(
      `| ${s.label} | ${s.qps_at_095} | ${s.qps_at_099} | ${s.max_recall.toFixed(4)} | ${s.build_cpu_s ?? '-'} | ${s.build_wall_s ?? '-'} | ${s.index_disk_mb ?? '-'} | ${s.rss_after_search_mb ?? '-'} |`,
    );
  lines.push('', ...Object.entries(r.ratios).map(([k, v]) => `- ${k}: ${v === null ? 'n/a' : `${v}x`}`));
  return lines.join('\n');
}

/** A self-contained SVG plot of the curves (log QPS over recall), as the report's HTML. */
export function vectorBenchHtml(r: VectorBenchResult): string {
  const W = 900;
  const H = 520;
  const m = { l: 70, r: 230, t: 30, b: 50 };
  const pts = r.summary.flatMap((s) => s.curve.filter((p) => p.recall >= 0.85));
  const x0 = 0.85;
  const x1 = 1.0;
  const y0 = Math.log10(Math.max(1, Math.min(...pts.map((p) => p.qps)) * 0.8));
  const y1 = Math.log10(Math.max(...pts.map((p) => p.qps)) * 1.2);
  const X = (v: number) => m.l + ((v - x0) / (x1 - x0)) * (W - m.l - m.r);
  const Y = (q: number) => H - m.b - ((Math.log10(q) - y0) / (y1 - y0)) * (H - m.t - m.b);
  const colors = ['#888', '#e08a00', '#c9b200', '#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#17becf'];
  const esc = (s: unknown) => String(s).replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`;
  for (let v = 0.85; v <= 1.0001; v += 0.05)
    svg += `<line x1="${X(v)}" x2="${X(v)}" y1="${m.t}" y2="${H - m.b}" stroke="#eee"/><text x="${X(v)}" y="${H - m.b + 16}" text-anchor="middle">${v.toFixed(2)}</text>`;
  for (let e = Math.floor(y0); e <= Math.ceil(y1); e++)
    for (const mul of [1, 2, 5]) {
      const q = mul * 10 ** e;
      if (Math.log10(q) < y0 || Math.log10(q) > y1) continue;
      svg += `<line x1="${m.l}" x2="${W - m.r}" y1="${Y(q)}" y2="${Y(q)}" stroke="#eee"/><text x="${m.l - 6}" y="${Y(q) + 4}" text-anchor="end">${q}</text>`;
    }
  svg += `<text x="${(m.l + W - m.r) / 2}" y="${H - 10}" text-anchor="middle">recall@10 (ann-benchmarks rule)</text><text transform="translate(16 ${H / 2}) rotate(-90)" text-anchor="middle">QPS per CPU-second (log)</text>`;
  r.summary.forEach((s, i) => {
    const c = s.curve.filter((p) => p.recall >= 0.85);
    const col = colors[i % colors.length];
    if (c.length)
      svg += `<polyline fill="none" stroke="${col}" stroke-width="2" points="${c.map((p) => `${X(p.recall).toFixed(1)},${Y(p.qps).toFixed(1)}`).join(' ')}"/>`;
    for (const p of c)
      svg += `<circle cx="${X(p.recall).toFixed(1)}" cy="${Y(p.qps).toFixed(1)}" r="3" fill="${col}"><title>${esc(s.label)}: recall ${p.recall}, ${p.qps} QPS, ${esc(JSON.stringify(p.search))}</title></circle>`;
    svg += `<rect x="${W - m.r + 12}" y="${m.t + i * 20}" width="12" height="12" fill="${col}"/><text x="${W - m.r + 30}" y="${m.t + i * 20 + 10}">${esc(s.label)}</text>`;
  });
  svg += '</svg>';
  const table = r.summary
    .map(
      (s) =>
        `<tr><td>${esc(s.label)}</td><td>${s.qps_at_095}</td><td>${s.qps_at_099}</td><td>${s.max_recall.toFixed(4)}</td><td>${s.build_cpu_s ?? '-'}</td><td>${s.build_wall_s ?? '-'}</td><td>${s.index_disk_mb ?? '-'}</td></tr>`,
    )
    .join('');
  return `<!doctype html><meta charset="utf-8"><title>recall bench vector: ${esc(r.dataset)}</title>
<h1>recall@10 vs QPS: ${esc(r.dataset)} (${r.queries} queries, single thread, best of ${r.runs}${r.rounds > 1 ? ` in each of ${r.rounds} rounds` : ''}${r.searchRounds > 0 ? ` in each of ${r.searchRounds} search processes` : ''})</h1>${svg}
<table border="1" cellpadding="4"><tr><th>index</th><th>QPS @0.95</th><th>QPS @0.99</th><th>max recall</th><th>build CPU-s</th><th>build wall s</th><th>disk MB</th></tr>${table}</table>
<pre>${esc(JSON.stringify(r.ratios, null, 2))}</pre>`;
}
