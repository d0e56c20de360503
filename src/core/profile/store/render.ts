/** Markdown and self-contained HTML for `profile regressions` and `profile history`. */
import type { RegressionsResult } from './regressions.js';
import type { HistoryResult } from './history.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (n: number | null) => (n === null ? '–' : `${n.toFixed(2)}%`);

export function regressionsMarkdown(r: RegressionsResult): string {
  const out = [
    `## Profile regressions: ${r.app} (${r.versions.length} versions, ${r.metric} share, ≥ ${r.thresholds.thresholdPp} pp, |z| ≥ ${r.thresholds.z}, confirm ${r.confirm})`,
    '',
  ];
  if (!r.regressions.length) out.push('No regression.');
  else {
    out.push('| id | function | version | share | Δ pp | z | status | top candidate |', '|---|---|---|---|---|---|---|---|');
    for (const g of r.regressions) {
      const c = g.candidates[0];
      out.push(
        `| ${g.id} | \`${g.function}\` | ${g.previousVersion} → ${g.version} | ${pct(g.baseSharePct)} → ${pct(g.headSharePct)} | +${g.deltaPp.toFixed(2)} | ${g.z.toFixed(1)} | ${g.status}${g.isNew ? ' (new)' : ''}${g.confirmed ? '' : ' (unconfirmed)'} | ${c ? `${c.commit.slice(0, 10)} ${c.subject}` : '–'} |`,
      );
    }
  }
  if (r.suppressed.length) {
    out.push('', `<details><summary>${r.suppressed.length} suppressed</summary>`, '');
    for (const s of r.suppressed)
      out.push(`- \`${s.function}\` ${s.previousVersion} → ${s.version} +${s.deltaPp.toFixed(2)} pp: ${s.reason} (${s.detail})`);
    out.push('', '</details>');
  }
  return out.join('\n');
}

function sparkline(values: Array<number | null>, w = 160, h = 28): string {
  const v = values.map((x) => x ?? 0);
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  const pts = v
    .map((x, i) => `${((i / Math.max(1, v.length - 1)) * w).toFixed(1)},${(h - 2 - ((x - lo) / (hi - lo || 1)) * (h - 4)).toFixed(1)}`)
    .join(' ');
  return `<svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><polyline fill="none" stroke="#c0392b" stroke-width="1.5" points="${pts}"/></svg>`;
}

const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:middle}code{font-size:12px}.muted{color:#777}</style>
</head><body><h1>${esc(title)}</h1>
${body}
</body></html>
`;

export function regressionsHtml(r: RegressionsResult): string {
  const rows = r.regressions
    .map(
      (g) =>
        `<tr><td>${esc(g.id)}</td><td><code>${esc(g.function)}</code></td><td>${esc(g.previousVersion)} → ${esc(g.version)}</td><td>+${g.deltaPp.toFixed(2)} pp</td><td>${sparkline(g.series.map((s) => s.sharePct))}</td><td>${esc(g.status)}</td><td>${g.candidates
          .slice(0, 3)
          .map((c) => `<code>${esc(c.commit.slice(0, 10))}</code> ${esc(c.subject)}`)
          .join(
            '<br>',
          )}</td><td>${g.diffPage ? `<a href="${esc(g.diffPage)}">diff</a>` : `<code class="muted">${esc(g.diffCommand)}</code>`}</td></tr>`,
    )
    .join('\n');
  return page(
    `Profile regressions: ${r.app}`,
    `<p>${r.versions.length} versions, ${r.regressions.length} regression(s), ${r.suppressed.length} suppressed (went away or cost shift).</p>
<table><tr><th>id</th><th>function</th><th>versions</th><th>Δ</th><th>share by version</th><th>status</th><th>candidate commits</th><th>diff page</th></tr>
${rows}</table>`,
  );
}

export function historyMarkdown(h: HistoryResult): string {
  const out = [`## Profile history: ${h.app} (by ${h.by})`, ''];
  for (const f of h.functions) {
    out.push(`### \`${f.name}\``, '', `| ${h.by} | self | total | pods | self pod range |`, '|---|---|---|---|---|');
    for (const p of f.points)
      out.push(`| ${p.key} | ${pct(p.selfPct)} | ${pct(p.totalPct)} | ${p.pods} | ${pct(p.selfPodMinPct)} – ${pct(p.selfPodMaxPct)} |`);
    out.push('');
  }
  return out.join('\n');
}

export function historyHtml(h: HistoryResult): string {
  const W = 720;
  const H = 260;
  const colors = ['#c0392b', '#2980b9', '#27ae60', '#8e44ad', '#d35400', '#16a085', '#2c3e50', '#f39c12'];
  const keys = h.functions[0]?.points.map((p) => p.key) ?? [];
  const max = Math.max(1e-9, ...h.functions.flatMap((f) => f.points.map((p) => p.selfPodMaxPct ?? p.selfPct)));
  const x = (i: number) => 40 + (i / Math.max(1, keys.length - 1)) * (W - 60);
  const y = (v: number) => H - 30 - (v / max) * (H - 50);
  const lines = h.functions
    .map((f, k) => {
      const c = colors[k % colors.length];
      const band = f.points
        .map(
          (p, i) =>
            `<line x1="${x(i)}" x2="${x(i)}" y1="${y(p.selfPodMinPct)}" y2="${y(p.selfPodMaxPct)}" stroke="${c}" stroke-opacity=".35" stroke-width="5"/>`,
        )
        .join('');
      const pts = f.points.map((p, i) => `${x(i).toFixed(1)},${y(p.selfPct).toFixed(1)}`).join(' ');
      return `${band}<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts}"><title>${esc(f.name)}</title></polyline>`;
    })
    .join('\n');
  const axis = keys.map((k, i) => `<text x="${x(i)}" y="${H - 10}" font-size="10" text-anchor="middle">${esc(k)}</text>`).join('');
  const legend = h.functions
    .map((f, k) => `<span style="color:${colors[k % colors.length]}">■</span> <code>${esc(f.name)}</code>`)
    .join(' &nbsp; ');
  return page(
    `Profile history: ${h.app}`,
    `<p>Self share (%) by ${esc(h.by)}; bars: pod range. Max ${max.toFixed(2)}%.</p><p>${legend}</p>
<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"><line x1="40" x2="${W - 20}" y1="${H - 30}" y2="${H - 30}" stroke="#999"/>${axis}
${lines}</svg>
${historyMarkdown(h)
  .replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`)
  .replace(/^/, '<pre>')
  .concat('</pre>')}`,
  );
}
