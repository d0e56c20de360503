/**
 * `recall x2i stream`: keep x2i lists fresh from a stream of interactions. Each micro-batch updates
 * the incremental state (recall-core x2i::stream), recomputes the lists it can change, appends one
 * x2i upsert per changed list to the WAL (durable), then checkpoints the state with the WAL seq and
 * the source position (temp name + rename). Every record carries a tag (stream id, batch number, the
 * batch's end position), so after a crash the batches between the checkpoint and the WAL's end are
 * replayed exactly (same end position) and records already appended are not appended again.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { badInput, RecallError, usage } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { canonicalJson } from '../../io/canonical-json.js';
import { ident, literalList, openDuckDB } from '../../io/duckdb.js';
import { readColumns } from '../../io/columns.js';
import { lockOrFail } from '../../io/lock.js';
import { readCurrent } from '../../index/versions.js';
import { newWalIdentity, readWalIdentity, writeWalIdentity } from '../../index/wal-identity.js';
import { loadNative, type X2iComputeOptions, type X2iStreamHandle } from '../../native.js';
import { opCode } from '../kinds.js';
import { packUserKeys } from './user-keys.js';
import { DirSource, KafkaSource, type SourcePosition, StdinSource, type StreamColumns, type StreamSource } from './stream-source.js';

export const STATE_FILE = 'state.bin';
export const STATUS_FILE = 'status.json';
export const STATE_LOCK = 'LOCK';

export interface StreamOptions {
  index: string;
  wal: string;
  state: string;
  source: string;
  /** Wait between polls when nothing is ready (ignored with `once`). */
  everyMs: number;
  once: boolean;
  maxBatchRows: number;
  allowedLatenessSeconds?: number;
  onBad: 'skip' | 'stop';
  threads: number;
}

/** What the checkpoint records next to the state. */
export interface StreamMeta {
  format: 'recall-x2i-stream';
  formatVersion: 1;
  /** Random: tags this stream's WAL records. */
  id: string;
  params: { columns: StreamColumns; algorithm: Record<string, unknown> };
  /** Batches applied and checkpointed. */
  batch: number;
  /** Per source kind (dir, kafka): where the next batch starts. */
  positions: Record<string, SourcePosition>;
  /** Last seq this stream appended (0: none yet). */
  walSeq: number;
  /** Latest interaction time applied (the watermark of --allowed-lateness). */
  maxTs: number;
}

export interface BatchReport {
  batch: number;
  from: SourcePosition;
  to: SourcePosition;
  rows: number;
  bad: number;
  itemsTouched: number;
  listsChanged: number;
  usersChanged: number;
  firstSeq: number;
  lastSeq: number;
  /** Records of a replayed batch found already in the WAL (not appended again). */
  alreadyInWal: number;
  /** From reading the batch to its WAL records being durable. */
  latencyMs: number;
  applyMs: number;
  checkpointMs: number;
}

export interface BadRow {
  at: string;
  reason: string;
}

export interface StreamResult {
  index: string;
  wal: string;
  state: string;
  source: string;
  stateId: string;
  algorithm: string;
  /** The most recent batches (at most 100). */
  batches: BatchReport[];
  totals: { batches: number; rows: number; bad: number; listsChanged: number; records: number };
  bad: { count: number; first: BadRow[] };
  lastSeq: number;
  position: SourcePosition;
  lag: Record<string, number>;
  recovered: { batches: number; alreadyInWal: number };
  stateInfo: { items: number; users: number; interactions: number; pairs: number; heapBytes: number };
}

/** The build parameters the stream continues, from an index built with --from-interactions. */
export async function streamParams(index: string): Promise<StreamMeta['params']> {
  const cur = await readCurrent(index);
  if (!cur)
    throw badInput('ERR_RECALL_NO_VERSION', `${index}: no published x2i version (no CURRENT)`, {
      fix: 'build it first: recall build x2i --from-interactions ... --out DIR',
    });
  const p = cur.manifest.params as { algorithm?: unknown; columns?: Record<string, unknown> };
  if (typeof p.algorithm !== 'object' || p.algorithm === null || !p.columns)
    throw usage('ERR_RECALL_STREAM_PARAMS', `${index}: built from precomputed lists; a stream continues a build from interactions`, {
      fix: 'build the index with recall build x2i --from-interactions (and --keep-state DIR)',
    });
  const c = p.columns;
  return {
    columns: {
      user: String(c.user),
      item: String(c.item),
      ts: (c.ts as string | null) ?? null,
      weight: (c.weight as string | null) ?? null,
      actionWeights: (c.actionWeights as Record<string, number> | null) ?? null,
      ...(c.action ? { action: String(c.action) } : {}),
    },
    algorithm: p.algorithm as Record<string, unknown>,
  };
}

export function computeOptions(algorithm: Record<string, unknown>, threads: number): X2iComputeOptions {
  const a = { ...algorithm } as Record<string, unknown>;
  const seed = BigInt(String(a.seed ?? '0'));
  delete a.seed;
  return { ...(a as unknown as X2iComputeOptions), seed, threads };
}

function parseSource(spec: string, cols: StreamColumns): StreamSource {
  if (spec === '-') return new StdinSource(cols);
  if (spec.startsWith('dir:')) return new DirSource(spec.slice(4), cols);
  if (spec.startsWith('kafka://')) return new KafkaSource(spec, cols);
  throw usage('ERR_RECALL_USAGE', `--source ${spec}: expected dir:PATH, - (JSON lines on stdin) or kafka://HOST:PORT/TOPIC?group=G`, {
    fix: 'pass one of those',
  });
}

/** This stream's records after `after`, by batch: the batch's end position and the keys already appended. */
function recordsInWal(wal: string, after: number, id: string): Map<number, { end: SourcePosition; keys: Set<bigint>; lastSeq: number }> {
  const out = new Map<number, { end: SourcePosition; keys: Set<bigint>; lastSeq: number }>();
  if (!existsSync(wal)) return out;
  const s = loadNative().walScan(wal, { after });
  const upsert = opCode('x2i', false);
  const v = new DataView(s.payloads.buffer, s.payloads.byteOffset, s.payloads.byteLength);
  const dec = new TextDecoder();
  let start = 0;
  for (let r = 0; r < s.ops.length; r++) {
    const end = s.ends[r]!;
    if (s.ops[r] === upsert && end - start >= 12) {
      const at = start + 12 + 12 * v.getUint32(start + 8, true);
      if (end >= at + 4 && end === at + 4 + v.getUint32(at, true)) {
        try {
          const tag = JSON.parse(dec.decode(s.payloads.subarray(at + 4, end))) as { stream?: string; batch?: number; end?: SourcePosition };
          if (tag.stream === id && typeof tag.batch === 'number' && tag.end) {
            const b = out.get(tag.batch) ?? { end: tag.end, keys: new Set<bigint>(), lastSeq: 0 };
            b.keys.add(v.getBigUint64(start, true));
            b.lastSeq = s.seqs[r]!;
            out.set(tag.batch, b);
          }
        } catch {
          // another writer's tag: not ours
        }
      }
    }
    start = end;
  }
  return out;
}

/** Keep only the records whose key is not in `skip`. */
function withoutKeys(a: { keys: BigUint64Array; ops: Uint8Array; ends: Uint32Array; payloads: Uint8Array }, skip: Set<bigint>) {
  const ops: number[] = [];
  const ends: number[] = [];
  const parts: Uint8Array[] = [];
  let len = 0;
  let start = 0;
  for (let r = 0; r < a.keys.length; r++) {
    const end = a.ends[r]!;
    if (!skip.has(a.keys[r]!)) {
      ops.push(a.ops[r]!);
      parts.push(a.payloads.subarray(start, end));
      len += end - start;
      ends.push(len);
    }
    start = end;
  }
  const payloads = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    payloads.set(p, at);
    at += p.length;
  }
  return { ops: Uint8Array.from(ops), ends: Uint32Array.from(ends), payloads, skipped: a.keys.length - ops.length };
}

async function appendDurably(
  wal: string,
  ops: Uint8Array,
  ends: Uint32Array,
  payloads: Uint8Array,
): Promise<{ first: number; last: number }> {
  if (ops.length === 0) return { first: 0, last: 0 };
  const native = loadNative();
  await mkdir(wal, { recursive: true });
  const w = native.walOpen(wal, { fsync: 'batch' });
  try {
    // under the writer lock: the WAL gets an identity and an x2i binding as `wal append` gives them
    const existing = await readWalIdentity(wal);
    if (!existing?.channels.x2i) {
      const identity = existing ?? newWalIdentity(w.nextSeq - 1);
      identity.channels.x2i = {};
      await writeWalIdentity(wal, identity);
    }
    return native.walAppend(w.handle, ops, ends, payloads);
  } finally {
    native.walClose(w.handle);
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((r) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      r();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

export async function runStream(
  o: StreamOptions,
  hooks: {
    signal?: AbortSignal;
    onBatch?: (b: BatchReport) => void;
    onBad?: (b: BadRow) => void;
    /** Batches found in the WAL after the checkpoint, to be replayed (a crash came between append and checkpoint). */
    onResume?: (pending: number[]) => void;
  } = {},
): Promise<StreamResult> {
  const native = loadNative();
  const params = await streamParams(o.index);
  await mkdir(o.state, { recursive: true });
  const lock = lockOrFail(join(o.state, STATE_LOCK), `${o.state}: a stream runs on this state`);
  const source = parseSource(o.source, params.columns);
  try {
    // 1. the state: the checkpoint, or empty (the lists then come from the stream alone)
    const statePath = join(o.state, STATE_FILE);
    let handle: X2iStreamHandle;
    let meta: StreamMeta;
    const options = computeOptions(params.algorithm, o.threads);
    if (existsSync(statePath)) {
      let loaded: { handle: X2iStreamHandle; meta: string };
      try {
        loaded = await native.x2iStreamLoad(statePath, options);
      } catch (e) {
        throw badInput('ERR_RECALL_CORRUPT', `${statePath}: ${(e as Error).message}`, {
          file: statePath,
          fix: 'restore the state folder from a copy, or rebuild it with recall build x2i --from-interactions --keep-state',
          cause: e,
        });
      }
      handle = loaded.handle;
      meta = JSON.parse(loaded.meta) as StreamMeta;
      if (canonicalJson(meta.params) !== canonicalJson(params))
        throw usage('ERR_RECALL_STREAM_PARAMS', `${o.state}: this state was built with other parameters than ${o.index}'s live version`, {
          fix: 'stream into the index the state was kept for, or start from a new --state folder',
        });
    } else {
      handle = native.x2iStreamNew(options);
      meta = {
        format: 'recall-x2i-stream',
        formatVersion: 1,
        id: randomBytes(16).toString('hex'),
        params,
        batch: 0,
        positions: {},
        walSeq: 0,
        maxTs: 0,
      };
    }
    // 2. batches appended after the checkpoint (a crash between append and checkpoint): replayed exactly.
    // stdin cannot be read again: each run starts at its first line (a producer re-sending lines does
    // no harm: interactions already applied change nothing)
    const replayable = source.kind !== 'stdin';
    const pending = recordsInWal(o.wal, meta.walSeq, meta.id);
    let position: SourcePosition = replayable ? (meta.positions[source.kind] ?? {}) : {};
    if (replayable && pending.size) hooks.onResume?.([...pending.keys()].sort((a, b) => a - b));
    const recovered = { batches: 0, alreadyInWal: 0 };
    const reports: BatchReport[] = [];
    const totals = { batches: 0, rows: 0, bad: 0, listsChanged: 0, records: 0 };
    const bad: StreamResult['bad'] = { count: 0, first: [] };
    const lateness = o.allowedLatenessSeconds;
    for (;;) {
      if (hooks.signal?.aborted) break;
      const replay = replayable ? pending.get(meta.batch + 1) : undefined;
      const b = await source.next(position, o.maxBatchRows, replay?.end);
      if (!b) {
        // stdin is read to its end, --once or not
        if (source instanceof StdinSource) {
          if (source.done) break;
          await source.wait(o.everyMs);
          continue;
        }
        if (o.once) break;
        await sleep(o.everyMs, hooks.signal);
        continue;
      }
      const t0 = performance.now();
      // 3. check the rows; a bad row stops before anything of the batch is applied (or is skipped)
      const users: string[] = [];
      const items: bigint[] = [];
      const ts: number[] = [];
      const ws: number[] = [];
      let maxTs = meta.maxTs;
      let badHere = 0;
      for (let k = 0; k < b.rows.length; k++) {
        const r = b.rows[k]!;
        let reason = 'bad' in r ? r.bad : null;
        if (!('bad' in r) && lateness !== undefined && r.ts + lateness < maxTs)
          reason = `late: time ${r.ts} is more than ${lateness} s behind the latest applied (${maxTs})`;
        if (reason !== null || 'bad' in r) {
          const br = { at: b.at(k), reason: reason ?? 'bad row' };
          if (o.onBad === 'stop')
            throw badInput('ERR_RECALL_BAD_ROW', `${br.at}: ${br.reason}`, {
              fix: `fix or remove the row, or pass --on-bad skip; nothing of this batch was applied (the stream stands after ${meta.batch} batches, seq ${meta.walSeq})`,
            });
          badHere++;
          bad.count++;
          if (bad.first.length < 20) bad.first.push(br);
          hooks.onBad?.(br);
          continue;
        }
        users.push(r.user);
        items.push(BigInt.asUintN(64, r.item));
        ts.push(r.ts);
        ws.push(r.w);
        if (r.ts > maxTs) maxTs = r.ts;
      }
      // 4. apply, append the changed lists (durable), checkpoint
      const packed = packUserKeys(users);
      const weighted = params.columns.weight !== null || params.columns.actionWeights !== null;
      const batchNo = meta.batch + 1;
      const tag = new TextEncoder().encode(JSON.stringify({ stream: meta.id, batch: batchNo, end: b.end }));
      const a0 = performance.now();
      const applied = await native.x2iStreamApply(
        handle,
        packed.userOff,
        packed.userBytes,
        BigUint64Array.from(items),
        Uint32Array.from(ts),
        weighted ? Float32Array.from(ws) : null,
        { recompute: true },
        tag,
      ); // no cancel token: a signal lets the batch in flight finish (state, WAL and checkpoint stay in step)
      const applyMs = performance.now() - a0;
      const recs = replay ? withoutKeys(applied, replay.keys) : { ...applied, skipped: 0 };
      const seqs = await appendDurably(o.wal, recs.ops, recs.ends, recs.payloads);
      const latencyMs = performance.now() - t0;
      const c0 = performance.now();
      position = b.end;
      const walSeq = Math.max(meta.walSeq, seqs.last, replay?.lastSeq ?? 0);
      meta = {
        ...meta,
        batch: batchNo,
        positions: replayable ? { ...meta.positions, [source.kind]: b.end } : meta.positions,
        walSeq,
        maxTs,
      };
      await native.x2iStreamSave(handle, statePath, JSON.stringify(meta));
      await source.durable?.(b.end);
      const checkpointMs = performance.now() - c0;
      if (replay) {
        recovered.batches++;
        recovered.alreadyInWal += recs.skipped;
        pending.delete(batchNo);
      }
      const report: BatchReport = {
        batch: batchNo,
        from: b.start,
        to: b.end,
        rows: b.rows.length,
        bad: badHere,
        itemsTouched: applied.touched,
        listsChanged: applied.keys.length,
        usersChanged: applied.usersChanged,
        firstSeq: seqs.first,
        lastSeq: seqs.last,
        alreadyInWal: recs.skipped,
        latencyMs: Math.round(latencyMs * 10) / 10,
        applyMs: Math.round(applyMs * 10) / 10,
        checkpointMs: Math.round(checkpointMs * 10) / 10,
      };
      reports.push(report);
      if (reports.length > 100) reports.shift();
      totals.batches++;
      totals.rows += b.rows.length;
      totals.bad += badHere;
      totals.listsChanged += applied.keys.length;
      totals.records += recs.ops.length;
      await writeFileAtomic(
        join(o.state, STATUS_FILE),
        `${JSON.stringify({ ...report, stateId: meta.id, at: new Date().toISOString() })}\n`,
      );
      hooks.onBatch?.(report);
    }
    return {
      index: o.index,
      wal: o.wal,
      state: o.state,
      source: source.label,
      stateId: meta.id,
      algorithm: String(params.algorithm.algo),
      batches: reports,
      totals,
      bad,
      lastSeq: meta.walSeq,
      position,
      lag: await source.lag(position),
      recovered,
      stateInfo: native.x2iStreamInfo(handle),
    };
  } catch (e) {
    if (hooks.signal?.aborted && !(e instanceof RecallError)) throw Object.assign(new Error('interrupted'), { name: 'AbortError' });
    throw e;
  } finally {
    await source.close();
    lock.release();
  }
}

/**
 * The state of a batch build from interactions (`build x2i --from-interactions --keep-state DIR`): the
 * same interactions read again into the state's graph, and the lists the build computed.
 */
export async function keepStreamState(
  dir: string,
  files: string[],
  params: StreamMeta['params'],
  lists: { keys: BigUint64Array; offsets: BigUint64Array; items: BigUint64Array; scores: Float32Array },
  threads: number,
): Promise<{ stateId: string; interactions: number }> {
  const native = loadNative();
  await mkdir(dir, { recursive: true });
  const lock = lockOrFail(join(dir, STATE_LOCK), `${dir}: a stream runs on this state`);
  const db = await openDuckDB({ threads: 1 });
  const c = await db.connect();
  try {
    const cols = params.columns;
    const src = `read_parquet(${literalList(files)})`;
    const [typeRow] = cols.ts
      ? await readColumns<[Int32Array]>(
          c,
          `SELECT (CASE WHEN typeof(${ident(cols.ts)}) LIKE 'TIMESTAMP%' OR typeof(${ident(cols.ts)}) = 'DATE' THEN 1 ELSE 0 END)::INTEGER FROM ${src} LIMIT 1`,
          [Int32Array],
        )
      : [new Int32Array(1)];
    const ts = !cols.ts ? '0' : typeRow![0] ? `epoch(${ident(cols.ts)})` : ident(cols.ts);
    const weight = cols.weight
      ? ident(cols.weight)
      : cols.actionWeights
        ? `CASE ${ident(cols.action ?? 'action')} ${Object.entries(cols.actionWeights)
            .map(([k, v]) => `WHEN '${k.replaceAll("'", "''")}' THEN ${v}`)
            .join(' ')} ELSE NULL END`
        : '1.0';
    const [item, t, w] = await readColumns<[BigInt64Array, Int32Array, Float32Array]>(
      c,
      `SELECT ${ident(cols.item)}::BIGINT, (${ts})::UINTEGER::INTEGER, (${weight})::FLOAT FROM ${src}`,
      [BigInt64Array, Int32Array, Float32Array],
    );
    const userRows = await c.runAndReadAll(`SELECT ${ident(cols.user)}::VARCHAR AS u FROM ${src}`);
    const users = userRows.getColumns()[0]!.map((x) => String(x));
    const packed = packUserKeys(users);
    const state = native.x2iStreamNew(computeOptions(params.algorithm, threads));
    await native.x2iStreamApply(
      state,
      packed.userOff,
      packed.userBytes,
      new BigUint64Array(item.buffer, item.byteOffset, item.length),
      new Uint32Array(t.buffer, t.byteOffset, t.length),
      cols.weight || cols.actionWeights ? w : null,
      { recompute: false },
      new Uint8Array(0),
    );
    native.x2iStreamSetLists(state, lists.keys, lists.offsets, lists.items, lists.scores);
    const tsU = new Uint32Array(t.buffer, t.byteOffset, t.length);
    let maxTs = 0;
    for (const x of tsU) if (x > maxTs) maxTs = x;
    const meta: StreamMeta = {
      format: 'recall-x2i-stream',
      formatVersion: 1,
      id: randomBytes(16).toString('hex'),
      params,
      batch: 0,
      positions: {},
      walSeq: 0,
      maxTs,
    };
    await native.x2iStreamSave(state, join(dir, STATE_FILE), JSON.stringify(meta));
    return { stateId: meta.id, interactions: item.length };
  } finally {
    c.closeSync();
    db.closeSync();
    lock.release();
  }
}
