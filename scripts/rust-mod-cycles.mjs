#!/usr/bin/env node
// Module-level import cycles inside one Rust module directory (default: native/core/src/text).
// Edges come from `super::name`, `crate::<dir>::name` and `self::name` paths (in `use` lines and
// inline paths), resolved to the sibling file or folder `name`. Prints every strongly connected
// component with more than one module and exits 1 if there is one.
// Usage: node scripts/rust-mod-cycles.mjs [dir relative to the repo root]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const dir = join(root, process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 'native/core/src/text');
const crateSrc = join(root, 'native/core/src');
const modPath = relative(crateSrc, dir).split('/').join('::'); // e.g. "text"

// each direct child of `dir` is one node; files of a child folder belong to that child
const nodes = new Map(); // name -> [files]
for (const e of readdirSync(dir)) {
  const p = join(dir, e);
  if (statSync(p).isDirectory()) {
    const files = [];
    const walk = (d) => {
      for (const f of readdirSync(d)) {
        const q = join(d, f);
        statSync(q).isDirectory() ? walk(q) : f.endsWith('.rs') && files.push(q);
      }
    };
    walk(p);
    nodes.set(e, files);
  } else if (e.endsWith('.rs') && e !== 'mod.rs') {
    nodes.set(basename(e, '.rs'), [p]);
  }
}
const strip = (s) => s.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
const edges = new Map([...nodes.keys()].map((n) => [n, new Set()]));
for (const [name, files] of nodes) {
  for (const f of files) {
    const src = strip(readFileSync(f, 'utf8'));
    // how far below the node this file's module is: 0 for name.rs or name/mod.rs, 1 for name/x.rs, ...
    const parts = f === join(dir, `${name}.rs`) ? [] : relative(join(dir, name), f).split('/');
    const depth = parts.length - (parts.at(-1) === 'mod.rs' ? 1 : 0);
    const refs = [];
    // super::x from a top file (or super::super::x from one level down, ...) names a sibling
    const sup = new RegExp(`\\b(?:super::){${depth + 1}}(\\w+)`, 'g');
    for (const m of src.matchAll(sup)) refs.push(m[1]);
    // crate::text::x
    const abs = new RegExp(`\\bcrate::${modPath.replace(/::/g, '::')}::(\\w+)`, 'g');
    for (const m of src.matchAll(abs)) refs.push(m[1]);
    // grouped: use super::{a, b::c} / use crate::text::{a, b}
    const grp = new RegExp(`(?:\\b(?:super::){${depth + 1}}|\\bcrate::${modPath}::)\\{([^}]*)\\}`, 'g');
    for (const m of src.matchAll(grp)) for (const part of m[1].split(',')) refs.push(part.trim().split('::')[0]);
    for (const r of refs) if (r !== name && nodes.has(r)) edges.get(name).add(r);
  }
}
// Tarjan
let index = 0;
const idx = new Map(),
  low = new Map(),
  stack = [],
  on = new Set(),
  sccs = [];
const visit = (v) => {
  idx.set(v, index);
  low.set(v, index);
  index++;
  stack.push(v);
  on.add(v);
  for (const w of edges.get(v)) {
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
    sccs.push(c);
  }
};
for (const v of edges.keys()) if (!idx.has(v)) visit(v);
const cyclic = sccs.filter((c) => c.length > 1);
if (process.argv.includes('--edges') || cyclic.length) for (const [v, ws] of edges) console.log(`${v} -> ${[...ws].sort().join(', ')}`);
if (cyclic.length) {
  for (const c of cyclic) console.log(`cycle: ${c.sort().join(', ')}`);
  process.exit(1);
}
console.log(`${relative(root, dir)}: ${nodes.size} modules, no import cycle`);
