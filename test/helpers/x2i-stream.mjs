// Shared by the x2i stream tests and scripts/x2i-stream-kill.mjs: DuckDB-written interaction
// files, batch builds, and the comparison of two sets of lists.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openIndex } from '../../dist/api/index.js';
import { buildX2i } from '../../dist/core/channels/x2i/build.js';

/** `files` parquet files of interactions (string users, sparse skewed item ids, times, weights) in `dir`; returns their paths and item ids. */
export async function writeInteractions(dir, { seed, files, rows, users = 40, items = 30 }) {
  mkdirSync(dir, { recursive: true });
  const c = await (await DuckDBInstance.create(':memory:')).connect();
  await c.run(`select setseed(${seed})`);
  const paths = [];
  for (let f = 0; f < files; f++) {
    const path = join(dir, `b${String(f).padStart(3, '0')}.parquet`);
    await c.run(`copy (
        select 'u' || floor(pow(random(), 1.5) * ${users})::varchar as user_id,
               1000 + 7 * floor(pow(random(), 2) * ${items})::bigint as item_id,
               (1767225600 + ${f * 3600} + floor(random() * 7200))::bigint as ts,
               (1 + floor(random() * 3))::double as w
        from range(${rows})
      ) to '${path}' (format parquet)`);
    paths.push(path);
  }
  const ids = (await c.runAndReadAll(`select distinct item_id::varchar i from read_parquet(${JSON.stringify(paths).replaceAll('"', "'")})`))
    .getRowObjectsJson()
    .map((r) => BigInt(r.i));
  c.closeSync();
  return { paths, ids };
}

export const ALGOS = ['cooc', 'cosine', 'jaccard', 'condprob', 'iuf', 'decay', 'swing'];

/** The compute options of a small build: caps that bite, Swing's item-user sample too (popular items hold ~40 users). */
export function compute(algo) {
  return {
    algo,
    topK: 5,
    minScore: 0,
    minCommon: 1,
    threads: 2,
    userCap: 8,
    minUserItems: 2,
    maxUserItems: 1000,
    alpha: 0.5,
    tauSeconds: 3600,
    alpha1: 15,
    alpha2: 1,
    beta: 0.3,
    itemUserCap: 6,
    seed: 3n,
  };
}

export async function build(out, inputs, algo, { keepState, weight } = {}) {
  return buildX2i({
    inputs,
    out,
    interactions: { user: 'user_id', item: 'item_id', ts: 'ts', weight: weight ? 'w' : undefined, compute: compute(algo) },
    topK: 0,
    keepState,
  });
}

/** Every key's list (missing keys as empty), through the library API, with the WAL when given. */
export async function listsOf(index, ids, wal) {
  const x = await openIndex(index, wal ? { wal } : {});
  try {
    const r = await x.x2i.get(ids, { top: 0 });
    const out = new Map();
    r.results.forEach((a, k) => out.set(ids[k], a.found && !a.deleted ? a.items.map((e) => [BigInt(e.item), e.score]) : []));
    return out;
  } finally {
    x.close();
  }
}

/** Same keys and lengths, scores within 1e-6 relative, the same items except among tied scores. */
export function assertSameLists(got, want, what) {
  const close = (a, b) => Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b));
  let edges = 0;
  for (const [k, w] of want) {
    const g = got.get(k) ?? [];
    assert.equal(g.length, w.length, `${what}: key ${k}: ${JSON.stringify(g, big)} vs ${JSON.stringify(w, big)}`);
    for (let p = 0; p < w.length; p++) {
      assert.ok(close(g[p][1], w[p][1]), `${what}: key ${k} at ${p}: ${JSON.stringify(g, big)} vs ${JSON.stringify(w, big)}`);
      if (g[p][0] !== w[p][0])
        assert.ok(
          w.some((x) => x[0] === g[p][0] && close(x[1], g[p][1])) || close(w[w.length - 1][1], g[p][1]),
          `${what}: key ${k} at ${p}: ${JSON.stringify(g, big)} vs ${JSON.stringify(w, big)}`,
        );
    }
    edges += w.length;
  }
  return edges;
}

const big = (_k, v) => (typeof v === 'bigint' ? String(v) : v);
