/**
 * Arrow IPC / Feather v2 input (what pandas and polars users hand around):
 * read with apache-arrow, appended into DuckDB in 2048-row data chunks, and
 * written as a parquet file that `recall shard` then reads like any other.
 * The whole IPC file is read into memory (arrow-js needs random access to
 * the file format); convert very large files to parquet first.
 */
import { open, readFile } from 'node:fs/promises';
import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { badInput } from '../errors.js';
import { duckdb, ident, literal } from '../io/duckdb.js';
import { firstLine } from '../io/text.js';

const ARROW_MAGIC = 'ARROW1';

/** True for an Arrow IPC file (magic `ARROW1`) or an `.arrow/.arrows/.feather/.ipc` name. */
export async function isArrowFile(path: string): Promise<boolean> {
  if (/\.(arrow|arrows|feather|ipc)$/i.test(path)) return true;
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(6);
    await fh.read(buf, 0, 6, 0);
    return buf.toString('latin1') === ARROW_MAGIC;
  } finally {
    await fh.close();
  }
}

type Arrow = typeof import('apache-arrow');
type ArrowType = import('apache-arrow').DataType;
type Convert = (v: unknown) => DuckDBValue;

/** DuckDB column type and value converter for an Arrow type. */
async function mapType(arrow: Arrow, t: ArrowType, where: string): Promise<{ type: DuckDBType; convert: Convert }> {
  const d = await duckdb();
  const id = arrow.Type;
  const same: Convert = (v) => v as DuckDBValue;
  if (arrow.DataType.isDictionary(t)) return mapType(arrow, t.dictionary, where);
  if (arrow.DataType.isInt(t)) {
    const table: Record<string, DuckDBType> = {
      '8true': d.TINYINT,
      '16true': d.SMALLINT,
      '32true': d.INTEGER,
      '64true': d.BIGINT,
      '8false': d.UTINYINT,
      '16false': d.USMALLINT,
      '32false': d.UINTEGER,
      '64false': d.UBIGINT,
    };
    const type = table[`${t.bitWidth}${t.isSigned}`];
    if (type) return { type, convert: same };
  }
  if (arrow.DataType.isFloat(t)) return { type: t.precision === arrow.Precision.DOUBLE ? d.DOUBLE : d.FLOAT, convert: same };
  if (arrow.DataType.isUtf8(t) || arrow.DataType.isLargeUtf8(t)) return { type: d.VARCHAR, convert: same };
  if (arrow.DataType.isBool(t)) return { type: d.BOOLEAN, convert: same };
  if (arrow.DataType.isBinary(t)) return { type: d.BLOB, convert: (v) => (v == null ? null : d.blobValue(v as Uint8Array)) };
  if (arrow.DataType.isTimestamp(t)) {
    // arrow-js hands timestamps out as epoch milliseconds
    return { type: d.TIMESTAMP, convert: (v) => (v == null ? null : d.timestampValue(BigInt(Math.round((v as number) * 1000)))) };
  }
  if (arrow.DataType.isList(t)) {
    const child = await mapType(arrow, t.children[0]!.type, where);
    return {
      type: d.LIST(child.type),
      convert: (v) => (v == null ? null : d.listValue([...(v as Iterable<unknown>)].map(child.convert))),
    };
  }
  throw badInput('ERR_RECALL_UNSUPPORTED_TYPE', `${where}: Arrow type ${String(t)} (${id[t.typeId]}) is not supported`, {
    file: where.split(':')[0],
    fix: 'cast the column to an integer, float, string, bool, timestamp, binary or list type, or write parquet instead',
  });
}

/** Convert an Arrow IPC file into a parquet file at `dest`; returns the row count. */
export async function arrowToParquet(c: DuckDBConnection, file: string, dest: string, table: string): Promise<number> {
  const arrow = await import('apache-arrow');
  const d = await duckdb();
  let t: import('apache-arrow').Table;
  try {
    t = arrow.tableFromIPC(await readFile(file));
  } catch (e) {
    throw badInput('ERR_RECALL_BAD_ARROW', `${file}: cannot read as Arrow IPC: ${firstLine((e as Error).message)}`, {
      file,
      fix: 'the file is damaged or not Arrow IPC / Feather v2',
      cause: e,
    });
  }
  const cols = await Promise.all(t.schema.fields.map((f) => mapType(arrow, f.type, `${file}: column "${f.name}"`)));
  await c.run(`CREATE TABLE ${ident(table)} (${t.schema.fields.map((f, i) => `${ident(f.name)} ${cols[i]!.type.toString()}`).join(', ')})`);
  const appender = await c.createAppender(table);
  const columns = t.schema.fields.map((_, i) => t.getChildAt(i)!);
  for (let start = 0; start < t.numRows; start += 2048) {
    const rows = Math.min(2048, t.numRows - start);
    const chunk = d.DuckDBDataChunk.create(
      cols.map((x) => x.type),
      rows,
    );
    chunk.setColumns(columns.map((col, i) => Array.from({ length: rows }, (_, r) => cols[i]!.convert(col.get(start + r)))));
    appender.appendDataChunk(chunk);
  }
  appender.closeSync();
  await c.run(`COPY ${ident(table)} TO ${literal(dest)} (FORMAT parquet, COMPRESSION zstd)`);
  await c.run(`DROP TABLE ${ident(table)}`);
  return t.numRows;
}
