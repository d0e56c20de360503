/**
 * Arrow IPC / Feather v2 input (what pandas and polars users hand around):
 * read with apache-arrow, appended into DuckDB in 2048-row data chunks, and
 * written as a parquet file that `recall shard` then reads like any other.
 * Record batches are streamed (see arrowToParquet): memory does not grow
 * with the file.
 */
import { open, rm } from 'node:fs/promises';
import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { badInput, RecallError } from '../errors.js';
import { duckdb, ident, literal, literalList } from '../io/duckdb.js';
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

/** Rows collected in DuckDB before they go out as one part file: what bounds the memory here. */
const PART_ROWS = 65536;

function badArrow(file: string, e: unknown): RecallError {
  return badInput('ERR_RECALL_BAD_ARROW', `${file}: cannot read as Arrow IPC: ${firstLine((e as Error).message)}`, {
    file,
    fix: 'the file is damaged or not Arrow IPC / Feather v2',
    cause: e,
  });
}

/**
 * Convert an Arrow IPC file into a parquet file at `dest`; returns the row count. Streams: record
 * batches are read one at a time, every PART_ROWS rows go out as a part file, and the parts are
 * joined into `dest` by DuckDB (parquet to parquet, in order), so memory stays at about PART_ROWS
 * rows plus the largest record batch whatever the file's size.
 */
export async function arrowToParquet(
  c: DuckDBConnection,
  file: string,
  dest: string,
  table: string,
  signal?: AbortSignal,
): Promise<number> {
  const arrow = await import('apache-arrow');
  const d = await duckdb();
  const fh = await open(file, 'r');
  const parts: string[] = [];
  let rows = 0;
  try {
    let reader: import('apache-arrow').AsyncRecordBatchFileReader | import('apache-arrow').AsyncRecordBatchStreamReader;
    try {
      reader = await arrow.RecordBatchReader.from(fh);
      await reader.open();
    } catch (e) {
      throw badArrow(file, e);
    }
    const fields = reader.schema.fields;
    const cols = await Promise.all(fields.map((f) => mapType(arrow, f.type, `${file}: column "${f.name}"`)));
    const create = `CREATE TABLE ${ident(table)} (${fields.map((f, i) => `${ident(f.name)} ${cols[i]!.type.toString()}`).join(', ')})`;
    await c.run(create);
    let appender = await c.createAppender(table);
    let pending = 0;
    // one chunk, reused: a chunk's native memory goes only when the GC collects its small JS
    // handle, which a small heap rarely does
    const chunk = d.DuckDBDataChunk.create(cols.map((x) => x.type));
    const flush = async () => {
      appender.closeSync();
      const part = `${dest}.part-${String(parts.length).padStart(6, '0')}.parquet`;
      parts.push(part);
      await c.run(`COPY ${ident(table)} TO ${literal(part)} (FORMAT parquet, COMPRESSION zstd)`);
      await c.run(`DROP TABLE ${ident(table)}`);
      await c.run(create);
      appender = await c.createAppender(table);
      pending = 0;
    };
    try {
      for await (const batch of reader) {
        signal?.throwIfAborted();
        const columns = fields.map((_, i) => batch.getChildAt(i)!);
        for (let start = 0; start < batch.numRows; start += 2048) {
          const n = Math.min(2048, batch.numRows - start);
          chunk.reset();
          chunk.rowCount = n;
          chunk.setColumns(columns.map((col, i) => Array.from({ length: n }, (_, r) => cols[i]!.convert(col.get(start + r)))));
          appender.appendDataChunk(chunk);
        }
        rows += batch.numRows;
        pending += batch.numRows;
        if (pending >= PART_ROWS) await flush();
      }
    } catch (e) {
      throw e instanceof RecallError || signal?.aborted ? e : badArrow(file, e);
    }
    if (pending > 0 || parts.length === 0) await flush();
    appender.closeSync();
    await c.run(`DROP TABLE ${ident(table)}`);
    await c.run(`COPY (SELECT * FROM read_parquet(${literalList(parts)})) TO ${literal(dest)} (FORMAT parquet, COMPRESSION zstd)`);
  } finally {
    await fh.close();
    for (const p of parts) await rm(p, { force: true });
  }
  return rows;
}
