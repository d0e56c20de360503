#!/usr/bin/env node
// recall eval over users with x2i + vector + text channels against a plain TypeScript evaluation loop
// over the same query results (one library call per user and channel, a straightforward merge and
// metrics), and the merge of 3 channels x 500 candidates per request on one core.
// EVAL_USERS (default 20000; the issue's figure is 100000), EVAL_LOOP_USERS (users the plain loop
// runs, default 2000: its users/s is measured on them), EVAL_RUNS (default 3: the replay and the
// plain loop each run that many times, alternating, and the best of each is kept: one run on this
// machine varies by a quarter). Writes bench/results/eval.json.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { evaluate, mergeCandidates, openIndex } from '../dist/api/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const USERS = Number(process.env.EVAL_USERS ?? 20000);
const LOOP_USERS = Math.min(USERS, Number(process.env.EVAL_LOOP_USERS ?? 2000));
const RUNS = Math.max(1, Number(process.env.EVAL_RUNS ?? 3));
const C = 200;
const PER = 100;
const DIM = 32;
const SPLIT = 800;
const dir = join(root, 'bench/data/eval');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const P = (f) => join(dir, f);

const t0 = Date.now();
{
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const c = await db.connect();
  await c.run('SELECT setseed(0.17)');
  await c.run(`COPY (SELECT u AS user_id,
      CASE WHEN random() < 0.85 THEN (u % ${C}) * ${PER} + CAST(floor(random() * ${PER}) AS BIGINT) ELSE CAST(floor(random() * ${C * PER}) AS BIGINT) END AS item_id,
      CAST(floor(random() * 1000) AS BIGINT) AS ts FROM range(${USERS}) r(u), range(20) e(j)) TO '${P('events.parquet')}' (FORMAT parquet)`);
  await c.run(`COPY (SELECT * FROM '${P('events.parquet')}' WHERE ts < ${SPLIT}) TO '${P('train.parquet')}' (FORMAT parquet)`);
  const centroid = (cl, noise) => `list_transform(range(${DIM}), j -> (sin(${cl} * 31 + j * 7) + (random() - 0.5) * ${noise})::FLOAT)`;
  await c.run(`COPY (SELECT i AS item_id, ${centroid(`(i // ${PER})`, 0.6)} AS embedding,
      'c' || (i // ${PER}) || 'a c' || (i // ${PER}) || 'b w' || CAST(floor(random() * 5000) AS BIGINT) || ' w' || CAST(floor(random() * 5000) AS BIGINT) AS title
      FROM range(${C * PER}) t(i)) TO '${P('items.parquet')}' (FORMAT parquet)`);
  await c.run(
    `COPY (SELECT u AS user_id, ${centroid(`(u % ${C})`, 1.5)} AS vector FROM range(${USERS}) t(u)) TO '${P('user-vectors.parquet')}' (FORMAT parquet)`,
  );
  await c.run(
    `COPY (SELECT u AS user_id, 'c' || (u % ${C}) || 'a w' || CAST(floor(random() * 5000) AS BIGINT) AS text FROM range(${USERS}) t(u)) TO '${P('user-text.parquet')}' (FORMAT parquet)`,
  );
  c.closeSync();
  db.closeSync();
}
const merge = {
  k: 200,
  fusion: 'rrf',
  channels: { x2i: { quota: 200 }, vector: { quota: 100, weight: 0.5 }, text: { quota: 100, weight: 0.5 } },
  seeds: 10,
};
writeFileSync(
  P('recall.config.json'),
  JSON.stringify({
    out: P('out'),
    shards: 2,
    sources: { events: { inputs: [P('train.parquet')], key: 'item_id' }, items: { inputs: [P('items.parquet')], key: 'item_id' } },
    channels: [
      { name: 'x2i', kind: 'x2i', source: 'events', fromInteractions: true, user: 'user_id', ts: 'ts', topK: 100 },
      { name: 'vector', kind: 'vector', source: 'items', vector: 'embedding', type: 'hnsw' },
      { name: 'text', kind: 'inverted', source: 'items', text: ['title'] },
    ],
    merge,
  }),
);
execFileSync(process.execPath, [join(root, 'bin/run.js'), 'build', '--config', P('recall.config.json'), '-q']);
console.log(`data + build: ${((Date.now() - t0) / 1000).toFixed(1)} s (${USERS} users, ${C * PER} items)`);

// 1. recall eval (the library function the command runs): batched channel calls, fusion, metrics, bootstrap
const ks = [10, 50, 200];
const common = {
  index: P('out'),
  merge,
  interactions: P('events.parquet'),
  splitTime: String(SPLIT),
  userVectors: P('user-vectors.parquet'),
  userText: P('user-text.parquet'),
  ks,
  resamples: 200,
  threads: cpus().length,
};
const e0 = process.hrtime.bigint();
const report = await evaluate(common);
const evalSeconds = Number(process.hrtime.bigint() - e0) / 1e9;
const v = report.versions[0];
const m = (scope, metric, k) => v.metrics.find((x) => x.scope === scope && x.metric === metric && x.k === k).mean;
console.log(
  `eval: ${report.users} users in ${evalSeconds.toFixed(2)} s incl. loading and bootstrap = ${Math.round(report.users / evalSeconds)} users/s; replay alone ${v.usersPerSecond} users/s`,
);
console.log(
  `  recall@50: x2i ${m('x2i', 'recall', 50).toFixed(4)}, vector ${m('vector', 'recall', 50).toFixed(4)}, text ${m('text', 'recall', 50).toFixed(4)}, merged ${m('merged', 'recall', 50).toFixed(4)}`,
);

// 2. the plain loop over the same users (the first LOOP_USERS of the report's users, same inputs): one call per user and channel
const lists = [];
await evaluate({ ...common, maxUsers: LOOP_USERS, resamples: 10, onLists: (_, users, l) => lists.push({ users, l }) });
const { users: loopUsers, l: batchedLists } = lists[0];
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
const rows = (await c.runAndReadAll(`SELECT user_id::VARCHAR u, item_id::VARCHAR i, ts FROM '${P('events.parquet')}'`)).getRowObjects();
const vecs = new Map(
  (await c.runAndReadAll(`SELECT user_id::VARCHAR u, vector FROM '${P('user-vectors.parquet')}'`))
    .getRowObjectsJson()
    .map((r) => [r.u, r.vector]),
);
const texts = new Map(
  (await c.runAndReadAll(`SELECT user_id::VARCHAR u, text FROM '${P('user-text.parquet')}'`)).getRowObjects().map((r) => [r.u, r.text]),
);
c.closeSync();
const hist = new Map();
const fut = new Map();
for (const r of rows) {
  const mp = Number(r.ts) < SPLIT ? hist : fut;
  if (!mp.has(r.u)) mp.set(r.u, []);
  mp.get(r.u).push(r);
}
const ix = await openIndex(P('out'));
let loopRecall = 0;
let same = 0;
async function plainLoop() {
  loopRecall = 0;
  same = 0;
  const l0 = process.hrtime.bigint();
  for (const [n, u] of loopUsers.entries()) {
    const h = (hist.get(u) ?? []).slice();
    const last = new Map();
    for (const r of h) last.set(r.i, Math.max(last.get(r.i) ?? -1, Number(r.ts)));
    const seen = [...last.keys()].sort((a, b) => last.get(b) - last.get(a) || (a < b ? -1 : 1));
    const truth = new Set((fut.get(u) ?? []).map((r) => r.i).filter((i) => !last.has(i)));
    const acc = new Map();
    for (const s of seen.slice(0, merge.seeds))
      for (const x of ix.x2i.get([s], { top: 200 }).results[0].items) acc.set(x.item, (acc.get(x.item) ?? 0) + x.score);
    const x2 = [...acc].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 200);
    const vr = await ix.vector.search(Float32Array.from(vecs.get(u)), { k: 100 });
    const tr = await ix.text.search(texts.get(u), { k: 100, defaultOr: true });
    const got = [
      { channel: 'x2i', items: x2.map((x) => x[0]), scores: x2.map((x) => x[1]) },
      { channel: 'vector', items: vr.ids[0].map(String), scores: vr.distances[0].map((d) => -d) },
      { channel: 'text', items: tr.hits.map((x) => String(x.id)), scores: tr.hits.map((x) => x.score) },
    ];
    const merged = mergeCandidates(got, { ...merge, k: 200 }, { exclude: new Set(seen) }).map((x) => x.item);
    const top = merged.slice(0, 50);
    loopRecall += top.filter((x) => truth.has(x)).length / truth.size;
    if (JSON.stringify(merged) === JSON.stringify(batchedLists[n].merged)) same++;
  }
  return Number(process.hrtime.bigint() - l0) / 1e9;
}
// best of RUNS, alternating the replay (again, as in step 1) and the plain loop
let loopSeconds = await plainLoop();
let bestReplay = v.usersPerSecond;
for (let r = 1; r < RUNS; r++) {
  const again = await evaluate(common);
  bestReplay = Math.max(bestReplay, again.versions[0].usersPerSecond);
  loopSeconds = Math.min(loopSeconds, await plainLoop());
}
await ix.close();
const loopUps = loopUsers.length / loopSeconds;
console.log(
  `plain loop: ${loopUsers.length} users in ${loopSeconds.toFixed(2)} s = ${Math.round(loopUps)} users/s; same merged lists as eval for ${same}/${loopUsers.length} users; recall@50 ${(loopRecall / loopUsers.length).toFixed(4)}`,
);
const ratio = bestReplay / loopUps;
console.log(
  `ratio (eval replay / plain loop, best of ${RUNS} each): ${bestReplay} / ${Math.round(loopUps)} users/s = ${ratio.toFixed(1)}x (goal >= 10x)`,
);

// 3. merge: 3 channels x 500 candidates per request, one core
let s = 7;
const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const reqs = Array.from({ length: 200 }, () =>
  ['x2i', 'vector', 'text'].map((channel) => {
    const items = Array.from({ length: 500 }, () => String(Math.floor(rnd() * 3000)));
    return { channel, items, scores: Float64Array.from({ length: 500 }, (_, i) => 500 - i + rnd()) };
  }),
);
const spec = {
  k: 200,
  fusion: 'weighted',
  channels: { x2i: { quota: 500 }, vector: { quota: 500, weight: 0.5 }, text: { quota: 500, weight: 0.5 } },
};
const mergeRate = {};
for (const fusion of ['weighted', 'rrf']) {
  let n = 0;
  const m0 = process.hrtime.bigint();
  while (Number(process.hrtime.bigint() - m0) < 2e9) for (const r of reqs) mergeCandidates(r, { ...spec, fusion }), n++;
  mergeRate[fusion] = Math.round(n / (Number(process.hrtime.bigint() - m0) / 1e9));
  console.log(`merge 3 x 500 (${fusion}): ${mergeRate[fusion]} requests/s on one core`);
}
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(
  join(root, 'bench/results/eval.json'),
  `${JSON.stringify(
    {
      bench: 'eval',
      date: new Date().toISOString(),
      cpus: cpus().length,
      users: report.users,
      evalSeconds,
      evalUsersPerSecond: report.users / evalSeconds,
      replayUsersPerSecond: bestReplay,
      runs: RUNS,
      msPerUser: v.msPerUser,
      loopUsers: loopUsers.length,
      loopUsersPerSecond: loopUps,
      ratio,
      sameMergedLists: same,
      mergeRequestsPerSecond: mergeRate,
    },
    null,
    2,
  )}\n`,
);
