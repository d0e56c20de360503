// Real text nobody on the team wrote, from Debian packages that .ci/run installs:
// dictd databases (dict-wn: WordNet 3.0, dict-gcide) and Chinese fortunes (fortunes-zh).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const b64num = (s) => [...s].reduce((n, c) => n * 64 + B64.indexOf(c), 0);

/** Entries of a dictd database (headword line + definition), in index order, each entry once. */
export function dictdEntries(name, limit = Infinity) {
  const dict = gunzipSync(readFileSync(`/usr/share/dictd/${name}.dict.dz`));
  const seen = new Set();
  const out = [];
  for (const line of readFileSync(`/usr/share/dictd/${name}.index`, 'utf8').split('\n')) {
    if (!line || out.length >= limit) continue;
    const [hw, o, l] = line.split('\t');
    if (hw.startsWith('00-database') || hw.startsWith('00database')) continue;
    const key = `${o}:${l}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(dict.subarray(b64num(o), b64num(o) + b64num(l)).toString('utf8'));
  }
  return out;
}

/** The fortunes of a fortune file (records separated by lines holding only %). */
export function fortunes(path) {
  return readFileSync(path, 'utf8')
    .split(/\n%\n/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A seeded generator in [0, 1). */
export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1103515245 + 12345) >>> 0;
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}
