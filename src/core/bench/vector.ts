/**
 * `recall bench vector`: recall's HNSW / IVF / flat indexes side by side with
 * hnswlib-node and usearch in one run of the team's ANN harness
 * (../shared/tools/ann-bench), single thread, recall@10 by the ann-benchmarks
 * rule, QPS per CPU-second. Set-up on first use: Debian's
 * dataset-fashion-mnist (apt-get, as root) -> the harness's prepare-data.mjs
 * (fbin + exact ground truth); the peers' npm packages at the versions the
 * harness pins. Our indexes run through the harness's `recall-cli` adapter.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { usage } from '../errors.js';

export interface VectorBenchOptions {
  /** ../shared/tools/ann-bench */
  harness: string;
  /** Data, peer modules and raw results go here. */
  work: string;
  dataset: 'fashion' | 'synth1m';
  queries?: number;
  runs?: number;
  /** The recall CLI the harness runs (bin/run.js). */
  recallBin: string;
}

export interface CurvePoint {
  search: unknown;
  recall: number;
  qps: number;
  build_cpu_s: number | null;
  index_mb: number | null;
  index_disk_mb: number | null;
}

export interface VectorBenchSummary {
  label: string;
  curve: CurvePoint[];
  qps_at_095: number;
  qps_at_099: number;
  max_recall: number;
  build_cpu_s: number | null;
  index_disk_mb: number | null;
  index_mb: number | null;
}

export interface VectorBenchResult {
  bench: 'vector';
  dataset: string;
  queries: number;
  runs: number;
  date: string;
  summary: VectorBenchSummary[];
  ratios: Record<string, number | null>;
}

function sh(cmd: string, args: string[], opts: Parameters<typeof spawnSync>[2] = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status})`);
}

interface Spec {
  adapter: string;
  label: string;
  build: Record<string, unknown>;
  search: Record<string, unknown>[];
  maxQueries: number;
}

interface ResultLine {
  label: string;
  search: unknown;
  recall?: number;
  qps?: number;
  build_cpu_s?: number;
  index_mb?: number;
  index_disk_mb?: number;
}

/** Fetch what the run needs the first time: the data set with its ground truth, and the peers. */
function setUp(o: VectorBenchOptions, dataDir: string, modules: string) {
  if (!existsSync(join(dataDir, 'gt.i32'))) {
    if (o.dataset === 'fashion') {
      if (!existsSync('/usr/share/datasets/fashion-mnist')) sh('apt-get', ['install', '-y', '-qq', 'dataset-fashion-mnist']);
      sh(process.execPath, [join(o.harness, 'prepare-data.mjs'), 'fashion', '--out', dataDir]);
    } else {
      sh(process.execPath, [
        join(o.harness, 'prepare-data.mjs'),
        'synthetic',
        '--out',
        dataDir,
        '--n',
        '1000000',
        '--dim',
        '128',
        '--queries',
        '1000',
      ]);
    }
  }
  if (!existsSync(join(modules, 'node_modules/usearch')) || !existsSync(join(modules, 'node_modules/hnswlib-node'))) {
    const pins = JSON.parse(readFileSync(join(o.harness, 'package.json'), 'utf8')).optionalDependencies as Record<string, string>;
    mkdirSync(modules, { recursive: true });
    writeFileSync(join(modules, 'package.json'), '{"private":true}\n');
    sh('npm', ['install', '--no-audit', '--no-fund', '--prefix', modules, ...Object.entries(pins).map(([n, v]) => `${n}@${v}`)]);
  }
}

function specsFor(dataset: string, queries: number): Spec[] {
  const efs = dataset === 'fashion' ? [10, 15, 20, 30, 40, 80, 160] : [10, 20, 40, 80, 160, 320];
  const efC = dataset === 'fashion' ? 200 : 100;
  const nlist = dataset === 'fashion' ? 1024 : 4096;
  const peer = (adapter: string, label: string, build: Record<string, unknown>): Spec => ({
    adapter,
    label,
    build: { M: 16, efC, ...build },
    search: efs.map((ef) => ({ ef })),
    maxQueries: queries,
  });
  // Builds use both cores (the bytes do not depend on it); searches one thread, like the peers.
  const ours = (label: string, type: string, quant: string, buildArgs: string[], search: string[][]): Spec => ({
    adapter: 'recall-cli',
    label,
    build: { type, quant, buildArgs: [...buildArgs, '--threads', '2'] },
    search: search.map((a) => ({ searchArgs: [...a, '--threads', '1'] })),
    maxQueries: queries,
  });
  const hnsw = ['--m', '16', '--ef-construction', String(efC)];
  const sweep = (rerank = false) => efs.map((ef) => ['--ef', String(ef), ...(rerank ? ['--rerank', String(Math.max(20, ef))] : [])]);
  return [
    peer('hnswlib-node', 'hnswlib-node M16', {}),
    peer('usearch', 'usearch f32 M16', { quant: 'f32' }),
    peer('usearch', 'usearch f16 M16', { quant: 'f16' }),
    ours('recall hnsw f32', 'hnsw', 'f32', hnsw, sweep()),
    ours('recall hnsw f16', 'hnsw', 'f16', hnsw, sweep()),
    ours('recall hnsw int8+rerank', 'hnsw', 'int8', [...hnsw, '--rerank'], sweep(true)),
    ours(
      'recall ivf f32',
      'ivf',
      'f32',
      ['--nlist', String(nlist)],
      [4, 8, 16, 32, 64].map((np) => ['--nprobe', String(np)]),
    ),
    ours('recall flat f32 (batched)', 'flat', 'f32', [], [[]]),
  ];
}

const round1 = (x: number | undefined) => (x === undefined || x === null ? null : Math.round(x * 10) / 10);

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
      index_mb: round1(r.index_mb),
      index_disk_mb: round1(r.index_disk_mb),
    }));
}

export function runVectorBench(o: VectorBenchOptions): VectorBenchResult {
  const { harness, work, dataset } = o;
  if (!existsSync(join(harness, 'bench.mjs')))
    throw usage('ERR_RECALL_NO_TOOLS', `${harness}: the ANN harness (bench.mjs) is not there`, {
      file: harness,
      fix: 'check out ../shared beside the repository, or pass --harness',
    });
  const queries = o.queries ?? (dataset === 'fashion' ? 10000 : 1000);
  const runs = o.runs ?? 2;
  mkdirSync(work, { recursive: true });
  const dataDir = join(work, dataset);
  const modules = join(work, 'modules');
  setUp(o, dataDir, modules);
  const config = join(work, `${dataset}-config.json`);
  writeFileSync(config, JSON.stringify({ k: 10, runs, baseline: 'hnswlib-node M16', specs: specsFor(dataset, queries) }, null, 1));
  const out = join(work, `${dataset}-results.jsonl`);
  rmSync(out, { force: true });
  sh(
    process.execPath,
    [
      join(harness, 'bench.mjs'),
      '--data',
      dataDir,
      '--config',
      config,
      '--modules',
      join(modules, 'node_modules'),
      '--out',
      out,
      '--runs',
      String(runs),
      '--timeout',
      '1800',
    ],
    {
      env: { ...process.env, RECALL_BIN: o.recallBin },
    },
  );
  const rows = (
    readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l)) as ResultLine[]
  ).filter((r) => r.recall !== undefined && r.qps);
  const qpsAt = (c: CurvePoint[], target: number) => Math.max(0, ...c.filter((p) => p.recall >= target).map((p) => p.qps));
  const summary: VectorBenchSummary[] = [...new Set(rows.map((r) => r.label))].map((label) => {
    const c = curveOf(rows, label);
    return {
      label,
      curve: c,
      qps_at_095: qpsAt(c, 0.95),
      qps_at_099: qpsAt(c, 0.99),
      max_recall: Math.max(...c.map((p) => p.recall)),
      build_cpu_s: c[0]?.build_cpu_s ?? null,
      index_disk_mb: c[0]?.index_disk_mb ?? null,
      index_mb: c[0]?.index_mb ?? null,
    };
  });
  // The peers to beat: f32 (f16 rows are compared with f32 peers too).
  const f32Peers = summary.filter((s) => !s.label.startsWith('recall') && !s.label.includes('f16'));
  const bestPeer = (field: 'qps_at_095' | 'qps_at_099') => Math.max(0, ...f32Peers.map((s) => s[field]));
  const get = (label: string) => summary.find((s) => s.label === label);
  const ratio = (a: number | undefined, b: number) => (a && b ? +(a / b).toFixed(2) : null);
  const ratios = {
    f32_hnsw_vs_best_f32_peer_at_095: ratio(get('recall hnsw f32')?.qps_at_095, bestPeer('qps_at_095')),
    f32_hnsw_vs_best_f32_peer_at_099: ratio(get('recall hnsw f32')?.qps_at_099, bestPeer('qps_at_099')),
    f16_hnsw_vs_best_f32_peer_at_095: ratio(get('recall hnsw f16')?.qps_at_095, bestPeer('qps_at_095')),
    f16_hnsw_vs_best_f32_peer_at_099: ratio(get('recall hnsw f16')?.qps_at_099, bestPeer('qps_at_099')),
    int8_rerank_vs_best_f32_peer_at_099: ratio(get('recall hnsw int8+rerank')?.qps_at_099, bestPeer('qps_at_099')),
    ivf_f32_vs_best_f32_peer_at_099: ratio(get('recall ivf f32')?.qps_at_099, bestPeer('qps_at_099')),
  };
  return { bench: 'vector', dataset, queries, runs, date: new Date().toISOString(), summary, ratios };
}

/** The summary as a Markdown table. */
export function vectorBenchMarkdown(r: VectorBenchResult): string {
  const lines = ['| index | QPS @0.95 | QPS @0.99 | max recall | build CPU-s | disk MB |', '|---|---|---|---|---|---|'];
  for (const s of r.summary)
    lines.push(
      `| ${s.label} | ${s.qps_at_095} | ${s.qps_at_099} | ${s.max_recall.toFixed(4)} | ${s.build_cpu_s ?? '-'} | ${s.index_disk_mb ?? '-'} |`,
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
        `<tr><td>${esc(s.label)}</td><td>${s.qps_at_095}</td><td>${s.qps_at_099}</td><td>${s.max_recall.toFixed(4)}</td><td>${s.build_cpu_s ?? '-'}</td><td>${s.index_disk_mb ?? '-'}</td></tr>`,
    )
    .join('');
  return `<!doctype html><meta charset="utf-8"><title>recall bench vector: ${esc(r.dataset)}</title>
<h1>recall@10 vs QPS: ${esc(r.dataset)} (${r.queries} queries, single thread, best of ${r.runs})</h1>${svg}
<table border="1" cellpadding="4"><tr><th>index</th><th>QPS @0.95</th><th>QPS @0.99</th><th>max recall</th><th>build CPU-s</th><th>disk MB</th></tr>${table}</table>
<pre>${esc(JSON.stringify(r.ratios, null, 2))}</pre>`;
}
