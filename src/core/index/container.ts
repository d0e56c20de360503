/**
 * A TypeScript reader for the container's header, section table, footer and
 * PARAMS section (layout: native/core/src/container/mod.rs). It needs no
 * addon, so `recall inspect` starts fast and still works on a damaged file;
 * full verification (every checksum, every padding byte) is Rust's job
 * (`verifyContainer` in core/pipeline/verify.ts).
 */
import { open } from 'node:fs/promises';
import CRC32C from 'crc-32/crc32c.js';
import { badInput } from '../errors.js';

export const MAGIC = Buffer.from('RCLIDX\0\x01', 'latin1');
export const FOOTER_MAGIC = Buffer.from('RCLIDEND', 'latin1');
export const HEADER_LEN = 64;
export const ENTRY_LEN = 32;
export const FOOTER_LEN = 32;
export const SECTION_PARAMS = 1;

export const FILE_KINDS: Record<number, string> = { 1: 'inverted', 2: 'x2i', 3: 'vector', 15: 'sample' };

/** Section names per file kind; kinds below 16 are shared by all. */
const SHARED_SECTIONS: Record<number, string> = { 1: 'params' };
const SECTION_NAMES: Record<string, Record<number, string>> = {
  sample: { 16: 'body', 17: 'empty', 18: 'tail' },
  x2i: { 16: 'hashmeta', 17: 'slots', 18: 'lists' },
  inverted: {
    16: 'fields',
    17: 'dict-index',
    18: 'dict-blocks',
    19: 'postings',
    20: 'doc-lens',
    21: 'forward',
    22: 'pair-dict',
    23: 'pair-postings',
    24: 'ext-ids',
    25: 'tombstones',
  },
  vector: {
    32: 'meta',
    33: 'ids',
    34: 'vectors',
    35: 'sq8',
    36: 'f32',
    37: 'hnsw-levels',
    38: 'hnsw-level0',
    39: 'hnsw-upper-offsets',
    40: 'hnsw-upper',
    41: 'ivf-centroids',
    42: 'ivf-offsets',
    43: 'f32-crc',
    44: 'attrs',
  },
};

export function sectionName(fileKind: number, sectionKind: number): string {
  return SHARED_SECTIONS[sectionKind] ?? SECTION_NAMES[FILE_KINDS[fileKind] ?? '']?.[sectionKind] ?? `kind-${sectionKind}`;
}

export interface ContainerHeader {
  kind: number;
  kindName: string;
  major: number;
  minor: number;
  flags: number;
  sectionCount: number;
  tableOffset: number;
  buildId: bigint;
  version: number;
  shard: number;
  shardCount: number;
  tableCrc32c: number;
  headerCrcOk: boolean;
}

export interface ContainerSection {
  index: number;
  kind: number;
  name: string;
  version: number;
  offset: number;
  length: number;
  crc32c: number;
}

export interface ContainerInfo {
  file: string;
  fileBytes: number;
  header: ContainerHeader;
  sections: ContainerSection[];
  /** Parsed PARAMS section, if present and intact. */
  params: unknown;
}

export const crc32c = (bytes: Uint8Array): number => CRC32C.buf(bytes, 0) >>> 0;

/** Read header, table and PARAMS of a recall index file (structure only). */
export async function readContainerInfo(file: string): Promise<ContainerInfo> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const read = async (offset: number, length: number) => {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, offset);
      return buf.subarray(0, bytesRead);
    };
    const h = await read(0, HEADER_LEN);
    if (h.length < 8 || !h.subarray(0, 7).equals(MAGIC.subarray(0, 7))) {
      throw badInput('ERR_RECALL_NOT_AN_INDEX', `${file}: not a recall index file (no RCLIDX magic at byte 0)`, {
        file,
        offset: 0,
        fix: 'pass a file written by `recall build`',
      });
    }
    if (size < HEADER_LEN + FOOTER_LEN) {
      throw badInput('ERR_RECALL_CORRUPT', `${file}: only ${size} bytes, truncated`, {
        file,
        offset: size,
        fix: 'rebuild or re-copy the file',
      });
    }
    const header: ContainerHeader = {
      kind: h.readUInt16LE(8),
      kindName: FILE_KINDS[h.readUInt16LE(8)] ?? `kind-${h.readUInt16LE(8)}`,
      major: h.readUInt16LE(10),
      minor: h.readUInt16LE(12),
      flags: h.readUInt32LE(16),
      sectionCount: h.readUInt32LE(20),
      tableOffset: Number(h.readBigUInt64LE(24)),
      buildId: h.readBigUInt64LE(32),
      version: h.readUInt32LE(40),
      shard: h.readUInt32LE(44),
      shardCount: h.readUInt32LE(48),
      tableCrc32c: h.readUInt32LE(52),
      headerCrcOk: crc32c(h.subarray(0, 60)) === h.readUInt32LE(60),
    };
    const footer = await read(size - FOOTER_LEN, FOOTER_LEN);
    const tableLen = header.sectionCount * ENTRY_LEN;
    if (!header.headerCrcOk || !footer.subarray(24).equals(FOOTER_MAGIC) || header.tableOffset + tableLen + FOOTER_LEN !== size) {
      throw badInput('ERR_RECALL_CORRUPT', `${file}: header or footer damaged, or the file is truncated`, {
        file,
        offset: header.headerCrcOk ? Math.min(size, header.tableOffset + tableLen) : 0,
        fix: 'run `recall verify` for the exact byte ranges; rebuild or re-copy the file',
      });
    }
    const table = await read(header.tableOffset, tableLen);
    if (crc32c(table) !== header.tableCrc32c) {
      throw badInput('ERR_RECALL_CORRUPT', `${file}: section table checksum mismatch`, {
        file,
        offset: header.tableOffset,
        length: tableLen,
      });
    }
    const sections: ContainerSection[] = [];
    for (let i = 0; i < header.sectionCount; i++) {
      const e = table.subarray(i * ENTRY_LEN, (i + 1) * ENTRY_LEN);
      const kind = e.readUInt32LE(0);
      sections.push({
        index: i,
        kind,
        name: sectionName(header.kind, kind),
        version: e.readUInt32LE(4),
        offset: Number(e.readBigUInt64LE(8)),
        length: Number(e.readBigUInt64LE(16)),
        crc32c: e.readUInt32LE(24),
      });
    }
    let params: unknown = null;
    const p = sections.find((s) => s.kind === SECTION_PARAMS);
    if (p) {
      const bytes = await read(p.offset, p.length);
      if (crc32c(bytes) !== p.crc32c) {
        throw badInput('ERR_RECALL_CORRUPT', `${file}: params section checksum mismatch`, { file, offset: p.offset, length: p.length });
      }
      try {
        params = JSON.parse(bytes.toString('utf8'));
      } catch {
        throw badInput('ERR_RECALL_CORRUPT', `${file}: params section is not JSON`, { file, offset: p.offset, length: p.length });
      }
    }
    return { file, fileBytes: size, header, sections, params };
  } finally {
    await fh.close();
  }
}

/** True when the file starts with the container magic (cheap sniff). */
export async function isContainerFile(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(6);
    const { bytesRead } = await fh.read(buf, 0, 6, 0);
    return bytesRead === 6 && buf.equals(MAGIC.subarray(0, 6));
  } finally {
    await fh.close();
  }
}
