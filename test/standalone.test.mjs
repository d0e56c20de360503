// Shipped commands need nothing outside the package: run from a copy of the package in a temporary
// folder with no ../shared beside it, with the cache in a temporary $XDG_CACHE_HOME.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { root, scratchDir } from './helpers/cli.mjs';

const dir = scratchDir('standalone');
after(() => rmSync(dir, { recursive: true, force: true }));
const pkg = join(dir, 'pkg');
const cache = join(dir, 'cache');

before(() => {
  // what `npm pack` ships (package.json "files") plus the built addon, and the installed dependencies
  const files = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).files;
  mkdirSync(pkg);
  for (const f of [...files.filter((f) => !f.startsWith('native')), 'package.json', 'build/Release/recall.node']) {
    if (existsSync(join(root, f))) cpSync(join(root, f), join(pkg, f), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'));
  assert.ok(!existsSync(join(dir, 'shared')));
});

const recallIn = (args) =>
  spawnSync(process.execPath, [join(pkg, 'bin', 'run.js'), ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, XDG_CACHE_HOME: cache },
  });

describe('stand-alone package', () => {
  it('src/ names no run-time path into the team folder, and runs no apt-get', () => {
    const walk = (d) =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
    const files = [...walk(join(root, 'src')), ...walk(join(root, 'scripts', 'bench-tools'))];
    assert.deepEqual(
      files.filter((f) => readFileSync(f, 'utf8').match(/\.\.\/shared|\/work\/shared/)).map((f) => f.slice(root.length)),
      [],
    );
    assert.deepEqual(
      files
        .filter((f) => readFileSync(f, 'utf8').match(/spawn\w*\(\s*['"](?:apt-get|apt|dpkg|pip3?)['"]/))
        .map((f) => f.slice(root.length)),
      [],
      'a benchmark names the install command; it never runs one',
    );
  });

  // faiss runs through python3 when it imports (pip install faiss-cpu), beside the npm peer
  const faissImports = spawnSync('python3', ['-c', 'import faiss, numpy']).status === 0;

  it(`recall bench vector runs a tiny set from the copy, its npm peer installed into the cache${faissImports ? ', faiss as a peer' : ''}`, () => {
    const out = join(dir, 'vector-out');
    const engines = faissImports ? 'recall,usearch,faiss' : 'recall,usearch';
    const r = recallIn(['bench', 'vector', '--data', 'tiny', '--runs', '1', '--engines', engines, '--out-dir', out, '--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const res = JSON.parse(r.stdout);
    assert.deepEqual(res.notes, []);
    assert.ok(existsSync(join(cache, 'recall', 'peers', 'node_modules', 'usearch', 'package.json')), 'usearch in the cache');
    assert.ok(!existsSync(join(root, 'node_modules', 'usearch')), 'not installed into the package');
    const labels = res.summary.map((s) => s.label);
    assert.ok(labels.includes('usearch f32 M16') && labels.includes('recall hnsw f32'), labels.join(', '));
    // exact ground truth: the flat index finds every true neighbour, the graphs nearly all at ef 160
    assert.equal(res.summary.find((s) => s.label === 'recall flat f32').max_recall, 1);
    for (const s of res.summary) assert.ok(s.max_recall > 0.95, `${s.label}: ${s.max_recall}`);
    assert.ok(existsSync(join(out, 'vector-tiny.html')));
    // each ratio is recall's QPS over the best peer of its kind (graph: usearch, faiss HNSW; IVF: faiss)
    const qps = (label) => res.summary.find((s) => s.label === label)?.qps_at_095;
    const graphPeer = Math.max(qps('usearch f32 M16'), faissImports ? qps('faiss HNSW16') : 0);
    assert.equal(res.ratios.f32_hnsw_vs_best_graph_peer_at_095, +(qps('recall hnsw f32') / graphPeer).toFixed(2));
    if (faissImports) {
      assert.ok(labels.includes('faiss HNSW16') && labels.includes('faiss IVF32,Flat'), labels.join(', '));
      assert.equal(res.ratios.f32_ivf_vs_best_ivf_peer_at_095, +(qps('recall ivf f32') / qps('faiss IVF32,Flat')).toFixed(2));
      // resident memory after the searches, from both harnesses; the ratio is int8+rerank's over faiss HNSW's
      const rss = (label) => res.summary.find((s) => s.label === label).rss_after_search_mb;
      for (const label of ['faiss HNSW16', 'recall hnsw int8+rerank']) assert.equal(typeof rss(label), 'number', label);
      const want =
        rss('recall hnsw int8+rerank') && rss('faiss HNSW16') ? +(rss('recall hnsw int8+rerank') / rss('faiss HNSW16')).toFixed(2) : null;
      assert.equal(res.ratios.int8_rerank_hnsw_rss_vs_faiss_hnsw, want);
    } else assert.equal(res.ratios.f32_ivf_vs_best_ivf_peer_at_095, null, 'no IVF peer, no IVF ratio');
  });

  it('recall bench vector skips faiss with a note naming pip install faiss-cpu when python3 cannot import it', () => {
    // PYTHONHOME at an empty folder: python3 finds no standard library, so `import faiss` fails
    const r = spawnSync(
      process.execPath,
      [
        join(pkg, 'bin', 'run.js'),
        'bench',
        'vector',
        '--data',
        'tiny',
        '--runs',
        '1',
        '--engines',
        'faiss',
        '--out-dir',
        join(dir, 'v-nofaiss'),
        '--json',
      ],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: cache, PYTHONHOME: join(dir, 'no-python') } },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const res = JSON.parse(r.stdout);
    assert.equal(res.notes.length, 1);
    assert.match(res.notes[0], /faiss skipped.*pip install faiss-cpu/);
    assert.deepEqual(res.summary, []);
    assert.equal(res.ratios.f32_ivf_vs_best_ivf_peer_at_095, null);
  });

  it('recall bench vector without Fashion-MNIST exits 2 naming the package to install', () => {
    const r = recallIn(['bench', 'vector', '--fashion-dir', join(dir, 'no-such'), '--engines', 'recall', '--out-dir', join(dir, 'v2')]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /apt-get install dataset-fashion-mnist/);
  });

  it('recall bench inverted runs on a small dictd corpus from the copy, its npm peer installed into the cache', () => {
    // a dictd database pair as Debian ships them: a tab-separated index (headword, base64 offset and
    // length) over a gzip-compressed body
    const dictd = join(dir, 'dictd');
    mkdirSync(dictd);
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const words = Array.from({ length: 400 }, (_, i) => `w${i.toString(36)}x${'abcdefgh'[i % 8]}`);
    const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const b64 = (n) => (n < 64 ? B64[n] : b64(Math.floor(n / 64)) + B64[n % 64]);
    for (const name of ['gcide', 'wn']) {
      let body = '';
      const index = [];
      for (let e = 0; e < 150; e++) {
        const text = `${name}${e}\n${Array.from({ length: 12 }, () => words[Math.floor(rnd() ** 2 * words.length)]).join(' ')}\n`;
        index.push(`${name}${e}\t${b64(Buffer.byteLength(body))}\t${b64(Buffer.byteLength(text))}`);
        body += text;
      }
      writeFileSync(join(dictd, `${name}.index`), `${index.join('\n')}\n`);
      writeFileSync(join(dictd, `${name}.dict.dz`), gzipSync(body));
    }
    const out = join(dir, 'text-out');
    const args = ['bench', 'inverted', '--dictd', dictd, '--work', join(dir, 'text-work'), '--queries', '50', '--rounds', '1'];
    const r = recallIn([...args, '--libs', 'naive,minisearch,recall', '--out-dir', out, '--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const res = JSON.parse(r.stdout);
    assert.deepEqual(
      res.rows.map((x) => x.lib),
      ['naive', 'minisearch', 'recall'],
    );
    assert.ok(
      res.rows.every((x) => x.docs === 300),
      'every entry of both databases',
    );
    // the same queries, the same documents: AND hit counts agree between the oracle and MiniSearch
    assert.equal(res.rows[0].and2.meanHits, res.rows[1].and2.meanHits);
    assert.ok(existsSync(join(cache, 'recall', 'peers', 'node_modules', 'minisearch', 'package.json')));
    const missing = recallIn(['bench', 'inverted', '--dictd', join(dir, 'no-dictd'), '--work', join(dir, 'text-work-2'), '--out-dir', out]);
    assert.equal(missing.status, 2, missing.stderr);
    assert.match(missing.stderr, /apt-get install dict-gcide dict-wn/);
  });

  it('recall bench x2i runs at a tiny size from the copy, its data generated into the cache', () => {
    const r = recallIn(['bench', 'x2i', '--users', '2000', '--items', '20000', '--events', '20000', '--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(
      out.rows.map((x) => x.algo),
      ['cosine', 'swing'],
    );
    for (const row of out.rows) {
      assert.ok(row.floor.cpuS > 0 && row.ours.threads1.computeCpuS > 0);
      // the same formulas: the floor and recall find the planted partners equally often
      assert.equal(row.ours.threads1.recall10, row.floor.recall10);
      assert.ok(row.floor.recall10 > 0.1, `${row.algo}: partner recall@10 ${row.floor.recall10}`);
    }
    assert.ok(existsSync(join(cache, 'recall', 'x2i', 'x2i-2000-20000-20000.bin')));
  });
});
