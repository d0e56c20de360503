/**
 * Vector versions in layers: a delta
 * layer is a flat exact index of the vectors upserted since the layer under
 * it plus `deletes.u64` (the ids deleted, sorted u64); a WAL tail is the
 * vector records after the version's dump seq. A query searches every layer
 * for k plus the number of ids newer layers override (so k survive the
 * filter), drops those ids, scores the tail exactly, and merges by distance.
 */
import { join } from 'node:path';
import { badInput } from '../../errors.js';
import { type Layer, readLayerFile } from '../../index/layers.js';
import {
  type CancelToken,
  loadNative,
  type VectorFilterOptions,
  type VectorHandle,
  type WalRange,
  type WalScanReport,
} from '../../native.js';
import type { QuarantinedRecord } from '../driver.js';
import { decodeOp } from '../kinds.js';
import { vectorRecords } from './records.js';
import { recordStart } from '../../io/records.js';

export const VECTOR_DELETES_FILE = 'deletes.u64';

export interface VectorChanges {
  /** id (u64) -> its last row, or null when its last record is a delete. */
  rows: Map<bigint, Float32Array | null>;
  dim: number;
  records: number;
  upserts: number;
  deletes: number;
  /** Records that cannot apply to the index (another dimension): skipped, reported. */
  quarantined: QuarantinedRecord[];
  report: WalScanReport;
}

/**
 * The vector records of a WAL range, last writer wins. A record that cannot apply (a vector of
 * another dimension than `dim`) is quarantined: skipped as if absent and reported, so one bad
 * record does not stop every query and dump of the channel.
 */
export function vectorChanges(walDir: string, range: WalRange, dim: number): VectorChanges {
  const s = loadNative().walScan(walDir, range);
  const rows = new Map<bigint, Float32Array | null>();
  const quarantined: QuarantinedRecord[] = [];
  let upserts = 0;
  let deletes = 0;
  const dv = new DataView(s.payloads.buffer, s.payloads.byteOffset, s.payloads.byteLength);
  for (let i = 0; i < s.ops.length; i++) {
    const op = decodeOp(s.ops[i]!);
    if (op?.channel !== 'vector') continue;
    const at = recordStart(s.ends, i);
    const why = vectorRecords.inapplicable(s.payloads.subarray(at, s.ends[i]), op.delete, { dim });
    if (why) {
      quarantined.push({ seq: s.seqs[i]!, reason: why });
      continue;
    }
    const id = dv.getBigUint64(at, true);
    if (op.delete) {
      deletes++;
      rows.set(id, null);
      continue;
    }
    upserts++;
    // copy out: the payload buffer is one allocation for the whole scan
    rows.set(id, new Float32Array(s.payloads.slice(at + 12, at + 12 + 4 * dim).buffer));
  }
  return { rows, dim, records: upserts + deletes, upserts, deletes, quarantined, report: s.report };
}

export function encodeDeletes(ids: Iterable<bigint>): Buffer {
  const sorted = [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(BigUint64Array.from(sorted).buffer);
}

export async function readDeletes(layerDir: string): Promise<Set<bigint>> {
  const b = (await readLayerFile(layerDir, VECTOR_DELETES_FILE)) ?? Buffer.alloc(0);
  if (b.length % 8)
    throw badInput('ERR_RECALL_CORRUPT', `${join(layerDir, VECTOR_DELETES_FILE)}: ${b.length} bytes is not a list of u64 ids`, {
      file: join(layerDir, VECTOR_DELETES_FILE),
    });
  const copy = new Uint8Array(b); // aligned
  return new Set(new BigUint64Array(copy.buffer, 0, b.length / 8));
}

/** A layer opened for search: its index (absent when it upserted nothing), ids, and deletes. */
export interface OpenLayer {
  handle: VectorHandle | null;
  n: number;
  ids: Set<bigint>;
  deletes: Set<bigint>;
}

export async function openLayers(layers: Layer[]): Promise<OpenLayer[]> {
  const native = loadNative();
  const out: OpenLayer[] = [];
  for (const [i, l] of layers.entries()) {
    const handle = l.files[0] ? native.vectorOpen(l.files[0]) : null;
    const n = handle ? native.vectorInfo(handle).n : 0;
    // a lower layer's ids are only needed to know what newer layers override: not the base's
    const ids = i > 0 && handle ? new Set(native.vectorRows(handle)?.ids ?? []) : new Set<bigint>();
    out.push({ handle, n, ids, deletes: i > 0 ? await readDeletes(l.dir) : new Set() });
  }
  return out;
}

/** Distance as the index reports it: L2 Euclidean, ip minus the inner product, cosine 1 - cosine. */
export function distance(metric: string, q: Float32Array, x: Float32Array): number {
  let dot = 0;
  let qq = 0;
  let xx = 0;
  let l2 = 0;
  for (let j = 0; j < q.length; j++) {
    dot += q[j]! * x[j]!;
    qq += q[j]! * q[j]!;
    xx += x[j]! * x[j]!;
    l2 += (q[j]! - x[j]!) ** 2;
  }
  if (metric === 'l2') return Math.sqrt(l2);
  if (metric === 'ip') return -dot;
  return 1 - dot / (Math.sqrt(qq * xx) || 1);
}

export interface LayeredSearch {
  ids: bigint[][];
  distances: number[][];
}

/**
 * Search every layer (oldest first in `layers`) and the tail; per query the k nearest live ids.
 * A layer is asked for k + (ids newer layers or the tail override) so that k survive the filter.
 * An allow-list applies to every layer and the tail; attribute ranges to the base layer, the only
 * one with attributes (the caller refuses them when other layers or the tail hold rows).
 */
export async function searchLayers(
  layers: OpenLayer[],
  tail: Map<bigint, Float32Array | null>,
  metric: string,
  queries: Float32Array,
  dim: number,
  k: number,
  p: { ef?: number; nprobe?: number; rerank?: number; threads?: number } & VectorFilterOptions,
  token?: CancelToken,
): Promise<LayeredSearch> {
  const { attrRanges, ...rest } = p;
  const allowed = p.allowIds ? new Set(p.allowIds) : null;
  const native = loadNative();
  const nq = queries.length / dim;
  const cands: { id: bigint; d: number }[][] = Array.from({ length: nq }, () => []);
  const shadow = new Set<bigint>(tail.keys());
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i]!;
    if (l.handle && l.n > 0) {
      const kk = Math.min(l.n, k + shadow.size);
      const r = await native.vectorSearch(
        l.handle,
        queries,
        { ...rest, ...(i === 0 && attrRanges ? { attrRanges } : {}), k: kk, ef: Math.max(p.ef ?? 0, kk) },
        token,
      );
      for (let q = 0; q < nq; q++) {
        for (let j = 0; j < kk; j++) {
          const raw = r.ids[q * kk + j]!;
          if (raw < 0n) continue;
          const id = BigInt.asUintN(64, raw);
          if (!shadow.has(id)) cands[q]!.push({ id, d: r.distances[q * kk + j]! });
        }
      }
    }
    for (const id of l.ids) shadow.add(id);
    for (const id of l.deletes) shadow.add(id);
  }
  for (const [id, row] of tail) {
    if (!row || (allowed && !allowed.has(id))) continue;
    for (let q = 0; q < nq; q++) cands[q]!.push({ id, d: distance(metric, queries.subarray(q * dim, (q + 1) * dim), row) });
  }
  const ids: bigint[][] = [];
  const distances: number[][] = [];
  for (const c of cands) {
    c.sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    ids.push(c.slice(0, k).map((x) => x.id));
    distances.push(c.slice(0, k).map((x) => x.d));
  }
  return { ids, distances };
}
