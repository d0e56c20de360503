/**
 * `recall bench wal`: the incremental path's speed against the disk it runs
 * on, all in one run: `dd` sequential write bandwidth (with fdatasync) is the
 * anchor; then WAL append of small records (group commit per batch, and
 * fsync per record for scale), replay of the x2i records into per-key
 * changes, and a major dump of a large x2i index with changes from the WAL.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RecallError } from '../errors.js';
import { canonicalJson } from '../io/canonical-json.js';
import { beginVersion } from '../index/versions.js';
import { X2I_FILE_EXT } from '../channels/x2i/build.js';
import { loadNative } from '../native.js';
import { shardFileName } from '../shard/manifest.js';
import { dumpChannel } from '../pipeline/dump.js';
import { opCode } from '../channels/kinds.js';
import { recordStart } from '../io/records.js';

export interface WalBenchOptions {
  dir: string;
  /** Records appended (and replayed). */
  records: number;
  /** Keys of the x2i index the dump rewrites. */
  dumpKeys: number;
  /** Items per list in that index. */
  listLen: number;
  /** WAL changes the dump applies. */
  dumpChanges: number;
  onLine?: (line: string) => void;
}

export interface WalBenchResult {
  machine: { ddWriteMBps: number; ddBytes: number };
  append: {
    records: number;
    recordBytes: number;
    batch: number;
    seconds: number;
    recordsPerSecond: number;
    MBps: number;
    fractionOfDd: number;
  };
  appendFsyncAlways: { records: number; seconds: number; recordsPerSecond: number };
  /** `seconds`: the native replay; `withResultSeconds`: plus normalising and handing every key's state to JS. */
  replay: { records: number; keys: number; seconds: number; recordsPerSecond: number; MBps: number; withResultSeconds: number };
  scan: { records: number; seconds: number; recordsPerSecond: number };
  dump: {
    keys: number;
    edges: number;
    changes: number;
    buildSeconds: number;
    seconds: number;
    outputBytes: number;
    ddFloorSeconds: number;
    ratioToDdFloor: number;
  };
}

const now = () => Number(process.hrtime.bigint()) / 1e9;

/** dd of `mb` MiB of zeros with fdatasync: the disk's sequential write rate in MB/s. */
export function ddWrite(file: string, mb: number): number {
  const r = spawnSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', `count=${mb}`, 'conv=fdatasync'], { encoding: 'utf8' });
  rmSync(file, { force: true });
  if (r.status !== 0) throw new RecallError('ERR_RECALL_BENCH', `dd failed: ${r.stderr.trim()}`);
  // "536870912 bytes (537 MB, 512 MiB) copied, 0.9 s, 590 MB/s"
  const m = /(\d+) bytes .* copied, ([\d.]+) s/.exec(r.stderr);
  if (!m) throw new RecallError('ERR_RECALL_BENCH', `dd printed no rate: ${r.stderr.trim()}`);
  return Number(m[1]) / Number(m[2]) / 1e6;
}

/**
 * n small x2i records in walAppend's layout: upserts of one neighbour (41-byte records), every
 * `deleteEvery`-th a delete (25 bytes); record i is about key `keyOf(i)`.
 */
function smallRecords(n: number, keyOf: (i: number) => bigint, deleteEvery = 0) {
  const upsert = 8 + 4 + 8 + 4;
  const payloads = Buffer.allocUnsafe(n * upsert);
  const ops = new Uint8Array(n);
  const ends = new Uint32Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    payloads.writeBigUInt64LE(keyOf(i), at);
    if (deleteEvery && i % deleteEvery === 0) {
      ops[i] = opCode('x2i', true);
      at += 8;
    } else {
      ops[i] = opCode('x2i', false);
      payloads.writeUInt32LE(1, at + 8);
      payloads.writeBigUInt64LE(BigInt(i), at + 12);
      payloads.writeFloatLE(1 + (i % 7), at + 20);
      at += upsert;
    }
    ends[i] = at;
  }
  return { ops, ends, payloads: payloads.subarray(0, at), recordBytes: 8 + 9 + upsert };
}

export async function runWalBench(o: WalBenchOptions): Promise<WalBenchResult> {
  const say = o.onLine ?? (() => {});
  const native = loadNative();
  rmSync(o.dir, { recursive: true, force: true });
  mkdirSync(o.dir, { recursive: true });
  // the anchor
  const ddMB = 1024;
  const ddWriteMBps = ddWrite(join(o.dir, 'dd.bin'), ddMB);
  say(`dd: ${ddWriteMBps.toFixed(0)} MB/s sequential write with fdatasync (${ddMB} MiB)`);

  // 1. append, group commit per batch
  const wal = join(o.dir, 'wal');
  const batch = 65536;
  const recs = smallRecords(o.records, (i) => BigInt((i * 2654435761) % 1_000_000));
  const w = native.walOpen(wal, { fsync: 'batch' });
  const t0 = now();
  for (let from = 0; from < o.records; from += batch) {
    const to = Math.min(o.records, from + batch);
    const base = recordStart(recs.ends, from);
    native.walAppend(
      w.handle,
      recs.ops.subarray(from, to),
      recs.ends.subarray(from, to).map((e) => e - base),
      recs.payloads.subarray(base, recordStart(recs.ends, to)),
    );
  }
  const appendS = now() - t0;
  native.walClose(w.handle);
  const walBytes = o.records * recs.recordBytes;
  const append = {
    records: o.records,
    recordBytes: recs.recordBytes,
    batch,
    seconds: appendS,
    recordsPerSecond: o.records / appendS,
    MBps: walBytes / appendS / 1e6,
    fractionOfDd: walBytes / appendS / 1e6 / ddWriteMBps,
  };
  say(
    `append (--fsync batch, ${batch} per batch): ${o.records.toLocaleString('en-US')} × ${recs.recordBytes} B in ${appendS.toFixed(2)} s = ${(append.recordsPerSecond / 1e6).toFixed(2)} M records/s, ${append.MBps.toFixed(0)} MB/s (${(append.fractionOfDd * 100).toFixed(0)}% of dd)`,
  );

  // 2. fsync per record, for scale
  const few = 2000;
  const small = smallRecords(few, (i) => BigInt(i));
  const w2 = native.walOpen(join(o.dir, 'wal-always'), { fsync: 'always' });
  const t1 = now();
  native.walAppend(w2.handle, small.ops, small.ends, small.payloads);
  const alwaysS = now() - t1;
  native.walClose(w2.handle);
  const appendFsyncAlways = { records: few, seconds: alwaysS, recordsPerSecond: few / alwaysS };
  say(
    `append (--fsync always): ${few} records in ${alwaysS.toFixed(2)} s = ${appendFsyncAlways.recordsPerSecond.toFixed(0)} records/s (one fdatasync each)`,
  );

  // 3. replay: scan + CRC + per-key last-writer-wins, and a plain scan into JS arrays
  const t2 = now();
  const rp = native.x2iReplay(wal, {});
  const withResultSeconds = now() - t2;
  const replayS = rp.replaySeconds;
  const replay = {
    records: rp.records,
    keys: rp.keys.length,
    seconds: replayS,
    recordsPerSecond: rp.records / replayS,
    MBps: walBytes / replayS / 1e6,
    withResultSeconds,
  };
  say(
    `replay (x2i, last writer wins): ${rp.records.toLocaleString('en-US')} records over ${rp.keys.length.toLocaleString('en-US')} keys in ${replayS.toFixed(2)} s = ` +
      `${(replay.recordsPerSecond / 1e6).toFixed(2)} M records/s (${replay.MBps.toFixed(0)} MB/s); ${withResultSeconds.toFixed(2)} s with every key's state handed to JS`,
  );
  const t3 = now();
  const sc = native.walScan(wal, {});
  const scanS = now() - t3;
  const scan = { records: sc.seqs.length, seconds: scanS, recordsPerSecond: sc.seqs.length / scanS };
  say(`scan (every record checked and copied out): ${(scan.recordsPerSecond / 1e6).toFixed(2)} M records/s`);

  // 4. a major dump of a large x2i index
  const index = join(o.dir, 'x2i');
  const n = o.dumpKeys;
  const L = o.listLen;
  const keys = new BigUint64Array(n);
  const offsets = new BigUint64Array(n + 1);
  const items = new BigUint64Array(n * L);
  const scores = new Float32Array(n * L);
  for (let i = 0; i < n; i++) {
    keys[i] = (BigInt(i) * 11400714819323198485n) & 0xffff_ffff_ffffn;
    offsets[i + 1] = BigInt((i + 1) * L);
    for (let j = 0; j < L; j++) {
      items[i * L + j] = BigInt((i * 31 + j * 7919) % 5_000_000);
      scores[i * L + j] = 1 / (j + 1);
    }
  }
  const params = {
    channel: 'x2i',
    source: { bench: 'wal' },
    topK: 0,
    minScore: null,
    shardCount: 1,
    table: { hash: 'nh-mix64-v1', seed: '0' },
  };
  const tb = now();
  const staged = await beginVersion(index, 'x2i');
  await native.x2iWrite(
    join(staged.dir, shardFileName(0, 1, X2I_FILE_EXT)),
    { version: staged.version, shard: 0, shardCount: 1 },
    canonicalJson({ ...params, shard: 0 }),
    keys,
    offsets,
    items,
    scores,
    {},
  );
  await staged.publish(params);
  const buildS = now() - tb;
  const dwal = join(o.dir, 'dump-wal');
  const ch = smallRecords(o.dumpChanges, (i) => keys[(i * 2654435761) % n]!, 3); // a third are deletes
  const w3 = native.walOpen(dwal, { fsync: 'off' });
  native.walAppend(w3.handle, ch.ops, ch.ends, ch.payloads);
  native.walClose(w3.handle);
  const td = now();
  const d = await dumpChannel({ index, wal: dwal });
  const dumpS = now() - td;
  const outputBytes = statSync(join(index, `v${String(d.version).padStart(8, '0')}`, shardFileName(0, 1, X2I_FILE_EXT))).size;
  const ddFloorSeconds = outputBytes / 1e6 / ddWriteMBps;
  const dump = {
    keys: n,
    edges: n * L,
    changes: o.dumpChanges,
    buildSeconds: buildS,
    seconds: dumpS,
    outputBytes,
    ddFloorSeconds,
    ratioToDdFloor: dumpS / ddFloorSeconds,
  };
  say(
    `major dump: ${n.toLocaleString('en-US')} keys × ${L} items + ${o.dumpChanges.toLocaleString('en-US')} WAL changes in ${dumpS.toFixed(1)} s ` +
      `(writes ${(outputBytes / 1e6).toFixed(0)} MB: dd alone needs ${ddFloorSeconds.toFixed(1)} s, ${dump.ratioToDdFloor.toFixed(1)}x that; building the base took ${buildS.toFixed(1)} s)`,
  );
  rmSync(o.dir, { recursive: true, force: true });
  return { machine: { ddWriteMBps, ddBytes: ddMB << 20 }, append, appendFsyncAlways, replay, scan, dump };
}
