// The layer rules of src/ and their checker. ARCHITECTURE.md "Layers" describes the same rules.
// A file's layer is the first rule whose pattern matches its path (relative to src/, '/'-separated).
// An import may go to the same layer or down, never up; folders (and files) must not form a cycle;
// a channel (core/channels/<name>/) may not import another channel.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** Bottom to top. */
export const LAYERS = [
  { name: 'leaves', match: [/^core\/io\//, /^core\/stats\//, /^core\/errors\.ts$/, /^core\/native\.ts$/, /^types\//] },
  { name: 'base', match: [/^core\/routing\//, /^core\/index\//, /^core\/shard\//, /^core\/config\//] },
  { name: 'channel contract', match: [/^core\/channels\/(kinds|driver)\.ts$/] },
  { name: 'channels', match: [/^core\/channels\/[^/]+\//] },
  { name: 'registry', match: [/^core\/channels\/registry\.ts$/] },
  { name: 'wal', match: [/^core\/wal\//] },
  { name: 'quality', match: [/^core\/merge\//, /^core\/eval\//, /^core\/dqc\//] },
  { name: 'pipeline', match: [/^core\/pipeline\//] },
  { name: 'tools', match: [/^core\/bench\//, /^core\/profile\//] },
  { name: 'api', match: [/^api\//] },
  { name: 'cli', match: [/^cli\//] },
  { name: 'commands', match: [/^commands\//] },
];

export function layerOf(file) {
  const i = LAYERS.findIndex((l) => l.match.some((re) => re.test(file)));
  return i;
}

const channelOf = (file) => /^core\/channels\/([^/]+)\//.exec(file)?.[1] ?? null;
// A folder whose files sit in two layers (core/channels: the contract below the channels, the registry
// above them) counts as one unit per layer.
const folderOf = (file) => {
  const d = dirname(file);
  return d === 'core/channels' ? `${d} (${LAYERS[layerOf(file)]?.name})` : d;
};

/** The import graph of src/: [{from, to}] with paths relative to src/ (.ts). */
export function importGraph(srcDir) {
  const walk = (d) =>
    readdirSync(d).flatMap((f) => {
      const p = join(d, f);
      return statSync(p).isDirectory() ? walk(p) : /\.ts$/.test(f) ? [p] : [];
    });
  const edges = [];
  for (const file of walk(srcDir)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const ref of info.importedFiles) {
      const spec = ref.fileName;
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      edges.push({ from: relative(srcDir, file).split('\\').join('/'), to: relative(srcDir, target).split('\\').join('/') });
    }
  }
  return edges;
}

/** Strongly connected components (Tarjan) of a graph given as a Map node -> Set of nodes. */
function sccs(adj) {
  let index = 0;
  const idx = new Map(),
    low = new Map(),
    on = new Set(),
    stack = [],
    out = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    on.add(v);
    for (const w of adj.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const c = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        c.push(w);
      } while (w !== v);
      out.push(c);
    }
  };
  for (const v of adj.keys()) if (!idx.has(v)) visit(v);
  return out;
}

/** Every violation of the rules, each naming the two files of an offending edge. */
export function checkLayers(edges) {
  const problems = [];
  for (const { from, to } of edges) {
    const a = layerOf(from),
      b = layerOf(to);
    if (a < 0) problems.push(`${from}: in no layer (add it to test/helpers/layers.mjs and ARCHITECTURE.md)`);
    if (b < 0) {
      if (a >= 0) problems.push(`${to}: in no layer (imported by ${from})`);
      continue;
    }
    if (a >= 0 && b > a) problems.push(`upward import: ${from} (${LAYERS[a].name}) -> ${to} (${LAYERS[b].name})`);
    const ca = channelOf(from),
      cb = channelOf(to);
    if (ca && cb && ca !== cb) problems.push(`channel imports another channel: ${from} -> ${to}`);
  }
  for (const [key, label] of [
    [folderOf, 'folder'],
    [(f) => f, 'file'],
  ]) {
    const adj = new Map();
    for (const { from, to } of edges) {
      const a = key(from),
        b = key(to);
      if (!adj.has(a)) adj.set(a, new Set());
      if (!adj.has(b)) adj.set(b, new Set());
      if (a !== b) adj.get(a).add(b);
    }
    for (const c of sccs(adj)) {
      if (c.length < 2) continue;
      const inC = new Set(c);
      const closing = edges.filter((e) => key(e.from) !== key(e.to) && inC.has(key(e.from)) && inC.has(key(e.to)));
      problems.push(`${label} cycle ${c.sort().join(' <-> ')}: ${closing.map((e) => `${e.from} -> ${e.to}`).join(', ')}`);
    }
  }
  return problems;
}
