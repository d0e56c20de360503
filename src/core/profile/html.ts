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
}

let vendorCache: VendorAssets | undefined;

/** Read lazily: importing this module must stay cheap for commands that never write HTML. */
function vendorAssets(): VendorAssets {
  if (!vendorCache) {
    const flamegraphDir = packageDir('d3-flame-graph');
    vendorCache = {
      d3Js: d3Script(),
      flamegraphJs: inlineSafe(readFileSync(join(flamegraphDir, 'dist/d3-flamegraph.umd.min.js'), 'utf8'), 'script'),
      flamegraphCss: inlineSafe(readFileSync(join(flamegraphDir, 'dist/d3-flamegraph.css'), 'utf8'), 'style'),
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
    `<style>${PAGE_CSS}</style>`,
    '</head>',
    '<body data-view="head">',
    PAGE_BODY,
    `<script>${vendor.d3Js}</script>`,
    `<script>${vendor.flamegraphJs}</script>`,
    `<script type="application/json" id="recall-data">${embedJson(report)}</script>`,
    `<script>${PAGE_SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

const PAGE_CSS = String.raw`
:root { --fg: #1d232a; --muted: #5b6670; --line: #d8dde2; --panel: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; padding: 16px 20px 40px; font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); }
h1 { font-size: 20px; margin: 0 0 10px; }
h2 { font-size: 16px; margin: 24px 0 6px; }
.sides { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 10px; }
.side { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.side h3 { margin: 0 0 4px; font-size: 14px; }
.side h3 .role { text-transform: uppercase; font-size: 11px; letter-spacing: .05em; color: var(--muted); margin-right: 6px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 1px 12px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
dl.facts ul { margin: 0; padding-left: 16px; }
#report-meta { margin-top: 10px; }
.toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; margin: 14px 0 6px; }
.toolbar button { font: inherit; padding: 4px 10px; border: 1px solid #aab3bc; border-radius: 4px; background: #fff; cursor: pointer; }
.toolbar button:hover { background: #eef1f4; }
.toolbar button[aria-pressed="true"] { background: #dfe7ef; }
#search { font: inherit; padding: 4px 8px; width: 28em; max-width: 100%; border: 1px solid #aab3bc; border-radius: 4px; }
#search-result { color: var(--muted); min-width: 12em; }
#view-caption { margin: 4px 0; font-weight: 600; }
#legend { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 16px; margin: 6px 0 8px; color: var(--fg); }
#legend .item { display: inline-flex; align-items: center; gap: 6px; }
#legend .swatch { display: inline-block; width: 14px; height: 14px; border: 1px solid #999; border-radius: 2px; }
#legend .ramp { display: inline-block; width: 160px; height: 14px; border: 1px solid #999; border-radius: 2px; }
#legend .ramp-labels { font-variant-numeric: tabular-nums; color: var(--muted); }
#chart { width: 100%; overflow: hidden; border: 1px solid var(--line); border-radius: 4px; }
#chart svg { display: block; }
#details { min-height: 1.5em; color: var(--muted); margin-top: 4px; overflow-wrap: anywhere; }
.d3-flame-graph-tip { white-space: pre; font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; max-width: 90vw; overflow: hidden; }
#table-note { color: var(--muted); margin: 0 0 6px; }
table#functions { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
#functions th, #functions td { border-bottom: 1px solid var(--line); padding: 3px 8px; text-align: right; white-space: nowrap; }
#functions th { position: sticky; top: 0; background: #eef1f4; cursor: pointer; user-select: none; }
#functions th[aria-sort="ascending"]::after { content: " \25B2"; }
#functions th[aria-sort="descending"]::after { content: " \25BC"; }
#functions th.text, #functions td.text { text-align: left; }
#functions td.name { white-space: normal; overflow-wrap: anywhere; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
#functions tbody tr { cursor: pointer; }
#functions tbody tr:hover { background: #f2f5f8; }
#functions tr.gated td:first-child { box-shadow: inset 3px 0 0 #d93b2b; font-weight: 600; }
#functions td.more { color: #b0281a; }
#functions td.less { color: #2a63a8; }
#functions td.status-added { color: #6f3fbf; }
#functions td.status-removed { color: #b86a00; }
`;

// Static skeleton only: everything that comes from the report is filled in by the
// page script through textContent, so no data is ever parsed as HTML.
const PAGE_BODY = String.raw`<header>
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

// Plain browser JS (no template literals: this file embeds it in one).
const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var report = JSON.parse(document.getElementById('recall-data').textContent);
  var fg = window.flamegraph;
  var thresholds = report.thresholds;
  var sides = report.sides;
  var TABLE_ROW_CAP = 200;
  // Full colour at the CI threshold: "deep red" reads as "about what fails the build".
  // The floor keeps a tiny threshold from painting every wobble at full strength.
  var SATURATION_PP = Math.max(thresholds.threshold_pp, 0.5);
  var COLORS = {
    noise: '#d3d3d3',
    added: '#8e5bd6',
    removed: '#f0a03c',
    // d3-flame-graph's own search colour: it hands it to the colour mapper for matched frames.
    match: '#E600E6'
  };
  var moreColor = d3.interpolateLab('#f8d0c4', '#d93b2b');
  var lessColor = d3.interpolateLab('#cfe0f3', '#3b7fcf');

  var fmtCount = d3.format(',');
  var fmtFixed2 = d3.format(',.2f');
  function isNum(x) { return typeof x === 'number' && isFinite(x); }
  function signed(x, digits) {
    var text = Math.abs(x).toFixed(digits);
    if (Number(text) === 0) return text;
    return (x > 0 ? '+' : '-') + text;
  }
  function fmtPct(x) { return isNum(x) ? x.toFixed(2) + '%' : '-'; }
  function fmtPp(x) { return isNum(x) ? signed(x, 2) + ' pp' : '-'; }
  function fmtZ(z) { return isNum(z) ? z.toFixed(2) : '-'; }
  function fmtRel(fraction) { return isNum(fraction) ? signed(fraction * 100, 1) + '%' : '-'; }
  function isTimeUnit(unit) { return unit === 'nanoseconds'; }
  function fmtQuantity(value, unit) {
    if (!isNum(value)) return '-';
    if (isTimeUnit(unit)) return fmtFixed2(value / 1e9) + ' s';
    return (Number.isInteger(value) ? fmtCount(value) : fmtFixed2(value)) + ' ' + unit;
  }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }
  function addFact(list, term, value) {
    list.appendChild(el('dt', term));
    var dd = el('dd');
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = String(value);
    list.appendChild(dd);
  }

  // ---- header ----
  document.getElementById('report-title').textContent = report.title;

  function renderSide(role, side) {
    var box = document.getElementById('side-' + role);
    var heading = el('h3');
    heading.appendChild(el('span', role, 'role'));
    heading.appendChild(document.createTextNode(side.label));
    box.appendChild(heading);
    var facts = el('dl', null, 'facts');
    var inputs = el('ul');
    side.inputs.forEach(function (input) { inputs.appendChild(el('li', input)); });
    addFact(facts, side.inputs.length === 1 ? 'Input' : 'Inputs (' + side.inputs.length + ')', inputs);
    addFact(facts, 'Pods', side.pods);
    addFact(facts, 'Samples', fmtCount(side.samples));
    addFact(facts, 'Total', fmtQuantity(side.total, side.unit) + (isTimeUnit(side.unit) ? ' CPU' : ''));
    if (side.duration_s !== null) addFact(facts, 'Duration', fmtFixed2(side.duration_s) + ' s');
    if (side.cores !== null) addFact(facts, 'CPU cores', fmtFixed2(side.cores));
    if (side.event) addFact(facts, 'Event', side.event);
    var labelKeys = Object.keys(side.labels || {}).sort();
    if (labelKeys.length) {
      addFact(facts, 'Labels', labelKeys.map(function (k) { return k + '=' + side.labels[k]; }).join(', '));
    }
    box.appendChild(facts);
  }
  renderSide('base', sides.base);
  renderSide('head', sides.head);

  (function renderMeta() {
    var meta = document.getElementById('report-meta');
    if (report.verdict) {
      var gated = report.gated || [];
      addFact(meta, 'Verdict', report.verdict === 'pass' ? 'pass: no gated regression'
        : gated.length + ' gated regression(s): ' + gated.slice(0, 10).join(', ') + (gated.length > 10 ? ', ...' : ''));
    }
    addFact(meta, 'Mode', report.mode);
    addFact(meta, 'Unit', report.unit);
    var gate = thresholds.metric + ' delta >= ' + thresholds.threshold_pp + ' pp';
    if (thresholds.threshold_rel !== null) {
      gate += ' or >= ' + (thresholds.threshold_rel * 100).toFixed(0) + '% relative above ' + thresholds.min_share + '% share';
    }
    gate += ', |z| >= ' + thresholds.z + ', >= ' + thresholds.min_samples + ' samples';
    gate += ', fail on added: ' + (thresholds.fail_on_added ? 'yes' : 'no');
    addFact(meta, 'Gate', gate);
    if (thresholds.ignore !== null) addFact(meta, 'Ignore', thresholds.ignore);
    if (thresholds.allow !== null) addFact(meta, 'Allow', thresholds.allow);
    addFact(meta, 'Pruned', 'head view ' + fmtCount(report.pruned.head) + ' nodes, base view ' + fmtCount(report.pruned.base) +
      ' nodes (under the size floor on both sides)');
    if (report.generated !== null) addFact(meta, 'Generated', report.generated);
    addFact(meta, 'Tool', report.tool);
    var warnings = report.warnings || [];
    if (warnings.length) {
      var list = el('ul');
      warnings.slice(0, 20).forEach(function (w) { list.appendChild(el('li', w)); });
      if (warnings.length > 20) list.appendChild(el('li', '... ' + (warnings.length - 20) + ' more (see the JSON summary)'));
      addFact(meta, 'Warnings', list);
    }
  })();

  // ---- legend ----
  (function renderLegend() {
    var legend = document.getElementById('legend');
    function item(color, text, key) {
      var wrap = el('span', null, 'item');
      var swatch = el('span', null, 'swatch');
      swatch.style.background = color;
      swatch.dataset.swatch = key;
      swatch.dataset.color = color;
      wrap.appendChild(swatch);
      wrap.appendChild(el('span', text));
      legend.appendChild(wrap);
    }
    var ramp = el('span', null, 'ramp');
    ramp.style.background = 'linear-gradient(to right, ' + [lessColor(1), lessColor(0), moreColor(0), moreColor(1)].join(', ') + ')';
    var rampItem = el('span', null, 'item');
    rampItem.appendChild(el('span', '-' + SATURATION_PP + ' pp', 'ramp-labels'));
    rampItem.appendChild(ramp);
    rampItem.appendChild(el('span', '+' + SATURATION_PP + ' pp', 'ramp-labels'));
    legend.appendChild(el('span', 'Colour = change of inclusive share, head - base:'));
    legend.appendChild(rampItem);
    item(moreColor(1), 'red: more share in head', 'more');
    item(lessColor(1), 'blue: less share in head', 'less');
    item(COLORS.noise, 'grey: within noise (|z| < ' + thresholds.z + ' or too few samples)', 'noise');
    item(COLORS.added, 'purple: new in head', 'added');
    item(COLORS.removed, 'orange: removed in head (base view)', 'removed');
    item(COLORS.match, 'magenta: search match', 'match');
  })();

  // ---- flame graph ----
  function frameColor(node, originalColor) {
    if (node.highlight) return originalColor;
    var frame = node.data;
    if (frame.st === 'added') return COLORS.added;
    if (frame.st === 'removed') return COLORS.removed;
    if (!(Math.abs(frame.z) >= thresholds.z) || !isNum(frame.d) || frame.d === 0) return COLORS.noise;
    var strength = Math.min(Math.abs(frame.d) / SATURATION_PP, 1);
    return frame.d > 0 ? moreColor(strength) : lessColor(strength);
  }

  function sideValue(role, sharePct) {
    var side = sides[role];
    return fmtQuantity(side.total * sharePct / 100, side.unit);
  }
  function tooltipText(node) {
    var f = node.data;
    var lines = [f.name];
    if (f.st === 'added') lines.push('new in head (absent from base)');
    if (f.st === 'removed') lines.push('removed in head (absent from head)');
    lines.push('head: ' + fmtPct(f.ht) + ' inclusive (' + sideValue('head', f.ht) + '), ' + fmtPct(f.hs) + ' self, ' + fmtCount(f.hn) + ' samples');
    lines.push('base: ' + fmtPct(f.bt) + ' inclusive (' + sideValue('base', f.bt) + '), ' + fmtPct(f.bs) + ' self, ' + fmtCount(f.bn) + ' samples');
    var delta = 'delta: ' + fmtPp(f.d) + ' inclusive';
    delta += f.bt > 0 ? ' (' + fmtRel(f.ht / f.bt - 1) + ' relative)' : ' (new)';
    if (sides.head.cores !== null && sides.base.cores !== null) {
      delta += ', ' + signed(sides.head.cores * f.ht / 100 - sides.base.cores * f.bt / 100, 3) + ' cores';
    }
    lines.push(delta);
    lines.push('z: ' + fmtZ(f.z) + (Math.abs(f.z) >= thresholds.z ? '' : ' (within noise)'));
    return lines.join('\n');
  }
  function detailsText(node) {
    var f = node.data;
    return f.name + '  |  head ' + fmtPct(f.ht) + ', base ' + fmtPct(f.bt) + ', ' + fmtPp(f.d) + ', z ' + fmtZ(f.z);
  }

  // Literal, case-insensitive: the library's default builds a RegExp, which throws on C++ names.
  function literalMatch(node, term) {
    if (!term) return false;
    var name = node.data.name;
    return typeof name === 'string' && name.toLowerCase().indexOf(term.toLowerCase()) !== -1;
  }

  var container = document.getElementById('chart');
  var searchInput = document.getElementById('search');
  var searchResult = document.getElementById('search-result');
  var toggleButton = document.getElementById('toggle-view');
  var invertButton = document.getElementById('invert');
  var view = 'head';
  var inverted = false;
  var chart = null;

  function currentTree() { return view === 'head' ? report.headTree : report.baseTree; }
  function chartWidth() { return Math.max(320, Math.floor(container.clientWidth)); }

  // Matched share without double-counting frames nested under another match.
  function showSearchResult(results) {
    var matched = 0;
    results.forEach(function (node) {
      for (var p = node.parent; p; p = p.parent) if (p.highlight) return;
      matched += node.data.value;
    });
    var total = currentTree().value;
    var share = total > 0 ? 100 * matched / total : 0;
    searchResult.textContent = 'matched ' + share.toFixed(2) + '% of total (' + results.length + (results.length === 1 ? ' frame)' : ' frames)');
  }

  function runSearch() {
    var term = searchInput.value;
    if (term === '') {
      chart.clear();
      searchResult.textContent = '';
    } else {
      chart.search(term);
    }
  }

  // The library keeps zoom state (fade/hide) on the data objects; clear it so a rebuilt view starts unzoomed.
  function clearZoomState(frame) {
    delete frame.fade;
    delete frame.hide;
    (frame.children || []).forEach(clearZoomState);
  }

  function buildChart() {
    if (chart) chart.destroy();
    var tree = currentTree();
    clearZoomState(tree);
    chart = fg.default()
      .width(chartWidth())
      .cellHeight(18)
      .minFrameSize(1)
      .transitionDuration(300)
      .sort(true)
      .inverted(inverted)
      .tooltip(fg.tooltip.defaultFlamegraphTooltip().text(tooltipText))
      .setLabelHandler(detailsText)
      .setDetailsElement(document.getElementById('details'))
      .setColorMapper(frameColor)
      .setSearchMatch(literalMatch)
      .setSearchHandler(showSearchResult);
    d3.select(container).datum(tree).call(chart);
    if (searchInput.value !== '') runSearch();
  }

  function showView(name) {
    view = name;
    document.body.dataset.view = name;
    toggleButton.textContent = name === 'head' ? 'Show base-shaped view' : 'Show head-shaped view';
    document.getElementById('view-caption').textContent = name === 'head'
      ? 'Head-shaped view: frame width = inclusive share of head (' + sides.head.label + ')'
      : 'Base-shaped view: frame width = inclusive share of base (' + sides.base.label + '); shows what the head lost';
    buildChart();
  }

  toggleButton.addEventListener('click', function () { showView(view === 'head' ? 'base' : 'head'); });
  document.getElementById('reset-zoom').addEventListener('click', function () { chart.resetZoom(); });
  invertButton.addEventListener('click', function () {
    inverted = !inverted;
    invertButton.setAttribute('aria-pressed', String(inverted));
    chart.inverted(inverted);
    chart.update();
  });
  searchInput.addEventListener('input', runSearch);
  searchInput.addEventListener('keydown', function (event) { if (event.key === 'Enter') runSearch(); });

  var resizeQueued = false;
  window.addEventListener('resize', function () {
    if (resizeQueued) return;
    resizeQueued = true;
    requestAnimationFrame(function () {
      resizeQueued = false;
      var width = chartWidth();
      if (width !== chart.width()) {
        chart.width(width);
        chart.update();
      }
    });
  });

  showView('head');

  // ---- functions table ----
  var COLUMNS = [
    { key: 'name', label: 'Function', text: true, get: function (f) { return f.name; } },
    { key: 'status', label: 'Status', text: true, get: function (f) { return f.status; } },
    { key: 'base_self', label: 'Base self %', get: function (f) { return f.base.self_pct; }, fmt: fmtPct },
    { key: 'base_total', label: 'Base total %', get: function (f) { return f.base.total_pct; }, fmt: fmtPct },
    { key: 'head_self', label: 'Head self %', get: function (f) { return f.head.self_pct; }, fmt: fmtPct },
    { key: 'head_total', label: 'Head total %', get: function (f) { return f.head.total_pct; }, fmt: fmtPct },
    { key: 'delta_self', label: '\u0394 self pp', get: function (f) { return f.delta_pp.self; }, fmt: fmtPp, zOf: function (f) { return f.z_self; } },
    { key: 'delta_total', label: '\u0394 total pp', get: function (f) { return f.delta_pp.total; }, fmt: fmtPp, zOf: function (f) { return f.z_total; } },
    { key: 'delta_rel', label: '\u0394 rel', get: function (f) { return f.delta_rel; }, fmt: function (v, f) { return f.status === 'added' ? 'new' : fmtRel(v); } },
    { key: 'z', label: 'z', get: function (f) { return f.z; }, fmt: fmtZ },
    { key: 'gated', label: 'Gated', get: function (f) { return f.gated ? 1 : 0; }, fmt: function (v) { return v ? 'yes' : ''; } }
  ];
  var table = document.getElementById('functions');
  var headRow = table.tHead.rows[0];
  var body = table.tBodies[0];
  var rows = report.functions.map(function (f, index) { return { f: f, index: index }; });
  var sortState = { key: thresholds.metric === 'self' ? 'delta_self' : 'delta_total', descending: true };

  COLUMNS.forEach(function (column) {
    var th = el('th', column.label, column.text ? 'text' : '');
    th.scope = 'col';
    th.dataset.key = column.key;
    th.title = column.text ? 'Sort by ' + column.label : 'Sort by ' + column.label + ' (percentages are of each side\u2019s total)';
    th.addEventListener('click', function () {
      if (sortState.key === column.key) sortState.descending = !sortState.descending;
      else sortState = { key: column.key, descending: !column.text };
      renderTable();
    });
    headRow.appendChild(th);
  });

  function compareRows(column, descending) {
    return function (a, b) {
      var x = column.get(a.f);
      var y = column.get(b.f);
      var order;
      if (column.text) order = x < y ? -1 : x > y ? 1 : 0;
      else {
        // Missing numbers (null, non-finite) sort last either way.
        var xMissing = !isNum(x);
        var yMissing = !isNum(y);
        if (xMissing || yMissing) return xMissing === yMissing ? a.index - b.index : xMissing ? 1 : -1;
        order = x - y;
      }
      if (descending) order = -order;
      return order !== 0 ? order : a.index - b.index;
    };
  }

  function renderTable() {
    var column = COLUMNS.filter(function (c) { return c.key === sortState.key; })[0];
    var sorted = rows.slice().sort(compareRows(column, sortState.descending));
    Array.prototype.forEach.call(headRow.cells, function (th) {
      if (th.dataset.key === sortState.key) th.setAttribute('aria-sort', sortState.descending ? 'descending' : 'ascending');
      else th.removeAttribute('aria-sort');
    });
    var shown = sorted.slice(0, TABLE_ROW_CAP);
    var fragment = document.createDocumentFragment();
    shown.forEach(function (row) {
      var f = row.f;
      var tr = el('tr', null, f.gated ? 'gated' : '');
      tr.dataset.name = f.name;
      COLUMNS.forEach(function (c) {
        var value = c.get(f);
        var td = el('td', c.fmt ? c.fmt(value, f) : value, c.text ? 'text' : '');
        if (c.key === 'name') td.classList.add('name');
        if (c.key === 'status') td.classList.add('status-' + f.status);
        // Coloured like the graph: only changes outside the noise band.
        if (c.zOf && isNum(value) && value !== 0 && Math.abs(c.zOf(f)) >= thresholds.z) td.classList.add(value > 0 ? 'more' : 'less');
        tr.appendChild(td);
      });
      tr.addEventListener('click', function () {
        searchInput.value = f.name;
        runSearch();
        container.scrollIntoView({ block: 'nearest' });
      });
      fragment.appendChild(tr);
    });
    body.textContent = '';
    body.appendChild(fragment);
    var note = fmtCount(rows.length) + ' functions';
    if (rows.length > shown.length) {
      note += ' (the first ' + shown.length + ' shown, ' + fmtCount(rows.length - shown.length) + ' left out: sort by another column to see others)';
    }
    note += '. Percentages are of each side\u2019s total, \u0394 in percentage points (head - base). Click a header to sort, a row to find it in the graph.';
    document.getElementById('table-note').textContent = note;
  }
  renderTable();
})();
`;
