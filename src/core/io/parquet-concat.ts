/**
 * Parquet files of one schema joined into one file without decoding a page: the row groups are
 * copied byte for byte in order, and only the footer is rewritten (row groups listed in order with
 * their offsets shifted to where they now sit, row counts summed). `recall shard` uses it to join
 * the pieces of a shard that parallel writers produced, each from its own contiguous slice of the
 * input, so that a shard's rows stay in input order while no writer decodes the whole input.
 * DuckDB and the npm parquet packages can only do this by decoding and encoding every value again.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { field, readStruct, T, type ThriftList, type ThriftStruct, type ThriftValue, writeStruct } from './thrift-compact.js';

const MAGIC = Buffer.from('PAR1');
const CHUNK = 256 << 10;
let chunk: Buffer | undefined;
/**
 * One copy buffer for every join, kept: a fresh one per file costs a page fault per 4 KiB when
 * first filled, which in a VM took longer than the copy itself. The joins are synchronous, so
 * they never share it at once. 256 KiB stays in L2 between the read and the hash.
 */
const copyBuffer = (): Buffer => (chunk ??= Buffer.allocUnsafeSlow(CHUNK));

// FileMetaData, RowGroup, ColumnChunk and ColumnMetaData field ids (parquet.thrift).
const FILE = { schema: 2, numRows: 3, rowGroups: 4 } as const;
const ROW_GROUP = { columns: 1, fileOffset: 5, ordinal: 7 } as const;
const CHUNK_FIELD = { fileOffset: 2, metaData: 3, offsetIndexOffset: 4, columnIndexLength: 7 } as const;
/** ColumnMetaData offsets: data page, index page, dictionary page, bloom filter. */
const META_OFFSETS = new Set([9, 10, 11, 14]);

interface Part {
  fd: number;
  path: string;
  size: number;
  /** Bytes between the leading magic and the footer: row groups, then bloom filters. */
  bodyEnd: number;
  footer: ThriftStruct;
}

function openPart(path: string, flags: 'r' | 'r+'): Part {
  const fd = openSync(path, flags);
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
    return { fd, path, size, bodyEnd, footer: readStruct(raw).struct };
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

/** A part's bytes before its footer, hashed: how every join that starts with this part begins. */
export interface HashedHead {
  path: string;
  /** The part's size when hashed: a part that changed since is hashed again. */
  size: number;
  bodyEnd: number;
  hash: Hash;
}

/** Feed bytes [from, to) of the open file `fd` (at `path`) to `hash`. */
function hashRange(fd: number, path: string, from: number, to: number, hash: Hash): void {
  const buf = copyBuffer();
  for (let at = from; at < to; ) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, to - at), at);
    if (n <= 0) throw new Error(`${path}: ended at byte ${at} while hashing`);
    hash.update(buf.subarray(0, n));
    at += n;
  }
}

/**
 * Hash the head of `path` (its magic and row groups) ahead of a join that starts with it
 * (`concatParquet(..., { extendFirst: true, head })`), e.g. while the writers of the later parts
 * are still running.
 */
export function hashHead(path: string): HashedHead {
  const part = openPart(path, 'r');
  try {
    const hash = createHash('sha256');
    hashRange(part.fd, path, 0, part.bodyEnd, hash);
    return { path, size: part.size, bodyEnd: part.bodyEnd, hash };
  } finally {
    closeSync(part.fd);
  }
}

/** A join of one part in place: the part itself, hashed and renamed (its footer needs no change). */
function adopt(part: string, dest: string): { bytes: number; sha256: string } {
  const fd = openSync(part, 'r');
  let size: number;
  const hash = createHash('sha256');
  try {
    size = fstatSync(fd).size;
    hashRange(fd, part, 0, size, hash);
  } finally {
    closeSync(fd);
  }
  renameSync(part, dest);
  return { bytes: size, sha256: hash.digest('hex') };
}

export interface ConcatOptions {
  /**
   * Extend the first part in place and rename it to `dest`: its row groups do not move, so only
   * the later parts are copied (the first part is consumed; the others are left as they were).
   */
  extendFirst?: boolean;
  /** `hashHead(parts[0])`, taken earlier (with `extendFirst`). */
  head?: HashedHead;
}

/**
 * Write `parts` (parquet files of the same schema) as one file `dest`, rows in the order given.
 * Returns its size and sha256 (hex), taken as it is written.
 */
export function concatParquet(parts: readonly string[], dest: string, opts: ConcatOptions = {}): { bytes: number; sha256: string } {
  const extendFirst = opts.extendFirst ?? false;
  if (extendFirst && parts.length === 1) return adopt(parts[0]!, dest);
  const opened: Part[] = [];
  let out: number | undefined;
  let hash = createHash('sha256');
  let pos = 0;
  const write = (b: Uint8Array) => {
    hash.update(b);
    let done = 0;
    while (done < b.length) done += writeSync(out!, b, done, b.length - done, pos + done);
    pos += b.length;
  };
  let result: { bytes: number; sha256: string };
  try {
    for (const [i, p] of parts.entries()) opened.push(openPart(p, extendFirst && i === 0 ? 'r+' : 'r'));
    const first = opened[0];
    if (!first) throw new Error('no parts to join');
    const schema = encoded(field(first.footer, FILE.schema)?.value);
    const rowGroups: ThriftValue[] = [];
    let rows = 0n;
    const buf = copyBuffer();
    const addRowGroups = (p: Part, delta: bigint) => {
      const groups = (field(p.footer, FILE.rowGroups)?.value as ThriftList | undefined)?.items ?? [];
      for (const rg of groups) rowGroups.push(shiftRowGroup(rg as ThriftStruct, delta, rowGroups.length));
      rows += (field(p.footer, FILE.numRows)?.value as bigint | undefined) ?? 0n;
    };
    let copied = opened;
    if (extendFirst) {
      out = first.fd;
      const head = opts.head;
      if (head && head.path === first.path && head.size === first.size && head.bodyEnd === first.bodyEnd) hash = head.hash.copy();
      else hashRange(first.fd, first.path, 0, first.bodyEnd, hash);
      pos = first.bodyEnd;
      addRowGroups(first, 0n);
      copied = opened.slice(1);
    } else {
      out = openSync(dest, 'w');
      write(MAGIC);
    }
    for (const p of copied) {
      if (encoded(field(p.footer, FILE.schema)?.value) !== schema) throw new Error(`${p.path}: schema differs from ${first.path}`);
      // The part's byte 4 lands at `pos`: every offset in it moves by pos - 4.
      addRowGroups(p, BigInt(pos - 4));
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
    if (extendFirst) ftruncateSync(out, pos); // the first part's own footer may have been longer
    result = { bytes: pos, sha256: hash.digest('hex') };
  } finally {
    for (const p of opened) closeSync(p.fd);
    if (out !== undefined && !extendFirst) closeSync(out);
  }
  if (extendFirst) renameSync(parts[0]!, dest);
  return result;
}
