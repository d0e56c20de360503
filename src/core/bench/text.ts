/**
 * `recall bench inverted`: the text index side by side with what a Node user would pick instead,
 * in one run, on a real corpus nobody on the team wrote: Debian's dict-gcide + dict-wn
 * (273,546 dictionary entries, 70.8 MB; `text-corpus.ts` makes the corpus and 1,000 seeded queries
 * per class: 1 term, 2-term AND, 2-term OR). Each engine runs in its own process with one protocol
 * (documents loaded first, then the build timed; 100 warm-up queries, then all timed, one query
 * per call, CPU time from process.cpuUsage): recall through `scripts/bench-tools/text-recall.mjs`,
 * the peers through `text-engine.mjs`: the plain typed-array index (`naive`, the oracle the text
 * tests follow), FlexSearch and MiniSearch (npm, installed into the cache on first use). Rounds
 * alternate the engines; each engine's best round per figure is kept.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePeers } from './peers.js';
import { prepareTextCorpus } from './text-corpus.js';

/** The peers' versions: those the package's own tests use. */
const PEERS = { flexsearch: '0.8.212', minisearch: '7.2.0' };
const tools = fileURLToPath(new URL('../../../scripts/bench-tools/', import.meta.url));

export interface TextBenchOptions {
  /** Corpus and queries go here (made the first time). */
  work: string;
  /** The cache the npm peers are installed into (`<cache>/peers`). */
  cache: string;
  /** The dictd folder (default: Debian's /usr/share/dictd). */
  dictd?: string;
  /** Queries per class (default 1,000). */
  queries?: number;
  rounds: number;
  /** Engines: naive, flexsearch, minisearch, recall, recall-pairs. */
  libs: string[];
  maxDocs?: number;
  onProgress?: (message: string) => void;
}

export interface ClassFigures {
  n: number;
  qps: number;
  cpuUsPerQ: number;
  p50us: number;
  p99us: number;
  meanHits: number | null;
}

export interface EngineRow {
  lib: string;
  docs: number;
  textMB: number;
  buildS: number;
  buildCpuS: number;
  serializedMB: number;
  rssMB: number;
  peakRssMB: number;
  heapIndexMB: number;
  q1: ClassFigures;
  and2: ClassFigures;
  or2: ClassFigures;
  [k: string]: unknown;
}

export interface TextBenchResult {
  bench: 'inverted';
  date: string;
  corpus: { docs: number; textMB: number; source: string };
  rounds: number;
  /** Best round per engine and figure. */
  rows: EngineRow[];
  /** Peer CPU per query / recall CPU per query (and p50 latency ratios), per class. */
  ratios: Record<string, Record<string, number | null>>;
  raw: EngineRow[][];
}

const CLASSES = ['q1', 'and2', 'or2'] as const;
export const TEXT_ENGINES = ['naive', 'flexsearch', 'minisearch', 'recall', 'recall-pairs'];

function runEngine(o: TextBenchOptions, lib: string, peers: string): EngineRow {
  const script = lib.startsWith('recall')
    ? [join(tools, 'text-recall.mjs'), o.work, lib]
    : [join(tools, 'text-engine.mjs'), lib, o.work, peers];
  const args = ['--expose-gc', '--max-old-space-size=12000', ...script];
  if (o.maxDocs) args.push(String(o.maxDocs));
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`bench engine ${lib} failed (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(line) as EngineRow;
}

/** Per engine: the lowest build CPU and, per class, the round with the lowest CPU per query. */
function best(rounds: EngineRow[][]): EngineRow[] {
  const libs = [...new Set(rounds.flat().map((r) => r.lib))];
  return libs.map((lib) => {
    const runs = rounds.flat().filter((r) => r.lib === lib);
    const b = { ...runs.reduce((a, x) => (x.buildCpuS < a.buildCpuS ? x : a)) };
    for (const c of CLASSES) b[c] = runs.reduce((a, x) => (x[c].cpuUsPerQ < a[c].cpuUsPerQ ? x : a))[c];
    return b;
  });
}

export async function runTextBench(o: TextBenchOptions): Promise<TextBenchResult> {
  await prepareTextCorpus(o.work, { dictd: o.dictd, queries: o.queries });
  const wanted = Object.fromEntries(Object.entries(PEERS).filter(([name]) => o.libs.includes(name)));
  const peers = ensurePeers(o.cache, wanted, o.onProgress);
  const raw: EngineRow[][] = [];
  for (let round = 0; round < o.rounds; round++) {
    const rows: EngineRow[] = [];
    for (const lib of o.libs) {
      o.onProgress?.(`round ${round + 1}/${o.rounds}: ${lib}`);
      rows.push(runEngine(o, lib, peers));
    }
    raw.push(rows);
  }
  const rows = best(raw);
  const ours = rows.find((r) => r.lib === 'recall');
  const ratios: TextBenchResult['ratios'] = {};
  if (ours) {
    for (const peer of rows.filter((r) => !r.lib.startsWith('recall'))) {
      const x: Record<string, number | null> = {};
      for (const c of CLASSES) {
        x[`${c} cpu/q`] = +(peer[c].cpuUsPerQ / Math.max(1, ours[c].cpuUsPerQ)).toFixed(2);
        x[`${c} p50`] = +(peer[c].p50us / Math.max(1, ours[c].p50us)).toFixed(2);
      }
      x['build cpu'] = +(peer.buildCpuS / ours.buildCpuS).toFixed(2);
      x.size = +(peer.serializedMB / ours.serializedMB).toFixed(2);
      ratios[peer.lib] = x;
    }
  }
  return {
    bench: 'inverted',
    date: new Date().toISOString(),
    corpus: { docs: rows[0]!.docs, textMB: rows[0]!.textMB, source: 'Debian dict-gcide + dict-wn' },
    rounds: o.rounds,
    rows,
    ratios,
    raw,
  };
}

export function textBenchMarkdown(r: TextBenchResult): string {
  const lines = [
    `Text index, ${r.corpus.docs.toLocaleString('en-US')} docs (${r.corpus.textMB} MB), best of ${r.rounds} round(s), one query per call, single thread. CPU µs per query (p50 wall µs):`,
    '',
    '| engine | build CPU s | index MB | RSS MB | 1-term | AND | OR |',
    '|---|---|---|---|---|---|---|',
    ...r.rows.map(
      (x) =>
        `| ${x.lib} | ${x.buildCpuS} | ${x.serializedMB} | ${x.rssMB} | ${CLASSES.map((c) => `${x[c].cpuUsPerQ} (${x[c].p50us})`).join(' | ')} |`,
    ),
    '',
    'Ratios (peer / recall; > 1: recall is faster or smaller):',
    '',
    '| peer | 1-term CPU | AND CPU | OR CPU | 1-term p50 | AND p50 | OR p50 | build CPU | size |',
    '|---|---|---|---|---|---|---|---|---|',
    ...Object.entries(r.ratios).map(
      ([peer, x]) =>
        `| ${peer} | ${x['q1 cpu/q']} | ${x['and2 cpu/q']} | ${x['or2 cpu/q']} | ${x['q1 p50']} | ${x['and2 p50']} | ${x['or2 p50']} | ${x['build cpu']} | ${x.size} |`,
    ),
  ];
  return lines.join('\n');
}
