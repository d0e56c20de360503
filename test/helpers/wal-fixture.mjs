// What the WAL test files share: the `recall --json` runner, the parquet fixtures, and a sharded
// x2i channel of the fixture lists (3 shards, top `topK`), built once per file and copied per test.
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { before } from 'node:test';
import { makeParquetFixtures } from './parquet-fixtures.mjs';
import { recall } from './cli.mjs';

export async function run(args, code = 0) {
  const r = await recall([...args, '--json']);
  assert.equal(r.code, code, `recall ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Registers a `before` that writes the fixtures under `dir`; `fx()` reads them, `channel(name)` copies the x2i channel. */
export function walFixture(dir, topK) {
  let fx;
  let pristine;
  before(async () => {
    fx = await makeParquetFixtures(join(dir, 'in'), 4000);
  });
  async function channel(name) {
    if (!pristine) {
      pristine = join(dir, 'pristine');
      await run(['shard', '-i', fx.x2i_snappy, '-k', 'item_id', '-n', '3', '-o', join(dir, 'shards')]);
      const lists = ['--neighbors', 'neighbors', '--scores', 'scores', '--top-k', String(topK)];
      await run(['build', 'x2i', '-i', join(dir, 'shards'), '-k', 'item_id', ...lists, '-o', pristine]);
    }
    const out = join(dir, name);
    cpSync(pristine, out, { recursive: true });
    return out;
  }
  return { fx: () => fx, channel };
}

/** Seeded xorshift. */
export function rng(seed) {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}
