// The `profile diff` HTML page: self-contained, escaped, deterministic, and working
// in a real browser (Debian's Chromium driven by playwright-core).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { renderDiffHtml } from '../dist/core/profile/html.js';

const CHROMIUM = '/usr/bin/chromium';
const artifactsDir = fileURLToPath(new URL('../test-artifacts/', import.meta.url));

// ---- a small but realistic report: 100 Hz perf, 10 ms per sample ----
const NS_PER_SAMPLE = 1e7;
const BASE_SAMPLES = 9000;
const HEAD_SAMPLES = 10000;

const REGRESSED = 'recall::Index::lookup(unsigned long)';
const HASH_FIND = 'std::_Hashtable<unsigned long, std::pair<unsigned long const, float>>::find(unsigned long const&)';
const FUNNY = 'parse<T>(std::vector<int>&) [clone .isra.0] + 0x1f</script><b>x</b>';
const ADDED = 'recall::Cache::warm()';
const REMOVED = 'recall::LegacyScorer::score(float const*)';

/** A tree node from inclusive/self shares (%) of each side; `shape` picks the side that gives the width. */
function frame(shape, name, { bt, ht, bs = 0, hs = 0, z = 0, st = 'common' }, children = []) {
  const bn = Math.round((bt / 100) * BASE_SAMPLES);
  const hn = Math.round((ht / 100) * HEAD_SAMPLES);
  const value = (shape === 'head' ? hn : bn) * NS_PER_SAMPLE;
  return { name, value, children, d: +(ht - bt).toFixed(4), bt, ht, bs, hs, bn, hn, z, st };
}

function tree(shape) {
  const f = (name, shares, children) => frame(shape, name, shares, children);
  const serveChildren = [
    f(REGRESSED, { bt: 22, ht: 24.2, bs: 8.5, hs: 9.2, z: 3 }, [f(HASH_FIND, { bt: 13.5, ht: 15, bs: 13.5, hs: 15, z: 2.9 })]),
    f(FUNNY, { bt: 8.1, ht: 8, bs: 8.1, hs: 8, z: -0.3 }),
  ];
  if (shape === 'head') serveChildren.push(f(ADDED, { bt: 0, ht: 3, bs: 0, hs: 3, z: 9.1, st: 'added' }));
  else serveChildren.push(f(REMOVED, { bt: 4, ht: 0, bs: 4, hs: 0, z: -8.4, st: 'removed' }));
  return f('all', { bt: 100, ht: 100 }, [
    f('main', { bt: 100, ht: 100 }, [
      f('recall::Server::serve_request(Request const&)', { bt: 58, ht: 60, bs: 23.9, hs: 24.8, z: 2.8 }, serveChildren),
      f('gc_collect', { bt: 21.5, ht: 20, bs: 21.5, hs: 20, z: -2.6 }),
      f('[idle]', { bt: 20.5, ht: 20, bs: 20.5, hs: 20, z: -0.9 }),
    ]),
  ]);
}

function side(pct, samples, totalSamples, selfPct, selfSamples) {
  const total = totalSamples * NS_PER_SAMPLE;
  return {
    self: (selfPct / 100) * total,
    total: (pct / 100) * total,
    selfPct: selfPct,
    totalPct: pct,
    selfSamples: selfSamples,
    samples,
  };
}

/** A function row from its shares; the gated metric is `total`. */
function fn(name, status, b, h, z, gated) {
  const base = side(b.total, Math.round((b.total / 100) * BASE_SAMPLES), BASE_SAMPLES, b.self, Math.round((b.self / 100) * BASE_SAMPLES));
  const head = side(h.total, Math.round((h.total / 100) * HEAD_SAMPLES), HEAD_SAMPLES, h.self, Math.round((h.self / 100) * HEAD_SAMPLES));
  return {
    name,
    status,
    base,
    head,
    deltaPp: { self: +(h.self - b.self).toFixed(4), total: +(h.total - b.total).toFixed(4) },
    deltaRel: status === 'added' ? null : h.total / b.total - 1,
    deltaAbs: (head.total - base.total) / 1e9,
    deltaCores: 2.5 * (h.total / 100) - 2 * (b.total / 100),
    z,
    zSelf: z,
    zTotal: z,
    podsAgree: status === 'common' ? z > 2 : null,
    gated,
  };
}

// Enough small rows to exceed the table's 200-row cap.
const FILLER_ROWS = 205;

function makeReport() {
  const functions = [
    fn(ADDED, 'added', { self: 0, total: 0 }, { self: 3, total: 3 }, 9.1, false),
    fn(REGRESSED, 'common', { self: 8.5, total: 22 }, { self: 9.2, total: 24.2 }, 3, true),
    fn('recall::Server::serve_request(Request const&)', 'common', { self: 23.9, total: 58 }, { self: 24.8, total: 60 }, 2.8, true),
    fn(HASH_FIND, 'common', { self: 13.5, total: 13.5 }, { self: 15, total: 15 }, 2.9, true),
    fn(FUNNY, 'common', { self: 8.1, total: 8.1 }, { self: 8, total: 8 }, -0.3, false),
    fn('[idle]', 'common', { self: 20.5, total: 20.5 }, { self: 20, total: 20 }, -0.9, false),
    fn('gc_collect', 'common', { self: 21.5, total: 21.5 }, { self: 20, total: 20 }, -2.6, false),
    fn(REMOVED, 'removed', { self: 4, total: 4 }, { self: 0, total: 0 }, -8.4, false),
  ];
  for (let i = 0; i < FILLER_ROWS; i++) {
    const share = 0.001 * (1 + (i % 7));
    functions.push(
      fn(
        `libc.so.6::helper_${String(i).padStart(3, '0')}`,
        'common',
        { self: share, total: share },
        { self: share, total: share },
        0,
        false,
      ),
    );
  }
  return {
    title: 'recall-api CPU: v1.41.0 -> v1.42.0-rc1 <&> "quoted"',
    generated: null,
    tool: 'recall 0.1.0',
    mode: 'share',
    unit: 'nanoseconds',
    thresholds: {
      thresholdPp: 1,
      metric: 'total',
      thresholdRel: null,
      minShare: 0.5,
      minSamples: 20,
      z: 2,
      failOnAdded: false,
      ignore: '^\\[idle\\]$',
      allow: null,
    },
    sides: {
      base: {
        label: 'v1.41.0 (dc-east)',
        inputs: ['profiles/base/pod-a.perf.txt', 'profiles/base/pod-b.perf.txt'],
        pods: 2,
        samples: BASE_SAMPLES,
        total: BASE_SAMPLES * NS_PER_SAMPLE,
        unit: 'nanoseconds',
        event: 'cpu-clock',
        durationMs: 45000,
        cores: 2,
        labels: { app: 'recall-api', dc: 'east' },
      },
      head: {
        label: 'v1.42.0-rc1 (dc-east)',
        inputs: ['profiles/head/pod-a.perf.txt', 'profiles/head/pod-b.perf.txt', 'profiles/head/pod-c.perf.txt'],
        pods: 3,
        samples: HEAD_SAMPLES,
        total: HEAD_SAMPLES * NS_PER_SAMPLE,
        unit: 'nanoseconds',
        event: 'cpu-clock',
        durationMs: 40000,
        cores: 2.5,
        labels: { app: 'recall-api', dc: 'east' },
      },
    },
    headTree: tree('head'),
    baseTree: tree('base'),
    pruned: { head: 17, base: 12 },
    functions,
  };
}

function embeddedJson(html) {
  const m = html.match(/<script type="application\/json" id="recall-data">([\s\S]*?)<\/script>/);
  assert.ok(m, 'the report data is embedded');
  return m[1];
}

describe('profile diff HTML', () => {
  const report = makeReport();
  const html = renderDiffHtml(report);

  it('is self-contained: no external scripts, styles or links', () => {
    assert.doesNotMatch(html, /\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    assert.doesNotMatch(html, /<link[^>]+rel=["']?stylesheet/i);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    assert.ok(html.length < 600_000, `page size ${html.length}`);
  });

  it('escapes the embedded data so frame names cannot close the script', () => {
    const json = embeddedJson(html);
    assert.doesNotMatch(json, /[<>&\u2028\u2029]/);
    assert.ok(!html.includes('</script><b>x</b>'), 'the funny name never appears raw');
    assert.deepEqual(JSON.parse(json), report);
    assert.match(html, /<title>recall-api CPU: v1\.41\.0 -&#62; v1\.42\.0-rc1 &#60;&#38;&#62; &#34;quoted&#34;<\/title>/);
  });

  it('is deterministic', () => {
    assert.equal(renderDiffHtml(makeReport()), html);
    assert.equal(renderDiffHtml(structuredClone(report)), html);
  });

  describe('in headless Chromium', () => {
    let browser;
    let page;
    const problems = [];

    before(async () => {
      assert.ok(
        existsSync(CHROMIUM),
        `${CHROMIUM} is missing: this test drives Debian's Chromium; install it with \`apt-get install -y chromium\` (.ci/run does so in CI)`,
      );
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.on('console', (msg) => {
        if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console.${msg.type()}: ${msg.text()}`);
      });
      page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
      page.on('request', (req) => {
        if (!req.url().startsWith('file:') && !req.url().startsWith('data:')) problems.push(`request: ${req.url()}`);
      });
      mkdirSync(artifactsDir, { recursive: true });
      const file = `${artifactsDir}profile-diff.html`;
      writeFileSync(file, html);
      await page.goto(pathToFileURL(file).href);
      await chartSettled();
    });

    after(async () => {
      await browser?.close();
    });

    // Frames move, grow and get their labels through d3 transitions; d3 drops `__transition` from a node when they end.
    const chartSettled = () =>
      page.waitForFunction(() => {
        const frames = document.querySelectorAll('#chart g.frame');
        return frames.length > 0 && [...document.querySelectorAll('#chart, #chart *')].every((node) => !node.__transition);
      });
    const frames = () =>
      page.$$eval('#chart g.frame', (gs) =>
        gs.map((g) => ({
          name: g.getAttribute('name'),
          st: g.__data__.data.st,
          highlight: g.__data__.highlight === true,
          fill: g.querySelector('rect').getAttribute('fill'),
        })),
      );
    // Table deltas are coloured like the graph: only outside the noise band.
    const deltaTotalClass = (name) =>
      page.$$eval('#functions tbody tr', (trs, n) => trs.find((tr) => tr.dataset.name === n).cells[7].className, name);
    const swatch = (key) => page.$eval(`#legend [data-swatch="${key}"]`, (s) => s.dataset.color);
    const rgb = (color) => color.match(/\d+/g).map(Number);

    it('renders the header, the graph and the table without errors', async () => {
      assert.equal(await page.title(), report.title);
      assert.equal(await page.textContent('#report-title'), report.title);
      assert.equal(await page.evaluate(() => document.body.dataset.view), 'head');
      const header = await page.textContent('header');
      for (const text of [
        'v1.41.0 (dc-east)',
        'pod-c.perf.txt',
        '10,000',
        '100.00 s CPU',
        '2.50',
        'share',
        '|z| >= 2',
        'head view 17 nodes',
      ]) {
        assert.ok(header.includes(text), `header shows ${text}`);
      }
      assert.ok(!header.includes('Generated'), 'no generation time unless asked');

      const shown = await frames();
      assert.ok(shown.length >= 8, `${shown.length} frames drawn`);
      const regressed = shown.find((f) => f.name === REGRESSED);
      assert.ok(regressed, 'the regressed function is drawn');
      const [r, , b] = rgb(regressed.fill);
      assert.ok(r > b + 60, `a regression is red, got ${regressed.fill}`);
      const gc = shown.find((f) => f.name === 'gc_collect');
      assert.ok(rgb(gc.fill)[2] > rgb(gc.fill)[0] + 40, `an improvement is blue, got ${gc.fill}`);
      assert.equal(shown.find((f) => f.name === '[idle]').fill, await swatch('noise'), 'noise is grey');
      assert.equal(shown.find((f) => f.name === ADDED).fill, await swatch('added'), 'new frames are purple');
      assert.ok(!shown.some((f) => f.st === 'removed'), 'the head view has no removed frames');
      // The funny name is text, not markup.
      assert.ok(shown.some((f) => f.name === FUNNY));
      assert.equal(await page.$$eval('b', (bs) => bs.length), 0);

      const rowCount = await page.$$eval('#functions tbody tr', (trs) => trs.length);
      assert.equal(rowCount, 200);
      assert.match(await page.textContent('#table-note'), /^213 functions \(the first 200 shown, 13 left out/);
      const firstRows = await page.$$eval('#functions tbody tr', (trs) => trs.slice(0, 3).map((tr) => tr.dataset.name));
      assert.deepEqual(
        firstRows,
        [ADDED, REGRESSED, 'recall::Server::serve_request(Request const&)'],
        'largest gated-metric increase first',
      );
      assert.equal(await page.getAttribute('#functions th[data-key="delta_total"]', 'aria-sort'), 'descending');
      assert.equal(await deltaTotalClass(REGRESSED), 'more');
    });

    it('searches literally and case-insensitively, highlighting the matches', async () => {
      // Upper case and regex metacharacters: "(", "[" and "+" would break the library's RegExp search.
      await page.fill('#search', 'PARSE<T>(STD::VECTOR<INT>&) [CLONE .ISRA.0] + 0X1F');
      await page.waitForFunction(() => /matched \d+\.\d\d% of total/.test(document.getElementById('search-result').textContent));
      assert.match(await page.textContent('#search-result'), /^matched 8\.00% of total \(1 frame\)$/);
      // d3-flame-graph 5.0.0 marks matched nodes with `highlight` and hands the mapper its magenta.
      const highlighted = (await frames()).filter((f) => f.highlight);
      assert.deepEqual(
        highlighted.map((f) => f.name),
        [FUNNY],
      );
      assert.equal(highlighted[0].fill.toLowerCase(), (await swatch('match')).toLowerCase());

      await page.fill('#search', '');
      await page.waitForFunction(() => document.getElementById('search-result').textContent === '');
      assert.ok(!(await frames()).some((f) => f.highlight));
    });

    it('toggles to the base-shaped view with the removed frame, and back', async () => {
      await page.click('#toggle-view');
      await page.waitForFunction(() => document.body.dataset.view === 'base');
      await chartSettled();
      let shown = await frames();
      const removed = shown.find((f) => f.st === 'removed');
      assert.equal(removed?.name, REMOVED);
      assert.equal(removed.fill, await swatch('removed'));
      assert.ok(!shown.some((f) => f.st === 'added'));
      assert.match(await page.textContent('#toggle-view'), /head-shaped/);

      await page.click('#toggle-view');
      await page.waitForFunction(() => document.body.dataset.view === 'head');
      await chartSettled();
      shown = await frames();
      assert.ok(shown.some((f) => f.name === ADDED) && !shown.some((f) => f.st === 'removed'));
    });

    it('zooms, resets and inverts', async () => {
      const widthOf = (name) => page.$eval(`#chart g.frame[name="${name}"] rect`, (r) => Number(r.getAttribute('width')));
      const before = await widthOf('gc_collect');
      await page.click('#chart g.frame[name="gc_collect"]');
      await chartSettled();
      const chartWidth = await page.$eval('#chart svg', (svg) => Number(svg.getAttribute('width')));
      assert.ok(Math.abs((await widthOf('gc_collect')) - chartWidth) < 1, 'a click zooms the frame to the full width');
      await page.click('#reset-zoom');
      await chartSettled();
      assert.ok(Math.abs((await widthOf('gc_collect')) - before) < 1, 'reset restores the width');
      // Icicle: the root row moves from the bottom to the top (d3 rewrites the transform while animating).
      const rootYIs = (y) =>
        page.waitForFunction((want) => {
          const m = document
            .querySelector('#chart g.frame[name="all"]')
            .getAttribute('transform')
            .match(/,\s*([-\d.]+)\)/);
          return Math.abs(Number(m[1]) - want) < 0.5;
        }, y);
      const bottomY = await page.$eval('#chart g.frame[name="all"]', (g) =>
        Number(g.getAttribute('transform').match(/,\s*([-\d.]+)\)/)[1]),
      );
      assert.ok(bottomY > 0);
      await page.click('#invert');
      assert.equal(await page.getAttribute('#invert', 'aria-pressed'), 'true');
      await rootYIs(0);
      await page.click('#invert');
      assert.equal(await page.getAttribute('#invert', 'aria-pressed'), 'false');
      await rootYIs(bottomY);
    });

    it('sorts the table by a clicked header; a row click searches for it', async () => {
      await page.click('#functions th[data-key="name"]');
      assert.equal(await page.getAttribute('#functions th[data-key="name"]', 'aria-sort'), 'ascending');
      let first = await page.$eval('#functions tbody tr', (tr) => tr.dataset.name);
      assert.equal(first, '[idle]', 'code-unit order puts "[" before lower-case letters');
      assert.equal(await deltaTotalClass('gc_collect'), 'less');
      assert.equal(await deltaTotalClass('[idle]'), '', 'within noise');
      await page.click('#functions th[data-key="name"]');
      assert.equal(await page.getAttribute('#functions th[data-key="name"]', 'aria-sort'), 'descending');
      first = await page.$eval('#functions tbody tr', (tr) => tr.dataset.name);
      assert.equal(first, HASH_FIND);

      await page.click('#functions th[data-key="delta_total"]');
      await page.click(`#functions tbody tr:nth-child(2)`);
      assert.equal(await page.inputValue('#search'), REGRESSED);
      assert.match(await page.textContent('#search-result'), /^matched 24\.20% of total/);
      assert.deepEqual(
        (await frames()).filter((f) => f.highlight).map((f) => f.name),
        [REGRESSED],
      );
    });

    it('follows the container width and leaves a screenshot', async () => {
      await page.fill('#search', '');
      await page.setViewportSize({ width: 1100, height: 1000 });
      await page.waitForFunction(() => {
        const svg = document.querySelector('#chart svg');
        return Math.abs(Number(svg.getAttribute('width')) - document.getElementById('chart').clientWidth) <= 1;
      });
      await page.setViewportSize({ width: 1400, height: 1000 });
      await page.waitForFunction(() => Number(document.querySelector('#chart svg').getAttribute('width')) > 1300);
      await page.evaluate(() => window.scrollTo(0, 0)); // a row click scrolled to the graph
      await page.hover('#chart g.frame[name="recall::Index::lookup(unsigned long)"]');
      await page.waitForFunction(() => document.querySelector('.d3-flame-graph-tip')?.style.display === 'block');
      const tip = await page.textContent('.d3-flame-graph-tip');
      assert.match(tip, /head: 24\.20% inclusive.*\n.*base: 22\.00% inclusive/);
      assert.match(tip, /\+2\.20 pp inclusive \(\+10\.0% relative\)/);
      assert.match(tip, /z: 3\.00/);
      await page.waitForTimeout(500); // let the transitions settle
      await page.screenshot({ path: `${artifactsDir}profile-diff.png` }); // the viewport: header, graph and the table's top rows
      assert.deepEqual(problems, []);
    });
  });
});
