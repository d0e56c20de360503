// x2i lists from interactions: every algorithm equals a brute-force
// implementation written straight from the definitions in specs/x2i.md on a
// small random world (DuckDB-written parquet); threads do not change a byte.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { recallWarm, scratchDir } from './helpers/cli.mjs';

const dir = scratchDir('x2icf');
after(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'events.parquet');
let events;

before(async () => {
  const c = await (await DuckDBInstance.create(':memory:')).connect();
  await c.run('select setseed(0.11)');
  // 60 users (string ids), 25 items (sparse integer ids), 1..8 events each, repeats, times in seconds
  await c.run(`copy (
      select 'u' || (u * 37 % 101)::varchar as user_id, 1000 + 7 * floor(pow(random(), 2) * 25)::bigint as item_id,
             (1767225600 + floor(random() * 86400 * 3))::bigint as ts
      from (select range as u from range(60)), range(8) e where e.range < 1 + (u * 13 % 8)
    ) to '${file}' (format parquet)`);
  events = (await c.runAndReadAll(`select user_id, item_id::varchar item, ts::double ts from '${file}'`)).getRowObjectsJson();
});

/** The definitions, by brute force over all item pairs. */
function brute(algo) {
  const byUser = new Map(); // user -> Map(item -> latest ts)
  for (const e of events) {
    const m = byUser.get(e.user_id) ?? new Map();
    m.set(e.item, Math.max(m.get(e.item) ?? -Infinity, e.ts));
    byUser.set(e.user_id, m);
  }
  const items = [...new Set(events.map((e) => e.item))].sort((a, b) => Number(a) - Number(b));
  const usersOf = (i) => [...byUser.keys()].filter((u) => byUser.get(u).has(i));
  const out = new Map();
  for (const i of items) {
    const Ui = usersOf(i);
    const row = [];
    for (const j of items) {
      if (j === i) continue;
      const Uj = usersOf(j);
      const common = Ui.filter((u) => byUser.get(u).has(j));
      const [ni, nj, c] = [Ui.length, Uj.length, common.length];
      if (c === 0) continue;
      let s;
      if (algo === 'cooc') s = c;
      else if (algo === 'cosine') s = c / Math.sqrt(ni * nj);
      else if (algo === 'jaccard') s = c / (ni + nj - c);
      else if (algo === 'condprob') s = c / (ni * Math.pow(nj, 0.5));
      else if (algo === 'iuf') s = common.reduce((a, u) => a + 1 / Math.log(1 + byUser.get(u).size), 0) / Math.sqrt(ni * nj);
      else if (algo === 'decay')
        s = common.reduce((a, u) => a + 1 / (1 + Math.abs(byUser.get(u).get(i) - byUser.get(u).get(j)) / 86400), 0) / Math.sqrt(ni * nj);
      else if (algo === 'swing') {
        s = 0;
        const w = (u) => Math.pow(15 + byUser.get(u).size, -0.3);
        for (let x = 0; x < common.length; x++) {
          for (let y = x + 1; y < common.length; y++) {
            const [u, v] = [common[x], common[y]];
            const inter = [...byUser.get(u).keys()].filter((t) => byUser.get(v).has(t)).length;
            s += (w(u) * w(v)) / (0 + inter);
          }
        }
      }
      if (s > 0) row.push({ item: j, score: s });
    }
    row.sort((a, b) => b.score - a.score || Number(a.item) - Number(b.item));
    out.set(i, row);
  }
  return out;
}

async function build(out, algo, threads = 2) {
  const r = await recallWarm([
    'build',
    'x2i',
    '--from-interactions',
    '-i',
    file,
    '--user',
    'user_id',
    '--item',
    'item_id',
    '--ts',
    'ts',
    '--algo',
    algo,
    '--top-k',
    '0',
    '--threads',
    String(threads),
    '--item-user-cap',
    '1000',
    '-o',
    out,
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('x2i from interactions', () => {
  for (const algo of ['cooc', 'cosine', 'jaccard', 'condprob', 'iuf', 'decay', 'swing']) {
    it(`${algo} equals the brute-force definition`, async () => {
      const out = join(dir, algo);
      await build(out, algo);
      const want = brute(algo);
      const keys = [...want.keys()];
      const q = await recallWarm(['query', 'x2i', '--index', out, '--keys', keys.join(','), '--k', '0', '--json']);
      const got = JSON.parse(q.stdout);
      assert.equal(got.found, keys.length, 'every item with an interaction is a key');
      let pairs = 0;
      for (const [n, key] of keys.entries()) {
        const w = want.get(key);
        const g = got.results[n].items;
        assert.deepEqual(g.map((x) => x.item).sort(), w.map((x) => x.item).sort(), `${algo} row ${key}: items`);
        const ws = new Map(w.map((x) => [x.item, x.score]));
        for (const x of g)
          assert.ok(
            Math.abs(x.score - ws.get(x.item)) <= 1e-6 * Math.max(1, ws.get(x.item)),
            `${algo} ${key}->${x.item}: ${x.score} vs ${ws.get(x.item)}`,
          );
        for (let p = 1; p < g.length; p++) {
          assert.ok(
            g[p - 1].score > g[p].score || (g[p - 1].score === g[p].score && Number(g[p - 1].item) < Number(g[p].item)),
            `${algo} ${key}: order`,
          );
        }
        pairs += g.length;
      }
      assert.ok(pairs > 50, `${algo}: the world has pairs (${pairs})`);
    });
  }

  it('the thread count does not change a byte', async () => {
    const [a, b] = [join(dir, 't1'), join(dir, 't2')];
    await build(a, 'swing', 1);
    await build(b, 'swing', 2);
    const f = 'v00000001/shard-00000-of-00001.rx2i';
    assert.deepEqual(readFileSync(join(a, f)), readFileSync(join(b, f)));
  });

  it('refuses a null item with its row', async () => {
    const bad = join(dir, 'bad.parquet');
    const c = await (await DuckDBInstance.create(':memory:')).connect();
    await c.run(
      `copy (select user_id, case when ts % 17 = 3 then null else item_id end item_id, ts from '${file}') to '${bad}' (format parquet)`,
    );
    const [{ row }] = (
      await c.runAndReadAll(
        `select (min(file_row_number))::int as "row" from read_parquet('${bad}', file_row_number = true) where item_id is null`,
      )
    ).getRowObjectsJson();
    const r = await recallWarm([
      'build',
      'x2i',
      '--from-interactions',
      '-i',
      bad,
      '--user',
      'user_id',
      '--item',
      'item_id',
      '-o',
      join(dir, 'bad-out'),
    ]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, new RegExp(`row ${row}: null item`));
  });
});
