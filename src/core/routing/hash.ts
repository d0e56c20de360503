/**
 * Key routing: xxHash64 (seed 0) over the key's canonical bytes, shard =
 * hash % N. The same function `recall shard` partitions with and a serving
 * process routes queries with (native/core/src/hash.rs has the definition).
 */
import { badInput } from '../errors.js';
import { loadNative } from '../native.js';

export type KeyType = 'string' | 'int64';
export const ROUTING_HASH = 'xxh64';

export interface RoutedKey {
  key: string;
  /** Hash as 16 lowercase hex digits. */
  hash: string;
  shard: number;
}

/** Hash and route a batch of keys in one native call. */
export function routeKeys(keys: string[], type: KeyType, shards: number, seed = 0n): RoutedKey[] {
  const native = loadNative();
  let hashes: BigUint64Array;
  if (type === 'int64') {
    const ints = new BigInt64Array(keys.length);
    keys.forEach((k, row) => {
      let v: bigint;
      try {
        v = BigInt(k.trim());
      } catch {
        throw badInput('ERR_RECALL_BAD_KEY', `key ${JSON.stringify(k)} is not an integer`, { row, fix: 'use --type string for text keys' });
      }
      if (v < -(2n ** 63n) || v >= 2n ** 64n) throw badInput('ERR_RECALL_BAD_KEY', `key ${k} does not fit in 64 bits`, { row });
      ints[row] = BigInt.asIntN(64, v); // uint64 keys above 2^63 share int64's bytes
    });
    hashes = native.hashInt64(ints, seed);
  } else {
    // One buffer plus offsets: the in-memory layout of an Arrow Utf8 column.
    const enc = new TextEncoder();
    const parts = keys.map((k) => enc.encode(k));
    const offsets = new Int32Array(keys.length + 1);
    parts.forEach((p, i) => (offsets[i + 1] = offsets[i]! + p.length));
    const data = new Uint8Array(offsets[keys.length]!);
    parts.forEach((p, i) => data.set(p, offsets[i]));
    hashes = native.hashStrings(offsets, data, seed);
  }
  const shardIds = native.shardsOf(hashes, shards);
  return keys.map((key, i) => ({ key, hash: hashes[i]!.toString(16).padStart(16, '0'), shard: shardIds[i]! }));
}
