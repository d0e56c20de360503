// The library API (`import { openIndex } from 'recall'`): every channel read through openIndex
// equals the CLI and brute force; reload() under concurrent queries never mixes versions; the WAL
// tail is followed; the shipped .d.ts type-checks a consumer; examples/serve.mjs serves lookups
// while new versions are published.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { recallWarm, root, scratchDir } from './helpers/cli.mjs';

const dir = scratchDir('api');
after(() => rmSync(dir, { recursive: true, force: true }));
const out = join(dir, 'out');
const KEYS = 600;
const DIM = 8;
const N = 300;

async function run(args) {
  const r = await recallWarm([...args, '--json']);
  assert.equal(r.code, 0, `recall ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

let duck;
/** x2i generation g: key i lists items i*10+1..3 with scores g*10+3, +2, +1 (so an answer tells its generation). */
async function publishX2i(g) {
  const file = join(dir, `lists-${g}.parquet`);
  await duck.run(`copy (select i::bigint item_id, [i*10+1, i*10+2, i*10+3]::bigint[] neighbors,
    [${g}*10+3, ${g}*10+2, ${g}*10+1]::float[] scores from range(${KEYS}) t(i)) to '${file}' (format parquet)`);
  const shards = join(dir, `shards-${g}`);
  await run(['shard', '-i', file, '-k', 'item_id', '-n', '3', '-o', shards]);
  return run(['build', 'x2i', '-i', shards, '-k', 'item_id', '--neighbors', 'neighbors', '--scores', 'scores', '-o', join(out, 'x2i')]);
}

const rows = Array.from({ length: N }, (_, i) => Array.from({ length: DIM }, (_, j) => Math.fround(Math.sin(i * 7.1 + j * 1.3) * 10)));
const publishVector = () => run(['build', 'vector', '-i', join(dir, 'train.f32'), '--type', 'flat', '-o', join(out, 'vector')]);
const l2 = (a, b) => Math.sqrt(a.reduce((s, x, j) => s + (x - b[j]) ** 2, 0));
const nearest = (q, k) =>
  rows
    .map((r, id) => ({ id: BigInt(id), d: l2(q, r) }))
    .sort((a, b) => a.d - b.d || Number(a.id - b.id))
    .slice(0, k)
    .map((x) => x.id);
const docs = Array.from({ length: 60 }, (_, i) => ({
  id: `d${i}`,
  text: `${i % 3 === 0 ? 'apple' : 'pear'} pie number ${i} ${i % 5 === 0 ? 'crumble' : ''}`,
}));

before(async () => {
  duck = await (await DuckDBInstance.create(':memory:')).connect();
  await publishX2i(1);
  const fbin = Buffer.alloc(8 + N * DIM * 4);
  fbin.writeUInt32LE(N, 0);
  fbin.writeUInt32LE(DIM, 4);
  rows.flat().forEach((x, i) => fbin.writeFloatLE(x, 8 + 4 * i));
  writeFileSync(join(dir, 'train.f32'), fbin);
  await publishVector();
  writeFileSync(join(dir, 'docs.jsonl'), docs.map((d) => JSON.stringify(d)).join('\n'));
  await run(['build', 'inverted', '--input', join(dir, 'docs.jsonl'), '--id', 'id', '--text', 'text', '--out', join(out, 'text')]);
});

const { openIndex, shardOf, routingHash } = await import('recall');

/** Every answer of one x2i call must come from one generation, the one its version was built from. */
function generationOf(res) {
  const gens = new Set(res.results.filter((a) => a.from !== 'wal').map((a) => (a.found ? Math.floor(a.items[0].score / 10) : 'missing')));
  assert.equal(gens.size, 1, `one call saw ${[...gens].join(', ')}`);
  const [g] = gens;
  assert.equal(g, res.version, `answers of generation ${g} labelled version ${res.version}`);
  return g;
}

describe('library API', () => {
  it('openIndex reads every channel like the CLI and brute force', async () => {
    const ix = await openIndex(out);
    assert.deepEqual(Object.keys(ix.channels).sort(), ['text', 'vector', 'x2i']);
    assert.deepEqual(ix.versions, { text: 1, vector: 1, x2i: 1 });
    // x2i: the CLI's answers, across the 3 shards
    const keys = [0, 5, 17, 299, 598, 123456];
    const cli = await run(['query', 'x2i', '--index', join(out, 'x2i'), '--keys', keys.join(','), '--top', '2']);
    const got = ix.x2i.get(keys, { top: 2 });
    assert.equal(got.version, 1);
    assert.deepEqual(got.results, cli.results);
    assert.equal(ix.x2i.shardCount, 3);
    assert.equal(new Set(keys.slice(0, 5).map((k) => shardOf(k, 3))).size > 1, true, 'the keys span shards');
    for (const a of got.results) assert.equal(a.shard, shardOf(BigInt(a.key), 3));
    const b = ix.x2i.getBatch(BigInt64Array.from(keys, BigInt), { top: 2 });
    assert.deepEqual([...b.found], [1, 1, 1, 1, 1, 0]);
    assert.deepEqual([...b.counts], [2, 2, 2, 2, 2, 0]);
    assert.deepEqual([...b.items.subarray(0, 2)], [1n, 2n]);
    assert.deepEqual([...b.scores.subarray(0, 2)], [13, 12]);
    assert.equal(typeof routingHash(5), 'bigint');
    // vector: a flat index is exact
    for (const q of [rows[3], rows[100].map((x) => x + 0.5)]) {
      const r = await ix.vector.search(Float32Array.from(q), { k: 5 });
      assert.equal(r.version, 1);
      assert.deepEqual(r.ids[0], nearest(q, 5));
    }
    assert.equal(ix.vector.dim, DIM);
    await assert.rejects(ix.vector.search(new Float32Array(DIM + 1), { k: 1 }), { code: 'ERR_RECALL_DIM_MISMATCH' });
    // text: the CLI's hits
    const t = await ix.text.search('apple crumble', { k: 5 });
    const tc = await run(['query', 'inverted', '--index', join(out, 'text'), '--q', 'apple crumble', '--k', '5']);
    assert.deepEqual(t.hits, tc.results[0].hits);
    assert.ok(t.hits.length > 0 && t.hits.every((h) => Number(h.id.slice(1)) % 15 === 0));
    await ix.close();
    assert.throws(() => ix.x2i.get([1]), { code: 'ERR_RECALL_CLOSED' });
    // one channel folder, one file
    const one = await openIndex(join(out, 'x2i'));
    assert.deepEqual(Object.keys(one.channels), ['x2i']);
    assert.deepEqual(one.x2i.get([5], { top: 2 }).results, cli.results.slice(1, 2));
    const file = await openIndex(join(out, 'vector', 'v00000001', 'shard-00000-of-00001.rvec'));
    assert.deepEqual((await file.vector.search(Float32Array.from(rows[3]), { k: 1 })).ids, [[3n]]);
    await assert.rejects(openIndex(join(dir, 'nope')), { code: 'ERR_RECALL_NO_SUCH_PATH' });
  });

  it('reload() under concurrent queries: each call sees one version, in-flight calls finish on theirs', async () => {
    const ix = await openIndex(out);
    const all = Array.from({ length: KEYS }, (_, i) => i);
    const seen = new Set();
    let stop = false;
    let calls = 0;
    const hammer = (async () => {
      while (!stop) {
        seen.add(generationOf(ix.x2i.get(all, { top: 1 })));
        const v = await ix.vector.search(Float32Array.from(rows[7]), { k: 3 });
        assert.deepEqual(v.ids[0], nearest(rows[7], 3));
        calls++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    const reloads = (async () => {
      while (!stop) {
        await ix.reload();
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await publishX2i(2);
    // a search in flight across the swap finishes on the version it started on
    const inflight = ix.vector.search(Float32Array.from(rows[9]), { k: 2 });
    await publishVector();
    while (ix.versions.x2i !== 2 || ix.versions.vector !== 2) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await inflight).version, 1);
    assert.equal((await ix.vector.search(Float32Array.from(rows[9]), { k: 2 })).version, 2);
    stop = true;
    await Promise.all([hammer, reloads]);
    assert.ok(calls > 5, `only ${calls} calls`);
    assert.deepEqual([...seen].sort(), [1, 2]);
    assert.equal(await ix.reload(), false, 'nothing new');
    await ix.close();
  });

  it('follows the WAL tail: reload() picks up appended records', async () => {
    const wal = join(dir, 'wal');
    const ix = await openIndex(join(out, 'x2i'), { wal });
    assert.equal(ix.x2i.get([5]).results[0].from, 2);
    writeFileSync(
      join(dir, 'w1.jsonl'),
      `${JSON.stringify({ op: 'upsert', key: 5, neighbors: [42], scores: [99] })}\n${JSON.stringify({ op: 'delete', key: 6 })}\n`,
    );
    await run(['wal', 'append', '--wal', wal, '--channel', 'x2i', '--input', join(dir, 'w1.jsonl')]);
    assert.equal(ix.x2i.get([5]).results[0].from, 2, 'a snapshot holds still until reload()');
    assert.equal(await ix.reload(), true);
    const r = ix.x2i.get([5, 6, 7]);
    assert.deepEqual(
      r.results.map((a) => [a.from, a.found, a.deleted, a.items]),
      [
        ['wal', true, false, [{ item: '42', score: 99 }]],
        ['wal', false, true, []],
        [
          2,
          true,
          false,
          [
            { item: '71', score: 23 },
            { item: '72', score: 22 },
            { item: '73', score: 21 },
          ],
        ],
      ],
    );
    assert.equal(r.walSeq, 2);
    const past = await openIndex(join(out, 'x2i'), { wal, asOf: 1 });
    assert.equal(past.x2i.get([6]).results[0].found, true, 'as of seq 1 key 6 was not deleted yet');
    assert.equal(await past.reload(), false);
    await Promise.all([ix.close(), past.close()]);
  });

  it('the shipped .d.ts type-checks a consumer, and catches a misuse', () => {
    const c = join(dir, 'consumer');
    mkdirSync(join(c, 'node_modules'), { recursive: true });
    symlinkSync(root, join(c, 'node_modules', 'recall'));
    symlinkSync(join(root, 'node_modules', '@types'), join(c, 'node_modules', '@types'));
    writeFileSync(join(c, 'package.json'), '{"type":"module"}');
    const tsconfig = {
      compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, types: ['node'] },
    };
    writeFileSync(join(c, 'tsconfig.json'), JSON.stringify({ ...tsconfig, files: ['ok.ts'] }));
    writeFileSync(
      join(c, 'ok.ts'),
      `import { openIndex, shardOf, routingHash, type X2iReader, type VectorReader, type TextHit } from 'recall';
const ix = await openIndex('out', { wal: 'out/wal' });
const x: X2iReader | undefined = ix.x2i;
const r = x?.get([1n, 2, '3'], { top: 5 });
const n: number | null | undefined = r?.version;
const first: string | undefined = r?.results[0]?.items[0]?.item;
const b = x?.getBatch(BigInt64Array.of(1n));
const items: BigInt64Array | undefined = b?.items;
const v: VectorReader | undefined = ix.vector;
const hits = await v?.search(new Float32Array(8), { k: 10, ef: 64, nprobe: 4, rerank: 20 });
const id: bigint | undefined = hits?.ids[0]?.[0];
const t: TextHit[] | undefined = (await ix.text?.search('apple', { k: 3 }))?.hits;
const s: number = shardOf(42n, 8);
const h: bigint = routingHash('user-1');
const changed: boolean = await ix.reload();
await ix.close();
console.log(n, first, items, id, t, s, h, changed);
`,
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const ok = spawnSync(process.execPath, [tsc, '-p', c], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    writeFileSync(join(c, 'tsconfig.json'), JSON.stringify({ ...tsconfig, files: ['bad.ts'] }));
    writeFileSync(
      join(c, 'bad.ts'),
      `import { openIndex } from 'recall';\nconst ix = await openIndex('out');\nix.vector?.search([1, 2], { k: 1 });\n`,
    );
    const bad = spawnSync(process.execPath, [tsc, '-p', c], { encoding: 'utf8' });
    assert.equal(bad.status, 2, bad.stdout);
    assert.match(
      bad.stdout,
      /bad\.ts\(3,19\): error TS2345: Argument of type 'number\[\]' is not assignable to parameter of type 'Float32Array/,
    );
  });

  it("the README's library example runs against a build output", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const block = /## Use it from Node: the library API[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(block, 'README has the example');
    assert.ok(block.split('\n').length <= 31, 'about 30 lines');
    const c = join(dir, 'consumer');
    const wal = join(dir, 'wal');
    const code = block
      .replaceAll("'demo-out/service'", JSON.stringify(out))
      .replaceAll("'demo-out/wal'", JSON.stringify(wal))
      // the example follows new versions forever; here it stops after one look
      .replace(/setInterval\(async \(\) => \{([\s\S]*?)\}, 1000\);/, 'await (async () => {$1})();');
    writeFileSync(join(c, 'readme-example.mjs'), `${code}\nawait index.close();\n`);
    const r = spawnSync(process.execPath, [join(c, 'readme-example.mjs')], { cwd: c, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^1 \[ '11', '12', '13' \]\n2 \[ '21', '22', '23' \]\n3 \[ '31', '32', '33' \]\n/);
  });

  it('examples/serve.mjs answers x2i, vector and text lookups while a new version is published', async () => {
    const wal = join(dir, 'serve-wal');
    const server = spawn(
      process.execPath,
      [join(root, 'examples', 'serve.mjs'), '--index', out, '--wal', wal, '--port', '0', '--poll-ms', '30'],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let log = '';
    server.stderr.on('data', (d) => (log += d));
    try {
      const base = await new Promise((resolve, reject) => {
        server.stdout.on('data', (d) => {
          log += d;
          const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
          if (m) resolve(m[1]);
        });
        server.on('exit', (code) => reject(new Error(`serve.mjs exited ${code}: ${log}`)));
      });
      const get = async (path) => {
        const res = await fetch(base + path);
        const body = await res.json();
        assert.equal(res.status, 200, `${path}: ${JSON.stringify(body)}`);
        return body;
      };
      const keys = Array.from({ length: KEYS }, (_, i) => i).join(',');
      const seen = new Set();
      let stop = false;
      let n = 0;
      const clients = Array.from({ length: 3 }, async () => {
        while (!stop) {
          const [x, v, t] = await Promise.all([
            get(`/x2i?keys=${keys}&top=1`),
            get(`/vector?v=${rows[11].join(',')}&k=3`),
            get('/text?q=pear%20pie&k=3'),
          ]);
          seen.add(generationOf(x));
          assert.deepEqual(v.ids, nearest(rows[11], 3).map(String));
          assert.equal(t.hits.length, 3);
          n++;
        }
      });
      await publishX2i(3);
      while (!seen.has(3)) await new Promise((r) => setTimeout(r, 20));
      // and the WAL tail
      writeFileSync(join(dir, 'w2.jsonl'), `${JSON.stringify({ op: 'upsert', key: 9, neighbors: [7], scores: [1.5] })}\n`);
      await run(['wal', 'append', '--wal', wal, '--channel', 'x2i', '--input', join(dir, 'w2.jsonl')]);
      let fromWal;
      while (!fromWal || fromWal.results[0].from !== 'wal') fromWal = await get('/x2i?keys=9');
      assert.deepEqual(fromWal.results[0].items, [{ item: '7', score: 1.5 }]);
      stop = true;
      await Promise.all(clients);
      assert.ok(seen.has(2) && seen.has(3), [...seen].join(','));
      assert.ok(n > 3, `${n} rounds`);
      const bad = await fetch(`${base}/x2i?keys=x`);
      assert.equal(bad.status, 400);
      assert.equal((await bad.json()).error.code, 'ERR_RECALL_BAD_KEY');
    } finally {
      server.kill('SIGTERM');
    }
  });
});
