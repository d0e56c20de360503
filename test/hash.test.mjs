// The routing hash against an independent implementation (xxhash-wasm, the
// reference C code compiled to WebAssembly), on random and edge keys, over
// int64 keys, Arrow string columns and the CLI.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { vectorFromArray, Utf8, LargeUtf8 } from 'apache-arrow';
import xxhash from 'xxhash-wasm';
import { loadNative } from '../dist/core/native.js';
import { recall, recallWarm } from './helpers/cli.mjs';

const native = loadNative();
const { h64Raw } = await xxhash();
const le64 = (v) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, BigInt.asIntN(64, v), true);
  return b;
};

function rng(seed) {
  let s = BigInt(seed);
  return () => {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return s;
  };
}

describe('xxHash64 routing hash', () => {
  it('agrees with xxhash-wasm on 100,000 random int64 keys and the edges', () => {
    const next = rng(42);
    const keys = BigInt64Array.from({ length: 100_000 }, () => BigInt.asIntN(64, next()));
    const edges = [0n, -1n, 1n, 2n ** 63n - 1n, -(2n ** 63n)];
    keys.set(edges);
    const ours = native.hashInt64(keys);
    for (let i = 0; i < keys.length; i++) assert.equal(ours[i], h64Raw(le64(keys[i]), 0n), `key ${keys[i]}`);
    const seeded = native.hashInt64(keys.subarray(0, 100), 12345n);
    for (let i = 0; i < 100; i++) assert.equal(seeded[i], h64Raw(le64(keys[i]), 12345n));
  });

  it('agrees on 100,000 random byte strings of length 0..100, the empty string among them', () => {
    const next = rng(7);
    const strings = Array.from({ length: 100_000 }, (_, i) => {
      const len = i === 0 ? 0 : Number(next() % 101n);
      return Uint8Array.from({ length: len }, () => Number(next() & 0xffn));
    });
    const offsets = new Int32Array(strings.length + 1);
    strings.forEach((s, i) => (offsets[i + 1] = offsets[i] + s.length));
    const data = new Uint8Array(offsets.at(-1));
    strings.forEach((s, i) => data.set(s, offsets[i]));
    const ours = native.hashStrings(offsets, data);
    for (let i = 0; i < strings.length; i++) assert.equal(ours[i], h64Raw(strings[i], 0n), `row ${i}`);
    assert.equal(native.xxh64(''), 0xef46db3751d8e999n);
    assert.equal(native.xxh64(new Uint8Array(0)), h64Raw(new Uint8Array(0), 0n));
  });

  it('hashes Arrow Utf8 and LargeUtf8 columns in place, nulls as empty', () => {
    const values = ['item-1', '', 'ünïcødé', '商品 42', null, 'x'.repeat(1000)];
    for (const type of [new Utf8(), new LargeUtf8()]) {
      const data = vectorFromArray(values, type).data[0];
      // Arrow may over-allocate the offsets buffer: view exactly length + 1.
      const offsets = data.valueOffsets.subarray(data.offset, data.offset + data.length + 1);
      const hashes = native.hashStrings(offsets, data.values);
      values.forEach((v, i) => assert.equal(hashes[i], h64Raw(new TextEncoder().encode(v ?? ''), 0n), `${type} row ${i}`));
    }
  });

  it('refuses broken offsets with the row', () => {
    assert.throws(
      () => native.hashStrings(Int32Array.of(0, 9, 3), new Uint8Array(4)),
      (e) => e.code === 'ERR_RECALL_INVALID_ARG' && /row 0/.test(e.message),
    );
  });

  it('routes keys from the CLI the same way (args, stdin, --json)', async () => {
    const r = await recallWarm(['hash', 'item-1', 'item-2', '--shards', '16', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    for (const k of out.keys) {
      const h = h64Raw(new TextEncoder().encode(k.key), 0n);
      assert.equal(k.hash, h.toString(16).padStart(16, '0'));
      assert.equal(k.shard, Number(h % 16n));
    }
    const ints = await recall(['hash', '--type', 'int64', '--shards', '3'], { input: '-1\n9223372036854775807\n0\n' });
    assert.equal(ints.code, 0, ints.stderr);
    const [header, ...lines] = ints.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    assert.deepEqual(header, ['key', 'hash', 'shard', 'type'], 'a TSV header line');
    assert.deepEqual(
      lines.map((l) => l[0]),
      ['-1', '9223372036854775807', '0'],
    );
    for (const [key, hash, shard] of lines) {
      const h = h64Raw(le64(BigInt(key)), 0n);
      assert.equal(hash, h.toString(16).padStart(16, '0'));
      assert.equal(Number(shard), Number(h % 3n));
    }
    // a bad key on the command line is a bad argument (2); on stdin, bad data naming the row (3)
    const bad = await recallWarm(['hash', '--type', 'int64', 'abc']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"abc" is not an integer \(argument 1\)/);
    const badIn = await recall(['hash', '--key-type', 'int64'], { input: '1\nabc\n' });
    assert.equal(badIn.code, 3);
    assert.match(badIn.stderr, /stdin: row 1: key "abc" is not an integer/);
  });
});
