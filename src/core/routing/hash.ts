/**
 * Key routing: xxHash64 (seed 0) over the key's canonical bytes, shard =
 * hash % N. The same function `recall shard` partitions with and a serving
 * process routes queries with (native/core/src/hash.rs has the definition).
 */
import { badInput, usage } from '../errors.js';
import { loadNative } from '../native.js';

export type KeyType = 'string' | 'int64';
/** How keys are read: as given, or `auto` (a decimal integer that fits in 64 bits is int64, anything else a string). */
export type KeyTypeChoice = KeyType | 'auto';
export const ROUTING_HASH = 'xxh64';

export interface RoutedKey {
  key: string;
  /** The encoding the key was hashed as. */
  type: KeyType;
  /** Hash as 16 lowercase hex digits. */
  hash: string;
  shard: number;
}

const INT_RE = /^\s*[+-]?\d+\s*$/;
const fitsIn64 = (v: bigint) => v >= -(2n ** 63n) && v < 2n ** 64n;

/** The type `auto` gives a key: int64 for a decimal integer that fits in 64 bits (int64 or uint64), else string. */
export function autoKeyType(key: string): KeyType {
  return INT_RE.test(key) && fitsIn64(BigInt(key.trim())) ? 'int64' : 'string';
}

/**
 * Hash and route a batch of keys (one native call per key type). With `int64`, a key that is not
 * an integer or does not fit is refused: exit 2 when the keys came from the command line
 * (`source` undefined), exit 3 naming the source and row when they came from a file or stdin.
 */
export function routeKeys(keys: string[], type: KeyTypeChoice, shards: number, seed = 0n, source?: string): RoutedKey[] {
  const native = loadNative();
  const types: KeyType[] = keys.map((k) => (type === 'auto' ? autoKeyType(k) : type));
  const intRows: number[] = [];
  const strRows: number[] = [];
  types.forEach((t, row) => (t === 'int64' ? intRows : strRows).push(row));
  const hashes = new BigUint64Array(keys.length);
  if (intRows.length) {
    const ints = new BigInt64Array(intRows.length);
    intRows.forEach((row, i) => {
      const k = keys[row]!;
      const v = INT_RE.test(k) ? BigInt(k.trim()) : undefined;
      if (v === undefined || !fitsIn64(v)) {
        const what = `key ${JSON.stringify(k)} ${v === undefined ? 'is not an integer' : 'does not fit in 64 bits'}`;
        const fix = 'use --key-type string (or auto) for text keys';
        if (source === undefined) throw usage('ERR_RECALL_FLAG', `${what} (argument ${row + 1})`, { fix });
        throw badInput('ERR_RECALL_BAD_KEY', `${source}: row ${row}: ${what}`, { file: source, row, fix });
      }
      ints[i] = BigInt.asIntN(64, v); // uint64 keys above 2^63 share int64's bytes
    });
    const h = native.hashInt64(ints, seed);
    intRows.forEach((row, i) => (hashes[row] = h[i]!));
  }
  if (strRows.length) {
    // One buffer plus offsets: the in-memory layout of an Arrow Utf8 column.
    const enc = new TextEncoder();
    const parts = strRows.map((row) => enc.encode(keys[row]!));
    const offsets = new Int32Array(parts.length + 1);
    parts.forEach((p, i) => (offsets[i + 1] = offsets[i]! + p.length));
    const data = new Uint8Array(offsets[parts.length]!);
    parts.forEach((p, i) => data.set(p, offsets[i]));
    const h = native.hashStrings(offsets, data, seed);
    strRows.forEach((row, i) => (hashes[row] = h[i]!));
  }
  const shardIds = native.shardsOf(hashes, shards);
  return keys.map((key, i) => ({ key, type: types[i]!, hash: hashes[i]!.toString(16).padStart(16, '0'), shard: shardIds[i]! }));
}

/**
 * The positions of the `n` keys with the smallest routing hash (a bottom-n sketch): two versions
 * holding mostly the same keys sample mostly the same ones, whatever their order in the files.
 */
export function sampleByHash(keys: BigInt64Array, n: number): number[] {
  const h = loadNative().hashInt64(keys, 0n);
  const order = Array.from({ length: keys.length }, (_, i) => i);
  order.sort((a, b) => (h[a]! < h[b]! ? -1 : h[a]! > h[b]! ? 1 : a - b));
  return order.slice(0, n);
}
