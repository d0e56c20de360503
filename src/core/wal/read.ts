/**
 * A TypeScript reader of WAL segments for tools (`recall wal inspect`, tests):
 * independent of the native scanner, with the same rules. Records are
 * `[u32 length][u32 crc32c][u64 seq][u8 op][payload]`; a record that runs
 * past the end of the newest segment with nothing valid after it is a torn
 * tail (a write that did not finish); damage anywhere else, a seq that jumps
 * or a missing segment is corruption.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { channelName, decodeOp, OP_DROPPED } from '../channels/kinds.js';
import { driverFor, drivers } from '../channels/registry.js';
import { badInput } from '../errors.js';
import { resolveLayered } from '../index/layers.js';
import { readWalIdentity, type WalBinding } from '../index/wal-identity.js';

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
  /** Seqs of records an operator dropped (`recall wal drop`): kept in the file, skipped by replay. */
  dropped: number[];
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

const MIN_RECORD = HEADER + BODY_FIXED;

/** The record at `o` when it is whole and valid (length sane, fits, CRC matches): its seq and end. */
function recordAt(b: Uint8Array, dv: DataView, o: number): { seq: number; end: number } | null {
  if (b.length - o < MIN_RECORD) return null;
  const len = dv.getUint32(o, true);
  if (len < BODY_FIXED || len > MAX_BODY || o + HEADER + len > b.length) return null;
  if (crc32c(b.subarray(o + HEADER, o + HEADER + len)) !== dv.getUint32(o + 4, true)) return null;
  return { seq: Number(dv.getBigUint64(o + HEADER, true)), end: o + HEADER + len };
}

/** The first valid record after damage at `bad` whose seq the damaged bytes could have reached. */
function resync(b: Uint8Array, dv: DataView, bad: number, prevSeq: number): number | null {
  for (let p = bad + 1; p + MIN_RECORD <= b.length; p++) {
    const len = dv.getUint32(p, true);
    if (len < BODY_FIXED || len > MAX_BODY || p + HEADER + len > b.length) continue;
    const seq = Number(dv.getBigUint64(p + HEADER, true));
    if (seq > prevSeq && seq <= prevSeq + 1 + Math.floor((p - bad) / MIN_RECORD) && recordAt(b, dv, p)) return p;
  }
  return null;
}

/**
 * Every valid record of one segment, and what is wrong with the rest: damaged bytes are skipped up
 * to the next valid record (found by scanning forward), naming the seqs lost. Seqs rise by one from
 * `prevSeq + 1`. Only the newest segment can end in a torn tail: a record that runs past the end (or
 * zeros) with nothing valid after it.
 */
export function parseSegment(
  b: Uint8Array,
  last: boolean,
  prevSeq: number,
  visit?: (r: WalRecord) => void,
): { maxSeq: number; records: number; torn: SegmentIssue | null; corrupt: SegmentIssue[]; endsDamaged: boolean } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const corrupt: SegmentIssue[] = [];
  let o = 0;
  let records = 0;
  let skipped: SegmentIssue | null = null;
  while (o < b.length) {
    const r = recordAt(b, dv, o);
    if (r && (r.seq === prevSeq + 1 || (skipped && r.seq > prevSeq))) {
      if (skipped && r.seq > prevSeq + 1) skipped.message += ` (seqs ${prevSeq + 1}..${r.seq - 1} lost)`;
      skipped = null;
      visit?.({ seq: r.seq, op: b[o + HEADER + 8]!, payload: b.subarray(o + HEADER + BODY_FIXED, r.end) });
      prevSeq = r.seq;
      records++;
      o = r.end;
      continue;
    }
    const partial = b.length - o < MIN_RECORD;
    const len = partial ? 0 : dv.getUint32(o, true);
    let problem: string;
    if (r)
      problem =
        r.seq <= prevSeq
          ? `seq ${r.seq} after seq ${prevSeq} (seqs must rise)`
          : `seq ${r.seq} after seq ${prevSeq}: seqs ${prevSeq + 1}..${r.seq - 1} are missing`;
    else if (partial) problem = `a partial record of ${b.length - o} bytes`;
    else if (len < BODY_FIXED || len > MAX_BODY) problem = `an impossible record length ${len}`;
    else if (o + HEADER + len > b.length) problem = `a record of ${len} bytes that runs past the end of the segment`;
    else problem = 'a checksum mismatch';
    const next = resync(b, dv, o, prevSeq);
    const runsPast =
      partial ||
      (len >= BODY_FIXED && len <= MAX_BODY && o + HEADER + len > b.length && crc32c(b.subarray(o + HEADER)) !== dv.getUint32(o + 4, true));
    if (last && next === null && !skipped && (runsPast || b.subarray(o).every((x) => x === 0))) {
      return {
        maxSeq: prevSeq,
        records,
        torn: { offset: o, bytes: b.length - o, message: `torn tail: ${problem} (a write that did not finish); ignored` },
        corrupt,
        endsDamaged: false,
      };
    }
    const end = next ?? b.length;
    const after =
      next !== null
        ? `; a valid record follows at offset ${next}`
        : last
          ? '; not a torn tail: the record is whole, or damaged bytes follow it'
          : '; in an older segment (only the newest can end in an unfinished write)';
    if (skipped) skipped.bytes = end - skipped.offset;
    else {
      skipped = { offset: o, bytes: end - o, message: `corrupt record at offset ${o}: ${problem}${after}` };
      corrupt.push(skipped);
    }
    o = end;
  }
  return { maxSeq: prevSeq, records, torn: null, corrupt, endsDamaged: skipped !== null };
}

/** Summaries of every segment of a WAL folder, oldest first. */
export async function inspectWal(dir: string, visit?: (r: WalRecord) => void): Promise<SegmentSummary[]> {
  const segs = await listSegments(dir);
  const out: SegmentSummary[] = [];
  let prev = 0;
  let prevDamaged = false;
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
    const dropped: number[] = [];
    let minSeq = 0;
    // seqs continue from one segment to the next: a missing range is a deleted or lost segment
    const corrupt: SegmentIssue[] = [];
    if (i > 0 && firstSeq !== prev + 1) {
      const prevIssue = out.at(-1)!.corrupt.at(-1);
      if (prevDamaged && firstSeq > prev + 1 && prevIssue) prevIssue.message += ` (seqs ${prev + 1}..${firstSeq - 1} lost)`;
      else
        corrupt.push({
          offset: 0,
          bytes: 0,
          message:
            firstSeq > prev + 1
              ? `seqs ${prev + 1}..${firstSeq - 1} are missing before this segment (a segment file was deleted or lost)`
              : `this segment is named for seq ${firstSeq}, but the one before it ends at seq ${prev}`,
        });
    }
    const r = parseSegment(b, i === segs.length - 1, firstSeq - 1, (rec) => {
      minSeq ||= rec.seq;
      const d = decodeOp(rec.op);
      const name = d ? `${channelName(d.channel)}.${d.delete ? 'delete' : 'upsert'}` : rec.op & OP_DROPPED ? 'dropped' : `op${rec.op}`;
      ops[name] = (ops[name] ?? 0) + 1;
      if (rec.op & OP_DROPPED) dropped.push(rec.seq);
      visit?.(rec);
    });
    prev = r.maxSeq;
    prevDamaged = r.endsDamaged;
    corrupt.push(...r.corrupt);
    out.push({
      file,
      firstSeq,
      bytes: b.length,
      records: r.records,
      minSeq,
      maxSeq: r.records ? r.maxSeq : 0,
      ops,
      torn: r.torn,
      corrupt,
      dropped,
    });
  }
  return out;
}

/** A whole record that cannot apply to its channel's index: replay quarantines it; `wal drop` removes it. */
export interface InapplicableRecord {
  seq: number;
  channel: string;
  reason: string;
}

export interface WalInspection {
  wal: string;
  /** The WAL's id (wal.json); null for a WAL made before ids. */
  id: string | null;
  /** Per channel: what its records must fit (the WAL's binding, and the index given with --index). */
  bindings: Record<string, WalBinding>;
  segments: SegmentSummary[];
  records: number;
  lastSeq: number;
  torn: boolean;
  corrupt: number;
  dropped: number[];
  inapplicable: InapplicableRecord[];
}

/** The channel driver whose index files `index` holds. */
async function driverOfIndex(index: string) {
  for (const d of drivers()) {
    const lv = await resolveLayered(index, d.fileExt, 'an index').catch(() => null);
    if (lv?.layers.some((l) => l.files.length)) return d;
  }
  throw badInput('ERR_RECALL_NOT_AN_INDEX', `${index}: holds no x2i, vector or inverted index file`, {
    file: index,
    fix: 'pass a channel folder, a version folder or an index file',
  });
}

/**
 * `recall wal inspect`: per-segment summaries and totals, and every whole record that cannot apply
 * to its channel (checked against the WAL's bindings and, with `index`, against that index).
 */
export async function inspectWalFolder(dir: string, o: { index?: string } = {}): Promise<WalInspection> {
  const identity = await readWalIdentity(dir);
  const bindings: Record<string, WalBinding> = { ...(identity?.channels ?? {}) };
  if (o.index) {
    const d = await driverOfIndex(o.index);
    bindings[d.name] = { ...bindings[d.name], ...(await d.record.fitOf?.(o.index)) };
  }
  const inapplicable: InapplicableRecord[] = [];
  const segments = await inspectWal(dir, (r) => {
    const op = decodeOp(r.op);
    if (!op) return;
    const name = channelName(op.channel);
    const why = driverFor(op.channel).record.inapplicable(r.payload, op.delete, bindings[name] ?? {});
    if (why) inapplicable.push({ seq: r.seq, channel: name, reason: why });
  });
  return {
    wal: dir,
    id: identity?.id ?? null,
    bindings,
    segments,
    records: segments.reduce((s, x) => s + x.records, 0),
    lastSeq: segments.reduce((s, x) => Math.max(s, x.maxSeq), 0),
    torn: segments.some((s) => s.torn),
    corrupt: segments.reduce((s, x) => s + x.corrupt.length, 0),
    dropped: segments.flatMap((s) => s.dropped),
    inapplicable,
  };
}
