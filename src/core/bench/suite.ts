/**
 * `recall bench` (the umbrella): a CI-sized run of every channel's benchmark,
 * each with its anchor measured in the same run, with warm-up, repetitions,
 * medians and spread:
 * - hash: NeighborHash batch lookups against a JavaScript Map;
 * - vector: HNSW recall@10 and QPS over an ef sweep against exact flat search;
 * - text: 2-term AND query latency against the TypeScript oracle index;
 * - wal: append (group commit) and replay rates.
 * A figure's `ratio` is its median over its anchor's, oriented so that > 1 is
 * better; a baseline comparison uses ratios where both runs have them (they
 * cancel machine speed), else medians. `slowdown` makes a benchmark do its
 * measured work several times per sample, to check the gate.
 */
import { cpus, totalmem } from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RecallError, usage } from '../errors.js';
import { makeAnalyzer } from '../channels/text/analyzer.js';
import { packTexts } from '../channels/text/input.js';
import { OracleIndex } from './anchors/text-oracle.js';
import { openDuckDB, queryRows } from '../io/duckdb.js';
import { loadNative, textQueryBuffer } from '../native.js';
import { opCode } from '../channels/kinds.js';
import { recordStart } from '../io/records.js';
import { mannWhitneyP } from '../stats/rank-test.js';
import { xorshift32 } from '../stats/seeded.js';

export const BENCHES = ['hash', 'vector', 'text', 'wal'] as const;
export type BenchName = (typeof BENCHES)[number];

export interface Figure {
  id: string;
  bench: BenchName;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  samples: number[];
  median: number;
  min: number;
  max: number;
  p25: number;
  p75: number;
  /** The figure this one is measured against in the same run. */
  anchor?: string;
  /** median / anchor median, oriented so that > 1 means better than the anchor. */
  ratio?: number;
}

export interface BenchResult {
  format: 'recall-bench';
  formatVersion: 1;
  date: string;
  machine: { cpus: number; model: string; memoryGB: number; platform: string; arch: string };
  versions: { recall: string; node: string; addon: string };
  params: { reps: number; warmup: number; scale: 'small' | 'full'; only: BenchName[]; slowdown: Record<string, number> };
  figures: Figure[];
  /** Plot data: recall-vs-QPS points per index, and per-query latencies (µs) per engine. */
  curves: { vector: { ef: number; recall: number; qps: number }[]; vectorExactQps: number };
  latencies: Record<string, number[]>;
}

export interface SuiteOptions {
  reps?: number;
  only?: BenchName[];
  scale?: 'small' | 'full';
  slowdown?: Record<string, number>;
  onLine?: (line: string) => void;
}

const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  const i = (s.length - 1) * p;
  const lo = Math.floor(i);
  return s[lo]! + (s[Math.ceil(i)]! - s[lo]!) * (i - lo);
};

function figure(
  bench: BenchName,
  id: string,
  label: string,
  unit: string,
  better: Figure['better'],
  samples: number[],
  anchor?: string,
): Figure {
  return {
    id: `${bench}.${id}`,
    bench,
    label,
    unit,
    better,
    samples,
    median: q(samples, 0.5),
    min: Math.min(...samples),
    max: Math.max(...samples),
    p25: q(samples, 0.25),
    p75: q(samples, 0.75),
    anchor: anchor && `${bench}.${anchor}`,
  };
}

/** Seconds of one call of `fn`. */
function time(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/**
 * CPU seconds the process spent in `fn`: for single-threaded work, the time a busy shared machine
 * takes the core away (the wall clock's worst noise) is left out.
 */
function cpuTime(fn: () => void): number {
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1e6;
}

interface Ctx {
  reps: number;
  warmup: number;
  small: boolean;
  slow: (bench: string) => number;
  /** The --slowdown factor as given (fractional). */
  factor: (bench: string) => number;
  say: (l: string) => void;
}

/** Seconds a vector or text sample spans at least: one pass over their queries takes milliseconds or less. */
const MIN_SAMPLE_SECONDS = 0.1;

/** Samples of `work` (returns units done) as units per second: warm-up runs first. */
function rate(c: Ctx, work: () => number): number[] {
  for (let i = 0; i < c.warmup; i++) work();
  const out: number[] = [];
  for (let r = 0; r < c.reps; r++) {
    let units = 0;
    const s = time(() => (units = work()));
    out.push(units / s);
  }
  return out;
}

/** `rate` for several bodies, measured in turn within each repetition (by wall or CPU clock). */
function ratesInterleaved(c: Ctx, works: (() => number)[], clock: (fn: () => void) => number = time): number[][] {
  for (let i = 0; i < c.warmup; i++) for (const w of works) w();
  const out = works.map(() => [] as number[]);
  for (let r = 0; r < c.reps; r++)
    works.forEach((w, k) => {
      let units = 0;
      const s = clock(() => (units = w()));
      out[k]!.push(units / s);
    });
  return out;
}

function benchHash(c: Ctx): Figure[] {
  const native = loadNative();
  const bits = c.small ? 18 : 22;
  const cap = 2 ** bits;
  const n = Math.floor(cap * 0.79);
  const rand = xorshift32(7);
  const keys = BigUint64Array.from(
    { length: n },
    () => (BigInt(Math.floor(rand() * 2 ** 31)) << 32n) | BigInt(Math.floor(rand() * 2 ** 31)) | 1n,
  );
  const payloads = BigUint64Array.from({ length: n }, (_, i) => BigInt(i));
  const queries = BigUint64Array.from({ length: n }, (_, i) => keys[Math.floor(rand() * n)]! + (i % 10 === 9 ? 2n : 0n));
  const out = new BigUint64Array(n);
  const nh = native.hashBenchBuild(keys, payloads, 'neighbor', cap);
  const map = new Map<bigint, bigint>();
  keys.forEach((k, i) => map.set(k, payloads[i]!));
  // --slowdown hash=F: F times the lookups per sample, the fraction as a prefix of the batch
  const factor = c.factor('hash');
  const whole = Math.floor(factor);
  const part = Math.round((factor - whole) * n);
  const jsQueries = Array.from(queries);
  // native passes per sample: a sample of a few milliseconds is at the mercy of one timer tick
  const passes = c.small ? 8 : 1;
  // interleaved: each repetition measures the lanes back to back, so a busy moment of the machine
  // touches all of them and the per-repetition ratio cancels it. Three lanes: NeighborHash, the JS
  // Map (the Node peer users would reach for) and the random-access bound: one read of each key's
  // home slot through the same ring of prefetched reads in flight, the machine's memory speed as the
  // table meets it. NeighborHash is gated on its ratio to the bound, which moves with the machine as
  // it does (a plain loop of reads without the ring moved 2x under other processes' memory traffic
  // while the ring did not), while the JS Map swings with V8's garbage collector and JIT
  const [ours = [], js = [], reads = []] = ratesInterleaved(
    c,
    [
      () => {
        for (let p = 0; p < passes; p++) {
          for (let s = 0; s < whole; s++) native.hashBenchLookup(nh, queries, out, 'amac', 16);
          if (part > 0) native.hashBenchLookup(nh, queries.subarray(0, part), out.subarray(0, part), 'amac', 16);
        }
        return (passes * n) / 1e6;
      },
      () => {
        // keys read from a plain array: reading a BigUint64Array allocates a BigInt per element, and the
        // garbage collection that causes made this anchor swing by 2x between repetitions
        let hits = 0;
        for (let i = 0; i < n; i++) if (map.get(jsQueries[i]!) !== undefined) hits++;
        return hits >= 0 ? n / 1e6 : 0;
      },
      () => {
        for (let p = 0; p < passes; p++) native.hashBenchLookup(nh, queries, out, 'bound', 16);
        return (passes * n) / 1e6;
      },
    ],
    cpuTime,
  );
  const jsTimes = q(ours, 0.5) / q(js, 0.5);
  c.say(
    `hash: NeighborHash ${q(ours, 0.5).toFixed(1)} M lookups/s (${jsTimes.toFixed(1)}x the JS Map's ${q(js, 0.5).toFixed(1)}), random reads ${q(reads, 0.5).toFixed(1)} M/s (2^${bits} slots, load 0.79)`,
  );
  return [
    figure('hash', 'jsmap', 'JavaScript Map<bigint, bigint> (Node peer)', 'M lookups/s', 'higher', js),
    figure('hash', 'random', "random-access bound: each key's home slot through the same AMAC ring", 'M reads/s', 'higher', reads),
    figure('hash', 'neighborhash', 'NeighborHash, AMAC batch', 'M lookups/s', 'higher', ours, 'random'),
  ];
}

async function benchVector(c: Ctx, res: BenchResult): Promise<Figure[]> {
  const native = loadNative();
  const [n, dim, nq, k] = c.small ? [6000, 32, 200, 10] : [50000, 64, 1000, 10];
  const rand = xorshift32(11);
  // clustered rows: 40 centres, uniform noise
  const centres = Array.from({ length: 40 }, () => Array.from({ length: dim }, () => rand()));
  const row = () => centres[Math.floor(rand() * centres.length)]!.map((x) => x + (rand() - 0.5) * 0.3);
  const data = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) data.set(row(), i * dim);
  const queries = new Float32Array(nq * dim);
  for (let i = 0; i < nq; i++) queries.set(row(), i * dim);
  const ids = BigUint64Array.from({ length: n }, (_, i) => BigInt(i));
  const dir = mkdtempSync(join(tmpdir(), 'recall-bench-'));
  try {
    const build = async (type: 'flat' | 'hnsw') => {
      const file = join(dir, `${type}.rvec`);
      await native.vectorBuild(file, {}, '{}', data, ids, dim, {
        type,
        metric: 'l2',
        quant: 'f32',
        m: 16,
        efConstruction: 100,
        threads: 2,
      });
      return native.vectorOpen(file);
    };
    const flat = await build('flat');
    const hnsw = await build('hnsw');
    const exact = await native.vectorSearch(flat, queries, { k, threads: 1 });
    const truth = Array.from({ length: nq }, (_, i) => new Set(exact.ids.subarray(i * k, (i + 1) * k)));
    const slow = c.slow('vector');
    // One sample: searches of the whole query set repeated until MIN_SAMPLE_SECONDS of search CPU.
    // A single search here takes a few milliseconds, and a busy moment of Node's own threads
    // (garbage collection), which the process CPU clock counts, swung such samples by 4x.
    const sample = async (h: typeof flat, ef?: number) => {
      let cpu = 0;
      let searched = 0;
      let x: Awaited<ReturnType<typeof native.vectorSearch>> | undefined;
      while (cpu < MIN_SAMPLE_SECONDS) {
        for (let s = 0; s < (h === flat ? 1 : slow); s++) {
          x = await native.vectorSearch(h, queries, { k, ef, threads: 1 });
          cpu += x.searchCpuSeconds;
        }
        searched += nq;
      }
      let found = 0;
      for (let i = 0; i < nq; i++) for (const id of x!.ids.subarray(i * k, (i + 1) * k)) if (truth[i]!.has(id)) found++;
      return { qps: searched / cpu, recall: found / (nq * k) };
    };
    // The gated ratio's two lanes in turn within each repetition, so a change of the machine's
    // state between them does not move the ratio; the rest of the sweep after them.
    const exactQps: number[] = [];
    const ef40: number[] = [];
    let recall40 = 0;
    for (let r = 0; r < c.warmup + c.reps; r++) {
      const e = await sample(flat);
      const h = await sample(hnsw, 40);
      recall40 = h.recall;
      if (r >= c.warmup) {
        exactQps.push(e.qps);
        ef40.push(h.qps);
      }
    }
    const figs = [
      figure('vector', 'flat.qps', 'flat (exact) search, k 10', 'QPS', 'higher', exactQps),
      figure('vector', 'hnsw.qps@ef40', 'HNSW M16, ef 40, k 10', 'QPS', 'higher', ef40, 'flat.qps'),
      figure('vector', 'hnsw.recall@ef40', 'HNSW M16 recall@10 at ef 40', 'recall', 'higher', [recall40]),
    ];
    // the curve: best of the repetitions per point (a median of few small runs zig-zags with the machine's load)
    res.curves.vectorExactQps = Math.max(...exactQps);
    for (const ef of [10, 20, 40, 80, 160]) {
      if (ef === 40) {
        res.curves.vector.push({ ef, recall: recall40, qps: Math.max(...ef40) });
        continue;
      }
      let best = { qps: 0, recall: 0 };
      for (let r = 0; r < c.warmup + c.reps; r++) {
        const x = await sample(hnsw, ef);
        if (r >= c.warmup && x.qps > best.qps) best = x;
      }
      res.curves.vector.push({ ef, recall: best.recall, qps: best.qps });
    }
    c.say(
      `vector: ${res.curves.vector.map((p) => `ef ${p.ef}: recall ${p.recall.toFixed(3)} at ${p.qps.toFixed(0)} QPS`).join('; ')}; exact ${res.curves.vectorExactQps.toFixed(0)} QPS (${n} x ${dim})`,
    );
    return figs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchText(c: Ctx, res: BenchResult): Promise<Figure[]> {
  const native = loadNative();
  const fixture = fileURLToPath(new URL('../../../fixtures/parquet/wordnet-3000.parquet', import.meta.url));
  const db = await openDuckDB({ threads: 1 });
  const conn = await db.connect();
  const rows = await queryRows<{ id: string; text: string }>(
    conn,
    `SELECT id::VARCHAR AS id, headword || ' ' || text AS text FROM read_parquet('${fixture.replaceAll("'", "''")}')`,
  );
  conn.closeSync();
  db.closeSync();
  const an = makeAnalyzer('standard');
  const dir = mkdtempSync(join(tmpdir(), 'recall-bench-'));
  try {
    const file = join(dir, 'text.rti');
    await native.textBuild(
      file,
      {},
      '{}',
      {
        ids: BigUint64Array.from(rows, (r) => BigInt(r.id)),
        fields: [
          {
            name: 'text',
            weight: 1,
            ...packTexts(
              rows.map((r) => r.text),
              an.prepareDoc,
              'bench',
            ),
          },
        ],
      },
      { segmentation: an.segmentation, maxTokenBytes: 255, analyzer: an.description, pairs: 'off', threads: 1 },
    );
    const h = native.textOpen(file);
    const oracle = new OracleIndex(
      rows.map((r) => [BigInt(r.id), [r.text]] as const),
      { fields: ['text'], prepare: an.prepareDoc },
    );
    // 2-term AND queries of words that occur together
    const rand = xorshift32(5);
    const words = rows.map((r) => r.text.toLowerCase().match(/[a-z]{4,}/g) ?? []).filter((w) => w.length >= 2);
    const queries = Array.from({ length: c.small ? 300 : 2000 }, () => {
      const w = words[Math.floor(rand() * words.length)]!;
      return `${w[Math.floor(rand() * w.length)]} AND ${w[Math.floor(rand() * w.length)]}`;
    });
    const out = textQueryBuffer(10).bytes;
    const slow = c.slow('text');
    // One sample: the query set run again until MIN_SAMPLE_SECONDS have passed (one pass of the
    // native index takes under a millisecond), per-query latencies from the last pass. The two
    // lanes in turn within each repetition, so a busy moment of the machine touches both.
    const lane = (fn: (query: string) => void) => ({ fn, qps: [] as number[], per: [] as number[] });
    const ours = lane((query) => {
      for (let s = 0; s < slow; s++) native.textQueryInto(h, query, 10, 0, out);
    });
    const naive = lane((query) => oracle.search(query, { k: 10 }));
    for (let r = 0; r < c.warmup + c.reps; r++)
      for (const l of [ours, naive]) {
        const t0 = process.hrtime.bigint();
        let done = 0;
        let elapsed = 0;
        while (elapsed < MIN_SAMPLE_SECONDS) {
          l.per.length = 0;
          for (const query of queries) {
            const q0 = process.hrtime.bigint();
            l.fn(query);
            l.per.push(Number(process.hrtime.bigint() - q0) / 1e3);
          }
          done += queries.length;
          elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
        }
        if (r >= c.warmup) l.qps.push(done / elapsed);
      }
    res.latencies.recall = ours.per;
    res.latencies['TypeScript oracle'] = naive.per;
    c.say(
      `text: 2-term AND p50 ${q(ours.per, 0.5).toFixed(1)} µs (oracle ${q(naive.per, 0.5).toFixed(1)} µs), ${q(ours.qps, 0.5).toFixed(0)} vs ${q(naive.qps, 0.5).toFixed(0)} QPS (${rows.length} WordNet entries)`,
    );
    return [
      figure('text', 'oracle.qps', 'TypeScript oracle index, 2-term AND', 'QPS', 'higher', naive.qps),
      figure('text', 'and.qps', 'recall, 2-term AND, top 10', 'QPS', 'higher', ours.qps, 'oracle.qps'),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function benchWal(c: Ctx): Figure[] {
  const native = loadNative();
  const n = c.small ? 200_000 : 2_000_000;
  const payload = 24;
  const payloads = Buffer.alloc(n * payload);
  const ops = new Uint8Array(n).fill(opCode('x2i', false));
  const ends = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    payloads.writeBigUInt64LE(BigInt((i * 2654435761) % 100_000), i * payload);
    payloads.writeUInt32LE(1, i * payload + 8);
    payloads.writeBigUInt64LE(BigInt(i), i * payload + 12);
    payloads.writeFloatLE(1, i * payload + 20);
    ends[i] = (i + 1) * payload;
  }
  const dirs: string[] = [];
  const append = rate(c, () => {
    const d = mkdtempSync(join(tmpdir(), 'recall-bench-wal-'));
    dirs.push(d);
    const w = native.walOpen(d, { fsync: 'batch' });
    for (let from = 0; from < n; from += 65536) {
      const to = Math.min(n, from + 65536);
      const base = recordStart(ends, from);
      native.walAppend(
        w.handle,
        ops.subarray(from, to),
        ends.subarray(from, to).map((e) => e - base),
        payloads.subarray(base, recordStart(ends, to)),
      );
    }
    native.walClose(w.handle);
    return n / 1e6;
  });
  const replay = rate(c, () => {
    const r = native.x2iReplay(dirs[0]!, {});
    return r.records / 1e6;
  });
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  c.say(`wal: append ${q(append, 0.5).toFixed(2)} M records/s (fsync per batch), replay ${q(replay, 0.5).toFixed(2)} M records/s`);
  return [
    figure('wal', 'append', 'WAL append, 41-byte records, fsync per 64k batch', 'M records/s', 'higher', append),
    figure('wal', 'replay', 'WAL replay into x2i changes', 'M records/s', 'higher', replay),
  ];
}

export async function runBenchSuite(o: SuiteOptions = {}): Promise<BenchResult> {
  const native = loadNative();
  const only = o.only?.length ? o.only : [...BENCHES];
  for (const b of Object.keys(o.slowdown ?? {})) {
    if (!BENCHES.includes(b as BenchName)) throw usage('ERR_RECALL_USAGE', `--slowdown ${b}: no such benchmark (${BENCHES.join(', ')})`);
  }
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { version: string };
  const res: BenchResult = {
    format: 'recall-bench',
    formatVersion: 1,
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? 'unknown',
      memoryGB: Math.round(totalmem() / 2 ** 30),
      platform: process.platform,
      arch: process.arch,
    },
    versions: { recall: pkg.version, node: process.version, addon: native.buildInfo().version },
    params: { reps: o.reps ?? 5, warmup: 1, scale: o.scale ?? 'small', only, slowdown: o.slowdown ?? {} },
    figures: [],
    curves: { vector: [], vectorExactQps: 0 },
    latencies: {},
  };
  const c: Ctx = {
    reps: res.params.reps,
    warmup: 1,
    small: res.params.scale === 'small',
    slow: (b) => Math.max(1, Math.round(o.slowdown?.[b] ?? 1)),
    factor: (b) => Math.max(1, o.slowdown?.[b] ?? 1),
    say: o.onLine ?? (() => {}),
  };
  for (const b of only) {
    if (b === 'hash') res.figures.push(...benchHash(c));
    if (b === 'vector') res.figures.push(...(await benchVector(c, res)));
    if (b === 'text') res.figures.push(...(await benchText(c, res)));
    if (b === 'wal') res.figures.push(...benchWal(c));
  }
  setRatios(res.figures);
  return res;
}

function setRatios(figures: Figure[]): void {
  for (const f of figures) {
    const a = f.anchor && figures.find((x) => x.id === f.anchor);
    if (a) f.ratio = f.better === 'higher' ? f.median / a.median : a.median / f.median;
  }
}

/** `f` with the repetitions of `more` (the same measurement, run again) added, its statistics recomputed. */
function pooled(f: Figure, more: Figure): Figure {
  const samples = [...f.samples, ...more.samples];
  return {
    ...f,
    samples,
    median: q(samples, 0.5),
    min: Math.min(...samples),
    max: Math.max(...samples),
    p25: q(samples, 0.25),
    p75: q(samples, 0.75),
  };
}

/**
 * Several runs of the same suite as one: each figure's repetitions pooled, its ratio recomputed. A
 * baseline of a few runs taken at different times carries the machine's run-to-run drift in its
 * repetitions, where one run carries the luck of its moment (see `compareToBaseline`).
 */
export function poolRuns(runs: BenchResult[]): BenchResult {
  const [first, ...rest] = runs;
  if (!first) throw new RecallError('ERR_RECALL_BAD_BASELINE', 'no bench result to pool', { exit: 3 });
  const out: BenchResult = { ...first, figures: first.figures.map((f) => ({ ...f })) };
  for (const r of rest) {
    if (r.params.scale !== first.params.scale)
      throw new RecallError('ERR_RECALL_BAD_BASELINE', `runs at --scale ${first.params.scale} and ${r.params.scale} cannot be pooled`, {
        exit: 3,
        fix: 'pool runs measured at one --scale',
      });
    out.figures = out.figures.map((f) => {
      const more = r.figures.find((x) => x.id === f.id);
      return more ? pooled(f, more) : f;
    });
  }
  setRatios(out.figures);
  return out;
}

/**
 * The gate on a measured `result`: a gated figure that failed, or lost without the gate being able
 * to call it (a loss beyond the bound but neither beyond the band nor significant, or any loss while
 * the band is wider than the bound), has its benchmark measured again (`measureAgain`, up to
 * `retries` times) and the repetitions pooled, which narrows the band and gives the rank test more
 * repetitions: a failure stands only when it holds over the pooled repetitions, so a busy moment of
 * a shared machine neither fails unchanged code nor lets a real slowdown through.
 */
export async function gateWithRemeasure(
  result: BenchResult,
  base: BenchResult,
  maxRegression: number,
  measureAgain: (benches: BenchName[]) => Promise<BenchResult>,
  retries = 2,
  onLine?: (line: string) => void,
): Promise<{ result: BenchResult; comparison: Comparison[]; remeasured: BenchName[] }> {
  let comparison = compareToBaseline(result, base, maxRegression);
  const remeasured: BenchName[] = [];
  for (let round = 0; round < retries; round++) {
    const unsure = new Set(
      comparison
        .filter((c) => c.gated && (c.regressed || c.change < -maxRegression || (c.change < 0 && c.noise > maxRegression)))
        .map((c) => result.figures.find((f) => f.id === c.id)!.bench),
    );
    if (unsure.size === 0) break;
    onLine?.(`bench: a loss to confirm or call, measuring again: ${[...unsure].join(', ')}`);
    const again = await measureAgain([...unsure]);
    result = { ...result, figures: poolRuns([result, again]).figures };
    remeasured.push(...unsure);
    comparison = compareToBaseline(result, base, maxRegression);
  }
  return { result, comparison, remeasured };
}

/** The suite run and compared with a baseline (`gateWithRemeasure`, measuring again by running the suite). */
export async function runBenchGate(
  o: SuiteOptions,
  base: BenchResult,
  maxRegression: number,
  retries = 2,
): Promise<{ result: BenchResult; comparison: Comparison[]; remeasured: BenchName[] }> {
  const result = await runBenchSuite(o);
  return gateWithRemeasure(result, base, maxRegression, (only) => runBenchSuite({ ...o, only }), retries, o.onLine);
}

export interface Comparison {
  id: string;
  label: string;
  /**
   * What was compared: the anchor ratio when both runs have it, else the median; `anchor` for a
   * figure other figures are measured against (machine speed: reported, never gated).
   */
  basis: 'ratio' | 'median' | 'anchor';
  base: number;
  head: number;
  /** Relative change, oriented so that negative is worse. */
  change: number;
  /** The noise band: the larger relative spread (max - min over the median) of the two runs' repetitions. */
  noise: number;
  /** One-sided rank-test p-value of a loss over the repetitions (1 where the repetitions are too few to reach p 0.01). */
  pValue: number;
  /**
   * Whether the gate applies: ratios to an anchor and machine-independent figures (recall) are gated;
   * anchors and throughputs without an anchor depend on the machine's load and are only reported.
   */
  gated: boolean;
  regressed: boolean;
}

export interface GateDecision {
  change: number;
  noise: number;
  /** One-sided rank-test p-value of the head's repetitions being lower than the baseline's (1 where the repetitions are too few to reach p 0.01). */
  p: number;
  regressed: boolean;
}

/** The rank test's level: a loss this unlikely under unchanged code is one. */
const RANK_TEST_P = 0.01;

/**
 * Whether a rank test over these many repetitions can reach RANK_TEST_P at all: its smallest
 * p-value, every head repetition below every baseline one, is 1 / C(nb + nh, nb). 3 against 3
 * (1 in 20) cannot; 3 against 9, a one-run baseline against a head measured twice more, can.
 */
function rankTestCanTell(nb: number, nh: number): boolean {
  let ways = 1;
  for (let i = 1; i <= Math.min(nb, nh); i++) ways = (ways * (nb + nh - i + 1)) / i;
  return 1 / ways <= RANK_TEST_P;
}

/**
 * Relative spread of repeated measurements over their median: max - min below 7 repetitions, twice
 * the interquartile range from 7 on (about the expected range of 9 clean repetitions, but one or two
 * repetitions the machine interrupted do not widen it past what a real slowdown moves). The runs of
 * unchanged code on a shared machine still shift as a whole; the bound covers that.
 */
export function relativeSpread(samples: number[]): number {
  if (samples.length < 2) return 0;
  const m = q(samples, 0.5);
  if (m <= 0) return 0;
  if (samples.length >= 7) return (2 * (q(samples, 0.75) - q(samples, 0.25))) / m;
  return (Math.max(...samples) - Math.min(...samples)) / m;
}

/**
 * The gate on one figure, from the repetitions of the baseline and the head (oriented so that
 * higher is better): the change of the medians fails only when it is a loss beyond the bound and
 * either beyond the noise band (the larger spread of the two runs) or, where the repetitions are enough to reach p 0.01 (3 against 3 are not),
 * significant by a one-sided Mann-Whitney U test. The band alone let a real loss through whenever
 * one disturbed run widened it; the rank test looks at every repetition, so a few disturbed ones do
 * not hide a loss the others all show, and a run-to-run wobble within the bound never fails.
 */
export function gateDecision(base: number[], head: number[], maxRegression: number): GateDecision {
  const change = q(head, 0.5) / q(base, 0.5) - 1;
  const noise = Math.max(relativeSpread(base), relativeSpread(head));
  const p = rankTestCanTell(base.length, head.length) ? mannWhitneyP(base, head, false) : 1;
  return { change, noise, p, regressed: change < -maxRegression && (-change > noise || p <= RANK_TEST_P) };
}

/** Per-repetition values of a figure, oriented so that higher is better: ratios to its anchor when it has one. */
function orientedSamples(f: Figure, all: Figure[], byRatio: boolean): number[] {
  const sign = (x: number) => (f.better === 'higher' ? x : 1 / x);
  if (!byRatio) return f.samples.map(sign);
  const a = all.find((x) => x.id === f.anchor);
  if (!a || a.samples.length !== f.samples.length) return [sign(f.ratio ?? f.median)];
  return f.samples.map((x, i) => (f.better === 'higher' ? x / a.samples[i]! : a.samples[i]! / x));
}

/**
 * Compare `head` with a baseline run. A figure with an anchor is compared by its ratio to the anchor
 * (which cancels machine speed) and regresses when it is worse by more than `maxRegression` (0.1 =
 * 10%) and beyond its noise band or significantly (`gateDecision`); a machine-independent figure
 * (recall) by its median.
 * Anchors, and throughputs without an anchor, are reported and never gated.
 */
export function compareToBaseline(head: BenchResult, base: BenchResult, maxRegression: number): Comparison[] {
  if (base.format !== 'recall-bench')
    throw new RecallError('ERR_RECALL_BAD_BASELINE', 'the baseline is not a recall bench result', { exit: 3 });
  const anchors = new Set(head.figures.flatMap((f) => (f.anchor ? [f.anchor] : [])));
  const out: Comparison[] = [];
  for (const f of head.figures) {
    const b = base.figures.find((x) => x.id === f.id);
    if (!b) continue;
    const isAnchor = anchors.has(f.id);
    const byRatio = !isAnchor && f.ratio !== undefined && b.ratio !== undefined;
    const hs = orientedSamples(f, head.figures, byRatio);
    const bs = orientedSamples(b, base.figures, byRatio);
    const d = gateDecision(bs, hs, maxRegression);
    // A ratio is judged alone. Setting a loss aside when the figure's own value had improved beyond
    // the bound (the anchor gaining more than the code on a faster machine) let a real slowdown
    // through whenever the head ran in a faster state of the machine than the baseline; with the
    // bound read through the same ring as the table, replays of recorded runs (`recall bench
    // calibrate`) showed that rule sparing no unchanged run and passing 1.3x slowdowns.
    const [hv, bv] = byRatio ? [f.ratio!, b.ratio!] : [f.median, b.median];
    const gated = !isAnchor && (byRatio || f.unit === 'recall');
    out.push({
      id: f.id,
      label: f.label,
      basis: isAnchor ? 'anchor' : byRatio ? 'ratio' : 'median',
      base: bv,
      head: hv,
      change: d.change,
      noise: d.noise,
      pValue: d.p,
      gated,
      regressed: gated && d.regressed,
    });
  }
  return out;
}
