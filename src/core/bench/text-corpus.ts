/**
 * The text benchmark's corpus and queries, made once into a work folder: every entry of Debian's
 * dict-gcide and dict-wn dictd databases (a real corpus nobody on the team wrote) as one JSON line
 * `{"id", "src", "text"}`, and seeded query sets drawn from the corpus itself: 1 term (a random
 * eligible token of a random document, so frequent terms come up as often as in real logs) and
 * 2 terms of one document for AND and OR (AND is never empty). Eligible: 3 or more characters, not
 * all digits, not among the 50 most frequent terms.
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { usage } from '../errors.js';
import { xorshift32 } from '../stats/seeded.js';

/** Where Debian installs the dictd databases. */
export const DEBIAN_DICTD = '/usr/share/dictd';
const DICTS = ['gcide', 'wn'] as const;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export interface QuerySets {
  q1: string[][];
  q2and: string[][];
  q2or: string[][];
  stats: { docs: number; tokens: number; vocab: number };
}

export const tokenize = (s: string): string[] =>
  s
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);

const b64 = (s: string) => {
  let n = 0;
  for (const c of s) n = n * 64 + B64.indexOf(c);
  return n;
};

/**
 * `work/corpus.jsonl` and `work/queries.json` (n queries per class), unless both are there. A
 * missing database is a usage error (exit 2) naming the package that installs it: a benchmark never
 * installs system packages itself.
 */
export async function prepareTextCorpus(work: string, o: { dictd?: string; queries?: number; seed?: number } = {}): Promise<void> {
  const dictd = o.dictd ?? DEBIAN_DICTD;
  if (existsSync(join(work, 'corpus.jsonl')) && existsSync(join(work, 'queries.json'))) return;
  for (const d of DICTS)
    for (const f of [`${d}.index`, `${d}.dict.dz`])
      if (!existsSync(join(dictd, f)))
        throw usage('ERR_RECALL_BENCH_SETUP', `${join(dictd, f)}: the text benchmark's corpus is not installed`, {
          fix: 'run `apt-get install dict-gcide dict-wn` (as root), then rerun',
        });
  mkdirSync(work, { recursive: true });
  const docs: string[][] = [];
  const tmp = join(work, `corpus.jsonl.${process.pid}.tmp`);
  const out = createWriteStream(tmp);
  let id = 0;
  for (const d of DICTS) {
    const dict = gunzipSync(readFileSync(join(dictd, `${d}.dict.dz`)));
    const seen = new Set<string>();
    for (const line of readFileSync(join(dictd, `${d}.index`), 'utf8').split('\n')) {
      const [head, off, len] = line.split('\t');
      if (!head || off === undefined || len === undefined || head.startsWith('00-database') || head.startsWith('00database')) continue;
      const at = `${off}:${len}`;
      if (seen.has(at)) continue; // several headwords may point at one entry
      seen.add(at);
      const text = dict.subarray(b64(off), b64(off) + b64(len)).toString('utf8');
      if (!out.write(`${JSON.stringify({ id, src: d, text })}\n`)) await once(out, 'drain');
      docs.push(tokenize(text));
      id++;
    }
  }
  out.end();
  await once(out, 'finish');
  const q = makeQueries(docs, o.queries ?? 1000, o.seed ?? 42);
  writeFileSync(join(work, 'queries.json'), JSON.stringify(q));
  renameSync(tmp, join(work, 'corpus.jsonl')); // the corpus last: with it, the folder is complete
}

/** Seeded query sets over tokenised documents (xorshift32: the same queries on every machine). */
export function makeQueries(docs: string[][], n: number, seed: number): QuerySets {
  const rnd = xorshift32(seed);
  const df = new Map<string, number>();
  let tokens = 0;
  for (const t of docs) {
    tokens += t.length;
    for (const w of new Set(t)) df.set(w, (df.get(w) ?? 0) + 1);
  }
  const stop = new Set(
    [...df.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, 50)
      .map((e) => e[0]),
  );
  const eligible = (w: string) => w.length >= 3 && !/^\d+$/.test(w) && !stop.has(w);
  const pool = docs.map((t) => [...new Set(t.filter(eligible))]).filter((u) => u.length >= 2);
  if (pool.length === 0)
    throw usage('ERR_RECALL_BENCH_SETUP', 'the text corpus has no document with two eligible terms', { fix: 'use a larger corpus' });
  const pick = (k: number) => {
    const u = pool[Math.floor(rnd() * pool.length)]!;
    const r: string[] = [];
    while (r.length < k) {
      const w = u[Math.floor(rnd() * u.length)]!;
      if (!r.includes(w)) r.push(w);
    }
    return r;
  };
  const sets = (k: number) => Array.from({ length: n }, () => pick(k));
  return { q1: sets(1), q2and: sets(2), q2or: sets(2), stats: { docs: docs.length, tokens, vocab: df.size } };
}
