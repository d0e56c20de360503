/**
 * The eval report as Markdown and as one self-contained HTML page (d3 and the data inlined, no
 * network, the page conventions of the bench report): metric-vs-K curves for each version with
 * their intervals, and per-channel bars (metric at the largest K, unique contribution).
 */
import { d3Script, embedJson, escapeHtml, REPORT_CSS } from '../io/html.js';
import { METRICS } from './metrics.js';
import type { BootstrapSettings, DiffRow, GateResult, VersionReport } from './report.js';

export interface EvalReport {
  interactions: string;
  index: string;
  against?: string;
  users: number;
  skipped: { noTruth: number; noInput: number };
  catalogue: number;
  ks: number[];
  seeds: number;
  fusion: 'weighted' | 'rrf';
  bootstrap: BootstrapSettings;
  versions: VersionReport[];
  diff?: DiffRow[];
  gates: GateResult[];
  breached: boolean;
  markdown?: string;
  html?: string;
  lists?: string;
}

const f4 = (x: number) => x.toFixed(4);
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function renderEvalMarkdown(r: EvalReport): string {
  const out: string[] = [];
  out.push(`# recall eval`, '');
  out.push(
    `${r.users} users (skipped: ${r.skipped.noTruth} without truth after the split, ${r.skipped.noInput} without input), catalogue ${r.catalogue} items, ${r.seeds} x2i seeds per user, fusion ${r.fusion}; ${Math.round(r.bootstrap.level * 100)}% bootstrap intervals over users (${r.bootstrap.resamples} resamples, seed ${r.bootstrap.seed}).`,
    '',
  );
  for (const v of r.versions) {
    out.push(
      `## ${v.index}`,
      '',
      `${v.usersPerSecond} users/s; ms per user: ${Object.entries(v.msPerUser)
        .map(([c, t]) => `${c} ${t}`)
        .join(', ')}`,
      '',
    );
    out.push(`| scope | K | ${METRICS.join(' | ')} | coverage |`, `| --- | ---: | ${METRICS.map(() => '---:').join(' | ')} | ---: |`);
    const scopes = [...new Set(v.metrics.map((m) => m.scope))];
    for (const s of scopes)
      for (const k of r.ks) {
        const cells = METRICS.map((m) => {
          const x = v.metrics.find((y) => y.scope === s && y.metric === m && y.k === k)!;
          return `${f4(x.mean)} [${f4(x.lo)}, ${f4(x.hi)}]`;
        });
        out.push(`| ${s} | ${k} | ${cells.join(' | ')} | ${f4(v.coverage.find((c) => c.scope === s && c.k === k)!.value)} |`);
      }
    if (v.unique.length) {
      out.push('', '| channel | K | unique share of merged items | unique share of merged hits |', '| --- | ---: | ---: | ---: |');
      for (const u of v.unique) out.push(`| ${u.channel} | ${u.k} | ${pct(u.share)} | ${pct(u.hitShare)} |`);
    }
    out.push('');
  }
  if (r.diff) {
    out.push(
      `## ${r.index} against ${r.against}`,
      '',
      '| scope | metric | K | against | difference [interval] | relative [interval] |',
      '| --- | --- | ---: | ---: | ---: | ---: |',
    );
    for (const d of r.diff)
      out.push(
        `| ${d.scope} | ${d.metric} | ${d.k} | ${f4(d.base)} | ${f4(d.mean)} [${f4(d.lo)}, ${f4(d.hi)}] | ${pct(d.relative)} [${pct(d.relativeLo)}, ${pct(d.relativeHi)}] |`,
      );
    out.push('');
  }
  if (r.gates.length) {
    out.push('## Gates', '');
    for (const g of r.gates)
      out.push(
        `- ${g.breached ? '**BREACHED**' : 'passed'}: \`${g.text}\`: ${g.relative ? pct(g.value) : f4(g.value)} [${g.relative ? pct(g.lo) : f4(g.lo)}, ${g.relative ? pct(g.hi) : f4(g.hi)}]`,
      );
    out.push('');
  }
  return out.join('\n');
}

const SCRIPT = `
const data = JSON.parse(document.getElementById('recall-eval').textContent);
const W = 520, H = 300, M = { t: 24, r: 110, b: 40, l: 56 };
const colour = d3.scaleOrdinal(['#3366cc', '#dc3912', '#109618', '#ff9900', '#990099']);
function frame(id, title) {
  const svg = d3.select('#' + id).append('svg').attr('width', W).attr('height', H).attr('role', 'img').attr('aria-label', title);
  svg.append('text').attr('x', M.l).attr('y', 14).style('font-size', '12px').style('font-weight', '600').text(title);
  return svg;
}
function axes(svg, x, y, xl, yl) {
  svg.append('g').attr('class', 'axis').attr('transform', 'translate(0,' + (H - M.b) + ')').call(d3.axisBottom(x).ticks(6, '~g'));
  svg.append('g').attr('class', 'axis').attr('transform', 'translate(' + M.l + ',0)').call(d3.axisLeft(y).ticks(6, '~g'));
  svg.append('text').attr('x', (W - M.r) / 2).attr('y', H - 6).attr('text-anchor', 'middle').style('font-size', '11px').text(xl);
  svg.append('text').attr('transform', 'rotate(-90)').attr('x', -H / 2).attr('y', 14).attr('text-anchor', 'middle').style('font-size', '11px').text(yl);
}
// 1. metric vs K of the merged list, one line per version, the interval as a band
data.metrics.forEach((metric) => {
  const id = 'curve-' + metric;
  d3.select('#curves').append('div').attr('id', id);
  const svg = frame(id, metric + '@K, merged list (band: bootstrap interval)');
  const rows = data.versions.map((v) => v.metrics.filter((m) => m.scope === 'merged' && m.metric === metric));
  const x = d3.scaleLog().domain(d3.extent(data.ks)).range([M.l, W - M.r]);
  const y = d3.scaleLinear().domain([0, d3.max(rows.flat(), (m) => m.hi) * 1.1 || 1]).nice().range([H - M.b, M.t]);
  axes(svg, x, y, 'K', metric);
  rows.forEach((pts, i) => {
    const c = colour(i);
    svg.append('path').datum(pts).attr('fill', c).attr('opacity', 0.15).attr('d', d3.area().x((p) => x(p.k)).y0((p) => y(p.lo)).y1((p) => y(p.hi)));
    svg.append('path').datum(pts).attr('fill', 'none').attr('stroke', c).attr('stroke-width', 2).attr('d', d3.line().x((p) => x(p.k)).y((p) => y(p.mean)));
    svg.selectAll(null).data(pts).join('circle').attr('r', 3).attr('fill', c).attr('cx', (p) => x(p.k)).attr('cy', (p) => y(p.mean));
    svg.append('text').attr('x', W - M.r + 6).attr('y', M.t + 14 * i + 10).style('font-size', '11px').attr('fill', c).text(data.versions[i].label);
  });
});
// 2. per-channel bars at the largest K: recall of each scope, grouped by version
const K = data.ks[data.ks.length - 1];
const scopes = [...new Set(data.versions[0].metrics.map((m) => m.scope))];
const svg = frame('bars', 'recall@' + K + ' per channel and merged (whiskers: interval)');
const x0 = d3.scaleBand().domain(scopes).range([M.l, W - M.r]).padding(0.2);
const x1 = d3.scaleBand().domain(data.versions.map((_, i) => i)).range([0, x0.bandwidth()]).padding(0.1);
const all = data.versions.flatMap((v) => v.metrics.filter((m) => m.metric === 'recall' && m.k === K));
const y = d3.scaleLinear().domain([0, d3.max(all, (m) => m.hi) * 1.1 || 1]).nice().range([H - M.b, M.t]);
svg.append('g').attr('class', 'axis').attr('transform', 'translate(0,' + (H - M.b) + ')').call(d3.axisBottom(x0));
svg.append('g').attr('class', 'axis').attr('transform', 'translate(' + M.l + ',0)').call(d3.axisLeft(y).ticks(6, '~g'));
data.versions.forEach((v, i) => {
  const rows = v.metrics.filter((m) => m.metric === 'recall' && m.k === K);
  svg.selectAll(null).data(rows).join('rect').attr('x', (m) => x0(m.scope) + x1(i)).attr('width', x1.bandwidth()).attr('y', (m) => y(m.mean)).attr('height', (m) => y(0) - y(m.mean)).attr('fill', colour(i));
  svg.selectAll(null).data(rows).join('line').attr('x1', (m) => x0(m.scope) + x1(i) + x1.bandwidth() / 2).attr('x2', (m) => x0(m.scope) + x1(i) + x1.bandwidth() / 2).attr('y1', (m) => y(m.lo)).attr('y2', (m) => y(m.hi)).attr('stroke', '#333');
  svg.append('text').attr('x', W - M.r + 6).attr('y', M.t + 14 * i + 10).style('font-size', '11px').attr('fill', colour(i)).text(v.label);
});
`;

export function renderEvalHtml(r: EvalReport): string {
  const data = {
    ks: r.ks,
    metrics: [...METRICS],
    versions: r.versions.map((v, i) => ({ label: i === 0 ? `this: ${v.index}` : `against: ${v.index}`, metrics: v.metrics })),
  };
  const rows = (r.diff ?? [])
    .filter((d) => d.scope === 'merged')
    .map(
      (d) =>
        `<tr><td>${d.metric}</td><td>${d.k}</td><td>${f4(d.base)}</td><td class="${d.relativeHi < 0 ? 'bad' : d.relativeLo > 0 ? 'good' : ''}">${pct(d.relative)} [${pct(d.relativeLo)}, ${pct(d.relativeHi)}]</td></tr>`,
    )
    .join('\n');
  const gates = r.gates
    .map(
      (g) =>
        `<li class="${g.breached ? 'bad' : 'good'}">${g.breached ? 'BREACHED' : 'passed'}: ${escapeHtml(g.text)} (${g.relative ? pct(g.value) : f4(g.value)})</li>`,
    )
    .join('');
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">`,
    '<title>recall eval</title>',
    `<style>${REPORT_CSS}</style>`,
    '</head><body>',
    '<h1>recall eval</h1>',
    `<p class="meta">${escapeHtml(r.index)}${r.against ? ` against ${escapeHtml(r.against)}` : ''} · ${r.users} users · catalogue ${r.catalogue} · fusion ${r.fusion} · ${Math.round(r.bootstrap.level * 100)}% bootstrap intervals (${r.bootstrap.resamples} resamples, seed ${r.bootstrap.seed})</p>`,
    gates ? `<h2>Gates</h2><ul>${gates}</ul>` : '',
    rows
      ? `<h2>Merged list: difference against ${escapeHtml(r.against ?? '')}</h2><table><thead><tr><th>metric</th><th>K</th><th>against</th><th>relative change [interval]</th></tr></thead><tbody>${rows}</tbody></table>`
      : '',
    '<h2>Curves</h2>',
    '<div class="plots" id="curves"></div>',
    '<h2>Channels</h2>',
    '<div class="plots"><div id="bars"></div></div>',
    `<script>${d3Script()}</script>`,
    `<script type="application/json" id="recall-eval">${embedJson(data)}</script>`,
    `<script>${SCRIPT}</script>`,
    '</body></html>',
  ].join('\n');
}
