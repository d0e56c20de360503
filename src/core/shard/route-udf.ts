/**
 * The routing hash as a DuckDB scalar function: DuckDB scans the parquet and hands each 2048-row
 * key vector to `recall_shard(key)`, which hashes the whole vector natively (xxHash64, seed 0) and
 * returns shard ids. So DuckDB does the I/O, recall owns the hash (never DuckDB's `hash()`), and no
 * row is ever materialised in JS.
 *
 * Where it can, the addon registers the function on the connection through DuckDB's C API, so the
 * scan thread runs it directly; a function written in JS runs on the JS thread, and the scan thread
 * waits for it on every vector (that wait took `recall shard` from 1.26-1.31x of DuckDB's own
 * partitioned COPY to 1.5x at 2M and 5M rows). The JS one below stays for bindings the addon
 * cannot register on.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { DuckDBConnection, DuckDBDataChunk, DuckDBVector } from '@duckdb/node-api';
import { badInput } from '../errors.js';
import { duckdb, ident } from '../io/duckdb.js';
import { loadNative } from '../native.js';

/** How a key column's values become the hash's canonical bytes. */
export type KeyEncoding = 'int64' | 'uint64' | 'utf8';

const WIDENED_INTS = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'UTINYINT', 'USMALLINT', 'UINTEGER']);

/**
 * Integer keys of any width hash as their int64 value (so key 42 routes the
 * same whether a writer chose INT32 or INT64), UBIGINT as its 64-bit
 * pattern, VARCHAR as UTF-8. Anything else is refused.
 */
export function keyEncoding(column: string, type: string, file: string): { encoding: KeyEncoding; sql: string } {
  const col = ident(column);
  if (type === 'BIGINT') return { encoding: 'int64', sql: col };
  if (WIDENED_INTS.has(type)) return { encoding: 'int64', sql: `CAST(${col} AS BIGINT)` };
  if (type === 'UBIGINT') return { encoding: 'uint64', sql: col };
  if (type === 'VARCHAR') return { encoding: 'utf8', sql: col };
  throw badInput('ERR_RECALL_BAD_KEY_TYPE', `${file}: key column "${column}" has type ${type}; keys must be integers or strings`, {
    file,
    fix: 'pick another --key, or derive a scalar key column first',
  });
}

interface ValidityVector {
  items: ArrayLike<number | bigint> & { buffer: ArrayBufferLike; byteOffset: number; length: number };
  validity: { itemValid(i: number): boolean; data: BigUint64Array | null };
  getItem(i: number): unknown;
  setItem(i: number, v: number | null): void;
  flush(): void;
}

/** Rows routed so far: per shard, and with a null key. */
export interface RouteCounts {
  perShard: Float64Array;
  nullKeys: number;
  rows: number;
}

/** `recall_shard` registered on a connection. */
export interface ShardFunction {
  /** Rows routed so far; read once the query is done for the final counts. */
  counts(): RouteCounts;
  /** True when DuckDB's scan threads run it natively (no JS round trip per vector). */
  readonly native: boolean;
  /** Stop reporting progress (after the query). */
  close(): void;
}

/** The libduckdb that @duckdb/node-bindings loaded: next to its duckdb.node binding. */
function loadedLibduckdb(): string | undefined {
  const binding = Object.keys(createRequire(import.meta.url).cache).find((p) => /[\\/]duckdb\.node$/.test(p));
  return binding && join(dirname(binding), process.platform === 'darwin' ? 'libduckdb.dylib' : 'libduckdb.so');
}

/**
 * Register `recall_shard(key)` on `connection` for `shardCount` shards: natively where the addon
 * can (`preferNative`, the default), else as a JS function. `onRows` is told of the rows routed
 * (progress).
 */
export async function registerShardFunction(
  connection: DuckDBConnection,
  encoding: KeyEncoding,
  shardCount: number,
  onRows?: (rows: number) => void,
  { preferNative = true }: { preferNative?: boolean } = {},
): Promise<ShardFunction> {
  const native = loadNative();
  const lib = preferNative ? loadedLibduckdb() : undefined;
  const binding = (connection as unknown as { connection?: unknown }).connection;
  const route = lib ? native.duckdbRouteRegister(lib, binding, encoding, shardCount) : null;
  if (route) {
    let reported = 0;
    const report = () => {
      const { rows } = native.duckdbRouteCounts(route);
      if (rows > reported) onRows?.(rows - reported);
      reported = rows;
    };
    const timer = onRows ? setInterval(report, 200) : undefined;
    return {
      native: true,
      counts: () => native.duckdbRouteCounts(route),
      close: () => {
        clearInterval(timer);
        report();
      },
    };
  }
  const counts = await registerJsShardFunction(connection, encoding, shardCount, onRows);
  return { native: false, counts: () => counts, close: () => {} };
}

/** The JS `recall_shard`: runs on the JS thread, one call per key vector. */
async function registerJsShardFunction(
  connection: DuckDBConnection,
  encoding: KeyEncoding,
  shardCount: number,
  onRows?: (rows: number) => void,
): Promise<RouteCounts> {
  const counts: RouteCounts = { perShard: new Float64Array(shardCount), nullKeys: 0, rows: 0 };
  const { DuckDBScalarFunction, BIGINT, UBIGINT, VARCHAR, USMALLINT } = await duckdb();
  const native = loadNative();
  const encoder = new TextEncoder();
  let bytes = new Uint8Array(64 << 10);

  const hashVector = (vector: DuckDBVector, rows: number): BigUint64Array => {
    const v = vector as unknown as ValidityVector;
    if (encoding === 'int64') return native.hashInt64(new BigInt64Array(v.items.buffer, v.items.byteOffset, rows));
    if (encoding === 'uint64') return native.hashInt64(new BigInt64Array(v.items.buffer, v.items.byteOffset, rows));
    // Strings: gather UTF-8 bytes + offsets (an Arrow Utf8 layout), hash in one call.
    const offsets = new Int32Array(rows + 1);
    let used = 0;
    for (let i = 0; i < rows; i++) {
      const s = (v.getItem(i) as string | null) ?? '';
      if (bytes.length - used < s.length * 3) {
        const grown = new Uint8Array(Math.max(bytes.length * 2, used + s.length * 3));
        grown.set(bytes.subarray(0, used));
        bytes = grown;
      }
      used += encoder.encodeInto(s, bytes.subarray(used)).written;
      offsets[i + 1] = used;
    }
    return native.hashStrings(offsets, bytes.subarray(0, used));
  };

  const main = (_info: unknown, input: DuckDBDataChunk, output: DuckDBVector) => {
    const rows = input.rowCount;
    const key = input.getColumnVector(0);
    if (encoding !== 'utf8') {
      // Integer keys: one native call hashes, routes and counts the vector.
      const v = key as unknown as ValidityVector;
      const mask = v.validity.data;
      const bits = mask ? new Uint8Array(mask.buffer, mask.byteOffset, Math.ceil(rows / 8)) : null;
      const out = output as unknown as ValidityVector;
      const nulls = native.routeInt64(
        new BigInt64Array(v.items.buffer, v.items.byteOffset, rows),
        bits,
        shardCount,
        out.items as unknown as Uint16Array,
        counts.perShard,
      );
      if (nulls > 0) {
        for (let i = 0; i < rows; i++) if (!((bits![i >> 3]! >> (i & 7)) & 1)) out.setItem(i, null); // null key -> null shard
        counts.nullKeys += nulls;
      }
      out.flush();
      counts.rows += rows;
      onRows?.(rows);
      return;
    }
    const shards = native.shardsOf(hashVector(key, rows), shardCount);
    const out = output as unknown as ValidityVector;
    (out.items as unknown as Uint16Array).set(shards.subarray(0, rows));
    // The validity mask as bytes (bit i of the little-endian u64 words =
    // byte i >> 3, bit i & 7): node-api's per-item BigInt check costs ~100x more.
    const mask = (key as unknown as ValidityVector).validity.data;
    const bits = mask ? new Uint8Array(mask.buffer, mask.byteOffset, Math.ceil(rows / 8)) : null;
    const perShard = counts.perShard;
    for (let i = 0; i < rows; i++) {
      if (bits === null || (bits[i >> 3]! >> (i & 7)) & 1) perShard[shards[i]!]! += 1;
      else {
        out.setItem(i, null); // null key -> null shard
        counts.nullKeys += 1;
      }
    }
    out.flush();
    counts.rows += rows;
    onRows?.(rows);
  };

  const paramType = encoding === 'int64' ? BIGINT : encoding === 'uint64' ? UBIGINT : VARCHAR;
  connection.registerScalarFunction(
    // volatile: evaluated exactly once per row, never duplicated into a pushed-down filter
    DuckDBScalarFunction.create({
      name: 'recall_shard',
      returnType: USMALLINT,
      parameterTypes: [paramType],
      mainFunction: main,
      specialHandling: true,
      volatile: true,
    }),
  );
  return counts;
}
