/** The DQC report as Markdown: breaches first, then every check, then each shard's counts and quantiles. */
import type { DqcReport } from './run.js';

const fmt = (x: number | null) => (x === null ? '-' : Number.isInteger(x) ? String(x) : x.toPrecision(4));

export function renderDqcMarkdown(r: DqcReport): string {
  const out = [
    '# recall dqc',
    '',
    `candidate ${r.candidate}${r.live ? `, live ${r.live}` : ' (no live version: its own checks only)'}`,
    '',
  ];
  out.push(r.breached ? `**${r.breaches.length} breach${r.breaches.length === 1 ? '' : 'es'}**` : 'No breach.', '');
  out.push(
    '| channel | shard | check | value | threshold | candidate | live | |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | --- |',
  );
  for (const c of [...r.breaches, ...r.checks.filter((x) => !x.breached)])
    out.push(
      `| ${c.channel} | ${c.shard ?? 'all'} | ${c.check} | ${fmt(c.value)} | ${fmt(c.threshold)} | ${fmt(c.candidate)} | ${fmt(c.live)} | ${c.breached ? '**BREACH**' : 'ok'} |`,
    );
  for (const ch of r.channels) {
    out.push(
      '',
      `## ${ch.channel} (${ch.kind}): v${ch.candidate.version ?? '?'}${ch.live ? ` against v${ch.live.version ?? '?'}` : ''}`,
      '',
    );
    for (const s of ch.shards) {
      out.push(
        `- shard ${s.shard}: ${Object.entries(s.counts)
          .map(([k, v]) => `${k} ${v.candidate}${v.live === null ? '' : ` (live ${v.live})`}`)
          .join(', ')}`,
      );
      for (const [k, q] of Object.entries(s.quantiles))
        out.push(
          `  - ${k} p1/p10/p50/p90/p99: ${q.candidate.map(fmt).join(' / ')}${q.live ? ` (live ${q.live.map(fmt).join(' / ')})` : ''}`,
        );
    }
  }
  return `${out.join('\n')}\n`;
}
