/**
 * A TypeScript reader of WAL segments for tools (`recall wal inspect`, tests):
 * independent of the native scanner, with the same rules. Records are
 * `[u32 length][u32 crc32c][u64 seq][u8 op][payload]`; a bad record at the
 * very end of the newest segment is a torn tail (a write that did not
 * finish), anywhere else it is corruption.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { channelName, decodeOp } from '../channels/kinds.js';
import { badInput } from '../errors.js';

const SEGMENT_RE = /^(\d{20})\.wal$/;
const HEADER = 8;
const BODY_FIXED = 9;
const MAX_BODY = 2 ** 30;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli), as the native writer computes it. */
export function crc32c(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface WalRecord {
  seq: number;
  op: number;
  payload: Uint8Array;
}

export interface SegmentIssue {
  offset: number;
  bytes: number;
  message: string;
}

export interface SegmentSummary {
  file: string;
  /** The seq its name says it starts at. */
  firstSeq: number;
  bytes: number;
  records: number;
  /** Seq range of its valid records (0 when none). */
  minSeq: number;
  maxSeq: number;
  /** Record counts by op name (`x2i.upsert`, ...). */
  ops: Record<string, number>;
  torn: SegmentIssue | null;
  corrupt: SegmentIssue[];
}

export async function listSegments(dir: string): Promise<{ firstSeq: number; file: string }[]> {
  const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  return names
    .flatMap((n) => {
      const m = SEGMENT_RE.exec(n);
      return m ? [{ firstSeq: Number(m[1]), file: join(dir, n) }] : [];
    })
    .sort((a, b) => a.firstSeq - b.firstSeq);
}

/** Every valid record of one segment, and what is wrong with the rest (bad records are skipped where their length allows). */
export function parseSegment(
  b: Uint8Array,
  last: boolean,
  prevSeq: number,
  visit?: (r: WalRecord) => void,
): { maxSeq: number; records: number; torn: SegmentIssue | null; corrupt: SegmentIssue[] } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const corrupt: SegmentIssue[] = [];
  let o = 0;
  let records = 0;
  while (o < b.length) {
    let problem: string;
    let next: number | null = null;
    if (b.length - o < HEADER + BODY_FIXED) problem = `a partial record of ${b.length - o} bytes`;
    else {
      const len = dv.getUint32(o, true);
      if (len < BODY_FIXED || len > MAX_BODY) problem = `an impossible record length ${len}`;
      else if (o + HEADER + len > b.length) problem = `a record of ${len} bytes that runs past the end of the segment`;
      else {
        const body = b.subarray(o + HEADER, o + HEADER + len);
        const seq = Number(dv.getBigUint64(o + HEADER, true));
        next = o + HEADER + len;
        if (crc32c(body) !== dv.getUint32(o + 4, true)) problem = 'a checksum mismatch';
        else if (seq <= prevSeq) problem = `seq ${seq} after seq ${prevSeq} (seqs must rise)`;
        else {
          visit?.({ seq, op: body[8]!, payload: body.subarray(BODY_FIXED) });
          prevSeq = seq;
          records++;
          o = next;
          continue;
        }
      }
    }
    if (last && (next === null || next === b.length)) {
      return {
        maxSeq: prevSeq,
        records,
        torn: { offset: o, bytes: b.length - o, message: `torn tail: ${problem} (a write that did not finish); ignored` },
        corrupt,
      };
    }
    const end = next ?? b.length;
    corrupt.push({ offset: o, bytes: end - o, message: `corrupt record at offset ${o}: ${problem}` });
    o = end;
  }
  return { maxSeq: prevSeq, records, torn: null, corrupt };
}

/** Summaries of every segment of a WAL folder, oldest first. */
export async function inspectWal(dir: string, visit?: (r: WalRecord) => void): Promise<SegmentSummary[]> {
  const segs = await listSegments(dir);
  const out: SegmentSummary[] = [];
  let prev = 0;
  for (let i = 0; i < segs.length; i++) {
    const { file, firstSeq } = segs[i]!;
    const b = await readFile(file).catch((e: NodeJS.ErrnoException) => {
      throw badInput(
        'ERR_RECALL_IO',
        `${file}: cannot read (${e.code === 'EISDIR' ? 'a folder where a segment file belongs' : (e.code ?? e.message)})`,
        {
          file,
          fix: 'a WAL folder holds only segment files: move the folder away or restore the segment',
        },
      );
    });
    const ops: Record<string, number> = {};
    let minSeq = 0;
    const r = parseSegment(b, i === segs.length - 1, Math.max(prev, firstSeq - 1), (rec) => {
      minSeq ||= rec.seq;
      const d = decodeOp(rec.op);
      const name = d ? `${channelName(d.channel)}.${d.delete ? 'delete' : 'upsert'}` : `op${rec.op}`;
      ops[name] = (ops[name] ?? 0) + 1;
      visit?.(rec);
    });
    prev = r.maxSeq;
    out.push({
      file,
      firstSeq,
      bytes: b.length,
      records: r.records,
      minSeq,
      maxSeq: r.records ? r.maxSeq : 0,
      ops,
      torn: r.torn,
      corrupt: r.corrupt,
    });
  }
  return out;
}

export interface WalInspection {
  wal: string;
  segments: SegmentSummary[];
  records: number;
  lastSeq: number;
  torn: boolean;
  corrupt: number;
}

/** `recall wal inspect`: per-segment summaries and totals. */
export async function inspectWalFolder(dir: string): Promise<WalInspection> {
  const segments = await inspectWal(dir);
  return {
    wal: dir,
    segments,
    records: segments.reduce((s, x) => s + x.records, 0),
    lastSeq: segments.reduce((s, x) => Math.max(s, x.maxSeq), 0),
    torn: segments.some((s) => s.torn),
    corrupt: segments.reduce((s, x) => s + x.corrupt.length, 0),
  };
}
