/**
 * Parquet files of one schema joined into one file without decoding a page: the row groups are
 * copied byte for byte in order, and only the footer is rewritten (row groups listed in order with
 * their offsets shifted to where they now sit, row counts summed). `recall shard` uses it to join
 * the pieces of a shard that parallel writers produced, each from its own contiguous slice of the
 * input, so that a shard's rows stay in input order while no writer decodes the whole input.
 * DuckDB and the npm parquet packages can only do this by decoding and encoding every value again.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { field, readStruct, T, type ThriftList, type ThriftStruct, type ThriftValue, writeStruct } from './thrift-compact.js';

const MAGIC = Buffer.from('PAR1');
const CHUNK = 1 << 20;

// FileMetaData, RowGroup, ColumnChunk and ColumnMetaData field ids (parquet.thrift).
const FILE = { schema: 2, numRows: 3, rowGroups: 4 } as const;
const ROW_GROUP = { columns: 1, fileOffset: 5, ordinal: 7 } as const;
const CHUNK_FIELD = { fileOffset: 2, metaData: 3, offsetIndexOffset: 4, columnIndexLength: 7 } as const;
/** ColumnMetaData offsets: data page, index page, dictionary page, bloom filter. */
const META_OFFSETS = new Set([9, 10, 11, 14]);

interface Part {
  fd: number;
  path: string;
  /** Bytes between the leading magic and the footer: row groups, then bloom filters. */
  bodyEnd: number;
  footer: ThriftStruct;
}

function openPart(path: string): Part {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(4);
    const tail = Buffer.alloc(8);
    if (size < 12 || readSync(fd, head, 0, 4, 0) !== 4 || readSync(fd, tail, 0, 8, size - 8) !== 8)
      throw new Error(`${path}: too short for parquet (${size} bytes)`);
    if (!head.equals(MAGIC) || !tail.subarray(4).equals(MAGIC)) throw new Error(`${path}: no PAR1 magic at both ends`);
    const footerLen = tail.readUInt32LE(0);
    const bodyEnd = size - 8 - footerLen;
    if (bodyEnd < 4) throw new Error(`${path}: footer length ${footerLen} does not fit in ${size} bytes`);
    const raw = Buffer.alloc(footerLen);
    readSync(fd, raw, 0, footerLen, bodyEnd);
    return { fd, path, bodyEnd, footer: readStruct(raw).struct };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** The value of field `id` replaced (or left out when `value` is undefined). */
const withField = (s: ThriftStruct, id: number, value: ThriftValue | undefined): ThriftStruct =>
  s.flatMap((f) => (f.id !== id ? [f] : value === undefined ? [] : [{ ...f, value }]));

/**
 * A column chunk moved by `delta` bytes. The page indexes (offset and column index) are left out:
 * their blobs hold absolute page offsets of their own, and they are optional (DuckDB writes none).
 */
function shiftChunk(chunk: ThriftStruct, delta: bigint): ThriftStruct {
  return chunk
    .filter((f) => f.id < CHUNK_FIELD.offsetIndexOffset || f.id > CHUNK_FIELD.columnIndexLength)
    .map((f) => {
      if (f.id === CHUNK_FIELD.fileOffset && (f.value as bigint) > 0n) return { ...f, value: (f.value as bigint) + delta };
      if (f.id === CHUNK_FIELD.metaData)
        return {
          ...f,
          value: (f.value as ThriftStruct).map((m) => (META_OFFSETS.has(m.id) ? { ...m, value: (m.value as bigint) + delta } : m)),
        };
      return f;
    });
}

function shiftRowGroup(rg: ThriftStruct, delta: bigint, ordinal: number): ThriftStruct {
  return rg.map((f) => {
    if (f.id === ROW_GROUP.columns) {
      const cols = f.value as ThriftList;
      return { ...f, value: { ...cols, items: cols.items.map((c) => shiftChunk(c as ThriftStruct, delta)) } };
    }
    if (f.id === ROW_GROUP.fileOffset && (f.value as bigint) > 0n) return { ...f, value: (f.value as bigint) + delta };
    if (f.id === ROW_GROUP.ordinal) return { ...f, value: ordinal };
    return f;
  });
}

const encoded = (v: ThriftValue | undefined): string =>
  v === undefined ? '' : Buffer.from(writeStruct([{ id: 1, type: T.LIST, value: v }])).toString('hex');

/**
 * Write `parts` (parquet files of the same schema) as one file `dest`, rows in the order given.
 * Returns its size and sha256 (hex), taken as it is written.
 */
export function concatParquet(parts: readonly string[], dest: string): { bytes: number; sha256: string } {
  const opened: Part[] = [];
  const out = openSync(dest, 'w');
  const hash = createHash('sha256');
  let pos = 0;
  const write = (b: Uint8Array) => {
    hash.update(b);
    let done = 0;
    while (done < b.length) done += writeSync(out, b, done, b.length - done, pos + done);
    pos += b.length;
  };
  try {
    for (const p of parts) opened.push(openPart(p));
    const first = opened[0];
    if (!first) throw new Error('no parts to join');
    const schema = encoded(field(first.footer, FILE.schema)?.value);
    const rowGroups: ThriftValue[] = [];
    let rows = 0n;
    write(MAGIC);
    const buf = Buffer.alloc(CHUNK);
    for (const p of opened) {
      if (encoded(field(p.footer, FILE.schema)?.value) !== schema) throw new Error(`${p.path}: schema differs from ${first.path}`);
      // The part's byte 4 lands at `pos`: every offset in it moves by pos - 4.
      const delta = BigInt(pos - 4);
      const groups = (field(p.footer, FILE.rowGroups)?.value as ThriftList | undefined)?.items ?? [];
      for (const rg of groups) rowGroups.push(shiftRowGroup(rg as ThriftStruct, delta, rowGroups.length));
      rows += (field(p.footer, FILE.numRows)?.value as bigint | undefined) ?? 0n;
      for (let at = 4; at < p.bodyEnd; ) {
        const n = readSync(p.fd, buf, 0, Math.min(CHUNK, p.bodyEnd - at), at);
        if (n <= 0) throw new Error(`${p.path}: ended at byte ${at} while copying`);
        write(buf.subarray(0, n));
        at += n;
      }
    }
    let footer = withField(first.footer, FILE.numRows, rows);
    footer = withField(footer, FILE.rowGroups, { elemType: T.STRUCT, items: rowGroups });
    const bytes = writeStruct(footer);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(bytes.length);
    write(bytes);
    write(len);
    write(MAGIC);
    return { bytes: pos, sha256: hash.digest('hex') };
  } finally {
    for (const p of opened) closeSync(p.fd);
    closeSync(out);
  }
}
