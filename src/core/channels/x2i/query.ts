/**
 * `recall query x2i`: batch lookups against an x2i index file, version folder
 * or channel folder. Keys are routed to their shard with the routing hash
 * (the same function `recall shard` used), looked up in one native call per
 * shard, and answered in query order; missing keys are reported, not errors.
 */
import { badInput, usage } from '../../errors.js';
import { readContainerInfo } from '../../index/container.js';
import { resolveLayered } from '../../index/layers.js';
import { guardWal } from '../../index/wal-identity.js';
import { retryOnNewCurrent } from '../../index/resolve.js';
import { roundMs } from '../../io/units.js';
import { loadNative, type WalIssue } from '../../native.js';
import { routeKeys } from '../../routing/hash.js';
import { X2I_FILE_EXT } from './build.js';

export interface X2iAnswer {
  key: string;
  found: boolean;
  shard: number;
  /** Where the answer came from: 'wal' (the tail), a version number, or null (nowhere). */
  from: 'wal' | number | null;
  /** True when the newest state of the key is a delete (WAL or a delta's tombstone). */
  deleted: boolean;
  items: { item: string; score: number }[];
}

export interface X2iQueryResult {
  index: string;
  version: number | null;
  /** Layers read, oldest first (a delta dump reads through to its base). */
  layers: (number | null)[];
  /** WAL: the seq the version applied, the records read after it, the log's last valid seq. */
  wal: {
    dir: string;
    walSeq: number;
    asOf: number | null;
    tailRecords: number;
    tailKeys: number;
    lastSeq: number;
    torn: WalIssue | null;
    corrupt: number;
  } | null;
  shardCount: number;
  keys: number;
  found: number;
  missing: string[];
  results: X2iAnswer[];
  lookupMs: number;
}

export interface X2iQueryOptions {
  /** Merge the WAL tail after the version's dump seq (last writer wins, deletes honoured). */
  wal?: string;
  /** A consistent older view: the newest version at or before this seq, plus WAL records up to it. */
  asOf?: number;
  skipCorrupt?: boolean;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * x2i keys are int64 (what the index stores and prints). A key that is not an integer, or does not
 * fit in int64, is refused rather than wrapped: in `--keys` it is a bad flag value (exit 2), in a
 * keys file bad data (exit 3, naming the file and the key's 0-based position).
 */
export function parseKeys(text: string, source: string): bigint[] {
  const inFlag = source.startsWith('--');
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((k, row) => {
      let v: bigint | undefined;
      if (/^[+-]?\d+$/.test(k)) v = BigInt(k);
      if (v !== undefined && v >= INT64_MIN && v <= INT64_MAX) return v;
      const what = v === undefined ? 'is not an integer' : 'does not fit in int64';
      const fix = 'x2i keys are integers from -9223372036854775808 to 9223372036854775807';
      if (inFlag) throw usage('ERR_RECALL_FLAG', `${source}: key ${JSON.stringify(k)} ${what}`, { fix });
      throw badInput('ERR_RECALL_BAD_KEY', `${source}: key ${row + 1}: ${JSON.stringify(k)} ${what}`, { file: source, row, fix });
    });
}

const toItems = (items: BigUint64Array, scores: Float32Array, at: number, n: number) =>
  Array.from({ length: n }, (_, j) => ({ item: String(BigInt.asIntN(64, items[at + j]!)), score: scores[at + j]! }));

/** An x2i version opened for lookups: every shard of every layer, and the WAL tail replayed once. */
export interface OpenX2i {
  version: number | null;
  layers: (number | null)[];
  shardCount: number;
  wal: X2iQueryResult['wal'];
  /** Answers in query order; every shard and layer of this open version. */
  lookup(keys: bigint[], top?: number): X2iAnswer[];
  /** The same answers as typed arrays (found 0 missing / 1 found / 2 deleted, counts, items, scores), without an object per item. */
  lookupTyped(keys: BigInt64Array, top?: number): { found: Uint8Array; counts: Uint32Array; items: BigInt64Array; scores: Float32Array };
  /**
   * Per request, the sum over its seeds of weight x score of every item in the seed's list (lists cut
   * to `top`), best first, ties by the id's text, at most `fanout`; request r's seeds end at
   * requestEnds[r]. One version without a WAL tail is read in place, natively.
   */
  sumSeeds(
    keys: BigInt64Array,
    weights: Float64Array,
    requestEnds: Uint32Array,
    o: { top: number; fanout: number },
  ): { items: BigInt64Array; scores: Float64Array; counts: Uint32Array };
}

export async function openX2i(indexPath: string, o: X2iQueryOptions = {}): Promise<OpenX2i> {
  const native = loadNative();
  const lv = await resolveLayered(indexPath, X2I_FILE_EXT, 'an x2i', o.asOf);
  const files0 = lv.layers[0]!.files;
  if (files0.length === 0) throw badInput('ERR_RECALL_NOT_AN_INDEX', `${indexPath}: holds no x2i file`, { file: indexPath });
  const shardCount = files0.length === 1 ? 1 : (await readContainerInfo(files0[0]!)).header.shardCount;
  // opened once (mapped: no copy); newest layer first
  const handles = [...lv.layers].reverse().map((l) => ({ version: l.version, shards: l.files.map((f) => native.x2iOpen(f)) }));
  let wal: X2iQueryResult['wal'] = null;
  let tail: { at: Map<bigint, number>; starts: Uint32Array; r: ReturnType<typeof native.x2iReplay> } | null = null;
  if (o.wal) {
    const p = lv.manifest?.params ?? {};
    const covered = await guardWal(o.wal, lv.info, lv.version);
    const r = native.x2iReplay(
      o.wal,
      { after: lv.info.walSeq, upto: o.asOf, skipCorrupt: o.skipCorrupt },
      { topK: Number(p.topK ?? 0), minScore: p.minScore == null ? undefined : Number(p.minScore) },
    );
    covered(r.report);
    wal = {
      dir: o.wal,
      walSeq: lv.info.walSeq,
      asOf: o.asOf ?? null,
      tailRecords: r.records,
      tailKeys: r.keys.length,
      lastSeq: r.report.lastSeq,
      torn: r.report.torn,
      corrupt: r.report.corrupt.length,
    };
    const at = new Map<bigint, number>();
    r.keys.forEach((k, i) => at.set(k, i));
    const starts = new Uint32Array(r.counts.length + 1);
    r.counts.forEach((c, i) => (starts[i + 1] = starts[i]! + c));
    tail = { at, starts, r };
  }
  const lookup = (keys: bigint[], top = 0): X2iAnswer[] => {
    const shards = shardCount > 1 ? routeKeys(keys.map(String), 'int64', shardCount).map((r) => r.shard) : keys.map(() => 0);
    const answers: X2iAnswer[] = keys.map((k, i) => ({
      key: String(k),
      found: false,
      shard: shards[i]!,
      from: null,
      deleted: false,
      items: [],
    }));
    const open: number[] = []; // rows still unanswered
    // 1. the WAL tail, newest of all
    if (tail) {
      const { at, starts, r } = tail;
      keys.forEach((k, row) => {
        const i = at.get(BigInt.asUintN(64, k));
        if (i === undefined) return open.push(row);
        const a = answers[row]!;
        a.from = 'wal';
        if (r.deleted[i]) a.deleted = true;
        else {
          a.found = true;
          a.items = toItems(r.items, r.scores, starts[i]!, top > 0 ? Math.min(top, r.counts[i]!) : r.counts[i]!);
        }
      });
    } else keys.forEach((_, row) => open.push(row));
    // 2. the layers, newest first: the first that knows a key answers it
    let pending = open;
    for (const layer of handles) {
      if (pending.length === 0) break;
      const next: number[] = [];
      for (let s = 0; s < layer.shards.length; s++) {
        const rows = pending.filter((row) => answers[row]!.shard === s);
        if (rows.length === 0) continue;
        const r = native.x2iLookup(
          layer.shards[s]!,
          BigUint64Array.from(rows, (i) => BigInt.asUintN(64, keys[i]!)),
          top,
        );
        let at = 0;
        rows.forEach((row, j) => {
          const a = answers[row]!;
          if (r.found[j] === 0) return next.push(row);
          a.from = layer.version;
          if (r.found[j] === 2) a.deleted = true;
          else {
            a.found = true;
            a.items = toItems(r.items, r.scores, at, r.counts[j]!);
          }
          at += r.counts[j]!;
        });
      }
      pending = next;
    }
    return answers;
  };
  const lookupTyped = (keys: BigInt64Array, top = 0) => {
    if (tail || handles.length !== 1) {
      // the WAL tail or layers: the general path
      const answers = lookup(Array.from(keys), top);
      const counts = Uint32Array.from(answers, (a) => a.items.length);
      const items = new BigInt64Array(counts.reduce((a, b) => a + b, 0));
      const scores = new Float32Array(items.length);
      let at = 0;
      for (const a of answers)
        for (const x of a.items) {
          items[at] = BigInt(x.item);
          scores[at++] = x.score;
        }
      return { found: Uint8Array.from(answers, (a) => (a.found ? 1 : a.deleted ? 2 : 0)), counts, items, scores };
    }
    // one layer, no tail: one native lookup per shard, gathered back into key order
    const layer = handles[0]!;
    const n = keys.length;
    // the keys are int64 already: hashed and routed natively as `shard` routes them
    const shardOfRow = shardCount > 1 ? native.shardsOf(native.hashInt64(keys, 0n), shardCount) : null;
    const keyHalves = new Uint32Array(keys.buffer, keys.byteOffset, n * 2);
    const found = new Uint8Array(n);
    const counts = new Uint32Array(n);
    const parts: { rows: number[]; r: ReturnType<typeof native.x2iLookup>; starts: Uint32Array }[] = [];
    for (let sh = 0; sh < layer.shards.length; sh++) {
      const rows: number[] = [];
      for (let i = 0; i < n; i++) if ((shardOfRow ? shardOfRow[i] : 0) === sh) rows.push(i);
      if (!rows.length) continue;
      // one shard takes every key: the same bytes read as u64, no copy
      let asked: BigUint64Array;
      if (rows.length === n) asked = new BigUint64Array(keys.buffer, keys.byteOffset, n);
      else {
        // copied as 32-bit halves: reading a 64-bit element would allocate a BigInt per key
        asked = new BigUint64Array(rows.length);
        const to = new Uint32Array(asked.buffer);
        rows.forEach((i, j) => {
          to[2 * j] = keyHalves[2 * i]!;
          to[2 * j + 1] = keyHalves[2 * i + 1]!;
        });
      }
      const r = native.x2iLookup(layer.shards[sh]!, asked, top);
      const starts = new Uint32Array(rows.length);
      let at = 0;
      rows.forEach((row, j) => {
        found[row] = r.found[j]!;
        counts[row] = r.found[j] === 1 ? r.counts[j]! : 0;
        starts[j] = at;
        at += r.counts[j]!;
      });
      parts.push({ rows, r, starts });
    }
    const offsets = new Uint32Array(n + 1);
    for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i]! + counts[i]!;
    const items = new BigInt64Array(offsets[n]!);
    const scores = new Float32Array(offsets[n]!);
    for (const { rows, r, starts } of parts)
      rows.forEach((row, j) => {
        const c = counts[row]!;
        if (!c) return;
        items.set(new BigInt64Array(r.items.buffer, r.items.byteOffset + starts[j]! * 8, c), offsets[row]!);
        scores.set(r.scores.subarray(starts[j]!, starts[j]! + c), offsets[row]!);
      });
    return { found, counts, items, scores };
  };
  const sumSeeds: OpenX2i['sumSeeds'] = (keys, weights, requestEnds, { top, fanout }) => {
    if (!tail && handles.length === 1 && handles[0]!.shards.length === Math.max(1, shardCount))
      return native.x2iSumSeedsIn(handles[0]!.shards, keys, weights, requestEnds, top, fanout);
    const b = lookupTyped(keys, top);
    return native.x2iSumSeedLists(b.items, b.scores, b.counts, weights, requestEnds, fanout);
  };
  return { version: lv.version, layers: lv.layers.map((l) => l.version), shardCount, wal, lookup, lookupTyped, sumSeeds };
}

/** The report of `recall query x2i` from an opened index. */
export function x2iReport(ix: OpenX2i, indexPath: string, keys: bigint[], top = 0): X2iQueryResult {
  const t0 = process.hrtime.bigint();
  const results = ix.lookup(keys, top);
  const lookupMs = roundMs(Number(process.hrtime.bigint() - t0) / 1e6);
  const missing = results.filter((a) => !a.found).map((a) => a.key);
  return {
    index: indexPath,
    version: ix.version,
    layers: ix.layers,
    wal: ix.wal,
    shardCount: ix.shardCount,
    keys: keys.length,
    found: keys.length - missing.length,
    missing,
    results,
    lookupMs,
  };
}

export function queryX2i(indexPath: string, keys: bigint[], top = 0, o: X2iQueryOptions = {}): Promise<X2iQueryResult> {
  // opened (and, when its version was pruned under it, reopened) before the lookups
  return retryOnNewCurrent(indexPath, async () => x2iReport(await openX2i(indexPath, o), indexPath, keys, top));
}
