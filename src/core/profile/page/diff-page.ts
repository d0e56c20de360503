/**
 * The browser script of the `recall profile diff` HTML page. Type-checked with
 * page/tsconfig.json (lib DOM, strict, noUncheckedIndexedAccess) and bundled into
 * one IIFE string by scripts/build-page-assets.mjs, which html.ts inlines.
 * Everything from the report is written through textContent: no data is parsed as HTML.
 */
import type { FlameNode, FunctionDelta, HtmlReport, SideSummary } from '../model.js';

type Role = 'base' | 'head';

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`recall diff page: #${id} is missing`);
  return node as T;
}

const report = JSON.parse(byId('recall-data').textContent ?? '') as HtmlReport;
const fg = window.flamegraph;
const thresholds = report.thresholds;
const sides = report.sides;
const TABLE_ROW_CAP = 200;
// Full colour at the CI threshold: "deep red" reads as "about what fails the build".
// The floor keeps a tiny threshold from painting every wobble at full strength.
const SATURATION_PP = Math.max(thresholds.thresholdPp, 0.5);
const COLORS = {
  noise: '#d3d3d3',
  added: '#8e5bd6',
  removed: '#f0a03c',
  // d3-flame-graph's own search colour: it hands it to the colour mapper for matched frames.
  match: '#E600E6',
};
const moreColor = d3.interpolateLab('#f8d0c4', '#d93b2b');
const lessColor = d3.interpolateLab('#cfe0f3', '#3b7fcf');

const fmtCount = d3.format(',');
const fmtFixed2 = d3.format(',.2f');
function isNum(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}
function signed(x: number, digits: number): string {
  const text = Math.abs(x).toFixed(digits);
  if (Number(text) === 0) return text;
  return (x > 0 ? '+' : '-') + text;
}
const fmtPct = (x: unknown) => (isNum(x) ? `${x.toFixed(2)}%` : '-');
const fmtPp = (x: unknown) => (isNum(x) ? `${signed(x, 2)} pp` : '-');
const fmtZ = (z: unknown) => (isNum(z) ? z.toFixed(2) : '-');
const fmtRel = (fraction: unknown) => (isNum(fraction) ? `${signed(fraction * 100, 1)}%` : '-');
const isTimeUnit = (unit: string) => unit === 'nanoseconds';
function fmtQuantity(value: number, unit: string): string {
  if (!isNum(value)) return '-';
  if (isTimeUnit(unit)) return `${fmtFixed2(value / 1e9)} s`;
  return `${Number.isInteger(value) ? fmtCount(value) : fmtFixed2(value)} ${unit}`;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string | number | null, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}
function addFact(list: HTMLElement, term: string, value: string | number | Node) {
  list.appendChild(el('dt', term));
  const dd = el('dd');
  if (value instanceof Node) dd.appendChild(value);
  else dd.textContent = String(value);
  list.appendChild(dd);
}

// ---- header ----
byId('report-title').textContent = report.title;

function renderSide(role: Role, side: SideSummary) {
  const box = byId(`side-${role}`);
  const heading = el('h3');
  heading.appendChild(el('span', role, 'role'));
  heading.appendChild(document.createTextNode(side.label));
  box.appendChild(heading);
  const facts = el('dl', null, 'facts');
  const inputs = el('ul');
  for (const input of side.inputs) inputs.appendChild(el('li', input));
  addFact(facts, side.inputs.length === 1 ? 'Input' : `Inputs (${side.inputs.length})`, inputs);
  addFact(facts, 'Pods', side.pods);
  addFact(facts, 'Samples', fmtCount(side.samples));
  addFact(facts, 'Total', fmtQuantity(side.total, side.unit) + (isTimeUnit(side.unit) ? ' CPU' : ''));
  if (side.durationMs !== null) addFact(facts, 'Duration', `${fmtFixed2(side.durationMs / 1000)} s`);
  if (side.cores !== null) addFact(facts, 'CPU cores', fmtFixed2(side.cores));
  if (side.event) addFact(facts, 'Event', side.event);
  const labels = side.labels || {};
  const labelKeys = Object.keys(labels).sort();
  if (labelKeys.length) addFact(facts, 'Labels', labelKeys.map((k) => `${k}=${labels[k] ?? ''}`).join(', '));
  box.appendChild(facts);
}
renderSide('base', sides.base);
renderSide('head', sides.head);

(function renderMeta() {
  const meta = byId('report-meta');
  if (report.verdict) {
    const gated = report.gated || [];
    addFact(
      meta,
      'Verdict',
      report.verdict === 'pass'
        ? 'pass: no gated regression'
        : `${gated.length} gated regression(s): ${gated.slice(0, 10).join(', ')}${gated.length > 10 ? ', ...' : ''}`,
    );
  }
  addFact(meta, 'Mode', report.mode);
  addFact(meta, 'Unit', report.unit);
  let gate = `${thresholds.metric} delta >= ${thresholds.thresholdPp} pp`;
  if (thresholds.thresholdRel !== null) {
    gate += ` or >= ${(thresholds.thresholdRel * 100).toFixed(0)}% relative above ${thresholds.minShare}% share`;
  }
  gate += `, |z| >= ${thresholds.z}, >= ${thresholds.minSamples} samples`;
  gate += `, fail on added: ${thresholds.failOnAdded ? 'yes' : 'no'}`;
  addFact(meta, 'Gate', gate);
  if (thresholds.ignore !== null) addFact(meta, 'Ignore', thresholds.ignore);
  if (thresholds.allow !== null) addFact(meta, 'Allow', thresholds.allow);
  addFact(
    meta,
    'Pruned',
    `head view ${fmtCount(report.pruned.head)} nodes, base view ${fmtCount(report.pruned.base)} nodes (under the size floor on both sides)`,
  );
  if (report.generated !== null) addFact(meta, 'Generated', report.generated);
  addFact(meta, 'Tool', report.tool);
  const warnings = report.warnings || [];
  if (warnings.length) {
    const list = el('ul');
    for (const w of warnings.slice(0, 20)) list.appendChild(el('li', w));
    if (warnings.length > 20) list.appendChild(el('li', `... ${warnings.length - 20} more (see the JSON summary)`));
    addFact(meta, 'Warnings', list);
  }
})();

// ---- legend ----
(function renderLegend() {
  const legend = byId('legend');
  function item(color: string, text: string, key: string) {
    const wrap = el('span', null, 'item');
    const swatch = el('span', null, 'swatch');
    swatch.style.background = color;
    swatch.dataset.swatch = key;
    swatch.dataset.color = color;
    wrap.appendChild(swatch);
    wrap.appendChild(el('span', text));
    legend.appendChild(wrap);
  }
  const ramp = el('span', null, 'ramp');
  ramp.style.background = `linear-gradient(to right, ${[lessColor(1), lessColor(0), moreColor(0), moreColor(1)].join(', ')})`;
  const rampItem = el('span', null, 'item');
  rampItem.appendChild(el('span', `-${SATURATION_PP} pp`, 'ramp-labels'));
  rampItem.appendChild(ramp);
  rampItem.appendChild(el('span', `+${SATURATION_PP} pp`, 'ramp-labels'));
  legend.appendChild(el('span', 'Colour = change of inclusive share, head - base:'));
  legend.appendChild(rampItem);
  item(moreColor(1), 'red: more share in head', 'more');
  item(lessColor(1), 'blue: less share in head', 'less');
  item(COLORS.noise, `grey: within noise (|z| < ${thresholds.z} or too few samples)`, 'noise');
  item(COLORS.added, 'purple: new in head', 'added');
  item(COLORS.removed, 'orange: removed in head (base view)', 'removed');
  item(COLORS.match, 'magenta: search match', 'match');
})();

// ---- flame graph ----
function frameColor(node: FlameHierarchyNode, originalColor: string): string {
  if (node.highlight) return originalColor;
  const frame = node.data;
  if (frame.st === 'added') return COLORS.added;
  if (frame.st === 'removed') return COLORS.removed;
  if (!(Math.abs(frame.z) >= thresholds.z) || !isNum(frame.d) || frame.d === 0) return COLORS.noise;
  const strength = Math.min(Math.abs(frame.d) / SATURATION_PP, 1);
  return frame.d > 0 ? moreColor(strength) : lessColor(strength);
}

function sideValue(role: Role, sharePct: number): string {
  const side = sides[role];
  return fmtQuantity((side.total * sharePct) / 100, side.unit);
}
function tooltipText(node: FlameHierarchyNode): string {
  const f = node.data;
  const lines = [f.name];
  if (f.st === 'added') lines.push('new in head (absent from base)');
  if (f.st === 'removed') lines.push('removed in head (absent from head)');
  lines.push(`head: ${fmtPct(f.ht)} inclusive (${sideValue('head', f.ht)}), ${fmtPct(f.hs)} self, ${fmtCount(f.hn)} samples`);
  lines.push(`base: ${fmtPct(f.bt)} inclusive (${sideValue('base', f.bt)}), ${fmtPct(f.bs)} self, ${fmtCount(f.bn)} samples`);
  let delta = `delta: ${fmtPp(f.d)} inclusive`;
  delta += f.bt > 0 ? ` (${fmtRel(f.ht / f.bt - 1)} relative)` : ' (new)';
  if (sides.head.cores !== null && sides.base.cores !== null) {
    delta += `, ${signed((sides.head.cores * f.ht) / 100 - (sides.base.cores * f.bt) / 100, 3)} cores`;
  }
  lines.push(delta);
  lines.push(`z: ${fmtZ(f.z)}${Math.abs(f.z) >= thresholds.z ? '' : ' (within noise)'}`);
  return lines.join('\n');
}
function detailsText(node: FlameHierarchyNode): string {
  const f = node.data;
  return `${f.name}  |  head ${fmtPct(f.ht)}, base ${fmtPct(f.bt)}, ${fmtPp(f.d)}, z ${fmtZ(f.z)}`;
}

// Literal, case-insensitive: the library's default builds a RegExp, which throws on C++ names.
function literalMatch(node: FlameHierarchyNode, term: string): boolean {
  if (!term) return false;
  const name: unknown = node.data.name;
  return typeof name === 'string' && name.toLowerCase().indexOf(term.toLowerCase()) !== -1;
}

const container = byId<HTMLDivElement>('chart');
const searchInput = byId<HTMLInputElement>('search');
const searchResult = byId('search-result');
const toggleButton = byId<HTMLButtonElement>('toggle-view');
const invertButton = byId<HTMLButtonElement>('invert');
let view: Role = 'head';
let inverted = false;
let chart: FlameGraphChart | null = null;

/** The chart, once showView('head') below has built it (before any event can fire). */
function theChart(): FlameGraphChart {
  if (!chart) throw new Error('recall diff page: no chart yet');
  return chart;
}
const currentTree = (): FlameNode => (view === 'head' ? report.headTree : report.baseTree);
const chartWidth = () => Math.max(320, Math.floor(container.clientWidth));

// Matched share without double-counting frames nested under another match.
function showSearchResult(results: FlameHierarchyNode[]) {
  let matched = 0;
  for (const node of results) {
    let nested = false;
    for (let p = node.parent; p; p = p.parent)
      if (p.highlight) {
        nested = true;
        break;
      }
    if (!nested) matched += node.data.value;
  }
  const total = currentTree().value;
  const share = total > 0 ? (100 * matched) / total : 0;
  searchResult.textContent = `matched ${share.toFixed(2)}% of total (${results.length}${results.length === 1 ? ' frame)' : ' frames)'}`;
}

function runSearch() {
  const term = searchInput.value;
  if (term === '') {
    theChart().clear();
    searchResult.textContent = '';
  } else {
    theChart().search(term);
  }
}

// The library keeps zoom state (fade/hide) on the data objects; clear it so a rebuilt view starts unzoomed.
function clearZoomState(root: FlameNode) {
  const todo: Array<FlameNode & { fade?: boolean; hide?: boolean }> = [root];
  while (todo.length) {
    const frame = todo.pop()!;
    delete frame.fade;
    delete frame.hide;
    for (const child of frame.children || []) todo.push(child);
  }
}

function buildChart() {
  if (chart) chart.destroy();
  const tree = currentTree();
  clearZoomState(tree);
  chart = fg
    .default()
    .width(chartWidth())
    .cellHeight(18)
    .minFrameSize(1)
    .transitionDuration(300)
    .sort(true)
    .inverted(inverted)
    .tooltip(fg.tooltip.defaultFlamegraphTooltip().text(tooltipText))
    .setLabelHandler(detailsText)
    .setDetailsElement(byId('details'))
    .setColorMapper(frameColor)
    .setSearchMatch(literalMatch)
    .setSearchHandler(showSearchResult);
  d3.select(container).datum(tree).call(chart);
  if (searchInput.value !== '') runSearch();
}

function showView(name: Role) {
  view = name;
  document.body.dataset.view = name;
  toggleButton.textContent = name === 'head' ? 'Show base-shaped view' : 'Show head-shaped view';
  byId('view-caption').textContent =
    name === 'head'
      ? `Head-shaped view: frame width = inclusive share of head (${sides.head.label})`
      : `Base-shaped view: frame width = inclusive share of base (${sides.base.label}); shows what the head lost`;
  buildChart();
}

toggleButton.addEventListener('click', () => showView(view === 'head' ? 'base' : 'head'));
byId('reset-zoom').addEventListener('click', () => theChart().resetZoom());
invertButton.addEventListener('click', () => {
  inverted = !inverted;
  invertButton.setAttribute('aria-pressed', String(inverted));
  theChart().inverted(inverted);
  theChart().update();
});
searchInput.addEventListener('input', runSearch);
searchInput.addEventListener('keydown', (event) => {
  if (event.key === 'Enter') runSearch();
});

let resizeQueued = false;
window.addEventListener('resize', () => {
  if (resizeQueued) return;
  resizeQueued = true;
  requestAnimationFrame(() => {
    resizeQueued = false;
    const width = chartWidth();
    if (width !== theChart().width()) {
      theChart().width(width);
      theChart().update();
    }
  });
});

showView('head');

// ---- functions table ----
interface Column {
  key: string;
  label: string;
  text?: boolean;
  get(f: FunctionDelta): string | number | null;
  fmt?(v: string | number | null, f: FunctionDelta): string;
  zOf?(f: FunctionDelta): number;
}
interface Row {
  f: FunctionDelta;
  index: number;
}
const COLUMNS: Column[] = [
  { key: 'name', label: 'Function', text: true, get: (f) => f.name },
  { key: 'status', label: 'Status', text: true, get: (f) => f.status },
  { key: 'base_self', label: 'Base self %', get: (f) => f.base.selfPct, fmt: fmtPct },
  { key: 'base_total', label: 'Base total %', get: (f) => f.base.totalPct, fmt: fmtPct },
  { key: 'head_self', label: 'Head self %', get: (f) => f.head.selfPct, fmt: fmtPct },
  { key: 'head_total', label: 'Head total %', get: (f) => f.head.totalPct, fmt: fmtPct },
  { key: 'delta_self', label: '\u0394 self pp', get: (f) => f.deltaPp.self, fmt: fmtPp, zOf: (f) => f.zSelf },
  { key: 'delta_total', label: '\u0394 total pp', get: (f) => f.deltaPp.total, fmt: fmtPp, zOf: (f) => f.zTotal },
  { key: 'deltaRel', label: '\u0394 rel', get: (f) => f.deltaRel, fmt: (v, f) => (f.status === 'added' ? 'new' : fmtRel(v)) },
  { key: 'z', label: 'z', get: (f) => f.z, fmt: fmtZ },
  { key: 'gated', label: 'Gated', get: (f) => (f.gated ? 1 : 0), fmt: (v) => (v ? 'yes' : '') },
];
const table = byId<HTMLTableElement>('functions');
const headRow = table.tHead?.rows[0];
const body = table.tBodies[0];
if (!headRow || !body) throw new Error('recall diff page: #functions has no header row or body');
const rows: Row[] = report.functions.map((f, index) => ({ f, index }));
let sortState = { key: thresholds.metric === 'self' ? 'delta_self' : 'delta_total', descending: true };

for (const column of COLUMNS) {
  const th = el('th', column.label, column.text ? 'text' : '');
  th.scope = 'col';
  th.dataset.key = column.key;
  th.title = column.text ? `Sort by ${column.label}` : `Sort by ${column.label} (percentages are of each side\u2019s total)`;
  th.addEventListener('click', () => {
    if (sortState.key === column.key) sortState.descending = !sortState.descending;
    else sortState = { key: column.key, descending: !column.text };
    renderTable();
  });
  headRow.appendChild(th);
}

function compareRows(column: Column, descending: boolean) {
  return (a: Row, b: Row): number => {
    const x = column.get(a.f);
    const y = column.get(b.f);
    let order: number;
    if (column.text) {
      const xs = String(x);
      const ys = String(y);
      order = xs < ys ? -1 : xs > ys ? 1 : 0;
    } else {
      // Missing numbers (null, non-finite) sort last either way.
      if (!isNum(x) || !isNum(y)) {
        const xMissing = !isNum(x);
        const yMissing = !isNum(y);
        return xMissing === yMissing ? a.index - b.index : xMissing ? 1 : -1;
      }
      order = x - y;
    }
    if (descending) order = -order;
    return order !== 0 ? order : a.index - b.index;
  };
}

function renderTable() {
  const column = COLUMNS.find((c) => c.key === sortState.key);
  if (!column || !headRow || !body) return;
  const sorted = rows.slice().sort(compareRows(column, sortState.descending));
  for (const th of Array.from(headRow.cells)) {
    if (th.dataset.key === sortState.key) th.setAttribute('aria-sort', sortState.descending ? 'descending' : 'ascending');
    else th.removeAttribute('aria-sort');
  }
  const shown = sorted.slice(0, TABLE_ROW_CAP);
  const fragment = document.createDocumentFragment();
  for (const row of shown) {
    const f = row.f;
    const tr = el('tr', null, f.gated ? 'gated' : '');
    tr.dataset.name = f.name;
    for (const c of COLUMNS) {
      const value = c.get(f);
      const td = el('td', c.fmt ? c.fmt(value, f) : value, c.text ? 'text' : '');
      if (c.key === 'name') td.classList.add('name');
      if (c.key === 'status') td.classList.add(`status-${f.status}`);
      // Coloured like the graph: only changes outside the noise band.
      if (c.zOf && isNum(value) && value !== 0 && Math.abs(c.zOf(f)) >= thresholds.z) td.classList.add(value > 0 ? 'more' : 'less');
      tr.appendChild(td);
    }
    tr.addEventListener('click', () => {
      searchInput.value = f.name;
      runSearch();
      container.scrollIntoView({ block: 'nearest' });
    });
    fragment.appendChild(tr);
  }
  body.textContent = '';
  body.appendChild(fragment);
  let note = `${fmtCount(rows.length)} functions`;
  if (rows.length > shown.length) {
    note += ` (the first ${shown.length} shown, ${fmtCount(rows.length - shown.length)} left out: sort by another column to see others)`;
  }
  note +=
    '. Percentages are of each side\u2019s total, \u0394 in percentage points (head - base). Click a header to sort, a row to find it in the graph.';
  byId('table-note').textContent = note;
}
renderTable();
