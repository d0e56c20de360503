/**
 * The `recall bench` report: one self-contained HTML file (d3 and the data
 * inlined, no network) with the figures table (median, spread, ratio to the
 * anchor, change against a baseline) and plots: HNSW recall against
 * QPS (exact search as the line to beat), throughput bars with min-max
 * whiskers (one panel per unit), and the per-query latency distributions (CDF) of the text engines.
 */
import { d3Script, embedJson, escapeHtml, REPORT_CSS } from '../io/html.js';
import type { BenchResult, Comparison } from './suite.js';

const SCRIPT = `
const data = JSON.parse(document.getElementById('recall-bench').textContent);
const W = 520, H = 300, M = { t: 20, r: 20, b: 40, l: 64 };
function frame(id, title) {
  const svg = d3.select('#' + id).append('svg').attr('width', W).attr('height', H).attr('role', 'img').attr('aria-label', title);
  svg.append('text').attr('x', M.l).attr('y', 14).style('font-size', '12px').style('font-weight', '600').text(title);
  return svg;
}
function axes(svg, x, y, xl, yl) {
  svg.append('g').attr('class', 'axis').attr('transform', 'translate(0,' + (H - M.b) + ')').call(d3.axisBottom(x).ticks(6, '~g'));
  svg.append('g').attr('class', 'axis').attr('transform', 'translate(' + M.l + ',0)').call(d3.axisLeft(y).ticks(6, '~s'));
  svg.append('text').attr('x', W / 2).attr('y', H - 6).attr('text-anchor', 'middle').style('font-size', '11px').text(xl);
  svg.append('text').attr('transform', 'rotate(-90)').attr('x', -H / 2).attr('y', 14).attr('text-anchor', 'middle').style('font-size', '11px').text(yl);
}
// 1. recall vs QPS
const pts = data.result.curves.vector;
if (pts.length) {
  const svg = frame('plot-vector', 'HNSW: recall@10 vs QPS (ef sweep, best of the repetitions); dashed: exact search');
  const qs = pts.map((p) => p.qps).concat([data.result.curves.vectorExactQps]);
  const lo = d3.min(pts, (p) => p.recall);
  const x = d3.scaleLinear().domain([Math.max(0, lo - (1 - lo) * 0.3 - 0.005), 1]).range([M.l, W - M.r - 40]);
  const y = d3.scaleLog().domain([d3.min(qs) / 1.5, d3.max(qs) * 1.5]).range([H - M.b, M.t]);
  axes(svg, x, y, 'recall@10', 'queries per CPU-second');
  svg.append('path').datum(pts).attr('fill', 'none').attr('stroke', '#3366cc').attr('stroke-width', 2).attr('d', d3.line().x((p) => x(p.recall)).y((p) => y(p.qps)));
  svg.selectAll('circle.pt').data(pts).join('circle').attr('class', 'pt').attr('r', 4).attr('fill', '#3366cc').attr('cx', (p) => x(p.recall)).attr('cy', (p) => y(p.qps));
  svg.selectAll('text.ef').data(pts).join('text').attr('class', 'ef').style('font-size', '10px').attr('x', (p) => x(p.recall) + 6).attr('y', (p) => y(p.qps) + 4).text((p) => 'ef ' + p.ef);
  svg.append('line').attr('x1', M.l).attr('x2', W - M.r).attr('y1', y(data.result.curves.vectorExactQps)).attr('y2', y(data.result.curves.vectorExactQps)).attr('stroke', '#999').attr('stroke-dasharray', '4 3');
}
// 2. throughput bars, one panel per unit (M lookups/s, QPS and M records/s never share an axis):
// median with min-max whiskers, a linear axis from 0 labelled with the unit
const bars = data.result.figures.filter((f) => /\\/s|QPS/.test(f.unit));
const units = [...new Set(bars.map((f) => f.unit))];
units.forEach((unit, u) => {
  const group = bars.filter((f) => f.unit === unit);
  const id = 'plot-throughput-' + u;
  d3.select('#plot-throughput').append('div').attr('id', id).attr('class', 'panel');
  const BM = 70;
  const svg = frame(id, unit + ' (median, min-max whiskers; blue: ours, grey: the anchor)');
  const x = d3.scaleBand().domain(group.map((f) => f.id)).range([M.l, W - M.r]).padding(0.3);
  const y = d3.scaleLinear().domain([0, d3.max(group, (f) => f.max) * 1.1]).nice().range([H - BM, M.t + 6]);
  const xa = svg.append('g').attr('class', 'axis').attr('transform', 'translate(0,' + (H - BM) + ')').call(d3.axisBottom(x).tickFormat((fid) => fid.replace(/^(hash|wal|text|vector)\\./, '')));
  xa.selectAll('text').attr('transform', 'rotate(-20)').attr('text-anchor', 'end').attr('dx', '-0.3em').attr('dy', '0.6em');
  svg.append('g').attr('class', 'axis').attr('transform', 'translate(' + M.l + ',0)').call(d3.axisLeft(y).ticks(6, '~s'));
  svg.append('text').attr('transform', 'rotate(-90)').attr('x', -(H - BM + M.t) / 2).attr('y', 14).attr('text-anchor', 'middle').style('font-size', '11px').attr('class', 'ylabel').text(unit);
  svg.append('text').attr('x', (M.l + W - M.r) / 2).attr('y', H - 6).attr('text-anchor', 'middle').style('font-size', '11px').attr('class', 'xlabel').text('benchmark (figure id)');
  svg.selectAll('rect.bar').data(group).join('rect').attr('class', 'bar').attr('x', (f) => x(f.id)).attr('width', x.bandwidth()).attr('y', (f) => y(f.median)).attr('height', (f) => H - BM - y(f.median)).attr('fill', (f) => (f.anchor ? '#3366cc' : '#aaa'));
  svg.selectAll('line.whisker').data(group).join('line').attr('class', 'whisker').attr('x1', (f) => x(f.id) + x.bandwidth() / 2).attr('x2', (f) => x(f.id) + x.bandwidth() / 2).attr('y1', (f) => y(f.min)).attr('y2', (f) => y(f.max)).attr('stroke', '#222');
  svg.selectAll('rect.bar').append('title').text((f) => f.label + ': ' + f.median.toPrecision(4) + ' ' + f.unit);
});
// 3. latency distributions (CDF)
const lat = Object.entries(data.result.latencies).filter(([, v]) => v.length);
if (lat.length) {
  const svg = frame('plot-latency', 'Text: per-query latency, cumulative share of queries');
  const all = lat.flatMap(([, v]) => v).filter((v) => v > 0);
  const x = d3.scaleLog().domain([d3.min(all), d3.max(all)]).range([M.l, W - M.r]);
  const y = d3.scaleLinear().domain([0, 1]).range([H - M.b, M.t]);
  axes(svg, x, y, 'microseconds per query', 'share of queries');
  const colour = d3.scaleOrdinal(['#3366cc', '#dc3912', '#109618']);
  lat.forEach(([name, v], i) => {
    const s = v.filter((t) => t > 0).sort((a, b) => a - b);
    svg.append('path').datum(s).attr('fill', 'none').attr('stroke', colour(i)).attr('stroke-width', 2).attr('class', 'cdf').attr('d', d3.line().x((t) => x(t)).y((_, j) => y((j + 1) / s.length)));
    svg.append('text').attr('x', W - M.r - 150).attr('y', H - M.b - 14 - 14 * i).style('font-size', '11px').attr('fill', colour(i)).text(name);
  });
}
`;

function fmt(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

export function renderBenchHtml(result: BenchResult, comparison: Comparison[] | null = null, maxRegression?: number): string {
  const cmp = new Map((comparison ?? []).map((c) => [c.id, c]));
  const rows = result.figures
    .map((f) => {
      const c = cmp.get(f.id);
      const change = c
        ? `<td class="${c.regressed ? 'bad' : c.change >= 0 ? 'good' : ''}">${(c.change * 100).toFixed(1)}% (${c.gated ? c.basis : `${c.basis}, not gated`}; noise ±${(c.noise * 100).toFixed(1)}%, p ${c.pValue.toPrecision(2)})${c.regressed ? ' REGRESSED' : ''}</td>`
        : '<td></td>';
      return `<tr><td>${escapeHtml(f.id)}</td><td>${escapeHtml(f.label)}</td><td>${fmt(f.median)} ${escapeHtml(f.unit)}</td><td>${fmt(f.p25)}–${fmt(f.p75)} (${fmt(f.min)}–${fmt(f.max)})</td><td>${f.ratio === undefined ? '' : `${f.ratio.toFixed(2)}x ${escapeHtml(f.anchor ?? '')}`}</td>${change}</tr>`;
    })
    .join('\n');
  const m = result.machine;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">`,
    '<title>recall bench</title>',
    `<style>${REPORT_CSS}</style>`,
    '</head><body>',
    '<h1>recall bench</h1>',
    `<p class="meta">${escapeHtml(result.date)} · ${m.cpus} × ${escapeHtml(m.model)}, ${m.memoryGB} GB, ${escapeHtml(m.platform)}/${escapeHtml(m.arch)} · recall ${escapeHtml(result.versions.recall)}, Node ${escapeHtml(result.versions.node)} · ${result.params.reps} repetitions after ${result.params.warmup} warm-up, scale ${result.params.scale}${Object.keys(result.params.slowdown).length ? ` · slowdown ${escapeHtml(JSON.stringify(result.params.slowdown))}` : ''}</p>`,
    comparison
      ? `<p>Compared with a baseline: a figure regresses when it is more than ${((maxRegression ?? 0) * 100).toFixed(1)}% worse and either worse by more than its noise band (the larger spread of the two runs' repetitions: max - min, or twice the interquartile range from 7 repetitions on) or significantly worse by a one-sided rank test over the repetitions (p &le; 0.01, from 5 a side); a failure, and a loss the gate cannot call, is measured again and stands only over the pooled repetitions; ratios to the anchor where both runs have them, recall by its median; anchors and throughputs without an anchor are reported, not gated.</p>`
      : '',
    '<h2>Figures</h2>',
    `<table><thead><tr><th>id</th><th>what</th><th>median</th><th>p25–p75 (min–max)</th><th>vs anchor</th><th>vs baseline</th></tr></thead><tbody>${rows}</tbody></table>`,
    '<h2>Plots</h2>',
    '<div class="plots"><div id="plot-vector"></div><div id="plot-throughput"></div><div id="plot-latency"></div></div>',
    `<script>${d3Script()}</script>`,
    `<script type="application/json" id="recall-bench">${embedJson({ result, comparison })}</script>`,
    `<script>${SCRIPT}</script>`,
    '</body></html>',
  ].join('\n');
}
