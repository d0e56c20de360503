/**
 * `recall bench inverted`: the text index side by side with what a Node user would pick instead,
 * in one run, on a real corpus nobody on the team wrote: Debian's dict-gcide + dict-wn
 * (273,546 dictionary entries, 70.8 MB). The corpus and the
 * 1,000 queries per class (1 term, 2-term AND, 2-term OR; seeded) come from the team's harness
 * (../shared/tools/text-bench); each engine runs in its own process with the harness's protocol
 * (documents loaded first, then the build timed; 100 warm-up queries, then all timed, one query
 * per call, CPU time from process.cpuUsage). Peers: the plain typed-array index (`naive`, the
 * oracle the text tests follow), FlexSearch and MiniSearch (npm). Rounds alternate the engines;
 * each engine's best round per figure is kept.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { badInput } from '../errors.js';
import { requirePathSync } from '../io/paths.js';

export interface TextBenchOptions {
  /** ../shared/tools/text-bench */
  harness: string;
  /** Corpus, queries and index files go here. */
  work: string;
  /** bench/helpers/text-recall.mjs */
  adapter: string;
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

function sh(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status})`);
}

/** Corpus and queries in `work`, made the first time (Debian's dictd files, installed if missing). */
export function prepareTextCorpus(o: Pick<TextBenchOptions, 'harness' | 'work'>): void {
  requirePathSync(join(o.harness, 'prep-corpus.mjs'), 'file', '--harness');
  if (existsSync(join(o.work, 'corpus.jsonl')) && existsSync(join(o.work, 'queries.json'))) return;
  const dictd = '/usr/share/dictd';
  if (!existsSync(join(dictd, 'gcide.index')) || !existsSync(join(dictd, 'wn.index'))) {
    const r = spawnSync('apt-get', ['install', '-y', '-qq', 'dict-gcide', 'dict-wn'], { stdio: 'inherit' });
    if (r.status !== 0)
      throw badInput('ERR_RECALL_BENCH_DATA', `${dictd}: Debian's dict-gcide and dict-wn are not installed and apt-get failed`, {
        fix: 'run `apt-get install dict-gcide dict-wn` as root, then rerun',
      });
  }
  mkdirSync(join(o.work, 'x/usr/share'), { recursive: true });
  if (!existsSync(join(o.work, 'x/usr/share/dictd'))) symlinkSync(dictd, join(o.work, 'x/usr/share/dictd'));
  for (const name of ['gcide', 'wn']) {
    const out = join(o.work, `${name}.dict`);
    if (!existsSync(out)) writeFileSync(out, gunzipSync(readFileSync(join(dictd, `${name}.dict.dz`))));
  }
  sh(process.execPath, [join(o.harness, 'prep-corpus.mjs'), o.work]);
  sh(process.execPath, [join(o.harness, 'make-queries.mjs'), o.work, '1000']);
}

function runEngine(o: TextBenchOptions, lib: string): EngineRow {
  const args = lib.startsWith('recall')
    ? ['--expose-gc', '--max-old-space-size=12000', o.adapter, o.work, lib]
    : ['--expose-gc', '--max-old-space-size=12000', join(o.harness, 'bench-text.mjs'), lib, o.work];
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

export function runTextBench(o: TextBenchOptions): TextBenchResult {
  prepareTextCorpus(o);
  const raw: EngineRow[][] = [];
  for (let round = 0; round < o.rounds; round++) {
    const rows: EngineRow[] = [];
    for (const lib of o.libs) {
      o.onProgress?.(`round ${round + 1}/${o.rounds}: ${lib}`);
      rows.push(runEngine(o, lib));
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
    corpus: { docs: rows[0]!.docs, textMB: rows[0]!.textMB, source: 'Debian dict-gcide + dict-wn, ../shared/tools/text-bench' },
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
