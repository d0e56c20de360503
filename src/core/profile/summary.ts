/**
 * The Markdown summary of a diff: ready for a PR comment or
 * `$GITHUB_STEP_SUMMARY`. Every table header names its denominator.
 */
import type { DiffSummary } from './diff.js';
import type { FunctionDelta, SideSummary } from './model.js';

const pct = (x: number) => `${x.toFixed(2)}%`;
const pp = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}`;
const esc = (s: string) => s.replace(/[|\\`*_<>[\]]/g, (c) => `\\${c}`);

function sideLine(name: string, s: SideSummary): string {
  const cpu = s.cores !== null ? `, ${s.cores.toFixed(3)} cores over ${((s.durationMs ?? 0) / 1000).toFixed(1)} s` : '';
  const unit = s.unit === 'nanoseconds' ? `${(s.total / 1e9).toFixed(3)} CPU-s` : `${s.total} ${s.unit}`;
  return `| ${name} | ${esc(s.label)} | ${s.pods} | ${s.samples} | ${unit}${cpu} |`;
}

export function diffMarkdown(summary: DiffSummary, top = 15): string {
  const t = summary.thresholds;
  const out: string[] = [];
  const gated = summary.functions.filter((f) => f.gated);
  out.push(`## Profile diff: ${summary.verdict === 'pass' ? 'no gated regression' : `${gated.length} gated regression(s)`}`);
  out.push('');
  out.push('| side | label | pods | samples | total |', '|---|---|---|---|---|');
  out.push(sideLine('base', summary.sides.base), sideLine('head', summary.sides.head));
  out.push('');
  const denom =
    summary.mode === 'share'
      ? "pp = percentage points of each side's total"
      : `pp = change per ${summary.mode === 'absolute' ? 'pod' : 'unit of load'} as % of the base's per-${summary.mode === 'absolute' ? 'pod' : 'unit'} total (load-dependent)`;
  out.push(
    `Mode **${summary.mode}** (${denom}); gate: ${t.metric} Δ ≥ ${t.thresholdPp} pp${t.thresholdRel !== null ? ` or ≥ ${(t.thresholdRel * 100).toFixed(0)}% relative above ${t.minShare}% share` : ''}, |z| ≥ ${t.z}, ≥ ${t.minSamples} samples, pods agreeing${t.failOnAdded ? ', any added function' : ''}.`,
  );
  out.push('');
  const table = (title: string, rows: FunctionDelta[]) => {
    if (!rows.length) return;
    out.push(`### ${title}`, '');
    out.push(
      `| function | status | base ${t.metric} % | head ${t.metric} % | Δ ${t.metric} pp | Δ self pp | z | pods agree | gated |`,
      '|---|---|---:|---:|---:|---:|---:|---|---|',
    );
    for (const f of rows.slice(0, top)) {
      const [b, h] = t.metric === 'self' ? [f.base.selfPct, f.head.selfPct] : [f.base.totalPct, f.head.totalPct];
      out.push(
        `| ${esc(f.name)} | ${f.status} | ${pct(b)} | ${pct(h)} | ${pp(f.deltaGatePp)} | ${pp(f.deltaPp.self)} | ${f.z.toFixed(1)} | ${f.podsAgree === null ? 'n/a' : f.podsAgree ? 'yes' : 'no'} | ${f.gated ? '**yes**' : 'no'} |`,
      );
    }
    if (rows.length > top) out.push(`| … ${rows.length - top} more | | | | | | | | |`);
    out.push('');
  };
  const byName = new Map(summary.functions.map((f) => [f.name, f]));
  table(
    'Regressions',
    summary.regressions.map((r) => byName.get(r.name)!),
  );
  table(
    'Improvements',
    summary.improvements.map((r) => byName.get(r.name)!),
  );
  const list = (title: string, names: string[]) => {
    if (!names.length) return;
    const shown = names
      .slice(0, 30)
      .map((n) => `\`${n.replaceAll('`', "'")}\``)
      .join(', ');
    out.push(`**${title}** (${names.length}): ${shown}${names.length > 30 ? ', …' : ''}`, '');
  };
  list('Added in head', summary.added);
  list('Removed in head', summary.removed);
  if (summary.warnings.length) {
    out.push('<details><summary>Warnings</summary>', '');
    for (const w of summary.warnings.slice(0, 50)) out.push(`- ${esc(w)}`);
    out.push('', '</details>', '');
  }
  return out.join('\n');
}
