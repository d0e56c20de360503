/**
 * Fixed-width columns of a DuckDB query into typed arrays, chunk by chunk:
 * each 2048-row vector is copied out of DuckDB's memory with one typed-array
 * `set`, never value by value.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

type Fixed = BigInt64Array | Float32Array | Float64Array | Int32Array;
type Ctor<T extends Fixed> = { new (n: number): T };

/** Run `sql` and collect its columns into growable typed arrays of the given types. */
export async function readColumns<T extends Fixed[]>(c: DuckDBConnection, sql: string, types: { [K in keyof T]: Ctor<T[K]> }): Promise<T> {
  const result = await c.stream(sql);
  let cap = 1 << 16;
  let len = 0;
  let cols = types.map((C) => new C(cap)) as Fixed[];
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const rows = chunk.rowCount;
    if (len + rows > cap) {
      while (len + rows > cap) cap *= 2;
      cols = cols.map((old, i) => {
        const grown = new types[i]!(cap);
        grown.set(old.subarray(0, len) as never);
        return grown;
      });
    }
    cols.forEach((col, i) => {
      const items = (chunk.getColumnVector(i) as unknown as { items: Fixed }).items;
      col.set(items.subarray(0, rows) as never, len);
    });
    len += rows;
  }
  return cols.map((col) => col.slice(0, len)) as T;
}
