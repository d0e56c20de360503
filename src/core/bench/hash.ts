/**
 * `recall bench hash`: lookups per second through the Node API (single
 * thread, one call per batch, 90% hits, load 0.79) of NeighborHash (scalar
 * and AMAC at several ring sizes), linear probing with the same slots, the
 * random-access bound (random reads of the same cache lines as the lookups read,
 * through the same ring of prefetched reads in flight) and a JavaScript Map, all
 * in one run; plus APCL.
 */
import { loadNative } from '../native.js';

export interface HashBenchRow {
  slots: number;
  keys: number;
  queries: number;
  apcl: { neighborHash: number; linearProbing: number };
  /** Cache lines the NeighborHash lookups of the queries read, per query (misses included): what the bound reads. */
  linesPerLookup: number;
  /** Best-of-reps nanoseconds per lookup; null where a contender cannot run (JS Map above 2^24 keys). */
  nsPerLookup: Record<string, number | null>;
  /**
   * The random-access bound's nanoseconds per lookup over the repetitions (min, median, max) at its
   * best ring: how steady the yardstick itself was in this run.
   */
  boundSpread: { min: number; median: number; max: number; inFlight: number };
  ratios: { amacVsRandomAccess: number; amacVsJsMap: number | null; amacVsScalar: number; scalarVsLinearProbing: number };
}

const MAP_LIMIT = 2 ** 24; // V8 Map holds at most 2^24 entries

function rng(seed: bigint): () => bigint {
  let s = seed;
  return () => {
    s = (s + 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn;
    let z = s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & 0xffffffffffffffffn;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & 0xffffffffffffffffn;
    return z ^ (z >> 31n);
  };
}

export function runHashBench(opts: { slotBits: number[]; reps: number; onRow?: (row: HashBenchRow) => void }): HashBenchRow[] {
  const native = loadNative();
  const rand = rng(0x123456789abcdef0n);
  const each = (fn: () => void, n: number) => {
    const ns: number[] = [];
    for (let r = 0; r < opts.reps; r++) {
      const t0 = process.hrtime.bigint();
      fn();
      ns.push(Number(process.hrtime.bigint() - t0) / n);
    }
    return ns.sort((a, b) => a - b);
  };
  const best = (fn: () => void, n: number) => each(fn, n)[0]!;
  const rows: HashBenchRow[] = [];
  for (const bits of opts.slotBits) {
    const cap = 2 ** bits;
    const n = Math.floor(cap * 0.79);
    const keys = new BigUint64Array(n);
    const payloads = new BigUint64Array(n);
    for (let i = 0; i < n; i++) {
      keys[i] = rand() | 1n;
      payloads[i] = rand() & 0xfffffffffffffn;
    }
    const q = Math.min(1 << 22, n);
    const queries = new BigUint64Array(q);
    for (let i = 0; i < q; i++) queries[i] = i % 10 === 9 ? rand() | 1n : keys[Number(rand() % BigInt(n))]!;
    const out = new BigUint64Array(q);
    const nh = native.hashBenchBuild(keys, payloads, 'neighbor', cap);
    const lp = native.hashBenchBuild(keys, payloads, 'linear', cap);
    const ns: Record<string, number | null> = {};
    // The bound: random reads of the cache lines the NeighborHash lookups read (the same number and
    // the same lines, each read hashing its key, none waiting on another) through a ring of
    // prefetched reads in flight, as the AMAC lookups run, at each ring size they use (8 x 8 is the
    // AVX-512 ring's); the fastest is the bound. Timed per lookup, so no table can beat it.
    const plan = native.hashBenchLinesRead(nh, queries);
    const lineWords = new BigUint64Array(plan.keys.length);
    const bounds = [8, 16, 32, 64].map((w) => ({
      w,
      ns: each(() => native.hashBenchLookup(nh, plan.keys, lineWords, 'bound-lines', w, plan.offsets), q),
    }));
    for (const b of bounds) ns[`random-access bound, ${b.w} in flight`] = b.ns[0]!;
    const bound = bounds.reduce((a, b) => (b.ns[0]! < a.ns[0]! ? b : a));
    ns['random-access bound'] = bound.ns[0]!;
    // For comparison: one read of each key's home line only (what the bound was before it read every line).
    ns['home line only, 64 in flight'] = best(() => native.hashBenchLookup(nh, queries, out, 'bound-ring', 64), q);
    ns['NeighborHash scalar'] = best(() => native.hashBenchLookup(nh, queries, out, 'scalar'), q);
    for (const ring of [8, 16, 32, 64])
      ns[`NeighborHash AMAC W=${ring}`] = best(() => native.hashBenchLookup(nh, queries, out, 'amac-scalar', ring), q);
    // The AVX-512 multi-key variant: W vectors of 8 lookups in flight (only on CPUs with AVX-512F/DQ).
    for (const ring of [2, 4, 8, 16]) {
      try {
        ns[`NeighborHash AVX-512 AMAC W=${ring}x8`] = best(() => native.hashBenchLookup(nh, queries, out, 'amac-avx512', ring), q);
      } catch {
        ns[`NeighborHash AVX-512 AMAC W=${ring}x8`] = null;
      }
    }
    ns['linear probing scalar'] = best(() => native.hashBenchLookup(lp, queries, out, 'scalar'), q);
    const hits = native.hashBenchLookup(nh, queries, out, 'amac', 16);
    if (Math.abs(hits / q - 0.9) > 0.01) throw new Error(`hash bench: hit rate ${hits / q}, expected 0.9`);
    if (n < MAP_LIMIT) {
      const map = new Map<bigint, bigint>();
      for (let i = 0; i < n; i++) map.set(keys[i]!, payloads[i]!);
      ns['JS Map<bigint>'] = best(() => {
        for (let i = 0; i < q; i++) out[i] = map.get(queries[i]!) ?? 0n;
      }, q);
    } else {
      ns['JS Map<bigint>'] = null;
    }
    const amac = Math.min(
      ...Object.entries(ns)
        .filter(([name, v]) => name.includes('AMAC') && v !== null)
        .map(([, v]) => v as number),
    );
    const row: HashBenchRow = {
      slots: cap,
      keys: n,
      queries: q,
      apcl: { neighborHash: native.hashBenchApcl(nh), linearProbing: native.hashBenchApcl(lp) },
      linesPerLookup: plan.keys.length / q,
      nsPerLookup: ns,
      boundSpread: { min: bound.ns[0]!, median: bound.ns[bound.ns.length >> 1]!, max: bound.ns.at(-1)!, inFlight: bound.w },
      ratios: {
        amacVsRandomAccess: +((ns['random-access bound'] as number) / amac).toFixed(3),
        amacVsJsMap: ns['JS Map<bigint>'] === null ? null : +((ns['JS Map<bigint>'] as number) / amac).toFixed(1),
        amacVsScalar: +((ns['NeighborHash scalar'] as number) / amac).toFixed(2),
        scalarVsLinearProbing: +((ns['linear probing scalar'] as number) / (ns['NeighborHash scalar'] as number)).toFixed(2),
      },
    };
    rows.push(row);
    opts.onRow?.(row);
  }
  return rows;
}

export function hashBenchMarkdown(rows: HashBenchRow[], reps: number): string {
  const names = Object.keys(rows[0]!.nsPerLookup);
  return [
    `| ns per lookup (best of ${reps}) | ${rows.map((r) => `2^${Math.log2(r.slots)} slots`).join(' | ')} |`,
    `|---|${rows.map(() => '---').join('|')}|`,
    ...names.map(
      (n) => `| ${n} | ${rows.map((r) => (r.nsPerLookup[n] == null ? 'n/a' : (r.nsPerLookup[n] as number).toFixed(1))).join(' | ')} |`,
    ),
    `| APCL NeighborHash / linear probing | ${rows.map((r) => `${r.apcl.neighborHash.toFixed(4)} / ${r.apcl.linearProbing.toFixed(4)}`).join(' | ')} |`,
    `| lines read per lookup, hits and misses (the bound reads the same) | ${rows.map((r) => r.linesPerLookup.toFixed(4)).join(' | ')} |`,
    `| random-access bound min / median / max over the reps | ${rows.map((r) => `${r.boundSpread.min.toFixed(1)} / ${r.boundSpread.median.toFixed(1)} / ${r.boundSpread.max.toFixed(1)} (${r.boundSpread.inFlight} in flight)`).join(' | ')} |`,
    `| best AMAC's share of the bound (bound ns / AMAC ns) | ${rows.map((r) => `${r.ratios.amacVsRandomAccess}x`).join(' | ')} |`,
    `| AMAC vs JS Map | ${rows.map((r) => (r.ratios.amacVsJsMap === null ? 'n/a' : `${r.ratios.amacVsJsMap}x`)).join(' | ')} |`,
  ].join('\n');
}
