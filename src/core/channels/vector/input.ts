/**
 * Vectors in: fbin files (the big-ann-benchmarks layout the ANN harness uses:
 * u32 rows, u32 dim, row-major f32), parquet (an id column and a list or
 * array column of numbers, read through DuckDB as typed arrays), or JSON lines
 * (queries: `[..]` or `{"vector": [..]}` per line). Every reader checks the
 * shape and finiteness and names the row of the first bad vector.
 */
import { open, stat } from 'node:fs/promises';
import { inputName, readInputBytes, readInputText, STDIN } from '../../io/stdin.js';
import { requirePath } from '../../io/paths.js';
import { badInput, usage } from '../../errors.js';
import { readColumns } from '../../io/columns.js';
import { ident, literalList, openDuckDB, queryRows } from '../../io/duckdb.js';
import { checkRowCount, describeInputs, expandInputs, readingParquet } from '../../shard/inputs.js';

export interface Vectors {
  n: number;
  dim: number;
  data: Float32Array;
  /** Row ids (fbin and JSON lines: the row number). */
  ids: BigUint64Array;
  /** The integer attribute of each row (parquet with an attribute column), for filtered search. */
  attrs?: BigInt64Array;
  source: string;
}

export type VectorFormat = 'fbin' | 'parquet' | 'jsonl';

export function formatOf(path: string, forced?: string): VectorFormat {
  if (forced) return forced as VectorFormat;
  if (path === STDIN) return 'jsonl';
  if (/\.(f32|fbin)$/i.test(path)) return 'fbin';
  if (/\.(jsonl|ndjson|json)$/i.test(path)) return 'jsonl';
  return 'parquet';
}

function checkFinite(v: Vectors): Vectors {
  const { data, dim } = v;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      throw badInput(
        'ERR_RECALL_BAD_VECTOR',
        `${v.source}: row ${Math.floor(i / dim)}: element ${i % dim} is ${data[i]} (vectors must be finite)`,
        {
          file: v.source,
          row: Math.floor(i / dim),
          fix: 'drop or repair that row; nothing was written',
        },
      );
    }
  }
  return v;
}

/** An fbin held in memory (standard input). */
function parseFbin(b: Buffer, path: string): Vectors {
  const n = b.length >= 8 ? b.readUInt32LE(0) : 0;
  const dim = b.length >= 8 ? b.readUInt32LE(4) : 0;
  if (b.length < 8 || dim === 0 || b.length !== 8 + n * dim * 4)
    throw badInput('ERR_RECALL_BAD_FBIN', `${path}: ${b.length} bytes is not an fbin of ${n} rows x ${dim} (expected ${8 + n * dim * 4})`, {
      file: path,
      offset: 0,
      fix: 'pass an fbin file (u32 rows, u32 dim, then rows*dim little-endian f32)',
    });
  const data = new Float32Array(n * dim);
  new Uint8Array(data.buffer).set(b.subarray(8));
  const ids = new BigUint64Array(n);
  for (let i = 0; i < n; i++) ids[i] = BigInt(i);
  return checkFinite({ n, dim, data, ids, source: path });
}

export async function readFbin(path: string): Promise<Vectors> {
  if (path === STDIN) return parseFbin(await readInputBytes(path), inputName(path));
  const size = (await stat(path)).size;
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(8);
    await fh.read(head, 0, 8, 0);
    const n = head.readUInt32LE(0);
    const dim = head.readUInt32LE(4);
    if (size < 8 || dim === 0 || size !== 8 + n * dim * 4) {
      throw badInput('ERR_RECALL_BAD_FBIN', `${path}: ${size} bytes is not an fbin of ${n} rows x ${dim} (expected ${8 + n * dim * 4})`, {
        file: path,
        offset: 0,
        fix: 'pass an fbin file (u32 rows, u32 dim, then rows*dim little-endian f32)',
      });
    }
    const data = new Float32Array(n * dim);
    const bytes = new Uint8Array(data.buffer);
    for (let off = 0; off < bytes.length; ) {
      const { bytesRead } = await fh.read(bytes, off, Math.min(1 << 28, bytes.length - off), 8 + off);
      if (bytesRead <= 0) throw badInput('ERR_RECALL_BAD_FBIN', `${path}: short read at byte ${8 + off}`, { file: path, offset: 8 + off });
      off += bytesRead;
    }
    const ids = new BigUint64Array(n);
    for (let i = 0; i < n; i++) ids[i] = BigInt(i);
    return checkFinite({ n, dim, data, ids, source: path });
  } finally {
    await fh.close();
  }
}

export async function readJsonLines(file: string): Promise<Vectors> {
  const text = await readInputText(file);
  const path = inputName(file);
  const rows: number[][] = [];
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    if (!line.trim()) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw badInput('ERR_RECALL_BAD_VECTOR', `${path}: line ${lineNo} is not JSON`, {
        file: path,
        row: rows.length,
        fix: 'one JSON array (or {"vector": [...]}) per line',
      });
    }
    const vec = Array.isArray(v) ? v : (v as { vector?: unknown }).vector;
    if (!Array.isArray(vec) || vec.some((x) => typeof x !== 'number')) {
      throw badInput('ERR_RECALL_BAD_VECTOR', `${path}: line ${lineNo} holds no array of numbers`, {
        file: path,
        row: rows.length,
        fix: 'one JSON array (or {"vector": [...]}) per line',
      });
    }
    if (rows.length && vec.length !== rows[0]!.length) {
      throw badInput('ERR_RECALL_BAD_VECTOR', `${path}: line ${lineNo}: ${vec.length} values, the first line has ${rows[0]!.length}`, {
        file: path,
        row: rows.length,
      });
    }
    rows.push(vec as number[]);
  }
  const dim = rows[0]?.length ?? 0;
  if (!rows.length || !dim) throw badInput('ERR_RECALL_BAD_VECTOR', `${path}: no vectors`, { file: path });
  const data = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => data.set(r, i * dim));
  return checkFinite({ n: rows.length, dim, data, ids: BigUint64Array.from(rows, (_, i) => BigInt(i)), source: path });
}

/** Parquet files (or folders/globs): `idCol` (integer) and `vecCol` (list/array of numbers). */
export async function readParquetVectors(inputs: string[], idCol: string | undefined, vecCol: string, attrCol?: string): Promise<Vectors> {
  const db = await openDuckDB({ threads: 2 });
  const c = await db.connect();
  try {
    const files = await expandInputs(c, inputs);
    const described = await describeInputs(c, files);
    const src = `read_parquet(${literalList(files)})`;
    const source = files.length === 1 ? files[0]! : `${inputs.join(', ')}`;
    const cols = await queryRows<{ column_name: string }>(c, `DESCRIBE SELECT * FROM ${src}`);
    for (const col of [vecCol, idCol, attrCol].filter((x): x is string => !!x)) {
      if (!cols.some((r) => r.column_name === col))
        throw badInput('ERR_RECALL_NO_COLUMN', `${source}: no column "${col}" (columns: ${cols.map((r) => r.column_name).join(', ')})`, {
          file: files[0],
          fix: 'pass --id, --vector and --attr with existing column names',
        });
    }
    const v = ident(vecCol);
    const shape = await readingParquet(c, files, () =>
      queryRows<{ n: bigint; dim: number | null }>(
        c,
        `SELECT count(*) AS n, (SELECT len(${v}) FROM ${src} WHERE ${v} IS NOT NULL LIMIT 1) AS dim FROM ${src}`,
      ),
    );
    const n = Number(shape[0]!.n);
    const dim = Number(shape[0]!.dim ?? 0);
    if (!n || !dim) throw badInput('ERR_RECALL_BAD_VECTOR', `${source}: no vectors in column "${vecCol}"`, { file: files[0] });
    const vecType = described[0]!.schema.find((s) => s.name === vecCol)!.type;
    if (!/^(FLOAT|DOUBLE|DECIMAL.*|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)(\[\d*\])$/.test(vecType))
      throw badInput('ERR_RECALL_BAD_COLUMN', `${source}: vector column "${vecCol}" is ${vecType}; vectors are lists of numbers`, {
        file: files[0],
        fix: 'pass a FLOAT[] / DOUBLE[] column as --vector',
      });
    for (const [col, what] of [
      [idCol, 'id'],
      [attrCol, 'attribute'],
    ] as const) {
      if (!col) continue;
      const type = described[0]!.schema.find((s) => s.name === col)!.type;
      // UBIGINT values past 2^63 do not fit an attribute (i64); ids keep all 64 bits
      const ints = what === 'id' ? INTEGER_TYPES : INTEGER_TYPES.filter((t) => t !== 'UBIGINT');
      if (!ints.includes(type))
        throw badInput('ERR_RECALL_BAD_COLUMN', `${source}: ${what} column "${col}" is ${type}; ${what}s are integers`, {
          file: files[0],
          fix: `cast the ${what} column to BIGINT (a fractional value is never rounded)`,
        });
    }
    // A null element would be cast to 0, and a number past f32 to infinity: refused, with its row.
    const bad = await readingParquet(c, files, () =>
      queryRows<{ row: bigint; len: number | null; nulls: boolean; big: boolean; id?: unknown }>(
        c,
        `SELECT row - 1 AS row, len, nulls, big${idCol ? ', id' : ''}${attrCol ? ', attr' : ''} FROM (SELECT row_number() OVER () AS row, len(${v}) AS len,
           list_bool_or(list_transform(${v}, x -> x IS NULL)) AS nulls,
           list_bool_or(list_transform(${v}, x -> isfinite(x::DOUBLE) AND abs(x::DOUBLE) > 3.4028234663852886e38)) AS big${idCol ? `, ${ident(idCol)} AS id` : ''}${attrCol ? `, ${ident(attrCol)} AS attr` : ''} FROM ${src})
         WHERE len IS DISTINCT FROM ${dim} OR nulls OR big${idCol ? ' OR id IS NULL' : ''}${attrCol ? ' OR attr IS NULL' : ''} LIMIT 1`,
      ),
    );
    if (bad.length) {
      const row = Number(bad[0]!.row);
      const len = bad[0]!.len === null ? null : Number(bad[0]!.len);
      const what =
        len === null
          ? 'the vector is null'
          : len !== dim
            ? `the vector has ${len} values, row 0 has ${dim}`
            : bad[0]!.nulls
              ? 'the vector holds a null element'
              : bad[0]!.big
                ? 'the vector holds a value beyond the f32 range'
                : idCol && bad[0]!.id === null
                  ? `${idCol} is null`
                  : `${attrCol} is null`;
      throw badInput('ERR_RECALL_BAD_VECTOR', `${source}: row ${row}: ${what}`, {
        file: files[0],
        row,
        fix: `every row needs an id${attrCol ? ', an attribute' : ''} and a vector of the same length; nothing was written`,
      });
    }
    const [ids] = idCol
      ? await readingParquet(c, files, () =>
          readColumns<[BigInt64Array]>(c, `SELECT CAST(${ident(idCol)} AS BIGINT) FROM ${src}`, [BigInt64Array]),
        )
      : [BigInt64Array.from({ length: n }, (_, i) => BigInt(i))];
    checkRowCount(described, ids.length);
    const [data] = await readingParquet(c, files, () =>
      readColumns<[Float32Array]>(c, `SELECT CAST(unnest(${v}) AS FLOAT) FROM ${src}`, [Float32Array]),
    );
    if (data.length !== n * dim)
      throw badInput('ERR_RECALL_BAD_VECTOR', `${source}: ${data.length} values for ${n} rows of ${dim}`, { file: files[0] });
    const attrs = attrCol
      ? (
          await readingParquet(c, files, () =>
            readColumns<[BigInt64Array]>(c, `SELECT CAST(${ident(attrCol)} AS BIGINT) FROM ${src}`, [BigInt64Array]),
          )
        )[0]
      : undefined;
    return checkFinite({ n, dim, data, ids: new BigUint64Array(ids.buffer, ids.byteOffset, ids.length), attrs, source });
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

const INTEGER_TYPES = ['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT'];

export async function readVectors(inputs: string[], o: { format?: string; id?: string; vector?: string; attr?: string }): Promise<Vectors> {
  for (const input of inputs) if (!/[*?[]/.test(input)) await requirePath(input, 'any', '--input');
  const fmt = formatOf(inputs[0]!, o.format);
  if (o.attr && fmt !== 'parquet')
    throw usage('ERR_RECALL_USAGE', `--attr reads a column of parquet input, and ${inputs[0]} is ${fmt}`, {
      fix: 'write the vectors, ids and the attribute to parquet, or build without --attr',
    });
  if (fmt === 'fbin' || fmt === 'jsonl') {
    if (inputs.length !== 1)
      throw usage('ERR_RECALL_USAGE', `one ${fmt} file at a time (got ${inputs.length})`, { fix: 'pass one --input file' });
    if (inputs[0] !== STDIN) await requirePath(inputs[0]!, 'file', '--input');
    return fmt === 'fbin' ? readFbin(inputs[0]!) : readJsonLines(inputs[0]!);
  }
  if (!o.vector)
    throw usage('ERR_RECALL_USAGE', 'parquet input needs --vector COL (and --id COL)', { fix: 'pass --vector embedding --id item_id' });
  return readParquetVectors(inputs, o.id, o.vector, o.attr);
}
