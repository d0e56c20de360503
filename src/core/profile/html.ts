/**
 * The `recall profile diff --html` page: one self-contained file (d3, d3-flame-graph,
 * the report data and the page script all inlined) that works offline and renders
 * byte-identically for the same report.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { d3Script, embedJson, escapeHtml, inlineSafe, packageDir } from '../io/html.js';
import type { HtmlReport } from './model.js';

interface VendorAssets {
  d3Js: string;
  flamegraphJs: string;
  flamegraphCss: string;
  /** The page's own script and style: page/diff-page.ts and .css, type-checked and bundled at build time. */
  pageJs: string;
  pageCss: string;
}

let vendorCache: VendorAssets | undefined;

/** Read lazily: importing this module must stay cheap for commands that never write HTML. */
function vendorAssets(): VendorAssets {
  if (!vendorCache) {
    const flamegraphDir = packageDir('d3-flame-graph');
    // Written by scripts/build-page-assets.mjs (`npm run build`) next to this module in dist/.
    const page = JSON.parse(readFileSync(new URL('./page/assets.json', import.meta.url), 'utf8')) as { script: string; css: string };
    vendorCache = {
      d3Js: d3Script(),
      flamegraphJs: inlineSafe(readFileSync(join(flamegraphDir, 'dist/d3-flamegraph.umd.min.js'), 'utf8'), 'script'),
      flamegraphCss: inlineSafe(readFileSync(join(flamegraphDir, 'dist/d3-flamegraph.css'), 'utf8'), 'style'),
      pageJs: inlineSafe(page.script, 'script'),
      pageCss: inlineSafe(page.css, 'style'),
    };
  }
  return vendorCache;
}

export function renderDiffHtml(report: HtmlReport): string {
  const vendor = vendorAssets();
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // Offline by construction: nothing may be fetched, whatever the data contains.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">`,
    '<link rel="icon" href="data:,">',
    `<title>${escapeHtml(report.title)}</title>`,
    `<style>${vendor.flamegraphCss}</style>`,
    `<style>\n${vendor.pageCss}</style>`,
    '</head>',
    '<body data-view="head">',
    PAGE_BODY,
    `<script>${vendor.d3Js}</script>`,
    `<script>${vendor.flamegraphJs}</script>`,
    `<script type="application/json" id="recall-data">${embedJson(report)}</script>`,
    `<script>\n${vendor.pageJs}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

// Static skeleton only: everything that comes from the report is filled in by the
// page script through textContent, so no data is ever parsed as HTML.
const PAGE_BODY = `<header>
<h1 id="report-title"></h1>
<div class="sides"><section class="side" id="side-base"></section><section class="side" id="side-head"></section></div>
<dl class="facts" id="report-meta"></dl>
</header>
<main>
<div class="toolbar">
<button type="button" id="toggle-view"></button>
<input type="search" id="search" placeholder="Search frames (literal text, case-insensitive)" aria-label="Search frames" autocomplete="off" spellcheck="false">
<span id="search-result" aria-live="polite"></span>
<button type="button" id="reset-zoom">Reset zoom</button>
<button type="button" id="invert" aria-pressed="false">Icicle (invert)</button>
</div>
<div id="view-caption"></div>
<div id="legend"></div>
<div id="chart"></div>
<div id="details"></div>
<h2>Functions</h2>
<p id="table-note"></p>
<table id="functions"><thead><tr></tr></thead><tbody></tbody></table>
</main>
<noscript>This report needs JavaScript to draw the flame graph and the table.</noscript>`;
