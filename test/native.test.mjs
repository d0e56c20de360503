// The Rust addon seen from JS: its API surface, ISA tiers, errors, panics,
// cancellation and worker threads.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Piscina from 'piscina';
import { loadNative } from '../dist/core/native.js';
import { root } from './helpers/cli.mjs';

const native = loadNative();

// A small seeded generator, so failures reproduce.
function rng(seed) {
  let s = BigInt(seed);
  return () => {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return Number(s >> 33n) / 2 ** 31;
  };
}

describe('native addon', () => {
  it('exports exactly the functions src/core/native.ts declares', async () => {
    const src = (await import('node:fs')).readFileSync(join(root, 'src/core/native.ts'), 'utf8');
    const iface = src.slice(src.indexOf('export interface Native {'));
    const declared = [...iface.slice(0, iface.indexOf('\n}')).matchAll(/^\s+(\w+)\(/gm)].map((m) => m[1]).sort();
    assert.deepEqual(Object.keys(native).sort(), declared);
  });

  it('gives bit-identical kernel results on every ISA tier (lengths 0..130 and 768)', () => {
    const tiers = native.cpuInfo().supported;
    assert.ok(tiers.includes('scalar'));
    const next = rng(1);
    for (const n of [...Array(131).keys(), 768]) {
      const a = Float32Array.from({ length: n }, () => next() * 2 - 1);
      const b = Float32Array.from({ length: n }, () => next() * 2 - 1);
      const ah = native.f32ToF16(a);
      const bh = native.f32ToF16(b);
      const ai = Int8Array.from({ length: n }, () => Math.floor(next() * 256) - 128);
      const bi = Int8Array.from({ length: n }, () => Math.floor(next() * 256) - 128);
      const run = (isa) => [
        native.dotF32(a, b, isa),
        native.l2sqF32(a, b, isa),
        native.dotF16(ah, bh, isa),
        native.l2sqF16(ah, bh, isa),
        native.dotI8(ai, bi, isa),
        native.l2sqI8(ai, bi, isa),
      ];
      const scalar = run('scalar');
      for (const isa of tiers) assert.deepEqual(run(isa), scalar, `${isa} n=${n}`);
      // and right: against a float64 reference
      let dot = 0;
      let l2 = 0;
      let doti = 0;
      for (let i = 0; i < n; i++) {
        dot += a[i] * b[i];
        l2 += (a[i] - b[i]) ** 2;
        doti += ai[i] * bi[i];
      }
      assert.ok(Math.abs(scalar[0] - dot) < 1e-5 * (n + 1), `dot n=${n}`);
      assert.ok(Math.abs(scalar[1] - l2) < 1e-5 * (n + 1), `l2 n=${n}`);
      assert.equal(scalar[4], doti);
    }
  });

  it('RECALL_ISA forces the process-wide tier', () => {
    for (const isa of ['scalar', 'avx2']) {
      const out = spawnSync(
        process.execPath,
        ['-e', `console.log(require(${JSON.stringify(join(root, 'build/Release/recall.node'))}).cpuInfo().selected)`],
        {
          env: { ...process.env, RECALL_ISA: isa },
          encoding: 'utf8',
        },
      );
      const supported = native.cpuInfo().supported.includes(isa);
      assert.equal(out.stdout.trim(), supported ? isa : native.cpuInfo().detected);
    }
  });

  it('converts f16 both ways exactly where f16 is exact', () => {
    const exact = Float32Array.from([0, -0, 1, -2, 0.5, 65504, 2 ** -24, 1 / 1024, Infinity, -Infinity]);
    assert.deepEqual(native.f16ToF32(native.f32ToF16(exact)), exact);
    assert.deepEqual([...native.f32ToF16(Float32Array.of(1, -2, 65536))], [0x3c00, 0xc000, 0x7c00]);
    assert.ok(Number.isNaN(native.f16ToF32(native.f32ToF16(Float32Array.of(NaN)))[0]));
  });

  it('turns a Rust panic into a JS error and keeps working', () => {
    assert.throws(
      () => native.panicForTest(),
      (e) => e.code === 'ERR_RECALL_PANIC' && /index out of bounds/.test(e.message),
    );
    assert.equal(native.dotF32(Float32Array.of(1, 2), Float32Array.of(3, 4)), 11);
  });

  it('rejects bad arguments with stable codes', () => {
    assert.throws(() => native.dotF32([1, 2], Float32Array.of(1, 2)), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => native.dotF32(Float32Array.of(1), Float32Array.of(1, 2)), { code: 'ERR_RECALL_LENGTH_MISMATCH' });
    assert.throws(() => native.dotI8(new Int8Array(2), new Int8Array(2), 'sse9'), { code: 'ERR_RECALL_INVALID_ARG' });
    assert.throws(() => native.shardsOf(new BigUint64Array(2), 0), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => native.cancel({}), { code: 'ERR_INVALID_ARG_TYPE' });
    // subarray views are read at their offset
    const big = Float32Array.of(9, 1, 2, 9);
    assert.equal(native.dotF32(big.subarray(1, 3), Float32Array.of(1, 1)), 3);
  });

  it('rejects (never throws) from async work, and honours a cancel token', async () => {
    const p = native.containerVerify(42);
    assert.ok(p instanceof Promise);
    await assert.rejects(p, { code: 'ERR_INVALID_ARG_TYPE' });
    const token = native.cancelToken();
    native.cancel(token);
    await assert.rejects(native.containerVerify(join(root, 'fixtures/container/sample-v1.rcl'), token), { code: 'ERR_RECALL_CANCELLED' });
  });

  it('loads and works in piscina worker threads', async () => {
    const pool = new Piscina({ filename: new URL('./helpers/hash-worker.mjs', import.meta.url).href, minThreads: 2, maxThreads: 2 });
    try {
      const keys = BigInt64Array.from({ length: 1000 }, (_, i) => BigInt(i) * 7919n - 5000n);
      const parts = await Promise.all([0, 1, 2, 3].map((k) => pool.run(keys.slice(k * 250, (k + 1) * 250))));
      const joined = parts.flatMap((p) => [...p]);
      assert.deepEqual(joined, [...native.hashInt64(keys)]);
    } finally {
      await pool.destroy();
    }
  });
});
